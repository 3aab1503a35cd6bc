"""Query evaluation on arrays against Whoosh's own matchers and scores; term look-ups."""

from __future__ import annotations

import numpy as np
import pytest
from whoosh import index as whoosh_index
from whoosh import query as Q

import indexer.store.segments as segments_module
from indexer.fields import TEXT_F
from indexer.query import parse_query
from indexer.store import build_query, levels
from indexer.store.matching import _View
from indexer.store.scoring import reference_searcher


@pytest.fixture()
def view(index_dir):
    """The fixture index's documents as arrays, over Whoosh's own searcher of it."""
    ix = whoosh_index.open_dir(str(index_dir))
    with reference_searcher(ix, ix.reader()) as searcher:
        yield _View(searcher)
    ix.close()


@pytest.mark.parametrize(
    "text",
    [
        "giá vàng",
        "gia vang",
        "Giá vàng thế giới",  # exact AND, then folded AND, then OR
        "hoa binh vang",  # no article has all three: OR
        '"giá vàng thế giới"',
        '"gia vang" the gioi',
        "Đại hội thể thao",
        "dai hoi",
        "vàng miếng trong nước đứng yên xếp hàng",  # long: optional function syllables
        "trường học",
    ],
)
def test_the_arrays_match_and_score_every_level_as_whoosh_does(store, view, text):
    parsed = store.vocabulary().word_readings(parse_query(text))
    found = 0
    for level in levels(parsed):
        q = build_query(parsed, level)
        ours = view.matches(q)
        live = view.live[ours.docs]
        ours = {int(d): s * view.recency[d] for d, s in zip(ours.docs[live], ours.scores[live])}
        theirs = {hit.docnum: hit.score for hit in view.searcher.search(q, limit=None)}
        assert sorted(ours) == sorted(theirs), level
        assert [ours[d] for d in sorted(ours)] == pytest.approx([theirs[d] for d in sorted(theirs)]), level
        found += len(ours)
    assert found


def test_a_segment_looks_each_term_up_once_and_keeps_a_bounded_number(view, monkeypatch):
    seg = view.segments[0]
    monkeypatch.setattr(segments_module, "TERM_INFOS", 3)
    asked = []
    real = segments_module.looked_up
    monkeypatch.setattr(segments_module, "looked_up", lambda table, field, term: asked.append(term) or real(table, field, term))
    for term in [b"gia", b"gia", b"vang", b"khong-co", b"gia"]:
        seg.info(TEXT_F, term)
    assert asked == [b"gia", b"vang", b"khong-co"]
    assert seg.info(TEXT_F, b"khong-co") is None and not len(seg.postings(TEXT_F, b"khong-co").docs)
    assert seg.info(TEXT_F, b"gia").doc_frequency() == len(seg.postings(TEXT_F, b"gia").docs) > 0
    seg.info(TEXT_F, b"the")  # a fourth term: the oldest look-up (gia) goes
    asked.clear()
    for term in [b"vang", b"khong-co", b"the", b"gia"]:
        seg.info(TEXT_F, term)
    assert asked == [b"gia"]


def test_a_phrase_among_given_documents_is_the_phrase_restricted_to_them(view):
    q = Q.Phrase(TEXT_F, ["gia", "vang"])
    whole = view.phrase(q)
    assert len(whole) >= 2
    within = whole.docs[::2]
    part = view.phrase(q, within=np.concatenate([within, [view.size + 5]]))  # one document that is none
    assert part.docs.tolist() == within.tolist()
    assert part.scores.tolist() == whole.scores[::2].tolist()
