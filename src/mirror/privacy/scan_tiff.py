"""What an EXIF (TIFF) block says about a photo's author, each item by name.

Example::

    scan_tiff(exif_block)   # [("gps", "43.23890 N, 76.88970 E"), ("owner", "CameraOwnerName Aigerim"), ...]

Every directory is read (IFD0, ExifIFD, GPS wherever it is linked from, IFD1,
SubIFDs); text fields (ImageDescription, UserComment, XPComment, HostComputer
and more) are decoded; maker notes of Canon, Nikon, Olympus/OM, Panasonic,
Fujifilm, Pentax, Samsung, Sigma, Apple, Motorola, Ricoh, Sony, Kodak, Leica, Reconyx, Nintendo, Casio and
Sanyo are read for owner names, serial numbers, unique ids and places (makernotes.py); other tags are counted,
never dropped silently. A block that holds only Orientation, as the cleaners write it,
reports nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from mirror.privacy.exif import TAG_EXIF_IFD, TAG_GPS_IFD, TAG_INTEROP_IFD, TAG_ORIENTATION, TAG_SUB_IFDS, Tag, Tiff
from mirror.privacy.exif import read_tiff as _read_tiff
from mirror.privacy.findings import Found, empty_value, short
from mirror.privacy.makernotes import scan_makernote

# Tags that may identify a photo's author or device, in any directory: tag -> (kind, exiftool's name).
NAMED_TAGS: dict[int, tuple[str, str]] = {
    0x000B: ("software", "ProcessingSoftware"), 0x010D: ("text", "DocumentName"),
    0x010E: ("text", "ImageDescription"), 0x010F: ("make", "Make"), 0x0110: ("model", "Model"),
    0x011D: ("text", "PageName"), 0x0131: ("software", "Software"), 0x0132: ("datetime", "DateTime"),
    0x013B: ("owner", "Artist"), 0x013C: ("owner", "HostComputer"), 0x8298: ("owner", "Copyright"),
    0x9C9B: ("text", "XPTitle"), 0x9C9C: ("text", "XPComment"), 0x9C9D: ("owner", "XPAuthor"),
    0x9C9E: ("text", "XPKeywords"), 0x9C9F: ("text", "XPSubject"), 0xC614: ("model", "UniqueCameraModel"),
    0xC615: ("model", "LocalizedCameraModel"), 0xC62F: ("serial", "CameraSerialNumber"),
    0x9003: ("datetime", "DateTimeOriginal"), 0x9004: ("datetime", "DateTimeDigitized"),
    0x9010: ("datetime", "OffsetTime"), 0x9011: ("datetime", "OffsetTimeOriginal"),
    0x9012: ("datetime", "OffsetTimeDigitized"), 0x9286: ("text", "UserComment"),
    0xA420: ("unique-id", "ImageUniqueID"), 0xA430: ("owner", "CameraOwnerName"),
    0xA431: ("serial", "BodySerialNumber"), 0xA433: ("make", "LensMake"), 0xA434: ("model", "LensModel"),
    0xA435: ("serial", "LensSerialNumber"), 0xA436: ("text", "ImageTitle"), 0xA437: ("owner", "Photographer"),
    0xA438: ("owner", "ImageEditor"), 0xA439: ("software", "CameraFirmware"),
    0xA43A: ("software", "RAWDevelopingSoftware"), 0xA43B: ("software", "ImageEditingSoftware"),
    0xA43C: ("software", "MetadataEditingSoftware"),
}
# Blocks of other metadata carried inside TIFF: tag -> kind (the caller scans their contents).
EMBEDDED = {0x02BC: "xmp", 0x83BB: "iptc", 0x8649: "photoshop", 0x8773: "icc"}
_MAKERNOTE, _GPS_DATE = 0x927C, 0x001D
_STRUCTURE = {TAG_EXIF_IFD, TAG_GPS_IFD, TAG_INTEROP_IFD, TAG_SUB_IFDS, 0x0201, 0x0202, 0x0111, 0x0117}
_SOI = re.compile(rb"\xff\xd8\xff[\xc0-\xfe]")  # a JPEG's start: SOI, then a marker
_EMPTY_SHOWN = 4  # names of empty tags shown
_CHARSETS = {b"ASCII\0\0\0": "ascii", b"UNICODE\0": "utf-16", b"JIS\0\0\0\0\0": "shift_jis"}
_XP_TAGS = frozenset({0x9C9B, 0x9C9C, 0x9C9D, 0x9C9E, 0x9C9F})
_USER_COMMENT = 0x9286


def tag_value(tag: Tag) -> str:
    """A tag's value as text: numbers, ASCII, Windows XP UTF-16 or a UserComment with its charset prefix."""
    if tag.tag in _XP_TAGS or (tag.tag == _USER_COMMENT and len(tag.raw) >= 8):
        return _decoded(tag).split("\0", 1)[0].strip()
    numbers = tag.integers()
    if numbers and tag.type != 1:
        return str(numbers[0])
    return tag.text() if tag.type in (1, 2, 7) else ""


def _decoded(tag: Tag) -> str:
    """A text tag's bytes, all of them, as text (NULs kept): Windows XP tags in UTF-16LE, a UserComment after its
    charset prefix, others as UTF-8."""
    if tag.tag in _XP_TAGS:  # Windows XP tags: UTF-16LE in BYTEs
        return tag.raw.decode("utf-16-le", "replace")
    if tag.tag == _USER_COMMENT and len(tag.raw) >= 8:
        codec = _CHARSETS.get(tag.raw[:8], "utf-8")
        if codec == "utf-16":
            codec = "utf-16-be" if tag.big_endian else "utf-16-le"
        return tag.raw[8:].decode(codec, "replace")
    return tag.raw.decode("utf-8", "replace")


def _hidden(tag: Tag) -> str:
    """What a text tag holds after its first NUL, which a reading cut there (exiftool's, Explorer's, tag_value's)
    does not show: an Artist of "\0Aigerim" reads as empty, yet the name is in the photo. "" for other types."""
    if tag.type not in (1, 2, 7):
        return ""
    return " ".join(_decoded(tag).replace("\0", " ").split())


def _coordinate(value: Tag | None, ref: Tag | None) -> str | None:
    parts = value.rationals() if value is not None else ()
    if len(parts) < 3:
        return None
    side = ref.text() if ref is not None else "?"
    return f"{parts[0] + parts[1] / 60 + parts[2] / 3600:.5f} {side}"


def _scan_gps(gps: Mapping[int, Tag]) -> list[Found]:
    lat, lon = _coordinate(gps.get(2), gps.get(1)), _coordinate(gps.get(4), gps.get(3))
    found = [("gps", f"{lat}, {lon}" if lat and lon else f"GPS tags present ({len(gps)})")]
    if _GPS_DATE in gps:
        found.append(("datetime", f"GPSDateStamp {gps[_GPS_DATE].text()}"))
    return found


def _blank(kind: str, value: str) -> bool:
    """Whether a named tag's value shows nothing (an Artist of spaces, a Copyright of NULs); a date of only its
    colons and spaces is EXIF's own "unknown"."""
    return empty_value(value.replace(":", "") if kind == "datetime" else value)


def _scan_ifd(tiff: Tiff, where: str, entries: Mapping[int, Tag], make: str) -> tuple[list[Found], list[str], int]:
    """Named findings of one directory, the names of its named tags that are empty (they name no one: no
    finding of their own), and how many other tags it holds."""
    found: list[Found] = []
    empty: list[str] = []
    others = 0
    for number, tag in entries.items():
        if number in NAMED_TAGS:
            kind, label = NAMED_TAGS[number]
            value = tag_value(tag)
            hidden = _hidden(tag) if _blank(kind, value) else ""
            if hidden and not _blank(kind, hidden):  # "\0Aigerim": empty to a viewer, a name all the same
                found.append((kind, f"{label} {short(hidden)} (after a NUL byte, which hides it from most viewers)"))
            elif _blank(kind, value) and tag.type in (1, 2, 7):
                empty.append(label)
            else:  # a number, or a value of another type: not known to be empty
                found.append((kind, f"{label} {short(value)}".strip()))
        elif number == _MAKERNOTE:
            found += scan_makernote(tiff, tag, make)
        elif number in EMBEDDED:
            found.append((EMBEDDED[number], f"{EMBEDDED[number].upper()} block in {where}, {len(tag.raw)} bytes"))
        elif not (number in _STRUCTURE or (where == "IFD0" and number == TAG_ORIENTATION)):
            others += 1
    return found, empty, others


def _other_previews(tiff: Tiff, block: bytes) -> int:
    """JPEG images inside an EXIF block other than those a directory points to as its thumbnail: the previews
    that Nikon, Pentax, Casio and Olympus maker notes carry (up to 640 x 480, of the unedited photo)."""
    pointed = {value for _, entries in tiff.ifds if (tag := entries.get(0x0201)) is not None
               for value in tag.integers()[:1]}
    return sum(1 for found in _SOI.finditer(block) if found.start() not in pointed)


def scan_tiff(block: bytes) -> list[Found]:
    """Every identifying item of a TIFF block; an Orientation-only block gives [].

    Never raises: a block that is not TIFF is reported as unreadable.
    """
    tiff = _read_tiff(block)
    if tiff is None:
        return [("other-metadata", f"unreadable EXIF block, {len(block)} bytes")]
    if tiff.orientation_only():
        return []
    make_tag = tiff.ifd0.get(0x010F)
    make = tag_value(make_tag) if make_tag is not None else ""
    found: list[Found] = []
    empty: list[str] = []
    others = 0
    for where, entries in tiff.ifds:
        if where == "GPS":
            found += _scan_gps(entries)
            continue
        named, blank, more = _scan_ifd(tiff, where, entries, make)
        found += named
        empty += blank
        others += more
    if any(TAG_GPS_IFD in entries for _, entries in tiff.ifds) and not any(w == "GPS" for w, _ in tiff.ifds):
        found.append(("gps", "a GPS directory pointer (the directory itself is unreadable)"))
    if 0x0201 in tiff.ifd1 or 0x0111 in tiff.ifd1:
        found.append(("exif-thumbnail", "a preview image in EXIF IFD1"))
    previews = _other_previews(tiff, block)
    if previews:
        found.append(("thumbnail", f"{previews} preview image(s) elsewhere in the EXIF block (maker notes)"))
    if others:
        found.append(("exif", f"{others} more EXIF tag(s): camera settings, sizes and the like"))
    if not found and empty:  # tags create removes, so said, but as what they are: no owner, no serial
        labels = list(dict.fromkeys(empty))
        shown = ", ".join(labels[:_EMPTY_SHOWN]) + (", ..." if len(labels) > _EMPTY_SHOWN else "")
        found.append(("exif", f"an EXIF block of empty tags, which name no one: {shown}"))
    elif not found:
        found.append(("exif", f"an EXIF block with no readable tags, {len(block)} bytes"))
    return found

