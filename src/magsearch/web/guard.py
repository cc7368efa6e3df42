"""What the site shows and allows the outside: links written with the public URL, rate limits.

- Every absolute link (canonical, permalinks, Atom ids and links, the OpenAPI `servers`, citation
  URLs) is built from `MAGSEARCH_PUBLIC_URL` (default `http://127.0.0.1:5000`; `magsearch serve`
  uses its own host and port), never from the request's Host header, which any client can set.
  `MAGSEARCH_TRUSTED_HOSTS` additionally refuses requests for other hosts (Flask answers 400).
- Search (page, feed, API) and sign-in are rate-limited per client address with Flask-Limiter.
  With `MAGSEARCH_REDIS_URL` the counters are in Redis, shared by every gunicorn worker (and when
  Redis is unreachable, each worker counts in memory until it is back); without it each process
  counts alone, so N workers let a client make up to N times the limit (docs/web.md).
- `MAGSEARCH_PROXY_COUNT=N`: the client address is taken from the N proxies' X-Forwarded-For
  (behind a reverse proxy every request would otherwise come from the proxy's address).
"""

from __future__ import annotations

import math
import time
from urllib.parse import urlsplit

from flask import Flask, current_app
from flask.globals import request_ctx
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from magsearch.config import Settings

SEARCH_ENDPOINTS = (
    "pages.search", "pages.search_feed", "api.search", "verify.verify_page", "verify_api.verify_api"
)  # fmt: skip
SIGN_IN_NAMES = ("sign_in", "signin", "login")  # an endpoint named <blueprint>.<one of these>
OFF = ("", "off", "none", "0")


def public_root(settings: Settings) -> tuple[str, str, str]:
    """(scheme, host[:port], path) of the public URL; a ValueError names a malformed one."""
    parts = urlsplit(settings.public_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(
            f"MAGSEARCH_PUBLIC_URL {settings.public_url!r} is not an http(s) URL of the site's root"
        )
    return parts.scheme, parts.netloc, parts.path.rstrip("/")


def init(app: Flask, settings: Settings) -> Limiter:
    scheme, netloc, path = public_root(settings)
    app.config["PUBLIC_URL"] = f"{scheme}://{netloc}{path}"
    if settings.proxy_count > 0:
        n = settings.proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]

    @app.before_request
    def _public_links() -> None:
        """url_for(_external=True) writes the public scheme and host, whatever the Host header."""
        adapter = request_ctx.url_adapter
        if adapter is None:  # an untrusted Host: the 400 page still needs its links
            request_ctx.url_adapter = app.url_map.bind(netloc, path or "/", url_scheme=scheme)
            return
        adapter.url_scheme = scheme
        adapter.server_name = netloc
        if path:
            adapter.script_name = path + "/"

    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=settings.redis_url or "memory://",
        headers_enabled=False,  # Retry-After is set on the 429 alone (errors.py)
        swallow_errors=True,  # a storage failure never fails a request
        in_memory_fallback_enabled=bool(settings.redis_url),
        key_prefix="magsearch",
    )
    if settings.search_rate_limit.strip().lower() not in OFF:
        shared = limiter.shared_limit(settings.search_rate_limit, scope="search")
        for endpoint in SEARCH_ENDPOINTS:
            app.view_functions[endpoint] = shared(app.view_functions[endpoint])  # type: ignore[assignment]  # Flask's view type includes async views, Limiter's wrapper keeps them
    app.extensions["magsearch_limits"] = (limiter, settings.sign_in_rate_limit)
    return limiter


def limit_sign_in(app: Flask) -> None:
    """The sign-in limit on POSTs to every sign-in endpoint registered so far."""
    limiter, limit = app.extensions["magsearch_limits"]
    if limit.strip().lower() in OFF:
        return
    shared = limiter.shared_limit(limit, scope="sign-in", methods=["POST"])
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.rpartition(".")[2] in SIGN_IN_NAMES:
            app.view_functions[endpoint] = shared(view)


def too_many(exc: RateLimitExceeded) -> tuple[str, int]:
    """The 429's one-line message, and the seconds until the limit's window resets."""
    limiter, _ = current_app.extensions["magsearch_limits"]
    current = limiter.current_limit
    wait = math.ceil(current.reset_at - time.time()) if current is not None else 60
    wait = min(wait, exc.limit.limit.get_expiry())  # never more than the window
    return (
        f"too many requests from your address (at most {exc.limit.limit}); try again shortly",
        max(1, wait),
    )
