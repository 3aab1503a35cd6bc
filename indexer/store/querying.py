"""Query building: a parsed query and a matching level in, a Whoosh query out (a pure function).

Levels, tried in order until one finds articles: EXACT forms ("Đà Nẵng" is not "đã nâng"),
then FOLDED (a mis-typed mark still finds it, exact forms ranked first), then ANY syllable (OR).
A query holding a stray (``ParsedQuery.rare``: a short non-syllable hardly any article holds, such
as ``thp``) starts at HELD instead: FOLDED with the stray only raising the score."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Sequence

from whoosh import query as Q

from ..fields import TEXT_F, TEXT_W, TEXT_X, TITLE_F, TITLE_W, TITLE_X
from ..query import LONG_QUERY, ParsedQuery

# Query-time boosts. The text fields already hold the title, so a title syllable
# counts there; the title fields add half as much again. A query's syllables that
# form an indexed pyvi word raise the score as much as one more syllable would.
# Tuned with bench/relevance.py: a heavier title boost let news titles outweigh
# the passages that answer a question.
TITLE_BOOST = 0.5
WORD_BOOST = {TITLE_W: 0.5, TEXT_W: 1.0}
# Adjacent query syllables found side by side in an article (title or text) add this much
# of their scores again, and three in a row TRIPLE_BOOST of theirs more: a name, or a headline's
# words in their order, outranks the same syllables scattered through an article. It costs
# reading the best articles' syllables (store.sequences; PROXIMITY_BOOST 0: off).
PROXIMITY_BOOST = 0.6
TRIPLE_BOOST = 0.4
# Queries of MOST_FROM to MOST_UNTIL required syllables may match all but one of them (the MOST
# level, tried first, then ANY). Off (None): on the typing, known-item and XQuAD sets it lost
# more than it won (docs/design.md); build_query still builds the level.
MOST_FROM: int | None = None
MOST_UNTIL = 7
EXACT, FOLDED, HELD, MOST, ANY = "exact", "folded", "held", "most", "any"


@dataclass(frozen=True)
class Filters:
    """Restrictions applied to a search, all optional; an article matches any of a filter's values."""

    source: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    since: dt.date | None = None  # a date (from its start) or a date-time
    until: dt.date | None = None  # a date (to its end) or a date-time
    group: str | None = None  # one group of near duplicates (indexer.duplicates)


def _syllable(forms: tuple[str, str], exact: bool) -> Q.Query:
    """One syllable of the article (title included), by its exact or folded form."""
    return Q.Term(TEXT_X, forms[0]) if exact else Q.Term(TEXT_F, forms[1])


def _in_title(forms: tuple[str, str], exact: bool) -> Q.Query:
    return Q.Term(TITLE_X if exact else TITLE_F, forms[0] if exact else forms[1], boost=TITLE_BOOST)


def _sequence(forms: Sequence[tuple[str, str]], exact: bool) -> Q.Query:
    """Syllables side by side (a quoted phrase, an abbreviation's long form). Only folded forms
    keep positions: an exact phrase is the folded phrase in an article with each exact syllable."""
    if len(forms) == 1:
        return _syllable(forms[0], exact)
    phrase = adjacent([f for _, f in forms])
    marked = [_syllable(f, True) for f in dict.fromkeys(forms) if f[0] != f[1]]  # unmarked: any reading
    return Q.And([phrase] + marked) if exact and marked else phrase


def both_syllables(folded: Sequence[str]) -> Q.Query:
    """Articles holding each of these folded syllables."""
    return Q.And([Q.Term(TEXT_F, f) for f in dict.fromkeys(folded)])


def adjacent(folded: Sequence[str]) -> Q.Phrase:
    """Articles holding these folded syllables side by side, in this order."""
    return Q.Phrase(TEXT_F, list(folded))


def levels(parsed: ParsedQuery) -> tuple[str, ...]:
    """The matching levels to try for this query, strictest first."""
    # A long query typed with diacritics skips the folded level: ranking articles by how many
    # of its syllables they hold beats requiring them all with the marks ignored.
    clauses = len(parsed.terms) + len(parsed.alternatives)
    if not parsed.accented:
        first: tuple[str, ...] = (FOLDED,)
    elif clauses + len(parsed.optional) >= LONG_QUERY:
        first = (EXACT,)
    else:
        first = (EXACT, FOLDED)
    if MOST_FROM is not None and MOST_FROM <= len(parsed.terms) <= MOST_UNTIL:
        return (MOST, ANY)
    if parsed.rare and FOLDED in first and any(t not in parsed.rare for t in parsed.terms):
        first = (HELD,)  # the one or two articles holding the stray are seldom the one wanted
    return first + ((ANY,) if clauses > 1 else ())


def build_query(parsed: ParsedQuery, level: str = EXACT) -> Q.Query | None:
    """The Whoosh query for a parsed query at one matching level; None when it has nothing to match.
    Plain syllables are all required (one at ANY, the rare ones none at HELD); phrases required,
    exclusions excluded; pyvi words and a long query's function syllables only raise the score."""
    exact = parsed.accented and level not in (FOLDED, HELD)
    dropped = parsed.rare if level == HELD else ()
    terms = [_syllable(t, exact and t not in parsed.loose) for t in parsed.terms if t not in dropped]
    for typed, *others in parsed.alternatives:
        # An abbreviation: as typed, or any other variant of its group (folded).
        variants = [_sequence(typed, exact)] + [_sequence(v, False) for v in others]
        terms.append(Q.Or(variants))
    phrases = [_sequence(p, exact) for p in parsed.phrases]
    if not terms and not phrases:
        return None
    if level == ANY and len(terms) > 1:
        terms = [Q.Or(terms)]
    elif level == MOST and len(terms) > 2:
        terms = [Q.Or(terms, minmatch=len(terms) - 1)]
    required = Q.And(terms + phrases) if len(terms) + len(phrases) > 1 else (terms + phrases)[0]

    # Only the text fields are required (one posting list per syllable); the
    # title, a long query's function syllables and pyvi words add to the score.
    boosts: list[Q.Query] = [
        _in_title(t, exact and t not in parsed.loose) for t in parsed.terms + tuple(s for p in parsed.phrases for s in p)
    ]
    boosts += [_syllable(t, exact) for t in parsed.optional + dropped]
    if parsed.accented and not exact:
        # Matched on folded forms: the exact ones typed still rank first.
        boosts += [_syllable(t, True) for t in parsed.terms]
    boosts += [Q.Term(f, word, boost=b) for word in parsed.words for f, b in WORD_BOOST.items()]
    boosts += _proximity(parsed)
    q = Q.AndMaybe(required, Q.Or(boosts)) if boosts else required

    if parsed.excluded:
        q = Q.AndNot(q, Q.Or([_sequence(e, _is_accented(e)) for e in parsed.excluded]))
    return q


def _proximity(parsed: ParsedQuery) -> list[Q.Query]:
    """Each two and each three adjacent plain syllables of the query, side by side in the article (folded forms)."""
    if not PROXIMITY_BOOST:  # off: no positions read
        return []
    required = set(parsed.terms)
    spans: dict[tuple[str, ...], float] = {}
    for n, boost in ((2, PROXIMITY_BOOST), (3, TRIPLE_BOOST)):
        for run in parsed.runs:
            for i in range(len(run) - n + 1):
                part = run[i : i + n]
                folded = tuple(f for _, f in part)
                if boost and all(s in required for s in part) and len(set(folded)) == n:
                    spans.setdefault(folded, boost)
    # Three in a row read no positions that their pairs do not.
    return [Q.Phrase(TEXT_F, list(words), boost=boost) for words, boost in spans.items()]


def _is_accented(forms: Sequence[tuple[str, str]]) -> bool:
    return any(exact != folded for exact, folded in forms)
