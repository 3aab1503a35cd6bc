"""Speed benchmark: vnsearch, naive Whoosh and tantivy on the same articles and pyvi tokens.

    python -m bench.speed [--sizes 2k,20k,100k] [--systems vnsearch,...] [--queries 300] [--reuse]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.common import DATA, OUT, REPO, git, index_format, log, percentile
from bench.speed_data import SIZES, corpus_path, corpus_stats, pyvi_rates, sample_articles, segment_query, token_cache
from bench.speed_queries import KINDS, describe, make_queries

SYSTEMS = ("vnsearch", "vnsearch-first", "vnsearch-again", "vnsearch-optimized", "naive", "tantivy")
# vnsearch-first: `vnsearch index` without --rebuild into an empty directory (vnsearch's row is a rebuild).
# vnsearch-again: vnsearch's index and queries once more, in a fresh process: how much two
# runs of the same thing differ on this machine.
AGAIN = {"vnsearch-again": "vnsearch"}
# vnsearch-optimized: vnsearch's index (built first), copied and merged into one segment
# (`vnsearch optimize`); its build figures count both.
AFTER = {"vnsearch-optimized": "vnsearch"}
SAMPLE = 2000  # articles for pyvi's rate and for drawing queries
WORKER = "bench.speed_systems"  # run with -m from the repo root, in a fresh process

COLUMNS = [  # header, row key, format
    ("size", "size", "{}"),
    ("system", "system", "{}"),
    ("art/s", "rate", "{:.0f}"),
    ("×pyvi2", "x_pyvi2", "{:.2f}"),
    ("art/cpu-s", "cpu_rate", "{:.0f}"),
    ("index MB", "index_mb", "{:.1f}"),
    ("×text", "x_text", "{:.2f}"),
    ("open ms", "open_ms", "{:.0f}"),
    ("first-q ms", "first_ms", "{:.0f}"),
    ("p50 ms", "p50", "{:.1f}"),
    ("p95 ms", "p95", "{:.1f}"),
    ("max ms", "max", "{:.0f}"),
    ("p50 cpu", "cpu_p50", "{:.1f}"),
    ("RSS open MB", "rss_open_mb", "{:.0f}"),
    ("RSS MB", "rss_mb", "{:.0f}"),
]


def query_tokens(text: str) -> list[str]:
    """A query as naive Whoosh and tantivy see it: pyvi's tokens, lowercased, quotes ignored."""
    tokens = re.findall(r"\w+", segment_query(text.replace('"', " ")).lower())
    return list(dict.fromkeys(tokens))


def run_worker(*args: str) -> dict:
    """Run the worker module on ``args`` in a fresh process; its JSON answer."""
    out = subprocess.run([sys.executable, "-m", WORKER, *args], stdout=subprocess.PIPE, check=True, cwd=REPO)
    return json.loads(out.stdout)


def machine() -> dict:
    """What the figures depend on: the machine, the versions, the commit and the load."""
    def version(dist: str) -> str | None:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return None

    commit = git("rev-parse", "--short", "HEAD")
    dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", "indexer"))
    return {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit + ("+dirty indexer/" if dirty else ""),
        "whoosh": version("whoosh-reloaded") or version("whoosh"),
        "pyvi": version("pyvi"),
        "tantivy": version("tantivy"),
        "loadavg": os.getloadavg()[0],  # other work on the machine skews every figure
    }


def bench_size(size: str, args, systems: list[str]) -> tuple[list[dict], dict]:
    corpus = corpus_path(size, args.data)
    stats = corpus_stats(corpus)
    n, raw = stats["articles"], stats["raw_bytes"]
    log(f"== {size}: {corpus.name}, {n:,} articles, {raw / 1e6:.1f} MB of text")
    sample = sample_articles(corpus, n, SAMPLE, seed=7)

    # Indexes --reuse can keep: built, and (vnsearch) in the format this checkout reads.
    reusable = {s: s in AGAIN or (args.reuse and _reusable(size, s)) for s in systems}
    for system, base in AFTER.items():  # made from an index this run rebuilds: made again
        if system in reusable and base in reusable and not reusable[base]:
            reusable[system] = False

    # pyvi's own rate, on a sample of the same corpus; measured again whenever something is built
    pyvi_file = OUT / f"pyvi-{size}.json"
    if all(reusable.values()) and pyvi_file.exists():
        pyvi = json.loads(pyvi_file.read_text())
    else:
        log(f"pyvi on {len(sample):,} articles, 1 process then Pool(2)")
        pyvi = pyvi_rates(sample)
        pyvi_file.write_text(json.dumps(pyvi))
    rows = [
        {"size": size, "system": s, "rate": pyvi[s], "x_pyvi2": pyvi[s] / pyvi["pyvi-2p"], "cpu_rate": pyvi.get(f"{s}-cpu")}
        for s in ("pyvi-1p", "pyvi-2p")
    ]

    queries, warmup = make_queries(sample, args.queries, args.warmup, segment_query)
    spec = {
        "queries": [dict(q.to_json(), tokens=query_tokens(q.text)) for q in queries],
        "warmup": [dict(q.to_json(), tokens=query_tokens(q.text)) for q in warmup],
    }
    spec_file = OUT / f"queries-{size}.json"
    spec_file.write_text(json.dumps(spec, ensure_ascii=False, indent=0))

    per_query = [dict(q) for q in spec["queries"]]
    for system in systems:
        engine = AGAIN.get(system, system)
        index_dir = OUT / f"idx-{size}-{engine}"
        build_file = OUT / f"idx-{size}-{engine}.json"
        try:
            if system in AGAIN:
                if not build_file.exists():
                    log(f"{system}: no {engine} index at {size} to query (run {engine} first)")
                    continue
                build = json.loads(build_file.read_text())
                log(f"{system}: {len(queries)} queries after {len(warmup)} warm-up queries, fresh process")
                result = run_worker("query", engine, str(index_dir), str(spec_file))
            elif system in AFTER and not (reusable[system] or (OUT / f"idx-{size}-{AFTER[system]}.json").exists()):
                log(f"{system}: no {AFTER[system]} index at {size} to start from (run {AFTER[system]} first)")
                continue
            else:
                build, result = _build_and_query(system, size, n, corpus, index_dir, build_file, spec_file, reusable[system], len(queries), len(warmup))
        except subprocess.CalledProcessError as e:
            # One broken system must not throw away the others' figures.
            log(f"{system} at {size} FAILED (exit status {e.returncode}; its traceback is above)")
            rows.append({"size": size, "system": system + " FAILED"})
            continue
        lat = result["latencies_ms"]
        for pq, ms, total in zip(per_query, lat, result["totals"]):
            pq[f"{system}_ms"] = round(ms, 2)
            pq[f"{system}_total"] = total
        for pq, ms in zip(per_query, result.get("cpu_ms", [])):
            pq[f"{system}_cpu_ms"] = round(ms, 2)
        rate = build["articles"] / build["seconds"]
        cpu_seconds = build.get("cpu_self_seconds", 0) + build.get("cpu_children_seconds", 0)
        cpu = result.get("cpu_ms") or [float("nan")]
        rows.append({
            "size": size,
            "system": system,
            "articles": build["articles"],
            "build_seconds": build["seconds"],
            "rate": rate,
            "x_pyvi2": rate / pyvi["pyvi-2p"],
            "cpu_seconds": cpu_seconds,
            "cpu_self_seconds": build.get("cpu_self_seconds"),
            "cpu_children_seconds": build.get("cpu_children_seconds"),
            "cpu_rate": build["articles"] / cpu_seconds if cpu_seconds else None,
            "index_mb": build["index_bytes"] / 1e6,
            "x_text": build["index_bytes"] / raw,
            "import_ms": result["import_ms"],
            "open_ms": result["open_ms"],
            "first_ms": result["first_ms"],
            "p50": percentile(lat, 0.5),
            "p95": percentile(lat, 0.95),
            "max": max(lat),
            "mean": sum(lat) / len(lat),
            "cpu_p50": percentile(cpu, 0.5),
            "cpu_p95": percentile(cpu, 0.95),
            "query_seconds": sum(lat) / 1000,
            "rss_open_mb": result["rss_open_mb"],
            "rss_mb": result["rss_mb"],
            "by_kind": by_kind(spec["queries"], lat),
            "build_spent": build.get("spent", {}),
            "query_spent": result.get("spent", {}),
        })
        if system in AGAIN:  # the same index: its build figures are on the engine's row
            rows[-1].update(dict.fromkeys(("rate", "x_pyvi2", "cpu_rate", "index_mb", "x_text"), None))
    detail = {
        "corpus": str(corpus),
        "articles": n,
        "raw_bytes": raw,
        "pyvi_sample": pyvi["articles"],
        "queries": per_query,
        "warmup": [q["text"] for q in spec["warmup"]],
    }
    return rows, detail


def _build_and_query(system, size, n, corpus, index_dir, build_file, spec_file, reuse, n_queries, n_warmup):
    if reuse:
        build = json.loads(build_file.read_text())
        log(f"{system}: reusing {index_dir.relative_to(REPO)} (built {build['built']})")
    else:
        tokens = token_cache(corpus) if not system.startswith("vnsearch") else corpus
        shutil.rmtree(index_dir, ignore_errors=True)
        build_file.unlink(missing_ok=True)
        log(f"{system}: indexing {n:,} articles → {index_dir.relative_to(REPO)}")
        build = run_worker("build", system, str(index_dir), str(corpus), str(tokens), str(n))
        build["built"] = dt.datetime.now().isoformat(timespec="seconds")
        build["commit"] = machine()["commit"]
        build_file.write_text(json.dumps(build))
        log(f"{system}: {build['articles']:,} articles in {build['seconds']:.0f}s "
            f"({build['articles'] / build['seconds']:.0f}/s), {build['index_bytes'] / 1e6:.0f} MB")
    log(f"{system}: {n_queries} queries after {n_warmup} warm-up queries, fresh process")
    return build, run_worker("query", system, str(index_dir), str(spec_file))


def _reusable(size: str, system: str) -> bool:
    index_dir, build_file = OUT / f"idx-{size}-{system}", OUT / f"idx-{size}-{system}.json"
    if not (build_file.exists() and index_dir.exists()):
        return False
    if system.startswith("vnsearch"):
        from indexer.store import FORMAT_VERSION

        found = index_format(index_dir)
        if found != FORMAT_VERSION:
            log(f"{system}: {index_dir.relative_to(REPO)} has format {found}, this checkout reads "
                f"{FORMAT_VERSION}: rebuilding it")
            return False
    return True


def by_kind(queries: list[dict], lat: list[float]) -> dict:
    groups: dict[str, list[float]] = {}
    for q, ms in zip(queries, lat):
        for key in (q["kind"], "folded" if q["folded"] else "accented"):
            groups.setdefault(key, []).append(ms)
    return {k: {"n": len(v), "p50": percentile(v, 0.5), "p95": percentile(v, 0.95)} for k, v in groups.items()}


def render(rows: list[dict]) -> str:
    cells = [[h for h, _, _ in COLUMNS]]
    for row in rows:
        cells.append([fmt.format(row[key]) if row.get(key) is not None else "" for _, key, fmt in COLUMNS])
    widths = [max(len(r[i]) for r in cells) for i in range(len(COLUMNS))]
    lines = []
    for r in cells:
        lines.append("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip())
    return "\n".join(lines)


def render_spent(rows: list[dict]) -> str:
    """Where vnsearch's time goes, from the timers the workers put around library calls."""
    lines = []
    for row in rows:
        merge = row.get("build_spent", {}).get("optimize") if row["system"] in AFTER else None
        if merge is not None:
            lines.append(f"{row['size']} {row['system']}: merged into one segment in {merge:.0f} s, "
                         f"after the {row['build_seconds'] - merge:.0f} s build")
        if row["system"] != "vnsearch":
            continue
        build, spent = row["build_seconds"], row.get("build_spent", {})
        if spent:
            parts = [f"{name}() {v / build:.0%}" for name, v in spent.items()]
            rest = build - sum(spent.values())
            lines.append(f"{row['size']} vnsearch indexing, {build:.0f} s: " + ", ".join(parts)
                         + f", the rest (reading articles, waiting for the pyvi workers, startup) {rest / build:.0%}")
        if row.get("cpu_self_seconds") is not None:
            lines.append(f"{row['size']} vnsearch indexing CPU: writer process {row['cpu_self_seconds']:.0f} s, "
                         f"pyvi workers {row['cpu_children_seconds']:.0f} s (both together, per article: "
                         f"{1000 * row['cpu_seconds'] / row['articles']:.1f} ms)")
        spent = row.get("query_spent", {})
        if spent:
            total = row["query_seconds"]
            parts = [f"{name}() {v / total:.0%}" for name, v in spent.items()]
            lines.append(f"{row['size']} vnsearch queries, {total:.1f} s: " + ", ".join(parts)
                         + f", the rest {(total - sum(spent.values())) / total:.0%}")
    return "\n".join(lines)


def render_kinds(rows: list[dict]) -> str:
    keys = list(KINDS) + ["accented", "folded"]
    lines = ["p50/p95 ms by query kind"]
    head = f"{'size':<5} {'system':<14}" + "".join(f"{k:>14}" for k in keys)
    lines.append(head)
    for row in rows:
        if "by_kind" not in row:
            continue
        kinds = row["by_kind"]
        cells = [f"{kinds[k]['p50']:.1f}/{kinds[k]['p95']:.1f}" if k in kinds else "" for k in keys]
        lines.append(f"{row['size']:<5} {row['system']:<14}" + "".join(f"{c:>14}" for c in cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma-separated, of: " + ", ".join(SIZES))
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated, of: " + ", ".join(SYSTEMS))
    parser.add_argument("--reuse", action="store_true", help="reuse the indexes built in bench/out/, rerun only the queries")
    parser.add_argument("--queries", type=int, default=300, help="measured queries per size (default 300)")
    parser.add_argument("--warmup", type=int, default=30, help="warm-up queries, none of them measured (default 30)")
    parser.add_argument("--data", type=Path, default=DATA, help=f"the shared data folder (default {DATA})")
    args = parser.parse_args(argv)

    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    for s in sizes:
        if s not in SIZES:
            parser.error(f"unknown size {s!r}")
    for s in systems:
        if s not in SYSTEMS:
            parser.error(f"unknown system {s!r}")
    if not args.data.is_dir():
        parser.error(f"no data folder at {args.data}/ — put the shared folder beside the repo, or pass --data DIR")
    if args.warmup < 1 or args.queries < 1:
        parser.error("--queries and --warmup must be at least 1")
    if "tantivy" in systems and importlib.util.find_spec("tantivy") is None:
        print("tantivy is not installed: skipping it (pip install -e '.[bench]')", file=sys.stderr)
        systems.remove("tantivy")
    OUT.mkdir(parents=True, exist_ok=True)

    info = machine()
    if info["loadavg"] > 0.5:
        log(f"warning: load average {info['loadavg']:.1f} before starting: other processes will slow every figure")
    started = time.perf_counter()
    rows, details = [], {}
    for size in sizes:
        size_rows, details[size] = bench_size(size, args, systems)
        rows += size_rows
    elapsed = time.perf_counter() - started
    info["loadavg_end"] = os.getloadavg()[0]

    print(describe(args.warmup))
    for size in sizes:
        examples = {}
        for q in details[size]["queries"]:
            examples.setdefault(f"{q['kind']}/{'folded' if q['folded'] else 'accented'}", q["text"])
        print(f"  {size}: " + " · ".join(f"{k}: {v}" for k, v in examples.items()))
    print()
    print(render(rows))
    print()
    print(render_kinds(rows))
    spent = render_spent(rows)
    if spent:
        print("\nwhere vnsearch's time goes (timers around library calls):\n" + spent)
    for size in sizes:
        timed = [q for q in details[size]["queries"] if "vnsearch_ms" in q]
        if timed:
            slow = sorted(timed, key=lambda q: -q["vnsearch_ms"])[:5]
            print(f"\nslowest vnsearch queries at {size}: " + "; ".join(
                f"{q['text']} ({q['vnsearch_ms']:.0f} ms, {q['vnsearch_total']:,} hits)" for q in slow))
    print()
    print(f"machine: {info['cpus']} CPUs, Python {info['python']}, {info['platform']}; "
          f"whoosh {info['whoosh']}, pyvi {info['pyvi']}, tantivy {info['tantivy']}; "
          f"commit {info['commit']}; {info['date']}; load average {info['loadavg']:.1f} at start, "
          f"{info['loadavg_end']:.1f} at end; benchmark took {elapsed / 60:.1f} min")
    out = OUT / f"speed-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps({"machine": info, "args": vars(args) | {"data": str(args.data)}, "seconds": elapsed,
                               "rows": rows, "sizes": details}, ensure_ascii=False, indent=1))
    print(f"written: {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
