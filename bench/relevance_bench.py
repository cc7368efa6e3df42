"""Relevance benchmark (`make bench`; figures go to docs/benchmarks.md, section "Relevance").

In one run: ingests the judged collection (../shared/corpus's legislation, articles and rulings, and
the bundled archive/) through magsearch's real pipeline, gives the same extracted text to two
reference engines, SQLite FTS5 (its bm25(), tokenizer `porter unicode61 remove_diacritics 2`) and
tantivy (its default BM25, k1 1.2, b 0.75, tokenizer `en_stem`), and reports nDCG@10, recall@10 and
paragraph hit@1 per query kind for all three, on the tuned-on judged set ("fit"), the held-out one
and the fresh one ("results"): tests/data/judged_queries*.tsv, measured as
tests/test_search_relevance.py does.

What the reference engines get, per document: the title; the body (every passage's headings and
text, as the archive holds them after extraction); and the metadata as plain text (identifiers,
court, jurisdiction) in a third field. Per passage (for paragraph hit@1): its headings and text.
A query is read the same way for both: quoted phrases stay phrases; a word with punctuation inside
(32631/09, 112-208, S.I.) becomes the phrase of its parts, as their tokenizers split it; the words
and phrases are OR-ed (each engine's plain BM25 ranking of any-word matches); `title:` is a
required clause on the title field; `kind:`, `year:`, `date:`, `court:` and `jurisdiction:` filter
on the document's metadata after retrieval (magsearch's filters never change its ranking either).
The top document's paragraph is the engine's best-scoring passage of that document for the query.

Usage:
    python bench/relevance_bench.py            # needs the shared corpus and `pip install -e '.[bench]'`
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import cpu_line

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from conftest import corpus_root, make_settings  # noqa: E402
from magsearch.library import Library  # noqa: E402
from test_search_relevance import (  # noqa: E402
    FRESH,
    HELDOUT,
    JUDGED,
    K,
    Ranker,
    Scores,
    ingest_judged,
    load_judged,
    magsearch_ranker,
    measure,
)

KIND_ALIASES = {
    **dict.fromkeys(("judgment", "decision", "case"), "ruling"),
    **dict.fromkeys(("law", "act", "statute", "regulation"), "legislation"),
}
JURISDICTION_ALIASES = {
    "uk": "united kingdom",
    "eu": "european union",
    "us": "united states",
    "usa": "united states",
    "coe": "council of europe",
}
TOKEN = re.compile(r"(\w+):(\"[^\"]*\"?|\S+)|\"([^\"]*)\"?|(\S+)")
WORD = re.compile(r"\w+")


@dataclass
class Doc:
    id: str
    title: str
    body: str
    meta: str
    kind: str
    date: str
    court: str
    jurisdiction: str
    passages: list[tuple[str, str]]  # (anchor, headings and text)


@dataclass
class Query:
    clauses: list[list[str]] = field(default_factory=list)  # OR-ed phrases (a word: 1 token)
    title: list[list[str]] = field(default_factory=list)  # required phrases in the title
    filters: list[tuple[str, str]] = field(default_factory=list)


def read_docs(lib: Library) -> list[Doc]:
    docs = []
    for d in lib.archive.documents():
        passages = [
            (p.anchor, f"{p.heading.replace(' › ', '. ')}\n{p.text}" if p.heading else p.text)
            for p in lib.archive.passages(d.current_version)
        ]
        docs.append(
            Doc(
                id=d.id,
                title=d.title,
                body="\n\n".join(text for _, text in passages),
                meta=" ".join([*d.identifiers, d.court, d.jurisdiction]),
                kind=d.kind.value,
                date=d.date,
                court=d.court,
                jurisdiction=d.jurisdiction,
                passages=passages,
            )
        )
    return docs


def parse(q: str) -> Query:
    out = Query()
    for m in TOKEN.finditer(q):
        name, value, phrase, word = m.groups()
        if name:
            value = value.strip('"')
            name = name.lower()
            if name == "title":
                out.title.append(WORD.findall(value.lower()))
            elif name in ("kind", "type", "year", "date", "court", "jurisdiction"):
                out.filters.append(("kind" if name == "type" else name, value.lower()))
            else:  # not a field the engines know: its words
                out.clauses += [[t] for t in WORD.findall(f"{name} {value}".lower())]
        elif phrase is not None:
            if toks := WORD.findall(phrase.lower()):
                out.clauses.append(toks)
        elif toks := WORD.findall(word.lower()):
            out.clauses.append(toks)
    out.title = [t for t in out.title if t]
    return out


def _in_range(date: str, value: str) -> bool:
    if not date:
        return False
    low, sep, high = value.partition("..")
    if not sep:
        return date.startswith(value)
    return (not low or date[: len(low)] >= low) and (not high or date[: len(high)] <= high)


def passes(doc: Doc, filters: list[tuple[str, str]]) -> bool:
    for name, value in filters:
        if name == "kind" and doc.kind != KIND_ALIASES.get(value, value):
            return False
        if name in ("year", "date") and not _in_range(doc.date, value):
            return False
        if name in ("court", "jurisdiction"):
            have = (doc.court if name == "court" else doc.jurisdiction).lower()
            want = JURISDICTION_ALIASES.get(value, value) if name == "jurisdiction" else value
            if not all(w in WORD.findall(have) for w in WORD.findall(want)):
                return False
    return True


class Fts5:
    name = "SQLite FTS5 bm25()"

    def __init__(self, docs: list[Doc]) -> None:
        self.db = sqlite3.connect(":memory:")
        tok = "tokenize='porter unicode61 remove_diacritics 2'"
        self.db.execute(
            f"CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, meta, {tok})"
        )
        self.db.execute(
            f"CREATE VIRTUAL TABLE passages USING fts5(doc UNINDEXED, anchor UNINDEXED, text, {tok})"
        )
        self.db.executemany(
            "INSERT INTO docs VALUES (?, ?, ?, ?)", [(d.id, d.title, d.body, d.meta) for d in docs]
        )
        self.db.executemany(
            "INSERT INTO passages VALUES (?, ?, ?)",
            [(d.id, a, t) for d in docs for a, t in d.passages],
        )
        self.docs = {d.id: d for d in docs}

    @staticmethod
    def _phrase(toks: list[str]) -> str:
        return '"' + " ".join(toks) + '"'

    def rank(self, q: str) -> list[tuple[str, str]]:
        query = parse(q)
        text = " OR ".join(self._phrase(c) for c in query.clauses)
        parts = [f"title : {self._phrase(t)}" for t in query.title]
        if text:
            parts.append(f"({text})")
        if parts:
            rows = self.db.execute(
                "SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs), rowid",
                (" AND ".join(parts),),
            ).fetchall()
            ids = [r[0] for r in rows]
        else:
            ids = sorted(self.docs)
        ids = [i for i in ids if passes(self.docs[i], query.filters)][:K]
        return [(i, self._best_passage(i, text)) for i in ids]

    def _best_passage(self, doc: str, text: str) -> str:
        row = None
        if text:
            row = self.db.execute(
                "SELECT anchor FROM passages WHERE passages MATCH ? AND doc = ? "
                "ORDER BY bm25(passages), rowid LIMIT 1",
                (text, doc),
            ).fetchone()
        return row[0] if row else (self.docs[doc].passages or [("", "")])[0][0]


class Tantivy:
    name = "tantivy BM25"

    def __init__(self, docs: list[Doc]) -> None:
        import tantivy

        self.t = tantivy
        sb = tantivy.SchemaBuilder()
        sb.add_text_field("id", stored=True, tokenizer_name="raw")
        for f in ("title", "body", "meta"):
            sb.add_text_field(f, tokenizer_name="en_stem")
        self.schema = sb.build()
        self.index = tantivy.Index(self.schema)
        w = self.index.writer(heap_size=50_000_000, num_threads=1)
        for d in docs:
            w.add_document(tantivy.Document(id=d.id, title=d.title, body=d.body, meta=d.meta))
        w.commit()
        w.wait_merging_threads()
        self.index.reload()

        pb = tantivy.SchemaBuilder()
        pb.add_text_field("doc", stored=True, tokenizer_name="raw")
        pb.add_text_field("anchor", stored=True, tokenizer_name="raw")
        pb.add_text_field("text", tokenizer_name="en_stem")
        self.pschema = pb.build()
        self.pindex = tantivy.Index(self.pschema)
        w = self.pindex.writer(heap_size=50_000_000, num_threads=1)
        for d in docs:
            for a, t in d.passages:
                w.add_document(tantivy.Document(doc=d.id, anchor=a, text=t))
        w.commit()
        w.wait_merging_threads()
        self.pindex.reload()
        self.docs = {d.id: d for d in docs}

    def rank(self, q: str) -> list[tuple[str, str]]:
        query = parse(q)
        text = " ".join('"' + " ".join(c) + '"' for c in query.clauses)
        parts = [f'+title:"{" ".join(t)}"' for t in query.title]
        if text:
            parts.append(f"+({text})" if parts else text)
        searcher = self.index.searcher()
        if parts:
            parsed = self.index.parse_query(" ".join(parts), ["title", "body", "meta"])
            hits = searcher.search(parsed, limit=len(self.docs)).hits
            ids = [searcher.doc(addr)["id"][0] for _, addr in hits]
        else:
            ids = sorted(self.docs)
        ids = [i for i in ids if passes(self.docs[i], query.filters)][:K]
        return [(i, self._best_passage(i, text)) for i in ids]

    def _best_passage(self, doc: str, text: str) -> str:
        if text:
            t = self.t
            query = t.Query.boolean_query(
                [
                    (t.Occur.Must, self.pindex.parse_query(text, ["text"])),
                    (t.Occur.Must, t.Query.term_query(self.pschema, "doc", doc)),
                ]
            )
            searcher = self.pindex.searcher()
            hits = searcher.search(query, limit=1).hits
            if hits:
                return searcher.doc(hits[0][1])["anchor"][0]
        return (self.docs[doc].passages or [("", "")])[0][0]


def markdown(title: str, engines: list[tuple[str, dict[str, Scores]]]) -> str:
    kinds = sorted(engines[0][1], key=lambda k: (k == "all", k))
    head = "| kind | queries | " + " | ".join(
        f"{name} nDCG@10 | recall@10 | para hit@1" for name, _ in engines
    )
    lines = [f"**{title}**", "", head + " |", "|---|---:|" + "---:|---:|---:|" * len(engines)]
    for kind in kinds:
        n = engines[0][1][kind].queries
        cells = []
        for _, res in engines:
            s = res[kind]
            hit = f"{s.hit1:.3f} ({s.anchored})" if s.anchored else "–"
            cells += [f"{s.ndcg:.3f}", f"{s.recall:.3f}", hit]
        label = f"**{kind}**" if kind == "all" else kind
        lines.append(f"| {label} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    corpus = corpus_root()
    if not (corpus / "MANIFEST.tsv").exists():
        print(f"relevance_bench: the shared corpus is not at {corpus}", file=sys.stderr)
        return 1
    try:
        import tantivy  # noqa: F401
    except ImportError:
        print(
            "relevance_bench: tantivy is not installed (pip install -e '.[bench]')", file=sys.stderr
        )
        return 1
    load = os.getloadavg()
    print(f"machine: {cpu_line()}; load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        lib, refs = ingest_judged(make_settings(Path(tmp) / "data", workers=2), corpus)
        try:
            docs = read_docs(lib)
            print(f"ingested {len(docs)} documents in {time.perf_counter() - t0:.1f} s", flush=True)
            rankers: list[tuple[str, Ranker]] = [("magsearch", magsearch_ranker(lib))]
            for engine in (Fts5, Tantivy):
                t1 = time.perf_counter()
                rankers.append((engine.name, engine(docs).rank))  # type: ignore[abstract]
                print(f"{engine.name}: indexed in {time.perf_counter() - t1:.2f} s", flush=True)
            for title, path in (
                ("tuned on (fit)", JUDGED),
                ("held out (results, levers chosen on it)", HELDOUT),
                ("fresh (results)", FRESH),
            ):
                judged = load_judged(path)
                results = [(name, measure(judged, rank, refs)) for name, rank in rankers]
                print("\n" + markdown(f"{title}: {path.name}, {len(judged)} queries", results))
        finally:
            lib.close()
    load = os.getloadavg()
    print(f"\nload average at end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
