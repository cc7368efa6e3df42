"""The full-text index: derived from the archive, rebuildable at any time (`magsearch reindex`)."""

from .base import DocHit, IndexBackend, IndexRecord, PassageHit, SearchRequest, SearchResult

__all__ = ["DocHit", "IndexBackend", "IndexRecord", "PassageHit", "SearchRequest", "SearchResult"]
