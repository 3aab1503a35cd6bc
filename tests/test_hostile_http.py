"""Hostile HTTP input (issue 23): bodies, hosts, links, locks, tokens, and a slow-client flood on loopback."""

from __future__ import annotations

import html
import json
import os
import re
import socket
import subprocess
import sys
import time
import tracemalloc

import pytest

from indexer import articles
from indexer.ingest import index_paths
from indexer.store import ArticleStore
from search_ui.ingest_api import MAX_ARTICLES, MAX_BODY_BYTES, MAX_LISTED
from search_ui.security import CONTENT_SECURITY_POLICY
from support import API_TOKEN, answers, free_port, oversized_post, post, request, vnsearch, wait_for

TOKEN = "mật-khẩu-thử"  # not Latin-1: a client sends its UTF-8 bytes
LONG_LABEL_HOST = "a" * 64 + ".example"


@pytest.fixture()
def api(make_app):
    return make_app(VNSEARCH_API_TOKEN=API_TOKEN, INGEST_COMMIT_DELAY=0).test_client()


@pytest.fixture(scope="module")
def server(tmp_path_factory, corpus_dir):
    """`vnsearch serve` over its own index on a free loopback port, with a non-ASCII API token."""
    index = tmp_path_factory.mktemp("hostile-http") / "ix"
    index_paths(index, [corpus_dir])
    port = free_port()
    env = {**os.environ, "VNSEARCH_API_TOKEN": TOKEN}
    proc = subprocess.Popen(vnsearch("serve", "--index", str(index), "--port", str(port)), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: answers(port), "vnsearch serve")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def raw_exchange(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Send ``data`` on a fresh connection and return the whole answer (the server closes it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


# --- 1: a JSON integer past Python's digit limit -----------------------------

@pytest.mark.parametrize("shape", ["{{\"id\": \"so\", \"body\": \"b\", \"n\": {}}}", "[{}]", "{{\"id\": {}}}"])
def test_a_huge_json_integer_is_a_400_naming_it(api, shape):
    r = post(api, shape.format("9" * 5000).encode())
    assert r.status_code == 400
    assert r.get_json()["error"]["message"] == f"invalid JSON: a number too long to read (over {sys.get_int_max_str_digits():,} digits)"


# --- 4: failures listed, articles per request capped -------------------------

def test_a_400_lists_the_first_problems_then_counts_the_rest(api):
    r = post(api, [{}] * MAX_ARTICLES)
    assert r.status_code == 400  # exactly MAX_ARTICLES articles is within the cap
    error = r.get_json()["error"]
    assert error["message"] == f"{MAX_ARTICLES:,} articles could not be read; nothing was indexed"
    assert error["articles"][:2] == ["item 1: no body", "item 2: no body"]
    assert error["articles"][MAX_LISTED:] == [f"… and {MAX_ARTICLES - MAX_LISTED:,} more"]
    assert len(error["articles"]) == MAX_LISTED + 1


def test_more_articles_than_the_cap_is_a_413_naming_it(api):
    r = post(api, [{"id": "a", "body": "b"}] * (MAX_ARTICLES + 1))
    assert r.status_code == 413
    assert r.get_json()["error"]["message"] == (
        f"too many articles: at most {MAX_ARTICLES:,} a request — send the rest in further requests"
    )


def test_a_body_of_millions_of_empty_items_stays_small(api):
    body = b"[" + b"{}," * ((MAX_BODY_BYTES - 3) // 3) + b"{}]"
    assert len(body) <= MAX_BODY_BYTES
    tracemalloc.start()
    try:
        r = post(api, body)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert r.status_code == 413 and len(r.data) < 1024
    assert peak < 4 * MAX_BODY_BYTES  # the body, its text, and at most MAX_ARTICLES items


@pytest.mark.parametrize(
    "body, message",
    [
        (b"[{}, {}", "invalid JSON: Expecting ',' delimiter (line 1, column 8)"),
        (b"[{} {}]", "invalid JSON: Expecting ',' delimiter (line 1, column 5)"),
        (b"[{},]", "invalid JSON: Expecting value (line 1, column 5)"),
        (b"[] []", "invalid JSON: Extra data (line 1, column 4)"),
        (b" [\n{}\n] x", "invalid JSON: Extra data (line 3, column 3)"),
    ],
)
def test_a_list_read_item_by_item_reports_syntax_like_json(api, body, message):
    r = post(api, body)
    assert (r.status_code, r.get_json()["error"]["message"]) == (400, message)


# --- 6: the 400 page's retry link --------------------------------------------

@pytest.mark.parametrize(
    "url, retry",
    [
        ("/search?q=x&page=0&endpoint=a", "/search?q=x"),
        ("/search?q=x&page=0&_method=POST", "/search?q=x"),
        ("/search?q=x&page=0&_external=1", "/search?q=x"),
        ("/search?q=x&page=0&limit=0&sort=cu", "/search?q=x"),  # every refused parameter goes
        ("/article/lai-suat?q=" + "a" * 501 + "&article_id=b", "/article/lai-suat"),
    ],
    ids=["endpoint", "method", "external", "several-bad", "article-id"],
)
def test_the_retry_link_is_built_from_validated_parameters_only(client, url, retry):
    r = client.get(url, headers={"Host": "evil.example"})
    assert r.status_code == 400
    links = re.findall(r'<a href="([^"]*)">Thử lại', r.get_data(as_text=True))
    assert [html.unescape(u) for u in links] == [retry]


# --- 7: a Host header that is no host name -----------------------------------

@pytest.mark.parametrize("path", ["/", "/search?q=v%C3%A0ng", "/article/lai-suat", "/static/style.css", "/khong-co"])
def test_a_host_label_over_63_characters_is_a_400_page(client, path):
    r = client.get(path, headers={"Host": LONG_LABEL_HOST})
    assert r.status_code == 400 and r.mimetype == "text/html"
    assert r.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "Tiêu đề Host của yêu cầu không phải là một tên máy hợp lệ." in r.get_data(as_text=True)


def test_a_bad_host_is_a_400_naming_it_in_the_api(client):
    r = client.get("/api/search?q=x", headers={"Host": LONG_LABEL_HOST})
    assert r.status_code == 400
    assert r.get_json()["error"]["message"] == "Host: not a host name — send the server's name or address"


def test_a_bad_host_is_a_400_through_waitress(server):
    answer = raw_exchange(server, f"GET / HTTP/1.1\r\nHost: {LONG_LABEL_HOST}\r\nConnection: close\r\n\r\n".encode())
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    assert head.startswith("HTTP/1.1 400 ")
    assert f"Content-Security-Policy: {CONTENT_SECURITY_POLICY}" in head


# --- 8: the lock holder's command line ----------------------------------------

def test_a_locked_index_answers_without_the_holders_command_line(make_app, ix):
    client = make_app(VNSEARCH_API_TOKEN=API_TOKEN, INGEST_COMMIT_DELAY=0, INGEST_LOCK_TIMEOUT=0.1).test_client()
    with ArticleStore.open(ix) as store:
        writer = store.writer()
        try:
            r = post(client, {"id": "khoa", "body": "Tin."})
        finally:
            writer.cancel()
    assert r.status_code == 503
    error = r.get_json()["error"]
    assert set(error["holder"]) == {"pid", "since"}
    assert error["message"].startswith(f"The index is locked by another writer: pid {error['holder']['pid']}, since ")
    text = r.get_data(as_text=True)
    assert os.path.basename(sys.argv[0]) not in text and str(ix) not in text


# --- 11: ids no URL can reach (the grammar is indexer.articles.id_problem) ----

@pytest.mark.skipif(not hasattr(articles, "id_problem"), reason="needs the id grammar of indexer/articles.py (issue 23, item 11)")
@pytest.mark.parametrize("article_id", ["/goc", ".", "..", "a/../b", "a/./b", "x" * 300_000], ids=["slash", "dot", "dotdot", "dotdot-segment", "dot-segment", "300KB"])
def test_an_unreachable_id_is_a_400(api, article_id):
    r = post(api, {"id": article_id, "body": "Tin."})
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["message"] == "1 article could not be read; nothing was indexed"
    assert error["articles"] == [f"article: {articles.id_problem(article_id)}"]


# --- 5: a slow-client flood ----------------------------------------------------

def test_150_half_sent_requests_do_not_stop_the_server(server):
    flood = []
    try:
        for _ in range(150):
            s = socket.create_connection(("127.0.0.1", server), timeout=5)
            s.sendall(b"GET /api/search?q=x HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never the blank line
            flood.append(s)
        started = time.monotonic()
        answer = raw_exchange(server, b"GET /api/search?q=v%C3%A0ng HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", timeout=5)
        assert answer.startswith(b"HTTP/1.1 200 ")
        assert time.monotonic() - started < 5
    finally:
        for s in flood:
            s.close()


# --- 15: the body limit is exact -------------------------------------------------

def test_a_body_of_exactly_the_limit_is_taken_and_one_byte_more_is_not(server):
    auth = {"Authorization": b"Bearer " + TOKEN.encode(), "Content-Type": "application/json"}
    article = json.dumps({"id": "tam-mib", "body": "Bản tin ngắn về giá vàng."}).encode()
    body = article + b" " * (MAX_BODY_BYTES - len(article))
    status, data = request(server, "POST", "/api/articles", body, auth)
    assert (status, data) == (201, {"added": ["tam-mib"], "updated": [], "unchanged": []})
    assert oversized_post(server, MAX_BODY_BYTES + 1, auth) == 413


# --- 17: a non-ASCII token ----------------------------------------------------------

def test_a_non_ascii_token_matches_its_utf8_bytes(server):
    path = "/api/articles/khong-co"
    assert request(server, "DELETE", path, None, {"Authorization": b"Bearer " + TOKEN.encode()})[0] == 404
    mojibake = TOKEN.encode().decode("latin-1").encode()
    assert request(server, "DELETE", path, None, {"Authorization": b"Bearer " + mojibake})[0] == 401
    assert request(server, "DELETE", path, None, {"Authorization": b"Bearer " + TOKEN.encode()[:-1]})[0] == 401
