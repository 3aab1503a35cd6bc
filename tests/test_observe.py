"""An observable server: the access log, /health, /api/stats, /api/version and /metrics (in one process
and in several sharing prometheus-client's multiprocess directory)."""

from __future__ import annotations

import http.client
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest
from prometheus_client.parser import text_string_to_metric_families

from indexer.cli import main
from indexer.store import FORMAT_VERSION
from search_ui import create_app
from search_ui.observe import configure_logging, prepare_multiprocess
from search_ui.stores import store_pool

from support import answers, free_port, post, request, vnsearch, wait_for

TOKEN = "s3cret"


@pytest.fixture()
def log_stream():
    """configure_logging's output, the loggers it changes restored afterwards."""
    saved = [(lg, lg.handlers[:], lg.level) for lg in (logging.getLogger(), logging.getLogger("waitress"))]
    stream = io.StringIO()
    yield stream
    for lg, handlers, level in saved:
        lg.handlers[:], lg.level = handlers, level


def access_lines(stream: io.StringIO) -> list[str]:
    text = re.sub(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ", "TIME ", stream.getvalue(), flags=re.M)
    return re.sub(r" \d+\.\d ms", " MS ms", text).splitlines()


REQUESTS = ["/search?q=giá+vàng", "/api/search?q=xyzzy", "/api/search?limit=0", "/nope", "/article/lai-suat?q=lãi"]


def test_access_log_text_lines(make_app, log_stream):
    configure_logging("info", "text", log_stream)
    client = make_app().test_client()
    for path in REQUESTS:
        client.get(path)
    assert access_lines(log_stream) == [
        "TIME GET /search?q=gi%C3%A1+v%C3%A0ng 200 MS ms hits=2",
        "TIME GET /api/search?q=xyzzy 200 MS ms hits=0",
        "TIME GET /api/search?limit=0 400 MS ms",
        "TIME GET /nope 404 MS ms",
        "TIME GET /article/lai-suat?q=l%C3%A3i 200 MS ms",
    ]


def test_access_log_json_lines_without_queries(make_app, log_stream):
    configure_logging("info", "json", log_stream)
    client = make_app(LOG_QUERIES=False).test_client()
    for path in REQUESTS[:2]:
        client.get(path)
    lines = [json.loads(line) for line in log_stream.getvalue().splitlines()]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]{12}Z", line.pop("time")) for line in lines)
    assert all(isinstance(line.pop("ms"), float) for line in lines)
    assert lines == [
        {"method": "GET", "path": "/search", "status": 200, "hits": 2},
        {"method": "GET", "path": "/api/search", "status": 200, "hits": 0},
    ]


def test_log_level_warning_drops_the_access_lines_but_not_errors(tmp_path, log_stream):
    configure_logging("warning", "text", log_stream)
    app = create_app({"INDEX_DIR": str(tmp_path / "none"), "TESTING": True})
    assert app.test_client().get("/search?q=x").status_code == 503
    (line,) = access_lines(log_stream)
    assert line == f"TIME ERROR search_ui: 503: No index at {tmp_path / 'none'}/ — run: vnsearch index --index {tmp_path / 'none'} PATH…"
    assert logging.getLogger("waitress").level == logging.ERROR


def test_configure_logging_again_replaces_its_handler_and_follows_stderr(log_stream, capsys):
    configure_logging("info", "text", log_stream)
    configure_logging("warning", "json")
    logging.getLogger("vnsearch.test").warning("một")
    assert log_stream.getvalue() == ""
    record = json.loads(capsys.readouterr().err)
    assert {k: record[k] for k in ("level", "logger", "message")} == {
        "level": "WARNING", "logger": "vnsearch.test", "message": "một",
    }


def test_health_of_a_good_index(client):
    data = client.get("/health").get_json()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data.pop("last_commit"))
    assert data == {"status": "ok", "articles": 9, "format": FORMAT_VERSION}


def _missing(ix):
    shutil.rmtree(ix)


def _another_format(ix):
    (ix / "vnsearch.json").write_text(json.dumps({"format": FORMAT_VERSION - 1}), "utf-8")


def _unreadable(ix):
    for f in ix.glob("*.toc"):
        f.write_bytes(b"\x00garbage" * 10)


# Whoosh leaves the table-of-contents file it failed to parse open; that is its leak, not the app's.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize(
    "damage, reason",
    [
        (_missing, "No index — run: vnsearch index --index INDEX_DIR PATH…"),
        (_another_format, "The index has another format — run: vnsearch index --rebuild --index INDEX_DIR PATH…"),
        (_unreadable, "The index could not be read — run: vnsearch index --rebuild --index INDEX_DIR PATH…"),
    ],
)
def test_health_of_an_index_that_does_not_open(make_app, ix, damage, reason):
    damage(ix)
    r = make_app().test_client().get("/health")
    assert (r.status_code, r.get_json()) == (503, {"status": "unavailable", "reason": reason})
    assert str(ix) not in r.get_data(as_text=True)


def test_api_stats_is_what_the_cli_prints_less_the_path(client, runner, index_dir):
    printed = json.loads(runner.invoke(main, ["stats", "--json", "--index", str(index_dir)]).output)
    assert printed.pop("index") == str(index_dir)
    assert client.get("/api/stats").get_json() == printed
    assert list(printed) == [
        "articles", "sources", "first_published", "last_published", "size_bytes", "format", "last_commit",
    ]


def test_api_version(client):
    data = client.get("/api/version").get_json()
    assert list(data) == ["vnsearch", "index_format", "whoosh", "pyvi", "python"]
    assert (data["vnsearch"], data["index_format"], data["whoosh"], data["pyvi"]) == ("0.1.0", FORMAT_VERSION, "2.7.5", "0.1.1")


def samples(text: str) -> dict[tuple, float]:
    """Every sample of a Prometheus exposition, parsed by prometheus-client's own parser."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_before_and_after_some_requests(make_app, monkeypatch):
    monkeypatch.setenv("VNSEARCH_API_TOKEN", TOKEN)
    client = make_app().test_client()
    before = samples(client.get("/metrics").get_data(as_text=True))
    assert {k: v for k, v in before.items() if k[0].startswith("vnsearch_index_") and "age" not in k[0]} == {
        ("vnsearch_index_up", ()): 1.0,
        ("vnsearch_index_articles", ()): 9.0,
    }
    assert 0 <= before[("vnsearch_index_last_commit_age_seconds", ())] < 600
    assert not any(k[0] == "vnsearch_http_requests_total" for k in before)

    for path in ("/search?q=giá+vàng", "/api/search?q=xyzzy", "/api/search?q=xyzzy", "/nope"):
        client.get(path)
    article = {"id": "m1", "title": "Bài mới", "body": "Nội dung."}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert post(client, [article], headers).status_code == 201
    assert client.delete("/api/articles/m1", headers=headers).status_code == 200

    after = samples(client.get("/metrics").get_data(as_text=True))
    requests = {k[1]: v for k, v in after.items() if k[0] == "vnsearch_http_requests_total"}
    assert requests == {
        (("route", "/metrics"), ("status", "200")): 1.0,
        (("route", "/search"), ("status", "200")): 1.0,
        (("route", "/api/search"), ("status", "200")): 2.0,
        (("route", "unmatched"), ("status", "404")): 1.0,
        (("route", "/api/articles"), ("status", "201")): 1.0,
        (("route", "/api/articles/<path:article_id>"), ("status", "200")): 1.0,
    }
    assert after[("vnsearch_http_request_duration_seconds_count", (("route", "/api/search"),))] == 2.0
    assert after[("vnsearch_http_request_duration_seconds_bucket", (("le", "+Inf"), ("route", "/api/search")))] == 2.0
    assert after[("vnsearch_searches_total", ())] == 3.0
    assert after[("vnsearch_searches_zero_results_total", ())] == 2.0
    assert after[("vnsearch_ingested_articles_total", (("outcome", "added"),))] == 1.0
    assert after[("vnsearch_ingested_articles_total", (("outcome", "deleted"),))] == 1.0
    assert after[("vnsearch_index_articles", ())] == 9.0


def test_metrics_of_a_missing_index(tmp_path):
    app = create_app({"INDEX_DIR": str(tmp_path / "none"), "TESTING": True})
    found = samples(app.test_client().get("/metrics").get_data(as_text=True))
    assert found[("vnsearch_index_up", ())] == 0.0 and ("vnsearch_index_articles", ()) not in found


# The app is made, then two workers fork and serve (as under a pre-forking server); the parent scrapes.
WORKERS = textwrap.dedent(
    """
    import os, sys
    from search_ui.observe import prepare_multiprocess
    prepare_multiprocess(sys.argv[2])
    from search_ui import create_app
    app = create_app({"INDEX_DIR": sys.argv[1], "TESTING": True})
    children = []
    for n in (3, 2):
        pid = os.fork()
        if pid == 0:
            client = app.test_client()
            for _ in range(n):
                client.get("/api/search?q=giá+vàng")
            os._exit(0)
        children.append(pid)
    for pid in children:
        assert os.waitpid(pid, 0)[1] == 0
    sys.stdout.write(app.test_client().get("/metrics").get_data(as_text=True))
    """
)


def test_metrics_add_up_over_worker_processes(index_dir, tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"")  # a stale file of an earlier run: removed
    out = subprocess.run(
        [sys.executable, "-c", WORKERS, str(index_dir), str(metrics_dir)],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    found = samples(out)
    assert found[("vnsearch_http_requests_total", (("route", "/api/search"), ("status", "200")))] == 5.0
    assert found[("vnsearch_searches_total", ())] == 5.0
    assert found[("vnsearch_http_request_duration_seconds_count", (("route", "/api/search"),))] == 5.0
    assert found[("vnsearch_index_articles", ())] == 9.0
    files = sorted(f.name for f in metrics_dir.glob("counter_*.db"))
    assert "counter_1.db" not in files and len(files) == 3  # the app's process and its two workers


def test_prepare_multiprocess_refuses_to_run_after_the_app_is_made(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with pytest.raises(RuntimeError, match="before the app is made"):
        prepare_multiprocess()


def http_get(port: int, path: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        return conn.getresponse().read().decode()
    finally:
        conn.close()


def test_vnsearch_serve_logs_each_request_as_json_and_follows_its_synonyms_file(ix, tmp_path):
    """Two workers: each reads the changed file again, and /metrics adds up both."""
    synonyms = tmp_path / "synonyms.txt"
    synonyms.write_text("# the newsroom's synonyms\n", "utf-8")
    port = free_port()
    args = ["--index", str(ix), "--port", str(port), "--workers", "2", "--synonyms", str(synonyms),
            "--log-format", "json"]
    proc = subprocess.Popen(vnsearch("serve", *args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: answers(port), "vnsearch serve")
        search = "/api/search?q=kim+lo%E1%BA%A1i+qu%C3%BD&typed=1"  # as typed: no slip correction in a tiny index
        assert request(port, "GET", search)[1]["total"] == 0
        synonyms.write_text("kim loại quý | vàng\n", "utf-8")
        assert request(port, "GET", search)[1]["total"] == 2
        assert request(port, "GET", search)[1]["total"] == 2  # on either worker
        for _ in range(3):
            assert request(port, "GET", "/health")[0] == 200
        metrics = http_get(port, "/metrics")
    finally:
        proc.terminate()
        err = proc.communicate(timeout=60)[1]
    first, *lines = err.splitlines()
    assert first == f"Serving {ix}/ on http://127.0.0.1:{port}/ with 2 workers"  # and nothing from waitress
    assert samples(metrics)[("vnsearch_http_requests_total", (("route", "/health"), ("status", "200")))] == 3.0
    records = [json.loads(line) for line in lines]
    for r in records:
        del r["time"], r["ms"]
    assert records[-7:] == [
        {"method": "GET", "path": "/api/search", "query": "q=kim+lo%E1%BA%A1i+qu%C3%BD&typed=1", "status": 200, "hits": 0},
        {"method": "GET", "path": "/api/search", "query": "q=kim+lo%E1%BA%A1i+qu%C3%BD&typed=1", "status": 200, "hits": 2},
        {"method": "GET", "path": "/api/search", "query": "q=kim+lo%E1%BA%A1i+qu%C3%BD&typed=1", "status": 200, "hits": 2},
        *[{"method": "GET", "path": "/health", "status": 200}] * 3,
        {"method": "GET", "path": "/metrics", "status": 200},
    ]


def test_metrics_in_a_worker_forked_without_multiprocess_mode_say_so(make_app, caplog):
    app = make_app()
    app.extensions["vnsearch_metrics"].pid = -1  # as seen from a forked worker
    assert app.test_client().get("/metrics").status_code == 200
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        "/metrics counts this worker process only: prepare_multiprocess() was not called "
        "before the app was made and its workers forked"
    ]


def test_prepare_multiprocess_makes_a_directory_it_removes_at_exit():
    script = (
        "import os\nfrom search_ui.observe import prepare_multiprocess\n"
        "path = prepare_multiprocess()\n"
        "print(path, os.environ['PROMETHEUS_MULTIPROC_DIR'] == str(path) and path.is_dir())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, check=True)
    path, ok = out.stdout.split()
    assert ok == "True" and "vnsearch-metrics-" in path and not os.path.exists(path)
