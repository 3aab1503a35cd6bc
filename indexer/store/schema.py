"""The index's Whoosh schema: the one place its fields are declared with their types."""

from __future__ import annotations

from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from ..fields import (
    AUTHOR, BODY, CATEGORY, DATE, DAY, DUP, DUP_BANDS, HASH, ID as ID_FIELD, MINHASH, ORIGIN, SAPO, SOURCE,
    TEXT_F, TEXT_SEQ, TEXT_W, TEXT_X, TITLE, TITLE_F, TITLE_W, TITLE_X, URL,
)
from .codec import _Frequency, _Positions


def _terms(positions: bool = False) -> TEXT:
    """A field of pre-analyzed, space-separated index forms, in this store's formats."""
    field = TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=positions)
    field.format = (_Positions if positions else _Frequency)(field_boost=field.format.field_boost)
    return field


def _schema() -> Schema:
    """The schema every new index is created with (Whoosh pickles it into the index)."""
    # Keyword arguments keep the fields in this order, which the pickled schema records.
    return Schema(**{
        ID_FIELD: ID(stored=True, unique=True, sortable=True),
        HASH: ID(sortable=True),
        ORIGIN: ID(stored=True, sortable=True),
        TITLE: STORED(),
        SAPO: STORED(),
        BODY: STORED(),
        URL: STORED(),
        AUTHOR: STORED(),
        DATE: STORED(),
        SOURCE: ID(stored=True, sortable=True),
        CATEGORY: ID(stored=True, sortable=True),
        # Publication time in Vietnam as YYYYMMDDhhmmss, 0 when unknown: filters,
        # newest-first sort (undated last), recency and the date range in stats.
        DAY: NUMERIC(int, bits=64, signed=False, sortable=True, default=0),
        # Near duplicates (indexer.duplicates): MinHash signature, its bands, group key.
        MINHASH: STORED(),
        DUP_BANDS: KEYWORD(),
        DUP: ID(stored=True, sortable=True),
        # Only the folded text keeps positions (for phrases): a smaller index.
        TITLE_X: _terms(),
        TITLE_F: _terms(),
        TEXT_X: _terms(),
        TEXT_F: _terms(positions=True),
        TITLE_W: _terms(),
        TEXT_W: _terms(),
        # The folded text's syllables in order (store.sequences), written by the segment writer.
        TEXT_SEQ: COLUMN(VarBytesColumn()),
    })
