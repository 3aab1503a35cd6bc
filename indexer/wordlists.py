"""Editorial word lists: abbreviations (synonyms) and stopwords, the packaged ones merged with a newsroom's files.

Both are applied to queries only, so a changed list needs no reindex. ``WordListFiles`` keeps a
running server's lists current with their files (one ``stat`` a file per request).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Callable

from .analysis import syllables
from .errors import WordListError
from .text import clean

__all__ = ["ABBREVIATIONS_FILE", "STOPWORDS_FILE", "WordListFiles", "WordLists", "load_word_lists", "packaged_lists"]

ABBREVIATIONS_FILE = Path(__file__).with_name("abbreviations.txt")
STOPWORDS_FILE = Path(__file__).with_name("stopwords.txt")

Forms = tuple[str, str]  # (exact index form, folded form) of one syllable
Variant = tuple[Forms, ...]
Group = tuple[Variant, ...]  # the spellings that find each other ("HN | Hà Nội")
# First folded syllable → [(folded variant, its group)], longest variant first.
AbbreviationTable = dict[str, list[tuple[tuple[str, ...], Group]]]


@dataclass(frozen=True)
class WordLists:
    """The synonym groups and stopwords a query is parsed with."""

    groups: tuple[Group, ...] = ()
    stopwords: frozenset[str] = field(default_factory=frozenset)  # exact index forms

    @cached_property
    def abbreviations(self) -> AbbreviationTable:
        """The groups indexed by their variants' first folded syllable, for matching query runs."""
        table: AbbreviationTable = {}
        for group in self.groups:
            for variant in group:
                table.setdefault(variant[0][1], []).append((_folded(variant), group))
        for entries in table.values():
            entries.sort(key=lambda e: -len(e[0]))
        return table

    def merged(self, groups: tuple[Group, ...], added: frozenset[str], removed: frozenset[str]) -> WordLists:
        """These lists with a file's entries winning: its groups replace any group sharing a variant
        with them; its stopwords are added, its ``-stopword`` lines removed."""
        taken = {_folded(v) for g in groups for v in g}
        kept = tuple(g for g in self.groups if not any(_folded(v) in taken for v in g))
        return WordLists(kept + groups, (self.stopwords - removed) | added)


def _folded(variant: Variant) -> tuple[str, ...]:
    return tuple(f for _, f in variant)


def _forms(text: str) -> Variant:
    return tuple((s.exact, s.folded) for s in syllables(clean(text)))


def _lines(path: Path):
    """(line number, text) of each line that is not blank or a ``#`` comment; WordListError at a non-UTF-8 line."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise WordListError(f"{path}: {e.strerror or e}") from None
    for number, raw in enumerate(data.splitlines(), 1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
        except UnicodeDecodeError:
            raise WordListError(f"{path}:{number}: not UTF-8 text") from None
        if line and not line.startswith("#"):
            yield number, line


def read_synonyms(path: Path) -> tuple[Group, ...]:
    """The groups of a synonyms file: one a line, variants separated by ``|``."""
    groups = []
    for number, line in _lines(path):
        parts = [p.strip() for p in line.split("|")]
        variants = tuple(_forms(p) for p in parts)
        if len(parts) < 2:
            raise WordListError(f'{path}:{number}: one variant only: separate the variants with " | "')
        for n, (part, variant) in enumerate(zip(parts, variants), 1):
            if not variant:
                raise WordListError(f"{path}:{number}: variant {n} ({part!r}) has no letters or digits")
        groups.append(variants)
    return tuple(groups)


def read_stopwords(path: Path) -> tuple[frozenset[str], frozenset[str]]:
    """The stopwords a file adds (one syllable a line) and those it removes (``-syllable``)."""
    added, removed = set(), set()
    for number, line in _lines(path):
        minus = line.startswith("-")
        forms = _forms(line[1:] if minus else line)
        if len(forms) != 1:
            what = "no syllable" if not forms else f"{len(forms)} syllables"
            raise WordListError(f"{path}:{number}: {what}: a stopword is one syllable")
        (removed if minus else added).add(forms[0][0])
    return frozenset(added), frozenset(removed - added)


@lru_cache(maxsize=1)
def packaged_lists() -> WordLists:
    """The lists shipped with vnsearch."""
    return WordLists(read_synonyms(ABBREVIATIONS_FILE), read_stopwords(STOPWORDS_FILE)[0])


def load_word_lists(synonyms: Path | None = None, stopwords: Path | None = None) -> WordLists:
    """The packaged lists merged with these files (either may be None); WordListError names FILE:LINE."""
    lists = packaged_lists()
    groups = read_synonyms(Path(synonyms)) if synonyms else ()
    added, removed = read_stopwords(Path(stopwords)) if stopwords else (frozenset(), frozenset())
    return lists.merged(groups, added, removed) if synonyms or stopwords else lists


class WordListFiles:
    """A running server's word lists, read again when a file's mtime or size changes. A file that
    breaks (a bad line, gone) keeps the last good lists and is reported once to ``on_error``."""

    def __init__(self, synonyms: Path | None, stopwords: Path | None, on_error: Callable[[str], None]):
        self.paths = tuple(Path(p) if p else None for p in (synonyms, stopwords))
        self._on_error = on_error
        self._lock = threading.Lock()
        self._seen = self._stamps()
        self._lists = load_word_lists(*self.paths)  # at start a bad file is an error

    def current(self) -> WordLists:
        """The lists as their files now say (or the last good ones)."""
        stamps = self._stamps()
        if stamps == self._seen:
            return self._lists
        with self._lock:
            if stamps != self._seen:
                self._seen = stamps
                try:
                    self._lists = load_word_lists(*self.paths)
                except WordListError as e:
                    self._on_error(f"{e} — still using the word lists read before")
        return self._lists

    def _stamps(self) -> tuple:
        return tuple(_stamp(p) for p in self.paths)


def _stamp(path: Path | None) -> tuple[int, int] | None:
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return (-1, -1)
    return (st.st_mtime_ns, st.st_size)
