"""The exception tree. Every error a user can cause is a MagsearchError with a one-line message.

MagsearchError
 +-- IngestError      a file could not be ingested (message: the reason, e.g. "encrypted: password required")
 +-- ArchiveError     the archive or catalog refused an operation or failed a fixity check
 +-- IndexUnavailable the index is locked by another writer, missing, or of another schema version
 +-- QueryError       a search query or parameter that cannot be understood
 +-- NotFound         an unknown document, version or anchor
 +-- Withdrawn        a document that was withdrawn (its citation is kept)
"""


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


class NotFound(MagsearchError):
    pass


class Withdrawn(MagsearchError):
    def __init__(self, message: str, document: object = None) -> None:
        super().__init__(message)
        self.document = document
