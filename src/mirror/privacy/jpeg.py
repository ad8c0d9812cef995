"""Lossless JPEG cleaning: drop metadata segments, copy the compressed image data as it is.

Example::

    stripped = strip_jpeg(raw, "photos/a.jpg")
    stripped.removed        # ("exif", "gps", "exif-thumbnail", "comment", "trailing-data")
    stripped.orientation    # 6: a minimal EXIF block with only Orientation was put back

    parsed = parse_jpeg(raw, "photos/a.jpg")   # the segments, for tests and tools
    walk = JpegWalk(Cursor.of_chunks(chunks), "a.jpg", keep_scans=False)
    for segment in walk.segments(): ...        # the scanner: any size, bounded memory

The walk follows ITU-T T.81 annex B: SOI first; every marker segment's length is
checked against the data; TEM and RSTn stand alone; after SOS the entropy-coded
data runs to the first marker that is neither RSTn nor 0xFF00 stuffing; tables
(DHT, DQT, DRI) may sit between the scans of a progressive image; EOI ends it.
Bytes between two segments that are not a marker are skipped, exactly as
libjpeg's next_marker() skips them (Photoshop and some dashcams write such
bytes); the cleaner leaves them out and says so. Nothing is decoded or
re-encoded, so the pixels cannot change.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator

from mirror.errors import PhotoError
from mirror.privacy.cursor import TRAILING_KEPT, Cursor
from mirror.privacy.exif import Stripped, exif_kinds, follow, ordered_kinds, read_tiff, xmp_orientation
from mirror.privacy.icc import shifts_colours, standard_icc
from mirror.record import record

SOI, EOI, SOS, COM, APP0, APP1, APP2, APP13, APP14 = 0xD8, 0xD9, 0xDA, 0xFE, 0xE0, 0xE1, 0xE2, 0xED, 0xEE
EXIF_ID = b"Exif\0\0"
ICC_ID = b"ICC_PROFILE\0"  # then the segment's number and the count, from 1 (ICC.1, annex B.4)
XMP_IDS = (b"http://ns.adobe.com/xap/1.0/\0", b"http://ns.adobe.com/xmp/extension/\0")
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0-RST7
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # SOF0-SOF15 without DHT, JPG, DAC
_TABLES = frozenset({0xC4, 0xCC, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF})  # DHT DAC DQT DNL DRI DHP EXP
_WITH_LENGTH = _SOF | _TABLES | {SOS, COM} | frozenset(range(0xE0, 0xF0))
# In entropy-coded data, 0xFF followed by anything but 0x00 (stuffing), RST0-RST7 or another 0xFF (fill) ends it.
_MARKER_IN_SCAN = re.compile(rb"\xff(?=[^\x00\xd0-\xd7\xff])")
_NOT_FILL = re.compile(rb"[^\xff]")
# Segments (and runs of bytes between them) a JPEG may have: cameras write tens; a 4 GB file of 64 KiB segments has
# 65,536. A crafted file of millions of empty ones (2 bytes each) would cost time and memory for each.
MAX_SEGMENTS = 65_536
# "Adobe", version, flags0, flags1, transform (Adobe TN 5116, section 18): all that libjpeg reads of APP14.
ADOBE_LEN = 12
REPAIR_HINT = "open it in an image editor and save it again as JPEG, then check it with mirror scan"
UNSHOWN_HINT = "leave it out (the people it is for could not see it), or save it as JPEG in an editor that opens it"


@record
class Segment:
    """One marker and what belongs to it.

    Attributes:
        marker: the second byte of the marker (0xE1 for APP1).
        raw: the bytes as stored: marker, length and payload; for SOS also the scan data (unless a
            walk leaves the scan data out).
        payload: the bytes after the length field (empty for standalone markers).
    """

    marker: int
    raw: bytes
    payload: bytes
    start: int = 0  # where it begins in the file (its 0xFF)
    end: int = 0  # the offset just past it (for SOS: past its scan data, whether raw holds that data or not)


@record
class ParsedJpeg:
    """A JPEG as a sequence of segments (SOI and EOI left out), and what lay around them.

    Attributes:
        segments: the segments in file order.
        trailing: how many bytes follow EOI.
        trailing_head: the first of those bytes (to tell what they are).
        stray: how many bytes between segments were not part of any segment.
    """

    segments: tuple[Segment, ...]
    trailing: int
    trailing_head: bytes = b""
    stray: int = 0


def _fail(name: str, reason: str) -> PhotoError:
    return PhotoError(name, f"not a valid JPEG: {reason}", hint=REPAIR_HINT)


class JpegWalk:
    """One pass over a JPEG's segments.

    Args:
        cursor: the data.
        name: the photo's name, for messages.
        keep_scans: keep each scan's entropy-coded data in its SOS segment (the cleaner needs it;
            the scanner does not, and then holds at most one segment, 64 KiB, at a time).
    """

    def __init__(self, cursor: Cursor, name: str, keep_scans: bool = True) -> None:
        self.cursor, self.name, self.keep_scans = cursor, name, keep_scans
        self.trailing, self.trailing_head, self.stray = 0, b"", 0
        self.count = 0  # segments and stray runs met so far, at most MAX_SEGMENTS

    def _counted(self, at: int) -> None:
        self.count += 1
        if self.count > MAX_SEGMENTS:
            raise _fail(self.name, f"more than {MAX_SEGMENTS:,} segments by byte {at:,}, far more than any camera or "
                                   "editor writes")

    def _marker(self, pos: int) -> tuple[int, int]:
        """The next marker at or after `pos` and the offset past it, skipping what libjpeg skips."""
        data = self.cursor
        while True:
            found = data.find(0xFF, pos)
            if found < 0:
                raise _fail(self.name, "the file ends before the end-of-image marker (truncated?)")
            self.stray += found - pos
            pos = data.search(_NOT_FILL, found)  # fill bytes (any number of 0xFF) before the marker's own byte
            follower = data.byte(pos) if pos >= 0 else None
            if follower is None:
                raise _fail(self.name, "the file ends inside a marker (truncated?)")
            if follower != 0:
                return follower, pos + 1
            self.stray += pos + 1 - found  # 0xFF00 outside image data: libjpeg discards it too
            self._counted(found)
            pos += 1

    def _payload(self, pos: int, marker: int) -> bytes:
        head = self.cursor.take(pos, pos + 2)
        if len(head) < 2:
            raise _fail(self.name, f"segment 0x{marker:02X} at byte {pos - 2} is truncated")
        (length,) = struct.unpack(">H", head)
        payload = self.cursor.take(pos + 2, pos + length)
        if length < 2 or len(payload) != length - 2:
            raise _fail(self.name, f"segment 0x{marker:02X} at byte {pos - 2} has length {length}, "
                                   "which runs past the end of the file")
        return payload

    def _scan_end(self, pos: int) -> int:
        """Where the entropy-coded data that starts at `pos` ends: at the next real marker (the last 0xFF before
        it, when fill bytes precede it). Stuffed 0xFF00 and restart markers are still scan data."""
        found = self.cursor.search(_MARKER_IN_SCAN, pos)
        if found < 0:
            raise _fail(self.name, "the image data ends without an end-of-image marker (truncated?)")
        return found

    def _check_header(self, marker: int, payload: bytes, at: int) -> None:
        """SOF: Nf components of 3 bytes after 6; SOS: Ns components of 2 bytes after 1, then 3."""
        if marker in _SOF:
            count = payload[5] if len(payload) > 5 else 0
            if count == 0 or len(payload) != 6 + 3 * count:
                raise _fail(self.name, f"malformed frame header at byte {at}")
            if payload[1:3] == b"\0\0":  # given later by a DNL marker, which libjpeg, browsers and Pillow ignore
                raise PhotoError(self.name, f"the frame header at byte {at} gives a height of 0 (as when the height "
                                            "is left to a DNL marker), which most viewers cannot show",
                                 hint=UNSHOWN_HINT)
            if payload[3:5] == b"\0\0":
                raise PhotoError(self.name, f"the frame header at byte {at} gives a width of 0, which no viewer "
                                            "can show", hint=UNSHOWN_HINT)
        elif marker == SOS:
            count = payload[0] if payload else 0
            if not 1 <= count <= 4 or len(payload) != 4 + 2 * count:
                raise _fail(self.name, f"malformed scan header at byte {at}")

    def segments(self) -> Iterator[Segment]:
        """Every segment from SOI to EOI; afterwards `trailing` and `stray` are set.

        Raises:
            PhotoError: no SOI, an unknown marker, a length past the end, a scan before any
                frame header, no scan at all, or no EOI.
        """
        if self.cursor.take(0, 2) != b"\xff\xd8":
            raise _fail(self.name, "it does not start with a start-of-image marker")
        pos, frame, scans = 2, False, 0
        while True:
            at = pos
            marker, pos = self._marker(pos)
            if marker == EOI:
                break
            self._counted(at)
            if marker in _STANDALONE:
                yield Segment(marker, bytes((0xFF, marker)), b"", pos - 2, pos)
                continue
            if marker not in _WITH_LENGTH:
                raise _fail(self.name, f"unexpected marker 0xFF{marker:02X} at byte {at}")
            payload = self._payload(pos, marker)
            self._check_header(marker, payload, at)
            start, pos = pos - 2, pos + 2 + len(payload)
            if marker in _SOF and frame:  # baseline and progressive JPEG have one frame; a second one is a picture
                raise _fail(self.name, f"a second frame header at byte {at}: a second picture inside the file, "
                                       "which decoders do not show")
            frame = frame or marker in _SOF
            if marker == SOS:
                if not frame:
                    raise _fail(self.name, f"image data at byte {at} comes before any frame header")
                header_end, pos, scans = pos, self._scan_end(pos), scans + 1
                raw = self.cursor.take(start, pos if self.keep_scans else header_end)
            else:
                raw = self.cursor.take(start, pos)
            self.cursor.release(pos)
            yield Segment(marker, raw, payload, start, pos)
        if not scans:
            raise _fail(self.name, "it holds no image data (no frame header or no scan)")
        self.trailing, self.trailing_head = self.cursor.skip_to_end(pos, TRAILING_KEPT)


def parse_jpeg(data: bytes, name: str) -> ParsedJpeg:
    """Walk the marker segments of a JPEG in memory strictly, without decoding anything.

    Raises:
        PhotoError: see `JpegWalk.segments`.
    """
    walk = JpegWalk(Cursor(data), name)
    segments = tuple(walk.segments())
    return ParsedJpeg(segments, walk.trailing, walk.trailing_head, walk.stray)


def segment_bytes(marker: int, payload: bytes) -> bytes:
    """A marker segment: 0xFF, marker, big-endian length (payload + 2), payload."""
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def orientation_segment(orientation: int) -> bytes:
    """An APP1 EXIF segment holding only IFD0 with one Orientation entry (big-endian TIFF)."""
    return segment_bytes(APP1, EXIF_ID + orientation_tiff(orientation))


def orientation_tiff(orientation: int) -> bytes:
    """A TIFF block holding only IFD0 with one Orientation entry (big-endian)."""
    # Header MM\0* + IFD at 8; one entry: tag 0x0112, SHORT, count 1, value + pad; next IFD 0.
    return b"MM\0*" + struct.pack(">IHHHIHHI", 8, 1, 0x0112, 3, 1, orientation, 0, 0)


def icc_number(payload: bytes) -> tuple[int, int]:
    """An ICC_PROFILE segment's (sequence, count); (0, 0), which no profile is kept with, when it is too short."""
    return (payload[12], payload[13]) if len(payload) >= 14 else (0, 0)


def is_adobe(segment: Segment) -> bool:
    """Whether `segment` is Adobe's APP14 (colour transform), whatever its length."""
    return segment.marker == APP14 and segment.payload.startswith(b"Adobe")


def app_kinds(segment: Segment) -> tuple[str, ...]:
    """The kinds of metadata an APPn or COM segment holds; () when the cleaner keeps all it carries."""
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
    if marker == APP2 and payload.startswith((ICC_ID, b"MPF\0")):
        return ("icc",) if payload.startswith(ICC_ID) else ("mpf",)
    if marker == APP13:
        return ("iptc",)
    if is_adobe(segment):
        return ("other-app-segment",) if len(payload) > ADOBE_LEN else ()  # bytes libjpeg never reads
    return ("other-app-segment",)


def jpeg_orientation(segments: tuple[Segment, ...]) -> int:
    """The orientation a viewer applies: that of the first EXIF block that has one, else XMP's
    tiff:Orientation; 1 if none.

    Browsers (Blink's JPEG decoder) and exiftool take the first EXIF block holding an Orientation tag, Pillow the
    first EXIF block's; they agree but for a photo whose first block has none and a later one has, where the
    orientation a browser shows is kept. XMP counts only when no EXIF block has an Orientation tag (Pillow's
    rule, Image.getexif).
    """
    stored = None
    for exif in (s.payload for s in segments if s.marker == APP1 and s.payload.startswith(EXIF_ID)):
        tiff = read_tiff(exif[len(EXIF_ID):])
        stored = tiff.orientation_tag() if tiff is not None else None
        if stored is not None:
            break
    if stored is None:
        stored = next((xmp_orientation(s.payload) for s in segments
                       if s.marker == APP1 and s.payload.startswith(XMP_IDS[0])), None)
    return stored if stored is not None and 1 <= stored <= 8 else 1


def _clean(segment: Segment, have_jfif: bool) -> bytes:
    """What of `segment` goes into the cleaned file."""
    marker, payload = segment.marker, segment.payload
    if marker == APP0 and not have_jfif and payload.startswith(b"JFIF\0") and len(payload) >= 14:
        return segment_bytes(APP0, payload[:12] + b"\0\0")  # version, units, density; no thumbnail
    if is_adobe(segment):  # the colour transform: dropping it changes decoded colours
        return segment.raw if len(payload) <= ADOBE_LEN else segment_bytes(APP14, payload[:ADOBE_LEN])
    if 0xE0 <= marker <= 0xEF or marker == COM:
        return b""
    return segment.raw


def strip_jpeg(data: bytes, name: str) -> Stripped:
    """Remove identifying metadata from a JPEG without re-encoding it.

    Keeps SOI, a plain JFIF APP0 (without its thumbnail), Adobe APP14 (the 12 bytes
    libjpeg reads), the tables, frame and scan headers and the scan data byte for
    byte, an ICC profile that is exactly a standard one (privacy/icc.py), and EOI.
    Drops APP1-APP15 (EXIF, XMP, any other ICC, MPF, IPTC), COM, JFXX, bytes
    between segments and anything after EOI. An Orientation other than 1 is put back
    as a minimal EXIF block right after SOI (and JFIF APP0).

    Raises:
        PhotoError: the JPEG is malformed (see `JpegWalk.segments`).
    """
    walk = JpegWalk(Cursor(data), name, keep_scans=False)  # scan data is taken from `data`, not copied twice
    parsed = ParsedJpeg(tuple(walk.segments()), walk.trailing, walk.trailing_head, walk.stray)
    orientation = jpeg_orientation(parsed.segments)
    icc = [s for s in parsed.segments if s.marker == APP2 and s.payload.startswith(ICC_ID)]
    profile = b"".join(s.payload[14:] for s in icc)
    keep_icc = standard_icc([icc_number(s.payload) for s in icc], profile)
    removed: list[str] = ["trailing-data"] if parsed.trailing else []
    head: list[tuple[int, int] | bytes] = [b"\xff\xd8"]
    body: list[tuple[int, int] | bytes] = []
    for segment in parsed.segments:
        if keep_icc and any(segment is each for each in icc):  # a standard colour space, in one segment of
            if segment is icc[0]:  # our own writing: nothing of how it was cut or padded rides along
                body.append(segment_bytes(APP2, ICC_ID + b"\1\1" + profile))
            continue
        kept = _clean(segment, have_jfif=len(head) > 1)
        step: tuple[int, int] | bytes = (segment.start, segment.end) if kept is segment.raw else kept
        if segment.marker == APP0 and kept:
            head.append(step)
        elif kept:
            body.append(step)
        if 0xE0 <= segment.marker <= 0xEF or segment.marker == COM:
            removed.extend(app_kinds(segment))
    if orientation != 1:
        head.append(orientation_segment(orientation))
    notes: tuple[str, ...] = ()
    if parsed.stray:
        removed.append("stray-bytes")
        notes = (f"left out {parsed.stray} stray byte(s) between segments, which decoders skip",)
    recipe = (*head, *body, b"\xff\xd9")
    cleaned = follow(recipe, data)
    colours = (shifts_colours(profile) or "") if icc and not keep_icc else ""
    return Stripped(cleaned, ordered_kinds(removed), orientation, notes, recipe, colours)
