"""The ingest API with several serving processes: one writer at a time (the index's lock), no article lost,
every acknowledged article searchable from every process."""

from __future__ import annotations

import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from urllib.parse import quote

from indexer.store import ArticleStore
from support import answers, free_port, request, vnsearch, wait_for

TOKEN = "token-for-workers"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
MARKER = "bản tin kiểm thử đa tiến trình"  # in every posted article, searched for afterwards
CLIENTS = 8
REQUESTS = 5  # per client
PER_REQUEST = 2  # articles


@contextmanager
def serving(index, workers: int):
    """`vnsearch serve --workers N` over ``index`` with the API's token: its port."""
    port = free_port()
    env = {**os.environ, "VNSEARCH_API_TOKEN": TOKEN}
    proc = subprocess.Popen(vnsearch("serve", "--index", str(index), "--port", str(port), "--workers", str(workers)),
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: answers(port), f"vnsearch serve --workers {workers}")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def articles(client: int, n: int) -> list[dict]:
    return [
        {"id": f"w-{client}-{n}-{k}", "title": f"Tin thử {client} {n} {k}",
         "body": f"Đây là {MARKER} số {client} {n} {k}.", "published": "2024-05-01"}
        for k in range(PER_REQUEST)
    ]


def post_all(ports: list[int]) -> list[str]:
    """CLIENTS clients post REQUESTS requests each, at once, spread over ``ports``; a 503 is tried
    again after its Retry-After. Returns the acknowledged ids."""
    def client(c: int) -> list[str]:
        acked = []
        for n in range(REQUESTS):
            port = ports[(c + n) % len(ports)]
            body = json.dumps(articles(c, n), ensure_ascii=False).encode()
            for _ in range(10):
                status, answer = request(port, "POST", "/api/articles", body, AUTH)
                if status != 503:
                    break
                time.sleep(0.5)  # a lock held past the server's wait: the client tries again
            assert status == 201, (status, answer)
            assert answer == {"added": [a["id"] for a in articles(c, n)], "updated": [], "unchanged": []}
            acked += answer["added"]
        return acked

    with ThreadPoolExecutor(CLIENTS) as pool:
        return [i for ids in pool.map(client, range(CLIENTS)) for i in ids]


def found(port: int) -> set[str]:
    ids: set[str] = set()
    page = 1
    while True:
        status, answer = request(port, "GET", f"/api/search?q={quote(MARKER)}&limit=100&page={page}")
        assert status == 200
        ids |= {h["id"] for h in answer["hits"]}
        if page >= answer["pages"]:
            return ids
        page += 1


def test_concurrent_posts_to_two_processes_are_all_searchable_from_each(tmp_path):
    """Two serving processes over one index, each on its own port (so that each can be asked)."""
    index = tmp_path / "ix"
    ArticleStore.create(index).close()
    with ExitStack() as stack:
        ports = [stack.enter_context(serving(index, 1)) for _ in range(2)]
        acked = post_all(ports)
        assert len(acked) == len(set(acked)) == CLIENTS * REQUESTS * PER_REQUEST
        for port in ports:
            assert found(port) == set(acked)
            assert request(port, "GET", f"/api/articles/{acked[0]}")[0] == 200


def test_concurrent_posts_to_two_workers_are_all_searchable(tmp_path):
    """`serve --workers 2` over an index that does not exist yet: the first posts create it once."""
    index = tmp_path / "ix"
    with serving(index, 2) as port:
        acked = post_all([port])
        assert len(set(acked)) == CLIENTS * REQUESTS * PER_REQUEST
        for _ in range(6):  # each on a new connection, answered by either worker
            assert found(port) == set(acked)
