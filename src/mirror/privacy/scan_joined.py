"""Metadata a JPEG spreads over several segments, put together for the scanner, within bounds.

Example::

    joined = JoinedSegments(walk.segments())
    for segment in joined:          # an EXIF block continued in further segments comes as one segment
        ...
    joined.continued                # {where: (segments, bytes, cut short)} of each EXIF block that ran on
    for found in joined.extended(): ...   # what each extended XMP holds, put together by GUID and offset

EXIF: a camera or tool that writes more than a segment holds (64 KiB) continues the TIFF block in the next APP1
segments, each again after "Exif\\0\\0" (and not starting a TIFF header of its own); their offsets count from
the first segment's TIFF header, as if the segments' headers were not there. That is how exiftool joins them
(ExifTool.pm, ProcessJPEG: "File contains multi-segment EXIF"), and so they are read here.

Extended XMP (XMP part 3, 1.1.3.1): a packet too large for one segment is cut into APP1 segments of
"http://ns.adobe.com/xmp/extension/\\0", the GUID of the whole (32 hex digits, the one the main packet names in
xmpNote:HasExtendedXMP), its full length and the chunk's offset (big-endian 32-bit each), then the chunk. Chunks
are put back in the order of their offsets; a gap is closed, an overlap read once, so no offset costs more memory
than the chunks' own bytes. A chunk another replaces at its offset, or one that overlaps an earlier one, is also
read alone (what it holds is then read, as each segment alone was before they were put together). Readers read
only the GUID the main packet names, and only when it is whole; the scan reads every one (the cleaner removes them
all; up to MAX_GUIDS), and says so of the others.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Iterator

from mirror.errors import PhotoError
from mirror.privacy.findings import Found
from mirror.privacy.jpeg import APP1, EXIF_ID, XMP_IDS, Segment
from mirror.privacy.scan_blocks import xmp_properties

MAX_JOINED = 4 << 20  # bytes of one EXIF block put together, and of all extended XMP of a photo
MAX_GUIDS = 256  # extended XMPs of a photo read (a writer makes one); segments of further GUIDs are counted
_TIFF_HEADERS = (b"MM\0*", b"II*\0")
_EXTENSION = XMP_IDS[1]
_CHUNK_AT = len(_EXTENSION) + 32 + 8  # signature, GUID, full length, offset: 75 bytes
_HAS_EXTENDED = re.compile(rb"HasExtendedXMP(?:\s*=\s*[\"']|>)([0-9A-Fa-f]{32})")


def _continues(segment: Segment) -> bool:
    """Whether `segment` carries on the EXIF block before it: an APP1 "Exif" segment that starts no TIFF block."""
    payload = segment.payload
    return (segment.marker == APP1 and payload.startswith(EXIF_ID)
            and payload[len(EXIF_ID):len(EXIF_ID) + 4] not in _TIFF_HEADERS)


class _Held:
    """An EXIF segment and the segments that continue it: the TIFF data joined, at most MAX_JOINED bytes of it
    (the rest only counted)."""

    def __init__(self, first: Segment) -> None:
        self.first, self.end, self.count = first, first.end, 1
        self.payload = bytearray(first.payload[:MAX_JOINED])
        self.size = len(first.payload)  # bytes in all, of the segments' payloads without their later headers

    def add(self, segment: Segment) -> None:
        part = segment.payload[len(EXIF_ID):]
        self.payload += part[:MAX_JOINED - len(self.payload)]
        self.size, self.count, self.end = self.size + len(part), self.count + 1, segment.end


class _Extended:
    """The chunks of one GUID's extended XMP, by offset; their bytes count against a photo's MAX_JOINED."""

    def __init__(self) -> None:
        self.chunks: dict[int, bytes] = {}
        self.replaced: list[bytes] = []  # chunks another at their offset replaced (a different one)
        self.sizes: set[int] = set()  # the full lengths its segments give
        self.parts = 0

    def whole(self) -> bytes:
        """The chunks in the order of their offsets, each gap closed and each overlap read once."""
        out = bytearray()
        end = 0
        for offset in sorted(self.chunks):
            data = self.chunks[offset]
            out += data[max(0, end - offset):]
            end = max(end, offset + len(data))
        return bytes(out)

    def apart(self) -> list[bytes]:
        """The chunks `whole` does not read whole, to be read each alone: those another replaced, and those that
        begin inside an earlier one (what an overlap holds that the earlier chunk does not is read nowhere else)."""
        overlapping, end = [], 0
        for offset in sorted(self.chunks):
            if offset < end:
                overlapping.append(self.chunks[offset])
            end = max(end, offset + len(self.chunks[offset]))
        return self.replaced + overlapping

    def complete(self) -> bool:
        """Whether the chunks follow on from 0 to the one full length all segments give (exiftool reads no other)."""
        if len(self.sizes) != 1:
            return False
        (size,) = self.sizes
        at = 0
        while at < size and at in self.chunks and self.chunks[at]:
            at += len(self.chunks[at])
        return at == size


class JoinedSegments:
    """The segments of a JPEG walk, with each EXIF block that runs on into further segments as one segment, and
    the extended XMP segments held back to be read together (`extended`).

    Args:
        segments: the walk's segments, in file order.
    """

    def __init__(self, segments: Iterable[Segment]) -> None:
        self._segments = segments
        # each joined EXIF block by where it starts: (segments, bytes of TIFF data, whether it was cut short)
        self.continued: dict[int, tuple[int, int, bool]] = {}
        self._extended: dict[bytes, _Extended] = {}
        self._named: set[bytes] = set()  # the GUIDs main XMP packets name
        self._budget = MAX_JOINED  # bytes of extended XMP still held
        self._unread = 0  # segments of GUIDs past MAX_GUIDS

    def __iter__(self) -> Iterator[Segment]:
        held: _Held | None = None  # an EXIF segment the next one may continue, and those that did
        try:
            for segment in self._segments:
                if held is not None and _continues(segment):
                    held.add(segment)
                    continue
                if held is not None:
                    yield self._joined(held)
                    held = None
                if segment.marker == APP1 and segment.payload.startswith(EXIF_ID):
                    held = _Held(segment)
                elif segment.marker == APP1 and segment.payload.startswith(_EXTENSION):
                    self._add_extended(segment.payload)
                else:
                    if segment.marker == APP1 and segment.payload.startswith(XMP_IDS[0]):
                        self._named.update(_HAS_EXTENDED.findall(segment.payload))
                    yield segment
        except PhotoError:
            if held is not None:  # what was read before the damage is still reported
                yield self._joined(held)
            raise
        if held is not None:
            yield self._joined(held)

    def _joined(self, held: _Held) -> Segment:
        if held.count == 1:
            return held.first
        self.continued[held.first.start] = (held.count, held.size - len(EXIF_ID), held.size > len(held.payload))
        return Segment(APP1, b"", bytes(held.payload), held.first.start, held.end)

    def _add_extended(self, payload: bytes) -> None:
        guid = payload[len(_EXTENSION):len(_EXTENSION) + 32]
        if guid not in self._extended and len(self._extended) >= MAX_GUIDS:
            self._unread += 1
            return
        extended = self._extended.setdefault(guid, _Extended())
        extended.parts += 1
        if len(payload) < _CHUNK_AT:
            return
        size, offset = struct.unpack_from(">II", payload, _CHUNK_AT - 8)
        chunk = payload[_CHUNK_AT:_CHUNK_AT + self._budget]
        before = extended.chunks.get(offset)
        if before is not None and before != chunk:  # still read, alone: it may hold what the second does not
            extended.replaced.append(before)
        self._budget -= len(chunk) - (len(before) if before == chunk else 0)
        extended.chunks[offset] = chunk  # a second chunk at one offset replaces the first, as exiftool's does
        extended.sizes.add(size)

    def extended(self) -> Iterator[list[Found]]:
        """What each GUID's extended XMP holds, once the segments are read: its properties, as a packet's."""
        for guid, extended in self._extended.items():
            whole = extended.whole()
            count, found = xmp_properties(whole, MAX_JOINED)
            for chunk in extended.apart():
                found += xmp_properties(chunk, MAX_JOINED)[1]
            found = list(dict.fromkeys(found))
            detail = f"extended XMP in {extended.parts} segment(s), {count} properties, {len(whole)} bytes"
            named, complete = not self._named or guid in self._named, extended.complete()
            why = ("" if named and complete else "a chunk is missing" if named
                   else "not the one the main XMP names" if complete
                   else "a chunk is missing, and not the one the main XMP names")
            yield [("xmp", detail + (f" (readers skip it: {why})" if why else "")), *found]
        if self._unread:
            yield [("xmp", f"{self._unread} more extended XMP segment(s) of further GUIDs, not read")]
