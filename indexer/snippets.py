"""Snippets: the best short passage of an article, with the query's matches marked.

Highlights are computed on the stored text itself with the cheap syllable
tokenizer (no pyvi), so every mark lands exactly on the original characters.
Output is HTML: article text escaped, only our own <mark> tags as markup.
"""

from __future__ import annotations

import bisect
import functools
import html
import re

from .analysis import syllables
from .articles import is_caption
from .text import fold_chars, index_form

__all__ = ["make_snippet", "highlight"]

SNIPPET_CHARS = 240
CONTEXT_BEFORE = 60
_GAP_BETWEEN_MARKS = re.compile(r"[ \t]*")


def _matches(text: str, wanted: frozenset[tuple[str, str]]) -> list[tuple[int, int, str]]:
    """(start, end, form) of every syllable of ``text`` the query wants: the exact forms of
    a query typed with diacritics when the text has any ("bóng đá" does not light up "đã"),
    else every folded match. A syllable typed without marks beside marked ones ("giá vang")
    is matched by its letters, as the search matches it, by its unmarked spelling where the text has it."""
    folded_wanted = {f for _, f in wanted}
    found = _folded_matches(text, folded_wanted)
    marked = {e for e, f in wanted if e != f}
    if marked:
        loose = {f for e, f in wanted if e == f}
        kept = [(a, b, form, folded) for a, b, folded in found if (form := index_form(text[a:b])) in marked or folded in loose]
        spelt = {form for _, _, form, folded in kept if form == folded}  # a loose syllable's unmarked spelling itself
        exact_found = [(a, b, form) for a, b, form, folded in kept if form in marked or form == folded or folded not in spelt]
        if exact_found:
            return exact_found
    return found


def _folded_matches(text: str, folded_wanted: set[str]) -> list[tuple[int, int, str]]:
    # Folding NFC text keeps one character per character, so spans found in the
    # folded copy are spans of the original; a scan of it is much cheaper than
    # full syllable analysis. The rare text where lengths differ takes that path.
    folded = fold_chars(text)
    if len(folded) != len(text):
        return [(s.start, s.end, s.folded) for s in syllables(text) if s.folded in folded_wanted]
    pattern = _wanted_pattern(frozenset(folded_wanted))
    if pattern is not None:  # the regex engine finds the few wanted words, instead of a loop over every word
        return [
            (a, m.end(), m.group())
            for m in pattern.finditer(folded)
            if not (a := m.start())
            or not _WORD_NOT_DIGIT.match(folded, a - 1)
            and (not folded[a - 1].isdigit() or _is_token(folded, a, m.end()))
        ]
    return [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(folded) if m.group() in folded_wanted]


_TOKEN = re.compile(r"\d+(?:[.,_]\d+)+|\w+")
_LETTERS = re.compile(r"[^\W\d_]+")
_IN_TOKEN = re.compile(r"[\w.,]")
_WORD_NOT_DIGIT = re.compile(r"[^\W\d]")


@functools.lru_cache(maxsize=256)
def _wanted_pattern(forms: frozenset[str]) -> re.Pattern | None:
    """A regex for the _TOKEN tokens that are one of ``forms``, when all are letters only (else None)."""
    # A letters-only token is a whole \w+ run: not followed by a word character (the pattern),
    # not preceded by a letter or "_" (the caller checks: a look-behind first in the pattern
    # slows the whole scan down). One right after a digit ("2,5km") is a token only when a
    # number token ended there: the caller checks those with ``_is_token``.
    if not forms or not all(_LETTERS.fullmatch(f) for f in forms):
        return None
    alternatives = "|".join(re.escape(f) for f in sorted(forms, key=lambda f: (-len(f), f)))
    return re.compile(rf"(?:{alternatives})(?!\w)")


def _is_token(folded: str, start: int, end: int) -> bool:
    """Whether _TOKEN's scan of ``folded`` has a token exactly at start..end."""
    i = start
    while i and _IN_TOKEN.match(folded, i - 1):  # back to where a scan is sure to start a token
        i -= 1
    for m in _TOKEN.finditer(folded, i):
        if m.start() >= start:
            return (m.start(), m.end()) == (start, end)
    return False


def _merge(text: str, matches: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """Mark spans: matches separated only by spaces become one mark."""
    spans: list[list[int]] = []
    for a, b, _ in matches:
        if spans and _GAP_BETWEEN_MARKS.fullmatch(text, spans[-1][1], a):
            spans[-1][1] = b
        else:
            spans.append([a, b])
    return [(a, b) for a, b in spans]


def _render(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> str:
    out, pos = [], start
    for a, b in spans:
        if b <= start or a >= end:
            continue
        a, b = max(a, start), min(b, end)
        out.append(html.escape(text[pos:a], quote=False))
        out.append("<mark>" + html.escape(text[a:b], quote=False) + "</mark>")
        pos = b
    out.append(html.escape(text[pos:end], quote=False))
    return re.sub(r"\s+", " ", "".join(out)).strip()


def highlight(text: str, wanted: frozenset[tuple[str, str]]) -> str:
    """The whole text as HTML with every match marked (for titles and article pages)."""
    return _render(text, 0, len(text), _merge(text, _matches(text, wanted)))


def _paragraphs(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]


def _window(text: str, anchor: int, length: int) -> tuple[int, int]:
    """A window of about ``length`` chars starting a little before ``anchor``,
    at a sentence start when one is near, never cutting a word."""
    if len(text) <= length:
        return 0, len(text)
    para_start = text.rfind("\n", 0, anchor) + 1
    start = max(para_start, anchor - CONTEXT_BEFORE)
    if start > para_start:
        sentence = max(text.rfind(". ", start, anchor), text.rfind("; ", start, anchor))
        if sentence >= 0:
            start = sentence + 2
        else:
            while start < anchor and not text[start - 1].isspace():
                start += 1
    end = min(len(text), start + length)
    if end < len(text):
        cut = text.rfind(" ", start, end)
        if cut > anchor:
            end = cut
    return start, end


def make_snippet(text: str, wanted: frozenset[tuple[str, str]], length: int = SNIPPET_CHARS) -> str:
    """The passage of ``text`` showing the most distinct query syllables, as HTML; without
    any match, the article's lead (its first paragraph that is not a photo caption)."""
    matches = _matches(text, wanted)
    spans = _merge(text, matches)
    paragraphs = _paragraphs(text)
    paragraph_starts = [a for a, _ in paragraphs]

    @functools.cache
    def caption(i: int) -> bool:
        return is_caption(text[slice(*paragraphs[i])])

    def in_caption(pos: int) -> bool:
        i = bisect.bisect_right(paragraph_starts, pos) - 1
        return i >= 0 and pos < paragraphs[i][1] and caption(i)

    starts = [x for x, _, _ in matches]  # in order
    best, best_score = None, None
    for a, b in spans:
        start, end = _window(text, a, length)
        first, after = bisect.bisect_left(starts, start), bisect.bisect_left(starts, end)
        inside = {form for _, y, form in matches[first:after] if y <= end}
        run_length = bisect.bisect_left(starts, b, first) - bisect.bisect_left(starts, a, first)
        # Most distinct query syllables, then the longest run of them side by
        # side (a name, a phrase), then outside captions, then earliest.
        if best_score is not None and (len(inside), run_length) < best_score[:2]:
            continue  # cannot win: no need to know whether it is in a caption
        score = (len(inside), run_length, not in_caption(a), -a)
        if best_score is None or score > best_score:
            best, best_score = (start, end), score
    if best is None:
        lead = next((p for i, p in enumerate(paragraphs) if not caption(i)), (0, len(text)))
        best = _window(text, lead[0], length)
    start, end = best
    prefix = "… " if start > 0 and text[start - 1] != "\n" else ""
    suffix = " …" if end < len(text) else ""
    return prefix + _render(text, start, end, spans) + suffix
