"""Load on `vnsearch serve` with 1 and with 2 workers in one run: 10 then 50 concurrent clients for
60 s each, then 50 while the index is re-indexed, and a table of requests/s and latency.

    python -m bench.load [--workers 1,2] [--clients 10,50] [--threads 4] [--duration 60] [--reindex 5000] [--skip-reindex]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from bench.common import (
    EVAL_20K, OUT, free_port, index_format, log, machine_line, process_tree, rss_mb, start_server, vnsearch,
)
from bench.http_search import make_queries
from indexer.articles import Article, read_file
from indexer.store import FORMAT_VERSION

BASE_INDEX = OUT / "load-eval-20k-base"
SERVED_INDEX = OUT / "load-eval-20k"
MARKER = "bản tin cập nhật kiểm thử tải"  # appended to each re-indexed article, searched for afterwards

# Rotates through the request paths (one a line, in VNSEARCH_LOAD_PATHS), each wrk thread from its
# own offset; counts non-2xx answers (wrk's own error count has only 4xx/5xx) and prints one JSON
# line of results at the end. Latencies are in microseconds.
LUA = r"""
local paths = {}
for line in io.lines(os.getenv("VNSEARCH_LOAD_PATHS")) do paths[#paths + 1] = line end
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  i = (id * 7919) % #paths
  non2xx = 0
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end

function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end

function done(summary, latency, requests)
  local non2xx = 0
  for _, t in ipairs(threads) do non2xx = non2xx + t:get("non2xx") end
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "non2xx": %d, "p50": %d, "p90": %d, "p95": %d, "p99": %d, ' ..
    '"max": %d, "mean": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    non2xx, latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
"""


def ensure_base_index(data: Path, index: Path) -> None:
    if index_format(index) == FORMAT_VERSION:
        log(f"reusing {index}/ (format {FORMAT_VERSION})")
        return
    log(f"indexing {data} into {index}/ (about half an hour on 2 loaded cores)…")
    started = time.perf_counter()
    subprocess.run([*vnsearch(), "index", "--rebuild", "--index", str(index), str(data)], check=True)
    log(f"indexed in {time.perf_counter() - started:.0f} s")


def write_reindex_set(data: Path, n: int, seed: int, path: Path) -> None:
    """``n`` articles of the corpus, each with one sentence added: changed, so all are re-analyzed."""
    articles = [a for a in read_file(data, data) if isinstance(a, Article)]
    chosen = random.Random(seed).sample(articles, n)
    with path.open("w", encoding="utf-8") as f:
        for a in chosen:
            row = {
                "id": a.id, "title": a.title, "sapo": a.sapo, "body": f"{a.body}\n\n{MARKER.capitalize()}.",
                "published": a.published.isoformat() if a.published else None,
                "url": a.url, "source": a.source, "category": a.category, "author": a.author,
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


class RssSampler(threading.Thread):
    """Samples the VmRSS of a process and its children, summed, every ``interval`` seconds."""

    def __init__(self, pid: int, interval: float = 0.25):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[float] = []  # MB
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            rss = [rss_mb(p).get("VmRSS") for p in process_tree(self.pid)]
            if rss[0] is None:
                return
            self.samples.append(sum(r for r in rss if r is not None))

    def mb(self) -> tuple[float, float, float]:
        """At the first sample, the last and the largest."""
        s = self.samples or [0.0]
        return s[0], s[-1], max(s)


def wrk(port: int, paths_file: Path, script: Path, clients: int, threads: int, duration: int, timeout: int,
        until: threading.Event | None = None, min_seconds: float = 0) -> tuple[dict, float]:
    """Run wrk; with ``until``, run until it is set and ``min_seconds`` have passed, then stop wrk with SIGINT."""
    cmd = ["wrk", f"-t{threads}", f"-c{clients}", f"-d{duration}s", "--timeout", f"{timeout}s", "-s", str(script),
           f"http://127.0.0.1:{port}"]
    env = {**os.environ, "VNSEARCH_LOAD_PATHS": str(paths_file)}
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if until is not None:
        while not (until.is_set() and time.monotonic() - started >= min_seconds):
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # wrk stops and prints its results
    out, err = proc.communicate(timeout=duration + 60)
    elapsed = time.monotonic() - started
    for line in out.splitlines():
        if line.startswith("WRK "):
            return json.loads(line[4:]), elapsed
    raise SystemExit(f"wrk gave no results (exit {proc.returncode}): {err or out}")


def report(name: str, r: dict, rss: tuple[float, float, float]) -> dict:
    """Print one phase's figures; return its row of the summary table."""
    log(f"wrk: {json.dumps(r)}")
    seconds = r["duration_us"] / 1e6
    socket_errors = r["connect"] + r["read"] + r["write"] + r["timeout"]
    print(f"{name}:")
    print(f"  requests {r['requests']} in {seconds:.1f} s = {r['requests'] / seconds:.1f} req/s, "
          f"{r['bytes'] / seconds / 1e6:.2f} MB/s")
    print(f"  latency ms: p50 {r['p50'] / 1000:.0f}, p90 {r['p90'] / 1000:.0f}, p95 {r['p95'] / 1000:.0f}, "
          f"p99 {r['p99'] / 1000:.0f}, max {r['max'] / 1000:.0f}, mean {r['mean'] / 1000:.0f}")
    print(f"  errors: {r['non2xx']} non-2xx, {socket_errors} socket errors "
          f"(connect {r['connect']}, read {r['read']}, write {r['write']}, timeout {r['timeout']})")
    print(f"  server RSS MB (all its processes): {rss[0]:.0f} at start, {rss[1]:.0f} at end, {rss[2]:.0f} max",
          flush=True)
    return {"rps": r["requests"] / seconds, "p50": r["p50"] / 1000, "p95": r["p95"] / 1000, "p99": r["p99"] / 1000,
            "errors": r["non2xx"] + socket_errors, "rss": rss[2]}


def summary(rows: list[tuple[int, str, dict]]) -> None:
    print("\nsummary:")
    print(f"  {'workers':>7}  {'phase':<24} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6} {'RSS MB':>7}")
    for workers, phase, row in rows:
        print(f"  {workers:>7}  {phase:<24} {row['rps']:>7.1f} {row['p50']:>7.0f} {row['p95']:>7.0f} {row['p99']:>7.0f} "
              f"{row['errors']:>6} {row['rss']:>7.0f}")


def api_total(port: int, q: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("GET", "/api/search?" + urllib.parse.urlencode({"q": f'"{q}"', "limit": 1}))
    total = json.loads(conn.getresponse().read())["total"]
    conn.close()
    return total


def counts(text: str) -> list[int]:
    """A comma-separated list of positive integers ("1,2")."""
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"not a list of positive numbers: {text!r}")
    return values


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=EVAL_20K, help="corpus (default: ../shared/data/news-eval-20k.jsonl.gz)")
    parser.add_argument("--base-index", type=Path, default=BASE_INDEX, help="index of --data, built if missing or outdated")
    parser.add_argument("--index", type=Path, default=SERVED_INDEX, help="the served copy (replaced for each worker count)")
    parser.add_argument("--workers", type=counts, default=[1, 2], help="worker processes of vnsearch serve, one run each (default 1,2)")
    parser.add_argument("--threads", type=int, default=4, help="waitress threads per worker (default 4)")
    parser.add_argument("--clients", type=counts, default=[10, 50], help="concurrent connections, one phase each (default 10,50)")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load per phase (default 60)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--timeout", type=int, default=60,
                        help="seconds before wrk gives up on a request and counts a socket error (default 60)")
    parser.add_argument("--reindex", type=int, default=5000, help="articles re-indexed in the last phase (default 5000)")
    parser.add_argument("--index-workers", type=int, default=None, help="--workers of vnsearch index (default: its own)")
    parser.add_argument("--queries", type=int, default=2000, help="distinct queries rotated through (default 2000)")
    parser.add_argument("--path", default="/search", help="route: /search (HTML page) or /api/search")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--skip-reindex", action="store_true", help="no re-indexing phase")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    ensure_base_index(args.data, args.base_index)
    queries = make_queries(args.data, args.queries, args.seed)
    with tempfile.TemporaryDirectory(prefix="vnsearch-load-") as tmp:
        tmp = Path(tmp)
        paths_file, script = tmp / "paths.txt", tmp / "rotate.lua"
        paths_file.write_text("".join(f"{args.path}?{urllib.parse.urlencode({'q': q})}\n" for q in queries), "utf-8")
        script.write_text(LUA, "utf-8")
        reindex_file = tmp / "reindex.jsonl"
        if not args.skip_reindex:
            write_reindex_set(args.data, args.reindex, args.seed, reindex_file)
        print(f"queries: {len(queries)} distinct, rotated (2-4 words of random titles, every other one "
              f"without diacritics; bench/http_search.py), GET {args.path}?q=…")
        print(f"load: wrk -t{args.wrk_threads} -c{{{','.join(map(str, args.clients))}}} -d{args.duration}s "
              f"--timeout {args.timeout}s, loopback")
        print(f"machine at start: {machine_line()}")
        rows: list[tuple[int, str, dict]] = []
        for workers in args.workers:
            rows += run_workers(args, workers, paths_file, script, reindex_file)
        print(f"machine at end: {machine_line()}")
        summary(rows)


def run_workers(args, workers: int, paths_file: Path, script: Path, reindex_file: Path) -> list[tuple[int, str, dict]]:
    """Every phase against `vnsearch serve --workers N` over a fresh copy of the base index."""
    if args.index.exists():
        shutil.rmtree(args.index)
    shutil.copytree(args.base_index, args.index)
    port = free_port()
    server = start_server(args.index, port, args.threads, workers=workers)
    print(f"\nserver: vnsearch serve --workers {workers} --threads {args.threads}, index {args.index}/ "
          f"(a copy of {args.base_index}/)", flush=True)
    rows = []
    clients = max(args.clients)
    name = f"{workers} worker{'s' if workers > 1 else ''}"
    try:
        # Warm up: every worker's pool stores opened, the vocabulary loaded, the OS caches filled.
        wrk(port, paths_file, script, clients, args.wrk_threads, 5, args.timeout)
        for c in args.clients:
            sampler = RssSampler(server.pid)
            sampler.start()
            result, _ = wrk(port, paths_file, script, c, args.wrk_threads, args.duration, args.timeout)
            sampler.stop.set()
            sampler.join()
            rows.append((workers, f"search, {c} clients", report(f"{name}, search only, {c} clients", result, sampler.mb())))
            print(f"machine: {machine_line()}")
        if not args.skip_reindex:
            rows.append((workers, f"re-indexing, {clients} clients",
                         reindex_phase(args, port, server, paths_file, script, reindex_file, name, clients)))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return rows


def reindex_phase(args, port: int, server, paths_file: Path, script: Path, reindex_file: Path, name: str,
                  clients: int) -> dict:
    """Search under load while `vnsearch index` re-indexes --reindex articles: the phase's row."""
    before = api_total(port, MARKER)
    sampler = RssSampler(server.pid)
    sampler.start()
    indexed = threading.Event()
    outcome: dict = {}

    def reindex() -> None:
        time.sleep(2)  # the load is running
        cmd = [*vnsearch(), "index", "--index", str(args.index), str(reindex_file)]
        if args.index_workers:
            cmd += ["--workers", str(args.index_workers)]
        started = time.monotonic()
        p = subprocess.run(cmd, capture_output=True, text=True)
        outcome.update(seconds=time.monotonic() - started, rc=p.returncode, out=p.stdout.strip(), err=p.stderr.strip())
        indexed.set()

    indexer = threading.Thread(target=reindex)
    indexer.start()
    # At least --duration seconds, and until the re-indexing has finished.
    result, elapsed = wrk(port, paths_file, script, clients, args.wrk_threads, 3600, args.timeout,
                          until=indexed, min_seconds=args.duration)
    indexer.join()
    sampler.stop.set()
    sampler.join()
    row = report(f"{name}, search while re-indexing {args.reindex} articles, {clients} clients",
                 result, sampler.mb())
    print(f"  vnsearch index: {outcome['out'] or outcome['err']} (exit {outcome['rc']}) in "
          f"{outcome['seconds']:.0f} s, started 2 s into {elapsed:.0f} s of load", flush=True)
    after = api_total(port, MARKER)  # once the requests wrk left queued are answered
    print(f"  served index before/after: {before}/{after} articles carry the re-indexed sentence")
    return row


if __name__ == "__main__":
    main()
