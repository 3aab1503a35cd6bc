import pytest

from indexer.analysis import pyvi_tokens, segment, syllables, words
from indexer.text import clean

SENTENCE = "Ông Trương Thị Mai dự hội nghị tại Đà Nẵng, TP.HCM ngày 28-12-2023."


def test_syllables_carry_exact_offsets_into_the_text():
    got = [(s.text, s.start, s.end, s.exact, s.folded) for s in syllables(SENTENCE)]
    assert got == [
        ("Ông", 0, 3, "ông", "ong"),
        ("Trương", 4, 10, "trương", "truong"),
        ("Thị", 11, 14, "thị", "thi"),
        ("Mai", 15, 18, "mai", "mai"),
        ("dự", 19, 21, "dự", "du"),
        ("hội", 22, 25, "hội", "hoi"),
        ("nghị", 26, 30, "nghị", "nghi"),
        ("tại", 31, 34, "tại", "tai"),
        ("Đà", 35, 37, "đà", "da"),
        ("Nẵng", 38, 42, "nẵng", "nang"),
        ("TP.", 44, 46, "tp", "tp"),
        ("HCM", 47, 50, "hcm", "hcm"),
        ("ngày", 51, 55, "ngày", "ngay"),
        ("28", 56, 58, "28", "28"),
        ("12", 59, 61, "12", "12"),
        ("2023", 62, 66, "2023", "2023"),
    ]
    for s in syllables(SENTENCE):
        assert SENTENCE[s.start : s.end] == s.text.rstrip(".")


def test_nfd_text_gives_the_same_syllables_once_cleaned():
    import unicodedata

    nfd = clean(unicodedata.normalize("NFD", SENTENCE))
    assert [s.exact for s in syllables(nfd)] == [s.exact for s in syllables(SENTENCE)]


def test_old_and_new_tone_styles_index_the_same():
    old = syllables("Thuỷ điện Hoà Bình khoẻ")
    new = syllables("Thủy điện Hòa Bình khỏe")
    assert [s.exact for s in old] == [s.exact for s in new] == ["thủy", "điện", "hòa", "bình", "khỏe"]


@pytest.mark.parametrize(
    "text",
    [
        SENTENCE,
        "Thuỷ điện Hoà Bình xả lũ... Giá 1.000,5 đồng -> tăng; email a.b@vn.vn, web https://x.vn/a?b=1",
        "Mr. Smith và ThS. Lan gặp nhau ở Tp. Hồ Chí Minh >> rồi về Hà Nội\nhôm qua",
    ],
)
def test_segmentation_is_identical_to_pyvis_own(text):
    from pyvi import ViTokenizer

    tokens = pyvi_tokens(text)
    assert [t.text for t in tokens] == ViTokenizer.ViTokenizer.sylabelize(text)[1]
    joined = " ".join("_".join(t.text for t in tokens[a:b]) for a, b in segment(tokens))
    assert joined == ViTokenizer.ViTokenizer.tokenize(text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Trương Thị Mai dự hội nghị tại Đà Nẵng", ["trương_thị_mai", "hội_nghị", "đà_nẵng"]),
        ("Thuỷ điện Hoà Bình", ["thủy_điện", "hòa_bình"]),
        ("", []),
    ],
)
def test_words_are_pyvis_multi_syllable_words(text, expected):
    assert words(text) == expected


FEATURED = "Ông Trương Thị Mai dự hội nghị tại Đà Nẵng , TP. HCM ngày 28 - 12 - 2023 về hợp tác xã , NÓI TÓM LẠI"


@pytest.mark.parametrize("text", [FEATURED, "Hà", "Hà Nội", "hợp tác xã", ""])
def test_crf_features_are_pyvis_true_features_in_its_order(text):
    from pyvi import ViTokenizer

    from indexer.analysis import crf_features

    vi = ViTokenizer.ViTokenizer
    tokens = vi.sylabelize(text)[1]
    expected = [
        # CRFsuite's reading of a dict: a string value names the attribute "key:value", True and a
        # number (the bias, 1.0) are the attribute "key" weighing 1, False weighs nothing
        [f"{k}:{v}" if isinstance(v, str) else k for k, v in feats.items() if v is True or v == 1.0 or isinstance(v, str)]
        for feats in vi.sent2features(tokens, False)
    ]
    assert [list(f) for f in crf_features(tokens, vi.bi_grams, vi.tri_grams)] == expected
    if text == FEATURED:
        assert any("+2:word.tri_gram()" in f for f in expected) and any("word.isdigit()" in f for f in expected)
