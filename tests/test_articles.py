"""indexer.articles: plain-text and JSON articles, failures, and the file walk."""

from __future__ import annotations

import datetime
import gzip
import json
import os
import unicodedata
from pathlib import Path

import pytest

from indexer.articles import (
    Article,
    Failure,
    find_files,
    is_caption,
    load_articles,
    parse_text_article,
    read_file,
)
from indexer.errors import ArticleError
from indexer.fields import VIETNAM

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_5a0c9058e2d22930.txt"


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def jsonl(*objects: object) -> str:
    return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects)


def loaded(*paths: str) -> list[str]:
    """load_articles over relative paths, each item shown as "article <id>" or the Failure string."""
    return [f"article {item.id}" if isinstance(item, Article) else str(item)
            for _, item in load_articles([Path(p) for p in paths])]


# --- plain text -------------------------------------------------------------


def test_seed_article():
    (article,) = read_file(SEED, SEED)
    assert article.id == "000_5a0c9058e2d22930.txt"
    assert article.origin == str(SEED)
    assert article.source == "TCCS"
    assert article.published == datetime.date(2023, 12, 28)
    assert article.author == "Thùy Linh (tổng hợp)"
    assert article.title == (
        "Ban Tổ chức Trung ương tổ chức Hội nghị tổng kết công tác năm 2023, triển khai nhiệm vụ năm 2024"
    )
    assert (article.sapo, article.url, article.category) == (None, None, None)
    assert article.body.startswith(
        "Ngày 28-12-2023, Ban Tổ chức Trung ương tổ chức Hội nghị tổng kết công tác năm 2023, "
        "triển khai nhiệm vụ năm 2024. Ủy viên Bộ Chính trị, Thường trực Ban Bí thư, Trưởng Ban "
        "Tổ chức Trung ương Trương Thị Mai dự hội nghị.\n\nĐồng chí Trương Thị Mai, Ủy viên"
    )
    assert article.body.endswith("cho các cá nhân có thành tích xuất sắc./.")
    assert "Thùy Linh" not in article.body
    assert article.body.count("\n\n") == 12  # 13 paragraphs
    assert "\u00a0" not in article.body and " \n" not in article.body


TEXT_CASES = {
    "title line and author": (
        "Giá vàng tăng mạnh\n\nSáng 5-3, giá vàng SJC tăng 500.000 đồng mỗi lượng.\n\nPV\n",
        dict(title="Giá vàng tăng mạnh", author="PV",
             body="Sáng 5-3, giá vàng SJC tăng 500.000 đồng mỗi lượng."),
    ),
    "last line is a sentence: no author": (
        "Mưa lớn ở Hà Nội\nNhiều tuyến phố ngập sâu sau trận mưa chiều qua.\nGiao thông ùn tắc kéo dài.",
        dict(title="Mưa lớn ở Hà Nội",
             body="Nhiều tuyến phố ngập sâu sau trận mưa chiều qua.\nGiao thông ùn tắc kéo dài."),
    ),
    "first line is a sentence: title from it, abbreviation kept": (
        "Sáng nay, TP. Hồ Chí Minh đón mưa trái mùa. Nhiều tuyến đường bị ngập.\n\nTheo TTXVN",
        dict(title="Sáng nay, TP. Hồ Chí Minh đón mưa trái mùa",
             body="Sáng nay, TP. Hồ Chí Minh đón mưa trái mùa. Nhiều tuyến đường bị ngập.",
             author="Theo TTXVN"),
    ),
    "first line ends with a colon: not a title": (
        "Bộ Y tế khuyến cáo:\nNgười dân nên tiêm vắc xin đầy đủ.",
        dict(title="Bộ Y tế khuyến cáo:", body="Bộ Y tế khuyến cáo:\nNgười dân nên tiêm vắc xin đầy đủ."),
    ),
    "date without a tag": (
        "Ngày 5/3/2024, Quốc hội khai mạc kỳ họp bất thường. Các đại biểu thảo luận.\n\nNguyễn Văn An",
        dict(title="Quốc hội khai mạc kỳ họp bất thường", published=datetime.date(2024, 3, 5),
             body="Ngày 5/3/2024, Quốc hội khai mạc kỳ họp bất thường. Các đại biểu thảo luận.",
             author="Nguyễn Văn An"),
    ),
    "tag, en dash, lowercase ngày, dotted date": (
        "VOV – ngày 01.02.2024, giá xăng giảm nhẹ từ 15 giờ chiều nay.\n\nBộ Công Thương nói giá dầu giảm.",
        dict(title="Giá xăng giảm nhẹ từ 15 giờ chiều nay", published=datetime.date(2024, 2, 1), source="VOV",
             body="ngày 01.02.2024, giá xăng giảm nhẹ từ 15 giờ chiều nay.\n\n"
                  "Bộ Công Thương nói giá dầu giảm."),
    ),
    "tag and date alone on the first line": (
        "Thanh Niên - 28/12/2023\n\nHội nghị tổng kết năm diễn ra tại Hà Nội.",
        dict(title="Hội nghị tổng kết năm diễn ra tại Hà Nội", published=datetime.date(2023, 12, 28),
             source="Thanh Niên", body="28/12/2023\n\nHội nghị tổng kết năm diễn ra tại Hà Nội."),
    ),
    "invalid calendar date: no prefix": (
        "TCCS - Ngày 31-02-2023, hội nghị diễn ra tại Hà Nội.\n\nCác đại biểu đã thảo luận.",
        dict(title="TCCS - Ngày 31-02-2023, hội nghị diễn ra tại Hà Nội",
             body="TCCS - Ngày 31-02-2023, hội nghị diễn ra tại Hà Nội.\n\nCác đại biểu đã thảo luận."),
    ),
    "tag of more than five words: no prefix": (
        "Ban biên tập báo điện tử Đảng - Ngày 1-1-2024, năm mới bắt đầu.",
        dict(title="Ban biên tập báo điện tử Đảng - Ngày 1-1-2024, năm mới bắt đầu",
             body="Ban biên tập báo điện tử Đảng - Ngày 1-1-2024, năm mới bắt đầu."),
    ),
    "caption on the last line is not an author": (
        "Lễ khai mạc\n\nLễ khai mạc diễn ra trang trọng.\n\nQuang cảnh buổi lễ _ Ảnh: TTXVN",
        dict(title="Lễ khai mạc", body="Lễ khai mạc diễn ra trang trọng.\n\nQuang cảnh buổi lễ _ Ảnh: TTXVN"),
    ),
    "one line: body and derived title, no author": (
        "chỉ một dòng ngắn",
        dict(title="Chỉ một dòng ngắn", body="chỉ một dòng ngắn"),
    ),
    "paragraphs: one blank line between, spaces trimmed": (
        "Tiêu đề\n\n\n  Đoạn một.   \n  dòng thụt vào\n\n\n\nĐoạn hai.\t\n\n",
        dict(title="Tiêu đề", body="Đoạn một.\n  dòng thụt vào\n\nĐoạn hai."),
    ),
    "long lead: title cut at a word boundary": (
        "Ngày 2-9-2024, " + "người dân cả nước hân hoan " * 6 + "chào mừng Quốc khánh.",
        dict(published=datetime.date(2024, 9, 2),
             title="Người dân cả nước hân hoan người dân cả nước hân hoan người dân cả nước hân hoan "
                   "người dân cả nước hân hoan người dân…",
             body="Ngày 2-9-2024, " + "người dân cả nước hân hoan " * 6 + "chào mừng Quốc khánh."),
    ),
}


@pytest.mark.parametrize("text, expected", TEXT_CASES.values(), ids=TEXT_CASES.keys())
def test_parse_text_article(text, expected):
    article = parse_text_article(text, "a.txt", "dir/a.txt")
    fields = dict(title=None, published=None, source=None, author=None) | expected
    assert article == Article(id="a.txt", sapo=None, url=None, category=None, origin="dir/a.txt", **fields)
    assert len(article.title) <= 120


def test_nfd_text_becomes_nfc():
    text = unicodedata.normalize("NFD", "Thủ tướng phát biểu\n\nHội nghị diễn ra ở Đà Nẵng.")
    article = parse_text_article(text, "a.txt", "a.txt")
    assert (article.title, article.body) == ("Thủ tướng phát biểu", "Hội nghị diễn ra ở Đà Nẵng.")


def test_html_entities_and_invisible_characters():
    text = "Giá &quot;vàng&quot; &amp; USD\u200b\n\nGiá vàng&nbsp;tăng\u00ad."
    article = parse_text_article(text, "a.txt", "a.txt")
    assert (article.title, article.body) == ('Giá "vàng" & USD', "Giá vàng tăng.")


def test_text_without_body_raises():
    with pytest.raises(ArticleError) as e:
        parse_text_article(" \n\u200b\n", "a.txt", "dir/a.txt")
    assert (e.value.location, e.value.reason) == ("dir/a.txt", "no body")


CAPTIONS = {
    "Đồng chí Mai Văn Chính phát biểu chỉ đạo _ Ảnh: TTXVN": True,
    "Quang cảnh hội nghị._Ảnh: Hà Linh": True,
    "Ảnh: Quang cảnh hội nghị tổng kết công tác năm 2023 của Ban Tổ chức Trung ương": True,
    "Ảnh minh họa": True,
    "Ảnh minh hoạ: Internet": True,
    "Lực lượng cứu hộ tiếp cận hiện trường (Ảnh: TTXVN)": True,
    "Người dân xếp hàng mua vàng (Ảnh minh họa).": True,
    "Lực lượng cứu hộ tiếp cận hiện trường. Ảnh: Nguyễn Hà": True,
    "  Ảnh: TTXVN  ": True,
    "Ảnh hưởng của bão số 3 khiến nhiều tỉnh miền Bắc mất điện trên diện rộng.": False,
    "Nhiếp ảnh gia có hơn 20 năm gắn bó với Ảnh báo chí và nhiều giải thưởng lớn.": False,
    "Triển lãm mang tên Ảnh: ký ức Hà Nội những năm tháng chiến tranh gian khổ và hào hùng": False,
    "Triển lãm ảnh: Hà Nội mùa thu": False,
    "Ông cho biết sẽ gửi ảnh cho ban tổ chức trong tuần tới.": False,
    "": False,
}


@pytest.mark.parametrize("line, expected", CAPTIONS.items())
def test_is_caption(line, expected):
    assert is_caption(line) is expected


# --- JSON -------------------------------------------------------------------

FULL = {
    "id": "dn-1", "title": " Đà Nẵng đón khách ", "sapo": "Năm 2023, Đà Nẵng đón 8 triệu khách.",
    "body": "Dòng một.  \nDòng hai.\n\n\n  Đoạn hai.", "published": "2024-01-05",
    "url": "https://example.vn/dn", "source": "vnexpress.net", "category": "du-lich",
    "author": "Hoài Thu", "views": 12, "tags": ["du lịch"],
}


def test_json_single_object_all_fields(tmp_path):
    path = write(tmp_path / "one.json", json.dumps(FULL))
    assert list(read_file(path, tmp_path)) == [Article(
        id="dn-1", title="Đà Nẵng đón khách", sapo="Năm 2023, Đà Nẵng đón 8 triệu khách.",
        body="Dòng một.\nDòng hai.\n\nĐoạn hai.", published=datetime.date(2024, 1, 5),
        url="https://example.vn/dn", source="vnexpress.net", category="du-lich", author="Hoài Thu",
        origin=str(path),
    )]


def test_json_null_and_blank_fields(tmp_path):
    obj = dict.fromkeys(["id", "title", "sapo", "published", "url", "source", "category", "author"])
    path = write(tmp_path / "sub" / "one.json", json.dumps(obj | {"title": "  ", "body": "Nội dung."}))
    assert list(read_file(path, tmp_path)) == [Article(
        id="sub/one.json", title="Nội dung", sapo=None, body="Nội dung.", published=None,
        url=None, source=None, category=None, author=None, origin=str(path),
    )]


def test_json_text_is_cleaned(tmp_path):
    obj = {"title": unicodedata.normalize("NFD", "Hòa Bình &amp; Đà Lạt"), "body": "Mưa\u00a0lớn&hellip;"}
    (article,) = read_file(write(tmp_path / "a.json", json.dumps(obj)), tmp_path)
    assert (article.title, article.body) == ("Hòa Bình & Đà Lạt", "Mưa lớn…")


@pytest.mark.parametrize("name, content, expected_ids", [
    ("list.json", json.dumps([{"id": "a", "body": "x"}, {"url": "https://vn/b", "body": "x"}, {"body": "x"}]),
     ["a", "https://vn/b", "data/list.json:3"]),
    ("feed.jsonl",
     jsonl({"id": "a", "body": "x"}, {"url": "https://vn/b", "body": "x"}) + "\n  \n" + jsonl({"body": "x"}),
     ["a", "https://vn/b", "data/feed.jsonl:5"]),
    ("one.json", json.dumps({"id": 42, "body": "x"}), ["42"]),
    ("one.txt", "Tiêu đề\nNội dung.", ["data/one.txt"]),
    ("bom.jsonl", "\ufeff" + jsonl({"id": "a", "body": "x"}), ["a"]),
])
def test_ids(tmp_path, name, content, expected_ids):
    path = write(tmp_path / "data" / name, content)
    assert [a.id for a in read_file(path, tmp_path)] == expected_ids
    assert [a.id for a in read_file(path, path)][-1] == expected_ids[-1].replace("data/", "")


def test_jsonl_gz(tmp_path):
    path = write(tmp_path / "feed.jsonl.gz", gzip.compress(jsonl(FULL, {"body": "Tin ngắn."}).encode()))
    assert [(a.id, a.title, a.body) for a in read_file(path, path)] == [
        ("dn-1", "Đà Nẵng đón khách", "Dòng một.\nDòng hai.\n\nĐoạn hai."),
        ("feed.jsonl.gz:2", "Tin ngắn", "Tin ngắn."),
    ]


@pytest.mark.parametrize("published, expected", [
    ("2021-04-20", datetime.date(2021, 4, 20)),
    # A time is kept, in Vietnam time (UTC+7); one without a zone is taken as Vietnam's.
    ("2025-10-03T05:00:32+07:00", datetime.datetime(2025, 10, 3, 5, 0, 32, tzinfo=VIETNAM)),
    ("2025-10-02T23:30:00Z", datetime.datetime(2025, 10, 3, 6, 30, tzinfo=VIETNAM)),
    ("2025-10-02 23:30", datetime.datetime(2025, 10, 2, 23, 30, tzinfo=VIETNAM)),
    ("28-12-2023", datetime.date(2023, 12, 28)),
    ("28/12/2023", datetime.date(2023, 12, 28)),
    (" 1/2/2024 ", datetime.date(2024, 2, 1)),
    ("", None),
    (None, None),
])
def test_published(tmp_path, published, expected):
    path = write(tmp_path / "a.json", json.dumps({"body": "x", "published": published}))
    (article,) = read_file(path, tmp_path)
    assert article.published == expected


# --- failures ---------------------------------------------------------------

GOOD = {"id": "ok", "body": "Nội dung."}
BAD_FILES = {
    "not UTF-8": ("bad.txt", b"Gi\xe1 v\xe0ng t\xe3ng", ["bad.txt: not UTF-8 text"]),
    "empty": ("empty.txt", b"", ["empty.txt: empty file"]),
    "whitespace only": ("blank.txt", " \n\t\n\u200b".encode(), ["blank.txt: empty file"]),
    "binary": ("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00", ["photo.txt: binary file"]),
    "UTF-8 BOM is fine": ("bom.txt", "\ufeffTiêu đề\nNội dung.".encode(), ["article bom.txt"]),
    "JSON not UTF-8": ("bad.json", b'{"body": "v\xe0ng"}', ["bad.json: not UTF-8 text"]),
    "JSON empty": ("empty.json", b"  \n", ["empty.json: empty file"]),
    "JSON does not parse": ("bad.json", b'{"body": "x",}', [
        "bad.json: invalid JSON: Expecting property name enclosed in double quotes (line 1, column 14)"]),
    "JSON scalar": ("n.json", b"42", ["n.json: expected a JSON object"]),
    "JSON list items": ("list.json", json.dumps([GOOD, 5, {"body": None}, {"id": "x"}]).encode(), [
        "article ok", "list.json:item 2: expected a JSON object", "list.json:item 3: no body",
        "list.json:item 4: no body"]),
    "jsonl bad lines": ("feed.jsonl", (
        jsonl(GOOD) + '{"body": "x"\n' + "[1, 2]\n" + jsonl({"id": "e", "body": " \n "})
        + jsonl({"body": "x", "published": "31-31-2020"}) + jsonl({"body": "x", "published": "hôm qua"})
        + jsonl({"body": "x", "title": 7}) + jsonl({"body": ["x"]}) + jsonl({"id": True, "body": "x"})
        + jsonl({"id": 1.5, "body": "x"}) + "\n"
    ).encode() + b'{"body": "v\xe0ng"}\n' + jsonl({"id": "last", "body": "x"}).encode(), [
        "article ok",
        "feed.jsonl:2: invalid JSON: Expecting ',' delimiter (column 13)",
        "feed.jsonl:3: expected a JSON object",
        "feed.jsonl:4: no body",
        "feed.jsonl:5: published: cannot read date '31-31-2020'",
        "feed.jsonl:6: published: cannot read date 'hôm qua'",
        "feed.jsonl:7: title: expected a string, got int",
        "feed.jsonl:8: body: expected a string, got list",
        "feed.jsonl:9: id: expected a string, got bool",
        "feed.jsonl:10: id: expected a string, got float",
        "feed.jsonl:12: not UTF-8 text",
        "article last",
    ]),
    "jsonl blank lines only": ("empty.jsonl", b"\n  \n", ["empty.jsonl: empty file"]),
    "gzip truncated": ("cut.jsonl.gz", gzip.compress(jsonl(GOOD, {"id": "ok2", "body": "x"}).encode())[:-8], [
        "article ok", "article ok2", "cut.jsonl.gz: truncated gzip file"]),
    "gzip CRC wrong": ("crc.jsonl.gz", gzip.compress(jsonl(GOOD).encode(), mtime=0)[:-8] + bytes(8), [
        "article ok", "crc.jsonl.gz: corrupt gzip file: CRC check failed 0x0 != 0x48ea43f8"]),
    "not gzip": ("plain.jsonl.gz", jsonl(GOOD).encode(), ["plain.jsonl.gz: not a gzip file"]),
    "unsupported suffix": ("notes.md", b"# Ghi ch\xc3\xba", ["notes.md: unsupported file type"]),
}


@pytest.mark.parametrize("name, content, expected", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_input(tmp_path, monkeypatch, name, content, expected):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / name, content)
    assert loaded(name) == expected


def test_missing_path_and_the_rest_still_loads(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "a.txt", "Tiêu đề\nNội dung.")
    assert loaded("missing", "a.txt", "gone/b.json") == [
        "missing: no such file or directory", "article a.txt", "gone/b.json: no such file or directory"]


def test_unreadable_file_names_the_os_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dir.txt").mkdir()
    assert [str(f) for f in read_file(Path("dir.txt"), Path("."))] == ["dir.txt: cannot read: Is a directory"]


def test_unlistable_directory_is_reported(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "corpus" / "a.txt", "Tiêu đề\nNội dung.")
    write(tmp_path / "corpus" / "locked" / "b.txt", "Tiêu đề\nNội dung.")
    real_listdir, real_iterdir, real_scandir = os.listdir, Path.iterdir, os.scandir

    def deny(path):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "listdir", lambda path: deny(path) or real_listdir(path))
    monkeypatch.setattr(Path, "iterdir", lambda self: deny(self) or real_iterdir(self))
    monkeypatch.setattr(os, "scandir", lambda path: deny(path) or real_scandir(path))
    assert loaded("corpus") == ["article a.txt", "corpus/locked: cannot read: Permission denied"]


# --- files ------------------------------------------------------------------


@pytest.fixture()
def tree(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ["corpus/a.json", "corpus/b/2.txt", "corpus/c/d/e.jsonl.gz", "corpus/Y.TXT", "corpus/z.jsonl",
                 "corpus/notes.md", "corpus/.hidden.txt", "corpus/.git/x.txt", "corpus/b/.draft/y.txt"]:
        write(tmp_path / name, b"")
    (tmp_path / "corpus" / "b" / "loop").symlink_to(tmp_path / "corpus", target_is_directory=True)
    (tmp_path / "corpus" / "link.txt").symlink_to(tmp_path / "corpus" / "b" / "2.txt")
    return Path("corpus")


def test_find_files_walks_sorted_skipping_hidden_and_symlinked_dirs(tree):
    assert [p.as_posix() for p in find_files(tree)] == [
        "corpus/Y.TXT", "corpus/a.json", "corpus/b/2.txt", "corpus/c/d/e.jsonl.gz",
        "corpus/link.txt", "corpus/z.jsonl",
    ]


@pytest.mark.parametrize("name", ["corpus/a.json", "corpus/notes.md", "corpus/.hidden.txt"])
def test_find_files_yields_an_explicit_file(tree, name):
    assert list(find_files(Path(name))) == [Path(name)]


def test_load_articles_ids_are_relative_to_the_given_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "corpus" / "x" / "a.txt", "Tiêu đề\nNội dung.")
    write(tmp_path / "corpus" / "x" / "b.jsonl", jsonl({"body": "x"}))
    pairs = list(load_articles([Path("corpus"), Path("corpus/x/a.txt")]))
    assert [(p.as_posix(), a.id, a.origin) for p, a in pairs] == [
        ("corpus/x/a.txt", "x/a.txt", "corpus/x/a.txt"),
        ("corpus/x/b.jsonl", "x/b.jsonl:1", "corpus/x/b.jsonl"),
        ("corpus/x/a.txt", "a.txt", "corpus/x/a.txt"),
    ]


# --- identity ---------------------------------------------------------------


def test_content_hash_ignores_origin_only():
    article = parse_text_article("Tiêu đề\nNgày 1-2-2024, nội dung.", "a.txt", "one/a.txt")
    moved = parse_text_article("Tiêu đề\nNgày 1-2-2024, nội dung.", "a.txt", "two/a.txt")
    assert article.content_hash() == moved.content_hash() == "62c8f77ed13618aec136a23dbe456afaede8611c"
    other = parse_text_article("Tiêu đề khác\nNgày 1-2-2024, nội dung.", "a.txt", "one/a.txt")
    assert other.content_hash() != article.content_hash()


def test_failure_str():
    assert str(Failure("feed.jsonl:3", "no body")) == "feed.jsonl:3: no body"
