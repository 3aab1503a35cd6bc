"""Errors as pages (or JSON under /api/): 400 names the parameter, 404, 503 says how to build the index.

No page shows a server path or an exception's text: what only the operator needs goes to the log.
"""

from __future__ import annotations

from dataclasses import fields

from flask import Blueprint, current_app, render_template, request, url_for
from flask.globals import request_ctx
from werkzeug.exceptions import BadHost, HTTPException, InternalServerError

from indexer.errors import (
    ArticleNotFoundError, IndexMissingError, IndexUnreadableError, IndexVersionError, QueryError,
)
from indexer.search import MAX_LIMIT, MAX_PAGE, MAX_QUERY_CHARS

from .params import SORT_LABELS, SearchParams, parse_search_params

__all__ = ["bp", "json_error", "PARAM_HELP"]

bp = Blueprint("errors", __name__)

PARAM_HELP = {
    "q": f"Từ khoá quá dài: tối đa {MAX_QUERY_CHARS} ký tự.",
    "page": f"Số trang phải là một số nguyên dương (1, 2, 3…), không quá {MAX_PAGE}.",
    "limit": f"Số kết quả mỗi trang phải là một số nguyên từ 1 đến {MAX_LIMIT}.",
    "sort": "Cách sắp xếp chỉ có thể là " + " hoặc ".join(f"«{k}» ({v.lower()})" for k, v in SORT_LABELS.items()) + ".",
    "since": "Ngày bắt đầu phải viết dạng năm-tháng-ngày (ví dụ 2024-01-31) và không sau ngày kết thúc.",
    "until": "Ngày kết thúc phải viết dạng năm-tháng-ngày (ví dụ 2024-12-31).",
    "source": "Tên nguồn quá dài.",
    "category": "Tên chuyên mục quá dài.",
}

# What to run when there is no index to read, without the server's paths (its log names them).
INDEX_DIR = "INDEX_DIR"
BUILD = f"vnsearch index --index {INDEX_DIR} PATH…"
REBUILD = f"vnsearch index --rebuild --index {INDEX_DIR} PATH…"
INDEX_TROUBLE = {
    IndexMissingError: ("No index", BUILD),
    IndexVersionError: ("The index has another format", REBUILD),
    IndexUnreadableError: ("The index could not be read", REBUILD),
}

HTTP_TITLES = {
    400: "Yêu cầu không hợp lệ",
    404: "Không tìm thấy trang",
    405: "Phương thức không được hỗ trợ",
    413: "Yêu cầu quá lớn",
    414: "Địa chỉ quá dài",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, message: str, **extra) -> tuple[dict, int]:
    """The API's error body, ``{"error": {"status", "message", …extra}}``, and its status."""
    return {"error": {"status": status, "message": message, **extra}}, status


@bp.app_errorhandler(QueryError)
def bad_parameter(error: QueryError):
    if _wants_json():
        return json_error(400, str(error), param=error.param)
    return (
        render_template(
            "error.html",
            title="Yêu cầu không hợp lệ",
            param=error.param,
            message=PARAM_HELP.get(error.param, ""),
            detail=str(error),
            retry_url=_retry_url(error.param),
            params=SearchParams(q=request.args.get("q", "")) if error.param != "q" else None,
        ),
        400,
    )


def _retry_url(bad: str) -> str | None:
    """The same page without ``bad`` (nor any other refused parameter), built from validated values only."""
    names = {f.name for f in fields(SearchParams)}
    args = {k: v for k, v in request.args.items() if k in names and k != bad}
    while True:
        try:
            params = parse_search_params(args)
            break
        except QueryError as e:
            if args.pop(e.param, None) is None:
                return None
    if request.endpoint == "pages.search":
        return url_for("pages.search", **params.args())
    if request.endpoint == "pages.article":
        q = {"q": params.q} if params.q.strip() else {}
        return url_for("pages.article", article_id=request.view_args["article_id"], **q)
    return None


@bp.app_errorhandler(ArticleNotFoundError)
def no_article(error: ArticleNotFoundError):
    if _wants_json():
        return json_error(404, str(error))
    return (
        render_template(
            "error.html",
            title="Không tìm thấy bài báo",
            message="Không có bài báo nào với mã này trong chỉ mục: có thể bài đã bị xoá hoặc địa chỉ bị gõ sai.",
        ),
        404,
    )


@bp.app_errorhandler(IndexMissingError)
@bp.app_errorhandler(IndexVersionError)
@bp.app_errorhandler(IndexUnreadableError)
def no_index(error):
    # The text, not the error: a record kept by a handler must not keep its traceback's open files.
    current_app.logger.error("503: %s", str(error))
    what, command = next(v for kind, v in INDEX_TROUBLE.items() if isinstance(error, kind))
    if _wants_json():
        return json_error(503, f"{what} — run: {command} ({INDEX_DIR}: the server's index directory, named in its log)")
    return (
        render_template(
            "error.html",
            title="Chưa có chỉ mục tìm kiếm",
            message="Trang tìm kiếm chưa dùng được vì chỉ mục chưa được tạo hoặc không đọc được. "
            f"Người quản trị cần tạo (lại) chỉ mục bằng lệnh dưới đây, với {INDEX_DIR} là thư mục chỉ mục "
            "của máy chủ (ghi trong nhật ký của máy chủ):",
            command=command,
        ),
        503,
    )


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    status = error.code or 500
    if isinstance(error, BadHost):
        return _bad_host()
    if _wants_json():
        return json_error(status, error.name)
    return render_template("error.html", title=HTTP_TITLES.get(status, error.name), message=""), status


def _bad_host():
    if _wants_json():
        return json_error(400, "Host: not a host name — send the server's name or address")
    if request_ctx.url_adapter is None:
        # Flask builds no URL for a Host that is not a host name; the page's links are paths.
        request_ctx.url_adapter = current_app.url_map.bind("localhost", request.script_root)
    message = "Tiêu đề Host của yêu cầu không phải là một tên máy hợp lệ."
    return render_template("error.html", title=HTTP_TITLES[400], message=message), 400


@bp.app_errorhandler(InternalServerError)
def server_error(error: InternalServerError):
    # Flask has logged the exception; the reader sees no trace of it.
    if _wants_json():
        return json_error(500, "Internal Server Error")
    return render_template("error.html", title="Đã có lỗi", message="Máy chủ gặp lỗi khi xử lý yêu cầu này."), 500
