"""The language of a text: ``detect(text)`` gives an ISO 639-1 code ("en", "fr", "ru", "zh"...)
or None when the text is too short or too mixed to tell; ``normalize(tag)`` turns a declared
language (an HTML ``lang``, a PDF's /Lang, a sidecar's ``language``: "en-GB", "deu", "German")
into the same kind of code.

Detection is py3langid (langid.py's model, shipped inside the package: nothing is downloaded at
run time), loaded once per process on first use. Writing systems that belong to one language
decide without it (kana: Japanese, hangul: Korean); Han characters without kana are Chinese.
"""

from __future__ import annotations

import re
import threading
from typing import Any

__all__ = ["detect", "letter_count", "normalize", "script_of"]

MIN_LETTERS = 20  # fewer letters than this: no guess
MIN_CONFIDENCE = 0.5  # py3langid's normalised probability below this: no guess
SAMPLE_CHARS = 4000  # the language of a long text is read from its start, middle and end

_lock = threading.Lock()
_identifier: Any = None

# ISO 639-2 (B and T) and English names for the languages the archive is likely to hold
_ALIASES = {
    "eng": "en", "english": "en", "fra": "fr", "fre": "fr", "french": "fr", "français": "fr",
    "deu": "de", "ger": "de", "german": "de", "deutsch": "de", "rus": "ru", "russian": "ru",
    "русский": "ru", "spa": "es", "spanish": "es", "español": "es", "ita": "it", "italian": "it",
    "por": "pt", "portuguese": "pt", "nld": "nl", "dut": "nl", "dutch": "nl", "ukr": "uk",
    "ukrainian": "uk", "pol": "pl", "polish": "pl", "zho": "zh", "chi": "zh", "chinese": "zh",
    "jpn": "ja", "japanese": "ja", "kor": "ko", "korean": "ko", "ces": "cs", "cze": "cs",
    "ell": "el", "gre": "el", "greek": "el", "lit": "lt", "lav": "lv", "est": "et",
}  # fmt: skip
_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*$")


def normalize(tag: str | None) -> str:
    """ "en-GB" -> "en", "deu" -> "de", "German" -> "de"; "" for what is no language tag."""
    value = (tag or "").strip().lower()
    if not value:
        return ""
    if value in _ALIASES:
        return _ALIASES[value]
    m = _TAG.match(value)
    if not m:
        return ""
    code = m[1]
    return _ALIASES.get(code, code if len(code) == 2 else "")


def letter_count(text: str) -> int:
    """How many characters of `text` are letters (str.isalpha): ASCII ones counted in C, only the
    others one by one."""
    ascii_part = text.encode("ascii", "ignore")
    count = len(ascii_part) - len(ascii_part.translate(None, _ASCII_LETTERS))
    if len(ascii_part) != len(text):
        count += sum(map(str.isalpha, _ASCII_RUNS.sub("", text)))
    return count


def script_of(text: str) -> str:
    """The writing system most of the letters of `text` are in: "latin", "cyrillic", "han",
    "kana", "hangul", "greek", "arabic", "hebrew", "other" or "" (no letters)."""
    if text.isascii() or all(
        _script(ch) == "latin" for ch in _ASCII_RUNS.sub("", text) if ch.isalpha()
    ):  # every letter Latin (most texts: read in C, not letter by letter)
        return "latin" if letter_count(text) else ""
    counts: dict[str, int] = {}
    kana = 0
    for ch in text:
        if not ch.isalpha():
            continue
        s = _script(ch)
        counts[s] = counts.get(s, 0) + 1
        kana += s == "kana"
    best = max(counts, key=counts.__getitem__)
    if best == "han" and kana >= 0.05 * sum(counts.values()):
        return "kana"  # Japanese: Han characters with kana among them
    return best


_ASCII_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ASCII_RUNS = re.compile("[\x00-\x7f]+")


def _script(ch: str) -> str:
    o = ord(ch)
    if o < 0x250 or 0x1E00 <= o <= 0x1EFF:
        return "latin"
    if 0x400 <= o <= 0x52F:
        return "cyrillic"
    if 0x370 <= o <= 0x3FF:
        return "greek"
    if 0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0xFF66 <= o <= 0xFF9F:
        return "kana"
    if 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F:
        return "hangul"
    if 0x3400 <= o <= 0x4DBF or 0x4E00 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF:
        return "han"
    if 0x590 <= o <= 0x5FF:
        return "hebrew"
    if 0x600 <= o <= 0x6FF:
        return "arabic"
    if 0xFF21 <= o <= 0xFF5A:
        return "latin"  # full-width Latin letters
    return "other"


def _sample(text: str) -> str:
    if len(text) <= SAMPLE_CHARS:
        return text
    third = SAMPLE_CHARS // 3
    mid = len(text) // 2
    return " ".join((text[:third], text[mid - third // 2 : mid + third // 2], text[-third:]))


def _model() -> Any:
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _identifier


_BY_SCRIPT = {"kana": "ja", "hangul": "ko", "han": "zh"}


def detect(text: str) -> str | None:
    """The language of `text` as an ISO 639-1 code, or None when it cannot be told (fewer than
    MIN_LETTERS letters, or no language clearly ahead)."""
    sample = _sample(text)
    letters = letter_count(sample)
    script = script_of(sample)
    if script in _BY_SCRIPT:  # a character of these scripts is a word, not a letter
        return _BY_SCRIPT[script] if letters >= MIN_LETTERS // 4 else None
    if letters < MIN_LETTERS:
        return None
    code, prob = _model().classify(sample)
    if prob < MIN_CONFIDENCE:
        return None
    return str(code)
