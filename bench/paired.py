"""Two checkouts' search, query by query in one process: a comparison the machine's drift cannot skew.

    python -m bench.paired OLD_CHECKOUT NEW_CHECKOUT INDEX[,INDEX2] QUERIES_JSON [ROUNDS]
"""

from __future__ import annotations

import dataclasses
import importlib.machinery
import importlib.util
import json
import statistics
import sys
import time

from bench.common import percentile


def load(checkout: str):
    """The ``indexer`` package of ``checkout``, under its own name: an index's pickled classes resolve to it."""
    for name in [m for m in sys.modules if m == "indexer" or m.startswith("indexer.")]:
        del sys.modules[name]  # the other checkout's modules: forgotten, not reused
    spec = importlib.machinery.PathFinder.find_spec("indexer", [checkout])  # a plain or a namespace package
    if spec is None:
        raise SystemExit(f"no indexer package in {checkout}")
    package = importlib.util.module_from_spec(spec)
    sys.modules["indexer"] = package
    spec.loader.exec_module(package)
    return importlib.import_module("indexer.search"), importlib.import_module("indexer.store")


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
