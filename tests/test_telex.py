"""Vietnamese syllables, and words typed as Telex or VNI keys decoded."""

import pytest

from indexer.telex import decode, is_syllable, one_mark_apart, spells_syllable


@pytest.mark.parametrize(
    "typed, syllable",
    [
        ("gias", "giá"),
        ("vangf", "vàng"),
        ("Vieetj", "Việt"),
        ("dduwowngf", "đường"),
        ("truwowngf", "trường"),
        ("nguwowif", "người"),
        ("quoocs", "quốc"),
        ("gif", "gì"),
        ("thuyr", "thủy"),
        ("khuyeenr", "khuyển"),
        ("HAF", "HÀ"),
        ("NOOIJ", "NỘI"),
        ("ddi", "đi"),
        # VNI: digits for the marks
        ("gia1", "giá"),
        ("va2ng", "vàng"),
        ("d9u7o7ng2", "đường"),
        ("Vie65t", "Việt"),
    ],
)
def test_telex_and_vni_keys_decode_to_the_syllable(typed, syllable):
    assert decode(typed) == syllable


@pytest.mark.parametrize(
    "typed",
    # Already a syllable; English and brand words; no syllable however read.
    ["vang", "Nam", "tra", "iphone", "samsung", "covid", "facebook", "u23", "g7", "covid19", "2024", "trump"],
)
def test_words_that_are_not_telex_stay(typed):
    assert decode(typed) is None


@pytest.mark.parametrize(
    "word, valid",
    [
        ("người", True), ("khuỷu", True), ("thuở", True), ("gìn", True), ("quý", True), ("quỳnh", True), ("quýt", True), ("quyết", True),
        ("cát", True), ("cat", False),  # a stop final takes sắc or nặng
        ("vnag", False), ("ka", False), ("ghe", True), ("ngh", False), ("iphone", False),
    ],
)  # fmt: skip
def test_is_syllable(word, valid):
    assert is_syllable(word) is valid


def test_spells_syllable_ignores_the_marks():
    assert spells_syllable("nguoi") and spells_syllable("cat") and not spells_syllable("lightfoot")


@pytest.mark.parametrize(
    "a, b, apart",
    [
        ("chảo", "chào", True),  # the tone
        ("nguòi", "người", True),  # the horns, the tone kept
        ("dao", "đao", True),
        ("chấo", "chào", False),  # the hat and the tone
        ("chào", "chào", False),
        ("chào", "chèo", False),  # other letters
    ],
)
def test_one_mark_apart(a, b, apart):
    assert one_mark_apart(a, b) is apart
