"""The scanner finds every planted identifier in photos and texts, and nothing in clean ones."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

import photo_fixtures as fx
from mirror.errors import PhotoError
from mirror.privacy.scan import Finding, iin_valid, scan_photo, scan_text
from mirror.privacy.strip import strip_photo

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


VALID_IIN = next(p + str(c) for p in (f"90010530{n:03}" for n in range(1000))
                 if (c := _check_digit(p)) is not None and _passes(p)[0] != 10)
SECOND_PASS_IIN = next(p + str(c) for p in (f"85031540{n:03}" for n in range(1000))
                       if (c := _check_digit(p)) is not None and _passes(p)[0] == 10)


def kinds_and_details(findings: list[Finding]) -> set[tuple[str, str]]:
    """The findings as (kind, detail) pairs."""
    return {(f.kind, f.detail) for f in findings}


def test_scan_jpeg_finds_every_planted_item() -> None:
    """GPS, dates, make, model, serials, software, owner names, XMP, IPTC, thumbnail, comment, trailer."""
    findings = scan_photo(fx.planted_jpeg(), "photos/a.jpg")
    assert {f.path for f in findings} == {"photos/a.jpg"}
    found = kinds_and_details(findings)
    expected = {
        ("gps", "43.23861 N, 76.94583 E"), ("gps", "GPS position in XMP"),
        ("datetime", f"DateTimeOriginal {fx.TAKEN}"), ("datetime", f"DateTime {fx.TAKEN}"),
        ("datetime", "GPSDateStamp 2022:01:05"), ("make", f"Make {fx.MAKE}"), ("model", f"Model {fx.MODEL}"),
        ("serial", f"BodySerialNumber {fx.SERIAL}"), ("serial", f"LensSerialNumber {fx.LENS_SERIAL}"),
        ("software", f"Software {fx.SOFTWARE}"), ("owner", f"Artist {fx.ARTIST}"),
        ("owner", f"CameraOwnerName {fx.OWNER}"), ("owner", f"XMP dc:creator {fx.CREATOR}"),
        ("owner", f"IPTC By-line {fx.BYLINE}"), ("xmp", "XMP metadata present"),
        ("iptc", "IPTC/Photoshop metadata present"), ("exif-thumbnail", "a preview image in EXIF IFD1"),
        ("comment", fx.COMMENT), ("trailing-data", f"{len(fx.TRAILER)} bytes after the end of the image"),
        ("other-metadata", "APP12 segment Ducky"),
    }
    assert found == expected


def test_scan_png_finds_every_planted_item() -> None:
    """tEXt, zTXt and iTXt text, XMP in iTXt, eXIf tags with GPS, tIME, and the trailer."""
    found = kinds_and_details(scan_photo(fx.planted_png(), "b.png"))
    assert {
        ("text", f"Author: {fx.ARTIST}"), ("text", f"Comment: {fx.COMMENT}"),
        ("text", "Description: PLANTED Описание: площадь"), ("owner", f"XMP dc:creator {fx.CREATOR}"),
        ("datetime", "PNG tIME 2022-01-05 18:30:00"), ("gps", "43.23861 N, 76.94583 E"),
        ("serial", f"BodySerialNumber {fx.SERIAL}"), ("make", f"Make {fx.MAKE}"),
        ("trailing-data", f"{len(fx.TRAILER)} bytes after the IEND chunk"),
    } <= found


@pytest.mark.parametrize(("make", "note", "kind", "detail"), [
    pytest.param("Canon", fx.canon_makernote(123456789), "serial", "maker-note serial number 123456789",
                 id="canon"),
    pytest.param("NIKON CORPORATION", fx.nikon_makernote("7654321"), "serial",
                 "maker-note serial number 7654321", id="nikon"),
    pytest.param("Acme", b"ACME\0" + b"\0" * 20, "makernote",
                 "maker notes, 25 bytes (may hold a serial number)", id="other"),
])
def test_maker_note_serial_numbers(make: str, note: bytes, kind: str, detail: str) -> None:
    """Canon and Nikon maker-note serials are read; other maker notes are flagged."""
    tiff = fx.camera_tiff(orientation=1, thumbnail=False, makernote=note, make=make)
    found = kinds_and_details(scan_photo(fx.exif_jpeg(tiff), "c.jpg"))
    assert (kind, detail) in found


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
    pytest.param(fx.exif_jpeg(b"II*\0\xff\xff\xff\xff"), id="jpeg with empty broken exif"),
])
def test_clean_photos_have_no_findings(data: bytes) -> None:
    """Nothing is reported for photos without metadata (an Orientation-only EXIF included)."""
    assert scan_photo(data, "clean") == []


def test_broken_exif_is_reported_not_raised() -> None:
    """An EXIF block that is not TIFF is reported as unreadable metadata."""
    found = scan_photo(fx.exif_jpeg(b"not a tiff header"), "e.jpg")
    assert kinds_and_details(found) == {("other-metadata", "unreadable EXIF block")}


def test_scan_refuses_formats_it_cannot_read() -> None:
    """HEIC and malformed photos raise PhotoError naming the file."""
    with pytest.raises(PhotoError, match=r"^IMG_1\.HEIC: a HEIC"):
        scan_photo(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", "IMG_1.HEIC")
    with pytest.raises(PhotoError, match=r"^x\.jpg: not a valid JPEG"):
        scan_photo(fx.plain_jpeg()[:100], "x.jpg")


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
])
def test_scan_text_finds_identifiers(text: str, kind: str, value: str) -> None:
    """Phones, e-mail addresses, IINs and other 12-digit numbers are found with their line number."""
    assert scan_text(f"первая строка\n{text}\n", "accounts/a.ru.md") == [
        Finding("accounts/a.ru.md", kind, f"line 2: {value}")]


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
               "%Y:%m:%d %H:%M:%S", "%d/%m/%Y", "%Y%m%d")
    text = "; ".join(moment.strftime(f) for f in formats) + f" {moment.isoformat()}"
    assert scan_text(text, "a.md") == []


@given(st.text(max_size=300))
def test_scan_text_never_raises(text: str) -> None:
    """Any text is scanned without error, and every finding points at a real line."""
    for finding in scan_text(text, "a.md"):
        number = int(finding.detail.split(":")[0].removeprefix("line "))
        assert 1 <= number <= len(text.splitlines())
