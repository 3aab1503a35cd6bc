"""`vnsearch index`'s progress on stderr: a bar on a terminal (click's), a plain line every
PLAIN_EVERY seconds elsewhere, nothing with --quiet; and what the input holds beforehand."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import click

from .articles import STDIN, find_files

PLAIN_EVERY = 10.0  # seconds between two plain progress lines
REDRAW_EVERY = 0.2  # seconds between two redraws of the bar


@dataclass
class Survey:
    """The input of a run: its article files' bytes (None when it reads standard input) and the
    files left out for their type, by extension."""

    total_bytes: int | None = 0
    skipped: Counter = field(default_factory=Counter)

    def skipped_line(self) -> str | None:
        """``skipped 12 files: .html ×12, .md ×1``, or None when none was."""
        count = sum(self.skipped.values())
        if not count:
            return None
        kinds = ", ".join(f"{ext} ×{n}" for ext, n in sorted(self.skipped.items(), key=lambda kv: (-kv[1], kv[0])))
        return f"skipped {count} file{'s' if count != 1 else ''}: {kinds}"


def survey(paths: Iterable[Path]) -> Survey:
    """Walk ``paths`` as indexing will (one stat a file): the bytes to read, the files skipped."""
    result = Survey()

    def skip(path: str) -> None:
        name = os.path.basename(path)
        ext = os.path.splitext(name)[1].lower() or "(no extension)"
        result.skipped[ext] += 1

    for path in map(Path, paths):
        if str(path) == STDIN:
            result.total_bytes = None
            continue
        for file in find_files(path, skip):
            try:
                size = file.stat().st_size
            except OSError:
                continue  # reported when it is read
            if result.total_bytes is not None:
                result.total_bytes += size
    return result


class Progress:
    """Told of each article done (from any thread), shows how far the run is."""

    def __init__(self, total_bytes: int | None, *, mode: str, label: str = "indexing"):
        self.mode = mode  # "bar", "plain" or "quiet"
        self.total = total_bytes
        self.started = time.monotonic()
        self.articles = 0
        self.bytes = 0
        self._lock = threading.Lock()
        self._last_shown = self.started
        self._bar = None
        self._notes: list[str] = []
        if mode == "bar":
            # An input of unknown size (standard input): the bar shows the articles alone.
            unknown = {"iterable": iter(int, 1)} if not total_bytes else {"length": total_bytes}
            self._bar = click.progressbar(
                **unknown, label=label, file=sys.stderr,
                show_eta=True, show_percent=True, item_show_func=self._info, width=24,
            )
            self._bar.__enter__()

    def _info(self, _item=None) -> str:
        return f"{self.articles:,} articles, {self.rate():,.0f}/s"

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.articles / elapsed if elapsed > 0 else 0.0

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def update(self, articles: int, bytes_read: int) -> None:
        """``articles`` done so far, the input read up to ``bytes_read``."""
        with self._lock:
            self.articles = max(self.articles, articles)
            advance = max(0, bytes_read - self.bytes)
            self.bytes += advance
            now = time.monotonic()
            self._say_notes()
            if self._bar is not None:
                if now - self._last_shown >= REDRAW_EVERY:
                    self._last_shown = now
                    self._redraw()
            elif self.mode == "plain" and now - self._last_shown >= PLAIN_EVERY:
                self._last_shown = now
                click.echo(self.plain_line(), err=True)

    def _redraw(self) -> None:
        steps = self.bytes - self._bar.pos
        if self._bar.length:
            steps = min(steps, self._bar.length - self._bar.pos)
        if steps > 0:
            self._bar.update(steps)  # moves the bar, its ETA, and draws it
        else:
            self._bar.render_progress()  # the articles and the rate beside it

    def plain_line(self) -> str:
        done = f" ({100 * self.bytes / self.total:.0f}% of the input)" if self.total else ""
        noun = "article" if self.articles == 1 else "articles"
        return f"{time.strftime('%H:%M:%S')} {self.articles:,} {noun}{done}, {self.rate():,.0f} articles/s"

    def say(self, line: str) -> None:
        """Print a line on stderr without mixing it into the bar."""
        with self._lock:
            self._say(line)

    def note(self, line: str) -> None:
        """Have ``line`` printed at the next update: a signal handler's, which must not wait
        for the lock its own thread may hold, nor write to a stream in the middle of a write."""
        self._notes.append(line)

    def _say(self, line: str) -> None:
        if self._bar is not None:
            click.echo("\r\x1b[K", nl=False, err=True)
        click.echo(line, err=True)
        if self._bar is not None:
            self._bar.render_progress()

    def _say_notes(self) -> None:
        while self._notes:
            self._say(self._notes.pop(0))

    def close(self) -> None:
        """Print the notes left; take the bar off the terminal: the summary follows on a line of its own."""
        with self._lock:
            self._say_notes()
            if self._bar is not None:
                self._redraw()
                self._bar.render_finish()
                self._bar = None

    def summary_tail(self) -> str:
        """`` in 16.2 s, 123 articles/s``: what the summary line adds."""
        return f" in {self.elapsed():.1f} s, {self.rate():,.0f} articles/s"
