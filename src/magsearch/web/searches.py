"""Saved searches: save one from the search page, list, rename, delete, set its webhook and e-mail,
renew its feed address; and the feed itself (`/alerts/<id>/<token>.atom`, no sign-in: the token is
the secret). Every write is a POST with its CSRF token, needs a signed-in user (any role) and is
audited by magsearch.alerts; a user sees and changes only their own saved searches.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from magsearch.accounts import User
from magsearch.alerts import Alerts
from magsearch.cite import short_citation

from .auth import actor, require, signed_in
from .common import doc_url, library, search_params
from .pages import _atom

bp = Blueprint("searches", __name__)


def _alerts() -> Alerts:
    lib = library()
    return Alerts(lib.archive, lib.settings)


def _me() -> User:
    user = signed_in()
    assert user is not None  # require() has checked
    return user.user


def _key() -> str:
    return str(current_app.config["SECRET_KEY"])


def feed_url(alerts: Alerts, saved: Any) -> str:
    token = alerts.feed_token(saved, _key())
    return url_for("searches.feed", search_id=saved.id, token=token, _external=True)


@bp.post("/searches")
@require("reader")
def save() -> Any:
    """Save the search the form carries (the search page's words, filters and sort)."""
    params = search_params(request.form)
    q = params["q"]
    if params["within"]:  # a search within the results of another: saved as both AND-ed
        q = f"({q}) AND ({params['within']})"
    saved = _alerts().save(
        _me(), request.form.get("name", ""), q, params["filters"], params["sort"], actor=actor()
    )
    return redirect(url_for("searches.index", _anchor=f"search-{saved.id}"), 303)


@bp.get("/searches")
@require("reader")
def index() -> str:
    alerts = _alerts()
    rows = [
        {
            "s": s,
            "feed": feed_url(alerts, s),
            "status": alerts.status(s),
            "search": url_for("pages.search", **s.state()),
        }
        for s in alerts.searches(_me())
    ]
    return render_template("searches.html", rows=rows)


@bp.post("/searches/<int:search_id>/rename")
@require("reader")
def rename(search_id: int) -> Any:
    _alerts().rename(_me(), search_id, request.form.get("name", ""), actor=actor())
    return redirect(url_for("searches.index", _anchor=f"search-{search_id}"), 303)


@bp.post("/searches/<int:search_id>/delete")
@require("reader")
def delete(search_id: int) -> Any:
    _alerts().delete(_me(), search_id, actor=actor())
    return redirect(url_for("searches.index"), 303)


@bp.post("/searches/<int:search_id>/feed")
@require("reader")
def renew_feed(search_id: int) -> Any:
    """A new feed address; the old one stops working at once."""
    _alerts().renew_feed(_me(), search_id, actor=actor())
    return redirect(url_for("searches.index", _anchor=f"search-{search_id}"), 303)


@bp.post("/searches/<int:search_id>/delivery")
@require("reader")
def delivery(search_id: int) -> Any:
    _alerts().set_delivery(
        _me(), search_id, webhook_url=request.form.get("webhook", "")[:2000],
        email=request.form.get("email", "")[:320], actor=actor(),
    )  # fmt: skip
    return redirect(url_for("searches.index", _anchor=f"search-{search_id}"), 303)


@bp.get("/alerts/<int:search_id>/<token>.atom")
def feed(search_id: int, token: str) -> Any:
    """The saved search's alerts, newest first: only what its owner may see now."""
    alerts = _alerts()
    saved, user = alerts.by_feed_token(search_id, token[:64], _key())
    entries = [
        {
            "doc": a["doc"],
            "url": doc_url(a["doc_id"], external=True),
            "id": doc_url(a["doc_id"], a["version"], external=True),
            "citation": short_citation(a["doc"]),
            "snippet": a["snippet"],
            "updated": a["matched_at"],
        }
        for a in alerts.alerts(saved, user)
    ]
    self_url = url_for("searches.feed", search_id=saved.id, token=token, _external=True)
    response = _atom(
        f"Alerts: {saved.name}",
        entries,
        self_url,
        url_for("pages.search", _external=True, **saved.state()),
    )
    body, status, headers = response
    # a secret URL: not to be kept by shared caches, nor sent on as a referrer
    headers = {**headers, "Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}
    return body, status, headers
