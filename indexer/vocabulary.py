"""The index's vocabulary: how often each syllable and pyvi word occurs, and what
a query typed without diacritics most likely meant.

Counted at index time from the analyzed documents (document frequencies, kept
in a JSON file beside the Whoosh index; deletions are not subtracted, which
only makes the counts a little stale). Used at query time to give queries
without diacritics the pyvi-word signal ("truong thi mai" → trương_thị_mai) and
to suggest a reading with diacritics or a correction for a likely typo.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from dataclasses import replace
from pathlib import Path

from .query import Forms, ParsedQuery
from .text import fold, fold_chars

__all__ = ["Vocabulary", "VOCABULARY_FILE"]

VOCABULARY_FILE = "vocabulary.json"
MAX_WORD = 4
# An accented reading is "clear" when it holds at least this share of the
# documents of every reading with the same letters.
CLEAR_SHARE = 0.6
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


class Vocabulary:
    """Document frequencies of exact syllables and words, with folded look-ups."""

    def __init__(self, syllables: Counter | None = None, words: Counter | None = None):
        self.syllables: Counter = syllables or Counter()
        self.words: Counter = words or Counter()
        self._readings: dict[str, dict[str, tuple[str, int, int]]] | None = None
        self._readings_lock = threading.Lock()

    # -- counting (index time) ----------------------------------------------
    def add_document(self, doc: dict) -> None:
        """Count one analyzed document (the dict ``documents.to_document`` makes)."""
        self.syllables.update(set((doc.get("title_x", "") + " " + doc.get("text_x", "")).split()))
        self.words.update(set((doc.get("title_w", "") + " " + doc.get("text_w", "")).split()))
        self._readings = None

    def add(self, other: "Vocabulary") -> None:
        """Add another vocabulary's counts (a batch's) to these."""
        self.syllables.update(other.syllables)
        self.words.update(other.words)
        self._readings = None

    def save(self, index_dir: Path) -> None:
        """Write atomically beside the index (a reader never sees half a file)."""
        path = Path(index_dir) / VOCABULARY_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"syllables": self.syllables, "words": self.words}, ensure_ascii=False), "utf-8")
        os.replace(tmp, path)

    @classmethod
    def load(cls, index_dir: Path) -> "Vocabulary":
        """The saved vocabulary, or an empty one when there is none yet."""
        try:
            data = json.loads((Path(index_dir) / VOCABULARY_FILE).read_text("utf-8"))
        except (OSError, ValueError):
            return cls()
        return cls(Counter(data.get("syllables", {})), Counter(data.get("words", {})))

    @classmethod
    def shared(cls, index_dir: Path) -> "Vocabulary":
        """The saved vocabulary, loaded once per process and per version of the file
        (every open store of an index shares it)."""
        path = Path(index_dir) / VOCABULARY_FILE
        try:
            st = path.stat()
            stamp = (st.st_ino, st.st_size, st.st_mtime_ns)  # a rebuilt index's file is another one
        except OSError:
            stamp = None
        key = str(path.resolve())
        with _shared_lock:
            cached = _shared.get(key)
            if cached is None or cached[0] != stamp:
                cached = _shared[key] = (stamp, cls.load(index_dir))
            return cached[1]

    # -- readings (query time) -------------------------------------------------
    def _reading_tables(self) -> dict[str, dict[str, tuple[str, int, int]]]:
        """folded form → (most frequent exact form, its count, count of all forms)."""
        with self._readings_lock:
            if self._readings is None:
                self._readings = self._build_readings()
            return self._readings

    def _build_readings(self) -> dict[str, dict[str, tuple[str, int, int]]]:
        tables = {}
        for name, counter in (("syllables", self.syllables), ("words", self.words)):
            best: dict[str, tuple[str, int, int]] = {}
            for exact, n in counter.items():
                key = fold_chars(exact)  # as fold() on these lowercase forms, in C (290,000 of them at 100k)
                form, top, total = best.get(key, (exact, 0, 0))
                best[key] = (exact, n, total + n) if n > top else (form, top, total + n)
            tables[name] = best
        return tables

    def word_readings(self, parsed: ParsedQuery) -> ParsedQuery:
        """For a query typed without diacritics, the indexed words its adjacent
        syllables spell, added as ranking signals (never required)."""
        if parsed.accented:
            return parsed
        words = self._reading_tables()["words"]
        found = []
        for run in parsed.runs:
            folded = [f for _, f in run]
            for n in range(2, MAX_WORD + 1):
                for i in range(len(folded) - n + 1):
                    hit = words.get("_".join(folded[i : i + n]))
                    if hit:
                        found.append(hit[0])
        return replace(parsed, words=tuple(dict.fromkeys(found))) if found else parsed

    def suggest(self, parsed: ParsedQuery) -> str | None:
        """A better way to type the query, or None.

        Without diacritics: the clear accented reading, word by word
        ("truong thi mai" → "trương thị mai"). With or without: a syllable the
        index has never seen is replaced by the most frequent one a single edit
        away. Only for queries of plain words.
        """
        if parsed.phrases or parsed.excluded or len(parsed.runs) != 1:
            return None
        tables = self._reading_tables()
        terms = list(parsed.runs[0])
        out: list[str] = []
        i = 0
        while i < len(terms):
            step, reading = 1, None
            if not parsed.accented:
                for n in range(min(MAX_WORD, len(terms) - i), 1, -1):
                    hit = tables["words"].get("_".join(f for _, f in terms[i : i + n]))
                    if hit and hit[1] >= CLEAR_SHARE * hit[2]:
                        step, reading = n, hit[0].replace("_", " ")
                        break
            if reading is None:
                reading = self._syllable_reading(terms[i], parsed.accented)
            out.append(reading)
            i += step
        suggestion = " ".join(out)
        typed = " ".join(e for e, _ in terms)
        return suggestion if suggestion != typed else None

    def _syllable_reading(self, forms: Forms, accented: bool) -> str:
        exact, folded = forms
        table = self._reading_tables()["syllables"]
        if self.syllables.get(exact):
            if accented:
                return exact
            hit = table.get(folded)
            return hit[0] if hit and hit[1] >= CLEAR_SHARE * hit[2] else exact
        # Never seen as typed: the same letters with other marks, else a likely
        # typo — the most frequent known syllable one edit away.
        if folded in table:
            return table[folded][0]
        scored = [table[c][1:2] + table[c][:1] for c in _edits(folded) if c in table]
        return max(scored)[1] if scored else exact


_shared: dict[str, tuple[tuple | None, Vocabulary]] = {}
_shared_lock = threading.Lock()


def _edits(word: str) -> set[str]:
    """Every string one deletion, transposition, replacement or insertion away."""
    letters = _LETTERS
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in letters}
    out |= {a + c + b for a, b in splits for c in letters}
    out.discard(word)
    return out
