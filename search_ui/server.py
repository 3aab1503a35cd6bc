"""Serving the app: waitress, a production WSGI server, over one index directory, in one process or
in several forked from one that loaded the app and listens for them all."""

from __future__ import annotations

import logging
import os
import resource
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Callable

from flask import Flask

from indexer.errors import VnsearchError

from . import create_app, ingest_api
from .stores import store_pool

__all__ = [
    "CONNECTION_LIMIT", "CHANNEL_TIMEOUT", "ListenError", "default_workers", "request_body_limit", "serve",
    "server_options", "workers_supported",
]

# Idle or half-sent connections cost waitress no thread, only a connection slot until
# channel_timeout: many slots, reclaimed soon, keep a slow-client flood from filling them.
CONNECTION_LIMIT = 1000
CHANNEL_TIMEOUT = 15  # seconds without a byte before an idle connection is closed
FILES_PER_CONNECTION = 4  # waitress's socket and up to two buffer files, and a spare
STOP_GRACE = 10.0  # seconds the workers get to finish their requests once told to stop
QUICK_DEATH = 2.0  # a worker dead this soon after it started failed to start
MAX_QUICK_DEATHS = 5  # in a row: the workers cannot start, stop serving rather than fork forever


def default_workers() -> int:
    """The number of worker processes by default: the cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def workers_supported() -> bool:
    """Whether several worker processes can serve here (fork, and a listening socket they share: Linux)."""
    return sys.platform.startswith("linux")


def serve(
    index_dir: str | Path, host: str, port: int, threads: int, workers: int = 1,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr), cors_origins: tuple[str, ...] = (),
) -> None:
    """Serve the search page and API for ``index_dir`` until interrupted or terminated, with
    ``workers`` processes of ``threads`` threads each, then close the stores. ``log`` hears
    "Serving …" once listening, and each worker replaced; ``cors_origins`` may call the search API
    from their pages."""
    app = create_app({"INDEX_DIR": str(index_dir), "CORS_ORIGINS": list(cors_origins)})
    options = {"threads": threads, "ident": "vnsearch", **server_options(app)}
    logging.basicConfig()  # as waitress.serve does, once (before the workers fork)
    serving = f"Serving {index_dir}/ on http://{host}:{port}/"
    if workers <= 1:
        _serve_one(app, host, port, options, lambda: log(serving))
        return
    try:
        sock = socket.create_server((host, port), backlog=2048)
    except OSError as e:
        raise ListenError(host, port, e) from None
    with sock:
        log(f"{serving} with {workers} workers")
        _Supervisor(app, sock, options, workers, log).run()


class ListenError(VnsearchError):
    """The address to serve on cannot be listened on."""

    def __init__(self, host: str, port: int, error: OSError):
        reason = os.strerror(error.errno) if error.errno else str(error)
        super().__init__(f"Cannot listen on {host}:{port}: {reason} — "
                         "stop what uses it, or give another --host or --port")


def _serve_one(app: Flask, host: str, port: int, options: dict, listening: Callable[[], None]) -> None:
    import waitress  # noqa: PLC0415 - only serving needs it

    try:
        try:
            server = waitress.create_server(app, host=host, port=port, **options)
        except OSError as e:
            raise ListenError(host, port, e) from None
        listening()
        server.run()
    finally:
        store_pool(app).close()


def _exit_on_signal(signum, frame) -> None:
    raise SystemExit(0)


class _Supervisor:
    """Forks ``workers`` processes that serve ``app`` on ``sock``, starts another when one dies, and
    stops them all on SIGTERM or SIGINT."""

    def __init__(self, app: Flask, sock: socket.socket, options: dict, workers: int, log: Callable[[str], None]):
        self.app, self.sock, self.options, self.workers, self.log = app, sock, options, workers, log
        self.children: dict[int, float] = {}  # pid → when it started
        self.quick_deaths = 0

    def run(self) -> None:
        _prepare_fork(self.app)
        previous = {s: signal.signal(s, self._stop_signal) for s in _STOP_SIGNALS}
        try:
            for _ in range(self.workers):
                self._spawn()
            self._watch()
        except _Stop:
            pass
        finally:
            for s in previous:  # a second Ctrl-C or SIGTERM must not leave workers behind
                signal.signal(s, signal.SIG_IGN)
            try:
                self._stop_all()
            finally:
                for s, handler in previous.items():
                    signal.signal(s, handler)

    def _stop_signal(self, signum, frame) -> None:
        raise _Stop

    def _watch(self) -> None:
        while True:
            pid, status = os.wait()
            started = self.children.pop(pid, None)
            if started is None:
                continue
            self.quick_deaths = self.quick_deaths + 1 if time.monotonic() - started < QUICK_DEATH else 0
            how = f"exit status {os.waitstatus_to_exitcode(status)}"
            if os.WIFSIGNALED(status):
                how = f"signal {signal.Signals(os.WTERMSIG(status)).name}"
            if self.quick_deaths >= MAX_QUICK_DEATHS:
                self.log(f"Worker {pid} ended ({how}), the {MAX_QUICK_DEATHS}th in a row to end on starting: stopping")
                raise SystemExit(1)
            self.log(f"Worker {pid} ended ({how}): starting another")
            self._spawn()

    def _spawn(self) -> None:
        # Blocked across the fork: the new worker hears SIGTERM only once its own handler is set,
        # and the supervisor only once it has recorded the worker.
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            pid = os.fork()
            if pid == 0:
                _worker(self.app, self.sock, self.options, os.getppid())  # never returns
            self.children[pid] = time.monotonic()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)

    def _stop_all(self) -> None:
        for pid in self.children:
            _kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        while self.children and time.monotonic() < deadline:
            pid, _ = os.waitpid(-1, os.WNOHANG)
            if pid:
                self.children.pop(pid, None)
            else:
                time.sleep(0.05)  # polling the workers' exits, bounded by STOP_GRACE
        for pid in self.children:
            _kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        self.children.clear()


class _Stop(Exception):
    """SIGTERM or SIGINT reached the supervisor."""


_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def _prepare_fork(app: Flask) -> None:
    """Whatever the workers must share that has to be made before they fork: the index, when the
    ingest API may create it (two workers creating it at once would each write a first commit)."""
    from indexer.store import ArticleStore  # noqa: PLC0415

    if ingest_api.api_token(app):
        path = Path(app.config["INDEX_DIR"])
        if not path.exists() or not any(path.iterdir()):
            ArticleStore.create(path).close()


def _worker(app: Flask, sock: socket.socket, options: dict, parent: int) -> None:
    """A forked worker: serve ``app`` on ``sock`` until SIGTERM, then exit without returning."""
    status = 0
    try:
        from indexer.ingest import _die_with_parent  # noqa: PLC0415 - the same guard as the indexing workers

        _die_with_parent(parent)
        import waitress  # noqa: PLC0415

        for s in _STOP_SIGNALS:
            signal.signal(s, _exit_on_signal)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        try:
            waitress.serve(app, sockets=[sock], _quiet=True, **options)
        finally:
            store_pool(app).close()
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else 0
    except BaseException:  # noqa: BLE001 - a worker must never return into the supervisor's code
        import traceback  # noqa: PLC0415

        traceback.print_exc()
        status = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def server_options(app: Flask) -> dict:
    """waitress's limits for ``app``: body size, connections and their timeouts (raising this
    process's open-files limit as far as the connections need and the hard limit allows)."""
    return {
        # waitress refuses a body of max_request_body_size bytes or more, before buffering it.
        "max_request_body_size": request_body_limit(app) + 1,
        "connection_limit": _raise_open_files_limit() // FILES_PER_CONNECTION,
        "channel_timeout": CHANNEL_TIMEOUT,
        "cleanup_interval": 2,  # seconds between the sweeps that close idle connections
        "asyncore_use_poll": True,  # select() fails on descriptors past 1024
    }


def request_body_limit(app: Flask) -> int:
    """The largest request body any enabled route accepts (the server refuses larger ones)."""
    return max(app.config["MAX_CONTENT_LENGTH"] or 0, ingest_api.body_limit(app) or 0)


def _raise_open_files_limit() -> int:
    """The open files CONNECTION_LIMIT connections need, or fewer when the hard limit allows fewer
    (the soft limit raised to that)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = CONNECTION_LIMIT * FILES_PER_CONNECTION
    if soft == resource.RLIM_INFINITY or soft >= want:
        return want
    new = want if hard == resource.RLIM_INFINITY else min(want, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return new
