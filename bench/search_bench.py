"""Search latency benchmark (`make bench`; figures go to docs/benchmarks.md, section "Search").

Generates a seeded archive of N passages (legal-ish synthetic text, ~20 passages per document, with
identifiers and citations between documents), stores it in a real Archive (catalog passages: the
snippets' source), builds the Whoosh index directly through WhooshIndex.write, and puts the same
passages into SQLite FTS5 (standard library) as the reference engine. Then, per query kind (term,
AND, OR, phrase, prefix, fielded + date filter, identifier, the proximity operators NEAR/5, /s and
/p, and exact forms =word), it measures p50/p95 over a warm
service (the searcher open, its caches built, and each kind's queries run once untimed so the
index pages they read are in the OS cache): the backend alone (no snippets), the whole
SearchService (hits filled from the archive, up to 3 passages with highlighted snippets each),
and FTS5 without and with snippet(). "Whoosh" alone is the ranking, the exact total and the
facets; "+ snippets" adds picking up to 3 passages per hit, reading them from the archive and
highlighting them; "snippets add" is the difference per query.

Usage:
    python bench/search_bench.py                      # 10,000 passages, 100 queries per kind
    python bench/search_bench.py --passages 100000
    python bench/search_bench.py --quick              # 2,000 passages, 20 queries per kind
"""

from __future__ import annotations

import argparse
import math
import platform
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from common import cpu_line

from magsearch import exports
from magsearch.archive import Archive, NewVersion, now_iso
from magsearch.config import Settings
from magsearch.index.base import IndexRecord, SearchRequest
from magsearch.index.whoosh import WhooshIndex, ident_key
from magsearch.models import Citation, Document, Kind, Passage
from magsearch.search import SearchService

LEGAL = (
    "court applicant respondent government detention custody investigation article convention "
    "violation sanctions asset freeze visa ban foreign person official corruption human rights "
    "judgment paragraph section regulation act statute tribunal appeal evidence procedure remedy "
    "damages liability jurisdiction treaty obligation compliance designation property blocking "
    "president secretary treasury minister council member state union parliament decision order "
    "claim complaint hearing trial prosecutor defendant witness testimony medical treatment death "
    "prison authorities inquiry responsibility accountability abuse torture arrest fraud tax "
    "refund embezzlement money laundering bank account transfer entry admission inadmissible"
).split()
PHRASES = [
    "human rights", "asset freeze", "visa ban", "money laundering", "burden of proof",
    "foreign official", "pre-trial detention", "medical treatment", "gross violations",
    "rule of law", "tax fraud", "due process",
]  # fmt: skip
NAMES = ["Magnitsky", "Magnitskiy", "Magnitskii", "Browder", "Kuznetsov", "Karpov", "Stepanova"]
KINDS = [Kind.RULING] * 6 + [Kind.LEGISLATION] * 2 + [Kind.ARTICLE] * 2
COURTS = [
    "European Court of Human Rights",
    "Supreme Court of the United States",
    "Court of Justice of the European Union",
    "High Court",
    "Court of Appeal",
    "Tax Court",
]
JURIS = ["Council of Europe", "United States", "European Union", "United Kingdom", "Canada"]
KIND_LABELS = (
    "term", "and", "or", "phrase", "prefix", "fielded+date", "identifier", "NEAR/5", "/s", "/p",
    "=exact",
)  # fmt: skip


# -- the generated archive -------------------------------------------------------------------------
class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        syll = [
            "ka",
            "ro",
            "mi",
            "tel",
            "san",
            "dor",
            "vi",
            "len",
            "pa",
            "gus",
            "tor",
            "ne",
            "li",
            "bar",
        ]
        fake = {
            "".join(self.rng.choice(syll) for _ in range(self.rng.randint(2, 4)))
            for _ in range(9000)
        }
        self.vocab = LEGAL + sorted(fake)
        self.rng.shuffle(self.vocab)
        weights = [1 / (r + 1) ** 1.05 for r in range(len(self.vocab))]
        total = sum(weights)
        acc, self.cum = 0.0, []
        for w in weights:
            acc += w / total
            self.cum.append(acc)

    def sentence(self) -> str:
        words = self.rng.choices(self.vocab, cum_weights=self.cum, k=self.rng.randint(8, 24))
        if self.rng.random() < 0.3:
            words.insert(self.rng.randrange(len(words)), self.rng.choice(PHRASES))
        if self.rng.random() < 0.05:
            words.insert(self.rng.randrange(len(words)), self.rng.choice(NAMES))
        return " ".join(words).capitalize() + "."

    def passage(self, cited: list[str]) -> str:
        text = " ".join(self.sentence() for _ in range(self.rng.randint(4, 8)))
        for c in cited:
            text += f" See {c}."
        return text

    def identifier(self, kind: Kind, i: int) -> str:
        if kind is Kind.RULING:
            return f"{10000 + i * 7 % 89999}/{i % 20 + 5:02d}"
        if kind is Kind.LEGISLATION:
            return f"Pub. L. {100 + i % 19}-{i % 997 + 1}"
        return ""

    def documents(
        self, n_passages: int
    ) -> list[tuple[Document, list[Passage], list[tuple[str, str]]]]:
        docs: list[tuple[Document, list[Passage], list[tuple[str, str]]]] = []
        made, i, idents = 0, 0, []
        while made < n_passages:
            kind = self.rng.choice(KINDS)
            ident = self.identifier(kind, i)
            court = self.rng.choice(COURTS) if kind is Kind.RULING else ""
            title = " ".join(self.rng.choices(self.vocab[:400], k=self.rng.randint(3, 8))).title()
            r = self.rng
            date = f"{r.randint(1990, 2024)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
            doc = Document(
                id=f"gen-{i:06d}", kind=kind, title=title, date=date, court=court,
                jurisdiction=self.rng.choice(JURIS), identifiers=(ident,) if ident else (),
            )  # fmt: skip
            count = min(self.rng.randint(5, 35), n_passages - made)
            passages, cites = [], []
            for seq in range(1, count + 1):
                cited = [self.rng.choice(idents)] if idents and self.rng.random() < 0.1 else []
                anchor = f"para-{seq}"
                passages.append(Passage(seq, anchor, f"§ {seq}", self.passage(cited)))
                cites.extend((anchor, c) for c in cited)
            docs.append((doc, passages, cites))
            if ident:
                idents.append(ident)
            made += count
            i += 1
        return docs


def build(data: Path, docs: list, procs: int) -> tuple[Archive, WhooshIndex, float, float]:
    archive = Archive(data)
    archive.db.execute("PRAGMA synchronous=OFF")
    start = time.perf_counter()
    for doc, passages, cites in docs:
        body = "\n\n".join(p.text for p in passages).encode()
        sha = archive.put_original(body)
        archive.record_version(
            NewVersion(
                doc_id=doc.id, sha256=sha, kind=doc.kind.value, title=doc.title,
                media_type="text/plain", size=len(body), filename=f"{doc.id}.txt", pages=None,
                warnings=(), date=doc.date, court=doc.court, jurisdiction=doc.jurisdiction,
                identifiers=tuple((x, "") for x in doc.identifiers), passages=tuple(passages),
                citations=tuple(Citation(n, n, "", 0, 0, a) for a, n in cites),
            )
        )  # fmt: skip
    archive_s = time.perf_counter() - start
    index = WhooshIndex(data / "index")
    records = []
    for doc, passages, cites in docs:
        sha = archive.get_document(doc.id).current_version
        records.append(
            IndexRecord(replace(doc, current_version=sha), sha, tuple(passages), tuple(cites))
        )
    start = time.perf_counter()
    options = {"procs": procs, "multisegment": False} if procs > 1 else {}
    index.write(records, **options)
    return archive, index, archive_s, time.perf_counter() - start


def build_fts(path: Path, docs: list) -> tuple[sqlite3.Connection, float]:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute(
        "CREATE VIRTUAL TABLE psg USING fts5(title, text, cites, doc_id UNINDEXED,"
        " anchor UNINDEXED, kind UNINDEXED, date UNINDEXED,"
        " tokenize='porter unicode61 remove_diacritics 2')"
    )
    start = time.perf_counter()
    with db:
        for doc, passages, cites in docs:
            own = " ".join(ident_key(x) for x in doc.identifiers)
            by_anchor: dict[str, list[str]] = {}
            for anchor, c in cites:
                by_anchor.setdefault(anchor, []).append(ident_key(c))
            db.executemany(
                "INSERT INTO psg VALUES (?,?,?,?,?,?,?)",
                [
                    (doc.title, p.text, " ".join([own, *by_anchor.get(p.anchor, [])]), doc.id,
                     p.anchor, doc.kind.value, doc.date)
                    for p in passages
                ],
            )  # fmt: skip
        db.execute("INSERT INTO psg(psg) VALUES ('optimize')")
    return db, time.perf_counter() - start


# -- queries -----------------------------------------------------------------------------------
def make_queries(
    gen: Generator, docs: list, per_kind: int, seed: int
) -> dict[str, list[tuple[str, str]]]:
    """Per kind: (magsearch query, FTS5 MATCH expression[, SQL date filter after a tab]).

    As in ../shared/design/whoosh-performance.md, words are drawn from those in 1-30 % of the
    documents (of a sample of 500); phrases are half common legal phrases, half bigrams of the
    text; prefixes are the first 4 letters of such words; fielded queries use a title word. The
    proximity operators join two words of one passage: for NEAR/5 and /s at most 4 words apart in
    one sentence, for /p one of its first sentence and one of its last. FTS5's rows are passages,
    so its reference for /p is `a AND b`, for NEAR/5 `NEAR(a b, 5)`, and for /s (it has no
    sentences) also `NEAR(a b, 5)`. An exact form (=word) is a word of the `term` kind's range;
    FTS5 reads it as the word (its porter stemmer has no exact forms)."""
    rng = random.Random(seed + 1)
    sample = docs[:: max(1, len(docs) // 500)]
    df: dict[str, int] = {}
    for _, ps, _ in sample:
        for w in set(re.findall(r"[a-z]+", " ".join(p.text for p in ps).lower())):
            df[w] = df.get(w, 0) + 1
    mid = sorted(w for w, n in df.items() if 0.01 <= n / len(sample) <= 0.30 and len(w) > 2)
    texts = [p.text for _, ps, _ in sample for p in ps]
    idents = [x for d, _, _ in docs for x in d.identifiers]
    out: dict[str, list[tuple[str, str]]] = {k: [] for k in KIND_LABELS}
    for _ in range(per_kind):
        a, b, c = rng.sample(mid, 3)
        out["term"].append((a, a))
        out["and"].append((f"{a} {b}", f"{a} AND {b}"))
        out["or"].append((f"{a} OR {b} OR {c}", f"{a} OR {b} OR {c}"))
        if rng.random() < 0.5:
            phrase = rng.choice(PHRASES)
        else:
            words = re.findall(r"[a-z]+", rng.choice(texts).lower())
            k = rng.randrange(len(words) - 1)
            phrase = f"{words[k]} {words[k + 1]}"
        out["phrase"].append((f'"{phrase}"', '"' + phrase.replace("-", " ") + '"'))
        stem = rng.choice([w for w in mid if len(w) >= 5])[:4]
        out["prefix"].append((f"{stem}*", f"{stem}*"))
        t = rng.choice(re.findall(r"[a-z]+", rng.choice(docs)[0].title.lower()))
        lo = rng.randint(1990, 2018)
        hi = lo + rng.randint(3, 9)
        out["fielded+date"].append((f"title:{t} date:{lo}..{hi}", f"title:{t}\t{lo}\t{hi}-12-31"))
        ident = rng.choice(idents)
        out["identifier"].append((ident, f"cites:{ident_key(ident)}"))
        sentences = [re.findall(r"[a-z]+", x.lower()) for x in rng.choice(texts).split(". ")]
        sentences = [x for x in sentences if len(x) > 6]
        words = max(sentences, key=len)
        k = rng.randrange(len(words) - 5)
        a, b = words[k], words[k + rng.randint(1, 5)]
        out["NEAR/5"].append((f"{a} NEAR/5 {b}", f"NEAR({a} {b}, 5)"))
        out["/s"].append((f"{a} /s {b}", f"NEAR({a} {b}, 5)"))
        a, b = rng.choice(sentences[0]), rng.choice(sentences[-1])
        out["/p"].append((f"{a} /p {b}", f"{a} AND {b}"))
        word = rng.choice(mid)
        out["=exact"].append((f"={word}", word))
    return out


# -- measuring ---------------------------------------------------------------------------------
def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(p / 100 * len(s)) - 1))] * 1000


def run_whoosh(
    service: SearchService, queries: list[tuple[str, str]], snippets: bool
) -> tuple[list[float], int]:
    times, partial = [], 0
    for q, _ in queries:
        start = time.perf_counter()
        if snippets:
            res = service.search(q)
            partial += res.partial
        else:
            parsed = service._parse(q, browse=False)
            res2 = service.backend.search(SearchRequest(query=parsed.node, passages_per_hit=0))
            partial += res2.partial
        times.append(time.perf_counter() - start)
    return times, partial


def run_fts(db: sqlite3.Connection, queries: list[tuple[str, str]], snippets: bool) -> list[float]:
    cols = "doc_id, anchor" + (
        ", snippet(psg, 1, '<mark>', '</mark>', ' … ', 24)" if snippets else ""
    )
    times = []
    for _, match in queries:
        expr, *dates = match.split("\t")
        sql = f"SELECT {cols} FROM psg WHERE psg MATCH ?"
        args: list[str] = [expr]
        if dates:
            sql += " AND date BETWEEN ? AND ?"
            args += dates
        start = time.perf_counter()
        db.execute(sql + " ORDER BY rank LIMIT 10", args).fetchall()
        times.append(time.perf_counter() - start)
    return times


def machine() -> str:
    cpu = cpu_line()
    import whoosh

    wv = ".".join(map(str, whoosh.__version__))
    return (f"{cpu}, Python {platform.python_version()}, "
            f"Whoosh {wv}, SQLite {sqlite3.sqlite_version}")  # fmt: skip


def prepare(
    where: Path, docs: list, procs: int
) -> tuple[Archive, WhooshIndex, sqlite3.Connection, str]:
    """Build the archive, the index and FTS5 in `where`, or reuse them when a previous run left
    them there (--data)."""
    marker = where / "BUILT"
    if marker.exists():
        archive, index = Archive(where), WhooshIndex(where / "index")
        return archive, index, sqlite3.connect(where / "fts.sqlite3"), marker.read_text()
    archive, index, archive_s, index_s = build(where, docs, procs)
    db, fts_s = build_fts(where / "fts.sqlite3", docs)
    size = sum(f.stat().st_size for f in (where / "index").iterdir()) / 1e6
    note = (f"build: archive {archive_s:.1f} s, Whoosh index {index_s:.1f} s (procs={procs}, "
            f"{size:.0f} MB), FTS5 {fts_s:.1f} s")  # fmt: skip
    marker.write_text(note)
    return archive, index, db, note


def bench(n_passages: int, per_kind: int, seed: int, procs: int, data: Path | None) -> None:
    gen = Generator(seed)
    docs = gen.documents(n_passages)
    text_mb = sum(len(p.text) for _, ps, _ in docs for p in ps) / 1e6
    with tempfile.TemporaryDirectory(prefix="magsearch-bench-") as tmp:
        where = (data / f"{n_passages}-{seed}") if data else Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        archive, index, db, note = prepare(where, docs, procs)
        settings = replace(Settings().with_data_dir(where), search_time_limit=2.0)
        service = SearchService(archive, index, settings)
        print(f"\n### {n_passages:,} passages, {len(docs):,} documents, {text_mb:.1f} MB of text\n")
        print(note + ("" if data is None else f" (kept in {where})") + "\n")
        queries = make_queries(gen, docs, per_kind, seed)
        warm = [q for qs in queries.values() for q in qs[:3]]
        run_whoosh(service, warm, True)  # searcher, caches, stemmer cache, page cache
        run_fts(db, warm, True)
        print(
            "| query kind | Whoosh p50 / p95 ms | Whoosh + snippets p50 / p95 ms "
            "| snippets add p50 / p95 ms | FTS5 p50 / p95 ms | FTS5 + snippet() p50 / p95 ms "
            "| ratio p50 (with snippets) | partial |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for kind, qs in queries.items():
            run_whoosh(service, qs, False)  # untimed: the postings these queries read are cached
            bare, partial = run_whoosh(service, qs, False)
            full, partial2 = run_whoosh(service, qs, True)
            extra = [f - b for f, b in zip(full, bare, strict=True)]
            fts = run_fts(db, qs, False)
            fts_snip = run_fts(db, qs, True)
            ratio = pct(full, 50) / max(pct(fts_snip, 50), 1e-3)
            cells = [
                kind,
                f"{pct(bare, 50):.1f} / {pct(bare, 95):.1f}",
                f"{pct(full, 50):.1f} / {pct(full, 95):.1f}",
                f"{pct(extra, 50):.1f} / {pct(extra, 95):.1f}",
                f"{pct(fts, 50):.2f} / {pct(fts, 95):.2f}",
                f"{pct(fts_snip, 50):.2f} / {pct(fts_snip, 95):.2f}",
                f"{ratio:.0f}x",
                str(partial + partial2),
            ]
            print("| " + " | ".join(cells) + " |", flush=True)
        mean = statistics.mean(run_whoosh(service, warm, True)[0]) * 1000
        print(f"\nmean of the warm-up set, Whoosh + snippets: {mean:.1f} ms")
        bench_as_of_and_exports(service, queries)
        service.close()
        index.close()
        archive.close()
        db.close()


def bench_as_of_and_exports(service: SearchService, queries: dict[str, list]) -> None:
    """Searches as of a time (the history index: built once, then searched with every version
    but those of then hidden) against the same searches now; and exports of 1,000 hits."""
    start = time.perf_counter()
    added = service.history.catch_up()
    print(f"\nhistory index for searches as of a time: {added:,} versions in "
          f"{time.perf_counter() - start:.1f} s\n")  # fmt: skip
    at = now_iso()
    print("| query kind | now p50 / p95 ms | as_of now p50 / p95 ms | same page of hits |")
    print("|---|---|---|---|")
    for kind, qs in queries.items():
        now, then, same = [], [], 0
        for q, _ in qs:
            service.search(q, as_of=at)  # untimed: the history index's postings into the cache
            t0 = time.perf_counter()
            a = service.search(q)
            t1 = time.perf_counter()
            b = service.search(q, as_of=at)
            t2 = time.perf_counter()
            now.append(t1 - t0)
            then.append(t2 - t1)
            same += [(h.id, h.version) for h in a.hits] == [
                (h.id, h.version) for h in b.hits
            ]  # the same page: documents, versions, order
        cells = [kind, f"{pct(now, 50):.1f} / {pct(now, 95):.1f}",
                 f"{pct(then, 50):.1f} / {pct(then, 95):.1f}", f"{same}/{len(qs)}"]  # fmt: skip
        print("| " + " | ".join(cells) + " |", flush=True)
    kinds = {"kind": ["ruling", "legislation", "article"]}
    print("\n| export of the first 1,000 documents | search ms | file ms | size kB |")
    print("|---|---|---|---|")
    for fmt in exports.FORMATS:
        t0 = time.perf_counter()
        out = service.export("", filters=kinds, limit=exports.MAX_HITS)
        t1 = time.perf_counter()
        body = exports.export(out.entries, fmt, _bench_links)
        t2 = time.perf_counter()
        cells = [f"{fmt} ({len(out.entries):,} entries)", f"{(t1 - t0) * 1000:.0f}",
                 f"{(t2 - t1) * 1000:.0f}", f"{len(body.encode()) / 1000:.0f}"]  # fmt: skip
        print("| " + " | ".join(cells) + " |", flush=True)


def _bench_links(e: exports.Entry) -> exports.Links:
    url = f"https://archive.example/d/{e.doc.id}"
    return exports.Links(
        url, f"{url}/v/{e.version}", f"{url}#{e.passage.anchor if e.passage else ''}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--passages", type=int, action="append", help="archive size (repeatable)")
    ap.add_argument("--queries", type=int, default=100, help="queries per kind")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--procs", type=int, default=1, help="Whoosh writer processes for the build")
    ap.add_argument("--quick", action="store_true", help="2,000 passages, 20 queries per kind")
    ap.add_argument("--data", type=Path, help="keep the built archives here and reuse them")
    args = ap.parse_args(argv)
    sizes = args.passages or ([2000] if args.quick else [10000])
    per_kind = 20 if args.quick else args.queries
    print(f"search_bench: {machine()}")
    print(
        f"command: python bench/search_bench.py {' '.join(sys.argv[1:] if argv is None else argv)}"
    )
    for n in sizes:
        bench(n, per_kind, args.seed, args.procs, args.data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
