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
import itertools
import re
from collections.abc import Iterable, Iterator

from mirror.privacy.findings import Finding
from mirror.privacy.texts import Block, line_starts, text_blocks

REGION = "KZ"
# A run of digits with the separators people write in numbers: each run is read once, then classified.
# 7 to 41 digits: a longer run (a table of numbers) is read in pieces, so no window handed on is long.
_RUN = re.compile(r"\+?\d(?:[ \t\u00a0().\-\u2010-\u2015]{0,3}+\d){6,40}+")
_LOCAL = re.compile(r"(?<![\d\-.])\d{3}-\d{2}-\d{2}(?![\d\-.])")
_TWELVE = re.compile(r"(?<![\d+])\d{12}(?!\d)")
# Letters of any script too: айгерим@почта.рф, aigerim@почта.қаз (international addresses and domains).
_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)*"
                    r"\.[^\W\d_]{2,}\b")
# What people and editors put between the digits of a number that the patterns below do not read as a separator:
# thin and other Unicode spaces, invisible ones (zero-width, soft hyphen: a number split by them reads whole on
# screen), the minus sign and full-width hyphens. Each becomes a space or a "-" of the same length, so offsets and
# line numbers stay those of the text.
_SEPARATORS = str.maketrans({
    **{chr(c): " " for c in (*range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000, 0x180E)},
    **{chr(c): " " for c in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD)},
    **{chr(c): "-" for c in (0x2212, 0xFE58, 0xFE63, 0xFF0D, 0x2043)},
})
_UNUSUAL = re.compile("[" + "".join(re.escape(char) for char in map(chr, _SEPARATORS)) + "]")
_ESCAPED = re.compile(r"(?<=\d)\\(?=[-.()\s])|(?<=[\d\s])\\(?=[-.()])")  # Markdown: 123\-45\-67 shows as 123-45-67
# A number cut by a line break (a hard-wrapped e-mail or .txt): "+7 701" at a line's end, digits on the next.
_WRAPPED = re.compile(r"(\+\d[\d \t().-]{1,16}\d)[ \t]*(\r\n|\r|\n)(?=[ \t]*\d)")
# Dates are blanked out around a run before numbers are looked for: libphonenumber reads "30.10.2000 00" as a
# Russian number, and is slow to say no to "2022-01-05 18:30". Two-digit years only with dots: 21-12-34 is a phone.
_DAY, _MONTH = r"(?:0?[1-9]|[12]\d|3[01])", r"(?:0?[1-9]|1[0-2])"
_DATE = re.compile(rf"(?<!\d)(?:{_DAY}\.{_MONTH}\.(?:\d\d)?\d\d|{_DAY}[-/]{_MONTH}[-/]\d{{4}}"
                   rf"|\d{{4}}[-./]{_MONTH}[-./]{_DAY})(?!\d)")
_HEX_OR_DASH = frozenset("0123456789abcdefABCDEF-")
_HASH_CHARS = 20  # a hash or id this long, with its dashes: a UUID has 36, a short git hash 7 to 12 (no phone)
# ... or this long, of hex digits alone: a minisign key id (one in 400 has 12 digits in a row, and was a
# "12-digit-number" in every bundle it signed); a phone number written with spaces, brackets or dashes is none
_KEY_ID_CHARS = 16
_HEX = frozenset("0123456789abcdefABCDEF")
_ELEVEN = re.compile(r"(?<!\d)[78](?:\D{0,3}\d){10}(?!\d)")  # a Russian number as dialled at home: 8 916 ...
_NOT_DIGIT = re.compile(r"\D")
# A file inside the text (a Markdown editor's pasted picture, ![](data:image/jpeg;base64,...)): its metadata travels
# with the text, and nothing cleans it. At least 64 characters of base64 after the header, so a mention is no file.
# A picture's bytes pasted as base64 without the data: header (what some editors and chat exports do), by how a
# JPEG, PNG, GIF or WebP file's first bytes read in base64, then at least 200 more characters of it.
# Two patterns, not one alternation: the second is case-sensitive (base64 is), and apart each is searched for by
# its first characters (one case-insensitive alternation tried both at every position: 2.7 times the time).
_DATA_URI = re.compile(r"data:([a-z]+/[a-z0-9.+-]{1,64})?(?:;[a-z0-9=._-]{1,64}){0,4};base64,\s{0,8}[a-z0-9+/]{64}",
                       re.IGNORECASE)
_RAW_PICTURE = re.compile(r"(?<![A-Za-z0-9+/])(?:/9j/|iVBORw0KGgo|R0lGOD[lh]|UklGR)[A-Za-z0-9+/]{200}")
_CONTEXT = 8  # characters on each side of a run that libphonenumber sees, to judge what surrounds a number
PHONE_CHECKS = 20_000  # candidates judged by libphonenumber in one file (about 2 s); then by shape alone
# Phone numbers by shape: "+" and 8 to 15 digits, or 8 7xx xxx xx xx (Kazakh mobiles, as dialled at home).
_PHONE_SHAPE = re.compile(r"(?<![\w+])(?:\+\d(?:[ \u00a0().-]{0,2}\d){7,14}"
                          r"|[78][ \u00a0-]?\(?7\d\d\)?[ \u00a0-]?\d{3}[ \u00a0-]?\d\d[ \u00a0-]?\d\d)(?!\d)")
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


def _worth_a_look(run: str) -> bool:
    """Whether a run can hold an identifier: 10 characters or more, or 9 with a dash (250-12-34) or a "+"."""
    return len(run) >= 10 or (len(run) == 9 and ("-" in run or run[0] == "+"))


def _hash_like(window: str, first: int, last: int) -> bool:
    """Whether the run window[first:last] is part of a hash or an id (a SHA-256, a UUID): hex letters or digits on
    both sides of it, or on one side making with it a token of at least _HASH_CHARS characters that holds a letter.
    A number that only touches a word on one side ("Phone+77011234567", "IIN870105300128abc") is no hash."""
    if window[first] == "+":
        return False
    start, end = first, last
    while start > 0 and window[start - 1] in _HEX_OR_DASH:
        start -= 1
    while end < len(window) and window[end] in _HEX_OR_DASH:
        end += 1
    token = window[start:end]
    if start < first and end > last:
        return True
    if not (start < first or end > last) or not any(c.isalpha() for c in token):
        return False
    return len(token) >= _HASH_CHARS or (len(token) >= _KEY_ID_CHARS and _HEX.issuperset(token))


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())


class Finder:
    """Finds identifiers in the texts of one file, with a budget of libphonenumber calls.

    libphonenumber takes about 0.1 ms to judge a candidate: a hostile file of millions of ten-digit
    numbers would take hours. After `PHONE_CHECKS` candidates, phone numbers are recognised by their
    Kazakh and international shapes alone (`_PHONE_SHAPE`), so time stays linear in the size of the file.
    Runs seen before are not judged again (a text repeats its dates and numbers).
    """

    def __init__(self) -> None:
        self.checks_left = PHONE_CHECKS
        self.seen: dict[str, tuple[Match, ...]] = {}

    def _phones(self, window: str) -> list[Match]:
        if self.checks_left <= 0:
            return [("phone", m.group(), m.start(), m.end()) for m in _PHONE_SHAPE.finditer(window)]
        import phonenumbers

        self.checks_left -= 1
        found = [("phone", m.raw_string, m.start, m.end)
                 for m in phonenumbers.PhoneNumberMatcher(window, REGION, leniency=phonenumbers.Leniency.VALID)]
        if not found and _ELEVEN.search(window) and self.checks_left > 0:  # 7 916 ..., 79161234567: Russia's
            self.checks_left -= 1
            found = [("phone", m.raw_string, m.start, m.end)
                     for m in phonenumbers.PhoneNumberMatcher(window, "RU", leniency=phonenumbers.Leniency.VALID)]
        return found

    def _in_window(self, window: str, first: int, last: int) -> tuple[Match, ...]:
        """What the run window[first:last] is: phone numbers, a local number, IINs, other 12-digit numbers."""
        value = window[first:last]
        if _hash_like(window, first, last):
            return ()
        dial = len(_NOT_DIGIT.sub("", value)) >= (8 if value[0] == "+" else 10)
        found = self._phones(window) if dial else []
        taken = [(start, end) for _, _, start, end in found]
        for pattern, kind, wanted in ((_LOCAL, "possible-phone", "-" in value), (_TWELVE, "", len(value) >= 12)):
            for match in pattern.finditer(value) if wanted else ():
                start, end = first + match.start(), first + match.end()
                if not any(a <= start < b for a, b in taken):
                    found.append((kind or _twelve(match.group()), match.group(), start, end))
        digits = _NOT_DIGIT.sub("", value)
        if not found and len(digits) == 12 and _twelve(digits) == "iin":  # an IIN written in groups: 870105 300128
            found.append(("iin", value, first, last))
        return tuple(found)

    def find(self, text: str) -> list[Match]:
        """Every phone number, e-mail address, IIN and other 12-digit number in `text`, in order (in the text as
        `readable` makes it: the values reported are those of that view, at the text's own offsets)."""
        text = readable(text)
        found: list[Match] = []
        for run in _RUN.finditer(text):
            if not _worth_a_look(run.group()):
                continue
            start = max(0, run.start() - _CONTEXT)
            window = text[start:run.end() + _CONTEXT]
            key = f"{run.start() - start}:{window}"
            known = self.seen.get(key)
            if known is None:
                if len(self.seen) > 4096:
                    self.seen.clear()
                undated = _DATE.sub(_blank, window)  # the same length: offsets stay
                known = self.seen[key] = self._in_window(undated, run.start() - start, run.end() - start)
            found += [(kind, value, start + a, start + b) for kind, value, a, b in known]
        if "@" in text:
            found += [("email", m.group(), m.start(), m.end()) for m in _EMAIL.finditer(text)]
        return sorted(found, key=lambda match: match[2])


def readable(text: str) -> str:
    """`text` as a reader sees its numbers, the same length: Unicode spaces, invisible characters and other dashes
    made plain spaces and "-", Markdown's escapes before a separator made spaces, and a line break that cuts a
    "+" number in two made a space."""
    if _UNUSUAL.search(text):  # rare: translate() costs as much as the whole search for identifiers
        text = text.translate(_SEPARATORS)
    if "\\" in text:
        text = _ESCAPED.sub(" ", text)
    if "+" in text:
        text = _WRAPPED.sub(lambda m: m.group(1) + " " * (m.end() - m.end(1)), text)
    return text


def find_identifiers(text: str) -> list[Match]:
    """Every phone number, e-mail address, IIN and other 12-digit number in `text`, in order."""
    return Finder().find(text)


def mask(value: str) -> str:
    """`value` with its letters and digits hidden but the first two and the last two (one, for short ones)."""
    places = [i for i, char in enumerate(value) if char.isalnum()]
    shown = set(places[:2] + places[-2:]) if len(places) > 6 else set(places[:1])
    return "".join(char if i in shown or not char.isalnum() else "•" for i, char in enumerate(value))


def embedded_files(text: str) -> list[re.Match[str]]:
    """Every file embedded in `text` as base64, in order: data: URIs (group 1 their type, if stated) and pictures
    pasted without a header; a picture that begins a data: URI is that URI's."""
    uris = list(_DATA_URI.finditer(text))
    spans = [(m.start(), m.end()) for m in uris]
    bare = [m for m in _RAW_PICTURE.finditer(text)
            if not (i := bisect.bisect_right(spans, (m.start(), len(text)))) or spans[i - 1][1] <= m.start()]
    return sorted([*uris, *bare], key=lambda m: m.start())


def embedded_file(text: str) -> tuple[int, str] | None:
    """The first file embedded in `text` as base64: its line (from 1) and its type; or None."""
    uri, bare = _DATA_URI.search(text), _RAW_PICTURE.search(text)
    match = uri if bare is None or (uri is not None and uri.start() <= bare.start()) else bare
    if match is None:
        return None
    kind = match[1] if match is uri and match[1] else ("a file of no stated type" if match is uri else "a picture")
    return text.count("\n", 0, match.start()) + 1, kind


def scan_blocks(blocks: Iterable[Block], path: str) -> Iterator[Finding]:
    """Findings in blocks from `texts.text_blocks` or `texts.text_lines`, with line numbers and masked values;
    files embedded as data: URIs are reported too, each once (`embedded-file`)."""
    finder = Finder()
    for first, text, seen in blocks:
        for match in embedded_files(text):
            if match.end() > seen:
                line = first + text.count("\n", 0, match.start())
                if match.re is _RAW_PICTURE:
                    yield Finding(path, "embedded-file", f"line {line}: a picture inside the text as base64, with "
                                  "whatever metadata it carries")
                elif match[1]:
                    yield Finding(path, "embedded-file", f"line {line}: {match[1]} inside the text as base64 (a "
                                  "data: URI), with whatever metadata it carries")
                else:
                    yield Finding(path, "embedded-file", f"line {line}: a file inside the text as base64 (a data: "
                                  "URI), with whatever metadata it carries")
        found = finder.find(text)
        starts = line_starts(text) if found else []
        for kind, value, start, end in found:
            if end > seen:  # an identifier wholly inside the overlap was reported with the block before
                yield Finding(path, kind, f"line {first + bisect.bisect_right(starts, start)}: {mask(value)}")


def scan_text(text: str, path: str) -> list[Finding]:
    """Findings in a text already in memory (an account being bundled)."""
    return list(scan_blocks(text_blocks([text]), path))


def scan_text_kept(text: str, path: str, keep: int) -> tuple[list[Finding], int]:
    """The first `keep` findings of `text`, and how many more it holds (counted, not kept: a list of a million
    phone numbers costs time in proportion, never memory)."""
    found = scan_blocks(text_blocks([text]), path)
    kept = list(itertools.islice(found, keep))
    return kept, sum(1 for _ in found)
