"""HTML parser: the only module that imports bs4. Always the lxml tree builder, never html.parser
(CPython's is quadratic on crafted input, reliability notes §1.2).

Decoding: a BOM wins; then the charset declared in the first 16 KB (``<meta charset>``,
``http-equiv`` content-type, an XML declaration), except that bytes which are valid UTF-8 are read
as UTF-8 whatever the declaration says (a re-saved page keeps its old declaration; the corpus's qq
page says gb2312), with a warning; a declaration that does not fit the bytes falls back to
charset-normalizer; no declaration: UTF-8, else charset-normalizer. Undecodable bytes become U+FFFD
with a warning; NUL bytes are removed with a warning.

Main text: scripts, styles, form controls, embedded objects and hidden elements are never text;
nav, aside, footer, the page's own header (an article's header is kept) and ARIA landmarks for
navigation, banners, search etc. are skipped; forms and elements whose class or id names
navigation, menu, breadcrumb, footer, sidebar, share/social, comment, advert/promo, cookie,
subscribe or related are skipped unless they hold much of the page's text (ASP.NET pages wrap
everything in one form). The largest ``<main>`` / ``[role=main]`` / ``<article>`` is used when it
holds at least a quarter of the page's text, else the whole body.

Blocks: h1-h6 become role "heading" with their level; p, li, blockquote, dd/dt, table rows (cells
joined with " | "), divs with their own text and the like become "para". Two ``<br>`` in a row end
a paragraph; ``<pre>`` splits at blank lines. Whitespace inside a block is collapsed.

Metadata from meta tags (Highwire ``citation_*``, Open Graph, Dublin Core), JSON-LD (malformed
JSON is ignored), ``<title>``, ``<link rel=canonical>`` and ``<html lang>``: title, authors, date
(ISO), publisher, source_url, language, identifiers, court, case_name.
"""

from __future__ import annotations

import codecs
import gc
import json
import re
import warnings
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString

from magsearch.errors import IngestError
from magsearch.ingest.text import bom_encoding, guess_encoding, iso_date
from magsearch.models import Block, Parsed

__all__ = ["HtmlParser", "decode_html"]

_PRESCAN = 16 * 1024
_META_CHARSET = re.compile(rb"<meta[^>]{0,512}?charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.I)
_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]{0,200}?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)")
# WHATWG: these labels mean Windows-1252 / GBK in practice.
_CHARSET_ALIASES = {"iso8859-1": "cp1252", "ascii": "cp1252", "gb2312": "gbk"}

_NEVER_TEXT = frozenset(
    "script style noscript template svg iframe button select option textarea input object embed "
    "canvas video audio map head title meta link base".split()
)
_INVISIBLE = frozenset("script style noscript template head title meta link base".split())
_FURNITURE_TAGS = frozenset(("nav", "aside", "footer"))
_BLOCK_TAGS = frozenset(
    "p div section article main header li ul ol dl dd dt blockquote table thead tbody tfoot tr "
    "caption figure figcaption address details summary center hr fieldset legend body html "
    "h1 h2 h3 h4 h5 h6 pre option select button textarea".split()
)
_CELL_TAGS = frozenset(("td", "th"))
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
# class/id tokens (split at "-", "_" and spaces) that name page furniture
_FURNITURE_EXACT = frozenset(
    "nav ad ads adslot menu menus share shares comment comments commentlist disqus gdpr consent "
    "masthead skiplink dfp outbrain taboola".split()
)
_FURNITURE_PREFIXES = tuple(
    "footer sidebar navbar navigation breadcrumb social sharing sharebar advert promo cookie "
    "subscribe subscription newsletter related".split()
)
_FURNITURE_SUFFIXES = ("footer", "sidebar", "navbar", "navigation", "nav", "menu", "breadcrumbs")
_FURNITURE_ROLES = frozenset(
    "navigation menu menubar contentinfo complementary banner search dialog alertdialog".split()
)
_SPACES = re.compile(r"\s+")
_TOKEN_SPLIT = re.compile(r"[\s_-]+")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_KEEP_SHARE = 0.5  # a flagged element holding this share of the page's text is kept anyway
_KEEP_FORM_SHARE = 0.25
_MAIN_SHARE = 0.25  # a main/article candidate must hold this share of the page's text


# --------------------------------------------------------------------------- decoding


def _declared_charset(head: bytes) -> str | None:
    m = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    if not m:
        return None
    try:
        name = codecs.lookup(m[1].decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None
    if name.startswith("utf-16") or name.startswith("utf-32"):
        return "utf-8"  # a UTF-16 page would not have an ASCII-readable declaration
    return _CHARSET_ALIASES.get(name, name)


def _replaced(text: str, encoding: str) -> list[str]:
    count = text.count("\ufffd")
    return [f"{count} undecodable byte(s) replaced (decoded as {encoding})"] if count else []


def decode_html(data: bytes) -> tuple[str, list[str]]:
    """The text of an HTML document and any decoding warnings (see the module docstring)."""
    bom = bom_encoding(data)
    if bom:
        name, skip = bom
        text = data[skip:].decode(name, errors="replace")
        return text, _replaced(text, name)
    if data.isascii():
        return data.decode("ascii"), []
    declared = _declared_charset(data[:_PRESCAN])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if declared and declared != "utf-8":
            return text, [f"charset {declared} declared, but the bytes are UTF-8; read as UTF-8"]
        return text, []
    if declared and declared != "utf-8":
        try:
            return data.decode(declared), []
        except UnicodeDecodeError:
            pass
    guess = guess_encoding(data)
    if guess and guess != declared:
        text = data.decode(guess, errors="replace")
        what = f"charset {declared} declared but does not fit" if declared else "no charset"
        return text, [f"{what}; guessed {guess}"] + _replaced(text, guess)
    encoding = declared or "cp1252"
    text = data.decode(encoding, errors="replace")
    return text, _replaced(text, encoding)


# --------------------------------------------------------------------------- tree helpers


def _is_text(node: Any) -> bool:
    return isinstance(node, NavigableString) and not isinstance(node, PreformattedString)


def _attr_text(tag: Tag, name: str) -> str:
    value = tag.attrs.get(name) if tag.attrs else None
    if isinstance(value, list):
        return " ".join(value)
    return value or ""


def _never_text(tag: Tag) -> bool:
    """Scripts, styles, form controls, embedded objects and hidden elements."""
    if tag.name in _NEVER_TEXT:
        return True
    attrs = tag.attrs
    if not attrs:
        return False
    if "hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true":
        return True
    return "style" in attrs and bool(_HIDDEN_STYLE.search(_attr_text(tag, "style")))


def _furniture(tag: Tag) -> bool:
    """nav, aside, footer and the ARIA landmarks for navigation, banners, search and the like."""
    if tag.name in _FURNITURE_TAGS:
        return True
    return bool(tag.attrs) and _attr_text(tag, "role").lower() in _FURNITURE_ROLES


def _flagged(tag: Tag) -> bool:
    """A <form>, or an element whose class or id names page furniture; a guess, so the caller
    keeps it when it holds much of the page's text."""
    if tag.name == "form":
        return True
    attrs = tag.attrs
    if not attrs or ("class" not in attrs and "id" not in attrs):
        return False
    names = f"{_attr_text(tag, 'class')} {_attr_text(tag, 'id')}".lower()
    for token in _TOKEN_SPLIT.split(names):
        if token and (
            token in _FURNITURE_EXACT
            or token.startswith(_FURNITURE_PREFIXES)
            or token.endswith(_FURNITURE_SUFFIXES)
        ):
            return True
    return False


@dataclass
class _Survey:
    """What one pass over the whole tree finds: text lengths and the metadata elements."""

    lengths: dict[int, int] = field(default_factory=dict)  # id(tag) -> visible text length
    metas: list[Tag] = field(default_factory=list)
    links: list[Tag] = field(default_factory=list)
    json_ld: list[str] = field(default_factory=list)
    title: str | None = None
    h1: Tag | None = None
    html: Tag | None = None
    body: Tag | None = None
    candidates: list[Tag] = field(default_factory=list)  # main, article, [role=main]

    def note(self, tag: Tag) -> None:
        name = tag.name
        if name == "meta":
            self.metas.append(tag)
        elif name == "link":
            self.links.append(tag)
        elif name == "script":
            if _attr_text(tag, "type").strip().lower() == "application/ld+json":
                self.json_ld.append(tag.string or "")
        elif name == "title":
            if self.title is None:
                self.title = tag.get_text()
        elif name == "h1":
            self.h1 = self.h1 or tag
        elif name == "html":
            self.html = self.html or tag
        elif name == "body":
            self.body = self.body or tag
        if name in ("main", "article") or (tag.attrs and _attr_text(tag, "role") == "main"):
            self.candidates.append(tag)


def _survey(root: Tag) -> _Survey:
    """One iterative pass (deep nesting is fine) over every element under `root`."""
    survey = _Survey()
    # frame: tag, its children, [text length], counted (False inside never-text elements)
    stack: list[tuple[Tag, Iterator[Any], list[int], bool]] = [
        (root, iter(root.contents), [0], True)
    ]
    while stack:
        tag, children, total, counted = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            survey.lengths[id(tag)] = total[0]
            if stack and counted:
                stack[-1][2][0] += total[0]
            continue
        if isinstance(child, Tag):
            survey.note(child)
            if child.contents:
                stack.append((child, iter(child.contents), [0], counted and not _never_text(child)))
        elif counted and _is_text(child):
            total[0] += len(child.strip())
    return survey


# --------------------------------------------------------------------------- blocks


class _BlockWriter:
    """Accumulates inline text and emits Blocks at block boundaries."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.buffer: list[str] = []
        self.heading: list[int] = []  # levels of the open heading elements
        self.pre = 0  # depth of open <pre> elements
        self.has_text = False  # the buffer holds more than whitespace

    def text(self, value: str) -> None:
        self.buffer.append(value if self.pre else _SPACES.sub(" ", value))
        self.has_text = self.has_text or not value.isspace()

    def line_break(self) -> None:
        if self.pre:
            self.buffer.append("\n")
            return
        if "".join(self.buffer[-3:]).rstrip(" ").endswith("\n"):
            self.flush()  # <br><br>: a paragraph break
        else:
            self.buffer.append("\n")

    def cell_end(self) -> None:
        if self.has_text:
            self.buffer.append(" | ")

    def flush(self) -> None:
        if not self.buffer:
            return
        raw = "".join(self.buffer)
        self.buffer.clear()
        self.has_text = False
        if self.pre:
            parts = re.split(r"\n\s*\n", raw)
        else:
            parts = [raw]
        for part in parts:
            text = " ".join(part.split()).strip(" |")
            if not text or not any(c.isalnum() for c in text):
                continue
            if self.heading:
                self.blocks.append(Block(text, "heading", None, self.heading[-1]))
            else:
                self.blocks.append(Block(text, "para"))


def _invisible(tag: Tag) -> bool:
    """What a reader never sees on the page: scripts, styles, the head, hidden elements."""
    return tag.name in _INVISIBLE or (
        _never_text(tag) and tag.name not in _NEVER_TEXT  # hidden, aria-hidden, display:none
    )


def _walk(
    root: Tag, lengths: dict[int, int], *, strip_furniture: bool = True, everything: bool = False
) -> list[Block]:
    """Blocks of `root`'s visible text without page furniture; iterative (deep nesting is ok).
    With `everything`, every text a reader sees, controls' labels included."""
    skip = _invisible if everything else _never_text
    total = max(lengths.get(id(root), 0), 1)
    writer = _BlockWriter()
    # A frame is (tag, remaining children); popping it closes the element.
    stack: list[tuple[Tag, Iterator[Any]]] = []

    def open_tag(tag: Tag) -> None:
        if tag.name in _BLOCK_TAGS:
            writer.flush()
        if tag.name in _HEADINGS:
            writer.heading.append(_HEADINGS[tag.name])
        elif tag.name == "pre":
            writer.pre += 1
        stack.append((tag, iter(tag.contents)))

    def close_tag(tag: Tag) -> None:
        if tag.name in _CELL_TAGS:
            writer.cell_end()
        if tag.name in _BLOCK_TAGS:
            writer.flush()
        if tag.name in _HEADINGS:
            writer.heading.pop()
        elif tag.name == "pre":
            writer.pre -= 1

    open_tag(root)
    while stack:
        tag, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            close_tag(tag)
            continue
        if isinstance(child, Tag):
            if child.name == "br":
                writer.line_break()
            elif skip(child) or (strip_furniture and _skipped(child, stack, lengths, total)):
                continue
            else:
                open_tag(child)
        elif _is_text(child):
            writer.text(str(child))
    writer.flush()
    return writer.blocks


def _skipped(
    tag: Tag, stack: list[tuple[Tag, Iterator[Any]]], lengths: dict[int, int], total: int
) -> bool:
    if _furniture(tag):
        return True
    if tag.name == "header":  # the page's header; an article's own (title, byline) is kept
        return not any(open_tag.name in ("article", "main") for open_tag, _ in stack)
    return _flagged(tag) and not _holds_content(tag, lengths, total)


def _holds_content(tag: Tag, lengths: dict[int, int], total: int) -> bool:
    """A flagged element that holds much of the text is content after all."""
    share = lengths.get(id(tag), 0) / total
    if tag.name == "form":  # search/login forms are small; ASP.NET wraps the page in one
        return share >= _KEEP_FORM_SHARE or lengths.get(id(tag), 0) >= 1000
    return share >= _KEEP_SHARE


def _main_root(soup: BeautifulSoup, survey: _Survey) -> Tag:
    body = survey.body or soup
    lengths = survey.lengths
    if not survey.candidates:
        return body
    best = max(survey.candidates, key=lambda tag: lengths.get(id(tag), 0))
    if lengths.get(id(best), 0) >= max(200, _MAIN_SHARE * lengths.get(id(body), 0)):
        return best
    return body


def _outside(soup: BeautifulSoup, survey: _Survey, main: list[Block]) -> list[Block]:
    """The page's visible text that is not in its main text (side columns, notes, captions,
    navigation, controls' labels), as "outside" blocks: searchable, never a passage."""
    left = Counter(b.text for b in main)
    out: list[Block] = []
    for b in _walk(soup, survey.lengths, strip_furniture=False, everything=True):
        if left[b.text] > 0:
            left[b.text] -= 1
        else:
            out.append(Block(b.text, "outside"))
    return out


# --------------------------------------------------------------------------- metadata


def _meta_values(metas: list[Tag]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for tag in metas:
        content = " ".join(_attr_text(tag, "content").split())
        if not content:
            continue
        for attr in ("name", "property", "itemprop", "http-equiv"):
            key = _attr_text(tag, attr).strip().lower()
            if key:
                values.setdefault(key, []).append(content)
    return values


def _json_ld(sources: list[str]) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for raw in sources:
        if not raw.strip() or len(raw) > 2_000_000:
            continue
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            continue  # malformed JSON-LD is common; ignore it
        pending = deque([data])
        steps = 0
        while pending and len(objects) < 200 and steps < 10_000:
            steps += 1
            item = pending.popleft()
            if isinstance(item, list):
                pending.extend(item)
            elif isinstance(item, dict):
                objects.append(item)
                if isinstance(item.get("@graph"), list):
                    pending.extend(item["@graph"])
    return objects


def _ld_types(obj: dict[str, Any]) -> set[str]:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k) for k in kinds if k}


_LD_NOT_CONTENT = frozenset(
    "Organization Person WebSite ImageObject BreadcrumbList SearchAction".split()
)


def _ld_names(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            names.append(item["name"])
    return [" ".join(n.split()) for n in names if n.strip()]


def _first(*candidates: Any) -> str:
    for candidate in candidates:
        if isinstance(candidate, list):
            candidate = candidate[0] if candidate else ""
        if isinstance(candidate, str) and candidate.strip():
            return " ".join(candidate.split())
    return ""


def _strip_site_suffix(title: str, publisher: str) -> str:
    """Drop a " | Site" suffix when "Site" is (the start of) the publisher's name."""
    if not publisher:
        return title
    m = re.match(r"^(.{8,}?)\s+[|\-–—:·»]\s+([^|\-–—:·»]{2,80})$", title)
    if m and publisher.lower().startswith(m[2].strip().lower()):
        return m[1].strip()
    return title


# meta tag names (lower-cased name/property/itemprop), in order of preference
_TITLE_KEYS = ("citation_title", "og:title", "dc.title", "dcterms.title")
_AUTHOR_KEYS = ("citation_author", "dc.creator", "dcterms.creator")
_AUTHOR_FALLBACK_KEYS = ("author", "article:author", "og:article:author")
_DATE_KEYS = (
    "citation_publication_date citation_date dc.date dc.date.issued dcterms.issued dcterms.date "
    "dcterms.created article:published_time article:published".split()
)
_PUBLISHER_KEYS = ("citation_publisher", "og:site_name", "dc.publisher", "dcterms.publisher")
_IDENTIFIER_KEYS = (
    "citation_doi citation_technical_report_number dc.identifier dcterms.identifier".split()
)


def _pick(meta: dict[str, list[str]], keys: tuple[str, ...] | list[str]) -> str:
    return _first(*(meta.get(key) for key in keys))


def _names(*sources: list[str] | None) -> list[str]:
    """The names of the first source that has any (URLs are not names)."""
    for source in sources:
        names = [n for n in (source or []) if n.strip() and not re.match(r"https?://", n)]
        if names:
            return list(dict.fromkeys(" ".join(n.split()) for n in names))[:100]
    return []


def _metadata(survey: _Survey) -> dict[str, Any]:
    meta = _meta_values(survey.metas)
    ld = _json_ld(survey.json_ld)
    content = [o for o in ld if not (_ld_types(o) & _LD_NOT_CONTENT)] or ld
    ld_title = _first(*[o.get("headline") for o in content], *[o.get("name") for o in content])
    ld_date = _first(*[o.get(k) for k in ("datePublished", "dateCreated") for o in content])
    ld_authors = [n for o in content for n in _ld_names(o.get("author"))]
    h1 = survey.h1

    out: dict[str, Any] = {}
    out["publisher"] = _first(
        _pick(meta, _PUBLISHER_KEYS), *[_ld_names(o.get("publisher")) for o in content]
    )
    title = _first(
        _pick(meta, _TITLE_KEYS),
        ld_title,
        survey.title or "",
        h1.get_text(" ") if h1 is not None else "",
    )
    out["title"] = _strip_site_suffix(title, out["publisher"])[:1000]
    out["authors"] = _names(
        *(meta.get(k) for k in _AUTHOR_KEYS),
        ld_authors,
        *(meta.get(k) for k in _AUTHOR_FALLBACK_KEYS),
    )
    dates = [iso_date(_pick(meta, [key])) for key in _DATE_KEYS]
    dates += [iso_date(ld_date), iso_date(_pick(meta, ["datepublished"]))]
    out["date"] = next((d for d in dates if d), "")
    out["source_url"] = _source_url(survey.links, meta)
    out["language"] = _language(survey.html, meta)
    identifiers = [value for key in _IDENTIFIER_KEYS for value in meta.get(key, [])]
    out["identifiers"] = list(dict.fromkeys(identifiers))
    out["court"] = _pick(meta, ["citation_court"])
    if meta.get("citation_title") and (out["court"] or meta.get("citation_docket_number")):
        out["case_name"] = _pick(meta, ["citation_title"])
    return {key: value for key, value in out.items() if value}


def _source_url(links: list[Tag], meta: dict[str, list[str]]) -> str:
    for link in links:
        if "canonical" in _attr_text(link, "rel").lower().split():
            href = _attr_text(link, "href").strip()
            if re.match(r"https?://", href):
                return href
    urls = meta.get("og:url", []) + meta.get("citation_abstract_html_url", [])
    return _first([u for u in urls if re.match(r"https?://", u)])


def _language(html: Tag | None, meta: dict[str, list[str]]) -> str:
    lang = _attr_text(html, "lang") if html is not None else ""
    lang = lang or (_attr_text(html, "xml:lang") if html is not None else "")
    lang = lang or _pick(meta, ("content-language", "dc.language", "citation_language"))
    if not lang:
        locale = _pick(meta, ["og:locale"])
        lang = locale.replace("_", "-") if locale else ""
    lang = lang.strip()
    return lang if re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*", lang) else ""


# --------------------------------------------------------------------------- the parser


class HtmlParser:
    media_types: tuple[str, ...] = ("text/html", "application/xhtml+xml")

    def parse(self, data: bytes, *, max_pages: int = 5000) -> Parsed:
        if not data:
            raise IngestError("empty file")
        text, notes = decode_html(data)
        nuls = text.count("\x00")
        if nuls:
            text = text.replace("\x00", "")
            notes.append(f"{nuls} NUL byte(s) removed")
        gc_was_enabled = gc.isenabled()
        gc.disable()  # bs4 allocates a node object per element: ~25% faster without the cyclic GC
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # bs4's "looks like XML / a URL" hints
                soup = BeautifulSoup(text, "lxml")
            survey = _survey(soup)
            metadata = _metadata(survey)
            blocks = _walk(_main_root(soup, survey), survey.lengths)
            if not blocks and survey.lengths.get(id(soup), 0):
                notes.append("no main text found; kept the page furniture")
                blocks = _walk(survey.body or soup, survey.lengths, strip_furniture=False)
            outside = _outside(soup, survey, blocks)
        except RecursionError as exc:
            raise IngestError("HTML too deeply nested") from exc
        finally:
            if gc_was_enabled:
                gc.enable()
        if not blocks:
            notes.append("no text")
        return Parsed(
            format="html",
            media_type="text/html",
            blocks=blocks,
            metadata=metadata,
            pages=None,
            warnings=notes,
            outside=outside,
        )
