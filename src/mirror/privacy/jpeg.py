"""Lossless JPEG cleaning: drop metadata segments, copy the compressed image data as it is.

Example::

    stripped = strip_jpeg(raw, "photos/a.jpg")
    stripped.removed        # ("exif", "gps", "exif-thumbnail", "comment", "trailing-data")
    stripped.orientation    # 6: a minimal EXIF block with only Orientation was put back

    parsed = parse_jpeg(raw, "photos/a.jpg")   # the segments, for the scanner

The walk follows ITU-T T.81 annex B: SOI first; every marker segment's length is
checked against the data; TEM and RSTn stand alone; after SOS the entropy-coded
data runs to the first marker that is neither RSTn nor 0xFF00 stuffing; tables
(DHT, DQT, DRI) may sit between the scans of a progressive image; EOI ends it.
Nothing is decoded or re-encoded, so the pixels cannot change.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from mirror.errors import PhotoError
from mirror.privacy.exif import Stripped, exif_kinds, ordered_kinds, read_tiff

SOI, EOI, SOS, COM, APP0, APP1, APP2, APP13, APP14 = 0xD8, 0xD9, 0xDA, 0xFE, 0xE0, 0xE1, 0xE2, 0xED, 0xEE
EXIF_ID = b"Exif\0\0"
XMP_IDS = (b"http://ns.adobe.com/xap/1.0/\0", b"http://ns.adobe.com/xmp/extension/\0")
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0-RST7
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # SOF0-SOF15 without DHT, JPG, DAC
_TABLES = frozenset({0xC4, 0xCC, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF})  # DHT DAC DQT DNL DRI DHP EXP
_WITH_LENGTH = _SOF | _TABLES | {SOS, COM} | frozenset(range(0xE0, 0xF0))
_ADOBE_LEN = 12  # "Adobe", version, flags0, flags1, transform (Adobe TN 5116, section 18)


@dataclass(frozen=True, slots=True)
class Segment:
    """One marker and what belongs to it.

    Attributes:
        marker: the second byte of the marker (0xE1 for APP1).
        raw: the bytes as stored: marker, length and payload; for SOS also the scan data.
        payload: the bytes after the length field (empty for standalone markers).
    """

    marker: int
    raw: bytes
    payload: bytes


@dataclass(frozen=True, slots=True)
class ParsedJpeg:
    """A JPEG as a sequence of segments (SOI and EOI left out) and the bytes after EOI."""

    segments: tuple[Segment, ...]
    trailing: bytes


def _fail(name: str, reason: str) -> PhotoError:
    return PhotoError(name, f"not a valid JPEG: {reason}")


def _read_marker(data: bytes, pos: int, name: str) -> tuple[int, int]:
    """The marker at `pos` (after any 0xFF fill bytes) and the offset just past it."""
    if pos >= len(data):
        raise _fail(name, "the file ends before the end-of-image marker (truncated?)")
    if data[pos] != 0xFF:
        raise _fail(name, f"expected a marker at byte {pos}")
    while pos < len(data) and data[pos] == 0xFF:
        pos += 1
    if pos >= len(data):
        raise _fail(name, "the file ends inside a marker (truncated?)")
    if data[pos] == 0:
        raise _fail(name, f"stray 0xFF00 at byte {pos - 1}")
    return data[pos], pos + 1


def _read_payload(data: bytes, pos: int, marker: int, name: str) -> bytes:
    if pos + 2 > len(data):
        raise _fail(name, f"segment 0x{marker:02X} at byte {pos - 2} is truncated")
    (length,) = struct.unpack_from(">H", data, pos)
    if length < 2 or pos + length > len(data):
        raise _fail(name, f"segment 0x{marker:02X} at byte {pos - 2} has length {length}, "
                          "which runs past the end of the file")
    return data[pos + 2:pos + length]


def _scan_end(data: bytes, pos: int, name: str) -> int:
    """Where the entropy-coded data that starts at `pos` ends: at the next real marker."""
    while True:
        found = data.find(b"\xff", pos)
        if found < 0 or found + 1 >= len(data):
            raise _fail(name, "the image data ends without an end-of-image marker (truncated?)")
        follower = data[found + 1]
        if follower == 0 or 0xD0 <= follower <= 0xD7:
            pos = found + 2  # byte stuffing or a restart marker: still scan data
        elif follower == 0xFF:
            pos = found + 1  # fill byte before a marker
        else:
            return found


def _check_header(marker: int, payload: bytes, at: int, name: str) -> None:
    """SOF: Nf components of 3 bytes after 6; SOS: Ns components of 2 bytes after 1, then 3."""
    if marker in _SOF:
        count = payload[5] if len(payload) > 5 else 0
        if count == 0 or len(payload) != 6 + 3 * count:
            raise _fail(name, f"malformed frame header at byte {at}")
    elif marker == SOS:
        count = payload[0] if payload else 0
        if not 1 <= count <= 4 or len(payload) != 4 + 2 * count:
            raise _fail(name, f"malformed scan header at byte {at}")


def parse_jpeg(data: bytes, name: str) -> ParsedJpeg:
    """Walk the marker segments of a JPEG strictly, without decoding anything.

    Raises:
        PhotoError: no SOI, a bad or unknown marker, a length past the end, a scan
            before any frame header, no scan at all, or no EOI.
    """
    if not data.startswith(b"\xff\xd8"):
        raise _fail(name, "it does not start with a start-of-image marker")
    segments: list[Segment] = []
    pos, frame, scans = 2, False, 0
    while True:
        at = pos
        marker, pos = _read_marker(data, pos, name)
        if marker == EOI:
            break
        if marker in _STANDALONE:
            segments.append(Segment(marker, bytes((0xFF, marker)), b""))
            continue
        if marker not in _WITH_LENGTH:
            raise _fail(name, f"unexpected marker 0xFF{marker:02X} at byte {at}")
        payload = _read_payload(data, pos, marker, name)
        _check_header(marker, payload, at, name)
        start, pos = pos - 2, pos + 2 + len(payload)
        frame = frame or marker in _SOF
        if marker == SOS:
            if not frame:
                raise _fail(name, f"image data at byte {at} comes before any frame header")
            pos, scans = _scan_end(data, pos, name), scans + 1
        segments.append(Segment(marker, data[start:pos], payload))
    if not scans:
        raise _fail(name, "it holds no image data (no frame header or no scan)")
    return ParsedJpeg(tuple(segments), data[pos:])


def segment_bytes(marker: int, payload: bytes) -> bytes:
    """A marker segment: 0xFF, marker, big-endian length (payload + 2), payload."""
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def orientation_segment(orientation: int) -> bytes:
    """An APP1 EXIF segment holding only IFD0 with one Orientation entry (big-endian TIFF)."""
    # Header MM\0* + IFD at 8; one entry: tag 0x0112, SHORT, count 1, value + pad; next IFD 0.
    tiff = b"MM\0*" + struct.pack(">IHHHIHHI", 8, 1, 0x0112, 3, 1, orientation, 0, 0)
    return segment_bytes(APP1, EXIF_ID + tiff)


def app_kinds(segment: Segment) -> tuple[str, ...]:
    """The kinds of metadata an APPn or COM segment holds (APP0 JFIF and APP14 Adobe: none)."""
    marker, payload = segment.marker, segment.payload
    if marker == COM:
        return ("comment",)
    if marker == APP0:
        if payload.startswith(b"JFXX\0"):
            return ("jfxx-thumbnail",)
        if payload.startswith(b"JFIF\0") and len(payload) >= 14:
            if payload[12] * payload[13]:
                return ("jfif-thumbnail",)
            return ("other-app-segment",) if len(payload) > 14 else ()  # bytes after the header
        return ("other-app-segment",)
    if marker == APP1 and payload.startswith(EXIF_ID):
        return exif_kinds(read_tiff(payload[len(EXIF_ID):]))
    if marker == APP1 and payload.startswith(XMP_IDS):
        return ("xmp",)
    if marker == APP2 and payload.startswith((b"ICC_PROFILE\0", b"MPF\0")):
        return ("icc",) if payload.startswith(b"ICC_PROFILE\0") else ("mpf",)
    if marker == APP13:
        return ("iptc",)
    if marker == APP14 and payload.startswith(b"Adobe") and len(payload) == _ADOBE_LEN:
        return ()
    return ("other-app-segment",)


def jpeg_orientation(parsed: ParsedJpeg) -> int:
    """The Orientation of the first EXIF block (1..8); 1 when there is none or it is broken."""
    for segment in parsed.segments:
        if segment.marker == APP1 and segment.payload.startswith(EXIF_ID):
            tiff = read_tiff(segment.payload[len(EXIF_ID):])
            return tiff.orientation() if tiff is not None else 1
    return 1


def _clean(segment: Segment, have_jfif: bool) -> bytes:
    """What of `segment` goes into the cleaned file."""
    marker, payload = segment.marker, segment.payload
    if marker == APP0 and not have_jfif and payload.startswith(b"JFIF\0") and len(payload) >= 14:
        return segment_bytes(APP0, payload[:12] + b"\0\0")  # version, units, density; no thumbnail
    if marker == APP14 and not app_kinds(segment):
        return segment.raw  # Adobe's colour transform flag: dropping it changes decoded colours
    if 0xE0 <= marker <= 0xEF or marker == COM:
        return b""
    return segment.raw


def strip_jpeg(data: bytes, name: str) -> Stripped:
    """Remove identifying metadata from a JPEG without re-encoding it.

    Keeps SOI, a plain JFIF APP0 (without its thumbnail), Adobe APP14, the tables,
    frame and scan headers and the scan data byte for byte, and EOI. Drops APP1-APP15
    (EXIF, XMP, ICC, MPF, IPTC), COM, JFXX, and anything after EOI. An Orientation
    other than 1 is put back as a minimal EXIF block right after SOI (and JFIF APP0).

    Raises:
        PhotoError: the JPEG is malformed (see `parse_jpeg`).
    """
    parsed = parse_jpeg(data, name)
    orientation = jpeg_orientation(parsed)
    removed: list[str] = ["trailing-data"] if parsed.trailing else []
    head, body = [b"\xff\xd8"], []
    for segment in parsed.segments:
        kept = _clean(segment, have_jfif=len(head) > 1)
        if segment.marker == APP0 and kept:
            head.append(kept)
        elif kept:
            body.append(kept)
        if 0xE0 <= segment.marker <= 0xEF or segment.marker == COM:
            kinds = app_kinds(segment)
            removed.extend(kinds or (() if kept else ("other-app-segment",)))
    if orientation != 1:
        head.append(orientation_segment(orientation))
    cleaned = b"".join([*head, *body, b"\xff\xd9"])
    return Stripped(cleaned, ordered_kinds(removed), orientation)
