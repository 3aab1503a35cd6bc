"""Vocabulary: accented readings of queries typed without diacritics, typo fixes."""

import json
import os
from collections import Counter

import pytest

from indexer.query import parse_query
from indexer import vocabulary as vocabulary_module
from indexer.vocabulary import (
    LEGACY_FILE, VOCABULARY_FILE, IndexVocabulary, Vocabulary, add_batch, has_deferred, save_deferred,
)

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
        # Three letters or fewer: the same letters with other marks, else left as typed
        # (thp is a letter away from thị and from many others).
        ("ha noi thp", "hà nội thp"),
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
def test_suggest(query, expected, vocabulary):
    assert vocabulary.suggest(parse_query(query)) == expected


def test_unaccented_queries_get_word_signals(vocabulary):
    assert vocabulary.word_readings(parse_query("truong thi mai")).words == ("trương_thị_mai",)
    assert vocabulary.word_readings(parse_query("gia vang ha noi")).words == ("giá_vàng", "hà_nội")
    # Accented queries keep their own candidates.
    assert vocabulary.word_readings(parse_query("giá vàng")).words == ("giá_vàng",)


@pytest.fixture(scope="module")
def vocabulary(tmp_path_factory):
    """VOCAB's counts added to an index's file, read back as a search reads them."""
    index_dir = tmp_path_factory.mktemp("vocabulary")
    VOCAB.add_to(index_dir)
    return IndexVocabulary(index_dir)


def test_readings_break_ties_by_the_smaller_form(tmp_path):
    v = Vocabulary(syllables=Counter({"mại": 3, "mài": 3, "mai": 2}))
    v.add_to(tmp_path)
    expected = {"mai": ("mài", 3, 8)}
    assert IndexVocabulary(tmp_path).readings("syllables", ["mai", "xyz"]) == expected


def test_forms_are_every_form_the_keys_fold(tmp_path):
    Vocabulary(words=Counter({"thái_độ": 4, "thảm_đỏ": 2, "thăm_dò": 3})).add_to(tmp_path)
    forms = IndexVocabulary(tmp_path).forms("words", ["thai_do", "tham_do", "xyz"])
    assert sorted(forms) == [("thai_do", "thái_độ", 4), ("tham_do", "thăm_dò", 3), ("tham_do", "thảm_đỏ", 2)]


def test_counts_documents_and_adds_them_to_the_file(tmp_path):
    v = Vocabulary()
    v.add_document({"title_x": "giá vàng", "text_x": "giá vàng giá", "title_w": "giá_vàng", "text_w": "giá_vàng"})
    v.add_document({"title_x": "vàng", "text_x": "", "title_w": "", "text_w": ""})
    assert v.syllables == Counter({"giá": 1, "vàng": 2})
    assert v.words == Counter({"giá_vàng": 1})
    v.add_to(tmp_path)
    loaded = Vocabulary.load(tmp_path)
    assert (loaded.syllables, loaded.words) == (v.syllables, v.words)
    assert Vocabulary.load(tmp_path / "missing").syllables == Counter()
    v.add_to(tmp_path)  # a second batch's counts add up
    loaded = Vocabulary.load(tmp_path)
    assert loaded.syllables == Counter({"giá": 2, "vàng": 4}) and loaded.words == Counter({"giá_vàng": 2})


def test_an_open_vocabulary_sees_added_counts_and_knows_when_its_file_was_replaced(tmp_path):
    index_dir = tmp_path / "ix"
    index_dir.mkdir()
    v = IndexVocabulary(index_dir)
    assert v.syllable_count("vàng") == 0 and v.is_current()  # no file yet
    Vocabulary(syllables=Counter({"vàng": 1})).add_to(index_dir)
    assert not v.is_current()
    v = IndexVocabulary(index_dir)
    assert v.syllable_count("vàng") == 1
    Vocabulary(syllables=Counter({"vàng": 2})).add_to(index_dir)  # in place: the open file sees it
    assert v.is_current() and v.syllable_count("vàng") == 3
    rebuilt = tmp_path / "rebuilt"
    rebuilt.mkdir()
    Vocabulary(syllables=Counter({"gạo": 1})).add_to(rebuilt)
    os.replace(rebuilt / VOCABULARY_FILE, index_dir / VOCABULARY_FILE)  # as a rebuild swaps its index in
    assert not v.is_current() and v.syllable_count("gạo") == 0
    v.close()
    assert v.syllable_count("vàng") == 0  # closed: no suggestions, no error
    assert [IndexVocabulary(index_dir).syllable_count(s) for s in ("vàng", "gạo")] == [0, 1]


def test_a_legacy_json_vocabulary_is_read_then_carried_over_by_the_next_batch(tmp_path):
    legacy = {"syllables": {"trương": 5, "thị": 7, "mai": 6}, "words": {"trương_thị_mai": 5}}
    (tmp_path / LEGACY_FILE).write_text(json.dumps(legacy, ensure_ascii=False), "utf-8")
    assert IndexVocabulary(tmp_path).suggest(parse_query("truong thi mai")) == "trương thị mai"
    Vocabulary(syllables=Counter({"mai": 1})).add_to(tmp_path)
    assert not (tmp_path / LEGACY_FILE).exists()
    loaded = Vocabulary.load(tmp_path)
    assert loaded.syllables == Counter({"trương": 5, "thị": 7, "mai": 7})
    assert loaded.words == Counter({"trương_thị_mai": 5})


def test_a_file_that_cannot_be_written_is_an_os_error_naming_it(tmp_path):
    (tmp_path / VOCABULARY_FILE).mkdir()  # not a file SQLite can open
    with pytest.raises(OSError) as failed:
        Vocabulary(syllables=Counter({"gạo": 1})).add_to(tmp_path)
    assert failed.value.filename == str(tmp_path / VOCABULARY_FILE)
    assert failed.value.strerror == "unable to open database file"


def test_deferred_batches_are_saved_once_the_delay_has_passed_or_when_asked(tmp_path, monkeypatch):
    batch = Vocabulary(syllables=Counter({"gạo": 1}))
    add_batch(tmp_path, batch, defer=True)
    add_batch(tmp_path, batch, defer=True)
    assert has_deferred(tmp_path) and not (tmp_path / VOCABULARY_FILE).exists()
    save_deferred(tmp_path)
    assert not has_deferred(tmp_path) and Vocabulary.load(tmp_path).syllables == Counter({"gạo": 2})
    save_deferred(tmp_path)  # nothing left to save
    assert Vocabulary.load(tmp_path).syllables == Counter({"gạo": 2})

    add_batch(tmp_path, batch, defer=True)
    monkeypatch.setattr(vocabulary_module, "SAVE_DELAY", 0.0)
    add_batch(tmp_path, batch, defer=True)  # the delay has passed: saved with the one put off
    assert not has_deferred(tmp_path) and Vocabulary.load(tmp_path).syllables == Counter({"gạo": 4})
    add_batch(tmp_path, batch)  # not deferred: saved at once
    assert Vocabulary.load(tmp_path).syllables == Counter({"gạo": 5})


def test_a_damaged_file_costs_suggestions_not_the_query(tmp_path):
    (tmp_path / VOCABULARY_FILE).write_bytes(b"not a database" * 100)
    v = IndexVocabulary(tmp_path)
    assert v.suggest(parse_query("truong thi mai")) is None
    assert v.word_readings(parse_query("truong thi mai")).words == ()
