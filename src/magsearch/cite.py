"""Citations of archived documents, as people paste them and as reference managers import them.

`short_citation` is the one-line form shown beside every search hit. `format_citation` gives the
formal styles (Bluebook, OSCOLA) and the exports (BibTeX, RIS, CSL-JSON), for a whole document or
pinpointed to one passage ("¶ 41" / "para 41"). `highwire_tags` gives the `citation_*` meta tags
that Zotero and Google Scholar read from a document page. Pure: no I/O; URLs are passed in.
"""

from __future__ import annotations

import json
import re
from typing import Any

from . import citations
from .models import Document, Kind, Passage

FORMATS = ("bluebook", "oscola", "mcgill", "bibtex", "ris", "csl-json")
STYLES = ("bluebook", "oscola", "mcgill")  # the formal styles a reader may choose for result lines
MEDIA_TYPES = {
    "bluebook": "text/plain; charset=utf-8",
    "oscola": "text/plain; charset=utf-8",
    "mcgill": "text/plain; charset=utf-8",
    "bibtex": "application/x-bibtex; charset=utf-8",
    "ris": "application/x-research-info-systems; charset=utf-8",
    "csl-json": "application/vnd.citationstyles.csl+json; charset=utf-8",
}
EXTENSIONS = {
    "bibtex": "bib",
    "ris": "ris",
    "csl-json": "json",
    "bluebook": "txt",
    "oscola": "txt",
    "mcgill": "txt",
}

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_BB_MONTHS = (
    "Jan.",
    "Feb.",
    "Mar.",
    "Apr.",
    "May",
    "June",
    "July",
    "Aug.",
    "Sept.",
    "Oct.",
    "Nov.",
    "Dec.",
)
_COURT_ABBR = {  # (Bluebook, OSCOLA)
    "european court of human rights": ("Eur. Ct. H.R.", "ECtHR"),
    "court of justice of the european union": ("CJEU", "CJEU"),
    "supreme court of the united states": ("U.S.", "US Supreme Court"),
}
# anchor prefix -> (Bluebook pinpoint, OSCOLA pinpoint, CSL locator label)
_PINS = {
    "para": ("¶ {}", "para {}", "paragraph"),
    "sec": ("§ {}", "s {}", "section"),
    "art": ("art. {}", "art {}", "article"),
    "reg": ("reg. {}", "reg {}", "section"),
    "rule": ("r. {}", "r {}", "rule"),
    "page": ("at {}", "{}", "page"),
}
_RAW_ANCHOR = re.compile(r"^([a-z]+)-([0-9][0-9a-z.]*)$")


def _about_title(doc: Document) -> str:
    """A press release's or a summary's title without its "Press release:" label."""
    return re.sub(
        r"(?i)^\s*(?:press\s+release|(?:legal\s+|case\s+)?summary)\s*[:–—-]\s*", "", doc.title
    )


def _issuer(doc: Document, style: str) -> str:
    return _court(doc, style) or str(doc.meta.get("publisher") or "")


def short_citation(doc: Document) -> str:
    ids = ", ".join(doc.identifiers[:2])
    if doc.genre in ("press release", "summary"):
        label = doc.genre.capitalize()
        what = _join(_about_title(doc), ids)
        when = _join(doc.court or doc.jurisdiction, _uk_date(doc.date))
        return f"{label}: {what}" + (f" ({when})" if when else "")
    if doc.kind is Kind.RULING:
        name = doc.meta.get("case_name") or doc.title
        nos = [i for i in doc.identifiers if "/" in i and i.replace("/", "").isdigit()]
        number = (
            f", nos. {' and '.join(nos)}" if len(nos) > 1 else (f", no. {nos[0]}" if nos else "")
        )
        court = doc.court or doc.jurisdiction
        when = ", ".join(x for x in (court, doc.date) if x)
        return f"{name}{number}" + (f" ({when})" if when else "")
    if doc.kind is Kind.LEGISLATION:
        name = _statute_name(doc)
        ids = ", ".join(_other_ids(doc, name))
        year = f" ({doc.date[:4]})" if doc.date[:4].isdigit() and doc.date[:4] not in name else ""
        return f"{name}{', ' + ids if ids else ''}{year}"
    authors = doc.meta.get("authors") or []
    who = (", ".join(authors[:3]) + ", ") if authors else ""
    where = ", ".join(x for x in (doc.meta.get("publisher", ""), doc.date) if x)
    return f"{who}{doc.title}" + (f" ({where})" if where else "")


# -- pinpoints -------------------------------------------------------------------------------------
def pinpoint(passage: Passage | None, style: str) -> str:
    """How a style writes a reference to one passage: Bluebook "¶ 41", OSCOLA "para 41"."""
    if passage is None:
        return ""
    number, forms = _pin_parts(passage)
    if forms is None:
        return passage.label
    return forms[0 if style == "bluebook" else 1].format(number)


def pin_label(passage: Passage) -> str:
    """What a lawyer writes to point at a passage: the document's own numbering ("§ 41", "s. 4",
    "Art. 3", "reg. 4"), else its page ("p. 7"), else nothing: never the running number of an
    unnumbered paragraph, which looks like the document's own and is not."""
    if not passage.anchor.startswith("p-"):  # a numbered unit, a page, a schedule
        return passage.label
    return f"p. {passage.page}" if passage.page else ""


def anchor_label(anchor: str) -> str:
    """A reader's label for a bare anchor ("para-12" -> "¶ 12"), when only the anchor is known."""
    m = _RAW_ANCHOR.match(anchor)
    if m and m[1] == "page":
        return f"p. {m[2]}"
    return _PINS[m[1]][0].format(m[2]) if m and m[1] in _PINS else anchor


def _pin_parts(passage: Passage) -> tuple[str, tuple[str, str, str] | None]:
    m = _RAW_ANCHOR.match(passage.anchor)
    if m and m[1] in _PINS:  # a decimal point is written "p" in anchors: sec-10p7 is s. 10.7
        return re.sub(r"(?<=\d)p(?=\d)", ".", m[2]), _PINS[m[1]]
    if passage.page:  # a fallback anchor: cite the page
        return str(passage.page), _PINS["page"]
    return "", None


# -- the formal styles -----------------------------------------------------------------------------
def _date_parts(date: str) -> list[int]:
    return [int(x) for x in date.split("-")[:3] if x.isdigit()]


def _written_date(date: str, months: list[str] | tuple[str, ...], us: bool) -> str:
    """An ISO date in words: "Aug. 27, 2019" (Bluebook, us=True) or "27 August 2019" (OSCOLA)."""
    parts = _date_parts(date)
    if len(parts) == 3:
        month = months[parts[1] - 1]
        return f"{month} {parts[2]}, {parts[0]}" if us else f"{parts[2]} {month} {parts[0]}"
    if len(parts) == 2:
        return f"{months[parts[1] - 1]} {parts[0]}"
    return str(parts[0]) if parts else ""


def long_date(date: str) -> str:
    """An ISO date as a reader writes it: "27 August 2019" ("2017" stays "2017")."""
    return _written_date(date, _MONTHS, us=False) or date


def _bb_date(date: str) -> str:
    return _written_date(date, _BB_MONTHS, us=True)


def _uk_date(date: str) -> str:
    return _written_date(date, _MONTHS, us=False)


def _app_numbers(doc: Document) -> list[str]:
    return [i for i in doc.identifiers if citations.family_of(i) == "echr-app"]


def _court(doc: Document, style: str) -> str:
    abbr = _COURT_ABBR.get(doc.court.lower())
    if abbr:
        return abbr[0 if style == "bluebook" else 1]
    return doc.court or doc.jurisdiction


def _no_dots(text: str) -> str:
    """OSCOLA writes abbreviations without full stops: "Pub. L. 112-208" -> "Pub L 112-208"."""
    return re.sub(r"(?<=[A-Za-z])\.", "", text)


def _join(*parts: str) -> str:
    return ", ".join(p for p in parts if p)


# -- legislation: the name, and the identifiers that do not repeat it ----------------------------
def _statute_name(doc: Document) -> str:
    """The name an Act is cited by: its short title (the title when that holds the short title:
    "Justice for Victims of Corrupt Foreign Officials Act (Sergei Magnitsky Law)")."""
    short = str(doc.meta.get("short_title") or "")
    if short and f"({short})" in doc.title and len(doc.title) <= 120:
        return doc.title
    return short or doc.title


def _other_ids(doc: Document, name: str, limit: int = 2) -> list[str]:
    """The first identifiers, leaving out one the name already is ("E.O. 13818")."""
    key = re.sub(r"\W", "", name.lower())
    return [i for i in doc.identifiers if re.sub(r"\W", "", i.lower()) != key][:limit]


def _ids_of(doc: Document, family: str) -> list[str]:
    return [i for i in doc.identifiers if citations.family_of(i) == family]


def _thousands(number: str) -> str:
    """Bluebook groups digits of numbers of five digits or more: 13818 -> 13,818."""
    return f"{int(number):,}" if number.isdigit() and len(number) >= 5 else number


_OJ_EURLEX = re.compile(
    r"OJ\s+(?P<s>[LC])\s*(?P<no>\d+\s?[A-Z]{0,2}),\s*\d{1,2}\.\d{1,2}\.(?P<y>\d{4}),\s*p\.\s*(?P<p>\d+)"
)  # "OJ L 410I, 7.12.2020, p. 1", as EUR-Lex writes it
_OJ_OSCOLA = re.compile(
    r"\[(?P<y>\d{4})\]\s*OJ\s*(?P<s>[LC])\s*(?P<no>\d+\s?[A-Z]{0,2})/(?P<p>\d+)"
)


def _official_journal(doc: Document) -> tuple[str, str, str, str] | None:
    """(year, series, issue, first page) of an EU act's publication in the Official Journal."""
    raw = str(doc.meta.get("official_journal") or "")
    m = _OJ_EURLEX.search(raw) or _OJ_OSCOLA.search(raw)
    return (m["y"], m["s"], m["no"].replace(" ", ""), m["p"]) if m else None


def _eu_act(doc: Document) -> bool:
    return bool(_ids_of(doc, "eu-reg") or _ids_of(doc, "eu-dir")) or (
        doc.kind is Kind.LEGISLATION and doc.jurisdiction == "European Union"
    )


def _canadian(doc: Document) -> bool:
    return bool(_ids_of(doc, "ca-statute") or _ids_of(doc, "ca-reg"))


def bluebook(doc: Document, passage: Passage | None = None, url: str = "") -> str:
    pin = pinpoint(passage, "bluebook")
    if doc.genre in ("press release", "summary"):
        # as the Bluebook cites press releases: "Press Release, Issuer, Title (date), URL."
        label = "Press Release" if doc.genre == "press release" else "Summary"
        ident = next(iter(doc.identifiers), "")
        when = _bb_date(doc.date)
        head = _join(label, _issuer(doc, "bluebook"), _about_title(doc), ident, pin)
        return head + (f" ({when})" if when else "") + (f", {url}" if url else "") + "."
    if doc.kind is Kind.RULING:
        name = doc.meta.get("case_name") or doc.title
        nos = _app_numbers(doc)
        ident = (
            f"App. No{'s' if len(nos) > 1 else ''}. {', '.join(nos)}"
            if nos
            else next(iter(doc.identifiers), "")
        )
        when = " ".join(x for x in (_court(doc, "bluebook"), _bb_date(doc.date)) if x)
        return _join(name, ident, pin) + (f" ({when})" if when else "") + "."
    if doc.kind is Kind.LEGISLATION and (eo := _ids_of(doc, "us-eo")):
        # Exec. Order No. 13,818, 82 Fed. Reg. 60,839 (Dec. 20, 2017)
        number = eo[0].split()[-1]
        fr = [re.sub(r"(\d+)$", lambda m: _thousands(m[1]), f) for f in _ids_of(doc, "us-fr")[:1]]
        when = _bb_date(doc.date)
        head = _join(f"Exec. Order No. {_thousands(number)}", *fr, pin)
        return head + (f" ({when})" if when else "") + "."
    if doc.kind is Kind.LEGISLATION and (oj := _official_journal(doc)) and _eu_act(doc):
        # Council Regulation 2020/1998, 2020 O.J. (L 410I) 1 (EU)
        year, series, issue, page = oj
        name = re.sub(r"\s+\((?:EU|EC|EEC|Euratom)\)\s+", " ", doc.title.split(" of ")[0])
        return _join(name, f"{year} O.J. ({series} {issue}) {page}", pin) + " (EU)."
    if doc.kind is Kind.LEGISLATION:
        name = _statute_name(doc)
        ids = [i.replace("Pub. L. ", "Pub. L. No. ") for i in _other_ids(doc, name)]
        if pin and ids:  # the section goes after the Public Law number, before the Statutes cite
            ids.insert(1, pin)
        elif pin:
            ids.append(pin)
        year = doc.date[:4] if doc.date[:4].isdigit() else ""
        if _canadian(doc):  # the year is in the chapter citation; the country in brackets
            return _join(name, *ids) + " (Can.)."
        return _join(name, *ids) + (f" ({year})" if year and year not in name else "") + "."
    authors = " & ".join(doc.meta.get("authors") or [])
    publisher = doc.meta.get("publisher", "")
    when = _bb_date(doc.date)
    tail = f" ({when})" if when else ""
    return _join(authors, doc.title, pin, publisher) + tail + (f", {url}" if url else "") + "."


def oscola(doc: Document, passage: Passage | None = None, url: str = "") -> str:
    pin = pinpoint(passage, "oscola")
    if doc.genre in ("press release", "summary"):
        # OSCOLA's form for other sources: Issuer, ‘Title’ (Press release ECHR 292 (2019), 27 August 2019)
        label = "Press release" if doc.genre == "press release" else "Summary"
        ident = next(iter(doc.identifiers), "")
        what = " ".join(x for x in (label, ident) if x)
        title = _about_title(doc).replace(" v. ", " v ")
        head = _join(_issuer(doc, "oscola"), f"‘{title}’") + f" ({_join(what, _uk_date(doc.date))})"
        return " ".join(x for x in (head, pin, f"<{url}>" if url else "") if x)
    if doc.kind is Kind.RULING:
        name = (doc.meta.get("case_name") or doc.title).replace(" v. ", " v ")
        nos = _app_numbers(doc)
        ident = (
            f"App no{'s' if len(nos) > 1 else ''} {' and '.join(nos)}"
            if nos
            else next(iter(doc.identifiers), "")
        )
        when = ", ".join(x for x in (_court(doc, "oscola"), _uk_date(doc.date)) if x)
        head = " ".join(x for x in (name, ident, f"({when})" if when else "") if x)
        return _join(head, pin)
    if doc.kind is Kind.LEGISLATION and (oj := _official_journal(doc)) and _eu_act(doc):
        # OSCOLA 2.6.1: Council Regulation (EC) 1984/2003 of 8 April 2003 introducing ... [2003]
        # OJ L295/1, art 3 (the full title, then the Official Journal: year, series, issue/page)
        year, series, issue, page = oj
        return _join(f"{doc.title} [{year}] OJ {series}{issue}/{page}", pin)
    if doc.kind is Kind.LEGISLATION:
        name = _statute_name(doc)
        return _join(name, *(_no_dots(i) for i in _other_ids(doc, name)), pin)
    authors = " and ".join(doc.meta.get("authors") or [])
    where = ", ".join(x for x in (doc.meta.get("publisher", ""), _uk_date(doc.date)) if x)
    head = _join(authors, f"‘{doc.title}’") + (f" ({where})" if where else "")
    return " ".join(x for x in (head, pin, f"<{url}>" if url else "") if x)


def mcgill(doc: Document, passage: Passage | None = None, url: str = "") -> str:
    """The Canadian Guide to Uniform Legal Citation (McGill Guide): for Canadian statutes and
    regulations "Title, SC 2017, c 21, s 4." / "Title, SOR/2017-233, s 2."; other documents in the
    OSCOLA forms, which the McGill Guide's rules for foreign sources follow closely (no full stops in
    abbreviations, pinpoints "s 4", "art 3", "para 41")."""
    if not _canadian(doc) or doc.kind is not Kind.LEGISLATION:
        text = oscola(doc, passage, url)
        return text if text.endswith(".") else text + "."
    name = _statute_name(doc)
    ids = []
    for ident in _other_ids(doc, name, limit=1):
        # S.C. 2017, c. 21 -> SC 2017, c 21; R.S.C. 1985, c. C-46 -> RSC 1985, c C-46
        ids.append(re.sub(r"\bc\. ", "c ", ident.replace("R.S.C.", "RSC").replace("S.C.", "SC")))
    pin = _no_dots(pinpoint(passage, "oscola")) if passage is not None else ""
    if pin.startswith("para "):  # an unnumbered passage of a statute: its page is no pinpoint
        pin = ""
    return _join(name, *ids, pin) + "."


# -- the exports -----------------------------------------------------------------------------------
_BIBTEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def _tex(text: str) -> str:
    return "".join(_BIBTEX_SPECIAL.get(c, c) for c in " ".join(text.split()))


def _authors(doc: Document) -> list[str]:
    """The authors a reference should name. A judgment has none but its court (given as the
    institution or publisher); the Author field of a ruling's PDF names whoever made the file."""
    if doc.kind is Kind.RULING:
        return []
    return [str(a) for a in doc.meta.get("authors") or []]


def bibtex(
    doc: Document, passage: Passage | None = None, url: str = "", *, key: str = "", note: str = ""
) -> str:
    """A BibTeX entry; `key` overrides the citation key (unique keys in a list), `note` adds one."""
    entry = {Kind.RULING: "jurisdiction", Kind.LEGISLATION: "legislation"}.get(doc.kind, "online")
    if doc.genre in ("press release", "summary"):
        entry = "misc"  # not the judgment or the Act it is about
    fields: list[tuple[str, str]] = [("title", "{" + _tex(doc.title) + "}")]
    if _authors(doc):
        fields.append(("author", " and ".join("{" + _tex(a) + "}" for a in _authors(doc))))
    elif doc.court:
        fields.append(("institution", _tex(doc.court)))
    if doc.date:
        fields.append(("date", _tex(doc.date)))
        fields.append(("year", _tex(doc.date[:4])))
    if doc.identifiers:
        fields.append(("number", _tex(", ".join(doc.identifiers))))
    for name, value in (
        ("publisher", doc.meta.get("publisher", "")),
        ("type", doc.genre if doc.genre in ("press release", "summary") else doc.kind.value),
        ("langid", doc.language),
    ):
        if value:
            fields.append((name, _tex(str(value))))
    if passage is not None:
        fields.append(
            (
                "pages" if passage.anchor.startswith("page-") else "note",
                _tex(pinpoint(passage, "bluebook")),
            )
        )
    if note:
        fields.append(("addendum", _tex(note)))
    if url:
        fields.append(("url", re.sub(r"[\s{}]", "", url)))
    key = key or bibtex_key(doc.id)
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields)
    return f"@{entry}{{{key},\n{body}\n}}\n"


def bibtex_key(doc_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", doc_id).strip("_") or "doc"


def ris(doc: Document, passage: Passage | None = None, url: str = "", *, note: str = "") -> str:
    ty = {Kind.RULING: "CASE", Kind.LEGISLATION: "STAT", Kind.ARTICLE: "ELEC"}.get(doc.kind, "GEN")
    ty = {"press release": "PRESS", "summary": "GEN"}.get(doc.genre, ty)
    rows: list[tuple[str, str]] = [("TY", ty), ("TI", doc.title)]
    rows += [("AU", a) for a in _authors(doc)]
    parts = _date_parts(doc.date)
    if parts:
        rows.append(("PY", str(parts[0])))
        rows.append(
            ("DA", "/".join(f"{p:02d}" if i else str(p) for i, p in enumerate(parts)) + "/")
        )
    publisher = doc.meta.get("publisher") or doc.court
    if publisher:
        rows.append(("PB", str(publisher)))
    if doc.jurisdiction:
        rows.append(("CY", doc.jurisdiction))
    if doc.identifiers:
        rows.append(("M1", ", ".join(doc.identifiers)))
    if passage is not None:
        if passage.page:
            rows.append(("SP", str(passage.page)))
        rows.append(("N1", f"Pinpoint: {pinpoint(passage, 'bluebook')}"))
    if note:
        rows.append(("N1", note))
    if doc.language:
        rows.append(("LA", doc.language))
    if url:
        rows.append(("UR", url))
    rows.append(("ER", ""))
    return "".join(f"{tag}  - {' '.join(value.split())}\n" for tag, value in rows)


def csl_item(
    doc: Document, passage: Passage | None = None, url: str = "", *, note: str = ""
) -> dict[str, Any]:
    kind = {Kind.RULING: "legal_case", Kind.LEGISLATION: "legislation"}.get(
        doc.kind, "webpage" if doc.source_url else "document"
    )
    if doc.genre in ("press release", "summary"):
        kind = "document"
    item: dict[str, Any] = {"id": doc.id, "type": kind, "title": doc.title}
    if doc.genre in ("press release", "summary"):
        item["genre"] = doc.genre.capitalize()
    if _authors(doc):
        item["author"] = [{"literal": a} for a in _authors(doc)]
    if doc.date and _date_parts(doc.date):
        item["issued"] = {"date-parts": [_date_parts(doc.date)]}
    if doc.court:
        item["authority"] = doc.court
    if doc.jurisdiction:
        item["jurisdiction"] = doc.jurisdiction
    if doc.identifiers:
        item["number"] = ", ".join(doc.identifiers)
    if doc.meta.get("publisher"):
        item["publisher"] = str(doc.meta["publisher"])
    if doc.language:
        item["language"] = doc.language
    if url:
        item["URL"] = url
    if passage is not None:
        number, forms = _pin_parts(passage)
        item["locator"] = number or passage.label
        item["label"] = forms[2] if forms else "paragraph"
    if note:
        item["note"] = note
    return item


def csl_json(doc: Document, passage: Passage | None = None, url: str = "") -> str:
    return json.dumps([csl_item(doc, passage, url)], ensure_ascii=False, indent=2) + "\n"


_FORMATTERS = {
    "bluebook": bluebook,
    "oscola": oscola,
    "mcgill": mcgill,
    "bibtex": bibtex,
    "ris": ris,
    "csl-json": csl_json,
}


def format_citation(doc: Document, fmt: str, passage: Passage | None = None, url: str = "") -> str:
    """The citation in one of FORMATS; `passage` pinpoints it, `url` is the permalink to give."""
    try:
        formatter = _FORMATTERS[fmt]
    except KeyError:
        raise ValueError(
            f"unknown citation format {fmt!r} (use one of: {', '.join(FORMATS)})"
        ) from None
    return formatter(doc, passage, url)


# -- meta tags -------------------------------------------------------------------------------------
def highwire_tags(
    doc: Document, *, html_url: str = "", pdf_url: str = "", pages: int | None = None
) -> list[tuple[str, str]]:
    """Highwire Press `citation_*` tags (name, content), as Zotero and Google Scholar read them."""
    tags: list[tuple[str, str]] = [("citation_title", doc.title)]
    authors = _authors(doc) or [x for x in (doc.court or doc.jurisdiction,) if x]
    tags += [("citation_author", a) for a in authors]
    parts = _date_parts(doc.date)
    if parts:
        when = "/".join(f"{p:02d}" if i else str(p) for i, p in enumerate(parts))
        tags += [("citation_publication_date", when), ("citation_date", when)]
    publisher = doc.meta.get("publisher") or doc.court
    if publisher:
        tags.append(("citation_publisher", str(publisher)))
    if doc.language:
        tags.append(("citation_language", doc.language))
    for ident in doc.identifiers:
        tags.append(("citation_technical_report_number", ident))
    if pages:
        tags += [("citation_firstpage", "1"), ("citation_lastpage", str(pages))]
    if html_url:
        tags += [("citation_abstract_html_url", html_url), ("citation_fulltext_html_url", html_url)]
    if pdf_url:
        tags.append(("citation_pdf_url", pdf_url))
    return tags
