"""How long a completion takes (indexer.suggest), over queries typed one character at a time.

    python -m bench.suggest INDEX [--rounds N] [--queries FILE]

Prints the table's load (once per vocabulary file), then the median, p95 and slowest completion
over every prefix of every query (each typed as a reader would, with and without diacritics).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from bench.common import log, percentile, rss_mb
from indexer.suggest import Completions

QUERIES = [
    "hà nội", "ha noi", "giá vàng", "gia vang hom nay", "thành phố hồ chí minh", "thanh pho ho chi minh",
    "đà nẵng", "da nang", "bóng đá việt nam", "bong da", "xăng dầu", "lãi suất ngân hàng", "lai suat",
    "covid", "chứng khoán", "thời tiết", "thoi tiet mien bac", "nguyễn phú trọng", "truong thi mai",
    "bão số 3", "tai nạn giao thông", "học sinh", "bất động sản", "bat dong san", "quốc hội", "tp hcm",
]  # fmt: skip


def prefixes(query: str) -> list[str]:
    """What the box holds as ``query`` is typed, character by character."""
    return [query[:i] for i in range(1, len(query) + 1)]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.suggest", description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--queries", type=Path, help="one query a line (default: a built-in list of news searches)")
    args = parser.parse_args()
    queries = args.queries.read_text("utf-8").split("\n") if args.queries else QUERIES
    typed = [p for q in queries if q.strip() for p in prefixes(q.strip())]

    before = rss_mb().get("VmRSS", 0.0)
    started = time.perf_counter()
    table = Completions.load(args.index)
    load_s = time.perf_counter() - started
    grown = rss_mb().get("VmRSS", 0.0) - before
    if not len(table):
        raise SystemExit(f"No vocabulary at {args.index}/ — index some articles first: vnsearch index --index {args.index} PATH…")
    log(f"{len(table):,} entries; {len(typed)} prefixes × {args.rounds} rounds")

    times: list[float] = []
    for _ in range(args.rounds):
        for text in typed:
            t = time.perf_counter()
            table.complete(text)
            times.append((time.perf_counter() - t) * 1000)
    print(f"table: {len(table):,} entries, loaded in {load_s * 1000:.0f} ms, +{grown:.0f} MB resident")
    print(
        f"completions: {len(times):,}; median {statistics.median(times):.3f} ms, "
        f"p95 {percentile(times, 0.95):.3f} ms, max {max(times):.3f} ms"
    )
    for text in ("ha no", "hà nộ", "gia v", "thanh pho ho"):
        print(f"  {text!r}: {table.complete(text)}")


if __name__ == "__main__":
    main()
