"""Helpers the benchmark scripts share: paths, logging, percentiles, /proc readings, pyvi, the server."""

from __future__ import annotations

import json
import math
import os
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

# gzip, socket, subprocess and http.client (and typing) are left out here, imported where they are
# used: the speed benchmark's workers import this module and measure their own memory.

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
OUT = BENCH / "out"  # git-ignored: indexes, caches and results the scripts write
DATA = REPO.parent / "shared" / "data"  # the shared corpora, beside the repo
EVAL_20K = DATA / "news-eval-20k.jsonl.gz"


def log(msg: str) -> None:
    """Progress on stderr, stamped with the time: the figures go to stdout."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def open_text(path: Path):
    """A text file, gunzipped when its name ends in .gz."""
    import gzip

    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")


def read_jsonl(path: Path) -> Iterator[dict]:
    """The objects of a JSON Lines file (.gz or not), blank lines skipped."""
    with open_text(path) as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile, ``q`` in 0..1; NaN for no values."""
    xs = sorted(values)
    return xs[max(0, math.ceil(q * len(xs)) - 1)] if xs else float("nan")


def free_port() -> int:
    """A loopback port nobody listens on now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int | str = "self") -> dict[str, float]:
    """A process's resident memory from /proc, in MB: ``VmHWM`` (its peak) and ``VmRSS`` (now)."""
    found = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                found[key] = int(value.split()[0]) / 1024
    except OSError:
        pass
    return found


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants, as /proc lists them now."""
    tree, i = [pid], 0
    while i < len(tree):
        try:
            for task in Path(f"/proc/{tree[i]}/task").iterdir():
                tree += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
        i += 1
    return tree


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), to see past other load on the machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def git(*args: str) -> str:
    """The output of a git command in this checkout ("" when git cannot run)."""
    import subprocess

    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def machine_line() -> str:
    """Commit measured (dirty when indexer/ or search_ui/ has uncommitted changes) and load average."""
    dirty = git("status", "--porcelain", "--", "indexer", "search_ui")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"commit {git('rev-parse', '--short', 'HEAD')}{' +dirty' if dirty else ''}, {os.cpu_count()} CPUs, load {load}"


_vi = None


def pyvi():
    """pyvi's ``ViTokenizer`` module, imported once (the reference segmenter the benchmarks compare with)."""
    global _vi
    if _vi is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pyvi's pickled CRF model warns under newer scikit-learn
            from pyvi import ViTokenizer
        _vi = ViTokenizer
    return _vi


def vnsearch() -> list[str]:
    """The command line that runs this checkout's `vnsearch`."""
    script = Path(sys.executable).with_name("vnsearch")
    return [str(script)] if script.is_file() else [sys.executable, "-c", "from indexer.cli import main; main()"]


def start_server(index: Path, port: int, threads: int, env: dict[str, str] | None = None, workers: int = 1):
    """`vnsearch serve --workers N` on 127.0.0.1:``port`` (in ``env``, else ours): its ``Popen``, once its
    home page answers 200. One worker by default: one process whose memory and CPU time a benchmark reads."""
    import http.client
    import subprocess

    cmd = [*vnsearch(), "serve", "--index", str(index), "--host", "127.0.0.1", "--port", str(port)]
    log_path = OUT / f"{index.name}.serve.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as server_log:  # the child keeps its own copy of the file
        proc = subprocess.Popen([*cmd, "--threads", str(threads), "--workers", str(workers)], stdout=subprocess.DEVNULL, stderr=server_log, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"vnsearch serve exited: {log_path.read_text(errors='replace')}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/")
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return proc
            proc.terminate()
            raise SystemExit(f"vnsearch serve answers / with HTTP {status}: is the index of another format? drop --reuse")
        except OSError:
            pass
        time.sleep(0.02)  # polling for readiness, bounded by the deadline
    proc.terminate()
    raise SystemExit("vnsearch serve did not answer within 60 s")


def index_format(index: Path) -> int | None:
    """The format number a vnsearch index records, None when there is none to read."""
    from indexer.store import META_FILE  # lazily: the speed workers time their own imports of indexer

    try:
        return json.loads((index / META_FILE).read_text("utf-8")).get("format")
    except (OSError, ValueError):
        return None
