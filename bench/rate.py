"""vnsearch's indexing rate against pyvi's own, over the same articles, in one run.

    python -m bench.rate FILE [--index DIR] [--into BASE | --no-rebuild | --no-first]

pyvi alone (``ViTokenizer.tokenize`` of title and text in ``Pool(2)``, model loaded first) over
every article of FILE; then `vnsearch index --rebuild` of FILE and `vnsearch index` of FILE into an
empty directory (with ``--into``: `vnsearch index` of FILE into a copy of the index BASE instead);
then pyvi again. Each figure is printed with the load average beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path

from bench.common import OUT, log, machine_line, read_jsonl, vnsearch
from bench.speed_data import article_texts, pyvi_pool_seconds


def pyvi_rate(items: list[tuple[str, str, str]]) -> float:
    seconds, _ = pyvi_pool_seconds(items)
    return len(items) / seconds


def vnsearch_rate(corpus: Path, index: Path, rebuild: bool, keep: bool = False) -> float:
    """`vnsearch index` of ``corpus``: with ``rebuild``; or into an empty directory; or, with ``keep``, into ``index`` as it is."""
    if not (rebuild or keep):
        shutil.rmtree(index, ignore_errors=True)
    command = [*vnsearch(), "index", "--index", str(index), "--json", str(corpus), *(["--rebuild"] if rebuild else [])]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    report = json.loads(done.stdout)
    articles = report["added"] + report["updated"] + report["unchanged"]
    log(f"{'--rebuild' if rebuild else 'into the index' if keep else 'first index'}: {articles:,} articles in {seconds:.1f} s")
    return articles / seconds


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--index", type=Path, default=OUT / "rate-ix")
    parser.add_argument("--into", type=Path, help="index FILE into a copy of this index (no --rebuild, no first index)")
    parser.add_argument("--no-rebuild", action="store_true", help="leave out the --rebuild step (a first index only)")
    parser.add_argument("--no-first", action="store_true", help="leave out the first index (a --rebuild only)")
    args = parser.parse_args()
    if args.no_rebuild and args.no_first:
        parser.error("--no-rebuild and --no-first leave nothing to measure")
    items = [(o.get("id") or str(i), *article_texts(o)) for i, o in enumerate(read_jsonl(args.corpus))]
    log(f"{len(items):,} articles of {args.corpus}")
    rows = []
    steps = ("vnsearch into a copy",) if args.into else ("vnsearch --rebuild", "vnsearch first index")[args.no_rebuild : 2 - args.no_first]
    for step in ("pyvi-2p", *steps, "pyvi-2p"):
        if step == "vnsearch into a copy":
            shutil.rmtree(args.index, ignore_errors=True)
            shutil.copytree(args.into, args.index)  # before the clock and the load average
        before = _load()
        if step == "pyvi-2p":
            rate = pyvi_rate(items)
        elif step == "vnsearch into a copy":
            rate = vnsearch_rate(args.corpus, args.index, rebuild=False, keep=True)
        else:
            rate = vnsearch_rate(args.corpus, args.index, rebuild=step.endswith("rebuild"))
        rows.append((step, rate, before, _load()))
        log(f"{step}: {rate:.1f} articles/s")
    pyvi = statistics.fmean(r for s, r, _, _ in rows if s == "pyvi-2p")
    print(f"{'step':<22} {'articles/s':>10} {'× pyvi-2p':>10}  before → after")
    for step, rate, before, after in rows:
        print(f"{step:<22} {rate:>10.1f} {rate / pyvi:>10.2f}  {before} → {after}")
    print(f"× pyvi-2p: against the mean of pyvi's two runs ({pyvi:.1f} articles/s); {machine_line().split(', load')[0]}")


if __name__ == "__main__":
    main()
