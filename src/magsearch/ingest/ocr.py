"""OCR of scanned PDF pages: OCRmyPDF and Tesseract, run from inside the isolated parse worker.

`apply()` takes what the PDF parser found (`Parsed.needs_ocr`: pages with no text layer, or with an
unreadable one) and reads those pages, and only those, with

    ocrmypdf --force-ocr --pages N,M-K --deskew --rotate-pages --output-type none --sidecar TEXT

`--force-ocr` restricted by `--pages` rather than `--skip-text` or `--redo-ocr`: the parser has already
decided which pages are unusable, and an *unreadable* text layer (glyph codes without a ToUnicode map)
is text to OCRmyPDF, so `--skip-text` would skip exactly the pages that need reading and `--redo-ocr`
only replaces earlier invisible OCR layers. The output PDF is not written (`--output-type none`): the
original stays byte for byte what it was, and only the recognised text (the sidecar, one form feed
per page) is used. It is derived: `magsearch reindex` keeps it, re-ingesting recomputes it.

Limits: OCRmyPDF runs as a subprocess in a session of its own (so a time-out ends Ghostscript and
Tesseract with it) that dies with the worker (PR_SET_PDEATHSIG), with an address-space limit per
process (`ocr_memory_mb`: pages are rasterised and read one at a time, so memory depends on a page's
size, not on the number of pages) and a time limit of `ocr_page_seconds` per page, for which the
worker's own deadline is extended (`worker.extend_deadline`).

Language: the sidecar's `language`, else `--language`, else the document's (PDF metadata, or its
text-layer pages), else detected: the pages are read in English, the language is guessed from that
text (`detect_language`), and when it is another installed language they are read again in it.
"""

from __future__ import annotations

import functools
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from ..models import Parsed, Passage
from .worker import die_with_parent, extend_deadline

MODES = ("auto", "always", "never")
# ISO 639-1 -> Tesseract; the packs `make` installs
TESSERACT = {"en": "eng", "fr": "fra", "de": "deu", "ru": "rus", "es": "spa"}
_SKIPPED = re.compile(r"^\[OCR skipped on page\(s\) (\d+)(?:-(\d+))?\]$")
_OCR_NEEDED = re.compile(
    r"^(?:no text layer|unreadable text layer) on pages? [\d, -]+; OCR needed$"
)
START_SECONDS = 30.0  # OCRmyPDF's own start-up and the PDF's analysis, before any page


@dataclass(frozen=True)
class OcrOptions:
    mode: str = "auto"  # auto: the pages that need it; always: every page; never
    language: str = ""  # "fr", "fra", "rus+eng", ... ('' = the document's, else detected)
    page_seconds: float = 60.0
    memory_mb: int = 2048


def unavailable() -> str:
    """Why OCR cannot run here ('' when it can)."""
    for program in ("ocrmypdf", "tesseract"):
        if shutil.which(program) is None:
            return f"{program} is not installed"
    if "eng" not in installed_languages():
        return "Tesseract's English data is not installed"
    return ""


@functools.cache
def installed_languages() -> frozenset[str]:
    try:
        out = subprocess.run(
            ["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(line.strip() for line in out.splitlines()[1:] if line.strip())


def tesseract_languages(language: str) -> str:
    """'fr', 'fr-CA', 'French' -> 'fra'; 'fra+eng' and 'rus' stay; '' when none is installed."""
    from ..language import normalize

    have = installed_languages()
    out = []
    for part in re.split(r"[+,\s]+", language.strip().lower()):
        code = TESSERACT.get(normalize(part) or part, part)
        if code in have and code not in out:
            out.append(code)
    return "+".join(out)


def detect_language(text: str) -> str:
    """The two-letter language of a text, or '' (the archive's own detector, `language.detect`)."""
    from ..language import detect

    return detect(text) or ""


class OcrFailed(Exception):
    pass


def _child_limits(memory_mb: int) -> None:
    die_with_parent(os.getppid())
    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def recognise(
    data: bytes, pages: list[int], languages: str, *, page_seconds: float, memory_mb: int
) -> dict[int, str]:
    """The text OCRmyPDF reads on `pages` (1-based) of the PDF `data`, page by page."""
    from .pdf import page_ranges

    timeout = START_SECONDS + page_seconds * len(pages)
    with tempfile.TemporaryDirectory(prefix="magsearch-ocr-") as tmp:
        source, text = Path(tmp) / "in.pdf", Path(tmp) / "text.txt"
        source.write_bytes(data)  # a copy: the original is never handed to another program
        cmd = ["ocrmypdf", "--quiet", "--force-ocr", "--pages", page_ranges(pages).replace(" ", ""),
               "--deskew", "--rotate-pages", "--output-type", "none", "--sidecar", str(text),
               "--language", languages, "--jobs", "1", "--tesseract-timeout", f"{page_seconds:g}",
               str(source), "-"]  # fmt: skip
        env = {**os.environ, "TMPDIR": tmp, "OMP_THREAD_LIMIT": "1"}
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,  # a group of its own: a time-out ends Ghostscript and Tesseract
            preexec_fn=lambda: _child_limits(memory_mb),  # the worker is single-threaded
        )
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()  # reaps it and closes its stderr pipe
            raise OcrFailed(f"timed out after {timeout:g} s") from None
        if proc.returncode != 0:
            lines = [ln.strip() for ln in err.decode("utf-8", "replace").splitlines() if ln.strip()]
            reason = lines[-1][:200] if lines else f"exit code {proc.returncode}"
            if proc.returncode < 0:
                reason = f"killed ({signal.Signals(-proc.returncode).name})"
            raise OcrFailed(reason)
        return _sidecar_pages(text.read_text(encoding="utf-8", errors="replace"))


def _sidecar_pages(text: str) -> dict[int, str]:
    out: dict[int, str] = {}
    number = 1
    for chunk in text.split("\f"):
        skipped = _SKIPPED.match(chunk.strip())
        if skipped:
            number = int(skipped.group(2) or skipped.group(1)) + 1
            continue
        out[number] = chunk
        number += 1
    return out


def apply(parsed: Parsed, data: bytes, options: OcrOptions, language: str = "") -> Parsed:
    """`parsed` with the text of its scanned pages read by OCR (`options.mode`); `language` is the
    sidecar's or the run's, else the document's own is used, else it is detected."""
    if parsed.format != "pdf" or options.mode == "never" or not parsed.pages:
        return parsed
    if options.mode == "always":
        pages = list(range(1, parsed.pages + 1))
    else:
        pages = sorted(set(parsed.needs_ocr))
    if not pages:
        return parsed
    if reason := unavailable():
        return replace(parsed, warnings=[*parsed.warnings, f"OCR skipped: {reason}"])
    from .pdf import page_blocks, page_ranges

    where = f"page {pages[0]}" if len(pages) == 1 else f"pages {page_ranges(pages)}"
    wanted = language or options.language or str(parsed.metadata.get("language") or "")
    if not wanted:
        wanted = detect_language(" ".join(b.text for b in parsed.blocks[:200]))
    codes = tesseract_languages(wanted) if wanted else ""
    notes: list[str] = []
    if wanted and not codes:
        notes.append(f"OCR language {wanted!r} is not installed; read as English")
    try:
        extend_deadline(START_SECONDS + options.page_seconds * len(pages) + 30)
        texts = recognise(
            data, pages, codes or "eng", page_seconds=options.page_seconds,
            memory_mb=options.memory_mb,
        )  # fmt: skip
        if not codes:  # nothing said which language: detect it from a first reading
            found = detect_language("\n".join(texts.values()))
            codes = "eng"
            if found and found != "en" and (again := tesseract_languages(found)):
                extend_deadline(START_SECONDS + options.page_seconds * len(pages) + 30)
                texts = recognise(
                    data, pages, f"{again}+eng", page_seconds=options.page_seconds,
                    memory_mb=options.memory_mb,
                )  # fmt: skip
                codes = f"{again}+eng"
    except (OcrFailed, OSError) as exc:
        return replace(parsed, warnings=[*parsed.warnings, f"OCR failed on {where}: {exc}"])
    read = [n for n in pages if texts.get(n, "").strip()]
    replaced = set(pages)
    blocks = [b for b in parsed.blocks if b.page not in replaced]
    for number in read:
        blocks.extend(page_blocks(texts[number], number))
    blocks.sort(key=lambda b: b.page or 0)  # stable: each page's blocks keep their order
    warnings = [w for w in parsed.warnings if not _OCR_NEEDED.match(w)]
    warnings.append(f"OCR ({codes}) on {where}")
    if empty := [n for n in pages if n not in read]:
        warnings.append(f"OCR found no text on {'page' if len(empty) == 1 else 'pages'} "
                        f"{page_ranges(empty)}")  # fmt: skip
    warnings.extend(notes)
    return replace(parsed, blocks=blocks, warnings=warnings, ocr_pages=read)


def mark_passages(passages: list[Passage], ocr_pages: list[int]) -> list[Passage]:
    """Flag the passages whose text comes, in part at least, from an OCR'd page."""
    if not ocr_pages:
        return passages
    pages = set(ocr_pages)
    out = []
    for p in passages:
        first = p.page or 0
        last = p.page_end or first
        hit = any(n in pages for n in range(first, last + 1))
        out.append(replace(p, ocr=True) if hit else p)
    return out


__all__ = [
    "MODES",
    "OcrOptions",
    "apply",
    "detect_language",
    "installed_languages",
    "mark_passages",
    "recognise",
    "tesseract_languages",
    "unavailable",
]
