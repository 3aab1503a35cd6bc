"""Property tests (hypothesis): hostile queries through the query builder, search(), the CLI and
the web routes never give a traceback or a 500 — a valid (possibly empty) result, or a 400 that
names the parameter.

Profiles (``VNSEARCH_HYPOTHESIS=ci|dev|thorough``): ``ci`` (the default) runs 200 examples per
property, ``dev`` 50, ``thorough`` 2,000. The number of examples each property ran is printed at
the end of the module (``pytest -s``) and written to ``test-artifacts/hypothesis-examples.txt``.
"""

from __future__ import annotations

import collections
import datetime as dt
import os
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.cli import main
from indexer.errors import QueryError
from indexer.query import parse_query
from indexer.search import MAX_QUERY_CHARS, SearchPage, search
from indexer.store import ArticleStore, build_query
from support import check_page
from search_ui import create_app
from search_ui.security import CONTENT_SECURITY_POLICY
from search_ui.stores import store_pool

_common = {"deadline": None, "database": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("ci", max_examples=200, **_common)
settings.register_profile("dev", max_examples=50, **_common)
settings.register_profile("thorough", max_examples=2000, **_common)
settings.load_profile(os.environ.get("VNSEARCH_HYPOTHESIS") or "ci")

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PARAMS = {"q", "page", "limit", "sort", "since", "until", "source", "category"}
EXAMPLES: collections.Counter[str] = collections.Counter()

# -- strategies ---------------------------------------------------------------

# Query syntax and the characters that break parsers: quotes (straight and curly), minus signs,
# Whoosh's own operators, escapes, combining marks, invisibles, controls, Vietnamese letters.
SYNTAX = list('"“”«»„-–—*?:()[]{}^~\\/!&|+<>\'%#;,.=') + ["AND", "OR", "NOT", "TO", " ", "  ", "\t", "\n"]
ODD = ["\x00", "\x07", "\x1b", "\x7f", "\u0085", "\u200b", "\u200d", "\u00ad", "\ufeff", "\u2028", "\u0301",
       "\u0303", "\u0309", "\u0323", "Ð", "ð", "İ", "ß", "\U0001f600", "\ufffd", "٣", "²"]
VIET = ["giá", "vàng", "Đà", "Nẵng", "đã", "nâng", "hòa", "hoà", "thuỷ", "TP.HCM", "UBND", "Trương", "thị", "mai",
        "truong", "da", "nang", "lãi", "suất", "ngân", "hàng", "năm", "2023", "8%", "a"]

tokens = st.one_of(st.sampled_from(SYNTAX), st.sampled_from(ODD), st.sampled_from(VIET), st.text(max_size=6))
built = st.lists(tokens, max_size=40).map("".join)
queries = st.one_of(
    st.text(max_size=80),  # any Unicode but surrogates
    st.text(st.characters(codec=None, exclude_categories=()), max_size=30),  # with lone surrogates
    built,
    st.builds(lambda t, n: t * n, st.sampled_from(["a ", "giá ", '"', "-", "ệ", "((", "\x00"]), st.integers(1, 700)),
)
values = st.one_of(
    st.none(), st.text(max_size=20), st.sampled_from(SYNTAX + ODD),
    st.integers(-5, 2000).map(str), st.sampled_from(["relevance", "newest", "2024-01-31", "2023-13-01", "0000-00-00"]),
)


def encode(args: dict[str, str]) -> str:
    """A query string as a hostile client may send it: lone surrogates as their (invalid) UTF-8 bytes."""
    return "&".join(f"{quote(k)}={quote(v, safe='', errors='surrogatepass')}" for k, v in args.items())


def count(name: str) -> None:
    EXAMPLES[name] += 1


@pytest.fixture(scope="module", autouse=True)
def report_examples():
    yield
    lines = [f"{name}: {n} examples" for name, n in sorted(EXAMPLES.items())]
    text = f"hypothesis profile {settings().max_examples} examples per property\n" + "\n".join(lines) + "\n"
    print("\n" + text)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "hypothesis-examples.txt").write_text(text, "utf-8")


@pytest.fixture(scope="module")
def module_store(index_dir):
    with ArticleStore.open(index_dir) as s:
        yield s


@pytest.fixture(scope="module")
def web(index_dir):
    app = create_app({"INDEX_DIR": str(index_dir)})
    yield app.test_client()
    store_pool(app).close()


# -- the query builder ----------------------------------------------------------


@given(queries)
def test_any_text_parses_and_builds_a_query_or_none(text):
    count("parse_query/build_query")
    parsed = parse_query(text)
    q = build_query(parsed)
    assert (q is None) == parsed.is_empty  # a query exactly when there is something to match
    if q is not None:  # a whole Whoosh query tree, holding every required syllable
        in_tree = {term for _, term in q.all_terms()}
        assert all(exact in in_tree or folded in in_tree for exact, folded in parsed.terms), (text, q)


# -- search() -------------------------------------------------------------------


@given(
    q=queries,
    page=st.integers(-2, 1200),
    limit=st.integers(-2, 150),
    sort=st.sampled_from(["relevance", "newest", "oldest", ""]),
    source=st.one_of(st.none(), st.text(max_size=10), st.sampled_from(["baomoi.com", "TCCS"])),
    since=st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1))),
    until=st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1))),
)
def test_search_returns_a_page_or_a_query_error_naming_the_parameter(module_store, q, page, limit, sort, source, since, until):
    count("search()")
    try:
        result = search(module_store, q, page=page, limit=limit, sort=sort, source=source, since=since, until=until)
    except QueryError as e:
        assert e.param in PARAMS and str(e).startswith(f"{e.param}: ")
        return
    assert isinstance(result, SearchPage)
    assert len(q) <= MAX_QUERY_CHARS and page >= 1 and 1 <= limit <= 100
    assert 0 <= len(result.hits) <= limit and result.total >= len(result.hits)
    assert len({h.id for h in result.hits}) == len(result.hits)
    for hit in result.hits:  # only the engine's marks are markup
        assert "<" not in hit.snippet.replace("<mark>", "").replace("</mark>", "")


# -- the CLI --------------------------------------------------------------------


@given(words=st.lists(queries, min_size=1, max_size=4), opts=st.lists(st.sampled_from(
    [["--json"], ["--limit", "3"], ["--page", "2"], ["--sort", "newest"], ["--since", "2023-01-01"],
     ["--until", "01-01-2020"], ["--source", "baomoi.com"], ["--limit", "0"], ["--since", "hôm qua"]]), max_size=2))
def test_cli_search_never_shows_a_traceback(index_dir, words, opts):
    count("vnsearch search")
    from click.testing import CliRunner

    args = ["search", "--index", str(index_dir), *[o for pair in opts for o in pair], "--", *words]
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.output
    if result.exit_code == 0:
        return
    assert result.exit_code in (1, 2), result.output
    if result.exit_code == 1:  # ClickException: one line naming the parameter
        assert result.output.startswith("Error: "), result.output
    else:  # usage error: a bad option value, named
        assert "Error: Invalid value for" in result.output or "Error: Missing argument" in result.output, result.output


# -- the web pages and the API --------------------------------------------------


@given(args=st.dictionaries(st.sampled_from(sorted(PARAMS)), st.one_of(queries, values).filter(lambda v: v is not None), max_size=5),
       api=st.booleans())
def test_search_routes_answer_200_or_a_400_naming_the_parameter(web, args, api):
    count("GET /search, /api/search")
    r = web.get(("/api/search?" if api else "/search?") + encode(args))
    assert r.status_code in (200, 400, 414), (args, r.status_code)
    assert r.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    body = r.get_data(as_text=True)
    assert "Traceback" not in body and "File \"" not in body
    if api:
        data = r.get_json()
        if r.status_code == 400:
            error = data["error"]
            assert error["status"] == 400 and error["param"] in PARAMS and error["message"].startswith(f"{error['param']}: ")
        elif r.status_code == 200:
            assert data["total"] >= len(data["hits"])
    else:
        check_page(body)  # no script, no handler attribute, whatever was typed
        if r.status_code == 400:
            assert "<code>" in body and any(f"<code>{p}</code>" in body for p in PARAMS)
    r.close()


@given(article_id=queries, q=st.one_of(st.just(""), queries), api=st.booleans())
def test_article_routes_answer_200_404_or_400(web, article_id, q, api):
    count("GET /article/ID, /api/articles/ID")
    path = ("/api/articles/" if api else "/article/") + quote(article_id, safe="", errors="surrogatepass")
    r = web.get(f"{path}?{encode({'q': q})}")
    assert r.status_code in (200, 400, 404, 414), (path, r.status_code)
    body = r.get_data(as_text=True)
    assert "Traceback" not in body
    if not api and r.mimetype == "text/html":
        check_page(body)
    r.close()
