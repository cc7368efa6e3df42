"""Sidecar metadata: `<file>.meta.json` beside a file supplies or overrides its metadata.

An invalid sidecar fails its file with a message naming the field and the problem.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import IngestError
from ..models import GENRES, SIDECAR_FIELDS, Kind

SUFFIX = ".meta.json"
MAX_BYTES = 1024 * 1024  # metadata, not documents
ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + SUFFIX)


def is_sidecar(path: Path) -> bool:
    return path.name.endswith(SUFFIX)


def load(path: Path) -> dict[str, Any]:
    """The validated sidecar of `path`, or {} when there is none. Whatever is wrong with it (a
    folder of that name, unreadable, invalid) is an IngestError naming the sidecar: the file's
    failure alone. A file whose name is too long to have a sidecar has none."""
    side = sidecar_path(path)
    try:
        st = side.stat()
        if stat.S_ISDIR(st.st_mode):
            raise IngestError(f"sidecar {_name(side)}: is a folder, not a file")
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block the batch
            raise IngestError(f"sidecar {_name(side)}: not a regular file")
        if st.st_size > MAX_BYTES:
            raise IngestError(f"sidecar {_name(side)}: too large ({st.st_size} bytes)")
        raw = side.read_bytes()
    except FileNotFoundError:
        if os.path.lexists(side):
            raise IngestError(f"sidecar {_name(side)}: a link to nothing") from None
        return {}
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:  # NAME.meta.json cannot exist
            return {}
        reason = exc.strerror or type(exc).__name__
        raise IngestError(f"sidecar {_name(side)}: cannot read ({reason})") from None
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise IngestError(f"sidecar {_name(side)}: not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise IngestError(
            f"sidecar {_name(side)}: invalid JSON ({exc.msg} at line {exc.lineno})"
        ) from None
    except RecursionError:
        raise IngestError(f"sidecar {_name(side)}: nested too deeply") from None
    return validate(data, _name(side))


def _name(side: Path) -> str:
    """The sidecar's name as it can be printed (bytes that are not UTF-8 as \\xNN)."""
    return os.fsencode(side.name).decode("utf-8", "backslashreplace")


def validate(data: Any, name: str = "sidecar") -> dict[str, Any]:
    if not isinstance(data, dict):
        raise IngestError(f"sidecar {name}: must be a JSON object")
    for key, value in data.items():
        expected = SIDECAR_FIELDS.get(key)
        if expected is None:
            raise IngestError(f"sidecar {name}: unknown field {key!r}")
        if not isinstance(value, expected):
            kind = expected.__name__ if isinstance(expected, type) else "value"
            raise IngestError(f"sidecar {name}: field {key!r} must be a {_noun(kind)}")
        if isinstance(value, list) and not all(isinstance(v, str) and v.strip() for v in value):
            raise IngestError(f"sidecar {name}: field {key!r} must be a list of non-empty strings")
    _check(name, data)
    return data


def _noun(kind: str) -> str:
    return {"str": "string", "list": "list of strings"}.get(kind, kind)


def _check(name: str, data: dict[str, Any]) -> None:
    if "id" in data and not ID_RE.match(data["id"]):
        raise IngestError(
            f"sidecar {name}: field 'id' must be 1-64 characters of a-z, 0-9, '.', '_' or '-' "
            f"starting with a letter or digit (got {data['id'][:80]!r})"
        )
    if "kind" in data and data["kind"] not in {k.value for k in Kind}:
        allowed = ", ".join(k.value for k in Kind)
        raise IngestError(
            f"sidecar {name}: field 'kind' must be one of {allowed} (got {data['kind'][:40]!r})"
        )
    if "genre" in data and data["genre"] not in GENRES:
        raise IngestError(
            f"sidecar {name}: field 'genre' must be one of {', '.join(GENRES)} "
            f"(got {data['genre'][:40]!r})"
        )
    if "date" in data and not valid_date(data["date"]):
        raise IngestError(
            f"sidecar {name}: field 'date' must be an ISO date YYYY, YYYY-MM or YYYY-MM-DD "
            f"(got {data['date'][:40]!r})"
        )
    url = data.get("source_url")
    if url is not None and not re.match(r"^https?://[^\s]+$", url):
        raise IngestError(f"sidecar {name}: field 'source_url' must be an http(s) URL")
    if "title" in data and not data["title"].strip():
        raise IngestError(f"sidecar {name}: field 'title' must not be empty")


def valid_date(text: str) -> bool:
    m = DATE_RE.match(text)
    if not m:
        return False
    year, month, day = int(m[1]), int(m[2] or 1), int(m[3] or 1)
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True
