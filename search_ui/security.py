"""What every request and response goes through: size limits, and headers that forbid inline script."""

from __future__ import annotations

from flask import Flask, Response, abort, current_app, request

__all__ = ["CONTENT_SECURITY_POLICY", "MAX_QUERY_STRING_BYTES", "register"]

# No inline script or style anywhere: the pages are plain HTML and one stylesheet.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
MAX_QUERY_STRING_BYTES = 8192  # 500 Vietnamese characters percent-encoded take up to 4,500


def register(app: Flask) -> None:
    """Check every request's size and give every response the security headers."""
    app.before_request(_limit_request_size)
    app.after_request(_security_headers)


def _limit_request_size() -> None:
    if len(request.query_string) > MAX_QUERY_STRING_BYTES:
        abort(414)
    # A route that takes a body (POST /api/articles) sets its own limit; every other
    # one has the app's MAX_CONTENT_LENGTH.
    view = current_app.view_functions.get(request.endpoint)
    if (own := getattr(view, "max_content_length", None)) is not None:
        request.max_content_length = own
    limit = request.max_content_length
    if request.content_length is not None and limit is not None and request.content_length > limit:
        abort(413)


def _security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"  # a search's URL holds the query
    response.headers["X-Frame-Options"] = "DENY"
    return response
