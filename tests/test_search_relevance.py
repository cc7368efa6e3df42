"""Relevance, measured: the judged queries of tests/data/judged_queries.tsv over the shared corpus
(legislation, articles, rulings) plus the bundled collection in archive/, ingested once through the
real pipeline. nDCG@10 and recall@10 must stay above the floors set from the first measurement
(docs/benchmarks.md, "Search"). Run with -s to see the per-kind table."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ARCHIVE, make_settings
from magsearch.library import Library, open_library

JUDGED = Path(__file__).parent / "data" / "judged_queries.tsv"
CORPUS_PARTS = (("legislation", "legislation"), ("articles", "article"), ("rulings", "ruling"))
K = 10
# Floors: a little below the first measurement (nDCG@10 0.945, recall@10 0.932; docs/benchmarks.md).
FLOOR_NDCG = 0.90
FLOOR_RECALL = 0.88


@dataclass(frozen=True)
class Judged:
    query: str
    kind: str
    grades: dict[str, int]  # ref -> grade


def load_judged(path: Path = JUDGED) -> list[Judged]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or line.startswith("query\t"):
            continue
        query, kind, relevant, *_ = line.split("\t")
        grades = {}
        for item in relevant.split():
            ref, _, grade = item.rpartition("=")
            grades[ref] = int(grade)
        out.append(Judged(query, kind, grades))
    return out


def ndcg(ranked: list[str], grades: dict[str, int], k: int = K) -> float:
    dcg = sum((2 ** grades.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: list[str], grades: dict[str, int], k: int = K) -> float:
    """Relevant documents in the top k, over min(k, number relevant): 1.0 is reachable."""
    relevant = {d for d, g in grades.items() if g > 0}
    return len(relevant & set(ranked[:k])) / min(k, len(relevant)) if relevant else 0.0


@pytest.fixture(scope="module")
def judged_library(
    tmp_path_factory: pytest.TempPathFactory, corpus: Path
) -> Iterator[tuple[Library, dict[str, str]]]:
    from magsearch.ingest.pipeline import Ingester, find_files

    settings = make_settings(tmp_path_factory.mktemp("relevance") / "data", workers=2)
    lib = open_library(settings)
    refs: dict[str, str] = {}
    for part, kind in CORPUS_PARTS:
        for r in Ingester(lib.archive, lib.index, settings, kind=kind).run(
            find_files([corpus / part])
        ):
            if r.id:
                refs[f"corpus:{Path(r.path).relative_to(corpus).as_posix()}"] = r.id
    if ARCHIVE.is_dir():
        for r in Ingester(lib.archive, lib.index, settings).run(find_files([ARCHIVE])):
            if r.id:
                refs[r.id] = r.id
    yield lib, refs
    lib.close()


def measure(lib: Library, refs: dict[str, str]) -> dict[str, tuple[int, float, float]]:
    """Per query kind and overall ("all"): (queries, mean nDCG@10, mean recall@10)."""
    per: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for j in load_judged():
        grades = {refs.get(ref, f"missing:{ref}"): g for ref, g in j.grades.items()}
        ranked = [h["id"] for h in lib.search.search(j.query, per_page=K)["hits"]]
        scores = (ndcg(ranked, grades), recall(ranked, grades))
        per[j.kind].append(scores)
        per["all"].append(scores)
    return {
        kind: (len(v), sum(n for n, _ in v) / len(v), sum(r for _, r in v) / len(v))
        for kind, v in per.items()
    }


def test_judged_set_is_well_formed() -> None:
    judged = load_judged()
    assert len(judged) >= 40
    assert {j.kind for j in judged} == {"identifier", "phrase", "topic", "name", "field"}
    assert all(j.grades and all(g in (1, 2) for g in j.grades.values()) for j in judged)


def test_metrics() -> None:
    assert ndcg(["a", "b"], {"a": 2, "b": 1}) == pytest.approx(1.0)
    assert ndcg(["b", "a"], {"a": 2, "b": 1}) < 1.0
    assert recall(["x", "a"], {"a": 1, "b": 1}) == 0.5


@pytest.mark.slow
def test_relevance_above_floor(judged_library: tuple[Library, dict[str, str]]) -> None:
    lib, refs = judged_library
    results = measure(lib, refs)
    print("\nkind        queries  nDCG@10  recall@10")
    for kind, (n, nd, rc) in sorted(results.items()):
        print(f"{kind:11} {n:7}  {nd:7.3f}  {rc:9.3f}")
    _, nd, rc = results["all"]
    assert nd >= FLOOR_NDCG and rc >= FLOOR_RECALL


@pytest.mark.slow
def test_identifiers_put_the_carrier_first(judged_library: tuple[Library, dict[str, str]]) -> None:
    """The documents carrying the identifier first (the sidecar's document; the US Code chapter
    carries 22 U.S.C. 10101 too), every other document scoring under half of them."""
    lib, _ = judged_library
    for query, carrier in (
        ("32631/09", "echr-magnitskiy-2019"),
        ("Pub. L. 112-208", "us-magnitsky-act-2012"),
        ("S.I. 2020/680", "uk-ghr-sanctions-regulations-2020"),
        ("22 U.S.C. 10101", "us-global-magnitsky-act-2016"),
        ("ECLI:CE:ECHR:2019:0827JUD003263109", "echr-magnitskiy-2019"),
    ):
        res = lib.search.search(query)
        norm = res["interpreted"].removeprefix("citation:").strip('"')
        hits = res["hits"]
        carriers = [h for h in hits if norm in h["identifiers"]]
        assert carrier in [h["id"] for h in carriers], query
        assert hits[: len(carriers)] == carriers, query
        others = hits[len(carriers) :]
        assert others and all(h["score"] < carriers[-1]["score"] / 2 for h in others), query
