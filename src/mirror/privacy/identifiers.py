"""Personal identifiers in text: phone numbers, e-mail addresses, Kazakh IINs, shown masked.

Example::

    list(find_identifiers("Звоните +7 701 123 45 67"))   # [("phone", "+7 701 123 45 67", 8, 24)]
    mask("+7 701 123 45 67")                              # "+7 7•• ••• •• 67"
    scan_text("Звоните +7 701 123 45 67", "accounts/a.md")
    # [Finding("accounts/a.md", "phone", "line 1: +7 7•• ••• •• 67")]

Phone numbers are found with Google's libphonenumber rules (the `phonenumbers`
package), read as Kazakhstan would dial them: +7 and 8 7xx numbers in Kazakh
and Russian styles, and every international number with a "+". A local number
written 250-12-34 is reported as a possible phone. Dates (2022-01-05,
05.01.2022), times (18:30) and grouped numbers ("12 000") are not reported. A
12-digit run is an IIN when its check digit and birth date are valid, else a
"12-digit-number" to check by eye. Values are masked in reports: the line
number says where to look, and a report can be seen by others.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator

from mirror.privacy.findings import Finding
from mirror.privacy.texts import Block, line_starts, text_blocks

REGION = "KZ"
# A run of digits with the separators people write in numbers: each run is read once, then classified.
_RUN = re.compile(r"\+?\d(?:[ \t\u00a0().\-\u2010-\u2015]{0,3}+\d)*+")
_LOCAL = re.compile(r"(?<![\d\-.])\d{3}-\d{2}-\d{2}(?![\d\-.])")
_TWELVE = re.compile(r"(?<![\d+])\d{12}(?!\d)")
_EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# libphonenumber reads some dates as numbers (30.10.2000 00 is a valid Russian number): such matches are not phones.
_DATE = re.compile(r"(?<!\d)(?:\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})|\d{4}[./-]\d{1,2}[./-]\d{1,2})(?!\d)")
_HEX = frozenset("0123456789abcdefABCDEF")
_NOT_DIGIT = re.compile(r"\D")
_CONTEXT = 8  # characters on each side of a run that libphonenumber sees, to judge what surrounds a number
Match = tuple[str, str, int, int]  # kind, value, start, end


def iin_valid(digits: str) -> bool:
    """Whether 12 digits pass the IIN check digit (weights 1..11, then 3..11,1,2; mod 11)."""
    values = [int(c) for c in digits]
    check = sum(w * v for w, v in zip(range(1, 12), values, strict=False)) % 11
    if check == 10:
        check = sum(w * v for w, v in zip((3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2), values, strict=False)) % 11
    return check != 10 and check == values[11]


def _twelve(digits: str) -> str:
    month, day = int(digits[2:4]), int(digits[4:6])  # an IIN opens with the birth date YYMMDD
    return "iin" if iin_valid(digits) and 1 <= month <= 12 and 1 <= day <= 31 else "12-digit-number"


def _phones(text: str, run: re.Match[str]) -> list[Match]:
    """Phone numbers in one run, as libphonenumber finds them dialled from Kazakhstan."""
    import phonenumbers

    start = max(0, run.start() - _CONTEXT)
    window = text[start:run.end() + _CONTEXT]
    return [("phone", m.raw_string, start + m.start, start + m.end)
            for m in phonenumbers.PhoneNumberMatcher(window, REGION, leniency=phonenumbers.Leniency.VALID)
            if not _DATE.search(m.raw_string)]


def _worth_a_look(run: str) -> bool:
    """Whether a run can hold an identifier: 10 characters or more, or 9 with a dash (250-12-34) or a "+"."""
    return len(run) >= 10 or (len(run) == 9 and ("-" in run or run[0] == "+"))


def _in_run(text: str, run: re.Match[str]) -> list[Match]:
    """What one run of digits is: phone numbers, a local number, IINs and other 12-digit numbers."""
    value = run.group()
    digits = len(_NOT_DIGIT.sub("", value))
    before, after = text[run.start() - 1:run.start()], text[run.end():run.end() + 1]
    if digits < 7 or (before and before in _HEX) or (after and after in _HEX):  # beside hex letters: a hash
        return []
    found = _phones(text, run) if digits >= (8 if value[0] == "+" else 10) else []
    taken = [(start, end) for _, _, start, end in found]
    for pattern, kind in ((_LOCAL, "possible-phone"), (_TWELVE, "")):
        for match in pattern.finditer(value):
            start, end = run.start() + match.start(), run.start() + match.end()
            if not any(a <= start < b for a, b in taken):
                found.append((kind or _twelve(match.group()), match.group(), start, end))
    return found


def find_identifiers(text: str) -> Iterator[Match]:
    """Every phone number, e-mail address, IIN and other 12-digit number in `text`, in order."""
    found = [match for run in _RUN.finditer(text) if _worth_a_look(run.group()) for match in _in_run(text, run)]
    if "@" in text:
        found += [("email", m.group(), m.start(), m.end()) for m in _EMAIL.finditer(text)]
    return iter(sorted(found, key=lambda match: match[2]))


def mask(value: str) -> str:
    """`value` with its letters and digits hidden but the first two and the last two (one, for short ones)."""
    places = [i for i, char in enumerate(value) if char.isalnum()]
    shown = set(places[:2] + places[-2:]) if len(places) > 6 else set(places[:1])
    return "".join(char if i in shown or not char.isalnum() else "•" for i, char in enumerate(value))


def scan_blocks(blocks: Iterable[Block], path: str) -> Iterator[Finding]:
    """Findings in blocks from `texts.text_blocks` or `texts.text_lines`, with line numbers and masked values."""
    for first, text, seen in blocks:
        found = list(find_identifiers(text))
        starts = line_starts(text) if found else []
        for kind, value, start, end in found:
            if end > seen:  # an identifier wholly inside the overlap was reported with the block before
                yield Finding(path, kind, f"line {first + bisect.bisect_right(starts, start)}: {mask(value)}")


def scan_text(text: str, path: str) -> list[Finding]:
    """Findings in a text already in memory (an account being bundled)."""
    return list(scan_blocks(text_blocks([text]), path))
