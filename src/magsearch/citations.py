"""Find legal citations in text and normalise them to one canonical string per thing cited.

One small extractor per family, in a table (`_EXTRACTORS`): a compiled pattern and a function
that turns a match into (family, normalized, start, end) hits, or nothing to reject it. US case
citations come from eyecite (case citations only; its law citations mishandle Pub. L.).

Choices worth knowing:
- a range ("22 U.S.C. 10101–10103", "§§ 1701-1706") gives one citation, to its first section;
  subsections ("(a)(1)") and "et seq." are dropped, " note" is kept;
- "nos. 32631/09 and 53799/12" gives one echr-app citation per number;
- Canadian annual-statute notes without the "S.C." ("2017, c. 21, s. 2") are federal statutes;
- "section 1201 of title 8" is "8 U.S.C. 1201" and "section 595.304 of title 31, Code of Federal
  Regulations" is "31 C.F.R. 595.304"; "section 465" alone or "of this title" needs the document's
  context and is not a citation here;
- a short case citation is normalised as "81 T.C. at 828";
- where spans overlap, the earliest then longest wins; our patterns win over eyecite.

normalize() takes a whole string (a sidecar identifier, a search box): it ignores case and
surrounding punctuation, takes a bare "32631/09" as an application number and "S. 1039" as a bill,
and returns None for anything but exactly one citation.

Pure: no I/O. eyecite is imported on first use (it loads its reporter tables then).
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from collections.abc import Callable
from typing import Any, NamedTuple, cast

from magsearch.models import Citation

FAMILIES: dict[str, str] = {
    "echr-app": "ECHR application number",
    "ecli": "European Case Law Identifier",
    "us-pl": "US Public Law",
    "us-stat": "US Statutes at Large",
    "usc": "United States Code",
    "cfr": "US Code of Federal Regulations",
    "us-eo": "US Executive Order",
    "us-fr": "US Federal Register",
    "us-bill": "US Congress bill or resolution",
    "uk-si": "UK Statutory Instrument",
    "uk-act": "UK Act of Parliament (chapter)",
    "eu-reg": "EU regulation, decision or directive",
    "celex": "EU CELEX number",
    "ca-statute": "Canadian federal statute",
    "ca-reg": "Canadian federal regulation (SOR/SI)",
    "us-case": "US case citation",
}


class _Hit(NamedTuple):
    family: str
    normalized: str
    start: int
    end: int


_Build = Callable[[re.Match[str], str, bool], list[_Hit]]


class _Extractor(NamedTuple):
    family: str
    pattern: str
    build: _Build
    need: str = ""  # a pattern every match implies (a literal, found fast): no match without it


_DASH = "-\u2010\u2011\u2012\u2013\u2014\u2212"  # hyphen, non-breaking hyphen, en/em dash, minus
_D = f"[{_DASH}]"
_NUM = r"\d{1,3}(?:,\d{3})+|\d+"  # "60,839" or "60839"


def _span(m: re.Match[str]) -> tuple[int, int]:
    """The citation's span: the group `cite` when the pattern has context around it."""
    return m.span("cite") if "cite" in m.re.groupindex else m.span()


def _simple(family: str, fmt: Callable[[re.Match[str]], str | None]) -> _Build:
    def build(m: re.Match[str], text: str, whole: bool) -> list[_Hit]:
        norm = fmt(m)
        return [_Hit(family, norm, *_span(m))] if norm else []

    return build


def _g(m: re.Match[str], name: str) -> str:
    return re.sub(r"[\s,]", "", m.group(name) or "")


def _listed(
    m: re.Match[str],
    family: str,
    first: str,
    item: re.Pattern[str],
    norm: Callable[[re.Match[str]], str],
) -> list[_Hit]:
    """A list such as "nos. 32631/09 and 53799/12": one hit for the match up to the end of group
    `first`, normalised to `first`, and one per `item` in group `rest`."""
    base = m.start("rest")
    return [_Hit(family, first, m.start(), m.end("first"))] + [
        _Hit(family, norm(n), base + n.start(), base + n.end())
        for n in item.finditer(m.group("rest"))
    ]


# --- echr-app ---------------------------------------------------------------------------------

_APP = r"\d{1,6}/\d{2}(?![\d/])"
_APP_ITEM = re.compile(_APP)
_YEARLIKE = re.compile(r"(?:19|20)\d\d/")
_NOT_APP_BEFORE = re.compile(r"(?i)(?:index|docket|file|case|claim|serial|patent)\W{0,3}$")


def _echr(m: re.Match[str], text: str, whole: bool) -> list[_Hit]:
    if _NOT_APP_BEFORE.search(text[max(0, m.start() - 12) : m.start()]):
        return []  # "Index No. 712894/19" is a New York index number
    if _YEARLIKE.match(m.group("first")) and not m.group().lower().startswith(("app", "req")):
        return []  # "BA Nos. 2007/64" is a docket number; "application no. 2007/64" is kept
    return _listed(m, "echr-app", m.group("first"), _APP_ITEM, lambda n: n.group())


# --- US Code, CFR ------------------------------------------------------------------------------


def _usc(m: re.Match[str]) -> str:
    sec = m.group("sec")
    if re.fullmatch(r"\d+-\d+", sec):  # "1701-1706" is a range; "78u-6", "300gg-11" are sections
        sec = sec.split("-")[0]
    return f"{m.group('title')} U.S.C. {sec}" + (" note" if m.group("note") else "")


def _cfr(m: re.Match[str]) -> str:
    sec = re.sub(r"\s", "", m.group("sec"))
    if m.group("part") or "." not in sec:
        return f"{m.group('title')} C.F.R. part {sec}"
    return f"{m.group('title')} C.F.R. {sec}"


def _prose_title(m: re.Match[str], text: str, whole: bool) -> list[_Hit]:
    sec, title = m.group("sec"), m.group("title")
    if m.group("cfr"):
        return [_Hit("cfr", f"{title} C.F.R. {sec}", *m.span())]
    if "." in sec:
        return []
    return [_Hit("usc", f"{title} U.S.C. {sec}", *m.span())]


_SUB = r"(?:\([A-Za-z0-9]{1,4}\))*"
_USC_ITEM = re.compile(rf"(?P<sec>\d+[a-z]{{0,3}}){_SUB}")


def _usc_spelled(m: re.Match[str], text: str, whole: bool) -> list[_Hit]:
    """ "17 United States Code, sections 106 and 110": one citation per section."""
    title = m.group("title")
    first = f"{title} U.S.C. {m.group('sec')}"
    return _listed(m, "usc", first, _USC_ITEM, lambda n: f"{title} U.S.C. {n.group('sec')}")


# --- us-bill -----------------------------------------------------------------------------------

_BILL_TYPES = {
    "hr": "H.R.",
    "hres": "H. Res.",
    "hjres": "H.J. Res.",
    "hconres": "H. Con. Res.",
    "s": "S.",
    "sres": "S. Res.",
    "sjres": "S.J. Res.",
    "sconres": "S. Con. Res.",
}
_BILL_BEFORE = re.compile(
    r"(?:\b(?:[Bb]ills?|BILL|Senate|Congress|Cong\.|[Hh]earings?|introduced|sponsored)\b"
    r"|H\.\s?R\.\s?\d)"
)
_BILL_AFTER = re.compile(
    r"\s*,?\s*(?:\(?\d{2,3}(?:st|nd|rd|th)\s+Cong|(?:and\s+)?(?:S\.|H\.\s?R\.)\s?\d)"
)


def _bill(m: re.Match[str], text: str, whole: bool) -> list[_Hit]:
    kind = _BILL_TYPES[re.sub(r"[\s.]", "", m.group("t")).lower()]
    # "S. 284" alone is too often something else; a whole string "S. 284" is taken as a bill,
    # but not "s. 2" (a section)
    if kind == "S." and not (whole and m.group("t").startswith("S")):
        before = text[max(0, m.start() - 80) : m.start()]
        if not (_BILL_BEFORE.search(before) or _BILL_AFTER.match(text, m.end())):
            return []
    return [_Hit("us-bill", f"{kind} {m.group('n')}", *m.span())]


# --- Canada ------------------------------------------------------------------------------------


def _ca_statute(m: re.Match[str]) -> str:
    revised = m.group("pre").replace(".", "").replace(" ", "").upper() in ("RSC", "LRC")
    supp = f" ({m.group('sn')}{m.group('sx')} Supp.)" if m.group("sn") else ""
    return f"{'R.S.C.' if revised else 'S.C.'} {m.group('y')}, c. {m.group('c').upper()}{supp}"


_BARE_CA_BEFORE = re.compile(r"(?:[A-Z]\.|\b[A-Z]{2,5}|Laws|Acts|Stat\.?)\s*,?\s*$")


def _ca_bare(m: re.Match[str], text: str, whole: bool) -> list[_Hit]:
    """A historical note ("2017, c. 21, s. 2"), not a provincial statute ("S.O. 2017, c. 2")."""
    if _BARE_CA_BEFORE.search(text[max(0, m.start() - 12) : m.start()]):
        return []
    return [_Hit("ca-statute", f"S.C. {m.group('y')}, c. {m.group('c')}", *m.span())]


# --- EU ----------------------------------------------------------------------------------------

_EU_ACT = (
    r"(?:(?:Council|Commission|European\s+Parliament\s+and\s+(?:of\s+the\s+)?Council)\s+)?"
    r"(?:(?:Implementing|Delegated)\s+)?(?P<t>Regulation|Decision|Directive)"
)
_EU_DOMAIN = r"EU|EC|EEC|CFSP|Euratom|EU,\s?Euratom|JHA"


def _eu(m: re.Match[str], kind: str = "") -> str:
    domain = re.sub(r",\s*", ", ", m.group("d").upper()).replace("EURATOM", "Euratom")
    return f"{(kind or m.group('t')).capitalize()} ({domain}) {m.group('n')}"


_EU_ONE = rf"\((?P<d>{_EU_DOMAIN})\)\s*(?:No\.?\s*)?(?P<n>\d{{1,4}}/\d{{1,4}})\b"
_EU_MORE = re.compile(_EU_ONE)
_EU_NEXT = rf"\s*(?:,|and|or)\s*\((?:{_EU_DOMAIN})\)\s*(?:No\.?\s*)?\d{{1,4}}/\d{{1,4}}\b"
_EU_DATE = r"(?:\s+of\s+\d{1,2}\s+[A-Z][a-z]+\s+\d{4})?"


def _eu_list(m: re.Match[str], text: str, whole: bool) -> list[_Hit]:
    """ "Regulations (EU) 2021/371 of 2 March 2021 and (EU) 2021/478": one citation each."""
    return _listed(m, "eu-reg", _eu(m), _EU_MORE, lambda n: _eu(n, m.group("t")))


def _x(
    family: str,
    pattern: str,
    fmt: Callable[[re.Match[str]], str] | None = None,
    build: _Build | None = None,
    *,
    need: str,
) -> _Extractor:
    """An extractor; `need` is a pattern that every match of `pattern` contains, beginning with
    a literal, so that text without it is skipped at the speed of a substring search (the
    extractors' own patterns begin with classes and look-behinds, and scan slowly)."""
    return _Extractor(family, pattern, build or _simple(family, fmt or (lambda m: m.group())), need)


_SEC = r"(?:§§?\s*|[Ss]ec(?:tion|s)?\.?\s+)"  # "§ ", "§§ ", "sec. ", "section "

# fmt: off
_EXTRACTORS: list[_Extractor] = [
    _x("echr-app",
       r"(?:\b(?:[Aa]pplications?|[Rr]equêtes?)(?:\s+(?:[Nn]os?\.?|[Nn][°º]s?))?\s*"
       r"|\b[Nn]os?\.\s*|\b[Nn]os?\s+|(?<!\w)[Nn][°º]s?\s*)"
       rf"(?P<first>{_APP})(?P<rest>(?:\s*(?:,|and|&|et)\s*{_APP})*)", build=_echr, need="/"),
    _x("ecli", r"\b[Ee][Cc][Ll][Ii]:[A-Za-z]{2}:[A-Za-z0-9.]{1,7}:\d{4}:[A-Za-z0-9.]*[A-Za-z0-9]",
       lambda m: m.group().upper(), need=":"),
    _x("us-pl",
       r"(?:\bPub(?:lic)?\.?\s?(?:L\.|Law)|\bPUBLIC\s+LAW|\bP\.\s?L\.|\bPL)"
       rf"\s*(?:No\.?\s*)?(?P<c>\d{{1,3}})\s*{_D}\s*(?P<n>\d{{1,4}})\b",
       lambda m: f"Pub. L. {m.group('c')}-{m.group('n')}", need="P[uUL.]"),
    _x("us-stat", rf"\b(?P<v>\d{{1,3}})\s+(?:Stat\.?|STAT\.?|stat\.)\s+(?P<p>{_NUM})\b",
       lambda m: f"{m.group('v')} Stat. {_g(m, 'p')}", need="[Ss]tat|STAT"),
    _x("usc",
       r"\b(?P<title>\d{1,2})\s+(?:U\.?\s?S\.?\s?C\.?(?:\s?A\.?)?|U\.S\.\s?Code)(?![A-Za-z])"
       rf"\s*{_SEC}?(?P<sec>\d+[A-Za-z]{{0,3}}(?:-\d+[A-Za-z]{{0,3}})?)\b{_SUB}"
       rf"(?:\s*[{_DASH[3:]}]\s*\d+[A-Za-z]{{0,3}}\b)?(?P<note>\s+note\b)?", _usc, need="U"),
    _x("usc", rf"(?:\bI\.R\.C\.\s*{_SEC}?|\bIRC\s*{_SEC})(?P<sec>\d+[A-Z]?)\b{_SUB}",
       lambda m: f"26 U.S.C. {m.group('sec')}", need=r"I\.R\.C\.|IRC"),
    _x("usc",  # US Code style cross-references: "section 1201(i) of title 8"
       rf"\b[Ss]ection\s+(?P<sec>\d+[a-z]{{0,3}}(?:\.\d+)?(?:-\d+)?){_SUB}"
       r"\s+of\s+[Tt]itle\s+(?P<title>\d{1,2})\b"
       r"(?:(?P<cfr>\s*,\s*Code\s+of\s+Federal\s+Regulations)|\s*,\s*United\s+States\s+Code)?",
       build=_prose_title, need="ection"),
    _x("usc",  # "17 United States Code, section 106(4)", "title 17, United States Code, § 106"
       r"(?:\b[Tt]itle\s+)?\b(?P<title>\d{1,2}),?\s+United\s+States\s+Code,?\s+(?:§§?\s*|[Ss]ections?\s+)"
       rf"(?P<first>(?P<sec>\d+[a-z]{{0,3}}){_SUB})(?P<rest>(?:\s*(?:,|and)\s*\d+[a-z]{{0,3}}{_SUB})*)",
       build=_usc_spelled, need="United"),
    _x("cfr",
       r"\b(?P<title>\d{1,2})\s+C\.?\s?F\.?\s?R\.?(?![A-Za-z])"
       rf"\s*(?:(?P<part>[Pp]arts?|[Pp]t\.)\s*|{_SEC})?"
       r"(?P<sec>\d+(?:\.\d+[a-z]?)?(?:(?:\([a-z0-9]{1,4}\))+-\d+|-\s*\d+(?![.\d]))?)"
       r"(?:\([a-z0-9]{1,4}\))*", _cfr, need=r"C\.?\s?F"),
    _x("us-eo",
       r"(?:\bExecutive\s+Order(?:\s*\(E\.\s?O\.\))?|\bExec\.\s?Ord(?:er|\.)|\bE\.\s?O\.|\bEO)"
       r"\s*(?:No\.?\s*|Number\s+)?(?P<n>\d{4,5})\b", lambda m: f"E.O. {m.group('n')}",
       need=r"E(?:xec|\.|O)"),
    _x("us-fr", rf"\b(?P<v>\d{{1,3}})\s+(?:Fed\.\s?Reg\.|F\.R\.|FR)\s+(?P<p>{_NUM})\b",
       lambda m: f"{m.group('v')} Fed. Reg. {_g(m, 'p')}", need=r"F(?:ed\.|\.|R)"),
    _x("us-bill",
       r"(?<![\w.])(?P<t>H\.\s?R\.|H\.\s?Res\.|H\.\s?J\.\s?Res\.|H\.\s?Con\.\s?Res\.|S\.\s?Res\."
       r"|S\.\s?J\.\s?Res\.|S\.\s?Con\.\s?Res\.|S\.)\s?(?P<n>\d{1,5})\b(?![.,]\d)", build=_bill, need=r"[HS]\."),
    _x("uk-si",
       r"(?<![\w.])(?:S\.\s?I\.|SI|STATUTORY\s+INSTRUMENTS?|Statutory\s+Instruments?)"
       r"\s*(?P<y>(?:19|20)\d{2})\s*(?:/|No\.?)\s*(?P<n>\d{1,4})\b",
       lambda m: f"S.I. {m.group('y')}/{m.group('n')}", need="S[.ITt]"),
    _x("uk-act", r"(?<![\w.,])(?P<y>(?:1[89]|20)\d{2})\s+c\.\s?(?P<c>\d{1,3})\b(?![.,]\d)",
       lambda m: f"{m.group('y')} c. {m.group('c')}", need=r"c\."),
    _x("uk-act",  # "Sanctions and Anti-Money Laundering Act 2018 (c. 13)"
       r"\bAct\s+(?P<cite>(?P<y>(?:1[89]|20)\d{2})\s*\(c\.\s?(?P<c>\d{1,3})\))",
       lambda m: f"{m.group('y')} c. {m.group('c')}", need=r"\(c\."),
    _x("eu-reg", rf"\b(?P<first>{_EU_ACT}s?\s*{_EU_ONE})(?P<rest>(?:{_EU_DATE}{_EU_NEXT})*)",
       build=_eu_list, need="Regulation|Decision|Directive"),
    _x("eu-reg",  # older style: "Decision 2014/145/CFSP"
       rf"\b{_EU_ACT}\s+(?:No\.?\s*)?(?P<n>\d{{2,4}}/\d{{1,4}})/(?P<d>{_EU_DOMAIN})\b", _eu,
       need="Regulation|Decision|Directive"),
    _x("celex", r"\bCELEX(?:\s+(?:number|no\.?))?\s*:?\s*(?P<id>[0-9CE]\d{4}[A-Z]{1,2}\d{4})\b",
       lambda m: f"CELEX {m.group('id').upper()}", need="CELEX"),
    _x("ca-statute",
       r"(?<![A-Za-z]\.)(?<![A-Za-z])(?P<pre>R\.?\s?S\.?\s?C\.?|L\.?\s?R\.?\s?C\.?|S\.?\s?C\.?|L\.?\s?C\.?)"
       r"(?![A-Za-z])\s*,?\s*\(?(?P<y>(?:18|19|20)\d{2})\)?\s*,?\s*(?:c|ch|chap)\.?\s*"
       r"(?P<c>[A-Z]-\d+(?:\.\d+)?|\d+)\b(?:\s*\((?P<sn>\d)(?P<sx>st|nd|rd|th)\s+Supp\.\))?",
       _ca_statute, need=r"C\.?\s*,?\s*\(?[12]"),
    _x("ca-statute",  # the head of an annual statute: "STATUTES OF CANADA 2017 / CHAPTER 21"
       r"\b(?:STATUTES\s+OF\s+CANADA|LOIS\s+DU\s+CANADA)\s+\(?(?P<y>(?:18|19|20)\d{2})\)?"
       r"\s+(?:CHAPTER|CHAPITRE)\s+(?P<c>\d{1,3})\b",
       lambda m: f"S.C. {m.group('y')}, c. {m.group('c')}", need="CANADA"),
    _x("ca-statute",
       r"(?<![\w.,/])(?P<y>(?:18|19|20)\d{2}),\s*(?:c|ch)\.\s?(?P<c>\d{1,3})\b(?![.,]\d)",
       build=_ca_bare, need=r"c\.|ch\."),
    _x("ca-reg",
       rf"(?<![\w/])(?P<k>SOR|DORS|SI|TR)\s?/\s?(?P<y>\d{{4}}|\d{{2}})\s?{_D}\s?(?P<n>\d{{1,4}})\b",
       lambda m: f"{'SOR' if m.group('k').upper() in ('SOR', 'DORS') else 'SI'}"
                 f"/{m.group('y')}-{m.group('n')}", need="/"),
]
# fmt: on

_COMPILED = [(re.compile(x.pattern), x.build, re.compile(x.need)) for x in _EXTRACTORS]
_COMPILED_CI = [(re.compile(x.pattern, re.IGNORECASE), x.build, None) for x in _EXTRACTORS]


_SPACES = {ord(c): " " for c in "\n\r\t\f\v\u00a0"}  # one for one: offsets stay valid


# A full or short case citation has a volume (digits), a reporter starting with a letter, and a page
# (digits) -- "347 U.S. 483", "81 T.C. at 828", "2019 WL 12345", "5 F. Supp. 2d 1" -- or an
# abbreviation followed by a number ("T.C. Memo. 1991-402"): eyecite runs only on text where one of
# these loose patterns occurs. Measured on the labelled
# set and the corpus: the same citations, and most passages skip eyecite (docs/benchmarks.md).
_MAY_CITE_CASES = re.compile(r"\d\s+[A-Za-z].{0,60}?\d|[A-Za-z]\.\s*\d")


def _cases(text: str, whole: bool) -> list[_Hit]:
    """US case citations (full and short) from eyecite, normalised to its corrected citation."""
    from eyecite import get_citations
    from eyecite.models import FullCaseCitation, ShortCaseCitation

    logging.getLogger("eyecite").setLevel(
        logging.ERROR
    )  # its overlap notices are not ours to print
    hits: list[_Hit] = []
    if not text.strip():
        return hits  # eyecite refuses empty text
    flat = text.translate(_SPACES)  # a line break inside a citation hides it: one for one
    if not _MAY_CITE_CASES.search(flat):
        return hits  # no "volume reporter page" here: eyecite would find nothing (and costs)
    # a line break inside a citation hides it from eyecite; replacing one for one keeps offsets
    for c in cast(list[Any], get_citations(flat)):
        if isinstance(c, FullCaseCitation | ShortCaseCitation):
            cite: Any = c  # eyecite is untyped
            start, end = cite.full_span() if whole else cite.span()
            hits.append(_Hit("us-case", _case_normal(cite), start, end))
    return hits


def _case_normal(c: Any) -> str:
    """eyecite's corrected citation; a short cite always as "81 T.C. at 828". (Depending on the
    hash seed, eyecite sometimes reads "81 T.C. at 828" as a full cite to reporter "T.C. at".)"""
    volume, reporter, page = (c.groups.get(k) or "" for k in ("volume", "reporter", "page"))
    if volume and page and (type(c).__name__ == "ShortCaseCitation" or reporter.endswith(" at")):
        corrected = re.sub(r"\s+at$", "", c.corrected_reporter())
        return f"{volume} {corrected} at {page}"
    return str(c.corrected_citation())


def _without_overlaps(hits: list[_Hit], taken: list[_Hit]) -> list[_Hit]:
    """`taken` (sorted, disjoint) plus those of `hits` that overlap nothing, earliest then
    longest first."""
    starts = [t.start for t in taken]
    kept, last_end = list(taken), -1
    for h in sorted(hits, key=lambda h: (h.start, h.start - h.end)):
        i = bisect_right(starts, h.start)
        if (
            not h.normalized
            or h.start < last_end
            or (i and taken[i - 1].end > h.start)
            or (i < len(taken) and taken[i].start < h.end)
        ):
            continue
        kept.append(h)
        last_end = h.end
    return sorted(kept, key=lambda h: h.start)


def _extract(text: str, *, whole: bool = False) -> list[_Hit]:
    hits: list[_Hit] = []
    for pattern, build, need in _COMPILED_CI if whole else _COMPILED:
        if need is not None and not need.search(text):
            continue
        for m in pattern.finditer(text):
            hits.extend(build(m, text, whole))
    return _without_overlaps(_cases(text, whole), _without_overlaps(hits, []))


def find_citations(text: str, anchor: str = "") -> list[Citation]:
    """Every citation in `text`, sorted by start offset, none overlapping."""
    return [
        Citation(
            raw=text[h.start : h.end],
            normalized=h.normalized,
            family=h.family,
            start=h.start,
            end=h.end,
            anchor=anchor,
        )
        for h in _extract(text)
    ]


_BARE_APP = re.compile(r"\d{3,6}/\d{2}")  # "32631/09" as a whole string (not "12/09")
_LEFTOVER = re.compile(r"[\s.,;:()\[\]§\"'“”‘’]*")


def _whole(s: str) -> _Hit | None:
    s = s.strip()
    if not s or len(s) > 300:
        return None
    if _BARE_APP.fullmatch(s):
        return _Hit("echr-app", s, 0, len(s))
    hits = _extract(s, whole=True)
    if len(hits) != 1:
        return None
    h = hits[0]
    if not (_LEFTOVER.fullmatch(s[: h.start]) and _LEFTOVER.fullmatch(s[h.end :])):
        return None
    return h


def normalize(s: str) -> str | None:
    """The canonical form of a string that is exactly one citation or identifier, else None:
    normalize("pub. l. no. 112–208") == "Pub. L. 112-208"; normalize(canonical) == canonical."""
    h = _whole(s)
    return h.normalized if h else None


def family_of(normalized: str) -> str | None:
    """The family of a canonical form (as normalize() gives it), else None."""
    h = _whole(normalized)
    return h.family if h and h.normalized == normalized.strip() else None
