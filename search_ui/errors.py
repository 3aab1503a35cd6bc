"""Errors as pages (or JSON under /api/): 400 names the parameter, 404, 503 says how to build the index.

No page shows a server path or an exception's text: what only the operator needs goes to the log.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from werkzeug.exceptions import HTTPException, InternalServerError

from indexer.errors import (
    ArticleNotFoundError, IndexMissingError, IndexUnreadableError, IndexVersionError, QueryError,
)
from indexer.search import MAX_LIMIT, MAX_PAGE, MAX_QUERY_CHARS

from .params import SORT_LABELS, SearchParams

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
    args = {k: v for k, v in request.args.items() if k != error.param}
    retry_url = url_for(request.endpoint, **(request.view_args or {}), **args) if request.endpoint else None
    return (
        render_template(
            "error.html",
            title="Yêu cầu không hợp lệ",
            param=error.param,
            message=PARAM_HELP.get(error.param, ""),
            detail=str(error),
            retry_url=retry_url,
            params=SearchParams(q=request.args.get("q", "")) if error.param != "q" else None,
        ),
        400,
    )


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
    if _wants_json():
        return json_error(status, error.name)
    return render_template("error.html", title=HTTP_TITLES.get(status, error.name), message=""), status


@bp.app_errorhandler(InternalServerError)
def server_error(error: InternalServerError):
    # Flask has logged the exception; the reader sees no trace of it.
    if _wants_json():
        return json_error(500, "Internal Server Error")
    return render_template("error.html", title="Đã có lỗi", message="Máy chủ gặp lỗi khi xử lý yêu cầu này."), 500
