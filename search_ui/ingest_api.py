"""Writing to the index over HTTP: POST /api/articles and DELETE /api/articles/<id>, with the bearer token of
VNSEARCH_API_TOKEN (config, else environment; none: no such routes). Concurrent requests share a commit
(``indexer.commit_queue.CommitQueue``); each returns once its articles are searchable."""

from __future__ import annotations

import hmac
import json
import os

from flask import Blueprint, Flask, abort, current_app, request

from indexer.articles import Article, Failure, articles_from_json
from indexer.json_text import is_json_list, json_error_text, json_list_items, parse_json
from indexer.commit_queue import CommitQueue
from indexer.errors import IndexLockedError, IndexWriteError

from .errors import json_error
from .observe import note_ingested

bp = Blueprint("ingest_api", __name__, url_prefix="/api")

MAX_BODY_BYTES = 8 * 1024 * 1024  # a list of a few thousand articles
MAX_ARTICLES = 1000  # per request: a body of tiny items must not become millions of objects
MAX_LISTED = 20  # problems listed in a 400; the rest are counted
API_ORIGIN = "api"  # the origin recorded for posted articles (never pruned by a file scan)
RETRY_AFTER = 5  # seconds, when the index is locked by another writer


def api_token(app: Flask) -> str | None:
    """The token the ingest routes require; None when they are disabled."""
    token = app.config.get("VNSEARCH_API_TOKEN")
    if token is None:
        token = os.environ.get("VNSEARCH_API_TOKEN")
    return token or None


def body_limit(app: Flask) -> int | None:
    """The largest body the ingest routes accept, or None when they are disabled."""
    return MAX_BODY_BYTES if api_token(app) else None


@bp.record_once
def _setup(state) -> None:
    app = state.app
    app.extensions["vnsearch_ingest"] = CommitQueue(
        app.config["INDEX_DIR"],
        delay=app.config.get("INGEST_COMMIT_DELAY", 0.2),
        lock_timeout=app.config.get("INGEST_LOCK_TIMEOUT"),
    )


def _authorize():
    """None when the request carries the right token, else the response to send."""
    token = api_token(current_app)
    if token is None:
        abort(404)  # disabled: the routes do not exist
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # The header arrives as Latin-1 (WSGI): its bytes are the client's UTF-8.
    given_bytes = given.strip().encode("latin-1", "replace")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given_bytes, token.encode("utf-8", "surrogateescape")):
        body, status = json_error(401, "Authorization: Bearer <token> required (the server's VNSEARCH_API_TOKEN)")
        return body, status, {"WWW-Authenticate": 'Bearer realm="vnsearch"'}
    return None


# The library's messages name the index directory: the log has them, a response does not.
@bp.errorhandler(IndexLockedError)
def _locked(error: IndexLockedError):
    current_app.logger.warning("503: %s", str(error))
    holder = error.holder
    # The holder's command line names paths on the server: the log has it, the answer does not.
    who = "another writer (it left no record of itself)"
    if holder:
        who = f"another writer: pid {holder.pid}, since {holder.since:%Y-%m-%d %H:%M:%S}"
    extra = {"holder": {"pid": holder.pid, "since": holder.since.isoformat()}} if holder else {}
    body, status = json_error(503, f"The index is locked by {who} — try again when it has finished", **extra)
    return body, status, {"Retry-After": str(RETRY_AFTER)}


@bp.errorhandler(IndexWriteError)
def _unwritable(error: IndexWriteError):
    current_app.logger.error("503: %s", str(error))
    why = f": {error.reason}" if error.reason else ""
    return json_error(503, f"Cannot write the index{why} — try again once the server has disk space and a writable index")


def _queue() -> CommitQueue:
    return current_app.extensions["vnsearch_ingest"]


@bp.post("/articles")
def post_articles():
    """Index one article (a JSON object with the JSON Lines keys) or a list of them; all or nothing."""
    if denied := _authorize():
        return denied
    data = request.get_data(cache=False)
    if not data.strip():
        return json_error(400, "missing body: send one article as a JSON object, or a list of them")
    try:
        payload = _parse_body(data.decode("utf-8-sig"))  # UTF-8 only: never guessed as UTF-16
    except UnicodeDecodeError:
        return json_error(400, "invalid JSON: the body is not UTF-8")
    except json.JSONDecodeError as e:
        return json_error(400, json_error_text(e))
    except TooManyArticles:
        message = f"too many articles: at most {MAX_ARTICLES:,} a request — send the rest in further requests"
        return json_error(413, message)
    if payload == []:
        return json_error(400, "empty list: no article to index")
    items = articles_from_json(payload, API_ORIGIN)
    problems = [str(i) for i in items if isinstance(i, Failure)]
    articles = [i for i in items if isinstance(i, Article)]
    first: dict[str, int] = {}
    for n, item in enumerate(items, 1):
        if isinstance(item, Article):
            if item.id in first:
                problems.append(f"item {n}: duplicate id {item.id!r} (also item {first[item.id]})")
            first.setdefault(item.id, n)
    if problems:
        noun = "article" if len(problems) == 1 else "articles"
        listed = problems[:MAX_LISTED]
        if len(problems) > MAX_LISTED:
            listed.append(f"… and {len(problems) - MAX_LISTED:,} more")
        return json_error(400, f"{len(problems):,} {noun} could not be read; nothing was indexed", articles=listed)
    outcome = _queue().submit(puts=articles)
    result: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": []}
    for a in articles:
        result[outcome[a.id]].append(a.id)
    note_ingested(result)
    return result, 201 if result["added"] else 200


post_articles.max_content_length = MAX_BODY_BYTES  # read by create_app's request-size check


class TooManyArticles(Exception):
    """A body listing more than MAX_ARTICLES articles."""


def _parse_body(text: str) -> object:
    """The body's JSON value; a list is read item by item and refused past MAX_ARTICLES items."""
    if not is_json_list(text):
        return parse_json(text)
    items: list = []
    for item in json_list_items(text):
        if len(items) == MAX_ARTICLES:
            raise TooManyArticles
        items.append(item)
    return items


@bp.delete("/articles/<path:article_id>")
def delete_article(article_id: str):
    """Remove one article; 404 when there is none with this id."""
    if denied := _authorize():
        return denied
    outcome = _queue().submit(deletions=[article_id])
    if outcome[article_id] != "deleted":
        return json_error(404, f"No article with id {article_id!r}")
    note_ingested({"deleted": [article_id]})
    return {"deleted": article_id}
