"""Latency of the search page over HTTP: `vnsearch serve` on an index of news-eval-20k.

    python -m bench.http_search [--reuse] [--index DIR] [--data FILE] [--path /search|/api/search] [--workers N]
"""

from __future__ import annotations

import argparse
import http.client
import random
import re
import statistics
import subprocess
import time
import urllib.parse
from pathlib import Path

from bench.common import (
    EVAL_20K, OUT, cpu_seconds, free_port, log, machine_line, percentile, process_tree, rss_mb, start_server, vnsearch,
)
from indexer.articles import Article, read_file
from indexer.text import fold

DEFAULT_INDEX = OUT / "http-eval-20k"
WORD = re.compile(r"\w+")  # a syllable as typed: letters and digits, no punctuation


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


MEMORY = {"VmHWM": "peak RSS", "VmRSS": "RSS"}
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


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU time of a process and its children (the workers of `serve --workers N`)."""
    times = [cpu_seconds(p) for p in process_tree(pid)]
    return None if times[0] is None else sum(t for t in times if t is not None)


def tree_rss_mb(pid: int) -> dict[str, float]:
    """``rss_mb`` summed over a process and its children."""
    total: dict[str, float] = {}
    for p in process_tree(pid):
        for k, v in rss_mb(p).items():
            total[k] = total.get(k, 0.0) + v
    return total


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.http_search", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=EVAL_20K, help="corpus (default: ../shared/data/news-eval-20k.jsonl.gz)")
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX, help="index directory (default: bench/out/http-eval-20k)")
    parser.add_argument("--reuse", action="store_true", help="reuse the index in --index instead of rebuilding it")
    parser.add_argument("--queries", type=int, default=300, help="measured queries (default 300)")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up queries, not measured (default 20)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--threads", type=int, default=4, help="server threads (default 4, as vnsearch serve)")
    parser.add_argument("--path", default="/search", help="page to query: /search (HTML) or /api/search")
    parser.add_argument("--workers", type=int, default=1,
                        help="server worker processes (default 1; memory and CPU are then summed over all of them)")
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
    server = start_server(args.index, port, args.threads, workers=args.workers)
    try:
        ready = time.perf_counter() - launched
        run(port, args.path, warmup[:1])
        first = time.perf_counter() - launched
        run(port, args.path, warmup[1:])
        cpu_before = tree_cpu_seconds(server.pid)
        latencies, took, totals, errors = run(port, args.path, measured)
        cpu_after = tree_cpu_seconds(server.pid)
        memory = tree_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)

    print(f"machine at end: {machine_line()}")
    print(f"server: vnsearch serve --workers {args.workers} --threads {args.threads} on 127.0.0.1, index {args.index}; GET {args.path}?q=…, sequential, one keep-alive connection")
    print(f"start: the home page answered {ready:.2f} s after the server process was started, "
          f"the first search {first:.2f} s after it")
    print(("server memory MB: " if args.workers == 1 else "server memory MB, summed over its processes: ") + ", ".join(f"{MEMORY[k]} {v:.0f}" for k, v in memory.items()))
    print(f"count {len(latencies)}, errors {len(errors)}")
    if latencies:
        print(
            f"latency ms: median {statistics.median(latencies):.1f}, p95 {percentile(latencies, 0.95):.1f}, "
            f"max {max(latencies):.1f}, mean {statistics.fmean(latencies):.1f}"
        )
    if cpu_before is not None and cpu_after is not None and latencies:
        print(f"server CPU time: {(cpu_after - cpu_before) * 1000 / len(measured):.0f} ms per query (mean)")
    if took:
        print(f"search time reported on the page (took_ms): median {statistics.median(took):.0f}, p95 {percentile(took, 0.95):.0f}")
    if totals:
        print(f"results per query: median {statistics.median(totals):.0f}, zero for {sum(1 for t in totals if not t)}")
    for e in errors[:10]:
        print("error:", e)


if __name__ == "__main__":
    main()
