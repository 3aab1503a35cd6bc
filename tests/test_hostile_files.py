"""Hostile article files and what the CLI prints of them (issue 23, items 1-4, 11, 12, 14, 16, 17):
each attack is reported as a `path[:line]: reason` failure, the rest indexed, nothing crashes."""

from __future__ import annotations

import datetime
import gzip
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer import watch as watch_module
from indexer.articles import MAX_ID_BYTES, Failure, articles_from_json, display_path, id_problem, read_file
from indexer.json_text import parse_json
from indexer.cli import main
from indexer.ingest import FAILURES_SHOWN, index_paths
from indexer.search import search
from indexer.store import ArticleStore
from indexer.text import printable
from indexer.watch import Watcher
from support import without_timing

BIG_INT = "1" * 5000  # past Python's int-string limit (4,300 digits)


def jsonl(*objects: dict | str) -> str:
    return "".join((o if isinstance(o, str) else json.dumps(o, ensure_ascii=False)) + "\n" for o in objects)


def art(article_id: str, body: str = "Giá vàng hôm nay tăng mạnh.", **extra) -> dict:
    return {"id": article_id, "body": body, **extra}


def cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def poll_until_applied(watcher: Watcher, store: ArticleStore, scans: int = 3):
    """The first batch of a few scans (a file is applied at its second sight)."""
    for _ in range(scans):
        if batch := watcher.poll(store):
            return batch
    return None


# --- 1. a JSON integer past Python's limit ----------------------------------------------------

def test_an_integer_too_long_for_python_is_a_failure_of_its_line_the_rest_indexed(tmp_path):
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "a.jsonl").write_text(jsonl(art("ok-1"), f'{{"id": "n", "body": "x", "n": {BIG_INT}}}', art("ok-3")))
    (feed / "b.json").write_text(f'[{{"id": {BIG_INT}, "body": "x"}}]')
    (feed / "c.jsonl").write_text(jsonl(art("ok-4")))
    result = cli("index", "--index", str(tmp_path / "ix"), str(feed))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{feed}/a.jsonl:2: invalid JSON: a number too long to read (over 4,300 digits)",
        f"{feed}/b.json: invalid JSON: a number too long to read (over 4,300 digits)",
    ]
    assert without_timing(result.stdout) == "added 3, updated 0, unchanged 0, deleted 0, failed 2\n"


def test_an_integer_too_long_does_not_stop_the_watcher(tmp_path):
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "a.jsonl").write_text(jsonl(art("ok-1"), f'{{"id": {BIG_INT}, "body": "x"}}', art("ok-3")))
    log: list[Failure] = []
    watcher = Watcher(feed, tmp_path / "ix", on_failure=log.append)
    with ArticleStore.open_or_create(tmp_path / "ix") as store:
        batch = poll_until_applied(watcher, store)
        assert (batch.report.added, batch.report.failed) == (2, 1)
    assert [str(f) for f in log] == [f"{feed}/a.jsonl:2: invalid JSON: a number too long to read (over 4,300 digits)"]


def test_parse_json_raises_only_json_decode_errors():
    for text in (BIG_INT, f'{{"id": {BIG_INT}}}', "[" * 100_000):
        with pytest.raises(json.JSONDecodeError):
            parse_json(text)


# --- 2. a file name that is not UTF-8 -----------------------------------------------------------

def test_a_file_name_that_is_not_utf8_is_indexed_under_a_stable_escaped_id(tmp_path):
    feed = tmp_path / "feed"
    feed.mkdir()
    name = os.fsdecode(b"caf\xe9.txt")
    (feed / name).write_text("Cà phê tăng giá\nGiá cà phê nhân xô hôm nay tăng mạnh.", "utf-8")
    report = index_paths(tmp_path / "ix", [feed])
    assert (report.added, report.failed) == (1, 0)
    assert index_paths(tmp_path / "ix", [feed]).unchanged == 1  # the same id again
    with ArticleStore.open(tmp_path / "ix") as store:
        assert [h.id for h in search(store, "cà phê").hits] == ["caf\\xe9.txt"]
        assert store.get("caf\\xe9.txt")["origin"] == f"{feed}/caf\\xe9.txt"
    (feed / name).unlink()
    assert index_paths(tmp_path / "ix", [feed], prune=True).deleted == 1


def test_a_file_name_that_is_not_utf8_does_not_kill_the_watcher(tmp_path):
    feed = tmp_path / "feed"
    feed.mkdir()
    path = feed / os.fsdecode(b"caf\xe9.txt")
    path.write_text("Cà phê tăng giá\nGiá cà phê nhân xô hôm nay tăng mạnh.", "utf-8")
    watcher = Watcher(feed, tmp_path / "ix")
    with ArticleStore.open_or_create(tmp_path / "ix") as store:
        assert poll_until_applied(watcher, store).report.added == 1
        path.unlink()
        assert watcher.poll(store).report.deleted == 1
        store.refresh()
        assert len(store) == 0


# --- 3. symlinks leading out of the folder ------------------------------------------------------

@pytest.fixture()
def linked_feed(tmp_path) -> Path:
    """feed/ with leak.txt → a file outside it and inside.txt → a file inside it."""
    feed = tmp_path / "feed"
    (feed / "sub").mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("Mật khẩu\nroot:x:0:0:root:/root:/bin/bash mật khẩu quản trị.", "utf-8")
    (feed / "sub" / "real.txt").write_text("Giá lúa\nGiá lúa gạo hôm nay ổn định.", "utf-8")
    (feed / "leak.txt").symlink_to(secret)
    (feed / "inside.txt").symlink_to(feed / "sub" / "real.txt")
    return feed


def test_a_symlink_to_a_file_outside_the_folder_is_refused(tmp_path, linked_feed):
    result = cli("index", "--index", str(tmp_path / "ix"), str(linked_feed))
    assert result.exit_code == 1
    refused = f"{linked_feed}/leak.txt: symlink to a file outside {linked_feed} (--follow-symlinks reads it)"
    assert result.stderr == refused + "\n"
    with ArticleStore.open(tmp_path / "ix") as store:
        assert sorted(store.fingerprints()) == ["inside.txt", "sub/real.txt"]
        assert search(store, "mật khẩu").hits == ()


def test_follow_symlinks_reads_them_wherever_they_lead(tmp_path, linked_feed):
    result = cli("index", "--follow-symlinks", "--index", str(tmp_path / "ix"), str(linked_feed))
    assert (result.exit_code, result.stderr) == (0, "")
    with ArticleStore.open(tmp_path / "ix") as store:
        assert sorted(store.fingerprints()) == ["inside.txt", "leak.txt", "sub/real.txt"]


def test_the_watcher_refuses_a_symlink_out_of_its_folder(tmp_path, linked_feed):
    log: list[Failure] = []
    watcher = Watcher(linked_feed, tmp_path / "ix", on_failure=log.append)
    with ArticleStore.open_or_create(tmp_path / "ix") as store:
        assert poll_until_applied(watcher, store).report.added == 2
    assert [str(f) for f in log] == [
        f"{linked_feed}/leak.txt: symlink to a file outside {linked_feed} (--follow-symlinks reads it)"
    ]


# --- 4. a flood of failures in one file ---------------------------------------------------------

def test_a_flood_of_failures_keeps_the_first_and_counts_the_rest(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    feed = Path("feed")  # as typed: the last line names the file as the others do
    feed.mkdir()
    n = 20_000
    with gzip.open(feed / "flood.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write("{}\n" * n)
    (feed / "good.jsonl").write_text(jsonl(art("ok-1"), "{}"))
    result = cli("index", "--index", "ix", str(feed))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    flood = f"{feed}/flood.jsonl.gz"
    assert lines == [
        *(f"{flood}:{i}: no body" for i in range(1, FAILURES_SHOWN + 1)),
        f"{flood}: … and {n - FAILURES_SHOWN:,} more like these",
        f"{feed}/good.jsonl:2: no body",
    ]
    assert without_timing(result.stdout) == f"added 1, updated 0, unchanged 0, deleted 0, failed {n + 1}\n"


def test_the_report_keeps_a_bounded_list_whatever_the_failures(tmp_path):
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "items.json").write_text(json.dumps([{"title": "không có nội dung"}] * 20_000))
    report = index_paths(tmp_path / "ix", [feed])
    assert report.failed == 20_000
    assert len(report.failures) == FAILURES_SHOWN + 1
    assert str(report.failures[-1]) == f"{feed}/items.json: … and 19,990 more like these"


# --- 11. ids a URL cannot reach -----------------------------------------------------------------

@pytest.mark.parametrize(
    "article_id, reason",
    [
        ("/etc/x", "id: '/etc/x' starts with '/'"),
        (".", "id: '.' has a '.' or '..' segment (URLs drop them)"),
        ("..", "id: '..' has a '.' or '..' segment (URLs drop them)"),
        ("a/../b", "id: 'a/../b' has a '.' or '..' segment (URLs drop them)"),
        ("a/./b", "id: 'a/./b' has a '.' or '..' segment (URLs drop them)"),
        ("a\nb", "id: 'a\\nb' holds a tab or a line break"),
        ("x" * (MAX_ID_BYTES + 1), f"id: longer than {MAX_ID_BYTES:,} bytes ({MAX_ID_BYTES + 1:,} bytes)"),
        ("ố" * 1000, f"id: longer than {MAX_ID_BYTES:,} bytes (3,000 bytes)"),
        ("a/b.txt", None),
        ("..a/b.", None),
        ("https://vnexpress.net/gia-vang-1.html?x=1#y", None),
        ("tot-3\x00\x07", None),
        ("x" * MAX_ID_BYTES, None),
    ],
    ids=lambda v: v[:20] if isinstance(v, str) else v,
)
def test_ids_a_url_cannot_reach_are_refused(tmp_path, article_id, reason):
    assert id_problem(article_id) == reason
    path = tmp_path / "a.jsonl"
    path.write_text(jsonl(art(article_id)))
    [item] = read_file(path, path)
    assert item == Failure(f"{path}:1", reason) if reason else item.id == article_id
    [posted] = articles_from_json(art(article_id), "api")
    assert posted == Failure("article", reason) if reason else posted.id == article_id


def test_an_id_from_a_url_or_a_file_name_follows_the_same_rule(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(jsonl({"url": "http://x.vn/a/../b", "body": "Tin."}))
    assert list(read_file(path, path)) == [
        Failure(f"{path}:1", "id: 'http://x.vn/a/../b' has a '.' or '..' segment (URLs drop them)")
    ]
    assert id_problem("a\tb") == "id: 'a\\tb' holds a tab or a line break"  # JSON text has its tabs made spaces
    txt = tmp_path / "tin\nmoi.txt"
    txt.write_text("Tin mới\nNội dung.", "utf-8")
    assert list(read_file(txt, tmp_path)) == [Failure(str(txt), "id: 'tin\\nmoi.txt' holds a tab or a line break")]


def test_the_ingest_api_refuses_an_unreachable_id_with_a_400(tmp_path):
    from search_ui import create_app  # noqa: PLC0415 - the web side only for this test

    index_paths(tmp_path / "ix", [])
    app = create_app({"INDEX_DIR": tmp_path / "ix", "TESTING": True, "VNSEARCH_API_TOKEN": "t"})
    response = app.test_client().post("/api/articles", json=art("/tuyet-mat"), headers={"Authorization": "Bearer t"})
    assert response.status_code == 400
    assert response.get_json()["error"]["articles"] == ["article: id: '/tuyet-mat' starts with '/'"]


# --- 12. control characters on the operator's terminal ------------------------------------------

def test_printable_escapes_what_a_terminal_would_act_on():
    assert printable("a\x1b[2Jb\nc\rd\x07\x9b\u202eĐà Nẵng") == "a\\x1b[2Jb\\x0ac\\x0dd\\x07\\x9b\\u202eĐà Nẵng"
    assert printable(os.fsdecode(b"caf\xe9")) == "caf\\xe9"


def test_search_output_shows_escape_sequences_in_articles_never_sends_them(tmp_path):
    feed = tmp_path / "feed"
    feed.mkdir()
    evil = "\x1b]0;bị chiếm\x07\x1b[2J"
    article = art(f"id{evil}", f"Giá vàng {evil} tăng.", title=f"Vàng {evil}", source=f"Báo{evil}")
    (feed / "a.jsonl").write_text(jsonl(article))
    assert index_paths(tmp_path / "ix", [feed]).added == 1
    result = cli("search", "--index", str(tmp_path / "ix"), "vàng")
    shown = "\\x1b]0;bị chiếm\\x07\\x1b[2J"
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert result.stdout.splitlines()[2:4] == [f"1. Vàng {shown}", f"   Báo{shown} · id{shown}"]
    assert shown in result.stdout.splitlines()[4]
    stats = cli("stats", "--index", str(tmp_path / "ix"))
    assert f"  Báo{shown}: 1" in stats.stdout.splitlines()


def test_a_file_name_with_a_newline_or_an_escape_cannot_forge_failure_lines(tmp_path):
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "x.txt\nfake.txt: all good\ny.txt").write_bytes(b"")
    (feed / "\x1b[2Jclear.txt").write_bytes(b"")
    result = cli("index", "--index", str(tmp_path / "ix"), str(feed))
    assert result.stderr.splitlines() == [
        f"{feed}/\\x1b[2Jclear.txt: empty file",
        f"{feed}/x.txt\\x0afake.txt: all good\\x0ay.txt: empty file",
    ]


# --- 14. a writer that pauses ---------------------------------------------------------------------

def test_a_paused_writer_is_not_read_before_the_file_settles(tmp_path, monkeypatch):
    feed = tmp_path / "feed"
    feed.mkdir()
    clock = [1000.0]
    monkeypatch.setattr(watch_module.time, "monotonic", lambda: clock[0])
    watcher = Watcher(feed, tmp_path / "ix", interval=0.5, settle=2.0)
    path = feed / "a.jsonl"
    with ArticleStore.open_or_create(tmp_path / "ix") as store, path.open("w") as f:
        f.write(jsonl(art("a-1")) + '{"id": "a-2", "body": "Giá lúa')
        f.flush()
        for _ in range(3):  # the writer pauses over several scans, within the settling time
            clock[0] += 0.5
            assert watcher.poll(store) is None
        f.write(' tăng."}\n')
        f.flush()
        clock[0] += 0.5
        assert watcher.poll(store) is None  # changed: it settles again
        clock[0] += 2.0
        assert watcher.poll(store).report.added == 2


def test_a_file_renamed_into_place_with_an_old_mtime_is_read_at_its_second_scan(tmp_path, monkeypatch):
    feed = tmp_path / "feed"
    feed.mkdir()
    monkeypatch.setattr(watch_module.time, "monotonic", lambda: 1000.0)  # no time passes
    watcher = Watcher(feed, tmp_path / "ix", settle=2.0)
    (feed / "a.jsonl").write_text(jsonl(art("a-1")))
    old = datetime.datetime.now().timestamp() - 60
    os.utime(feed / "a.jsonl", (old, old))
    with ArticleStore.open_or_create(tmp_path / "ix") as store:
        assert watcher.poll(store) is None
        assert watcher.poll(store).report.added == 1


def test_watch_settles_files_for_two_seconds_by_default():
    help_text = cli("watch", "--help").stdout
    assert "--settle" in help_text and "default: 2.0;" in help_text
    assert "--follow-symlinks" in help_text


# --- 16. implausible dates ------------------------------------------------------------------------

@pytest.mark.parametrize(
    "days_from_today, published, ok",
    [
        (None, "9999-12-31", False),
        (None, "0001-01-01", False),
        (None, "1899-12-31", False),
        (None, "1900-01-01", True),
        (3, None, False),
        (2, None, True),
        (0, None, True),
    ],
)
def test_a_date_far_outside_a_plausible_range_is_refused(tmp_path, days_from_today, published, ok):
    if published is None:
        published = (datetime.date.today() + datetime.timedelta(days=days_from_today)).isoformat()
    path = tmp_path / "a.jsonl"
    path.write_text(jsonl(art("a", published=published)))
    [item] = read_file(path, path)
    if ok:
        assert item.published.isoformat() == published
    else:
        reason = f"published: '{published}' is out of range (1900-01-01 to 2 days from today)"
        assert item == Failure(f"{path}:1", reason)


def test_an_implausible_date_in_a_text_file_is_refused(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("TTXVN - Ngày 31-12-9999, giá vàng tăng mạnh.\n\nNội dung.", "utf-8")
    assert list(read_file(path, path)) == [
        Failure(str(path), "published: 'Ngày 31-12-9999' is out of range (1900-01-01 to 2 days from today)")
    ]


# --- 17. smaller -----------------------------------------------------------------------------------

def test_the_watcher_reports_a_symlink_loop_as_index_does(tmp_path):
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "loop-a.txt").symlink_to("loop-b.txt")
    (feed / "loop-b.txt").symlink_to("loop-a.txt")
    log: list[Failure] = []
    watcher = Watcher(feed, tmp_path / "ix", on_failure=log.append)
    with ArticleStore.open_or_create(tmp_path / "ix") as store:
        assert poll_until_applied(watcher, store).report.failed == 2
    assert [str(f) for f in log] == [
        f"{feed}/loop-a.txt: cannot read: Too many levels of symbolic links",
        f"{feed}/loop-b.txt: cannot read: Too many levels of symbolic links",
    ]


def test_a_duplicate_id_names_both_lines(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(jsonl(art("x"), art("y"), art("x", "Khác.")))
    report = index_paths(tmp_path / "ix", [path])
    assert [str(f) for f in report.failures] == [f"{path}:3: duplicate id 'x' (already read from {path}:1)"]


def test_a_size_just_over_a_limit_is_given_in_bytes(tmp_path):
    path = tmp_path / "a.txt"
    with path.open("wb") as f:
        f.truncate(1_100_000)
    assert list(read_file(path, path)) == [Failure(str(path), "article larger than 1 MB (1,100,000 bytes)")]


def test_display_path_is_stable_and_utf8():
    name = os.fsdecode(b"/tin/caf\xe9-\xc3\xa0.txt")
    assert display_path(name) == display_path(Path(name)) == "/tin/caf\\xe9-à.txt"
    display_path(name).encode("utf-8")
