"""Side by side: vnsearch's array search against Whoosh's own search, on one index.

``ArticleStore.search`` ranks with numpy arrays (``indexer.ranking``). This script runs the
same queries through the path it replaced, Whoosh's ``Searcher.search`` with the same
query, facets, filter and near-duplicate collapsing, in the same process, one query after
the other, and prints how often the two agree and how long each took.

    .venv/bin/python -m bench.engine_check bench/out/idx-20k-vnsearch
    .venv/bin/python -m bench.engine_check INDEX --queries bench/out/queries-20k.json --limit 150

Queries: the speed benchmark's (``bench/out/queries-<size>.json``, written by
``bench/speed.py``), or any JSON list of strings. Timing covers ``store.search`` only (no
snippets). Known differences, where Whoosh is wrong: its AndNot matcher can let an excluded
article through, and its collapsing counts a group twice in totals and facets (and not in
``similar``) when the group's best article comes second.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from whoosh import sorting

from bench.common import OUT, percentile
from indexer import store as S
from indexer.fields import CATEGORY, DAY, DUP, ID, SOURCE, TIME_UNIT
from indexer.query import parse_query

FACETS = {
    SOURCE: sorting.FieldFacet(SOURCE),
    CATEGORY: sorting.FieldFacet(CATEGORY),
    "year": sorting.TranslateFacet(lambda time: time // (TIME_UNIT * 10000), sorting.FieldFacet(DAY)),
}


def whoosh_search(store: S.ArticleStore, parsed, offset: int = 0, limit: int = 10) -> S.StoredResults:
    """store.search as it was before the arrays: Whoosh's collectors do the work."""
    kwargs = {"limit": offset + limit, "groupedby": FACETS, "maptype": sorting.Count,
              "collapse": sorting.FieldFacet(DUP)}
    results, level = None, S.EXACT
    for level in S.levels(parsed):
        q = S.build_query(parsed, level)
        if q is None:
            return S.StoredResults(0, True, [], {name: {} for name in FACETS})
        results = store.reference_search(q, **kwargs)
        if not results.is_empty():
            break
    collapsed = getattr(results, "collapsed_counts", {})
    hits = []
    for hit in results[offset : offset + limit]:
        fields = hit.fields()
        hits.append(S.StoredHit(fields, hit.score or 0.0, collapsed.get(fields.get(DUP), 0)))
    groups = {name: results.groups(name) for name in FACETS}
    total = sum(groups["year"].values())
    return S.StoredResults(total, level != S.ANY, hits, {k: S.facet_counts(v) for k, v in groups.items()})


def page(results: S.StoredResults) -> list[tuple[str, float]]:
    return [(h.fields[ID], round(h.score, 6)) for h in results.hits]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.engine_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("index", type=Path)
    parser.add_argument("--queries", type=Path, default=OUT / "queries-20k.json")
    parser.add_argument("--limit", type=int, default=150, help="queries to run (default 150)")
    args = parser.parse_args()

    data = json.loads(args.queries.read_text("utf-8"))
    texts = [q["text"] if isinstance(q, dict) else q for q in (data["queries"] if isinstance(data, dict) else data)]
    texts = texts[: args.limit]
    store = S.ArticleStore.open(args.index)
    vocabulary = store.vocabulary()
    started = time.perf_counter()
    store.search(vocabulary.word_readings(parse_query("khởi động")), S.Filters(), 0, 10)  # reads the arrays
    print(f"index {args.index}: {len(store):,} articles; arrays read in {1000 * (time.perf_counter() - started):.0f} ms")

    same_page = same_all = 0
    theirs_ms, ours_ms, ratios = [], [], []
    for text in texts:
        parsed = vocabulary.word_readings(parse_query(text))
        t0 = time.perf_counter()
        theirs = whoosh_search(store, parsed)
        t1 = time.perf_counter()
        ours = store.search(parsed, S.Filters(), 0, 10)
        t2 = time.perf_counter()
        theirs_ms.append(1000 * (t1 - t0))
        ours_ms.append(1000 * (t2 - t1))
        ratios.append((t1 - t0) / (t2 - t1))
        same_page += page(theirs) == page(ours)
        same_all += (page(theirs), theirs.total, theirs.facets, [h.similar for h in theirs.hits]) == (
            page(ours), ours.total, ours.facets, [h.similar for h in ours.hits])

    n = len(texts)
    print(f"{n} queries from {args.queries.name}, each through Whoosh then the arrays, top 10 with facets and collapsing")
    print(f"same ten hits with the same scores: {same_page}/{n}; also the same total, facets and similar counts: {same_all}/{n}")
    print(f"Whoosh ms: median {statistics.median(theirs_ms):.1f}, p95 {percentile(theirs_ms, .95):.1f}, max {max(theirs_ms):.0f}")
    print(f"arrays ms: median {statistics.median(ours_ms):.1f}, p95 {percentile(ours_ms, .95):.1f}, max {max(ours_ms):.0f}")
    print(f"Whoosh time / array time per query: median {statistics.median(ratios):.1f}x")


if __name__ == "__main__":
    main()
