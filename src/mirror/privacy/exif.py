"""Photo metadata: the values shared by the JPEG and PNG cleaners, and a bounded EXIF reader.

Example::

    tiff = read_tiff(app1_payload[6:])          # the TIFF block after b"Exif\\0\\0"
    if tiff is not None:
        tiff.orientation()                      # 1..8; 1 when missing or broken
        exif_kinds(tiff)                        # ("exif", "gps", "exif-thumbnail")

    Stripped(data=b"...", removed=("exif", "gps"), orientation=6)

`read_tiff` never raises: EXIF comes from untrusted files, so every offset and
count is checked against the data and anything out of bounds is skipped. A
broken block reads as empty, which means "orientation unknown" (1).
The TIFF layout follows TIFF 6.0 section 2 and EXIF 2.32 section 4.6.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["CONVERT_HINT", "KINDS", "Stripped", "Tag", "Tiff", "exif_kinds", "ordered_kinds", "read_ifd", "read_tiff"]

CONVERT_HINT = "convert it to JPEG on the device, or pass --keep-metadata to bundle it as it is"
# Every kind of metadata a cleaner may report, in the order reports list them.
KINDS = (
    "exif", "gps", "exif-thumbnail", "xmp", "iptc", "icc", "mpf", "comment", "jfif-thumbnail",
    "jfxx-thumbnail", "text", "time", "other-app-segment", "other-chunk", "trailing-data",
)

TAG_ORIENTATION = 0x0112
TAG_EXIF_IFD = 0x8769
TAG_GPS_IFD = 0x8825
TAG_THUMB_OFFSET = 0x0201
TAG_STRIP_OFFSETS = 0x0111
# Size in bytes of one value of each TIFF field type (TIFF 6.0 section 2, plus IFD = 13).
_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}


@dataclass(frozen=True, slots=True)
class Stripped:
    """A photo without its identifying metadata.

    Attributes:
        data: the cleaned file; its compressed image data is byte-identical to the original's.
        removed: kinds of metadata removed (names from `KINDS`), never their values.
        orientation: the EXIF orientation kept in the cleaned file (1 when none was needed).
    """

    data: bytes
    removed: tuple[str, ...]
    orientation: int


@dataclass(frozen=True, slots=True)
class Tag:
    """One TIFF directory entry, with its value bytes already bounds-checked."""

    tag: int
    type: int
    count: int
    raw: bytes
    offset: int  # where `raw` starts in the TIFF block
    big_endian: bool

    def integers(self) -> tuple[int, ...]:
        """The values of a BYTE, SHORT or LONG entry; () for other types."""
        codes = {1: "B", 3: "H", 4: "I", 13: "I"}
        code = codes.get(self.type)
        if code is None:
            return ()
        return struct.unpack(f"{'>' if self.big_endian else '<'}{self.count}{code}", self.raw)

    def integer(self) -> int | None:
        """The first value of a BYTE, SHORT or LONG entry, or None."""
        values = self.integers()
        return values[0] if values else None

    def rationals(self) -> tuple[float, ...]:
        """The values of a RATIONAL entry (a zero denominator reads as 0.0)."""
        if self.type != 5:
            return ()
        pairs = struct.unpack(f"{'>' if self.big_endian else '<'}{2 * self.count}I", self.raw)
        return tuple(num / den if den else 0.0 for num, den in zip(pairs[::2], pairs[1::2], strict=True))

    def text(self) -> str:
        """An ASCII or UNDEFINED value as text, cut at the first NUL, never raising."""
        return self.raw.split(b"\0", 1)[0].decode("utf-8", "replace").strip()


@dataclass(frozen=True, slots=True)
class Tiff:
    """The directories of one TIFF block that identify a photo: IFD0, EXIF, GPS and IFD1."""

    data: bytes
    big_endian: bool
    ifd0: Mapping[int, Tag]
    exif: Mapping[int, Tag]
    gps: Mapping[int, Tag]
    ifd1: Mapping[int, Tag]

    def orientation(self) -> int:
        """The Orientation tag (1..8), or 1 when it is missing or out of range."""
        tag = self.ifd0.get(TAG_ORIENTATION)
        value = tag.integer() if tag is not None else None
        return value if value is not None and 1 <= value <= 8 else 1


def read_ifd(data: bytes, big_endian: bool, offset: int) -> tuple[dict[int, Tag], int]:
    """The entries of the directory at `offset` and the offset of the next one (0 for none).

    Entries whose type is unknown or whose value lies outside `data` are skipped;
    a directory that does not fit reads as empty.
    """
    order = ">" if big_endian else "<"
    if offset < 8 or offset + 2 > len(data):
        return {}, 0
    (count,) = struct.unpack_from(order + "H", data, offset)
    end = offset + 2 + 12 * count
    if end > len(data):
        return {}, 0
    entries: dict[int, Tag] = {}
    for pos in range(offset + 2, end, 12):
        tag, kind, n, pointer = struct.unpack_from(order + "HHII", data, pos)
        size = _TYPE_SIZE.get(kind, 0) * n
        if size == 0:
            continue
        start = pos + 8 if size <= 4 else pointer
        if start + size <= len(data):
            entries.setdefault(tag, Tag(tag, kind, n, data[start:start + size], start, big_endian))
    nxt = struct.unpack_from(order + "I", data, end)[0] if end + 4 <= len(data) else 0
    return entries, nxt


def _sub_ifd(data: bytes, big_endian: bool, parent: Mapping[int, Tag], tag: int) -> dict[int, Tag]:
    pointer = parent.get(tag)
    offset = pointer.integer() if pointer is not None else None
    return read_ifd(data, big_endian, offset)[0] if offset is not None else {}


def read_tiff(data: bytes) -> Tiff | None:
    """Parse a TIFF block (the EXIF payload after b"Exif\\0\\0", or a PNG eXIf chunk).

    Returns:
        The directories found, or None when the header is not a TIFF header.
    """
    if len(data) < 8 or data[:4] not in (b"II*\0", b"MM\0*"):
        return None
    big = data[:2] == b"MM"
    (offset,) = struct.unpack_from(">I" if big else "<I", data, 4)
    ifd0, next_ifd = read_ifd(data, big, offset)
    ifd1 = read_ifd(data, big, next_ifd)[0] if next_ifd not in (0, offset) else {}
    return Tiff(data, big, ifd0, _sub_ifd(data, big, ifd0, TAG_EXIF_IFD),
                _sub_ifd(data, big, ifd0, TAG_GPS_IFD), ifd1)


def exif_kinds(tiff: Tiff | None) -> tuple[str, ...]:
    """The kinds an EXIF block holds: always "exif", plus "gps" and "exif-thumbnail" if present."""
    kinds = ["exif"]
    if tiff is not None and (tiff.gps or TAG_GPS_IFD in tiff.ifd0):
        kinds.append("gps")
    if tiff is not None and (TAG_THUMB_OFFSET in tiff.ifd1 or TAG_STRIP_OFFSETS in tiff.ifd1):
        kinds.append("exif-thumbnail")
    return tuple(kinds)


def ordered_kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    """Kinds without repeats, in the order of `KINDS`."""
    return tuple(sorted(set(kinds), key=KINDS.index))
