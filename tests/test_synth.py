"""bench.synth: a deterministic synthetic corpus made from real articles."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

ARTICLES = [
    {"id": "a-1", "title": "Giá vàng tăng", "sapo": "Sáng nay.", "body": "Giá vàng tăng mạnh.\nNgười mua đông.",
     "published": None, "url": None, "source": "a.vn", "category": "kinh tế"},
    {"id": "a-2", "title": "Mưa lớn", "sapo": None, "body": "Mưa lớn ở Hà Nội.\nĐường ngập.\nXe chết máy.",
     "published": None, "url": None, "source": "a.vn", "category": None},
    {"id": "b-1", "title": "Bóng đá", "sapo": "Tối qua.", "body": "Đội tuyển thắng. Khán giả vui. Trận sau khó. Huấn luyện viên nói.",
     "published": None, "url": None, "source": "b.vn", "category": None},
    {"id": "b-2", "title": "Không thân bài", "sapo": "Chỉ có tóm tắt.", "body": None,
     "published": None, "url": None, "source": "b.vn", "category": None},
]


@pytest.fixture(autouse=True)
def synth(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from bench import synth  # noqa: PLC0415 - bench/ is beside the package, not installed

    return synth


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "real.jsonl"
    path.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in ARTICLES), "utf-8")
    return path


def generate(synth, corpus, out, *args):
    assert synth.main([*args, "--inputs", str(corpus), "--out", str(out)]) == 0
    with gzip.open(out, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_same_seed_same_bytes_other_seed_other_articles(synth, corpus, tmp_path):
    first = generate(synth, corpus, tmp_path / "1.jsonl.gz", "50", "--seed", "7")
    generate(synth, corpus, tmp_path / "2.jsonl.gz", "50", "--seed", "7")
    other = generate(synth, corpus, tmp_path / "3.jsonl.gz", "50", "--seed", "8")
    assert (tmp_path / "1.jsonl.gz").read_bytes() == (tmp_path / "2.jsonl.gz").read_bytes()
    assert first != other


def test_articles_unique_dated_over_twenty_years_made_of_their_sources_paragraphs(synth, corpus, tmp_path):
    articles = generate(synth, corpus, tmp_path / "s.jsonl.gz", "200", "--seed", "3")
    assert len(articles) == 200
    assert len({a["id"] for a in articles}) == 200
    assert len({a["url"] for a in articles}) == 200
    assert articles[0]["id"] == "synth-a-vn-000"
    assert list(articles[0]) == ["id", "title", "sapo", "body", "published", "url", "source", "category"]
    dates = [dt.date.fromisoformat(a["published"]) for a in articles]
    assert all(dt.date(2006, 12, 1) <= d <= dt.date(2026, 12, 1) for d in dates)
    assert max(dates) - min(dates) > dt.timedelta(days=365 * 15)
    real = {s: {p for a in ARTICLES if a["source"] == s for p in synth.paragraphs(a["body"])} for s in ("a.vn", "b.vn")}
    for a in articles:
        assert set(a["body"].split("\n")) <= real[a["source"]]
    assert {a["source"] for a in articles} == {"a.vn", "b.vn"}
    assert "Không thân bài" not in {a["title"] for a in articles}  # an article without a body is not used


def test_a_one_line_body_is_cut_into_runs_of_sentences(synth):
    assert synth.paragraphs("Một. Hai! Ba? Bốn. Năm.") == ["Một. Hai! Ba?", "Bốn. Năm."]
    assert synth.paragraphs("Dòng một.\n\nDòng hai.") == ["Dòng một.", "Dòng hai."]
    assert synth.paragraphs(None) == []


def test_the_pool_bounds_what_is_kept_per_source(synth, corpus):
    sources = synth.read_pools([corpus], 1, random.Random(1))
    assert [(s.name, s.seen, len(s.kept)) for s in sources] == [("a.vn", 2, 1), ("b.vn", 1, 1)]


def test_bad_arguments_are_refused_naming_them(synth, corpus, tmp_path, capsys):
    with pytest.raises(SystemExit):
        synth.main(["5", "--out", str(tmp_path / "x.gz"), "--inputs", str(tmp_path / "nope.jsonl")])
    assert f"no such file: {tmp_path / 'nope.jsonl'}" in capsys.readouterr().err


def test_start_numbers_another_corpus_after_the_first(synth, corpus, tmp_path):
    more = generate(synth, corpus, tmp_path / "m.jsonl.gz", "3", "--start", "100")
    assert [a["id"].rsplit("-", 1)[1] for a in more] == ["100", "101", "102"]
