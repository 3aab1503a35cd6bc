"""A synthetic corpus of N articles made from real ones, for indexing and querying at any scale.

    python -m bench.synth 1000000 --out bench/out/news-1m.jsonl.gz [--seed 1] [--pool 5000]

Each article keeps the title, sapo, category and paragraph count of a real article and takes its
paragraphs from other articles of the same source, so that term statistics stay those of real
news. Ids and urls are unique, dates spread over twenty years. The same seed and inputs give the
same bytes; memory is bounded by ``--pool`` articles kept per source, whatever N.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import io
import json
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from bench.common import DATA, log, read_jsonl

# The full-text corpora of ../shared/data (the headline-only ones have no paragraphs to recombine).
INPUTS = ("news-vietnews.jsonl.gz", "news-baomoi.jsonl.gz", "news-dantri-unc.jsonl.gz")
POOL = 5000  # real articles kept per source
YEARS = 20
END = dt.date(2026, 12, 1)
# A body on one line (baomoi's crawler joined its paragraphs) is cut into runs of this many sentences.
SENTENCES_A_PARAGRAPH = 3
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[A-ZĐÀ-Ỹ\"“])")


@dataclass
class _Source:
    """The real articles kept of one source (a reservoir sample of them), and how many it has."""

    name: str
    seen: int
    kept: list[dict]


def paragraphs(body: str | None) -> list[str]:
    """A body's paragraphs: its lines, or runs of sentences when it is one line."""
    lines = [line.strip() for line in (body or "").split("\n") if line.strip()]
    if len(lines) != 1:
        return lines
    sentences = _SENTENCE_END.split(lines[0])
    return [" ".join(sentences[i : i + SENTENCES_A_PARAGRAPH]) for i in range(0, len(sentences), SENTENCES_A_PARAGRAPH)]


def read_pools(paths: Iterable[Path], pool: int, rng: random.Random) -> list[_Source]:
    """Up to ``pool`` articles with a body of each source (reservoir sampling, in file order), sources by name."""
    sources: dict[str, _Source] = {}
    for path in paths:
        for record in read_jsonl(path):
            parts = paragraphs(record.get("body"))
            if not parts:
                continue
            name = record.get("source") or path.name.split(".")[0]
            source = sources.setdefault(name, _Source(name, 0, []))
            source.seen += 1
            kept = {k: record.get(k) for k in ("title", "sapo", "category")} | {"paragraphs": parts}
            if len(source.kept) < pool:
                source.kept.append(kept)
            else:
                slot = rng.randrange(source.seen)
                if slot < pool:
                    source.kept[slot] = kept
    return [sources[name] for name in sorted(sources)]


def synthesize(
    sources: list[_Source], n: int, rng: random.Random, end: dt.date = END, years: int = YEARS, start: int = 0
) -> Iterator[dict]:
    """``n`` articles numbered from ``start``, each from one source (chosen in proportion to its size), in the news schema."""
    names = [s.name for s in sources]
    weights = [s.seen for s in sources]
    by_name = {s.name: s for s in sources}
    first = end.replace(year=end.year - years)
    days = (end - first).days
    width = len(str(max(start + n - 1, 0)))
    for i in range(start, start + n):
        source = by_name[rng.choices(names, weights)[0]]
        template = rng.choice(source.kept)
        body = [rng.choice(rng.choice(source.kept)["paragraphs"]) for _ in template["paragraphs"]]
        slug = re.sub(r"[^a-z0-9]+", "-", source.name.lower()).strip("-")
        article_id = f"synth-{slug}-{i:0{width}d}"
        yield {
            "id": article_id,
            "title": template["title"],
            "sapo": template["sapo"],
            "body": "\n".join(body),
            "published": (first + dt.timedelta(days=rng.randrange(days + 1))).isoformat(),
            "url": f"https://synth.example/{slug}/{i}",
            "source": source.name,
            "category": template["category"],
        }


def write(articles: Iterable[dict], out: Path) -> int:
    """Write articles as gzipped JSON Lines, the same bytes for the same articles (no name or time in the header)."""
    count = 0
    with open(out, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        text = io.TextIOWrapper(gz, encoding="utf-8", newline="\n")
        for article in articles:
            text.write(json.dumps(article, ensure_ascii=False) + "\n")
            count += 1
        text.flush()
        text.detach()
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="how many articles")
    parser.add_argument("--out", type=Path, required=True, help="the .jsonl.gz file to write")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pool", type=int, default=POOL, help=f"real articles kept per source ({POOL})")
    parser.add_argument("--inputs", type=Path, nargs="+", help="real articles (.jsonl[.gz]); default: the full-text corpora of --data")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--start", type=int, default=0, help="the first article's number (another corpus's ids follow on)")
    parser.add_argument("--end", type=dt.date.fromisoformat, default=END, help=f"the latest date ({END})")
    args = parser.parse_args(argv)
    if args.n < 0 or args.pool < 1 or args.start < 0:
        parser.error("n and --start must be ≥ 0, --pool ≥ 1")
    inputs = args.inputs or [args.data / name for name in INPUTS]
    missing = [str(p) for p in inputs if not p.is_file()]
    if missing:
        parser.error(f"no such file: {', '.join(missing)}")
    rng = random.Random(args.seed)
    sources = read_pools(inputs, args.pool, rng)
    if not sources:
        parser.error("the inputs hold no article with a body")
    log("sources: " + ", ".join(f"{s.name} {s.seen:,} (kept {len(s.kept):,})" for s in sources))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    count = write(synthesize(sources, args.n, rng, args.end, start=args.start), args.out)
    log(f"wrote {count:,} articles to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
