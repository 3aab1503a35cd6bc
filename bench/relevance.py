"""Relevance benchmark: vnsearch against three peer configurations, on the same work.

    .venv/bin/python bench/relevance.py [--rebuild] [--systems vnsearch,syllables,...]

One corpus — the 20,000 articles of ``news-eval-20k.jsonl.gz`` plus the 240 XQuAD-vi
passages — indexed four ways:

- ``vnsearch``: ``indexer.ingest.index_paths`` and ``indexer.search.search``, as shipped;
- ``syllables``: ``\\w+`` words, lowercased (a default Lucene / Elasticsearch analyzer);
- ``pyvi-words``: ``pyvi.ViTokenizer.tokenize`` words, lowercased, the query segmented
  the same way (Elasticsearch with the Vietnamese plugin);
- ``folded``: ``\\w+`` words without diacritics (``indexer.text.fold``; Meilisearch).

The peers are plain Whoosh indexes with BM25F, a title and a body field (sapo + body),
and a query that ORs its tokens, title boosted 2×. Scored on XQuAD-vi (1,190 questions,
nDCG@10 / MRR@10 / R@100) and on the known-item set in ``bench/known_items.jsonl``
(MRR@10 per variant). Built indexes and pyvi's segmentation of the corpus are cached
under ``bench/out/relevance/``, keyed by the corpus bytes (and, for vnsearch, by the
index format and the code that analyzes articles); ``--rebuild`` starts afresh.
Rankings are written as TREC runs, per-query figures to ``results.json`` beside them.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import multiprocessing
import os
import random
import re
import shutil
import statistics
import sys
import time
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from whoosh import index as whoosh_index  # noqa: E402
from whoosh import query as Q  # noqa: E402
from whoosh import scoring  # noqa: E402
from whoosh.analysis import SpaceSeparatedTokenizer  # noqa: E402
from whoosh.fields import ID, TEXT, Schema  # noqa: E402

from indexer import evaluation  # noqa: E402
from indexer.errors import VnsearchError  # noqa: E402
from indexer.text import fold  # noqa: E402

DATA = REPO.parent / "shared" / "data"
OUT = BENCH / "out" / "relevance"
NEWS = "news-eval-20k.jsonl.gz"
XQUAD = "xquad-vi"
KNOWN_ITEMS = BENCH / "known_items.jsonl"
KNOWN_QRELS = BENCH / "known_items.qrels.tsv"

SYSTEMS = ("vnsearch", "syllables", "pyvi-words", "folded")
TITLE_BOOST = 2.0
DEPTH = 100
# The files whose code decides what vnsearch writes into its index: a change to any
# of them makes a new cache key (ranking code, store.py and query.py, does not).
VNSEARCH_INDEX_CODE = ("analysis.py", "articles.py", "documents.py", "duplicates.py", "ingest.py", "text.py")

_WORD = re.compile(r"\w+")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- corpus ----------------------------------------------------------------------


@dataclass(frozen=True)
class Doc:
    id: str
    title: str
    text: str  # what vnsearch searches besides the title: sapo, blank line, body


def read_jsonl(path: Path) -> Iterator[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


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


# -- the cache -------------------------------------------------------------------


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


def _fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


# -- pyvi, once for the corpus ----------------------------------------------------

_vi = None


def _pyvi():
    global _vi
    if _vi is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pyvi's pickled model warns under newer scikit-learn
            from pyvi import ViTokenizer
        _vi = ViTokenizer
    return _vi


def pyvi_words(text: str) -> list[str]:
    """pyvi's words (underscore-joined), lowercased, punctuation left out."""
    if not text.strip():
        return []
    return [w.lower() for w in _pyvi().tokenize(unicodedata.normalize("NFC", text)).split() if _WORD.search(w)]


def _segment(doc: tuple[str, str, str]) -> dict:
    doc_id, title, text = doc
    return {"id": doc_id, "title": " ".join(pyvi_words(title)), "text": " ".join(pyvi_words(text))}


def pyvi_cache(docs: list[Doc], key: str, rebuild: bool) -> tuple[dict[str, dict], float]:
    """id → pyvi words of title and text; the corpus is segmented once (2 processes)."""
    path = OUT / f"pyvi-{key}.jsonl.gz"
    meta_path = OUT / f"pyvi-{key}.json"
    if path.exists() and meta_path.exists() and not rebuild:
        seconds = json.loads(meta_path.read_text("utf-8"))["seconds"]
        return {d["id"]: d for d in read_jsonl(path)}, seconds
    log(f"segmenting {len(docs):,} documents with pyvi (2 processes) → {path.relative_to(REPO)}")
    started = time.perf_counter()
    with multiprocessing.Pool(2) as pool:
        out = list(pool.imap(_segment, ((d.id, d.title, d.text) for d in docs), chunksize=32))
    seconds = time.perf_counter() - started
    tmp = path.with_suffix(".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=3) as f:
        for d in out:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    tmp.replace(path)
    meta_path.write_text(json.dumps({"seconds": seconds, "documents": len(out)}), "utf-8")
    log(f"segmented in {seconds:.0f} s")
    return {d["id"]: d for d in out}, seconds


# -- peers -----------------------------------------------------------------------


def syllables(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(unicodedata.normalize("NFC", text))]


def folded(text: str) -> list[str]:
    return [fold(w) for w in _WORD.findall(unicodedata.normalize("NFC", text))]


@dataclass
class Peer:
    """A reference configuration: how documents and queries become tokens."""

    name: str
    analyze: Callable[[str], list[str]]  # query text (and, but for pyvi-words, document text) → tokens


PEERS = {
    "syllables": Peer("syllables", syllables),
    "pyvi-words": Peer("pyvi-words", pyvi_words),
    "folded": Peer("folded", folded),
}


def build_peer(peer: Peer, docs: list[Doc], pyvi: dict[str, dict] | None, path: Path, seconds_before: float) -> dict:
    """A Whoosh index of pre-analyzed title and body tokens (space-separated)."""
    log(f"indexing {len(docs):,} documents for {peer.name} → {path.relative_to(REPO)}")
    started = time.perf_counter()
    _fresh_dir(path)
    schema = Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=False),
        body=TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=False),
    )
    ix = whoosh_index.create_in(str(path), schema)
    writer = ix.writer(limitmb=256, procs=2, multisegment=True)
    for d in docs:
        if pyvi is not None:
            title, body = pyvi[d.id]["title"], pyvi[d.id]["text"]
        else:
            title, body = " ".join(peer.analyze(d.title)), " ".join(peer.analyze(d.text))
        writer.add_document(id=d.id, title=title, body=body)
    writer.commit()
    ix.close()
    meta = {"seconds": time.perf_counter() - started + seconds_before, "documents": len(docs)}
    (path / "built.json").write_text(json.dumps(meta), "utf-8")
    return meta


class PeerSearcher:
    """BM25F over title (boosted) and body, OR of the query's distinct tokens.

    Scores are Whoosh's ``BM25F()`` (B 0.75, K1 1.2, idf = log(N / (df + 1)) + 1, its
    stored field lengths) summed over the terms as ``Or`` sums them, computed here with
    numpy from the index's own postings: Whoosh's pure-Python union matchers took 1–5 s
    for a ten-word question. ``check`` compares with ``searcher.search`` itself.
    """

    B, K1 = 0.75, 1.2
    FIELDS = (("title", TITLE_BOOST), ("body", 1.0))

    def __init__(self, peer: Peer, path: Path):
        self.peer = peer
        self.ix = whoosh_index.open_dir(str(path))
        self.searcher = self.ix.searcher(weighting=scoring.BM25F(B=self.B, K1=self.K1))
        self.reader = self.searcher.reader()
        self.n = self.reader.doc_count_all()
        self.ids = [None] * self.n
        for docnum, fields in enumerate(self.reader.all_stored_fields()):
            self.ids[docnum] = fields["id"]
        self.lengths = {
            f: np.array([self.reader.doc_field_length(d, f, 0) for d in range(self.n)], dtype=np.float64)
            for f, _ in self.FIELDS
        }
        self.avgfl = {f: self.searcher.avg_field_length(f) or 1 for f, _ in self.FIELDS}
        self._postings: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}

    def postings(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        key = (field, term)
        if key not in self._postings:
            docs, weights = [], []
            if (field, term) in self.reader:
                m = self.reader.postings(field, term)
                while m.is_active():
                    docs.append(m.id())
                    weights.append(m.weight())
                    m.next()
            self._postings[key] = (np.array(docs, dtype=np.int64), np.array(weights, dtype=np.float64))
        return self._postings[key]

    def __call__(self, text: str) -> list[tuple[str, float]]:
        tokens = list(dict.fromkeys(self.peer.analyze(text)))
        scores = np.zeros(self.n)
        for t in tokens:
            for field, boost in self.FIELDS:
                docs, tf = self.postings(field, t)
                if not len(docs):
                    continue
                idf = math.log(self.n / (len(docs) + 1)) + 1
                norm = self.K1 * ((1 - self.B) + self.B * self.lengths[field][docs] / self.avgfl[field])
                scores[docs] += boost * idf * (tf * (self.K1 + 1)) / (tf + norm)
        hits = np.flatnonzero(scores)
        top = hits[np.lexsort((hits, -scores[hits]))][:DEPTH]  # best first; ties by document order
        return [(self.ids[d], float(scores[d])) for d in top]

    def check(self, text: str) -> bool:
        """True when Whoosh's own search ranks the same top 10 with the same scores."""
        tokens = list(dict.fromkeys(self.peer.analyze(text)))
        q = Q.Or([Q.Term("title", t, boost=TITLE_BOOST) for t in tokens] + [Q.Term("body", t) for t in tokens])
        theirs = [(hit["id"], hit.score) for hit in self.searcher.search(q, limit=10)]
        mine = self(text)[:10]
        return [d for d, _ in theirs] == [d for d, _ in mine] and all(
            math.isclose(a, b, rel_tol=1e-6) for (_, a), (_, b) in zip(theirs, mine)
        )

    def close(self) -> None:
        self.searcher.close()
        self.ix.close()


# -- vnsearch ----------------------------------------------------------------------


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


# Queries run in worker processes, each with its own store (vnsearch takes about a second of CPU
# on a long question, so XQuAD alone is ~20 CPU-minutes).
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


# -- running ---------------------------------------------------------------------------


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
        times = sorted(r["times"])
        p95 = times[int(0.95 * (len(times) - 1))] if times else 0.0
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder (default: ../shared/data)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild every cached index and segmentation")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma-separated, of: {', '.join(SYSTEMS)}")
    parser.add_argument("--vnsearch-index", type=Path, metavar="DIR",
                        help="score this vnsearch index (of the same corpus) instead of the cached build")
    parser.add_argument("--jobs", type=int, default=2, help="processes running vnsearch's queries (default 2)")
    parser.add_argument("--misses", type=int, default=25, help="known-item queries vnsearch loses to list")
    parser.add_argument("--xquad-sample", type=int, default=0, metavar="N",
                        help="score a fixed random sample of N XQuAD questions (seed 4), the same for every system")
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
                pyvi, seg = pyvi_cache(docs, key, args.rebuild) if name == "pyvi-words" else (None, 0.0)
                meta = build_peer(peer, docs, pyvi, path, seg)
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
          f"queries: XQuAD-vi {len(sets['xquad'].queries)}, known items {len(sets['known'].queries)}")
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
