"""The known-item query set on news-eval-20k: targets, then queries written for them.

    python -m bench.known_items candidates|build   # print the targets | write the query set and judgments
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import textwrap
import unicodedata
from collections import defaultdict
from pathlib import Path

from bench.common import BENCH, EVAL_20K, REPO, read_jsonl
from indexer.text import fold

CORPUS = EVAL_20K
WRITTEN = BENCH / "known_items.written.jsonl"
QUERIES = BENCH / "known_items.jsonl"
QRELS = BENCH / "known_items.qrels.tsv"

SEED = 4
PER_SOURCE = {"vietnews": 40, "baomoi": 40, "dantri": 30}
MIN_BODY = 400

VARIANTS = ("diacritics", "no_diacritics", "partial_name", "other_tone_style")
_SUFFIX = {"diacritics": "d", "no_diacritics": "n", "partial_name": "p", "other_tone_style": "t"}

# Two or more capitalised syllables in a row, not the first word of a sentence: a name.
_UP = "".join(c for c in map(chr, [*range(0x41, 0x250), *range(0x1E00, 0x1F00)]) if c.isupper())
_NAME = re.compile(rf"(?<![.!?\n]\s)(?<!^)\b(?:[{_UP}][^\W\d_]+ ){{1,3}}[{_UP}][^\W\d_]+")


def read_corpus(path: Path = CORPUS) -> list[dict]:
    """Every article of the corpus."""
    return list(read_jsonl(path))


def source_of(article_id: str) -> str:
    return article_id.split("-", 1)[0]


def draw_targets(corpus: list[dict]) -> list[dict]:
    """The targets, in a fixed order: per source, a seeded sample of eligible articles."""
    rng = random.Random(SEED)
    out = []
    for source, n in PER_SOURCE.items():
        eligible = [
            a for a in corpus
            if source_of(a["id"]) == source
            and len((a.get("body") or "").strip()) >= MIN_BODY
            and _NAME.search(f"{a.get('title') or ''}\n{a.get('sapo') or ''}\n{a['body']}")
        ]
        out += rng.sample(eligible, n)
    return out


# -- tone styles -------------------------------------------------------------------

_TONES = "\u0300\u0301\u0303\u0309\u0323"
_SYLLABLE = re.compile(r"\w+")


def _retone(syllable: str, style: str) -> str:
    """``syllable`` with an oa/oe/uy tone mark in ``style`` ("old": hoà, "new": hòa)."""
    d = unicodedata.normalize("NFD", syllable)
    tones = [c for c in d if c in _TONES]
    base = "".join(c for c in d if c not in _TONES)
    low = unicodedata.normalize("NFC", base).lower()
    if len(tones) != 1 or low[-2:] not in ("oa", "oe", "uy") or low[-3:-2] == "q":
        return syllable
    letters = list(unicodedata.normalize("NFC", base))
    i = len(letters) - (1 if style == "old" else 2)
    letters[i] = unicodedata.normalize("NFC", letters[i] + tones[0])
    return "".join(letters)


def restyle(text: str, style: str) -> str:
    return _SYLLABLE.sub(lambda m: _retone(m.group(0), style), text)


def tone_style(text: str) -> str | None:
    """"old" or "new", whichever tone placement ``text`` uses more, None when neither shows."""
    old = new = 0
    for m in _SYLLABLE.finditer(text):
        s = m.group(0)
        if _retone(s, "old") != s:
            new += 1
        elif _retone(s, "new") != s:
            old += 1
    if old == new:
        return None
    return "old" if old > new else "new"


# -- commands ----------------------------------------------------------------------


def candidates(args) -> None:
    corpus = read_corpus()
    for n, a in enumerate(draw_targets(corpus), start=1):
        names = sorted(set(m.group(0) for m in _NAME.finditer(a["body"])))[:12]
        print(f"=== {n:03d} {a['id']}  [{tone_style(a['body']) or '-'}]")
        print(f"T: {a.get('title')}")
        print(f"S: {a.get('sapo')}")
        print(textwrap.shorten(f"B: {a['body']}", args.chars, placeholder=" …"))
        print(f"N: {'; '.join(names)}")
        print()


def build(args) -> None:
    corpus = read_corpus()
    by_id = {a["id"]: a for a in corpus}
    by_body = defaultdict(list)
    for a in corpus:
        by_body[a["body"].strip()].append(a["id"])
    written = [json.loads(line) for line in WRITTEN.read_text("utf-8").splitlines() if line.strip()]
    targets = [t["id"] for t in draw_targets(corpus)]
    order = {t: i for i, t in enumerate(targets, start=1)}
    missing = [t for t in targets if t not in {w["target"] for w in written}]
    if missing:
        sys.exit(f"{WRITTEN.name}: no queries for {len(missing)} targets: {', '.join(missing[:5])} …")
    queries, qrels, counts = [], [], defaultdict(int)
    for w in written:
        target = w["target"]
        article = by_id[target]
        num = f"ki-{order[target]:03d}"
        style = tone_style(f"{article.get('title') or ''}\n{article.get('sapo') or ''}\n{article['body']}")
        style = style or ("old" if source_of(target) == "vietnews" else "new")
        forms = {"diacritics": w["diacritics"], "no_diacritics": fold(w["diacritics"])}
        if w.get("partial_name"):  # null where the article names no person or place worth it
            forms["partial_name"] = w["partial_name"]
        other = restyle(w["diacritics"], "new" if style == "old" else "old")
        if other != w["diacritics"]:
            forms["other_tone_style"] = other
        if restyle(w["diacritics"], style) != w["diacritics"]:
            print(f"note: {num} written in the other tone style than its target: {w['diacritics']}", file=sys.stderr)
        for variant, text in forms.items():
            qid = f"{num}-{_SUFFIX[variant]}"
            queries.append({"id": qid, "text": text, "variant": variant, "target": target})
            counts[variant] += 1
            for doc_id in by_body[article["body"].strip()]:
                qrels.append(f"{qid}\t{doc_id}\t1")
    QUERIES.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in queries), "utf-8")
    QRELS.write_text("".join(line + "\n" for line in qrels), "utf-8")
    dupes = sum(len(by_body[by_id[w["target"]]["body"].strip()]) > 1 for w in written)
    print(f"{len(written)} targets ({dupes} with exact duplicates), "
          + ", ".join(f"{v} {counts[v]}" for v in VARIANTS)
          + f" → {QUERIES.relative_to(REPO)}, {QRELS.relative_to(REPO)}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.known_items", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("candidates", help="print the sampled targets")
    c.add_argument("--chars", type=int, default=1400, help="body characters shown per target")
    c.set_defaults(func=candidates)
    b = sub.add_parser("build", help="write known_items.jsonl and known_items.qrels.tsv")
    b.set_defaults(func=build)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
