"""Suggestions while typing: completions from the index's vocabulary (indexer.suggest) and /api/suggest."""

from __future__ import annotations

import json
import os
import sqlite3
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer import suggest as suggest_module
from indexer.ingest import index_paths
from indexer.suggest import Completions, completions, suggest
from indexer.vocabulary import VOCABULARY_FILE, Vocabulary


HA_NO = ["hà nội", "hà nỗ", "hà nỗ lực", "hà nổi", "hà nổi bật", "hà nội bộ", "hà nội dung"]


@pytest.mark.parametrize(
    "typed, expected",
    [
        # "hà nội" first: begun by both syllables typed; then the words "no…" begins, after "hà".
        ("ha no", HA_NO),
        ("hà nô", HA_NO),  # the tone key not pressed yet
        ("  ha   no ", HA_NO),
        ("hà nộ", ["hà nội", "hà nội bộ", "hà nội dung"]),
        ("HÀ NỘ", ["hà nội", "hà nội bộ", "hà nội dung"]),
        ("da nang", ["đà nẵng", "đã nâng", "đã nẵng", "đã nặng", "đã nặng nề"]),
        ("đà n", ["đà nẵng", "đà người", "đà năm", "đà nhiều", "đà nhất", "đà niềm", "đà nắm", "đà năm học"]),
        ("hoà b", ["hòa bình", "hòa b", "hòa bài", "hòa bãi", "hòa bài học", "hòa bám", "hòa ban", "hòa bản"]),
        ("thuỷ đ", ["thủy điện", "thủy được", "thủy đã", "thủy để", "thủy đón", "thủy đại hội", "thủy đến", "thủy đà"]),
        ("Giá vàng ha no", ["giá vàng " + s for s in HA_NO]),
        ('"dai hoi', ["đại hội", "đại hội nghị"]),
        ("ha", ["hà", "hạ", "hạ du", "hà giang", "hà nội", "hai", "hạn", "hạn chế"]),
        ("hà", ["hà", "hà giang", "hà nội", "hàng", "hành"]),
        ("xyzzy", []),
        ("", []),
        ("  -  ", []),
    ],
)
def test_completions_of_what_was_typed(index_dir, typed, expected):
    assert suggest(index_dir, typed) == expected


TABLE = Completions({"hà_nội": 5, "hà": 40, "ﬁ_x": 2, "i̇": 3, "đà_nẵng": 4, "2024_hà": 1})


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="hanoiđàộẵ ̣́ﬁİ\u0301_-\"2x", max_size=20) | st.text(max_size=20))
def test_any_text_gets_at_most_eight_distinct_completions(typed):
    found = TABLE.complete(typed)
    assert len(found) <= 8 and len(set(found)) == len(found)
    assert all(isinstance(s, str) and s.strip() == s for s in found)


def test_a_limit_and_the_most_used_first():
    table = Completions({"hà_nội": 5, "hà_nam": 9, "hạ_long": 30, "hà": 40, "hạ": 50, "ha": 1})
    assert table.complete("ha n") == ["hà nam", "hà nội"]
    assert table.complete("ha") == ["hạ", "hà", "hạ long", "hà nam", "hà nội", "ha"]
    assert table.complete("ha", limit=2) == ["hạ", "hà"]
    assert table.complete("hà") == ["hà", "hà nam", "hà nội"]  # typed marks are kept
    assert table.complete("hâ") == []
    assert len(table) == 6


def test_typed_marks_rule_out_more_than_the_first_candidates():
    # Many more frequent entries with other marks than the one that fits: all of them are looked at.
    entries = {f"hạ_{i:03d}x": 1000 + i for i in range(300)} | {"hà_nội": 1}
    assert Completions(entries).complete("hà n") == ["hà nội"]
    assert Completions(entries).complete("hà 0") == []


def test_a_syllable_ranks_by_the_articles_using_it_outside_its_words():
    table = Completions.from_counts({"hoạt": 100, "hơn": 90, "động": 100, "hôm": 95}, {"hoạt_động": 98, "hôm_nay": 5})
    # "hoạt" alone: 100 - 98 articles, raised to a tenth of 100; "hôm" alone: 95 - 5.
    assert table.complete("h") == ["hoạt động", "hôm", "hơn", "hoạt", "hôm nay"]
    # Which spelling a syllable typed means goes by all the articles using it.
    # ("hoạt" ranks 10 alone, "hoát" 20, but "hoạt" is in 100 articles and "hoát" in 20).
    table = Completions.from_counts({"hoạt": 100, "hoát": 20, "x": 1}, {"hoạt_động": 98})
    assert table.complete("hoat x") == ["hoạt x"]
    assert table.complete("hoat") == ["hoạt động", "hoát", "hoạt"]


def test_a_longer_match_of_what_was_typed_comes_first():
    table = Completions({"hà_nội": 1, "nội": 50, "nổi": 40})
    assert table.complete("ha no") == ["hà nội", "ha nội", "ha nổi"]
    assert table.complete("tin no") == ["tin nội", "tin nổi"]


def test_an_entry_begins_only_where_a_word_typed_before_begins():
    table = Completions({"thành_phố": 90, "phổ_hòa": 5, "hồ": 40, "hơn": 50, "hồ_chí_minh": 30, "gia": 9, "giá": 8})
    assert table.complete("thanh pho ho") == ["thành phố hơn", "thành phố hồ", "thành phố hồ chí minh"]
    # No word "giá pho": "pho h" may begin one.
    assert table.complete("giá pho h") == ["giá phổ hòa", "giá pho hơn", "giá pho hồ", "giá pho hồ chí minh"]
    assert table.complete("gia thanh pho h") == ["gia thành phố hơn", "gia thành phố hồ", "gia thành phố hồ chí minh"]
    assert table.complete("giá thành phố h")[0] == "giá thành phố hơn"


def test_numbers_and_long_tokens_are_not_suggested(tmp_path):
    Vocabulary(Counter({"2024": 9, "ha": 2, "h" * 41: 5}), Counter({"hà_nội": 3})).add_to(tmp_path)
    assert suggest(tmp_path, "h") == ["hà nội", "ha"]
    assert suggest(tmp_path, "2") == []
    assert sqlite3.connect(tmp_path / VOCABULARY_FILE).execute("SELECT count(*) FROM syllables").fetchone() == (3,)


def test_no_vocabulary_no_completions(tmp_path):
    assert suggest(tmp_path, "ha no") == []
    (tmp_path / "vocabulary.sqlite").write_bytes(b"not a database")
    assert suggest(tmp_path / ".", "ha no") == []


def add_tokyo(ix, tmp_path) -> None:
    more = tmp_path / "more"
    more.mkdir()
    article = {"id": "tokyo", "title": "Tokyo đón khách", "body": "Tokyo đón nhiều khách du lịch.", "published": "2024-03-01"}
    (more / "tokyo.jsonl").write_text(json.dumps(article, ensure_ascii=False) + "\n", "utf-8")
    assert index_paths(ix, [more]).added == 1


def test_the_table_is_loaded_once_and_at_once_when_asked_after_a_commit(ix, tmp_path):
    first = completions(ix)
    assert completions(ix) is first
    assert suggest(ix, "tokyo") == []
    add_tokyo(ix, tmp_path)
    fresh = completions(ix, wait=True)
    assert fresh is not first and completions(ix) is fresh
    assert suggest(ix, "tok") == ["tokyo"]


def test_after_a_commit_the_old_table_answers_while_the_new_one_loads(ix, tmp_path):
    first = completions(ix)
    add_tokyo(ix, tmp_path)
    assert completions(ix) is first  # at once, without waiting for the load
    loader = suggest_module._loaders.get(os.path.realpath(ix))
    if loader is not None:
        loader.join(timeout=30)
    assert completions(ix) is not first
    assert suggest(ix, "tok") == ["tokyo"]


def test_only_a_few_tables_are_held(tmp_path, monkeypatch):
    monkeypatch.setattr(suggest_module, "_tables", type(suggest_module._tables)())
    for i in range(suggest_module.KEPT_INDEXES + 2):
        (tmp_path / str(i)).mkdir()
        completions(tmp_path / str(i))
    assert len(suggest_module._tables) == suggest_module.KEPT_INDEXES


# -- the API ------------------------------------------------------------------


def test_api_suggest_json(client):
    r = client.get("/api/suggest", query_string={"q": "ha no"})
    assert r.status_code == 200 and r.mimetype == "application/json"
    data = r.get_json()
    assert data.pop("took_ms") >= 0
    assert data == {"q": "ha no", "suggestions": HA_NO}
    assert client.get("/api/suggest").get_json()["suggestions"] == []


def test_api_suggest_opensearch(client):
    r = client.get("/api/suggest?q=h%C3%A0+n%E1%BB%99&format=opensearch")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/x-suggestions+json; charset=utf-8"
    assert r.get_data(as_text=True) == '["hà nộ", ["hà nội", "hà nội bộ", "hà nội dung"]]'


@pytest.mark.parametrize(
    "query, param, message",
    [
        ({"q": "ha", "hitsPerPage": "2"}, "hitsPerPage", "hitsPerPage: unknown parameter; known: q, format"),
        ({"q": "ha", "format": "xml"}, "format", "format: must be one of: json, opensearch"),
        ({"q": "ha" * 251}, "q", "q: query longer than 500 characters"),
    ],
)
def test_api_suggest_bad_parameters(client, query, param, message):
    r = client.get("/api/suggest", query_string=query)
    assert r.status_code == 400
    assert r.get_json() == {"error": {"status": 400, "message": message, "param": param}}


def test_api_suggest_answers_the_origins_let_in(make_app):
    client = make_app(CORS_ORIGINS=["https://tin.example"]).test_client()
    r = client.get("/api/suggest?q=ha", headers={"Origin": "https://tin.example"})
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "https://tin.example"
    r = client.get("/api/suggest?q=ha", headers={"Origin": "https://khac.example"})
    assert "Access-Control-Allow-Origin" not in r.headers
