"""Why a document scored as it did: the Whoosh query of a search taken apart, for one document
record, into the parts that add up to its score (each term in each field with its frequency, idf,
length and weights; each phrase or proximity match; each constant), read with the very matchers
the ranking used, so the parts add up to what Whoosh computed. whoosh.py adds the steps that come
after (the proximity of typed words, "some of the words", the primary document first)."""

from __future__ import annotations

from typing import Any

from whoosh import query
from whoosh.query import compound

from magsearch.index.whoosh_schema import (
    AnyOf,
    PositionalPhrase,
    Proximity,
    unmarked,
)

FIELD_NAMES = {
    "title": "title",
    "body": "text",
    "outside": "text outside the main text",
    "ident": "identifiers",
    "cites": "citations",
    "words": "words as written",
    "text": "passage text",
    "rtype": "every document",
}


def parts(s: Any, q: Any, docnum: int) -> tuple[list[dict[str, Any]], float]:
    """The parts of the score `q` gives the record `docnum` (a top-level number), and that score
    as Whoosh computes it for the whole query."""
    sub, local = _leaf(s, docnum)
    found: list[dict[str, Any]] = []
    _walk(q, sub, local, 1.0, found)
    return found, _score(q, sub, local) or 0.0


def _leaf(s: Any, docnum: int) -> tuple[Any, int]:
    for sub, offset in s.leaf_searchers():
        if offset <= docnum < offset + sub.doc_count_all():
            return sub, docnum - offset
    raise ValueError(f"no record {docnum}")


def _score(q: Any, sub: Any, local: int) -> float | None:
    """The score q's matcher gives the record, None when it does not match it."""
    m = q.matcher(sub)
    if m.is_active() and m.id() < local:
        m.skip_to(local)
    if not m.is_active() or m.id() != local:
        return None
    return float(m.score())


def _walk(q: Any, sub: Any, local: int, scale: float, out: list[dict[str, Any]]) -> None:
    """Append the parts of q's score for the record (scaled by the boosts of the queries above)."""
    if q is None or q is query.NullQuery:
        return
    boost = float(getattr(q, "boost", 1.0) or 1.0)
    if isinstance(q, query.AndNot):
        _walk(q.a, sub, local, scale * boost, out)
        return
    if isinstance(q, query.AndMaybe):
        _walk(q.a, sub, local, scale * boost, out)
        if _score(q.b, sub, local) is not None:
            _walk(q.b, sub, local, scale * boost, out)
        return
    if isinstance(q, query.ConstantScoreQuery):
        found = _score(q, sub, local)
        if found is not None:
            out.append(_constant(q.child, found * scale))
        return
    if isinstance(q, query.And | query.Or | compound.PreloadedOr):
        for child in q.subqueries:
            if isinstance(q, query.Or | compound.PreloadedOr) and _score(child, sub, local) is None:
                continue
            _walk(child, sub, local, scale * boost, out)
        return
    if isinstance(q, query.Not):
        return  # matches by what it lacks: no score
    score = _score(q, sub, local)
    if score is None:
        return
    if isinstance(q, query.Term):
        out.append(_term(q, sub, local, score * scale))
    elif isinstance(q, PositionalPhrase):
        words = " ".join(q.words)
        kind = f"words within {q.slop} of each other" if q.slop else "phrase"
        out.append(_part(kind, q.fieldname, f'"{words}"', score * scale))
    elif isinstance(q, Proximity):
        ops = " | ".join(" ".join(op[0]) for op in q.operands)  # each in its first language
        unit = {"words": f"NEAR/{q.distance}", "sentence": "/s", "paragraph": "/p"}[q.unit]
        out.append(_part(f"proximity {unit}", q.fieldname, ops, score * scale))
    elif isinstance(q, AnyOf):
        out.append(_part("matched a word that is not ranked", q.fieldname, "", score * scale))
    else:
        out.append(_constant(q, score * scale))


def _part(kind: str, field: str, term: str, score: float) -> dict[str, Any]:
    return {"kind": kind, "field": FIELD_NAMES.get(field, field), "term": unmarked(term),
            "score": score}  # fmt: skip


def _constant(q: Any, score: float) -> dict[str, Any]:
    field = getattr(q, "fieldname", "")
    return _part("filter (constant)", field, "", score)


def _term(q: Any, sub: Any, local: int, score: float) -> dict[str, Any]:
    """A term's part, with what BM25F made it of: the term's frequency in the field (its stored
    weight over the field's weight), idf, the field's length and average length, B and K1."""
    part = _part("word", q.fieldname, str(q.text), score)
    m = sub.postings(q.fieldname, q.text)
    if m.is_active() and m.id() < local:
        m.skip_to(local)
    scorer = _scorer(m)
    field_weight = float(getattr(sub.schema[q.fieldname].format, "field_boost", 1.0) or 1.0)
    part.update(
        tf=round(float(m.weight()) / field_weight, 4),
        field_weight=field_weight,
        query_weight=round(float(q.boost), 4),
    )
    if scorer is not None and hasattr(scorer, "idf"):
        part["idf"] = round(float(scorer.idf), 4)
    if scorer is not None and hasattr(scorer, "avgfl"):
        part.update(
            length=int(scorer.dfl(local)),
            average_length=round(float(scorer.avgfl), 1),
            B=scorer.B,
            K1=scorer.K1,
        )
    return part


def _scorer(m: Any) -> Any:
    while getattr(m, "scorer", None) is None and getattr(m, "child", None) is not None:
        m = m.child
    return getattr(m, "scorer", None)
