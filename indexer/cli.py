"""The `vnsearch` command line: a thin layer over the library.

The library loads in each command's body, so that `vnsearch --help` and a command's help load
neither Whoosh, pyvi nor numpy.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

import click
from click.core import ParameterSource

from .config import CONFIG_ENVVAR, attach_envvars, load_config
from .errors import VnsearchError
from .limits import DEFAULT_LIMIT, DEFAULT_SORT, MAX_LIMIT, SORTS
from .platforms import missing_call

DEFAULT_INDEX = ".index"
DEFAULT_SETTLE = 2.0  # seconds a new file's stat must stay unchanged before `watch` reads it
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}

follow_symlinks_option = click.option(
    "--follow-symlinks", is_flag=True,
    help="Read symlinked files wherever they lead (by default only those leading inside the folder).",
)


index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_INDEX,
    show_default=True,
    help="Index directory.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")


class DateParam(click.ParamType):
    """A date as YYYY-MM-DD (or DD-MM-YYYY, as Vietnamese readers write it)."""

    name = "date"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        for fmt in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"):
            try:
                return dt.datetime.strptime(value, fmt).date()
            except ValueError:
                pass
        self.fail(f"{value!r} is not a date (use YYYY-MM-DD)", param, ctx)


def _stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


class _Commands(click.Group):
    """The commands, each library error shown as its message (``Error: …``, exit code 1), no traceback;
    each command's options read from the environment too."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        super().add_command(cmd, name)
        attach_envvars(cmd)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except VnsearchError as e:
            raise click.ClickException(str(e)) from None
        except (ImportError, AttributeError) as e:
            message = missing_call(e)
            if message is None:
                raise
            raise click.ClickException(message) from None


@click.group(cls=_Commands, context_settings=CONTEXT_SETTINGS)
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), envvar=CONFIG_ENVVAR,
              show_envvar=True, help="A TOML file of settings: any option of any command (see the README).")
@click.option("--color/--no-color", default=None,
              help="Bold the matches in `search`'s output (default: when it goes to a terminal and NO_COLOR is unset).")
@click.version_option(package_name="vnsearch")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, color: bool | None) -> None:
    """vnsearch: full-text search for Vietnamese news."""
    if config_path is not None:
        group_values, ctx.default_map = load_config(config_path, main, ctx)
        if "color" in group_values and ctx.get_parameter_source("color") == ParameterSource.DEFAULT:
            color = group_values["color"]
    if color is None and os.environ.get("NO_COLOR"):  # https://no-color.org: set and not empty
        color = False
    ctx.color = color


attach_envvars(main)


@main.command("index")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--prune", is_flag=True, help="Delete articles whose file under PATHS no longer holds them.")
@click.option("--rebuild", is_flag=True,
              help="Build a new index from PATHS and the old one's other articles (posted over the API, say).")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Segmentation processes (default: up to 2).")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr: the summary alone (and failures).")
@json_option
@follow_symlinks_option
@index_option
def index_cmd(paths, prune, rebuild, workers, quiet, as_json, follow_symlinks, index_dir) -> None:
    """Index article files (.txt, .json, .jsonl, .ndjson, .jsonl.gz) or folders of them; `-` reads
    JSON Lines from standard input.

    Progress goes to stderr. Ctrl-C or SIGTERM stops after the batch under way (the
    same command then continues); a second one abandons that batch.
    """
    from .ingest import IngestReport, index_paths  # noqa: PLC0415 - the library loads with the command
    from .progress import Progress, survey  # noqa: PLC0415
    from .text import printable  # noqa: PLC0415

    found = survey(paths)
    mode = "quiet" if quiet else "bar" if _stderr_is_terminal() else "plain"
    progress = Progress(found.total_bytes, mode=mode)
    report = IngestReport()
    stop, signals = threading.Event(), []

    def on_signal(signum: int) -> None:
        signals.append(signum)
        if len(signals) == 1:
            again = "a rebuild is all or nothing: again to abandon it" if rebuild else "again to abandon it"
            progress.note(f"{_signal_name(signum)}: stopping after the batch under way ({again})")

    abandoned = False
    try:
        with _stopping_on_signals(stop, on_signal):
            index_paths(
                index_dir, paths, prune=prune, rebuild=rebuild, follow_symlinks=follow_symlinks, workers=workers,
                on_failure=lambda f: progress.say(str(f)), on_progress=progress.update,
                stop=None if rebuild else stop, report=report,
            )
    except KeyboardInterrupt:  # the second signal: the batch under way was abandoned
        abandoned = True
        signals = signals or [signal.SIGINT]
    except OSError as e:  # beside the index (its vocabulary file, say): a full disk, a read-only directory
        raise click.ClickException(printable(f"Cannot write {e.filename or index_dir}: {e.strerror or e}")) from None
    finally:
        progress.close()
    done = report.added + report.updated + report.unchanged
    elapsed = progress.elapsed()
    if as_json:
        data = {
            "index": str(index_dir), **_counts(report), "skipped": dict(sorted(found.skipped.items())),
            "failures": [{"location": f.location, "reason": f.reason} for f in report.failures],
            "seconds": round(elapsed, 3), "articles_per_second": round(done / elapsed, 1) if elapsed else None,
            "stopped": _signal_name(signals[0]) if signals else None,
        }
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    elif not (rebuild and abandoned):  # an abandoned rebuild has nothing to count
        if skipped := found.skipped_line():
            click.echo(skipped)
        rate = done / elapsed if elapsed else 0.0
        rate = f"{rate:,.1f}" if rate < 10 else f"{rate:,.0f}"
        click.echo(f"{report.summary()} in {elapsed:.1f} s, {rate} articles/s")
    if rebuild and abandoned:
        click.echo(f"stopped: the rebuild abandoned; {index_dir}/ is as it was", err=True)
    elif signals and not rebuild:  # a rebuild that was not abandoned is complete
        click.echo(f"stopped: {report.added + report.updated} articles committed; "
                   "run the same command again to continue", err=True)
    if signals and (abandoned or not rebuild):
        sys.exit(128 + signals[0])
    if report.failed:
        sys.exit(1)


@main.command("optimize")
@json_option
@index_option
def optimize_cmd(as_json, index_dir) -> None:
    """Merge the index into one segment: faster searches, after a merge that is slow on a large index.

    Ctrl-C or SIGTERM stops once the merge under way is done; a second one abandons it.
    """
    from .ingest import optimize  # noqa: PLC0415
    from .store import ArticleStore  # noqa: PLC0415

    stop, signals = threading.Event(), []

    def on_signal(signum: int) -> None:
        signals.append(signum)
        if len(signals) == 1:
            click.echo(f"{_signal_name(signum)}: stopping once the merge under way is done (again to abandon it)",
                       err=True)

    with ArticleStore.open(index_dir) as store:
        started = time.monotonic()
        try:
            with _stopping_on_signals(stop, on_signal):
                before = optimize(store, on_lock_wait=_waiting)
        except KeyboardInterrupt:
            click.echo(f"stopped: the merge abandoned; {index_dir}/ is as it was", err=True)
            sys.exit(128 + (signals[0] if signals else signal.SIGINT))
        after = store.segment_count()
    elapsed = time.monotonic() - started
    if as_json:
        click.echo(json.dumps({"index": str(index_dir), "segments_before": before, "segments_after": after,
                               "seconds": round(elapsed, 3), "stopped": _signal_name(signals[0]) if signals else None},
                              indent=2))
    else:
        click.echo(f"segments: {before} → {after} ({elapsed:.1f} s)")
    if signals:
        click.echo("stopped: the merge was done", err=True)
        sys.exit(128 + signals[0])


def _counts(report) -> dict[str, int]:
    return {k: getattr(report, k) for k in ("added", "updated", "unchanged", "deleted", "failed", "kept")}


def _stopping_on_signals(stop: threading.Event, on_signal):
    from .watch import stop_on_signals  # noqa: PLC0415

    return stop_on_signals(stop, on_signal)


def _signal_name(signum: int) -> str:
    return signal.Signals(signum).name


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


@main.command("search", context_settings={"ignore_unknown_options": True})
@click.argument("words", nargs=-1, required=True)
@click.option("--limit", type=click.IntRange(1, MAX_LIMIT), default=DEFAULT_LIMIT, show_default=True,
              help="Results a page.")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True, help="Which page of results.")
@click.option("--source", help="Only this source (e.g. TCCS, baomoi.com).")
@click.option("--category", help="Only this category.")
@click.option("--since", type=DateParam(), help="Published on or after this date.")
@click.option("--until", type=DateParam(), help="Published on or before this date.")
@click.option("--sort", type=click.Choice(SORTS), default=DEFAULT_SORT, show_default=True,
              help="Best matches first, or the newest first.")
@click.option("--collapse/--no-collapse", default=True, show_default=True,
              help="Show near duplicates (the same story from several outlets) as one hit; --no-collapse: one by one.")
@click.option("--group", help="Only this group of near duplicates (shown under a hit that has them).")
@json_option
@index_option
@click.pass_context
def search_cmd(ctx,words, limit, page, source, category, since, until, sort, collapse, group, as_json, index_dir) -> None:
    """Search the index: plain words, "quoted phrases", -excluded words.

    Every word counts, typed with or without diacritics; articles with all of
    them come first. A word starting with "-" is excluded (no need for "--").
    """
    from .search import search, snippet_to_text  # noqa: PLC0415
    from .store import ArticleStore  # noqa: PLC0415
    from .text import printable, without_surrogates  # noqa: PLC0415

    query = without_surrogates(" ".join(words))  # printable, and the same text the search sees
    with ArticleStore.open(index_dir) as store:
        result = search(
            store, query, page=page, limit=limit, source=source, category=category,
            since=since, until=until, sort=sort, group=group, collapse=collapse,
        )
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return
    if result.total and page > result.pages:
        pages = f"{result.pages} page{'s' if result.pages != 1 else ''}"
        raise click.ClickException(
            f'Page {page} is past the end: {result.total} results for "{printable(query)}" fill {pages} '
            f"of {limit}; the last is --page {result.pages}"
        )
    tty = _stdout_is_terminal() if ctx.color is None else ctx.color
    before, after = ("\x1b[1m", "\x1b[22m") if tty else ("**", "**")
    noun = "result" if result.total == 1 else "results"
    click.echo(f'{result.total} {noun} for "{printable(query)}" (page {result.page} of {result.pages})', color=tty)
    if result.total and not result.matched_all:
        click.echo("No article has every word: showing articles with some of them.")
    if result.suggestion:
        click.echo(f'Did you mean "{printable(result.suggestion)}"?')
    # Article text is anyone's: its control characters are shown, never sent to the terminal.
    for rank, hit in enumerate(result.hits, start=(page - 1) * limit + 1):
        meta = " · ".join(x for x in (hit.source, hit.published and hit.published.isoformat(), hit.id) if x)
        click.echo("")
        click.echo(printable(f"{rank}. {hit.title}"))
        click.echo(printable(f"   {meta}"))
        click.echo(f"   {snippet_to_text(printable(hit.snippet), before, after)}", color=tty)
        if hit.similar:
            similar = "article" if hit.similar == 1 else "articles"
            click.echo(f"   + {hit.similar} similar {similar}: --group {hit.group}")


@main.command("stats")
@json_option
@index_option
def stats_cmd(as_json, index_dir) -> None:
    """What the index holds: articles, sources, dates, size."""
    from .store import ArticleStore  # noqa: PLC0415
    from .text import printable  # noqa: PLC0415

    with ArticleStore.open(index_dir) as store:
        stats = store.stats()
    stats["index"] = str(index_dir)
    for key in ("first_published", "last_published"):
        stats[key] = stats[key].isoformat() if stats[key] else None
    if as_json:
        click.echo(json.dumps(stats, ensure_ascii=False, indent=2))
        return
    click.echo(f"index:     {index_dir}/")
    click.echo(f"articles:  {stats['articles']}")
    click.echo(f"published: {stats['first_published'] or '-'} … {stats['last_published'] or '-'}")
    click.echo(f"size:      {stats['size_bytes'] / 1e6:.1f} MB")
    click.echo("sources:")
    for name, count in stats["sources"].items():
        click.echo(printable(f"  {name}: {count}"))


@main.command("delete")
@click.argument("article_id")
@json_option
@index_option
def delete_cmd(article_id, as_json, index_dir) -> None:
    """Remove one article by id."""
    from .ingest import apply_changes  # noqa: PLC0415
    from .store import ArticleStore  # noqa: PLC0415
    from .text import printable  # noqa: PLC0415

    with ArticleStore.open(index_dir) as store:
        deleted = store.get(article_id) is not None and apply_changes(store, (), [article_id]).deleted
    missing = f"No article with id {article_id!r} in {index_dir}/"
    if as_json:
        failures = [] if deleted else [{"id": article_id, "reason": missing}]
        data = {"index": str(index_dir), "deleted": int(bool(deleted)), "failed": len(failures), "failures": failures}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        if failures:
            sys.exit(1)
        return
    if not deleted:
        raise click.ClickException(missing)
    click.echo(printable(f"deleted {article_id}"))


_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


def _origins(ctx, param, values: tuple[str, ...]) -> tuple[str, ...]:
    """Each --cors-origin as a browser sends it in Origin: scheme://host[:port], no path."""
    for value in values:
        if not _ORIGIN.fullmatch(value):
            raise click.BadParameter(f"{value!r} is not an origin like https://example.com or http://localhost:8080")
    return tuple(v.lower() for v in values)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True, help="Port to listen on.")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Requests served at once by each worker.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Processes serving, each with its own threads (default: one per core; Linux only).")
@click.option("--cors-origin", "cors_origins", multiple=True, callback=_origins, metavar="ORIGIN",
              help="A site (https://host[:port]) whose pages may call the search API; repeatable. None by default.")
@index_option
def serve_cmd(host, port, threads, workers, cors_origins, index_dir) -> None:
    """Serve the search page (waitress, a production WSGI server)."""
    # The one import of the web app: the library never needs Flask, only this command does.
    from search_ui.server import default_workers, serve, workers_supported  # noqa: PLC0415

    if workers is None:
        workers = default_workers() if workers_supported() else 1
    elif workers > 1 and not workers_supported():
        click.echo(f"--workers {workers} needs Linux (forked workers sharing one socket): serving with one process",
                   err=True)
        workers = 1
    serve(index_dir, host, port, threads, workers, log=lambda line: click.echo(line, err=True),
          cors_origins=cors_origins)


@main.command("watch")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--interval", type=click.FloatRange(0.05, 3600), default=0.5, show_default=True,
              help="Seconds between scans.")
@click.option("--settle", type=click.FloatRange(0, 3600), default=DEFAULT_SETTLE, show_default=True,
              help="Seconds a file must stay unchanged (over two scans at least) before it is indexed.")
@follow_symlinks_option
@index_option
def watch_cmd(directory, interval, settle, follow_symlinks, index_dir) -> None:
    """Keep the index up to date with the article files under DIRECTORY.

    New and changed files are indexed once complete, deleted files' articles
    removed; one line per batch. Ctrl-C or SIGTERM stops after the batch under
    way; a second one abandons it.
    """
    import threading  # noqa: PLC0415 - only this command needs it

    from .watch import Watcher, stop_on_signals  # noqa: PLC0415

    def batch_line(batch) -> None:
        files = f"{len(batch.files)} file{'s' if len(batch.files) != 1 else ''} read"
        gone = f", {len(batch.gone)} gone" if batch.gone else ""
        click.echo(f"{time.strftime('%H:%M:%S')} {batch.report.summary()} ({files}{gone})")

    from .text import printable  # noqa: PLC0415

    watcher = Watcher(
        directory, index_dir, interval=interval, settle=settle, follow_symlinks=follow_symlinks,
        on_batch=batch_line,
        on_failure=lambda f: click.echo(str(f), err=True),
        on_lock_wait=_waiting,
        on_retry=lambda e: click.echo(printable(f"{_retry_reason(e, index_dir)} (will try again)"), err=True),
    )
    stop = threading.Event()
    click.echo(f"Watching {directory}/ every {interval:g} s, index {index_dir}/ (Ctrl-C to stop)", err=True)
    try:
        with stop_on_signals(stop):
            watcher.run(stop)
    except KeyboardInterrupt:
        click.echo("Stopped; the batch under way was abandoned.", err=True)
        sys.exit(130)
    click.echo("Stopped.", err=True)


def _waiting(holder) -> None:
    who = f"by {holder}" if holder else "by another writer"
    click.echo(f"The index is locked {who}: waiting…", err=True)


def _retry_reason(error: Exception, index_dir: Path) -> str:
    from .text import printable  # noqa: PLC0415

    if isinstance(error, OSError):
        return f"Cannot write {error.filename or index_dir}: {error.strerror or error}"
    return str(error)


@main.command("eval")
@click.option("--queries", "queries_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="JSON Lines: id, text, optional variant.")
@click.option("--qrels", "qrels_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Judgments: query_id<TAB>doc_id<TAB>grade.")
@click.option("--run", "run_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the rankings as a TREC run file.")
@json_option
@index_option
def eval_cmd(queries_path, qrels_path, run_path, as_json, index_dir) -> None:
    """Score the index on judged queries: nDCG@10, MRR@10, S@1, S@10, R@100."""
    from . import evaluation  # noqa: PLC0415 - only this command uses it
    from .search import search  # noqa: PLC0415
    from .store import ArticleStore  # noqa: PLC0415

    try:
        queries = evaluation.load_queries(queries_path)
        qrels = evaluation.load_qrels(qrels_path)
        with ArticleStore.open(index_dir) as store:
            run = evaluation.run_queries(
                queries, lambda text: [(h.id, h.score) for h in search(store, text, limit=100).hits]
            )
        report = evaluation.evaluate(queries, qrels, run)
        if run_path:
            with open(run_path, "w", encoding="utf-8") as out:
                evaluation.write_run(out, run)
    except OSError as e:
        raise click.ClickException(f"{e.filename}: {e.strerror}") from None
    if as_json:
        data = {"index": str(index_dir), "queries": str(queries_path), "qrels": str(qrels_path), **report.to_json()}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(f"{report.overall.queries} judged queries from {queries_path}, index {index_dir}/")
    if report.unjudged:
        shown = ", ".join(report.unjudged[:5]) + (" …" if len(report.unjudged) > 5 else "")
        click.echo(f"Left out, no relevant judgment: {len(report.unjudged)} ({shown})")
    click.echo("")
    click.echo(report.table())
