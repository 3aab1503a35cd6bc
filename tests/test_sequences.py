"""Articles' syllables as numbers: the numbers, the column's bytes, and syllables found side by side."""

from __future__ import annotations

import zlib

from indexer.store.sequences import Sequences, code, encoded


def test_a_syllable_is_numbered_by_the_crc32_of_its_utf8_bytes():
    assert code("vang") == 246231961 == zlib.crc32(b"vang")
    assert code("gia") == 1012106647
    assert code("đà") == 314266607 == zlib.crc32("đà".encode("utf-8"))


def test_a_value_is_the_numbers_in_order_four_little_endian_bytes_each():
    assert encoded(["gia", "vang"]).hex() == "9785533c" "9933ad0e"
    assert encoded([]) == b""


def articles(*texts: str) -> Sequences:
    return Sequences([encoded(t.split()) for t in texts])


def test_counts_are_each_articles_occurrences():
    found = articles("gia vang tang", "vang gia gia vang", "", "gia")
    assert found.counts("gia").tolist() == [1, 2, 0, 1]
    assert found.counts("vang").tolist() == [1, 2, 0, 0]
    assert found.counts("bac").tolist() == [0, 0, 0, 0]


def test_side_by_side_is_in_the_given_order():
    found = articles("gia vang tang", "vang gia gia vang", "", "gia")
    assert found.side_by_side(["gia", "vang"]).tolist() == [True, True, False, False]
    assert found.side_by_side(["vang", "gia"]).tolist() == [False, True, False, False]
    assert found.side_by_side(["gia", "vang", "tang"]).tolist() == [True, False, False, False]
    assert found.side_by_side(["vang", "gia", "gia", "vang"]).tolist() == [False, True, False, False]
    assert found.side_by_side(["gia", "gia"]).tolist() == [False, True, False, False]


def test_side_by_side_never_spans_two_articles():
    found = articles("tang gia", "vang tang")
    assert found.side_by_side(["gia", "vang"]).tolist() == [False, False]
    assert found.side_by_side(["tang", "gia"]).tolist() == [True, False]


def test_fewer_numbers_than_syllables_asked_for_find_nothing():
    assert articles("gia").side_by_side(["gia", "vang"]).tolist() == [False]
    assert Sequences([]).side_by_side(["gia"]).tolist() == []
    assert Sequences([]).counts("gia").tolist() == []
