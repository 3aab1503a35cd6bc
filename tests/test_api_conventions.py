"""The API's conventions (issue 21): strict parameters, several values per filter, placeholder
search, time of day with a fixed "now", offset, extra fields, highlight tags, CORS."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from indexer.fields import VIETNAM
from indexer.ingest import index_paths
from search_ui import create_app
from search_ui.stores import store_pool

from support import check_page

NOW = dt.datetime(2024, 3, 12, 12, 0, tzinfo=VIETNAM)
ORIGIN = "https://tin.example"


def ids(data: dict) -> list[str]:
    return [h["id"] for h in data["hits"]]


# -- unknown parameters, /api --------------------------------------------------


@pytest.mark.parametrize("name", ["hitsPerPage", "filter", "per_page", "Q", "utm_source"])
def test_an_unknown_api_parameter_is_a_400_naming_it(client, name):
    r = client.get("/api/search", query_string={"q": "vàng", name: "2"})
    assert r.status_code == 400
    assert r.get_json()["error"]["param"] == name
    assert r.get_json()["error"]["message"].startswith(f"{name}: unknown parameter; known: q, page, offset, limit,")


def test_the_article_api_refuses_unknown_parameters_too(client):
    r = client.get("/api/articles/lai-suat", query_string={"highlight": "1"})
    assert r.status_code == 400 and r.get_json()["error"]["param"] == "highlight"


def test_the_page_ignores_unknown_and_api_only_parameters(client):
    plain = client.get("/search", query_string={"q": "vàng"}).get_data(as_text=True)
    tracked = client.get("/search", query_string={"q": "vàng", "utm_source": "fb", "offset": "x", "fields": "?"})
    assert tracked.status_code == 200
    strip = lambda html: html.split('<span class="took">')[0] + html.split("ms</span>", 1)[1]  # noqa: E731
    assert strip(tracked.get_data(as_text=True)) == strip(plain)


@pytest.mark.parametrize("path", ["/api", "/api/"])
def test_api_root_answers_json(client, path):
    r = client.get(path)
    assert r.status_code == 200 and r.mimetype == "application/json"
    data = r.get_json()
    assert data["openapi"] == "/api/openapi.json"
    assert {"method": "GET", "path": "/api/search", "summary": "Search (no q: the newest articles matching the filters)"} in data["routes"]


# -- several values per filter -------------------------------------------------


@pytest.mark.parametrize(
    "query, expected",
    [
        ("source=baomoi.com&source=vnexpress.net", ["gia-vang-trong-nuoc", "gia-vang-the-gioi"]),
        ("source=VNEXPRESS.NET", ["gia-vang-the-gioi"]),
        ("source=baomoi.com&category=KINH-TE&category=du-lich", ["gia-vang-trong-nuoc"]),
        ("source=baomoi.com&source=vnexpress.net&until=2024-02-01", ["gia-vang-the-gioi"]),
        ("source=dantri.com.vn&source=", []),
    ],
)
def test_filters_take_several_values(client, query, expected):
    data = client.get(f"/api/search?q=v%C3%A0ng&{query}").get_json()
    assert ids(data) == expected


def test_facet_counts_leave_their_own_filter_out(client):
    data = client.get("/api/search?q=v%C3%A0ng&source=baomoi.com").get_json()
    assert data["total"] == 1
    assert data["facets"]["source"] == {"baomoi.com": 1, "vnexpress.net": 1}
    assert data["facets"]["category"] == {"kinh-te": 1}
    assert data["params"] == {"sort": "relevance", "source": ["baomoi.com"]}


# -- placeholder search ---------------------------------------------------------


def test_no_q_lists_the_newest_articles_matching_the_filters(client):
    data = client.get("/api/search?source=baomoi.com&source=dantri.com.vn&limit=3").get_json()
    assert (data["total"], ids(data)) == (5, ["hoa-binh-moi", "gia-vang-trong-nuoc", "lai-suat"])
    assert data["suggestion"] is None and data["hits"][0]["snippet"].startswith("Hòa Bình có nhiều bản làng đẹp")


def test_the_home_page_shows_the_newest_articles(client):
    html = client.get("/").get_data(as_text=True)
    check_page(html)
    newest = html.split('<section class="newest"')[1].split("</section>")[0]
    assert '<h2 id="newest-title">Bài mới nhất</h2>' in newest
    assert newest.index("Hòa Bình") < newest.index("Giá vàng trong nước") < newest.index("Giá vàng thế giới")


# -- offset, fields, highlight tags, snippet=text -------------------------------


def test_offset_instead_of_page(client):
    everything = ids(client.get("/api/search?q=n%C4%83m&limit=100").get_json())
    data = client.get("/api/search?q=n%C4%83m&offset=1&limit=2").get_json()
    assert (ids(data), data["offset"], data["page"]) == (everything[1:3], 1, 1)
    r = client.get("/api/search?q=n%C4%83m&offset=1&page=2")
    assert r.status_code == 400 and r.get_json()["error"] == {
        "status": 400, "message": "offset: cannot be given with page: use one or the other", "param": "offset",
    }


@pytest.mark.parametrize("value", ["-1", "x", "100001", ""])
def test_bad_offsets(client, value):
    r = client.get("/api/search", query_string={"q": "năm", "offset": value})
    assert r.status_code == 400 and r.get_json()["error"]["message"] == "offset: must be an integer from 0 to 100000"


def test_fields_adds_sapo_and_body(client):
    hit = client.get("/api/search?q=l%C3%A3i+su%E1%BA%A5t&fields=sapo,body").get_json()["hits"][0]
    assert hit["id"] == "lai-suat" and hit["body"].startswith("Nhiều ngân hàng thương mại") and "sapo" in hit
    assert "body" not in client.get("/api/search?q=l%C3%A3i+su%E1%BA%A5t").get_json()["hits"][0]
    r = client.get("/api/search?q=a&fields=sapo,title")
    assert r.status_code == 400 and r.get_json()["error"]["message"] == "fields: unknown field 'title': one of sapo, body"


def test_highlight_tags_and_plain_text(client):
    base = "/api/search?q=%22gi%C3%A1+v%C3%A0ng+th%E1%BA%BF+gi%E1%BB%9Bi%22"
    html = client.get(base).get_json()["hits"][0]["snippet"]
    assert "<mark>Giá vàng thế giới</mark>" in html
    tagged = client.get(base + "&highlight_pre_tag=%3Cem%3E&highlight_post_tag=%3C/em%3E").get_json()["hits"][0]
    assert tagged["snippet"] == html.replace("<mark>", "<em>").replace("</mark>", "</em>")
    text = client.get(base + "&snippet=text").get_json()["hits"][0]["snippet"]
    assert "<" not in text and "Giá vàng thế giới" in text
    assert client.get(base + "&snippet=markdown").get_json()["error"]["param"] == "snippet"
    r = client.get(base + "&highlight_pre_tag=" + "x" * 51)
    assert r.get_json()["error"]["message"] == "highlight_pre_tag: longer than 50 characters"


def test_text_between_custom_tags_stays_escaped(tmp_path):
    src = tmp_path / "a.jsonl"
    src.write_text(json.dumps({"id": "x", "title": "T", "body": "Giá <b>vàng</b> & bạc tăng."}, ensure_ascii=False), "utf-8")
    index_paths(tmp_path / "ix", [src])
    app = create_app({"INDEX_DIR": str(tmp_path / "ix"), "TESTING": True})
    try:
        c = app.test_client()
        snippet = c.get("/api/search?q=b%E1%BA%A1c&highlight_pre_tag=[&highlight_post_tag=]").get_json()["hits"][0]["snippet"]
        assert snippet == "Giá &lt;b&gt;vàng&lt;/b&gt; &amp; [bạc] tăng."
        text = c.get("/api/search?q=b%E1%BA%A1c&snippet=text").get_json()["hits"][0]["snippet"]
        assert text == "Giá <b>vàng</b> & bạc tăng."
    finally:
        store_pool(app).close()


# -- time of day ----------------------------------------------------------------

TIMED = [
    {"id": "sang", "title": "Bão sáng", "body": "Tin bão buổi sáng.", "published": "2024-03-12T07:30:00"},
    {"id": "trua", "title": "Bão trưa", "body": "Tin bão buổi trưa.", "published": "2024-03-12T11:15:00+07:00"},
    {"id": "dem-utc", "title": "Bão đêm", "body": "Tin bão đêm qua.", "published": "2024-03-11T20:00:00Z"},
    {"id": "ngay", "title": "Bão cả ngày", "body": "Tin bão trong ngày.", "published": "2024-03-12"},
    {"id": "tuan-truoc", "title": "Bão tuần trước", "body": "Tin bão tuần trước.", "published": "2024-03-06T09:00:00"},
    {"id": "thang-truoc", "title": "Bão tháng trước", "body": "Tin bão tháng trước.", "published": "2024-02-20T09:00:00"},
]


@pytest.fixture()
def timed(tmp_path):
    src = tmp_path / "timed.jsonl"
    src.write_text("\n".join(json.dumps(a, ensure_ascii=False) for a in TIMED), "utf-8")
    index_paths(tmp_path / "ix", [src])
    app = create_app({"INDEX_DIR": str(tmp_path / "ix"), "TESTING": True, "NOW": lambda: NOW})
    yield app.test_client()
    store_pool(app).close()


def test_published_keeps_the_time_in_vietnam_time(timed):
    data = timed.get("/api/search?q=b%C3%A3o&sort=newest").get_json()
    assert [(h["id"], h["published"]) for h in data["hits"]] == [
        ("trua", "2024-03-12T11:15:00+07:00"),
        ("sang", "2024-03-12T07:30:00+07:00"),
        ("dem-utc", "2024-03-12T03:00:00+07:00"),  # 20:00 UTC is 03:00 the next day in Vietnam
        ("ngay", "2024-03-12"),  # a date alone: the start of its day
        ("tuan-truoc", "2024-03-06T09:00:00+07:00"),
        ("thang-truoc", "2024-02-20T09:00:00+07:00"),
    ]


def test_recency_orders_equal_articles_by_their_time(timed):
    data = timed.get("/api/search?q=b%C3%A3o+tin").get_json()
    assert ids(data)[:3] == ["trua", "sang", "dem-utc"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("since=2024-03-12", ["trua", "sang", "dem-utc", "ngay"]),
        ("since=2024-03-12T07:00", ["trua", "sang"]),
        ("since=2024-03-12T00:00:00Z", ["trua", "sang"]),  # 07:00 in Vietnam
        ("until=2024-03-11", ["tuan-truoc", "thang-truoc"]),
        ("until=2024-03-12T03:00", ["dem-utc", "ngay", "tuan-truoc", "thang-truoc"]),
        ("since=2024-03-06&until=2024-03-06", ["tuan-truoc"]),
    ],
)
def test_since_and_until_take_a_date_or_a_date_time(timed, query, expected):
    assert ids(timed.get(f"/api/search?sort=newest&{query}").get_json()) == expected


@pytest.mark.parametrize("value", ["2024-03-12T25:00", "2024-03-12 07:00", "12/03/2024", "2024-03-12T07"])
def test_bad_date_times_are_refused(timed, value):
    r = timed.get("/api/search", query_string={"since": value})
    assert r.get_json()["error"] == {
        "status": 400,
        "message": "since: must be a date as YYYY-MM-DD or a date-time as YYYY-MM-DDThh:mm",
        "param": "since",
    }


def test_the_page_says_how_long_ago_within_the_last_day(timed):
    html = timed.get("/search?q=b%C3%A3o&sort=newest").get_data(as_text=True)
    check_page(html)
    assert '<time datetime="2024-03-12T11:15:00+07:00">45 phút trước</time>' in html
    assert '<time datetime="2024-03-12T07:30:00+07:00">4 giờ trước</time>' in html
    assert '<time datetime="2024-03-12">12/03/2024</time>' in html
    assert '<time datetime="2024-03-06T09:00:00+07:00">06/03/2024 09:00</time>' in html


def test_quick_ranges_count_back_from_now(timed):
    html = timed.get("/search?q=b%C3%A3o").get_data(as_text=True)
    assert '<a href="/search?q=b%C3%A3o&amp;since=2024-03-11T12:00%2B07:00">24 giờ qua</a>' in html
    assert '<a href="/search?q=b%C3%A3o&amp;since=2024-03-05T12:00%2B07:00">7 ngày qua</a>' in html
    assert '<a href="/search?q=b%C3%A3o&amp;since=2024-02-11T12:00%2B07:00">30 ngày qua</a>' in html
    html = timed.get("/search?q=b%C3%A3o&since=2024-03-11T12:00%2B07:00").get_data(as_text=True)
    assert '<a href="/search?q=b%C3%A3o&amp;since=2024-03-11T12:00%2B07:00" aria-current="true" class="current">24 giờ qua</a>' in html
    assert "<strong>4</strong> kết quả" in html and "Từ ngày: 11/03/2024 12:00" in html
    week = timed.get("/api/search?q=b%C3%A3o&since=2024-03-05T12:00%2B07:00").get_json()
    assert sorted(ids(week)) == ["dem-utc", "ngay", "sang", "trua", "tuan-truoc"]


# -- CORS ----------------------------------------------------------------------


@pytest.fixture()
def cors(index_dir):
    app = create_app({"INDEX_DIR": str(index_dir), "TESTING": True, "CORS_ORIGINS": [ORIGIN], "VNSEARCH_API_TOKEN": "t"})
    yield app.test_client()
    store_pool(app).close()


def cors_headers(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


@pytest.mark.parametrize("path", ["/api", "/api/search?q=v%C3%A0ng", "/api/articles/lai-suat", "/api/openapi.json"])
def test_the_api_answers_the_configured_origin(cors, path):
    r = cors.get(path, headers={"Origin": ORIGIN})
    assert r.status_code == 200 and cors_headers(r) == {"Access-Control-Allow-Origin": ORIGIN}
    # Caches keep one answer per origin: another origin's lacks the header.
    assert r.headers["Vary"] == "Origin" and cors.get(path, headers={"Origin": "https://x.example"}).headers["Vary"] == "Origin"


def test_a_preflight_from_the_configured_origin(cors):
    r = cors.options(
        "/api/search?q=a", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "accept"}
    )
    assert r.status_code == 200
    assert cors_headers(r) == {
        "Access-Control-Allow-Origin": ORIGIN, "Access-Control-Allow-Headers": "accept", "Access-Control-Allow-Methods": "GET",
    }


@pytest.mark.parametrize(
    "method, path, origin",
    [
        ("GET", "/api/search?q=a", "https://other.example"),
        ("OPTIONS", "/api/search?q=a", "https://other.example"),
        ("GET", "/api/search?q=a", "https://tin.example.evil"),
        ("GET", "/", ORIGIN),
        ("GET", "/search?q=a", ORIGIN),
        ("OPTIONS", "/api/articles", ORIGIN),
        ("POST", "/api/articles", ORIGIN),
        ("DELETE", "/api/articles/lai-suat", ORIGIN),  # 401: no token
    ],
)
def test_no_cors_headers_elsewhere(cors, method, path, origin):
    r = cors.open(path, method=method, headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
    assert cors_headers(r) == {}


def test_the_ingest_api_cannot_be_called_across_origins(cors):
    # Its preflight allows GET only: a browser never sends the DELETE.
    r = cors.options("/api/articles/x", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "DELETE"})
    assert cors_headers(r) == {}


def test_no_cors_by_default(client):
    r = client.get("/api/search?q=a", headers={"Origin": ORIGIN})
    assert cors_headers(r) == {}


def test_serve_takes_cors_origins(runner, monkeypatch):
    from indexer.cli import main
    import search_ui.server as server

    seen = {}
    monkeypatch.setattr(server, "serve", lambda *args, **kwargs: seen.setdefault("origins", kwargs["cors_origins"]))
    result = runner.invoke(main, ["serve", "--cors-origin", "https://A.example", "--cors-origin", "http://localhost:8080"])
    assert result.exit_code == 0 and seen["origins"] == ("https://a.example", "http://localhost:8080")
    result = runner.invoke(main, ["serve", "--cors-origin", "https://a.example/path"])
    assert result.exit_code == 2
    assert "'https://a.example/path' is not an origin like https://example.com or http://localhost:8080" in result.output


def test_the_article_page_shows_its_time(timed):
    html = timed.get("/article/sang").get_data(as_text=True)
    assert '<time datetime="2024-03-12T07:30:00+07:00">12/03/2024 07:30</time>' in html
    assert timed.get("/api/articles/sang").get_json()["published"] == "2024-03-12T07:30:00+07:00"
