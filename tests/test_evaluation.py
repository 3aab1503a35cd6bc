"""Evaluation: metrics against hand-computed values, file parsing, run files, `vnsearch eval`."""

import io
import json
import math
import re

import pytest

from indexer.cli import main
from indexer.errors import QueryError, VnsearchError
from indexer.evaluation import (
    EvalQuery,
    EvaluationError,
    EvaluationInputError,
    evaluate,
    load_qrels,
    load_queries,
    ndcg,
    recall,
    reciprocal_rank,
    run_queries,
    score_ranking,
    success,
    write_run,
)

SEED_ID = "000_5a0c9058e2d22930.txt"

# -- metrics ---------------------------------------------------------------------

GRADED = {"d1": 2, "d2": 1, "d3": 1, "d0": 0}


def test_ndcg_graded_by_hand():
    # Ranking x, d2, d1, y: gains 0, 1, 2, 0 at ranks 1..4, discount log2(rank + 1).
    #   DCG  = 0/log2(2) + 1/log2(3) + 2/log2(4) + 0/log2(5) = 0.63093 + 1.0 = 1.63093
    # Ideal from the qrels: grades 2, 1, 1 (d0's 0 gives nothing).
    #   IDCG = 2/log2(2) + 1/log2(3) + 1/log2(4) = 2 + 0.63093 + 0.5 = 3.13093
    #   nDCG = 1.630930 / 3.130930 = 0.520909
    assert ndcg(["x", "d2", "d1", "y"], GRADED) == pytest.approx(0.520909, abs=1e-6)
    assert ndcg(["x", "d2", "d1", "y"], GRADED) == pytest.approx(
        (1 / math.log2(3) + 2 / math.log2(4)) / (2 + 1 / math.log2(3) + 1 / math.log2(4))
    )


def test_ndcg_perfect_empty_and_cut_at_k():
    # The ideal order itself: DCG = IDCG, so 1.
    assert ndcg(["d1", "d2", "d3"], GRADED) == 1.0
    # d2 and d3 swapped have equal gains: still 1.
    assert ndcg(["d1", "d3", "d2"], GRADED) == 1.0
    # Nothing retrieved, or the only relevant document at rank 11 (past the cut): 0.
    assert ndcg([], {"d1": 1}) == 0.0
    assert ndcg([f"x{i}" for i in range(10)] + ["d1"], {"d1": 1}) == 0.0
    # One relevant document at rank 10: DCG = 1/log2(11) = 0.289065, IDCG = 1/log2(2) = 1.
    assert ndcg([f"x{i}" for i in range(9)] + ["d1"], {"d1": 1}) == pytest.approx(0.289065, abs=1e-6)
    # A judged-non-relevant document at rank 1 gives no gain: DCG = 1/log2(3) = 0.63093, IDCG = 1.
    assert ndcg(["d0", "d1"], {"d0": 0, "d1": 1}) == pytest.approx(0.630930, abs=1e-6)


def test_ndcg_ideal_has_at_most_k_documents():
    # 12 relevant documents (grade 1), the run finds the first 10 in order:
    # DCG@10 = sum_{r=1..10} 1/log2(r+1) = IDCG@10 (the ideal is cut at 10 too), so 1.
    judged = {f"d{i}": 1 for i in range(12)}
    assert ndcg([f"d{i}" for i in range(10)], judged) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "ranking, expected",
    [
        (["d1", "x"], 1.0),  # first relevant at rank 1: 1/1
        (["x", "y", "d3"], 1 / 3),  # rank 3: 1/3 = 0.3333
        (["d0", "x", "y", "z", "d2"], 1 / 5),  # d0 is judged 0, not relevant: rank 5 → 0.2
        ([f"x{i}" for i in range(9)] + ["d1"], 1 / 10),  # rank 10, the last counted: 0.1
        ([f"x{i}" for i in range(10)] + ["d1"], 0.0),  # rank 11: outside the top 10 → 0
        ([], 0.0),
    ],
)
def test_reciprocal_rank(ranking, expected):
    assert reciprocal_rank(ranking, GRADED) == pytest.approx(expected)


def test_success_and_recall():
    ranking = ["x", "d2"] + [f"y{i}" for i in range(97)] + ["d1", "d3"]  # d1 at rank 100, d3 at 101
    assert success(ranking, GRADED, 1) == 0.0  # rank 1 is x
    assert success(ranking, GRADED, 10) == 1.0  # d2 at rank 2
    # 3 relevant documents (d1, d2, d3; d0 is graded 0): d2 and d1 within 100 → 2/3.
    assert recall(ranking, GRADED, 100) == pytest.approx(2 / 3)
    assert recall(ranking, {"d0": 0}, 100) == 0.0


def test_score_ranking_counts_a_repeated_document_once():
    # (d1, d1, d2): the second d1 is dropped, so d2 sits at rank 2, not 3.
    # DCG = 2/log2(2) + 1/log2(3) = 2.63093; IDCG = 3.13093 (as above) → 0.840303.
    scores = score_ranking([("d1", 3.0), ("d1", 2.0), ("d2", 1.0)], GRADED)
    assert scores == pytest.approx(
        {"nDCG@10": 0.840303, "MRR@10": 1.0, "S@1": 1.0, "S@10": 1.0, "R@100": 2 / 3}, abs=1e-6
    )


def test_evaluate_means_overall_and_per_variant():
    queries = [
        EvalQuery("q1", "a", "diacritics"),
        EvalQuery("q2", "b", "diacritics"),
        EvalQuery("q3", "c", "no_diacritics"),
        EvalQuery("q4", "d", "no_diacritics"),  # no judgment: left out
        EvalQuery("q5", "e", "partial_name"),  # judged 0 only: left out
    ]
    qrels = {"q1": {"t1": 1}, "q2": {"t2": 1}, "q3": {"t3": 1}, "q5": {"t5": 0}, "q9": {"t9": 1}}
    run = {
        "q1": [("t1", 9.0)],  # rank 1: RR 1, nDCG 1, S@1 1
        "q2": [("x", 9.0), ("t2", 8.0)],  # rank 2: RR 1/2, nDCG 1/log2(3) = 0.63093, S@1 0
        # q3: not in the run at all → every metric 0
    }
    report = evaluate(queries, qrels, run)
    assert report.unjudged == ("q4", "q5")
    assert report.overall.name == "all" and report.overall.queries == 3
    # Means over q1, q2, q3: MRR (1 + 0.5 + 0) / 3 = 0.5; nDCG (1 + 0.63093 + 0) / 3 = 0.54364;
    # S@1 (1 + 0 + 0) / 3; S@10 and R@100 (1 + 1 + 0) / 3.
    assert report.overall.metrics == pytest.approx(
        {"nDCG@10": 0.543643, "MRR@10": 0.5, "S@1": 1 / 3, "S@10": 2 / 3, "R@100": 2 / 3}, abs=1e-6
    )
    diacritics, no_diacritics = report.variants
    assert (diacritics.name, diacritics.queries, no_diacritics.name, no_diacritics.queries) == (
        "diacritics", 2, "no_diacritics", 1,
    )
    # diacritics: MRR (1 + 0.5) / 2 = 0.75, nDCG (1 + 0.63093) / 2 = 0.815465.
    assert diacritics.metrics["MRR@10"] == 0.75
    assert diacritics.metrics["nDCG@10"] == pytest.approx(0.815465, abs=1e-6)
    assert no_diacritics.metrics == {"nDCG@10": 0.0, "MRR@10": 0.0, "S@1": 0.0, "S@10": 0.0, "R@100": 0.0}
    assert report.to_json()["variants"]["diacritics"] == {
        "queries": 2, "nDCG@10": 0.8155, "MRR@10": 0.75, "S@1": 0.5, "S@10": 1.0, "R@100": 1.0,
    }


def test_evaluate_without_variants_has_only_the_overall_row():
    report = evaluate([EvalQuery("1", "a")], {"1": {"t": 1}}, {"1": [("t", 1.0)]})
    assert report.variants == ()
    assert report.table() == (
        "variant  queries  nDCG@10   MRR@10      S@1     S@10    R@100\n"
        "all            1   1.0000   1.0000   1.0000   1.0000   1.0000"
    )


# -- running queries and writing runs ---------------------------------------------------


def test_run_queries_calls_the_search_function_and_cuts_at_depth():
    seen = []

    def search_fn(text):
        seen.append(text)
        return [(f"{text}-{i}", 10.0 - i) for i in range(5)]

    run = run_queries([EvalQuery("1", "a"), EvalQuery("2", "b")], search_fn, depth=3)
    assert seen == ["a", "b"]
    assert run == {"1": [("a-0", 10.0), ("a-1", 9.0), ("a-2", 8.0)], "2": [("b-0", 10.0), ("b-1", 9.0), ("b-2", 8.0)]}


def test_run_queries_names_the_query_that_failed():
    def search_fn(text):
        raise QueryError("q", "query longer than 500 characters")

    with pytest.raises(EvaluationError) as e:
        run_queries([EvalQuery("q7", "xyz")], search_fn)
    assert str(e.value) == "query q7 ('xyz'): q: query longer than 500 characters"


def test_write_run_trec_format():
    out = io.StringIO()
    write_run(out, {"q1": [("d1", 12.5), ("d2", 3.0)], "q2": [], "q3": [("d3", -0.25)]}, tag="peer")
    assert out.getvalue() == (
        "q1 Q0 d1 1 12.500000 peer\n"
        "q1 Q0 d2 2 3.000000 peer\n"
        "q3 Q0 d3 1 -0.250000 peer\n"
    )


def test_write_run_refuses_ids_that_would_break_the_format():
    with pytest.raises(EvaluationError, match="doc id 'a b.txt' contains whitespace"):
        write_run(io.StringIO(), {"q1": [("a b.txt", 1.0)]})
    with pytest.raises(EvaluationError, match="run tag 'my run' must be one word"):
        write_run(io.StringIO(), {}, tag="my run")


# -- reading files -------------------------------------------------------------------


def test_load_queries(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"id": "q1", "text": "Trương Thị Mai", "variant": "diacritics"}\n'
        "\n"
        '{"id": 2, "text": "truong thi mai", "variant": null, "note": "ignored"}\n',
        "utf-8",
    )
    assert load_queries(path) == [
        EvalQuery("q1", "Trương Thị Mai", "diacritics"),
        EvalQuery("2", "truong thi mai", None),
    ]


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"id": "q1", "text": "a"}\n{"id": "q2", "text": "b"', "{path}:2: not JSON (Expecting ',' delimiter)"),
        ('["q1", "a"]', "{path}:1: not a JSON object"),
        ('{"text": "a"}', '{path}:1: missing "id" (a string or an integer)'),
        ('{"id": true, "text": "a"}', '{path}:1: missing "id" (a string or an integer)'),
        ('{"id": "q 1", "text": "a"}', "{path}:1: id 'q 1' contains whitespace"),
        ('{"id": "q1", "text": "  "}', '{path}:1: missing "text" (a non-empty string)'),
        ('{"id": "q1", "text": 5}', '{path}:1: missing "text" (a non-empty string)'),
        ('{"id": "q1", "text": "a", "variant": 3}', '{path}:1: "variant" must be a non-empty string or null'),
        ('{"id": "q1", "text": "a"}\n\n{"id": "q1", "text": "b"}', "{path}:3: duplicate id 'q1' (first on line 1)"),
        ("\n\n", "{path}: no queries"),
    ],
)
def test_bad_queries_files(tmp_path, content, message):
    path = tmp_path / "q.jsonl"
    path.write_text(content, "utf-8")
    with pytest.raises(EvaluationInputError) as e:
        load_queries(path)
    assert str(e.value) == message.format(path=path)
    assert isinstance(e.value, VnsearchError)


def test_queries_file_not_utf8_or_missing(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_bytes(b'{"id": "q1", "text": "a"}\n{"id": "q2", "text": "gi\xe1"}\n')
    with pytest.raises(EvaluationInputError, match=re.escape(f"{path}:2: not UTF-8 text")):
        load_queries(path)
    with pytest.raises(EvaluationInputError, match=re.escape(f"{tmp_path / 'none.jsonl'}: no such file")):
        load_queries(tmp_path / "none.jsonl")


def test_load_qrels_tsv_and_trec_forms(tmp_path):
    path = tmp_path / "q.tsv"
    path.write_text("q1\td1\t2\r\nq1\td2\t0\n\nq2\tbaomoi 1.txt\t1\nq3 0 d3 1\nq1\td1\t2\n", "utf-8")
    assert load_qrels(path) == {"q1": {"d1": 2, "d2": 0}, "q2": {"baomoi 1.txt": 1}, "q3": {"d3": 1}}


@pytest.mark.parametrize(
    "content, message",
    [
        ("q1\td1\t1\nq1\td2\n", "{path}:2: expected query_id<TAB>doc_id<TAB>grade, found 2 column(s)"),
        ("q1 d1 1\n", "{path}:1: expected query_id<TAB>doc_id<TAB>grade, found 1 column(s)"),
        ("q1\td1\thigh\n", "{path}:1: grade 'high' is not an integer"),
        ("q1\t\t1\n", "{path}:1: empty query id or doc id"),
        ("q1\td1\t1\nq1\td1\t2\n", "{path}:2: q1 d1 judged twice with different grades (1, 2)"),
        ("", "{path}: no judgments"),
    ],
)
def test_bad_qrels_files(tmp_path, content, message):
    path = tmp_path / "q.tsv"
    path.write_text(content, "utf-8")
    with pytest.raises(EvaluationInputError) as e:
        load_qrels(path)
    assert str(e.value) == message.format(path=path)


# -- vnsearch eval on the fixture index --------------------------------------------------

QUERIES = [
    # The seed article is the only one holding all three syllables, typed either way.
    {"id": "mai", "text": "Trương Thị Mai", "variant": "diacritics"},
    {"id": "mai-folded", "text": "truong thi mai", "variant": "no_diacritics"},
    # Judged relevant: an article with neither "thuỷ" nor "điện" → not found, all zeros.
    {"id": "thuy-dien", "text": "thuỷ điện", "variant": "diacritics"},
    {"id": "vang", "text": "giá vàng"},  # no judgment: left out
]
QRELS = f"mai\t{SEED_ID}\t1\nmai-folded\t{SEED_ID}\t1\nthuy-dien\thoa-binh-moi\t1\n"


@pytest.fixture()
def eval_files(tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in QUERIES), "utf-8")
    qrels = tmp_path / "q.tsv"
    qrels.write_text(QRELS, "utf-8")
    return queries, qrels


def test_cli_eval_table(runner, index_dir, eval_files, tmp_path):
    queries, qrels = eval_files
    run_file = tmp_path / "out.trec"
    result = runner.invoke(
        main,
        ["eval", "--index", str(index_dir), "--queries", str(queries), "--qrels", str(qrels), "--run", str(run_file)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    # all: (1 + 1 + 0) / 3 = 0.6667 for every metric; diacritics: (1 + 0) / 2 = 0.5.
    assert result.output == (
        f"3 judged queries from {queries}, index {index_dir}/\n"
        "Left out, no relevant judgment: 1 (vang)\n"
        "\n"
        "variant        queries  nDCG@10   MRR@10      S@1     S@10    R@100\n"
        "all                  3   0.6667   0.6667   0.6667   0.6667   0.6667\n"
        "diacritics           2   0.5000   0.5000   0.5000   0.5000   0.5000\n"
        "no_diacritics        1   1.0000   1.0000   1.0000   1.0000   1.0000\n"
    )
    lines = run_file.read_text("utf-8").splitlines()
    assert [line.split()[:4] for line in lines if line.startswith("mai ")] == [["mai", "Q0", SEED_ID, "1"]]
    assert all(re.fullmatch(r"\S+ Q0 \S+ [1-9]\d* -?\d+\.\d{6} vnsearch", line) for line in lines)
    assert {line.split()[0] for line in lines} <= {"mai", "mai-folded", "thuy-dien", "vang"}
    assert "thuy-dien-cu" in {line.split()[2] for line in lines if line.startswith("thuy-dien ")}


def test_cli_eval_json(runner, index_dir, eval_files):
    queries, qrels = eval_files
    result = runner.invoke(
        main, ["eval", "--index", str(index_dir), "--queries", str(queries), "--qrels", str(qrels), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["overall"] == {"queries": 3, "nDCG@10": 0.6667, "MRR@10": 0.6667, "S@1": 0.6667,
                               "S@10": 0.6667, "R@100": 0.6667}
    assert list(data["variants"]) == ["diacritics", "no_diacritics"]
    assert data["unjudged"] == ["vang"]
    assert data["per_query"]["thuy-dien"]["MRR@10"] == 0.0
    assert (data["index"], data["queries"], data["qrels"]) == (str(index_dir), str(queries), str(qrels))


def test_cli_eval_bad_file_is_a_clear_error(runner, index_dir, eval_files):
    queries, qrels = eval_files
    qrels.write_text("mai\tx\n", "utf-8")
    result = runner.invoke(main, ["eval", "--index", str(index_dir), "--queries", str(queries), "--qrels", str(qrels)])
    assert (result.exit_code, result.output) == (
        1, f"Error: {qrels}:1: expected query_id<TAB>doc_id<TAB>grade, found 2 column(s)\n"
    )


def test_cli_eval_missing_index(runner, tmp_path, eval_files):
    queries, qrels = eval_files
    missing = tmp_path / "missing"
    result = runner.invoke(main, ["eval", "--index", str(missing), "--queries", str(queries), "--qrels", str(qrels)])
    assert (result.exit_code, result.output) == (
        1, f"Error: No index at {missing}/ — run: vnsearch index --index {missing} PATH…\n"
    )
