"""Settings: where the data lives and the limits that keep ingest and search bounded.

Every setting comes from an environment variable (MAGSEARCH_*) or the command line; defaults are sane
for a 2-core machine.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import SettingError

if TYPE_CHECKING:
    from .ingest.ocr import OcrOptions


def env_int(name: str, default: int, least: int = 1) -> int:
    """A whole number of at least `least` from the environment (unset or empty: the default);
    anything else is a SettingError naming the variable, never a silent default."""
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < least:
        raise SettingError(f"{name}={raw[:40]!r}: expected a whole number of at least {least}")
    return int(raw)


def env_float(name: str, default: float) -> float:
    """A positive number of seconds from the environment, as env_int."""
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (0 < value < math.inf):
        raise SettingError(f"{name}={raw[:40]!r}: expected a positive number")
    return value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = (os.environ.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw not in choices:
        raise SettingError(f"{name}={raw[:40]!r}: expected one of {', '.join(choices)}")
    return raw


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("MAGSEARCH_DATA", "instance"))
    )
    # ingest: every file is parsed in its own process under these limits
    parse_timeout: float = field(default_factory=lambda: env_float("MAGSEARCH_PARSE_TIMEOUT", 60.0))
    parse_memory_mb: int = field(default_factory=lambda: env_int("MAGSEARCH_PARSE_MEMORY_MB", 1024))
    workers: int = field(default_factory=lambda: env_int("MAGSEARCH_WORKERS", os.cpu_count() or 1))
    max_file_mb: int = field(default_factory=lambda: env_int("MAGSEARCH_MAX_FILE_MB", 100))
    max_pages: int = field(default_factory=lambda: env_int("MAGSEARCH_MAX_PAGES", 5000))
    # OCR of scanned PDF pages (ingest/ocr.py): auto (pages without a usable text layer), always, never
    ocr: str = field(
        default_factory=lambda: env_choice("MAGSEARCH_OCR", "auto", ("auto", "always", "never"))
    )
    ocr_language: str = field(default_factory=lambda: os.environ.get("MAGSEARCH_OCR_LANGUAGE", ""))
    ocr_page_seconds: float = field(
        default_factory=lambda: env_float("MAGSEARCH_OCR_PAGE_SECONDS", 60.0)
    )
    ocr_memory_mb: int = field(default_factory=lambda: env_int("MAGSEARCH_OCR_MEMORY_MB", 2048))
    # the job queue: with a broker, parsing and OCR run on `magsearch worker` processes
    broker_url: str = field(default_factory=lambda: os.environ.get("MAGSEARCH_BROKER_URL", ""))
    queue_window: int = field(default_factory=lambda: env_int("MAGSEARCH_QUEUE_WINDOW", 32))
    # index
    index_lock_timeout: float = field(
        default_factory=lambda: env_float("MAGSEARCH_INDEX_LOCK_TIMEOUT", 30.0)
    )
    # search
    query_max_chars: int = 512
    query_max_terms: int = 40
    search_time_limit: float = field(
        default_factory=lambda: env_float("MAGSEARCH_SEARCH_TIME_LIMIT", 2.0)
    )
    wildcard_max_expansions: int = 200
    # web: the address links are written with (never the request's Host header), rate limits per
    # client address ("off" lifts one), and where their counters live (Redis, shared by every
    # worker; else each process counts alone)
    public_url: str = field(
        default_factory=lambda: (
            os.environ.get("MAGSEARCH_PUBLIC_URL", "").strip() or "http://127.0.0.1:5000"
        )
    )
    search_rate_limit: str = field(
        default_factory=lambda: os.environ.get("MAGSEARCH_SEARCH_RATE_LIMIT", "120 per minute")
    )
    sign_in_rate_limit: str = field(
        default_factory=lambda: os.environ.get("MAGSEARCH_SIGN_IN_RATE_LIMIT", "10 per minute")
    )
    redis_url: str = field(default_factory=lambda: os.environ.get("MAGSEARCH_REDIS_URL", ""))
    proxy_count: int = field(default_factory=lambda: env_int("MAGSEARCH_PROXY_COUNT", 0, least=0))
    # where tests and benchmarks find the shared corpus of real documents
    corpus_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("MAGSEARCH_CORPUS", "../shared/corpus"))
    )

    @property
    def objects_dir(self) -> Path:
        return self.data_dir / "objects"

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite3"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    def ocr_options(self) -> OcrOptions:
        from .ingest.ocr import OcrOptions

        mode = self.ocr if self.ocr in ("auto", "always", "never") else "auto"
        return OcrOptions(mode, self.ocr_language, self.ocr_page_seconds, self.ocr_memory_mb)

    def with_data_dir(self, path: str | os.PathLike[str]) -> Settings:
        return replace(self, data_dir=Path(path))
