"""Shared fixtures: a small Vietnamese news index built once per session (pyvi is slow), the web
app over it, and ``check_page``, which asserts a page holds only the templates' markup."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
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


class PageChecker(HTMLParser):
    """Collects tags, attributes and links of a page, to check what markup it holds."""

    def __init__(self):
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs += [(tag, name, value) for name, value in attrs]

    def handle_data(self, data):
        self.text.append(data)


TEMPLATE_TAGS = {
    "html", "head", "meta", "title", "link", "body", "a", "header", "span", "form", "label", "div",
    "input", "button", "main", "footer", "p", "h1", "h2", "h3", "section", "ul", "li", "article",
    "time", "mark", "nav", "aside", "details", "summary", "strong", "code", "pre", "kbd",
}  # fmt: skip


def check_page(html: str) -> PageChecker:
    """Parse ``html`` and assert that it holds only the templates' markup: no script, no handler."""
    page = PageChecker()
    page.feed(html)
    assert page.tags <= TEMPLATE_TAGS, page.tags - TEMPLATE_TAGS
    for tag, name, value in page.attrs:
        assert not name.startswith("on"), (tag, name, value)
        assert name != "style", (tag, name, value)
        if name in ("href", "src", "action"):
            assert not (value or "").strip().lower().startswith(("javascript:", "data:")), value
    return page
