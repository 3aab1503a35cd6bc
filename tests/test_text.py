import unicodedata

import pytest

import indexer.text as text_module
from indexer.text import clean, fold, fold_chars, fold_text, has_diacritics, index_form


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Hòa &amp; Bình", "Hòa & Bình"),
        ("a&nbsp;b", "a b"),
        ("Trư\u200bơng Th\u00adị", "Trương Thị"),
        ("Đà\u00a0Nẵng\u202fnay", "Đà Nẵng nay"),
        (unicodedata.normalize("NFD", "Trương Thị Mai"), "Trương Thị Mai"),
        ("dòng 1\r\ndòng 2\rdòng 3", "dòng 1\ndòng 2\ndòng 3"),
        ("\ufeffTCCS", "TCCS"),
    ],
)
def test_clean(raw, expected):
    assert clean(raw) == expected
    assert unicodedata.is_normalized("NFC", clean(raw))


@pytest.mark.parametrize(
    "syllable, expected",
    [
        ("hoà", "hòa"),
        ("hòa", "hòa"),
        ("Thuỷ", "thủy"),
        ("thủy", "thủy"),
        ("khoẻ", "khỏe"),
        ("xoè", "xòe"),
        ("uỷ", "ủy"),
        ("HOẠ", "họa"),
        ("quý", "quý"),
        ("quỳnh", "quỳnh"),
        ("hoàng", "hoàng"),
        ("thuyền", "thuyền"),
        ("Ðà", "đà"),
        ("ðường", "đường"),
        ("NẴNG", "nẵng"),
        ("2023", "2023"),
    ],
)
def test_index_form_unifies_tone_styles(syllable, expected):
    assert index_form(syllable) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("Đà Nẵng", "da nang"), ("đã nâng", "da nang"), ("TRƯƠNG THỊ MAI", "truong thi mai"), ("Ðoàn", "doan")],
)
def test_fold(text, expected):
    assert fold(text) == expected


@pytest.mark.parametrize("text, expected", [("da nang", False), ("Da Nang", False), ("đa", True), ("Hà", True)])
def test_has_diacritics(text, expected):
    assert has_diacritics(text) is expected


@pytest.mark.parametrize(
    "text",
    [
        "Đà Nẵng, Thừa Thiên - Huế: ĐẠI HỘI Ðảng bộ",
        "Hoà bình, hòa bình, THUỶ ĐIỆN thủy điện",
        "Café crème, ñandú, İstanbul, Ærø 2024",
        "Tie\u0302\u0301ng Vie\u0323\u0302t",  # decomposed (NFD)
    ],
)
def test_fold_chars_folds_as_fold_text(text):
    assert fold_chars(text) == fold_text(text)
    long = " ".join([text] * 20)  # an article's length: looked up in an array
    assert len(long) >= text_module._ARRAY_FOLD_MIN and fold_chars(long) == fold_text(long)


def test_fold_chars_of_long_text_agrees_with_each_character_folded():
    covered = "".join(chr(c) for c in range(text_module._ARRAY_FOLD_CHARS) if not 0xD800 <= c < 0xE000)
    expected = "".join(fold_text(c) for c in covered)
    assert fold_chars(covered) == expected  # combining marks (folded to nothing) take the slow way
    plain = "".join(c for c in covered if len(fold_text(c)) == 1)
    assert fold_chars(plain) == "".join(fold_text(c) for c in plain)
    beyond = "Giá vàng ★ tăng 漢字 😀 " * 20  # characters past the array
    assert fold_chars(beyond) == fold_text(beyond)
    broken = "Giá vàng \ud83d tăng " * 20  # a lone surrogate, as a broken JSON escape leaves one
    assert fold_chars(broken) == "".join(fold_text(c) for c in broken)
