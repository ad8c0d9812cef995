"""Empty metadata values name no one: no finding of their own (helper-172)."""

from __future__ import annotations

import struct
import subprocess
import zlib
from collections.abc import Callable
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


def _png_texts(value: bytes) -> bytes:
    """A PNG with an Author (tEXt), a Comment (zTXt) and a Title (iTXt, uncompressed and compressed), each of
    `value`."""
    return fx.png_with(fx.chunk(b"tEXt", b"Author\0" + value),
                       fx.chunk(b"zTXt", b"Comment\0\0" + zlib.compress(value)),
                       fx.chunk(b"iTXt", b"Title\0\0\0en\0\0" + value),
                       fx.chunk(b"iTXt", b"Description\0\1\0\0\0" + zlib.compress(value)))


def _webp_info(value: bytes) -> bytes:
    """A WebP with RIFF INFO artist (IART) and copyright (ICOP) fields of `value`, NUL-terminated."""
    plain = fx.plain_webp()
    return fx.webp_of(*(fx.riff_chunk(kind, body) for kind, body in fx.webp_chunks(plain)),
                      fx.riff_chunk(b"IART", value + b"\0"), fx.riff_chunk(b"ICOP", value + b"\0"))


@pytest.mark.parametrize("value", [text.encode() for text in BLANKS])
@pytest.mark.parametrize(("build", "name", "labels"), [(_png_texts, "a.png", "Author, Comment, Title, Description"),
                                                       (_webp_info, "a.webp", "artist, copyright")])
def test_empty_text_chunks_and_fields_are_no_findings(build: Callable[[bytes], bytes], name: str, labels: str,
                                                      value: bytes) -> None:
    """A PNG tEXt, zTXt or iTXt chunk, or a WebP INFO field, of nothing but spaces, NULs or invisible characters was
    listed as `text: Author: `, while the same value in EXIF, XMP or IPTC is no finding. Now they are not either;
    the chunks, which create removes, are said once as empty, so the photo is not called clean."""
    found = [(f.kind, f.detail) for f in scan_photo(build(value), name)]
    assert found == [("text", f"text fields of empty values, which name no one: {labels}")], found


@pytest.mark.parametrize(("build", "name"), [(_png_texts, "a.png"), (_webp_info, "a.webp")])
def test_an_empty_text_chunk_beside_a_real_finding_adds_nothing(build: Callable[[bytes], bytes], name: str) -> None:
    """An empty chunk beside one that names someone: only the real one is listed, as for EXIF."""
    data = build(b" ")
    if name == "a.png":
        data = fx.png_with(fx.chunk(b"tEXt", b"Author\0 "), fx.chunk(b"tEXt", b"Software\0PLANTED Editor"))
    else:
        data = data[:-len(fx.riff_chunk(b"ICOP", b" \0"))] + fx.riff_chunk(b"ICOP", b"PLANTED Aigerim\0")
        data = b"RIFF" + struct.pack("<I", len(data) - 8) + data[8:]
    found = [(f.kind, f.detail) for f in scan_photo(data, name)]
    assert found in ([("text", "Software: PLANTED Editor")], [("text", "copyright: PLANTED Aigerim")]), found


@pytest.mark.parametrize("value", [b"0000", b"\0Aigerim", "\U000e0041\U000e0069".encode(), b"\x01\x02\x07",
                                   b" " * 5000 + b"Aigerim"])
@pytest.mark.parametrize(("build", "name"), [(_png_texts, "a.png"), (_webp_info, "a.webp")])
def test_a_text_chunk_that_shows_anything_is_still_a_finding(build: Callable[[bytes], bytes], name: str,
                                                             value: bytes) -> None:
    """A visible value, one after a NUL (said to be hidden so), one in tag characters, one of control bytes, and
    one past the first 4,096 blank bytes a scan reads of it: each chunk or field is still a finding of its own."""
    found = scan_photo(build(value), name)
    assert len(found) == (4 if name == "a.png" else 2), found
    assert not any("name no one" in f.detail for f in found), found
    if value.startswith(b"\0"):
        assert all(f.detail.endswith("Aigerim (after a NUL byte, which hides it from most viewers)")
                   for f in found), found


@pytest.mark.parametrize("keyword", [b"Aigerim Nurlanovna", b"Label"])
def test_an_empty_text_of_a_keyword_png_does_not_name_is_listed(keyword: bytes) -> None:
    """A keyword is free text: one PNG and exiftool do not name (a person's name, say) is what the chunk says,
    and is listed even when its text is empty; a known one is not."""
    found = [(f.kind, f.detail) for f in scan_photo(fx.png_with(fx.chunk(b"tEXt", keyword + b"\0 ")), "a.png")]
    named = keyword == b"Label"
    assert found == [("text", "text fields of empty values, which name no one: Label" if named
                      else "Aigerim Nurlanovna:")], found


def test_empty_png_text_as_exiftool_writes_it(tmp_path: Path) -> None:
    """exiftool -PNG:Author=' ' -PNG:Comment=' ' writes text chunks of a space: said once as empty."""
    tool = require_tool("exiftool")
    photo = tmp_path / "a.png"
    photo.write_bytes(fx.plain_png())
    subprocess.run([tool, "-q", "-overwrite_original", "-PNG:Author= ", "-PNG:Comment= ", str(photo)], check=True)
    found = [(f.kind, f.detail) for f in scan_photo(photo.read_bytes(), "a.png")]
    assert found == [("text", "text fields of empty values, which name no one: Author, Comment")], found


def test_an_itxt_of_empty_text_whose_translated_keyword_says_something_is_listed() -> None:
    """An iTXt's translated keyword is free text too: with an empty text it is what the chunk says."""
    found = [(f.kind, f.detail) for f in scan_photo(fx.png_with(fx.chunk(
        b"iTXt", b"Title\0\0\0kk\0" + "Айгерим".encode() + b"\0 ")), "a.png")]
    assert found == [("text", "Title: (Айгерим)")], found


@pytest.mark.parametrize("kind", [b"zTXt", b"iTXt"])
def test_bytes_after_an_empty_compressed_text_are_no_empty_value(kind: bytes) -> None:
    """A compressed text of a space, then bytes after its zlib stream that no reader shows (a name hidden there):
    the chunk is listed, not taken as empty."""
    head = b"Author\0\0" if kind == b"zTXt" else b"Author\0\1\0\0\0"
    found = scan_photo(fx.png_with(fx.chunk(kind, head + zlib.compress(b" ") + b"Aigerim Nurlanovna")), "a.png")
    assert not any("name no one" in f.detail for f in found) and found, found
    found = scan_photo(fx.png_with(fx.chunk(kind, head + zlib.compress(b" ") + b"\0\0")), "a.png")
    assert [f.detail for f in found] == ["text fields of empty values, which name no one: Author"], found


@pytest.mark.parametrize(("language", "said"), [
    (b"Aigerim Nurlanovna", "Title: [Aigerim Nurlanovna]"),  # a name where a language's tag belongs
    (b"kk-KZ", "text fields of empty values, which name no one: Title"),  # a tag: it names no one
    (b"ru", "text fields of empty values, which name no one: Title"),
])
def test_an_itxt_of_empty_text_with_a_name_for_its_language_tag_is_listed(language: bytes, said: str) -> None:
    """An iTXt's language tag is free bytes too: one that is no language's tag is what the chunk says, not an
    empty value that names no one."""
    found = [f.detail for f in scan_photo(fx.png_with(fx.chunk(b"iTXt", b"Title\0\0\0" + language + b"\0\0 ")),
                                          "a.png")]
    assert found == [said], found


@pytest.mark.parametrize("encoding", ["utf-16-be", "utf-16-le", "utf-32-be"])
def test_a_jpeg_s_xmp_packet_in_utf16_names_its_creator(encoding: str) -> None:
    """A JPEG's XMP segment begins with XMP's namespace and a NUL, then the packet: one in UTF-16 (exiftool's
    t/images/XMP.jpg, as Photoshop 7 wrote it) was still "XMP packet, 0 properties", its dc:creator and places
    unread, since the encoding was looked for before the namespace."""
    photo = fx.splice(fx.plain_jpeg(), fx.segment(0xE1, fx.XMP_ID + _XMP.encode(encoding)))
    found = [(f.kind, f.detail) for f in scan_photo(photo, "a.jpg")]
    assert ("owner", "XMP dc:creator Aigerim Nurlanovna") in found, found
