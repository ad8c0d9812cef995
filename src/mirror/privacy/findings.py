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

from mirror.record import record

MAX_DETAIL = 80
MAX_PER_FILE = 200  # findings listed per file (scan and create); a file with more is said to hold more
MAX_FINDINGS = 10_000  # findings kept in one report (scan and create); the rest are counted
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
