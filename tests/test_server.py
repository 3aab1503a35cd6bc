"""`vnsearch serve --workers N`: forked workers on one socket, started again when one dies, all stopped together."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from search_ui import server
from search_ui.ingest_api import MAX_BODY_BYTES
from support import answers, free_port, oversized_post, request, vnsearch, wait_for

TOKEN = "token-for-workers"


def children(pid: int) -> set[int]:
    """The live child processes of ``pid``."""
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text()
        found.update(int(c) for c in text.split())
    return found


@pytest.fixture()
def served(tmp_path, index_dir):
    """`vnsearch serve --workers 2` over a copy of the fixture index, with the API's token: (Popen, port, log)."""
    port = free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "VNSEARCH_API_TOKEN": TOKEN}
    with log.open("wb") as out:
        proc = subprocess.Popen(vnsearch("serve", "--index", str(index_dir), "--port", str(port), "--workers", "2"),
                                env=env, stdout=subprocess.DEVNULL, stderr=out)
    try:
        wait_for(lambda: answers(port), "vnsearch serve --workers 2")
        yield proc, port, log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


def test_two_workers_serve_and_a_dead_one_is_replaced(served):
    proc, port, log = served
    workers = wait_for(lambda: len(children(proc.pid)) == 2 and children(proc.pid), "two workers")
    dead = min(workers)
    os.kill(dead, signal.SIGKILL)
    replaced = wait_for(lambda: (c := children(proc.pid)) != workers and len(c) == 2 and c, "a new worker")
    assert dead not in replaced and max(workers) in replaced
    assert all(request(port, "GET", "/api/search?q=x")[0] == 200 for _ in range(6))
    assert f"Worker {dead} ended (signal SIGKILL): starting another" in log.read_text()


def test_sigterm_stops_every_worker(served):
    proc, port, log = served
    workers = wait_for(lambda: len(children(proc.pid)) == 2 and children(proc.pid), "two workers")
    proc.terminate()
    assert proc.wait(timeout=30) == 0
    assert not any(Path(f"/proc/{w}").exists() for w in workers)
    assert not answers(port)
    assert log.read_text().splitlines()[0].endswith(f":{port}/ with 2 workers")


def test_every_worker_keeps_the_body_limit_and_host_check(served):
    _, port, _ = served
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for _ in range(4):  # the connections land on either worker
        assert oversized_post(port, MAX_BODY_BYTES + 1, auth) == 413
        status, body = request(port, "POST", "/api/articles", b"[]".rjust(MAX_BODY_BYTES), auth)
        assert (status, body["error"]["message"]) == (400, "empty list: no article to index")
        status, body = request(port, "GET", "/api/search?q=x", headers={"Host": "a" * 64 + ".example"})
        assert (status, body["error"]["message"]) == (400, "Host: not a host name — send the server's name or address")


def test_workers_default_to_the_cores(runner, monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(server, "serve", lambda *a, **k: calls.append(a))
    from indexer.cli import main

    result = runner.invoke(main, ["serve", "--index", str(tmp_path), "--port", "5999"])
    assert result.exit_code == 0, result.output
    assert calls == [(tmp_path, "127.0.0.1", 5999, 4, len(os.sched_getaffinity(0)))]


def test_several_workers_off_linux_fall_back_to_one(runner, monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(server, "serve", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(server, "workers_supported", lambda: False)
    from indexer.cli import main

    result = runner.invoke(main, ["serve", "--index", str(tmp_path), "--workers", "3"])
    assert result.exit_code == 0, result.output
    assert calls == [(tmp_path, "127.0.0.1", 5000, 4, 1)]
    assert result.output == "--workers 3 needs Linux (forked workers sharing one socket): serving with one process\n"


def test_workers_that_cannot_start_stop_the_server(tmp_path, index_dir):
    """A worker that ends on starting, again and again, stops the server with status 1."""
    port = free_port()
    code = (
        "import os, sys\n"
        "from search_ui import server\n"
        "server._worker = lambda *a: os._exit(3)\n"
        "server.QUICK_DEATH = 60  # however loaded the machine\n"
        f"server.serve({str(index_dir)!r}, '127.0.0.1', {port}, 2, workers=2)\n"
    )
    result = subprocess.run([os.sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    first, *lines = result.stderr.splitlines()
    assert first == f"Serving {index_dir}/ on http://127.0.0.1:{port}/ with 2 workers"
    assert len(lines) == server.MAX_QUICK_DEATHS
    assert all(line.startswith("Worker ") for line in lines)
    assert lines[-1].endswith(f"(exit status 3), the {server.MAX_QUICK_DEATHS}th in a row to end on starting: stopping")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_is_a_clear_error(index_dir, workers):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = subprocess.run(vnsearch("serve", "--index", str(index_dir), "--port", str(port), "--workers", workers),
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr == (f"Error: Cannot listen on 127.0.0.1:{port}: Address already in use — "
                             "stop what uses it, or give another --host or --port\n")
