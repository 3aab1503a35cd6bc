"""Vietnamese syllables, and query words typed with the Vietnamese keyboard off (Telex or VNI keys).

``decode("gias")`` is "giá", ``decode("gia1")`` too; a word that already spells a Vietnamese
syllable, or that decodes to none (``iphone``, ``covid``), gives None.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .text import fold

__all__ = ["decode", "is_syllable", "spells_syllable"]

ONSETS = frozenset(
    "b c ch d đ g gh gi h k kh l m n ng ngh nh p ph qu r s t th tr v x".split()
)
# Vowel groups that end a syllable, and those a final consonant follows (toneless).
OPEN = frozenset(
    "a e ê i o ô ơ u ư y ai ao au ay âu ây eo êu ia iu iêu oa oai oao oay oe oeo oi ôi ơi "
    "ua uây ui uôi uơ ưa ưi ươi ưu ươu uy uya uyu uê yêu".split()
)
CLOSED = frozenset("a ă â e ê i o ô ơ u ư iê yê oa oă oe uâ uô ươ uy uyê uê".split())
FINALS = frozenset("c ch m n ng nh p t".split())
_PALATAL = frozenset("a ê i oa uê uy".split())  # the vowels "ch" and "nh" follow
_STOPS = frozenset("c ch p t".split())  # after these only sắc or nặng
_FRONT = set("eêiy")  # k, gh, ngh only before these; c, g, ng never
_VOWELS = set("aăâeêioôơuưy")
_TONES = {"\u0301": "s", "\u0300": "f", "\u0309": "r", "\u0303": "x", "\u0323": "j"}
_TONE_OF = {key: mark for mark, key in _TONES.items()}
_VNI_TONES = {"1": "\u0301", "2": "\u0300", "3": "\u0309", "4": "\u0303", "5": "\u0323"}
_PLAIN = tuple(frozenset(map(fold, table)) for table in (ONSETS, OPEN, CLOSED, _PALATAL))
_HAT = {"a": "â", "e": "ê", "o": "ô"}
_WORD = re.compile(r"^[a-zA-ZđĐ]+$")
_VNI_WORD = re.compile(r"^(?=.*[a-zA-Z])(?=.*[0-9])[a-zA-Z0-9]+$")


def _split(letters: str, plain: bool = False) -> tuple[str, str, str] | None:
    """(onset, vowels, final) of toneless lowercase letters, or None when they spell no syllable;
    ``plain``: letters without any mark, read as any marked letters they may stand for."""
    onsets, open_, closed, palatal = _PLAIN if plain else (ONSETS, OPEN, CLOSED, _PALATAL)
    for n in (3, 2, 1, 0):
        onset = letters[:n]
        if n and onset not in onsets:
            continue
        rest = letters[n:]
        if onset in ("gi", "qu") and not rest:
            continue
        m = re.fullmatch(r"([aăâeêioôơuưy]+)([a-zđ]*)", rest)
        if not m and onset == "gi" and rest[:1] != "i":  # "gì", "gìn": the i is the vowel
            m = re.fullmatch(r"([aăâeêioôơuưy]+)([a-zđ]*)", "i" + rest)
        if not m:
            continue
        vowels, final = m.groups()
        if onset == "qu" and vowels not in (closed if final else open_):
            vowels = "u" + vowels  # "quỳnh", "quýt": the u glides before the rhyme "uy"
        if final and (final not in FINALS or vowels not in closed):
            continue
        if not final and vowels not in open_:
            continue
        if final in ("ch", "nh") and vowels not in palatal:
            continue
        head = vowels[0]
        if onset in ("k", "gh", "ngh") and head not in _FRONT:
            continue
        if onset in ("c", "g", "ng") and head in _FRONT and onset + vowels not in ("gi",):
            continue
        return onset, vowels, final
    return None


def _parts(syllable: str) -> tuple[str, str]:
    """(toneless lowercase letters, tone key or "") of one word."""
    d = unicodedata.normalize("NFD", syllable.lower())
    tones = [c for c in d if c in _TONES]
    base = unicodedata.normalize("NFC", "".join(c for c in d if c not in _TONES))
    return base, (_TONES[tones[0]] if len(tones) == 1 else "?" if tones else "")


def one_mark_apart(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` spell the same letters with one mark other: the tone, or the vowels'
    hats, horns and breves (chảo, chào; chấo, chốo), not both (chấo, chào)."""
    (letters_a, tone_a), (letters_b, tone_b) = _parts(a), _parts(b)
    return a != b and fold(a) == fold(b) and (letters_a == letters_b or tone_a == tone_b)


@lru_cache(maxsize=1 << 14)
def is_syllable(word: str) -> bool:
    """Whether ``word`` is one Vietnamese syllable, tone included (a stop final takes sắc or nặng)."""
    base, tone = _parts(word)
    split = _split(base) if tone != "?" else None
    return split is not None and (split[2] not in _STOPS or tone in ("s", "j"))


@lru_cache(maxsize=1 << 14)
def spells_syllable(word: str) -> bool:
    """Whether ``word``'s letters, marks ignored, could be a Vietnamese syllable ("nguoi", "vang")."""
    return _split(fold(word), plain=True) is not None


def _place(letters: str, tone: str) -> str:
    """``letters`` with the tone mark on the vowel the new style puts it on."""
    if not tone:
        return letters
    split = _split(letters)
    if split is None:
        return letters
    onset, vowels, final = split
    start = len(letters) - len(final) - len(vowels)
    marked = [i for i, c in enumerate(vowels) if c in "ăâêôơư"]
    if "ươ" in vowels:
        at = vowels.index("ươ") + 1
    elif marked:
        at = marked[-1]
    elif final or len(vowels) == 1:
        at = len(vowels) - 1
    elif len(vowels) == 3:
        at = 1
    else:
        at = 0
    i = start + at
    return unicodedata.normalize("NFC", letters[: i + 1] + _TONE_OF[tone] + letters[i + 1 :])


def _hook(letters: list[str], kind: str) -> bool:
    """Put a hat (â ê ô), horn (ơ ư, ươ) or breve (ă) on the word's last vowels; False when none takes it."""
    vowels = [i for i, c in enumerate(letters) if c in _VOWELS]
    text = "".join(letters)
    if kind == "horn":
        if "uo" in text:
            i = text.rindex("uo")
            letters[i : i + 2] = ["ư", "ơ"]
            return True
        targets = {"o": "ơ", "u": "ư"}
    elif kind == "breve":
        targets = {"a": "ă"}
    else:
        targets = _HAT
    for i in reversed(vowels):
        if letters[i] in targets:
            letters[i] = targets[letters[i]]
            return True
    return False


def _telex(low: str) -> tuple[str, str] | None:
    letters: list[str] = []
    tone = ""
    for c in low:
        has_vowel = any(x in _VOWELS for x in letters)
        if c in "sfrxj" and has_vowel and not tone:
            tone = c
        elif c == "z" and has_vowel:
            tone = ""
        elif c == "d" and letters == ["d"]:
            letters = ["đ"]
        elif c in _HAT and letters and letters[-1] == c:
            letters[-1] = _HAT[c]
        elif c == "w":
            if not _hook(letters, "horn") and not _hook(letters, "breve"):
                letters.append("ư")
        else:
            letters.append(c)
    return "".join(letters), tone


def _vni(low: str) -> tuple[str, str] | None:
    letters: list[str] = []
    tone = ""
    for c in low:
        if c in _VNI_TONES:
            if tone:
                return None
            tone = _TONES[_VNI_TONES[c]]
        elif c == "6":
            if not _hook(letters, "hat"):
                return None
        elif c == "7":
            if not _hook(letters, "horn"):
                return None
        elif c == "8":
            if not _hook(letters, "breve"):
                return None
        elif c == "9":
            if not letters or letters[0] != "d":
                return None
            letters[0] = "đ"
        elif c == "0":
            tone = ""
        else:
            letters.append(c)
    return "".join(letters), tone


@lru_cache(maxsize=1 << 14)
def decode(word: str) -> str | None:
    """The syllable ``word`` spells as Telex or VNI keystrokes, when it is not a syllable as typed."""
    if _WORD.match(word):
        if spells_syllable(word):
            return None
        decoded = _telex(word.lower())
    elif _VNI_WORD.match(word):
        decoded = _vni(word.lower())
    else:
        return None
    if decoded is None:
        return None
    syllable = _place(*decoded)
    if not is_syllable(syllable) or syllable == word.lower():
        return None
    if word.isupper() and len(word) > 1:
        return syllable.upper()
    return syllable[0].upper() + syllable[1:] if word[0].isupper() else syllable
