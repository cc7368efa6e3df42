"""The full-text index: derived from the archive, rebuildable at any time (`magsearch reindex`)."""

from collections.abc import Mapping
from typing import Any

from .base import DocHit, IndexBackend, IndexRecord, PassageHit, SearchRequest, SearchResult

__all__ = [
    "DocHit",
    "IndexBackend",
    "IndexRecord",
    "PassageHit",
    "SearchRequest",
    "SearchResult",
    "analyse_text",
]


def analyse_text(engine: str, rec: IndexRecord) -> Mapping[tuple[str, str], Any]:
    """The named engine's analysis of a document's records' text, done where the document is
    parsed (IndexRecord.terms: the writer's thread is left with writing); empty for an engine that
    analyses everything itself."""
    if engine == "whoosh":
        from .whoosh import analyse_text as whoosh_analyse

        return whoosh_analyse(rec)
    return {}
