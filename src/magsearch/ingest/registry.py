"""One small Parser protocol and the table of parsers by media type.

A parser turns the bytes of one file into a `Parsed` (blocks + metadata + warnings) or raises
`IngestError` with a one-line reason. Parsers run inside the isolated ingest worker, so they only
parse: no printing, no files, no network.

The table is explicit and imports lazily, so importing this module does not import pypdf or bs4.
"""

from __future__ import annotations

import importlib
from typing import Protocol, runtime_checkable

from magsearch.errors import IngestError
from magsearch.ingest.detect import detect
from magsearch.models import Parsed

__all__ = ["Parser", "parser_for", "parse_bytes", "media_types", "DEFAULT_MAX_PAGES"]

DEFAULT_MAX_PAGES = 5000


@runtime_checkable
class Parser(Protocol):
    media_types: tuple[str, ...]

    def parse(self, data: bytes, *, max_pages: int = DEFAULT_MAX_PAGES) -> Parsed: ...


# media type -> (module, class). Keep in step with each parser's `media_types`.
_PARSERS: dict[str, tuple[str, str]] = {
    "application/pdf": ("magsearch.ingest.pdf", "PdfParser"),
    "text/html": ("magsearch.ingest.html", "HtmlParser"),
    "application/xhtml+xml": ("magsearch.ingest.html", "HtmlParser"),
    "text/plain": ("magsearch.ingest.text", "TextParser"),
}
_instances: dict[tuple[str, str], Parser] = {}


def media_types() -> tuple[str, ...]:
    """Every media type a parser is registered for."""
    return tuple(_PARSERS)


def parser_for(media_type: str) -> Parser:
    """The parser registered for `media_type` (parameters such as "; charset=" are ignored)."""
    key = media_type.split(";", 1)[0].strip().lower()
    target = _PARSERS.get(key)
    if target is None:
        raise IngestError(f"no parser for {key or 'an empty media type'}")
    parser = _instances.get(target)
    if parser is None:
        module = importlib.import_module(target[0])
        parser = getattr(module, target[1])()
        _instances[target] = parser
    return parser


def parse_bytes(data: bytes, *, max_pages: int = DEFAULT_MAX_PAGES) -> Parsed:
    """Detect the format of `data` and parse it with the registered parser."""
    return parser_for(detect(data)).parse(data, max_pages=max_pages)
