"""The exception tree. Every error a user can cause is a MagsearchError with a one-line message.

MagsearchError
 +-- IngestError      a file could not be ingested (message: the reason, e.g. "encrypted: password required")
 +-- ArchiveError     the archive or catalog refused an operation or failed a fixity check
 +-- IndexUnavailable the index is locked by another writer, missing, or of another schema version
 +-- QueryError       a search query or parameter that cannot be understood
 +-- NotFound         an unknown document, version or anchor
 +-- Withdrawn        a document that was withdrawn (its citation is kept)
"""

import unicodedata


class MagsearchError(Exception):
    """Base of every error magsearch raises on purpose."""


class IngestError(MagsearchError):
    pass


class ArchiveError(MagsearchError):
    pass


class IndexUnavailable(MagsearchError):
    pass


class QueryError(MagsearchError):
    pass


class SettingError(MagsearchError):
    """A MAGSEARCH_* environment variable with a value that means nothing: a usage error."""


class NotFound(MagsearchError):
    pass


class Withdrawn(MagsearchError):
    def __init__(self, message: str, document: object = None) -> None:
        super().__init__(message)
        self.document = document


def printable(text: object, *, json: bool = False) -> str:
    """`text` safe to print on one line of a terminal or a log: control characters (newline, CR,
    tab, ESC and the rest of C0 and C1), Unicode line and paragraph separators, invisible format
    characters (bidi overrides and isolates, zero-width spaces) and lone surrogates (undecodable
    bytes of a file name) are written as escapes (`\\n`, `\\x1b`, `\\u202e`), so a file name
    cannot forge a line, colour a terminal or reorder what follows it. Everything else, Cyrillic and
    accents included, is kept as it is. With json=True, `text` is a JSON document and the escapes
    are JSON's (`\\u202e`): it parses to the same data."""
    s = str(text)
    if s.isprintable():  # the common case: nothing to escape
        return s
    esc = _json_escape if json else _escape
    return "".join(
        esc(ch) if unicodedata.category(ch) in _UNSAFE and ch != _ZWJ else ch for ch in s
    )


_UNSAFE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})  # controls, format, separators, surrogates
_ZWJ = "\u200d"  # the zero-width joiner is kept: it joins emoji and some scripts' letters
_SPECIAL = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str) -> str:
    code = ord(ch)
    if ch in _SPECIAL:
        return _SPECIAL[ch]
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def _json_escape(ch: str) -> str:
    if ch in "\n\r\t":  # JSON escapes these itself; only whitespace between tokens is left raw
        return ch
    code = ord(ch)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # a UTF-16 surrogate pair, as JSON writes characters beyond the BMP
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
