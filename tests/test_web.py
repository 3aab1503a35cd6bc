"""The search page and JSON API, through Flask's test client."""

from __future__ import annotations

import dataclasses
import json
import random
import re
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest

from indexer.ingest import index_paths
from indexer.search import get_article, search
from search_ui import create_app
from search_ui import api as api_module
from search_ui import pages as pages_module
from search_ui.security import CONTENT_SECURITY_POLICY
from search_ui.stores import store_pool

from support import SUGGEST_SCRIPT, check_page


# -- fixtures -----------------------------------------------------------------


# Articles written to break a careless page: markup in every field, a javascript:
# link, ids with slashes, colons, a URL, a percent sign and a question mark.
HOSTILE = [
    {
        "id": "img-onerror",
        "title": "Động đất <img src=x onerror=alert(1)> ở Nhật Bản",
        "sapo": "Tin nhanh <script>alert(2)</script> về động đất.",
        "body": "Động đất mạnh <img src=x onerror=alert(3)> rung chuyển Tokyo.\n"
        "Xem <a href=javascript:alert(4)>ảnh</a> và <svg onload=alert(5)>.",
        "published": "2024-05-01",
        "url": "javascript:alert(6)",
        "source": '"><script>alert(7)</script>',
        "category": "x' onmouseover='alert(8)",
        "author": "<i>Phóng viên</i>",
    },
    {
        "id": "vn/2024/05:dai-loan",
        "title": "Động đất ở Đài Loan",
        "body": "Một trận động đất xảy ra ngoài khơi Đài Loan, không gây thiệt hại.",
        "published": "2023-04-02",
        "url": "https://example.com/dai-loan",
        "source": "vnexpress.net",
        "category": "the-gioi",
    },
    {
        "id": "https://example.com/a//b?x=1#frag",
        "title": "Động đất nhỏ ở Điện Biên",
        "body": "Động đất nhỏ ở Điện Biên, người dân cảm nhận rung lắc nhẹ.",
        "published": "2023-08-15",
        "source": "vnexpress.net",
        "category": "thoi-su",
    },
    {
        "id": "100% thật?",
        "title": "Tin thật trăm phần trăm về động đất",
        "body": "Động đất là hiện tượng tự nhiên.",
        "source": "dantri.com.vn",
    },
]


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("hostile")
    src = d / "hostile.jsonl"
    src.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in HOSTILE), "utf-8")
    report = index_paths(d / "ix", [src])
    assert report.failed == 0 and report.added == len(HOSTILE)
    return d / "ix"


@pytest.fixture()
def hostile(hostile_index):
    app = create_app({"INDEX_DIR": str(hostile_index), "TESTING": True})
    yield app.test_client()
    store_pool(app).close()


def get_html(client, url, status=200, **kwargs) -> str:
    r = client.get(url, **kwargs)
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    check_page(html)
    return html


# -- home ---------------------------------------------------------------------


def test_home_says_what_is_indexed(client):
    html = get_html(client, "/")
    assert '<html lang="vi">' in html
    assert '<label for="q">Tìm kiếm tin tức</label>' in html
    assert 'id="q" name="q" value=""' in html and "autofocus" in html
    assert "Đang có 9 bài báo từ 5 nguồn, từ 20/12/2022 đến 02/03/2024." in html
    assert '<link rel="stylesheet" href="/static/style.css">' in html


def test_stylesheet_is_served_and_the_pages_have_no_inline_style_or_script(client):
    r = client.get("/static/style.css")
    assert r.status_code == 200 and r.mimetype == "text/css"
    assert b"mark {" in r.data
    r.close()
    for url in ("/", "/search?q=vàng", "/article/lai-suat"):
        html = get_html(client, url)
        assert "<style" not in html
        assert re.findall(r"<script.*?</script>", html) == [SUGGEST_SCRIPT]


# -- results ------------------------------------------------------------------


def test_search_page_lists_highlighted_hits(client):
    html = get_html(client, "/search", query_string={"q": "da nang"})
    assert "<strong>3</strong> kết quả cho «<span class=\"query\">da nang</span>»" in html
    assert "<mark>Đà Nẵng</mark>" in html and "<mark>đã nâng</mark>" in html
    assert '<a href="/article/dn-du-lich?q=da+nang">Đà Nẵng đón hơn 8 triệu lượt khách du lịch</a>' in html
    assert '<time datetime="2024-01-05">05/01/2024</time>' in html
    assert '<title>da nang – Tìm kiếm – vnsearch</title>' in html


def test_hit_shows_the_engines_snippet_whole(client):
    html = get_html(client, "/search", query_string={"q": "lãi suất"})
    assert (
        '<p class="snippet">Nhiều ngân hàng thương mại đã nâng <mark>lãi suất</mark> huy động kỳ hạn 12 tháng '
        "lên 6%. Người gửi tiền được lợi.</p>"
    ) in html


def test_only_an_http_url_becomes_a_link_to_the_original(client, hostile):
    html = get_html(client, "/search", query_string={"q": "đà nẵng du lịch"})
    assert 'href="https://example.vn/da-nang-du-lich" rel="noopener noreferrer nofollow">Bài gốc' in html
    html = get_html(hostile, "/search", query_string={"q": "tokyo"})
    assert "Bài gốc" not in html and 'href="javascript' not in html


def test_facets_count_and_narrow_and_clear(client):
    html = get_html(client, "/search", query_string={"q": "vàng"})
    source_form = html.split('class="facet facet-source"')[1].split("</form>")[0]
    assert '<input type="hidden" name="q" value="vàng">' in source_form
    assert (
        '<li><label><input type="checkbox" name="source" value="baomoi.com"> baomoi.com <span class="count">1</span>'
        "</label></li>"
    ) in source_form
    assert '<button type="submit">Lọc nguồn</button>' in source_form
    assert '<input type="checkbox" name="category" value="kinh-te"> kinh-te <span class="count">2</span>' in html
    assert (
        '<a href="/search?q=v%C3%A0ng&amp;since=2024-01-01&amp;until=2024-12-31">2024 <span class="count">2</span></a>'
    ) in html

    html = get_html(client, "/search?q=v%C3%A0ng&source=baomoi.com")
    assert "<strong>1</strong> kết quả" in html
    assert "Giá vàng trong nước đứng yên" in html and "Giá vàng thế giới tăng vọt" not in html
    # The other source stays to be ticked too, with its own count.
    assert '<input type="checkbox" name="source" value="baomoi.com" checked> baomoi.com' in html
    assert '<input type="checkbox" name="source" value="vnexpress.net"> vnexpress.net <span class="count">1</span>' in html
    assert 'class="chip" href="/search?q=v%C3%A0ng" aria-label="Bỏ lọc nguồn baomoi.com"' in html
    assert '<a class="facet-clear" href="/search?q=v%C3%A0ng">Mọi nguồn</a>' in html
    # The new-search form keeps the filter, visibly (the chip above), as a hidden field.
    assert '<input type="hidden" name="source" value="baomoi.com">' in html


def test_year_facet_is_a_date_range_and_shows_as_one_filter(client):
    html = get_html(client, "/search?q=du+l%E1%BB%8Bch&since=2024-01-01&until=2024-12-31")
    assert "Năm: 2024" in html and "Từ ngày" not in html.split('class="layout"')[0]
    assert 'class="active" aria-current="true"' in html
    # A plain date range shows as its two ends.
    html = get_html(client, "/search?q=du+l%E1%BB%8Bch&since=2024-01-02")
    assert "Từ ngày: 02/01/2024" in html and "Năm:" not in html


def test_sort_switch_orders_newest_first(client):
    html = get_html(client, "/search", query_string={"q": "vàng", "sort": "newest"})
    assert html.index("Giá vàng trong nước") < html.index("Giá vàng thế giới")
    assert '<a href="/search?q=v%C3%A0ng&amp;sort=newest" aria-current="true" class="current">Mới nhất</a>' in html
    assert '<a href="/search?q=v%C3%A0ng">Liên quan nhất</a>' in html


def test_pagination_links_keep_every_parameter(client):
    html = get_html(client, "/search", query_string={"q": "da nang", "limit": "1", "page": "2"})
    assert "trang 2/3" in html
    assert '<a rel="prev" href="/search?q=da+nang&amp;limit=1">‹ Trang trước</a>' in html
    assert '<a rel="next" href="/search?q=da+nang&amp;limit=1&amp;page=3">Trang sau ›</a>' in html
    assert 'aria-current="page" aria-label="Trang 2">2</a>' in html


def test_a_search_as_typed_stays_as_typed_through_its_links(client):
    html = get_html(client, "/search", query_string={"q": "da nang", "limit": "1", "page": "2", "typed": "1"})
    assert '<a rel="next" href="/search?q=da+nang&amp;limit=1&amp;page=3&amp;typed=1">Trang sau ›</a>' in html
    assert '<a href="/search?q=da+nang&amp;sort=newest&amp;limit=1&amp;typed=1">Mới nhất</a>' in html


def test_a_page_past_the_last_says_so(client):
    html = get_html(client, "/search", query_string={"q": "da nang", "page": "9"})
    assert "Trang 9 không có kết quả." in html


def test_an_empty_query_lists_the_newest_articles(client):
    html = get_html(client, "/search", query_string={"q": "  "})
    assert "<h1>Bài mới nhất</h1>" in html and "<strong>9</strong> bài" in html
    assert html.index("Hòa Bình") < html.index("Giá vàng trong nước") < html.index("Giá vàng thế giới")


def test_several_sources_ticked(client):
    html = get_html(client, "/search?q=v%C3%A0ng&source=baomoi.com&source=VNEXPRESS.NET")
    assert "<strong>2</strong> kết quả" in html
    assert 'class="chip" href="/search?q=v%C3%A0ng&amp;source=VNEXPRESS.NET" aria-label="Bỏ lọc nguồn baomoi.com"' in html
    assert '<input type="checkbox" name="source" value="vnexpress.net" checked>' in html


def test_zero_results_offer_searches_that_find_something(client):
    html = get_html(client, "/search", query_string={"q": "vàng xyzzy", "source": "dantri.com.vn"})
    assert "<strong>0</strong> kết quả" in html and "Không tìm thấy bài nào" in html
    assert (
        '<a href="/search?q=v%C3%A0ng+xyzzy">Bỏ lọc nguồn «dantri.com.vn»</a> <span class="count">(2 kết quả)</span>'
    ) in html
    assert "Bỏ bớt bộ lọc nguồn, chuyên mục hay thời gian." in html
    # Without the filter the words fall back to any-of; a word that finds nothing is not offered.
    html = get_html(client, "/search", query_string={"q": '"giá vàng" "xyzzy"'})
    assert '<a href="/search?q=%22gi%C3%A1+v%C3%A0ng%22">Bỏ «&#34;xyzzy&#34;»: &#34;giá vàng&#34;</a>' in html
    assert "Bỏ «&#34;giá vàng&#34;»" not in html


@pytest.fixture()
def with_suggestion(monkeypatch):
    """Make the engine answer with a "did you mean" that holds markup."""

    def suggesting(store, q, **kwargs):
        return dataclasses.replace(search(store, q, **kwargs), suggestion="giá vàng <b>")

    monkeypatch.setattr(pages_module, "search", suggesting)
    monkeypatch.setattr(api_module, "search", suggesting)


def test_the_engines_suggestion_is_offered(client, with_suggestion):
    html = get_html(client, "/search", query_string={"q": "gia vangg"})
    assert 'Có phải bạn muốn tìm: <a href="/search?q=gi%C3%A1+v%C3%A0ng+%3Cb%3E">giá vàng &lt;b&gt;</a>?' in html
    assert client.get("/api/search?q=gia+vangg").get_json()["suggestion"] == "giá vàng <b>"


def test_no_suggestion_is_null_in_the_api(client):
    assert client.get("/api/search?q=vàng").get_json()["suggestion"] is None


# -- article ------------------------------------------------------------------


def test_article_page_shows_the_whole_article_with_matches(client):
    html = get_html(client, "/article/thuy-dien-cu", query_string={"q": "hoa binh"})
    assert "<h1>Thuỷ điện <mark>Hoà Bình</mark> mở cửa xả đáy</h1>" in html
    assert '<p class="sapo">Nhà máy thuỷ điện <mark>Hoà Bình</mark> mở thêm một cửa xả đáy để đón lũ.</p>' in html
    assert "<p>Người dân vùng hạ du được khuyến cáo chủ động phòng tránh.</p>" in html
    assert '<a href="/search?q=hoa+binh">‹ Quay lại kết quả tìm «hoa binh»</a>' in html
    assert '<h2 id="related-title">Bài liên quan</h2>' in html


def test_article_page_without_a_query_marks_nothing(client):
    html = get_html(client, "/article/thuy-dien-cu")
    assert "<mark>" not in html and "Quay lại kết quả" not in html


def test_article_text_is_escaped(client):
    html = get_html(client, "/search", query_string={"q": "xếp hàng"})
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in html
    html = get_html(client, "/article/gia-vang-trong-nuoc", query_string={"q": "xếp hàng"})
    assert "&lt;script&gt;alert('x')&lt;/script&gt; Người mua &lt;b&gt;vẫn&lt;/b&gt; <mark>xếp hàng</mark>." in html


@pytest.mark.parametrize(
    "url",
    [
        "/search?q=%C4%91%E1%BB%99ng+%C4%91%E1%BA%A5t",
        "/search?q=tokyo&category=x%27+onmouseover%3D%27alert(8)",
        "/search?q=tokyo&source=%22%3E%3Cscript%3Ealert(7)%3C%2Fscript%3E",
        "/search?q=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E+xyzzy&source=%22%3E%3Cscript%3E",
        "/article/img-onerror?q=%C4%91%E1%BB%99ng+%C4%91%E1%BA%A5t",
        "/article/vn/2024/05:dai-loan",
    ],
)
def test_markup_in_articles_and_queries_stays_text(hostile, url):
    html = get_html(hostile, url)
    page = check_page(html)
    text = "".join(page.text)
    assert "<img" not in html and "<svg" not in html and "<i>" not in html
    assert re.findall(r"<script.*?</script>", html) == [SUGGEST_SCRIPT]
    assert "<img src=x onerror=alert(1)>" in text or "onerror" not in text


def test_hostile_fields_are_shown_as_text(hostile):
    html = get_html(hostile, "/article/img-onerror")
    assert "<h1>Động đất &lt;img src=x onerror=alert(1)&gt; ở Nhật Bản</h1>" in html
    assert '<span class="source">&#34;&gt;&lt;script&gt;alert(7)&lt;/script&gt;</span>' in html
    assert '<span class="author">&lt;i&gt;Phóng viên&lt;/i&gt;</span>' in html
    assert "Đọc bài gốc" not in html  # javascript: is no link


@pytest.mark.parametrize("article_id", ["vn/2024/05:dai-loan", "https://example.com/a//b?x=1#frag", "100% thật?"])
def test_odd_ids_round_trip_through_result_links(hostile, article_id):
    html = get_html(hostile, "/search", query_string={"q": "động đất", "limit": "10"})
    href = f'href="/article/{quote(article_id, safe="!$&()*+,/:;=@")}?q=%C4%91%E1%BB%99ng+%C4%91%E1%BA%A5t"'
    assert href.replace("&", "&amp;") in html
    path = "/article/" + quote(article_id, safe="/:")
    assert get_html(hostile, path).count("<h1>") == 1
    assert hostile.get("/api/articles/" + quote(article_id, safe="/:")).get_json()["id"] == article_id


@pytest.mark.parametrize(
    "path",
    ["/article/nope", "/article/../../etc/passwd", "/article/%2e%2e/%2e%2e/etc/passwd", "/article/dn-du-lich/x"],
)
def test_unknown_article_is_404(client, path):
    html = get_html(client, path, status=404)
    assert "<h1>Không tìm thấy bài báo</h1>" in html
    assert "etc/passwd" not in html


# -- JSON API -----------------------------------------------------------------


def test_api_search_is_the_clis_json_plus_facets(client, store):
    r = client.get("/api/search", query_string={"q": "da nang", "limit": "2"})
    assert r.status_code == 200 and r.mimetype == "application/json"
    data = r.get_json()
    expected = search(store, "da nang", limit=2).to_json()
    assert {"query", "total", "page", "matched_all", "took_ms", "hits", "facets", "suggestion"} <= set(data)
    assert data["hits"] == expected["hits"]
    assert (data["query"], data["total"], data["page"], data["limit"], data["pages"]) == ("da nang", 3, 1, 2, 2)
    assert data["facets"] == {
        "source": {"TCCS": 1, "baomoi.com": 1, "vnexpress.net": 1},
        "category": {"du-lich": 1, "kinh-te": 1},
        "year": {"2023": 2, "2024": 1},
    }
    assert data["params"] == {"sort": "relevance"}


def test_api_search_takes_the_same_filters(client):
    data = client.get(
        "/api/search", query_string={"q": "vàng", "source": "baomoi.com", "since": "2024-01-01", "sort": "newest"}
    ).get_json()
    assert [h["id"] for h in data["hits"]] == ["gia-vang-trong-nuoc"]
    assert data["params"] == {"sort": "newest", "source": ["baomoi.com"], "since": "2024-01-01"}


def test_api_article(client, store):
    r = client.get("/api/articles/lai-suat")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.get_json() == get_article(store, "lai-suat").to_json()
    data = client.get("/api/articles/lai-suat", query_string={"q": "lãi suất"}).get_json()
    assert data["highlighted"]["title"] == "Ngân hàng đã nâng <mark>lãi suất</mark> tiết kiệm"
    assert data["highlighted"]["paragraphs"][1] == "Người gửi tiền được lợi."


def test_api_unknown_article_is_404_json(client):
    r = client.get("/api/articles/nope")
    assert r.status_code == 404
    assert r.get_json() == {"error": {"status": 404, "message": "No article with id 'nope'"}}
    r = client.get("/api/nothing-here")
    assert r.status_code == 404 and r.get_json()["error"]["status"] == 404


# -- bad parameters -----------------------------------------------------------

BAD_PARAMS = [
    ("page", "0", "page: must be a positive integer"),
    ("page", "-1", "page: must be a positive integer"),
    ("page", "abc", "page: must be a positive integer"),
    ("page", "1.5", "page: must be a positive integer"),
    ("page", "²", "page: must be a positive integer"),
    ("page", "99999999999999999999", "page: must be a positive integer"),
    ("page", "1001", "page: must be at most 1000"),
    ("limit", "0", "limit: must be a positive integer"),
    ("limit", "101", "limit: must be at most 100"),
    ("sort", "oldest", "sort: must be one of: relevance, newest"),
    ("since", "2024-02-30", "since: must be a date as YYYY-MM-DD or a date-time as YYYY-MM-DDThh:mm"),
    ("since", "05-01-2024", "since: must be a date as YYYY-MM-DD or a date-time as YYYY-MM-DDThh:mm"),
    ("until", "hôm qua", "until: must be a date as YYYY-MM-DD or a date-time as YYYY-MM-DDThh:mm"),
    ("until", "20240101", "until: must be a date as YYYY-MM-DD or a date-time as YYYY-MM-DDThh:mm"),
    ("q", "vàng " * 101, "q: query longer than 500 characters"),
    ("source", "x" * 201, "source: longer than 200 characters"),
]


@pytest.mark.parametrize("param, value, message", BAD_PARAMS)
def test_bad_parameter_is_a_400_page_naming_it(client, param, value, message):
    args = {"q": "vàng", param: value}
    html = get_html(client, "/search?" + urlencode(args), status=400)
    assert "<h1>Yêu cầu không hợp lệ</h1>" in html
    assert f"<p>Tham số <code>{param}</code> không hợp lệ." in html
    assert f'<p class="detail">Chi tiết: <code>{message}</code></p>' in html


@pytest.mark.parametrize("param, value, message", BAD_PARAMS)
def test_bad_parameter_is_a_400_json_error_naming_it(client, param, value, message):
    r = client.get("/api/search?" + urlencode({"q": "vàng", param: value}))
    assert r.status_code == 400 and r.mimetype == "application/json"
    assert r.get_json() == {"error": {"status": 400, "message": message, "param": param}}


def test_since_after_until_is_400(client):
    r = client.get("/search", query_string={"q": "vàng", "since": "2024-02-01", "until": "2024-01-01"})
    assert r.status_code == 400 and "since: is after until" in r.get_data(as_text=True)


def test_400_page_offers_the_search_without_the_bad_parameter(client):
    html = get_html(client, "/search?q=v%C3%A0ng&sort=oldest&source=baomoi.com", status=400)
    assert '<a href="/search?q=v%C3%A0ng&amp;source=baomoi.com">Thử lại mà không có tham số <code>sort</code></a>' in html
    assert 'value="vàng"' in html  # the search box keeps the words


def test_over_long_query_on_the_article_page_is_400(client):
    assert client.get("/article/lai-suat", query_string={"q": "a" * 501}).status_code == 400


def test_request_size_is_capped(client):
    assert client.get("/search?q=" + "a" * 9000).status_code == 414
    assert client.get("/search?q=a", data=b"x" * 20000).status_code == 413
    assert client.post("/search?q=a").status_code == 405


# -- headers and odd input ----------------------------------------------------


@pytest.mark.parametrize(
    "url, status",
    [
        ("/", 200),
        ("/search?q=v%C3%A0ng", 200),
        ("/article/lai-suat", 200),
        ("/api/search?q=v%C3%A0ng", 200),
        ("/api/articles/lai-suat", 200),
        ("/static/style.css", 200),
        ("/search?page=0", 400),
        ("/api/search?sort=x", 400),
        ("/article/nope", 404),
        ("/nope", 404),
    ],
)
def test_every_response_carries_the_security_headers(client, url, status):
    r = client.get(url)
    assert r.status_code == status
    assert r.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    r.close()


def test_503_carries_the_security_headers(tmp_path):
    app = create_app({"INDEX_DIR": str(tmp_path / "none")})
    r = app.test_client().get("/")
    assert r.status_code == 503 and r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    store_pool(app).close()


ODD_QUERY_STRINGS = [
    "q=%00", "q=%ED%A0%80", "q=%FF%FE", "q=%", "q=%%%", "q=-", "q=--", 'q="', "q=%22%22", "q=-%22",
    "q=*", "q=a*b?", "q=OR+AND+NOT", "q=(((", "q=%E2%80%8B", "q=%C2%AD", "q=%F0%9F%98%80",
    "q=%D9%A3", "q=a&q=b", "q[]=x", "q=v%C3%A0ng&page=", "q=v%C3%A0ng&page=+1", "q=v%C3%A0ng&page=%EF%BC%91",
    "q=v%C3%A0ng&sort=", "q=v%C3%A0ng&sort=%00", "q=v%C3%A0ng&since=0000-00-00",
    "q=v%C3%A0ng&since=9999-12-31", "q=v%C3%A0ng&until=0001-01-01", "q=v%C3%A0ng&source=%00",
    "q=v%C3%A0ng&category=%FF", "q=v%C3%A0ng&limit=100", "q=v%C3%A0ng&limit=-0", "source=baomoi.com",
    "q=" + "%E1%BB%87" * 500, "q=" + "a+" * 250, "=&&==&", "q=%0D%0ASet-Cookie:x=1",
]  # fmt: skip


@pytest.mark.parametrize("qs", ODD_QUERY_STRINGS)
@pytest.mark.parametrize("path", ["/search", "/api/search", "/article/lai-suat", "/api/articles/x", "/"])
def test_odd_query_strings_get_200_400_or_404_and_clean_markup(client, path, qs):
    r = client.get(f"{path}?{qs}")
    assert r.status_code in (200, 400, 404), r.get_data(as_text=True)
    assert "Traceback" not in r.get_data(as_text=True)
    if r.mimetype == "text/html":
        check_page(r.get_data(as_text=True))
    r.close()


def test_random_query_strings_give_no_500(client):
    rng = random.Random(3)
    alphabet = 'aàáạảãâăđêôơưÀĐ "-*?:/\\%&=+<>\'\x00\t\n' + "".join(chr(c) for c in range(0x300, 0x310))
    for _ in range(150):
        args = {
            name: "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
            for name in rng.sample(["q", "page", "limit", "sort", "since", "until", "source", "category"], 3)
        }
        for path in ("/search", "/api/search"):
            r = client.get(path + "?" + urlencode(args))
            assert r.status_code in (200, 400), (args, r.status_code)
            r.close()
