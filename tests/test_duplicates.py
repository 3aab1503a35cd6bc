"""Near duplicates: fingerprints, groups at write time, collapsed search results."""

from __future__ import annotations

import json

import pytest

from indexer.analysis import syllables
from indexer.cli import main
from indexer.duplicates import MIN_SIMILARITY, assign_groups, bands, fingerprint, similarity
from indexer.ingest import index_paths
from indexer.search import search
from indexer.store import ArticleStore
from search_ui.stores import store_pool

STORY = (
    "Chiều 12-3, Ủy ban nhân dân thành phố Đà Nẵng tổ chức họp báo công bố chương trình lễ hội pháo hoa "
    "quốc tế năm nay. Theo ban tổ chức, lễ hội kéo dài bốn tuần với tám đội pháo hoa đến từ châu Âu, châu Á "
    "và châu Mỹ. Mỗi đêm thi có hai đội trình diễn trên sông Hàn, khán đài được dựng ở hai bên bờ với sức "
    "chứa hơn ba mươi nghìn chỗ ngồi. Ngành du lịch thành phố kỳ vọng lễ hội sẽ thu hút hơn một triệu lượt "
    "khách trong mùa hè, góp phần phục hồi các khách sạn và nhà hàng ven biển."
)
# The same story as another outlet ran it: a date line added, one sentence edited.
EDITED = STORY.replace("kéo dài bốn tuần", "diễn ra trong 4 tuần").replace("Chiều 12-3,", "Chiều 12-3 (giờ Việt Nam),")
OTHER = (
    "Sáng 5-4, Bộ Giáo dục và Đào tạo công bố lịch thi tốt nghiệp trung học phổ thông. Kỳ thi diễn ra trong "
    "hai ngày cuối tháng sáu, thí sinh làm bốn bài thi gồm toán, ngữ văn, ngoại ngữ và một bài tự chọn. Bộ "
    "yêu cầu các địa phương chuẩn bị điểm thi, lực lượng coi thi và phương án bảo đảm an toàn cho thí sinh "
    "ở vùng sâu, vùng xa, đồng thời tăng cường kiểm tra để chống gian lận bằng thiết bị công nghệ cao."
)


def folded(text: str) -> str:
    return " ".join(s.folded for s in syllables(text))


def test_signatures_are_stable_and_similar_for_an_edit():
    a, b, c = fingerprint(folded(STORY)), fingerprint(folded(EDITED)), fingerprint(folded(OTHER))
    assert len(a) == 128 and a == fingerprint(folded(STORY))  # no per-process hash seed
    assert similarity(a, a) == 1.0
    assert MIN_SIMILARITY <= similarity(a, b) < 1.0
    assert similarity(a, c) < 0.1


def test_short_texts_get_no_signature():
    assert fingerprint("gia vang hom nay tang manh") is None


def test_bands_cut_the_signature_in_eight():
    signature = bytes(range(128))
    assert bands(signature)[:2] == ["0:" + bytes(range(16)).hex(), "1:" + bytes(range(16, 32)).hex()]
    assert len(bands(signature)) == 8


def test_groups_follow_the_first_near_duplicate_in_the_batch_then_the_index():
    a, b, c = (fingerprint(folded(t)) for t in (STORY, EDITED, OTHER))
    docs = [{"id": "a", "minhash": a}, {"id": "b", "minhash": b}, {"id": "c", "minhash": c}, {"id": "short"}]
    looked_up = []

    def indexed(keys):
        looked_up.append(keys)
        return [("old", c, "old-group")]  # an indexed near duplicate of c only

    assign_groups(docs, indexed)
    assert [d.get("dup") for d in docs] == ["a", "a", "old-group", None]
    assert len(looked_up) == 2  # b found a in the batch: no look-up


def test_an_update_is_not_its_own_duplicate():
    fp = fingerprint(folded(STORY))
    doc = {"id": "a", "minhash": fp}
    assign_groups([doc], lambda keys: [("a", fp, "a")])
    assert doc["dup"] == "a"


def article(id_, source, body, title="Lễ hội pháo hoa quốc tế Đà Nẵng"):
    return {"id": id_, "title": title, "body": body, "source": source, "published": "2024-03-12"}


@pytest.fixture()
def dup_index(tmp_path):
    """Two outlets' copies of one story (indexed in two runs) and an unrelated article."""
    first = tmp_path / "first.jsonl"
    first.write_text(
        "\n".join(json.dumps(a, ensure_ascii=False) for a in [
            article("vne-1", "vnexpress.net", STORY),
            article("other", "vnexpress.net", OTHER, title="Lịch thi tốt nghiệp năm nay"),
        ]),
        "utf-8",
    )
    second = tmp_path / "second.jsonl"
    second.write_text(json.dumps(article("tt-1", "tuoitre.vn", EDITED), ensure_ascii=False), "utf-8")
    ix = tmp_path / "ix"
    assert index_paths(ix, [first]).added == 2
    assert index_paths(ix, [second]).added == 1
    return ix


def test_search_collapses_a_group_into_its_best_hit(dup_index):
    with ArticleStore.open(dup_index) as store:
        page = search(store, "pháo hoa Đà Nẵng")
        assert [(h.id, h.similar, h.group) for h in page.hits] == [("vne-1", 1, "vne-1")]
        assert page.total == 1 and page.facets["source"] == {"vnexpress.net": 1}

        every = search(store, "pháo hoa Đà Nẵng", collapse=False)
        assert sorted((h.id, h.similar) for h in every.hits) == [("tt-1", 0), ("vne-1", 0)]

        group = search(store, "pháo hoa", group="vne-1")
        assert sorted(h.id for h in group.hits) == ["tt-1", "vne-1"]

        # Unrelated articles are never collapsed together.
        assert {h.id for h in search(store, "thí sinh").hits} == {"other"}


def test_cli_shows_the_group_and_no_collapse_shows_all(dup_index, runner):
    out = runner.invoke(main, ["search", "--index", str(dup_index), "pháo", "hoa"])
    assert out.exit_code == 0, out.output
    assert "   + 1 similar article: --group vne-1\n" in out.output
    assert out.output.startswith('1 result for "pháo hoa"')
    out = runner.invoke(main, ["search", "--index", str(dup_index), "--no-collapse", "pháo", "hoa"])
    assert out.output.startswith('2 results for "pháo hoa"') and "similar" not in out.output
    out = runner.invoke(main, ["search", "--index", str(dup_index), "--group", "vne-1", "--json", "pháo"])
    assert sorted(h["id"] for h in json.loads(out.output)["hits"]) == ["tt-1", "vne-1"]


def test_page_links_the_group_and_the_api_counts_it(dup_index):
    from search_ui import create_app

    app = create_app({"INDEX_DIR": str(dup_index), "TESTING": True})
    try:
        client = app.test_client()
        html = client.get("/search?q=ph%C3%A1o+hoa").get_data(as_text=True)
        assert '<p class="similar"><a href="/search?q=ph%C3%A1o+hoa&amp;group=vne-1">1 bài tương tự</a></p>' in html
        expanded = client.get("/search?q=ph%C3%A1o+hoa&group=vne-1").get_data(as_text=True)
        assert expanded.count('<article class="hit">') == 2
        assert 'aria-label="Bỏ lọc tin tương tự vne-1"' in expanded
        data = client.get("/api/search?q=ph%C3%A1o+hoa").get_json()
        assert [(h["id"], h["similar"], h["group"]) for h in data["hits"]] == [("vne-1", 1, "vne-1")]
    finally:
        store_pool(app).close()
