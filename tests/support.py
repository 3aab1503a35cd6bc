"""Helpers the test modules share (test modules never import each other): page checks, the real
commands on loopback, the ingest API's token."""

from __future__ import annotations

import http.client
import json
import socket
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

API_TOKEN = "thu-nghiem-8b1f"
API_AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


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


def vnsearch(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("vnsearch")
    return [str(script), *args] if script.is_file() else [sys.executable, "-m", "indexer", *args]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port: int, method: str, path: str, body: bytes | None = None, headers=None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
    finally:
        conn.close()
    return r.status, json.loads(data) if data.startswith(b"{") else {}


def wait_for(condition, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)  # polling, bounded by the deadline
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def oversized_post(port: int, length: int, headers: dict) -> int:
    """Announce a body of ``length`` bytes and send none: waitress answers from the headers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest("POST", "/api/articles")
        for k, v in {**headers, "Content-Length": str(length)}.items():
            conn.putheader(k, v)
        conn.endheaders()
        return conn.getresponse().status
    finally:
        conn.close()


def answers(port: int) -> bool:
    try:
        return request(port, "GET", "/api/search?q=x")[0] == 200
    except OSError:
        return False


def post(client, payload, headers=None):
    data = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    headers = API_AUTH if headers is None else headers
    return client.post("/api/articles", data=data, headers={**headers, "Content-Type": "application/json"})


def without_timing(output: str) -> str:
    """`vnsearch index`'s output with its summary's elapsed time and rate left out (they vary)."""
    import re  # noqa: PLC0415

    return re.sub(r" in \d+\.\d s, [\d,.]+ articles/s$", "", output, flags=re.M)
