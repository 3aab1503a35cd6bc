"""Peak memory of `vnsearch index` and its workers together, and where its CPU time goes.

    python -m bench.speed_memory [--rebuild] [--fresh] --index DIR FILE...

Runs `vnsearch index --index DIR FILE...` and samples its process tree from /proc every 0.1 s:
the peak of the tree's summed RSS (what the machine must hold), the parent's own peak (its
VmHWM, as `/usr/bin/time -v` reports it), and the CPU seconds of the parent (the writer) and of its workers
(pyvi). Memory figures hold on a busy machine; the rate does not.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.common import cpu_seconds, log, machine_line, rss_mb, vnsearch

PERIOD = 0.1  # seconds between samples of the process tree


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


def _rss(pid: int) -> int:
    """Resident bytes of a process (0 once it is gone)."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError):
        return 0


def measure(cmd: list[str]) -> dict:
    """Run ``cmd``; its wall time, peak tree RSS, parent peak RSS and CPU of parent and children."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak_tree, workers_cpu, parent_cpu, peak_workers, parent_peak = 0, {}, 0.0, 0, 0.0
    while proc.poll() is None:
        tree = [proc.pid]
        for pid in tree:
            tree.extend(_children(pid))
        sizes = {pid: _rss(pid) for pid in tree}
        peak_tree = max(peak_tree, sum(sizes.values()))
        peak_workers = max(peak_workers, len(tree) - 1)
        for pid in tree:
            cpu = cpu_seconds(pid)
            if cpu is None:
                continue
            if pid == proc.pid:
                parent_cpu = cpu
                parent_peak = rss_mb(pid).get("VmHWM", parent_peak)
            else:
                workers_cpu[pid] = cpu
        time.sleep(PERIOD)  # sampling period
    out, err = proc.communicate()
    return {
        "seconds": time.monotonic() - start,
        "status": proc.returncode,
        "parent_peak_mb": parent_peak,
        "peak_tree_mb": peak_tree / 1e6,
        "children_seen": peak_workers,
        "parent_cpu_s": parent_cpu,
        "workers_cpu_s": sum(workers_cpu.values()),
        "stdout": out.decode(errors="replace").strip().splitlines()[-1:],
        "stderr": err.decode(errors="replace").strip().splitlines()[-3:],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--rebuild", action="store_true", help="pass --rebuild to vnsearch index")
    parser.add_argument("--fresh", action="store_true", help="remove --index first (a first index into an empty directory)")
    parser.add_argument("--workers", type=int)
    args = parser.parse_args(argv)
    if args.fresh:
        shutil.rmtree(args.index, ignore_errors=True)
    cmd = [*vnsearch(), "index", "--index", str(args.index), *map(str, args.paths)]
    if args.rebuild:
        cmd.insert(-len(args.paths), "--rebuild")
    if args.workers is not None:
        cmd[-len(args.paths):-len(args.paths)] = ["--workers", str(args.workers)]
    log(" ".join(cmd))
    before = machine_line()
    figures = measure(cmd)
    figures.update(command=cmd, before=before, after=machine_line())
    print(json.dumps(figures, indent=1, ensure_ascii=False))
    return 0 if figures["status"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
