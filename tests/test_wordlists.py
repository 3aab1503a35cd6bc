"""Editorial word lists: the files' format and errors, merging with the packaged lists, and their use at
query time (library, CLI, and a running app that sees a changed file at its next request)."""

import json
import os

import pytest

from indexer.cli import main
from indexer.errors import WordListError
from indexer.query import parse_query
from indexer.search import search
from indexer.wordlists import WordListFiles, load_word_lists, packaged_lists, read_stopwords, read_synonyms

GOLD = "kim loại quý | vàng\n"  # "precious metal" finds the gold-price articles


def write(path, text: str):
    path.write_text(text, "utf-8")
    return path


def test_synonyms_file_format(tmp_path):
    f = write(tmp_path / "syn.txt", "# a comment\n\nHAGL | Hoàng Anh Gia Lai\nTP.HCM|Sài Gòn\n")
    assert read_synonyms(f) == (
        ((("hagl", "hagl"),), (("hoàng", "hoang"), ("anh", "anh"), ("gia", "gia"), ("lai", "lai"))),
        ((("tp", "tp"), ("hcm", "hcm")), (("sài", "sai"), ("gòn", "gon"))),
    )


@pytest.mark.parametrize(
    "read, text, message",
    [
        (read_synonyms, "HN | Hà Nội\nHAGL\n", '2: one variant only: separate the variants with " | "'),
        (read_synonyms, "# x\nHAGL | \n", "2: variant 2 ('') has no letters or digits"),
        (read_synonyms, "HAGL | ... | Hoàng Anh Gia Lai\n", "1: variant 2 ('...') has no letters or digits"),
        (read_stopwords, "thì\nvà là\n", "2: 2 syllables: a stopword is one syllable"),
        (read_stopwords, "!!\n", "1: no syllable: a stopword is one syllable"),
    ],
)
def test_a_bad_line_is_named_by_file_and_line(tmp_path, read, text, message):
    f = write(tmp_path / "list.txt", text)
    with pytest.raises(WordListError) as e:
        read(f)
    assert str(e.value) == f"{f}:{message}"


def test_a_line_that_is_not_utf8_is_named(tmp_path):
    f = tmp_path / "syn.txt"
    f.write_bytes("HN | Hà Nội\n".encode() + "HAGL | Hoàng Anh\n".encode("cp1258"))
    with pytest.raises(WordListError, match=r"syn\.txt:2: not UTF-8 text$"):
        read_synonyms(f)


def test_stopwords_file_adds_and_removes_in_index_form(tmp_path):
    f = write(tmp_path / "stop.txt", "# ours\nTăng\nhoà\n-trong\n")
    assert read_stopwords(f) == (frozenset({"tăng", "hòa"}), frozenset({"trong"}))


def test_the_files_entries_win_over_the_packaged_ones(tmp_path):
    syn = write(tmp_path / "syn.txt", "HN | Hà Nam\n" + GOLD)
    lists = load_word_lists(syn)
    assert parse_query("HN", lists).alternatives == (((("hn", "hn"),), (("hà", "ha"), ("nam", "nam"))),)
    assert parse_query("HN").alternatives == (((("hn", "hn"),), (("hà", "ha"), ("nội", "noi"))),)
    assert parse_query("UBND", lists) == parse_query("UBND")  # the other packaged groups stay
    assert len(lists.groups) == len(packaged_lists().groups) + 1


def test_stopwords_make_a_long_querys_syllables_optional(tmp_path):
    query = "giá vàng trong nước tăng"
    assert parse_query(query).optional == (("trong", "trong"),)
    lists = load_word_lists(stopwords=write(tmp_path / "stop.txt", "tăng\n-trong\n"))
    assert parse_query(query, lists).optional == (("tăng", "tang"),)


def test_synonyms_change_search_results_without_reindexing(store, tmp_path):
    assert search(store, "kim loại quý", as_typed=True).total == 0  # as typed: a tiny index corrects loại
    lists = load_word_lists(write(tmp_path / "syn.txt", GOLD))
    found = search(store, "kim loại quý", word_lists=lists)
    assert [h.id for h in found.hits] == ["gia-vang-trong-nuoc", "gia-vang-the-gioi"]
    assert "<mark>vàng</mark>" in found.hits[0].snippet


def test_word_list_files_follow_their_file_and_keep_the_last_good_lists(tmp_path):
    syn = write(tmp_path / "syn.txt", "# none yet\n")
    errors = []
    files = WordListFiles(syn, None, errors.append)
    assert files.current() == packaged_lists()
    write(syn, GOLD)
    assert parse_query("kim loại quý", files.current()).alternatives != ()
    good = files.current()
    write(syn, GOLD + "HAGL\n")
    assert files.current() is good and files.current() is good
    assert errors == [f'{syn}:2: one variant only: separate the variants with " | " — still using the word lists read before']
    os.remove(syn)
    assert files.current() is good and len(errors) == 2 and errors[1].startswith(f"{syn}: No such file or directory")


def test_a_bad_file_at_start_is_an_error(tmp_path):
    with pytest.raises(WordListError, match=r"stop\.txt:1: 2 syllables"):
        WordListFiles(None, write(tmp_path / "stop.txt", "và là\n"), print)


def test_cli_search_and_eval_take_word_lists(runner, index_dir, tmp_path):
    syn = write(tmp_path / "syn.txt", GOLD)
    result = runner.invoke(main, ["search", "--index", str(index_dir), "--synonyms", str(syn), "kim", "loại", "quý"])
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == '2 results for "kim loại quý" (page 1 of 1)'
    queries = write(tmp_path / "q.jsonl", '{"id": "q1", "text": "kim loại quý"}\n')
    qrels = write(tmp_path / "qrels.tsv", "q1\tgia-vang-the-gioi\t1\n")
    args = ["eval", "--index", str(index_dir), "--queries", str(queries), "--qrels", str(qrels), "--json"]
    assert json.loads(runner.invoke(main, args).output)["overall"]["S@10"] == 0.0
    assert json.loads(runner.invoke(main, [*args, "--synonyms", str(syn)]).output)["overall"]["S@10"] == 1.0


@pytest.mark.parametrize("command", ["search", "serve"])
def test_cli_refuses_a_bad_line_naming_it(runner, index_dir, tmp_path, command):
    syn = write(tmp_path / "syn.txt", "HN | Hà Nội\nHAGL\n")
    args = [command, "--index", str(index_dir), "--synonyms", str(syn)] + (["giá"] if command == "search" else [])
    result = runner.invoke(main, args)
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == f'Error: {syn}:2: one variant only: separate the variants with " | "'


def test_a_running_app_uses_a_changed_synonyms_file_at_its_next_request(make_app, tmp_path):
    syn = write(tmp_path / "syn.txt", "# the newsroom's synonyms\n")
    client = make_app(SYNONYMS_FILE=syn).test_client()
    assert client.get("/api/search?q=kim+loại+quý&typed=1").get_json()["total"] == 0
    write(syn, GOLD)
    assert [h["id"] for h in client.get("/api/search?q=kim+loại+quý").get_json()["hits"]] == [
        "gia-vang-trong-nuoc", "gia-vang-the-gioi",
    ]
    write(syn, GOLD + "broken\n")
    assert client.get("/api/search?q=kim+loại+quý").get_json()["total"] == 2  # the last good lists

