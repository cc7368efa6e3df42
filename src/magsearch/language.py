"""The language of a text: ``detect(text)`` gives an ISO 639-1 code ("en", "fr", "ru", "zh"...)
or None when the text is too short or too mixed to tell; ``normalize(tag)`` turns a declared
language (an HTML ``lang``, a PDF's /Lang, a sidecar's ``language``: "en-GB", "deu", "German")
into the same kind of code.

Detection is py3langid (langid.py's model, shipped inside the package: nothing is downloaded at
run time), loaded once per process on first use. Writing systems that belong to one language
decide without it (kana: Japanese, hangul: Korean); Han characters without kana are Chinese.
``detect_all(texts)`` answers for many texts (a document's passages) what ``detect`` answers for
each, with py3langid's model run on all of them at once (`_Model`: the same scores, float for
float, in about a third of the time).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence

import numpy as np

__all__ = ["detect", "detect_all", "letter_count", "normalize", "script_of"]

MIN_LETTERS = 20  # fewer letters than this: no guess
MIN_CONFIDENCE = 0.5  # py3langid's normalised probability below this: no guess
SAMPLE_CHARS = 4000  # the language of a long text is read from its start, middle and end

_lock = threading.Lock()
_identifier: _Model | None = None

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


class _Model:
    """py3langid's classifier (`LanguageIdentifier.classify` with normalised probabilities) run on
    several texts at once: for each text the same language and the same probability, float for
    float. Its cost was a Python step per byte (the walk of the model's byte automaton) and the
    conversion of the model's float16 weights for each text; here the walk runs in numpy over all
    the texts, and the weights are converted once (float16 to float32 is exact: 57 MB)."""

    SEP = 0xFF  # never in UTF-8; from every state of the automaton it leads to the start state

    def __init__(self) -> None:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        self.li = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        li = self.li
        self.nextmove = np.frombuffer(li.tk_nextmove, dtype=li.tk_nextmove.typecode)
        self.rowbase = np.frombuffer(li.tk_row, dtype=li.tk_row.typecode).astype(np.intp) << 8
        self.output = np.asarray(li.tk_output, dtype=np.intp)  # the feature a state counts, or -1
        self.weights = li.nb_ptc.astype(np.float32)
        # texts are walked one after the other with SEP between them: that is walking each alone
        # only if SEP leads every state to the start state and the start state counts nothing
        self.joinable = bool((self.nextmove[self.SEP :: 256] == 0).all() and self.output[0] < 0)

    def classify_all(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """(language, probability) of each text, as `LanguageIdentifier.classify` gives them."""
        if not self.joinable:
            return [self.li.classify(t) for t in texts]
        out = []
        for i in range(0, len(texts), 64):  # 64 samples (≤ 1 MB): small arrays, keys in int64
            out.extend(self._classify(texts[i : i + 64]))
        return out

    def _classify(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        li = self.li
        data = [li._encode(t) for t in texts]
        joined = np.frombuffer(bytes([self.SEP]).join(data), dtype=np.uint8)
        features = self.output[self._states(joined)]
        at = np.flatnonzero(features >= 0)
        text = np.repeat(np.arange(len(data)), [len(d) + 1 for d in data])[at]
        # py3langid counts a text's features with a Counter, so sums their weights in the order
        # each first occurs: counted here the same way, by sorting (feature of text, position)
        nfeat = len(self.weights)
        bits = len(joined).bit_length()
        keyed = np.sort(((text * nfeat + features[at]) << bits) | at)
        key = keyed >> bits
        first = np.flatnonzero(np.diff(key, prepend=-1))
        counts = np.diff(first, append=len(key))
        slot = np.full(len(joined), -1)
        slot[keyed[first] & ((1 << bits) - 1)] = np.arange(len(first))
        order = slot[slot >= 0]  # each (text, feature) by its first position
        key, counts = key[first][order], counts[order]
        text, feature = np.divmod(key, nfeat)
        bounds = np.searchsorted(text, np.arange(len(data) + 1))
        x = np.log1p(counts.astype(np.float32))
        scores = np.zeros((len(data), len(li.nb_pc)), dtype=np.float32)  # 0: no feature at all
        for k, (a, z) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            if a < z:
                scores[k] = x[a:z] @ self.weights[feature[a:z]] + li.nb_pc
        # py3langid's normalisation (LanguageIdentifier._decide), each row a text
        scores *= np.array([1.0 / math.sqrt(len(d) or 1) for d in data], np.float32)[:, None]
        np.exp(scores - scores.max(axis=1, keepdims=True), out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        for i, j in li._alias_pairs:
            scores[:, i] += scores[:, j]
            scores[:, j] = 0.0
        best = scores.argmax(axis=1)
        return [(li.nb_classes[b], float(scores[k, b])) for k, b in enumerate(best)]

    def _states(self, data: np.ndarray) -> np.ndarray:
        """The automaton's state after each byte, as py3langid's walk (one step per byte from
        the start state) reaches them. A state is the step from the state before on its byte;
        each round below takes that step for every byte at once from the previous round's states,
        starting with the states one byte in: a round that changes nothing has the walk's states
        (the one solution). The model's automaton keeps only the last bytes (its n-grams are at
        most 6 bytes long), so about seven rounds."""
        start = self.nextmove[self.rowbase[0] + data]
        states = start
        while True:
            step = start.copy()
            step[1:] = self.nextmove[self.rowbase[states[:-1]] + data[1:]]
            if np.array_equal(step, states):
                return states
            states = step


def _model() -> _Model:
    global _identifier
    with _lock:
        if _identifier is None:
            _identifier = _Model()
        return _identifier


_BY_SCRIPT = {"kana": "ja", "hangul": "ko", "han": "zh"}


def detect(text: str) -> str | None:
    """The language of `text` as an ISO 639-1 code, or None when it cannot be told (fewer than
    MIN_LETTERS letters, or no language clearly ahead)."""
    return detect_all([text])[0]


def detect_all(texts: Sequence[str]) -> list[str | None]:
    """detect() of each text, the model run once for all of them."""
    out: list[str | None] = [None] * len(texts)
    todo, samples = [], []
    for i, text in enumerate(texts):
        sample = _sample(text)
        letters = letter_count(sample)
        script = script_of(sample)
        if script in _BY_SCRIPT:  # a character of these scripts is a word, not a letter
            out[i] = _BY_SCRIPT[script] if letters >= MIN_LETTERS // 4 else None
        elif letters >= MIN_LETTERS:
            todo.append(i)
            samples.append(sample)
    for i, (code, prob) in zip(
        todo, _model().classify_all(samples) if samples else [], strict=True
    ):
        out[i] = str(code) if prob >= MIN_CONFIDENCE else None
    return out
