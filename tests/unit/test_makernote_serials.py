"""Motorola's and Ricoh's maker-note serial numbers are named (helper-172).

The notes are built in the layouts of exiftool's own sample images (t/images/Motorola.jpg: "MOT\\0", a
big-endian IFD at 8 whose offsets count from the note; Ricoh.jpg, a Caplio Pro G3: "Ricoh", a big-endian IFD at 8
whose offsets count from the EXIF block), and exiftool reads each back as the serial it is.
"""

from __future__ import annotations

import struct

import pytest

import photo_fixtures as fx
from helpers import exiftool
from mirror.privacy.scan import scan_photo

MOTOROLA_SERIAL = "ZY2238TJ4V"
RICOH_SERIAL = bytes.fromhex("00000000000000012207000003100957")




def _jpeg(make: str, note: bytes) -> bytes:
    return fx.exif_jpeg(fx.build_tiff([fx.ascii_entry(0x010F, make)], [(0x927C, fx.UNDEFINED, len(note), note)],
                                      [], None))


def motorola_jpeg(serial: str) -> bytes:
    text = serial.encode() + b"\0"
    entries = [(0x5500, fx.ASCII, 5, b"MPJ2\0"), (0x5501, fx.ASCII, len(text), text),
               (0x5502, 1, 1, b"\x01")]
    return _jpeg("motorola", b"MOT\0\x01\x01\x01\x01" + fx.ifd(entries, 8, ">"))


def ricoh_jpeg(serial: bytes) -> bytes:
    """Ricoh's offsets count from the EXIF block: the note is placed, then its offsets are set."""
    entries = [(0x0001, fx.UNDEFINED, 4, b"Rdc\0"), (0x0002, fx.UNDEFINED, 4, b"0104"),
               (0x0005, fx.UNDEFINED, len(serial), serial)]
    note = b"Ricoh\0\0\0" + fx.ifd(entries, 8, ">")
    tiff = fx.build_tiff([fx.ascii_entry(0x010F, "RICOH")], [(0x927C, fx.UNDEFINED, len(note), note)], [], None)
    at = tiff.index(note)
    note = b"Ricoh\0\0\0" + fx.ifd(entries, at + 8, ">")  # the same length: only its offsets change
    return fx.exif_jpeg(tiff[:at] + note + tiff[at + len(note):])


@pytest.mark.parametrize(("photo", "detail", "tag", "shown"), [
    (motorola_jpeg(MOTOROLA_SERIAL), f"maker-note SerialNumber {MOTOROLA_SERIAL}", "Motorola:SerialNumber",
     MOTOROLA_SERIAL),
    (ricoh_jpeg(RICOH_SERIAL), f"maker-note SerialNumber 0x{RICOH_SERIAL.hex()}", "Ricoh:InternalSerialNumber",
     RICOH_SERIAL.hex()),
])
def test_maker_note_serials_of_motorola_and_ricoh_are_named(photo: bytes, detail: str, tag: str,
                                                            shown: str) -> None:
    """These were only "maker notes, N bytes (may hold a serial number)"; exiftool names the serial."""
    assert exiftool(photo).get(tag) == shown
    found = [(f.kind, f.detail) for f in scan_photo(photo, "a.jpg")]
    assert ("serial", detail) in found, found


def test_a_ricoh_note_of_pentax_layout_is_not_read_as_ricoh_s() -> None:
    """"RICOH\\0II" (a GR III) is Pentax's layout, whose tag 5 is no serial: said as maker notes, by size."""
    note = b"RICOH\0II" + struct.pack("<H", 3) + bytes(12 * 3 + 4)
    found = [(f.kind, f.detail) for f in scan_photo(_jpeg("RICOH IMAGING COMPANY, LTD.", note), "a.jpg")]
    assert not any(kind == "serial" for kind, _ in found), found
    assert any(kind == "makernote" for kind, _ in found), found


def moved_canon_jpeg(owner: str, moved: int, offsets_updated: bool = False) -> bytes:
    """A Canon photo whose maker note an editor moved `moved` bytes on: the note's own offsets, and the TIFF
    footer Canon ends it with ("II*\\0", then where the note was), still say where it was; unless
    `offsets_updated`, as Picasa and ACDSee write it (the offsets changed, the footer not)."""
    text = owner.encode() + b"\0"
    note = struct.pack("<HHHI", 1, 0x0009, fx.ASCII, len(text)) + bytes(4) + struct.pack("<I", 0) + text
    note += b"II*\0" + bytes(4)
    tiff = fx.camera_tiff(orientation=1, thumbnail=False, makernote=note, make="Canon")
    at = tiff.index(note)
    value_at = at + 18 if offsets_updated else at + 18 - moved
    note = note[:10] + struct.pack("<I", value_at) + note[14:-4] + struct.pack("<I", at - moved)
    return fx.exif_jpeg(tiff[:at] + note + tiff[at + len(note):])


@pytest.mark.parametrize("offsets_updated", [False, True])
def test_a_canon_maker_note_an_editor_moved_is_read_where_its_footer_says(offsets_updated: bool) -> None:
    """Canon's maker note ends with a TIFF footer that says where the note was written; an editor that moves the
    note leaves its offsets as they were, and exiftool reads its values that much further on ("Adjusted
    MakerNotes base"). Scan read them where the offsets point, so a Rebel T3i's InternalSerialNumber (a photo of
    metadata-extractor-images) was never named, and its OwnerName of NULs was said to be unreadable."""
    photo = moved_canon_jpeg("PLANTED Aigerim", 64, offsets_updated)
    assert exiftool(photo).get("Canon:OwnerName") == "PLANTED Aigerim"
    found = [(f.kind, f.detail) for f in scan_photo(photo, "a.jpg")]
    assert ("owner", "maker-note OwnerName PLANTED Aigerim") in found, found


def test_a_canon_lens_serial_number_is_named() -> None:
    """Canon's LensInfo (0x4019) begins with the lens's serial number, 5 bytes exiftool shows in hex (a Rebel T3i's
    000027ced3 in metadata-extractor-images); scan named only the body's. A lens of no serial (all zeros) is
    none."""
    def tiff(body: bytes) -> bytes:
        return fx.build_tiff([fx.ascii_entry(0x010F, "Canon")], [(0x927C, fx.UNDEFINED, len(body), body)], [], None)

    def jpeg(serial: bytes) -> bytes:
        lens = serial + bytes(25)
        first = fx.ifd([(0x4019, fx.UNDEFINED, len(lens), lens)], 0)
        return fx.exif_jpeg(tiff(fx.ifd([(0x4019, fx.UNDEFINED, len(lens), lens)], tiff(first).index(first))))

    photo = jpeg(bytes.fromhex("000027ced3"))
    assert exiftool(photo).get("Canon:LensSerialNumber") == "000027ced3"
    found = [(f.kind, f.detail) for f in scan_photo(photo, "a.jpg")]
    assert ("serial", "maker-note LensSerialNumber 0x000027ced3") in found, found
    found = [(f.kind, f.detail) for f in scan_photo(jpeg(bytes(5)), "a.jpg")]
    assert not any(kind == "serial" for kind, _ in found), found
