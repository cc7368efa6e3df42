"""A running server's index sees every commit of another writer at once, merges included.

The "server" and the "ingest" are two WhooshIndex objects over one directory, as in two processes: the
server keeps its searcher between searches, the ingest commits one document at a time (Whoosh merges
small segments at some of those commits) and withdraws one. Whoosh runs on a real index on disk.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from magsearch.archive import Archive, NewVersion
from magsearch.config import Settings
from magsearch.index.sync import index_documents
from magsearch.index.whoosh import WhooshIndex
from magsearch.models import Passage
from magsearch.search import SearchService

WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar".split()


def _add(archive: Archive, n: int, text: str = "") -> str:
    doc_id = f"note-{n:02d}"
    paras = [
        text
        or f"Note {n} on the detention of Sergei Magnitsky, marker {WORDS[n % len(WORDS)]}{n}.",
        "The court examined the conditions of detention and the medical care given.",
    ]
    data = ("\n".join(paras) + doc_id).encode()
    sha = archive.put_original(data)
    archive.record_version(
        NewVersion(
            doc_id=doc_id,
            sha256=sha,
            kind="article",
            title=f"Note {n}",
            media_type="text/plain",
            size=len(data),
            filename=f"{doc_id}.txt",
            pages=None,
            warnings=(),
            passages=tuple(
                Passage(i + 1, f"p-{i + 1}", f"¶ {i + 1}", t) for i, t in enumerate(paras)
            ),
        )
    )
    return doc_id


def _segments(index_dir: Path) -> set[str]:
    """The segments on disk (non-compound: each file is named MAIN_<segment id>.<ext>)."""
    return {f.name.split(".")[0] for f in index_dir.glob("MAIN_*.*") if not f.name.endswith(".toc")}


@dataclass
class Pair:
    archive: Archive
    server: WhooshIndex  # keeps its searcher, like a web worker
    ingest: WhooshIndex  # commits, like `magsearch ingest` in another process
    service: SearchService
    index_dir: Path


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    archive = Archive(tmp_path)
    server = WhooshIndex(tmp_path / "index")
    ingest = WhooshIndex(tmp_path / "index")
    yield Pair(
        archive,
        server,
        ingest,
        SearchService(archive, server, Settings().with_data_dir(tmp_path)),
        tmp_path / "index",
    )
    server.close()
    ingest.close()
    archive.close()


def _ids(res: dict) -> set[str]:
    return {h.id for h in res.hits}


def test_one_file_commits_with_merges_are_seen_at_once(pair: Pair) -> None:
    """Before: after the commit that merged segments, every search raised IndexError in
    SearcherCache and the refreshed searcher counted merged documents twice."""
    merged = 0
    before = _segments(pair.index_dir)
    for n in range(1, 16):
        doc_id = _add(pair.archive, n)
        index_documents(pair.archive, pair.ingest, [doc_id])
        now = _segments(pair.index_dir)
        merged += bool(before - now)  # a segment the server had open is gone: a merge
        before = now
        res = pair.service.search("magnitsky", per_page=100)
        assert res.total == n, f"after {n} commits"
        assert pair.server.doc_count() == n
        assert pair.server.doc_ids() == {f"note-{i:02d}" for i in range(1, n + 1)}
        marker = f"{WORDS[n % len(WORDS)]}{n}"
        assert _ids(pair.service.search(marker)) == {doc_id}
    assert merged >= 1, "no commit merged segments: the test did not test the merge"


def test_withdrawn_and_replaced_documents_leave_the_running_server(pair: Pair) -> None:
    """Before: a refreshed searcher reused segment readers with their old deletions, so a withdrawn
    document stayed in the results and a replaced one counted twice."""
    ids = [_add(pair.archive, n) for n in range(1, 5)]
    index_documents(pair.archive, pair.ingest, ids)
    assert pair.service.search("magnitsky").total == 4  # the server's searcher is open now
    pair.archive.withdraw("note-02", "published in error")
    index_documents(pair.archive, pair.ingest, ["note-02"])
    res = pair.service.search("magnitsky")
    assert "note-02" not in _ids(res) and res.total == 3
    assert pair.service.search("bravo2").total == 0
    index_documents(pair.archive, pair.ingest, ["note-03"])  # the same version again: replaced
    assert pair.service.search("magnitsky").total == 3
    assert pair.server.doc_ids() == {"note-01", "note-03", "note-04"}


def test_searching_while_another_writer_commits_and_merges(pair: Pair) -> None:
    """Searches never fail while commits merge segments and delete their files."""
    errors: list[BaseException] = []
    done = threading.Event()

    def writer() -> None:
        try:
            for n in range(1, 31):
                index_documents(pair.archive, pair.ingest, [_add(pair.archive, n)])
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            done.set()

    t = threading.Thread(target=writer)
    t.start()
    searches = 0
    try:
        while not done.is_set() or searches < 5:
            res = pair.service.search("detention magnitsky", per_page=50)
            assert res.total == len(_ids(res))  # nothing counted twice
            searches += 1
    finally:
        t.join()
    assert not errors, errors
    assert pair.service.search("magnitsky", per_page=50).total == 30


def test_more_like_this_on_pages_forgets_a_withdrawn_document(tmp_path: Path) -> None:
    """Before: the web process kept each page's "more like this" list until restarted, so a
    document withdrawn by another process was still offered there."""
    from magsearch.web import create_app

    archive = Archive(tmp_path)
    ingest = WhooshIndex(tmp_path / "index")
    text = "Sanctions on the officials responsible for the death of Sergei Magnitsky in detention."
    ids = [_add(archive, n, text + f" Case {n}.") for n in range(1, 4)]
    index_documents(archive, ingest, ids)
    app = create_app(settings=Settings().with_data_dir(tmp_path))
    client = app.test_client()
    page = client.get("/d/note-01").get_data(as_text=True)
    assert 'href="/d/note-02"' in page and 'href="/d/note-03"' in page
    archive.withdraw("note-02", "published in error")
    index_documents(archive, ingest, ["note-02"])
    page = client.get("/d/note-01").get_data(as_text=True)
    assert 'href="/d/note-02"' not in page and 'href="/d/note-03"' in page
    app.extensions["magsearch"].close()
    ingest.close()
    archive.close()


def test_a_searcher_that_cannot_open_leaves_no_file_open(pair: Pair) -> None:
    """Before: when a commit had deleted a segment's files just as a searcher was being opened,
    Whoosh raised with the other segments' readers still open (ResourceWarning, and a file
    descriptor held until the garbage collector ran), about one run in twenty of the test above."""
    import gc
    import warnings

    from magsearch.index.whoosh import _open_reader

    ix = pair.ingest._ix
    for n in (1, 2):  # one commit each: two segments on disk
        index_documents(pair.archive, pair.ingest, [_add(pair.archive, n)])
    segments = sorted(_segments(pair.index_dir))
    assert len(segments) == 2
    (pair.index_dir / f"{segments[1]}.pst").unlink()  # as a merging commit deletes it
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(OSError):
            _open_reader(ix)
        gc.collect()
    assert not [w for w in seen if issubclass(w.category, ResourceWarning)]
