"""The slow attacks of issue 23 against a real `vnsearch` on loopback: attack, expected, observed.

    python -m bench.redteam [--attacks NAME,…] [--quick] [--scale F] [--rounds N] [--keep]

Exits 1 when an observation misses its expectation.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.common import free_port, log, machine_line, rss_mb, start_server, vnsearch

ATTACKS = ("flood-jsonl", "flood-json", "api-body", "slow-clients", "kill-post")  # the default run: the issue's
QUICK_SCALE = 0.1  # of the sizes: a run of a minute or two
FLOOD_EXTRA_MB = 100  # a failure flood may cost this much over the good files alone
FAILURE_LINES_PER_FILE = 30  # the first failures of a file, then one line counting the rest
API_EXTRA_MB = 100  # beyond parsing the body, which a server must do to count its articles
API_ANSWER_BYTES = 64 * 1024
SLOW_CLIENTS = 150
TRICKLE_CLIENTS = 1050  # more than the connection slots a waitress alone is likely to have
TRICKLE_EVERY = 5.0  # seconds between a trickling client's bytes: under any idle timeout
TRICKLE_HOLD = 20  # seconds the trickle goes on before the searches, past a 15 s idle timeout
SEARCH_WITHIN = 5.0  # seconds a search may take while the slow clients hold their connections
RUN_TIMEOUT = 900  # seconds any one `vnsearch index` may run
TOKEN = "redteam-token"

GOOD_ARTICLES = [
    {"id": f"rt-{k}", "title": title, "body": body, "published": "2024-03-0" + str(k + 1), "source": "redteam"}
    for k, (title, body) in enumerate([
        ("Giá vàng tăng mạnh", "Giá vàng trong nước tăng mạnh sáng nay theo giá thế giới."),
        ("Đà Nẵng đón khách du lịch", "Thành phố Đà Nẵng đón hơn tám triệu lượt khách trong năm."),
        ("Lãi suất tiết kiệm giảm", "Nhiều ngân hàng giảm lãi suất tiết kiệm kỳ hạn ngắn."),
    ])
]


@dataclass
class Row:
    attack: str
    expected: str
    observed: str
    ok: bool


@dataclass
class Run:
    """What one `vnsearch` command did: exit status, peak RSS (its workers' included), lines printed."""

    status: int
    peak_mb: float
    lines: int
    seconds: float


class Lab:
    """A temporary directory for one run of the harness, the good files, and a small served index."""

    def __init__(self, root: Path, scale: float, rounds: int, seed: int = 23):
        self.root, self.scale, self.rounds = root, scale, rounds
        self.rng = random.Random(seed)
        self.good = root / "good"
        self.good.mkdir(exist_ok=True)
        (self.good / "good.jsonl").write_text(
            "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in GOOD_ARTICLES), "utf-8"
        )
        self._good_run: Run | None = None
        self._base_index: Path | None = None

    def good_run(self) -> Run:
        """Indexing the good files alone, measured once: what a flood is compared with."""
        if self._good_run is None:
            self._good_run = measure_index(self.root / "ix-good", [self.good])
            if self._good_run.status != 0:
                raise RuntimeError(f"indexing the good files alone exited {self._good_run.status}")
        return self._good_run

    def index_copy(self, name: str) -> Path:
        """A fresh copy of an index of the good files, to serve."""
        if self._base_index is None:
            self.good_run()
            self._base_index = self.root / "ix-good"
        copy = self.root / name
        shutil.copytree(self._base_index, copy, ignore=shutil.ignore_patterns("MAIN_WRITELOCK", "writelock.json"))
        return copy


# Runs argv[2:] in a child it forks and prints that child's peak RSS (KiB) to argv[1]. The peak
# a parent reads with wait4 starts from the parent's own peak when the child was spawned (vfork,
# then exec), so the child is forked from this small process rather than from the harness.
_PEAK_OF_CHILD = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
open(sys.argv[1], "w").write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
"""


def measure(cmd: list[str], out: Path, timeout: float = RUN_TIMEOUT) -> Run:
    """Run ``cmd`` with its output in ``out``: its exit status, peak RSS (the largest of it and its children)."""
    start = time.monotonic()
    peak_file = out.with_name(out.name + ".peak")
    with out.open("wb") as f:
        proc = subprocess.Popen(
            [sys.executable, "-c", _PEAK_OF_CHILD, str(peak_file), *cmd],
            stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    try:
        proc.wait(timeout)
    except BaseException as e:  # a timeout or Ctrl-C: leave no process behind
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if isinstance(e, subprocess.TimeoutExpired):
            raise RuntimeError(f"{' '.join(cmd[:3])} … still running after {timeout:g} s, killed") from None
        raise
    lines = 0
    with out.open("rb") as f:
        while chunk := f.read(1 << 20):
            lines += chunk.count(b"\n")
    status = proc.returncode if proc.returncode < 128 else proc.returncode - 256
    return Run(status, int(peak_file.read_text()) / 1024, lines, time.monotonic() - start)


def measure_index(index: Path, paths: list[Path]) -> Run:
    """`vnsearch index --rebuild` of ``paths`` into ``index``, measured."""
    cmd = [*vnsearch(), "index", "--rebuild", "--index", str(index), *map(str, paths)]
    return measure(cmd, index.with_name(index.name + ".out"))


def read_whole_mb(path: Path) -> float:
    """What reading ``path`` whole costs: its bytes and their decoded text (items are then decoded one at a time)."""
    return 2 * path.stat().st_size / 2**20


def flood_check(lab: Lab, attack: str, hostile: Path, what: str, read_mb: float = 0.0) -> Row:
    """Index the good files with ``hostile`` beside them; compare memory and output with the good files alone
    (plus ``read_mb``, the cost of a file read whole)."""
    good = lab.good_run()
    log(f"{attack}: indexing {what} ({hostile.stat().st_size / 1e6:.1f} MB) beside the good files…")
    run = measure_index(lab.root / f"ix-{attack}", [lab.good, hostile])
    extra = run.peak_mb - good.peak_mb
    allowed = read_mb + FLOOD_EXTRA_MB
    max_lines = good.lines + FAILURE_LINES_PER_FILE
    parsing = f" + {read_mb:.0f} MB (reading it whole)" if read_mb else ""
    expected = f"peak ≤ good files' {good.peak_mb:.0f} MB{parsing} + {FLOOD_EXTRA_MB} MB, ≤ {max_lines} lines, exit 1"
    observed = f"peak {run.peak_mb:.0f} MB ({extra:+.0f}), {run.lines:,} lines, exit {run.status}, {run.seconds:.1f} s"
    return Row(attack, expected, observed, extra <= allowed and run.lines <= max_lines and run.status == 1)


def flood_jsonl(lab: Lab, lines: int | None = None) -> Row:
    """A small .jsonl.gz of many bad lines (the issue's: 17 KB, 2M lines)."""
    lines = lines if lines is not None else int(2_000_000 * lab.scale)
    path = lab.root / "bad-lines.jsonl.gz"
    with gzip.open(path, "wb", compresslevel=9) as f:
        block = b'{"title": "thi\xe1\xba\xbfu n\xe1\xbb\x99i dung"}\n' * 10_000
        for _ in range(lines // 10_000):
            f.write(block)
        f.write(block[: len(block) // 10_000 * (lines % 10_000)])
    return flood_check(lab, "flood-jsonl", path, f"{lines:,} lines without id or body")


def flood_json(lab: Lab, items: int | None = None) -> Row:
    """A .json list of many items without a body (the issue's: 52 MB, 3M items), under the 64 MB file limit."""
    items = items if items is not None else int(3_000_000 * lab.scale)
    path = lab.root / "bodyless.json"
    with path.open("w", encoding="utf-8") as f:
        f.write("[")
        f.write(",".join(f'{{"id":"n{k}"}}' for k in range(items)))
        f.write("]")
    # A .json file is read whole (hence its 64 MB limit), its items decoded one at a time.
    return flood_check(lab, "flood-json", path, f"a list of {items:,} items without a body", read_whole_mb(path))


class Server:
    """`vnsearch serve` over ``index`` on a free loopback port, with the ingest API's token."""

    def __init__(self, index: Path, threads: int = 4):
        self.index, self.threads, self.port = index, threads, free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Server":
        self.proc = start_server(self.index, self.port, self.threads, env={**os.environ, "VNSEARCH_API_TOKEN": TOKEN})
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def request(self, method: str, path: str, body: bytes | None = None, timeout: float = 30) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"} if body is not None else {}
            try:
                conn.request(method, path, body=body, headers=headers)
            except (BrokenPipeError, ConnectionResetError):
                pass  # a server may refuse a body before reading it all: its answer may still be there
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.kill(signal.SIGTERM)


def api_body(lab: Lab, size: int | None = None) -> Row:
    """POST /api/articles of a body just under 8 MiB (the documented limit) holding `[{},{},…]`."""
    size = size if size is not None else max(int(8 * 1024 * 1024 * lab.scale), 64 * 1024) - 1
    body = b"[" + b"{}," * ((size - 3) // 3) + b"{}]"
    items = body.count(b"{}")
    (lab.root / "api-body.json").write_bytes(body)
    read_mb = read_whole_mb(lab.root / "api-body.json")
    with Server(lab.index_copy("ix-api")) as server:
        server.request("GET", "/api/search?q=v%C3%A0ng")
        before = rss_mb(server.proc.pid).get("VmHWM", 0.0)
        log(f"api-body: posting {len(body):,} bytes, {items:,} empty objects…")
        start = time.monotonic()
        try:
            status, answer = server.request("POST", "/api/articles", body, timeout=120)
        except (OSError, http.client.HTTPException) as e:
            status, answer = 0, str(e).encode()
        seconds = time.monotonic() - start
        peak = rss_mb(server.proc.pid).get("VmHWM", 0.0)
    expected = (f"400/413, answer ≤ {API_ANSWER_BYTES // 1024} KiB, "
                f"server peak ≤ +{read_mb:.0f} MB (reading it whole) + {API_EXTRA_MB} MB")
    observed = (f"{status or answer.decode()}, answer {len(answer):,} B, server peak {peak:.0f} MB "
                f"({peak - before:+.0f}), {seconds:.1f} s")
    ok = status in (400, 413) and len(answer) <= API_ANSWER_BYTES and peak - before <= read_mb + API_EXTRA_MB
    return Row(f"api-body ({len(body) / 2**20:.1f} MiB)", expected, observed, ok)


def slow_clients(lab: Lab, clients: int = SLOW_CLIENTS, searches: int | None = None) -> Row:
    """150 half-sent requests held open, then searches: each must answer within a few seconds."""
    return _slow_flood(lab, f"slow-clients ({clients} held)", clients, searches)


def slow_trickle(lab: Lab, clients: int = TRICKLE_CLIENTS, searches: int | None = None) -> Row:
    """Beyond the issue: 1,050 requests that send a header byte every 5 s, past any idle timeout."""
    return _slow_flood(lab, f"slow-trickle ({clients} held)", clients, searches, trickle=TRICKLE_EVERY)


def _slow_flood(lab: Lab, attack: str, clients: int, searches: int | None, trickle: float | None = None) -> Row:
    """Hold ``clients`` half-sent requests (sending a byte of a header every ``trickle`` seconds, for
    ``TRICKLE_HOLD`` seconds, when given), then search one after another."""
    searches = searches if searches is not None else (3 if lab.scale < 1 else 10)
    held: list[socket.socket] = []
    answered: list[float] = []
    failure = ""
    stop = threading.Event()
    with Server(lab.index_copy(f"ix-{attack.split()[0]}")) as server:
        try:
            for _ in range(clients):
                s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
                s.sendall(b"GET /search?q=v%C3%A0ng HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  # never the blank line
                held.append(s)
            if trickle:
                threading.Thread(target=_trickle, args=(held, trickle, stop), daemon=True).start()
                log(f"{attack}: {len(held)} requests trickling a byte every {trickle:g} s; searching in {TRICKLE_HOLD} s…")
                stop.wait(TRICKLE_HOLD)
            else:
                log(f"{attack}: {len(held)} half-sent requests held; searching…")
            for _ in range(searches):
                start = time.monotonic()
                try:
                    status, _ = server.request("GET", "/api/search?q=gi%C3%A1+v%C3%A0ng", timeout=2 * SEARCH_WITHIN)
                except (OSError, http.client.HTTPException) as e:
                    failure = f"a search failed after {time.monotonic() - start:.1f} s ({e or type(e).__name__})"
                    break
                if status != 200:
                    failure = f"a search answered {status}"
                    break
                answered.append(time.monotonic() - start)
        except OSError as e:
            failure = f"connection {len(held) + 1} failed: {e}"
        finally:
            stop.set()
            closed = sum(1 for s in held if _closed_by_peer(s))
            for s in held:
                s.close()
    expected = f"{searches} searches answer 200 within {SEARCH_WITHIN:g} s each"
    slowest = f", slowest {max(answered):.2f} s" if answered else ""
    observed = (f"{len(answered)}/{searches} answered{slowest}; {failure or 'no failure'}; "
                f"the server closed {closed}/{len(held)} held")
    return Row(attack, expected, observed, len(answered) == searches and max(answered) <= SEARCH_WITHIN)


def _trickle(held: list[socket.socket], every: float, stop: threading.Event) -> None:
    """One more byte of a header line on each connection every ``every`` seconds, until ``stop``."""
    while not stop.wait(every):
        for s in held:
            try:
                s.send(b"x")
            except OSError:
                pass  # closed by the server: counted at the end


def _closed_by_peer(s: socket.socket) -> bool:
    try:
        s.setblocking(False)
        return s.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def kill_post(lab: Lab, rounds: int | None = None, posters: int = 3) -> Row:
    """SIGKILL the server while POSTs are in flight, round after round: every acknowledged article kept, once."""
    rounds = rounds if rounds is not None else lab.rounds
    index = lab.index_copy("ix-kill")
    acknowledged: set[str] = set()
    sent = 0
    restarts_failed = 0
    for r in range(rounds):
        server = Server(index)
        try:
            server.start()
        except SystemExit as e:
            restarts_failed += 1
            log(f"kill-post: round {r + 1}: the server did not start: {e}")
            continue
        stop = threading.Event()
        results: list[tuple[list[str], bool]] = []
        threads = [
            threading.Thread(target=_post_until, args=(server, f"rt-kill-{r}-{c}", stop, results), daemon=True)
            for c in range(posters)
        ]
        try:
            for t in threads:
                t.start()
            deadline = time.monotonic() + 30  # the server's first POST loads the segmenter
            while not any(ok for _, ok in results) and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(lab.rng.uniform(0, 1.0))  # then a kill at a random moment of the POST traffic
        finally:
            server.kill(signal.SIGKILL)
            stop.set()
        for t in threads:
            t.join(35)
        for ids, ok in results:
            sent += len(ids)
            if ok:
                acknowledged.update(ids)
        log(f"kill-post: round {r + 1}/{rounds}: {len(acknowledged):,} acknowledged so far")
    missing, duplicates = _check_kept(index, acknowledged)
    expected = "every acknowledged article found after a restart, no duplicate, the server restarts every round"
    observed = (f"{rounds - restarts_failed} kills, {len(acknowledged):,}/{sent:,} acknowledged, {len(missing)} missing, "
                f"{duplicates} duplicates, {restarts_failed} failed restarts")
    return Row("kill-post", expected, observed, not missing and not duplicates and not restarts_failed)


def _post_until(server: Server, prefix: str, stop: threading.Event, results: list) -> None:
    """POST lists of 1-3 new articles one after another until ``stop`` or the server dies; record each outcome."""
    for k in range(200):
        if stop.is_set():
            return
        ids = [f"{prefix}-{k}-{j}" for j in range(1 + k % 3)]
        body = json.dumps([
            {"id": i, "title": f"Tin thử {i}", "body": f"Bài viết thử số {i} về giá vàng và lãi suất."} for i in ids
        ]).encode()
        try:
            status, _ = server.request("POST", "/api/articles", body, timeout=30)
        except (OSError, http.client.HTTPException):  # the server was killed mid-request
            results.append((ids, False))
            return
        results.append((ids, status in (200, 201)))


def _check_kept(index: Path, acknowledged: set[str]) -> tuple[list[str], int]:
    """The acknowledged ids a restarted server does not find, and how many stored documents repeat an id."""
    from indexer.store import ArticleStore  # noqa: PLC0415 - the rest of the harness drives the CLI only

    missing = []
    with Server(index) as server:
        for article_id in sorted(acknowledged):
            status, _ = server.request("GET", f"/api/articles/{article_id}")
            if status != 200:
                missing.append(article_id)
    with ArticleStore.open(index) as store:
        return missing, len(store) - len(store.fingerprints())


RUNNERS: dict[str, Callable[[Lab], Row]] = {
    "flood-jsonl": flood_jsonl,
    "flood-json": flood_json,
    "api-body": api_body,
    "slow-clients": slow_clients,
    "slow-trickle": slow_trickle,
    "kill-post": kill_post,
}


def print_table(rows: list[Row]) -> None:
    heads = ("attack", "expected", "observed", "")
    cells = [heads, *((r.attack, r.expected, r.observed, "ok" if r.ok else "MISSED") for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(3)]
    for c in cells:
        print("  ".join(c[i].ljust(widths[i]) for i in range(3)) + "  " + c[3])


def main(argv: list[str] | None = None) -> int:
    attacks = "\n".join(f"  {name:13} {run.__doc__.splitlines()[0]}" for name, run in RUNNERS.items())
    parser = argparse.ArgumentParser(
        prog="python -m bench.redteam", description=__doc__.split("\n")[0], epilog=f"attacks:\n{attacks}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--attacks", default=",".join(ATTACKS), help="comma-separated (by default all but slow-trickle)")
    parser.add_argument("--quick", action="store_true", help=f"sizes ×{QUICK_SCALE:g} and 4 kill rounds: a minute or two")
    parser.add_argument("--scale", type=float, help="sizes of the issue's attacks × this (1 by default)")
    parser.add_argument("--rounds", type=int, help="kill-post rounds (30 by default)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory and print its path")
    args = parser.parse_args(argv)
    chosen = [a.strip() for a in args.attacks.split(",") if a.strip()]
    if unknown := [a for a in chosen if a not in RUNNERS]:
        parser.error(f"--attacks: unknown {', '.join(unknown)} (choose among {', '.join(RUNNERS)})")
    scale = args.scale if args.scale is not None else QUICK_SCALE if args.quick else 1.0
    rounds = args.rounds if args.rounds is not None else 4 if args.quick else 30
    if not 0 < scale <= 1 or not 0 < rounds <= 100:
        parser.error("--scale must be in (0, 1] and --rounds in 1..100: every attack stays bounded")
    root = Path(tempfile.mkdtemp(prefix="vnsearch-redteam-"))
    rows = []
    try:
        lab = Lab(root, scale, rounds)
        for name in chosen:
            log(f"{name}…")
            try:
                rows.append(RUNNERS[name](lab))
            except (Exception, SystemExit) as e:  # one broken attack must not hide the others' rows
                rows.append(Row(name, "runs", f"error: {e}", False))
    finally:
        if args.keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(machine_line())
    print_table(rows)
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
