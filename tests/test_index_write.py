"""The index write: each passage is analysed once (in the parse worker, or else by the writer), for
its own record and for its document's body; postings are kept by term and written a block at a time,
small blocks uncompressed; the index written is the one Whoosh's own add_document writes with the
same codec, byte for byte, on documents of the corpus in several languages and scripts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from magsearch.index import whoosh
from magsearch.index.base import IndexRecord, SearchRequest
from magsearch.ingest.analyse import Job, analyse
from magsearch.models import Document, Kind, Passage
from magsearch.querylang import parse

FILES = [
    "legislation/canada_J-2.3_loi_justice_victimes_dirigeants_etrangers_corrompus_fr.txt",
    "legislation/us_22_USC_ch108_global_magnitsky_human_rights_accountability.txt",
    "articles/asp_2019_magnitskys-memory.txt",
    "rulings/juriscraper__cit_example.html",
    "rulings/courtlistener__not_wpd.html",
    "html-fixtures/readability__qq.html",  # Chinese: bigrams
    "html-fixtures/readability__la-nacion.html",  # Spanish: tagged stems
    "html-fixtures/readability__heise.html",  # German
    "pdf-fixtures/ingest__udhr_ger.pdf",
]


def _records(corpus: Path) -> list[IndexRecord]:
    out = []
    for n, name in enumerate(FILES):
        data = (corpus / name).read_bytes()
        a = analyse(Job(name, data, f"sha{n}"))
        doc = Document(f"doc{n}", Kind(a.kind), a.title, language=a.fields["language"])
        cited = tuple((c.anchor, c.normalized) for c in a.citations)
        out.append(IndexRecord(doc, f"sha{n}", tuple(a.passages), cited, a.outside))
    # what the files above may lack: Cyrillic words (two terms at one position) in a French
    # passage, private-use characters (the analyzer's language marks) inside a text, a heading
    # without text, a passage with no word at all, Japanese and Korean
    passages = (
        Passage(
            0,
            "p1",
            "¶ 1",
            "Навальный et Магнитский devant la Cour, l'arrêt Браудер.",
            language="fr",
        ),
        Passage(
            1,
            "p2",
            "¶ 2",
            "Text with \ue001 private \ue003 use marks inside it.",
            heading="I. Facts",
        ),
        Passage(2, "p3", "¶ 3", "", heading="I. Facts › A. Heading only"),
        Passage(3, "p4", "¶ 4", "— … ·"),
        Passage(4, "p5", "¶ 5", "マグニツキー事件 마그니츠키 사건 謝爾蓋·馬格尼茨基案 U.S.C. 2019"),
        Passage(
            5, "p6", "¶ 6", "Die Rechtsprechung über Magnitski und Kowalski, § 12.", language="de"
        ),
    )
    doc = Document("mixed", Kind.RULING, "Маgnitsky mixed", language="en")
    out.append(IndexRecord(doc, "shamixed", passages, (("p1", "347 U.S. 483"),), "outside words"))
    return out


def _files(folder: Path) -> dict[str, bytes]:
    """The index's segment files by extension (the segment's random id taken out)."""
    out = {}
    for path in folder.iterdir():
        if path.name.startswith("MAIN_") and not path.name.endswith(".toc"):
            out[path.name.split(".", 1)[1] if "." in path.name else path.name] = path.read_bytes()
    return out


def _whoosh_own(
    records: list[IndexRecord], folder: Path, codec: object = None
) -> whoosh.WhooshIndex:
    """The records written by Whoosh's own writer, which analyses every field itself."""
    ix = whoosh.WhooshIndex(folder)
    w = ix._ix.writer(compound=False, **({"codec": codec} if codec else {}))
    assert not isinstance(w, whoosh._SegmentWriter)
    for rec in records:
        for fields in whoosh._records(rec):
            w.add_document(**fields)
    w.commit(mergetype=whoosh.NO_MERGE, optimize=False)
    return ix


def test_one_analysis_per_passage_writes_the_index_whoosh_writes(corpus, tmp_path) -> None:  # type: ignore[no-untyped-def]
    records = _records(corpus)
    plain = _whoosh_own(records, tmp_path / "plain")
    fast = whoosh.WhooshIndex(tmp_path / "fast")
    fast.write(records, fresh=[r.doc.id for r in records], merge=False)
    # the same postings, lengths and stored fields as Whoosh's own index (whose small blocks are
    # compressed: read back, they are the same)
    a, b = _dump(plain), _dump(fast)
    assert len(a["terms"]) > 5000
    assert a["terms"].keys() == b["terms"].keys()
    for key in a["terms"]:
        assert a["terms"][key] == b["terms"][key], key
    assert a["lengths"] == b["lengths"] and a["stored"] == b["stored"]
    for words in ("Навальный", "Magnitsky", "マグニツキー", "Rechtsprechung", '"human rights"'):
        hits = [
            plain.search(SearchRequest(query=parse(words).node)).hits,
            fast.search(SearchRequest(query=parse(words).node)).hits,
        ]
        assert hits[0] == hits[1] != [], words  # the same documents, scores and passages
    # what opens the index is Whoosh's own codec: nothing of ours is needed to read it
    assert {type(seg.codec()) for seg in fast._ix._segments()} == {whoosh.W3Codec}
    plain.close()
    fast.close()
    # byte for byte what Whoosh's own writer writes with the same codec
    _whoosh_own(records, tmp_path / "own", whoosh._Codec()).close()
    files = _files(tmp_path / "fast")
    assert files == _files(tmp_path / "own") and len(files) >= 5
    # small blocks are left uncompressed, and the index is no larger for it
    size = {n: sum(len(v) for v in _files(tmp_path / n).values()) for n in ("plain", "fast")}
    assert size["fast"] <= size["plain"], size


def test_the_text_analysed_by_the_parse_worker_writes_the_same_index(corpus, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The postings a parse worker computes (IndexRecord.terms, from analyse() itself) are the
    ones the writer would compute; where a value differs from what the worker saw (the catalog's
    document has another title, or language), the writer analyses that value itself."""
    records = _records(corpus)
    ahead = []
    for n, (name, rec) in enumerate(zip(FILES, records, strict=False)):
        a = analyse(Job(name, (corpus / name).read_bytes(), f"sha{n}", engine="whoosh"))
        assert a.terms and all(isinstance(k, tuple) and len(k) == 2 for k in a.terms)
        ahead.append(replace(rec, terms=a.terms))
    ahead.append(replace(records[-1], terms=whoosh.analyse_text(records[-1])))
    # the first document's catalog title and the second's language are not what was parsed
    ahead[0] = replace(ahead[0], doc=replace(ahead[0].doc, title="A title curated since"))
    ahead[1] = replace(ahead[1], doc=replace(ahead[1].doc, language="fr"))
    expected = [replace(ahead[0], terms={}), replace(ahead[1], terms={}), *records[2:]]
    for folder, recs in (("given", ahead), ("analysed", expected)):
        ix = whoosh.WhooshIndex(tmp_path / folder)
        ix.write(recs, fresh=[r.doc.id for r in recs], merge=False)
        ix.close()
    files = _files(tmp_path / "given")
    assert files == _files(tmp_path / "analysed") and len(files) >= 5


def _dump(ix: whoosh.WhooshIndex) -> dict[str, object]:
    r = ix._ix.reader()
    try:
        terms = {}
        for fieldname, text in r.all_terms():
            m = r.postings(fieldname, text)
            rows = []
            while m.is_active():
                rows.append((m.id(), m.weight(), m.value()))
                m.next()
            terms[(fieldname, text)] = rows
        names = r.schema.names()
        docs = range(r.doc_count_all())
        lengths = {(n, f): r.doc_field_length(n, f) for n in docs for f in names}
        stored = [r.stored_fields(n) for n in docs]
    finally:
        r.close()
    return {"terms": terms, "lengths": lengths, "stored": stored}


def test_a_passage_end_and_its_sentence_end_stand_at_the_passage_last_word() -> None:
    """After a passage of CJK bigrams (which move the positions after them on), the sentence end
    that a passage's end implies stands where the passage end does: at its last word."""
    from magsearch.index.whoosh_schema import PASSAGE_END, SENTENCE_END, language_mark, make_schema

    body = "\n\n".join(language_mark("") + t for t in ("马格尼茨基案 2019", "Next passage here"))
    tokens = [
        (t.text, t.pos) for t in make_schema()["body"].analyzer(body, positions=True, mode="index")
    ]
    ends = [pos for text, pos in tokens if text in (PASSAGE_END, SENTENCE_END)]
    assert len(ends) == 2 and ends[0] == ends[1] == [p for t, p in tokens if t == "2019"][0]


def test_the_one_loop_analysis_gives_what_the_analyzer_gives(corpus) -> None:  # type: ignore[no-untyped-def]
    """whoosh_schema.positions_of against the passage analyzer's own tokens, on every blank-line
    paragraph of the corpus's text and HTML files (with the language marks the index puts before
    each passage, and the rulings' full stops, abbreviations and CJK runs), and on the made-up one."""
    from magsearch.index.whoosh_schema import language_mark, make_analyzer, positions_of

    analyzer = make_analyzer(sentences=True)
    texts = [p.text for rec in _records(corpus)[-1:] for p in rec.passages]
    for path in sorted(corpus.rglob("*")):
        if path.suffix in (".txt", ".html", ".htm") and path.is_file():
            raw = path.read_text("utf-8", errors="replace")
            texts.extend(block for block in raw.split("\n\n") if block.strip())
    assert len(texts) > 3000
    langs = ["", "fr", "de", "es", "ru", "en"]
    for n, block in enumerate(texts):
        # a mark at its start, and for some a second passage's mark inside (a document's body)
        text = language_mark(langs[n % 6]) + block
        if n % 3 == 0:
            text += "\n\n" + language_mark(langs[(n + 1) % 6]) + texts[n - 1]
        expected: dict[str, list[int]] = {}
        last = -1
        for t in analyzer(text, positions=True, boosts=True, mode="index"):
            expected.setdefault(t.text, []).append(t.pos)
            last = max(last, t.pos)
        assert positions_of(analyzer, text) == (expected, last), block[:80]
