"""The relevance benchmark's peers: plain Whoosh indexes of pre-analyzed tokens, ranked by BM25F."""

from __future__ import annotations

import gzip
import json
import math
import multiprocessing
import re
import shutil
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh import scoring
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.fields import ID, TEXT, Schema

from bench.common import BENCH, REPO, log, pyvi, read_jsonl
from indexer.text import fold

OUT = BENCH / "out" / "relevance"
TITLE_BOOST = 2.0
DEPTH = 100  # hits kept per query
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Doc:
    """One document of the relevance corpus."""

    id: str
    title: str
    text: str  # what vnsearch searches besides the title: sapo, blank line, body


def _fresh_dir(path: Path) -> Path:
    """``path`` as a new empty folder."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def pyvi_words(text: str) -> list[str]:
    """pyvi's words (underscore-joined), lowercased, punctuation left out."""
    if not text.strip():
        return []
    return [w.lower() for w in pyvi().tokenize(unicodedata.normalize("NFC", text)).split() if _WORD.search(w)]


def _segment(doc: tuple[str, str, str]) -> dict:
    """One document's pyvi words, for the pool that segments the corpus."""
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




def syllables(text: str) -> list[str]:
    """``\\w+`` words, lowercased: a default Lucene / Elasticsearch analyzer."""
    return [w.lower() for w in _WORD.findall(unicodedata.normalize("NFC", text))]


def folded(text: str) -> list[str]:
    """``\\w+`` words without diacritics, as Meilisearch indexes them."""
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


def build_peer(peer: Peer, docs: list[Doc], segmented: dict[str, dict] | None, path: Path, seconds_before: float) -> dict:
    """A Whoosh index of pre-analyzed title and body tokens (space-separated); ``segmented``: pyvi's, cached."""
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
        if segmented is not None:
            title, body = segmented[d.id]["title"], segmented[d.id]["text"]
        else:
            title, body = " ".join(peer.analyze(d.title)), " ".join(peer.analyze(d.text))
        writer.add_document(id=d.id, title=title, body=body)
    writer.commit()
    ix.close()
    meta = {"seconds": time.perf_counter() - started + seconds_before, "documents": len(docs)}
    (path / "built.json").write_text(json.dumps(meta), "utf-8")
    return meta


class PeerSearcher:
    """BM25F over title (boosted) and body, OR of the query's distinct tokens: Whoosh's own
    ``BM25F()`` sum, worked out with numpy from the index's postings because Whoosh's union
    matchers are slow on long questions; ``check`` compares with ``searcher.search``."""

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
