"""The index's vocabulary: how often each syllable and pyvi word occurs, and what
a query typed without diacritics most likely meant.

Counted at index time from the analyzed documents (document frequencies; deletions
are not subtracted, which only makes the counts a little stale) and added, batch by
batch, to an SQLite file beside the Whoosh index, keyed by the exact form and looked
up by the folded one. Query time reads only the rows a query asks for, so a server
answers its first query without loading the whole vocabulary. Used at query time to give queries without diacritics the pyvi-word signal
("truong thi mai" → trương_thị_mai) and to suggest a reading with diacritics or a
correction for a likely typo.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import threading
import time
from collections import Counter
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import Iterable

from .fields import TEXT_W, TEXT_X, TITLE_W, TITLE_X
from .query import MAX_WORD_SYLLABLES, Forms, ParsedQuery, word_spans
from .spelling import SHORT, edits
from .text import fold_chars

__all__ = ["IndexVocabulary", "Vocabulary", "VOCABULARY_FILE", "add_batch", "has_deferred", "save_deferred"]

VOCABULARY_FILE = "vocabulary.sqlite"
LEGACY_FILE = "vocabulary.json"  # format 5 indexes written before the SQLite file
# An accented reading is "clear" when it holds at least this share of the
# documents of every reading with the same letters.
CLEAR_SHARE = 0.6
_KINDS = ("syllables", "words")
_SCHEMA = "".join(
    f"CREATE TABLE IF NOT EXISTS {kind} (form TEXT PRIMARY KEY, folded TEXT NOT NULL, n INTEGER NOT NULL) WITHOUT ROWID;"
    f"CREATE INDEX IF NOT EXISTS {kind}_folded ON {kind} (folded);"
    for kind in _KINDS
)
_CHUNK = 500  # keys per look-up: far below SQLite's limit on parameters
READ_TIMEOUT = 0.5  # seconds a look-up waits for a writer's commit; then the query goes without suggestions
WRITE_CACHE_KB = 256 * 1024  # a batch's rows stay in memory until its commit: readers wait only for that
# Frequent small commits save their counts at most this often (seconds): every searching
# process reads the file, and a save makes its readers wait.
SAVE_DELAY = 30.0

Reading = tuple[str, int, int]  # the most frequent exact form, its count, the count of all forms


def _spelled_words(run: Iterable[Forms]) -> list[str]:
    """The folded keys of the words a run of syllables may spell (``query.word_spans``)."""
    return word_spans([f for _, f in run])


def _best(rows: Iterable[tuple[str, str, int]]) -> dict[str, Reading]:
    """(folded, form, count) rows → folded form → its reading; the larger count wins, then the smaller form."""
    best: dict[str, Reading] = {}
    for key, form, n in rows:
        top = best.get(key)
        if top is None:
            best[key] = (form, n, n)
        elif (n, top[0]) > (top[1], form):
            best[key] = (form, n, top[2] + n)
        else:
            best[key] = (top[0], top[1], top[2] + n)
    return best


class Vocabulary:
    """Document frequencies of exact syllables and words, counted in memory: a batch's
    at index time (added to the index's file with ``add_to``), or the whole file's (``load``)."""

    def __init__(self, syllables: Counter | None = None, words: Counter | None = None):
        self.syllables: Counter = syllables or Counter()
        self.words: Counter = words or Counter()

    def add_document(self, doc: dict) -> None:
        """Count one analyzed document (the dict ``documents.to_document`` makes)."""
        self.syllables.update(set((doc.get(TITLE_X, "") + " " + doc.get(TEXT_X, "")).split()))
        self.words.update(set((doc.get(TITLE_W, "") + " " + doc.get(TEXT_W, "")).split()))

    def add(self, other: "Vocabulary") -> None:
        """Add another vocabulary's counts (a batch's) to these."""
        self.syllables.update(other.syllables)
        self.words.update(other.words)

    def add_to(self, index_dir: Path) -> None:
        """Add these counts to the index's vocabulary file, in one transaction (the caller
        holds the index's write lock). A legacy JSON vocabulary is carried over first."""
        path = Path(index_dir) / VOCABULARY_FILE
        legacy = Path(index_dir) / LEGACY_FILE
        try:
            if not path.exists() and legacy.exists():
                _write_new(path, _legacy_counts(legacy) or Vocabulary())
            db = sqlite3.connect(path, timeout=30)
            try:
                db.execute(f"PRAGMA cache_size = -{WRITE_CACHE_KB}")
                with db:
                    db.executescript(_SCHEMA)
                    _upsert(db, self)
            finally:
                db.close()
        except sqlite3.Error as e:  # a full disk, a read-only directory: as any other file write
            raise OSError(errno.EIO, str(e), str(path)) from e
        legacy.unlink(missing_ok=True)

    @classmethod
    def load(cls, index_dir: Path) -> "Vocabulary":
        """All the counts of the index's vocabulary file (empty when there is none yet)."""
        counts = cls()
        db = _open_readonly(Path(index_dir))
        if db is None:
            return counts
        try:
            for kind in _KINDS:
                getattr(counts, kind).update(dict(db.execute(f"SELECT form, n FROM {kind}")))
        finally:
            db.close()
        return counts


# Counts of committed batches this process has not added to an index's vocabulary file
# yet (deferred saves), per index, and since when. Lost if the process dies first: the
# counts only feed suggestions, and are a little stale by design.
_deferred: dict[str, tuple[Vocabulary, float]] = {}
_deferred_lock = threading.Lock()


def add_batch(index_dir: Path, batch: Vocabulary, *, defer: bool = False) -> None:
    """Add a committed batch's counts to the index's vocabulary (the caller holds the write
    lock); with ``defer``, only once SAVE_DELAY seconds have passed since the first unsaved one."""
    key = os.path.abspath(index_dir)
    now = time.monotonic()
    with _deferred_lock:
        pending, since = _deferred.pop(key, (Vocabulary(), now))
        pending.add(batch)
        if defer and now - since < SAVE_DELAY:
            _deferred[key] = (pending, since)
            return
    pending.add_to(index_dir)


def save_deferred(index_dir: Path) -> None:
    """Add the counts put off so far to the index's vocabulary file (under the write lock)."""
    with _deferred_lock:
        pending, _ = _deferred.pop(os.path.abspath(index_dir), (None, None))
    if pending is not None:
        pending.add_to(index_dir)


def has_deferred(index_dir: Path) -> bool:
    """Whether this process holds counts for the index that are not saved yet."""
    with _deferred_lock:
        return os.path.abspath(index_dir) in _deferred


class IndexVocabulary:
    """An index's vocabulary file, read row by row at query time (safe across threads). It reads
    the file it opened: ``is_current`` tells when the index's file is another one (a rebuild
    swapped it in), and ``close`` lets it go."""

    def __init__(self, index_dir: Path):
        self._path = Path(index_dir)
        self._lock = threading.Lock()
        self._stamp = _stamp(self._path)
        self._db = _open_readonly(self._path)

    def is_current(self) -> bool:
        return _stamp(self._path) == self._stamp

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def word_readings(self, parsed: ParsedQuery) -> ParsedQuery:
        """For a query typed without diacritics, the indexed words its adjacent
        syllables spell, added as ranking signals (never required)."""
        if parsed.accented:
            return parsed
        spelled = [key for run in parsed.runs for key in _spelled_words(run)]
        words = self.readings("words", spelled)
        found = [words[key][0] for key in spelled if key in words]
        return replace(parsed, words=tuple(dict.fromkeys(found))) if found else parsed

    def suggest(self, parsed: ParsedQuery) -> str | None:
        """A better way to type a query of plain words, or None: without diacritics, the clear
        accented reading word by word ("truong thi mai" → "trương thị mai"); a syllable the
        index has never seen, replaced by the most frequent one a single edit away."""
        if parsed.phrases or parsed.excluded or len(parsed.runs) != 1:
            return None
        terms = list(parsed.runs[0])
        # With diacritics, only a syllable typed without marks gets a reading (half-accented).
        unmarked = not parsed.accented or any(e == f for e, f in terms)
        words = self.readings("words", _spelled_words(terms)) if unmarked else {}
        syllables = self.readings("syllables", [f for _, f in terms])
        out: list[str] = []
        i = 0
        while i < len(terms):
            step, reading = 1, None
            for n in range(min(MAX_WORD_SYLLABLES, len(terms) - i), 1, -1):
                span = terms[i : i + n]
                hit = words.get("_".join(f for _, f in span))
                agrees = hit and all(e == f or e == r for (e, f), r in zip(span, hit[0].split("_")))
                if agrees and hit[1] >= CLEAR_SHARE * hit[2]:
                    step, reading = n, hit[0].replace("_", " ")
                    break
            if reading is None:
                reading = self._syllable_reading(terms[i], parsed.accented, syllables)
            out.append(reading)
            i += step
        suggestion = " ".join(out)
        typed = " ".join(e for e, _ in terms)
        return suggestion if suggestion != typed else None

    def _syllable_reading(self, forms: Forms, accented: bool, table: dict[str, Reading]) -> str:
        exact, folded = forms
        if self.syllable_count(exact):
            if accented and exact != folded:
                return exact
            hit = table.get(folded)
            return hit[0] if hit and hit[1] >= CLEAR_SHARE * hit[2] else exact
        # Never seen as typed: the same letters with other marks, else a likely
        # typo — the most frequent known syllable one edit away (a short one stays:
        # too many syllables are a letter away from it).
        if folded in table:
            return table[folded][0]
        if len(folded) <= SHORT:
            return exact
        near = self.readings("syllables", sorted(edits(folded)))
        scored = [(n, form) for form, n, _ in near.values()]
        return max(scored)[1] if scored else exact

    def readings(self, kind: str, keys: Iterable[str]) -> dict[str, Reading]:
        """folded form → its reading, for the keys of ``kind`` (syllables or words) that have one."""
        return _best(self.forms(kind, keys))

    def forms(self, kind: str, keys: Iterable[str]) -> list[tuple[str, str, int]]:
        """(folded form, form, how many documents hold it) of every form of ``kind`` the keys fold."""
        keys = list(dict.fromkeys(keys))
        rows: list[tuple[str, str, int]] = []
        with self._lock, _quietly():
            for at in range(0, len(keys) if self._db else 0, _CHUNK):
                chunk = keys[at : at + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows += self._db.execute(f"SELECT folded, form, n FROM {kind} WHERE folded IN ({marks})", chunk)
        return rows

    def syllable_count(self, exact: str) -> int:
        """How many documents hold this exact syllable."""
        row = None
        with self._lock, _quietly():
            if self._db is not None:
                row = self._db.execute("SELECT n FROM syllables WHERE form = ?", (exact,)).fetchone()
        return row[0] if row else 0


def _quietly():
    """A damaged or busy vocabulary file costs the query its suggestions, never its results."""
    return suppress(sqlite3.Error)


def _stamp(index_dir: Path) -> tuple | None:
    """Which vocabulary file the index has: the SQLite file changes in place, a legacy one only by being replaced."""
    for name in (VOCABULARY_FILE, LEGACY_FILE):
        try:
            st = os.stat(index_dir / name)
        except OSError:
            continue
        return (name, st.st_dev, st.st_ino) + ((st.st_mtime_ns,) if name == LEGACY_FILE else ())
    return None


def _open_readonly(index_dir: Path) -> sqlite3.Connection | None:
    """A read-only connection to the index's vocabulary; a legacy JSON one copied into memory; None when there is none."""
    path = index_dir / VOCABULARY_FILE
    if path.exists():
        uri = f"{path.resolve().as_uri()}?mode=ro"
        with _quietly():
            return sqlite3.connect(uri, uri=True, timeout=READ_TIMEOUT, check_same_thread=False)
        return None
    legacy = _legacy_counts(index_dir / LEGACY_FILE)
    if legacy is None:
        return None
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.executescript(_SCHEMA)
    _upsert(db, legacy)
    return db


def _legacy_counts(path: Path) -> Vocabulary | None:
    try:
        data = json.loads(path.read_text("utf-8"))
        return Vocabulary(Counter(data.get("syllables", {})), Counter(data.get("words", {})))
    except (OSError, ValueError, AttributeError):
        return None


def _write_new(path: Path, counts: Vocabulary) -> None:
    """A complete vocabulary file written beside ``path`` and moved into place."""
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    try:
        with db:
            db.executescript(_SCHEMA)
            _upsert(db, counts)
    finally:
        db.close()
    os.replace(tmp, path)


def _upsert(db: sqlite3.Connection, counts: Vocabulary) -> None:
    for kind in _KINDS:
        db.executemany(
            f"INSERT INTO {kind} (form, folded, n) VALUES (?, ?, ?) "
            "ON CONFLICT (form) DO UPDATE SET n = n + excluded.n",
            ((form, fold_chars(form), n) for form, n in getattr(counts, kind).items()),
        )
