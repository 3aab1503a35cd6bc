"""What a messily typed query meant: Telex or VNI keys decoded, one-letter slips corrected.

``searched`` runs a query (Telex decoded first) with its misspelt syllables corrected, when some
look misspelt, and as typed when that finds few or no articles with every syllable: one edit away
from a syllable the index holds, preferring frequent ones, those forming a known word with a
neighbour, and the slips fingers make. Where two readings compete (the best correction and the
runner-up; a common syllable and the reading a neighbour suggests), both are searched and the one
whose best article scores higher answers. A short query finding few articles, or none with every
syllable, has readings one slip away searched too (``_near_readings``). A short syllable that spells
no Vietnamese syllable and that hardly any article holds is marked ``rare``, a stray: when no
correction of it finds every syllable, the store requires the query's other syllables only (its
HELD level).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import replace
from typing import Callable, NamedTuple, Protocol, TypeVar

from .query import Forms, ParsedQuery, parse_query
from .telex import decode, is_syllable, one_mark_apart
from .wordlists import WordLists
from .text import fold, index_form

__all__ = ["decoded", "corrections", "edits", "prepared", "searched"]

# A syllable of this many letters or fewer is corrected only when it spells no syllable, and read only
# as a longer one that lost a letter: too many others are a letter away.
SHORT = 3
# A syllable the index holds at most this many times is a slip when a neighbour is RATIO times more
# frequent and the query as typed did not find every syllable together.
RARE, RATIO = 2, 100
MAX_FIXES = 3  # syllables corrected in one query at most: each costs hundreds of look-ups
# A known syllable forming no indexed word with its neighbours is a slip when one a single edit away
# forms a word at least this many articles use, and more than use the syllable as typed.
WORD_AT_LEAST = 20
# A commoner syllable than that word is a slip when the word's pair stands side by side SIDE_RATIO times
# as often as the pair typed; from DOUBT_RATIO times, both readings are searched (``searched``).
SIDE_RATIO, DOUBT_RATIO = 100, 10
# A query of at most NEAR_AT_MOST syllables finding them together in few articles (FEW per FEW_PER the
# index holds, FEW at least) may hold a slip into another common syllable (than mỹ: thanh mỹ). Readings
# one slip away (NEAR_TRIES at most) are searched too, and one answers when its best article scores
# CLEARLY times higher; any higher when the query as typed did not find its syllables together. Longer
# queries (questions) seldom find them all together, and each reading costs a search.
FEW, FEW_PER, CLEARLY, NEAR_TRIES, NEAR_AT_MOST = 50, 20_000, 1.7, 4, 6
TYPED_AT_MOST = 2  # a word the index holds more often than this is never read as Telex
_LATIN_WORD = re.compile(r"(?<![\w-])[A-Za-z][A-Za-z0-9]*(?![\w-])")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEAR = {c: "".join(r[j] for j in (i - 1, i + 1) if 0 <= j < len(r)) for r in _ROWS for i, c in enumerate(r)}


class Vocabulary(Protocol):
    def readings(self, kind: str, keys) -> dict[str, tuple[str, int, int]]: ...
    def forms(self, kind: str, keys) -> list[tuple[str, str, int]]: ...
    def syllable_count(self, exact: str) -> int: ...
    def word_readings(self, parsed: ParsedQuery) -> ParsedQuery: ...


class Found(Protocol):
    total: int
    matched_all: bool
    best: float  # the best article's score


F = TypeVar("F", bound=Found)
SideBySide = Callable[[tuple[str, str]], int]  # folded syllables → articles holding them side by side


def decoded(query: str, vocabulary: Vocabulary) -> str | None:
    """``query`` with its words typed as Telex or VNI keys decoded, None when none is. A word the
    index holds as typed (``iphone``, ``Moon``) stays; so does a lone one that forms no known word
    with a neighbour (``Trunf Quốc`` is a slip of Trung, not Telex for trùng)."""
    words = list(_LATIN_WORD.finditer(query))
    decodes = {}
    for m in words:
        syllable = decode(m.group(0))
        if syllable is not None and vocabulary.syllable_count(m.group(0).lower()) <= TYPED_AT_MOST:
            decodes[m.start()] = syllable
    if len(decodes) == 1 and len(query.split()) > 1:
        (at, syllable), = decodes.items()
        tokens = [(m.start(), fold(m.group(0))) for m in re.finditer(r"[^\W_]+", query)]
        i = next(k for k, (start, _) in enumerate(tokens) if start == at)
        me = fold(syllable)
        keys = {f"{tokens[i - 1][1]}_{me}": 1} if i else {}
        keys |= {f"{me}_{tokens[i + 1][1]}": 0} if i + 1 < len(tokens) else {}
        found = vocabulary.readings("words", list(keys))
        # The commoner word must spell the decoded marks: "trieeu tien" is triều tiên with a slip, not
        # triêu; "quaan chuc" is quan chức, though a few articles say "tiến quân".
        if not found:
            return None
        key, (form, _, _) = max(found.items(), key=lambda kv: (kv[1][2], kv[0]))
        if form.split("_")[keys[key]] != index_form(syllable):
            return None
    if not decodes:
        return None
    out, last = [], 0
    for m in words:
        if m.start() in decodes:
            out += [query[last : m.start()], decodes[m.start()]]
            last = m.end()
    return "".join(out) + query[last:]


def prepared(text: str, vocabulary: Vocabulary, word_lists: WordLists | None = None) -> ParsedQuery:
    """``text`` parsed (with ``word_lists``), with the indexed words its syllables spell as ranking signals."""
    parsed = vocabulary.word_readings(parse_query(text, word_lists))
    parsed = replace(parsed, rare=_rare(parsed, vocabulary))
    if not parsed.loose:
        return parsed
    # Half-accented: the words the syllables spell, whatever marks the loose ones take.
    spans = {}
    for run in parsed.runs:
        for n in range(2, min(4, len(run)) + 1):
            for i in range(len(run) - n + 1):
                part = run[i : i + n]
                if any(s in parsed.loose for s in part):
                    spans["_".join(f for _, f in part)] = part
    found = vocabulary.readings("words", list(spans))
    words = list(parsed.words)
    for key, (form, _, _) in found.items():
        typed = spans[key]
        if all(s in parsed.loose or s[0] == index_form(r) for s, r in zip(typed, form.split("_"))):
            words.append(form)
    return replace(parsed, words=tuple(dict.fromkeys(words)))


def _rare(parsed: ParsedQuery, vocabulary: Vocabulary) -> tuple[Forms, ...]:
    """The short syllables (never corrected) that spell no Vietnamese syllable and that at most RARE
    articles hold: slips like ``thp``, ``cah``."""
    short = [t for t in parsed.terms if len(t[1]) <= SHORT and t[1].isalpha() and not is_syllable(t[0])]
    return tuple(t for t, n in zip(short, _articles_holding(short, vocabulary)) if n <= RARE)


def _articles_holding(syllables: list[Forms], vocabulary: Vocabulary) -> list[int]:
    """How many articles hold each syllable: with its marks, as typed; without, in any reading."""
    unmarked = [folded for exact, folded in syllables if exact == folded]
    found = vocabulary.readings("syllables", unmarked) if unmarked else {}
    return [
        vocabulary.syllable_count(exact) if exact != folded else found.get(folded, ("", 0, 0))[2]
        for exact, folded in syllables
    ]


def corrections(
    parsed: ParsedQuery, vocabulary: Vocabulary, *, rare_too: bool, side_by_side: SideBySide | None = None
) -> dict[str, str]:
    """Typed syllable → its correction, for the syllables that look misspelt (one of SHORT letters or
    fewer only when it spells no syllable): unknown to the index (with ``rare_too``, nearly unknown
    beside a far more frequent neighbour), or forming no indexed word with a neighbour where one a
    single edit away forms a commoner one (with ``side_by_side``, also one standing beside the
    neighbour SIDE_RATIO times as often)."""
    return _corrections(parsed, vocabulary, rare_too, _remembered(side_by_side)).sure


def _remembered(side_by_side: SideBySide | None) -> SideBySide | None:
    """``side_by_side`` counting each pair once: counting one costs a phrase search."""
    return functools.cache(side_by_side) if side_by_side else None


class _Fixes(NamedTuple):
    sure: dict[str, str]  # searched first, answering when it finds every syllable
    # One syllable corrected: its runner-up reading, searched too, the better answer kept.
    rival: dict[str, str]
    doubtful: dict[str, str]  # nothing corrected: readings searched beside the query as typed


def _corrections(
    parsed: ParsedQuery, vocabulary: Vocabulary, rare_too: bool, side_by_side: SideBySide | None = None,
    acronyms: frozenset[str] = frozenset(),
) -> _Fixes:
    """The corrections of ``parsed``'s syllables but ``acronyms`` (typed in capitals); without
    ``side_by_side`` (``_remembered``: a pair is asked about more than once), no doubtful ones, and a
    common syllable is never corrected."""
    if parsed.phrases or len(parsed.runs) != 1:
        return _Fixes({}, {}, {})
    run = parsed.runs[0]
    counts = {i: n for i, n in _counts(run, vocabulary).items() if run[i][0] not in acronyms}
    # A short syllable is a suspect only when it spells no syllable: too many others are a letter away.
    checked = {i: n for i, n in counts.items() if len(run[i][1]) > SHORT or not is_syllable(run[i][0])}
    # Unknown syllables first: a rare one (a name) is suspect only when nothing else is.
    suspects = [i for i, n in checked.items() if n == 0]
    if not suspects and rare_too:
        suspects = [i for i, n in checked.items() if n <= RARE and len(run[i][1]) > SHORT]
    out: dict[str, str] = {}
    rivals: dict[str, str] = {}
    for i in suspects[:MAX_FIXES]:
        best = _best_fixes(run, i, vocabulary, counts[i], parsed.accented)
        if best:
            out[run[i][0]] = best[0]
            rivals[run[i][0]] = best[-1]
    # A syllable corrected above is the slip: the known ones around it are not read as slips too.
    known = {i: n for i, n in counts.items() if n > RARE} if not out else {}
    doubtful: dict[str, str] = {}
    for i, (fix, sure) in _word_fixes(run, known, vocabulary, parsed.accented, side_by_side).items():
        (out if sure else doubtful)[run[i][0]] = fix
    rival = {k: v for k, v in rivals.items() if v != out[k]} if len(out) == 1 else {}
    return _Fixes(out, rival, {} if out else doubtful)


def _counts(run: tuple[Forms, ...], vocabulary: Vocabulary) -> dict[int, int]:
    """Position → how many articles hold the syllable (letters only). Marks on letters that spell no
    syllable (``Việ``), or a short non-syllable (``thp``), held at most RARE times: 0, a slip as if never seen."""
    checked = [i for i, (_, folded) in enumerate(run) if folded.isalpha()]
    counts: dict[int, int] = {}
    for i, n in zip(checked, _articles_holding([run[i] for i in checked], vocabulary)):
        exact, folded = run[i]
        slip = (exact != folded or len(folded) <= SHORT) and not is_syllable(exact)
        counts[i] = 0 if slip and n <= RARE else n
    return counts


def _word_fixes(
    run: tuple[Forms, ...], counts: dict[int, int], vocabulary: Vocabulary, accented: bool,
    side_by_side: SideBySide | None,
) -> dict[int, tuple[str, bool]]:
    """Position → (correction, sure), for the syllables (of ``counts``) that form no indexed word with
    a neighbour while a reading one edit away forms one that WORD_AT_LEAST articles use. Sure when the
    word is commoner than the syllable, or stands beside the neighbour SIDE_RATIO times as often as
    the syllable does (tung quốc: trung quốc); doubtful from DOUBT_RATIO times."""
    pairs = [f"{a[1]}_{b[1]}" for a, b in zip(run, run[1:])]
    held = {key for key, (_, _, total) in vocabulary.readings("words", pairs).items() if total > RARE}
    lonely = [i for i in counts if not any(0 <= k < len(pairs) and pairs[k] in held for k in (i - 1, i))]
    keys: dict[str, tuple[int, int]] = {}  # word key → (position corrected, its place in the word)
    for i in sorted(lonely, key=counts.get)[:MAX_FIXES]:  # a slip is seldom more common than the rest
        for c in _slips_of(run[i][1]):
            for key, at in _beside(run, i, c):
                keys[key] = (i, at)
    if not keys:
        return {}
    out: dict[int, tuple[bool, int, str]] = {}
    for key, (form, n, total) in vocabulary.readings("words", list(keys)).items():
        i, at = keys[key]
        parts = form.split("_")
        other = run[i - 1] if at else run[i + 1]
        if accented:
            exact, folded = run[i]
            # The typed marks kept, the neighbour's as typed (a syllable typed without marks takes any).
            if (exact != folded and _marks(parts[at]) != _marks(exact)) or other[0] not in (other[1], parts[1 - at]):
                continue
            support, fix = n, parts[at]
        else:
            support, fix = total, key.split("_")[at]
        short = len(run[i][1]) <= SHORT
        if support < WORD_AT_LEAST:
            continue
        if support >= counts[i] and not short:
            sure = True
        elif side_by_side is None:
            continue
        else:
            pair = tuple(key.split("_"))
            typed = (other[1], run[i][1]) if at else (run[i][1], other[1])
            r = side_by_side(pair) / (1 + side_by_side(typed))
            if r < DOUBT_RATIO:
                continue
            sure = r >= SIDE_RATIO and not short
        if (sure, support, fix) > out.get(i, (False, 0, "")):
            out[i] = (sure, support, fix)
    return {i: (fix, sure) for i, (sure, _, fix) in sorted(out.items())}


def _best_fixes(run: tuple[Forms, ...], i: int, vocabulary: Vocabulary, count: int, accented: bool) -> list[str]:
    """The best correction of ``run[i]`` and the runner-up, fewer when there are fewer."""
    exact, folded = run[i]
    keys = edits(folded)
    if exact != folded:
        keys.add(folded)  # the same letters with other marks
    near = vocabulary.readings("syllables", sorted(keys))
    if accented and exact != folded:
        candidates = {form: n for form, n, _ in near.values()}
    else:  # a syllable typed without marks: corrected without marks, every reading of the letters counted
        candidates = {key: total for key, (_, _, total) in near.items()}
    if exact != folded:  # a slip of a letter keeping the typed marks
        for form, n in _held(edits(exact), vocabulary).items():
            candidates[form] = max(n, candidates.get(form, 0))
    candidates.pop(exact, None)
    candidates = {c: n for c, n in candidates.items() if n >= max(1, count * RATIO)}
    # One slip changes a letter or a mark, not both: when readings keep the typed marks or letters,
    # only they are candidates.
    marked = accented and exact != folded

    def one_slip(c: str) -> bool:  # the same letters, or one character (marked or not) other
        return not marked or fold(c) == folded or _one_edit(c, exact)

    candidates = {c: n for c, n in candidates.items() if one_slip(c)}
    if not candidates:
        return []
    typos = _typos(folded)
    pairs: dict[str, list[tuple[str, str, int]]] = {}  # word key → (candidate, neighbour, its place)
    for c in candidates:
        for key, at in _beside(run, i, fold(c)):
            pairs.setdefault(key, []).append((c, run[i - 1 if at else i + 1][0], 1 - at))
    words = vocabulary.readings("words", list(pairs)) if pairs else {}
    support: dict[str, int] = {}
    for key, (form, n, _) in words.items():
        spelt = form.split("_")
        supported = set()
        for c, other, at in pairs[key]:
            # In a query with marks, a word spelling its neighbour with other marks is no support
            # (kỹ is not kỷ); one spelling the correction's letters with other marks supports the
            # reading it spells (đà nẵng: nẵng, not nâng; trung hà: trung, not trưng).
            if accented and other not in (fold(other), spelt[at]):
                continue
            if accented and c != fold(c) and c != spelt[1 - at]:
                c = spelt[1 - at]
                if not one_slip(c):
                    continue
                if c not in candidates:
                    found = vocabulary.syllable_count(c)
                    if c == exact or found < max(1, count * RATIO):
                        continue
                    candidates[c] = found
            supported.add(c)
        for c in supported:
            support[c] = support.get(c, 0) + n

    def likely(c: str) -> bool:
        return fold(c) in typos or one_mark_apart(c, exact)

    def score(c: str) -> tuple:
        same_marks = exact != folded and _marks(c) == _marks(exact)
        same_letters = fold(c) == folded  # only a mark slipped
        return (likely(c), math.log1p(support.get(c, 0)) * 2 + math.log1p(candidates[c]) + 3 * same_marks + 2 * same_letters, c)

    ranked = sorted(candidates, key=score, reverse=True)[:2]
    # A runner-up only as likely a slip, and none to a letter struck twice.
    if likely(ranked[-1]) != likely(ranked[0]) or fold(ranked[0]) in _undoubled(folded):
        return ranked[:1]
    return ranked


def _held(syllables: set[str], vocabulary: Vocabulary) -> dict[str, int]:
    """Exact syllable → how many articles hold it, for those of ``syllables`` some article holds."""
    return {form: n for _, form, n in vocabulary.forms("syllables", {fold(c) for c in syllables}) if form in syllables}


def _beside(run: tuple[Forms, ...], i: int, folded: str) -> list[tuple[str, int]]:
    """The word keys ``folded`` spells in ``run[i]``'s place with the syllable before and the one
    after, each with its place in the word."""
    before = [(f"{run[i - 1][1]}_{folded}", 1)] if i else []
    return before + ([(f"{folded}_{run[i + 1][1]}", 0)] if i + 1 < len(run) else [])


def _spells(parts: list[str], typed: tuple[str, str], at: int) -> bool:
    """Whether a word of two ``parts`` spells the ``typed`` syllable at ``at`` and its neighbour in the
    other place, each with its marks when typed with any (thảm đỏ, not thái độ, for thả đỏ)."""
    return all(t == fold(t) or t == p for t, p in zip(typed, (parts[at], parts[1 - at])))


def _one_edit(a: str, b: str) -> bool:
    """True when ``b`` is ``a`` with one character left out, added, replaced or two swapped."""
    if len(a) > len(b):
        a, b = b, a
    if len(b) - len(a) > 1:
        return False
    k = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), len(a))
    if len(a) < len(b):
        return a[k:] == b[k + 1 :]
    return a[k + 1 :] == b[k + 1 :] or (a[k + 1 : k + 2] == b[k : k + 1] and a[k : k + 1] == b[k + 1 : k + 2] and a[k + 2 :] == b[k + 2 :])


def _insertions(typed: str) -> set[str]:
    """``typed`` with one letter more, anywhere."""
    return {typed[:k] + c + typed[k:] for k in range(len(typed) + 1) for c in _LETTERS}


def _typos(typed: str) -> set[str]:
    """What ``typed`` may be a slip fingers make of: it lacks a letter, doubles one, swaps two
    neighbours or strikes a key beside the right one."""
    splits = [(typed[:i], typed[i:]) for i in range(len(typed) + 1)]
    out = _insertions(typed) | _undoubled(typed)
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in _NEAR.get(b[0], "")}
    out.discard(typed)
    return out


def _slips_of(folded: str) -> set[str]:
    """The syllables ``folded`` may be a slip of (``_typos``). A short one only lost a letter (Đôn: Đông,
    sóng tần: sóng thần): its other slips are too many."""
    return _typos(folded) if len(folded) > SHORT else _insertions(folded)


def _undoubled(typed: str) -> set[str]:
    """``typed`` with a letter struck twice struck once."""
    return {typed[:k] + typed[k + 1 :] for k in range(1, len(typed)) if typed[k - 1] == typed[k]}


def _marks(syllable: str) -> str:
    return "".join(a for a, b in zip(syllable, fold(syllable)) if a != b)


def edits(word: str) -> set[str]:
    """Every string one deletion, transposition, replacement or insertion of a letter (a-z) away;
    the other characters, marked letters included, kept."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    out |= _insertions(word)
    out.discard(word)
    return out


def _respelled(text: str, fixes: dict[str, str]) -> str:
    """``text`` with each typed syllable replaced, keeping a capital first letter."""

    def one(m: re.Match) -> str:
        word = m.group(0)
        new = fixes.get(index_form(word))
        if new is None:
            return word
        return new[0].upper() + new[1:] if word[0].isupper() else new

    return re.sub(r"[^\W_]+", one, text)


def searched(
    query: str, vocabulary: Vocabulary, run: Callable[[ParsedQuery], F], as_typed: bool = False,
    word_lists: WordLists | None = None, side_by_side: SideBySide | None = None, articles: int = 0,
    together: Callable[[ParsedQuery], F] | None = None,
) -> tuple[ParsedQuery, F, str | None]:
    """``run`` on what ``query`` most likely meant (``as_typed``: on the query as typed): (the parsed
    query, what ``run`` found, the text searched when it is not ``query`` as typed, else None).
    ``side_by_side`` (how many articles hold two folded syllables side by side) lets a common
    syllable be read as a slip (a doubtful correction, ``_corrections``). ``articles`` (how many the index holds)
    sets how few articles are few. Each reading is run once; one that answers only when it finds its
    syllables together runs with ``together`` (``run`` stopping there: nothing found, nothing) when given."""
    if as_typed:
        parsed = prepared(query, vocabulary, word_lists)
        return parsed, run(parsed), None
    text = decoded(query, vocabulary) or query
    parsed = prepared(text, vocabulary, word_lists)
    typed = text if text != query else None
    # A syllable the index never saw, or one forming no word where a slip of it would: the
    # correction is searched first and answers when it finds every syllable together.
    # A word typed in capitals (UMC, LOR) is an acronym the reader meant, whatever the index holds.
    acronyms = frozenset(index_form(w) for w in re.findall(r"[^\W\d_]{2,}", text) if w.isupper())
    side_by_side = _remembered(side_by_side)  # counted once for both rounds of corrections
    fixes, rival, maybe = _corrections(parsed, vocabulary, False, side_by_side, acronyms)

    tried: dict[str, tuple[ParsedQuery, F, str]] = {}  # each reading searched once
    apart: set[str] = set()  # searched ``together`` and not found so: not yet searched as a whole

    def attempt(fix: dict[str, str], only_together: bool = False) -> tuple[ParsedQuery, F, str]:
        fixed_text = _respelled(text, fix)
        if fixed_text not in tried or (fixed_text in apart and not only_together):
            fixed = prepared(fixed_text, vocabulary, word_lists)
            quick = only_together and together is not None
            found = (together if quick else run)(fixed)
            tried[fixed_text] = (fixed, found, fixed_text)
            (apart.add if quick and not found.total else apart.discard)(fixed_text)
        return tried[fixed_text]

    def better(fix: dict[str, str], than: tuple[ParsedQuery, F, str | None]) -> tuple[ParsedQuery, F, str | None]:
        """``text`` with ``fix`` when that finds every syllable together and its best article scores
        higher than ``than``'s (or ``than`` did not find them together); else ``than``."""
        other = attempt(fix, only_together=True)
        found = other[1]
        return other if found.total and found.matched_all and (not than[1].matched_all or found.best > than[1].best) else than

    if fixes:
        first = attempt(fixes)
        if rival:  # the runner-up reading of the one syllable corrected
            first = better(rival, first)
        if first[1].total and first[1].matched_all:
            return first
    found = run(parsed)
    if maybe:  # a common syllable that may be a slip: the reading whose best article scores higher
        answer = better(maybe, (parsed, found, typed))
        if answer[1] is not found:
            return answer

    def nearer() -> tuple[ParsedQuery, F, str | None]:
        """The query as typed, or the reading one slip away (``_near_readings``) whose best article scores
        highest, when higher than the query as typed's: CLEARLY times, when that found its syllables
        together in few articles (more: the query as typed)."""
        answer = (parsed, found, typed)
        if typed is not None or (found.matched_all and found.total > max(FEW, articles * FEW // FEW_PER)):
            return answer
        least = found.best * (CLEARLY if found.matched_all else 1)
        for fix in _near_readings(parsed, vocabulary, acronyms):
            other = attempt(fix, only_together=True)
            if other[1].total and other[1].matched_all and other[1].best > least:
                answer, least = other, other[1].best
        return answer

    if found.total and found.matched_all:
        return nearer()
    more, rival, _ = _corrections(parsed, vocabulary, True, side_by_side, acronyms)  # as typed, not found together
    if more and more != fixes:
        fixes, first = more, attempt(more)
        if rival:
            first = better(rival, first)
    if fixes and first[1].total:  # the query as typed did not find its syllables together either
        return first
    return nearer()


def _near_readings(parsed: ParsedQuery, vocabulary: Vocabulary, acronyms: frozenset[str]) -> list[dict[str, str]]:
    """Readings of one syllable a slip away (``_slips_of``), NEAR_TRIES at
    most: for each syllable held by more than RARE articles (not ``acronyms``), the commoner reading most
    articles hold and the reading forming the commonest word with a neighbour (commoner or not: thi đại,
    thời đại); those forming words first."""
    if parsed.phrases or len(parsed.runs) != 1 or len(parsed.runs[0]) > NEAR_AT_MOST:
        return []
    run = parsed.runs[0]
    tries: dict[tuple[int, str], tuple[int, float]] = {}  # (position, reading) → (word support, count ratio)
    for i, n in _counts(run, vocabulary).items():
        exact, folded = run[i]
        if n <= RARE or exact in acronyms:
            continue
        typos = _slips_of(folded)
        if parsed.accented and exact != folded:  # the typed marks kept
            near = _held({c for c in edits(exact) if fold(c) in typos}, vocabulary)
        else:
            near = {key: total for key, (_, _, total) in vocabulary.readings("syllables", sorted(typos)).items()}
        near = {c: m for c, m in near.items() if m > RARE}
        if not near:
            continue
        commoner = [c for c in near if near[c] > n]
        keys = {key: (c, at) for c in near for key, at in _beside(run, i, fold(c))}
        support: dict[str, int] = {}
        for key, form, m in vocabulary.forms("words", list(keys)):
            c, at = keys[key]
            if _spells(form.split("_"), (c, run[i - 1 if at else i + 1][0]), at):
                support[c] = support.get(c, 0) + m
        picked = {max(commoner, key=lambda c: (near[c], c))} if commoner else set()
        worded = [c for c in support if support[c] > RARE]
        if worded:
            picked.add(max(worded, key=lambda c: (support[c], c)))
        for c in picked:
            tries[(i, c)] = (support.get(c, 0) if support.get(c, 0) > RARE else 0, near[c] / (n + 1))
    ranked = sorted(tries, key=lambda t: (tries[t], t), reverse=True)[:NEAR_TRIES]
    return [{run[i][0]: c} for i, c in ranked]
