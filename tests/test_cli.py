"""The command line: exact output and exit codes."""

import json
import signal
import sys

import click
import pytest

from indexer.cli import main
from indexer.store import ArticleStore
from support import without_timing

SEED_ID = "000_5a0c9058e2d22930.txt"


def run(runner, *args, env=None):
    return runner.invoke(main, list(args), env=env, catch_exceptions=False)


def test_search_prints_ranked_hits_with_plain_markers(runner, index_dir):
    result = run(runner, "search", "--index", str(index_dir), "giá", "vàng", "-nước")
    assert result.exit_code == 0
    assert result.output == (
        '1 result for "giá vàng -nước" (page 1 of 1)\n'
        "\n"
        "1. Giá vàng thế giới tăng vọt\n"
        "   vnexpress.net · 2024-02-01 · gia-vang-the-gioi\n"
        "   **Giá vàng** thế giới lên mức cao nhất trong một năm & nhà đầu tư đổ xô mua vào.\n"
    )


def test_search_without_diacritics_and_fallback_note(runner, index_dir):
    result = run(runner, "search", "--index", str(index_dir), "--limit", "1", "hoa binh", "vang")
    assert result.exit_code == 0
    assert result.output.splitlines()[:4] == [
        '4 results for "hoa binh vang" (page 1 of 4)',
        "No article has every word: showing articles with some of them.",
        'Did you mean "hòa bình vàng"?',
        "",
    ]


def test_search_json(runner, index_dir):
    result = run(runner, "search", "--index", str(index_dir), "--json", "--source", "TCCS", "Trương Thị Mai")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert (data["query"], data["total"], data["page"], data["matched_all"]) == ("Trương Thị Mai", 1, 1, True)
    (hit,) = data["hits"]
    assert {k: hit[k] for k in ("id", "title", "url", "source", "published", "author")} == {
        "id": SEED_ID,
        "title": "Ban Tổ chức Trung ương tổ chức Hội nghị tổng kết công tác năm 2023, triển khai nhiệm vụ năm 2024",
        "url": None,
        "source": "TCCS",
        "published": "2023-12-28",
        "author": "Thùy Linh (tổng hợp)",
    }
    assert hit["snippet"].startswith("… ") and "<mark>Trương Thị Mai</mark>" in hit["snippet"]


def test_optimize_merges_the_index_into_one_segment(runner, tmp_path, corpus_dir):
    ix = tmp_path / "ix"
    for name in ("news.jsonl", SEED_ID):  # two runs, two segments
        run(runner, "index", "--index", str(ix), str(corpus_dir / name))
    result = run(runner, "optimize", "--index", str(ix))
    assert result.exit_code == 0
    assert result.output.startswith("segments: 2 → 1 (") and result.output.endswith(" s)\n")
    assert run(runner, "optimize", "--index", str(ix)).output.startswith("segments: 1 → 1 (")


def test_index_default_comes_from_the_environment(runner, tmp_path, corpus_dir):
    ix = tmp_path / "env-ix"
    result = run(runner, "index", str(corpus_dir / "news.jsonl"), env={"VNSEARCH_INDEX": str(ix)})
    assert (result.exit_code, without_timing(result.output)) == (0, "added 8, updated 0, unchanged 0, deleted 0, failed 0\n")
    result = run(runner, "stats", "--json", env={"VNSEARCH_INDEX": str(ix)})
    stats = json.loads(result.output)
    assert stats["articles"] == 8 and stats["index"] == str(ix)
    assert (stats["first_published"], stats["last_published"]) == ("2022-12-20", "2024-03-02")
    assert stats["sources"] == {"baomoi.com": 3, "dantri.com.vn": 2, "vnexpress.net": 2, "vietnews": 1}


def test_index_reports_failures_and_exits_non_zero(runner, tmp_path):
    (tmp_path / "ok.txt").write_text("Tiêu đề\n\nNội dung bài viết.", "utf-8")
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00")
    result = runner.invoke(main, ["index", "--index", str(tmp_path / "ix"), str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr == f"{tmp_path}/bad.txt: binary file\n"
    assert without_timing(result.stdout) == "added 1, updated 0, unchanged 0, deleted 0, failed 1\n"


def test_delete(runner, tmp_path, corpus_dir):
    ix = str(tmp_path / "ix")
    run(runner, "index", "--index", ix, str(corpus_dir / "news.jsonl"))
    assert run(runner, "delete", "--index", ix, "lai-suat").output == "deleted lai-suat\n"
    result = runner.invoke(main, ["delete", "--index", ix, "lai-suat"])
    assert (result.exit_code, result.output) == (1, f"Error: No article with id 'lai-suat' in {ix}/\n")
    assert json.loads(run(runner, "stats", "--json", "--index", ix).output)["articles"] == 7


@pytest.mark.parametrize(
    "args, message",
    [
        (["search", "x"], "Error: No index at {missing}/ — run: vnsearch index --index {missing} PATH…"),
        (["stats"], "Error: No index at {missing}/ — run: vnsearch index --index {missing} PATH…"),
        (["optimize"], "Error: No index at {missing}/ — run: vnsearch index --index {missing} PATH…"),
        (["delete", "x"], "Error: No index at {missing}/ — run: vnsearch index --index {missing} PATH…"),
    ],
)
def test_missing_index_is_a_clear_error(runner, tmp_path, args, message):
    missing = tmp_path / "missing"
    result = runner.invoke(main, args[:1] + ["--index", str(missing)] + args[1:])
    assert result.exit_code == 1
    assert result.output == message.format(missing=missing) + "\n"


@pytest.mark.parametrize(
    "args, exit_code, fragment",
    [
        (["--page", "0", "x"], 2, "Invalid value for '--page'"),
        (["--limit", "101", "x"], 2, "Invalid value for '--limit' (env var: 'VNSEARCH_LIMIT'): 101 is not in the range 1<=x<=100."),
        (["--sort", "oldest", "x"], 2, "Invalid value for '--sort'"),
        (["--since", "31-31-2024", "x"], 2, "'31-31-2024' is not a date (use YYYY-MM-DD)"),
        (["a" * 501], 1, "Error: q: query longer than 500 characters"),
    ],
)
def test_bad_search_parameters(runner, index_dir, args, exit_code, fragment):
    # Click refuses what its option types can tell (exit 2); the library the rest (exit 1).
    result = runner.invoke(main, ["search", "--index", str(index_dir)] + args)
    assert result.exit_code == exit_code
    assert fragment in result.output


@pytest.mark.parametrize("query", ['"', "-", "((", "\x1b[2J", "AND OR NOT", "*:*", "title:x"])
def test_odd_queries_print_results_not_tracebacks(runner, index_dir, query):
    result = runner.invoke(main, ["search", "--index", str(index_dir), "--", query])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(("0 results", "1 result", "2 results", "3 results"))


def test_matches_are_bold_on_a_terminal(runner, index_dir, monkeypatch):
    monkeypatch.setattr("indexer.cli._stdout_is_terminal", lambda: True)
    result = run(runner, "search", "--index", str(index_dir), "khoẻ khoắn")
    assert result.output.splitlines()[-1] == (
        "   Hòa Bình có nhiều bản làng đẹp, khách đến đây để hòa mình vào thiên nhiên và "
        "\x1b[1mkhỏe khoắn\x1b[22m hơn."
    )


def test_search_does_not_load_pyvi(index_dir):
    import subprocess
    import sys

    code = (
        "import sys; from click.testing import CliRunner; from indexer.cli import main; "
        f"r = CliRunner().invoke(main, ['search', '--index', {str(index_dir)!r}, 'Trương Thị Mai']); "
        "assert r.exit_code == 0 and '1 result' in r.output, r.output; "
        "print('pyvi' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "False\n"



def test_search_replaces_a_lone_surrogate_in_the_query(runner, index_dir):
    result = run(runner, "search", "--index", str(index_dir), "--limit", "1", "\ud800", "vàng")
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == '2 results for "\ufffd vàng" (page 1 of 2)'


# --- manners ----------------------------------------------------------------------------------

def _commands():
    return [("", main), *sorted(main.commands.items())]


@pytest.mark.parametrize("name, command", _commands())
def test_every_option_has_help_and_h_is_help(runner, name, command):
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"vnsearch {name} {param.opts[0]} has no help text"
    result = runner.invoke(main, [name, "-h"] if name else ["-h"])
    assert result.exit_code == 0 and result.output.startswith("Usage: ")


def test_help_loads_neither_whoosh_numpy_nor_pyvi():
    import subprocess
    import sys

    code = (
        "import sys; from click.testing import CliRunner; from indexer.cli import main; "
        "outs = [CliRunner().invoke(main, args).exit_code for args in (['--help'], ['index', '--help'], ['search', '-h'])]; "
        "print(outs, sorted(m for m in ('numpy', 'whoosh', 'pyvi', 'indexer.store') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "[0, 0, 0] []\n"


@pytest.mark.parametrize(
    "env, args, bold",
    [
        ({}, [], True),
        ({"NO_COLOR": "1"}, [], False),
        ({"NO_COLOR": ""}, [], True),  # set but empty: no-color.org says ignore it
        ({"NO_COLOR": "1"}, ["--color"], True),
        ({}, ["--no-color"], False),
        ({"VNSEARCH_COLOR": "0"}, [], False),
    ],
)
def test_no_color_and_the_color_flags(runner, index_dir, monkeypatch, env, args, bold):
    monkeypatch.setattr("indexer.cli._stdout_is_terminal", lambda: True)
    result = run(runner, *args, "search", "--index", str(index_dir), "khoẻ khoắn", env=env)
    assert ("\x1b[1mkhỏe khoắn\x1b[22m" in result.output) is bold
    assert ("**khỏe khoắn**" in result.output) is not bold  # without colour, the pipe's markers


def test_color_on_a_pipe_when_asked(runner, index_dir):
    result = run(runner, "--color", "search", "--index", str(index_dir), "khoẻ khoắn")
    assert "\x1b[1mkhỏe khoắn\x1b[22m" in result.output


def test_a_page_past_the_end_says_so_and_names_the_last(runner, index_dir):
    result = runner.invoke(main, ["search", "--index", str(index_dir), "--limit", "3", "--page", "500", "hoa binh", "vang"])
    assert (result.exit_code, result.output) == (
        1, 'Error: Page 500 is past the end: 4 results for "hoa binh vang" fill 2 pages of 3; the last is --page 2\n'
    )
    result = runner.invoke(main, ["search", "--index", str(index_dir), "--page", "2", "xyzzyqua"])
    assert (result.exit_code, result.output.splitlines()[0]) == (0, '0 results for "xyzzyqua" (page 2 of 1)')


# --- configuration: flag > environment > file > default ----------------------------------------

def _hits(runner, index_dir, *args, env=None):
    result = run(runner, *args, "search", "--json", "--index", str(index_dir), "hoa binh", "vang", env=env)
    assert result.exit_code == 0, result.output
    return len(json.loads(result.output)["hits"])


def test_precedence_flag_environment_file_default(runner, index_dir, tmp_path):
    config = tmp_path / "vnsearch.toml"
    config.write_text("[search]\nlimit = 2\n", "utf-8")
    file = ["--config", str(config)]
    assert _hits(runner, index_dir) == 4  # the default, 10
    assert _hits(runner, index_dir, *file) == 2
    assert _hits(runner, index_dir, *file, env={"VNSEARCH_LIMIT": "3"}) == 3
    assert _hits(runner, index_dir, env={"VNSEARCH_LIMIT": "3", "VNSEARCH_CONFIG": str(config)}) == 3
    assert _hits(runner, index_dir, env={"VNSEARCH_CONFIG": str(config)}) == 2
    result = run(runner, *file, "search", "--json", "--limit", "1", "--index", str(index_dir), "hoa binh", "vang",
                 env={"VNSEARCH_LIMIT": "3"})
    assert len(json.loads(result.output)["hits"]) == 1


def test_a_top_level_key_sets_every_command_that_has_it_and_a_table_wins(runner, tmp_path, corpus_dir):
    ix, other = tmp_path / "ix", tmp_path / "other"
    config = tmp_path / "vnsearch.toml"
    config.write_text(f'index = "{ix}"\nquiet = true\n[stats]\nindex = "{other}"\n', "utf-8")
    result = run(runner, "--config", str(config), "index", str(corpus_dir / "news.jsonl"))
    assert without_timing(result.output) == "added 8, updated 0, unchanged 0, deleted 0, failed 0\n"
    assert json.loads(run(runner, "search", "--json", "--index", str(ix), "vàng").output)["total"] > 0
    result = runner.invoke(main, ["--config", str(config), "stats"])
    assert result.output == f"Error: No index at {other}/ — run: vnsearch index --index {other} PATH…\n"


@pytest.mark.parametrize(
    "text, message",
    [
        ("colour = true\n", "Error: {f}: unknown setting 'colour' (see vnsearch COMMAND --help)"),
        ("[search]\nport = 80\n", "Error: {f}: [search] 'port': vnsearch search has no such setting"),
        ("[search]\nlimit = \"many\"\n", "Error: {f}: [search] limit: 'many' is not a valid integer range."),
        ("[search]\nlimit = 500\n", "Error: {f}: [search] limit: 500 is not in the range 1<=x<=100."),
        ("port = true\n", "Error: {f}: port: true is not a value this option takes"),
        ("limit = [1, 2]\n", "Error: {f}: limit: [1, 2] is not a single value"),
        ("[search\n", "Error: {f}: not TOML: Expected ']' at the end of a table declaration (at line 1, column 8)"),
    ],
)
def test_a_bad_key_or_value_in_the_file_names_the_file_and_the_key(runner, tmp_path, text, message):
    config = tmp_path / "vnsearch.toml"
    config.write_text(text, "utf-8")
    result = runner.invoke(main, ["--config", str(config), "stats"])
    assert (result.exit_code, result.output) == (1, message.format(f=config) + "\n")


def test_a_missing_config_file_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(main, ["stats"], env={"VNSEARCH_CONFIG": str(tmp_path / "nope.toml")})
    assert (result.exit_code, result.output) == (
        1, f"Error: Cannot read the configuration file {tmp_path / 'nope.toml'}: No such file or directory\n"
    )


def test_the_configuration_page_lists_every_setting():
    from pathlib import Path

    from indexer.config import settings_table

    readme = (Path(__file__).resolve().parent.parent / "docs" / "configuration.md").read_text("utf-8")
    assert settings_table(main) in readme, (
        "docs/configuration.md's settings table is out of date: replace it with the output of "
        "python -c 'from indexer.config import settings_table; from indexer.cli import main; print(settings_table(main))'"
    )


# --- index: --json, skipped files, .ndjson, stdin; delete and optimize --json -----------------------------

def test_index_json_counts_failures_and_skipped_files(runner, tmp_path):
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "a.ndjson").write_text('{"id": "a", "body": "Giá vàng tăng."}\n{"id": "b"}\n', "utf-8")
    for name in ("x.html", "y.HTML", "notes.md", "LICENSE"):
        (feed / name).write_text("x", "utf-8")
    result = runner.invoke(main, ["index", "--json", "--index", str(tmp_path / "ix"), str(feed)])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data.pop("seconds") >= 0 and data.pop("articles_per_second") >= 0
    assert data == {
        "index": str(tmp_path / "ix"), "added": 1, "updated": 0, "unchanged": 0, "deleted": 0, "failed": 1, "kept": 0,
        "skipped": {"(no extension)": 1, ".html": 2, ".md": 1},
        "failures": [{"location": f"{feed}/a.ndjson:2", "reason": "no body"}],
        "stopped": None,
    }
    result = runner.invoke(main, ["index", "--index", str(tmp_path / "ix"), str(feed)])
    assert without_timing(result.stdout) == (
        "skipped 4 files: .html ×2, (no extension) ×1, .md ×1\n"
        "added 0, updated 0, unchanged 1, deleted 0, failed 1\n"
    )


def test_index_reads_json_lines_from_stdin(runner, tmp_path):
    lines = '{"id": "s1", "body": "Giá vàng tăng."}\n\n{"body": "Lãi suất giảm."}\nnot json\n'
    result = runner.invoke(main, ["index", "--index", str(tmp_path / "ix"), "-"], input=lines)
    assert result.exit_code == 1
    assert result.stderr == "<stdin>:4: invalid JSON: Expecting value (column 1)\n"
    assert without_timing(result.stdout) == "added 2, updated 0, unchanged 0, deleted 0, failed 1\n"
    ids = [h["id"] for h in json.loads(run(runner, "search", "--json", "--index", str(tmp_path / "ix"), "giá vàng", "lãi suất").output)["hits"]]
    assert sorted(ids) == ["s1", "stdin:3"]


def test_delete_and_optimize_json(runner, tmp_path, corpus_dir):
    ix = str(tmp_path / "ix")
    for name in ("news.jsonl", SEED_ID):
        run(runner, "index", "--index", ix, str(corpus_dir / name))
    result = run(runner, "delete", "--json", "--index", ix, "lai-suat")
    assert json.loads(result.output) == {"index": ix, "deleted": 1, "failed": 0, "failures": []}
    result = runner.invoke(main, ["delete", "--json", "--index", ix, "lai-suat"])
    assert result.exit_code == 1
    assert json.loads(result.output) == {
        "index": ix, "deleted": 0, "failed": 1,
        "failures": [{"id": "lai-suat", "reason": f"No article with id 'lai-suat' in {ix}/"}],
    }
    data = json.loads(run(runner, "optimize", "--json", "--index", ix).output)
    assert data.pop("seconds") >= 0
    assert data == {"index": ix, "segments_before": 2, "segments_after": 1, "stopped": None}


@pytest.mark.parametrize("signals, status, lines", [
    ([signal.SIGTERM], 143, ["SIGTERM: stopping once the merge under way is done (again to abandon it)",
                             "stopped: the merge was done"]),
    ([signal.SIGINT, signal.SIGINT], 130, ["SIGINT: stopping once the merge under way is done (again to abandon it)",
                                           "stopped: the merge abandoned; {ix}/ is as it was"]),
])
def test_optimize_stops_on_signals(runner, tmp_path, corpus_dir, monkeypatch, signals, status, lines):
    import os

    import indexer.ingest

    ix = tmp_path / "ix"
    for name in ("news.jsonl", SEED_ID):
        run(runner, "index", "--index", str(ix), str(corpus_dir / name))
    real = indexer.ingest.optimize

    def signalled(store, **kwargs):
        for sig in signals:
            os.kill(os.getpid(), sig)  # handled in this thread, before the next line
        return real(store, **kwargs)

    monkeypatch.setattr(indexer.ingest, "optimize", signalled)
    result = runner.invoke(main, ["optimize", "--index", str(ix)])
    assert result.exit_code == status
    assert result.stderr.splitlines() == [line.format(ix=ix) for line in lines]
    with ArticleStore.open(ix) as store:
        assert store.segment_count() == (1 if len(signals) == 1 else 2)


# --- platforms --------------------------------------------------------------------------------

def test_a_missing_signal_is_a_clear_error(runner, tmp_path, corpus_dir, monkeypatch):
    import signal as signal_module

    monkeypatch.delattr(signal_module, "SIGTERM")
    result = runner.invoke(main, ["index", "--index", str(tmp_path / "ix"), str(corpus_dir / "news.jsonl")])
    assert (result.exit_code, result.output) == (
        1, f"Error: This command needs signal.SIGTERM, which this platform ({sys.platform}) lacks: "
           "vnsearch runs on Linux, and on macOS (see the README's Platforms)\n",
    )


def test_a_missing_posix_module_is_a_clear_error(runner, index_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "resource", None)  # `import resource` fails, as on Windows
    monkeypatch.delitem(sys.modules, "search_ui.server", raising=False)
    result = runner.invoke(main, ["serve", "--index", str(index_dir), "--port", "1"])
    assert (result.exit_code, result.output.splitlines()[-1]) == (
        1, f"Error: This command needs the resource module, which this platform ({sys.platform}) lacks: "
           "vnsearch runs on Linux, and on macOS (see the README's Platforms)",
    )


def test_no_c_library_by_no_name_means_the_two_rename_swap(runner, tmp_path, corpus_dir, monkeypatch):
    import ctypes

    def windows_cdll(name, *args, **kwargs):
        if name is None:
            raise TypeError("LoadLibrary() argument 1 must be str, not None")
        return real(name, *args, **kwargs)

    real = ctypes.CDLL
    monkeypatch.setattr(ctypes, "CDLL", windows_cdll)
    ix = str(tmp_path / "ix")
    run(runner, "index", "--index", ix, str(corpus_dir / "news.jsonl"))
    result = run(runner, "index", "--rebuild", "--workers", "1", "--index", ix, str(corpus_dir / "news.jsonl"))
    assert without_timing(result.output) == "added 8, updated 0, unchanged 0, deleted 0, failed 0\n"


@pytest.mark.parametrize("args", [["-"], ["{feed}"], ["{empty}"]])
def test_the_bar_takes_an_input_of_unknown_or_no_size(runner, tmp_path, monkeypatch, args):
    monkeypatch.setattr("indexer.cli._stderr_is_terminal", lambda: True)
    (tmp_path / "feed.jsonl").write_text('{"id": "s1", "body": "Giá vàng tăng."}\n', "utf-8")
    (tmp_path / "empty").mkdir()
    paths = [a.format(feed=tmp_path / "feed.jsonl", empty=tmp_path / "empty") for a in args]
    stdin = '{"id": "s1", "body": "Giá vàng tăng."}\n'
    result = runner.invoke(main, ["index", "--index", str(tmp_path / "ix"), *paths], input=stdin, catch_exceptions=False)
    assert result.exit_code == 0
    expected = "added 0, updated 0, unchanged 0" if "empty" in paths[0] else "added 1, updated 0, unchanged 0"
    assert without_timing(result.stdout).startswith(expected)
