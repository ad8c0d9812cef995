"""Which Cyrillic code page a legacy text was saved in, told by how Russian and Kazakh letters are used.

Example::

    cyrillic_encoding("Привет, как дела?".encode("koi8_r"))     # "koi8_r"
    cyrillic_encoding("Привет, как дела?".encode("cp1251"))     # "cp1251"
    cyrillic_encoding("Қаңтар оқиғалары".encode("kz1048"))      # "kz1048"
    cyrillic_encoding("café au lait".encode("cp1252"))          # None: not Cyrillic

The Cyrillic code pages (Windows cp1251 and kz1048, KOI8-R and KOI8-U, DOS
cp866, Mac, ISO 8859-5) put the same letters at different bytes, and each
reads every other one's bytes as letters too, so a general detector guessing
from a short text often names the wrong one (a KOI8-R note read as cp1251
is a string of capitals in the middle of words). Here each candidate is
scored by how likely its reading of the bytes above 127 is as Russian or
Kazakh: letter frequencies, a capital after a small letter inside a word
costs a lot, anything that is not a letter costs more. ASCII reads the same
in all of them and does not count.
"""

from __future__ import annotations

import codecs
import math

from mirror.record import record

CANDIDATES = ("cp1251", "koi8_r", "kz1048", "ptcp154", "koi8_u", "cp866", "mac_cyrillic", "iso8859_5")
# How often each letter appears in Russian and Kazakh prose, per 1000 letters (Kazakh letters from Kazakh text).
_FREQUENCY = {
    "о": 110, "е": 85, "а": 80, "и": 74, "н": 67, "т": 63, "с": 55, "р": 47, "в": 45, "л": 44, "к": 35,
    "м": 32, "д": 30, "п": 28, "у": 26, "я": 20, "ы": 19, "ь": 17, "г": 17, "з": 17, "б": 16, "ч": 14,  # noqa: RUF001
    "й": 12, "х": 10, "ж": 9, "ш": 7, "ю": 6, "ц": 5, "щ": 4, "э": 3, "ф": 3, "ъ": 0.4, "ё": 1,
    "і": 20, "ә": 15, "қ": 15, "ұ": 8, "ң": 8, "ғ": 8, "ү": 8, "ө": 5, "һ": 0.3, "є": 0.5, "ї": 0.5, "ґ": 0.1,
}
# Typographic signs Russian and Kazakh texts use (guillemets, dashes, ellipsis, numero, quotes, bullets), each about
# this often:
_PUNCTUATION = frozenset("\u00ab\u00bb\u2014\u2013\u2026\u2116\u201c\u201d\u201e\u2018\u2019\u2022\u00b7")
_PUNCTUATION_WORTH = math.log(5 / 1000)
_OTHER_LETTER = 0.05  # Cyrillic letters of other languages (ў, ђ, љ...) and Latin ones: rare in these texts
_NOT_A_LETTER = 0.005  # box drawing, signs, controls: what a wrong code page makes of letters
_CAPITAL_INSIDE = 0.01  # a capital right after a small letter
_FEW = 20  # bytes above 127 from which a reading is judged by the stricter bound
_LEAST_LIKELY = -3.75  # log-likelihood per byte above 127 of the least likely text taken as Russian or Kazakh
_LEAST_LIKELY_SHORT = -5.5  # of a few words, where one sign or a rare letter weighs more
_WORTH: dict[str, float] = {letter: math.log(count / 1000) for letter, count in _FREQUENCY.items()}


def _cyrillic(char: str) -> bool:
    return "\u0400" <= char <= "\u04ff"


@record
class _Reading:
    """One code page's reading of the bytes above 127."""

    score: float  # log-likelihood
    cyrillic: int  # Cyrillic letters and the typographic signs of Cyrillic texts
    letters: int
    capitals: int


def _score(text: str, raw: bytes) -> _Reading:
    """How likely the characters read from bytes above 127 are as Russian or Kazakh."""
    total, cyrillic, letters, capitals, previous = 0.0, 0, 0, 0, ""
    for char, byte in zip(text, raw, strict=True):
        if byte >= 128:
            lower = char.lower()
            if lower in _WORTH:
                total += _WORTH[lower]
                cyrillic += 1
            elif char in _PUNCTUATION:
                total += _PUNCTUATION_WORTH
                cyrillic += 1
            elif char.isalpha():
                total += math.log(_OTHER_LETTER / 1000)
                cyrillic += _cyrillic(char)
            else:
                total += math.log(_NOT_A_LETTER / 1000)
            if char.isalpha():
                letters += 1
                capitals += char.isupper()
            if char.isupper() and previous.islower():
                total += math.log(_CAPITAL_INSIDE)
        previous = char
    return _Reading(total, cyrillic, letters, capitals)


def _plausible(reading: _Reading, high: int) -> bool:
    """Whether the best reading is Russian or Kazakh at all, not the least unlikely reading of another script.

    Greek, Hebrew, Arabic and Korean read in a Cyrillic code page come out as words of capitals (their letters
    sit where these pages put capitals), or as letters no Russian or Kazakh text uses so often. Measured on
    uchardet's and charset-normalizer's samples and a Greek account: every such reading has more than 80%
    capitals (Greek in KOI8-R 88-91%, Hebrew 98%) or scores below -3.8 a byte (Greek in Mac Cyrillic -3.84;
    Arabic, Korean, Thai, Chinese and Japanese below -4.5), where Russian and Kazakh texts of six words or more
    score above -3.65 (a few Russian ones of six words down to -4.0, then named by no code page) with at most 17%
    capitals. These statistics only offer a hint: the encoding an author names is taken (texts.py)."""
    if reading.letters >= 8 and reading.capitals * 5 > reading.letters * 4:  # more than 80% capitals
        return False
    return reading.score / high >= (_LEAST_LIKELY if high >= _FEW else _LEAST_LIKELY_SHORT)


def cyrillic_encoding(raw: bytes) -> str | None:
    """The Cyrillic code page that reads `raw` most like Russian or Kazakh, or None if no reading looks Cyrillic.

    A reading looks Cyrillic when most characters above 127 are Cyrillic letters and they are not
    mixed into Latin words (as cp1252's "café" read as cp1251 would be: "cafй").
    """
    high = sum(1 for byte in raw if byte >= 128)
    if not high:
        return None
    best: tuple[_Reading, str] | None = None
    for codec in CANDIDATES:
        text = raw.decode(codec, "replace")
        if len(text) != len(raw):
            continue
        reading = _score(text, raw)
        if reading.cyrillic * 4 >= high * 3 and not _mixed_words(text) and (
                best is None or reading.score > best[0].score):
            best = (reading, codec)
    return None if best is None or not _plausible(best[0], high) else best[1]


def looks_cyrillic(raw: bytes, codec: str) -> bool:
    """Whether `codec` reads the bytes above 127 of `raw` as Cyrillic text (three in four Cyrillic letters or the
    signs of Cyrillic texts, not mixed into Latin words): what cp866 read as cp1251 ("€вҐа") or cp1251 read as
    Latin-1 ("Óòðîì") is not."""
    text = raw.decode(codec, "replace")
    if len(text) != len(raw):
        return False
    high = sum(1 for byte in raw if byte >= 128)
    return _score(text, raw).cyrillic * 4 >= high * 3 and not _mixed_words(text)


# Letters of the other languages cp1251 and KOI8-U are made for (Belarusian, Serbian, Macedonian): an author's own
# reading, never taken as a sign of a wrong code page
_OTHER_SLAVIC = frozenset("ўђљњћџјѕѓќЎЂЉЊЋЏЈЅЃЌ")


def garbled_letters(raw: bytes, codec: str, likely: str) -> int:
    """How many of `raw`'s first 4 KiB bytes above 127 `codec` reads as a sign, or as a letter neither Russian,
    Kazakh nor another Slavic language cp1251 serves, inside a word, or as a capital after a small letter, where
    `likely` reads a Russian or Kazakh letter (a small one): what a neighbouring code page makes of a few letters
    ("п€того" for "пятого", cp1251 read as Mac Cyrillic; "қањтар" for "қаңтар", PT154 read as kz1048), or what
    ISO 8859-5 read as cp1251 is ("ІХзХаЮЬ"), both Cyrillic enough to pass the other checks (helper-159)."""
    head = raw[:4096]
    named, other = head.decode(codec, "replace"), head.decode(likely, "replace")
    if len(named) != len(head) or len(other) != len(head):
        return 0
    count, kazakh = 0, codecs.lookup(codec).name in ("kz1048", "ptcp154")  # code pages made for Kazakh alone
    for i, byte in enumerate(head):
        if byte < 128 or other[i].lower() not in _WORTH:
            continue
        char, before = named[i], named[i - 1] if i else " "
        if char.lower() in _WORTH:  # a capital after a small letter where `likely` reads a small one ("пЯтого")
            count += char.isupper() and before.islower() and other[i].islower()
        elif (char not in _OTHER_SLAVIC or kazakh) and char not in _PUNCTUATION and (
                before.isalpha() or (i + 1 < len(named) and named[i + 1].isalpha())):
            count += 1
    return count


def likelihood_gap(raw: bytes, codec: str, likely: str) -> float:
    """How much less likely, a byte above 127, `codec`'s reading of `raw` is as Russian or Kazakh than `likely`'s:
    about 0.1 for a Ukrainian, Belarusian or Serbian text in cp1251 against kz1048, 2.4 for a Russian one read as
    ISO 8859-5 ("Тхїх№юь яџђюую" for "Вечером пятого")."""
    high = sum(1 for byte in raw if byte >= 128)
    named, other = raw.decode(codec, "replace"), raw.decode(likely, "replace")
    if not high or len(named) != len(raw) or len(other) != len(raw):
        return 0.0
    return (_score(other, raw).score - _score(named, raw).score) / high


def shouts(raw: bytes, codec: str) -> bool:
    """Whether `codec` reads the bytes above 127 of `raw` as mostly capitals (more than 80% of at least 8 letters):
    what a KOI8-R text read as cp1251, or the reverse, looks like, and almost no text is."""
    text = raw.decode(codec, "replace")
    if len(text) != len(raw):
        return False
    reading = _score(text, raw)
    return reading.letters >= 8 and reading.capitals * 5 > reading.letters * 4


def _mixed_words(text: str) -> bool:
    """Whether more than a tenth of the words that hold Cyrillic letters hold Latin letters too."""
    mixed = words = 0
    for word in "".join(c if c.isalpha() else " " for c in text).split():
        if any(_cyrillic(c) for c in word):
            words += 1
            mixed += any("a" <= c.lower() <= "z" for c in word)
    return mixed * 10 > words
