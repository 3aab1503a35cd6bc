"""The search page (minimal here; the full page is its own issue)."""

import pytest

from search_ui import create_app


@pytest.fixture()
def client(index_dir):
    app = create_app({"INDEX_DIR": str(index_dir), "TESTING": True})
    yield app.test_client()
    app.extensions["vnsearch"].close()


def test_home_says_what_is_indexed(client):
    r = client.get("/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert '<html lang="vi">' in html and "autofocus" in html
    assert "Đang có 9 bài báo từ 5 nguồn, từ 2022-12-20 đến 2024-03-02." in html


def test_search_page_lists_highlighted_hits(client):
    r = client.get("/search", query_string={"q": "da nang"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "3 kết quả" in html
    assert "<mark>Đà Nẵng</mark>" in html and "<mark>đã nâng</mark>" in html


def test_article_text_is_escaped(client):
    html = client.get("/search", query_string={"q": "xếp hàng"}).get_data(as_text=True)
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html or "&lt;script&gt;alert('x')&lt;/script&gt;" in html
    assert "<script>" not in html


def test_query_is_escaped(client):
    html = client.get("/search", query_string={"q": '"><script>alert(1)</script>'}).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5"])
def test_bad_page_is_400_naming_the_parameter(client, page):
    r = client.get("/search", query_string={"q": "vàng", "page": page})
    assert r.status_code == 400
    assert "page: must be a positive integer" in r.get_data(as_text=True)


def test_missing_index_is_503_with_the_command_to_build_it(tmp_path):
    client = create_app({"INDEX_DIR": str(tmp_path / "none")}).test_client()
    r = client.get("/search", query_string={"q": "x"})
    assert r.status_code == 503
    assert f"No index at {tmp_path}/none/ — run: vnsearch index" in r.get_data(as_text=True)
