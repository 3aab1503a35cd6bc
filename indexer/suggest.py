"""Completions of what a reader is typing, drawn from the index's vocabulary.

The vocabulary file (``vocabulary.py``) counts, for every syllable and pyvi word, how many
articles use it. Its most frequent entries are loaded once into a sorted table of folded keys
("ha_noi" for "hà_nội"), built again when the file changes. A completion aligns the last
syllables typed with the first syllables of an entry, the very last one taken as a prefix:
"ha no" and "hà nộ" both find "hà nội".
"""

from __future__ import annotations

import bisect
import os
import re
import sqlite3
import threading
import unicodedata
from collections import OrderedDict
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .query import MAX_WORD_SYLLABLES
from .text import clean, fold_chars, index_form
from .vocabulary import VOCABULARY_FILE

__all__ = ["MAX_SUGGESTIONS", "Completions", "completions", "suggest"]

MAX_SUGGESTIONS = 8
# How many of the most frequent entries are kept: rarer ones are mostly names met once and
# typos, and the table's memory stays bounded (tens of MB at these sizes) however large the index.
KEPT_WORDS = 150_000
KEPT_SYLLABLES = 50_000
MAX_ENTRY_CHARS = 40
ALONE_AT_LEAST = 10  # a syllable ranks as used alone in at least 1 in this many of its articles
KEPT_INDEXES = 4  # completion tables held at once, for the most recently used index directories
_SCAN = 64  # candidates ranked at once; more only when the typed diacritics reject most of them
_SYLLABLE = re.compile(r"[^\W_]+")
_LETTER = re.compile(r"[^\W\d_]")
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
_LAST = "\U0010ffff"


def _untoned(text: str) -> str:
    """``text`` without its tone marks ("nộ" → "nô"): what a reader has typed before the tone key."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))


def _fits(typed: str, form: str) -> bool:
    """Whether each typed letter is the form's letter, or that letter with fewer marks ("a" or "â" for "ấ")."""
    if len(form) < len(typed):
        return False
    return all(c == x or c == fold_chars(x) or c == _untoned(x) for c, x in zip(typed, form))


def _kept(form: str) -> bool:
    """Whether an entry may be suggested: not too long, and not a number or a symbol."""
    return len(form) <= MAX_ENTRY_CHARS and _LETTER.search(form) is not None


@dataclass(frozen=True)
class _Typed:
    """What has been typed, as indexed syllables: the whole ones, then the one in progress."""

    syllables: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> "_Typed":
        return cls(tuple(index_form(s) for s in _SYLLABLE.findall(clean(text).lower())))


class Completions:
    """The most frequent syllables and words of one vocabulary file, sorted by folded key."""

    def __init__(self, entries: dict[str, int], used: dict[str, int] | None = None, folded: dict[str, str] | None = None):
        """``entries``: form → how many articles use it, the order of completions; ``used``: the
        articles that use a form at all, where that is more (which spelling a syllable typed means);
        ``folded``: forms already folded (the vocabulary file holds them)."""
        used, folded = used or {}, folded or {}
        rows = sorted(
            (folded.get(form) or fold_chars(form), form, n, max(n, used.get(form, 0))) for form, n in entries.items()
        )
        self._keys = [key for key, _, _, _ in rows]
        self._forms = [form for _, form, _, _ in rows]
        self._counts = np.fromiter((n for _, _, n, _ in rows), dtype=np.int64, count=len(rows))
        self._used = np.fromiter((u for _, _, _, u in rows), dtype=np.int64, count=len(rows))

    @classmethod
    def load(cls, index_dir: Path) -> "Completions":
        """The table of ``index_dir``'s vocabulary file (empty when it has none or cannot be read)."""
        counts: dict[str, dict[str, int]] = {"syllables": {}, "words": {}}
        folded: dict[str, str] = {}
        path = Path(index_dir) / VOCABULARY_FILE
        try:
            with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)) as db:
                for table, kept in (("syllables", KEPT_SYLLABLES), ("words", KEPT_WORDS)):
                    query = f"SELECT form, folded, n FROM {table} ORDER BY n DESC, form LIMIT ?"
                    for form, key, n in db.execute(query, (kept,)):
                        counts[table][form] = n
                        folded[form] = key
        except sqlite3.Error:
            pass  # no vocabulary yet, or a damaged one: no completions, the searches still work
        return cls.from_counts(counts["syllables"], counts["words"], folded)

    @classmethod
    def from_counts(
        cls, syllables: dict[str, int], words: dict[str, int], folded: dict[str, str] | None = None
    ) -> "Completions":
        """The table of these syllable and (pyvi, several-syllable) word counts. A syllable is ranked by
        the articles that use it outside the words it is part of, as far as document counts tell (at
        least a tenth of them): "hoạt" is mostly "hoạt động", and completing "hoạ" to it alone misleads."""
        inside: dict[str, int] = {}
        for word, n in words.items():
            for part in set(word.split("_")):
                inside[part] = inside.get(part, 0) + n
        entries = {form: n for form, n in words.items() if _kept(form)}
        for form, n in syllables.items():
            if _kept(form) and form not in entries:
                entries[form] = max(n - inside.get(form, 0), -(-n // ALONE_AT_LEAST))
        return cls(entries, syllables, folded)

    def __len__(self) -> int:
        return len(self._keys)

    def complete(self, text: str, limit: int = MAX_SUGGESTIONS) -> list[str]:
        """Up to ``limit`` completions of ``text``: first those of the entries that the most syllables
        typed last begin ("ha no": "hà nội"), most used first; then those that fewer of them begin.
        The whole syllables before are read as the words they most likely spell, and an entry
        begins only where one of those words does ("thanh pho ho": "thành phố" + "hồ…", never "phổ hòa")."""
        typed = _Typed.parse(text).syllables
        if not typed:
            return []
        lead = self._reading(typed[:-1])
        starts = {sum(n for _, n in lead[:i]): i for i in range(len(lead) + 1)}
        out: dict[str, None] = {}
        for j in range(min(len(typed), MAX_WORD_SYLLABLES), 0, -1):
            start = len(typed) - j
            if start not in starts:
                continue
            head = [form for form, _ in lead[: starts[start]]]
            for form in self._best(typed[start:], limit):
                out.setdefault(" ".join(head + [form.replace("_", " ")]))
            if len(out) >= limit:
                break
        return list(out)[:limit]

    def _reading(self, syllables: tuple[str, ...]) -> list[tuple[str, int]]:
        """Whole syllables as the most used entries they spell, longest first ("gia vang" → "giá vàng"),
        each with how many syllables it takes."""
        out: list[tuple[str, int]] = []
        i = 0
        while i < len(syllables):
            for n in range(min(MAX_WORD_SYLLABLES, len(syllables) - i), 0, -1):
                form = self._spelled(syllables[i : i + n])
                if form is not None:
                    out.append((form.replace("_", " "), n))
                    i += n
                    break
            else:
                out.append((syllables[i], 1))
                i += 1
        return out

    def _spelled(self, syllables: tuple[str, ...]) -> str | None:
        """The most used entry spelled by exactly these syllables, with the marks they were typed with."""
        key = "_".join(fold_chars(s) for s in syllables)
        lo = bisect.bisect_left(self._keys, key)
        hi = bisect.bisect_right(self._keys, key, lo)
        fitting = [i for i in range(lo, hi) if self._typed_fits(syllables, self._forms[i], whole=True)]
        return self._forms[max(fitting, key=lambda i: (self._used[i], -i))] if fitting else None

    def _best(self, tail: tuple[str, ...], want: int) -> list[str]:
        """The most used entries that ``tail`` begins, its last syllable a prefix."""
        prefix = "_".join(fold_chars(s) for s in tail)
        lo = bisect.bisect_left(self._keys, prefix)
        hi = bisect.bisect_left(self._keys, prefix + _LAST, lo)
        if lo == hi:
            return []
        counts = self._counts[lo:hi]
        take = min(hi - lo, max(_SCAN, 8 * want))
        while True:
            idx = np.arange(hi - lo) if take == hi - lo else np.argpartition(-counts, take - 1)[:take]
            order = idx[np.lexsort((idx, -counts[idx]))]  # most used first, then in key order
            found = []
            for i in order:
                form = self._forms[lo + int(i)]
                if self._typed_fits(tail, form):
                    found.append(form)
                    if len(found) == want:
                        return found
            if take == hi - lo:
                return found
            take = hi - lo

    @staticmethod
    def _typed_fits(tail: tuple[str, ...], form: str, whole: bool = False) -> bool:
        """Whether ``form`` is spelled by ``tail``'s syllables, the last one a prefix unless ``whole``."""
        parts = form.split("_")
        *done, last = tail
        if not all(_fits(t, p) and len(t) == len(p) for t, p in zip(done, parts)):
            return False
        return _fits(last, parts[len(done)]) and (not whole or len(last) == len(parts[len(done)]))


# One table per index directory, shared by every store of the process, with the stamp of the
# vocabulary file it was loaded from; a newer file is loaded by a thread of its own meanwhile.
_tables: OrderedDict[str, tuple[tuple | None, Completions]] = OrderedDict()
_tables_lock = threading.Lock()
_loaders: dict[str, threading.Thread] = {}  # the index directories whose newer table is being loaded
_first_loads: dict[str, threading.Lock] = {}  # one first load per index directory, however many ask


def _stamp(index_dir: Path) -> tuple | None:
    try:
        st = os.stat(Path(index_dir) / VOCABULARY_FILE)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def completions(index_dir: Path, wait: bool = False) -> Completions:
    """The completion table of ``index_dir``, loaded on first use. Once its vocabulary changed, the
    table held so far answers while a thread loads the new one (unless ``wait``: loaded at once)."""
    key = os.path.realpath(index_dir)
    stamp = _stamp(Path(key))
    with _tables_lock:
        held = _tables.get(key)
        if held is not None:
            _tables.move_to_end(key)
            if held[0] == stamp:
                return held[1]
            if not wait:
                if key not in _loaders:
                    _loaders[key] = loader = threading.Thread(
                        target=_load_in_background, args=(key, stamp), name="vnsearch-suggest", daemon=True
                    )
                    loader.start()
                return held[1]
        first = _first_loads.setdefault(key, threading.Lock())
    with first:
        with _tables_lock:
            held = _tables.get(key)
        if held is not None and held[0] == stamp:
            return held[1]  # another request loaded it meanwhile
        table = Completions.load(Path(key))
        _keep(key, stamp, table)
    return table


def _load_in_background(key: str, stamp: tuple | None) -> None:
    try:
        _keep(key, stamp, Completions.load(Path(key)))
    finally:
        with _tables_lock:
            _loaders.pop(key, None)


def _keep(key: str, stamp: tuple | None, table: Completions) -> None:
    with _tables_lock:
        _tables[key] = (stamp, table)
        _tables.move_to_end(key)
        while len(_tables) > KEPT_INDEXES:
            gone, _ = _tables.popitem(last=False)
            _first_loads.pop(gone, None)


def suggest(index_dir: Path, text: str, limit: int = MAX_SUGGESTIONS) -> list[str]:
    """Up to ``limit`` completions of ``text`` from the vocabulary of the index at ``index_dir``."""
    return completions(index_dir).complete(text, limit)
