"""Latency of the search page over HTTP: `vnsearch serve` on an index of news-eval-20k.

Builds the index once (or reuses it with --reuse), starts the real server on a free
loopback port, sends realistic queries one after another to /search (the HTML page,
snippets and facets included) after a warm-up, and prints median, p95 and max latency.
Not a test: see bench/README.md, "HTTP search".
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from indexer.articles import Article, read_file  # noqa: E402 - the repo must be importable first
from indexer.text import fold  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "news-eval-20k.jsonl.gz"
DEFAULT_INDEX = REPO / "bench" / "out" / "http-eval-20k"
SERVER_LOG = REPO / "bench" / "out" / "serve.log"  # bench/out/<index name>.serve.log: the server's log
WORD = re.compile(r"\w+")  # a syllable as typed: letters and digits, no punctuation


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def vnsearch() -> list[str]:
    script = Path(sys.executable).with_name("vnsearch")
    return [str(script)] if script.is_file() else [sys.executable, "-c", "from indexer.cli import main; main()"]


def build_index(data: Path, index: Path) -> None:
    log(f"indexing {data} into {index}/ (several minutes for 20k articles)…")
    started = time.perf_counter()
    subprocess.run([*vnsearch(), "index", "--rebuild", "--index", str(index), str(data)], check=True)
    log(f"indexed in {time.perf_counter() - started:.0f} s")


def make_queries(data: Path, count: int, seed: int) -> list[str]:
    """``count`` queries: 2–4 consecutive words of a random title, every other one without diacritics."""
    titles = [a.title for a in read_file(data, data) if isinstance(a, Article) and a.title]
    rng = random.Random(seed)
    queries: list[str] = []
    seen: set[str] = set()
    while len(queries) < count:
        words = WORD.findall(rng.choice(titles))
        n = rng.randint(2, 4)
        if len(words) < n:
            continue
        start = rng.randrange(len(words) - n + 1)
        q = " ".join(words[start : start + n]).lower()
        if len(queries) % 2:
            q = fold(q)
        if q not in seen:
            seen.add(q)
            queries.append(q)
    return queries


def machine_line() -> str:
    """Commit measured (dirty when indexer/ or search_ui/ has uncommitted changes) and load average."""
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True).stdout.strip()

    dirty = git("status", "--porcelain", "--", "indexer", "search_ui")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"commit {git('rev-parse', '--short', 'HEAD')}{' +dirty' if dirty else ''}, {os.cpu_count()} CPUs, load {load}"


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), to see past other load on the machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> dict[str, float]:
    """The process's resident memory now (VmRSS) and at its peak (VmHWM), from /proc."""
    found = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[{"VmRSS": "RSS", "VmHWM": "peak RSS"}[key]] = int(value.split()[0]) / 1024
    except OSError:
        pass
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index: Path, port: int, threads: int) -> subprocess.Popen:
    cmd = [*vnsearch(), "serve", "--index", str(index), "--host", "127.0.0.1", "--port", str(port)]
    log_path = SERVER_LOG.with_name(f"{index.name}.serve.log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as server_log:  # the child keeps its own copy of the file
        proc = subprocess.Popen([*cmd, "--threads", str(threads)], stdout=subprocess.DEVNULL, stderr=server_log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"vnsearch serve exited: {log_path.read_text(errors='replace')}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/")
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return proc
            proc.terminate()
            raise SystemExit(f"vnsearch serve answers / with HTTP {status}: is the index of another format? drop --reuse")
        except OSError:
            pass
        time.sleep(0.02)  # polling for readiness, bounded by the deadline (the start figures are as fine)
    proc.terminate()
    raise SystemExit("vnsearch serve did not answer within 60 s")


TOOK = re.compile(r'<span class="took">(\d+) ms</span>')
TOTAL = re.compile(r"<strong>([\d.]+)</strong> kết quả")


def run(port: int, path: str, queries: list[str]) -> tuple[list[float], list[float], list[int], list[str]]:
    """Send the queries one after another on one keep-alive connection: latencies, server times, totals, errors."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, took, totals, errors = [], [], [], []
    for q in queries:
        url = f"{path}?{urllib.parse.urlencode({'q': q})}"
        started = time.perf_counter()
        try:
            conn.request("GET", url)
            r = conn.getresponse()
            body = r.read().decode("utf-8")
        except (OSError, http.client.HTTPException) as e:
            errors.append(f"{q!r}: {e}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        if r.status != 200:
            errors.append(f"{q!r}: HTTP {r.status}")
            continue
        if m := TOOK.search(body):
            took.append(float(m.group(1)))
        if m := TOTAL.search(body):
            totals.append(int(m.group(1).replace(".", "")))
    conn.close()
    return latencies, took, totals, errors


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="corpus (default: ../shared/data/news-eval-20k.jsonl.gz)")
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX, help="index directory (default: bench/out/http-eval-20k)")
    parser.add_argument("--reuse", action="store_true", help="reuse the index in --index instead of rebuilding it")
    parser.add_argument("--queries", type=int, default=300, help="measured queries (default 300)")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up queries, not measured (default 20)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--threads", type=int, default=4, help="server threads (default 4, as vnsearch serve)")
    parser.add_argument("--path", default="/search", help="page to query: /search (HTML) or /api/search")
    args = parser.parse_args()

    if not args.reuse or not (args.index / "vnsearch.json").exists():
        build_index(args.data, args.index)
    queries = make_queries(args.data, args.warmup + args.queries, args.seed)
    warmup, measured = queries[: args.warmup], queries[args.warmup :]
    print(
        f"queries: {len(measured)} measured + {len(warmup)} warm-up, seed {args.seed}: 2-4 consecutive words "
        f"(\\w+ runs, lowercased) of the title of a random article of {args.data.name}; every other query "
        f"folded to no diacritics (indexer.text.fold); duplicates dropped"
    )
    print("examples: " + " | ".join(measured[:6]))

    print(f"machine at start: {machine_line()}")
    port = free_port()
    launched = time.perf_counter()
    server = start_server(args.index, port, args.threads)
    try:
        ready = time.perf_counter() - launched
        run(port, args.path, warmup[:1])
        first = time.perf_counter() - launched
        run(port, args.path, warmup[1:])
        cpu_before = cpu_seconds(server.pid)
        latencies, took, totals, errors = run(port, args.path, measured)
        cpu_after = cpu_seconds(server.pid)
        memory = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)

    print(f"machine at end: {machine_line()}")
    print(f"server: vnsearch serve --threads {args.threads} on 127.0.0.1, index {args.index}; GET {args.path}?q=…, sequential, one keep-alive connection")
    print(f"start: the home page answered {ready:.2f} s after the server process was started, "
          f"the first search {first:.2f} s after it")
    print("server memory MB: " + ", ".join(f"{k} {v:.0f}" for k, v in memory.items()))
    print(f"count {len(latencies)}, errors {len(errors)}")
    if latencies:
        print(
            f"latency ms: median {statistics.median(latencies):.1f}, p95 {percentile(latencies, 95):.1f}, "
            f"max {max(latencies):.1f}, mean {statistics.fmean(latencies):.1f}"
        )
    if cpu_before is not None and cpu_after is not None and latencies:
        print(f"server CPU time: {(cpu_after - cpu_before) * 1000 / len(measured):.0f} ms per query (mean)")
    if took:
        print(f"search time reported on the page (took_ms): median {statistics.median(took):.0f}, p95 {percentile(took, 95):.0f}")
    if totals:
        print(f"results per query: median {statistics.median(totals):.0f}, zero for {sum(1 for t in totals if not t)}")
    for e in errors[:10]:
        print("error:", e)


if __name__ == "__main__":
    main()
