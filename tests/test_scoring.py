"""Recency and the reference scorer's pieces (query building is test_query's)."""

from __future__ import annotations

import json

import pytest

from indexer.ingest import index_paths
from indexer.search import search
import numpy as np

from indexer.store import RECENCY_BOOST, ArticleStore, recency_factors


@pytest.mark.parametrize(
    "time, newest, expected",
    [
        (20240312_083000, 20240312_083000, 1 + RECENCY_BOOST),  # the newest time
        (20240211_083000, 20240312_083000, 1 + RECENCY_BOOST / 2),  # 30 days older: half the bonus
        (20231213_083000, 20240312_083000, 1 + RECENCY_BOOST / 8),  # 90 days
        (20240225_203000, 20240312_083000, 1 + RECENCY_BOOST * 0.5 ** (15.5 / 30)),  # to the second: 15 days 12 hours
        (20240312_090000, 20240312_083000, 1 + RECENCY_BOOST),  # never more than the newest's
        (0, 20240312_083000, 1.0),  # undated: no bonus
        (20240312_083000, 0, 1.0),  # nothing dated in the index
    ],
)
def test_recency_factors(time, newest, expected):
    assert recency_factors(np.array([time]), newest)[0] == pytest.approx(expected)


def test_recency_breaks_a_tie_but_not_relevance(tmp_path):
    def article(id_, title, published):
        return {"id": id_, "title": title, "body": "Tin ngắn.", "published": published}

    articles = [
        article("old-same", "Mưa lớn ở miền Trung", "2023-01-10"),
        article("new-same", "Mưa lớn ở miền Trung", "2024-03-12"),
        article("new-weaker", "Mưa ở miền Trung, lớn dần", "2024-03-12"),
        article("old-best", "Mưa lớn, mưa lớn ở miền Trung: mưa lớn kéo dài", "2020-05-01"),
    ]
    src = tmp_path / "a.jsonl"
    src.write_text("\n".join(json.dumps(a, ensure_ascii=False) for a in articles), "utf-8")
    index_paths(tmp_path / "ix", [src])
    with ArticleStore.open(tmp_path / "ix") as store:
        ranked = [h.id for h in search(store, "mưa lớn").hits]
        assert ranked.index("new-same") < ranked.index("old-same")
        assert ranked[0] == "old-best"
        assert [h.id for h in search(store, "mưa lớn", sort="newest").hits][-1] == "old-best"
