"""The scanner finds every planted identifier in photos and texts, and nothing in clean ones."""

from __future__ import annotations

import datetime as dt
import io
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

import photo_fixtures as fx
from helpers import exiftool
from mirror.errors import PhotoError
from mirror.privacy import texts
from mirror.privacy.findings import Finding
from mirror.privacy.identifiers import embedded_file, iin_valid, mask, scan_blocks, scan_text
from mirror.privacy.names import scan_name
from mirror.privacy.scan import scan_photo, scan_photo_chunks
from mirror.privacy.strip import strip_photo
from mirror.privacy.texts import text_lines

CLEAN_RU = """\
5 января 2022 года в 18:30 на площади Республики собралось около 12 000 человек.
06.01.2022 с 07:15 до 10:00 интернет не работал; 2022-01-05 — первый день протестов.
По данным на 7 января, задержаны 4 266 человек, ранены 1 300, цены выросли на 12%.
Температура упала до \u221215 °C, а к 23:59 улицы опустели. № 150, ул. Абая, д. 8, кв. 12.
В 2022 году 8 700 человек подписали письмо; 1-2 января было тихо; +5 °C днём.
"""
CLEAN_KK = "2022 жылғы 5 қаңтарда сағат 18:30-да алаңға 12 000-нан астам адам жиналды."
CLEAN_EN = ("On 2022-01-05 at 18:30 about 12,000 people gathered; by 2022-01-06T07:15:00+06:00 "
            "the network was down for 120 hours. Version 1.2.3, page 10-12, ISBN 978-3-16-148410-0.")


def _passes(prefix: str) -> tuple[int, int]:
    """Both checksum passes over 11 digits, computed here independently of mirror.scan."""
    digits = [int(c) for c in prefix]
    first = sum(w * d for w, d in zip(range(1, 12), digits, strict=True)) % 11
    second = sum(w * d for w, d in zip([*range(3, 12), 1, 2], digits, strict=True)) % 11
    return first, second


def _check_digit(prefix: str) -> int | None:
    """The IIN check digit for 11 digits, or None when no valid IIN starts with them."""
    first, second = _passes(prefix)
    check = second if first == 10 else first
    return None if check == 10 else check


# Digits, "." and "," as a Chinese or Japanese input method types them
_FULL_WIDTH = {ord(char): 0xFF10 + ord(char) - ord("0") for char in "0123456789"} | {ord("."): 0xFF0E, ord(","): 0xFF0C}
VALID_IIN = next(p + str(c) for p in (f"90010530{n:03}" for n in range(1000))
                 if (c := _check_digit(p)) is not None and _passes(p)[0] != 10)
SECOND_PASS_IIN = next(p + str(c) for p in (f"85031540{n:03}" for n in range(1000))
                       if (c := _check_digit(p)) is not None and _passes(p)[0] == 10)


def kinds_and_details(findings: list[Finding]) -> set[tuple[str, str]]:
    """The findings as (kind, detail) pairs."""
    return {(f.kind, f.detail) for f in findings}


def test_scan_jpeg_finds_every_planted_item() -> None:
    """GPS, dates, make, model, serials, software, owner names, XMP, IPTC, ICC, MPF, thumbnail, comment, trailer."""
    findings = scan_photo(fx.planted_jpeg(), "photos/a.jpg")
    assert {f.path for f in findings} == {"photos/a.jpg"}
    found = kinds_and_details(findings)
    expected = {
        ("gps", "43.23861 N, 76.94583 E"), ("gps", "XMP exif:GPSLatitude 43,14.3N"),
        ("datetime", f"DateTimeOriginal {fx.TAKEN}"), ("datetime", f"DateTime {fx.TAKEN}"),
        ("datetime", "GPSDateStamp 2022:01:05"), ("make", f"Make {fx.MAKE}"), ("model", f"Model {fx.MODEL}"),
        ("serial", f"BodySerialNumber {fx.SERIAL}"), ("serial", f"LensSerialNumber {fx.LENS_SERIAL}"),
        ("software", f"Software {fx.SOFTWARE}"), ("owner", f"Artist {fx.ARTIST}"),
        ("owner", f"CameraOwnerName {fx.OWNER}"), ("owner", f"XMP dc:creator {fx.CREATOR}"),
        ("owner", f"IPTC By-line {fx.BYLINE}"), ("xmp", "XMP packet, 2 properties, 463 bytes"),
        ("iptc", "IPTC/Photoshop metadata, 52 bytes"), ("exif-thumbnail", "a preview image in EXIF IFD1"),
        ("exif", "1 more EXIF tag(s): camera settings, sizes and the like"),
        ("icc", "ICC profile 'sRGB built-in' (named like a common colour space)"),
        ("mpf", "several images in one file (MPF): previews or a second full-size image follow the photo"),
        ("comment", fx.COMMENT), ("other-metadata", "APP12 segment 'Ducky', 20 bytes"),
        ("text", "in it: PLANTED"),
        ("trailing-data", f"{len(fx.TRAILER)} bytes after the end of the image: data of unknown kind"),
        ("text", "in it: PLANTED-TRAILER motion photo video bytesPLANTED-TRAILER motion photo vid…"),
    }
    assert found == expected


def test_scan_png_finds_every_planted_item() -> None:
    """tEXt, zTXt and iTXt text, XMP in iTXt, eXIf tags with GPS, tIME, iCCP, unknown chunks and the trailer."""
    found = kinds_and_details(scan_photo(fx.planted_png(), "b.png"))
    assert {
        ("text", f"Author: {fx.ARTIST}"), ("text", f"Comment: {fx.COMMENT}"),
        ("text", "Description: PLANTED Описание: площадь"), ("owner", f"XMP dc:creator {fx.CREATOR}"),
        ("datetime", "PNG tIME 2022-01-05 18:30:00"), ("gps", "43.23861 N, 76.94583 E"),
        ("serial", f"BodySerialNumber {fx.SERIAL}"), ("make", f"Make {fx.MAKE}"),
        ("other-metadata", "PNG bKGD chunk, 6 bytes"),
        ("trailing-data", f"{len(fx.TRAILER)} bytes after the IEND chunk: data of unknown kind"),
    } <= found
    assert any(kind == "icc" for kind, _ in found)


def _afcp(order: str, iptc: bytes, start: int) -> bytes:
    """An AFCP trailer as newsroom tools append it: header, two entries (IPTC, a preview), their data, and the
    12-byte end record pointing back at the header; offsets from the start of the file, which is `start` long."""
    mark = b"AXS!" if order == ">" else b"AXS*"
    preview = b"\0" * 10 + fx.plain_jpeg()
    first = start + 12 + 24
    head = mark + struct.pack(order + "HHI", 1, 2, 0)
    entries = struct.pack(order + "4sII", b"IPTC", len(iptc), first) + \
        struct.pack(order + "4sII", b"PrVw", len(preview), first + len(iptc))
    return head + entries + iptc + preview + mark + struct.pack(order + "II", start, 0)


@pytest.mark.parametrize("order", [">", "<"])
def test_afcp_trailer_iptc_is_named(order: str) -> None:
    """The IPTC byline and city that an AFCP trailer carries after the image (exiftool's AFCP.jpg has one) are
    named, not only counted as bytes of unknown kind; in either byte order."""
    jpeg = fx.plain_jpeg()
    iptc = b"".join(b"\x1c\x02" + bytes([number]) + struct.pack(">H", len(value)) + value
                    for number, value in ((80, "Ерлан Жумабаев".encode()), (90, b"Almaty")))
    found = kinds_and_details(scan_photo(jpeg + _afcp(order, iptc, len(jpeg)), "n.jpg"))
    assert ("owner", "IPTC By-line Ерлан Жумабаев") in found
    assert ("place", "IPTC City Almaty") in found
    assert ("thumbnail", "a preview image in an AFCP trailer") in found
    assert any(kind == "trailing-data" and "AFCP" in detail for kind, detail in found)
    assert strip_photo(jpeg + _afcp(order, iptc, len(jpeg)), "n.jpg").data == strip_photo(jpeg, "n.jpg").data


def test_unknown_trailer_strings_are_shown() -> None:
    """Bytes of unknown kind after a photo (a phone maker's trailer) show the readable strings in them."""
    trailer = b"\0\x01SEFH\0Image_UTC_Data\0owner Aigerim Nurlanovna, Galaxy S21 Ultra\0" + bytes(range(256))
    found = kinds_and_details(scan_photo(fx.plain_jpeg() + trailer, "s.jpg"))
    assert any(kind == "text" and "Aigerim Nurlanovna" in detail for kind, detail in found)


def test_exif_text_fields_are_named() -> None:
    """ImageDescription, HostComputer, XPComment (UTF-16) and a UNICODE UserComment are shown by name."""
    found = kinds_and_details(scan_photo(fx.exif_jpeg(fx.text_fields_tiff()), "t.jpg"))
    assert found == {("text", f"ImageDescription {fx.DESCRIPTION}"), ("owner", f"HostComputer {fx.HOST}"),
                     ("text", f"XPComment {fx.XP_COMMENT}"), ("text", f"UserComment {fx.USER_COMMENT}")}


def test_gps_linked_from_ifd1_is_found() -> None:
    """A GPS directory reached from IFD1 is read like one reached from IFD0."""
    found = kinds_and_details(scan_photo(fx.exif_jpeg(fx.gps_in_ifd1_tiff()), "g.jpg"))
    assert ("gps", "43.23861 N, 76.94583 E") in found


@pytest.mark.parametrize(("data", "personal"), [
    pytest.param(fx.icc_jpeg(fx.PERSONAL_ICC), True, id="jpeg personal"),
    pytest.param(fx.icc_jpeg("sRGB IEC61966-2.1"), False, id="jpeg standard"),
    pytest.param(fx.png_with(fx.iccp_chunk("ICC profile", fx.PERSONAL_ICC)), True, id="png personal"),
    pytest.param(fx.png_with(fx.iccp_chunk("Aigerim N.", "sRGB IEC61966-2.1")), True, id="png named profile"),
    pytest.param(fx.png_with(fx.iccp_chunk("ICC profile", "Display P3")), False, id="png standard"),
])
def test_icc_profiles_are_reported_and_names_beyond_a_colour_space_flagged(data: bytes, personal: bool) -> None:
    """Every ICC profile is reported (create removes it); one named after more than a colour space says so."""
    found = [detail for kind, detail in kinds_and_details(scan_photo(data, "i")) if kind == "icc"]
    assert len(found) == 1
    assert ("may name a person or a device" in found[0]) == personal
    assert ("like a common colour space" in found[0]) != personal  # named like one, but not the published bytes


def _noted(make: str, note: bytes) -> bytes:
    return fx.camera_tiff(orientation=1, thumbnail=False, makernote=note, make=make)


@pytest.mark.parametrize(("tiff", "kind", "detail", "exiftool_tag"), [
    pytest.param(_noted("Canon", fx.canon_makernote(123456789)), "serial", "maker-note SerialNumber 123456789",
                 "Canon:SerialNumber", id="canon serial"),
    pytest.param(fx.canon_owner_tiff("PLANTED Aigerim"), "owner", "maker-note OwnerName PLANTED Aigerim",
                 "Canon:OwnerName", id="canon owner"),
    pytest.param(_noted("NIKON CORPORATION", fx.nikon_makernote("7654321")), "serial",
                 "maker-note SerialNumber 7654321", "Nikon:SerialNumber", id="nikon"),
    pytest.param(_noted("FUJIFILM", fx.fuji_makernote("PLANTED-FUJI-1")), "serial",
                 "maker-note InternalSerialNumber PLANTED-FUJI-1", "FujiFilm:InternalSerialNumber", id="fujifilm"),
    pytest.param(_noted("OLYMPUS IMAGING CORP.", fx.olympus_makernote("PLANTED-OLY-2")), "serial",
                 "maker-note SerialNumber PLANTED-OLY-2", "Olympus:SerialNumber", id="olympus equipment"),
    pytest.param(_noted("PENTAX Corporation", fx.pentax_makernote(132352)), "serial",
                 "maker-note InternalSerialNumber 132352", "Pentax:InternalSerialNumber", id="pentax camera info"),
    pytest.param(_noted("Apple", fx.apple_makernote("PLANTED-UUID-3")), "unique-id",
                 "maker-note MediaGroupUUID PLANTED-UUID-3", "Apple:MediaGroupUUID", id="apple"),
    pytest.param(_noted("Acme", b"ACME\0" + b"\0" * 20), "makernote",
                 "maker notes, 25 bytes (may hold a serial number)", None, id="other"),
])
def test_maker_note_owners_serials_and_ids(tiff: bytes, kind: str, detail: str, exiftool_tag: str | None) -> None:
    """Owner names, serials and unique ids in maker notes are read by name, where exiftool reads them too."""
    photo = fx.exif_jpeg(tiff)
    assert (kind, detail) in kinds_and_details(scan_photo(photo, "c.jpg"))
    if exiftool_tag is not None:
        value = detail.split(" ", 2)[2]  # after "maker-note Label "
        assert str(exiftool(photo)[exiftool_tag]).lstrip("0") == value.lstrip("0")


def test_xmp_serials_owners_and_places_are_named() -> None:
    """aux:SerialNumber, aux:OwnerName and photoshop:City in XMP come out by name, in attributes or elements."""
    packet = fx.xmp_packet().replace(b"<dc:creator>", b'<aux:SerialNumber>PLANTED-XMP-SN</aux:SerialNumber>'
                                     b'<dc:creator>').replace(b'exif:GPSLatitude="43,14.3N"',
                                                             b'aux:OwnerName="PLANTED Owner" photoshop:City="Almaty"')
    found = kinds_and_details(scan_photo(fx.splice(fx.plain_jpeg(), fx.segment(0xE1, fx.XMP_ID + packet)), "x.jpg"))
    assert {("serial", "XMP aux:SerialNumber PLANTED-XMP-SN"), ("owner", "XMP aux:OwnerName PLANTED Owner"),
            ("place", "XMP photoshop:City Almaty")} <= found


def test_flir_gps_and_serials_are_named() -> None:
    """FLIR thermal cameras' GPS position and serial number (FFF data in APP1) are found by name."""
    found = kinds_and_details(scan_photo(fx.splice(fx.plain_jpeg(), fx.flir_segment()), "f.jpg"))
    assert {("gps", "FLIR GPS 43.23860, 76.94580 NE"), ("serial", "FLIR CameraSerialNumber PLANTED-FLIR-77")} <= found


def test_flir_gps_is_read_little_endian_and_only_when_valid() -> None:
    """A FLIR ONE's GPSInfo record is little-endian though its FFF header is big-endian (read in the header's order
    a real one showed 1.9e+297, 0.00000 NW), a Vue Pro's big-endian, as its GPSValid of 1 says; a record whose
    GPSValid is 0 holds no position to show."""
    found = kinds_and_details(scan_photo(fx.splice(fx.plain_jpeg(), fx.flir_segment(lat=34.07542, lon=-118.25427)),
                                         "f.jpg"))
    assert ("gps", "FLIR GPS 34.07542, -118.25427 NE") in found
    vue = fx.flir_segment(lat=-33.8688, lon=151.2093, gps_order=">")
    assert ("gps", "FLIR GPS -33.86880, 151.20930 NE") in kinds_and_details(scan_photo(fx.splice(fx.plain_jpeg(), vue),
                                                                                          "f.jpg"))
    unset = scan_photo(fx.splice(fx.plain_jpeg(), fx.flir_segment(gps_valid=0)), "f.jpg")
    assert "gps" not in {kind for kind, _ in kinds_and_details(unset)}
    assert ("serial", "FLIR CameraSerialNumber PLANTED-FLIR-77") in kinds_and_details(unset)


def test_png_exif_chunk_and_raw_profile_are_read() -> None:
    """A PNG eXIf chunk and ImageMagick's hex "Raw profile type exif" text are read as EXIF."""
    tiff = fx.camera_tiff(orientation=1, thumbnail=False)
    for extra in (fx.chunk(b"eXIf", tiff), fx.raw_profile_chunk(tiff)):
        found = kinds_and_details(scan_photo(fx.png_with(extra), "p.png"))
        assert {("gps", "43.23861 N, 76.94583 E"), ("serial", f"BodySerialNumber {fx.SERIAL}")} <= found


def test_jfif_thumbnails_are_found() -> None:
    """JFIF and JFXX thumbnails are reported."""
    found = kinds_and_details(scan_photo(fx.jfif_thumbnail_jpeg(), "t.jpg"))
    assert found == {("thumbnail", "a JFIF preview image")}


@pytest.mark.parametrize("data", [
    pytest.param(fx.plain_jpeg(), id="plain jpeg"),
    pytest.param(fx.plain_jpeg(progressive=True), id="progressive jpeg"),
    pytest.param(fx.plain_png(), id="plain png"),
    pytest.param(strip_photo(fx.planted_jpeg(), "a.jpg").data, id="stripped jpeg"),
    pytest.param(strip_photo(fx.planted_png(), "a.png").data, id="stripped png"),
    pytest.param(strip_photo(fx.png_with(fx.xmp_orientation_chunk(3)), "a.png").data, id="stripped png, rotated"),
    pytest.param(fx.cmyk_jpeg(), id="cmyk jpeg with a standard Adobe APP14"),
])
def test_clean_photos_have_no_findings(data: bytes) -> None:
    """Nothing is reported for photos without metadata (an Orientation-only EXIF and Adobe APP14 included)."""
    assert scan_photo(data, "clean") == []


@pytest.mark.parametrize(("data", "expected"), [
    pytest.param(fx.exif_jpeg(b"not a tiff header"), ("other-metadata", "unreadable EXIF block, 17 bytes"),
                 id="not tiff"),
    pytest.param(fx.exif_jpeg(b"II*\0\xff\xff\xff\xff"), ("exif", "an EXIF block with no readable tags, 8 bytes"),
                 id="no readable directory"),
])
def test_broken_exif_is_reported_not_raised(data: bytes, expected: tuple[str, str]) -> None:
    """An EXIF block that cannot be read is still reported: create removes it."""
    assert kinds_and_details(scan_photo(data, "e.jpg")) == {expected}


def test_scan_refuses_formats_it_cannot_read() -> None:
    """A broken HEIC, a video and a malformed JPEG raise PhotoError naming the file."""
    with pytest.raises(PhotoError, match=r"^IMG_1\.HEIC: not a readable HEIC"):
        scan_photo(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", "IMG_1.HEIC")
    with pytest.raises(PhotoError, match=r"^v\.mov: a video"):
        scan_photo(b"\0\0\0\x14ftypqt  \0\0\0\0qt  ", "v.mov")
    with pytest.raises(PhotoError, match=r"^x\.jpg: not a valid JPEG"):
        scan_photo(fx.plain_jpeg()[:100], "x.jpg")


def test_heic_metadata_is_scanned() -> None:
    """A HEIC's EXIF (GPS, serial, owner) and XMP are read through pillow-heif."""
    found = kinds_and_details(scan_photo(fx.heic_photo(), "IMG_0001.HEIC"))
    assert {("gps", "43.23861 N, 76.94583 E"), ("serial", f"BodySerialNumber {fx.SERIAL}"),
            ("owner", f"CameraOwnerName {fx.OWNER}"), ("owner", f"XMP dc:creator {fx.CREATOR}")} <= found


def test_a_key_id_with_twelve_digits_in_a_row_is_no_identifier() -> None:
    """One minisign key id in 400 has 12 digits in a row: every bundle such a key signed or endorsed was reported
    to hold a "12-digit-number" (its id in bundle.json, the page, an endorsement's name and comment)."""
    from mirror.privacy.names import scan_name

    assert scan_text("signature from mirror secret key 596726605612CE81\nkey 596726605612ce81", "a") == []
    assert scan_name(".mirror/endorsements/596726605612CE81.minisig", False) == []
    assert len(scan_text("IIN 870105300128 and IIN870105300128abc", "a")) == 2  # a number glued to words is one
    for glued in ("Dana8 (701) 123-45-67 жазыңыз", "Aida-8 701 123 45 67", "Saule: 8 701 123 45 67-be",
                  "Feed-87011234567", "87011234567-deface", "8-701-123-45-67-Ed", "https://site.kz/u/870105300128-face",
                  "ded-870105300128"):  # a name or word glued to a number written with separators: no hash (helper-119)
        assert scan_text(glued, "a"), glued


def test_the_densest_blocks_are_left_out_until_the_rest_is_a_bounded_decode() -> None:
    """A block may shrink 300 times in a bundle of one forwarded appeal (create's own blocks of 4 MiB): read, while
    the whole archive stays under 100 times what it packs. A 450 KB file of 384 MiB is left out."""
    from mirror.privacy.scan_paths import _bombs

    mib = 1 << 20
    appeal = [(13_148, 4 * mib)] * 17 + [(40 * mib, 40 * mib)]  # 17 dense text blocks beside 40 MiB of photos
    assert _bombs(_Folders(appeal)) == set()
    forwarded = [(473_000 // 35, 4 * mib)] * 33 + [(1_000, 5 * mib)]  # 5,000 copies of one appeal: 137 MB, 290 times
    assert _bombs(_Folders(forwarded)) == set()
    bomb = [(450_000, 384 * mib), (2_000, 10_000)]
    assert _bombs(_Folders(bomb)) == {0}
    spread = [(450_000 // 8, 48 * mib)] * 8  # the same bomb in 8 blocks, each under the per-block floor
    left_out = _bombs(_Folders(spread))
    assert 48 * mib * (8 - len(left_out)) <= 256 * mib < 48 * mib * (9 - len(left_out))  # decoded: at most 256 MiB


class _Folders:
    """An archive's block table as _bombs reads it."""

    def __init__(self, blocks: list[tuple[int, int]]) -> None:
        self.folders = self
        self.pack_sizes = [p for p, _ in blocks]
        self.unpack_sizes = [u for _, u in blocks]

    def __len__(self) -> int:
        return len(self.pack_sizes)


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def test_the_capture_times_of_a_heic_sequence_are_found() -> None:
    """A burst or live photo is a HEIF with a movie box: its headers hold when it was taken (seconds from 1904),
    which libheif does not show; scan called such a file CLEAN (pillow-heif's nokia/bird_burst.heic)."""
    from mirror.privacy.heic import movie_times

    taken = int((dt.datetime(2022, 1, 5, 18, 30, tzinfo=dt.UTC) - dt.datetime(1904, 1, 1, tzinfo=dt.UTC))
                .total_seconds())
    movie = _box(b"mvhd", b"\0\0\0\0" + struct.pack(">II", taken, taken + 60) + bytes(88))
    track = _box(b"trak", _box(b"tkhd", b"\1\0\0\0" + struct.pack(">QQ", taken, taken) + bytes(80))
                 + _box(b"mdia", _box(b"mdhd", b"\0\0\0\0" + struct.pack(">II", taken + 5, 0) + bytes(12))))
    found = set(movie_times(fx.heic_photo() + _box(b"moov", movie + track)))
    assert found == {("datetime", "CreateDate 2022:01:05 18:30:00 (movie header)"),
                     ("datetime", "ModifyDate 2022:01:05 18:31:00 (movie header)"),
                     ("datetime", "ModifyDate 2022:01:05 18:30:00 (track header)"),
                     ("datetime", "CreateDate 2022:01:05 18:30:05 (media header)")}, found  # the same time: once
    scanned = kinds_and_details(scan_photo(fx.heic_photo() + _box(b"moov", movie), "IMG_0001.HEIC"))
    assert ("datetime", "CreateDate 2022:01:05 18:30:00 (movie header)") in scanned, scanned
    endless = _box(b"moov", _box(b"trak", b"\0\0\0\x08trak" * 100_000))  # empty boxes without end: bounded
    assert movie_times(fx.heic_photo() + endless) == []
    assert movie_times(b"\0\0\0\x10moov" + b"\xff" * 8) == []  # a size past the end


def _clean_heic() -> tuple[bytes, bytes]:
    """A HEIC of one image without metadata, and the same with the EXIF of fx.heic_photo on a second image."""
    import pillow_heif

    plain = pillow_heif.from_pillow(fx.pixels(64, 48, 5))
    out = io.BytesIO()
    plain.save(out, quality=80)
    second = pillow_heif.from_pillow(fx.pixels(32, 24, 7))
    second.info["exif"] = b"Exif\0\0" + fx.camera_tiff(orientation=1, thumbnail=False)
    both = pillow_heif.from_pillow(fx.pixels(64, 48, 5))
    both.add_from_heif(second[0])
    two = io.BytesIO()
    both.save(two, quality=80)
    return out.getvalue(), two.getvalue()


def test_every_image_of_a_heic_and_its_unlinked_items_are_scanned() -> None:
    """EXIF on a second image, or an Exif item no image links to (exiftool shows both): not CLEAN."""
    plain, two = _clean_heic()
    assert scan_photo(plain, "a.heic") == []
    assert ("serial", f"BodySerialNumber {fx.SERIAL}") in kinds_and_details(scan_photo(two, "two.heic"))
    unlinked = fx.heic_photo().replace(b"cdsc", b"cdsx")  # the items stay, the links to the image do not
    found = kinds_and_details(scan_photo(unlinked, "unlinked.heic"))
    assert ("serial", f"BodySerialNumber {fx.SERIAL}") in found and ("owner", f"XMP dc:creator {fx.CREATOR}") in found


def test_unlinked_exif_is_found_without_its_prefix_and_past_many_linked_ones() -> None:
    """An Exif item may hold a bare TIFF (no "Exif\\0\\0"); and blocks the images link, however many, never use up
    the search for one they do not."""
    from mirror.privacy.heic import _unlinked

    tiff = fx.camera_tiff(orientation=1, thumbnail=False)
    assert [kind for kind, _ in _unlinked(bytes(100) + tiff, set())] == ["exif"]
    linked = b"Exif\0\0" + tiff
    other = tiff.replace(fx.SERIAL.encode(), b"X" * len(fx.SERIAL))
    data = (bytes(16) + linked) * 20 + bytes(16) + b"Exif\0\0" + tiff[:8] + other[8:]
    found = _unlinked(data, {linked})
    assert len(found) == 1 and found[0][1].removeprefix(b"Exif\0\0").startswith(tiff[:8])


def test_a_heic_pillow_heif_cannot_list_is_a_photo_error_not_a_crash() -> None:
    """A primary item that is not HEVC made pillow-heif raise IndexError deep inside: one PhotoError instead."""
    odd = fx.heic_photo().replace(b"hvc1", b"av01", 1)
    try:
        scan_photo(odd, "odd.heic")
    except PhotoError as exc:
        assert str(exc).startswith("odd.heic: ")


def test_a_picture_inside_a_text_is_reported() -> None:
    """A Markdown editor's pasted picture (a base64 data: URI) carries its metadata inside the text."""
    import base64

    picture = base64.b64encode(fx.planted_jpeg()).decode()
    text = f"# Площадь\n\nДнём.\n\n![снимок](data:image/jpeg;base64,{picture})\n"
    found = [f for f in scan_text(text, "a.md") if f.kind == "embedded-file"]
    assert len(found) == 1 and found[0].detail.startswith("line 5: image/jpeg inside the text as base64")
    old_mac = [f.detail for f in scan_text(text.replace("\n", "\r"), "a.md") if f.kind == "embedded-file"]
    assert old_mac[0].startswith("line 5: ")  # lines that end in a lone \r count as editors count them
    assert not [f for f in scan_text("a data:image/png;base64, URI is how editors paste pictures", "b.md")
                if f.kind == "embedded-file"]
    for pasted in (f'<img src="data:image/jpeg;base64, {picture}">', f"снимок:\n{picture}\n"):  # a space; no header
        assert [f for f in scan_text(pasted, "c.md") if f.kind == "embedded-file"], pasted[:40]
    unnamed = [f.detail for f in scan_text(f"![](data:;base64,{picture})", "d.md") if f.kind == "embedded-file"]
    assert unnamed == ["line 1: a file inside the text as base64 (a data: URI), with whatever metadata it carries"]
    bare = [f.detail for f in scan_text(f"one\n{picture}\n![](DATA:IMAGE/JPEG;BASE64,{picture})", "e.md")
            if f.kind == "embedded-file"]  # a URI in capitals is one; a picture that begins a URI is the URI's
    assert bare == ["line 2: a picture inside the text as base64, with whatever metadata it carries",
                    "line 3: IMAGE/JPEG inside the text as base64 (a data: URI), with whatever metadata it carries"]
    assert not [f for f in scan_text(picture.swapcase(), "f.md") if f.kind == "embedded-file"]  # not base64 of one


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_a_file_in_a_saved_email_is_reported(newline: str) -> None:
    """MIME cuts base64 into lines of 76 characters: a saved e-mail's photo, its GPS inside, was signed (helper-159).
    Lines of base64 are one file, whatever ends them; so are a PDF's, an Office document's (a ZIP) and a HEIF's."""
    import base64

    def wrapped(data: bytes) -> str:
        coded = base64.b64encode(data).decode()
        return newline.join(coded[i:i + 76] for i in range(0, len(coded), 76))

    heif = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + bytes(range(256)) * 2
    for data, kind in ((fx.planted_jpeg(), "a picture"), (b"%PDF-1.7\n" + bytes(600), "a PDF document"),
                       (b"PK\x03\x04\x14\x00" + bytes(600), "a ZIP file (an Office document or an archive)"),
                       (heif, "a photo or video (HEIF, AVIF, MP4 or QuickTime)"),
                       (b"II*\x00\x08\x00\x00\x00" + bytes(600), "a picture")):
        mail = newline.join(["From: witness", "Content-Transfer-Encoding: base64", "", wrapped(data), "--XX--", ""])
        found = [f.detail for f in scan_text(mail, "letter.txt") if f.kind == "embedded-file"]
        assert found == [f"line 4: {kind} inside the text as base64, with whatever metadata it carries"], kind
        uri = f'<img src="data:image/jpeg;base64,{newline}  {wrapped(data)}">'
        assert [f for f in scan_text(uri, "a.html") if f.kind == "embedded-file"], kind
    prose = newline.join(["Вечером", "мы были", "на площади", "PK", "JVBERi0 " * 40])  # words, not a file
    assert not [f for f in scan_text(prose, "p.md") if f.kind == "embedded-file"]


def test_a_file_pasted_as_base64_in_other_shapes_is_reported() -> None:
    """What the first cut of this missed (helper-163): a quoted reply's lines ("> "), indented lines, JSON's escaped
    slashes, base64url, and 7z, RAR or gzip archives, which carry photos as a ZIP does."""
    import base64
    import json

    jpeg = fx.planted_jpeg()
    coded = base64.b64encode(jpeg).decode()
    lines = [coded[i:i + 76] for i in range(0, len(coded), 76)]
    shapes = {"> " + "\n> ".join(lines): "an image file", "    " + "\n    ".join(lines): "an image file",
              json.dumps({"photo": coded}).replace("/", "\\/"): "an image file",
              base64.urlsafe_b64encode(jpeg).decode(): "an image file"}
    for head in (b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07\x01\x00", b"\x1f\x8b\x08\x00"):
        shapes[base64.b64encode(head + bytes(600)).decode()] = "an archive file (7z, RAR or gzip)"
    for text, kind in shapes.items():
        found = embedded_file(text)
        assert found is not None and found[1] == f"{kind} as base64", text[:30]


def test_files_pasted_as_base64_are_found_where_a_look_behind_finds_them() -> None:
    """The search for a pasted file without its header (found by its first characters, then the one before it
    looked at) finds exactly what the pattern with a look-behind finds at every position, on texts dense with
    starts inside runs of base64, quoted lines and escaped slashes."""
    import random
    import re

    from mirror.privacy import identifiers

    behind = re.compile(r"(?<![A-Za-z0-9+/\\_-])" + identifiers._RAW_FILE.pattern)
    pieces = ["/9j/", "\\/9j\\/", "_9j_", "iVBORw0KGgo", "UEsDBA", "H4sI", "AAAAGGZ0eXA", "A" * 50, "Zm9v" * 20,
              "\n", "\n> ", " ", "-", "\\", "ё", "\r\n    ", "+", "=", "x" * 90]
    chooser = random.Random(181)
    total = 0
    for _ in range(300):
        text = "".join(chooser.choice(pieces) for _ in range(chooser.randint(1, 120)))
        expected = [m.span() for m in behind.finditer(text)]
        assert [m.span() for m in identifiers._raw_files(text)] == expected, text
        total += len(expected)
    assert total > 100  # files were there to find


def test_partial_findings_survive_a_broken_end() -> None:
    """A JPEG cut after its metadata still reports that metadata, with the reason the scan stopped."""
    result = scan_photo_chunks([fx.planted_jpeg()[:2000]], "cut.jpg")
    assert result.problem is not None and result.problem.startswith("not a valid JPEG")
    assert ("gps", "43.23861 N, 76.94583 E") in kinds_and_details(result.findings)


@pytest.mark.parametrize("size", [1, 7, 4096])
def test_chunked_scans_equal_whole_scans(size: int) -> None:
    """Fed in chunks of any size, the scanner finds exactly what it finds in the whole photo."""
    for data in (fx.planted_jpeg(progressive=True), fx.planted_png()):
        chunks = [data[i:i + size] for i in range(0, len(data), size)]
        assert scan_photo_chunks(chunks, "a").findings == scan_photo(data, "a")


@pytest.mark.parametrize(("text", "kind", "value"), [
    pytest.param("звоните +7 701 123 45 67 вечером", "phone", "+7 701 123 45 67", id="kz international"),
    pytest.param("тел. +7 (727) 250-12-34.", "phone", "+7 (727) 250-12-34", id="kz landline brackets"),
    pytest.param("8 701 123 45 67", "phone", "8 701 123 45 67", id="kz 8-7xx spaces"),
    pytest.param("номер 8 (747) 123-45-67", "phone", "8 (747) 123-45-67", id="kz 8-7xx brackets"),
    pytest.param("87011234567", "phone", "87011234567", id="kz 8-7xx digits"),
    pytest.param("+77011234567", "phone", "+77011234567", id="kz +7 digits"),
    pytest.param("call +44 20 7946 0958", "phone", "+44 20 7946 0958", id="uk"),
    pytest.param("viber +380-67-123-4567", "phone", "+380-67-123-4567", id="ua dashes"),
    pytest.param("пишите: aigerim.n+news@mail.kz.", "email", "aigerim.n+news@mail.kz", id="email"),
    pytest.param(f"ИИН {VALID_IIN}", "iin", VALID_IIN, id="iin"),
    pytest.param(f"ЖСН: {SECOND_PASS_IIN}", "iin", SECOND_PASS_IIN, id="iin second weights"),
    pytest.param("счёт 123456789012", "12-digit-number", "123456789012", id="12 digits, bad checksum"),
    pytest.param("тел +7-701-123-45-67", "phone", "+7-701-123-45-67", id="kz dashes"),
    pytest.param("Москва 8 495 123-45-67", "phone", "8 495 123-45-67", id="ru landline"),
    pytest.param("звони 250-12-34", "possible-phone", "250-12-34", id="local number"),
    pytest.param("тел +7\u2009701\u2009123\u200945\u200967", "phone", "+7 701 123 45 67", id="thin spaces"),
    pytest.param("тел 8\u202f701\u202f123\u202f45\u202f67", "phone", "8 701 123 45 67", id="narrow no-break"),
    pytest.param("тел +7 701 123\u221245\u221267", "phone", "+7 701 123-45-67", id="minus signs"),
    pytest.param("тел +7 701 123\u00ad45\u00ad67", "phone", "+7 701 1234567", id="soft hyphens"),
    pytest.param("тел +7 701\u200b123\u200b45\u200b67", "phone", "+7 7011234567", id="zero-width spaces"),
    pytest.param("тел 8 701 123\\-45\\-67", "phone", "8 701 123-45-67", id="markdown escapes"),
    pytest.param("WhatsApp: wa.me/79161234567", "phone", "79161234567", id="ru without plus"),
    pytest.param("Брат: 7 916 123 45 67", "phone", "7 916 123 45 67", id="ru 7 spaces"),
    pytest.param("Почта: айгерим@почта.рф", "email", "айгерим@почта.рф", id="cyrillic email"),
    pytest.param("Почта: aigerim@почта.қаз", "email", "aigerim@почта.қаз", id="kazakh domain"),
    pytest.param("Phone+77011234567", "phone", "+77011234567", id="after a word"),
    # neighbours' mobiles as dialled at home: Kyrgyzstan's 0 and nine digits, Uzbekistan's nine in groups
    pytest.param("Тел. 8.701.123.45.67", "phone", "8.701.123.45.67", id="points"),
    pytest.param("Бишкек: 0555 123 456", "phone", "0555 123 456", id="kg 0555"),
    pytest.param("Азамат 0 (700) 12-34-56", "phone", "0 (700) 12-34-56", id="kg brackets"),
    pytest.param("Ташкент, тел. 90 123 45 67", "possible-phone", "90 123 45 67", id="uz after a word"),
    pytest.param("Дилноза, WhatsApp: 93 123 45 67", "possible-phone", "93 123 45 67", id="uz after whatsapp"),
    pytest.param(f"ИИН{VALID_IIN}abc", "iin", VALID_IIN, id="iin before letters"),
    pytest.param(f"ИИН {VALID_IIN[:6]} {VALID_IIN[6:]}", "iin", f"{VALID_IIN[:6]} {VALID_IIN[6:]}", id="iin grouped"),
])
def test_scan_text_finds_identifiers(text: str, kind: str, value: str) -> None:
    """Phones, e-mail addresses, IINs and other 12-digit numbers are found with their line number, masked."""
    assert scan_text(f"первая строка\n{text}\n", "accounts/a.ru.md") == [
        Finding("accounts/a.ru.md", kind, f"line 2: {mask(value)}")]


@pytest.mark.parametrize(("text", "values"), [
    pytest.param("Айгерим Н. 1985 8 701 123 45 67\nЕржан, 1988 8 707 222 33 44\n18:30 8 702 765 43 21 мама\n",
                 ["8 701 123 45 67", "8 707 222 33 44", "8 702 765 43 21"], id="a list: year, time, number"),
    pytest.param("Звоните: +7 701 123 45 67 8 702 123 45 67", ["+7 701 123 45 67", "8 702 123 45 67"],
                 id="two numbers in a row"),
    pytest.param(f"ИИН {VALID_IIN[:6]} {VALID_IIN[6:]} 8 701 123 45 67",
                 [f"{VALID_IIN[:6]} {VALID_IIN[6:]}", "8 701 123 45 67"], id="grouped iin beside a phone"),
    pytest.param(f"Айгерим 1985 {VALID_IIN[:6]} {VALID_IIN[6:]}", [f"{VALID_IIN[:6]} {VALID_IIN[6:]}"],
                 id="grouped iin after a year"),
    pytest.param("Записала Айгерим, +7 701 123 45 67\n5 января в 18:30", ["+7 701 123 45 67"],
                 id="a plus number, a digit opens the next line"),
    pytest.param("Тел: 8 701\n123 45 67", ["8 701 123 45 67"], id="an 8 number cut by a line break"),
    pytest.param("> звоните +7 701\n> 123 45 67, это мой.", ["+7 701 123 45 67"], id="cut inside a quote"),
    pytest.param(">>> звоните +7 701\n>>> 123 45 67, это мой.", ["+7 701 123 45 67"], id="cut in a reply to a reply"),
    pytest.param("> > Тел 8 701\n> > > 123 45 67", ["8 701 123 45 67"], id="cut in quotes of quotes"),
    # helper-129: cut after a bracket, a dash, a later group, or with the code alone; a no-break space or hyphen
    pytest.param("> Тел: +7 (701)\n> 123 45 67", ["+7 (701) 123 45 67"], id="cut after a bracket"),
    pytest.param("Тел: 8 (701)\n123 45 67", ["8 (701) 123 45 67"], id="an 8 number cut after a bracket"),
    pytest.param("Тел: +7 701 123-\n45-67", ["+7 701 123- 45-67"], id="cut after a dash"),
    pytest.param("Тел: 8-701-\n123-45-67", ["8-701- 123-45-67"], id="an 8 number cut after a dash"),
    pytest.param("Тел: 8 701 123 45\n67 ок", ["8 701 123 45 67"], id="cut before the last pair"),
    pytest.param("Тел: +7\n701 123 45 67", ["+7 701 123 45 67"], id="the code alone on the line"),
    pytest.param("Тел: 8&nbsp;701\n123 45 67", ["8\u00a0701 123 45 67"], id="a no-break space, cut"),
    pytest.param("Тел: 8\u2011701\n123 45 67", ["8-701 123 45 67"], id="a no-break hyphen, cut"),
    pytest.param("> Тел: +7 **701**\n> 123 45 67", ["+7 701 123 45 67"], id="emphasis before the cut"),
    # helper-130: a list item's indented continuation, a sentence's end after the last pair, a name after a number
    pytest.param("10. Позвонить по номеру +7 701\n    123 45 67 до пятницы", ["+7 701 123 45 67"],
                 id="cut in a list item"),
    pytest.param("Мой номер +7 701 123 45\n67. Звоните после шести.", ["+7 701 123 45 67"], id="cut before 67."),
    pytest.param("Телефон: +7 701 123 45 67 Рубина", ["+7 701 123 45 67"], id="a name like a unit after it"),
    pytest.param("+7 727 259 60 60 Eurasian Bank", ["+7 727 259 60 60"], id="a word like a unit after it"),
    pytest.param("Тел -87011234567- Айгерим", ["87011234567"], id="a dash on each side"),
    pytest.param("Cafe-8-701-123-45-67", ["8-701-123-45-67"], id="a hex word and a dash before"),
    pytest.param("Dana87021234567, +77011234567Aigerim", ["87021234567", "+77011234567"], id="glued to Latin"),
    pytest.param("viber://chat?number=%2B77011234567", ["+77011234567"], id="percent-encoded plus"),
    pytest.param("Почта: aizhan&commat;mail.kz", ["aizhan@mail.kz"], id="character reference at"),
    pytest.param("Почта: aizhan&#x40;mail&period;kz", ["aizhan@mail.kz"], id="numeric references"),
    pytest.param(f"ИИН: {VALID_IIN[:6]}&shy;{VALID_IIN[6:]}", [VALID_IIN], id="soft hyphen reference"),
    pytest.param("Телефон: 8&nbsp;701&nbsp;123&nbsp;45&nbsp;67", ["8 701 123 45 67"], id="nbsp references"),
    pytest.param("Почта: aizhan@mail\\.kz", ["aizhan@mail.kz"], id="markdown escaped dot"),
    pytest.param("mailto:aizhan%40mail.kz", ["aizhan@mail.kz"], id="percent-encoded at"),
    pytest.param("aizhan\u00ad@mail.\u200bkz", ["aizhan@mail.kz"], id="invisible characters in an address"),
    pytest.param("aizhan\uff20mail\uff0ekz", ["aizhan@mail.kz"], id="full-width at and dot"),
    pytest.param("Карта: 4400 4302 1234 5679".translate(_FULL_WIDTH), ["4400 4302 1234 5679"],
                 id="a card in full-width digits"),
    pytest.param("Мы были тут: 43.238949, 76.889709".translate(_FULL_WIDTH), ["43.238949, 76.889709"],
                 id="coordinates in full-width digits, point and comma"),
    pytest.param("IBAN KZ84722C000012345678".translate(_FULL_WIDTH), ["KZ84722C000012345678"],
                 id="an IBAN's digits in full width"),
    pytest.param("ИИН: 870412 300416".translate(_FULL_WIDTH), ["870412 300416"], id="an IIN in full-width digits"),
    pytest.param("aizhan [at] mail [dot] kz", ["aizhan [at] mail [dot] kz"], id="at and dot in brackets"),
    pytest.param("aizhan(@)mail.kz или aizhan собака mail.kz", ["aizhan(@)mail.kz", "aizhan собака mail.kz"],
                 id="bracketed at, собака"),
    pytest.param("aizhan @ mail.kz", ["aizhan @ mail.kz"], id="spaces around at"),
    pytest.param("aizhan @ mail . kz, dana [at] gmail . com", ["aizhan @ mail . kz", "dana [at] gmail . com"],
                 id="spaces around the point too"),
    pytest.param("Пишите: aizhan @ mail . kz . Пишите ещё; dana [at] gmail . com . Then",
                 ["aizhan @ mail . kz", "dana [at] gmail . com"], id="a sentence's point after a spaced address"),
    pytest.param("тел 250 12 34, мобильный: 2501234, телефон — 50-12-34", ["250 12 34", "2501234", "50-12-34"],
                 id="local numbers said to be"),
    pytest.param("dana-87011234567-almaty, Aida-8-701-123-45-67-aktobe", ["87011234567", "8-701-123-45-67"],
                 id="names with hex letters on each side"),
    pytest.param("Фото: photos/aizhan@mail.kz.jpg", ["aizhan@mail.kz"], id="an address in a picture's name"),
    pytest.param("номер телефона 250 12 34", ["250 12 34"], id="номер телефона"),
    pytest.param("tel:+7%20701%20123%2045%2067", ["+7 701 123 45 67"], id="percent-encoded spaces"),
    pytest.param("8\u200e701\u200e1234567", ["87011234567"], id="direction marks"),
    pytest.param("aizhan@mail(dot)kz, aizhan@gmail[.]com", ["aizhan@mail(dot)kz", "aizhan@gmail[.]com"],
                 id="a dot written out after a plain at"),
    pytest.param("звоните 8 701 **123** 45 67", ["8 701 123 45 67"], id="emphasis inside a number"),
    pytest.param("Мой ИИН 870412**003**005, тел. +7 701**123**4567", ["870412003005", "+7 7011234567"],
                 id="emphasis between digits"),
    pytest.param("8-701-**123**-45-67, 8 701 ***123*** 45 67", ["8-701-123-45-67", "8 701 123 45 67"],
                 id="emphasis beside dashes, bold italic"),
    # helper-159: what the reader's page shows whole, or a Telegram post writes
    pytest.param("звоните 8701*123*4567", ["87011234567"], id="single asterisks between digits"),
    pytest.param("`8 701` 123 45 67, `+7 701 765 43 21`", ["8 701 123 45 67", "+7 701 765 43 21"], id="code spans"),
    pytest.param("aizhan@mail.**kz**, **dana**@mail.kz, aigerim@`mail.kz`",
                 ["aizhan@mail.kz", "dana@mail.kz", "aigerim@mail.kz"], id="emphasis inside e-mail addresses"),
    pytest.param("📞 8\ufe0f\u20e37\ufe0f\u20e30\ufe0f\u20e31\ufe0f\u20e31\ufe0f\u20e32\ufe0f\u20e33\ufe0f\u20e3"
                 "4\ufe0f\u20e35\ufe0f\u20e36\ufe0f\u20e37\ufe0f\u20e3", ["87011234567"], id="emoji keycap digits"),
    pytest.param("8\u2063701\u2063123\u20634567, aizhan\u2063@mail.kz", ["87011234567", "aizhan@mail.kz"],
                 id="invisible separators"),
    pytest.param("8\u1680701\u1680123\u168045\u168067; 8\u2800701\u2800123\u280045\u280067",
                 ["8 701 123 45 67", "8 701 123 45 67"], id="spaces that show blank"),
    pytest.param("87\ufe0f01123\U000e00204567", ["87011234567"], id="a variation selector and a tag"),
    pytest.param("8\u206a701\u180b123\u17b445\U0001d17367, aizhan\U0001bca0@mail.kz",
                 ["87011234567", "aizhan@mail.kz"], id="other format characters"),  # helper-163
    pytest.param("Дом 5 701 123 45 67; в 18:30 701 765 43 21 написал", ["701 123 45 67", "701 765 43 21"],
                 id="a mobile after another number"),
    pytest.param("звоните 8 7\u041e1 123 45 67, тел 8 7O1 765 43 21", ["8 701 123 45 67", "8 701 765 43 21"],
                 id="a letter O for a zero"),
    pytest.param("8 70О 123 45 67; 8 701 О23 45 67; 8 7ОО 123 45 67; 8 701 123 45 6О",
                 ["8 700 123 45 67", "8 701 023 45 67", "8 700 123 45 67", "8 701 123 45 60"],
                 id="O's at a group's edge"),
    pytest.param("Dana87О11234567, 8 7\u039f1 765 43 21, 8 7\u30071 765 43 22, 8 7\uff4f1 765 43 23",
                 ["87011234567", "8 701 765 43 21", "8 701 765 43 22", "8 701 765 43 23"],
                 id="O glued to a name, Greek, ideographic and full-width O"),
    pytest.param("87О11234567Dana, тел 87О11234567тел", ["87011234567", "87011234567"],
                 id="O in a number glued to the word after it"),  # as 87011234567Dana is found
])
def test_identifiers_as_people_write_them(text: str, values: list[str]) -> None:
    """Lists of people with years and numbers side by side, numbers glued to names or cut by a line break, and
    addresses written so that robots miss them or as the reader's page shows them (helper-120): each found, with
    the line it is on."""
    found = scan_text(f"первая строка\n{text}\n", "accounts/a.ru.md")
    assert [f.detail.split(": ", 1)[1] for f in found] == [mask(value) for value in values]
    assert found[0].detail.startswith("line 2: ")


@pytest.mark.parametrize("text", [
    "поговорили о 2022 годе, о 1500 задержанных; ООО 123 456 ответило", "chmod 0o755 and 0o7324528887",
    "I was @ home . Then we left", "мы @ дома . потом ушли", "I was @ home . Then . Later we left",
    "ущерб составил 87 012 345 678 тенге; 77 011 234 567 тенге", "photo@2x.png ![](images/square@2x.jpg)",
    "05 01 2022 18 30", "I looked at tengrinews.kz yesterday", "злая собака лаяла. Потом", "встреча @ 18:00 у дома 8",
    "uuid 123e4567-e89b-12d3-a456-870105300128", "В 2022 году 8 700 человек; 1 300 ранены, 4 266 задержаны.",
    # helper-123: what the shapes beside libphonenumber took for numbers at first
    "Бюджет вырос на +12 500 000 тенге.", "Казахстан 18 754 440 2022", "в 2022 году: 1 754 120 2023",
    "ущерб 8 499 852\n2010 года", "400 117 734 105 1991", "build 73923585748", "Бюджет 2022: 1 870 105 300 129 тенге",
    "Алматы\t615\t2011\t13765\t237\t135", "Всю ночь лает собака соседа.Страшно было выходить.",
    "Подробнее @ tengrinews.kz", "RT @ tengrinews.kz: новости", "Новости в 17:30 @ khabar.kz", "в (эт) кафе.kz",
    "Приказ номер 123456 от 5 января", "Номер: 100 500", "дом 12345", "сот. 20000 тенге", "whatsapp 5 7 2022",
    "сервер 35.14.212.141 не отвечал",
    "1024*1024*1024 = 1073741824 байт", "3600*24*365*100 секунд",  # products, no emphasis (helper-127)
    # helper-130: a "+" of one or two digits at a line's end (a table's growth column, a score) before a figure;
    # a figure grouped like an 8 number, cut before another
    "Выручка | Рост\n--- | ---\n1 234 567 | +5\n2 345 678 | +12\n", "Успеваемость выросла на +5\n2022-2023 учебный год",
    "Изменение к прошлому году (+3)\n12 500 000 пассажиров", "Итого: +5\n1 200 000 теңге",
    "Счёт 3:2 (+1)\n2022-2023 сезон", "Бюджет составил 8 705 123 456\n1,5 раза больше",
    "a `code` span, `x = 5`, 2*3*4, file_name.txt and __init__.py", "1️⃣ first 2️⃣ second, 2022 ❤️ 2023",
    # a time of day with its seconds, then a year and a time zone: a git log's, a mail client's date line
    "Date:   Tue Jan 7 14:00:38 2014 -0500", "Thu Feb 9 18:26:35 2023 -0500", "Tue Aug 16 01:47:49 2022 -0400",
    # shaped like a neighbour's mobile dialled at home, and none: a book's ISBN, a figure, no operator's code
    "95 100 20 30", "Результаты: 90 120 45 60", "90 123 45 67",  # a row of a table, an Uzbek mobile without a word
    "ISBN 0553123456", "12 345 67 89", "0123456789", "1.90 123 45 67", "0,555 123 456", "0312 123 456 789",
    # Unicode code points; a version and a date in eight digits
    "Treat U+002D and U+2010..2014 as placeholders", "gcc 2.96 20000814 (experimental)",
    # versions: a point and one digit alone
    "chromium (99.0.4844.84-1) unstable", "gtk+3.0 (3.24.38-2~deb12u3) bookworm", "  7187  9.0.0002  map.c",
    # hexadecimal numbers and a UUID of digits alone
    "# 0x555555558054 <supports_rdrand>", "0x1.999999999999ap-4", "UUID('{12345678-1234-5678-1234-567812345678}')",
])
def test_sums_dates_and_pictures_are_no_identifiers(text: str) -> None:
    """Sums grouped by thousands, pictures named @2x, a date and time written with spaces, words like "at" and
    "собака" in sentences: no finding."""
    assert scan_text(text, "a.md") == []


def test_lines_are_counted_as_editors_count_them() -> None:
    """A form feed (one a page in pdftotext's output) is no line break: the number is on line 4, as grep -n says."""
    found = scan_text("Page one\n\x0cPage two\n\x0cPage three\n\x0cМой номер 8 701 123 45 67\n", "a.txt")
    assert [f.detail for f in found] == ["line 4: 8 7•• ••• •• 67"]


def test_stray_bytes_in_utf8_are_read_as_windows_western() -> None:
    """No-break spaces pasted from a cp1252 source (single 0xA0 bytes) inside a number in a UTF-8 note: read as
    U+FFFD they cut it (CLEAN); read as the code page they came from, it is found (helper-123)."""
    para = "Пятого января вечером мы вышли на площадь, интернет уже не работал, связи не было.\n".encode()
    found = list(scan_blocks(text_lines([para + b"Tel: 8\xa0701\xa0123\xa045\xa067\n"]), "n.txt"))
    assert [(f.kind, f.detail) for f in found] == [("phone", "line 2: 8 7•• ••• •• 67")]


def test_overlapping_spans_are_found_as_a_scan_would() -> None:
    """The spans a finding took, asked in logarithmic time whether a new one overlaps (a list of all of them,
    walked for each number after a keyword, made a block of them quadratic: 70 s a megabyte)."""
    import random

    from mirror.privacy.identifiers import _Spans

    rng = random.Random(5)
    spans = [(a, a + rng.randint(1, 30)) for a in (rng.randint(0, 1000) for _ in range(200))]
    taken = _Spans(list(spans))
    for _ in range(2000):
        start = rng.randint(0, 1040)
        end = start + rng.randint(1, 20)
        assert taken.overlaps(start, end) == any(a < end and start < b for a, b in spans)


def test_a_utf8_text_with_a_stray_byte_is_read_as_utf8() -> None:
    """One cp1252 dash in a UTF-8 note: read as UTF-8 (it was read as Latin-1, and the no-break spaces inside the
    number and the Cyrillic address were garbled: CLEAN)."""
    raw = "Заметки ".encode() + b"\x96 " + "Пишите: айгерим@почта.рф\n".encode()
    raw += "Тел.: 8\u00a0702\u00a0123\u00a045\u00a067\n".encode()
    found = list(scan_blocks(text_lines([raw]), "n.txt"))
    assert [f.kind for f in found] == ["email", "phone"]


@pytest.mark.parametrize(("value", "masked"), [
    ("+7 701 123 45 67", "+7 7•• ••• •• 67"), ("aigerim.n+news@mail.kz", "ai•••••.•+••••@••••.kz"),
    ("900105300123", "90••••••••23"), ("123", "1••"),
])
def test_mask_keeps_only_the_ends(value: str, masked: str) -> None:
    """Masked values keep their shape and only two characters at each end."""
    assert mask(value) == masked


def test_digits_in_hashes_and_ids_are_not_identifiers() -> None:
    """Digits inside hex strings (SHA-256, bundle ids, UUIDs) are never read as IINs or phone numbers."""
    text = (f"sha256 ab{VALID_IIN}cd and 7d2a87011234567ab; id 9160a32272b841109d3e2645b87aafa7\n"
            f"uuid 123e4567-e89b-12d3-a456-{VALID_IIN}; {VALID_IIN}0aa1b2c3d4e5f6a7\n")
    assert scan_text(text, "bundle.json") == []


def test_a_number_cut_by_a_line_break_is_found() -> None:
    """A hard-wrapped e-mail or .txt breaks "+7 701" from "123 45 67": found, on the line where it starts."""
    found = scan_text("Позвоните моему брату +7 701\n123 45 67, он знает.\n", "a.txt")
    assert [f.detail for f in found] == ["line 1: +7 7•• ••• •• 67"]


def test_a_name_with_underscores_is_read_like_one_with_spaces() -> None:
    """Aigerim_8_701_123_45_67.md names a phone number; an e-mail address keeps its underscore and is named once."""
    assert [f.kind for f in scan_name("accounts/Aigerim_8_701_123_45_67.md", photo=False)] == ["phone"]
    assert [f.detail for f in scan_name("accounts/aigerim_k@mail.ru.md", photo=False)] == [
        "name: ai•••••_•@••••.ru"]


def test_identifier_across_a_block_edge_is_found_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A line longer than a block is scanned in overlapping parts: an identifier at the edge is found once."""
    monkeypatch.setattr(texts, "MAX_BLOCK", 100)
    monkeypatch.setattr(texts, "OVERLAP", 30)
    for offset in range(80, 110):
        line = "x" * offset + " +7 701 123 45 67 " + "y" * 150
        found = scan_text(f"a\n{line}\nb +7 702 000 00 00\n", "a.md")
        assert [f.detail for f in found] == ["line 2: +7 7•• ••• •• 67", "line 3: +7 7•• ••• •• 00"], offset


@pytest.mark.parametrize("text", [CLEAN_RU, CLEAN_KK, CLEAN_EN, ""])
def test_clean_texts_have_no_findings(text: str) -> None:
    """Dates, times, grouped numbers, percentages and addresses are not identifiers."""
    assert scan_text(text, "a.md") == []


def test_iin_checksum() -> None:
    """The check digit uses weights 1..11, then 3..11,1,2 when the first pass gives 10."""
    assert iin_valid(VALID_IIN) and iin_valid(SECOND_PASS_IIN)
    wrong = VALID_IIN[:-1] + str((int(VALID_IIN[-1]) + 1) % 10)
    assert not iin_valid(wrong)


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_iin_checksum_matches_reference(prefix: str) -> None:
    """For any 11 digits, iin_valid accepts exactly the check digit the reference computes."""
    check = _check_digit(prefix)
    for last in range(10):
        assert iin_valid(prefix + str(last)) == (last == check)


@given(st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2099, 12, 31)))
def test_dates_and_times_are_never_findings(moment: dt.datetime) -> None:
    """Dates and times in the usual formats give no findings."""
    formats = ("%Y-%m-%d", "%d.%m.%Y", "%H:%M", "%H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y %H:%M",
               "%Y:%m:%d %H:%M:%S", "%d/%m/%Y", "%Y%m%d", "%a %b %d %H:%M:%S %Y -0500", "%a %b %d %H:%M:%S %Y +0600")
    text = "; ".join(moment.strftime(f) for f in formats) + f" {moment.isoformat()}"
    assert scan_text(text, "a.md") == []


@given(st.text(max_size=300))
def test_scan_text_never_raises(text: str) -> None:
    """Any text is scanned without error, and every finding points at a real line."""
    for finding in scan_text(text, "a.md"):
        number = int(finding.detail.split(":")[0].removeprefix("line "))
        assert 1 <= number <= len(text.splitlines())


def test_readable_strings_in_any_script_and_not_from_noise() -> None:
    """Text in a block of unknown kind is shown whatever its script, a long run even inside binary data; runs in
    random bytes and the JPEG Huffman table of embedded previews are not."""
    import random

    from mirror.privacy.findings import readable_strings

    noise = random.Random(7).randbytes
    for name in ("Owner: Aigerim Nurlanovna", "Владелец: Айгерим", "Γιώργος Παπαδόπουλος", "محمد بن علي الحسن"):
        assert readable_strings(name.encode()) == [name]
        assert any(name in found for found in readable_strings(noise(4000) + name.encode() + noise(4000)))
    assert sum(len(readable_strings(noise(60_000))) for _ in range(20)) <= 3
    assert readable_strings(b"\0" * 100 + b"456789:CDEFGHIJSTUVWXYZcdefghijstuvwxyz" + b"\0" * 100) == []


def _canon_note_tiff(tag: int, kind: int, value: bytes) -> bytes:
    """EXIF from a Canon whose maker note holds one entry with its value out of line (offset from the TIFF
    header), as canon_owner_tiff makes it."""
    note = struct.pack("<HHHI", 1, tag, kind, len(value)) + b"\xde\xad\xbe\xef" + struct.pack("<I", 0) + value
    tiff = fx.camera_tiff(orientation=1, thumbnail=False, makernote=note, make="Canon")
    at = tiff.index(note)
    return tiff[:at + 10] + struct.pack("<I", at + 18) + tiff[at + 14:]


@pytest.mark.parametrize(("tag", "kind", "value", "detail"), [
    pytest.param(0x0028, 1, bytes.fromhex("54e8b2b5539347478841864f8be0dcc5"),
                 "maker-note ImageUniqueID 0x54e8b2b5539347478841864f8be0dcc5", id="binary id in hex"),
    pytest.param(0x000C, 7, b"\0\0S010604030293", "maker-note SerialNumber S010604030293", id="text padded"),
])
def test_maker_note_values_are_shown_as_the_author_can_read_them(tag: int, kind: int, value: bytes,
                                                                   detail: str) -> None:
    """16 binary bytes (Canon's ImageUniqueID) in hex, not replacement characters; a text padded with NULs as the
    text. (An OwnerName of NULs names no one: no finding, test_scan_empty.py.)"""
    found = kinds_and_details(scan_photo(fx.exif_jpeg(_canon_note_tiff(tag, kind, value)), "c.jpg"))
    assert any(text == detail for _, text in found), found


def test_strings_that_name_someone_are_shown_before_trivia() -> None:
    """A block of unknown kind shows 8 strings: an old camera's "Serial#" after 10 settings, and a JSON account
    name inside binary boxes (C2PA identity claims), are among them; a C2PA block is named as one."""
    settings = b"\0".join(b"Setting%02d=%d" % (i, i) for i in range(10))
    olympus = fx.splice(fx.plain_jpeg(), fx.segment(0xEC, b"[pic]\0" + settings + b"\0Serial#=#00000001\0"))
    found = kinds_and_details(scan_photo(olympus, "o.jpg"))
    assert ("text", "in it: Serial#=#00000001") in found, found
    boxes = (b"JP\0\x01\0\0\0\x01" + b"\0\0\x01\0jumb\0\0\0\x20jumdc2pa" + bytes(range(256)) * 8
             + b'{"type":"cawg.social_media","username":"aigerim_almaty","verifiedAt":"2025"}')
    c2pa = fx.splice(fx.plain_jpeg(), fx.segment(0xEB, boxes))
    found = kinds_and_details(scan_photo(c2pa, "c.jpg"))
    assert ("text", "in it: username: aigerim_almaty") in found, found
    assert any(detail.startswith("APP11 segment of C2PA content credentials") for _, detail in found), found


def test_a_json_pair_comes_first_and_its_parts_are_not_shown_again() -> None:
    """An account address under "uri" stays first whatever else names a "name"; the key and the value of a pair
    shown are not shown again as runs of their own (they took 2 of the 8 places)."""
    from mirror.privacy.findings import readable_strings

    block = (b'\x00\x01{"uri":"https://t.me/aigerim_almaty","username":"aigerim_s"}\x00\x02'
             + b"\x00".join(b"c2pa.hash.data name%02d" % i for i in range(10)))
    shown = readable_strings(block)
    assert shown[:2] == ["uri: https://t.me/aigerim_almaty", "username: aigerim_s"], shown
    assert "username" not in shown and "aigerim_s" not in shown and len(shown) == 8


def test_a_cyrillic_address_after_many_ordinary_runs_is_still_shown() -> None:
    """Once 8 ordinary runs are kept, only telling ones are looked at: an address written in Cyrillic must still
    count as one (a bytes pattern's \\w is ASCII only)."""
    from mirror.privacy.findings import readable_strings

    block = b"\x00".join(b"ordinary run %02d aeiou" % i for i in range(9)) + "\0иван@почта.kz".encode()
    assert readable_strings(block)[0] == "иван@почта.kz"


def test_strings_left_out_are_said_to_be_there() -> None:
    """Eight decoy pairs before a real author's name fill the 8 places: a line says there is more, so that an author
    keeping this photo's metadata knows the list is not all of it."""
    decoys = b",".join(b'"username":"decoy%d"' % i for i in range(8))
    photo = fx.splice(fx.plain_jpeg(), fx.segment(0xEC, b"Notes\0{" + decoys + b',"author":"Real Person"}'))
    texts = [detail for kind, detail in kinds_and_details(scan_photo(photo, "d.jpg")) if kind == "text"]
    assert "and more readable text in it, not shown here" in texts and len(texts) == 9, texts
    few = fx.splice(fx.plain_jpeg(), fx.segment(0xEC, b'Notes\0{"author":"Real Person"}'))
    assert not any("not shown" in d for _, d in kinds_and_details(scan_photo(few, "f.jpg")))


def test_blocks_past_the_per_file_cap_are_walked_but_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """A JPEG of 400 unknown blocks: 200 are listed and the file is said to hold more; the blocks past the
    cap are not searched for readable text (that cost 22 s for 26 MB of crafted blocks), but a damaged
    segment after them still stops the scan."""
    import mirror.privacy.scan as scan_module

    calls: list[int] = []
    real = scan_module.with_strings
    monkeypatch.setattr(scan_module, "with_strings", lambda found, data: calls.append(1) or real(found, data))
    blocks = b"".join(fx.segment(0xE0 + 9, b"Junk\0" + f"user{n} serial SN{n:06}".encode()) for n in range(400))
    result = scan_photo_chunks([fx.splice(fx.plain_jpeg(), blocks)], "a.jpg")
    assert result.problem is None and len(result.findings) == 201
    assert sum(calls) <= 201
    damaged = fx.splice(fx.plain_jpeg(), blocks + b"\xff\xe9\x00\x01")
    assert scan_photo_chunks([damaged], "a.jpg").problem is not None


def test_an_afcp_trailer_of_thousands_of_entries_is_read_for_a_few() -> None:
    """Each of 2,700 entries pointing at the same 64 KiB of IPTC was read again (a minute and 2.5 GB for one photo):
    each entry once, and at most 16 (helper-123)."""
    size = 64 << 10
    trailer = (b"AXS!\x00\x01" + struct.pack(">H", 2700) + b"\0" * 4 + struct.pack(">4sII", b"IPTC", size, 1000) * 2700
               + b"\x1c\x02\x50\x00\x00" * (size // 5))[:size]
    findings = scan_photo_chunks([fx.plain_jpeg() + trailer], "x.jpg").findings
    assert len(findings) < 20 and any(f.kind == "trailing-data" for f in findings)


def test_an_afcp_trailer_that_claims_more_entries_than_it_has_lists_only_them() -> None:
    """A count larger than the entries there read the data after them as entries ("AFCP entry 0x1c025000,
    567316688 bytes"): the entries end at the first that has no tag of letters (helper-124)."""
    jpeg = fx.plain_jpeg()
    iptc = b"\x1c\x02\x50\x00\x06Byline"
    trailer = bytearray(_afcp(">", iptc, len(jpeg)))
    trailer[6:8] = struct.pack(">H", 9)
    found = kinds_and_details(scan_photo(jpeg + bytes(trailer), "n.jpg"))
    assert ("owner", "IPTC By-line Byline") in found
    assert not any(detail.startswith("AFCP entry") for _, detail in found), found


def test_accounts_named_by_date_and_time_are_no_identifiers() -> None:
    """Names like 05_01_2022_1830.md (a day's notes, one a time): 283 of 2,880 five-minute slots of 2-11 January
    were IINs (helper-120), and deleting underscores between digits as if they were emphasis made 106,272 of a
    year's (helper-125's round). Every slot of a year: none."""
    import itertools

    flagged = [name for day, month, hour, minute in itertools.product(range(1, 32), range(1, 13), range(24),
                                                                        range(0, 60, 5))
               if scan_name(name := f"accounts/{day:02}_{month:02}_2022_{hour:02}{minute:02}.md", photo=False)]
    assert flagged == [], flagged[:5]


def test_afcp_entries_are_read_from_where_the_trailer_says_it_starts() -> None:
    """An entry of binary tag before the IPTC one, and a count that lies over data of readable text: offsets taken
    from the kept entries read the wrong bytes, and text data was read as entries ("AFCP entry 'Alma'", the byline
    lost; helper-126). The trailer's end record says where it starts: offsets count from there."""
    jpeg = fx.plain_jpeg()
    iptc = b"\x1c\x02\x50\x00\x0aJohn Smith"
    text = b"Photo by John Smith, Almaty 2022 for the courier"
    start, first = len(jpeg), len(jpeg) + 12 + 24
    table = struct.pack(">4sII", b"\x00\x01\x02\x03", 4, first + len(iptc)) + \
        struct.pack(">4sII", b"IPTC", len(iptc), first)
    end = b"AXS!" + struct.pack(">II", start, 0)
    trailer = b"AXS!" + struct.pack(">HHI", 1, 2, 0) + table + iptc + b"\0\0\0\0" + end
    found = kinds_and_details(scan_photo(jpeg + trailer, "n.jpg"))
    assert ("owner", "IPTC By-line John Smith") in found, found
    table = struct.pack(">4sII", b"IPTC", len(iptc), first) + \
        struct.pack(">4sII", b"Text", len(text), first + len(iptc))
    trailer = b"AXS!" + struct.pack(">HHI", 1, 9, 0) + table + iptc + text + end
    found = kinds_and_details(scan_photo(jpeg + trailer, "n.jpg"))
    assert ("owner", "IPTC By-line John Smith") in found and ("other-metadata", "AFCP entry 'Text', 48 bytes") in found
    assert [d for k, d in found if d.startswith("AFCP entry")] == ["AFCP entry 'Text', 48 bytes"], found


@pytest.mark.parametrize("last_line", ["Звоните +7 701\n", "Звоните 8 701 123 45 67\n", "Тел +998 90 123\n",
                                       "Тел 8 (701)\n"])
def test_the_line_a_block_ends_with_is_read_again_with_the_next(last_line: str) -> None:
    """A long text is scanned in blocks of lines: a number cut by the line break where a block ended was split
    between two blocks and signed unseen. The next block starts again with the last line, and reports what starts
    there: a number wholly on it, or its first part (+998 90 123, helper-129), is reported once, whole, on its own
    line."""
    from mirror.privacy.texts import MAX_BLOCK

    line = "Пятого января мы вышли на площадь.\n"
    body = line * ((MAX_BLOCK - len(last_line)) // len(line))
    body += "x" * (MAX_BLOCK - len(last_line) - len(body) - 1) + "\n"
    text = body + last_line + "123 45 67 ок\n" + line * 10
    number = len(body) + 4
    expected = f"line {text.count(chr(10), 0, number) + 1}: "
    found = scan_text(text, "a.md")
    assert [f.detail.split(": ")[0] + ": " for f in found] == [expected]


@pytest.mark.parametrize("text", ["номер 7012345678", "тел. (727) 250-12-34", "(495) 123-45-67", "(7172) 55-55-55",
                                  "8 701 123 45 67", "+7 701 123 45 67", "Tel 8(727)2501234", "8(727)250-12-34",
                                  "номер 7012345678.", "0555 123 456", "0 (700) 12-34-56"])
def test_numbers_past_the_budget_are_found_by_their_shapes(text: str) -> None:
    """Once a run's libphonenumber checks are spent, shapes alone judge: a mobile without its 8, glued, and an area
    code in brackets without it were missed, and a folder whose other files spent the budget scanned CLEAN where the
    file alone did not (helper-134)."""
    from mirror.privacy.identifiers import Checks, Finder

    run = Checks(0)
    assert [kind for kind, *_ in Finder(run).find(text)] == ["phone"]
    assert run.short


@pytest.mark.parametrize("text", ["ISBN 978-7012345678", "tracking RB7012345678KZ", "t=7051234567ms",
                                  "build 1.0.7012345678", "file_7012345678.txt"])
def test_ten_digits_inside_a_word_or_an_id_are_no_glued_mobile(text: str) -> None:
    """The shape of a mobile without its 8 (7012345678) is looked for only as a word of its own (helper-135)."""
    from mirror.privacy.identifiers import Checks, Finder

    assert Finder(Checks(0)).find(text) == []


def test_create_judges_every_candidate_of_the_authors_own_files() -> None:
    """Past a file's 20,000 candidates create judged numbers by shape alone, without a word, and could sign one
    that shapes miss (helper-135): the author's own collection has no budget."""
    from mirror.bundle.prepare import _Pass
    from mirror.privacy.identifiers import PHONE_CHECKS, RUN_PHONE_CHECKS

    checks = _Pass.__dataclass_fields__["checks"].default_factory()  # type: ignore[misc]
    assert checks.per_file > 1000 * PHONE_CHECKS and checks.left > 1000 * RUN_PHONE_CHECKS


def test_xmp_ids_in_the_forms_real_photos_carry_are_named() -> None:
    """XMP as Photoshop and older cameras wrote it: the first prefix (xapMM:, xap:), a document id given as an
    rdf:resource, a DerivedFrom given in stRef: attributes, the camera's own file name (PreservedFileName). Scan
    said only "XMP packet, N properties" of them (helper-154's sweep of metadata-extractor-images, exif-py and
    Pillow's test photos); create removes them in any case."""
    from mirror.privacy.scan_blocks import scan_xmp

    packet = (b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
              b"<rdf:Description rdf:about='' xmlns:xapMM='http://ns.adobe.com/xap/1.0/mm/' "
              b"xapMM:DocumentID='adobe:docid:photoshop:4f1c' xap:CreateDate='2003-05-01T10:00:00'>"
              b"<xmpMM:DocumentID rdf:resource='uuid:9A3B-77'/>"
              b"<xmpMM:DerivedFrom stRef:documentID='xmp.did:0180' stRef:instanceID='xmp.iid:0181'/>"
              b"<xapMM:PreservedFileName>IMG_0412.JPG</xapMM:PreservedFileName>"
              b"</rdf:Description></rdf:RDF></x:xmpmeta>")
    found = scan_xmp(packet)
    assert ("unique-id", "XMP xmpMM:DocumentID adobe:docid:photoshop:4f1c") in found
    assert ("unique-id", "XMP xmpMM:DocumentID uuid:9A3B-77") in found
    assert ("unique-id", "XMP xmpMM:DerivedFrom xmp.did:0180 xmp.iid:0181") in found
    assert ("datetime", "XMP xmp:CreateDate 2003-05-01T10:00:00") in found
    assert ("name", "XMP xmpMM:PreservedFileName IMG_0412.JPG") in found


def test_xmp_sources_rights_links_raw_names_and_country_codes_are_named() -> None:
    """Properties real photos carry that scan counted only in "XMP packet, N properties": Camera Raw's name of the
    RAW file (crs:RawFileName DSC_1801.NEF, a Nikon D70's; Pillow's xmp_test.jpg IMG_0918.CR2), IPTC's Source and
    the rights holder's web page (FreeFoto.com, www.freefoto.com: FujiFilm photos in metadata-extractor-images),
    a country code, GPS time, a transmission reference, and a PDF-style author (exiftool's ExtendedXMP.jpg)."""
    from mirror.privacy.scan_blocks import scan_xmp

    packet = (b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
              b"<rdf:Description rdf:about='' crs:RawFileName='DSC_1801.NEF' photoshop:Source='FreeFoto.com' "
              b"xmpRights:WebStatement='www.freefoto.com' Iptc4xmpCore:CountryCode='KAZ' "
              b"exif:GPSTimeStamp='2008-12-07T17:35:52Z' photoshop:TransmissionReference='AB-1234' "
              b"pdf:Author='PLANTED Author'>"
              b"<dc:publisher><rdf:Bag><rdf:li>PLANTED Publisher</rdf:li></rdf:Bag></dc:publisher>"
              b"</rdf:Description></rdf:RDF></x:xmpmeta>")
    found = scan_xmp(packet)
    assert {("name", "XMP crs:RawFileName DSC_1801.NEF"), ("owner", "XMP photoshop:Source FreeFoto.com"),
            ("owner", "XMP xmpRights:WebStatement www.freefoto.com"), ("place", "XMP Iptc4xmpCore:CountryCode KAZ"),
            ("datetime", "XMP exif:GPSTimeStamp 2008-12-07T17:35:52Z"),
            ("unique-id", "XMP photoshop:TransmissionReference AB-1234"), ("owner", "XMP pdf:Author PLANTED Author"),
            ("owner", "XMP dc:publisher PLANTED Publisher")} <= set(found)


def test_text_a_photoshop_ducky_segment_keeps_in_utf16_is_shown() -> None:
    """Photoshop's "Save for Web" writes an APP12 "Ducky" segment whose copyright and comment are UTF-16: scan said
    only "APP12 segment 'Ducky', 461 bytes" of a real photo whose copyright names an agency and whose comment names
    a person (helper-154; exiftool shows both). Its text is shown, in Latin or Cyrillic letters, not read one byte
    off."""
    def record(tag: int, text: str) -> bytes:
        data = struct.pack(">I", len(text)) + text.encode("utf-16-be")
        return struct.pack(">HH", tag, len(data)) + data

    ducky = b"Ducky" + struct.pack(">HHI", 1, 4, 60) + record(2, "Photo by Aigerim Nurlanovna") \
        + record(3, "© Алматы Ньюс Агентство") + b"\0\0"
    photo = fx.splice(fx.plain_jpeg(), fx.segment(0xEC, ducky))
    shown = " | ".join(f.detail for f in scan_photo(photo, "p.jpg") if f.kind == "text")
    assert "Photo by Aigerim Nurlanovna" in shown and "Алматы Ньюс Агентство" in shown, shown


def test_utf16_runs_that_are_not_words_are_not_text() -> None:
    """A table of 16-bit numbers from 0x20 to 0x7e reads as UTF-16 letters and punctuation: five made-up "text"
    findings of a lookup table (helper-155). And a name after many short runs is still found, and "more" said."""
    from mirror.privacy.findings import shown_strings

    table = b"LUT16\0" + b"".join(struct.pack(">H", 32 + (i * 7) % 95) for i in range(2000))
    assert shown_strings(table) == ([], False)
    decoys = (b"\x00A" * 6 + b"\x01\x01") * 130 + "Photographer: Ivan Petrov".encode("utf-16-le")
    assert shown_strings(decoys) == (["Photographer: Ivan Petrov"], False)
    words = b"\x01".join(f"Photographer number {n} of the agency".encode("utf-16-be") for n in range(70))
    shown, more = shown_strings(words)
    assert more and shown[0] == "Photographer number 0 of the agency"
    cyrillic = b"\x01\x02\x03" + ("Съёмка: Иван Петров " * 100).encode("utf-16-le")  # read one byte off: no
    assert shown_strings(cyrillic)[1] is False  # "more" of runs that are not words (helper-156)


@pytest.mark.parametrize(("text", "value"), [
    ("ИИН 8701053ОО128", "870105300128"),  # Cyrillic O's, only ever two together
    ("звоните 87ОО1234567", "87001234567"),
])
def test_a_run_of_letters_o_between_digits_is_read_as_zeros(text: str, value: str) -> None:
    """readable's first look (_ZERO_HINT) finds a run of O's between digits as _ZERO_LIKE reads it, not only a
    single O: a number whose only O's come two together was left unread."""
    import random

    from mirror.privacy.identifiers import _ZERO_HINT, _ZERO_LIKE, _zeros, readable

    for probe in ("1OO1", "2ооо3", "1O1", "7ОO8"):
        assert bool(_ZERO_HINT.search(probe)) == bool(_ZERO_LIKE.search(probe)), probe
    rng = random.Random(7)
    for _ in range(20_000):  # whatever the view would change, the first look finds
        probe = "".join(rng.choice("10 -OоО\u03bfaЖ_.") for _ in range(rng.randint(1, 12)))
        if _ZERO_LIKE.sub(_zeros, probe) != probe:
            assert _ZERO_HINT.search(probe), probe
    assert value.replace(" ", "") in readable(text)[0].replace(" ", "")
    assert scan_text(text, "a.md"), text


def test_xmp_licensors_and_image_suppliers_are_named() -> None:
    """PLUS's licensor and image supplier (metadata-extractor-images' "Issue 258 (dotnet).jpg", IPTC's reference
    photo) give a name, an e-mail address, telephone numbers and a street address, as the creator's contact info
    does; scan counted them only in "XMP packet, N properties"."""
    from mirror.privacy.scan_blocks import scan_xmp

    packet = (b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
              b"<rdf:Description rdf:about='' xmlns:plus='http://ns.useplus.org/ldf/xmp/1.0/'>"
              b"<plus:Licensor><rdf:Seq><rdf:li rdf:parseType='Resource'>"
              b"<plus:LicensorName>PLANTED Aigerim</plus:LicensorName>"
              b"<plus:LicensorEmail>aigerim@example.kz</plus:LicensorEmail>"
              b"</rdf:li></rdf:Seq></plus:Licensor>"
              b"<plus:ImageSupplier><rdf:Seq><rdf:li rdf:parseType='Resource'>"
              b"<plus:ImageSupplierName>PLANTED Agency</plus:ImageSupplierName>"
              b"</rdf:li></rdf:Seq></plus:ImageSupplier>"
              b"</rdf:Description></rdf:RDF></x:xmpmeta>")
    found = scan_xmp(packet)
    assert ("owner", "XMP plus:Licensor PLANTED Aigerim aigerim@example.kz") in found, found
    assert ("owner", "XMP plus:ImageSupplier PLANTED Agency") in found, found


def test_c2pa_place_and_rights_assertions_are_shown() -> None:
    """Content credentials as a news agency's camera writes them (exiftool's t/images/ExifTool.jpg, a Reuters
    photo): the JUMBF boxes' own labels filled the 8 places, and its "cai.location.broad" and "cai.rights"
    assertions, {"location": "Salem, Oregon"} and {"copyright": "Alisha Jucevic"}, were left out; so would GPS
    given in a JSON-LD "exif:GPSLatitude" be."""
    def box(label: bytes, content: bytes) -> bytes:
        description = b"jumd" + b"json" + bytes(12) + b"\x03" + label + b"\0"
        return b"\0\0\0\0jumb" + struct.pack(">I", 8 + len(description)) + description + content

    boxes = (b"JP\0\x01\0\0\0\x01" + b"\0\0\x01\x9djumb\0\0\0\x1djumdcacb" + bytes(17) + b"cai\0"
             + box(b"cai.assertions", b"") + box(b"adobe.asset.info", b'json{"title": "OREGON_SALEM_08.jpg"}')
             + box(b"cai.location.broad", b'json{"location": "Salem, Oregon"}')
             + box(b"cai.rights", b'json{"copyright": "Alisha Jucevic"}')
             + box(b"stds.exif", b'json{"exif:GPSLatitude": "44,56.12N", "exif:GPSLongitude": "123,2.1W"}'))
    found = kinds_and_details(scan_photo(fx.splice(fx.plain_jpeg(), fx.segment(0xEB, boxes)), "c.jpg"))
    for pair in ("location: Salem, Oregon", "copyright: Alisha Jucevic", "exif:GPSLatitude: 44,56.12N",
                 "exif:GPSLongitude: 123,2.1W"):
        assert ("text", f"in it: {pair}") in found, found


def test_a_serial_of_digits_and_few_letters_in_a_block_of_fields_is_shown() -> None:
    """An InfiRay thermal camera's APP9 segment (exiftool's t/images/InfiRay.jpg) keeps its sensors' makers, names,
    part numbers and serial numbers in fields padded with NULs: the serial, P200019B15656148, has two letters and
    no vowel, and was left out as chance bytes; only "infisense" and "P2_USB_IR" were shown."""
    def field(text: bytes, size: int) -> bytes:
        return text.ljust(size, b"\0")

    block = (field(b"infisense", 64) + field(b"P2_USB_IR", 64) + field(b"P2_B_V2.0_2080100019B15656148", 64)
             + field(b"P200019B15656148", 64) + field(b"2.07.01.00", 64) + struct.pack("<ff", 1.1, 3.2) + bytes(56))
    found = kinds_and_details(scan_photo(fx.splice(fx.plain_jpeg(), fx.segment(0xE9, block)), "t.jpg"))
    assert ("text", "in it: P200019B15656148") in found, found


def test_a_dji_drone_s_own_xmp_position_is_named() -> None:
    """DJI drones write where a photo was taken in their own XMP namespace (drone-dji:GpsLatitude, and
    GpsLongtitude as DJI spells it; exiftool's DJI.pm reads these and Latitude/Longitude), some firmware there
    only, not in EXIF. Scan counted them only in "XMP packet, N properties"."""
    from mirror.privacy.scan_blocks import scan_xmp

    packet = (b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
              b"<rdf:Description rdf:about='' xmlns:drone-dji='http://www.dji.com/drone-dji/1.0/' "
              b"drone-dji:GpsLatitude='+43.2389457' drone-dji:GpsLongtitude='+76.8897123' "
              b"drone-dji:AbsoluteAltitude='+812.50'>"
              b"<drone-dji:GpsLongitude>+76.8897123</drone-dji:GpsLongitude>"
              b"</rdf:Description></rdf:RDF></x:xmpmeta>")
    found = scan_xmp(packet)
    assert {("gps", "XMP drone-dji:GpsLatitude +43.2389457"), ("gps", "XMP drone-dji:GpsLongtitude +76.8897123"),
            ("gps", "XMP drone-dji:GpsLongitude +76.8897123")} <= set(found), found
