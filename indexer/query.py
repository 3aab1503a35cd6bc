"""Query text → ParsedQuery: plain syllables, "quoted phrases", -exclusions.

Queries go through the same door as articles (clean, syllables, index forms),
so a query is matched on the same terms the index holds. Any character that is
not an operator is just text: parsing never fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .analysis import syllables
from .text import clean
from .wordlists import AbbreviationTable, WordLists, packaged_lists

__all__ = ["MAX_WORD_SYLLABLES", "ParsedQuery", "parse_query", "word_spans"]

Forms = tuple[str, str]  # (exact index form, folded form) of one syllable

# A chunk is an optional "-" then a quoted phrase (closing quote optional) or a
# run of non-space characters. Curly quotes count as quotes.
_CHUNK = re.compile(r'(-?)(?:"([^"]*)"?|(\S+))')
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})


@dataclass(frozen=True)
class ParsedQuery:
    """What a query asks for, in index forms."""

    terms: tuple[Forms, ...] = ()  # plain syllables, each required (AND first)
    phrases: tuple[tuple[Forms, ...], ...] = ()  # quoted, required in order
    excluded: tuple[tuple[Forms, ...], ...] = ()  # -word or -"phrase"
    words: tuple[str, ...] = ()  # candidate multi-syllable words, a ranking signal only
    # Abbreviations typed in the query: each is one required clause satisfied by
    # any of its variants (as typed first, then the others, folded).
    alternatives: tuple[tuple[tuple[Forms, ...], ...], ...] = ()
    # The plain syllables as typed, in runs between operators (for word
    # look-ups and suggestions, which need the order).
    runs: tuple[tuple[Forms, ...], ...] = ()
    # Function syllables of a long query: they raise the score, never required.
    optional: tuple[Forms, ...] = ()
    # Syllables typed without marks in a query where others have them ("giá vang"):
    # matched by their letters, whatever marks the article gives them.
    loose: tuple[Forms, ...] = ()
    # Strays: short non-syllables at most a couple of articles hold (from the index's counts,
    # set by spelling.prepared), not required when the query has other syllables.
    rare: tuple[Forms, ...] = ()

    @property
    def accented(self) -> bool:
        """True when the reader typed diacritics: exact forms then count."""
        return any(e != f for e, f in self._typed())

    @property
    def wanted(self) -> frozenset[Forms]:
        """Every syllable the query asks for (terms, phrases, abbreviations), for snippets."""
        return frozenset(self._typed() + tuple(s for alt in self.alternatives for v in alt[1:] for s in v))

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.phrases and not self.alternatives

    def _typed(self) -> tuple[Forms, ...]:
        return (
            self.terms
            + tuple(s for p in self.phrases for s in p)
            + tuple(s for alt in self.alternatives for s in alt[0])
        )


def _forms(text: str) -> tuple[Forms, ...]:
    return tuple((s.exact, s.folded) for s in syllables(text))


def parse_query(text: str, word_lists: WordLists | None = None) -> ParsedQuery:
    """Split query text into required syllables, phrases, abbreviations and exclusions
    (``word_lists``: the abbreviations and stopwords, by default the packaged ones)."""
    word_lists = word_lists or packaged_lists()
    text = clean(text).translate(_QUOTES)
    phrases: list[tuple[Forms, ...]] = []
    excluded: list[tuple[Forms, ...]] = []
    runs: list[list[Forms]] = [[]]  # plain syllables in typed order, split at operators
    for m in _CHUNK.finditer(text):
        minus, quoted, bare = m.groups()
        forms = _forms(quoted if quoted is not None else bare)
        if not forms:
            continue
        if minus and (m.start() == 0 or text[m.start() - 1].isspace()):
            excluded.append(forms)
            runs.append([])
        elif quoted is not None:
            phrases.append(forms)
            runs.append([])
        else:
            runs[-1].extend(forms)
    terms: list[Forms] = []
    alternatives: list[tuple[tuple[Forms, ...], ...]] = []
    for run in runs:
        for kind, item in _expand_abbreviations(run, word_lists.abbreviations):
            bucket = alternatives if kind == "alt" else terms
            if item not in bucket:
                bucket.append(item)
    optional = _optional_stopwords(terms, word_lists.stopwords, len(alternatives))
    terms = [t for t in terms if t not in optional]
    parsed = ParsedQuery(
        tuple(terms),
        tuple(phrases),
        tuple(excluded),
        alternatives=tuple(alternatives),
        runs=tuple(tuple(r) for r in runs if r),
        optional=optional,
    )
    if parsed.accented:
        loose = tuple(t for t in parsed.terms if t[0] == t[1] and any(c.isalpha() for c in t[1]))
        parsed = replace(parsed, words=_word_candidates(runs + [list(p) for p in phrases]), loose=loose)
    return parsed


# From this many plain syllables on, a query reads as a sentence or a question.
LONG_QUERY = 4


def _optional_stopwords(terms: list[Forms], stopwords: frozenset[str], abbreviations: int = 0) -> tuple[Forms, ...]:
    """The function syllables of a long query, when at least two content clauses remain (an
    abbreviation or its long form counting as one)."""
    if len(terms) + abbreviations < LONG_QUERY:
        return ()
    stop = tuple(t for t in terms if t[0] in stopwords)
    return stop if len(terms) + abbreviations - len(stop) >= 2 else ()


def _expand_abbreviations(run: list[Forms], table: AbbreviationTable):
    """Yield ("term", syllable) or ("alt", variants) for a run of plain syllables: a span
    that spells an abbreviation or its long form becomes one clause, the span as typed or
    any other variant of its group."""
    i = 0
    while i < len(run):
        for folded, variants in table.get(run[i][1], ()):
            n = len(folded)
            if tuple(f for _, f in run[i : i + n]) == folded:
                typed = tuple(run[i : i + n])
                others = tuple(v for v in variants if tuple(f for _, f in v) != folded)
                yield "alt", (typed,) + others
                i += n
                break
        else:
            yield "term", run[i]
            i += 1


def _word_candidates(runs: list[list[Forms]]) -> tuple[str, ...]:
    """Every run of 2–4 adjacent query syllables, joined as pyvi words are indexed."""
    # The index's word vocabulary decides which are words: a candidate that pyvi never
    # produced matches nothing. pyvi is not run on queries: it is unreliable there
    # (lowercase or all-caps names stay unjoined), and a searching process need not load it.
    return tuple(dict.fromkeys(span for run in runs for span in word_spans([e for e, _ in run])))


MAX_WORD_SYLLABLES = 4  # the longest pyvi word a query's syllables are looked up as


def word_spans(syllables: list[str]) -> list[str]:
    """Every 2 to MAX_WORD_SYLLABLES adjacent syllables joined by "_", shortest first, in reading order."""
    return [
        "_".join(syllables[i : i + n])
        for n in range(2, MAX_WORD_SYLLABLES + 1)
        for i in range(len(syllables) - n + 1)
    ]
