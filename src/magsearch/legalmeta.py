"""Metadata lawyers cite by, read from the document itself: court, case name, respondent, the
identifiers a ruling or statute is cited by, jurisdiction and date. The sidecar wins where given.

Only the opening of a document is read (its first passages): that is where a judgment names its court,
parties and application numbers, and where a statute gives its public-law number and short title.
"""

from __future__ import annotations

import re
from typing import Any

from . import citations
from .models import Citation, Passage

_HEAD_PASSAGES = 6
_OWN_FAMILIES = {
    "ruling": {"echr-app", "ecli"},
    "legislation": {"us-pl", "us-stat", "us-eo", "us-fr", "uk-si", "uk-act", "eu-reg", "celex",
                    "ca-statute", "ca-reg", "us-bill"},
}  # fmt: skip
_JURISDICTION = {
    "us": "United States",
    "uk": "United Kingdom",
    "eu": "European Union",
    "ca": "Canada",
    "celex": "European Union",
    "usc": "United States",
    "cfr": "United States",
    "echr": "Council of Europe",
    "ecli": "",
}
_COURTS = [
    (re.compile(r"european court of human rights", re.I), "European Court of Human Rights"),
    (re.compile(r"court of justice of the european union", re.I), "Court of Justice of the European Union"),
    (re.compile(r"supreme court of the united states", re.I), "Supreme Court of the United States"),
    (re.compile(r"\b((?:united states )?(?:district|circuit|bankruptcy|tax) court[^\n.,;]{0,60})", re.I), None),
    (re.compile(r"\b((?:supreme|superior|appellate) court of [A-Z][a-z]+(?: [A-Z][a-z]+)?)"), None),
    (re.compile(r"\b(court of (?:criminal )?appeals? of [A-Z][a-z]+(?: [A-Z][a-z]+)?)", re.I), None),
]  # fmt: skip
_CASE_NAME = re.compile(
    r"\b(?:CASE OF\s+)?([A-Z][\w'’.-]+(?:\s+(?:and|&|[A-Z][\w'’.-]+|of|the|de))*\s+v\.?\s+"
    r"[A-Z][\w'’.-]+(?:\s+[A-Z][\w'’.-]+){0,4})"
)
_MONTHS = "January February March April May June July August September October November December"
_MONTH = {m.lower(): i for i, m in enumerate(_MONTHS.split(), 1)}
_DATE_DMY = re.compile(r"\b(\d{1,2}) (" + "|".join(_MONTHS.split()) + r") (\d{4})\b", re.I)
_DATE_MDY = re.compile(r"\b(" + "|".join(_MONTHS.split()) + r") (\d{1,2}), (\d{4})\b", re.I)
_SHORT_TITLE = re.compile(r"may be cited as (?:the )?[“\"]?([^”\".;]{5,160}?)[”\"]?(?:\.|;|$)", re.I)


def extract(passages: list[Passage], kind: str, parsed_meta: dict[str, Any]) -> dict[str, Any]:
    head = "\n\n".join(p.text for p in passages[:_HEAD_PASSAGES])
    out: dict[str, Any] = {}
    found = citations.find_citations(head)
    own = [c for c in found if c.family in _OWN_FAMILIES.get(kind, set())]
    if own:
        out["identifiers"] = list(dict.fromkeys(c.normalized for c in own))
    when = _first_date(head)
    if when and not parsed_meta.get("date"):
        out["date"] = when
    if kind == "ruling":
        out.update(_ruling(head))
    elif kind == "legislation":
        m = _SHORT_TITLE.search("\n".join(p.text for p in passages[:20]))
        if m:
            out["short_title"] = " ".join(m[1].split())
    jurisdiction = _jurisdiction(own or found)
    if jurisdiction:
        out["jurisdiction"] = jurisdiction
    return out


def _ruling(head: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pattern, name in _COURTS:
        m = pattern.search(head)
        if m:
            out["court"] = name or " ".join(m[1].split()).title()
            break
    m = _CASE_NAME.search(head)
    if m:
        case = " ".join(m[1].split())
        out["case_name"] = case if not case.isupper() else case.title().replace(" V. ", " v. ")
        out["respondent"] = re.split(r"\sv\.?\s", out["case_name"], maxsplit=1)[-1]
    return out


def _jurisdiction(found: list[Citation]) -> str:
    for c in found:
        prefix = c.family.split("-")[0]
        if _JURISDICTION.get(prefix):
            return _JURISDICTION[prefix]
    return ""


def _first_date(text: str) -> str:
    best: tuple[int, str] | None = None
    for m in _DATE_DMY.finditer(text):
        cand = (m.start(), f"{m[3]}-{_MONTH[m[2].lower()]:02d}-{int(m[1]):02d}")
        best = min(best, cand) if best else cand
        break
    for m in _DATE_MDY.finditer(text):
        cand = (m.start(), f"{m[3]}-{_MONTH[m[1].lower()]:02d}-{int(m[2]):02d}")
        best = min(best, cand) if best else cand
        break
    return best[1] if best else ""
