"""Metadata lawyers cite by, read from the document itself; the sidecar wins where given.

``extract(passages, kind, parsed_meta)`` gives the keys analyse() merges over the parser's
metadata (parsed metadata < this < sidecar): title, date, court, jurisdiction, language,
source_url, identifiers (the document's OWN identifiers, normalised; never those it only cites)
and the meta keys case_name, parties, respondent, applications, ecli, decision_date,
short_title, long_title, enactment_date, authors, publisher.

Where it looks. A document names itself in its opening, so only the opening is read:

* a ruling's caption: the passages before its first numbered paragraph (an ECHR judgment's
  heading, down to PROCEDURE), or, when the paragraphs are not numbered, the lines before the
  first paragraph of running prose (a US opinion's caption: court, parties, docket numbers),
  and the first page of a PDF for the clerk's "FILED" stamp;
* a statute's opening: the passages before its first section, article or schedule, cut at the
  preamble ("Whereas", "Be it enacted", "Having regard"), so that the Acts a law recites or
  amends are not taken for its own identifiers, nor the preamble's dates for its date;
* an article's byline ("By Jane Doe and Richard Roe · Published 10 March 2026").

The opening is read as lines: the headings above each passage (a PDF caption often survives only
there), then the passage's lines, each split at " · " and " | ".

Identifiers. A ruling owns the application numbers, ECLI, docket numbers ("Docket No. 19031-13",
family "docket") and report citation ("T.C. Memo. 2020-26", on a line of its own) of its
caption; an ECHR judgment without a written ECLI gets the one the Court's scheme gives it
(ECLI:CE:ECHR:<year>:<MMDD>JUD<first application number>); a press release owns only its own
number ("ECHR 292 (2019)"), not the judgment's; a page listing many cases owns none. A statute
owns the identifiers of its own kind of instrument found in its opening, the first of each
family: an Act its Public Law, Statutes at Large page, bill and the U.S. Code sections it is
"codified at" (a range gives every section in it); an executive order its number and Federal
Register page; an S.I. its number (also written "2020 No. 680" under STATUTORY INSTRUMENTS) but
not its enabling Act; a Canadian regulation its SOR number but not the Act it is made under; an
EU act its number and CELEX; any instrument an ELI URI. A U.S. Code chapter ("Title 22" /
"CHAPTER 108" / "§ 10101.") owns its sections and "22 U.S.C. ch. 108". ``family_of()`` names the
family of every identifier given here.

Dates. A ruling's is the date after "decided", "judgment ... on", "delivered" (else after
"Filed", else a date alone at the head of a caption line); a statute's the date after "enacted",
"assented to", "made", "signed", "Regulation ... of" (else a date alone on a line of the
opening). Such a keyworded date overrides the parser's (a PDF's creation date); an article keeps
the date of its meta tags and takes its byline's only when it has none.

Pure: no I/O, bounded work (the opening only; no regular expression that can backtrack badly).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date as _date
from typing import Any

from . import citations
from .models import Citation, Passage

__all__ = ["FAMILIES", "extract", "family_of", "guess_language"]

# identifier families that legalmeta gives and citations.py does not know
FAMILIES: dict[str, str] = {
    "docket": "Court docket, case or index number",
    "press-release": "ECHR press release number",
    "eli": "European Legislation Identifier (URI)",
    "usc-chapter": "United States Code chapter",
}

HEAD_PASSAGES = 24  # the opening is at most this many passages...
HEAD_CHARS = 8000  # ...and this many characters
PROSE_CHARS = 250  # an unnumbered caption ends at the first paragraph of prose this long
MAX_RANGE = 50  # "22 U.S.C. 10101–10103" gives each section of a range up to this long

# ------------------------------------------------------------------------------------------ dates

_MONTHS_EN = [
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
    ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sept", "sep"),
    ("october", "oct"), ("november", "nov"), ("december", "dec"),
]  # fmt: skip
_MONTHS_FR = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
_MONTH: dict[str, int] = {name: n for n, names in enumerate(_MONTHS_EN, 1) for name in names}
_MONTH.update({name: n for n, name in enumerate(_MONTHS_FR.split(), 1)})
_MONTH_RX = "|".join(sorted(_MONTH, key=len, reverse=True))
_DATE = re.compile(
    r"(?i)(?<![\w/-])(?:"
    rf"(?P<d1>\d{{1,2}})(?:st|nd|rd|th|er)?(?:\s+day\s+of)?\s+(?P<m1>{_MONTH_RX})\.?,?\s+(?P<y1>\d{{4}})"
    rf"|(?P<m2>{_MONTH_RX})\.?\s*(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y2>\d{{4}})"
    r"|(?P<y3>\d{4})-(?P<m3>\d{2})-(?P<d3>\d{2})"
    r")(?![\w/-])"
)
# what comes just before a date that makes it the date of the decision, or of the enactment
_DECIDED = re.compile(
    r"(?i)\b(?:decided|judge?ment|decision|delivered|pronounced|date\s+of\s+(?:judgment|decision|"
    r"order)|argued\s+and\s+submitted)\b[^.\n]{0,60}?$"
)
_FILED = re.compile(r"(?i)(?:\b|(?<=\d))(?:filed|entered|dated|issued|released)\s*:?\s*(?:on\s+)?$")
_ENACTED = re.compile(
    r"(?i)\b(?:enacted|assented\s+to|approved|signed(?:\s+into\s+law)?|made|adopted|became\s+law|"
    r"date\s+of\s+enactment|sanctionn[ée]e|promulgated|registered|done\s+at\s+\w+)\b[^.\n]{0,30}?$"
)
_INSTRUMENT_OF = re.compile(
    r"\b(?:Order|Regulation|Directive|Decision|Act|Proclamation)\b[^\n.;]{0,80}?\bof\s+$"
)


@dataclass(frozen=True)
class _Date:
    start: int
    end: int
    iso: str


def _dates(text: str) -> list[_Date]:
    out: list[_Date] = []
    for m in _DATE.finditer(text):
        if m["y1"]:
            y, mo, d = int(m["y1"]), _MONTH[m["m1"].lower()], int(m["d1"])
        elif m["y2"]:
            y, mo, d = int(m["y2"]), _MONTH[m["m2"].lower()], int(m["d2"])
        else:
            y, mo, d = int(m["y3"]), int(m["m3"]), int(m["d3"])
        try:
            iso = _date(y, mo, d).isoformat()
        except ValueError:
            continue
        if 1700 <= y <= 2100:
            out.append(_Date(m.start(), m.end(), iso))
    return out


def _unglue(text: str) -> str:
    """ "FILEDOct 02, 2019" (a clerk's stamp run together) -> "FILED Oct 02, 2019"."""
    return re.sub(r"FILED(?=[A-Z][a-z])", "FILED ", text)


def _ranked_date(lines: list[_Line], first_page: str, *, legislation: bool) -> tuple[str, bool]:
    """(ISO date, strong): the first date after a decision (enactment) keyword, else after
    "Filed", else one alone at the head of a caption line; strong when a keyword introduced it."""
    best: tuple[int, int, str] | None = None  # (rank, order, iso)
    texts = [(_unglue(line.text), True) for line in lines]
    if first_page:
        texts.append((_unglue(" ".join(first_page.split())), False))
    order = 0
    for text, in_caption in texts:
        for d in _dates(text):
            order += 1
            before = text[max(0, d.start - 90) : d.start]
            if legislation and (_ENACTED.search(before) or _INSTRUMENT_OF.search(before)):
                rank = 0
            elif legislation:
                if not (d.start == 0 and d.end >= len(text.rstrip(" ."))):
                    continue
                rank = 2  # a line that is only a date ("2017-11-03" under "SOR/2017-233")
            elif _DECIDED.search(before):
                rank = 0
            elif _FILED.search(before):
                rank = 1
            elif in_caption and d.start == 0:
                rank = 2  # "27 August 2019" under "STRASBOURG"
            else:
                continue
            if best is None or (rank, order) < best[:2]:
                best = (rank, order, d.iso)
    return (best[2], best[0] < 2) if best else ("", False)


# ------------------------------------------------------------------------------------ the opening


@dataclass(frozen=True)
class _Line:
    text: str
    passage: int  # index of the passage it comes from; -1 for the parser's title
    heading: bool = False


_PARTS = re.compile(r"\s+[·|•]\s+")
_PREAMBLE = re.compile(
    r"^(?:Preamble|PREAMBLE|Préambule|Whereas\b|WHEREAS\b|And whereas|Attendu|Recitals?\b|"
    r"Having regard|HAVING REGARD|Be it enacted|BE IT ENACTED|Now,? therefore|By the authority|"
    r"THE COUNCIL OF THE EUROPEAN UNION|Sa Majesté|Her Majesty|His Majesty|The President)"
)
_STRUCTURAL = re.compile(r"^(?:sec|art|reg|schedule|annex|appendix)(?:-|$)")


def _heading_parts(p: Passage) -> list[str]:
    return [h.strip() for h in p.heading.split(" › ") if h.strip()]


def _lines_of(text: str) -> list[str]:
    out: list[str] = []
    for raw in text.split("\n"):
        line = " ".join(raw.split())
        if line:
            out.extend(part for part in _PARTS.split(line) if part)
    return out


def _is_prose(text: str) -> bool:
    """Running text: long, two sentences or more, mostly lower case (not a list of names)."""
    flat = " ".join(text.split())
    if len(flat) < PROSE_CHARS or re.search(r"\s\)\s", flat):  # " ) ": a caption's columns
        return False
    sentences = len(re.findall(r"[a-z]{2}[.;:] +[A-Z“\"(]", flat))
    letters = [c for c in flat if c.isalpha()]
    lower = sum(c.islower() for c in letters) / max(1, len(letters))
    return sentences >= 2 and lower > 0.75


def _opening(passages: list[Passage], kind: str, title: str) -> list[_Line]:
    """The lines a document names itself in (see the module docstring)."""
    lines: list[_Line] = [_Line(title, -1, True)] if title else []
    seen: set[str] = set()
    chars = 0
    numbered = any(p.anchor.startswith("para-") for p in passages)
    for i, p in enumerate(passages[:HEAD_PASSAGES]):
        if kind == "ruling" and p.anchor.startswith("para-"):
            break
        if kind == "legislation" and _STRUCTURAL.match(p.anchor):
            break
        for h in _heading_parts(p):
            if h not in seen:
                seen.add(h)
                if kind == "legislation" and _PREAMBLE.match(h):
                    return lines
                lines.append(_Line(h, i, True))
        paragraphs = re.split(r"\n\s*\n", p.text) if p.anchor.startswith("page-") else [p.text]
        for para in paragraphs:
            if kind == "ruling" and not numbered and _is_prose(para):
                return lines
            for text in _lines_of(para):
                if kind == "legislation" and _PREAMBLE.match(text):
                    return lines
                lines.append(_Line(text, i))
                chars += len(text)
            if chars > HEAD_CHARS:
                return lines
        if p.anchor.startswith("page-"):
            break  # a page-segmented PDF: its caption is on its first page
    return lines


def _first_page(passages: list[Passage]) -> str:
    """The first page of a page-segmented PDF (a clerk's stamp is there), else ''."""
    return passages[0].text if passages and passages[0].anchor.startswith("page-") else ""


# --------------------------------------------------------------------------------- shared helpers

_SMALL = {
    "and", "of", "the", "for", "in", "on", "at", "to", "a", "an", "by", "de", "du", "des", "la",
    "le", "von", "van", "der", "den", "v.", "v", "vs.", "or", "et", "al", "al.", "with", "under",
}  # fmt: skip
_KEEP_CAPS = {
    "LLC", "LLP", "LP", "PLC", "USA", "US", "UK", "EU", "NA", "II", "III", "IV", "VI", "VII",
    "VIII", "IX", "XI", "XII", "ECHR", "CJEU", "IRS", "FBI", "NY", "USDA",
}  # fmt: skip


def _mostly_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) >= 0.8 * len(letters)


def _smart_title(text: str) -> str:
    """'MAGNITSKIY AND OTHERS v. RUSSIA' -> 'Magnitskiy and Others v. Russia'; mixed case stays."""
    if not _mostly_caps(text):
        return " ".join(text.split())
    words = []
    for n, word in enumerate(text.split()):
        core = word.strip("(),;:“”\"'")
        if core.upper() in _KEEP_CAPS or re.fullmatch(r"(?:[A-Z]\.){2,}", core):
            words.append(word)
        elif n and word.lower() in _SMALL:
            words.append(word.lower())
        else:
            words.append(re.sub(r"[A-Za-zÀ-ÿ]+", lambda m: m[0].capitalize(), word.lower()))
    return " ".join(words)


def _clean_name(name: str) -> str:
    """A party's or case's name: no "CASE OF", footnote mark or stray punctuation, no capitals."""
    name = re.sub(r"^(?:the\s+)?(?:CASE\s+OF|Case\s+of|In\s+the\s+case\s+of|In\s+re)\s+", "", name)
    name = re.sub(r"(?<=[A-Za-z.]),?\d{1,2}$", "", name.strip())  # "BORDELON,1": a footnote
    name = name.strip(" ,;:-–—()[]")
    if name.endswith(".") and not re.search(r"\b[A-Z][a-z]{0,3}\.$", name):  # keeps "Co.", "Inc."
        name = name.rstrip(".")
    return _smart_title(name.strip(" ,;:"))


def _citations(text: str) -> list[Citation]:
    """Citations of a line; a line in capitals ("PUBLIC LAW 112-208 — 126 STAT. 1496") is also
    read part by part, case-insensitively."""
    found = citations.find_citations(text)
    if _mostly_caps(text):
        pos = 0
        for part in re.split(r"\s+[—–-]\s+|\s*[,;·|]\s+", text):
            start = max(pos, text.find(part, pos))
            pos = start
            norm = citations.normalize(part) if part.strip() else None
            if norm and not any(c.normalized == norm for c in found):
                family = citations.family_of(norm) or ""
                found.append(Citation(part, norm, family, start, start + len(part)))
    return sorted(found, key=lambda c: c.start)


def _dedupe(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


# -------------------------------------------------------------------------------------- the entry


def extract(passages: list[Passage], kind: str, parsed_meta: dict[str, Any]) -> dict[str, Any]:
    """Metadata found in the document itself (see the module docstring)."""
    lines = _opening(passages, kind, str(parsed_meta.get("title") or "").strip())
    out: dict[str, Any] = {}
    if kind == "ruling":
        out = _ruling(passages, lines, parsed_meta)
    elif kind == "legislation":
        out = _legislation(passages, lines, parsed_meta)
    elif kind == "article":
        out = _article(lines, parsed_meta)
    given = list(parsed_meta.get("authors") or [])
    authors = _clean_authors(out["authors"] if "authors" in out else given)
    if "authors" in out or authors != given:
        out["authors"] = authors  # [] drops a PDF's "cg04209" (analyse() leaves out empty values)
    if not parsed_meta.get("source_url") and (url := _labelled_url(lines)):
        out["source_url"] = url
    if not parsed_meta.get("language") and (lang := guess_language(passages)):
        out["language"] = lang
    if genre := _genre(lines, parsed_meta):
        out["genre"] = genre
    if "identifiers" in out or parsed_meta.get("identifiers"):
        # this list replaces the parser's in analyse(): keep what the parser found (a DOI)
        out["identifiers"] = _dedupe(
            [*parsed_meta.get("identifiers", []), *out.get("identifiers", [])]
        )
    return {k: v for k, v in out.items() if v not in ("", None) or k == "authors"}


# ------------------------------------------------------------------------ documents about a case

_PRESS_HEAD = re.compile(r"(?i)^\s*(?:press\s+release|communiqu[ée]\s+de\s+presse)\b")
_SUMMARY_HEAD = re.compile(
    r"(?i)^\s*(?:legal\s+summary|case\s+summary|information\s+note\b|key\s+case\b|"
    r"summary\s+of\s+(?:the\s+)?(?:judgment|decision|ruling|opinion|act|law|regulations?)\b|"
    r"r[ée]sum[ée]\s+juridique|note\s+d['’]information)"
)


def _genre(lines: list[_Line], parsed: dict[str, Any]) -> str:
    """ "press release" or "summary" when the document says it is one in its title or its first
    lines (a press release also by its number, "ECHR 292 (2019)", beside the words); else ""."""
    heads = [str(parsed.get("title") or ""), *(line.text for line in lines[:4])]
    if any(_PRESS_HEAD.match(h) for h in heads):
        return "press release"
    text = " ".join(line.text for line in lines[:8])
    if _PRESS.search(text) and re.search(r"(?i)\bpress\s+release\b", text):
        return "press release"
    if any(_SUMMARY_HEAD.match(h) for h in heads):
        return "summary"
    return ""


def family_of(identifier: str) -> str | None:
    """The family of an identifier as extract() gives it: one of citations.FAMILIES, or "docket",
    "press-release", "eli", "usc-chapter" (see FAMILIES); None when unknown."""
    value = identifier.strip()
    for family, pattern in (
        ("docket", _DOCKET_ID),
        ("press-release", _PRESS_ID),
        ("eli", _ELI),
        ("usc-chapter", _USC_CHAPTER_ID),
    ):
        if pattern.fullmatch(value):
            return family
    return citations.family_of(value)


# ---------------------------------------------------------------------------------------- rulings

_COURTS: list[tuple[str, str, str]] = [
    (r"\beuropean\s+court\s+of\s+human\s+rights\b|\bECtHR\b|\bcour\s+européenne\s+des\s+droits",
     "European Court of Human Rights", "Council of Europe"),
    (r"\bcourt\s+of\s+justice\s+of\s+the\s+european\s+union\b|\bCJEU\b",
     "Court of Justice of the European Union", "European Union"),
    (r"\bsupreme\s+court\s+of\s+the\s+united\s+states\b",
     "Supreme Court of the United States", "United States"),
    (r"\bunited\s+states\s+tax\s+court\b", "United States Tax Court", "United States"),
    (r"\bsupreme\s+court\s+of\s+the\s+united\s+kingdom\b|\bUKSC\b",
     "Supreme Court of the United Kingdom", "United Kingdom"),
    (r"\bsupreme\s+court\s+of\s+canada\b", "Supreme Court of Canada", "Canada"),
]  # fmt: skip
_KNOWN_COURTS = [(re.compile(rx, re.I), name, where) for rx, name, where in _COURTS]
_C = r"[A-Z][\w'’.-]*"  # a capitalised word
_L = r"(?:of|the|for|and|&|de|del|la|OF|THE|FOR|AND)"  # the small words of a court's name
_COURT_NAME = re.compile(  # a line that is a court's name, nothing more
    rf"^(?:IN THE |In the |BEFORE THE |Before the )?(?=\S+\s+\S)(?:{_C},? |{_L} ){{0,8}}"
    r"(?:COURT|Court|TRIBUNAL|Tribunal|BOARD|Board|COMMISSION|Commission)"
    rf"(?: (?:of|for|OF|FOR|at|AT)(?: (?:the|THE))?(?: {_C},?| {_L}){{1,8}})?"
    r"(?:,? [A-Z][\w'’]*(?: [A-Z][\w'’]*)? "
    r"(?:County|COUNTY|Division|DIVISION|Parish|PARISH|Circuit|CIRCUIT))?\.?$"
)
_NOT_COURT_LINE = re.compile(
    r"(?i)\b(?:appeal(?:ed)?\s+from|on\s+appeal|clerk|certif|pursuant|published\s+by|judge\b|"
    r"counsel|attorney|for\s+the\s+|opinions?\b|about\b|archive|welcome|home\b|search|listing|"
    r"index\b|resoluci|decisiones)"
)
_STATES = (
    "Alabama Alaska Arizona Arkansas California Colorado Connecticut Delaware Florida Georgia "
    "Hawaii Idaho Illinois Indiana Iowa Kansas Kentucky Louisiana Maine Maryland Massachusetts "
    "Michigan Minnesota Mississippi Missouri Montana Nebraska Nevada New_Hampshire New_Jersey "
    "New_Mexico New_York North_Carolina North_Dakota Ohio Oklahoma Oregon Pennsylvania "
    "Rhode_Island South_Carolina South_Dakota Tennessee Texas Utah Vermont Virginia West_Virginia "
    "Wisconsin Wyoming Puerto_Rico"
)
_STATE = re.compile(r"(?i)\b(" + "|".join(s.replace("_", r"\s+") for s in _STATES.split()) + r")\b")
_STAMP = re.compile(  # "FILED Sep 13, 2019 01:20 PM(CT) TENNESSEE WORKERS' COMPENSATION ..."
    r"FILED\s*(?P<date>[A-Z][a-z]{2,8}\.?\s*\d{1,2},?\s+\d{4})\s*"
    r"(?:\d{1,2}:\d{2}\s*[AP]M\s*(?:\([A-Z]{1,3}\))?)?"
    r"\s*(?P<court>(?:[A-Z][A-Z'’.,&\s]{2,80}\n?){1,4})"
)
_ROLES = (
    r"(?:Nominal\s+)?(?:Plaintiffs?|Defendants?|Petitioners?|Respondents?|Appellants?|Appellees?|"
    r"Employee|Employer|Carrier|Claimants?|Applicants?|Intervenors?|Complainants?|Relators?|"
    r"Movants?|Debtors?|Creditors?|Third[- ]Party\s+\w+)"
    r"(?:[- /](?:Appellants?|Appellees?|Petitioners?|Respondents?|Cross-\w+))*"
)
_ROLE = re.compile(rf"(?i),?\s*\b{_ROLES}\b[.,;]*")
_VS = r"(?:v\.?|vs\.?|V\.|VS\.?)"
_CASE_LINE = re.compile(  # a line that is a case's name: "CASE OF X v. Y", "Feliciano v Seabrook"
    rf"^(?:(?:THE\s+)?CASE\s+OF\s+|Case\s+of\s+)?(?P<a>[A-Z“\"][^\n]{{0,150}}?)\s+{_VS}\s+"
    r"(?P<b>[A-Z“\"(][^\n]{0,150}?)\s*(?:\((?:Application|Requête)[^)]*\))?\s*$"
)
_IN_THE_CASE = re.compile(
    r"\bIn the case of (?P<a>[A-Z][^,;]{1,120}?) v\. (?P<b>[A-Z][^,;]{1,80}?)[,;]"
)
_COMPANY = re.compile(
    r"(?i)^(?:LLC|L\.L\.C\.|LLP|Inc\.?|Co\.?|Corp\.?|Ltd\.?|L\.P\.|N\.A\.|P\.C\.|PLC|S\.A\.)$"
)
_NUMBER = r"[A-Z]{0,4}[- ]?\d[\w:./-]*\d[A-Z]{0,4}"
_DOCKET = re.compile(
    r"(?P<label>\b(?:Docket|Case|Index|Cause|Civil\s+Action|Criminal\s+(?:Action|Case)|Appeal|"
    r"Misc(?:ellaneous)?)\s*(?:Nos?\.|Numbers?|#)\s*:?\s*|^\s*Nos?\.\s*)"
    rf"(?P<list>{_NUMBER}(?:(?:\s*,\s*(?:and\s+)?|\s+(?:and|&)\s+){_NUMBER})*)",
    re.I | re.M,
)
_DOCKET_NUMBER = re.compile(_NUMBER, re.I)
_NOT_DOCKET_BEFORE = re.compile(r"(?i)\b(?:law|order|act|pub|file|statute|regulation)\W*$")
_DOCKET_ID = re.compile(r"(?:Docket|Case|Index|Cause|Civil Action|Appeal) No\. \S+")
_PRESS = re.compile(r"\bECHR\s+(?P<n>\d{1,4})\s*\((?P<y>\d{4})\)")
_PRESS_ID = re.compile(r"ECHR \d{1,4} \(\d{4}\)")
ECHR = "European Court of Human Rights"


def _ruling(passages: list[Passage], lines: list[_Line], parsed: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    text = "\n".join(line.text for line in lines)
    first_page = _first_page(passages)
    cited = [(line, _citations(line.text)) for line in lines]
    found = [c for _, cs in cited for c in cs]
    press = _PRESS.search(text) if re.search(r"(?i)\bpress\s+release\b", text) else None
    apps = _dedupe(c.normalized for c in found if c.family == "echr-app")
    eclis = _dedupe(c.normalized for c in found if c.family == "ecli")
    reports = _dedupe(
        c.normalized
        for line, cs in cited
        for c in cs
        if c.family == "us-case" and _alone(c, line.text)
    )
    dockets = _dockets(lines)
    case_lines = {line.text for line in lines if re.search(rf"\S\s+{_VS}\s+[A-Z]", line.text)}
    listing = len(reports) > 2 or len(dockets) > 8 or len(case_lines) > 3  # a list of opinions

    court, jurisdiction = _court(lines, first_page)
    court = court.replace(
        "\u2019", "'"
    )  # "Workers’ Compensation" and "Workers' Compensation" are one court
    if not court and apps and (press or re.search(r"(?i)\b(?:applications?|requêtes?)\s+n", text)):
        court, jurisdiction = ECHR, "Council of Europe"
    if court and not parsed.get("court"):
        out["court"] = court
    court = parsed.get("court") or court

    when, strong = _ranked_date(lines, first_page, legislation=False)
    when = when if strong or not listing else ""
    if when and (strong or not parsed.get("date")):
        out["date"] = when
    out["decision_date"] = when

    own: list[str] = []
    if press:
        own.append(f"ECHR {press['n']} ({press['y']})")
    elif not listing:
        own += apps + eclis + dockets + reports
    out["applications"] = apps or None
    if eclis:
        out["ecli"] = eclis[0]
    elif not press and apps and when and court == ECHR:
        # a judgment ("CASE OF X v. Y", "JUDGMENT"), not an admissibility decision ("DECISION")
        judgment = re.search(r"(?i)\bjudge?ment\b|^(?:THE\s+)?CASE\s+OF\b", text, re.M)
        if judgment and not re.search(r"(?i)\bdecision\b", text):
            number, year = apps[0].split("/")
            out["ecli"] = f"ECLI:CE:ECHR:{when[:4]}:{when[5:7]}{when[8:]}JUD{int(number):07d}{year}"
            own.append(out["ecli"])
    out["identifiers"] = _dedupe(own)

    caption = None if listing else _caption(lines)
    if caption:
        name, parties, respondent = caption
        if not parsed.get("case_name"):
            out["case_name"] = name
        out["parties"] = parties
        out["respondent"] = parties[-1] if court == ECHR else respondent  # the respondent State
    if not jurisdiction and (any(c.family == "us-case" for c in found) or _STATE.search(court)):
        jurisdiction = "United States"
    out["jurisdiction"] = jurisdiction
    if _weak_title(parsed.get("title", "")) and out.get("case_name"):
        out["title"] = out["case_name"]
    return out


def _court(lines: list[_Line], first_page: str) -> tuple[str, str]:
    """(court, jurisdiction): a known court named in the caption; else a caption line naming a
    court above the parties ("IN THE COURT OF WORKERS' COMPENSATION CLAIMS"); else a clerk's
    "FILED" stamp; else a caption line naming a court below them. A US state court gets its
    state's name ("Tennessee Court of Workers' Compensation Claims")."""
    text = "\n".join(line.text for line in lines)
    for pattern, name, jurisdiction in _KNOWN_COURTS:
        if pattern.search(text):
            return name, jurisdiction
    above: list[str] = []
    below: list[str] = []
    parties_seen = False
    for line in lines:
        t = line.text
        parties_seen = parties_seen or bool(re.search(rf"\s{_VS}\s|^(?:against|v\.)$", t))
        if line.passage < 0 or len(t) > 120 or _NOT_COURT_LINE.search(t):
            continue
        if _COURT_NAME.match(t):
            (below if parties_seen else above).append(t)
    stamp = ""
    page = _unglue(first_page or text)
    if m := _STAMP.search(page):
        words = m["court"].split()
        if page[m.end() : m.end() + 1].islower():
            words = words[:-1]  # the capital that begins the next, mixed-case word
        stamp = " ".join(words)
    raw = next((t for t in [*above, stamp, *below] if t), "")
    if not raw:
        return "", ""
    raw = re.split(r"\b(?:IN THE|In the|BEFORE THE|Before the)\s+", raw)[-1]  # "BUREAU ... IN THE"
    court = _smart_title(raw.strip(" ,."))
    court = re.sub(r"\s+at\s+[A-Z][\w .'-]*$", "", re.sub(r"^The\s+", "", court))  # "AT NASHVILLE"
    state = ""
    if not _STATE.search(court):
        context = "\n".join(line.text for line in lines[:12]) + "\n" + first_page[:3000]
        if re.search(r"\bNY Slip Op\b|New York State Law Reporting", context):
            state = "New York"
        elif m := _STATE.search(context):
            state = " ".join(m[1].split()).title()
    if state and re.match(r"Court|Supreme|Superior|Circuit|District|County|Workers|Appeals", court):
        court = f"{state} {court}"
    us = bool(state or _STATE.search(court) or re.search(r"(?i)\bunited\s+states\b", court))
    return court, "United States" if us else ""


def _alone(c: Citation, line: str) -> bool:
    """A citation that is the whole line: "T.C. Memo. 2020-26", "2020 NY Slip Op 50753(U)"."""
    return len((line[: c.start] + line[c.end :]).strip(" .,;:()[]*0123456789")) <= 3


def _dockets(lines: list[_Line]) -> list[str]:
    """Docket, case and index numbers of the caption ("Docket No. 19031-13"); a list the layout
    broke ("Docket Nos. 19031-13, 27735-13, Filed ...", then "11905-14.") is joined again."""
    out: list[str] = []
    shapes: set[str] = set()
    last = "Docket"
    for line in lines:
        t = line.text
        for m in _DOCKET.finditer(t):
            if _NOT_DOCKET_BEFORE.search(t[max(0, m.start() - 24) : m.start()]):
                continue  # "Public Law No. 112-208", "State File No. 58665-2018"
            word = re.match(
                r"(?i)(Docket|Case|Index|Cause|Civil\s+Action|Appeal)", m["label"].strip()
            )
            if not word and not re.search(r"[-:]", m["list"]):
                continue  # a bare "No. 12" is not a docket number; "No. 21-1234" is
            label = " ".join(word[1].split()).title() if word else "Docket"
            for n in _DOCKET_NUMBER.findall(m["list"]):
                n = n.strip(" -.")
                if not re.fullmatch(r"(?:19|20)\d\d", n):
                    out.append(f"{label} No. {n}")
                    shapes.add(_shape(n))
                    last = label
        words = [w.rstrip(".,") for w in re.split(r"[,\s]+", t.strip(" .,")) if w]
        words = [w for w in words if w.lower() not in ("and", "&")]
        if shapes and len(t) <= 80 and words and all(_shape(w) in shapes for w in words):
            out += [f"{last} No. {w}" for w in words]  # "11905-14." on a line of its own
    return _dedupe(out)


def _shape(number: str) -> str:
    return re.sub(r"\d", "9", re.sub(r"[A-Za-z]", "A", number))


def _caption(lines: list[_Line]) -> tuple[str, list[str], str] | None:
    """(case name, parties, respondent). The name: a line (or a part of the title) that is just
    "X v. Y" ("CASE OF MAGNITSKIY AND OTHERS v. RUSSIA", "Feliciano v Seabrook"); the parties: a
    US caption naming them with their roles on either side of "v." or "against" (its first party
    on each side names the case when no line does); else "In the case of X v. Y, ..."."""
    short: tuple[str, str] | None = None
    for line in lines:
        t = line.text
        if len(t) > 200 or _ROLE.search(t) or re.search(r"\s\)\s|\bNos?\.\s*\d|[{}\"]:", t):
            continue
        for part in re.split(r"\s+[—–]\s+|:\s+", t):
            # without a trailing citation: "Feliciano v Seabrook (2020 NY Slip Op 50753(U))"
            part = re.sub(r"\s*\((?=[^()]*\d)(?:[^()]|\([^()]*\))*\)\s*$", "", part.strip())
            m = _CASE_LINE.match(part)
            if m and _name_like(m["a"]) and _name_like(m["b"]):
                short = (_clean_name(m["a"]), _clean_name(m["b"]))
                break
        if short:
            break
    text = "\n".join(line.text for line in lines if line.passage >= 0)
    if full := _role_caption([line.text for line in lines if line.passage >= 0]):
        left, right, respondent = full
        name = f"{short[0]} v. {short[1]}" if short else f"{left[0]} v. {right[0]}"
        return name, left + right, respondent
    if not short and (m := _IN_THE_CASE.search(text)) and _name_like(m["a"]) and _name_like(m["b"]):
        short = (_clean_name(m["a"]), _clean_name(m["b"]))
    return (f"{short[0]} v. {short[1]}", list(short), "") if short else None


def _role_caption(lines: list[str]) -> tuple[list[str], list[str], str] | None:
    """A US caption: the parties on each side, "Plaintiffs", "Respondent", ... after them."""
    for left_side, right_side in _caption_sides(lines):
        if not (_ROLE.search(left_side) or _ROLE.search(right_side)):
            continue
        left, _ = _parties(left_side)
        right, roles = _parties(right_side)
        if left and right:
            pairs = zip(right, roles, strict=True)
            respondent = next((p for p, r in pairs if r.startswith("respondent")), "")
            return left, right, respondent
    return None


_VERSUS_ALONE = re.compile(rf"(?i)(?:-\s*)?(?:against|{_VS})(?:\s*-)?")
_VERSUS_IN = re.compile(rf"(?:^|\s){_VS}(?:\s|$)")
_CAPTION_END = re.compile(r"(?i)\s\)(?=\s|$)|^\)|\s(?:Docket|Case|Index|Cause)\s+Nos?\.|\sFiled\s")
_ENDS_WITH_ROLE = re.compile(rf"(?i)\b{_ROLES}[.,;]*$")


def _caption_sides(lines: list[str]) -> Iterator[tuple[str, str]]:
    """(left, right) around each "v." or "against" of the caption, however the layout cut it:
    one line ("X, Employee, v. Y, Employer. ) Docket No. ..."), or several ("X," / "Employee," /
    "v." / "Y," / "Employer."). A side runs to the caption's right-hand column (" ) "), a docket
    label, a court's name, a heading in capitals, and ends with the line naming a role."""
    for k, line in enumerate(lines):
        if _VERSUS_ALONE.fullmatch(line.strip()):
            head, tail = "", ""
        elif m := _VERSUS_IN.search(line):
            head, tail = line[: m.start()], line[m.end() :]
        else:
            continue
        left = [head] if head.strip() else []
        for prev in reversed(lines[max(0, k - 4) : k]):
            if not _party_line(prev) or (left and _ENDS_WITH_ROLE.search(prev)):
                break
            left.insert(0, prev)
        right: list[str] = []
        for nxt in [tail, *lines[k + 1 : k + 7]] if tail.strip() else lines[k + 1 : k + 7]:
            cut = _CAPTION_END.search(nxt)
            part = nxt[: cut.start()] if cut else nxt
            if part.strip() and not _party_line(part):
                break
            right.append(part)
            if cut or _ENDS_WITH_ROLE.search(part.strip()):
                break
        if left and right:
            yield " ".join(left)[-400:], " ".join(right)[:1500]


def _party_line(line: str) -> bool:
    """A line that may name parties: not a court's name, a heading in capitals without a role,
    a docket label, a date or running prose."""
    t = line.strip()
    if not t or _COURT_NAME.match(t) or _is_prose(t) or _dates(t):
        return False
    if re.search(r"(?i)\b(?:Docket|Case|Index|Cause)\s+Nos?\.", t):
        return False
    return not (_mostly_caps(t) and not _ROLE.search(t) and not t.endswith(","))


def _name_like(s: str) -> bool:
    s = s.strip(' “”"')
    return (
        1 <= len(s.split()) <= 14
        and bool(re.match(r"[A-Z“\"]", s))
        and not re.search(r"[.;:]\s+[a-z]", s)
    )


def _parties(side: str) -> tuple[list[str], list[str]]:
    """Names and roles: "Norman Seabrook, ..., Defendants. and The ... Association, Inc.,
    Nominal Defendant." -> the names, each with the role written after its group."""
    chunks: list[tuple[str, str]] = []
    pos = 0
    for m in _ROLE.finditer(side):
        chunks.append((side[pos : m.start()], m[0]))
        pos = m.end()
    if side[pos:].strip(" .,;"):
        chunks.append((side[pos:], ""))
    names: list[str] = []
    roles: list[str] = []
    for chunk, role in chunks:
        chunk = re.sub(r"(?i)^\s*(?:and|&)\s+", "", chunk.strip(" ,;\n"))
        chunk = re.sub(r"(?i),?\s*\bet\s+al\.?", "", chunk)
        merged: list[str] = []
        for part in (p.strip() for p in chunk.split(",")):
            if merged and _COMPANY.match(part):
                merged[-1] += f", {part}"  # "Koehler & Isaacs, LLP"
            elif part:
                merged.append(part)
        for raw in merged:
            name = _clean_name(re.sub(r"(?i)^(?:and|&)\s+", "", raw))
            words = len(name.split())
            if 1 <= words <= 12 and re.match(r"[A-Z“]", name) and not re.search(r"[{}\":]", name):
                names.append(name)
                roles.append(role.strip(" ,.;").lower())
    return names, roles


# ------------------------------------------------------------------------------------ legislation

_GROUPS: list[set[str]] = [  # the identifier families one instrument is cited by
    {"us-pl", "us-stat", "us-bill", "usc"},
    {"us-eo", "us-fr"},
    {"uk-si"},
    {"uk-act"},
    {"eu-reg", "celex"},
    {"ca-statute"},
    {"ca-reg"},
    {"cfr", "us-fr"},
]
_JURISDICTION_OF = {
    "us": "United States", "usc": "United States", "cfr": "United States",
    "uk": "United Kingdom", "eu": "European Union", "celex": "European Union", "ca": "Canada",
}  # fmt: skip
_SI_NUMBER = re.compile(r"^(?P<y>(?:19|20)\d\d)\s+No\.\s*(?P<n>\d{1,4})$")
_ELI = re.compile(
    r"https?://(?:data\.europa\.eu/eli|(?:www\.)?legislation\.gov\.uk/(?:id/)?(?:uksi|ukpga|ssi|"
    r"asp|nisr|wsi|anaw|asc|nia|eur))/[\w/.-]*[\w/]"
)
_CODIFIED = re.compile(r"(?i)\b(?:codified|classified)\b[^.;]{0,40}$")
_CODE_TITLE = re.compile(r"^(?:#+\s*)?Title\s+(?P<t>\d{1,2})\s*[—–-]")
_CODE_CHAPTER = re.compile(r"(?i)^(?:#+\s*)?CHAPTER\s+(?P<c>\d{1,4}[A-Z]?)\s*[—–-]\s*(?P<name>.+)$")
_USC_CHAPTER_ID = re.compile(r"\d{1,2} U\.S\.C\. ch\. \d{1,4}[A-Z]?")
_SHORT_TITLE = re.compile(
    r"(?i)\b(?:th(?:is|ese)\s+(?:Act|title|subtitle|chapter|part|Regulations?|Order|Rules|Law)|"
    r"it)\s+may\s+be\s+cited\s+as\s+(?:the\s+)?[“\"‘']?(?P<t>[^”\"’\n]{4,200}?)[”\"’']?\s*"
    r"(?:\.\s|\.$|;|$)"
)
_SHORT_TITLE_FR = re.compile(
    r"(?i)\bpeut\s+être\s+cit[ée]e?\s+sous\s+le\s+titre\s*:?\s*[«“\"]?\s*(?P<t>[^»”\"\n]{4,200}?)"
    r"\s*[»”\"]?\s*(?:\.\s|\.$|;|$)"
)
_LONG_TITLE = re.compile(r"^(?:An Act|AN ACT|A BILL|Loi (?:prévoyant|visant|concernant|portant))\b")
_INSTRUMENT_WORDS = re.compile(
    r"\b(?:Act|Regulations?|Order|Rules|Law|Code|Directive|Decision|Decree|Ordinance|Statute|"
    r"Loi|Règlement|Décret)\b"
)


def _legislation(
    passages: list[Passage], lines: list[_Line], parsed: dict[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    own: list[str] = []
    families: list[str] = []
    group: set[str] | None = None
    si_heading = any(re.fullmatch(r"(?i)statutory\s+instruments?", line.text) for line in lines)
    for line in lines:
        hits = _citations(line.text)
        if si_heading and (m := _SI_NUMBER.match(line.text)):  # "2020 No. 680"
            hits.insert(
                0, Citation(line.text, f"S.I. {m['y']}/{m['n']}", "uk-si", 0, len(line.text))
            )
        for c in hits:
            group = group or next((g for g in _GROUPS if c.family in g), None)
            if not group or c.family not in group or c.family in families:
                continue  # another kind of instrument, or a second one of this family
            if c.family == "usc":
                if not _CODIFIED.search(line.text[: c.start]):
                    continue  # a section it amends or relies on, not where it is codified
                own += _usc_range(c)
            else:
                own.append(c.normalized)
            families.append(c.family)
        if "eli" not in families and (m := _ELI.search(line.text)):
            own.append(m[0])
            families.append("eli")

    # a U.S. Code chapter: "Title 22—" / "CHAPTER 108— NAME" / "§ 10101." sections
    heads = [line.text for line in lines if line.heading]
    heads += [h for p in passages[:3] for h in _heading_parts(p)]
    title_no = next((m["t"] for h in heads if (m := _CODE_TITLE.match(h))), None)
    chapter = next((m for h in heads if (m := _CODE_CHAPTER.match(h))), None)
    sections = [
        p.label[2:] for p in passages if p.label.startswith("§ ") and p.anchor.startswith("sec-")
    ]
    if title_no and sections:
        if chapter:
            own.append(f"{title_no} U.S.C. ch. {chapter['c']}")
            if _weak_title(parsed.get("title", "")):
                name = _smart_title(chapter["name"].strip())
                out["title"] = f"{name} ({title_no} U.S.C. ch. {chapter['c']})"
        own += [f"{title_no} U.S.C. {s}" for s in sections[:500]]
        families.append("usc")
    out["identifiers"] = _dedupe(own)

    first = next((f for f in families if f != "eli"), "")
    out["jurisdiction"] = _JURISDICTION_OF.get(first.split("-")[0], "")
    if not out["jurisdiction"] and families:
        out["jurisdiction"] = "European Union" if "europa.eu" in " ".join(own) else "United Kingdom"

    when, strong = _ranked_date(lines, "", legislation=True)
    if not when:  # a consolidation or a Code chapter states no date of its own at its head
        when = _enacted_elsewhere(passages, own)
    if when and (strong or not parsed.get("date")):
        out["date"] = when
    out["enactment_date"] = when
    out["current_to"] = _current_to(passages)
    if "eu-reg" in families or "celex" in families or out["jurisdiction"] == "European Union":
        out["official_journal"] = next(
            (m[0] for p in passages[:12] if (m := _OJ.search(" ".join(p.text.split())))), ""
        )

    # the short title ("may be cited as"), the long title ("An Act to ..."), and a better title
    # than the parser's when that is weak (an identifier, truncated, a U.S. Code title)
    short = _short_title(passages)
    out["short_title"] = short
    long_title = next(
        (line.text for line in lines if line.passage >= 0 and _LONG_TITLE.match(line.text)), ""
    )
    out["long_title"] = long_title
    if "title" not in out and _weak_title(parsed.get("title", ""), long_title):
        out["title"] = _name_line(lines, short)
    return out


_OJ = re.compile(
    r"\bOJ\s+[LC]\s*\d+\s?[A-Z]{0,2},\s*\d{1,2}\.\d{1,2}\.\d{4},\s*p\.\s*\d+"
)  # EUR-Lex
_CHAPTER_YEAR = re.compile(r"^S\.C\. (?P<y>(?:18|19|20)\d\d), c\. ")  # S.C. 2017, c. 21
_FROM_ENACTMENT = re.compile(  # the Code's words where the Act said "the date of enactment"
    r"(?i)\b(?:the\s+day\s+before|days\s+after|on\s+or\s+after|beginning\s+on)\s+$"
)
_AMENDED_BY = (
    re.compile(  # the amendment list of a Justice Laws consolidation: "2022, c. 10 2022-06-23"
        r"^(?:(?:19|20)\d\d, ch?\. \d+|(?:SOR|DORS)/\d{4}-\d+)\s+(?P<d>\d{4}-\d\d-\d\d)$", re.M
    )
)
_CURRENT_TO = re.compile(
    r"(?i)\b(?:current\s+to|up\s+to\s+date\s+(?:as\s+)?(?:of|to)|last\s+amended\s+on|"
    r"à\s+jour\s+au|dernière\s+modification\s+le)\s*:?\s*$"
)


def _enacted_elsewhere(passages: list[Passage], own: list[str]) -> str:
    """The date of enactment of an instrument whose head gives none: the year of its chapter
    ("S.C. 2017, c. 21"), or for a U.S. Code chapter the date its text puts in place of "the date of
    the enactment of this Act" ("as in effect on the day before December 23, 2016")."""
    for ident in own:
        if m := _CHAPTER_YEAR.match(ident):
            return m["y"]
    if any(i.startswith(("U.S.C. ", "usc")) or " U.S.C. ch. " in i for i in own):
        found: dict[str, int] = {}
        for p in passages[:200]:
            text = " ".join(p.text.split())
            for d in _dates(text):
                if _FROM_ENACTMENT.search(text[max(0, d.start - 40) : d.start]):
                    found[d.iso] = found.get(d.iso, 0) + 1
        if found:
            return max(found, key=lambda iso: (found[iso], iso))
    return ""


def _current_to(passages: list[Passage]) -> str:
    """The date a consolidation is current to: what it says ("Current to June 22, 2023"), else
    the latest amending Act in its list of amendments."""
    stated, amended = [], []
    for p in passages:
        text = p.text
        for d in _dates(text):
            if _CURRENT_TO.search(text[max(0, d.start - 40) : d.start]):
                stated.append(d.iso)
        amended += [m["d"] for m in _AMENDED_BY.finditer(text)]
    return max(stated) if stated else (max(amended) if amended else "")


def _usc_range(c: Citation) -> list[str]:
    """ "22 U.S.C. 10101–10103" -> each section of the range."""
    m = re.search(r"(\d+)\s*[-–—]\s*(\d+)\s*$", c.raw)
    base = re.fullmatch(r"(\d+ U\.S\.C\. )(\d+)", c.normalized)
    if m and base and int(m[1]) == int(base[2]) and 0 < int(m[2]) - int(m[1]) <= MAX_RANGE:
        return [f"{base[1]}{n}" for n in range(int(m[1]), int(m[2]) + 1)]
    return [c.normalized]


def _short_title(passages: list[Passage]) -> str:
    for p in passages[:60]:
        for rx in (_SHORT_TITLE, _SHORT_TITLE_FR):
            if m := rx.search(" ".join(p.text.split())):
                return m["t"].strip(" .,")
        # a section under "Short Title" / "Titre abrégé" that is only the title (the French Act)
        if re.search(r"(?i)(?:^|›\s*)(?:short\s+title|titre\s+abrégé)\s*$", p.heading):
            m = re.match(r"^\d+\s+(?P<t>[^\n]{4,200}?)\.?$", p.text.strip())
            if m and _INSTRUMENT_WORDS.search(m["t"]) and not re.search(r"[.;:]\s", m["t"]):
                return m["t"].strip()
    return ""


def _weak_title(title: str, long_title: str = "") -> bool:
    """No title, an identifier for a title, a truncated one, a U.S. Code title, the long title."""
    t = title.strip()
    return (
        not t
        or bool(citations.normalize(t))
        or t.endswith(("…", "..."))
        or bool(_CODE_TITLE.match(t))
        or (bool(long_title) and long_title.startswith(t.rstrip("…. ")))
    )


def _name_line(lines: list[_Line], short: str) -> str:
    """The instrument's name as its opening states it: the short title when a line gives it,
    else a short line naming an Act, Regulations, an Order... in ordinary case."""
    if short and any(line.text.strip(" .") == short for line in lines):
        return short
    for line in lines:
        t = line.text.strip()
        if line.passage < 0 or not (8 <= len(t) <= 200) or _PREAMBLE.match(t) or _mostly_caps(t):
            continue  # the parser's title, a running head in capitals
        if citations.normalize(t) or any(d.end - d.start >= len(t) - 2 for d in _dates(t)):
            continue  # an identifier or a date on its own
        if _INSTRUMENT_WORDS.search(t) and not re.search(r"[.;:]\s+\w", t):
            if not _LONG_TITLE.match(t):
                return t.rstrip(".")
    return short


# --------------------------------------------------------------------------------------- articles

_BYLINE = re.compile(
    r"^(?:By|BY|Par|Von|Written\s+by|Authors?:|Auteurs?\s*:)\s+(?P<names>.+?)"
    r"(?:\s*(?:[·|•—–]|,?\s+(?:Published|Updated|Posted|on)\b|,?\s+\d{1,2}\s+[A-Z][a-z]+\s+\d{4}|$))"
)
_NAME_WORD = re.compile(
    r"^(?:[A-ZÀ-ÞА-Я][\w'’.-]*|[A-Z]\.|de|da|del|van|von|der|den|bin|al-\w+|la|le|du)$"
)
_AUTHOR_JUNK = re.compile(
    r"(?i)^(?:admin|administrator|user|owner|unknown|microsoft\b.*|.*@.*|\S*\d\S*)$"
)
_NOT_A_NAME = re.compile(
    r"\b(?:Senior|Staff|Chief|Editor|Editors|Writer|Reporter|Correspondent|Columnist|Contributor|"
    r"Director|Professor|Fellow|Counsel|Attorney|Analyst|Manager|Officer|Associate|Assistant|"
    r"Technologist|Project|Program|Center|Centre|Institute|University|Foundation|Union|News|"
    r"Team|Desk|Press|Agency)\b"
)
_SUFFIX = re.compile(r"(?i)^(?:jr\.?|sr\.?|ii|iii|iv|phd|md|esq\.?|inc\.?|llc|ltd\.?)$")
_JUNK_TITLE = re.compile(
    r"(?i)required\s+fields|\bcookies?\b|\bsubscribe\b|\bsign\s+(?:in|up)\b|\blog\s*in\b|"
    r"\bskip\s+to\b|\bmenu\b|\bjavascript\b|^untitled|^home$|^document$"
)


def _article(lines: list[_Line], parsed: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    text_lines = [line.text for line in lines[:12] if line.passage >= 0]
    for i, text in enumerate(text_lines):
        if (m := _BYLINE.match(text)) and "authors" not in out:
            names = []  # up to the first part that is no person's name: "X, Senior Editor, ..."
            for part in re.split(r"\s*,\s*(?:and\s+)?|\s+(?:and|et|und)\s+|\s*&\s*", m["names"]):
                if not _is_person(part) or _NOT_A_NAME.search(part):
                    break
                names.append(part)
            if names and not parsed.get("authors"):
                out["authors"] = names
        published = re.match(r"(?i)^(?:Published|Posted|Date)\s*:?\s*(?:on\s+)?(.+)$", text)
        if published and (ds := _dates(published[1])):
            out.setdefault("date", ds[0].iso)
        elif i and _BYLINE.match(text_lines[i - 1]) and (ds := _dates(text)) and ds[0].start == 0:
            out.setdefault("date", ds[0].iso)  # "By Jane Doe · 10 March 2026"
        publisher = re.match(r"(?i)^Published\s+by\s+(.{2,100})$", text)
        if publisher and not parsed.get("publisher"):
            out["publisher"] = publisher[1].strip(" .")
    if parsed.get("date"):
        out.pop("date", None)  # the meta tags' date wins
    if _JUNK_TITLE.search(str(parsed.get("title") or "")):
        out["title"] = _article_title(lines)
    return out


def _article_title(lines: list[_Line]) -> str:
    """The first title-like line of the text (one another line repeats, as a photo caption or a
    heading does, when there is one): short, no full stop, not page furniture, not a byline."""
    cands = [
        line.text
        for line in lines[:12]
        if line.passage >= 0
        and 12 <= len(line.text) <= 200
        and not line.text.endswith(".")
        and not _JUNK_TITLE.search(line.text)
        and not _BYLINE.match(line.text)
    ]
    repeated = [c for c in cands if any(o != c and o.startswith(c) for o in cands)]
    return (repeated or cands or [""])[0]


def _is_person(name: str) -> bool:
    words = name.split()
    return 2 <= len(words) <= 5 and all(_NAME_WORD.match(w) or _SUFFIX.match(w) for w in words)


def _clean_authors(authors: list[Any]) -> list[str]:
    """Junk dropped (a PDF's "cg04209", an e-mail address); "Doe, Jane" becomes "Jane Doe"."""
    out: list[str] = []
    for raw in authors:
        name = " ".join(str(raw).split())
        if not name or _AUTHOR_JUNK.match(name):
            continue
        m = re.fullmatch(r"([^,]{2,40}),\s*([^,]{2,40})", name)
        if m and not _SUFFIX.match(m[2]) and _is_person(f"{m[2]} {m[1]}"):
            name = f"{m[2]} {m[1]}"
        out.append(name)
    return _dedupe(out)


def _labelled_url(lines: list[_Line]) -> str:
    for line in lines[:20]:
        m = re.match(
            r"(?i)^(?:source|url|available\s+at|retrieved\s+from|originally\s+published\s+at|"
            r"permalink|online)\s*:?\s*<?(https?://\S+?)>?[.,;]?$",
            line.text,
        )
        if m:
            return m[1]
    return ""


# --------------------------------------------------------------------------------------- language

_STOPWORDS = {
    "en": "the of and to in is that for by with as this are be which shall",
    "fr": "le la les des du et en est que qui dans pour une sur par au",
    "de": "der die das und den des ist nicht mit von für auf dem eine sich",
    "es": "el la los las del que y en por con para una es se al",
    "it": "il la che di e per una del della sono non con gli le",
    "nl": "de het een van en dat is op te voor met zijn niet",
    "pt": "o a os as de do da que e em para com uma não por",
    "ru": "и в не на что с по как к из за от это для",
}
_STOP = {lang: set(words.split()) for lang, words in _STOPWORDS.items()}


def guess_language(passages: list[Passage]) -> str:
    """A two-letter code when the text is clearly in one of a few languages, else ''."""
    text = " ".join(p.text for p in passages[:40])[:20000].lower()
    words = re.findall(r"[^\W\d_]+", text)
    if len(words) < 40:
        return ""
    scores = {lang: sum(w in stop for w in words) for lang, stop in _STOP.items()}
    best = max(scores, key=lambda k: scores[k])
    second = max(v for k, v in scores.items() if k != best)
    return best if scores[best] >= 0.12 * len(words) and scores[best] >= 2 * second else ""
