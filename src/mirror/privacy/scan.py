"""Find what could identify an author: metadata in photos, personal identifiers in text.

Example::

    for finding in scan_photo(raw, "photos/a.jpg"):
        print(finding.path, finding.kind, finding.detail)   # photos/a.jpg gps 43.23890 N, 76.88970 E
    scan_text("Звоните +7 701 123 45 67", "accounts/a.md")    # [Finding(..., "phone", "line 1: ...")]

The courier runs this on their own files, so details show values, cut short.
Photo kinds: gps, datetime, make, model, serial, software, owner, unique-id,
makernote, xmp, iptc, exif-thumbnail, thumbnail, comment, text, other-metadata,
trailing-data. Text kinds: phone, email, iin (a valid Kazakh IIN: checksum and
birth date), 12-digit-number (any other 12-digit run: a mistyped IIN, a company
BIN, an account or card fragment, a phone number without "+"; less certain).
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mirror.privacy.exif import TAG_GPS_IFD, Tag, Tiff, read_ifd, read_tiff
from mirror.privacy.jpeg import EXIF_ID, ParsedJpeg, app_kinds, parse_jpeg
from mirror.privacy.png import ParsedPng, parse_png
from mirror.privacy.strip import detect_kind

MAX_DETAIL = 80
Found = tuple[str, str]  # kind, detail

_IFD0_TAGS = {0x010F: ("make", "Make"), 0x0110: ("model", "Model"), 0x0131: ("software", "Software"),
              0x0132: ("datetime", "DateTime"), 0x013B: ("owner", "Artist"), 0x8298: ("owner", "Copyright"),
              0xC62F: ("serial", "CameraSerialNumber"), 0x9C9D: ("owner", "XPAuthor")}
_EXIF_TAGS = {0x9003: ("datetime", "DateTimeOriginal"), 0x9004: ("datetime", "DateTimeDigitized"),
              0xA430: ("owner", "CameraOwnerName"), 0xA431: ("serial", "BodySerialNumber"),
              0xA435: ("serial", "LensSerialNumber"), 0xA433: ("make", "LensMake"),
              0xA434: ("model", "LensModel"), 0xA420: ("unique-id", "ImageUniqueID")}
_MAKERNOTE, _GPS_DATE = 0x927C, 0x001D
_CREATOR = re.compile(rb"<dc:creator\b.*?<rdf:li\b[^>]*>([^<]{1,200})<", re.S)
_PHONE = re.compile(r"(?<![\w+])(?:\+\d(?:[ \u00a0().-]{0,2}\d){7,14}"
                    r"|8[ \u00a0-]?\(?7\d\d\)?[ \u00a0-]?\d{3}[ \u00a0-]?\d\d[ \u00a0-]?\d\d)(?!\d)")
_EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_TWELVE = re.compile(r"(?<![\d+])\d{12}(?!\d)")


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing that may identify someone, and where it is."""

    path: str
    kind: str
    detail: str


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_DETAIL else text[:MAX_DETAIL - 1] + "…"


def _value(tag: Tag) -> str:
    if tag.type == 1 and tag.tag == 0x9C9D:  # Windows XP tags are UTF-16LE in BYTEs
        return tag.raw.decode("utf-16-le", "replace").split("\0", 1)[0]
    numbers = tag.integers()
    return str(numbers[0]) if numbers else tag.text()


def _coordinate(value: Tag | None, ref: Tag | None) -> str | None:
    parts = value.rationals() if value is not None else ()
    if len(parts) < 3:
        return None
    side = ref.text() if ref is not None else "?"
    return f"{parts[0] + parts[1] / 60 + parts[2] / 3600:.5f} {side}"


def _scan_gps(gps: Mapping[int, Tag]) -> list[Found]:
    lat, lon = _coordinate(gps.get(2), gps.get(1)), _coordinate(gps.get(4), gps.get(3))
    found = [("gps", f"{lat}, {lon}" if lat and lon else "GPS tags present")]
    if _GPS_DATE in gps:
        found.append(("datetime", f"GPSDateStamp {gps[_GPS_DATE].text()}"))
    return found


def _maker_serial(tiff: Tiff, note: Tag, make: str) -> str | None:
    """The serial number in Canon (tag 0x000C) or Nikon (tag 0x001D) maker notes, if found."""
    if make.lower().startswith("canon"):  # an IFD with offsets from the EXIF TIFF header
        tag = read_ifd(tiff.data, tiff.big_endian, note.offset)[0].get(0x000C)
    elif make.lower().startswith("nikon") and note.raw.startswith(b"Nikon\0"):
        inner = read_tiff(note.raw[10:])  # "Nikon\0", version, 2 bytes, then its own TIFF header
        tag = inner.ifd0.get(0x001D) if inner is not None else None
    else:
        return None
    return _value(tag) if tag is not None else None


def _scan_tiff(block: bytes) -> list[Found]:
    tiff = read_tiff(block)
    if tiff is None:
        return [("other-metadata", "unreadable EXIF block")]
    found: list[Found] = []
    for ifd, names in ((tiff.ifd0, _IFD0_TAGS), (tiff.exif, _EXIF_TAGS)):
        found += [(names[t][0], f"{names[t][1]} {_short(_value(ifd[t]))}") for t in names if t in ifd]
    if tiff.gps or TAG_GPS_IFD in tiff.ifd0:
        found += _scan_gps(tiff.gps)
    note = tiff.exif.get(_MAKERNOTE)
    if note is not None:
        make = _value(tiff.ifd0[0x010F]) if 0x010F in tiff.ifd0 else ""
        serial = _maker_serial(tiff, note, make)
        found.append(("serial", f"maker-note serial number {_short(serial)}") if serial else
                     ("makernote", f"maker notes, {len(note.raw)} bytes (may hold a serial number)"))
    if 0x0201 in tiff.ifd1 or 0x0111 in tiff.ifd1:
        found.append(("exif-thumbnail", "a preview image in EXIF IFD1"))
    return found


def _scan_xmp(packet: bytes) -> list[Found]:
    found = [("xmp", "XMP metadata present")]
    creator = _CREATOR.search(packet)
    if creator:
        found.append(("owner", "XMP dc:creator " + _short(creator.group(1).decode("utf-8", "replace"))))
    if b"GPSLatitude" in packet:
        found.append(("gps", "GPS position in XMP"))
    return found


def _scan_iptc(payload: bytes) -> list[Found]:
    found = [("iptc", "IPTC/Photoshop metadata present")]
    at = payload.find(b"\x1c\x02\x50")  # IPTC-IIM record 2, dataset 80: By-line
    if at >= 0 and at + 5 <= len(payload):
        (size,) = struct.unpack_from(">H", payload, at + 3)
        byline = payload[at + 5:at + 5 + min(size, 200)].decode("utf-8", "replace")
        found.append(("owner", f"IPTC By-line {_short(byline)}"))
    return found


def _scan_jpeg(parsed: ParsedJpeg) -> list[Found]:
    found: list[Found] = []
    for segment in parsed.segments:
        if not (0xE0 <= segment.marker <= 0xEF or segment.marker == 0xFE):
            continue
        kinds, payload = app_kinds(segment), segment.payload
        if "exif" in kinds:
            found += _scan_tiff(payload[len(EXIF_ID):])
        elif "xmp" in kinds:
            found += _scan_xmp(payload)
        elif "iptc" in kinds:
            found += _scan_iptc(payload)
        elif "comment" in kinds:
            found.append(("comment", _short(payload.decode("utf-8", "replace"))))
        elif "jfif-thumbnail" in kinds or "jfxx-thumbnail" in kinds:
            found.append(("thumbnail", "a JFIF preview image"))
        elif "other-app-segment" in kinds:
            label = payload[:20].split(b"\0", 1)[0].decode("ascii", "replace")
            found.append(("other-metadata", _short(f"APP{segment.marker - 0xE0} segment {label}")))
    if parsed.trailing:
        found.append(("trailing-data", f"{len(parsed.trailing)} bytes after the end of the image"))
    return found


def _png_text(kind: bytes, data: bytes) -> tuple[str, bytes]:
    """Keyword and text of a tEXt, zTXt or iTXt chunk (compressed text: the first 4 KiB)."""
    keyword, _, rest = data.partition(b"\0")
    compressed = kind == b"zTXt" or (kind == b"iTXt" and rest[:1] == b"\1")
    if kind == b"zTXt":
        rest = rest[1:]
    elif kind == b"iTXt":  # flag, method, language\0, translated keyword\0, text
        rest = rest[2:].split(b"\0", 2)[-1]
    try:
        text = zlib.decompressobj().decompress(rest, 4096) if compressed else rest
    except zlib.error:
        text = b"(unreadable compressed text)"
    return keyword.decode("latin-1"), text


def _scan_png(parsed: ParsedPng) -> list[Found]:
    found: list[Found] = []
    for chunk in parsed.chunks:
        if chunk.type in (b"tEXt", b"zTXt", b"iTXt"):
            keyword, text = _png_text(chunk.type, chunk.data)
            if keyword == "XML:com.adobe.xmp":
                found += _scan_xmp(text)
            else:
                found.append(("text", _short(f"{keyword}: {text.decode('utf-8', 'replace')}")))
        elif chunk.type == b"eXIf":
            found += _scan_tiff(chunk.data)
        elif chunk.type == b"tIME" and len(chunk.data) == 7:
            found.append(("datetime", "PNG tIME {}-{:02}-{:02} {:02}:{:02}:{:02}".format(
                *struct.unpack(">HBBBBB", chunk.data))))
    if parsed.trailing:
        found.append(("trailing-data", f"{len(parsed.trailing)} bytes after the IEND chunk"))
    return found


def scan_photo(data: bytes, name: str) -> list[Finding]:
    """List the identifying metadata in a JPEG or PNG, with short values.

    Raises:
        PhotoError: the photo is malformed or of a format that is refused (HEIC, RAW, video...).
    """
    if detect_kind(data, name) == "jpeg":
        found = _scan_jpeg(parse_jpeg(data, name))
    else:
        found = _scan_png(parse_png(data, name))
    return [Finding(name, kind, detail) for kind, detail in found]


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


def _line_matches(line: str) -> Iterable[Found]:
    for match in _PHONE.finditer(line):
        yield "phone", match.group()
    for match in _EMAIL.finditer(line):
        yield "email", match.group()
    for match in _TWELVE.finditer(line):
        yield _twelve(match.group()), match.group()


def scan_text(text: str, path: str) -> list[Finding]:
    """List likely personal identifiers in a text: phone numbers, e-mail addresses, IINs.

    Dates (2022-01-05, 05.01.2022), times (18:30) and grouped numbers ("12 000")
    are not reported. A 12-digit number that is not a valid IIN is reported as
    "12-digit-number", to check by eye.
    """
    return [Finding(path, kind, f"line {number}: {_short(value)}")
            for number, line in enumerate(text.splitlines(), 1) for kind, value in _line_matches(line)]
