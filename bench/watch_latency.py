"""From a file landing in a watched folder to the article in /api/search, on news-eval-20k.

    python -m bench.watch_latency [--fresh] [--articles 50] [--every 1] [--batch N] [--via files|api]
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

from bench.common import (
    DATA, EVAL_20K, OUT, cpu_seconds, free_port, log, machine_line, percentile, start_server, vnsearch,
)
from bench.http_search import make_queries
from indexer.errors import VnsearchError
from indexer.store import ArticleStore


def usable(index: Path) -> bool:
    """An index of this vnsearch's format that no process is writing."""
    try:
        with ArticleStore.open(index) as store:
            return store.lock_holder() is None
    except VnsearchError:
        return False


def prepare_index(bases: list[Path], index: Path, data: Path, fresh: bool) -> None:
    """A copy of a 20k index to write into (never another bench's own), or one built from ``data``."""
    if usable(index) and not fresh:
        return
    if index.exists():
        shutil.rmtree(index)
    for base in bases:
        if usable(base):
            log(f"copying {base}/ to {index}/ …")
            shutil.copytree(base, index, ignore=shutil.ignore_patterns("MAIN_WRITELOCK", "writelock.json"))
            return
    log(f"no usable index among {', '.join(map(str, bases))}: indexing {data} into {index}/ (several minutes)…")
    subprocess.run([*vnsearch(), "index", "--rebuild", "--index", str(index), str(data)], check=True)


def pick_articles(source: Path, index: Path, count: int, tag: str) -> list[dict]:
    """``count`` articles of ``source`` the index does not hold, each with a marker word for this run."""
    with gzip.open(source, "rt", encoding="utf-8") as f:
        candidates = [json.loads(line) for _, line in zip(range(count * 4), f)]
    with ArticleStore.open(index) as store:
        held = store.fingerprints([c["id"] for c in candidates])
    picked = [c for c in candidates if c["id"] not in held][:count]
    if len(picked) < count:
        raise SystemExit(f"only {len(picked)} articles of {source.name} are not in the index")
    for k, a in enumerate(picked):
        a["id"] = f"{a['id']}#{tag}"
        a["body"] += f"\nMã tin thử: {tag} {tag}n{k}"  # the shared marker finds every article of the run
    return picked


def get(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    conn.request("GET", path)
    r = conn.getresponse()
    return r.status, r.read()


class Client(threading.Thread):
    """Sends the queries one after another (with ``pause`` between) until stopped; records latencies."""

    def __init__(self, port: int, queries: list[str], pause: float):
        super().__init__(daemon=True)
        self.port, self.queries, self.pause = port, queries, pause
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        i = 0
        while not self.stop.is_set():
            q = self.queries[i % len(self.queries)]
            i += 1
            started = time.perf_counter()
            try:
                status, _ = get(conn, "/api/search?" + urllib.parse.urlencode({"q": q}))
            except (OSError, http.client.HTTPException) as e:
                self.errors.append(f"{q!r}: {e}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                continue
            self.latencies.append((time.perf_counter() - started) * 1000)
            if status != 200:
                self.errors.append(f"{q!r}: HTTP {status}")
            self.stop.wait(self.pause)
        conn.close()


def present(conn: http.client.HTTPConnection, marker: str) -> set[str]:
    status, body = get(conn, "/api/search?" + urllib.parse.urlencode({"q": marker, "limit": 100}))
    if status != 200:
        raise RuntimeError(f"/api/search answered {status}: {body[:200]!r}")
    return {h["id"] for h in json.loads(body)["hits"]}


def post_articles(conn: http.client.HTTPConnection, token: str, articles: list[dict]) -> None:
    """POST /api/articles; returns once the server has committed them."""
    body = json.dumps(articles, ensure_ascii=False).encode("utf-8")
    conn.request("POST", "/api/articles", body=body,
                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    r = conn.getresponse()
    answer = r.read()
    if r.status not in (200, 201):
        raise RuntimeError(f"POST /api/articles answered {r.status}: {answer[:300]!r}")


def summary(values: list[float], unit: str = "ms") -> str:
    if not values:
        return "no values"
    return (
        f"median {statistics.median(values):.0f} {unit}, p95 {percentile(values, 0.95):.0f}, "
        f"max {max(values):.0f}, min {min(values):.0f} (n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.watch_latency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=EVAL_20K)
    parser.add_argument("--source", type=Path, default=DATA / "news-dantri-unc.jsonl.gz", help="where the arriving articles come from")
    parser.add_argument("--base-index", type=Path, action="append",
                        help="index of --data to copy (default: the first usable of bench/out/load-eval-20k-base, "
                        "http-eval-20k, idx-20k-vnsearch, which bench/load.py, http_search.py and speed.py build)")
    parser.add_argument("--index", type=Path, default=OUT / "watch-eval-20k", help="the copy written to")
    parser.add_argument("--fresh", action="store_true", help="copy (or build) the index again")
    parser.add_argument("--articles", type=int, default=50)
    parser.add_argument("--every", type=float, default=1.0, help="seconds between arrivals")
    parser.add_argument("--batch", type=int, default=1, help="articles that land together at each arrival (default 1)")
    parser.add_argument("--via", choices=("files", "api"), default="files",
                        help="files in a folder `vnsearch watch` watches (default), or POST /api/articles")
    parser.add_argument("--interval", type=float, default=0.5, help="vnsearch watch --interval (default 0.5, as vnsearch watch)")
    parser.add_argument("--poll", type=float, default=0.1, help="seconds between looks for the new articles")
    parser.add_argument("--pause", type=float, default=0.2, help="client think time between its queries")
    parser.add_argument("--baseline", type=int, default=60, help="client queries before any file arrives")
    parser.add_argument("--threads", type=int, default=4, help="vnsearch serve --threads")
    args = parser.parse_args()
    if args.batch < 1 or args.articles % args.batch:
        parser.error(f"--articles ({args.articles}) must be a multiple of --batch ({args.batch})")
    arrivals = args.articles // args.batch

    bases = args.base_index or [OUT / "load-eval-20k-base", OUT / "http-eval-20k", OUT / "idx-20k-vnsearch"]
    prepare_index(bases, args.index, args.data, args.fresh)
    tag = f"wlb{int(time.time()) % 10**8:08d}"
    articles = pick_articles(args.source, args.index, args.articles + 1, tag)
    warmup, articles = articles[0], articles[1:]
    queries = make_queries(args.data, 400, 2024)
    inbox = OUT / "watch-inbox"
    if inbox.exists():
        shutil.rmtree(inbox)
    inbox.mkdir()

    print(f"machine at start: {machine_line()}")
    port = free_port()
    token = os.environ.setdefault("VNSEARCH_API_TOKEN", f"bench-{tag}")  # the server inherits it
    server = start_server(args.index, port, args.threads)
    watch_log = open(OUT / "watch-latency.watch.log", "w", encoding="utf-8")
    watcher = None
    try:
        # Quiet phase: the client alone (after a warm-up).
        client = Client(port, queries[:20], 0)
        client.start()
        while len(client.latencies) < 20 and client.is_alive():
            time.sleep(0.05)
        client.stop.set()
        client.join()
        quiet = Client(port, queries[20:], args.pause)
        quiet.start()
        while len(quiet.latencies) < args.baseline and quiet.is_alive():
            time.sleep(0.05)
        quiet.stop.set()
        quiet.join()

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        if args.via == "files":
            watcher = subprocess.Popen(
                [*vnsearch(), "watch", str(inbox), "--index", str(args.index), "--interval", str(args.interval)],
                stdout=watch_log, stderr=subprocess.STDOUT,
            )
            (inbox / "warmup.json").write_text(json.dumps(warmup, ensure_ascii=False), "utf-8")
        else:
            post_articles(conn, token, [warmup])  # pyvi loaded in the server
        deadline = time.monotonic() + 300
        while warmup["id"] not in present(conn, tag):  # the watcher is up, pyvi loaded
            if time.monotonic() > deadline or (watcher is not None and watcher.poll() is not None):
                raise SystemExit("the warm-up article never showed up: see bench/out/watch-latency.watch.log")
            time.sleep(args.poll)

        busy = Client(port, queries[20 + args.baseline :], args.pause)
        cpu_before = cpu_seconds(server.pid), cpu_seconds(watcher.pid) if watcher else 0.0
        posted: list[float] = []
        busy.start()
        landed: dict[str, float] = {}
        seen: dict[str, float] = {}
        start = time.monotonic()
        pending = {a["id"] for a in articles}
        next_k = 0
        deadline = start + args.every * arrivals + 120
        while pending and time.monotonic() < deadline:
            now = time.monotonic()
            while next_k < len(articles) and now >= start + (next_k // args.batch) * args.every:
                if args.via == "api":
                    group = articles[next_k : next_k + args.batch]
                    sent = time.monotonic()
                    post_articles(conn, token, group)
                    posted.append((time.monotonic() - sent) * 1000)
                    landed.update((a["id"], sent) for a in group)
                    next_k += len(group)
                    continue
                a = articles[next_k]
                (inbox / f"a{next_k:03d}.json").write_text(json.dumps(a, ensure_ascii=False), "utf-8")
                landed[a["id"]] = time.monotonic()
                next_k += 1
            if landed:
                found = present(conn, tag)
                t = time.monotonic()
                for i in pending & found & landed.keys():
                    seen[i] = t
                pending -= found
            time.sleep(args.poll)
        busy.stop.set()
        busy.join()
        cpu_after = cpu_seconds(server.pid), cpu_seconds(watcher.pid) if watcher else 0.0
        conn.close()
    finally:
        if watcher is not None:
            watcher.send_signal(signal.SIGTERM)
            watcher.wait(timeout=120)
        watch_log.close()
        server.terminate()
        server.wait(timeout=30)

    delays = [(seen[i] - landed[i]) * 1000 for i in seen]
    groups = [articles[k : k + args.batch] for k in range(0, len(articles), args.batch)]
    whole = [  # from a batch's first file landing to its last article found
        (max(seen[a["id"]] for a in g) - landed[g[0]["id"]]) * 1000
        for g in groups if all(a["id"] in seen for a in g)
    ]
    batches = [ln for ln in (OUT / "watch-latency.watch.log").read_text("utf-8").splitlines() if " added " in ln]
    if args.via == "files":
        what, writer = "file landed", f"vnsearch watch --interval {args.interval:g}"
        arrival = f"{args.batch} files" if args.batch > 1 else "one file"
        arrival += f" every {args.every:g} s (written in place, .json)"
    else:
        what, writer = "POST sent", "POST /api/articles"
        arrival = f"{args.batch} articles in one POST every {args.every:g} s"
    print(f"machine at end: {machine_line()}")
    print(f"index: {args.index} ({args.data.name}); vnsearch serve --threads {args.threads}; {writer}")
    print(
        f"arrivals: {len(articles)} articles of {args.source.name} not in the index, {arrival}; "
        f"looked for every {args.poll:g} s with /api/search?q=<run marker>"
    )
    print(f"{what} → found by /api/search: {summary(delays)}; never found: {len(pending)}")
    if args.batch > 1:
        print(f"batch of {args.batch}, first {what} → all found: {summary(whole)}; "
              f"batches never found whole: {len(groups) - len(whole)}")
    if args.via == "files":
        print(f"watcher: {len(batches)} batches (commits) for {len(articles) + 1} files")
    else:
        print(f"POST /api/articles answered (committed): {summary(posted)}")
    print(
        f"client /api/search latency (sequential, {args.pause:g} s think time, {len(queries)} title-fragment queries): "
        f"quiet {summary(quiet.latencies)}; while articles arrive {summary(busy.latencies)}; "
        f"errors {len(quiet.errors) + len(busy.errors)}"
    )
    if None not in cpu_before + cpu_after:
        span = arrivals * args.every
        cpu = f"CPU while articles arrive: server {(cpu_after[0] - cpu_before[0]) / span * 100:.0f}% of a core"
        if watcher is not None:
            cpu += f", watcher {(cpu_after[1] - cpu_before[1]) / span * 100:.0f}%"
        print(cpu)
    for e in (quiet.errors + busy.errors)[:5]:
        print(f"  error: {e}")


if __name__ == "__main__":
    main()
