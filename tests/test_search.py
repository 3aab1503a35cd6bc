"""Ranking and search behaviour on the fixture index (tests/fixtures/news.jsonl + the seed)."""

import datetime as dt

import pytest

from indexer.errors import QueryError
from indexer.search import MAX_PAGE, search

SEED_ID = "000_5a0c9058e2d22930.txt"


def ids(store, q, **kw):
    return [h.id for h in search(store, q, **kw).hits]


@pytest.mark.parametrize(
    "query, expected",
    [
        # A syllable inside a compound name finds it.
        # Typed without diacritics, "Mai" also matches "thương mại" (ranking of such
        # ambiguous single syllables is the relevance issue's work).
        ("Mai", ["lai-suat", SEED_ID]),
        ("Trương Thị Mai", [SEED_ID]),
        ("truong thi mai", [SEED_ID]),
        # Typed diacritics count: the city, not "đã nâng"; without them both match.
        ("Đà Nẵng", ["dn-du-lich"]),
        ("da nang", ["dn-du-lich", "lai-suat", SEED_ID]),
        # A mark typed wrong: corrected to the reading of the word the index holds (đà nẵng).
        ("Đà Nẳng", ["dn-du-lich"]),
        # Old and new tone styles find each other (see also the style test below).
        # (Close scores: the dated article comes first, recency breaking the near tie.)
        ("Hoà Bình", ["hoa-binh-moi", "thuy-dien-cu"]),
        ("thủy điện", ["thuy-dien-cu"]),
        ("khoẻ khoắn", ["hoa-binh-moi"]),
        ("hoa binh", ["hoa-binh-moi", "thuy-dien-cu"]),
        # NFD article and Ð (U+00D0) article.
        ("trường học", ["truong-hoc-nfd"]),
        ("Đại hội thể thao", ["dai-hoi-eth"]),
        ("dai hoi", ["dai-hoi-eth", SEED_ID]),
        # Phrases and exclusion.
        ('"giá vàng thế giới"', ["gia-vang-the-gioi"]),
        ("giá vàng -\"thế giới\"", ["gia-vang-trong-nuoc"]),
        ("giá vàng -nước", ["gia-vang-the-gioi"]),
        # Both hold "trong" (one in its body); Whoosh's AndNot matcher let the first through.
        ("giá vàng -trong", []),
        ('"vàng giá"', []),
    ],
)
def test_golden_queries(store, query, expected):
    assert ids(store, query) == expected


@pytest.mark.parametrize(
    "old, new",
    [("Thuỷ điện Hoà Bình", "Thủy điện Hòa Bình"), ("hoà", "hòa"), ("khoẻ", "khỏe"), ("uỷ ban", "ủy ban")],
)
def test_both_tone_styles_give_the_same_results(store, old, new):
    assert search(store, old).hits == search(store, new).hits


def test_all_words_first_then_fallback(store):
    page = search(store, "vàng Hòa Bình")
    assert page.matched_all is False
    assert [h.id for h in page.hits] == ["hoa-binh-moi", "thuy-dien-cu", "gia-vang-trong-nuoc", "gia-vang-the-gioi"]
    assert search(store, "giá vàng").matched_all is True


def test_hit_fields_and_snippet(store):
    page = search(store, "đà nẵng", limit=1)
    assert page.total == 1 and page.pages == 1
    (hit,) = page.hits
    data = hit.to_json()
    assert data.pop("score") == round(hit.score, 4) and hit.score > 0
    assert data == {
        "id": "dn-du-lich",
        "title": "Đà Nẵng đón hơn 8 triệu lượt khách du lịch",
        "url": "https://example.vn/da-nang-du-lich",
        "source": "vnexpress.net",
        "category": "du-lich",
        "published": "2024-01-05",
        "author": "Hoài Thu",
        "snippet": "Năm 2023, thành phố <mark>Đà Nẵng</mark> đón hơn 8 triệu lượt khách. Theo Sở Du lịch, "
        "lượng khách quốc tế đến <mark>Đà Nẵng</mark> tăng mạnh. Các bãi biển và cầu Rồng là điểm đến "
        "được yêu thích nhất.",
        "similar": 0,
        "group": None,
    }


def test_html_in_an_article_is_escaped_in_the_snippet(store):
    (hit,) = search(store, '"xếp hàng"').hits
    assert hit.snippet == (
        "Giá vàng miếng trong nước không đổi. &lt;script&gt;alert('x')&lt;/script&gt; "
        "Người mua &lt;b&gt;vẫn&lt;/b&gt; <mark>xếp hàng</mark>."
    )


def test_seed_snippet_starts_at_the_lead(store):
    (hit,) = search(store, '"Nguyễn Văn Thể"').hits[:1]
    assert hit.id == SEED_ID
    assert hit.source == "TCCS" and hit.published == dt.date(2023, 12, 28) and hit.author == "Thùy Linh (tổng hợp)"
    assert "<mark>Nguyễn Văn Thể</mark>" in hit.snippet


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"source": "baomoi.com"}, ["gia-vang-trong-nuoc"]),
        ({"since": dt.date(2024, 2, 2)}, ["gia-vang-trong-nuoc"]),
        ({"until": dt.date(2024, 2, 1)}, ["gia-vang-the-gioi"]),
        ({"category": "kinh-te", "sort": "newest"}, ["gia-vang-trong-nuoc", "gia-vang-the-gioi"]),
        ({"source": "nowhere"}, []),
    ],
)
def test_filters(store, kwargs, expected):
    assert ids(store, "giá vàng", **kwargs) == expected


def test_sort_newest_puts_undated_last(store):
    assert ids(store, "hòa bình", sort="newest") == ["hoa-binh-moi", "thuy-dien-cu"]
    assert ids(store, "năm", sort="newest") == ["gia-vang-the-gioi", "dn-du-lich", SEED_ID, "truong-hoc-nfd"]


def test_pages(store):
    everything = ids(store, "năm", limit=100)
    assert len(everything) == 4
    assert [ids(store, "năm", limit=3, page=p) for p in (1, 2, 3)] == [everything[:3], everything[3:], []]


@pytest.mark.parametrize(
    "kwargs, param, message",
    [
        ({"page": 0}, "page", "page: must be a positive integer"),
        ({"limit": 0}, "limit", "limit: must be a positive integer"),
        ({"limit": 101}, "limit", "limit: must be at most 100"),
        ({"sort": "oldest"}, "sort", "sort: must be one of: relevance, newest"),
        ({"since": dt.date(2024, 1, 2), "until": dt.date(2024, 1, 1)}, "since", "since: is after until"),
    ],
)
def test_bad_parameters_name_themselves(store, kwargs, param, message):
    # The same messages as the page's and the API's 400s: one check serves them all.
    with pytest.raises(QueryError) as e:
        search(store, "vàng", **kwargs)
    assert (e.value.param, str(e.value)) == (param, message)


def test_the_library_takes_pages_past_the_web_pages_limit(store):
    assert search(store, "vàng", page=MAX_PAGE + 1).hits == ()


def test_too_long_query_is_refused(store):
    with pytest.raises(QueryError, match="q: query longer than 500 characters"):
        search(store, "a" * 501)


@pytest.mark.parametrize("query", ["-", '"', "()[]{}*?~^:", "-vàng", "\x00\x1b[31m", "'; DROP TABLE --", "a" * 500])
def test_odd_queries_find_nothing_and_do_not_fail(store, query):
    page = search(store, query)
    assert (page.total, page.hits, page.pages) == (0, (), 1)


def test_facets_count_every_matching_article(store):
    assert search(store, "năm", limit=1).facets == {
        "source": {"vnexpress.net": 2, "TCCS": 1, "dantri.com.vn": 1},
        "category": {"du-lich": 1, "giao-duc": 1, "kinh-te": 1},
        "year": {"2023": 2, "2024": 2},
    }
    # A ticked source leaves the source counts as they were, so that another can be ticked too.
    narrowed = search(store, "năm", source="vnexpress.net")
    assert narrowed.total == 2 and narrowed.facets["source"] == {"vnexpress.net": 2, "TCCS": 1, "dantri.com.vn": 1}
    assert narrowed.facets["category"] == {"du-lich": 1, "kinh-te": 1}
    assert search(store, "-").facets == {"source": {}, "category": {}, "year": {}}


@pytest.mark.parametrize("query", ["", "   "])
def test_a_blank_query_lists_the_newest_articles(store, query):
    page = search(store, query, limit=3)
    assert (page.total, [h.id for h in page.hits], page.suggestion) == (
        9, ["hoa-binh-moi", "gia-vang-trong-nuoc", "gia-vang-the-gioi"], None
    )
    assert ids(store, query, source="baomoi.com") == ["hoa-binh-moi", "gia-vang-trong-nuoc", "lai-suat"]
    assert ids(store, query, until=dt.date(2022, 12, 31)) == ["dai-hoi-eth"]


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"source": ["baomoi.com", "vnexpress.net"]}, ["gia-vang-trong-nuoc", "gia-vang-the-gioi"]),
        ({"source": ("BAOMOI.COM", "nowhere")}, ["gia-vang-trong-nuoc"]),
        ({"source": ["baomoi.com", "vnexpress.net"], "since": dt.date(2024, 2, 2)}, ["gia-vang-trong-nuoc"]),
        ({"source": ["baomoi.com"], "category": ["Kinh-Tế", "du-lich"]}, ["gia-vang-trong-nuoc"]),
        ({"source": ["dantri.com.vn"], "category": ["kinh-te"]}, []),
    ],
)
def test_filters_take_several_values_any_case_and_diacritics(store, kwargs, expected):
    assert ids(store, "giá vàng", **kwargs) == expected


def test_offset_and_fields(store):
    everything = ids(store, "năm", limit=100)
    page = search(store, "năm", offset=1, limit=2, fields=["sapo", "body"])
    assert ([h.id for h in page.hits], page.offset, page.page) == (everything[1:3], 1, 1)
    assert set(page.hits[0].to_json()) >= {"sapo", "body"} and "body" not in search(store, "năm").hits[0].to_json()
    with pytest.raises(QueryError, match="fields: unknown field 'title': one of sapo, body"):
        search(store, "năm", fields=["title"])


def test_get_article_marks_the_query_and_lists_related(store):
    from indexer.search import get_article

    view = get_article(store, "gia-vang-trong-nuoc", query="gia vang")
    assert view.title_html == "<mark>Giá vàng</mark> trong nước đứng yên"
    assert view.paragraphs_html == (
        "<mark>Giá vàng</mark> miếng trong nước không đổi. &lt;script&gt;alert('x')&lt;/script&gt; "
        "Người mua &lt;b&gt;vẫn&lt;/b&gt; xếp hàng.",
    )
    assert view.related[0].id == "gia-vang-the-gioi"
    assert "gia-vang-trong-nuoc" not in [h.id for h in view.related]
    assert view.to_json()["published"] == "2024-02-02"


def test_get_article_unknown_id(store):
    from indexer.errors import ArticleNotFoundError
    from indexer.search import get_article

    with pytest.raises(ArticleNotFoundError, match="No article with id '../../etc/passwd'"):
        get_article(store, "../../etc/passwd")


def test_abbreviations_and_long_forms_find_each_other(tmp_path):
    import json

    from indexer.ingest import index_paths
    from indexer.store import ArticleStore

    rows = [
        {"id": "short", "title": "UBND TP.HCM họp về ngập nước", "body": "Cuộc họp bàn chống ngập."},
        {"id": "long", "title": "Ủy ban nhân dân Thành phố Hồ Chí Minh họp", "body": "Bàn về ngập nước."},
        {"id": "squashed", "title": "TPHCM mưa lớn", "body": "Mưa lớn gây ngập."},
        {"id": "other", "title": "Hà Nội họp", "body": "Không liên quan."},
    ]
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    index_paths(tmp_path / "ix", [tmp_path / "a.jsonl"])
    with ArticleStore.open(tmp_path / "ix") as store:
        for q in ("TP.HCM", "tphcm", "thành phố hồ chí minh", "TP HCM"):
            assert sorted(ids(store, q)) == ["long", "short", "squashed"], q
        for q in ("UBND họp", "ủy ban nhân dân họp", "uy ban nhan dan hop"):
            assert sorted(ids(store, q)) == ["long", "short"], q
        assert ids(store, "HN họp") == ["other"]


@pytest.mark.parametrize(
    "query, suggestion",
    [
        ("truong thi mai", "trương thị mai"),
        ("da nang", "đà nẵng"),
        ("gia vnag", "giá vàng"),
        ("Trương Thị Mai", None),
    ],
)
def test_did_you_mean(store, query, suggestion):
    assert search(store, query).suggestion == suggestion


def test_unaccented_query_ranks_with_the_words_it_spells(store):
    # "thuy dien" spells the indexed word "thủy_điện": the article holding it as a
    # word comes first, and the query carries it as a ranking signal.
    from indexer.query import parse_query

    assert store.vocabulary().word_readings(parse_query("thuy dien")).words == ("thủy_điện",)
    assert ids(store, "thuy dien")[:1] == ["thuy-dien-cu"]
