"""A bank account's number as an IBAN (ISO 13616): what a request for a bank transfer gives, and names its holder.

Example::

    ibans("Счёт: KZ86125KZT5004100100 (Halyk)")     # [("KZ86125KZT5004100100", 6, 26)]
    ibans("IBAN KZ86 125K ZT50 0410 0100")          # grouped by four, as banks print it

Kazakhstan's banks give every account one (KZ, 20 characters: Kaspi's are KZ..722C...), and a bank shows the
holder's name to whoever sends money to it, as it does for a card. Found: a country's two capitals, two check
digits and as many capitals and digits more as that country's IBANs have (`_LENGTHS`), in one run or in groups of
four with a space between, not inside a longer word, whose check digits are right (the number read as digits,
modulo 97, is 1: a random run of that shape passes once in 97, and one of the right length for its country far
less often). Kazakhstan's are also found as people retype them
(`KZ_HINTS`). Countries outside the registry (Kyrgyzstan, Uzbekistan, Russia before 2023) write a bare account
number, which reads like any long number and is not looked for.
"""

from __future__ import annotations

import re
import unicodedata

Found = tuple[str, int, int]  # value, start, end
# Every country's IBAN length, from the IBAN registry (SWIFT, release 2024)
_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "BY": 28,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31, "SE": 24,
    "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24,
    "XK": 20,
}
# Where one may begin: two capitals and two digits (not after a letter or a digit, `ibans` looks: a look-behind
# first made the engine try it at every position, 3 times as long; and spelt out, not [A-Z]{2}[0-9]{2}, which
# the engine does not search for by its first character: 21 ms a MB of Russian prose against 8)
START = r"[A-Z][A-Z][0-9][0-9]"
_START = re.compile(START)
_SPACES = " \u00a0"
# Kazakhstan's as people retype one into a chat or a note, which the search above passes over: in small letters
# (kz86125kzt5004100100), with Cyrillic look-alikes (КZ86 125К ZТ50 ...: a Russian keyboard's К, Т, Е...), in
# full-width digits or letters, its groups joined by a dash or two spaces, or cut by a line break (a hard-wrapped
# e-mail, a quoted reply's "> "). Found from a literal "kz" (Latin, with a Cyrillic к, or full-width) in the
# lowercased text, then read by hand; the check digits decide, as above.
KZ_HINTS = ("kz", "\u043az", "\uff4b\uff5a")  # Latin, with a Cyrillic к, full-width
_LOOK_ALIKES = str.maketrans("АВЕКМНОРСТХУавекмнорстху", "ABEKMHOPCTXYABEKMHOPCTXY")
_GAP = re.compile(r"[ \u00a0\t]{1,2}|[ \u00a0\t]?-[ \u00a0\t]?|[ \t]*(?:\r\n|\r|\n)[ \t>]{0,8}")
_BREAK = re.compile(r"[ \t]*(?:\r\n|\r|\n)[ \t>]{0,8}")


def ibans(text: str, lowered: str | None = None) -> list[Found]:
    """Every IBAN in `text` whose check digits are right (see the module); `lowered`: `text` lowercased, if the
    caller has it."""
    found = _exact(text)
    if lowered is None or len(lowered) != len(text):  # İ's lowercase is two characters: read as I
        lowered = text.replace("\u0130", "I").lower()
    if any(hint in lowered for hint in KZ_HINTS):
        for loose in _retyped(text, lowered):
            if not any(start < loose[2] and loose[1] < end for _, start, end in found):
                found.append(loose)
        found.sort(key=lambda iban: iban[1])
    return found


def _retyped(text: str, lowered: str) -> list[Found]:
    """Kazakhstan's IBANs as people retype them (`KZ_HINTS`)."""
    found: list[Found] = []
    starts = sorted(at for hint in KZ_HINTS for at in word_starts(lowered, hint))
    for at in starts:
        if (found and at < found[-1][2]) or not text[at + 2:at + 4].isdigit():  # (its check digits: ".kz/" is none)
            continue
        for grouped in (False, True):
            read = _read_loosely(text, at + 2, grouped)
            if read is not None and _checked("KZ" + read[0]):
                found.append((text[at:read[1]], at, read[1]))
                break
    return found


def word_starts(lowered: str, hint: str) -> list[int]:
    """Where `hint` begins in `lowered`, at the start of a word (not after a letter or digit)."""
    places: list[int] = []
    at = lowered.find(hint)
    while at >= 0:
        if at == 0 or not lowered[at - 1].isalnum():
            places.append(at)
        at = lowered.find(hint, at + 1)
    return places


def _read_loosely(text: str, at: int, grouped: bool) -> tuple[str, int] | None:
    """The 18 characters of a Kazakh IBAN after its "KZ" from `at`, as capitals and ASCII digits, and where they
    end: in groups after `_GAP`s (the first group is "KZ" and two), or in one run that one line break may cut."""
    chars: list[str] = []
    broken = False
    while len(chars) < 18:
        if grouped and len(chars) % 4 == 2:
            gap = _GAP.match(text, at)
            if gap is None:
                return None
            at = gap.end()
        elif not grouped and not broken and chars and (gap := _BREAK.match(text, at)) is not None:
            broken, at = True, gap.end()
        if at >= len(text):
            return None
        char = _plain(text[at])
        if char is None:
            return None
        chars.append(char)
        at += 1
    if len(chars) < 2 or not chars[0].isdigit() or not chars[1].isdigit():
        return None
    return None if at < len(text) and text[at].isalnum() else ("".join(chars), at)


def _plain(char: str) -> str | None:
    """`char` as an IBAN's capital or ASCII digit (a full-width digit, a small or a Cyrillic look-alike letter), or
    None."""
    digit = unicodedata.decimal(char, None)
    if digit is not None:
        return str(digit)
    if "\uff21" <= char <= "\uff3a" or "\uff41" <= char <= "\uff5a":  # a full-width letter
        char = chr(ord(char) - 0xFEE0)
    char = char.translate(_LOOK_ALIKES).upper()
    return char if "A" <= char <= "Z" else None


def _exact(text: str) -> list[Found]:
    """IBANs in capitals and ASCII digits, in one run or grouped by four with single spaces."""
    found: list[Found] = []
    for start in _START.finditer(text):
        if (found and start.start() < found[-1][2]) or (start.start() and text[start.start() - 1].isalnum()):
            continue
        length = _LENGTHS.get(start.group()[:2])
        if length is None:
            continue
        for grouped in (False, True):
            end = _read(text, start.end(), length - 4, grouped)
            if end is not None and _checked(text[start.start():end]):
                found.append((text[start.start():end], start.start(), end))
                break
    return found


def _read(text: str, at: int, count: int, grouped: bool) -> int | None:
    """Where `count` capitals and digits from `at` end (each four after a space, if `grouped`), if they are there
    and no letter or digit follows them."""
    for i in range(count):
        if grouped and i % 4 == 0:
            if at >= len(text) or text[at] not in _SPACES:
                return None
            at += 1
        if at >= len(text) or not ("A" <= text[at] <= "Z" or "0" <= text[at] <= "9"):
            return None
        at += 1
    return at if at >= len(text) or not text[at].isalnum() else None


def _checked(value: str) -> bool:
    """Whether an IBAN's check digits are right: its first four characters moved to its end, each letter read as
    two digits (A = 10 ... Z = 35), the number modulo 97 is 1."""
    compact = "".join(char for char in value if char not in _SPACES)
    digits = "".join(str(int(char, 36)) for char in compact[4:] + compact[:4])
    return int(digits) % 97 == 1
