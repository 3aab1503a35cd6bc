"""Prove that vnsearch's segmentation is pyvi's own, article for article, and compare their rates.

    python -m bench.segmentation_check [CORPUS] [--limit N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench.common import EVAL_20K, pyvi
from indexer.analysis import pyvi_tokens, segment
from indexer.articles import Article, load_articles
from indexer.documents import article_text


def main() -> int:
    """Compare ``ViTokenizer.tokenize`` with ``pyvi_tokens`` + ``segment`` on every text; 1 on a mismatch."""
    ap = argparse.ArgumentParser(prog="python -m bench.segmentation_check", description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", type=Path, default=EVAL_20K)
    ap.add_argument("--limit", type=int, default=0, help="only the first N articles")
    args = ap.parse_args()
    vi = pyvi().ViTokenizer
    texts = []
    for _, item in load_articles([args.corpus]):
        if isinstance(item, Article):
            texts += [item.title or "", article_text(item.sapo, item.body)]
            if args.limit and len(texts) >= 2 * args.limit:
                break
    vi.tokenize("khởi động")  # load the model before timing
    segment(pyvi_tokens("khởi động"))

    mismatches, ours_s, pyvi_s = [], 0.0, 0.0
    for i, text in enumerate(texts):
        t0 = time.perf_counter()
        tokens = pyvi_tokens(text)
        ours = " ".join("_".join(t.text for t in tokens[a:b]) for a, b in segment(tokens))
        t1 = time.perf_counter()
        theirs = vi.tokenize(text) if text else text
        t2 = time.perf_counter()
        ours_s += t1 - t0
        pyvi_s += t2 - t1
        if ours != theirs:
            mismatches.append(i // 2)
    n = len(texts) // 2
    print(f"corpus:      {args.corpus}")
    print(f"articles:    {n} (title and sapo+body segmented separately, as the indexer does)")
    print(f"mismatches:  {len(mismatches)}" + (f" (first articles: {mismatches[:10]})" if mismatches else ""))
    print(f"pyvi:        {n / pyvi_s:.1f} articles/s (ViTokenizer.tokenize, one process)")
    print(f"vnsearch:    {n / ours_s:.1f} articles/s (pyvi_tokens + segment, one process)")
    print(f"ratio:       {pyvi_s / ours_s:.2f}x")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
