"""Vietnamese analysis: syllables with exact offsets, and pyvi words over them.

This is the only module that imports pyvi, lazily (its CRF model is slow to
load). Syllables come from pyvi's own tokenizer pattern, run with
``re.finditer`` on the same clean text, so pyvi's labels line up with spans we
can point into the stored article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from .text import fold, index_form

__all__ = ["Syllable", "index_forms", "segment", "syllables", "words"]

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
    """pyvi's tokenizer class and its CRF tagger, loaded once."""
    global _pyvi
    if _pyvi is None:
        from pyvi import ViTokenizer  # noqa: PLC0415 - lazy: the model load is slow

        vi = ViTokenizer.ViTokenizer
        _pyvi = (vi, vi.model.tagger_)
    return _pyvi


@lru_cache(maxsize=1 << 16)
def _word_features(word: str) -> tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(lowercase, own features, features as the word before, features as the word after)."""
    low, title, upper = word.lower(), word.istitle(), word.isupper()
    own = ("bias", "word.lower():" + low) + ("word.isupper()",) * upper + ("word.istitle()",) * title
    own += ("word.isdigit()",) * word.isdigit()
    before = ("-1:word.lower():" + low,) + ("-1:word.istitle()",) * title + ("-1:word.isupper()",) * upper
    after = ("+1:word.lower():" + low,) + ("+1:word.istitle()",) * title + ("+1:word.isupper()",) * upper
    return low, own, before, after


def crf_features(words: Sequence[str], bi_grams: frozenset | set, tri_grams: frozenset | set) -> list[tuple[str, ...]]:
    """pyvi's CRF features for ``words``, as the attribute names CRFsuite sees: exactly
    ``ViTokenizer.sent2features``'s input to the CRF, without building a dict per token."""
    # CRFsuite turns a string value into the attribute "key:value" (weight 1), True into
    # "key" (weight 1) and False into "key" with weight 0, which adds nothing to any score:
    # the same attributes listed directly, in the same order, without the false ones, are
    # the same input (checked on whole corpora by tests and bench/segmentation_check.py).
    # A word's own features are made once per spelling; each pair and triple is looked up once.
    features = [_word_features(w) for w in words]
    low = [f[0] for f in features]
    pairs = [a + " " + b in bi_grams for a, b in zip(low, low[1:])]  # pairs[i]: words i and i + 1
    triples = [a + " " + b + " " + c in tri_grams for a, b, c in zip(low, low[1:], low[2:])]
    # For word i, in pyvi's order: its own, word i - 1's, the pair and the triple ending at i,
    # word i + 1's, the pair and the triple starting at i (each list is one entry a word).
    own = [f[1] for f in features]
    before = [(), *(f[2] for f in features[:-1])]
    after = [*(f[3] for f in features[1:]), ()]
    pair_before = [(), *(_PAIR_BEFORE[p] for p in pairs)]
    triple_before = [(), (), *(_TRIPLE_BEFORE[t] for t in triples)]
    pair_after = [*(_PAIR_AFTER[p] for p in pairs), ()]
    triple_after = [*(_TRIPLE_AFTER[t] for t in triples), (), ()]
    return [
        a + b + c + d + e + f + g
        for a, b, c, d, e, f, g in zip(own, before, pair_before, triple_before, after, pair_after, triple_after)
    ]


# The pair and triple attributes, by whether pyvi's lists hold the words (False: none).
_PAIR_BEFORE = ((), ("-1:word.bi_gram()",))
_TRIPLE_BEFORE = ((), ("-2:word.tri_gram()",))
_PAIR_AFTER = ((), ("+1:word.bi_gram()",))
_TRIPLE_AFTER = ((), ("+2:word.tri_gram()",))


def segment(tokens: Sequence[Syllable]) -> list[tuple[int, int]]:
    """pyvi's word segmentation of ``tokens`` as (first, last+1) index ranges, decided as
    ``ViTokenizer.tokenize`` does: a token joins the previous one when labelled I_W, neither
    is punctuation or starts with a digit, and a capitalised one does not follow a lowercase one."""
    return _segment([t.text for t in tokens])


def _segment(texts: list[str]) -> list[tuple[int, int]]:
    if not texts:
        return []
    vi, tagger = _crf()
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


def index_forms(text: str) -> tuple[list[str], list[str], list[str]]:
    """What the index keeps of clean text: its syllables' exact forms, their folded forms, and
    pyvi's multi-syllable words (exact forms joined by "_"). ``pyvi_tokens`` then ``segment``,
    without the offsets."""
    texts = [m.group() for m in _PYVI_PATTERN.finditer(text)]
    forms = [_forms(t) for t in texts]
    exact = [f[1] for f in forms if f[3]]
    folded = [f[2] for f in forms if f[3]]
    multi = ["_".join(f[1] for f in forms[a:b]) for a, b in _segment(texts) if b - a > 1]
    return exact, folded, multi


def words(text: str) -> list[str]:
    """pyvi's multi-syllable words in ``text``, as underscore-joined index forms (single
    syllables are left out: they are already indexed as syllables)."""
    return index_forms(text)[2]
