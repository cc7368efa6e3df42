"""Citations of archived documents, as people paste them.

`short_citation` is the one-line form shown beside every search hit.
"""

from __future__ import annotations

from .models import Document, Kind


def short_citation(doc: Document) -> str:
    ids = ", ".join(doc.identifiers[:2])
    if doc.kind is Kind.RULING:
        name = doc.meta.get("case_name") or doc.title
        nos = [i for i in doc.identifiers if "/" in i and i.replace("/", "").isdigit()]
        number = f", nos. {' and '.join(nos)}" if len(nos) > 1 else (f", no. {nos[0]}" if nos else "")
        court = doc.court or doc.jurisdiction
        when = ", ".join(x for x in (court, doc.date) if x)
        return f"{name}{number}" + (f" ({when})" if when else "")
    if doc.kind is Kind.LEGISLATION:
        name = doc.meta.get("short_title") or doc.title
        year = f" ({doc.date[:4]})" if doc.date[:4].isdigit() else ""
        return f"{name}{', ' + ids if ids else ''}{year}"
    authors = doc.meta.get("authors") or []
    who = (", ".join(authors[:3]) + ", ") if authors else ""
    where = ", ".join(x for x in (doc.meta.get("publisher", ""), doc.date) if x)
    return f"{who}{doc.title}" + (f" ({where})" if where else "")
