"""Maker-note fields that name a person or a place are named, not left to a "maker notes" line.

Casio's and Pentax's world-time home city (and Pentax's summer-time flags and owner fields), Canon's time-zone
city, Panasonic's and Samsung's place names and the names of faces they were taught, and a GoPro's serial and
media id in its APP6 segment. Each note is built in the layout exiftool's MakerNotes.pm names, with the tag
numbers of Casio.pm, Pentax.pm, Canon.pm, Panasonic.pm, Samsung.pm and GoPro.pm, and exiftool reads every
planted value back from the photo before the scan is asked.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest

import photo_fixtures as fx
from helpers import exiftool
from mirror.privacy.scan import scan_photo
from mirror.privacy.strip import strip_photo


def _jpeg(make: str, note: Callable[[int], bytes]) -> bytes:
    """A JPEG whose EXIF names `make` and holds the maker note `note(where)`, `where` being the note's place in
    the EXIF block (for notes whose offsets count from it)."""
    def tiff(body: bytes) -> bytes:
        return fx.build_tiff([fx.ascii_entry(0x010F, make)], [(0x927C, fx.UNDEFINED, len(body), body)], [], None)

    first = note(0)
    at = tiff(first).index(first)
    return fx.exif_jpeg(tiff(note(at)))


def _casio(where: int) -> bytes:
    return b"QVC\0\0\0" + fx.ifd([(0x3006, fx.ASCII, 8, b"Almaty\0\0")], where + 6, ">")


def _pentax(where: int) -> bytes:
    """"PENTAX \\0MM", the IFD at 10 (offsets from the note): cities 29 (Moscow) and 20 (London), summer time,
    the owner's Artist and Copyright, and a K-5's TimeInfo (flags 0b110, cities 33 and 36)."""
    entries = [(0x0023, fx.SHORT, 1, struct.pack(">H", 29)), (0x0024, fx.SHORT, 1, struct.pack(">H", 20)),
               (0x0025, fx.SHORT, 1, struct.pack(">H", 0)), (0x0026, fx.SHORT, 1, struct.pack(">H", 1)),
               (0x006B, fx.UNDEFINED, 4, bytes((0b110, 0, 33, 36))),
               (0x022E, fx.ASCII, 16, b"PLANTED-Artist\0\0"), (0x022F, fx.ASCII, 16, b"PLANTED-Rights\0\0")]
    return b"PENTAX \0MM" + fx.ifd(entries, 10, ">")


def _asahi(where: int) -> bytes:
    """"AOC\0MM", the IFD at 6 (offsets from the EXIF block): an Asahi's note is Pentax's but for the Optio 330RS
    and 430RS (MakerNotes.pm's MakerNotePentax, then MakerNotePentax3)."""
    entries = [(0x0229, fx.ASCII, 12, b"PLANTED-SN9\0"), (0x022E, fx.ASCII, 16, b"PLANTED-Artist\0\0")]
    return b"AOC\0MM" + fx.ifd(entries, where + 6, ">")


def _canon(where: int) -> bytes:
    info = struct.pack("<4i", 16, 360, 13, 0)  # size, time zone (minutes), TimeZoneCity 13 (Karachi), summer time
    return fx.ifd([(0x0035, fx.LONG, 4, info)], where)


def _panasonic(where: int) -> bytes:
    faces = (struct.pack("<H", 2) + bytes(2) + b"Aigerim".ljust(20, b"\0") + bytes(28) + b"Nurlan".ljust(20, b"\0")
             + bytes(76))  # FacesRecognized 2, then each face's name, position and age
    entries = [(0x0061, fx.UNDEFINED, len(faces), faces), (0x0066, fx.UNDEFINED, 64, b"Dana".ljust(64, b"\0")),
               (0x0069, fx.UNDEFINED, 72, b"KAZAKHSTAN".ljust(72, b"\0")),
               (0x006B, fx.UNDEFINED, 72, b"---".ljust(72, b"\0")),
               (0x006D, fx.UNDEFINED, 72, b"ALMATY".ljust(72, b"\0"))]
    return b"Panasonic\0\0\0" + fx.ifd(entries, where + 12)


def _samsung(where: int) -> bytes:
    return fx.ifd([(0x0001, fx.UNDEFINED, 4, b"0100"), (0x0030, fx.UNDEFINED, 16, b"Almaty\0 Medeu\0\0\0"),
                   (0x0031, fx.ASCII, 8, b"Almaty\0\0"), (0x0123, fx.ASCII, 8, b"Aigerim\0"),
                   (0xA005, fx.ASCII, 12, b"LS1234567890")], where)


def _olympus(where: int) -> bytes:
    """"OLYMPUS\0II", version, the main IFD at 12 (offsets from the note) with OneTouchWB (0x0302, a number) and
    Equipment (0x2010), whose ExtenderSerialNumber and FlashSerialNumber are text."""
    equipment_at = 12 + 2 + 2 * 12 + 4
    equipment = fx.ifd([(0x0302, fx.ASCII, 8, b"EX12345\0"), (0x1003, fx.ASCII, 8, b"FL67890\0")], equipment_at)
    main = fx.ifd([(0x0302, fx.SHORT, 1, struct.pack("<H", 3)), (0x2010, 13, 1, struct.pack("<I", equipment_at))], 12)
    return b"OLYMPUS\0II\x03\0" + main + equipment


def _nikon(where: int) -> bytes:
    """"Nikon\0\x02\x10\0\0", a TIFF header, an IFD whose LocationInfo (0x0039) holds version, text encoding
    (UTF-8), the country's code and the place's name (Nikon.pm)."""
    info = b"0100" + b"\x01" + b"KAZ" + b"\x01" + "Алматы, Медеу".encode().ljust(70, b"\0")
    return b"Nikon\0\x02\x10\0\0" + b"II*\0\x08\0\0\0" + fx.ifd([(0x0039, fx.UNDEFINED, len(info), info)], 8)


def _sanyo(where: int) -> bytes:
    return b"SANYO\0\x01\0" + fx.ifd([(0x0209, fx.UNDEFINED, 16, b"CID-00123456789\0")], where + 8)


@pytest.mark.parametrize(("make", "note", "read", "expected"), [
    ("OLYMPUS CORPORATION", _olympus, {"Olympus:ExtenderSerialNumber": "EX12345",
                                       "Olympus:FlashSerialNumber": "FL67890"},
     {("serial", "maker-note ExtenderSerialNumber EX12345"), ("serial", "maker-note FlashSerialNumber FL67890")}),
    ("NIKON CORPORATION", _nikon, {"Nikon:CountryCode": "KAZ", "Nikon:Location": "Алматы, Медеу"},
     {("place", "maker-note CountryCode KAZ"), ("place", "maker-note Location Алматы, Медеу")}),
    ("SANYO Electric Co.,Ltd.", _sanyo, {"Sanyo:CameraID": "CID-00123456789"},
     {("serial", "maker-note CameraID CID-00123456789")}),
    ("CASIO COMPUTER CO.,LTD.", _casio, {"Casio:HometownCity": "Almaty"},
     {("place", "maker-note HometownCity Almaty")}),
    ("PENTAX", _pentax, {"Pentax:HometownCity": "Karachi", "Pentax:DestinationCity": "Delhi",
                         "Pentax:HometownDST": "Yes", "Pentax:DestinationDST": "Yes",
                         "Pentax:Artist": "PLANTED-Artist", "Pentax:Copyright": "PLANTED-Rights"},
     {("place", "maker-note HometownCity Moscow"), ("place", "maker-note DestinationCity London"),
      ("place", "maker-note HometownCity Karachi"), ("place", "maker-note DestinationCity Delhi"),
      ("owner", "maker-note Artist PLANTED-Artist"),
      ("owner", "maker-note Copyright PLANTED-Rights")}),
    ("Asahi Optical Co.,Ltd", _asahi, {"Pentax:SerialNumber": "PLANTED-SN9", "Pentax:Artist": "PLANTED-Artist"},
     {("serial", "maker-note SerialNumber PLANTED-SN9"), ("owner", "maker-note Artist PLANTED-Artist")}),
    ("Canon", _canon, {"Canon:TimeZoneCity": "Karachi"}, {("place", "maker-note TimeZoneCity Karachi")}),
    ("Panasonic", _panasonic, {"Panasonic:RecognizedFace1Name": "Aigerim", "Panasonic:RecognizedFace2Name": "Nurlan",
                               "Panasonic:BabyName": "Dana", "Panasonic:Country": "KAZAKHSTAN",
                               "Panasonic:City": "ALMATY"},
     {("people", "maker-note RecognizedFace1Name Aigerim"), ("people", "maker-note RecognizedFace2Name Nurlan"),
      ("people", "maker-note BabyName Dana"), ("place", "maker-note Country KAZAKHSTAN"),
      ("place", "maker-note City ALMATY")}),
    ("SAMSUNG", _samsung, {"Samsung:LocalLocationName": "Almaty\nMedeu", "Samsung:LocationName": "Almaty",
                           "Samsung:FaceName": "Aigerim",
                           "Samsung:InternalLensSerialNumber": "LS1234567890"},
     {("place", "maker-note LocalLocationName Almaty Medeu"), ("place", "maker-note LocationName Almaty"),
      ("people", "maker-note FaceName Aigerim"),
      ("serial", "maker-note InternalLensSerialNumber LS1234567890")}),
])
def test_maker_note_places_and_names_are_named(make: str, note: Callable[[int], bytes], read: dict[str, str],
                                               expected: set[tuple[str, str]]) -> None:
    """Each was only "maker notes, N bytes (may hold a serial number)", or not said at all."""
    photo = _jpeg(make, note)
    tags = exiftool(photo)
    assert {key: tags.get(key) for key in read} == read
    found = {(f.kind, f.detail) for f in scan_photo(photo, "a.jpg")}
    assert expected <= found, found
    assert not any(kind == "makernote" for kind, _ in found), found
    assert not any("---" in detail for _, detail in found), found  # Panasonic's "none"
    assert not any(detail.endswith("SerialNumber 3") for _, detail in found), found  # Olympus's OneTouchWB


def _gpmf(key: bytes, kind: str, size: int, data: bytes) -> bytes:
    return key + bytes((ord(kind) if kind else 0, size)) + struct.pack(">H", len(data) // size) + data + bytes(
        -len(data) % 4)


def test_a_gopro_serial_and_media_id_are_named_and_cleaned_away() -> None:
    """A GoPro's APP6 "GoPro" segment (GPMF): its MediaUniqueID is no readable text, so it went unnamed."""
    muid = struct.pack(">8I", 3882563431, 2278071152, 967805802, 411471936, 0, 0, 0, 0)
    inner = (_gpmf(b"DVNM", "c", 1, b"Global Settings") + _gpmf(b"CASN", "c", 1, b"C3221324545448")
             + _gpmf(b"MUID", "L", 4, muid))
    photo = fx.splice(fx.plain_jpeg(), fx.segment(0xE6, b"GoPro\0" + _gpmf(b"DEVC", "", 1, inner)))
    tags = exiftool(photo)
    media_id = "e76b376787c89b7039af8b6a18869040" + "0" * 32
    assert (tags["GoPro:CameraSerialNumber"], tags["GoPro:MediaUniqueID"]) == ("C3221324545448", media_id)
    found = {(f.kind, f.detail) for f in scan_photo(photo, "a.jpg")}
    assert ("serial", "GoPro CameraSerialNumber C3221324545448") in found
    assert ("unique-id", f"GoPro MediaUniqueID {media_id}"[:79] + "…") in found
    cleaned = strip_photo(photo, "a.jpg").data
    assert not [key for key in exiftool(cleaned) if key.startswith("GoPro")]


def test_a_gopro_serial_after_thousands_of_entries_is_named() -> None:
    """Entries were read up to 4,096 of a segment, which holds up to 8,191 of the smallest: a serial after 5,000
    of them went unnamed, though exiftool shows it."""
    inner = b"".join(_gpmf(b"TICK", "L", 4, b"\0\0\0\1") for _ in range(5000)) + _gpmf(b"CASN", "c", 1,
                                                                                      b"C3221324545448")
    photo = fx.splice(fx.plain_jpeg(), fx.segment(0xE6, b"GoPro\0" + _gpmf(b"DEVC", "", 1, inner)))
    assert exiftool(photo)["GoPro:CameraSerialNumber"] == "C3221324545448"
    found = {(f.kind, f.detail) for f in scan_photo(photo, "a.jpg")}
    assert ("serial", "GoPro CameraSerialNumber C3221324545448") in found
