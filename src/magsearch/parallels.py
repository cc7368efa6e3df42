"""Parallel provisions: the sections of other jurisdictions' laws that do the same thing.

For a section of legislation (any passage of a law: `sec-404`, `art-3`, `reg-4`, or an unnumbered
paragraph of a summary), `suggest` ranks the sections of the laws of *other* jurisdictions by what
they share: the words that matter (TF-IDF cosine over the passages of the laws in the archive,
without the words every law uses) and the citations both make (the same Act or Order cited counts
for much). Archivists confirm or reject each pair (`decide`, audited like every archivist write),
optionally under one of the TOPICS; a rejected pair is never suggested again, a confirmed one is
shown as such. `comparison` lays the laws side by side by topic, from the confirmed pairs.

The pairs live in the catalog (`parallels`), keyed by (document, anchor) on both sides, the two
ends in a fixed order, so a pair is one row whichever side it was decided from. A pair whose
section has since left a document's current version stays in the table (and in the audit log) but
is not shown. Restricted documents appear only to those who may see them.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .accounts import Accounts
from .archive import Archive, now_iso
from .cite import pin_label
from .errors import MagsearchError, NotFound
from .models import Document, Kind, Passage

TOPICS: dict[str, str] = {
    "designation": "Who may be designated",
    "sanctions": "What the sanctions are",
    "ending": "How a designation ends",
    "reports": "Reports to the legislature",
}
MIN_CHARS = 40  # a shorter passage (a heading, "Annexes") is no provision to compare
SUGGESTIONS = 5
MIN_SCORE = 0.08
CITATION_WEIGHT = 0.15  # per citation both sections make

_SCHEMA = """
CREATE TABLE IF NOT EXISTS parallels (
    a_doc TEXT NOT NULL, a_anchor TEXT NOT NULL,
    b_doc TEXT NOT NULL, b_anchor TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('confirmed', 'rejected')),
    topic TEXT NOT NULL DEFAULT '',
    actor TEXT NOT NULL, at TEXT NOT NULL,
    PRIMARY KEY (a_doc, a_anchor, b_doc, b_anchor)
);
CREATE INDEX IF NOT EXISTS parallels_b ON parallels(b_doc, b_anchor);
"""

_STOP = frozenset(
    """a an and any are as at be by for from has have in is it its may of on or such that the
    their this these those to under which who whom with where whether any other shall also not
    person persons section subsection paragraph article regulation regulations act order""".split()
)
_WORD = re.compile(r"[a-z][a-z]{2,}")


class ParallelError(MagsearchError):
    """A pair that cannot be decided (one line saying why)."""


@dataclass(frozen=True)
class Provision:
    doc: Document
    passage: Passage

    @property
    def key(self) -> tuple[str, str]:
        return (self.doc.id, self.passage.anchor)

    def view(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc.id,
            "title": self.doc.title,
            "short_title": str(self.doc.meta.get("short_title") or self.doc.title),
            "jurisdiction": self.doc.jurisdiction,
            "anchor": self.passage.anchor,
            "label": pin_label(self.passage),
            "heading": _heading(self.passage),
            "text": self.passage.text,
        }


def _heading(p: Passage) -> str:
    first = p.text.strip().split("\n", 1)[0]
    return first if len(first) <= 160 else first[:157] + "…"


def _schema(archive: Archive) -> None:
    archive.db.executescript(_SCHEMA)


def _ordered(a: tuple[str, str], b: tuple[str, str]) -> tuple[tuple[str, str], tuple[str, str]]:
    return (a, b) if a <= b else (b, a)


# -- the sections of the laws ------------------------------------------------------------------
def provisions(archive: Archive, *, include_restricted: bool) -> list[Provision]:
    """Every section of every current, visible law."""
    out = []
    for doc in archive.documents():
        if doc.kind is not Kind.LEGISLATION or doc.withdrawn:
            continue
        if doc.restricted and not include_restricted:
            continue
        for p in archive.passages(doc.current_version):
            if len(p.text) >= MIN_CHARS and not re.search(r"-part\d+$", p.anchor):
                out.append(Provision(doc, p))
    return out


def provision(archive: Archive, doc_id: str, anchor: str, *, include_restricted: bool) -> Provision:
    """One section of a law, or NotFound (also for a restricted law the reader may not see)."""
    doc = archive.find_document(doc_id)
    if doc is None or doc.withdrawn or (doc.restricted and not include_restricted):
        raise NotFound(f"no document {doc_id[:80]!r}")
    if doc.kind is not Kind.LEGISLATION:
        raise NotFound(f"{doc_id!r} is not legislation: it has no parallel provisions")
    found = archive.passages_by_anchor(doc.current_version, [anchor]).get(anchor)
    if found is None:
        raise NotFound(f"no section {anchor[:80]!r} in {doc_id!r}")
    return Provision(doc, found)


def _terms(text: str) -> Counter[str]:
    return Counter(w for w in _WORD.findall(text.lower()) if w not in _STOP)


def _citations(archive: Archive, doc: Document) -> dict[str, set[str]]:
    by_anchor: dict[str, set[str]] = {}
    for c in archive.citations(doc.current_version):
        if c.normalized not in doc.identifiers:  # a law citing itself says nothing
            by_anchor.setdefault(c.anchor, set()).add(c.normalized)
    return by_anchor


# -- suggestions -------------------------------------------------------------------------------
def suggest(
    archive: Archive,
    doc_id: str,
    anchor: str,
    *,
    include_restricted: bool,
    limit: int = SUGGESTIONS,
) -> dict[str, Any]:
    """The section, its confirmed parallels, and up to `limit` suggested ones (best first): the
    sections of other jurisdictions' laws, scored by shared words and shared citations; rejected
    pairs and confirmed ones are not suggested."""
    _schema(archive)
    target = provision(archive, doc_id, anchor, include_restricted=include_restricted)
    pool = [p for p in provisions(archive, include_restricted=include_restricted)]
    decided = _decided(archive, target.key)
    by_key = {p.key: p for p in pool}
    confirmed = [
        {**by_key[k].view(), "topic": topic, "topic_name": TOPICS.get(topic, "")}
        for k, (status, topic) in decided.items()
        if status == "confirmed" and k in by_key
    ]
    others = [
        p for p in pool if p.doc.jurisdiction != target.doc.jurisdiction and p.key not in decided
    ]
    # document frequencies over every section of every law: a word every law uses weighs nothing
    terms = {p.key: _terms(p.passage.text) for p in pool}
    df: Counter[str] = Counter()
    for t in terms.values():
        df.update(t.keys())
    n = max(1, len(pool))

    def vector(key: tuple[str, str]) -> dict[str, float]:
        v = {w: (1 + math.log(c)) * math.log(n / df[w]) for w, c in terms[key].items() if df[w]}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        return {w: x / norm for w, x in v.items()}

    cites: dict[str, dict[str, set[str]]] = {}

    def cited(p: Provision) -> set[str]:
        if p.doc.id not in cites:
            cites[p.doc.id] = _citations(archive, p.doc)
        return cites[p.doc.id].get(p.passage.anchor, set())

    mine, my_cites = vector(target.key), cited(target)
    scored = []
    for p in others:
        theirs = vector(p.key)
        words = sum(x * theirs.get(w, 0.0) for w, x in mine.items())
        shared = sorted(my_cites & cited(p))
        score = words + CITATION_WEIGHT * len(shared)
        if score >= MIN_SCORE:
            common = sorted((w for w in mine if w in theirs), key=lambda w: -(mine[w] * theirs[w]))[
                :6
            ]
            scored.append((score, p, shared, common))
    scored.sort(key=lambda s: (-s[0], s[1].key))
    return {
        "provision": target.view(),
        "topics": TOPICS,
        "confirmed": sorted(confirmed, key=lambda c: (c["topic"], c["doc_id"], c["anchor"])),
        "suggested": [
            {
                **p.view(),
                "score": round(score, 3),
                "shared_citations": shared,
                "shared_words": common,
            }
            for score, p, shared, common in scored[:limit]
        ],
    }


def _pair(archive: Archive, one: tuple[str, str], other: tuple[str, str]) -> tuple[str, str] | None:
    """(status, topic) of a pair already decided, else None."""
    _schema(archive)
    a, b = _ordered(one, other)
    row = archive.db.execute(
        "SELECT status, topic FROM parallels WHERE a_doc=? AND a_anchor=? AND b_doc=? AND b_anchor=?",
        (*a, *b),
    ).fetchone()
    return (row[0], row[1]) if row else None


def _decided(archive: Archive, key: tuple[str, str]) -> dict[tuple[str, str], tuple[str, str]]:
    rows = archive.db.execute(
        "SELECT a_doc, a_anchor, b_doc, b_anchor, status, topic FROM parallels "
        "WHERE (a_doc=? AND a_anchor=?) OR (b_doc=? AND b_anchor=?)",
        (*key, *key),
    ).fetchall()
    out = {}
    for a_doc, a_anchor, b_doc, b_anchor, status, topic in rows:
        other = (b_doc, b_anchor) if (a_doc, a_anchor) == key else (a_doc, a_anchor)
        out[other] = (status, topic)
    return out


# -- decisions ---------------------------------------------------------------------------------
def decide(
    archive: Archive,
    one: tuple[str, str],
    other: tuple[str, str],
    status: str,
    *,
    topic: str = "",
    actor: str,
) -> bool:
    """Confirm or reject the pair (each a (document, anchor) of a law's section the archivist can
    see). Returns whether anything changed; audited."""
    if status not in ("confirmed", "rejected"):
        raise ParallelError(f"a pair is confirmed or rejected, not {status[:20]!r}")
    if topic and topic not in TOPICS:
        raise ParallelError(f"unknown topic {topic[:40]!r} (use one of: {', '.join(TOPICS)})")
    if one[0] == other[0]:
        raise ParallelError("a parallel provision is in another law, not in the same one")
    for doc_id, anchor in (one, other):
        provision(archive, doc_id, anchor, include_restricted=True)
    a, b = _ordered(one, other)
    before = _pair(archive, a, b)
    topic = topic if status == "confirmed" else ""
    if before is not None and tuple(before) == (status, topic):
        return False
    accounts = Accounts(archive)
    with archive.transaction() as db:
        db.execute(
            "INSERT INTO parallels(a_doc, a_anchor, b_doc, b_anchor, status, topic, actor, at) "
            "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(a_doc, a_anchor, b_doc, b_anchor) DO UPDATE "
            "SET status=excluded.status, topic=excluded.topic, actor=excluded.actor, at=excluded.at",
            (*a, *b, status, topic, actor, now_iso()),
        )
    accounts.audit(
        actor,
        "parallel-confirm" if status == "confirmed" else "parallel-reject",
        f"{a[0]}#{a[1]}",
        other=f"{b[0]}#{b[1]}",
        topic=topic,
        before=list(before) if before else None,
    )
    return True


def load(archive: Archive, path: Path, *, actor: str) -> int:
    """Confirm the pairs a file lists (the bundled collection's `archive/.parallels.json`):
    {"topics": {"designation": [["doc", "anchor"], ...], ...}} — within each topic, every
    provision with every provision of another law. Provisions not in the archive are skipped, and
    so are pairs already decided (an archivist's decision is never overwritten). Returns the
    number of pairs confirmed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ParallelError(f"{path}: cannot read the pairs ({exc})") from None
    topics = data.get("topics") if isinstance(data, dict) else None
    if not isinstance(topics, dict):
        raise ParallelError(f'{path}: expected {{"topics": {{topic: [[doc, anchor], ...]}}}}')
    changed = 0
    for topic, items in topics.items():
        present = []
        for item in items:
            doc_id, anchor = item
            try:
                provision(archive, doc_id, anchor, include_restricted=True)
            except NotFound:
                continue
            present.append((doc_id, anchor))
        for i, one in enumerate(present):
            for other in present[i + 1 :]:
                if one[0] == other[0] or _pair(archive, one, other) is not None:
                    continue
                changed += decide(archive, one, other, "confirmed", topic=topic, actor=actor)
    return changed


# -- the comparison ----------------------------------------------------------------------------
def comparison(archive: Archive, *, include_restricted: bool) -> dict[str, Any]:
    """The laws side by side: for each topic, each law's sections in confirmed pairs of that
    topic. Laws (columns) are those with at least one such section, in date order."""
    _schema(archive)
    pool = {p.key: p for p in provisions(archive, include_restricted=include_restricted)}
    cells: dict[tuple[str, str], dict[str, Provision]] = {}
    rows = archive.db.execute(
        "SELECT a_doc, a_anchor, b_doc, b_anchor, topic FROM parallels "
        "WHERE status='confirmed' AND topic != ''"
    ).fetchall()
    for a_doc, a_anchor, b_doc, b_anchor, topic in rows:
        a, b = pool.get((a_doc, a_anchor)), pool.get((b_doc, b_anchor))
        if a is None or b is None:
            continue
        for p in (a, b):
            cells.setdefault((topic, p.doc.id), {})[p.passage.anchor] = p
    docs = {p.doc.id: p.doc for cell in cells.values() for p in cell.values()}
    laws = sorted(docs.values(), key=lambda d: (d.date, d.id))
    return {
        "laws": [
            {
                "doc_id": d.id,
                "title": d.title,
                "short_title": str(d.meta.get("short_title") or d.title),
                "jurisdiction": d.jurisdiction,
                "date": d.date,
            }
            for d in laws
        ],
        "topics": [
            {
                "topic": topic,
                "name": name,
                "cells": [
                    [
                        p.view()
                        for p in sorted(
                            cells.get((topic, d.id), {}).values(), key=lambda p: p.passage.seq
                        )
                    ]
                    for d in laws
                ],
            }
            for topic, name in TOPICS.items()
        ],
    }
