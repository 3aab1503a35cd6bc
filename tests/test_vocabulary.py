"""Vocabulary: accented readings of queries typed without diacritics, typo fixes."""

from collections import Counter

import pytest

from indexer.query import parse_query
from indexer.vocabulary import Vocabulary, _edits

VOCAB = Vocabulary(
    syllables=Counter(
        {"trương": 5, "trường": 9, "thị": 7, "thì": 20, "mai": 6, "mại": 3, "đà": 4, "đã": 30,
         "nẵng": 4, "nâng": 2, "giá": 8, "vàng": 6, "hà": 5, "nội": 5, "xăng": 3}
    ),
    words=Counter({"trương_thị_mai": 5, "đà_nẵng": 4, "giá_vàng": 6, "hà_nội": 5, "thương_mại": 3}),
)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("truong thi mai", "trương thị mai"),
        ("da nang", "đà nẵng"),
        ("gia vang", "giá vàng"),
        # A typo: the most frequent known syllable one edit away.
        ("gia vnag", "giá vàng"),
        ("gia xnag", "giá xăng"),
        # Typed with diacritics: only unknown syllables change.
        ("Hà Nọi", "hà nội"),
        ("giá vàng", None),
        # No clear reading: "thi" is "thì" (20) far more than "thị" (7) alone, and
        # the words table has no "thi_mai"; no unknown syllable either.
        ("mai", None),
        ("xyzzy", None),
        ('"gia vang"', None),  # phrases and exclusions are left as typed
    ],
)
def test_suggest(query, expected):
    assert VOCAB.suggest(parse_query(query)) == expected


def test_unaccented_queries_get_word_signals():
    assert VOCAB.word_readings(parse_query("truong thi mai")).words == ("trương_thị_mai",)
    assert VOCAB.word_readings(parse_query("gia vang ha noi")).words == ("giá_vàng", "hà_nội")
    # Accented queries keep their own candidates.
    assert VOCAB.word_readings(parse_query("giá vàng")).words == ("giá_vàng",)


def test_counts_documents_and_round_trips(tmp_path):
    v = Vocabulary()
    v.add_document({"title_x": "giá vàng", "text_x": "giá vàng giá", "title_w": "giá_vàng", "text_w": "giá_vàng"})
    v.add_document({"title_x": "vàng", "text_x": "", "title_w": "", "text_w": ""})
    assert v.syllables == Counter({"giá": 1, "vàng": 2})
    assert v.words == Counter({"giá_vàng": 1})
    v.save(tmp_path)
    loaded = Vocabulary.load(tmp_path)
    assert (loaded.syllables, loaded.words) == (v.syllables, v.words)
    assert Vocabulary.load(tmp_path / "missing").syllables == Counter()
    loaded.add(v)
    assert loaded.syllables == Counter({"giá": 2, "vàng": 4}) and loaded.words == Counter({"giá_vàng": 2})


def test_the_shared_vocabulary_is_reloaded_when_its_file_is_replaced(tmp_path):
    import os

    v = Vocabulary()
    v.add_document({"title_x": "vàng", "text_x": ""})
    v.save(tmp_path)
    assert Vocabulary.shared(tmp_path).syllables == Counter({"vàng": 1})
    before = os.stat(tmp_path / "vocabulary.json")
    v = Vocabulary()
    v.add_document({"title_x": "gạo", "text_x": ""})
    v.save(tmp_path)  # as a rebuilt index's: another file, the same size, even the same time
    os.utime(tmp_path / "vocabulary.json", ns=(before.st_atime_ns, before.st_mtime_ns))
    assert Vocabulary.shared(tmp_path).syllables == Counter({"gạo": 1})


def test_edits():
    assert "vang" in _edits("vnag") and "vng" in _edits("vang") and "vanng" in _edits("vang")
    assert "vang" not in _edits("vang")
