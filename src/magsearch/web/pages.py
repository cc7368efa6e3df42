"""Home, search and the Atom feeds."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Blueprint, render_template, request, url_for

from magsearch import exports, views
from magsearch.archive import now_iso
from magsearch.cite import short_citation
from magsearch.errors import QueryError

from .auth import sees_restricted
from .common import doc_url, library, search_params, search_state

bp = Blueprint("pages", __name__)
FEED_SIZE = 50


@bp.get("/")
def home() -> str:
    return _home(hint=False)


@bp.get("/search")
def search() -> Any:
    """A search; with no words but some filters, browsing (every document of a kind, a year…)."""
    if "format" in request.args:
        return export_search(request.args.get("format", ""))
    params = search_params(request.args)
    if not params["q"].strip() and not params["filters"]:
        return _home(hint="q" in request.args)
    q = params.pop("q")
    result = library().search.search(q, **params, include_restricted=sees_restricted())
    if result.historic:
        params["as_of"] = result.as_of  # as the service reads it: 2026-12-04T18:13:51Z
    state = search_state({"q": result.query, **params})
    # the time that reproduces this page: the one asked for, else the time of this search
    result.as_of = result.as_of or now_iso()
    permalink = search_state({"q": result.query, **params, "as_of": result.as_of})
    return render_template("search.html", r=result, state=state, permalink=permalink)


def export_search(fmt: str) -> Any:
    """This search's first hits (`limit`, at most 1,000; the page and per_page are ignored) as a
    file: CSV, RIS, BibTeX or CSL-JSON. The same filter of restricted documents as the search."""
    if fmt not in exports.FORMATS:
        raise QueryError(
            f"unknown export format {fmt[:40]!r} (use one of: {', '.join(exports.FORMATS)})"
        )
    params = search_params(request.args)
    out = library().search.export(
        params["q"],
        filters=params["filters"],
        sort=params["sort"],
        limit=request.args.get("limit") or exports.MAX_HITS,
        include_restricted=sees_restricted(),
        as_of=params["as_of"],
        within=params["within"],
    )
    body = exports.export(out.entries, fmt, _pinned_links if out.historic else _links)
    headers = {
        "Content-Type": exports.MEDIA_TYPES[fmt],
        "Content-Disposition": f'attachment; filename="search.{exports.EXTENSIONS[fmt]}"',
        "X-Result-Total": str(out.total),  # documents found; the file holds the first of them
        "X-Result-Count": str(len(out.entries)),
        "X-Result-Partial": "true" if out.partial else "false",  # the deadline cut the search
        "X-Result-As-Of": out.as_of or now_iso(),  # ?as_of= with this time: the same file again
        "Vary": "Accept",
    }
    return body, 200, headers


def _links(entry: exports.Entry) -> exports.Links:
    anchor = entry.passage.anchor if entry.passage else ""
    return exports.Links(
        permalink=doc_url(entry.doc.id, external=True),
        version=doc_url(entry.doc.id, entry.version, external=True),
        passage=doc_url(entry.doc.id, anchor=anchor, external=True),
    )


def _pinned_links(entry: exports.Entry) -> exports.Links:
    """As of a past time, a hit's passage is cited in the version that matched."""
    links = _links(entry)
    anchor = entry.passage.anchor if entry.passage else ""
    return replace(links, passage=doc_url(entry.doc.id, entry.version, anchor, external=True))


# The bundled collection (archive/ in the repository): the home page describes it only when it is
# what is served, whole.
BUNDLED_IDS = frozenset({
    "echr-magnitskiy-2019", "echr-magnitskiy-2019-press-release", "us-magnitsky-act-2012",
    "us-global-magnitsky-act-2016", "us-eo-13818-2017", "uk-ghr-sanctions-regulations-2020",
    "eu-regulation-2020-1998", "ca-magnitsky-law-2017", "article-magnitsky-laws-after-strasbourg",
    "article-russian-response-baltic-laws",
})  # fmt: skip


def _home(*, hint: bool) -> str:
    lib = library()
    see = sees_restricted()
    recent = views.recent_documents(lib.archive, 20, include_restricted=see)
    total = lib.archive.count_visible(include_restricted=see)
    kinds = lib.archive.count_by_kind(include_restricted=see)
    newest = views.newest_documents(lib.archive, 5, include_restricted=see)
    present = views.documents_by_id(lib.archive, sorted(BUNDLED_IDS))
    bundled = len(present) == len(BUNDLED_IDS) and all(
        not d.withdrawn and (see or not d.restricted) for d in present.values()
    )
    return render_template(
        "home.html", recent=recent, total=total, kinds=kinds, newest=newest, bundled=bundled,
        hint=hint,
    )  # fmt: skip


@bp.get("/feed.atom")
def feed() -> Any:
    docs = views.recent_documents(library().archive, FEED_SIZE)
    entries = [_entry(d, "") for d in docs]
    return _atom("Recently added documents", entries, url_for("pages.feed", _external=True))


@bp.get("/search.atom")
def search_feed() -> Any:
    params = search_params(request.args)
    params["sort"] = request.args.get("sort") or "newest"
    params["per_page"] = request.args.get("per_page") or str(FEED_SIZE)
    params.pop("as_of")  # a feed follows the archive as it grows
    lib = library()
    result = lib.search.search(params.pop("q"), **params)
    docs = views.documents_by_id(lib.archive, [h.id for h in result.hits])
    entries = [_entry(docs[h.id], h.snippet) for h in result.hits if h.id in docs]
    state = search_state({"q": result.query, **params})
    self_url = url_for("pages.search_feed", _external=True, **state)
    return _atom(
        f"Search: {result.query}",
        entries,
        self_url,
        url_for("pages.search", _external=True, **state),
    )


def _entry(doc: Any, snippet: str) -> dict[str, Any]:
    return {
        "doc": doc,
        "url": doc_url(doc.id, external=True),
        "citation": short_citation(doc),
        "snippet": snippet,
        "updated": doc.created_at or now_iso(),
    }


def _atom(title: str, entries: list[dict[str, Any]], self_url: str, alt_url: str = "") -> Any:
    updated = max((e["updated"] for e in entries), default=now_iso())
    body = render_template(
        "feed.atom.xml",
        title=title,
        entries=entries,
        self_url=self_url,
        alt_url=alt_url or url_for("pages.home", _external=True),
        updated=updated,
    )
    return body, 200, {"Content-Type": "application/atom+xml; charset=utf-8"}
