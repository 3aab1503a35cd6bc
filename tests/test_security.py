"""The page's security: no debug mode, no traceback or server path in an error page, no directory
traversal through article ids or static files, size limits, and a CSP with no inline script."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from search_ui import create_app
from search_ui import pages as pages_module
from search_ui.security import CONTENT_SECURITY_POLICY
from search_ui.stores import store_pool

TEMPLATES = Path(__file__).resolve().parent.parent / "search_ui" / "templates"
ROOT = Path(__file__).resolve().parent.parent
SAFE_HTML = {"hit.snippet", "article.title_html", "article.sapo_html", "p"}  # made by indexer.snippets


@pytest.fixture()
def app(index_dir, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")  # as if someone exported it where the server runs
    app = create_app({"INDEX_DIR": str(index_dir)})
    yield app
    store_pool(app).close()


def assert_no_server_detail(body: str, *paths) -> None:
    for secret in ("Traceback", 'File "', "site-packages", "werkzeug", str(ROOT), *map(str, paths)):
        assert secret not in body, secret


def test_debug_mode_is_off_even_with_flask_debug_set(app):
    assert app.debug is False
    assert app.test_client().get("/console").status_code == 404  # no Werkzeug debugger console


@pytest.mark.parametrize("url", ["/search?q=v%C3%A0ng", "/api/search?q=v%C3%A0ng"])
def test_an_unexpected_error_is_a_bare_500(app, index_dir, monkeypatch, url, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError(f"cannot read {index_dir}/secret.seg")

    monkeypatch.setattr(pages_module, "search", broken)
    monkeypatch.setattr("search_ui.api.search", broken)
    r = app.test_client().get(url)
    assert r.status_code == 500
    body = r.get_data(as_text=True)
    assert_no_server_detail(body, index_dir, "secret.seg", "RuntimeError")
    if url.startswith("/api/"):
        assert r.get_json() == {"error": {"status": 500, "message": "Internal Server Error"}}
    else:
        assert "<h1>Đã có lỗi</h1>" in body
    assert r.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "secret.seg" in caplog.text  # the operator's log has it, the reader does not


@pytest.mark.parametrize(
    "url, status",
    [
        ("/article/..%2F..%2F..%2Fetc%2Fpasswd", 404),
        ("/article/../../../etc/passwd", 404),
        ("/api/articles/..%2F..%2Fpyproject.toml", 404),
        ("/api/articles/%2e%2e/%2e%2e/etc/passwd", 404),
        ("/article/%2Fetc%2Fpasswd", 404),
        ("/static/..%2F__init__.py", 404),
        ("/static/../__init__.py", 404),
        ("/static/%2e%2e/%2e%2e/pyproject.toml", 404),
        ("/static//etc/passwd", 404),
        ("/nope", 404),
        ("/search", 405),  # POST below
        ("/search?q=" + "a" * 9000, 414),
        ("/api/search?q=" + "a" * 501, 400),
        ("/search?page=abc", 400),
    ],
)
def test_no_traversal_and_no_server_detail_in_error_pages(app, index_dir, url, status):
    client = app.test_client()
    r = client.post(url) if status == 405 else client.get(url)
    assert r.status_code == status
    body = r.get_data(as_text=True)
    assert "root:" not in body and "[project]" not in body and "import " not in body
    assert_no_server_detail(body, index_dir)
    r.close()


# Whoosh leaves the table-of-contents file it failed to parse open; that is its leak, not the app's.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("damage", ["missing", "format", "unreadable"])
@pytest.mark.parametrize("url", ["/", "/search?q=v%C3%A0ng", "/api/search?q=v%C3%A0ng", "/api/articles/x"])
def test_no_index_is_a_503_that_names_no_path(tmp_path, index_dir, monkeypatch, caplog, damage, url):
    monkeypatch.chdir(tmp_path)
    if damage != "missing":
        shutil.copytree(index_dir, tmp_path / "chi-muc-rieng")
    if damage == "format":
        (tmp_path / "chi-muc-rieng" / "vnsearch.json").write_text('{"format": 0}', "utf-8")
    if damage == "unreadable":
        for toc in (tmp_path / "chi-muc-rieng").glob("*.toc"):
            toc.write_bytes(b"\x00garbage")
    for index in ("chi-muc-rieng", str(tmp_path / "chi-muc-rieng")):  # relative, absolute
        app = create_app({"INDEX_DIR": index})
        r = app.test_client().get(url)
        store_pool(app).close()
        assert r.status_code == 503
        body = r.get_data(as_text=True)
        assert_no_server_detail(body, tmp_path, "chi-muc-rieng", "IndexError")
        assert "vnsearch index " in body and "INDEX_DIR PATH…" in body
        assert f"{index}/" in caplog.messages[-1]  # the operator's log has it


def test_request_body_is_refused_before_it_is_read(app):
    r = app.test_client().get("/api/search?q=a", data=b"x" * (64 * 1024))
    assert r.status_code == 413 and r.get_json()["error"]["status"] == 413


def test_query_length_limit_is_a_400_naming_q(app):
    r = app.test_client().get("/api/search", query_string={"q": "ệ" * 501})
    assert r.status_code == 400
    assert r.get_json()["error"] == {"status": 400, "message": "q: query longer than 500 characters", "param": "q"}
    assert app.test_client().get("/api/search", query_string={"q": "ệ" * 500}).status_code == 200


def test_csp_allows_no_inline_script_and_the_templates_have_none():
    policy = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "unsafe-eval" not in CONTENT_SECURITY_POLICY
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text("utf-8")
        # One script, our own file from /static/ with nothing inline (base.html: suggestions).
        scripts = re.findall(r"<script[^>]*>(.*?)</script>", text, re.S)
        assert scripts == ([""] if template.name == "base.html" else []), template.name
        assert text.count("<script") == len(scripts) and "<style" not in text, template.name
        assert not re.search(r"\son[a-z]+\s*=", text), template.name  # no event handler attributes
        assert "javascript:" not in text, template.name
        # Only the engine's HTML (text escaped, matches in <mark>) is output unescaped.
        for expression in re.findall(r"\{\{\s*([^}|]+?)\s*\|\s*safe\s*\}\}", text):
            assert expression in SAFE_HTML, (template.name, expression)
