"""How soon `vnsearch serve` answers its first search, from the moment the process starts.

    python -m bench.startup INDEX [CHECKOUT ...] [--rounds N] [--query Q]
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from bench.common import REPO, free_port, rss_mb

POLL = 0.01  # seconds between tries: the granularity of the figure


def first_search(checkout: Path, index: Path, query: str) -> tuple[float, float | None]:
    """Seconds from starting the server to its first 200 answer to the search, and its peak RSS then."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(checkout))
    cmd = [sys.executable, "-c", "from indexer.cli import main; main()", "serve", "--index", str(index),
           "--host", "127.0.0.1", "--port", str(port)]
    url = f"/search?{urllib.parse.urlencode({'q': query})}"
    started = time.perf_counter()
    # In the checkout: `python -c` puts the current directory first on sys.path.
    proc = subprocess.Popen(cmd, cwd=checkout, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while time.perf_counter() - started < 60:
            if proc.poll() is not None:
                raise SystemExit(f"vnsearch serve ({checkout}) exited: {proc.stderr.read().decode(errors='replace')}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", url)
                response = conn.getresponse()
                response.read()
                conn.close()
            except OSError:
                time.sleep(POLL)
                continue
            if response.status != 200:
                raise SystemExit(f"vnsearch serve ({checkout}) answered {url} with HTTP {response.status}")
            return time.perf_counter() - started, rss_mb(proc.pid).get("VmHWM")
        raise SystemExit(f"vnsearch serve ({checkout}) did not answer within 60 s")
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.splitlines()[0])
    parser.add_argument("index", type=lambda p: Path(p).resolve())
    parser.add_argument("checkouts", type=Path, nargs="*", help="checkouts to compare (default: this one)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--query", default="giá xăng dầu tăng", help="the first search (default: %(default)s)")
    args = parser.parse_args()
    checkouts = [c.resolve() for c in args.checkouts] or [REPO]
    names = [c.name for c in checkouts]
    if len(set(names)) < len(names):
        names = [str(c) for c in checkouts]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"index {args.index}, first search {args.query!r}, {args.rounds} rounds, load {load}")
    seconds: dict[str, list[float]] = {n: [] for n in names}
    peaks: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(args.rounds):
        for name, checkout in zip(names, checkouts):
            took, peak = first_search(checkout, args.index, args.query)
            seconds[name].append(took)
            if peak is not None:
                peaks[name].append(peak)
    width = max(len(n) for n in names)
    for name in names:
        s = seconds[name]
        peak = f", peak RSS {statistics.median(peaks[name]):.0f} MB" if peaks[name] else ""
        print(f"{name:{width}}  first search answered {statistics.median(s):.2f} s after start "
              f"(median; {min(s):.2f}–{max(s):.2f}){peak}")
    print(f"load at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
