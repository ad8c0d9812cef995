"""Kodak's, Leica's, Reconyx's, Nintendo's and Sony's maker-note serial numbers are named, not only "maker notes".

Each note is built in a layout exiftool's MakerNotes.pm names (with the tag tables of Kodak.pm, Panasonic.pm,
Reconyx.pm, Nintendo.pm and Sony.pm), and exiftool reads each serial back from the photo before the scan is asked.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest

import photo_fixtures as fx
from helpers import exiftool
from mirror.privacy.scan import scan_photo


def _jpeg(make: str, note: Callable[[int], bytes]) -> bytes:
    """A JPEG whose EXIF names `make` and holds the maker note `note(where)`, `where` being the note's place in
    the EXIF block (for notes whose offsets count from it): built once to find it, then again."""
    def tiff(body: bytes) -> bytes:
        return fx.build_tiff([fx.ascii_entry(0x010F, make)], [(0x927C, fx.UNDEFINED, len(body), body)], [], None)

    first = note(0)
    at = tiff(first).index(first)
    return fx.exif_jpeg(tiff(note(at)))


def _block(size: int, *fields: tuple[int, bytes]) -> bytearray:
    out = bytearray(size)
    for at, value in fields:
        out[at:at + len(value)] = value
    return out


def _reconyx_main(where: int) -> bytes:
    return bytes(_block(0x80, (0, b"\x01\xf1\x03\x00"), (0x2A, "H500DE01234567".encode("utf-16-le")),
                        (0x56, b"PLANTED Site 7")))


def _reconyx_type2(where: int) -> bytes:
    return bytes(_block(0x80, (0, b"RECONYXUF\0"), (0x4B, b"UF0123456789AB"), (0x5A, b"PLANTED Site 7")))


def _reconyx_type3(where: int) -> bytes:
    return bytes(_block(0xA0, (0, b"RECONYXH2\0"), (0x68, b"PLANTED Site 7"),
                        (0x7E, "H2F0123456789A".encode("utf-16-le"))))


def _kodak7(where: int) -> bytes:
    return bytes(_block(0x100, (0, b"KCGHL47E1234    ")))


def _kodak8(where: int) -> bytes:
    """A TIFF header, an IFD at 8 whose CameraInfo (0xFF00) points at an IFD with SerialNumber (0xFA04); offsets
    from the note's start."""
    info = fx.ifd([(0xFA04, fx.ASCII, 13, b"KCXYZ1234567\0")], 26)
    return b"II*\0\x08\0\0\0" + fx.ifd([(0xFF00, fx.LONG, 1, struct.pack("<I", 26))], 8) + info


def _leica5(where: int) -> bytes:
    return b"LEICA\0\x01\0" + fx.ifd([(0x0305, fx.LONG, 1, struct.pack("<I", 4512345))], 8)


def _leica2(where: int) -> bytes:
    return b"LEICA\0\0\0" + fx.ifd([(0x0303, fx.LONG, 1, struct.pack("<I", 3123456))], 0)


def _leica_panasonic(where: int) -> bytes:
    return b"LEICA\0\0\0" + fx.ifd([(0x0025, fx.UNDEFINED, 16, b"F101203050123\0\0\0")], where + 8)


def _leica_dlux7(where: int) -> bytes:
    return b"LEICA CAMERA AG\0\0\0" + fx.ifd([(0x0025, fx.UNDEFINED, 16, b"F701903050987\0\0\0")], where + 18)


def _leica3(where: int) -> bytes:
    return fx.ifd([(0x000B, fx.UNDEFINED, 16, b"\0\0\0\x001234567\0\0\0\0\0\0")], where)


def _nintendo(where: int) -> bytes:
    info = bytes(_block(0x30, (0, b"3DS1"), (0x18, b"\x12\x34\xab\xcd")))
    return fx.ifd([(0x1101, fx.UNDEFINED, len(info), info)], where)


def _leica4(where: int) -> bytes:
    """"LEICA0", the IFD at 8 (offsets from the note) whose Subdir3000 holds an IFD with SerialNumber (0x3103)."""
    sub_at = 8 + 2 + 12 + 4  # the subdirectory's bytes follow the main IFD
    sub = fx.ifd([(0x3103, fx.ASCII, 8, b"4812345\0")], sub_at)
    return b"LEICA0\x03\0" + fx.ifd([(0x3000, fx.UNDEFINED, len(sub), sub)], 8)


def _sony(where: int) -> bytes:
    return b"SONY DSC \0\0\0" + fx.ifd([(0x2031, fx.ASCII, 9, b"78563412\0")], where + 12)


@pytest.mark.parametrize(("make", "note", "tag", "value", "detail"), [
    ("Leica Camera AG", _leica4, "Leica:SerialNumber", 4812345, "SerialNumber 4812345"),
    ("SONY", _sony, "Sony:SerialNumber", 12345678, "SerialNumber 78563412"),  # exiftool reverses its digit pairs
    ("RECONYX", _reconyx_main, "Reconyx:SerialNumber", "H500DE01234567", "SerialNumber H500DE01234567"),
    ("RECONYX", _reconyx_type2, "Reconyx:SerialNumber", "UF0123456789AB", "SerialNumber UF0123456789AB"),
    ("RECONYX", _reconyx_type3, "Reconyx:SerialNumber", "H2F0123456789A", "SerialNumber H2F0123456789A"),
    ("EASTMAN KODAK COMPANY", _kodak7, "Kodak:SerialNumber", "KCGHL47E1234", "SerialNumber KCGHL47E1234"),
    ("EASTMAN KODAK COMPANY", _kodak8, "Kodak:SerialNumber", "KCXYZ1234567", "SerialNumber KCXYZ1234567"),
    ("Leica Camera AG", _leica5, "Leica:SerialNumber", 4512345, "SerialNumber 4512345"),
    ("Leica Camera AG", _leica2, "Leica:SerialNumber", 3123456, "SerialNumber 3123456"),
    ("LEICA", _leica_panasonic, "Panasonic:InternalSerialNumber", "(F10) 2012:03:05 no. 0123",
     "InternalSerialNumber F101203050123"),
    ("LEICA CAMERA AG", _leica_dlux7, "Panasonic:InternalSerialNumber", "(F70) 2019:03:05 no. 0987",
     "InternalSerialNumber F701903050987"),
    ("Leica Camera AG", _leica3, "Leica:SerialNumber", 1234567, "SerialNumber 1234567"),
    ("Nintendo", _nintendo, "Nintendo:InternalSerialNumber", "0x1234abcd", "InternalSerialNumber 0x1234abcd"),
])
def test_maker_note_serials_of_kodak_leica_reconyx_and_nintendo_are_named(
        make: str, note: Callable[[int], bytes], tag: str, value: object, detail: str) -> None:
    """These were only "maker notes, N bytes (may hold a serial number)"; exiftool reads the serial from each."""
    photo = _jpeg(make, note)
    read = exiftool(photo)
    assert read.get(tag) == value, {k: v for k, v in read.items() if "Serial" in k or "Maker" in k}
    found = [(f.kind, f.detail) for f in scan_photo(photo, "a.jpg")]
    assert ("serial", f"maker-note {detail}") in found, found
    assert not any(kind == "makernote" for kind, _ in found), found


def test_a_reconyx_user_label_is_listed() -> None:
    """A trail camera's UserLabel (a site's or an owner's name) is listed with its serial."""
    found = [(f.kind, f.detail) for f in scan_photo(_jpeg("RECONYX", _reconyx_main), "a.jpg")]
    assert ("text", "maker-note UserLabel PLANTED Site 7") in found, found


def test_a_leica_note_of_a_layout_without_a_serial_is_said_by_size() -> None:
    """A Leica M10's note ("LEICA\\0\\x02\\0", no serial in its table) is not read as an R8's: maker notes, by size."""
    note = b"LEICA\0\x02\0" + fx.ifd([(0x000B, fx.UNDEFINED, 16, b"\0\0\0\x001234567\0\0\0\0\0\0")], 8)
    found = [(f.kind, f.detail) for f in scan_photo(_jpeg("Leica Camera AG", lambda at: note), "a.jpg")]
    assert not any(kind == "serial" for kind, _ in found), found
    assert any(kind == "makernote" for kind, _ in found), found


def test_a_serial_after_nuls_in_a_block_note_is_shown() -> None:
    """A Reconyx serial after two NULs reads as empty to a reader that stops at the first: it is shown all the
    same, as a maker note's text after NULs is."""
    def note(where: int) -> bytes:
        return bytes(_block(0x80, (0, b"RECONYXUF\0"), (0x4B, b"\0\0UF01234567"), (0x5A, b"\0\0\0")))

    found = [(f.kind, f.detail) for f in scan_photo(_jpeg("RECONYX", note), "a.jpg")]
    assert ("serial", "maker-note SerialNumber UF01234567") in found, found
    assert not any("UserLabel" in detail for _, detail in found), found


def test_a_note_whose_first_entry_has_a_damaged_type_is_still_read() -> None:
    """The byte order is chosen by a plausible count and a known type of the first entry; when neither order gives
    a known type, the note was read as empty, and a Canon's OwnerName in its second entry went unnamed (it was
    named before the type was asked)."""
    def note(where: int) -> bytes:
        text = b"PLANTED Aigerim\0"
        entries = struct.pack("<HHHII", 2, 0x0001, 0, 1, 0) + struct.pack("<HHII", 0x0009, fx.ASCII, len(text),
                                                                           where + 2 + 24 + 4)
        return entries + struct.pack("<I", 0) + text

    found = {(f.kind, f.detail) for f in scan_photo(_jpeg("Canon", note), "a.jpg")}
    assert ("owner", "maker-note OwnerName PLANTED Aigerim") in found, found
