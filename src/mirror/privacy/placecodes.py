"""Codes that name a place without its coordinates: Open Location Codes ("plus codes") and what3words addresses.

Example::

    plus_codes("Встречаемся: 8HHQ6Q3W+9R")         # [("8HHQ6Q3W+9R", 13, 24)]
    plus_codes("6Q3W+9R Almaty")                   # [("6Q3W+9R", 0, 7)]: a short code, and the town it is read in
    what3words("Мы у ///filled.count.soap")        # [("///filled.count.soap", 5, 25)]

A full plus code (eight digits, "+", two or more: 8HHQ6Q3W+9R) is a square of about 14 m anywhere on Earth, as
Google Maps shows it under a place; with a third after the "+", about 3 m. One with nothing after the "+" (about
300 m) or padded with zeros (8HHQ0000+) is a district, and is not reported. A short code (6Q3W+9R) is the same
square within a town, and Google Maps gives it with the town after it ("6Q3W+9R Almaty"): reported with a
capitalised word after it; alone, four letters and digits, a "+" and two more are too often something else to
report. A code of digits alone (23456789+22, 2345+67 Total) is a sum. Only capitals are read, as the apps write
them.

A what3words address (///filled.count.soap, or a w3w.co or what3words.com link to one) is a 3 m square: three
words in lowercase letters of any script, after "///".
"""

from __future__ import annotations

import re

Found = tuple[str, int, int]  # value, start, end
_DIGIT = "[23456789CFGHJMPQRVWX]"  # the code's twenty digits
# A full code's first digit is latitude's (2-9, C: 0-8 of 20°), its second longitude's (0-17 of 20°)
# (not after a letter, a digit, a "+" or a "/", as inside base64; but in a plus.codes/ link, as its site shares a
# code, or a Google Maps place/ or search/ link)
_FULL = re.compile(rf"(?:(?<![\w+/])|(?<=plus\.codes/)|(?<=maps/place/)|(?<=maps/search/))"
                   rf"[2-9C][2-9CFGHJMPQRV]{_DIGIT}{{6}}\+{_DIGIT}{{2,7}}(?![\w+/=])")
# A short one, the town after it: "6Q3W+9R Almaty", "6Q3W+9R, Алматы" (at least one letter: 2345+67 is a sum)
_SHORT = re.compile(rf"(?<![\w+/]){_DIGIT}{{4}}\+{_DIGIT}{{2,3}}(?![\w+/=])"
                    r"(?=,?[ \u00a0]{1,2}[A-ZА-ЯЁӘҒҚҢӨҰҮҺІ])")
_PLUS = re.compile(rf"\+{_DIGIT}{{2}}")  # where to look: a literal, which the engine finds fast
_WORD = r"[^\W\d_]{1,24}"
_W3W = re.compile(rf"///{_WORD}\.{_WORD}\.{_WORD}(?![\w(/]|\.\w)")  # not ///www.gnu.org/, a link's
# (typed without its scheme too, w3w.co/filled.count.soap; map.what3words.com is the older site's)
_W3W_LINK = re.compile(rf"(?:https?://|(?<![\w./]))(?:w3w\.co|(?:www\.|map\.)?what3words\.com)/"
                       rf"{_WORD}\.{_WORD}\.{_WORD}(?![\w(]|\.\w)")


def plus_codes(text: str) -> list[Found]:
    """Every full plus code in `text`, and every short one with a town after it (see the module)."""
    found: list[Found] = []
    for plus in _PLUS.finditer(text):
        at = plus.start()
        match = _FULL.match(text, at - 8) if at >= 8 else None
        if match is None and at >= 4:
            match = _SHORT.match(text, at - 4)
        if match is not None and match.group().strip("23456789+") == "":
            match = None  # digits only: a sum (a real code has none but one in many thousands)
        if match is not None and (not found or match.start() >= found[-1][2]):
            found.append((match.group(), match.start(), match.end()))
    return found


# What each address holds: "///", or a link's host (what a text without them is not searched for)
W3W_HINTS = ("///", "w3w.co/", "what3words.com/")


def what3words(text: str) -> list[Found]:
    """Every what3words address in `text`: three lowercase words after "///" (not a file:/// URL's path), or in a
    w3w.co or what3words.com link."""
    if "/" not in text:
        return []
    found = [(m.group(), m.start(), m.end()) for m in _W3W.finditer(text)
             if (m.start() == 0 or (text[m.start() - 1] not in ":/" and not text[m.start() - 1].isalnum()))
             and m.group()[3:].replace(".", "").islower()]
    if "w3w.co/" in text or "what3words.com/" in text:
        found += [(m.group(), m.start(), m.end()) for m in _W3W_LINK.finditer(text) if m.group().islower()]
        found.sort(key=lambda f: f[1])
    return found


def words_at(value: str) -> int | None:
    """Where the three words of `value`, a what3words address as what3words() finds it, begin; None for any other
    value. A mask must hide all of them: two letters at each end and each word's length narrow some 57 trillion
    squares down to a few in a town (see identifiers.mask)."""
    if _W3W.fullmatch(value) is None and _W3W_LINK.fullmatch(value) is None:
        return None
    return value.rindex("/") + 1
