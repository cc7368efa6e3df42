"""magsearch: a document archive and full-text search for rulings, legislation and articles.

Layers (imports point down only):
core (models, errors, config, citations, names) -> infrastructure (archive, index, ingest)
-> services (search, cite) -> adapters (web, cli).
"""

__version__ = "0.1.0"
