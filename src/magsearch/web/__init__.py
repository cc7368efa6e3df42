"""The web interface: `create_app()` builds a Flask app over one Library per process.

Blueprints: `pages` (home, search, feeds), `documents` (document pages, versions, originals,
citations, permalinks), `api` (JSON and the OpenAPI document), `searches` (saved searches and
their alert feeds). Views are short: they validate input,
call the search service, the archive or `magsearch.views`, and render.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, request
from flask.wrappers import Response

from magsearch.accounts import secret_key
from magsearch.cite import STYLES, anchor_label, long_date, pin_label
from magsearch.config import Settings
from magsearch.exports import MAX_HITS as MAX_EXPORT
from magsearch.search import MAX_PAGE

from .common import LibraryHolder, doc_url, page_window, safe_snippet, search_url, toggle_filter

CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'; img-src 'self'"
)


def create_app(
    settings: Settings | None = None, test_config: dict[str, Any] | None = None
) -> Flask:
    """The app. `settings` says where the data is (default: MAGSEARCH_DATA or `instance`);
    `test_config` overrides Flask config, and may hand in an open Library as MAGSEARCH_LIBRARY."""
    app = Flask(__name__)
    settings = settings or Settings()
    app.config.from_mapping(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # browsers keep Secure cookies on http://127.0.0.1 and http://localhost too; a plain-HTTP
        # deployment elsewhere must say so with MAGSEARCH_COOKIE_SECURE=0
        SESSION_COOKIE_SECURE=os.environ.get("MAGSEARCH_COOKIE_SECURE", "1") != "0",
        SESSION_COOKIE_NAME="magsearch_session",
        PERMANENT_SESSION_LIFETIME=8 * 3600,
        WTF_CSRF_TIME_LIMIT=8 * 3600,
        MAX_CONTENT_LENGTH=1024 * 1024,  # nothing is uploaded through the web; bodies stay small
        MAX_FORM_MEMORY_SIZE=64 * 1024,
        JSON_SORT_KEYS=False,
        TEMPLATES_AUTO_RELOAD=False,
    )
    hosts = os.environ.get("MAGSEARCH_TRUSTED_HOSTS", "").split(",")
    if any(h.strip() for h in hosts):
        app.config["TRUSTED_HOSTS"] = [h.strip() for h in hosts if h.strip()]
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(settings.data_dir)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.jinja_env.autoescape = True  # every template, whatever its name (feeds too)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters["snippet"] = safe_snippet
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.globals.update(
        search_url=search_url,
        toggle_filter=toggle_filter,
        doc_url=doc_url,
        page_window=page_window,
        anchor_label=anchor_label,
        pin_label=pin_label,
        cite_styles=STYLES,
        style_names={"bluebook": "Bluebook", "oscola": "OSCOLA", "mcgill": "McGill Guide"},
        max_page=MAX_PAGE,
        export_max=MAX_EXPORT,
    )
    app.extensions["magsearch"] = LibraryHolder(settings, app.config.get("MAGSEARCH_LIBRARY"))

    from . import api, auth, curate, documents, errors, guard, pages, parallels, searches, verify

    app.register_blueprint(pages.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(curate.bp)
    app.register_blueprint(curate.api)
    app.register_blueprint(verify.bp)
    app.register_blueprint(parallels.bp)
    app.register_blueprint(verify.api)
    app.register_blueprint(searches.bp)
    auth.init_app(app)
    for blueprint in (
        api.bp,
        curate.api,
        verify.api,
    ):  # API writes take a Bearer token, never the cookie
        auth.csrf.exempt(blueprint)
    guard.init(app, settings)  # public links, rate limits (after the blueprints it limits)
    guard.limit_sign_in(app)
    errors.register(app)
    app.after_request(_security_headers)
    return app


def _security_headers(response: Response) -> Response:
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    if request.is_secure:
        h.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response
