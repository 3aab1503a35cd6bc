"""Relevance benchmark: vnsearch against three peer configurations, on the same work.

    python -m bench.relevance [--rebuild] [--systems vnsearch,syllables,pyvi-words,folded]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import multiprocessing
import os
import random
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bench.common import BENCH, DATA, EVAL_20K, REPO, log, percentile, read_jsonl
from bench.relevance_peers import DEPTH, OUT, PEERS, Doc, PeerSearcher, build_peer, pyvi_cache
from indexer import evaluation
from indexer.errors import VnsearchError

NEWS = EVAL_20K.name
XQUAD = "xquad-vi"
KNOWN_ITEMS = BENCH / "known_items.jsonl"
KNOWN_QRELS = BENCH / "known_items.qrels.tsv"
TYPING_ITEMS = BENCH / "typing_items.jsonl"  # its judgments beside it, .qrels.tsv

SYSTEMS = ("vnsearch", "syllables", "pyvi-words", "folded")
# The files whose code decides what vnsearch writes into its index: a change to any
# of them makes a new cache key (the ranking code, the rest of the store and query.py, do not).
VNSEARCH_INDEX_CODE = (
    "analysis.py", "articles.py", "documents.py", "duplicates.py", "fields.py", "ingest.py", "text.py", "store/schema.py",
)


def corpus_docs(data: Path) -> list[Doc]:
    docs = []
    for a in read_jsonl(data / NEWS):
        sapo, body = a.get("sapo"), a.get("body") or ""
        docs.append(Doc(str(a["id"]), a.get("title") or "", f"{sapo}\n\n{body}" if sapo else body))
    for p in read_jsonl(data / f"{XQUAD}.corpus.jsonl"):
        docs.append(Doc(p["id"], p.get("title") or "", p["text"]))
    return docs


def corpus_key(data: Path) -> str:
    h = hashlib.sha1()
    for name in (NEWS, f"{XQUAD}.corpus.jsonl"):
        h.update((data / name).read_bytes())
    return h.hexdigest()[:12]


def passages_file(data: Path) -> Path:
    """The XQuAD passages as vnsearch JSON Lines articles (id, title, body)."""
    out = OUT / f"{XQUAD}.passages.jsonl"
    lines = [
        json.dumps({"id": p["id"], "title": p.get("title"), "body": p["text"]}, ensure_ascii=False) + "\n"
        for p in read_jsonl(data / f"{XQUAD}.corpus.jsonl")
    ]
    text = "".join(lines)
    if not out.exists() or out.read_text("utf-8") != text:
        out.write_text(text, "utf-8")
    return out


def _meta(path: Path) -> dict | None:
    """A cached build's metadata, None when the build is absent or unfinished."""
    try:
        return json.loads((path / "built.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None


class BuildLock:
    """``<path>.lock`` holding our pid while we build ``path``: two runs never share a build."""

    def __init__(self, path: Path):
        self.lock = path.with_name(path.name + ".lock")

    def __enter__(self) -> "BuildLock":
        try:
            fd = os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            pid = self.lock.read_text().strip()
            if pid.isdigit() and Path(f"/proc/{pid}").exists():
                sys.exit(f"{self.lock.parent.name}/{self.lock.name}: another run (pid {pid}) is building it; wait for it")
            self.lock.unlink()  # left by a run that died
            fd = os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        return self

    def __exit__(self, *exc) -> None:
        self.lock.unlink(missing_ok=True)


def vnsearch_key(corpus: str) -> str:
    from indexer.store import FORMAT_VERSION

    h = hashlib.sha1(corpus.encode())
    for name in VNSEARCH_INDEX_CODE:
        h.update((REPO / "indexer" / name).read_bytes())
    return f"f{FORMAT_VERSION}-{h.hexdigest()[:10]}"


def build_vnsearch(paths: list[Path], path: Path) -> dict:
    from indexer.ingest import index_paths

    log(f"indexing with vnsearch → {path.relative_to(REPO)} (pyvi in 2 processes; several minutes)")
    started = time.perf_counter()
    if path.exists():
        shutil.rmtree(path)
    report = index_paths(path, paths, rebuild=True, on_failure=lambda f: log(f"  failed: {f}"))
    meta = {"seconds": time.perf_counter() - started, "documents": report.added, "failed": report.failed}
    (path / "built.json").write_text(json.dumps(meta), "utf-8")
    log(f"vnsearch: {report.summary()} in {meta['seconds']:.0f} s")
    return meta


class VnsearchSearcher:
    def __init__(self, path: Path):
        from indexer.store import ArticleStore

        self.path = Path(path)
        self.store = ArticleStore.open(path)

    def __call__(self, text: str) -> list[tuple[str, float]]:
        from indexer.search import search

        return [(h.id, h.score) for h in search(self.store, text, limit=DEPTH).hits]

    def close(self) -> None:
        self.store.close()


# Queries run in worker processes, each with its own store: XQuAD's long questions are the
# slowest part of the run.
_worker_store = None


def _open_worker(path: str) -> None:
    global _worker_store
    from indexer.store import ArticleStore

    _worker_store = ArticleStore.open(path)


def _worker_search(text: str) -> tuple[str, list | None, float, str | None]:
    from indexer.search import search

    started = time.perf_counter()
    try:
        hits = [(h.id, h.score) for h in search(_worker_store, text, limit=DEPTH).hits]
        error = None
    except VnsearchError as e:
        hits, error = None, str(e)
    return text, hits, (time.perf_counter() - started) * 1000, error


def parallel_vnsearch(path: Path, jobs: int):
    """A function running a list of query texts in ``jobs`` processes: (text → hits, ms each)."""

    def run(texts: list[str], label: str) -> tuple[Callable[[str], list], list[float]]:
        answers, errors, times = {}, {}, []
        with multiprocessing.Pool(jobs, initializer=_open_worker, initargs=(str(path),)) as pool:
            for text, hits, ms, error in pool.imap(_worker_search, list(dict.fromkeys(texts)), chunksize=4):
                answers[text] = hits
                times.append(ms)
                if error:
                    errors[text] = error
                if len(times) % 200 == 0:
                    log(f"  {label}: {len(times)} queries, mean {statistics.fmean(times):.0f} ms ({jobs} processes)")

        def search_fn(text: str) -> list:
            if text in errors:
                raise VnsearchError(errors[text])
            return answers[text]

        return search_fn, times

    return run


@dataclass(frozen=True)
class QuerySet:
    name: str
    queries: list[evaluation.EvalQuery]
    qrels: dict[str, dict[str, int]]


def timed(search_fn, times: list[float], label: str, every: int = 200):
    """``search_fn``, each call's milliseconds appended to ``times``, progress logged."""
    first = len(times)

    def run(text: str):
        started = time.perf_counter()
        try:
            return search_fn(text)
        finally:
            times.append((time.perf_counter() - started) * 1000)
            done = len(times) - first
            if done % every == 0:
                log(f"  {label}: {done} queries, mean {statistics.fmean(times[first:]):.0f} ms")

    return run


def score_system(name: str, search_fn, sets: list[QuerySet], prefetch=None) -> dict:
    """Run every query set through ``search_fn`` (or ``prefetch``); reports, runs and query times."""
    out = {"reports": {}, "times": []}
    runs_dir = OUT / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    for s in sets:
        started = time.perf_counter()
        label = f"{name} {s.name}"
        if prefetch:
            fn, times = prefetch([q.text for q in s.queries], label)
            out["times"] += times
        else:
            fn = timed(search_fn, out["times"], label)
        run = evaluation.run_queries(s.queries, fn, depth=DEPTH)
        with open(runs_dir / f"{name}.{s.name}.trec", "w", encoding="utf-8") as f:
            evaluation.write_run(f, run, tag=name)
        out["reports"][s.name] = evaluation.evaluate(s.queries, s.qrels, run)
        out.setdefault("runs", {})[s.name] = run
        log(f"{name}: {len(s.queries)} {s.name} queries in {time.perf_counter() - started:.0f} s")
    return out


# Columns of the table: (header, query set, variant or None for all, metric).
COLUMNS = [
    ("xquad nDCG@10", "xquad", None, "nDCG@10"),
    ("xquad MRR@10", "xquad", None, "MRR@10"),
    ("xquad R@100", "xquad", None, "R@100"),
    ("ki diacritics MRR@10", "known", "diacritics", "MRR@10"),
    ("ki no_diacritics MRR@10", "known", "no_diacritics", "MRR@10"),
    ("ki partial_name MRR@10", "known", "partial_name", "MRR@10"),
    ("ki other_tone MRR@10", "known", "other_tone_style", "MRR@10"),
    ("ki same targets, own tone MRR@10", "known", "own_tone_style", "MRR@10"),
    ("ty diacritics MRR@10", "typing", "diacritics", "MRR@10"),
    ("ty no_diacritics MRR@10", "typing", "no_diacritics", "MRR@10"),
    ("ty slip MRR@10", "typing", "slip", "MRR@10"),
    ("ty half_accented MRR@10", "typing", "half_accented", "MRR@10"),
    ("ty telex MRR@10", "typing", "telex", "MRR@10"),
]


def with_own_tone(report: evaluation.EvaluationReport, queries: list[evaluation.EvalQuery]) -> dict:
    """Per-variant figures, plus the diacritics queries of the targets that have an other-tone one."""
    variants = {s.name: s for s in report.variants}
    variants["all"] = report.overall
    pairs = [q.id[:-2] for q in queries if q.variant == "other_tone_style"]
    own = [f"{p}-d" for p in pairs if f"{p}-d" in report.per_query]
    if own:
        metrics = {m: statistics.fmean(report.per_query[q][m] for q in own) for m in evaluation.METRICS}
        variants["own_tone_style"] = evaluation.Summary("own_tone_style", len(own), metrics)
    return variants


def table(results: dict, sets: dict[str, QuerySet]) -> str:
    summaries = {}
    for system, r in results.items():
        summaries[system] = {
            "xquad": {"all": r["reports"]["xquad"].overall},
            "known": with_own_tone(r["reports"]["known"], sets["known"].queries),
            "typing": {v.name: v for v in r["reports"]["typing"].variants},
        }
    any_system = next(iter(summaries.values()))
    headers = ["system"]
    cols = []
    for header, qs, variant, metric in COLUMNS:
        summary = any_system[qs].get(variant or "all")
        if summary is None:
            continue
        headers.append(f"{header} (n={summary.queries})")
        cols.append((qs, variant or "all", metric))
    rows = [headers]
    for system, s in summaries.items():
        rows.append([system] + [f"{s[qs][v].metrics[m]:.3f}" for qs, v, m in cols])
    widths = [max(len(row[i]) for row in rows) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
        for row in rows
    )


def timing_table(results: dict, builds: dict) -> str:
    lines = [f"{'system':<12}  {'build s':>8}  {'cached':>6}  {'mean query ms':>13}  {'p95 query ms':>12}  note"]
    for system, r in results.items():
        b = builds[system]
        times = r["times"]
        p95 = percentile(times, 0.95) if times else 0.0
        seconds = "-" if math.isnan(b["seconds"]) else f"{b['seconds']:.0f}"
        lines.append(
            f"{system:<12}  {seconds:>8}  {'yes' if b['cached'] else 'no':>6}  "
            f"{statistics.fmean(times) if times else 0.0:>13.1f}  {p95:>12.1f}  {b.get('note', '')}"
        )
    return "\n".join(lines)


def vnsearch_misses(results: dict, sets: dict[str, QuerySet], limit: int) -> list[str]:
    """Known-item queries where vnsearch ranks the target below some peer (or not at all)."""
    if "vnsearch" not in results:
        return []
    qs = sets["known"]
    text = {q.id: q for q in qs.queries}

    def rank(system: str, qid: str) -> int | None:
        judged = qs.qrels.get(qid, {})
        for i, (doc_id, _) in enumerate(results[system]["runs"]["known"].get(qid, []), start=1):
            if judged.get(doc_id, 0) > 0:
                return i
        return None

    rows = []
    for qid, q in text.items():
        mine = rank("vnsearch", qid)
        peers = {s: rank(s, qid) for s in results if s != "vnsearch"}
        best = min((r for r in peers.values() if r), default=None)
        if best is not None and (mine is None or mine > best):
            rows.append(((mine or DEPTH + 1) - best, qid, q, mine, peers))
    rows.sort(key=lambda r: (-r[0], r[1]))
    out = []
    for _, qid, q, mine, peers in rows[:limit]:
        peer_ranks = ", ".join(f"{s} {r or '-'}" for s, r in peers.items())
        out.append(f"{qid:<9} {q.variant:<16} vnsearch {mine or '-':>3}  ({peer_ranks})  {q.text}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.relevance", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder (default: ../shared/data)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild every cached index and segmentation")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma-separated, of: {', '.join(SYSTEMS)}")
    parser.add_argument("--vnsearch-index", type=Path, metavar="DIR",
                        help="score this vnsearch index (of the same corpus) instead of the cached build")
    parser.add_argument("--jobs", type=int, default=2, help="processes running vnsearch's queries (default 2)")
    parser.add_argument("--misses", type=int, default=25, help="known-item queries vnsearch loses to list")
    parser.add_argument("--xquad-sample", type=int, default=0, metavar="N",
                        help="score a fixed random sample of N XQuAD questions (seed 4), the same for every system")
    parser.add_argument("--typing-items", type=Path, default=TYPING_ITEMS, metavar="FILE",
                        help="the typing query set (bench.typing_items; judgments in FILE's .qrels.tsv beside it)")
    args = parser.parse_args()
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        parser.error(f"unknown systems: {', '.join(sorted(unknown))}")
    data = args.data.resolve()
    if not (data / NEWS).exists():
        sys.exit(f"No {NEWS} in {data}/ — clone the project beside shared/ or pass --data")
    OUT.mkdir(parents=True, exist_ok=True)

    xquad = evaluation.load_queries(data / f"{XQUAD}.queries.jsonl")
    if 0 < args.xquad_sample < len(xquad):
        keep = set(random.Random(4).sample(range(len(xquad)), args.xquad_sample))
        xquad = [q for i, q in enumerate(xquad) if i in keep]
    sets = {
        "xquad": QuerySet("xquad", xquad, evaluation.load_qrels(data / f"{XQUAD}.qrels.tsv")),
        "known": QuerySet("known", evaluation.load_queries(KNOWN_ITEMS), evaluation.load_qrels(KNOWN_QRELS)),
        "typing": QuerySet(
            "typing",
            evaluation.load_queries(args.typing_items),
            evaluation.load_qrels(args.typing_items.with_suffix(".qrels.tsv")),
        ),
    }
    key = corpus_key(data)
    docs = corpus_docs(data)
    log(f"corpus {key}: {len(docs):,} documents ({NEWS} + {XQUAD} passages)")

    builds: dict[str, dict] = {}
    searchers: dict[str, object] = {}
    if "vnsearch" in systems and args.vnsearch_index:
        searchers["vnsearch"] = VnsearchSearcher(args.vnsearch_index)
        meta = _meta(args.vnsearch_index) or {"seconds": float("nan")}
        builds["vnsearch"] = {**meta, "cached": True, "note": f"given index {args.vnsearch_index}"}
    elif "vnsearch" in systems:
        path = OUT / f"vnsearch-{key}-{vnsearch_key(key)}"
        meta = None if args.rebuild else _meta(path)
        try:
            if meta is None:
                raise FileNotFoundError
            searchers["vnsearch"] = VnsearchSearcher(path)
            builds["vnsearch"] = {**meta, "cached": True}
        except (FileNotFoundError, VnsearchError):
            with BuildLock(path):
                meta = build_vnsearch([data / NEWS, passages_file(data)], path)
            searchers["vnsearch"] = VnsearchSearcher(path)
            builds["vnsearch"] = {**meta, "cached": False}
        builds["vnsearch"]["note"] = "pyvi + Whoosh, 2 processes"
    for name in (s for s in systems if s != "vnsearch"):
        peer = PEERS[name]
        path = OUT / f"peer-{name}-{key}"
        meta = None if args.rebuild else _meta(path)
        cached = meta is not None
        if not cached:
            with BuildLock(path):
                segmented, seg = pyvi_cache(docs, key, args.rebuild) if name == "pyvi-words" else (None, 0.0)
                meta = build_peer(peer, docs, segmented, path, seg)
        builds[name] = {**meta, "cached": cached}
        if name == "pyvi-words":
            builds[name]["note"] = "includes segmenting the corpus once with pyvi (2 processes)"
        searchers[name] = PeerSearcher(peer, path)

    results = {}
    for name in systems:
        prefetch = None
        if name == "vnsearch" and args.jobs > 1:
            prefetch = parallel_vnsearch(searchers[name].path, args.jobs)
            builds[name]["note"] += f"; queries in {args.jobs} processes"
        results[name] = score_system(name, searchers[name], list(sets.values()), prefetch)
        searchers[name].close()

    dump = {
        system: {s: r["reports"][s].to_json() for s in r["reports"]} for system, r in results.items()
    }
    (OUT / "results.json").write_text(json.dumps(dump, ensure_ascii=False, indent=1), "utf-8")

    print(f"Corpus: {NEWS} + {XQUAD} passages ({len(docs):,} documents); "
          f"queries: XQuAD-vi {len(sets['xquad'].queries)}, known items {len(sets['known'].queries)}, "
          f"typing {len(sets['typing'].queries)} ({args.typing_items.name})")
    print()
    print(table(results, sets))
    print()
    print(timing_table(results, builds))
    misses = vnsearch_misses(results, sets, args.misses)
    if misses:
        print()
        print(f"Known-item queries where vnsearch ranks the target below the best peer (rank, '-' = not in top 100); "
              f"first {len(misses)}:")
        print("\n".join(misses))
    print()
    print(f"Runs and per-query figures: {(OUT / 'runs').relative_to(REPO)}/, {(OUT / 'results.json').relative_to(REPO)}")


if __name__ == "__main__":
    main()
