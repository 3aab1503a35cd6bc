"""The command line: exact output and exit codes."""

import json

import pytest

from indexer.cli import main
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
