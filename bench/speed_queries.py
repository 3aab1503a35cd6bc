"""Realistic queries for the speed benchmark: runs of 2–6 adjacent syllables of the corpus, fixed seed,
of four kinds (titles, bodies, quoted phrases, very common syllables), every other one folded.
"""

from __future__ import annotations

import random
import re
from dataclasses import asdict, dataclass

KINDS = ("title", "body", "phrase", "common")
WEIGHTS = (3, 3, 2, 2)  # of every 10 queries
COMMON = frozenset(
    "của người dân là các và có được trong cho những với không một này đã để khi từ đến".split()
)
_CLAUSE = re.compile(r"[^\W\d_]+(?:\s+[^\W\d_]+)*")  # letters-only syllables separated by spaces


@dataclass(frozen=True)
class BenchQuery:
    """One query of the benchmark, its kind and whether it was folded."""

    text: str
    kind: str  # one of KINDS
    folded: bool

    def to_json(self) -> dict:
        return asdict(self)


def _clauses(text: str, min_len: int = 2) -> list[list[str]]:
    """The runs of letters-only syllables of ``text`` that have at least ``min_len`` of them."""
    return [c for c in (m.group(0).split() for m in _CLAUSE.finditer(text or "")) if len(c) >= min_len]


def _fold(text: str) -> str:
    from indexer.text import fold  # the engine's own folding, so folded queries are what users type

    return fold(text)


def _has_diacritics(text: str) -> bool:
    return _fold(text) != text.lower()


class _Drawer:
    """Draws one query of a kind from the articles' clauses."""

    def __init__(self, articles: list[dict], rng: random.Random, segment):
        self.rng, self.segment = rng, segment
        self.titles = [c for a in articles for c in _clauses(a.get("title"))]
        self.bodies = [c for a in articles for c in _clauses(f"{a.get('sapo') or ''}\n{a.get('body') or ''}")]
        self.common = [c for c in self.bodies if any(s.lower() in COMMON for s in c)]
        if not self.titles:  # a corpus of untitled articles
            self.titles = self.bodies

    def _span(self, clause: list[str], lo: int, hi: int) -> list[str]:
        """``lo``–``hi`` adjacent syllables of ``clause``, whole pyvi words when possible."""
        n = self.rng.randint(lo, min(hi, len(clause)))
        words = [w.split("_") for w in self.segment(" ".join(clause)).split()]
        # Every run of whole words with lo..n syllables; prefer the longest ones.
        runs = []
        for i in range(len(words)):
            size = 0
            for j in range(i, len(words)):
                size += len(words[j])
                if size > n:
                    break
                if size >= lo:
                    runs.append((size, i, j))
        if runs:
            best = max(r[0] for r in runs)
            _, i, j = self.rng.choice([r for r in runs if r[0] == best])
            return [s for w in words[i : j + 1] for s in w]
        i = self.rng.randint(0, len(clause) - n)
        return clause[i : i + n]

    def draw(self, kind: str, n_case: int) -> str:
        rng = self.rng
        if kind == "title":
            return " ".join(self._span(rng.choice(self.titles), 2, 6))
        if kind == "body":
            return " ".join(self._span(rng.choice(self.bodies), 2, 6))
        if kind == "phrase":
            clause = rng.choice(self.bodies)
            phrase = self._span(clause, 2, 4)
            text = '"' + " ".join(phrase) + '"'
            if n_case % 4 >= 2:
                rest = [s for s in clause if s not in phrase]
                if rest:
                    extra = rng.sample(rest, min(len(rest), rng.randint(1, 2)))
                    text += " " + " ".join(extra)
            return text
        # common: a run with a common syllable; every other one mostly common syllables
        while True:
            clause = rng.choice(self.common)
            span = self._span(clause, 2, 6)
            n_common = sum(s.lower() in COMMON for s in span)
            if n_common and (n_case % 4 < 2 or 2 * n_common >= len(span)):
                return " ".join(span)


def make_queries(
    articles: list[dict], n: int, n_warmup: int, segment, seed: int = 2024
) -> tuple[list[BenchQuery], list[BenchQuery]]:
    """``n`` measured queries and ``n_warmup`` other ones, drawn from ``articles``;
    ``segment`` is pyvi's ``ViTokenizer.tokenize`` (words joined with "_")."""
    rng = random.Random(seed)
    drawer = _Drawer(articles, rng, segment)
    plan = [k for k, w in zip(KINDS, WEIGHTS) for _ in range(w)]
    seen: set[str] = set()
    counts = dict.fromkeys(KINDS, 0)
    out: list[BenchQuery] = []
    while len(out) < n + n_warmup:
        kind = plan[len(out) % len(plan)]
        folded = counts[kind] % 2 == 1
        for _ in range(1000):
            text = drawer.draw(kind, counts[kind])
            if folded:
                text = _fold(text)
            elif not _has_diacritics(text):
                continue
            if text.lower() not in seen:
                break
        else:
            raise SystemExit(f"could not draw a new {kind} query from {len(articles)} articles")
        seen.add(text.lower())
        counts[kind] += 1
        out.append(BenchQuery(text, kind, folded))
    return out[:n], out[n:]


def describe(n_warmup: int) -> str:
    """The line that tells a reader of the results how the queries were made."""
    return (
        "queries: runs of 2–6 adjacent syllables (whole pyvi words) from the corpus (seed 2024), "
        "3/10 from titles, 3/10 from bodies, 2/10 quoted phrases, 2/10 with very common syllables; "
        "half folded (no diacritics), half with diacritics; "
        f"{n_warmup} other queries warm up first, then each measured query runs once"
    )
