"""Routes: the search form and the results list."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from indexer.errors import IndexMissingError, IndexVersionError, QueryError
from indexer.search import search

from . import open_store

bp = Blueprint("search", __name__)


@bp.errorhandler(IndexMissingError)
@bp.errorhandler(IndexVersionError)
def no_index(error):
    return render_template("error.html", title="Chưa có chỉ mục", message=str(error)), 503


@bp.errorhandler(QueryError)
def bad_query(error):
    return render_template("error.html", title="Yêu cầu không hợp lệ", message=str(error)), 400


@bp.get("/")
def home():
    with open_store() as store:
        stats = store.stats()
    return render_template("index.html", stats=stats)


def _page_number(raw: str | None) -> int:
    if raw in (None, ""):
        return 1
    if not raw.isdigit() or int(raw) < 1:
        raise QueryError("page", "must be a positive integer")
    return int(raw)


@bp.get("/search")
def results():
    q = request.args.get("q", "")
    page = _page_number(request.args.get("page"))
    with open_store() as store:
        result = search(store, q, page=page)
    return render_template("search.html", q=q, result=result)
