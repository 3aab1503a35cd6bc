"""The systems of the speed benchmark, each built or queried in a fresh process; prints one JSON object.

    python -m bench.speed_systems build SYSTEM INDEX_DIR CORPUS TOKENS TOTAL | query SYSTEM INDEX_DIR QUERIES_JSON
"""

from __future__ import annotations

import functools
import json
import resource
import shutil
import sys
import threading
import time
from pathlib import Path

from bench.common import log as _log
from bench.common import rss_mb

TOKEN = r"\w+"  # pyvi joins a word's syllables with "_", which \w keeps
TITLE_BOOST = 2.0
SNIPPET_CHARS = 240  # tantivy; vnsearch's snippets are 240 characters too


def rss_now() -> float:
    """This process's VmRSS in MB (NaN where /proc has none)."""
    return rss_mb().get("VmRSS", float("nan"))


def dir_bytes(path: Path) -> int:
    """Bytes of the files under ``path``."""
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def log(msg: str) -> None:
    """Progress, indented under the parent's lines."""
    _log(f"  {msg}")


class Progress:
    """Logs a build's progress (``count()`` of ``total``) every ``every`` seconds from a thread."""

    def __init__(self, label: str, count, total: int, every: float = 20.0):
        self.label, self.count, self.total, self.every = label, count, total, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.started = time.perf_counter()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            n = self.count()
            elapsed = time.perf_counter() - self.started
            rate = n / elapsed if elapsed else 0
            eta = f", ~{(self.total - n) / rate / 60:.1f} min left" if rate and n < self.total else ""
            log(f"{self.label}: {n:,}/{self.total:,} articles, {rate:.0f}/s{eta}")

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()


def _time_calls(owner, name: str, spent: dict) -> None:
    """Add the time spent in ``owner.name`` to ``spent["Owner.name"]``: where the time goes.
    Skipped when the library has no such attribute."""
    fn = getattr(owner, name, None)
    if fn is None:
        return
    key = f"{getattr(owner, '__qualname__', owner.__name__.rsplit('.', 1)[-1])}.{name}"
    spent[key] = 0.0

    @functools.wraps(fn)
    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[key] += time.perf_counter() - t

    setattr(owner, name, timed)


def build_vnsearch(index_dir: Path, corpus: Path, tokens: Path, total: int, rebuild: bool = True) -> dict:
    from indexer import store as vnstore
    from indexer.ingest import REBUILD_BATCH_SIZE, index_paths

    # Writer-side split: Whoosh adding documents vs committing; the rest is reading
    # articles and waiting for the pyvi workers.
    spent: dict[str, float] = {}
    _time_calls(getattr(vnstore, "StoreWriter", None), "put", spent)
    _time_calls(getattr(vnstore, "StoreWriter", None), "commit", spent)

    def committed() -> int:
        # Whoosh writes _MAIN_<generation>.toc per commit; a rebuild commits every REBUILD_BATCH_SIZE.
        # A rebuild writes beside index_dir (.<name>.rebuild-<pid>) until it is complete.
        building = list(index_dir.parent.glob(f".{index_dir.name}.rebuild-*/_MAIN_*.toc"))
        gens = [int(p.stem.rsplit("_", 1)[1]) for p in building or index_dir.glob("_MAIN_*.toc")]
        return min(total, max(gens, default=0) * REBUILD_BATCH_SIZE)

    started = time.perf_counter()
    with Progress("vnsearch (committed)", committed, total):
        report = index_paths(index_dir, [corpus], rebuild=rebuild)
    seconds = time.perf_counter() - started
    if report.failed:
        log(f"vnsearch: {report.failed} articles failed, e.g. {report.failures[0]}")
    return {"articles": report.added, "seconds": seconds, "failed": report.failed, "spent": spent}


def build_vnsearch_first(index_dir: Path, corpus: Path, tokens: Path, total: int) -> dict:
    """vnsearch's default command into an empty directory (no ``--rebuild``): what a newcomer runs first."""
    return build_vnsearch(index_dir, corpus, tokens, total, rebuild=False)


def build_vnsearch_optimized(index_dir: Path, corpus: Path, tokens: Path, total: int) -> dict:
    """vnsearch's index of the same articles (built first), copied and merged into one segment as
    `vnsearch optimize` does; its figures are the build's and the merge's together."""
    from indexer.ingest import optimize
    from indexer.store import ArticleStore

    source = index_dir.with_name(index_dir.name.removesuffix("-optimized"))
    base = json.loads(source.with_name(source.name + ".json").read_text())
    shutil.rmtree(index_dir, ignore_errors=True)
    shutil.copytree(source, index_dir)
    started = time.perf_counter()
    with ArticleStore.open(index_dir) as store:
        segments = optimize(store)
    seconds = time.perf_counter() - started
    log(f"vnsearch-optimized: {segments} segments merged into one in {seconds:.0f}s")
    return {
        "articles": base["articles"],
        "seconds": base["seconds"] + seconds,
        "failed": base.get("failed", 0),
        "spent": dict(base.get("spent", {}), optimize=seconds),
        "base_cpu_self_seconds": base.get("cpu_self_seconds", 0),
        "base_cpu_children_seconds": base.get("cpu_children_seconds", 0),
    }


def query_vnsearch(index_dir: Path, queries: list[dict], warmup: list[dict]) -> dict:
    t = time.perf_counter()
    from indexer import search as vnsearch
    from indexer.search import search
    from indexer.store import ArticleStore

    import_ms = (time.perf_counter() - t) * 1000
    spent: dict[str, float] = {}
    _time_calls(ArticleStore, "search", spent)  # Whoosh: matching, scoring, facets
    _time_calls(vnsearch, "make_snippet", spent)
    t = time.perf_counter()
    store = ArticleStore.open(index_dir)
    open_ms = (time.perf_counter() - t) * 1000

    def run(q: dict) -> int:
        return search(store, q["text"], limit=10).total

    result = _timed_queries(run, queries, warmup, import_ms, open_ms, spent)
    return result


def _naive_schema():
    from whoosh.analysis import LowercaseFilter, RegexTokenizer
    from whoosh.fields import ID, TEXT, Schema

    analyzer = RegexTokenizer(TOKEN) | LowercaseFilter()
    return Schema(id=ID(stored=True, unique=True), title=TEXT(analyzer=analyzer, stored=True),
                  body=TEXT(analyzer=analyzer, stored=True))


def build_naive(index_dir: Path, corpus: Path, tokens: Path, total: int) -> dict:
    from whoosh import index

    from bench.speed_data import read_tokens

    index_dir.mkdir(parents=True)
    ix = index.create_in(str(index_dir), _naive_schema())
    n, busy = 0, 0.0
    with Progress("naive", lambda: n, total):
        writer = ix.writer()
        for obj in read_tokens(tokens):
            t = time.perf_counter()
            writer.add_document(id=obj["id"], title=obj["title_tokens"], body=obj["body_tokens"])
            busy += time.perf_counter() - t
            n += 1
        log(f"naive: {n:,} added in {busy:.0f}s, committing")
        t = time.perf_counter()
        writer.commit()
        commit = time.perf_counter() - t
    ix.close()
    return {"articles": n, "seconds": busy + commit, "commit_seconds": commit}


def query_naive(index_dir: Path, queries: list[dict], warmup: list[dict]) -> dict:
    t = time.perf_counter()
    from whoosh import index
    from whoosh import query as Q

    import_ms = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    ix = index.open_dir(str(index_dir))
    searcher = ix.searcher()  # BM25F, Whoosh's default
    open_ms = (time.perf_counter() - t) * 1000

    def run(q: dict) -> int:
        terms = [Q.Term("title", tok, boost=TITLE_BOOST) for tok in q["tokens"]]
        terms += [Q.Term("body", tok) for tok in q["tokens"]]
        results = searcher.search(Q.Or(terms), limit=10)
        for hit in results:
            hit.highlights("body")
        return results.scored_length()

    return _timed_queries(run, queries, warmup, import_ms, open_ms)


def _tantivy_index(index_dir: Path, create: bool):
    import tantivy

    if create:
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw")
        builder.add_text_field("title", stored=True, tokenizer_name="pyvi")
        builder.add_text_field("body", stored=True, tokenizer_name="pyvi")
        index_dir.mkdir(parents=True)
        ix = tantivy.Index(builder.build(), path=str(index_dir))
    else:
        ix = tantivy.Index.open(str(index_dir))
    analyzer = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(TOKEN)).filter(tantivy.Filter.lowercase()).build()
    ix.register_tokenizer("pyvi", analyzer)  # not persisted: registered on every open
    return ix


def build_tantivy(index_dir: Path, corpus: Path, tokens: Path, total: int) -> dict:
    import tantivy

    from bench.speed_data import read_tokens

    ix = _tantivy_index(index_dir, create=True)
    n, busy = 0, 0.0
    with Progress("tantivy", lambda: n, total):
        writer = ix.writer(num_threads=1)
        for obj in read_tokens(tokens):
            t = time.perf_counter()
            writer.add_document(tantivy.Document(id=obj["id"], title=obj["title_tokens"], body=obj["body_tokens"]))
            busy += time.perf_counter() - t
            n += 1
        t = time.perf_counter()
        writer.commit()
        writer.wait_merging_threads()
        commit = time.perf_counter() - t
    return {"articles": n, "seconds": busy + commit, "commit_seconds": commit}


def query_tantivy(index_dir: Path, queries: list[dict], warmup: list[dict]) -> dict:
    t = time.perf_counter()
    import tantivy

    import_ms = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    ix = _tantivy_index(index_dir, create=False)
    schema = ix.schema
    searcher = ix.searcher()
    open_ms = (time.perf_counter() - t) * 1000
    should = tantivy.Occur.Should

    def run(q: dict) -> int:
        clauses = []
        for tok in q["tokens"]:
            title = tantivy.Query.term_query(schema, "title", tok)
            clauses.append((should, tantivy.Query.boost_query(title, TITLE_BOOST)))
            clauses.append((should, tantivy.Query.term_query(schema, "body", tok)))
        query = tantivy.Query.boolean_query(clauses)
        result = searcher.search(query, 10)
        snippets = tantivy.SnippetGenerator.create(searcher, query, schema, "body")
        snippets.set_max_num_chars(SNIPPET_CHARS)
        for _score, address in result.hits:
            snippets.snippet_from_doc(searcher.doc(address)).to_html()
        return result.count

    return _timed_queries(run, queries, warmup, import_ms, open_ms)


def _timed_queries(run, queries, warmup, import_ms: float, open_ms: float, spent: dict | None = None) -> dict:
    rss_open = rss_now()
    t = time.perf_counter()
    run(warmup[0])
    first_ms = (time.perf_counter() - t) * 1000
    for q in warmup[1:]:
        run(q)
    for k in spent or {}:
        spent[k] = 0.0  # the measured queries only
    latencies, cpu, totals = [], [], []
    for q in queries:  # each once, after the warm-up on other queries
        t, c = time.perf_counter(), time.process_time()
        totals.append(run(q))
        latencies.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return {
        "import_ms": import_ms,
        "open_ms": open_ms,
        "first_ms": first_ms,
        "rss_open_mb": rss_open,
        "rss_mb": rss_now(),
        "latencies_ms": latencies,
        "cpu_ms": cpu,  # this process's CPU time per query: what other load on the machine inflates less
        "totals": totals,
        "spent": spent or {},
    }


BUILDERS = {
    "vnsearch": build_vnsearch, "vnsearch-first": build_vnsearch_first, "vnsearch-optimized": build_vnsearch_optimized, "naive": build_naive, "tantivy": build_tantivy,
}
QUERIERS = {
    "vnsearch": query_vnsearch, "vnsearch-first": query_vnsearch, "vnsearch-optimized": query_vnsearch, "naive": query_naive, "tantivy": query_tantivy,
}


def main(argv: list[str]) -> None:
    if len(argv) < 4 or argv[0] not in ("build", "query"):
        raise SystemExit(__doc__)
    action, system, index_dir = argv[0], argv[1], Path(argv[2])
    if action == "build":
        corpus, tokens, total = Path(argv[3]), Path(argv[4]), int(argv[5])
        result = BUILDERS[system](index_dir, corpus, tokens, total)
        # CPU seconds of this process (Whoosh writing, tantivy's threads) and of its
        # finished children (vnsearch's pyvi workers): the load-independent side of the cost.
        usage = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        result["cpu_self_seconds"] = usage.ru_utime + usage.ru_stime + result.pop("base_cpu_self_seconds", 0)
        result["cpu_children_seconds"] = children.ru_utime + children.ru_stime + result.pop("base_cpu_children_seconds", 0)
        result["index_bytes"] = dir_bytes(index_dir)
        result["rss_mb"] = rss_now()
    elif action == "query":
        spec = json.loads(Path(argv[3]).read_text("utf-8"))
        result = QUERIERS[system](index_dir, spec["queries"], spec["warmup"])
    else:
        raise SystemExit(f"unknown action {action!r}")
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
