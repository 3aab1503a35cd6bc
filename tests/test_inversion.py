"""Posting lists made from a batch's tokens: terms in UTF-8 order, each term's documents in order,
positions as deltas; postings copied from a segment after the documents added whole."""

from __future__ import annotations

import numpy as np

from indexer.inversion import FieldTokens


def lists(tokens: FieldTokens) -> dict:
    inv = tokens.invert()
    out = {}
    ends = np.cumsum(inv.freqs)
    for i, term in enumerate(inv.terms):
        a, b = inv.bounds[i], inv.bounds[i + 1]
        out[term] = [
            (int(d), int(f), None if inv.deltas is None else inv.deltas[e - f : e].tolist())
            for d, f, e in zip(inv.docs[a:b], inv.freqs[a:b], ends[a:b])
        ]
    return out


def test_documents_become_posting_lists_with_position_deltas():
    tokens = FieldTokens(positions=True)
    tokens.add(0, ["giá", "vàng", "giá", "vàng", "tăng"])
    tokens.add(2, ["vàng", "đà_nẵng"])
    assert lists(tokens) == {
        "giá": [(0, 2, [0, 2])],
        "tăng": [(0, 1, [4])],
        "vàng": [(0, 2, [1, 2]), (2, 1, [0])],
        "đà_nẵng": [(2, 1, [1])],  # "đ" (U+0111) sorts after "v", as its UTF-8 bytes do
    }


def test_without_positions_only_frequencies():
    tokens = FieldTokens(positions=False)
    tokens.add(0, ["a", "b", "a"])
    tokens.add(1, ["b"])
    inv = tokens.invert()
    assert (inv.terms, inv.bounds.tolist(), inv.docs.tolist(), inv.freqs.tolist(), inv.deltas) == (
        ["a", "b"], [0, 1, 3], [0, 0, 1], [2, 1, 1], None,
    )


def test_copied_postings_follow_the_documents_added_whole():
    tokens = FieldTokens(positions=True)
    tokens.add(0, ["vàng", "tăng"])
    tokens.add_postings(["giá", "vàng"], np.array([1, 2]), np.array([1, 1, 4]), np.array([2, 1, 1]), np.array([3, 7, 0, 5]))
    assert lists(tokens) == {
        "giá": [(1, 2, [3, 4])],
        "tăng": [(0, 1, [1])],
        "vàng": [(0, 1, [0]), (1, 1, [0]), (4, 1, [5])],
    }


def test_postings_copied_out_of_document_order_are_sorted():
    tokens = FieldTokens(positions=False)
    tokens.add_postings(["a"], np.array([1]), np.array([5]), np.array([1]), None)
    tokens.add_postings(["a", "b"], np.array([1, 1]), np.array([3, 3]), np.array([2, 1]), None)
    tokens.add(1, ["a"])  # not after the copies, as the writer never does: still sorted
    assert lists(tokens) == {"a": [(1, 1, None), (3, 2, None), (5, 1, None)], "b": [(3, 1, None)]}


def test_nothing_added_inverts_to_nothing():
    inv = FieldTokens(positions=True).invert()
    assert (inv.terms, inv.bounds.tolist(), inv.docs.tolist(), inv.freqs.tolist(), inv.deltas.tolist()) == (
        [], [0], [], [], [],
    )
