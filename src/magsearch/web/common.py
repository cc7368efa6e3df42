"""What the blueprints share: the per-process Library, input validation, search parameters, URLs.

Nothing here decides anything about documents or search: it turns requests into the service
layer's arguments and the service layer's answers into what templates need.
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any

from flask import current_app, request, url_for
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from magsearch import citations, cite, views
from magsearch.accounts import Accounts
from magsearch.config import Settings
from magsearch.errors import NotFound, QueryError
from magsearch.library import Library, open_library
from magsearch.models import Document, Passage, Version
from magsearch.results import Hit

ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
VERSION_RE = re.compile(r"^[0-9a-f]{64}$")
ANCHOR_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$")
FILTERS = ("kind", "court", "jurisdiction", "year")
SIMILAR_CACHE_SIZE = 512


class LibraryHolder:
    """One Library per process, opened on first use (so nothing happens at import or fork time,
    and each gunicorn worker gets its own SQLite connections and Whoosh searchers)."""

    def __init__(self, settings: Settings, library: Library | None = None) -> None:
        self.settings = settings
        self._lib = library
        self._pid = os.getpid() if library is not None else None
        self._owned = library is None
        self._lock = threading.Lock()
        self.similar_cache: dict[tuple[str, str, bool], list[Hit]] = {}
        self.similar_generation = -1  # the index generation the similar_cache was filled from
        self._accounts: tuple[Library, Accounts] | None = None

    def accounts(self, lib: Library) -> Accounts:
        """The accounts and audit log of this process's Library."""
        found = self._accounts
        if found is None or found[0] is not lib:
            found = self._accounts = (lib, Accounts(lib.archive))
        return found[1]

    def get(self) -> Library:
        pid = os.getpid()
        if self._lib is None or self._pid != pid:
            with self._lock:
                if self._lib is None or self._pid != pid:
                    self._lib = open_library(self.settings, sync=False)
                    self._pid = pid
                    self._owned = True
        return self._lib

    def close(self) -> None:
        if self._lib is not None and self._owned and self._pid == os.getpid():
            self._lib.close()
        self._lib = None


def library() -> Library:
    holder: LibraryHolder = current_app.extensions["magsearch"]
    return holder.get()


# -- validation ------------------------------------------------------------------------------------
def valid_id(doc_id: str) -> str:
    if not ID_RE.match(doc_id):
        raise NotFound(f"no document {doc_id[:80]!r}")
    return doc_id


def valid_version(version: str) -> str:
    if not VERSION_RE.match(version):
        raise NotFound(f"no version {version[:80]!r}")
    return version


def valid_anchor(anchor: str) -> str:
    if not ANCHOR_RE.match(anchor):
        raise NotFound(f"no passage {anchor[:80]!r}")
    return anchor


# -- search parameters -----------------------------------------------------------------------------
def search_params(args: MultiDict[str, str]) -> dict[str, Any]:
    """The search service's keyword arguments from a query string."""
    filters: dict[str, list[str]] = {}
    for name in FILTERS:
        values = [v for v in args.getlist(name) if v.strip()]
        if values:  # the search service bounds their number and length
            filters[name] = values
    return {
        "q": args.get("q", ""),
        "filters": filters,
        "sort": args.get("sort", "relevance") or "relevance",
        "page": args.get("page", "1") or "1",
        "per_page": args.get("per_page", "10") or "10",
        "as_of": args.get("as_of") or None,  # the archive as it stood then (checked by the service)
        "within": args.get("within") or None,  # a second query, within the results of q
        "explain": args.get("explain") == "1",  # why each hit scored as it did
    }


def search_state(params: dict[str, Any]) -> dict[str, Any]:
    """A search as URL arguments (the defaults left out, so shared URLs stay short)."""
    state: dict[str, Any] = {"q": params["q"], **params["filters"]}
    if params.get("sort", "relevance") != "relevance":
        state["sort"] = params["sort"]
    if str(params.get("per_page", "10")) != "10":
        state["per_page"] = params["per_page"]
    if params.get("as_of"):
        state["as_of"] = params["as_of"]
    if params.get("within"):
        state["within"] = params["within"]
    return state


def search_url(state: dict[str, Any], endpoint: str = "pages.search", /, **changes: Any) -> str:
    """The URL of this search with some arguments changed (None removes one); back to page 1
    unless a page is given."""
    merged = {**state, **changes}
    return url_for(endpoint, **{k: v for k, v in merged.items() if v not in (None, "", [])})


def toggle_filter(state: dict[str, Any], name: str, value: str) -> str:
    """The URL that adds this facet value to the search, or removes it when it is already on."""
    current = list(state.get(name, []))
    values = [v for v in current if v != value] if value in current else [*current, value]
    return search_url(state, **{name: values or None})


_MARK = re.compile(r"(</?mark>)")


def safe_snippet(snippet: str) -> Markup:
    """A snippet from the search service is escaped HTML with only <mark> tags; make sure of it:
    any other '<' or '>' left in the text is escaped, so only <mark> can ever be markup."""
    parts = _MARK.split(snippet or "")
    out = [p if _MARK.fullmatch(p) else p.replace("<", "&lt;").replace(">", "&gt;") for p in parts]
    return Markup("".join(out))


# -- URLs and citation blocks ----------------------------------------------------------------------
def doc_url(
    doc_id: str, version: str | None = None, anchor: str = "", external: bool = False
) -> str:
    if version:
        url = url_for("documents.version", doc_id=doc_id, version=version, _external=external)
    else:
        url = url_for("documents.document", doc_id=doc_id, _external=external)
    return f"{url}#{anchor}" if anchor else url


def citation_block(
    doc: Document, version: str | None = None, passage: Passage | None = None
) -> dict[str, Any]:
    """The formatted citations of a document (or of one passage), with the permalink they give."""
    url = doc_url(doc.id, version, passage.anchor if passage else "", external=True)
    return {
        "url": url,
        "bluebook": cite.bluebook(doc, passage, url if doc.kind.value == "article" else ""),
        "oscola": cite.oscola(doc, passage, url if doc.kind.value == "article" else ""),
        "mcgill": cite.mcgill(doc, passage, url if doc.kind.value == "article" else ""),
        "short": cite.short_citation(doc),
    }


def highwire(doc: Document, version: Version) -> list[tuple[str, str]]:
    pdf = ""
    if version.media_type == "application/pdf":
        pdf = url_for(
            "documents.version_original", doc_id=doc.id, version=version.sha256, _external=True
        )
    return cite.highwire_tags(
        doc, html_url=doc_url(doc.id, external=True), pdf_url=pdf, pages=version.pages
    )


def wants_json() -> bool:
    return request.path.startswith("/api/")


def similar(
    lib: Library, doc: Document, limit: int = 5, *, include_restricted: bool = False
) -> list[Hit]:
    """ "More like this", when the search service offers it (its absence is not an error).
    It costs a search of its own, so it is kept per (document, version) until the next commit to
    the index (by any process: a withdrawn document leaves every page at once); what has been
    restricted since is left out when it is read."""
    more_like_this = getattr(lib.search, "more_like_this", None)
    if more_like_this is None:
        return []
    holder: LibraryHolder = current_app.extensions["magsearch"]
    generation = lib.index.generation()
    if generation != holder.similar_generation:
        holder.similar_cache.clear()
        holder.similar_generation = generation
    cache = holder.similar_cache
    key = (doc.id, doc.current_version, include_restricted)
    if key not in cache:
        try:
            hits = more_like_this(doc.id, include_restricted=include_restricted)
        except (QueryError, NotFound):
            hits = []
        if len(cache) >= SIMILAR_CACHE_SIZE:
            cache.clear()
        cache[key] = [h for h in hits if h.id != doc.id]
    hidden = lib.search.hidden(include_restricted=include_restricted)
    return [h for h in cache[key] if h.id not in hidden][:limit]


def document_context(
    lib: Library,
    doc: Document,
    view: dict[str, Any],
    *,
    pinned: str | None,
    include_restricted: bool = False,
    part: int = 1,
) -> dict[str, Any]:
    """What the document template needs, from `views.document_view` and the archive. A long text
    is shown in parts (`?part=2`) of about views.PART_CHARS characters, so a page stays bounded."""
    shown = lib.archive.get_version(view["version"])
    versions = {v["sha256"]: v for v in view["versions"]}
    passages = view["passages"]
    parts = views.text_parts([len(p["text"]) for p in passages])
    if not 1 <= part <= len(parts):
        raise NotFound(f"document {doc.id!r} has no part {part} (it has {len(parts)})")
    page_of = {p["anchor"]: n for n, (a, b) in enumerate(parts, 1) for p in passages[a:b]}
    here = doc_url(doc.id, pinned)

    def part_url(n: int) -> str:
        return here if n == 1 else f"{here}?part={n}"

    def anchor_href(anchor: str) -> str:
        n = page_of.get(anchor, part)
        return f"#{anchor}" if n == part else f"{part_url(n)}#{anchor}"

    first, end = parts[part - 1]
    return {
        "doc": doc,
        "view": view,
        "ver": versions[view["version"]],
        "current": versions.get(doc.current_version),
        "pinned": pinned,
        "cite": citation_block(doc, pinned),
        "meta_tags": highwire(doc, shown),
        "labels": {p["anchor"]: p["label"] for p in view["passages"]},
        "unlinked": unlinked_citations(view),
        "similar": similar(lib, doc, include_restricted=include_restricted),
        "formats": cite.FORMATS,
        "canonical": doc_url(doc.id, external=True),
        "passages": passages[first:end],
        "part": part,
        "parts": len(parts),
        "part_url": part_url,
        "anchor_href": anchor_href,
    }


def unlinked_citations(view: dict[str, Any]) -> list[dict[str, Any]]:
    """What the document cites that the archive does not hold (nor the document itself is): each
    citation once (as normalised),
    with its family's name and the passages it occurs in, in order of first occurrence."""
    linked = {c["normalized"] for c in view["cites"]} | set(view["document"]["identifiers"])
    out: dict[str, dict[str, Any]] = {}
    for c in view["citations"]:
        if c["normalized"] in linked:
            continue
        entry = out.setdefault(
            c["normalized"],
            {
                "normalized": c["normalized"],
                "family": citations.FAMILIES.get(c["family"], c["family"]),
                "anchors": [],
            },
        )
        if c["anchor"] not in entry["anchors"]:
            entry["anchors"].append(c["anchor"])
    return list(out.values())


def page_window(page: int, last: int, width: int = 2) -> list[int | None]:
    """Page numbers around the current one, with None for a gap: [1, None, 4, 5, 6, None, 20]."""
    shown = sorted({1, last, *range(max(1, page - width), min(last, page + width) + 1)})
    out: list[int | None] = []
    for n in shown:
        if out and n - (out[-1] or 0) > 1:
            out.append(None)
        out.append(n)
    return out
