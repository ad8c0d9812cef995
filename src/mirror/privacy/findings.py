"""What a scan reports: one Finding per item that may identify someone.

Example::

    Finding("photos/a.jpg", "gps", "43.23890 N, 76.88970 E")
    Finding("accounts/a.md", "phone", "line 3: +7 7•• ••• •• 67")
    short("a very long value ...")          # one line, at most MAX_DETAIL characters

Photo kinds: gps, datetime, make, model, serial, software, owner, people,
place, unique-id, makernote, exif, xmp, iptc, icc, mpf, exif-thumbnail,
thumbnail, comment, text, other-metadata, stray-bytes, trailing-data; format (scan only: a
HEIC/HEIF, which create refuses unless converted, whatever it holds). Text
kinds: phone, possible-phone, email, iin, 12-digit-number, card-number, iban, document-number,
coordinates, map-link, embedded-file (a file inside the text as base64). Name kinds:
name (a capture time or a device pattern in a file name). Folder kinds:
os-file (Thumbs.db, .DS_Store and the like).
"""

from __future__ import annotations

import re

from mirror.record import record

MAX_DETAIL = 80
MAX_PER_FILE = 200  # findings listed per file (scan and create); a file with more is said to hold more
MAX_FINDINGS = 10_000  # findings kept in one report (scan and create); the rest are counted
MAX_STRINGS = 8  # readable strings shown of one block of unknown kind
# Letters, digits, spaces and common punctuation, in ASCII or as UTF-8 (Cyrillic names): no braces or bars,
# which compressed data is full of.
_RUN = re.compile(rb"(?:[A-Za-z0-9 .,:;/\\_()'@#&+=-]|[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}){6,}")
_VOWEL = re.compile(r"[aeiouyAEIOUYаеёиоуыэюяәіөүұАЕЁИОУЫЭЮЯӘІӨҮҰ]")  # noqa: RUF001 - Cyrillic vowels
_LONG = 12  # a run this long, eight of it letters and a word break, is shown even from a mostly binary block
_BREAK = re.compile(r"[ /\\._-]")
_ALPHABETS = re.compile(r"[A-Za-z\u0400-\u04ff]")  # the scripts the vowel test knows
_HUFFMAN = "CDEFGHIJSTUVWXYZ"  # part of the standard JPEG Huffman table every embedded preview carries
_READ_STRINGS = 1 << 16  # of a block, its first bytes only
# Bounded on every side: an attacker's 64 KiB of '"useruser...' costs linear time (unbounded [A-Za-z_]* around
# the key word took 16 s a block). C2PA's place, rights and EXIF assertions too ("location", "copyright",
# "exif:GPSLatitude": a Reuters photo's, exiftool's t/images/ExifTool.jpg).
_JSON_PAIR = re.compile(rb'"([A-Za-z_:]{0,16}(?:user|name|mail|owner|author|creator|serial|account|phone|uri|url|'
                        rb'location|copyright|latitude|longitude)[A-Za-z_]{0,16})"[ \t\r\n]{0,4}:[ \t\r\n]{0,4}'
                        rb'"([^"\\\x00-\x1f]{1,120})"', re.IGNORECASE)
# Words that make a string worth showing before the others: it may name a person, an account or a device.
_TELLING = re.compile(r"\w@\w|user|name|serial|owner|author|creator|artist|account|identit|e-?mail|phone|device|"
                      r"https?:|www\.|t\.me/|s/n|\bsn\b|#\d|\d{6}", re.IGNORECASE)
# The same as bytes, a superset of it (any "@", since \w of bytes is ASCII and an address may be Cyrillic), to pass
# over runs that cannot be telling without decoding them
_TELLING_BYTES = re.compile(_TELLING.pattern.replace(r"\w@\w", "@").encode(), re.IGNORECASE)
_DENSE = 20  # text runs must make up a twentieth of a block's bytes
# A serial number as devices write them: capitals and digits, six digits at least and a letter (an InfiRay thermal
# camera's P200019B15656148), which the vowel test would take for chance bytes; shown from a block of text fields only
_SERIAL = re.compile(r"(?=(?:[A-Z]*\d){6})(?=\d*[A-Z])[A-Z0-9]{8,32}")
Found = tuple[str, str]  # kind, detail


@record
class Finding:
    """One thing that may identify someone, and where it is."""

    path: str
    kind: str
    detail: str


# Characters that show nothing: NUL padding, spaces and line breaks, spaces of every width, format characters
# (zero-width spaces and joiners, a BOM, a soft hyphen) and the letters that draw as a blank (Hangul fillers, the
# Braille blank). Other controls (0x01..0x08, 0x0E..0x1B, 0x7F) are bytes of a binary value, a serial say, and
# Unicode's tag characters spell ASCII one for one (U+E0041 is "A"): neither is padding (helper-177).
_BLANK_CATEGORIES = frozenset({"Cf", "Zs", "Zl", "Zp"})
_BLANK_LETTERS = frozenset("\u115f\u1160\u2800\u3164\uffa0")
_TAG_CHARACTERS = ("\U000e0000", "\U000e007f")


def _blank(char: str) -> bool:
    import unicodedata

    if char == "\0" or char.isspace() or char in _BLANK_LETTERS:
        return True
    return unicodedata.category(char) in _BLANK_CATEGORIES and not _TAG_CHARACTERS[0] <= char <= _TAG_CHARACTERS[1]


def empty_value(text: str) -> bool:
    """Whether a metadata value shows nothing at all (only spaces, NULs or invisible characters): it names no one,
    so it is no finding. A value of any visible character is one, even "0000" (a serial of zeros is still what
    the camera wrote)."""
    return all(_blank(c) for c in text)


def short(text: str) -> str:
    """`text` on one line, cut to MAX_DETAIL characters."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_DETAIL else text[:MAX_DETAIL - 1] + "…"


# Text stored as UTF-16 (Photoshop's "Ducky" segment keeps its copyright and comment so, helper-154): Latin and
# Cyrillic letters, in either byte order; shown with the block's other runs of text.
_UTF16 = ((re.compile(rb"(?:\x00[\x20-\x7e]|\x04[\x01-\xff]){6,}"), "utf-16-be"),
          (re.compile(rb"(?:[\x20-\x7e]\x00|[\x01-\xff]\x04){6,}"), "utf-16-le"))
MAX_UTF16_RUNS = 64


def _utf16_text(data: bytes) -> tuple[list[str], bool]:
    """The runs of UTF-16 text in a block's first _READ_STRINGS bytes that read as words (a table of 16-bit
    numbers reads as letters too, helper-155), at most MAX_UTF16_RUNS, and whether there were more. Of two runs
    that overlap (one byte order read one byte off the other), the one with more spaces is the text: read off by
    one, a space before a Cyrillic letter becomes another letter."""
    found = [(match.start(), match.end(), match.group().decode(codec, "replace"))  # at most 64 KiB / 12 of them
             for pattern, codec in _UTF16 for match in pattern.finditer(data, 0, _READ_STRINGS)]
    kept: list[tuple[int, int, str]] = []
    for start, end, text in sorted(found):
        if kept and start < kept[-1][1]:
            if (text.count(" "), len(text)) > (kept[-1][2].count(" "), len(kept[-1][2])):
                kept[-1] = (start, end, text)
            continue
        kept.append((start, end, text))
    words = [text.strip() for _, _, text in kept if _reads_as_words(text.strip())]
    return words[:MAX_UTF16_RUNS], len(words) > MAX_UTF16_RUNS  # "more" only of words cut (helper-156)


def _reads_as_words(text: str) -> bool:
    """Whether a run of UTF-16 reads as words: 12 characters or more, eight letters, a space, and three quarters
    of it letters and spaces (a table of 16-bit numbers decodes to letters and punctuation in equal measure)."""
    letters = sum(c.isalpha() for c in text)
    return len(text) >= _LONG and letters >= 8 and " " in text and (letters + text.count(" ")) * 4 >= len(text) * 3


def readable_strings(data: bytes) -> list[str]:
    """The strings `with_strings` shows of a block (`shown_strings`), without whether there were more."""
    return shown_strings(data)[0]


def shown_strings(data: bytes) -> tuple[list[str], bool]:
    """Runs of text in a block of unknown kind that read like words (six characters or more of letters, in any
    script, digits, spaces and common punctuation, four of them letters, one a vowel), at most MAX_STRINGS without
    repeats: first the values of JSON keys that name someone (`"username":"..."`, as C2PA identity claims carry
    them), then runs that look like a name, an account, an address or a serial, then the others, each in file
    order: an old camera's owner name, a file path. Where such runs are rare (compressed or binary data, whose
    short runs are chance), only runs of 12 characters or more, eight of them letters, with a space, a slash, a
    dot, a dash or an underscore. Linear in the block's first _READ_STRINGS bytes. Also whether there were more
    than were kept (decoys before a real name can push it out: then at least that is said)."""
    utf16, more = _utf16_text(data)
    pairs: dict[str, None] = {}
    for match in _JSON_PAIR.finditer(data, 0, _READ_STRINGS):
        if len(pairs) == MAX_STRINGS:
            more = True
            break
        pairs[f"{match[1].decode('utf-8', 'replace')}: {match[2].decode('utf-8', 'replace')}"] = None
    paired = {part for pair in pairs for part in pair.split(": ", 1)}  # a pair's key and value are not shown twice
    telling: dict[str, None] = {}
    other: dict[str, None] = {}
    runs = list(_RUN.finditer(data, 0, _READ_STRINGS))
    dense = sum(len(run.group()) for run in runs) * _DENSE >= min(len(data), _READ_STRINGS)
    for run in runs:  # from compressed or binary data (an embedded preview), short runs are chance, not text
        if len(pairs) + len(telling) >= MAX_STRINGS:
            more = True
            break  # enough that tell something: the rest cannot be shown
        if len(other) >= MAX_STRINGS and _TELLING_BYTES.search(run.group()) is None:
            more = True  # perhaps only a chance run of a binary block: "more" says no more than that
            continue  # only a telling run could still be shown: the others cost no more than this look
        text = run.group().decode("utf-8", "replace").strip()
        letters = sum(char.isalpha() for char in text)
        long = len(text) >= _LONG and letters >= 8 and _BREAK.search(text) is not None
        known = len(_ALPHABETS.findall(text))  # a run mostly in other scripts needs no vowel the test knows
        voiced = _VOWEL.search(text) is not None or known * 2 < letters
        serial = dense and len(text) <= 32 and _SERIAL.fullmatch(text) is not None
        if (serial or (letters >= 4 and voiced and (dense or long))) and _HUFFMAN not in text and text not in paired:
            more = _sort_in(text, telling, other) or more
    for text in utf16:  # words in UTF-16 (Photoshop's "Ducky" segment): shown as the block's other text
        if text in paired or text in telling or text in other:
            continue
        more = len(pairs) + len(telling) >= MAX_STRINGS or _sort_in(text, telling, other) or more
    found = [*pairs, *telling, *other]
    return found[:MAX_STRINGS], more or len(found) > MAX_STRINGS


def _sort_in(text: str, telling: dict[str, None], other: dict[str, None]) -> bool:
    """Put a run among the telling ones or the others; True when it had no room left (then "more" is said)."""
    if _TELLING.search(text) is not None:
        telling[text] = None
    elif len(other) < MAX_STRINGS:
        other[text] = None
    else:
        return True
    return False


def with_strings(found: Found, data: bytes) -> list[Found]:
    """A finding about a block of unknown kind, then the readable strings in it, each a "text" finding."""
    shown, more = shown_strings(data)
    return [found, *(("text", short(f"in it: {text}")) for text in shown),
            *([("text", "and more readable text in it, not shown here")] if more else [])]
