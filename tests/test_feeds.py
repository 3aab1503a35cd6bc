"""Following a search (RSS 2.0) and the OpenSearch description, and the pages' links to them."""

from __future__ import annotations

import datetime as dt
import json
import re
from xml.etree import ElementTree as ET

import feedparser
import pytest

from indexer.ingest import index_paths
from search_ui.feeds import FEED_ITEMS, _rfc822

OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"


def parse_feed(client, url: str, **kwargs):
    r = client.get(url, **kwargs)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    feed = feedparser.parse(r.data)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "rss20"
    return feed


def test_search_feed_lists_the_newest_matches(client):
    feed = parse_feed(client, "/search.rss?q=da+nang")
    assert feed.feed.title == "vnsearch: da nang"
    assert feed.feed.link == "http://localhost/search?q=da+nang"
    assert feed.feed.language == "vi"
    assert [(e.title, e.link, e.published, e.id) for e in feed.entries] == [
        (
            "Đà Nẵng đón hơn 8 triệu lượt khách du lịch",
            "https://example.vn/da-nang-du-lich",
            "Fri, 05 Jan 2024 00:00:00 +0700",
            "http://localhost/article/dn-du-lich",
        ),
        (
            "Ban Tổ chức Trung ương tổ chức Hội nghị tổng kết công tác năm 2023, triển khai nhiệm vụ năm 2024",
            "http://localhost/article/000_5a0c9058e2d22930.txt",
            "Thu, 28 Dec 2023 00:00:00 +0700",
            "http://localhost/article/000_5a0c9058e2d22930.txt",
        ),
        (
            "Ngân hàng đã nâng lãi suất tiết kiệm",
            "http://localhost/article/lai-suat",
            "Mon, 20 Nov 2023 00:00:00 +0700",
            "http://localhost/article/lai-suat",
        ),
    ]
    first = feed.entries[0]
    assert first.summary == (
        "Năm 2023, thành phố Đà Nẵng đón hơn 8 triệu lượt khách. Theo Sở Du lịch, lượng khách quốc tế "
        "đến Đà Nẵng tăng mạnh. Các bãi biển và cầu Rồng là điểm đến được yêu thích nhất."
    )
    assert [(t.term, t.scheme) for t in first.tags] == [("vnexpress.net", "source"), ("du-lich", "category")]


def test_search_feed_keeps_the_filters_and_drops_paging_and_order(client):
    url = "/search.rss?q=da+nang&source=VNEXPRESS.NET&source=baomoi.com&page=3&limit=1&sort=relevance&utm_source=x"
    feed = parse_feed(client, url)
    assert [e.title for e in feed.entries] == [
        "Đà Nẵng đón hơn 8 triệu lượt khách du lịch", "Ngân hàng đã nâng lãi suất tiết kiệm",
    ]
    assert feed.feed.link == "http://localhost/search?q=da+nang&source=VNEXPRESS.NET&source=baomoi.com"
    self_link = next(link for link in feed.feed.links if link.rel == "self")
    assert self_link.href == "http://localhost/search.rss?q=da+nang&source=VNEXPRESS.NET&source=baomoi.com"


def test_a_feed_without_a_query_follows_the_newest_articles(client):
    feed = parse_feed(client, "/search.rss?source=baomoi.com")
    assert feed.feed.title == "vnsearch: tin mới nhất"
    assert feed.feed.link == "http://localhost/search?source=baomoi.com"
    assert [e.title for e in feed.entries] == [
        "Tỉnh Hòa Bình phát triển du lịch cộng đồng", "Giá vàng trong nước đứng yên", "Ngân hàng đã nâng lãi suất tiết kiệm",
    ]


def test_search_feed_takes_the_newest_twenty(make_app, ix, tmp_path):
    more = tmp_path / "more"
    more.mkdir()
    lines = [
        {"id": f"bao-{i:02d}", "title": f"Tin bão số {i}", "body": "Bão đổ bộ\x01 vào miền Trung.", "published": f"2024-05-{i:02d}"}
        for i in range(1, 26)
    ]
    lines.append({"id": "bao-js", "title": "Tin bão mới", "body": "Bão.", "published": "2024-06-01", "url": "javascript:alert(1)"})
    (more / "bao.jsonl").write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in lines), "utf-8")
    assert index_paths(ix, [more]).added == 26
    feed = parse_feed(make_app().test_client(), "/search.rss?q=b%C3%A3o")
    assert len(feed.entries) == FEED_ITEMS
    assert [e.title for e in feed.entries[:3]] == ["Tin bão mới", "Tin bão số 25", "Tin bão số 24"]
    assert feed.entries[-1].title == "Tin bão số 7"
    assert feed.entries[0].link == "http://localhost/article/bao-js"  # a link only to a web page
    assert feed.entries[1].summary == "Bão đổ bộ vào miền Trung."  # a control character XML cannot hold, left out


def test_search_feed_of_nothing_found_is_an_empty_feed(client):
    feed = parse_feed(client, "/search.rss?q=xyzzy")
    assert feed.entries == [] and feed.feed.title == "vnsearch: xyzzy"


def test_search_feed_refuses_a_bad_parameter(client):
    r = client.get("/search.rss?q=vang&since=hôm-qua")
    assert r.status_code == 400
    assert "Tham số <code>since</code> không hợp lệ." in r.get_data(as_text=True)


@pytest.mark.parametrize(
    "published, expected",
    [
        (dt.date(2024, 1, 5), "Fri, 05 Jan 2024 00:00:00 +0700"),
        (dt.datetime(2024, 1, 5, 14, 30), "Fri, 05 Jan 2024 14:30:00 +0700"),
        (dt.datetime(2024, 1, 5, 7, 30, tzinfo=dt.timezone.utc), "Fri, 05 Jan 2024 14:30:00 +0700"),
    ],
)
def test_feed_dates_without_a_zone_are_vietnam_time(published, expected):
    assert _rfc822(published) == expected


def test_opensearch_description(client):
    r = client.get("/opensearch.xml", headers={"Host": "tin.example.vn:8080"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/opensearchdescription+xml; charset=utf-8"
    root = ET.fromstring(r.data)
    assert root.tag == f"{OPENSEARCH}OpenSearchDescription"
    assert root.find(f"{OPENSEARCH}ShortName").text == "vnsearch"
    assert root.find(f"{OPENSEARCH}InputEncoding").text == "UTF-8"
    urls = {u.get("type"): u.get("template") for u in root.iter(f"{OPENSEARCH}Url")}
    assert urls == {
        "text/html": "http://tin.example.vn:8080/search?q={searchTerms}",
        "application/x-suggestions+json": "http://tin.example.vn:8080/api/suggest?q={searchTerms}&format=opensearch",
        "application/rss+xml": "http://tin.example.vn:8080/search.rss?q={searchTerms}",
        "application/opensearchdescription+xml": "http://tin.example.vn:8080/opensearch.xml",
    }
    assert root.find(f"{OPENSEARCH}Image").text == "http://tin.example.vn:8080/static/favicon.svg"
    # What the templates point at answers.
    assert client.get("/search?q=ha+noi").status_code == 200
    typed, completions = client.get("/api/suggest?q=ha+no&format=opensearch").get_json()
    assert typed == "ha no" and completions[0] == "hà nội"


@pytest.mark.parametrize("host", ["a b", "x<y>.vn", "tin.example.vn:abc", "a" * 64 + ".example"])
def test_opensearch_and_feed_refuse_a_host_that_is_not_a_host_name(client, host):
    for url in ("/opensearch.xml", "/search.rss?q=vang"):
        r = client.get(url, headers={"Host": host})
        assert r.status_code == 400, (url, host)
        assert "Tiêu đề Host của yêu cầu không phải là một tên máy hợp lệ." in r.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/", "/search?q=vang", "/search", "/article/lai-suat", "/article/khong-co"])
def test_every_page_links_the_opensearch_description(client, url):
    html = client.get(url).get_data(as_text=True)
    assert '<link rel="search" type="application/opensearchdescription+xml" title="vnsearch" href="/opensearch.xml">' in html


def test_results_page_links_its_feed(client):
    html = client.get("/search?q=da+nang&source=vnexpress.net&page=2&utm_source=x").get_data(as_text=True)
    href = "/search.rss?q=da+nang&amp;source=vnexpress.net"
    assert f'<link rel="alternate" type="application/rss+xml" title="Theo dõi tìm kiếm này (RSS)" href="{href}">' in html
    assert f'<a href="{href}" type="application/rss+xml">Theo dõi tìm kiếm này bằng RSS</a>' in html
    for url in ("/", "/article/lai-suat"):
        assert "application/rss+xml" not in client.get(url).get_data(as_text=True), url
    assert '<a href="/search.rss" type="application/rss+xml">' in client.get("/search").get_data(as_text=True)
    assert not re.search("rss", client.get("/search?q=vang&page=0").get_data(as_text=True))
