"""The history index: every version the archive holds, for searches "as of" a past time.

The main index holds each document's current version only, and its ranking statistics count only
those; searches as of a time read this second index instead, which holds every version ever
ingested (superseded ones, and those of withdrawn documents, too), each under its own key
(`key`: the document id, "+", the version's sha256; so ties in score or date are broken by
document id, as in the main index). Which of them a search as of T may see is not stored in it: the catalog says
(`Archive.versions_as_of`: each document's newest version ingested by T, unless the document was
withdrawn at T), and the search hides the others, as it hides withdrawn and restricted documents
from a normal search. A version never changes, so this index only grows as versions are added,
and shrinks when a document is purged; it is derived from the catalog like the main index and
rebuilt from it at any time (`magsearch reindex`, or by itself when it is missing or stale).

It is brought up to date when a search as of a time needs it (`History.catch_up`: the versions the
catalog has and it lacks are added, those purged are dropped), so ingest pays nothing for it, and
the first such search after a large ingest pays for the versions it added (`magsearch reindex`
builds it ahead). A file lock keeps writers apart; searches hold it shared, so the set of versions
they hide is the index's own.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace

from ..archive import Archive, write_durably
from ..errors import IndexUnavailable
from .base import IndexRecord
from .sync import version_record
from .whoosh import WhooshIndex

FOLDER = "index-history"
LOCK = "history.lock"
SYNCED = "synced.json"  # the catalog's version signature the index was last brought up to
BATCH = 200


class History:
    """The history index of one archive (opened on first use)."""

    def __init__(self, archive: Archive, *, lock_timeout: float = 30.0) -> None:
        self.archive = archive
        self.path = archive.root / FOLDER
        self.lock_timeout = lock_timeout
        self.batch = BATCH  # versions per commit when catching up within a budget
        self._backend: WhooshIndex | None = None

    @property
    def backend(self) -> WhooshIndex:
        if self._backend is None:
            try:
                self._backend = WhooshIndex(self.path, lock_timeout=self.lock_timeout)
            except IndexUnavailable:  # another schema version, or torn: derived, so rebuilt
                shutil.rmtree(self.path, ignore_errors=True)
                self._backend = WhooshIndex(self.path, lock_timeout=self.lock_timeout)
        return self._backend

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None

    @contextmanager
    def _lock(self, kind: int) -> Iterator[None]:
        with open(self.archive.root / LOCK, "a+b") as fh:
            fcntl.flock(fh.fileno(), kind)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    @contextmanager
    def reading(self, budget: float | None = None) -> Iterator[WhooshIndex]:
        """The index, up to date with the catalog and held so (no writer until the block ends).
        Raises IndexUnavailable when bringing it up to date takes more than `budget` seconds."""
        self.catch_up(budget=budget)
        with self._lock(fcntl.LOCK_SH):
            yield self.backend

    def _synced(self) -> list[int] | None:
        try:
            found = json.loads((self.path / SYNCED).read_bytes())
        except (FileNotFoundError, ValueError):
            return None
        return found if isinstance(found, list) else None

    def catch_up(
        self, progress: Callable[[int], None] | None = None, *, budget: float | None = None
    ) -> int:
        """Add the versions the catalog has and the index lacks, drop those it no longer has
        (purged); returns how many changed. Cheap when nothing did (one small file is read).

        With a `budget` (seconds: a web request must answer), versions are added in commits of
        BATCH, and once the budget is spent IndexUnavailable says how far it got: what was
        committed stays, so the next search goes on from there. Without one (the command line),
        an empty index is filled in one bulk load."""
        start = time.monotonic()
        if self._synced() == list(self.archive.version_signature()):
            return 0
        with self._lock(fcntl.LOCK_EX):
            signature = list(self.archive.version_signature())  # before reading the versions
            if self._synced() == signature:
                return 0
            backend = self.backend
            have = backend.doc_ids()
            want = set(keys(self.archive.version_docs()))
            add = sorted(want - have)
            gone = sorted(have - want)
            if add and not have and budget is None:
                backend.bulk_load(self._records(add, progress))
            else:
                for first in range(0, max(len(add), 1), self.batch):
                    if budget is not None and first and time.monotonic() - start > budget:
                        raise IndexUnavailable(
                            f"the index for searches as of a time is being brought up to date "
                            f"({first:,} of {len(add):,} versions added); try again in a minute"
                        )
                    chunk = add[first : first + self.batch]
                    backend.write(list(self._records(chunk, progress)), delete=gone, fresh=chunk)
                    gone = []
            write_durably(self.path / SYNCED, json.dumps(signature).encode())
            return len(add) + len(have - want)

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """The index anew from the catalog; returns how many versions it holds."""
        with self._lock(fcntl.LOCK_EX):
            self.backend.clear()
            (self.path / SYNCED).unlink(missing_ok=True)
        self.catch_up(progress)
        return len(self.archive.version_docs())

    def _records(
        self, shas: Iterable[str], progress: Callable[[int], None] | None
    ) -> Iterator[IndexRecord]:
        for sha in shas:
            yield record_for_version(self.archive, sha.rpartition("+")[2])
            if progress:
                progress(1)


def key(doc_id: str, sha: str) -> str:
    """A version's key in the history index. "+" sorts before every character of an id."""
    return f"{doc_id}+{sha}"


def keys(versions: dict[str, str]) -> dict[str, str]:
    """{key: sha256} of {sha256: document id}."""
    return {key(doc_id, sha): sha for sha, doc_id in versions.items()}


def record_for_version(archive: Archive, sha: str) -> IndexRecord:
    """A version as the history index holds it: under its key, with the metadata it was
    recorded with."""
    doc = archive.version_document(sha)
    return version_record(archive, replace(doc, id=key(doc.id, sha)), sha)


def forget_versions(archive: Archive, versions: dict[str, str]) -> None:
    """Purged versions ({sha256: document id}) leave the history index at once (if any)."""
    path = archive.root / FOLDER
    if not versions or not path.exists():
        return
    history = History(archive)
    try:
        with history._lock(fcntl.LOCK_EX):
            history.backend.write([], delete=list(keys(versions)))
    finally:
        history.close()
