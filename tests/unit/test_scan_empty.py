"""Empty metadata values name no one: no finding of their own (helper-172)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import photo_fixtures as fx
from helpers import require_tool
from mirror.privacy.findings import empty_value
from mirror.privacy.scan import scan_photo

BLANKS = ["", "   ", "\0\0\0", " \0 ", "\u200b\u200b", "\ufeff", "\u3000", "\u2800"]


@pytest.mark.parametrize("text", BLANKS)
def test_values_that_show_nothing_are_empty(text: str) -> None:
    assert empty_value(text)


@pytest.mark.parametrize("text", ["0000", "0", "-", ".", "\u200bA", "Айгерим", " x "])
def test_values_that_show_anything_are_not_empty(text: str) -> None:
    assert not empty_value(text)


def _tiff(value: str) -> bytes:
    """A directory with Artist, Copyright, XPAuthor, CameraOwnerName and BodySerialNumber, each `value` (XPAuthor
    in UTF-16, as Windows writes it)."""
    xp = value.encode("utf-16-le") + b"\0\0"
    return fx.ifd_chain([fx.ascii_entry(0x013B, value), fx.ascii_entry(0x8298, value), (0x9C9D, 1, len(xp), xp),
                         fx.ascii_entry(0xA430, value), fx.ascii_entry(0xA431, value)])


@pytest.mark.parametrize("value", BLANKS[1:])
def test_empty_exif_owners_and_serials_are_no_findings(value: str) -> None:
    """An Artist, Copyright, XPAuthor, CameraOwnerName or BodySerialNumber of spaces, NULs or invisible characters
    was listed as `owner: Artist`, as if it named someone. Now they are not; the block, which create removes, is
    still said (as empty tags), so the photo is not called clean."""
    found = scan_photo(fx.exif_jpeg(_tiff(value)), "a.jpg")
    kinds = [f.kind for f in found]
    assert "owner" not in kinds and "serial" not in kinds, found
    assert next(f.detail for f in found if f.kind == "exif").startswith("an EXIF block of empty tags, which name no "
                                                                       "one: Artist, Copyright, XPAuthor"), found


def test_a_serial_of_zeros_is_still_a_finding() -> None:
    """"0000" shows something: a serial of zeros is what the camera wrote, and is listed as before."""
    found = scan_photo(fx.exif_jpeg(_tiff("0000")), "a.jpg")
    assert ("serial", "BodySerialNumber 0000") in [(f.kind, f.detail) for f in found], found
    assert ("owner", "Artist 0000") in [(f.kind, f.detail) for f in found], found


def test_an_empty_tag_beside_real_ones_adds_nothing() -> None:
    """An empty Artist, and a date of only its colons and spaces (EXIF's "unknown"), in a camera's EXIF: its real
    items are listed, the empty ones are not."""
    tiff = fx.ifd_chain([fx.ascii_entry(0x0110, "PLANTED-Model"), fx.ascii_entry(0x013B, "  "),
                         fx.ascii_entry(0x0132, "    :  :     :  :  ")])
    found = [(f.kind, f.detail) for f in scan_photo(fx.exif_jpeg(tiff), "a.jpg")]
    assert found == [("model", "Model PLANTED-Model")], found


def test_an_empty_canon_owner_name_is_no_finding() -> None:
    """A Canon maker note's OwnerName of NULs was "maker-note OwnerName (no readable value: read it with
    exiftool)", an owner finding; it names no one. The maker note, which create removes, is still said."""
    found = scan_photo(fx.exif_jpeg(fx.canon_owner_tiff("\0\0\0 ")), "a.jpg")
    assert not any("maker-note OwnerName" in f.detail for f in found), found
    assert any(f.kind == "makernote" and f.detail.startswith("maker notes,") for f in found), found
    found = scan_photo(fx.exif_jpeg(fx.canon_owner_tiff("0000")), "a.jpg")
    assert any(f.detail == "maker-note OwnerName 0000" for f in found), found


@pytest.mark.parametrize(("value", "listed"), [(" ", False), ("0000", True)])
def test_empty_xmp_and_iptc_owners_as_exiftool_writes_them(tmp_path: Path, value: str, listed: bool) -> None:
    """exiftool's -XMP-dc:Creator=' ' and -IPTC:By-line=' ' (present, blank) were `owner: XMP dc:creator` and
    `owner: IPTC By-line`; the XMP and IPTC blocks themselves are still said."""
    tool = require_tool("exiftool")
    photo = tmp_path / "a.jpg"
    photo.write_bytes(fx.plain_jpeg())
    subprocess.run([tool, "-q", "-overwrite_original", f"-XMP-dc:Creator={value}", f"-IPTC:By-line={value}",
                    f"-Artist={value}", str(photo)], check=True)
    found = scan_photo(photo.read_bytes(), "a.jpg")
    owners = [f.detail for f in found if f.kind == "owner"]
    assert {f.kind for f in found} >= {"xmp", "iptc"}, found
    assert owners == (["Artist 0000", "IPTC By-line 0000", "XMP dc:creator 0000"] if listed else []), found


# A name hidden from a NUL-cut reading: what exiftool and Explorer show of it is empty, its bytes are not.
HIDDEN = ["\0Aigerim Nurlanovna", " \0Aigerim", "\0\0\u0410\u0439\u0433\u0435\u0440\u0438\u043c"]


@pytest.mark.parametrize("value", HIDDEN)
def test_a_name_after_a_nul_is_a_finding(value: str) -> None:
    """An Artist, Copyright, XPAuthor, CameraOwnerName or BodySerialNumber of "\\0Aigerim" was read up to its first
    NUL, found empty, and said as "an EXIF block of empty tags, which name no one" (helper-177): the name was in
    the photo. Now each is an owner or serial finding that shows the hidden text."""
    found = scan_photo(fx.exif_jpeg(_tiff(value)), "a.jpg")
    shown = value.replace("\0", " ").split()[-1]
    owners = [f.detail for f in found if f.kind == "owner"]
    serials = [f.detail for f in found if f.kind == "serial"]
    assert len(owners) == 4 and len(serials) == 1, found
    assert all(shown in detail for detail in owners + serials), found
    assert not any("name no one" in f.detail for f in found), found


def test_a_user_comment_after_a_nul_is_a_finding() -> None:
    """A UserComment (charset prefix, then text) was cut at its first NUL too."""
    raw = b"ASCII\0\0\0" + b"\0Aigerim 87011234567"
    found = scan_photo(fx.exif_jpeg(fx.ifd_chain([(0x9286, 7, len(raw), raw)])), "a.jpg")
    assert any(f.kind == "text" and "Aigerim" in f.detail for f in found), found


TAGGED = "".join(chr(0xE0000 + ord(c)) for c in "Aigerim")  # Unicode tag characters: invisible ASCII


def test_invisible_tag_characters_are_not_empty() -> None:
    """Unicode's tag characters (U+E0020..U+E007F) draw nothing but spell ASCII one for one ("ASCII smuggling"):
    a value of them was "empty", so an Artist, a dc:creator or a Canon OwnerName spelling a name in them was no
    finding. Other invisible format characters still are empty."""
    assert not empty_value(TAGGED)
    assert not empty_value("\U000e0001" + TAGGED + "\U000e007f")
    assert empty_value("\u200e\u200f\u2066\u2069\u00ad")
    found = scan_photo(fx.exif_jpeg(_tiff(TAGGED)), "a.jpg")
    assert len([f for f in found if f.kind == "owner"]) == 4, found


CONTROLS = "\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x1f\x7f"  # bytes of a binary serial, not padding


def test_control_bytes_other_than_nul_and_spaces_are_not_empty() -> None:
    """Every control character (Cc) counted as blank, so a serial or owner whose bytes are all below 0x20 (a
    binary maker-note serial 01 02 07 ..., which _value shows in hex) was "empty" and no finding (helper-177).
    NULs, tabs and line breaks still pad a value to nothing."""
    assert not empty_value(CONTROLS)
    assert not empty_value("\0\x01\0")
    assert empty_value("\0\t\r\n \x0b\x0c")
    found = scan_photo(fx.exif_jpeg(_tiff("\x01\x02\x07\x1f")), "a.jpg")
    assert len([f for f in found if f.kind in ("owner", "serial")]) == 5, found
    found = scan_photo(fx.exif_jpeg(fx.canon_owner_tiff("\x01\x02\x07")), "a.jpg")
    assert any(f.detail.startswith("maker-note OwnerName") for f in found), found


_XMP = ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator><rdf:Seq><rdf:li>Aigerim Nurlanovna</rdf:li>'
        '</rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>')


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "utf-16-be", "utf-16", "utf-32-le", "utf-32-be"])
def test_an_xmp_packet_in_utf16_or_utf32_names_its_creator(encoding: str) -> None:
    """XMP may be written in UTF-16 or UTF-32 (its xpacket's BOM says which): such a packet was "XMP packet, 0
    properties", its dc:creator never read (helper-177)."""
    from mirror.privacy.scan_blocks import scan_xmp

    found = scan_xmp(_XMP.encode(encoding))
    assert ("owner", "XMP dc:creator Aigerim Nurlanovna") in found, found
    assert found[0][1].startswith("XMP packet, 1 properties"), found
