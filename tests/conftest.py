"""Shared fixtures: a small Vietnamese news index built once per session (pyvi is slow)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer.ingest import index_paths
from indexer.store import ArticleStore

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
