"""Errors as pages (or JSON under /api/) with the right status: 400 a query or parameter that
cannot be understood, 404 unknown, 410 withdrawn (its citation kept), 503 index busy, 500 a bug."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify, render_template
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import HTTPException

from magsearch.errors import ArchiveError, IndexUnavailable, NotFound, QueryError, Withdrawn
from magsearch.jobs import UploadError
from magsearch.models import Document

from .common import citation_block, wants_json
from .guard import too_many

TITLES = {
    400: "Bad request",
    401: "Sign-in required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    410: "Withdrawn",
    413: "Request too large",
    415: "Unsupported format",
    422: "Cannot be read",
    429: "Too many requests",
    500: "Server error",
    503: "Temporarily unavailable",
}


JSON_EXTRAS = ("citation", "reason")  # what a JSON error may add (see openapi.py's Error)


def respond(status: int, message: str, **extra: Any) -> Any:
    title = TITLES.get(status, "Error")
    if wants_json():
        body = {"status": status, "error": title, "message": message}
        body.update({k: v for k, v in extra.items() if k in JSON_EXTRAS})
        response = jsonify(body)
    else:
        response = current_app.response_class(
            render_template("error.html", status=status, title=title, message=message, **extra)
        )
    response.status_code = status
    if status == 503:
        response.headers["Retry-After"] = "5"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="magsearch"'

    return response


def register(app: Flask) -> None:
    @app.errorhandler(QueryError)
    def bad_query(exc: QueryError) -> Any:
        return respond(400, str(exc))

    @app.errorhandler(NotFound)
    def not_found(exc: NotFound) -> Any:
        return respond(404, str(exc))

    @app.errorhandler(Withdrawn)
    def withdrawn(exc: Withdrawn) -> Any:
        doc = exc.document
        if not isinstance(doc, Document):
            return respond(410, str(exc))
        block = citation_block(doc)
        return respond(
            410, str(exc), document=doc, citation=block["short"], cite=block, reason=doc.withdrawn
        )

    @app.errorhandler(UploadError)
    def refused_upload(exc: UploadError) -> Any:
        return respond(exc.status, str(exc))

    @app.errorhandler(IndexUnavailable)
    def unavailable(exc: IndexUnavailable) -> Any:
        return respond(503, str(exc))

    @app.errorhandler(ArchiveError)
    def archive_error(exc: ArchiveError) -> Any:
        app.logger.error("archive error: %s", exc)
        return respond(500, str(exc))

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(exc: RateLimitExceeded) -> Any:
        message, wait = too_many(exc)
        response = respond(429, message)
        response.headers["Retry-After"] = str(wait)
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        response = respond(exc.code or 500, exc.description or TITLES.get(exc.code or 500, "Error"))
        if exc.code == 405 and exc.response is None:
            allowed = getattr(exc, "valid_methods", None)
            if allowed:
                response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.errorhandler(Exception)
    def server_error(exc: Exception) -> Any:
        app.logger.exception("unhandled error")
        return respond(500, "Something went wrong on our side; the error was logged.")
