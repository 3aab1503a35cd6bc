"""Query evaluation on arrays against Whoosh's own matchers and scores; term look-ups."""

from __future__ import annotations

import random
from dataclasses import replace
import re
from pathlib import Path

import numpy as np
import pytest
from whoosh import index as whoosh_index
from whoosh import query as Q

import indexer.store.blocks as blocks_module
import indexer.store.codec as codec_module
import indexer.store.matching as matching_module
import indexer.store.segments as segments_module
from indexer import ranking
from indexer.fields import TEXT_F
from indexer.query import parse_query
from indexer.store import ANY, HELD, MOST, build_query, levels
from indexer.store.matching import _View
from indexer.store.querying import Filters
from indexer.store.scoring import reference_searcher
from support import index_rows
from indexer.text import fold

FIXTURES = Path(__file__).resolve().parent / "fixtures"


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
        found += matched_as_whoosh_does(view, build_query(parsed, level), level)
    assert found


def matched_as_whoosh_does(view, q, level) -> int:
    """How many live documents ``q`` matches, once its matches and scores are checked against Whoosh's."""
    ours = view.matches(q)
    live = view.live[ours.docs]
    ours = {int(d): s * view.recency[d] for d, s in zip(ours.docs[live], ours.scores[live])}
    theirs = {hit.docnum: hit.score for hit in view.searcher.search(q, limit=None)}
    if level == MOST:  # Whoosh's matchers ignore minmatch: its documents are those holding enough
        held = [{h.docnum for h in view.searcher.search(t, limit=None)} for t in q.a.subqueries]
        theirs = {d: s for d, s in theirs.items() if sum(d in h for h in held) >= q.a.minmatch}
    assert sorted(ours) == sorted(theirs), level
    assert [ours[d] for d in sorted(ours)] == pytest.approx([theirs[d] for d in sorted(theirs)]), level
    return len(ours)


def test_the_level_without_a_stray_matches_and_scores_as_whoosh_does(store, view):
    parsed = replace(store.vocabulary().word_readings(parse_query("Giá vàng thp")), rare=(("thp", "thp"),))
    assert levels(parsed) == (HELD, ANY)
    assert matched_as_whoosh_does(view, build_query(parsed, HELD), HELD) >= 2


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


PROXIMITY_PHRASES = [["gia", "vang"], ["vang", "gia"], ["gia", "vang", "the"], ["the", "gioi"], ["dai", "hoi"], ["vang", "vang"]]


@pytest.mark.parametrize("words", PROXIMITY_PHRASES)
def test_proximity_read_from_syllable_numbers_is_the_phrase_read_from_positions(view, words):
    q = Q.Phrase(TEXT_F, words, boost=0.6)
    every = np.arange(view.size)
    read: dict = {}
    numbers = view.phrase(q, within=every, read=read)
    assert isinstance(read.get(matching_module._SEQUENCES), matching_module.Sequences)  # read, not positions
    positions = view.phrase(q, within=every)
    assert numbers.docs.tolist() == positions.docs.tolist()
    assert numbers.scores.tolist() == positions.scores.tolist()  # the same sums, bit for bit


def test_every_run_of_a_title_is_found_alike_from_numbers_and_positions(view):
    from indexer.analysis import index_forms

    every, runs = np.arange(view.size), set()
    for docnum in range(view.size):
        folded = index_forms(view.searcher.stored_fields(docnum).get("title") or "")[1]
        runs |= {tuple(folded[i : i + n]) for n in (2, 3) for i in range(len(folded) - n + 1)}
    assert len(runs) > 50
    for run in sorted(runs):
        q = Q.Phrase(TEXT_F, list(run))
        numbers, positions = view.phrase(q, within=every, read={}), view.phrase(q, within=every)
        assert len(numbers) and numbers.docs.tolist() == positions.docs.tolist(), run
        assert numbers.scores.tolist() == positions.scores.tolist(), run


def test_a_segment_without_syllable_numbers_is_read_from_positions(view, monkeypatch):
    q = Q.Phrase(TEXT_F, ["gia", "vang"], boost=0.6)
    every = np.arange(view.size)
    expected = view.phrase(q, within=every, read={})
    monkeypatch.setattr(segments_module._Segment, "sequences", lambda self, docs: None)
    read: dict = {}
    found = view.phrase(q, within=every, read=read)
    assert read[matching_module._SEQUENCES] is None and (TEXT_F, "gia") in read  # the positions were read
    assert len(found) >= 2
    assert (found.docs.tolist(), found.scores.tolist()) == (expected.docs.tolist(), expected.scores.tolist())


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


# --- top-k from the blocks whose score bounds can reach it ---------------------------------

TOP_ARTICLES = 400  # with blocks of 8 postings: common syllables span dozens of blocks
REPEATING = 5


@pytest.fixture(scope="module")
def small_blocks(tmp_path_factory):
    """An index of TOP_ARTICLES articles recombined from the fixture's sentences, written with blocks of
    8 postings, in three commits (three segments), a few articles deleted: (store, its view)."""
    import json
    import random

    from indexer.ingest import index_paths
    from indexer.store import ArticleStore

    rows = [json.loads(line) for line in (FIXTURES / "news.jsonl").read_text("utf-8").splitlines()]
    sentences = [s.strip() for r in rows for s in re.split(r"(?<=[.!?])\s+|\n", " ".join(filter(None, (r["sapo"], r["body"])))) if s.strip()]
    titles = [r["title"] for r in rows]
    sources = sorted({r["source"] for r in rows})
    rng = random.Random(24)
    tmp = tmp_path_factory.mktemp("small-blocks")
    for part in range(3):
        with (tmp / f"part{part}.jsonl").open("w", encoding="utf-8") as f:
            for i in range(part * TOP_ARTICLES // 3, (part + 1) * TOP_ARTICLES // 3):
                body = " ".join(rng.choice(sentences) for _ in range(rng.randint(3, 8)))
                article = {"id": f"a{i}", "title": rng.choice(titles), "body": body, "source": rng.choice(sources),
                           "published": f"20{rng.randint(10, 24)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"}
                f.write(json.dumps(article, ensure_ascii=False) + "\n")
            if part == 1:  # a few articles that say one syllable again and again: they top its list
                for k in range(REPEATING):
                    article = {"id": f"lu-{k}", "title": "Tin lũ", "body": "Lũ " * (k + 5), "published": "2024-01-01"}
                    f.write(json.dumps(article, ensure_ascii=False) + "\n")
    index = tmp / "ix"
    patch = pytest.MonkeyPatch()
    patch.setattr(codec_module, "BLOCK_POSTINGS", 8)
    try:
        for part in range(3):
            index_paths(index, [tmp / f"part{part}.jsonl"])
    finally:
        patch.undo()
    store = ArticleStore.open(index)
    with store.writer() as w:
        for i in range(0, TOP_ARTICLES, 37):
            w.delete(f"a{i}")
        w.commit(merge=False)
    store.refresh()
    ix = whoosh_index.open_dir(str(index))
    with reference_searcher(ix, ix.reader()) as searcher:
        yield store, _View(searcher), sentences, sources
    ix.close()
    store.close()


def exhaustive_top(view, q, n, keep):
    found = view.matches(q)
    found = found.where(keep[found.docs])
    found = ranking.Matches(found.docs, found.scores * view.recency[found.docs])
    return found.where(ranking.top(found, n))


def random_queries(sentences, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    words = [w for s in sentences for w in re.findall(r"\w+", s.lower())]
    queries = []
    for _ in range(count):
        picked = " ".join(rng.choice(words) for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.3:
            picked = fold(picked)
        if rng.random() < 0.15:
            start = rng.randrange(len(words) - 2)
            picked += f' "{" ".join(words[start:start + 2])}"'
        if rng.random() < 0.1:
            picked += f" -{rng.choice(words)}"
        queries.append(picked)
    return queries


@pytest.mark.parametrize("seed_docs", [1, 40, matching_module.SEED_DOCS])
def test_top_k_from_bounded_blocks_is_the_exhaustive_top_k_exactly(small_blocks, monkeypatch, seed_docs):
    store, view, sentences, sources = small_blocks
    monkeypatch.setattr(matching_module, "SEED_DOCS", seed_docs)
    rng = random.Random(seed_docs)
    compared = 0
    for text in random_queries(sentences, 120, seed_docs):
        parsed = store.vocabulary().word_readings(parse_query(text))
        for level in levels(parsed):
            q = build_query(parsed, level)
            if q is None:
                continue
            keep = view.live.copy()
            if rng.random() < 0.3:
                keep &= view.allowed(Filters(source=rng.choice(sources)))
            n = rng.choice([1, 3, 10, 50, 1000])
            ours, theirs = view.top(q, n, keep), exhaustive_top(view, q, n, keep)
            assert ours.docs.tolist() == theirs.docs.tolist(), (text, level, n)
            assert ours.scores.tolist() == theirs.scores.tolist(), (text, level, n)
            compared += len(theirs)
    assert compared > 1000


def test_top_k_reads_only_the_blocks_that_can_hold_it(small_blocks, monkeypatch):
    """"lũ" is in many long articles once or twice, and many times over in REPEATING short ones: the
    top 3 are among those, and the blocks of the rest are bounded below them."""
    store, view, _, _ = small_blocks
    q = build_query(store.vocabulary().word_readings(parse_query("lũ")), "exact")
    decoded = []
    real = blocks_module._block_arrays
    monkeypatch.setattr(blocks_module, "_block_arrays", lambda *a: decoded.append(1) or real(*a))
    monkeypatch.setattr(matching_module, "SEED_DOCS", 8)
    full = exhaustive_top(view, q, 3, view.live)
    everything, decoded[:] = len(decoded), []
    top = view.top(q, 3, view.live)
    assert [store._searcher.stored_fields(int(d))["id"] for d in top.docs] == ["lu-4", "lu-3", "lu-2"]
    assert top.scores.tolist() == full.scores.tolist()
    assert everything >= 10 and len(decoded) <= everything // 3, (len(decoded), everything)



def test_an_and_read_among_the_documents_its_rarer_parts_leave_matches_the_same(small_blocks, monkeypatch):
    """Each part of an AND (and an AND MAYBE's optional part) read only from the blocks holding the
    documents left so far, or whole: the same matches and scores, bit for bit."""
    store, view, sentences, _ = small_blocks
    read: dict[int, list] = {}
    for sparse in (0, 10**9):  # always restricted, never
        monkeypatch.setattr(matching_module, "SPARSE_WITHIN", sparse)
        decoded = []
        real = blocks_module._block_arrays
        monkeypatch.setattr(blocks_module, "_block_arrays", lambda *a: decoded.append(1) or real(*a))
        read[sparse] = []
        for text in random_queries(sentences, 150, 7) + ["lũ năm", "lũ được năm", '"tin lũ" năm']:
            parsed = store.vocabulary().word_readings(parse_query(text))
            for level in levels(parsed):
                if (q := build_query(parsed, level)) is not None:
                    m = view.matches(q)
                    read[sparse].append((m.docs.tolist(), m.scores.tolist()))
        monkeypatch.setattr(blocks_module, "_block_arrays", real)
        read[sparse].append(len(decoded))
    restricted, whole = read[0], read[10**9]
    assert restricted[:-1] == whole[:-1]
    assert sum(len(d) for d, _ in whole[:-1]) > 2000
    assert restricted[-1] < whole[-1]


def test_side_by_side_counts_the_articles_holding_two_syllables_in_that_order(store):
    assert store.side_by_side(("gia", "vang")) == 2
    assert store.side_by_side(("vang", "gia")) == 0
    assert store.side_by_side(("hoa", "binh")) == 2  # Hoà Bình and Hòa Bình alike
    assert store.side_by_side(("gia", "xyz")) == 0
    # Counted among the latest articles holding both syllables, then scaled: "năm học" stands side by
    # side in one of the two that hold both, the latest.
    assert (store.side_by_side(("nam", "hoc")), store.side_by_side(("nam", "hoc"), among=1)) == (1, 2)


def test_results_carry_the_best_score_whatever_the_page(store):
    parsed = parse_query("giá vàng")
    first, second = store.search(parsed, Filters(), 0, 1), store.search(parsed, Filters(), 1, 1)
    assert first.best == second.best == first.hits[0].score > second.hits[0].score
    assert store.search(parse_query("xyzw"), Filters(), 0, 1).best == 0.0


def test_together_runs_only_the_levels_finding_every_syllable_together(store):
    parsed = parse_query("giá vàng xyzw")  # no article holds xyzw: any of the syllables, at the last level
    whole, together = store.search(parsed, Filters(), 0, 10), store.search(parsed, Filters(), 0, 10, together=True)
    assert whole.total > 0 and not whole.matched_all
    assert (together.total, together.matched_all, together.hits, together.best) == (0, False, [], 0.0)
    parsed = parse_query("giá vàng")
    whole, together = store.search(parsed, Filters(), 0, 10), store.search(parsed, Filters(), 0, 10, together=True)
    assert together == whole and whole.matched_all
