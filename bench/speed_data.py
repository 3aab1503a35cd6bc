"""Corpora and pyvi tokens for the speed benchmark: every system is fed the same articles and tokens,
cached under ``bench/out/`` as ``{id, h, title_tokens, body_tokens}`` lines (``h``: the text's hash).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import multiprocessing
import os
import random
import resource
import time
from pathlib import Path
from typing import Iterator

from bench.common import OUT, REPO, log, open_text, pyvi, read_jsonl

SIZES = ("2k", "20k", "100k")
N_100K = 100_000


def corpus_path(size: str, data: Path) -> Path:
    """The JSON Lines file of one benchmark size (the 100k one is written once)."""
    if size == "2k":
        return data / "news-sample-2k.jsonl"
    if size == "20k":
        return data / "news-eval-20k.jsonl.gz"
    if size == "100k":
        return build_100k(data)
    raise ValueError(f"unknown size {size!r} (one of {', '.join(SIZES)})")


def build_100k(data: Path) -> Path:
    """The first 100,000 articles with a body: all of news-vietnews, then news-baomoi."""
    out = OUT / "news-100k.jsonl.gz"
    if out.exists():
        return out
    OUT.mkdir(parents=True, exist_ok=True)
    log(f"writing {out.relative_to(REPO)} (first {N_100K:,} articles with a body of vietnews + baomoi)")
    tmp = out.with_suffix(".tmp")
    n = 0
    with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=1) as f:
        for name in ("news-vietnews.jsonl.gz", "news-baomoi.jsonl.gz"):
            for line in open_text(data / name):
                if n == N_100K:
                    break
                obj = json.loads(line)
                if (obj.get("body") or "").strip():
                    f.write(line if line.endswith("\n") else line + "\n")
                    n += 1
    if n != N_100K:
        raise SystemExit(f"only {n} articles with a body in vietnews + baomoi")
    os.replace(tmp, out)
    return out


def article_texts(obj: dict) -> tuple[str, str]:
    """(title, running text) as vnsearch sees them: the text is sapo, blank line, body."""
    sapo, body = obj.get("sapo"), obj.get("body") or ""
    return obj.get("title") or "", f"{sapo}\n\n{body}" if sapo else body


def raw_bytes(obj: dict) -> int:
    """UTF-8 bytes of title + sapo + body: the "raw text" an index is compared with."""
    return sum(len((obj.get(k) or "").encode("utf-8")) for k in ("title", "sapo", "body"))


def text_hash(title: str, text: str) -> str:
    """A short hash of an article's text: the token cache's key across corpora."""
    return hashlib.sha1(f"{title}\x00{text}".encode("utf-8")).hexdigest()[:16]


def corpus_stats(path: Path) -> dict:
    """Article count and raw text bytes, cached beside the token caches."""
    key = OUT / f"stats-{_key(path)}.json"
    if key.exists():
        return json.loads(key.read_text())
    n = size = 0
    for obj in read_jsonl(path):
        n += 1
        size += raw_bytes(obj)
    stats = {"articles": n, "raw_bytes": size}
    OUT.mkdir(parents=True, exist_ok=True)
    key.write_text(json.dumps(stats))
    return stats


def sample_articles(path: Path, n_total: int, k: int, seed: int) -> list[dict]:
    """``k`` articles drawn at random (fixed seed) from the ``n_total`` in ``path``, in file order."""
    wanted = set(random.Random(seed).sample(range(n_total), min(k, n_total)))
    return [obj for i, obj in enumerate(read_jsonl(path)) if i in wanted]


def _key(path: Path) -> str:
    # The file's name and byte size: a changed corpus gets new caches.
    return f"{path.name.split('.')[0]}-{path.stat().st_size}"


def segment_article(item: tuple[str, str, str]) -> tuple[str, str, str]:
    """(id, title, text) → (id, pyvi title, pyvi text): ``ViTokenizer.tokenize`` output."""
    article_id, title, text = item
    vi = pyvi()
    return article_id, vi.tokenize(title) if title else "", vi.tokenize(text)


def segment_query(query: str) -> str:
    """pyvi's segmentation of a query (words joined with "_")."""
    return pyvi().tokenize(query)


def _ping(_: int) -> int:
    time.sleep(0.2)
    return os.getpid()


def pyvi_rates(sample: list[dict]) -> dict:
    """pyvi's own rate on ``sample``, in this process and in ``Pool(2)``, model loading excluded:
    articles per second of wall time and of CPU time (the workers' for the pool)."""
    items = [(o["id"], *article_texts(o)) for o in sample]
    pyvi()
    segment_article(items[0])  # first-call costs out of the timing
    t, c = time.perf_counter(), time.process_time()
    for item in items:
        segment_article(item)
    one, one_cpu = time.perf_counter() - t, time.process_time() - c
    two, two_cpu = pyvi_pool_seconds(items)
    n = len(items)
    return {"articles": n, "pyvi-1p": n / one, "pyvi-2p": n / two, "pyvi-1p-cpu": n / one_cpu, "pyvi-2p-cpu": n / two_cpu}


def pyvi_pool_seconds(items: list[tuple[str, str, str]]) -> tuple[float, float]:
    """Wall and CPU seconds of pyvi segmenting ``items`` (id, title, text) in ``Pool(2)``, model loading excluded."""
    before = _children_cpu()
    with multiprocessing.Pool(2, initializer=pyvi) as pool:
        pool.map(_ping, range(2), chunksize=1)  # both workers up, model loaded
        t = time.perf_counter()
        for _ in pool.imap(segment_article, items, chunksize=8):
            pass
        two = time.perf_counter() - t
    return two, _children_cpu() - before  # the workers, reaped when the pool closed


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def token_cache(path: Path) -> Path:
    """The pyvi tokens of every article of ``path`` (segmented once, 2 processes, cached)."""
    out = OUT / f"tokens-{_key(path)}.jsonl.gz"
    if out.exists():
        return out
    OUT.mkdir(parents=True, exist_ok=True)
    known = _known_tokens(exclude=out)
    log(f"segmenting {path.name} with pyvi in 2 processes → {out.relative_to(REPO)} "
        f"({len(known):,} articles already segmented in other caches)")

    reused = 0

    def todo() -> Iterator[tuple]:
        nonlocal reused
        for obj in read_jsonl(path):
            title, text = article_texts(obj)
            h = text_hash(title, text)
            cached = known.get(str(obj["id"]))
            if cached and cached[0] == h:
                reused += 1
                yield str(obj["id"]), h, None, None
            else:
                yield str(obj["id"]), h, title, text

    tmp = out.with_suffix(".tmp")
    started = last = time.perf_counter()
    done = 0
    with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=1) as f, multiprocessing.Pool(2) as pool:
        # imap keeps corpus order; reused articles pass through the pool untouched.
        for article_id, h, title_tok, body_tok in pool.imap(_segment_unless_cached, todo(), chunksize=16):
            if body_tok is None:
                _, title_tok, body_tok = known[article_id]
            else:
                done += 1
            line = {"id": article_id, "h": h, "title_tokens": title_tok, "body_tokens": body_tok}
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
            if time.perf_counter() - last > 15:
                last = time.perf_counter()
                log(f"  segmented {done:,} articles ({done / (last - started):.0f}/s)")
    os.replace(tmp, out)
    log(f"  segmented {done:,} articles in {time.perf_counter() - started:.0f}s, reused {reused:,}")
    return out


def _segment_unless_cached(item: tuple) -> tuple:
    article_id, h, title, text = item
    if text is None:
        return item
    return (article_id, h, *segment_article((article_id, title, text))[1:])


def _known_tokens(exclude: Path) -> dict[str, tuple[str | None, str, str]]:
    known: dict[str, tuple[str | None, str, str]] = {}
    for cache in sorted(OUT.glob("tokens-*.jsonl.gz")):
        if cache != exclude:
            for obj in read_jsonl(cache):
                known[obj["id"]] = (obj["h"], obj["title_tokens"], obj["body_tokens"])
    return known


def read_tokens(cache: Path) -> Iterator[dict]:
    """The cached pyvi tokens of a corpus, one dict an article, in corpus order."""
    return read_jsonl(cache)
