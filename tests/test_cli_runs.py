"""`vnsearch index` run for real: progress through a pipe and through a pseudo-terminal, stopped
by SIGTERM, Ctrl-C and a second signal; a rerun completes with nothing lost."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import without_timing

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = 300
BATCH = 40
TIMEOUT = 120
# Small batches, a progress line for every article and a bar redrawn at each: a short run shows it all.
PREFIX = (
    "import sys, indexer.ingest as ingest, indexer.progress as progress; ingest.BATCH_SIZE = ingest.REBUILD_BATCH_SIZE = {batch}; "
    "progress.PLAIN_EVERY = progress.REDRAW_EVERY = 0; {setup}"
    "from indexer.cli import main; sys.argv[0] = 'vnsearch'; main()"
)
# In a pseudo-terminal of its own, the command takes it as its controlling terminal: Ctrl-C typed
# there reaches its whole process group, the segmentation workers included.
TAKE_TERMINAL = "import fcntl, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
STOPPED = re.compile(r"stopped: (\d+) articles committed; run the same command again to continue")
WORDS = "giá vàng tăng mạnh nhà đầu tư ngân hàng lãi suất thị trường chứng khoán bóng đá Hà Nội".split()


@pytest.fixture()
def feed(tmp_path) -> Path:
    path = tmp_path / "feed.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for i in range(ARTICLES):
            body = " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(40))
            f.write(json.dumps({"id": f"tin-{i}", "title": f"Tin số {i}", "body": body}, ensure_ascii=False) + "\n")
    return path


def command(index_dir: Path, feed: Path, *options: str, workers: int = 1, setup: str = "") -> list[str]:
    code = PREFIX.format(batch=BATCH, setup=setup)
    return [sys.executable, "-c", code, "index", *options, "--workers", str(workers), "--index", str(index_dir), str(feed)]


def indexed(index_dir: Path) -> int:
    out = subprocess.run(
        [sys.executable, "-m", "indexer", "stats", "--json", "--index", str(index_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=True,
    ).stdout
    return json.loads(out)["articles"]


def rerun_completes(index_dir: Path, feed: Path, committed: int) -> None:
    """The same command again: it adds what the stopped run had not committed, and nothing is lost."""
    p = subprocess.run(command(index_dir, feed), cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    assert without_timing(p.stdout) == (
        f"added {ARTICLES - committed}, updated 0, unchanged {committed}, deleted 0, failed 0\n"
    )
    assert indexed(index_dir) == ARTICLES


def read_until(proc: subprocess.Popen, stream, pattern: re.Pattern, seen: list[str]) -> re.Match:
    """Lines of ``stream`` until one matches ``pattern`` (bounded by TIMEOUT)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            pytest.fail(f"ended ({proc.poll()}) before {pattern.pattern!r}: {seen[-5:]}")
        seen.append(line)
        if m := pattern.search(line):
            return m
    pytest.fail(f"no {pattern.pattern!r} in {TIMEOUT} s")


# Plain lines, one an article here: "HH:MM:SS 45 articles (16% of the input), 30 articles/s".
PROGRESS = re.compile(r"^\d\d:\d\d:\d\d (\d+) articles? \((\d+)% of the input\), \d+ articles/s$")


def started_past_a_batch(index_dir: Path, feed: Path, seen: list[str], *options: str) -> subprocess.Popen:
    """The command through pipes, once its progress lines show it past its first batch."""
    proc = subprocess.Popen(command(index_dir, feed, *options), cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    while int(read_until(proc, proc.stderr, PROGRESS, seen).group(1)) < BATCH + 5:
        pass
    return proc


@pytest.mark.parametrize("sig, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_through_a_pipe_stops_after_the_batch_and_a_rerun_completes(tmp_path, feed, sig, status):
    index_dir = tmp_path / "ix"
    seen: list[str] = []
    proc = started_past_a_batch(index_dir, feed, seen)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=TIMEOUT)
    lines = [ln for ln in (seen + err.splitlines(keepends=True)) if not PROGRESS.match(ln.rstrip("\n"))]
    assert proc.returncode == status
    committed = int(STOPPED.fullmatch(lines[-1].rstrip("\n")).group(1))
    assert [ln.rstrip("\n") for ln in lines] == [
        f"{sig.name}: stopping after the batch under way (again to abandon it)",
        f"stopped: {committed} articles committed; run the same command again to continue",
    ]
    assert 0 < committed < ARTICLES and committed % BATCH == 0
    assert without_timing(out) == f"added {committed}, updated 0, unchanged 0, deleted 0, failed 0\n"
    assert indexed(index_dir) == committed
    rerun_completes(index_dir, feed, committed)


def test_a_second_signal_abandons_the_batch_under_way(tmp_path, feed):
    index_dir = tmp_path / "ix"
    seen: list[str] = []
    proc = started_past_a_batch(index_dir, feed, seen)
    proc.send_signal(signal.SIGINT)
    read_until(proc, proc.stderr, re.compile("^SIGINT: stopping"), seen)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 130
    committed = int(STOPPED.fullmatch(err.splitlines()[-1]).group(1))
    assert committed % BATCH == 0 and committed < ARTICLES
    assert without_timing(out) == f"added {committed}, updated 0, unchanged 0, deleted 0, failed 0\n"
    assert indexed(index_dir) == committed  # nothing of the abandoned batch
    rerun_completes(index_dir, feed, committed)


def test_ctrl_c_on_a_terminal_with_a_progress_bar_and_worker_processes(tmp_path, feed):
    index_dir = tmp_path / "ix"
    controller, terminal = os.openpty()
    proc = subprocess.Popen(
        command(index_dir, feed, workers=2, setup=TAKE_TERMINAL), cwd=ROOT,
        stdin=terminal, stdout=terminal, stderr=terminal, start_new_session=True,
    )
    os.close(terminal)
    screen = b""
    deadline = time.monotonic() + TIMEOUT
    typed = False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the command has exited and closed the terminal
                break
            if not chunk:
                break
            screen += chunk
        bar = re.findall(rb"indexing  \[[#-]+\]\s+(\d+)%.{0,20}?([\d,]+) articles, [\d,]+/s", screen)
        if not typed and bar and int(bar[-1][1].replace(b",", b"")) > BATCH + 5:
            os.write(controller, b"\x03")  # Ctrl-C, as typed: SIGINT to the foreground process group
            typed = True
    assert proc.wait(timeout=TIMEOUT) == 130
    os.close(controller)
    text = screen.decode()
    assert typed, text[-500:]
    assert "SIGINT: stopping after the batch under way (again to abandon it)\r\n" in text
    committed = int(STOPPED.search(text).group(1))
    assert 0 < committed < ARTICLES and committed % BATCH == 0
    summary = re.search(r"added (\d+), updated 0, unchanged 0, deleted 0, failed 0 in [\d.]+ s, [\d,.]+ articles/s\r\n",
                        text)
    assert int(summary.group(1)) == committed
    assert indexed(index_dir) == committed
    rerun_completes(index_dir, feed, committed)


def test_a_segmentation_worker_leaves_signals_to_its_parent_and_ends_on_sigterm():
    # A worker forks from a parent whose handlers set a stop flag: SIGTERM, the pool's way to end
    # it, must end it (else the pool waits for it forever), and Ctrl-C must leave it be.
    code = (
        "import os, signal; from indexer.ingest import _die_with_parent; "
        "signal.signal(signal.SIGTERM, lambda *a: None); _die_with_parent(os.getppid()); "
        "print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, signal.getsignal(signal.SIGINT) is signal.SIG_IGN)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)
    assert out.stdout == "True True\n", out.stderr


def test_a_rebuild_is_all_or_nothing_a_second_signal_abandons_it(tmp_path, feed):
    index_dir = tmp_path / "ix"
    first = tmp_path / "first.jsonl"
    first.write_text(feed.read_text("utf-8").splitlines(keepends=True)[0], "utf-8")
    assert subprocess.run(command(index_dir, first), cwd=ROOT, capture_output=True, timeout=TIMEOUT).returncode == 0
    seen: list[str] = []
    proc = started_past_a_batch(index_dir, feed, seen, "--rebuild")
    proc.send_signal(signal.SIGTERM)
    read_until(proc, proc.stderr, re.compile("^SIGTERM: stopping"), seen)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=TIMEOUT)
    assert (proc.returncode, out) == (143, "")
    assert seen[-1] == "SIGTERM: stopping after the batch under way (a rebuild is all or nothing: again to abandon it)\n"
    assert err.splitlines()[-1] == f"stopped: the rebuild abandoned; {index_dir}/ is as it was"
    assert indexed(index_dir) == 1
