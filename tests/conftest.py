"""Shared fixtures: a small Vietnamese news index built once per session (pyvi is slow), the web
app over it, and ``check_page``, which asserts a page holds only the templates' markup."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer.ingest import index_paths
from indexer.store import ArticleStore
from search_ui import create_app
from search_ui.stores import store_pool

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED = ROOT / "seeds" / "000_5a0c9058e2d22930.txt"


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory) -> Path:
    """A folder with the fixture news (JSONL) and the seed article (.txt)."""
    d = tmp_path_factory.mktemp("corpus")
    shutil.copy(FIXTURES / "news.jsonl", d / "news.jsonl")
    shutil.copy(SEED, d / SEED.name)
    return d


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory, corpus_dir) -> Path:
    d = tmp_path_factory.mktemp("index") / "ix"
    report = index_paths(d, [corpus_dir])
    assert report.failed == 0 and report.added == 9
    return d


@pytest.fixture()
def store(index_dir):
    with ArticleStore.open(index_dir) as s:
        yield s


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture()
def app(index_dir):
    """The web app over the session's index."""
    app = create_app({"INDEX_DIR": str(index_dir), "TESTING": True})
    yield app
    store_pool(app).close()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def ix(tmp_path, corpus_dir):
    d = tmp_path / "ix"
    index_paths(d, [corpus_dir])
    return d


@pytest.fixture()
def make_app(ix, monkeypatch):
    monkeypatch.delenv("VNSEARCH_API_TOKEN", raising=False)
    apps = []

    def make(**config):
        app = create_app({"INDEX_DIR": str(ix), "TESTING": True, **config})
        apps.append(app)
        return app

    yield make
    for app in apps:
        store_pool(app).close()
