"""Photo metadata: the values shared by the JPEG and PNG cleaners, and a bounded EXIF reader.

Example::

    tiff = read_tiff(app1_payload[6:])          # the TIFF block after b"Exif\\0\\0"
    if tiff is not None:
        tiff.orientation()                      # 1..8; 1 when missing or broken
        exif_kinds(tiff)                        # ("exif", "gps", "exif-thumbnail"); () for Orientation alone
        for where, entries in tiff.ifds: ...    # ("IFD0", {...}), ("ExifIFD", {...}), ("GPS", {...}), ("IFD1", {...})

    Stripped(data=b"...", removed=("exif", "gps"), orientation=6)

`read_tiff` never raises: EXIF comes from untrusted files, so every offset and
count is checked against the data and anything out of bounds is skipped. A
broken block reads as empty, which means "orientation unknown" (1). Every
directory is followed, the way exiftool follows them: the IFD chain (IFD0,
IFD1, ...) and the EXIF, GPS, interoperability and SubIFD pointers of any of
them, so GPS reached from IFD1 is seen too. Each directory is read once, and
at most `MAX_IFDS` of them. The layout follows TIFF 6.0 section 2 and EXIF 2.32
section 4.6.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Mapping

from mirror.record import record

__all__ = ["CONVERT_HINT", "KINDS", "Stripped", "Tag", "Tiff", "exif_kinds", "ordered_kinds", "read_ifd", "read_tiff",
           "xmp_orientation"]

# Never a hint towards --keep-metadata: keeping is a choice, not a fix (docs/privacy.md).
CONVERT_HINT = "convert it to JPEG on the device first (most phones can share or export a photo as JPEG)"
# Every kind of metadata a cleaner may report, in the order reports list them.
KINDS = (
    "exif", "gps", "exif-thumbnail", "xmp", "iptc", "icc", "mpf", "comment", "jfif-thumbnail",
    "jfxx-thumbnail", "text", "time", "other-app-segment", "other-chunk", "stray-bytes", "trailing-data",
)
# Pillow's rule for an orientation that only XMP carries (Image.getexif): the first tiff:Orientation digit.
_XMP_ORIENTATION = re.compile(rb'tiff:Orientation(?:="|>)([0-9])')

TAG_ORIENTATION = 0x0112
TAG_EXIF_IFD = 0x8769
TAG_GPS_IFD = 0x8825
TAG_THUMB_OFFSET = 0x0201
TAG_STRIP_OFFSETS = 0x0111
TAG_INTEROP_IFD = 0xA005
TAG_SUB_IFDS = 0x014A
# Size in bytes of one value of each TIFF field type (TIFF 6.0 section 2, plus IFD = 13).
TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}


Recipe = tuple[tuple[int, int] | bytes, ...]  # (start, end) of the original, or bytes written as they are


def follow(recipe: Recipe, original: bytes) -> bytes:
    """The cleaned photo made again from its original by its recipe, without parsing it."""
    return b"".join(follow_pieces(recipe, original))


def extend_recipe(body: list[tuple[int, int] | bytes], steps: Iterable[tuple[int, int] | bytes]) -> None:
    """Add recipe steps to `body`, a range that starts where the last one ends merged into it."""
    for step in steps:
        last = body[-1] if body else None
        if isinstance(step, tuple) and isinstance(last, tuple) and last[1] == step[0]:
            body[-1] = (last[0], step[1])
        else:
            body.append(step)


def follow_pieces(recipe: Recipe, original: bytes) -> list[bytes | memoryview]:
    """The cleaned photo as its pieces, in order, without a copy of the ranges it keeps (views of `original`)."""
    view = memoryview(original)
    return [view[step[0]:step[1]] if isinstance(step, tuple) else step for step in recipe]


@record
class Stripped:
    """A photo without its identifying metadata.

    Attributes:
        data: the cleaned file; its compressed image data is byte-identical to the original's.
        removed: kinds of metadata removed (names from `KINDS`), never their values.
        orientation: the EXIF orientation kept in the cleaned file (1 when none was needed).
        notes: what else the author should know, one line each (stray bytes dropped, for example).
        colours: the name of a colour profile removed whose absence changes the colours viewers show (not an
            sRGB one, not a standard one kept; icc.py `shifts_colours`), "unnamed" if it has none; "" if none.
    """

    data: bytes
    removed: tuple[str, ...]
    orientation: int
    notes: tuple[str, ...] = ()
    recipe: Recipe = ()  # how `data` is made from the original: ranges of it, and bytes of its own; () if unknown
    colours: str = ""


@record
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


_POINTERS = {TAG_EXIF_IFD: "ExifIFD", TAG_GPS_IFD: "GPS", TAG_INTEROP_IFD: "InteropIFD", TAG_SUB_IFDS: "SubIFD"}
MAX_IFDS = 32
MAX_ENTRIES = 1024  # entries read per directory; real ones have a few hundred at most


# An Orientation-only block as cameras and the cleaners write it: header, one entry, next-IFD offset, some slack
ORIENTATION_BLOCK = 8 + 2 + 12 + 4 + 16


@record
class Tiff:
    """Every directory of one TIFF block, named as exiftool names them (IFD0, ExifIFD, GPS, IFD1, ...)."""

    data: bytes
    big_endian: bool
    ifds: tuple[tuple[str, Mapping[int, Tag]], ...]

    def first(self, name: str) -> Mapping[int, Tag]:
        """The first directory called `name`, or an empty one."""
        return next((entries for where, entries in self.ifds if where == name), {})

    @property
    def ifd0(self) -> Mapping[int, Tag]:
        """The main image's directory."""
        return self.first("IFD0")

    @property
    def ifd1(self) -> Mapping[int, Tag]:
        """The thumbnail's directory."""
        return self.first("IFD1")

    def orientation_tag(self) -> int | None:
        """The Orientation tag of IFD0 as stored (None when it is missing)."""
        tag = self.ifd0.get(TAG_ORIENTATION)
        return tag.integer() if tag is not None else None

    def orientation(self) -> int:
        """The Orientation tag (1..8), or 1 when it is missing or out of range."""
        value = self.orientation_tag()
        return value if value is not None and 1 <= value <= 8 else 1

    def orientation_only(self) -> bool:
        """Whether the block holds nothing but an Orientation tag (what the cleaners write back), and no more bytes
        than such a block needs (bytes no tag points to may hold a text or a preview)."""
        return len(self.ifds) == 1 and set(self.ifd0) <= {TAG_ORIENTATION} and len(self.data) <= ORIENTATION_BLOCK


def read_ifd(data: bytes, big_endian: bool, offset: int, shift: int = 0) -> tuple[dict[int, Tag], int]:
    """The entries of the directory at `offset` and the offset of the next one (0 for none); `shift` is added to
    the offsets of values that do not fit in their entry (a maker note an editor moved, makernotes.py).

    Entries whose type is unknown or whose value lies outside `data` are skipped, as are those past
    MAX_ENTRIES; a directory that does not fit reads as empty.
    """
    order = ">" if big_endian else "<"
    if offset <= 0 or offset + 2 > len(data):
        return {}, 0
    (count,) = struct.unpack_from(order + "H", data, offset)
    end = offset + 2 + 12 * count
    read = min(count, MAX_ENTRIES)
    if end > len(data):
        return {}, 0
    entries: dict[int, Tag] = {}
    for pos in range(offset + 2, offset + 2 + 12 * read, 12):
        tag, kind, n, pointer = struct.unpack_from(order + "HHII", data, pos)
        size = TYPE_SIZE.get(kind, 0) * n
        if size == 0:
            continue
        start = pos + 8 if size <= 4 else pointer + shift
        if start >= 0 and start + size <= len(data):
            entries.setdefault(tag, Tag(tag, kind, n, data[start:start + size], start, big_endian))
    nxt = struct.unpack_from(order + "I", data, end)[0] if end + 4 <= len(data) else 0
    return entries, nxt


def read_tiff(data: bytes) -> Tiff | None:
    """Parse a TIFF block (the EXIF payload after b"Exif\\0\\0", or a PNG eXIf chunk).

    Returns:
        The directories found, or None when the header is not a TIFF header.
    """
    if len(data) < 8 or data[:4] not in (b"II*\0", b"MM\0*"):
        return None
    big = data[:2] == b"MM"
    (first,) = struct.unpack_from(">I" if big else "<I", data, 4)
    ifds: list[tuple[str, Mapping[int, Tag]]] = []
    seen: set[int] = set()
    todo: list[tuple[str, int]] = [("IFD0", first)]
    while todo and len(ifds) < MAX_IFDS:
        name, offset = todo.pop(0)
        if offset in seen:
            continue
        seen.add(offset)
        entries, nxt = read_ifd(data, big, offset)
        if not entries:
            continue
        ifds.append((name, entries))
        if name.startswith("IFD") and nxt:
            todo.append((f"IFD{int(name[3:]) + 1}", nxt))
        for tag, label in _POINTERS.items():
            if tag in entries:
                todo += [(label, value) for value in entries[tag].integers()[:8]]
    return Tiff(data, big, tuple(ifds))


def exif_kinds(tiff: Tiff | None) -> tuple[str, ...]:
    """The kinds an EXIF block holds: "exif", plus "gps" and "exif-thumbnail" if present.

    A block with nothing but Orientation holds nothing to remove: () (the cleaners write such a block).
    """
    if tiff is not None and tiff.orientation_only():
        return ()
    kinds = ["exif"]
    if tiff is not None and any(name == "GPS" or TAG_GPS_IFD in ifd for name, ifd in tiff.ifds):
        kinds.append("gps")
    if tiff is not None and (TAG_THUMB_OFFSET in tiff.ifd1 or TAG_STRIP_OFFSETS in tiff.ifd1):
        kinds.append("exif-thumbnail")
    return tuple(kinds)


def xmp_orientation(packet: bytes) -> int | None:
    """The orientation an XMP packet gives (tiff:Orientation), read as Pillow reads it; None if none."""
    match = _XMP_ORIENTATION.search(packet)
    return int(match.group(1)) if match else None


def ordered_kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    """Kinds without repeats, in the order of `KINDS`."""
    return tuple(sorted(set(kinds), key=KINDS.index))
