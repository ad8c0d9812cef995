"""What a scan reports: one Finding per item that may identify someone.

Example::

    Finding("photos/a.jpg", "gps", "43.23890 N, 76.88970 E")
    Finding("accounts/a.md", "phone", "line 3: +7 7•• ••• •• 67")
    short("a very long value ...")          # one line, at most MAX_DETAIL characters

Photo kinds: gps, datetime, make, model, serial, software, owner, people,
place, unique-id, makernote, exif, xmp, iptc, icc, mpf, exif-thumbnail,
thumbnail, comment, text, other-metadata, stray-bytes, trailing-data. Text
kinds: phone, possible-phone, email, iin, 12-digit-number. Name kinds:
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
_RUN = re.compile(rb"[A-Za-z0-9 .,:;/\\_()'@#&+=-]{6,}")  # no braces or bars: compressed data is full of them
_VOWEL = re.compile(r"[aeiouyAEIOUY]")
_READ_STRINGS = 1 << 16  # of a block, its first bytes only
_DENSE = 20  # text runs must make up a twentieth of a block's bytes
Found = tuple[str, str]  # kind, detail


@record
class Finding:
    """One thing that may identify someone, and where it is."""

    path: str
    kind: str
    detail: str


def short(text: str) -> str:
    """`text` on one line, cut to MAX_DETAIL characters."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_DETAIL else text[:MAX_DETAIL - 1] + "…"


def readable_strings(data: bytes) -> list[str]:
    """Runs of text in a block of unknown kind that read like words (six characters or more of letters, digits,
    spaces and common punctuation, four of them letters, one a vowel), the first MAX_STRINGS without repeats:
    an old camera's owner name, a file path. None from a block where such runs are rare: that is compressed or
    binary data, whose runs are chance."""
    found: list[str] = []
    runs = list(_RUN.finditer(data, 0, _READ_STRINGS))
    if sum(len(run.group()) for run in runs) * _DENSE < min(len(data), _READ_STRINGS):
        return []  # compressed or binary data (an embedded preview): its runs are chance, not text
    for run in runs:
        text = run.group().decode("ascii").strip()
        if sum(char.isalpha() for char in text) >= 4 and _VOWEL.search(text) and text not in found:
            found.append(text)
            if len(found) == MAX_STRINGS:
                break
    return found


def with_strings(found: Found, data: bytes) -> list[Found]:
    """A finding about a block of unknown kind, then the readable strings in it, each a "text" finding."""
    return [found, *(("text", short(f"in it: {text}")) for text in readable_strings(data))]
