"""The index's field names and the publication time number: one declaration, imported everywhere else.

The names are part of the on-disk format (Whoosh stores them in every segment).
"""

from __future__ import annotations

import datetime as dt

__all__ = [
    "AUTHOR", "BODY", "DATE", "SAPO", "TITLE", "URL",
    "CATEGORY", "COLUMNS", "DAY", "DUP", "DUP_BANDS", "HASH", "ID", "MINHASH", "ORIGIN",
    "SCORED_FIELDS", "SOURCE", "TEXT_F", "TEXT_SEQ", "TEXT_W", "TEXT_X", "TITLE_F", "TITLE_W", "TITLE_X",
    "TIME_UNIT", "VIETNAM", "article_text", "day_number", "from_day_number", "time_number", "from_time_number", "parse_stored_time", "vietnam_time",
]

ID = "id"
# Stored as given, shown to readers.
TITLE, SAPO, BODY, URL, AUTHOR, DATE = "title", "sapo", "body", "url", "author", "date"
HASH = "hash"  # the article's content hash: unchanged articles are skipped
ORIGIN = "origin"  # the file an article came from
SOURCE = "source"
CATEGORY = "category"
DAY = "day"  # publication time in Vietnam as YYYYMMDDhhmmss (time_number), 0 when unknown
MINHASH = "minhash"  # near-duplicate signature
DUP_BANDS = "dup_bands"
DUP = "dup"  # near-duplicate group key

# Analyzed text: exact syllables (_x), folded syllables (_f), pyvi words (_w).
TITLE_X, TITLE_F, TITLE_W = "title_x", "title_f", "title_w"
TEXT_X, TEXT_F, TEXT_W = "text_x", "text_f", "text_w"
TEXT_SEQ = "text_seq"  # the folded text's syllables in their order, as numbers (a column: proximity)

SCORED_FIELDS = (TITLE_X, TITLE_F, TEXT_X, TEXT_F, TITLE_W, TEXT_W)
COLUMNS = (DAY, SOURCE, CATEGORY, DUP)  # what ranking reads of every article


def article_text(sapo: str | None, body: str) -> str:
    """The searchable running text: sapo then body (snippets point into it)."""
    return f"{sapo}\n\n{body}" if sapo else body


VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")  # a time without a zone is Vietnam's
TIME_UNIT = 1_000_000  # time_number // TIME_UNIT is the day as YYYYMMDD


def vietnam_time(published: dt.date) -> dt.datetime:
    """A date (its start) or a date-time (naive ones taken as Vietnam's) as an aware time in Vietnam."""
    if not isinstance(published, dt.datetime):
        return dt.datetime(published.year, published.month, published.day, tzinfo=VIETNAM)
    return (published if published.tzinfo else published.replace(tzinfo=VIETNAM)).astimezone(VIETNAM)


def day_number(date: dt.date | None) -> int:
    """A date as YYYYMMDD (a date-time's day in Vietnam), or 0 for none."""
    if date is None:
        return 0
    d = vietnam_time(date) if isinstance(date, dt.datetime) else date
    return d.year * 10000 + d.month * 100 + d.day


def time_number(published: dt.date | None) -> int:
    """The ``day`` field's value: the time in Vietnam as YYYYMMDDhhmmss (a date is its midnight), 0 when unknown."""
    if published is None:
        return 0
    t = vietnam_time(published)
    return day_number(t) * TIME_UNIT + t.hour * 10000 + t.minute * 100 + t.second


def parse_stored_time(text: str | None) -> dt.date | None:
    """The stored ``date`` field: "2024-03-01", or "2024-03-01T08:30:00+07:00" with the time."""
    if not text:
        return None
    return dt.datetime.fromisoformat(text) if "T" in text else dt.date.fromisoformat(text)


def from_day_number(n: int) -> dt.date:
    """The date of a non-zero YYYYMMDD number."""
    return dt.date(n // 10000, n // 100 % 100, n % 100)


def from_time_number(n: int) -> dt.datetime:
    """The time in Vietnam of a non-zero ``day`` value."""
    day, clock = divmod(n, TIME_UNIT)
    d = from_day_number(day)
    return dt.datetime(d.year, d.month, d.day, clock // 10000, clock // 100 % 100, clock % 100, tzinfo=VIETNAM)
