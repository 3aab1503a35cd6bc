"""The top-k early stop (``_View.top``) against the exhaustive evaluation over one index: blocks of
postings decoded, time, and that both give the same hits and scores.

    python -m bench.early_stop [--index DIR] [--queries FILE] [--limit 10] [--blocks N]

With ``--blocks N``, a copy of the index rewritten with N postings a block (in one segment, as
``vnsearch optimize`` writes it) is measured instead: what smaller blocks would give the bounds.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path

import numpy as np

import indexer.store.blocks as blocks_module
from bench.common import OUT, log, machine_line, percentile
from indexer import ranking
from indexer.query import parse_query
from indexer.store import ArticleStore, build_query, levels
from indexer.store.matching import _View

DEFAULT_INDEX = OUT / "idx-20k-vnsearch"
DEFAULT_QUERIES = OUT / "queries-20k.json"  # bench.speed's query set for the 20k size


class Counter:
    """Counts the blocks of postings decoded while it is installed."""

    def __init__(self):
        self.blocks = 0
        self._real = blocks_module._block_arrays

    def __enter__(self) -> "Counter":
        def counted(*args):
            self.blocks += 1
            return self._real(*args)

        blocks_module._block_arrays = counted
        return self

    def __exit__(self, *exc) -> None:
        blocks_module._block_arrays = self._real


def exhaustive(view: _View, q, n: int, keep: np.ndarray) -> ranking.Matches:
    """The top n as the search evaluates them today: every posting of every term."""
    found = view.matches(q)
    found = found.where(keep[found.docs])
    found = ranking.Matches(found.docs, found.scores * view.recency[found.docs])
    return found.where(ranking.top(found, n))


def measured(fn, *args) -> tuple[object, int, float]:
    with Counter() as c:
        started = time.perf_counter()
        result = fn(*args)
        seconds = time.perf_counter() - started
    return result, c.blocks, seconds


def rewritten(index: Path, block_postings: int) -> Path:
    """A copy of ``index`` with ``block_postings`` postings a block (made once, then reused)."""
    import indexer.store.codec as codec_module

    copy = OUT / f"{index.name}-blocks-{block_postings}"
    if copy.exists():
        return copy
    log(f"rewriting a copy of {index}/ with {block_postings} postings a block (Whoosh re-encodes every posting)…")
    shutil.copytree(index, copy.with_name(copy.name + ".tmp"))
    real = codec_module.BLOCK_POSTINGS
    codec_module.BLOCK_POSTINGS = block_postings
    try:
        with ArticleStore.open(copy.with_name(copy.name + ".tmp")) as store:
            with store.writer() as writer:
                writer.commit(merge=True, optimize=True)
    finally:
        codec_module.BLOCK_POSTINGS = real
    copy.with_name(copy.name + ".tmp").rename(copy)
    return copy


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.early_stop", description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX, help="index (default bench/out/idx-20k-vnsearch)")
    parser.add_argument("--queries", type=Path, default=DEFAULT_QUERIES,
                        help="bench.speed's query set (default bench/out/queries-20k.json)")
    parser.add_argument("--limit", type=int, default=10, help="hits wanted (default 10)")
    parser.add_argument("--blocks", type=int, default=None,
                        help="measure a copy rewritten with this many postings a block (bench/out/…-blocks-N, kept)")
    args = parser.parse_args()
    queries = json.loads(args.queries.read_text("utf-8"))["queries"]
    if args.blocks:
        args.index = rewritten(args.index, args.blocks)

    print(f"machine at start: {machine_line()}")
    store = ArticleStore.open(args.index)
    view = store._view()
    keep = view.live
    rows = []  # (kind, blocks exhaustive, blocks top, seconds exhaustive, seconds top)
    differ = []
    for query in queries:
        parsed = store.vocabulary().word_readings(parse_query(query["text"]))
        for level in levels(parsed):  # the level the search would answer at: the first that matches
            q = build_query(parsed, level)
            if q is None or len(view.matches(q).where(keep[view.matches(q).docs])):
                break
        if q is None:
            continue
        theirs, blocks_all, seconds_all = measured(exhaustive, view, q, args.limit, keep)
        ours, blocks_top, seconds_top = measured(view.top, q, args.limit, keep)
        if ours.docs.tolist() != theirs.docs.tolist() or ours.scores.tolist() != theirs.scores.tolist():
            differ.append(query["text"])
        rows.append((query["kind"], blocks_all, blocks_top, seconds_all, seconds_top))

    print(f"index {args.index}/: {view.size:,} documents, {len(view.segments)} segments; "
          f"{len(rows)} queries of {args.queries}, top {args.limit}")
    print(f"identical hits and scores: {len(rows) - len(differ)} of {len(rows)}" + (f" (differ: {differ[:5]})" if differ else ""))
    print(f"{'kind':<8} {'queries':>7} {'blocks all':>10} {'blocks top':>10} {'share':>6} "
          f"{'ms all p50':>10} {'ms top p50':>10} {'ms all p95':>10} {'ms top p95':>10}")
    for kind in sorted({r[0] for r in rows}) + ["all"]:
        chosen = [r for r in rows if kind in ("all", r[0])]
        a, t = sum(r[1] for r in chosen), sum(r[2] for r in chosen)
        ms_all, ms_top = [r[3] * 1000 for r in chosen], [r[4] * 1000 for r in chosen]
        print(f"{kind:<8} {len(chosen):>7} {a:>10,} {t:>10,} {t / (a or 1):>6.2f} "
              f"{statistics.median(ms_all):>10.1f} {statistics.median(ms_top):>10.1f} "
              f"{percentile(ms_all, 0.95):>10.1f} {percentile(ms_top, 0.95):>10.1f}")

    print(f"machine at end: {machine_line()}")
    store.close()


if __name__ == "__main__":
    main()
