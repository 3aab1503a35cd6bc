"""Vietnamese analysis: syllables with exact offsets, and pyvi words over them.

This is the only module that imports pyvi, lazily (its CRF model takes about a
second to load). Syllables come from pyvi's own tokenizer pattern, run with
``re.finditer`` on the same clean text, so pyvi's labels line up with spans we
can point into the stored article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from .text import fold, index_form

__all__ = ["Syllable", "syllables", "segment", "words"]

# ViTokenizer.sylabelize's pattern, unchanged (pyvi 0.1.1), so the token
# sequence fed to the CRF is exactly pyvi's.
_PYVI_PATTERN = re.compile(
    "("
    + "|".join(
        [
            r"[A-ZĐ]+\.", r"Tp\.", r"Mr\.", r"Mrs\.", r"Ms\.", r"Dr\.", r"ThS\.",
            r"==>", r"->", r"\.\.\.", r">>", "\n",
            r"\w+://[^\s]+",
            r"([a-zA-Z0-9_.+-]+@([a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+)",
            r"\d+([\.,_]\d+)+",
            r"[^\w\s]",
            r"\w+",
        ]
    )
    + ")",
    re.UNICODE,
)
_WORDLIKE = re.compile(r"\w")


@dataclass(frozen=True, slots=True)
class Syllable:
    """One token of the text: its span in the original and its two indexed forms."""

    text: str  # the token as pyvi sees it ("TP." keeps its dot)
    start: int  # span of the indexed part in the text ("TP" without the dot)
    end: int
    exact: str  # lowercase, canonical tone placement
    folded: str  # no diacritics
    is_word: bool  # punctuation tokens feed pyvi but are never indexed


def pyvi_tokens(text: str) -> list[Syllable]:
    """Every token pyvi sees in ``text`` (words and punctuation), with offsets."""
    out = []
    for m in _PYVI_PATTERN.finditer(text):
        raw = m.group(0)
        length, exact, folded, is_word = _forms(raw)
        start = m.start()
        out.append(Syllable(raw, start, start + length, exact, folded, is_word))
    return out


@lru_cache(maxsize=1 << 18)  # tokens repeat: analyze each spelling once
def _forms(raw: str) -> tuple[int, str, str, bool]:
    key = _strip_punct(raw)
    exact = index_form(key)
    return len(key), exact, fold(exact), bool(_WORDLIKE.search(raw))


def syllables(text: str) -> list[Syllable]:
    """The indexable syllables of clean (NFC) text, in order, with exact offsets."""
    return [s for s in pyvi_tokens(text) if s.is_word]


def _strip_punct(raw: str) -> str:
    # "TP." and "1.000" keep their inner dots; trailing abbreviation dots go.
    return raw.rstrip(".") if len(raw) > 1 else raw


_pyvi = None


def _crf():
    """pyvi's tokenizer class and its CRF tagger, loaded once (about a second)."""
    global _pyvi
    if _pyvi is None:
        from pyvi import ViTokenizer  # noqa: PLC0415 - lazy: the model load is slow

        vi = ViTokenizer.ViTokenizer
        _pyvi = (vi, vi.model.tagger_)
    return _pyvi


def crf_features(words: Sequence[str], bi_grams: frozenset | set, tri_grams: frozenset | set) -> list[list[str]]:
    """pyvi's CRF features for ``words``, as the attribute names CRFsuite sees.

    ``ViTokenizer.sent2features`` builds one dict per token; CRFsuite turns a
    string value into the attribute "key:value" (weight 1), True into "key"
    (weight 1) and False into "key" with weight 0, which adds nothing to any
    score. Listing the same attributes directly, without the false ones, gives
    the CRF exactly pyvi's input at a fraction of the cost (checked on whole
    corpora by tests and bench/segmentation_check.py).
    """
    low = [w.lower() for w in words]
    title = [w.istitle() for w in words]
    upper = [w.isupper() for w in words]
    n = len(words)
    out = []
    for i in range(n):
        f = ["bias", "word.lower():" + low[i]]
        if upper[i]:
            f.append("word.isupper()")
        if title[i]:
            f.append("word.istitle()")
        if words[i].isdigit():
            f.append("word.isdigit()")
        if i > 0:
            f.append("-1:word.lower():" + low[i - 1])
            if title[i - 1]:
                f.append("-1:word.istitle()")
            if upper[i - 1]:
                f.append("-1:word.isupper()")
            if low[i - 1] + " " + low[i] in bi_grams:
                f.append("-1:word.bi_gram()")
            if i > 1 and low[i - 2] + " " + low[i - 1] + " " + low[i] in tri_grams:
                f.append("-2:word.tri_gram()")
        if i < n - 1:
            f.append("+1:word.lower():" + low[i + 1])
            if title[i + 1]:
                f.append("+1:word.istitle()")
            if upper[i + 1]:
                f.append("+1:word.isupper()")
            if low[i] + " " + low[i + 1] in bi_grams:
                f.append("+1:word.bi_gram()")
            if i < n - 2 and low[i] + " " + low[i + 1] + " " + low[i + 2] in tri_grams:
                f.append("+2:word.tri_gram()")
        out.append(f)
    return out


def segment(tokens: Sequence[Syllable]) -> list[tuple[int, int]]:
    """pyvi's word segmentation of ``tokens`` as (first, last+1) index ranges.

    Same decision as ``ViTokenizer.tokenize``: a token joins the previous one
    when labelled I_W, neither is punctuation or starts with a digit, and a
    capitalised token does not follow a lowercase one.
    """
    if not tokens:
        return []
    vi, tagger = _crf()
    texts = [t.text for t in tokens]
    labels = tagger.tag(crf_features(texts, vi.bi_grams, vi.tri_grams))
    ranges = [[0, 1]]
    for i in range(1, len(texts)):
        cur, prev = texts[i], texts[i - 1]
        if (
            labels[i] == "I_W"
            and cur not in _PUNCT
            and prev not in _PUNCT
            and not cur[0].isdigit()
            and not prev[0].isdigit()
            and not (cur[0].istitle() and not prev[0].istitle())
        ):
            ranges[-1][1] = i + 1
        else:
            ranges.append([i, i + 1])
    return [(a, b) for a, b in ranges]


_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def words(text: str) -> list[str]:
    """pyvi's multi-syllable words in ``text``, as underscore-joined index forms.

    Single syllables are left out: they are already indexed as syllables.
    """
    tokens = pyvi_tokens(text)
    out = []
    for a, b in segment(tokens):
        if b - a > 1:
            out.append("_".join(t.exact for t in tokens[a:b]))
    return out
