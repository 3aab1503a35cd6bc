"""The index's field names and the day number: one declaration, imported everywhere else.

The names are part of the on-disk format (Whoosh stores them in every segment).
"""

from __future__ import annotations

import datetime as dt

__all__ = [
    "AUTHOR", "BODY", "DATE", "SAPO", "TITLE", "URL",
    "CATEGORY", "COLUMNS", "DAY", "DUP", "DUP_BANDS", "HASH", "ID", "MINHASH", "ORIGIN",
    "SCORED_FIELDS", "SOURCE", "TEXT_F", "TEXT_W", "TEXT_X", "TITLE_F", "TITLE_W", "TITLE_X",
    "article_text", "day_number", "from_day_number",
]

ID = "id"
# Stored as given, shown to readers.
TITLE, SAPO, BODY, URL, AUTHOR, DATE = "title", "sapo", "body", "url", "author", "date"
HASH = "hash"  # the article's content hash: unchanged articles are skipped
ORIGIN = "origin"  # the file an article came from
SOURCE = "source"
CATEGORY = "category"
DAY = "day"  # publication day as YYYYMMDD, 0 when unknown
MINHASH = "minhash"  # near-duplicate signature
DUP_BANDS = "dup_bands"
DUP = "dup"  # near-duplicate group key

# Analyzed text: exact syllables (_x), folded syllables (_f), pyvi words (_w).
TITLE_X, TITLE_F, TITLE_W = "title_x", "title_f", "title_w"
TEXT_X, TEXT_F, TEXT_W = "text_x", "text_f", "text_w"

SCORED_FIELDS = (TITLE_X, TITLE_F, TEXT_X, TEXT_F, TITLE_W, TEXT_W)
COLUMNS = (DAY, SOURCE, CATEGORY, DUP)  # what ranking reads of every article


def article_text(sapo: str | None, body: str) -> str:
    """The searchable running text: sapo then body (snippets point into it)."""
    return f"{sapo}\n\n{body}" if sapo else body


def day_number(date: dt.date | None) -> int:
    """The ``day`` field's value: YYYYMMDD, or 0 for an undated article."""
    return date.year * 10000 + date.month * 100 + date.day if date else 0


def from_day_number(n: int) -> dt.date:
    """The date of a non-zero ``day`` value."""
    return dt.date(n // 10000, n // 100 % 100, n % 100)
