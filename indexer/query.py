"""Query text → ParsedQuery: plain syllables, "quoted phrases", -exclusions.

Queries go through the same door as articles (clean, syllables, index forms),
so a query is matched on the same terms the index holds. Any character that is
not an operator is just text: parsing never fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .analysis import syllables
from .text import clean

__all__ = ["ParsedQuery", "parse_query"]

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

    @property
    def accented(self) -> bool:
        """True when the reader typed diacritics: exact forms then count."""
        return any(e != f for e, f in self.terms + tuple(s for p in self.phrases for s in p))

    @property
    def wanted(self) -> frozenset[Forms]:
        """Every syllable the query asks for (terms and phrase members), for snippets."""
        return frozenset(self.terms + tuple(s for p in self.phrases for s in p))

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.phrases


def _forms(text: str) -> tuple[Forms, ...]:
    return tuple((s.exact, s.folded) for s in syllables(text))


def parse_query(text: str) -> ParsedQuery:
    """Split query text into required syllables, phrases and exclusions."""
    text = clean(text).translate(_QUOTES)
    terms: list[Forms] = []
    phrases: list[tuple[Forms, ...]] = []
    excluded: list[tuple[Forms, ...]] = []
    runs: list[list[Forms]] = [[]]  # wanted syllables in typed order, split at operators
    for m in _CHUNK.finditer(text):
        minus, quoted, bare = m.groups()
        chunk = quoted if quoted is not None else bare
        forms = _forms(chunk)
        if not forms:
            continue
        if minus and (m.start() == 0 or text[m.start() - 1].isspace()):
            excluded.append(forms)
            runs.append([])
        elif quoted is not None:
            phrases.append(forms)
            runs += [list(forms), []]
        else:
            terms.extend(f for f in forms if f not in terms)
            runs[-1].extend(forms)
    parsed = ParsedQuery(tuple(terms), tuple(phrases), tuple(excluded))
    if parsed.accented:
        parsed = ParsedQuery(parsed.terms, parsed.phrases, parsed.excluded, _word_candidates(runs))
    return parsed


def _word_candidates(runs: list[list[Forms]]) -> tuple[str, ...]:
    """Every run of 2–4 adjacent query syllables, joined as pyvi words are indexed.

    The index's word vocabulary decides which are words: a candidate that pyvi
    never produced matches nothing. This avoids running pyvi on queries, where
    it is unreliable (lowercase or all-caps names stay unjoined) and costs a
    second of model loading per process.
    """
    out: dict[str, None] = {}
    for run in runs:
        exact = [e for e, _ in run]
        for n in range(2, MAX_WORD_SYLLABLES + 1):
            for i in range(len(exact) - n + 1):
                out["_".join(exact[i : i + n])] = None
    return tuple(out)


MAX_WORD_SYLLABLES = 4
