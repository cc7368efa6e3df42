"""Name forms: Magnitsky, Magnitskiy, Magnitskii and Магнитский are one name to search.

`fold(token)` maps a lower-cased token to the form the index keeps. It runs at index and at query
time alike, so every spelling that folds to the same form finds the others:
- Cyrillic is transliterated to Latin (a small GOST-like table);
- Russian name endings written several ways in English collapse: -skiy/-skii/-skij/-sky -> -sky,
  and a final -iy/-ii/-yi/-ij -> -y (Sergey/Sergei stay apart: they are different letters);
- Latin spellings that Russian writes with one letter fold to the transliteration's spelling
  (LATIN_FOLDS: Browder -> brauder as Браудер, Alexei -> aleksei as Алексей, Wagner -> vagner
  as Вагнер), so a name is found across Cyrillic and Latin in either direction.
"""

from __future__ import annotations

import re

_CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya".split(),
        strict=True,
    )
)
_CYRILLIC["ъ"] = _CYRILLIC["ь"] = ""
_ENDINGS = re.compile(r"(?:iy|ii|yi|ij|yy)$")


def transliterate(token: str) -> str:
    if not any("\u0400" <= ch <= "\u04ff" for ch in token):
        return token
    return "".join(_CYRILLIC.get(ch, ch) for ch in token)


# Latin letter groups -> the spelling of their usual Cyrillic letters' transliteration
LATIN_FOLDS = (("ow", "au"), ("w", "v"), ("x", "ks"), ("ph", "f"), ("ck", "k"))
_LATIN = re.compile("|".join(a for a, _ in LATIN_FOLDS))
_LATIN_TO = dict(LATIN_FOLDS)


def name_endings(token: str) -> str:
    """Only the endings of fold(): -skiy/-skii/-ski -> -sky, a final -iy/-ii/-yi/-ij -> -y (a word
    is given them before a stemmer cuts it, so that every spelling of a name keeps one stem)."""
    if token.isalpha():
        if len(token) > 4:
            token = _ENDINGS.sub("y", token)
        if len(token) > 6 and token.endswith("ski"):
            token = token[:-1] + "y"
    return token


def fold(token: str, latin: bool = True) -> str:
    """`latin=False` leaves LATIN_FOLDS out: words as written (spelling suggestions)."""
    token = transliterate(token)
    if token.isalpha():
        if latin:
            token = _LATIN.sub(lambda m: _LATIN_TO[m[0]], token)
        if len(token) > 4:
            token = _ENDINGS.sub("y", token)
    return token
