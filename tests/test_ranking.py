"""indexer.ranking: array scoring, set operations on matches, collapsing, the page."""

from __future__ import annotations

import math

import numpy as np
import pytest

from indexer import ranking
from indexer.ranking import Matches


def m(docs, scores) -> Matches:
    return Matches(np.array(docs, np.int64), np.array(scores, np.float64))


def as_lists(x: Matches) -> tuple[list, list]:
    return x.docs.tolist(), [round(s, 6) for s in x.scores.tolist()]


def test_bm25_is_whooshs_formula():
    # idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / avg)), times the boost
    norms = ranking.length_norms(np.array([10.0, 40.0]), avg_length=20.0)
    got = ranking.bm25(np.array([1.0, 3.0]), norms, idf=2.0, boost=0.5)
    expected = [
        0.5 * 2.0 * (1 * 2.2) / (1 + 1.2 * (0.25 + 0.75 * 10 / 20)),
        0.5 * 2.0 * (3 * 2.2) / (3 + 1.2 * (0.25 + 0.75 * 40 / 20)),
    ]
    assert got.tolist() == pytest.approx(expected)


def test_length_norms_worked_out_for_every_document_give_the_same_bits():
    rng = np.random.default_rng(3)
    lengths = rng.integers(1, 2000, 1000).astype(np.float64)
    docs = np.sort(rng.choice(1000, 300, replace=False))
    tf = rng.integers(1, 9, 300).astype(np.float64)
    avg = float(lengths.mean())
    per_posting = ranking.bm25(tf, ranking.length_norms(lengths[docs], avg), 1.7, 0.5)
    assert np.array_equal(ranking.bm25(tf, ranking.length_norms(lengths, avg)[docs], 1.7, 0.5), per_posting)


def test_idf_is_whooshs():
    assert ranking.idf(9, 1000) == pytest.approx(math.log(1000 / 10) + 1)


def test_both_keeps_documents_in_every_part_and_sums():
    a, b, c = m([1, 3, 5, 7], [1, 1, 1, 1]), m([3, 4, 5], [2, 2, 2]), m([0, 3, 5], [4, 4, 4])
    assert as_lists(ranking.both([a, b, c])) == ([3, 5], [7.0, 7.0])
    assert as_lists(ranking.both([a, m([2], [1])])) == ([], [])
    assert len(ranking.both([])) == 0


def test_both_gives_the_same_bits_over_dense_and_sparse_parts():
    # Dense parts are summed in arrays of docnums, sparse ones by binary search: the same
    # documents and, the scores added in the caller's order both ways, the same floats.
    rng = np.random.default_rng(7)
    for _ in range(50):
        parts = [
            m(np.flatnonzero(rng.random(400) < rng.choice([0.01, 0.3, 0.9])), rng.random(400) * 3)
            for _ in range(rng.integers(2, 5))
        ]
        parts = [Matches(p.docs, p.scores[: len(p.docs)]) for p in parts]
        got = ranking.both(parts)
        docs = sorted(set.intersection(*(set(p.docs.tolist()) for p in parts)))
        expected = [0.0] * len(docs)
        for p in parts:
            where = dict(zip(p.docs.tolist(), p.scores.tolist()))
            expected = [e + where[d] for e, d in zip(expected, docs)]
        assert (got.docs.tolist(), got.scores.tolist()) == (docs, expected)
    dense = [m(range(0, 100, 2), [1.0] * 50), m(range(0, 100, 3), [2.0] * 34)]
    assert as_lists(ranking.both(dense)) == (list(range(0, 100, 6)), [3.0] * 17)


def test_either_keeps_documents_in_any_part_and_sums_the_parts_they_are_in():
    got = ranking.either([m([1, 3], [1, 2]), m([3, 4], [10, 20]), Matches.none()], size=6)
    assert as_lists(got) == ([1, 3, 4], [1.0, 12.0, 20.0])
    only = m([2], [5])
    assert ranking.either([only, Matches.none()], size=6) is only


def test_maybe_adds_the_optional_score_to_required_documents_only():
    got = ranking.maybe(m([1, 4, 9], [1, 1, 1]), m([0, 4, 10], [5, 5, 5]))
    assert as_lists(got) == ([1, 4, 9], [1.0, 6.0, 1.0])


def test_without_drops_the_excluded_documents():
    assert as_lists(ranking.without(m([1, 2, 3], [1, 2, 3]), np.array([0, 2, 9]))) == ([1, 3], [1.0, 3.0])


def test_collapse_keeps_the_best_of_each_group_and_counts_the_others():
    matches = m([0, 1, 2, 3, 4, 5], [1, 5, 3, 2, 9, 9])
    groups = np.array([-1, 0, 0, 1, 1, 1])  # doc 0 alone; 1 and 2 a group; 3, 4 and 5 another
    kept, dropped = ranking.collapse(matches, groups)
    # Group 1: 4 and 5 tie on score, the lower docnum wins.
    assert as_lists(kept) == ([0, 1, 4], [1.0, 5.0, 9.0])
    assert dropped == {0: 1, 1: 2}
    # Newest first: the group's newest document is kept whatever its score.
    day = np.array([0, 20240101, 20240301, 20240505, 20240101, 20240101])
    kept, dropped = ranking.collapse(matches, groups, [day])
    assert kept.docs.tolist() == [0, 2, 3]
    assert ranking.collapse(m([0], [1]), groups) == (m([0], [1]), {})
    # Documents that are not positions: the key of each document is its own.
    matches = m([7, 9], [5, 1])
    groups, day = np.full(10, -1), np.zeros(10, np.int64)
    groups[[7, 9]], day[[7, 9]] = 0, [20240101, 20240301]
    kept, dropped = ranking.collapse(matches, groups, [day])
    assert (kept.docs.tolist(), dropped) == ([9], {0: 1})


def test_top_orders_by_score_then_docnum_and_partitions_without_losing_ties():
    matches = m([10, 11, 12, 13, 14], [1, 7, 3, 7, 7])
    assert matches.docs[ranking.top(matches, 2)].tolist() == [11, 13]
    assert matches.docs[ranking.top(matches, 4)].tolist() == [11, 13, 14, 12]
    assert matches.docs[ranking.top(matches, 9)].tolist() == [11, 13, 14, 12, 10]
    # With a key first (newest first): the key, then the score; keys are indexed by docnum.
    day = np.zeros(15, np.int64)
    day[10:] = [5, 1, 5, 2, 1]
    assert matches.docs[ranking.top(matches, 3, [day])].tolist() == [12, 10, 13]


def test_counts_names_each_code_present():
    assert ranking.counts(np.array([2, 0, 2, 2]), ["", "a", "b"]) == {"": 1, "b": 3}


def test_among_says_which_values_a_sorted_array_holds():
    assert ranking.among(np.array([2, 5, 9]), np.array([1, 2, 9, 10, 5])).tolist() == [False, True, True, False, True]
    assert ranking.among(np.array([], np.int64), np.array([3])).tolist() == [False]
    # As many values as numbers up to the largest held: looked up in a mask, those above included.
    held, values = np.arange(0, 40, 3), np.arange(100) % 50
    assert ranking.among(held, values).tolist() == [v % 3 == 0 and v < 40 for v in values.tolist()]
    assert ranking.among(held[:1], values[:3]).tolist() == [True, False, False]
    assert ranking.among(np.array([2, 1000]), np.array([2, 3, 1000, 5000])).tolist() == [True, False, True, False]
