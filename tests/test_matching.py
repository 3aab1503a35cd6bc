"""Query evaluation on arrays against Whoosh's own matchers and scores; term look-ups."""

from __future__ import annotations

import numpy as np
import pytest
from whoosh import index as whoosh_index
from whoosh import query as Q

import indexer.store.segments as segments_module
from indexer.fields import TEXT_F
from indexer.query import parse_query
from indexer.store import MOST, build_query, levels
from indexer.store.matching import _View
from indexer.store.scoring import reference_searcher
from support import index_rows


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
        "giá vàng thế giới tăng vọt",  # five: all, then all but one, then any
        "Giá vang",  # half-accented
    ],
)
def test_the_arrays_match_and_score_every_level_as_whoosh_does(store, view, text):
    parsed = store.vocabulary().word_readings(parse_query(text))
    found = 0
    for level in levels(parsed) + ((MOST,) if len(parsed.terms) >= 5 else ()):
        q = build_query(parsed, level)
        ours = view.matches(q)
        live = view.live[ours.docs]
        ours = {int(d): s * view.recency[d] for d, s in zip(ours.docs[live], ours.scores[live])}
        theirs = {hit.docnum: hit.score for hit in view.searcher.search(q, limit=None)}
        if level == MOST:  # Whoosh's matchers ignore minmatch: its documents are those holding enough
            held = [{h.docnum for h in view.searcher.search(t, limit=None)} for t in q.a.subqueries]
            theirs = {d: s for d, s in theirs.items() if sum(d in h for h in held) >= q.a.minmatch}
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


def test_syllables_side_by_side_in_query_order_rank_first(tmp_path):
    from indexer.search import search
    from indexer.store import ArticleStore

    rows = [
        {"id": "scattered", "title": "Thị trường thương mại", "body": "Thị trường thương mại và ông Trương nói về giá."},
        {"id": "name", "title": "Bà Trương Thị Mai", "body": "Bà Trương Thị Mai phát biểu tại hội nghị."},
        {"id": "reversed", "title": "Mai Thị Trương", "body": "Mai Thị Trương phát biểu tại hội nghị hôm qua."},
    ]
    with ArticleStore.open(index_rows(tmp_path, rows)) as store:
        for q in ("truong thi mai", "Trương Thị Mai"):
            assert [h.id for h in search(store, q).hits] == ["name", "reversed", "scattered"], q


def test_a_long_query_finds_the_article_missing_one_of_its_syllables(tmp_path, monkeypatch):
    import indexer.store.querying as querying

    monkeypatch.setattr(querying, "MOST_FROM", 5)
    from indexer.search import search
    from indexer.store import ArticleStore

    rows = [
        {"id": "target", "title": "Giá vàng miếng tăng mạnh", "body": "Giá vàng miếng SJC tăng mạnh sáng nay."},
        {"id": "other", "title": "Giá xăng giảm", "body": "Giá xăng giảm nhẹ, vàng đứng yên."},
    ]
    with ArticleStore.open(index_rows(tmp_path, rows)) as store:
        page = search(store, "giá vàng miếng tăng vọt")  # "vọt": in no article
        assert ([h.id for h in page.hits], page.matched_all) == (["target"], False)
