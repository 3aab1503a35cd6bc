"""Relevance evaluation: query and judgment files, trec_eval metrics, TREC run files.

Works on any system: ``run_queries`` takes a ``search_fn(text) -> [(doc_id, score)]``,
so vnsearch and the peer configurations of the benchmark are scored the same way.

Metrics follow trec_eval's definitions, computed on the ranking as the system
returned it (trec_eval re-sorts a run file by score, which only differs on ties):

- ``nDCG@10``: gain = grade, discount log2(rank + 1), ideal = the query's judged
  grades sorted in decreasing order (``ndcg_cut_10``);
- ``MRR@10``: 1 / rank of the first relevant hit in the top 10, else 0 (``recip_rank``
  on a run cut at 10);
- ``S@1``, ``S@10``: 1 when a relevant hit is in the top 1 / 10 (``success_1``, ``success_10``);
- ``R@100``: relevant hits in the top 100 / relevant judged (``recall_100``).

A document is relevant when its grade is 1 or more; grades of 0 or less give no gain.
Queries without any relevant judgment are left out of the means and listed as
unjudged; a query the system answers with nothing scores 0 everywhere.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Sequence, TextIO

from .errors import VnsearchError

__all__ = [
    "EvaluationError",
    "EvaluationInputError",
    "EvalQuery",
    "Summary",
    "EvaluationReport",
    "METRICS",
    "load_queries",
    "load_qrels",
    "ndcg",
    "reciprocal_rank",
    "success",
    "recall",
    "score_ranking",
    "run_queries",
    "evaluate",
    "write_run",
]

Qrels = dict[str, dict[str, int]]  # query id → doc id → grade
RankedIds = list[tuple[str, float]]  # (doc id, score), best first
Run = dict[str, RankedIds]  # query id → its ranked ids

METRICS = ("nDCG@10", "MRR@10", "S@1", "S@10", "R@100")
RUN_DEPTH = 100


class EvaluationError(VnsearchError):
    """Evaluation could not run (a query failed, a run cannot be written)."""


class EvaluationInputError(EvaluationError):
    """A queries or qrels file is unreadable or malformed; ``location`` is ``path[:line]``."""

    def __init__(self, location: str, reason: str):
        super().__init__(f"{location}: {reason}")
        self.location = location
        self.reason = reason


@dataclass(frozen=True)
class EvalQuery:
    """One query of a test set; ``variant`` groups queries for per-kind figures."""

    id: str
    text: str
    variant: str | None = None


# -- reading ------------------------------------------------------------------


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, line without its end) of a UTF-8 text file."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise EvaluationInputError(str(path), "no such file") from None
    except OSError as e:
        raise EvaluationInputError(str(path), e.strerror or "cannot be read") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for n, raw in enumerate(data.split(b"\n"), start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise EvaluationInputError(f"{path}:{n}", "not UTF-8 text") from None
        yield n, line.rstrip("\r")


def load_queries(path: Path | str) -> list[EvalQuery]:
    """Read a JSON Lines file of ``{"id", "text", "variant"?}`` objects, in file order."""
    path = Path(path)
    queries: list[EvalQuery] = []
    seen: dict[str, int] = {}
    for n, line in _lines(path):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            obj = json.loads(line)
        except ValueError as e:
            raise EvaluationInputError(where, f"not JSON ({e.msg})") from None
        if not isinstance(obj, dict):
            raise EvaluationInputError(where, "not a JSON object")
        qid = obj.get("id")
        if isinstance(qid, bool) or not isinstance(qid, (str, int)) or str(qid).strip() == "":
            raise EvaluationInputError(where, 'missing "id" (a string or an integer)')
        qid = str(qid)
        if any(c.isspace() for c in qid):
            raise EvaluationInputError(where, f"id {qid!r} contains whitespace")
        text = obj.get("text")
        if not isinstance(text, str) or not text.strip():
            raise EvaluationInputError(where, 'missing "text" (a non-empty string)')
        variant = obj.get("variant")
        if variant is not None and (not isinstance(variant, str) or not variant.strip()):
            raise EvaluationInputError(where, '"variant" must be a non-empty string or null')
        if qid in seen:
            raise EvaluationInputError(where, f"duplicate id {qid!r} (first on line {seen[qid]})")
        seen[qid] = n
        queries.append(EvalQuery(qid, text, variant))
    if not queries:
        raise EvaluationInputError(str(path), "no queries")
    return queries


def load_qrels(path: Path | str) -> Qrels:
    """Read judgments: ``query_id<TAB>doc_id<TAB>grade`` lines, no header, or TREC's four-column
    form (``query_id 0 doc_id grade``, any whitespace), so trec_eval's own qrels files can be used."""
    path = Path(path)
    qrels: Qrels = {}
    for n, line in _lines(path):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        cols = line.split("\t")
        if len(cols) != 3:
            cols = line.split()
            if len(cols) != 4:
                raise EvaluationInputError(
                    where, f"expected query_id<TAB>doc_id<TAB>grade, found {len(line.split(chr(9)))} column(s)"
                )
            cols = [cols[0], cols[2], cols[3]]
        qid, doc_id, grade_text = (c.strip() for c in cols)
        if not qid or not doc_id:
            raise EvaluationInputError(where, "empty query id or doc id")
        try:
            grade = int(grade_text)
        except ValueError:
            raise EvaluationInputError(where, f"grade {grade_text!r} is not an integer") from None
        judged = qrels.setdefault(qid, {})
        if doc_id in judged and judged[doc_id] != grade:
            raise EvaluationInputError(
                where, f"{qid} {doc_id} judged twice with different grades ({judged[doc_id]}, {grade})"
            )
        judged[doc_id] = grade
    if not qrels:
        raise EvaluationInputError(str(path), "no judgments")
    return qrels


# -- metrics (one ranking against one query's judgments) ------------------------


def _ids(ranking: Sequence[str] | Sequence[tuple[str, float]]) -> list[str]:
    return [r if isinstance(r, str) else r[0] for r in ranking]


def ndcg(ranking, judged: Mapping[str, int], k: int = 10) -> float:
    """Normalized discounted cumulative gain at ``k`` (trec_eval ``ndcg_cut``)."""
    dcg = sum(max(judged.get(d, 0), 0) / math.log2(r + 1) for r, d in enumerate(_ids(ranking)[:k], start=1))
    ideal_gains = sorted((g for g in judged.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(r + 1) for r, g in enumerate(ideal_gains, start=1))
    return dcg / idcg if idcg else 0.0


def reciprocal_rank(ranking, judged: Mapping[str, int], k: int = 10) -> float:
    """1 / rank of the first relevant document within the top ``k``, else 0."""
    for r, d in enumerate(_ids(ranking)[:k], start=1):
        if judged.get(d, 0) > 0:
            return 1.0 / r
    return 0.0


def success(ranking, judged: Mapping[str, int], k: int) -> float:
    """1.0 when a relevant document is within the top ``k``, else 0.0."""
    return 1.0 if any(judged.get(d, 0) > 0 for d in _ids(ranking)[:k]) else 0.0


def recall(ranking, judged: Mapping[str, int], k: int = 100) -> float:
    """Share of the relevant documents found within the top ``k``."""
    relevant = {d for d, g in judged.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(_ids(ranking)[:k])) / len(relevant)


def score_ranking(ranking, judged: Mapping[str, int]) -> dict[str, float]:
    """Every metric of ``METRICS`` for one query."""
    ids = _dedupe(_ids(ranking))
    return {
        "nDCG@10": ndcg(ids, judged, 10),
        "MRR@10": reciprocal_rank(ids, judged, 10),
        "S@1": success(ids, judged, 1),
        "S@10": success(ids, judged, 10),
        "R@100": recall(ids, judged, 100),
    }


def _dedupe(ids: list[str]) -> list[str]:
    # A document counts once, at its best rank (trec_eval refuses duplicates).
    return list(dict.fromkeys(ids))


# -- running and summarizing ----------------------------------------------------


def run_queries(
    queries: Iterable[EvalQuery],
    search_fn: Callable[[str], Iterable[tuple[str, float]]],
    depth: int = RUN_DEPTH,
) -> Run:
    """Each query's ranking from ``search_fn`` (cut at ``depth``), keyed by query id."""
    run: Run = {}
    for q in queries:
        try:
            hits = search_fn(q.text)
        except VnsearchError as e:
            raise EvaluationError(f"query {q.id} ({q.text!r}): {e}") from e
        run[q.id] = [(str(doc_id), float(score)) for doc_id, score in list(hits)[:depth]]
    return run


@dataclass(frozen=True)
class Summary:
    """Mean metrics over a group of judged queries."""

    name: str
    queries: int
    metrics: dict[str, float]

    def to_json(self) -> dict:
        return {"queries": self.queries, **{m: round(v, 4) for m, v in self.metrics.items()}}


@dataclass(frozen=True)
class EvaluationReport:
    """Overall and per-variant means, per-query figures, and the queries left out."""

    overall: Summary
    variants: tuple[Summary, ...]
    per_query: dict[str, dict[str, float]]
    unjudged: tuple[str, ...] = field(default=())

    def to_json(self) -> dict:
        return {
            "overall": self.overall.to_json(),
            "variants": {s.name: s.to_json() for s in self.variants},
            "unjudged": list(self.unjudged),
            "per_query": {q: {m: round(v, 4) for m, v in ms.items()} for q, ms in self.per_query.items()},
        }

    def table(self) -> str:
        """A plain-text table: one row for all queries, one per variant."""
        rows = [self.overall, *self.variants]
        width = max(len("variant"), *(len(s.name) for s in rows))
        head = f"{'variant':<{width}}  {'queries':>7}" + "".join(f"  {m:>7}" for m in METRICS)
        lines = [head]
        for s in rows:
            lines.append(f"{s.name:<{width}}  {s.queries:>7}" + "".join(f"  {s.metrics[m]:>7.4f}" for m in METRICS))
        return "\n".join(lines)


def _mean(per_query: dict[str, dict[str, float]], ids: list[str], name: str) -> Summary:
    n = len(ids)
    metrics = {m: (sum(per_query[q][m] for q in ids) / n if n else 0.0) for m in METRICS}
    return Summary(name, n, metrics)


def evaluate(queries: Sequence[EvalQuery], qrels: Qrels, run: Mapping[str, RankedIds]) -> EvaluationReport:
    """Score ``run`` against ``qrels`` for every query with a relevant judgment."""
    judged = [q for q in queries if any(g > 0 for g in qrels.get(q.id, {}).values())]
    judged_ids = {q.id for q in judged}
    unjudged = tuple(q.id for q in queries if q.id not in judged_ids)
    per_query = {q.id: score_ranking(run.get(q.id, []), qrels[q.id]) for q in judged}
    overall = _mean(per_query, [q.id for q in judged], "all")
    names = list(dict.fromkeys(q.variant for q in judged if q.variant is not None))
    variants = tuple(_mean(per_query, [q.id for q in judged if q.variant == v], v) for v in names)
    return EvaluationReport(overall, variants, per_query, unjudged)


# -- TREC run files ----------------------------------------------------------------


def write_run(out: TextIO, run: Mapping[str, RankedIds], tag: str = "vnsearch") -> None:
    """Write ``run`` in TREC format: ``qid Q0 docid rank score tag``, ranks from 1."""
    if not tag or any(c.isspace() for c in tag):
        raise EvaluationError(f"run tag {tag!r} must be one word")
    for qid, ranking in run.items():
        for rank, (doc_id, score) in enumerate(ranking, start=1):
            if any(c.isspace() for c in doc_id):
                raise EvaluationError(f"doc id {doc_id!r} contains whitespace: it cannot be written to a TREC run")
            out.write(f"{qid} Q0 {doc_id} {rank} {score:.6f} {tag}\n")
