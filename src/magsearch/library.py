"""Opening the archive, its index and the search service together, as the CLI and the web do.

The index is derived: when it is missing or of another schema version, it is rebuilt from the archive
(never a crash); when the catalog holds versions the index lacks (an interrupted ingest), they are added.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .archive import Archive
from .config import Settings
from .errors import IndexUnavailable
from .index.sync import rebuild, repair, sync_pending
from .index.whoosh import WhooshIndex
from .search import SearchService


@dataclass
class Library:
    settings: Settings
    archive: Archive
    index: WhooshIndex
    search: SearchService
    rebuilt: bool = False

    def close(self) -> None:
        self.search.close()
        self.index.close()
        self.archive.close()


def open_library(
    settings: Settings,
    *,
    sync: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Library:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    archive = Archive(settings.data_dir)
    rebuilt = False
    try:
        index = WhooshIndex(settings.index_dir, lock_timeout=settings.index_lock_timeout)
    except IndexUnavailable:
        # another schema version: the archive is the system of record, so rebuild from it
        import shutil

        shutil.rmtree(settings.index_dir, ignore_errors=True)
        index = WhooshIndex(settings.index_dir, lock_timeout=settings.index_lock_timeout)
        rebuild(archive, index, progress)
        rebuilt = True
    if sync and not rebuilt:
        sync_pending(archive, index)
    elif not rebuilt:
        repair(archive, index)  # an index commit ahead of its catalog commit is undone always
    return Library(settings, archive, index, SearchService(archive, index, settings), rebuilt)
