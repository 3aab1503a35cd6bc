"""Text normalization at the door: one clean stored form, one canonical indexed form.

Stored text keeps the article's own spelling (NFC, entities decoded, invisible
characters removed); the indexed form of a syllable additionally lowercases it,
reads Ð as Đ and moves the tone mark to one canonical place, so that the old
(hoà, thuỷ) and new (hòa, thủy) tone styles are one term.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

import numpy as np

__all__ = ["clean", "index_form", "fold", "fold_text", "has_diacritics", "printable", "without_surrogates"]

# Zero-width characters, word joiner, BOM and soft hyphen vanish; every other
# Unicode space (NBSP, narrow NBSP, figure space, ideographic space…) becomes
# an ordinary space. Newlines are kept: paragraphs matter to articles.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\t\f\v]")

_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền sắc ngã hỏi nặng


_SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """``text`` with each lone surrogate (undecodable bytes of a command line) replaced by U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


# What a terminal or a log would act on rather than show: C0 and C1 controls (escape sequences,
# line breaks that forge a `path: reason` line), bidirectional overrides, lone surrogates.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` for a terminal or a log: each control character written as an escape (``\\x1b``)."""
    return _UNPRINTABLE.sub(_escape, text)


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte of a file name (surrogateescape)
        code -= 0xDC00
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: str) -> str:
    """The stored form of article or query text: entities decoded, NFC, invisibles gone."""
    text = html.unescape(text)
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = _SPACES.sub(" ", text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


@lru_cache(maxsize=1 << 17)  # a language's syllables are few; articles repeat them
def index_form(syllable: str) -> str:
    """The canonical indexed form: lowercase, Ð→đ, tone mark in the new-style place."""
    # Only the open syllables ending in oa / oe / uy differ between the two styles
    # (old hoà, khoẻ, thuỷ; new hòa, khỏe, thủy); "quý" has no variant.
    s = syllable.lower().replace("ð", "đ")
    if len(s) < 2 or s[-1] not in _OPEN_ENDINGS_LAST:
        return s
    decomposed = unicodedata.normalize("NFD", s)
    tones = [c for c in decomposed if c in _TONES]
    if len(tones) != 1:
        return s
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
    if base[-2:] not in ("oa", "oe", "uy") or base[-3:-2] == "q":
        return s
    head, vowel, last = base[:-2], base[-2], base[-1]
    return head + unicodedata.normalize("NFC", vowel + tones[0]) + last


# Last letters of an oa/oe/uy syllable, with or without a tone mark on them.
_OPEN_ENDINGS_LAST = set("aàáảãạeèéẻẽẹyỳýỷỹỵ")


def fold_text(text: str) -> str:
    """Remove every Vietnamese diacritic and lowercase: "Đà Nẵng" → "da nang"."""
    s = text.lower().replace("đ", "d").replace("ð", "d")
    decomposed = unicodedata.normalize("NFD", s)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Syllables and short strings repeat endlessly: fold each spelling once.
fold = lru_cache(maxsize=1 << 17)(fold_text)


class _FoldTable(dict):
    """A str.translate table: each character to its folded form, worked out on first sight."""

    def __missing__(self, code: int) -> str:
        self[code] = folded = fold_text(chr(code))
        return folded


_FOLD_TABLE = _FoldTable()


def fold_chars(text: str) -> str:
    """``fold_text`` one character at a time, in C: the same result on Vietnamese, for long texts.

    Lowercasing character by character ignores context rules (a Greek final sigma).
    """
    if len(text) < _ARRAY_FOLD_MIN:
        return text.translate(_FOLD_TABLE)
    # A whole article: its code points looked up in an array at once, rather than translate's
    # call per character. Text with a character the array does not cover, or one that folds
    # to other than one character (a combining mark), goes the slow way.
    table = _fold_array()
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)  # a lone surrogate: past the array
    if codes.max() >= len(table):
        return text.translate(_FOLD_TABLE)
    folded = table[codes]
    if folded.max() == _NOT_ONE:
        return text.translate(_FOLD_TABLE)
    return folded.tobytes().decode("utf-32-le")


_ARRAY_FOLD_MIN = 200  # characters: below, translate is as quick
_ARRAY_FOLD_CHARS = 0x2100  # Latin, Vietnamese, general punctuation (“ ” – …), currency signs
_NOT_ONE = 0xFFFFFFFF  # the character folds to none or several
_fold_codes: np.ndarray | None = None


def _fold_array() -> np.ndarray:
    """Each code point below _ARRAY_FOLD_CHARS → the code point it folds to (worked out once, on first use)."""
    global _fold_codes
    if _fold_codes is None:
        folded = [fold_text(chr(c)) for c in range(_ARRAY_FOLD_CHARS)]
        _fold_codes = np.array([ord(f) if len(f) == 1 else _NOT_ONE for f in folded], np.uint32)
    return _fold_codes


def has_diacritics(text: str) -> bool:
    """True when folding changes the text, i.e. the writer typed accents or đ."""
    return fold(text) != text.lower()
