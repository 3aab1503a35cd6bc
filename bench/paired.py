"""Two checkouts' search, query by query in one process: a comparison the machine's drift cannot skew.

    .venv/bin/python bench/paired.py OLD_CHECKOUT NEW_CHECKOUT INDEX[,INDEX2] QUERIES_JSON [ROUNDS]

Each checkout's ``indexer`` package is imported in turn (under that name, so the index's
pickled codec resolves to its own classes) and opens INDEX (or the second checkout
INDEX2: one checkout's search over two indexes). After the warm-up queries, every query
of QUERIES_JSON (``bench/out/queries-<size>.json``, written by ``bench/speed.py``) runs in
both, the order alternating, ROUNDS times (default 2). Prints each side's p50/p95/mean, how
many queries got the same result page from both (first round), and the median of the
per-query ratios, new over old, overall and per query kind.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import sys
import time


def load(checkout: str):
    """The ``indexer`` package of ``checkout`` (any other one imported before is forgotten)."""
    sys.path.insert(0, checkout)
    for name in [m for m in sys.modules if m == "indexer" or m.startswith("indexer.")]:
        del sys.modules[name]
    import indexer.search as search_module  # noqa: PLC0415
    import indexer.store as store_module  # noqa: PLC0415

    sys.path.pop(0)
    return search_module, store_module


def percentile(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def main(argv: list[str]) -> None:
    if len(argv) < 4:
        raise SystemExit(__doc__)
    checkouts, indexes, spec = argv[:2], argv[2].split(","), json.loads(open(argv[3], encoding="utf-8").read())
    rounds = int(argv[4]) if len(argv) > 4 else 2
    names = [c.rstrip("/").rsplit("/", 1)[-1] for c in checkouts]
    sides = []
    for i, checkout in enumerate(checkouts):
        search_module, store_module = load(checkout)
        store = store_module.ArticleStore.open(indexes[min(i, len(indexes) - 1)])
        for q in spec["warmup"]:
            search_module.search(store, q["text"], limit=10)
        sides.append((search_module.search, store))
    ms: list[list[float]] = [[], []]
    pages: list[list[str]] = [[], []]  # each side's result pages of the first round, times left out
    kinds = []
    for r in range(rounds):
        for i, q in enumerate(spec["queries"]):
            took = [0.0, 0.0]
            for k in (0, 1) if (i + r) % 2 == 0 else (1, 0):
                search, store = sides[k]
                started = time.perf_counter()
                page = search(store, q["text"], limit=10)
                took[k] = (time.perf_counter() - started) * 1000
                if r == 0:
                    pages[k].append(repr(dataclasses.replace(page, took_ms=0)))
            ms[0].append(took[0])
            ms[1].append(took[1])
            kinds.append(q["kind"])
    for k in (0, 1):
        print(f"{names[k]:<12} p50 {statistics.median(ms[k]):5.1f}  p95 {percentile(ms[k], 0.95):5.1f}  "
              f"mean {statistics.fmean(ms[k]):5.1f} ms")
    same = sum(a == b for a, b in zip(*pages))
    print(f"the same result page (hits, scores, snippets, facets, suggestion): {same}/{len(pages[0])} queries")
    ratios = [new / old for old, new in zip(*ms)]
    print(f"per-query ratio {names[1]}/{names[0]}: median {statistics.median(ratios):.3f}")
    for kind in dict.fromkeys(kinds):
        at = [i for i, x in enumerate(kinds) if x == kind]
        old, new = [ms[0][i] for i in at], [ms[1][i] for i in at]
        print(f"  {kind:<8} {statistics.median(old):5.1f}/{percentile(old, 0.95):5.1f} → "
              f"{statistics.median(new):5.1f}/{percentile(new, 0.95):5.1f} ms (p50/p95), "
              f"ratio {statistics.median([ratios[i] for i in at]):.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
