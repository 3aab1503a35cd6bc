"""The Whoosh index: schema, on-disk format, writing, query building, searching (the one package importing whoosh).

Layers from the bottom: blocks, querying, scoring, locks, sequences; codec, disk; schema; whoosh_internals;
segments, segment_writer; matching; writer, article_store (the façade, ArticleStore)."""

from __future__ import annotations

from .article_store import SMALL_SEGMENT_DOCS, ArticleStore, StoredHit, StoredResults, facet_counts
from .codec import BLOCK_POSTINGS

# The on-disk format: every index's table of contents pickles these three classes by the
# path "indexer.store.<name>" (each pins its __module__), so they must stay importable here.
from .codec import _Codec, _Frequency, _Positions  # noqa: F401
from .disk import FORMAT_VERSION, META_FILE
from .locks import LOCK_HOLDER_FILE, WRITE_LOCK, LockHolder
from .querying import ANY, EXACT, FOLDED, HELD, MOST, TITLE_BOOST, WORD_BOOST, Filters, build_query, levels
from .scoring import RECENCY_BOOST, RECENCY_HALF_LIFE, ReferenceBM25F, recency_factors
from .segment_writer import WRITER_MEMORY_MB
from .writer import StoreWriter

__all__ = [
    "ANY", "EXACT", "FOLDED", "HELD", "MOST", "FORMAT_VERSION", "LOCK_HOLDER_FILE", "META_FILE", "RECENCY_BOOST",
    "RECENCY_HALF_LIFE", "SMALL_SEGMENT_DOCS", "TITLE_BOOST", "WORD_BOOST", "WRITE_LOCK",
    "WRITER_MEMORY_MB", "BLOCK_POSTINGS", "ArticleStore", "Filters", "LockHolder", "ReferenceBM25F",
    "StoreWriter", "StoredHit", "StoredResults", "build_query", "facet_counts", "levels", "recency_factors",
]
