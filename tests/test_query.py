"""parse_query and build_query are pure: pin exactly what they build."""

import unicodedata
from dataclasses import replace

import pytest
from whoosh import query as Q

from indexer.query import ParsedQuery, parse_query
from indexer.store import ANY, EXACT, FOLDED, HELD, MOST, build_query, levels

# "Mai" has no mark in a query whose other syllables have them: any reading of its letters.
ACCENTED_MAI = (
    "((text_x:trương AND text_x:thị AND text_f:mai)"
    " ANDMAYBE (title_x:trương^0.5 OR title_x:thị^0.5 OR title_f:mai^0.5"
    " OR title_w:trương_thị^0.5 OR text_w:trương_thị OR title_w:thị_mai^0.5 OR text_w:thị_mai"
    " OR title_w:trương_thị_mai^0.5 OR text_w:trương_thị_mai"
    ' OR text_f:"truong thi" OR text_f:"thi mai" OR text_f:"truong thi mai"))'  # side by side: proximity
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Trương Thị Mai", ACCENTED_MAI),
        # NFD input, capitals and the other tone style are the same query.
        (unicodedata.normalize("NFD", "Trương Thị Mai"), ACCENTED_MAI),
        ("TRƯƠNG THỊ MAI", ACCENTED_MAI),
        (
            "truong thi mai",
            "((text_f:truong AND text_f:thi AND text_f:mai)"
            " ANDMAYBE (title_f:truong^0.5 OR title_f:thi^0.5 OR title_f:mai^0.5"
            ' OR text_f:"truong thi" OR text_f:"thi mai" OR text_f:"truong thi mai"))',
        ),
        ("mai", "(text_f:mai ANDMAYBE (title_f:mai^0.5))"),
        (
            '"Đà Nẵng" -bão',
            # An exact phrase: the folded phrase (positions are kept for folded forms only)
            # in an article with each exact syllable.
            '(((text_f:"da nang" AND text_x:đà AND text_x:nẵng) ANDMAYBE (title_x:đà^0.5 OR title_x:nẵng^0.5'
            " OR title_w:đà_nẵng^0.5 OR text_w:đà_nẵng)) ANDNOT (text_x:bão))",
        ),
        (
            'gia vang -"the gioi"',
            "(((text_f:gia AND text_f:vang) ANDMAYBE (title_f:gia^0.5 OR title_f:vang^0.5 OR text_f:\"gia vang\"))"
            ' ANDNOT (text_f:"the gioi"))',
        ),
    ],
)
def test_build_query(text, expected):
    assert str(build_query(parse_query(text))) == expected


@pytest.mark.parametrize(
    "level, expected",
    [
        # A mark typed wrong still finds the article; exact forms rank first.
        (
            FOLDED,
            "((text_f:vang AND text_f:bac) ANDMAYBE (title_f:vang^0.5 OR title_f:bac^0.5"
            " OR text_x:vàng OR text_x:bạc OR title_w:vàng_bạc^0.5 OR text_w:vàng_bạc OR text_f:\"vang bac\"))",
        ),
        # Nothing has them all: any one will do, as typed.
        (
            ANY,
            "((text_x:vàng OR text_x:bạc) ANDMAYBE (title_x:vàng^0.5 OR title_x:bạc^0.5"
            " OR title_w:vàng_bạc^0.5 OR text_w:vàng_bạc OR text_f:\"vang bac\"))",
        ),
    ],
)
def test_looser_levels(level, expected):
    assert str(build_query(parse_query("vàng bạc"), level)) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("vàng bạc", (EXACT, FOLDED, ANY)),
        ("vang bac", (FOLDED, ANY)),
        ("vàng", (EXACT, FOLDED)),
        ("vang", (FOLDED,)),
        # A question typed with diacritics: as typed with all its syllables, else ranked by how many.
        ("Ai hát quốc ca?", (EXACT, ANY)),
        ("giá vàng hôm nay", (EXACT, ANY)),
        ("gia vang hom nay", (FOLDED, ANY)),
    ],
)
def test_levels(text, expected):
    assert levels(parse_query(text)) == expected


def test_a_query_with_a_stray_requires_its_other_syllables_only():
    thp = ("thp", "thp")
    parsed = replace(parse_query("giá thp xây"), rare=(thp,))
    assert levels(parsed) == (HELD, ANY)
    assert str(build_query(parsed, HELD)) == (
        "((text_f:gia AND text_f:xay) ANDMAYBE (title_f:gia^0.5 OR title_f:thp^0.5 OR title_f:xay^0.5"
        " OR text_f:thp OR text_x:giá OR text_x:thp OR text_x:xây OR title_w:giá_thp^0.5 OR text_w:giá_thp"
        " OR title_w:thp_xây^0.5 OR text_w:thp_xây OR title_w:giá_thp_xây^0.5 OR text_w:giá_thp_xây"
        ' OR text_f:"gia thp" OR text_f:"thp xay" OR text_f:"gia thp xay"))'
    )
    assert levels(replace(parse_query("thp"), rare=(thp,))) == (FOLDED,)  # nothing else to require
    assert levels(replace(parse_query("Ai hát quốc ca thp?"), rare=(thp,))) == (EXACT, ANY)  # long: by how many


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Thuỷ điện Hoà Bình", parse_query("Thủy điện Hòa Bình")),
        ("Ðà Nẵng", parse_query("Đà Nẵng")),
        ("mai mai MAI", ParsedQuery(terms=(("mai", "mai"),), runs=((("mai", "mai"),) * 3,))),
        ("", ParsedQuery()),
        ("- -- \"\" ?!", ParsedQuery()),
        ('"unbalanced quote', ParsedQuery(phrases=((("unbalanced", "unbalanced"), ("quote", "quote")),))),
        ("a-b", ParsedQuery(terms=(("a", "a"), ("b", "b")), runs=((("a", "a"), ("b", "b")),))),
        ("“giá vàng”", ParsedQuery(phrases=((("giá", "gia"), ("vàng", "vang")),), words=("giá_vàng",))),
    ],
)
def test_parse_query(text, expected):
    assert parse_query(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("giá vàng", ("giá_vàng",)),
        ("Thủ tướng Phạm Minh Chính", ("thủ_tướng", "tướng_phạm", "phạm_minh", "minh_chính", "thủ_tướng_phạm",
                                       "tướng_phạm_minh", "phạm_minh_chính", "thủ_tướng_phạm_minh",
                                       "tướng_phạm_minh_chính")),
        # Operators split runs: no word spans an exclusion or a phrase boundary.
        ('bão "Đà Nẵng" mưa -lũ lớn', ("đà_nẵng",)),
        ("gia vang", ()),  # no diacritics: exact-form words are not looked at
    ],
)
def test_word_candidates(text, expected):
    assert parse_query(text).words == expected


@pytest.mark.parametrize("text", ["", "   ", "-", '""', "!!! ??? ...", "-mai"])
def test_nothing_to_match_builds_no_query(text):
    assert build_query(parse_query(text)) is None


@pytest.mark.parametrize(
    "text, terms, alternatives",
    [
        ("UBND họp", ("họp",), [["ubnd", "ủy ban nhân dân"]]),
        ("tphcm", (), [["tphcm", "tp hcm", "hcmc", "thành phố hồ chí minh", "tp hồ chí minh"]]),
        ("TP. HCM", (), [["tp hcm", "tphcm", "hcmc", "thành phố hồ chí minh", "tp hồ chí minh"]]),
        (
            "Thành phố Hồ Chí Minh mưa",
            ("mưa",),
            [["thành phố hồ chí minh", "tp hcm", "tphcm", "hcmc", "tp hồ chí minh"]],
        ),
        ("giá vàng hn", ("giá", "vàng"), [["hn", "hà nội"]]),
        # Inside quotes the reader asked for exactly that: no expansion.
        ('"UBND"', (), []),
        ("hồ chí minh", ("hồ", "chí", "minh"), []),
        # A person's title, as news abbreviate it before a name.
        ("bác sĩ Xuân", ("xuân",), [["bác sĩ", "bs"]]),
        ("PGS.TS Hùng", ("hùng",), [["pgs", "phó giáo sư"], ["ts", "tiến sĩ"]]),
        ("Bộ GD", ("bộ", "gd"), []),  # not GĐ (giám đốc): the same letters
    ],
)
def test_abbreviations_become_one_clause_with_every_variant(text, terms, alternatives):
    parsed = parse_query(text)
    assert tuple(e for e, _ in parsed.terms) == terms
    assert [[" ".join(e for e, _ in v) for v in alt] for alt in parsed.alternatives] == alternatives


def test_abbreviation_query():
    assert str(build_query(parse_query("ubnd"))) == '(text_f:ubnd OR text_f:"uy ban nhan dan")'


@pytest.mark.parametrize(
    "text, required, optional",
    [
        # A question: its function syllables rank but are not required.
        ("Ai là người phát minh ra máy in", ("người", "phát", "minh", "máy", "in"), ("ai", "là", "ra")),
        # Short queries require every syllable, function words included.
        ("của người dân", ("của", "người", "dân"), ()),
        # Fewer than two content syllables left: everything stays required.
        ("là của và những gì", ("là", "của", "và", "những", "gì"), ()),
        # Quoted syllables are never counted or dropped.
        ('"là của" và những gì mới', ("và", "những", "gì", "mới"), ()),
        # An abbreviation (or its long form) counts as one content clause.
        ("Tổng Giám đốc của Broncos là ai", ("broncos",), ("của", "là", "ai")),
    ],
)
def test_long_queries_do_not_require_function_syllables(text, required, optional):
    parsed = parse_query(text)
    assert tuple(e for e, _ in parsed.terms) == required
    assert tuple(e for e, _ in parsed.optional) == optional


def test_the_most_level_when_it_is_on(monkeypatch):
    import indexer.store.querying as querying

    monkeypatch.setattr(querying, "MOST_FROM", 5)
    assert levels(parse_query("giá vàng miếng tăng vọt")) == (MOST, ANY)
    assert levels(parse_query("gia vang mieng tang vot nhanh hon")) == (MOST, ANY)
    assert levels(parse_query("gia vang mieng tang vot nhanh hon nhieu")) == (FOLDED, ANY)  # eight


def test_most_level_lets_an_article_miss_one_syllable():
    q = build_query(parse_query("gia vang mieng tang vot"), MOST)
    assert str(q.a) == "(text_f:gia OR text_f:vang OR text_f:mieng OR text_f:tang OR text_f:vot)>4"


@pytest.mark.parametrize(
    "text, loose",
    [
        ("giá vang", ("vang",)),  # half-accented: "vang" matches vàng, váng, vang…
        ("Hà Long cháy", ("long",)),
        ("gia vang", ()),  # nothing accented: every syllable is folded anyway
        ("giá vàng 2024", ()),  # digits have no reading
    ],
)
def test_unmarked_syllables_of_an_accented_query_are_loose(text, loose):
    assert tuple(e for e, _ in parse_query(text).loose) == loose
    assert all(f"text_f:{e}" in str(build_query(parse_query(text))) for e in loose)


def test_an_abbreviation_half_accented_matches_its_letters():
    # "Hà Noi" spells Hà Nội: the phrase by its letters, only the marked syllable as typed.
    q = build_query(parse_query("Hà Noi"))
    assert str(q.a) == '((text_f:"ha noi" AND text_x:hà) OR text_f:hn)'


def test_proximity_pairs_and_runs_of_three_with_their_boosts():
    # Each two adjacent syllables, then each three, side by side; repeated spans once; "tai"
    # twice in a row is no span, and an operator ends a run.
    q = build_query(parse_query('nguoi mau tai tai nan "x" giao thong'))
    spans = [(tuple(p.words), p.boost) for p in q.b.subqueries if isinstance(p, Q.Phrase)]
    assert spans == [
        (("nguoi", "mau"), 0.6), (("mau", "tai"), 0.6), (("tai", "nan"), 0.6), (("giao", "thong"), 0.6),
        (("nguoi", "mau", "tai"), 0.4),
    ]
