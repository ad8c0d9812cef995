"""Metadata spread over several JPEG segments is read joined, within bounds; XMP's reading stays linear.

EXIF that runs on into further APP1 "Exif" segments is joined as exiftool joins it (ExifTool.pm, ProcessJPEG:
consecutive segments, each after its header); extended XMP (XMP part 3, 1.1.3.1) is put together by GUID and
offset. The photos are built by hand and exiftool reads each planted value back before the scan is asked.
"""

from __future__ import annotations

import hashlib
import struct
import time

import pytest

import photo_fixtures as fx
from helpers import assert_linear, exiftool
from mirror.privacy.findings import Finding
from mirror.privacy.scan import scan_photo, scan_photo_chunks
from mirror.privacy.scan_blocks import scan_xmp
from mirror.privacy.strip import strip_photo


def kinds_and_details(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(finding.kind, finding.detail) for finding in findings}


@pytest.mark.parametrize("unit", ["a", "a:", "<a:a ", "<", "a:a="])
def test_reading_xmp_costs_time_in_step_with_its_length(unit: str) -> None:
    """A name pattern tried at every letter of a run of them cost the square of the run's length: 64 KiB of "a" in
    one XMP segment held a scan 10 s, a PNG's 1 MiB packet hours."""
    assert_linear(lambda text: scan_xmp(text.encode()), unit)


def test_a_named_value_of_angle_brackets_costs_no_more_than_one_of_spaces() -> None:
    """A value's tags are taken out to show its text: a "<" was tried to the value's end (4,000 bytes) for each
    "<" in it, so 80 values of them took 1.4 s where as many of spaces take 0.01 s."""
    def timed(fill: bytes) -> float:
        packet = (b"<dc:creator>" + fill * 3980 + b"</dc:creator>") * 80
        start = time.perf_counter()
        scan_xmp(packet)
        return time.perf_counter() - start

    brackets = spaces = float("inf")
    for _ in range(3):
        brackets, spaces = min(brackets, timed(b"<")), min(spaces, timed(b" "))
    assert brackets < 10 * spaces + 0.05, (brackets, spaces)


@pytest.mark.parametrize("shape", [b"<dc:creator>" * 320 + b"</dc:creator>", b"<dc:creator>x"])
def test_elements_nested_in_their_own_name_or_never_closed_cost_no_more_than_closed_ones(shape: bytes) -> None:
    """Each opening's value was read to its closing tag or 4,000 bytes on: 320 openings of one name inside each
    other were each read (12 times the time of as many closed ones), as was each of a run never closed."""
    def timed(unit: bytes) -> float:
        packet = unit * (250_000 // len(unit))
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            scan_xmp(packet)
            best = min(best, time.perf_counter() - start)
        return best

    assert timed(shape) < 4 * timed(b"<dc:creator>x</dc:creator>") + 0.02


def _far_tiff(pad: int = 70_000) -> bytes:
    """A TIFF block whose IFD0 is at its start but whose Artist, EXIF and GPS directories lie past `pad` bytes of
    another tag's value: past the first segment."""
    ifd0 = [fx.ascii_entry(0x010F, "Canon"), (0x0120, fx.UNDEFINED, pad, bytes(pad)), fx.short_entry(0x0112, 6),
            fx.ascii_entry(0x013B, fx.ARTIST)]
    exif = [fx.ascii_entry(0xA430, fx.OWNER), fx.ascii_entry(0xA431, fx.SERIAL)]
    gps = [fx.ascii_entry(1, "N"), fx.rational_entry(2, *fx.LAT), fx.ascii_entry(3, "E"), fx.rational_entry(4, *fx.LON)]
    return fx.build_tiff(ifd0, exif, gps, None)


def _exiftool_metadata(data: bytes) -> dict[str, object]:
    return {key: value for key, value in exiftool(data).items() if key.split(":")[0] in _METADATA_GROUPS}


_METADATA_GROUPS = {"IFD0", "ExifIFD", "GPS", "IFD1", "XMP-dc", "XMP-photoshop", "XMP-aux", "XMP-xmpNote", "XMP-x"}


@pytest.mark.parametrize("first", [65533, 300])
def test_exif_continued_in_further_segments_is_read_joined_and_cleaned_away(first: int) -> None:
    """The EXIF block's Artist, owner, serial and GPS lie in a second (or third) APP1 segment: exiftool reads them
    ("multi-segment EXIF"); the scan named only Make, "a GPS directory pointer" and "unreadable EXIF block"."""
    data = fx.splice(fx.plain_jpeg(), fx.split_exif(_far_tiff(), first))
    read = exiftool(data)
    assert "multi-segment EXIF" in str(read.get("ExifTool:Warning"))
    assert (read["IFD0:Artist"], read["ExifIFD:OwnerName"], read["ExifIFD:SerialNumber"]) == (
        fx.ARTIST, fx.OWNER, fx.SERIAL)
    found = kinds_and_details(scan_photo(data, "a.jpg"))
    segments = 2 if first == 65533 else 3
    assert ("exif", f"an EXIF block continued over {segments} APP1 segments, {len(_far_tiff()):,} bytes") in found
    assert {("owner", f"Artist {fx.ARTIST}"), ("owner", f"CameraOwnerName {fx.OWNER}"),
            ("serial", f"BodySerialNumber {fx.SERIAL}"), ("gps", "43.23861 N, 76.94583 E")} <= found
    assert not [detail for _, detail in found if "unreadable" in detail or "pointer" in detail]
    cleaned = strip_photo(data, "a.jpg")
    assert cleaned.orientation == 6
    assert _exiftool_metadata(cleaned.data) == {"IFD0:Orientation": "Rotate 90 CW"}
    assert [(f.kind, f.detail) for f in scan_photo(cleaned.data, "a.jpg")] == []


def test_a_joined_exif_block_is_cut_at_its_bound() -> None:
    """A hundred segments that each continue the block (6 MiB): 4 MiB of it is held and read, the rest counted,
    and the scan still ends in bounded time."""
    data = fx.splice(fx.plain_jpeg(), fx.split_exif(_far_tiff() + bytes(100 * 65_527)))
    start = time.perf_counter()
    found = kinds_and_details(scan_photo(data, "a.jpg"))
    assert time.perf_counter() - start < 5
    assert ("owner", f"Artist {fx.ARTIST}") in found
    assert any(detail.startswith("an EXIF block continued over 102 APP1 segments") and
               detail.endswith("its first 4 MiB read") for _, detail in found)


def test_a_joined_exif_block_before_damage_is_still_reported() -> None:
    """The file ends inside its image data: the joined block, read before, is reported with the problem."""
    data = fx.splice(fx.plain_jpeg(), fx.split_exif(_far_tiff()))
    result = scan_photo_chunks([data[:-40]], "a.jpg")
    assert result.problem is not None
    assert ("owner", f"CameraOwnerName {fx.OWNER}") in kinds_and_details(result.findings)
    second = data.index(b"\xff\xe1" + struct.pack(">H", len(_far_tiff()) + 6 - 65533 + 2 + 6))
    cut = scan_photo_chunks([data[:second + 2000]], "a.jpg")  # ends inside the second segment: the first is read
    assert cut.problem is not None and ("make", "Make Canon") in kinds_and_details(cut.findings)


def _main_xmp(guid: bytes) -> bytes:
    return fx.segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:xmpNote="http://ns.adobe.com/xmp/note/" '
        f'xmpNote:HasExtendedXMP="{guid.decode()}"/></rdf:RDF></x:xmpmeta>').encode())


def _extended_xmp(pad: int) -> bytes:
    """An XMP packet whose dc:creator and photoshop:City follow `pad` bytes of a description."""
    return ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/">'
            f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{"x" * pad}</rdf:li></rdf:Alt></dc:description>'
            f'<dc:creator><rdf:Seq><rdf:li>{fx.CREATOR}</rdf:li></rdf:Seq></dc:creator>'
            '<photoshop:City>PLANTED-City</photoshop:City></rdf:Description></rdf:RDF></x:xmpmeta>').encode()


def test_extended_xmp_is_put_together_by_offset_and_cleaned_away() -> None:
    """dc:creator is cut between two chunks, written in reverse order: each chunk was read alone, and the name in
    neither; exiftool puts them together by offset."""
    packet = _extended_xmp(60_000)
    guid = hashlib.md5(packet).hexdigest().upper().encode()  # noqa: S324 - XMP's own choice of GUID
    cut = packet.index(fx.CREATOR.encode()) + 5
    data = fx.splice(fx.plain_jpeg(), _main_xmp(guid) + b"".join(reversed(fx.extended_xmp(packet, guid, [cut]))))
    read = exiftool(data)
    assert (read["XMP-dc:Creator"], read["XMP-photoshop:City"]) == (fx.CREATOR, "PLANTED-City")
    found = kinds_and_details(scan_photo(data, "a.jpg"))
    assert {("owner", f"XMP dc:creator {fx.CREATOR}"), ("place", "XMP photoshop:City PLANTED-City"),
            ("xmp", f"extended XMP in 2 segment(s), 3 properties, {len(packet)} bytes"),
            ("text", "XMP dc:description " + "x" * 60 + "…")} <= found  # 60,000 bytes long: its start
    cleaned = strip_photo(data, "a.jpg").data
    assert _exiftool_metadata(cleaned) == {}
    assert scan_photo(cleaned, "a.jpg") == []


def test_extended_xmp_readers_skip_is_said_so() -> None:
    """A GUID the main packet does not name, and one with a chunk missing: readers skip both, the scan reads both
    (the cleaner removes them) and says that readers skip them."""
    packet = _extended_xmp(100)
    named, other = b"A" * 32, b"B" * 32
    data = fx.splice(fx.plain_jpeg(), _main_xmp(named) + fx.extended_xmp(packet, named, [200])[1]
                     + b"".join(fx.extended_xmp(packet, other, [])))
    found = kinds_and_details(scan_photo(data, "a.jpg"))
    assert ("xmp", f"extended XMP in 1 segment(s), 3 properties, {len(packet) - 200} bytes (readers skip it: a "
                   "chunk is missing)") in found
    assert ("xmp", f"extended XMP in 1 segment(s), 3 properties, {len(packet)} bytes (readers skip it: not the "
                   "one the main XMP names)") in found
    assert [kind for kind, detail in found if fx.CREATOR in detail] == ["owner"]


def test_extended_xmp_chunks_that_overlap_repeat_or_lie_far_off_cost_only_their_bytes() -> None:
    """Offsets and lengths are the writer's word: overlapping and repeated chunks are read once, a chunk 4 GB on
    costs its own bytes, and 300 GUIDs of 60 KiB each (18 MB) are read within the bound, in bounded time."""
    packet = _extended_xmp(1000)
    at = packet.index(fx.CREATOR.encode())
    guid = b"C" * 32
    pieces = [(0, packet[:at + 4]), (at, packet[at:at + 30]), (at, packet[at:at + 30]), (at + 20, packet[at + 20:]),
              (0xFFFF_FF00, b"<photoshop:City>PLANTED-Far</photoshop:City>")]
    chunks = [fx.segment(0xE1, fx.XMP_EXTENSION + guid + struct.pack(">II", 0xFFFF_FFFF, offset) + piece)
              for offset, piece in pieces]
    noise = [fx.segment(0xE1, fx.XMP_EXTENSION + b"%032d" % n + struct.pack(">II", 0xFFFF_FFFF, 0xFFFF_0000 - n)
                        + b"a:a=" * 15_000) for n in range(300)]
    data = fx.splice(fx.plain_jpeg(), b"".join(chunks + noise))
    start = time.perf_counter()
    result = scan_photo_chunks([data], "a.jpg")
    assert time.perf_counter() - start < 10
    found = kinds_and_details(result.findings)
    assert {("owner", f"XMP dc:creator {fx.CREATOR}"), ("place", "XMP photoshop:City PLANTED-Far")} <= found
    assert ("xmp", f"extended XMP in 5 segment(s), 3 properties, {len(packet) + 44} bytes (readers skip it: a "
                   "chunk is missing)") in found
    held = [f.detail for f in result.findings if ", 0 properties, 60000 bytes (" in f.detail]
    assert len(held) > 50  # the budget held the first GUIDs' chunks whole, then less, then nothing


@pytest.mark.parametrize("second_at", [0, 10])
def test_what_a_replaced_or_overlapping_extended_xmp_chunk_holds_is_read(second_at: int) -> None:
    """A second chunk at one offset replaces the first, and an overlap is read once from the earlier chunk, as
    readers put them together: a creator in the replaced chunk, or in the overlap of the later one, went unread,
    though each segment alone was read before they were put together."""
    guid = b"D" * 32
    named = f"<dc:creator>{fx.CREATOR}</dc:creator>".encode()
    pieces = [(0, named), (second_at, b"<dc:format>image/jpeg</dc:format>" + b" " * 40)] if second_at == 0 \
        else [(0, b"<x:x>" + b" " * 75), (second_at, named + b" " * 60)]
    chunks = [fx.segment(0xE1, fx.XMP_EXTENSION + guid + struct.pack(">II", 200, offset) + piece)
              for offset, piece in pieces]
    found = kinds_and_details(scan_photo(fx.splice(fx.plain_jpeg(), _main_xmp(guid) + b"".join(chunks)), "a.jpg"))
    assert ("owner", f"XMP dc:creator {fx.CREATOR}") in found


def test_a_value_past_the_first_bytes_of_an_unclosed_one_of_its_name_is_read() -> None:
    """A second dc:creator within 4,000 bytes of one never closed was taken for part of the first, read already,
    and left unread; the first's value was read only to its 4,000th byte, before the name."""
    packet = (b"<x:xmpmeta><rdf:Description><dc:creator>" + b" " * 3978 + b"<dc:creator><rdf:Seq>   <rdf:li>"
              + fx.CREATOR.encode() + b"</rdf:li></rdf:Seq></dc:creator></rdf:Description></x:xmpmeta>")
    assert ("owner", f"XMP dc:creator {fx.CREATOR}") in scan_xmp(packet)
