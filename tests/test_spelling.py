"""Telex decoding and slip corrections of whole queries, on a vocabulary of known counts."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from indexer.query import parse_query
from indexer import spelling
from indexer.spelling import (
    _corrections, _near_readings, _one_edit, _typos, corrections, decoded, edits, prepared, searched,
)
from indexer.text import fold


class Counts:
    """The look-ups spelling makes of an index's vocabulary, over fixed document counts."""

    def __init__(self, syllables: dict[str, int], words: dict[str, int] = {}):
        self.counts = {"syllables": syllables, "words": words}

    def readings(self, kind, keys):
        out = {}
        for form, n in sorted(self.counts[kind].items(), key=lambda kv: (-kv[1], kv[0])):
            key = fold(form)
            if key in keys:
                top = out.get(key)
                out[key] = (top[0], top[1], top[2] + n) if top else (form, n, n)
        return out

    def forms(self, kind, keys):
        return [(fold(form), form, n) for form, n in self.counts[kind].items() if fold(form) in keys]

    def syllable_count(self, exact):
        return self.counts["syllables"].get(exact, 0)

    def word_readings(self, parsed):
        return parsed


NEWS = Counts(
    {"giá": 900, "gia": 300, "vàng": 800, "vang": 40, "việt": 2000, "nam": 3000, "năm": 5000,
     "thành": 4000, "thanh": 900, "phố": 3000, "người": 6000, "dân": 3000, "trung": 2500,
     "quốc": 2400, "trùng": 300, "moon": 60, "môn": 400, "iphone": 90, "tráng": 1, "trang": 700,
     "xuân": 500, "vnag": 0, "triều": 900, "tiên": 1200, "tiêm": 400, "việ": 1, "chất": 2000, "lung": 100,
     "lượng": 3000, "lang": 2000, "kỹ": 500, "kỷ": 600, "luật": 3000, "giật": 200,
     "quảng": 800, "quang": 300, "lê": 500, "diễn": 400, "diện": 300, "giải": 1000, "đà": 300,
     "nâng": 800, "nẵng": 100, "thuộc": 3000, "thuốc": 900, "tây": 800, "trường": 2500, "trưng": 100,
     "hà": 2000, "định": 1500, "đinh": 300, "việc": 2500, "viện": 900},
    {"giá_vàng": 700, "triều_tiên": 800, "việt_nam": 1900, "thành_phố": 2800, "người_dân": 2000, "trung_quốc": 2300,
     "chất_lượng": 1400, "kỷ_luật": 900, "diễn_giải": 19, "đà_nẵng": 90, "thuốc_tây": 40, "định_giá": 60},
)  # fmt: skip


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("gias vangf", "giá vàng"),
        ("Vieetj Nam", "Việt Nam"),
        ("gia1 va2ng", "giá vàng"),
        ("gias vang", "giá vang"),  # one word as Telex: it forms a known word with its neighbour
        ("iphone gias vangf", "iphone giá vàng"),
        ("giá vàng", None),
        ("Moon Jae-in", None),  # the index holds "moon" as typed
        ("Trunf Quốc", None),  # lone, and no known word: a slip of Trung, left for the corrections
        ("trieeu tien", None),  # the word its letters spell is triều tiên, not triêu
        ("samsung covid", None),
    ],
)
def test_decoded(typed, meant):
    assert decoded(typed, NEWS) == meant


def test_a_lone_telex_word_is_decoded_only_when_the_commoner_word_beside_it_spells_the_marks():
    counts = Counts({"quan": 3000, "quân": 2000, "chức": 1500, "tiến": 1000}, {"quan_chức": 1200, "tiến_quân": 13})
    assert decoded("tiến quaan chức", counts) is None  # a doubled letter: quan chức
    assert decoded("tiến quaan", counts) == "tiến quân"


@pytest.mark.parametrize(
    "typed, fixes",
    [
        ("gia vnag", {"vnag": "vang"}),  # typed without marks: corrected without marks
        ("giá vnag", {"vnag": "vang"}),  # in a query with marks too: a loose syllable, any reading found
        ("Qaung lê", {"qaung": "quang"}),  # typed without marks: not quảng, the commonest reading
        # One slip changes a letter or a mark, not both: diện, though diễn giải is a word.
        ("duện giải", {"duện": "diện"}),
        ("thuốốc tây", {"thuốốc": "thuốc"}),  # a marked letter doubled: not thuộc, the commonest of the letters
        ("Trưing Hà", {"trưing": "trường"}),  # one character replaced, its mark with it
        ("Đà Nẳng", {"nẳng": "nẵng"}),  # the reading đà nẵng spells, though nâng is the commonest of its letters
        ("thànhh phố", {"thànhh": "thành"}),  # the typed marks kept
        ("nguòi dân", {"nguòi": "người"}),  # the same letters, other marks
        ("Trunf Quốc", {"trunf": "trung"}),  # the neighbour's word decides over trùng
        ("gia vag", {"vag": "vang"}),  # three letters spelling no syllable, held by no article: a slip
        ("gia nqm", {"nqm": "nam"}),
        ("gia va", {}),  # three letters or fewer spelling a syllable: never corrected outright
        ("Việ Nam", {"việ": "việt"}),  # short, but its marks spell no syllable: they narrow its readings
        ("đnh giá", {"đnh": "định"}),  # a vowel left out, its mark with it
        ("Việet Nam", {"việet": "việt"}),  # seen never, and no syllable: a slip
        ("giá vàng", {}),
        ("chat lung", {"lung": "luong"}),  # a known syllable, no word: a slip of one that forms a commoner word
        ("vnag chat lung", {"vnag": "vang"}),  # an unknown syllable is the slip: the words around it stand
        ("Triều Tiêm", {"tiêm": "tiên"}),  # the typed marks kept
        ("chat lang", {}),  # chất lượng is two letters away
        ("kỹ guật", {"guật": "giật"}),  # a key beside the right one (u for i)
        ("kỷ guật", {"guật": "giật"}),  # before a key far away (g for l), though kỷ luật is a word
        ("kỷ kuật", {"kuật": "luật"}),  # k beside l
    ],
)
def test_corrections(typed, fixes):
    assert corrections(parse_query(typed), NEWS, rare_too=True) == fixes


def test_words_typed_in_capitals_are_acronyms_never_corrected():
    run, texts = searches({"gia vag": (0, False)})
    assert (searched("GIA VAG", NEWS, run)[2], texts) == (None, ["gia vag"])
    run, texts = searches({"gia vang": (3, True)})
    assert (searched("gia vag", NEWS, run)[2], texts) == ("gia vang", ["gia vang"])


def test_the_runner_up_reading_answers_when_its_best_article_scores_higher():
    # tring: trung and trình, each a key beside (u for i, h for g); trung quốc is a word.
    counts = Counts({"trung": 900, "trình": 3000, "quốc": 900}, {"trung_quốc": 800})
    assert corrections(parse_query("tring quốc"), counts, rare_too=False) == {"tring": "trung"}
    for scores, corrected in [((30.0, 20.0), "trung quốc"), ((20.0, 30.0), "trinh quốc")]:
        run, texts = searches({"trung quốc": (4, True, scores[0]), "trinh quốc": (5, True, scores[1])})
        assert searched("tring quốc", counts, run)[2] == corrected
        assert texts == ["trung quốc", "trinh quốc"]
    # Held once (a name?): corrected only when the query as typed does not find every syllable.
    counts.counts["syllables"]["tring"] = 1
    for scores, corrected in [((30.0, 20.0), "trung quốc"), ((20.0, 30.0), "trinh quốc")]:
        found = {"tring quốc": (0, False), "trung quốc": (4, True, scores[0]), "trinh quốc": (5, True, scores[1])}
        run, texts = searches(found)
        assert searched("tring quốc", counts, run)[2] == corrected
        assert texts == ["tring quốc", "trung quốc", "trinh quốc"]


@pytest.mark.parametrize(
    "typed, counts, searched_",
    [
        # biên, a key beside; bên, a letter out of nowhere, though commoner: fingers seldom slip so.
        ("boen giới", {"biên": 900, "bên": 3000, "giới": 900}, ["bien giới"]),
        ("biem giới", {"biên": 900, "bên": 3000, "giới": 900}, ["bien giới"]),  # m beside n; bên two slips away
        ("baen giới", {"biên": 900, "bên": 3000, "giới": 900}, ["ben giới", "bien giới"]),  # neither likely: both
        # A letter struck twice answers alone, though g beside h spells nghìn too.
        ("nhhìn xa", {"nhìn": 3000, "nghìn": 900, "xa": 900}, ["nhìn xa"]),
        ("nhhìn xa", {"nhìn": 900, "nghìn": 3000, "xa": 900}, ["nghìn xa", "nhìn xa"]),  # nghìn first: both
        # chấp (p beside o) keeps the typed marks; chào changes two marks, chất strikes a key far away.
        ("Ban Chấo", {"ban": 900, "chấp": 300, "chất": 2000, "chào": 900}, ["ban chấp"]),
    ],
)
def test_a_likely_slip_answers_alone_when_its_runner_up_is_not_one(typed, counts, searched_):
    run, texts = searches({text: (4, True, 30.0) for text in searched_} | {"bien giới": (4, True, 1.0)})
    searched(typed, Counts(counts), run)
    assert texts == searched_


def test_a_rare_name_found_as_typed_is_not_corrected():
    # "Tráng" is held once, "trang" 700 times: a slip only when the query as typed finds nothing.
    parsed = parse_query("Xuân Tráng")
    assert corrections(parsed, NEWS, rare_too=False) == {}
    assert corrections(parsed, NEWS, rare_too=True) == {"tráng": "trang"}
    runs = []

    def run(p):
        runs.append(p)
        return SimpleNamespace(total=1, matched_all=True, best=1.0)

    # Beside an unknown syllable, a rare one is left alone: the unknown one is the slip.
    assert corrections(parse_query("Xuân Tráng vnag"), NEWS, rare_too=True) == {"vnag": "vang"}
    got, _, corrected = searched("Xuân Tráng", NEWS, run)
    assert (got.terms, corrected, len(runs)) == (parsed.terms, None, 1)


def test_a_rare_syllable_is_not_corrected_by_the_words_around_it():
    # Held at most twice, it may be a name: only a search finding nothing as typed corrects it.
    rare = Counts({**NEWS.counts["syllables"], "tiêm": 2}, NEWS.counts["words"])
    assert corrections(parse_query("Triều Tiêm"), rare, rare_too=False) == {}
    assert corrections(parse_query("Triều Tiêm"), NEWS, rare_too=False) == {"tiêm": "tiên"}


def searches(found: dict[str, tuple]):
    """A run function answering (total, matched_all[, best score]) per query text, and the texts it was asked."""
    asked = []

    def run(p):
        text = " ".join(e for e, _ in p.terms)
        asked.append(text)
        total, matched_all, best = (found[text] + (1.0,))[:3]
        return SimpleNamespace(total=total, matched_all=matched_all, best=best)

    return run, asked


# "Hoàn" is too common to be read as a slip by the words alone: hoàng văn is a word of 30 articles only.
NAMES = Counts({**NEWS.counts["syllables"], "hoàn": 5000, "hoàng": 3000, "văn": 4000}, {"hoàng_văn": 30})


def beside(counts: dict[tuple[str, str], int]):
    return lambda pair: counts.get(pair, 0)


@pytest.mark.parametrize(
    "hoang_van, hoan_van, sure, doubtful",
    [
        (150, 7, {}, {"hoàn": "hoàng"}),  # 150 / (7 + 1) ≥ DOUBT_RATIO: maybe a slip
        (60, 7, {}, {}),  # side by side not ten times as often: the syllable as typed
        (900, 7, {"hoàn": "hoàng"}, {}),  # a hundred times as often: a slip
        (900, None, {}, {}),  # nothing to count with: a common syllable stays
    ],
)
def test_a_common_syllable_is_a_slip_when_its_reading_stands_beside_the_neighbour_far_more_often(
    hoang_van, hoan_van, sure, doubtful
):
    parsed = parse_query("Hoàn Văn")
    side = None if hoan_van is None else beside({("hoang", "van"): hoang_van, ("hoan", "van"): hoan_van})
    assert corrections(parsed, NAMES, rare_too=False, side_by_side=side) == sure
    if side:
        assert _corrections(parsed, NAMES, False, side).doubtful == doubtful


@pytest.mark.parametrize(
    "typed_best, fixed_best, typed_all, corrected",
    [
        (20.0, 30.0, True, "Hoàng Văn"),  # the reading whose best article scores higher
        (20.0, 10.0, True, None),
        (25.0, 10.0, False, "Hoàng Văn"),  # the query as typed did not find them together
    ],
)
def test_a_doubtful_correction_answers_when_its_best_article_scores_higher(typed_best, fixed_best, typed_all, corrected):
    run, texts = searches({"hoàn văn": (5, typed_all, typed_best), "hoàng văn": (4, True, fixed_best)})
    side = beside({("hoang", "van"): 150, ("hoan", "van"): 7})
    assert searched("Hoàn Văn", NAMES, run, side_by_side=side)[2] == corrected
    assert texts == ["hoàn văn", "hoàng văn"]


# "than" (thân, thần) forms no word with "mỹ"; a slip away, thanh is the commonest syllable and thẩm
# forms the commoner word.
PLACES = Counts(
    {"thân": 7000, "thanh": 12000, "thẩm": 9500, "mỹ": 3000, "sóng": 900, "tần": 300, "thần": 2000, "tấn": 5000,
     "thi": 9000, "thời": 5000, "đại": 4000},
    {"thanh_mỹ": 9, "thẩm_mỹ": 300, "sóng_thần": 100, "thời_đại": 200},
)  # fmt: skip


@pytest.mark.parametrize(
    "typed, found, asked, corrected",
    [
        # Found together in few articles: both readings searched, the one scoring CLEARLY higher answers.
        ("than my", {"than my": (3, True, 20.0), "tham my": (40, True, 25.0), "thanh my": (5, True, 50.0)},
         ["than my", "tham my", "thanh my"], "thanh my"),
        ("than my", {"than my": (3, True, 20.0), "tham my": (40, True, 25.0), "thanh my": (5, True, 30.0)},
         ["than my", "tham my", "thanh my"], None),
        # Not found together: a reading found together answers when its best article scores higher.
        ("than my", {"than my": (300, False, 20.0), "tham my": (40, True, 19.0), "thanh my": (5, True, 21.0)},
         ["than my", "tham my", "thanh my"], "thanh my"),
        # Found together in more than FEW articles: the query as typed.
        ("than my", {"than my": (51, True, 20.0)}, ["than my"], None),
        # A short syllable is read only as one letter longer (not tấn).
        ("sóng tần", {"sóng tần": (2, True, 20.0), "sóng thần": (30, True, 40.0)}, ["sóng tần", "sóng thần"], "sóng thần"),
        # A reading forming a word with a neighbour is searched though less common than the syllable typed.
        ("thi đại", {"thi đại": (3, True, 20.0), "thoi đại": (60, True, 45.0)}, ["thi đại", "thoi đại"], "thoi đại"),
        # Questions, of more than NEAR_AT_MOST syllables, are searched as typed.
        ("than my sóng tần thẩm thanh tấn", {"than my sóng tần thẩm thanh tấn": (1, True, 20.0)},
         ["than my sóng tần thẩm thanh tấn"], None),
    ],
)  # fmt: skip
def test_a_query_found_in_few_articles_searches_readings_a_slip_away(typed, found, asked, corrected):
    run, texts = searches(found)
    assert (searched(typed, PLACES, run)[2], texts) == (corrected, asked)


def test_readings_that_answer_only_found_together_are_searched_together():
    run, texts = searches({"than my": (3, True, 20.0)})
    near, together = searches({"tham my": (0, False), "thanh my": (5, True, 50.0)})
    assert searched("than my", PLACES, run, together=near)[2] == "thanh my"
    assert (texts, together) == (["than my"], ["tham my", "thanh my"])
    # The correction answers even when not found together: searched whole. Its runner-up, together.
    counts = Counts({"trung": 900, "trình": 3000, "quốc": 900}, {"trung_quốc": 800})
    run, texts = searches({"trung quốc": (4, False, 30.0), "tring quốc": (0, False)})
    near, together = searches({"trinh quốc": (0, False)})
    assert searched("tring quốc", counts, run, together=near)[2] == "trung quốc"
    assert (texts, together) == (["trung quốc", "tring quốc"], ["trinh quốc"])


def test_how_few_articles_are_few_grows_with_the_index():
    found = {"than my": (80, True, 20.0), "tham my": (40, True, 25.0), "thanh my": (5, True, 50.0)}
    for articles, corrected, asked in [
        (20_000, None, ["than my"]),  # 80 of 20,000: more than FEW
        (40_000, "thanh my", ["than my", "tham my", "thanh my"]),  # FEW per FEW_PER: 100 of 40,000
    ]:
        run, texts = searches(found)
        assert (searched("than my", PLACES, run, articles=articles)[2], texts) == (corrected, asked)


def test_readings_a_slip_away_forming_commoner_words_are_searched_first(monkeypatch):
    parsed = prepared("than my sóng tần thi đại", PLACES)
    # thẩm mỹ, thời đại, sóng thần; then thanh, the commonest
    readings = [{"than": "tham"}, {"thi": "thoi"}, {"tần": "thần"}, {"than": "thanh"}]
    assert _near_readings(parsed, PLACES, frozenset()) == readings
    monkeypatch.setattr(spelling, "NEAR_TRIES", 2)
    assert _near_readings(parsed, PLACES, frozenset()) == readings[:2]
    assert _near_readings(parsed, PLACES, frozenset({"than"})) == readings[1:3]  # an acronym stays


def test_the_words_a_reading_forms_spell_the_marks_typed():
    counts = Counts({"thả": 900, "thảm": 300, "thải": 1500, "thái": 2000, "đỏ": 800, "độ": 5000},
                    {"thái_độ": 450, "thảm_đỏ": 30})  # fmt: skip
    assert _near_readings(prepared("thả đỏ", counts), counts, frozenset()) == [{"thả": "thảm"}, {"thả": "thải"}]
    # Typed without marks: a word of any marks, thái độ the commonest.
    assert _near_readings(prepared("tha do", counts), counts, frozenset())[0] == {"tha": "thai"}


def test_one_edit():
    assert _one_edit("trường", "trưing") and _one_edit("thuốốc", "thuốc") and _one_edit("đnh", "đánh")
    assert _one_edit("abc", "acb") and not _one_edit("duện", "diễn") and not _one_edit("khía", "khi")


@pytest.mark.parametrize(
    "typed, found, asked, corrected",
    [
        # An unknown syllable: the correction is searched first, and answers when it finds them all.
        ("Gia vnag", {"gia vang": (3, True)}, ["gia vang"], "Gia vang"),
        ("chat lung", {"chat luong": (5, True)}, ["chat luong"], "chat luong"),
        # The correction finds nothing together: the query as typed answers when it does.
        ("chat lung", {"chat luong": (0, False), "chat lung": (2, True)}, ["chat luong", "chat lung"], None),
        ("Gia vnag", {"gia vang": (4, False), "gia vnag": (0, False)}, ["gia vang", "gia vnag"], "Gia vang"),
        # Neither finds them together: the correction answers, its unknown syllable read as a slip.
        ("Gia vnag", {"gia vang": (4, False), "gia vnag": (3, False)}, ["gia vang", "gia vnag"], "Gia vang"),
        ("Xuân Tráng", {"xuân tráng": (1, True)}, ["xuân tráng"], None),
    ],
)
def test_searched_runs_the_correction_first(typed, found, asked, corrected):
    run, texts = searches(found)
    assert (searched(typed, NEWS, run)[2], texts) == (corrected, asked)


@pytest.mark.parametrize(
    "meant, typed, likely",
    [
        ("vang", "vnag", True),  # swapped
        ("hang", "haang", True),  # doubled
        ("dinh", "dnh", True),  # dropped
        ("bien", "boen", True),  # a neighbouring key
        ("hoang", "haang", False),  # a key far away
        ("ben", "boen", False),  # a letter out of nowhere
        ("vang", "vangg", True),
        ("vang", "vag", True),  # three letters: one it lacks
        ("van", "vag", False),  # never a key beside
    ],
)
def test_typos(meant, typed, likely):
    assert (meant in _typos(typed)) is likely


def test_half_accented_queries_carry_the_words_their_letters_spell():
    parsed = prepared("giá vang", NEWS)
    assert parsed.loose == (("vang", "vang"),)
    assert parsed.words == ("giá_vang", "giá_vàng")  # as typed (matches nothing), as the index spells it


@pytest.mark.parametrize(
    "typed, rare",
    [
        ("giá thp vàng", [("thp", "thp")]),  # no article holds it
        ("Việ Nam", [("việ", "vie")]),  # one article holds it with these marks
        ("gia vang vnag", []),  # long: the corrections' business
        ("giá vàng cnn", []),  # spells no syllable, but many articles hold it
        ("ông dân", []),  # a syllable, whatever the count
        ("giá vàng u23", []),  # not letters only
    ],
)
def test_strays_are_short_non_syllables_hardly_any_article_holds(typed, rare):
    counts = Counts(NEWS.counts["syllables"] | {"cnn": 300}, NEWS.counts["words"])
    assert list(prepared(typed, counts).rare) == rare


def test_a_stray_is_not_required(store):
    from indexer.search import search

    # As typed: corrected, "thp" would be "the" (a reading that finds every syllable).
    assert search(store, "ha noi thp").corrected == "ha noi the"
    page, clean = search(store, "ha noi thp", as_typed=True), search(store, "ha noi")
    assert (page.matched_all, page.corrected, clean.matched_all) == (False, None, True)
    assert page.total == clean.total
    assert [(h.id, h.score) for h in page.hits] == [(h.id, h.score) for h in clean.hits]
    assert page.total < search(store, "ha").total  # any of the syllables would find more


def test_search_says_what_it_searched(store):
    from indexer.search import search

    page = search(store, "Gias vangf")
    assert (page.corrected, page.to_json()["corrected"]) == ("Giá vàng", "Giá vàng")
    assert [h.id for h in page.hits] == [h.id for h in search(store, "Giá vàng").hits]
    typed = search(store, "Gias vangf", as_typed=True)
    assert (typed.corrected, typed.total) == (None, 0)
    assert search(store, "giá vàng").corrected is None


def test_the_page_links_to_the_query_as_typed(client):
    from support import check_page

    html = client.get("/search?q=gias+vangf").get_data(as_text=True)
    check_page(html)
    assert "Hiển thị kết quả cho «<strong>giá vàng</strong>»" in html
    assert 'href="/search?q=gias+vangf&amp;typed=1"' in html
    assert "Hiển thị kết quả cho" not in client.get("/search?q=gias+vangf&typed=1").get_data(as_text=True)
    assert client.get("/api/search?q=gias+vangf").get_json()["corrected"] == "giá vàng"


def test_edits():
    assert "vang" in edits("vnag") and "vng" in edits("vang") and "vanng" in edits("vang")
    assert "vang" not in edits("vang")
    assert "thành" in edits("thànhh") and "ngườ" in edits("người")  # marked letters kept


def test_a_half_accented_query_suggests_the_reading_the_index_supports(store):
    from indexer.search import search

    assert search(store, "giá vang").suggestion == "giá vàng"
    assert search(store, "giá vàng").suggestion is None


def test_the_cli_says_what_it_searched(runner, index_dir):
    from indexer.cli import main

    result = runner.invoke(main, ["search", "--index", str(index_dir), "--limit", "1", "gias vangf"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:2] == ['2 results for "gias vangf" (page 1 of 2)', 'Showing results for "giá vàng"']


def test_a_query_of_many_unknown_syllables_corrects_a_few():
    fixes = corrections(parse_query("vnag " * 2 + "xyzw qwrt plmk zzzz vnag"), NEWS, rare_too=True)
    assert fixes == {"vnag": "vang"}  # the first three suspects only (two are the same syllable)


def test_typed_takes_0_or_1(client):
    r = client.get("/api/search?q=gias&typed=yes")
    assert r.status_code == 400 and "typed" in r.get_data(as_text=True)


def test_a_short_syllable_may_be_a_longer_one_that_lost_a_letter():
    counts = Counts({"đôn": 500, "đông": 3000, "nam": 3000, "cai": 400, "ro": 900, "to": 900},
                    {"đông_nam": 200, "cải_tổ": 300})  # fmt: skip
    side = beside({("dong", "nam"): 300, ("don", "nam"): 2, ("cai", "to"): 400})
    assert _corrections(parse_query("Đôn Nam"), counts, False, side).doubtful == {"đôn": "đông"}
    assert corrections(parse_query("Đôn Nam"), counts, rare_too=True, side_by_side=side) == {}  # never outright
    assert _corrections(parse_query("cai ro"), counts, False, side).doubtful == {}  # another letter: too many to weigh
