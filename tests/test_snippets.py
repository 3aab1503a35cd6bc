import pytest

from indexer.query import parse_query
from indexer.snippets import highlight, make_snippet


def forms(q: str) -> frozenset[tuple[str, str]]:
    return parse_query(q).wanted


@pytest.mark.parametrize(
    "text, query, expected",
    [
        ("Trương Thị Mai dự hội nghị.", "mai", "Trương Thị <mark>Mai</mark> dự hội nghị."),
        ("Trương Thị Mai dự hội nghị.", "truong thi mai", "<mark>Trương Thị Mai</mark> dự hội nghị."),
        # Matches separated by punctuation stay separate marks.
        ("Đà Nẵng, Hà Nội", "da nang ha noi", "<mark>Đà Nẵng</mark>, <mark>Hà Nội</mark>"),
        # Both tone styles, NFC text, the mark covers the original spelling.
        ("Thuỷ điện Hoà Bình", "thủy điện hòa bình", "<mark>Thuỷ điện Hoà Bình</mark>"),
        ("Ðại hội", "đại hội", "<mark>Ðại hội</mark>"),
        # Everything that is not ours is escaped.
        ("<script>alert(1)</script> giá vàng &", "vàng", "&lt;script&gt;alert(1)&lt;/script&gt; giá <mark>vàng</mark> &amp;"),
        ('<img src=x onerror="alert(1)"> mai', "mai", '&lt;img src=x onerror="alert(1)"&gt; <mark>mai</mark>'),
        ("TP.HCM hôm nay", "tp hcm", "<mark>TP</mark>.<mark>HCM</mark> hôm nay"),
    ],
)
def test_highlight(text, query, expected):
    assert highlight(text, forms(query)) == expected


LONG = (
    "Đồng chí Trương Thị Mai trao Huân chương Lao động _ Ảnh: TTXVN\n"
    "Theo báo cáo, năm 2023 Ban Tổ chức Trung ương đã hoàn thành 21 đề án theo chương trình, "
    "kế hoạch làm việc của Ban Chấp hành Trung ương. Ban tham mưu xây dựng quy chế làm việc, "
    "phân công nhiệm vụ cho các thành viên. Phó Trưởng Ban Mai Văn Chính nhấn mạnh nhiệm vụ năm 2024 "
    "rất nặng nề, đề nghị cán bộ tiếp tục phát huy kết quả đạt được, khắc phục khó khăn và hoàn thành tốt nhiệm vụ."
)


def test_snippet_centres_on_the_most_query_words():
    assert make_snippet(LONG, forms("Mai Văn Chính nhiệm vụ"), length=120) == (
        "… Phó Trưởng Ban <mark>Mai Văn Chính</mark> nhấn mạnh <mark>nhiệm vụ</mark> năm 2024 rất nặng nề, "
        "đề nghị cán bộ tiếp tục phát huy kết quả đạt …"
    )


def test_snippet_without_match_is_the_lead_not_the_caption():
    assert make_snippet(LONG, forms("bóng rổ"), length=80) == (
        "Theo báo cáo, năm 2023 Ban Tổ chức Trung ương đã hoàn thành 21 đề án theo …"
    )


def test_a_caption_is_shown_when_only_it_matches():
    assert make_snippet(LONG, forms("Huân chương"), length=60) == (
        "Đồng chí Trương Thị Mai trao <mark>Huân chương</mark> Lao động _ Ảnh: …"
    )


def test_accented_query_marks_exact_forms_when_there_are_any():
    assert highlight("Đà Nẵng đã nâng cấp", forms("Đà Nẵng")) == "<mark>Đà Nẵng</mark> đã nâng cấp"
    assert highlight("Đà Nẵng đã nâng cấp", forms("da nang")) == "<mark>Đà Nẵng đã nâng</mark> cấp"
    # No exact form in the text: the folded matches (why the article matched) are marked.
    assert highlight("đã nâng cấp", forms("Đà Nẵng")) == "<mark>đã nâng</mark> cấp"


def test_a_syllable_typed_without_marks_beside_marked_ones_marks_its_readings():
    assert highlight("Trương Thị Mai dự hội nghị.", forms("Trương Thi Mai")) == "<mark>Trương Thị Mai</mark> dự hội nghị."
    assert highlight("Giá vàng tăng, giá lúa giảm", forms("giá vang")) == "<mark>Giá vàng</mark> tăng, <mark>giá</mark> lúa giảm"
    # The unmarked spelling itself, where the text has it, is the one marked.
    assert highlight("Giá vàng ở Vang Vieng", forms("giá vang")) == "<mark>Giá</mark> vàng ở <mark>Vang</mark> Vieng"
    # The marked syllables still mark their exact forms only.
    assert highlight("Giá vàng, gia đình", forms("giá vang")) == "<mark>Giá vàng</mark>, gia đình"


def test_short_text_is_shown_whole():
    assert make_snippet("Giá vàng tăng.", forms("vàng")) == "Giá <mark>vàng</mark> tăng."


@pytest.mark.parametrize(
    "text, wanted, expected",
    [
        # letters right after a number token ("2,5") are a token of their own; after digits
        # alone ("12km" is one token), other letters or "_", not
        ("dài 2,5km, 12km và km", {"km"}, [(7, 9), (19, 21)]),
        ("mã 12abc, x_km, ha", {"abc", "km", "ha"}, [(16, 18)]),
        ("1.000ha và 3ha", {"ha"}, [(5, 7)]),
        ("Người dân, NGƯỜI DÂN", {"nguoi", "dan"}, [(0, 5), (6, 9), (11, 16), (17, 20)]),
    ],
)
def test_folded_matches_find_exactly_the_wanted_tokens(text, wanted, expected):
    from indexer.snippets import _TOKEN, _folded_matches
    from indexer.text import fold_text

    by_token = [(m.start(), m.end()) for m in _TOKEN.finditer(fold_text(text)) if m.group() in wanted]
    assert [(a, b) for a, b, _ in _folded_matches(text, wanted)] == by_token == expected
