"""Known-item queries typed the ways readers type: clean, with one slip, half-accented, as Telex.

    python -m bench.typing_items [--out FILE] [--seed N]   # default: bench/typing_items.jsonl, seed 22

Targets are drawn as ``bench.known_items`` draws them (per source, long enough, naming someone),
none of the known-item set's nor, for another output, the dev set's. Each query is a name the
article gives plus three content syllables of its title, then typed five ways:
diacritics, no_diacritics, slip (one edit in a syllable of four letters or more),
half_accented (the marks of one syllable left off) and telex (the keys typed with the
Vietnamese keyboard off). The judgments go beside the queries (``.qrels.tsv``).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import unicodedata
from collections import defaultdict
from pathlib import Path

from bench.common import BENCH, read_jsonl
from bench.known_items import _NAME, CORPUS, PER_SOURCE, MIN_BODY, QUERIES as KNOWN, source_of
from indexer.text import fold
from indexer.wordlists import packaged_lists

DEV = BENCH / "typing_items.jsonl"
DEV_SEED = 22
VARIANTS = {"diacritics": "d", "no_diacritics": "n", "slip": "s", "half_accented": "h", "telex": "t"}
_WORD = re.compile(r"[^\W\d_]+")
_TONE_KEYS = {"\u0301": "s", "\u0300": "f", "\u0309": "r", "\u0303": "x", "\u0323": "j"}
_TELEX = {"â": "aa", "ê": "ee", "ô": "oo", "ă": "aw", "ơ": "ow", "ư": "uw", "đ": "dd"}
# Keys next to each other on a QWERTY keyboard (a slip's substitution).
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEAR = {
    c: "".join(r[j] for j in (i - 1, i + 1) if 0 <= j < len(r))
    for r in _ROWS for i, c in enumerate(r)
}


def telex(text: str) -> str:
    """``text`` as Telex keystrokes: "Giá vàng" → "Gias vangf", "trường" → "truwowngf"."""
    return _WORD.sub(lambda m: _telex_word(m.group(0)), text)


def _telex_word(word: str) -> str:
    d = unicodedata.normalize("NFD", word)
    tone = "".join(_TONE_KEYS[c] for c in d if c in _TONE_KEYS)
    base = unicodedata.normalize("NFC", "".join(c for c in d if c not in _TONE_KEYS))
    out = []
    for c in base:
        keys = _TELEX.get(c.lower(), c.lower())
        out.append(keys[0].upper() + keys[1:] if c.isupper() else keys)
    return "".join(out) + tone


def slip(text: str, rng: random.Random) -> str | None:
    """``text`` with one keyboard slip in one syllable of four letters or more."""
    words = [m for m in _WORD.finditer(text) if len(fold(m.group(0))) >= 4]
    if not words:
        return None
    m = rng.choice(words)
    w = m.group(0)
    i = rng.randrange(1, len(w))  # the first letter is seldom the slip
    kind = rng.choice(("transpose", "double", "drop", "near"))
    if kind == "transpose" and i < len(w) - 1 and w[i] != w[i + 1]:
        new = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
    elif kind == "double":
        new = w[: i + 1] + w[i] + w[i + 1 :]
    elif kind == "drop":
        new = w[:i] + w[i + 1 :]
    else:
        base = fold(w[i])
        near = _NEAR.get(base)
        if not near:
            return None
        new = w[:i] + rng.choice(near) + w[i + 1 :]
    return text[: m.start()] + new + text[m.end() :]


def half_accented(text: str, rng: random.Random) -> str | None:
    """``text`` with the marks of one of its syllables left off (two marked ones at least)."""
    marked = [m for m in _WORD.finditer(text) if fold(m.group(0)) != m.group(0).lower()]
    if len(marked) < 2:
        return None
    m = rng.choice(marked)
    bare = fold(m.group(0))
    bare = bare[0].upper() + bare[1:] if m.group(0)[0].isupper() else bare
    return text[: m.start()] + bare + text[m.end() :]


def query_for(article: dict, rng: random.Random) -> str | None:
    """A name the article gives (title, sapo, else body) and three content syllables of its title."""
    title = article.get("title") or ""
    name = None
    for part in (title, article.get("sapo") or "", article["body"]):
        found = sorted(set(m.group(0) for m in _NAME.finditer(part)))
        if found:
            name = rng.choice(found)
            break
    if name is None:
        return None
    taken = {w.lower() for w in name.split()}
    content = [w for w in _WORD.findall(title) if w.lower() not in taken and w.lower() not in packaged_lists().stopwords]
    if len(content) < 3:
        return None
    at = rng.randrange(len(content) - 2)
    words = [w if w[1:].islower() and w[0].isupper() and w in name else w.lower() for w in content[at : at + 3]]
    return f"{name} {' '.join(words)}"


def draw(corpus: list[dict], seed: int, excluded: set[str]) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for source, n in PER_SOURCE.items():
        eligible = [
            a for a in corpus
            if source_of(a["id"]) == source and a["id"] not in excluded
            and len((a.get("body") or "").strip()) >= MIN_BODY
        ]
        rng.shuffle(eligible)
        picked = 0
        for a in eligible:
            if picked == n:
                break
            q = query_for(a, rng)
            if q:
                out.append((a, q))
                picked += 1
    return out


def targets_of(path: Path) -> set[str]:
    return {json.loads(line)["target"] for line in path.read_text("utf-8").splitlines() if line.strip()}


def build(out: Path, seed: int, corpus_path: Path = CORPUS) -> str:
    corpus = list(read_jsonl(corpus_path))
    by_body = defaultdict(list)
    for a in corpus:
        by_body[a["body"].strip()].append(a["id"])
    excluded = targets_of(KNOWN)
    if out.resolve() != DEV.resolve() and DEV.exists():
        excluded |= targets_of(DEV)
    rng = random.Random(seed + 1)
    queries, qrels, counts = [], [], defaultdict(int)
    for n, (article, text) in enumerate(draw(corpus, seed, excluded), start=1):
        forms = {
            "diacritics": text,
            "no_diacritics": fold(text),
            "slip": slip(text if rng.random() < 0.5 else fold(text), rng),
            "half_accented": half_accented(text, rng),
            "telex": telex(text),
        }
        for variant, typed in forms.items():
            if not typed:
                continue
            qid = f"ty-{n:03d}-{VARIANTS[variant]}"
            queries.append({"id": qid, "text": typed, "variant": variant, "target": article["id"]})
            counts[variant] += 1
            for doc_id in by_body[article["body"].strip()]:
                qrels.append(f"{qid}\t{doc_id}\t1")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in queries), "utf-8")
    out.with_suffix(".qrels.tsv").write_text("".join(line + "\n" for line in qrels), "utf-8")
    return f"seed {seed}: " + ", ".join(f"{v} {counts[v]}" for v in VARIANTS) + f" → {out}, {out.with_suffix('.qrels.tsv')}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.typing_items", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEV, help=f"the queries file (default {DEV.name} in bench/)")
    parser.add_argument("--seed", type=int, default=DEV_SEED, help=f"the draw's seed (default {DEV_SEED})")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help=f"news-eval-20k (default {CORPUS})")
    args = parser.parse_args()
    print(build(args.out, args.seed, args.corpus))


if __name__ == "__main__":
    main()
