"""Photo cleaning: every planted item goes, pixels and compressed data stay, bad input is a PhotoError."""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import photo_fixtures as fx
from helpers import decoded, exiftool, refused_alike
from mirror.errors import PhotoError
from mirror.privacy.exif import KINDS, read_tiff
from mirror.privacy.jpeg import orientation_segment, parse_jpeg, strip_jpeg
from mirror.privacy.png import parse_png, strip_png
from mirror.privacy.scan import scan_photo
from mirror.privacy.strip import (
    HEIC_HINT,
    HINT,
    TIFF_OR_RAW_FIX,
    VIDEO_FIX,
    describe_metadata,
    detect_kind,
    strip_photo,
)

NAME = "photos/снимок 1.jpg"
JPEG_KINDS = ("exif", "gps", "exif-thumbnail", "xmp", "iptc", "icc", "mpf", "comment", "other-app-segment",
              "trailing-data")
PNG_KINDS = ("exif", "gps", "xmp", "icc", "text", "time", "other-chunk", "trailing-data")
VARIANTS = [pytest.param(False, False, id="baseline"), pytest.param(True, False, id="progressive"),
            pytest.param(False, True, id="restart markers")]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_names_file(exc: PhotoError, name: str) -> None:
    """A PhotoError message is one line that starts with the file's name."""
    assert str(exc).startswith(f"{name}: ")
    assert exc.name == name
    assert "\n" not in str(exc)


def run_cleaner(func: Callable[[bytes, str], object], data: bytes, name: str = NAME) -> None:
    """Call a cleaner on arbitrary bytes: only PhotoError may escape, and it names the file."""
    try:
        func(data, name)
    except PhotoError as exc:
        assert_names_file(exc, name)


@pytest.mark.parametrize(("progressive", "restarts"), VARIANTS)
def test_strip_jpeg_removes_every_planted_item(progressive: bool, restarts: bool) -> None:
    """EXIF (GPS, serials, thumbnail), XMP, IPTC, ICC, MPF, APP12, COM and the trailer all go."""
    stripped = strip_photo(fx.planted_jpeg(progressive, restarts), NAME)
    assert stripped.removed == JPEG_KINDS
    assert stripped.orientation == 6
    for secret in fx.SECRETS:
        assert secret.encode() not in stripped.data
    assert b"MOTION" not in stripped.data and stripped.data.endswith(b"\xff\xd9")
    assert scan_photo(stripped.data, NAME) == []


@pytest.mark.parametrize(("progressive", "restarts"), VARIANTS)
def test_stripped_jpeg_keeps_only_jfif_and_orientation(progressive: bool, restarts: bool) -> None:
    """Our parser sees one JFIF APP0 and one APP1 whose TIFF holds nothing but Orientation."""
    parsed = parse_jpeg(strip_photo(fx.planted_jpeg(progressive, restarts), NAME).data, NAME)
    apps = [s for s in parsed.segments if 0xE0 <= s.marker <= 0xEF or s.marker == 0xFE]
    assert [s.marker for s in apps] == [0xE0, 0xE1]
    assert apps[0].payload == fx.plain_jpeg()[6:20]  # Pillow's JFIF header, untouched
    tiff = read_tiff(apps[1].payload[6:])
    assert tiff is not None and tiff.orientation() == 6
    assert [name for name, _ in tiff.ifds] == ["IFD0"] and set(tiff.ifd0) == {0x0112}
    assert parsed.trailing == 0


@pytest.mark.parametrize(("progressive", "restarts"), VARIANTS)
def test_exiftool_finds_nothing_but_orientation_in_stripped_jpeg(progressive: bool, restarts: bool) -> None:
    """exiftool agrees: no EXIF, GPS, XMP, IPTC, ICC, comment, thumbnail or trailer warning is left."""
    raw = fx.planted_jpeg(progressive, restarts)
    before, after = exiftool(raw), exiftool(strip_photo(raw, NAME).data)
    assert {"GPS:GPSLatitude", "IFD1:ThumbnailImage", "XMP-dc:Creator", "IPTC:By-line"} <= set(before)
    groups = {key.split(":")[0] for key in after}
    assert groups <= {"SourceFile", "ExifTool", "System", "File", "JFIF", "Composite", "IFD0"}
    assert [key for key in after if key.startswith("IFD0:")] == ["IFD0:Orientation"]
    assert after["IFD0:Orientation"] == "Rotate 90 CW"
    assert "File:Comment" not in after and "ExifTool:Warning" not in after


@pytest.mark.parametrize(("progressive", "restarts"), VARIANTS)
def test_strip_jpeg_keeps_pixels_orientation_and_scan_data(progressive: bool, restarts: bool) -> None:
    """Decoded pixels, oriented pixels and the bytes from the first SOS to EOI are identical."""
    raw, plain = fx.planted_jpeg(progressive, restarts), fx.plain_jpeg(progressive, restarts)
    stripped = strip_photo(raw, NAME).data
    assert decoded(stripped) == decoded(raw)
    assert decoded(stripped, transpose=True) == decoded(raw, transpose=True)
    assert decoded(stripped, transpose=True)[1] == (32, 48)  # Orientation 6 still turns it upright
    after_app0 = 4 + struct.unpack(">H", plain[4:6])[0]
    assert stripped.startswith(plain[:after_app0])  # SOI and Pillow's JFIF APP0
    assert stripped.endswith(plain[after_app0:])  # tables, frame, every scan and EOI, byte for byte
    assert raw.count(plain[plain.index(b"\xff\xda"):-2]) == 1


def test_progressive_and_restart_jpegs_have_their_markers() -> None:
    """The fixtures really exercise several scans with DHT between them, and RSTn markers."""
    progressive = parse_jpeg(fx.plain_jpeg(progressive=True), NAME).segments
    assert sum(s.marker == 0xDA for s in progressive) > 1
    markers = [s.marker for s in progressive]
    assert 0xC4 in markers[markers.index(0xDA):]
    restarts = [s for s in parse_jpeg(fx.plain_jpeg(restarts=True), NAME).segments if s.marker == 0xDA]
    assert any(bytes((0xFF, m)) in restarts[0].raw for m in range(0xD0, 0xD8))
    assert 0xDD in [s.marker for s in parse_jpeg(fx.plain_jpeg(restarts=True), NAME).segments]


def test_jfif_thumbnail_is_cut_and_jfxx_dropped() -> None:
    """A JFIF APP0 keeps its header without the thumbnail; a JFXX thumbnail APP0 goes."""
    raw = fx.jfif_thumbnail_jpeg()
    stripped = strip_jpeg(raw, NAME)
    assert stripped.removed == ("jfif-thumbnail", "jfxx-thumbnail")
    app0 = [s for s in parse_jpeg(stripped.data, NAME).segments if s.marker == 0xE0]
    assert [s.payload for s in app0] == [b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00"]
    assert b"PLANTD" not in stripped.data and decoded(stripped.data) == decoded(raw)


def test_adobe_app14_is_kept_for_cmyk() -> None:
    """Adobe APP14 carries the colour transform of a CMYK JPEG; it stays so the pixels do not change."""
    out = io.BytesIO()
    fx.pixels(16, 16, 4).convert("CMYK").save(out, "JPEG", quality=90)
    raw = fx.splice(b"\xff\xd8" + fx.segment(0xE0, fx.plain_jpeg()[6:20]) + out.getvalue()[2:],
                    fx.segment(0xFE, b"PLANTED"))
    stripped = strip_jpeg(raw, NAME)
    assert stripped.removed == ("comment",)
    assert 0xEE in [s.marker for s in parse_jpeg(stripped.data, NAME).segments]
    assert decoded(stripped.data) == decoded(raw)


def test_clean_jpeg_is_unchanged_and_orientation_one_adds_nothing() -> None:
    """A Pillow JPEG comes back byte-identical; EXIF with Orientation 1 is dropped entirely."""
    plain = fx.plain_jpeg()
    assert strip_photo(plain, NAME).data == plain
    assert strip_photo(plain, NAME).removed == ()
    upright = strip_photo(fx.exif_jpeg(fx.camera_tiff(orientation=1)), NAME)
    assert (upright.data, upright.orientation) == (plain, 1)


@pytest.mark.parametrize("tiff", [
    pytest.param(b"II*\0\xff\xff\xff\xff", id="IFD offset past the end"),
    pytest.param(b"MM\0*\0\0\0\x08\xff\xff", id="entry count past the end"),
    pytest.param(b"XX*\0\0\0\0\x08", id="bad byte order"),
    pytest.param(b"II*", id="short header"),
    pytest.param(fx.camera_tiff(orientation=9), id="orientation out of range"),
    pytest.param(fx.camera_tiff()[:60], id="cut inside IFD0"),
])
def test_broken_exif_means_orientation_one(tiff: bytes) -> None:
    """A broken EXIF block is removed and reads as "orientation unknown", never an error."""
    stripped = strip_photo(fx.exif_jpeg(tiff), NAME)
    assert (stripped.orientation, stripped.data) == (1, fx.plain_jpeg())
    assert "exif" in stripped.removed


def test_strip_png_removes_every_planted_item() -> None:
    """tEXt, zTXt, iTXt, eXIf, tIME, iCCP, bKGD and the trailer go; IDAT and colour chunks stay as they were."""
    raw = fx.planted_png()
    stripped = strip_png(raw, "a.png")
    assert stripped.removed == PNG_KINDS
    before, after = parse_png(raw, "a.png"), parse_png(stripped.data, "a.png")
    assert [c.type for c in after.chunks] == [b"IHDR", b"gAMA", b"pHYs", b"IDAT", b"IEND"]
    kept = [c.raw for c in before.chunks if c.type in (b"IHDR", b"gAMA", b"pHYs", b"IDAT", b"IEND")]
    assert [c.raw for c in after.chunks] == kept
    assert decoded(stripped.data) == decoded(raw)
    for secret in fx.SECRETS:
        assert secret.encode() not in stripped.data
    assert scan_photo(stripped.data, "a.png") == []
    assert strip_png(fx.plain_png(), "a.png").data == fx.plain_png()


def test_exiftool_finds_no_metadata_in_stripped_png() -> None:
    """exiftool sees text, time, EXIF and ICC before, and none of them after."""
    before, after = exiftool(fx.planted_png()), exiftool(strip_photo(fx.planted_png(), "a.png").data)
    assert {"PNG:Author", "PNG:ModifyDate", "GPS:GPSLatitude", "XMP-dc:Creator"} <= set(before)
    groups = {key.split(":")[0] for key in after}
    assert groups <= {"SourceFile", "ExifTool", "System", "File", "PNG", "PNG-pHYs", "Composite"}
    assert not {"PNG:Author", "PNG:Comment", "PNG:ModifyDate", "PNG:Description-ru", "ExifTool:Warning"} & set(after)


@pytest.mark.parametrize(("data", "what"), [
    pytest.param(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", "HEIC", id="heic"),
    pytest.param(b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf", "AVIF", id="avif"),
    pytest.param(b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2mp41", "video", id="mp4"),
    pytest.param(b"\0\0\0\x14ftypqt  \0\0\0\0qt  ", "video", id="mov"),
    pytest.param(b"II*\0\x08\0\0\0", "RAW", id="tiff or dng"),
    pytest.param(b"MM\0*\0\0\0\x08", "RAW", id="nef big-endian"),
    pytest.param(b"II+\0\x08\0\0\0\x10\0\0\0\0\0\0\0", "RAW", id="bigtiff"),
    pytest.param(b"BM\x36\0\0\0", "BMP", id="bmp"),
    pytest.param(b"hello, not a photo", "not a JPEG, PNG, WebP or GIF", id="text"),
])
def test_unsafe_formats_are_refused_with_the_hint(data: bytes, what: str) -> None:
    """HEIC, AVIF, video, RAW and BMP raise PhotoError naming the file, with a hint that never keeps metadata."""
    if what == "HEIC":  # a readable one: a damaged one is told to be copied again instead
        data = fx.heic_photo()
    for func in (detect_kind, strip_photo, describe_metadata):
        with pytest.raises(PhotoError, match=what) as caught:
            func(data, "DCIM/IMG_0001.HEIC")
        assert_names_file(caught.value, "DCIM/IMG_0001.HEIC")
        assert caught.value.hint == {"HEIC": HEIC_HINT, "RAW": TIFF_OR_RAW_FIX, "video": VIDEO_FIX}.get(what, HINT)
        assert "--keep-metadata" not in (caught.value.hint or "")


def test_content_decides_not_the_extension() -> None:
    """A PNG named .jpg is cleaned as PNG; an empty file is refused."""
    assert detect_kind(fx.plain_png(), "x.jpg") == "png"
    assert detect_kind(fx.plain_jpeg(), "x.png") == "jpeg"
    with pytest.raises(PhotoError, match="empty"):
        detect_kind(b"", "x.jpg")


def test_describe_metadata_lists_kinds_without_changing_anything() -> None:
    """describe_metadata reports what strip would remove; the input bytes are not touched."""
    raw = fx.planted_jpeg()
    copy = bytes(raw)
    assert describe_metadata(raw, NAME) == JPEG_KINDS
    assert raw == copy
    assert describe_metadata(fx.planted_png(), "a.png") == PNG_KINDS
    assert set(JPEG_KINDS) | set(PNG_KINDS) | {"jfif-thumbnail", "jfxx-thumbnail"} <= set(KINDS)


@pytest.mark.parametrize(("data", "reason"), [
    pytest.param(b"\xff\xd8\xff\xd9", "no image data", id="no frame or scan"),
    pytest.param(b"\xff\xd8\xff\xe1\x00\x01\xff\xd9", "length 1", id="length below 2"),
    pytest.param(b"\xff\xd8\xff\xfe\x10\x00abc", "runs past the end", id="length past end"),
    pytest.param(b"\xff\xd8\x00\x00", "truncated", id="garbage after SOI, then nothing"),
    pytest.param(b"\xff\xd8\xff\x02\x00\x04ab\xff\xd9", "unexpected marker", id="reserved marker"),
    pytest.param(b"\xff\xd8\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00\xff\xd9", "before any frame", id="SOS first"),
    pytest.param(b"\xff\xd8\xff\xd8\xff\xd9", "unexpected marker", id="second SOI"),
    pytest.param(b"\xff\xd8\xff\xc0\x00\x05abc\xff\xd9", "malformed frame", id="short SOF"),
])
def test_malformed_jpegs_raise_photo_error(data: bytes, reason: str) -> None:
    """Each kind of broken JPEG gets a one-line reason naming the file."""
    with pytest.raises(PhotoError, match=reason) as caught:
        strip_jpeg(data, NAME)
    assert_names_file(caught.value, NAME)


def _png_with(*chunks: bytes, header: tuple[int, ...] = (1, 1, 8, 0, 0, 0, 0)) -> bytes:
    ihdr = fx.chunk(b"IHDR", struct.pack(">IIBBBBB", *header))
    return fx.plain_png()[:8] + ihdr + b"".join(chunks) + fx.chunk(b"IEND", b"")


@pytest.mark.parametrize(("data", "reason"), [
    pytest.param(_png_with(fx.chunk(b"acTL", b"\0" * 8), fx.chunk(b"IDAT", b"x")), "announces no frames",
                 id="apng of no frames"),
    pytest.param(_png_with(fx.chunk(b"IDAT", b"x"), fx.chunk(b"ZZZZ", b"")), "unknown critical", id="critical"),
    pytest.param(_png_with(), "no IDAT", id="no image data"),
    pytest.param(_png_with(fx.chunk(b"IDAT", b"x"), fx.chunk(b"tEXt", b"a\0b"), fx.chunk(b"IDAT", b"y")),
                 "not consecutive", id="split IDAT"),
    pytest.param(fx.plain_png()[:8] + fx.chunk(b"IDAT", b"x"), "IHDR must be the first", id="IHDR not first"),
    pytest.param(fx.plain_png()[:-1] + b"\0", "bad CRC", id="bad CRC"),
    pytest.param(fx.plain_png()[:-12], "truncated", id="no IEND"),
    pytest.param(b"\x89PNG\r\n\x1a\x0b", "not a JPEG, PNG, WebP or GIF", id="bad signature"),
    # headers no decoder shows (PngSuite's x*.png): bundled as clean photos nobody could look at
    pytest.param(_png_with(fx.chunk(b"IDAT", b"x"), header=(0, 1, 8, 0, 0, 0, 0)), "a size of 0 x 1",
                 id="no width"),
    pytest.param(_png_with(fx.chunk(b"IDAT", b"x"), header=(1, 1, 8, 1, 0, 0, 0)), "colour type 1 with bit depth 8",
                 id="colour type 1"),
    pytest.param(_png_with(fx.chunk(b"IDAT", b"x"), header=(1, 1, 3, 2, 0, 0, 0)), "colour type 2 with bit depth 3",
                 id="depth 3"),
    pytest.param(_png_with(fx.chunk(b"IDAT", b"x"), header=(1, 1, 8, 0, 0, 0, 2)), "interlace method",
                 id="interlace 2"),
    pytest.param(_png_with(fx.chunk(b"IDAT", b"x"), header=(1, 1, 8, 3, 0, 0, 0)), "without its palette",
                 id="palette missing"),
])
def test_malformed_pngs_raise_photo_error(data: bytes, reason: str) -> None:
    """Each kind of broken PNG gets a one-line reason naming the file."""
    with pytest.raises(PhotoError, match=reason) as caught:
        strip_photo(data, "a.png")
    assert_names_file(caught.value, "a.png")


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes_raise_only_photo_error(data: bytes) -> None:
    """Arbitrary bytes, with or without a JPEG or PNG signature in front, never raise anything else."""
    for prefix in (b"", b"\xff\xd8\xff", fx.plain_png()[:8]):
        for func in (strip_photo, describe_metadata, scan_photo):
            run_cleaner(func, prefix + data)


@pytest.mark.parametrize("make", [fx.plain_jpeg, lambda: fx.plain_jpeg(progressive=True), fx.plain_png])
@FUZZ
@given(cut=st.floats(0, 1, exclude_max=True))
def test_every_truncation_is_a_photo_error(make: Callable[[], bytes], cut: float) -> None:
    """A valid JPEG or PNG cut anywhere before its end is refused with a PhotoError naming the file."""
    data = make()
    with pytest.raises(PhotoError) as caught:
        strip_photo(data[:int(cut * len(data))], NAME)
    assert_names_file(caught.value, NAME)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), min_size=1, max_size=8))
def test_mutated_photos_raise_only_photo_error_and_clean_idempotently(edits: list[tuple[int, int]]) -> None:
    """Random byte edits of the planted photos: PhotoError or a clean result that stripping leaves alone."""
    for raw in (fx.planted_jpeg(), fx.planted_png()):
        data = fx.mutated(raw, edits)
        try:
            stripped = strip_photo(data, NAME)
        except PhotoError as exc:
            assert_names_file(exc, NAME)
            continue
        assert 1 <= stripped.orientation <= 8
        assert strip_photo(stripped.data, NAME).data == stripped.data
        run_cleaner(scan_photo, data)


_SEGMENT = st.tuples(st.integers(0, 255), st.binary(max_size=40), st.integers(-3, 3))


@FUZZ
@given(st.lists(_SEGMENT, max_size=12), st.booleans(), st.binary(max_size=20))
def test_random_segment_sequences_raise_only_photo_error(
    segments: list[tuple[int, bytes, int]], eoi: bool, tail: bytes
) -> None:
    """SOI, random markers with right or wrong lengths, optional EOI and tail: only PhotoError."""
    body = b"".join(bytes((0xFF, marker)) + struct.pack(">H", max(0, len(payload) + 2 + skew)) + payload
                    for marker, payload, skew in segments)
    data = b"\xff\xd8" + body + (b"\xff\xd9" if eoi else b"") + tail
    for func in (strip_photo, scan_photo):
        run_cleaner(func, data)
    run_cleaner(strip_photo, b"\xff\xd8" + fx.plain_jpeg()[2:-2] + body + b"\xff\xd9")


@FUZZ
@given(st.binary(max_size=300), st.sampled_from([b"II*\0", b"MM\0*"]), st.integers(0, 400))
def test_random_exif_never_breaks_orientation(body: bytes, header: bytes, offset: int) -> None:
    """Garbage EXIF after a valid TIFF header is removed; orientation is 1..8; the scanner copes."""
    order = ">I" if header == b"MM\0*" else "<I"
    data = fx.exif_jpeg(header + struct.pack(order, offset) + body)
    stripped = strip_photo(data, NAME)
    assert 1 <= stripped.orientation <= 8 and "exif" in stripped.removed
    scan_photo(data, NAME)


@FUZZ
@given(st.lists(st.tuples(st.binary(min_size=4, max_size=4), st.binary(max_size=30)), max_size=8))
def test_random_png_chunks_with_good_crcs_raise_only_photo_error(chunks: list[tuple[bytes, bytes]]) -> None:
    """Chunks with valid CRCs but random types and data get past the CRC check and still only raise PhotoError."""
    data = _png_with(*(fx.chunk(kind, body) for kind, body in chunks), fx.chunk(b"IDAT", b"x"))
    for func in (strip_photo, scan_photo):
        run_cleaner(func, data, "a.png")


def _adobe_segments(data: bytes) -> list[bytes]:
    return [s.payload for s in parse_jpeg(data, NAME).segments if s.marker == 0xEE]


@pytest.mark.parametrize("transform", [0, 2], ids=["cmyk", "ycck flag"])
@pytest.mark.parametrize("extra", [0, 15, 400], ids=["12 bytes", "27 bytes (31 in all)", "412 bytes"])
def test_adobe_app14_of_any_length_keeps_the_colour_transform(extra: int, transform: int) -> None:
    """Adobe APP14 of any length is kept as the 12 bytes decoders read: transform and pixels unchanged."""
    raw = bytearray(fx.cmyk_jpeg(extra))
    raw[raw.index(b"Adobe") + 11] = transform
    raw = bytearray(fx.splice(bytes(raw), fx.segment(0xFE, b"PLANTED")))
    stripped = strip_jpeg(bytes(raw), NAME)
    assert [len(p) for p in _adobe_segments(stripped.data)] == [12]
    assert _adobe_segments(stripped.data)[0] == _adobe_segments(bytes(raw))[0][:12]
    assert decoded(stripped.data) == decoded(bytes(raw))
    before, after = exiftool(bytes(raw)), exiftool(stripped.data)
    assert after["Adobe:ColorTransform"] == before["Adobe:ColorTransform"]
    assert "comment" in stripped.removed and ("other-app-segment" in stripped.removed) == (extra > 0)
    assert strip_jpeg(stripped.data, NAME).data == stripped.data


def test_dropping_adobe_app14_would_change_colours() -> None:
    """The fixture is meaningful: without its APP14 the YCCK-flagged JPEG decodes to other pixels."""
    raw = bytearray(fx.cmyk_jpeg())
    raw[raw.index(b"Adobe") + 11] = 2
    at = raw.index(b"\xff\xee\x00\x0e")
    without = bytes(raw[:at] + raw[at + 16:])
    assert decoded(without) != decoded(bytes(raw))


@pytest.mark.parametrize(("marker", "stray"), [
    pytest.param(0xEE, b"\x00\x01\x02\x03\x04\x05\x06", id="after APP14, as Photoshop writes it"),
    pytest.param(0xDB, b"\x00" * 3, id="zeros after a quantization table, as a dashcam writes them"),
    pytest.param(0xE0, b"\xff\x00\x17", id="stuffed 0xFF00 and a byte"),
])
def test_stray_bytes_between_segments_are_dropped_losslessly(marker: int, stray: bytes) -> None:
    """Bytes between segments are skipped as libjpeg skips them, with a note; pixels stay identical."""
    raw = fx.with_stray_bytes(fx.cmyk_jpeg() if marker == 0xEE else fx.plain_jpeg(), marker, stray)
    assert "Skipped unknown" in str(exiftool(raw).get("ExifTool:Warning", "")) or marker != 0xEE
    stripped = strip_photo(raw, NAME)
    assert "stray-bytes" in stripped.removed and "stray byte" in stripped.notes[0]
    assert decoded(stripped.data) == decoded(raw)
    assert "ExifTool:Warning" not in exiftool(stripped.data)
    assert ("stray-bytes", f"{len(stray)} stray byte(s) between segments") in {
        (f.kind, f.detail) for f in scan_photo(raw, NAME)}


def test_truncated_adobe_app14_is_accepted() -> None:
    """An APP14 whose length stops short of its transform byte, the rest left between segments, is accepted."""
    raw = fx.cmyk_jpeg()
    at = raw.index(b"\xff\xee")
    short = raw[:at] + b"\xff\xee\x00\x0b" + raw[at + 4:]  # 9 bytes of payload; 3 bytes now lie outside
    assert "Skipped unknown 3 bytes" in exiftool(short)["ExifTool:Warning"]
    stripped = strip_jpeg(short, NAME)
    assert _adobe_segments(stripped.data) == [raw[at + 4:at + 13]]
    assert stripped.removed == ("stray-bytes",)
    assert decoded(stripped.data) == decoded(short)


PNG_ORIENTED = [
    pytest.param(lambda: fx.png_with(fx.chunk(b"eXIf", fx.camera_tiff(orientation=3, thumbnail=False))), id="eXIf"),
    pytest.param(lambda: fx.png_with(fx.xmp_orientation_chunk(3)), id="XMP tiff:Orientation"),
    pytest.param(lambda: fx.png_with(fx.raw_profile_chunk(fx.camera_tiff(orientation=3, thumbnail=False))),
                 id="ImageMagick raw profile"),
]


@pytest.mark.parametrize("make", PNG_ORIENTED)
def test_png_orientation_is_carried_over(make: Callable[[], bytes]) -> None:
    """A PNG's orientation (eXIf, XMP or raw profile) comes back as an eXIf chunk with Orientation alone."""
    raw = make()
    stripped = strip_photo(raw, "a.png")
    assert stripped.orientation == 3
    assert decoded(stripped.data) == decoded(raw)
    assert decoded(stripped.data, transpose=True) == decoded(raw, transpose=True)
    assert decoded(stripped.data, transpose=True) != decoded(stripped.data)  # it really turns
    after = exiftool(stripped.data)
    assert after["IFD0:Orientation"] == "Rotate 180"
    assert not [k for k in after if k.split(":")[0] in ("ExifIFD", "GPS", "XMP-dc", "IFD1")]
    assert "PLANTED" not in str(after)
    again = strip_photo(stripped.data, "a.png")
    assert (again.data, again.removed) == (stripped.data, ())


@pytest.mark.parametrize(("make", "groups"), [
    pytest.param(lambda: fx.exif_jpeg(fx.text_fields_tiff()),
                 {"IFD0:ImageDescription", "ExifIFD:UserComment", "IFD0:XPComment", "IFD0:HostComputer"},
                 id="text fields"),
    pytest.param(lambda: fx.exif_jpeg(fx.gps_in_ifd1_tiff()), {"GPS:GPSLatitude"}, id="gps from IFD1"),
    pytest.param(lambda: fx.icc_jpeg(fx.PERSONAL_ICC), {"ICC_Profile:ProfileDescription"}, id="icc text"),
    pytest.param(lambda: fx.png_with(fx.iccp_chunk("PLANTED", fx.PERSONAL_ICC)), {"ICC_Profile:ProfileDescription"},
                 id="iccp text"),
    pytest.param(lambda: fx.splice(fx.plain_jpeg(), fx.flir_segment()), {"FLIR:CameraSerialNumber"}, id="flir"),
])
def test_real_world_metadata_is_stripped(make: Callable[[], bytes], groups: set[str]) -> None:
    """exiftool sees each planted item before cleaning and none of them after; pixels are identical."""
    raw = make()
    assert groups <= set(exiftool(raw))
    stripped = strip_photo(raw, NAME)
    after = exiftool(stripped.data)
    assert not groups & set(after) and "PLANTED" not in json.dumps(after)
    assert decoded(stripped.data) == decoded(raw)
    assert [f.kind for f in scan_photo(raw, NAME)] and scan_photo(stripped.data, NAME) == []


_PLANTS = [fx.segment(0xE1, b"Exif\0\0" + fx.text_fields_tiff()), fx.segment(0xE1, b"Exif\0\0" + fx.gps_in_ifd1_tiff()),
           fx.segment(0xE2, b"ICC_PROFILE\0\x01\x01" + fx.icc_profile("sRGB")), fx.flir_segment(),
           fx.segment(0xFE, b"note"), fx.segment(0xE1, fx.XMP_ID + fx.xmp_packet()), fx.segment(0xE4, b"Vendor\0x"),
           fx.segment(0xE1, b"Exif\0\0" + fx.camera_tiff(orientation=8, thumbnail=False)),
           fx.segment(0xED, fx.iptc_payload())]


@FUZZ
@given(st.lists(st.sampled_from(range(len(_PLANTS))), max_size=5), st.binary(max_size=8), st.booleans())
def test_scan_is_clean_exactly_when_strip_removes_nothing(picks: list[int], stray: bytes, trailer: bool) -> None:
    """For any mix of metadata, stray bytes and trailers, scan finds something iff the cleaner removes something."""
    raw = fx.splice(fx.plain_jpeg(), b"".join(_PLANTS[i] for i in picks) + stray.replace(b"\xff", b""),
                    b"tail" if trailer else b"")
    stripped = strip_photo(raw, NAME)
    findings = scan_photo(raw, NAME)
    assert bool(findings) == bool(stripped.removed)
    assert scan_photo(stripped.data, NAME) == []


def test_a_png_of_countless_chunks_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_CHUNKS chunks (a million; lowered here) a PNG is refused by cleaner and scanner alike, rather than
    walked while memory and time grow: 12 bytes each, a 100 MB file would be 8 million of them."""
    from mirror.privacy import png

    monkeypatch.setattr(png, "MAX_CHUNKS", 1000)
    plain = fx.plain_png()
    raw = plain[:33] + fx.chunk(b"zzZz", b"") * 1000 + plain[33:]
    with pytest.raises(PhotoError, match="more than 1,000 chunks"):
        strip_photo(raw, NAME)
    kept = plain[:33] + fx.chunk(b"IDAT", b"") * 1000 + plain[33:]  # kept chunks: nothing found before the cap
    refused_alike(kept, NAME, "more than 1,000 chunks")
    assert strip_photo(plain[:33] + fx.chunk(b"zzZz", b"") * 990 + plain[33:], NAME).removed == ("other-chunk",)


@pytest.mark.parametrize("filler", [b"\xff\xd0", b"\xff\xfe\x00\x02", b"\xff\x00"])
def test_a_jpeg_of_countless_tiny_segments_is_refused(filler: bytes) -> None:
    """Stand-alone RST markers, empty comments or 0xFF00 pairs by the hundred thousand (2 bytes each) cost time and
    memory for each: past 65,536 the file is no photo a camera made, for the cleaner and the scanner alike."""
    jpeg = fx.plain_jpeg()
    refused_alike(jpeg[:2] + filler * 70_000 + jpeg[2:], "many.jpg", r"more than 65,536 segments")
    assert strip_jpeg(jpeg[:2] + filler * 1_000 + jpeg[2:], "few.jpg").data.startswith(b"\xff\xd8")


def test_fill_bytes_before_a_marker_are_skipped_in_one_step() -> None:
    """Any number of 0xFF fill bytes may precede a marker (T.81 B.1.1.2): read as one, and not left in."""
    jpeg = fx.plain_jpeg()
    cleaned = strip_jpeg(jpeg[:2] + b"\xff" * 2_000_000 + jpeg[2:], "fill.jpg")
    assert len(cleaned.data) < len(jpeg) + 64
    assert decoded(cleaned.data) == decoded(jpeg)


def test_a_png_of_countless_text_chunks_is_refused() -> None:
    """Each compressed text chunk may be inflated to judge it (a KB to a MiB): past 1,024 of them the PNG is none
    an editor wrote, for the cleaner and the scanner alike; up to that, it is cleaned as any other."""
    import zlib

    png = fx.plain_png()
    bomb = fx.chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"\0" * (1 << 20), 9))
    refused_alike(png[:33] + bomb * 1025 + png[33:], "many.png", r"more than 1,024 text chunks")
    cleaned = strip_png(png[:33] + bomb * 3 + png[33:], "three.png")
    assert b"zTXt" not in cleaned.data and cleaned.removed == ("text",)


def test_a_second_frame_before_the_end_is_refused() -> None:
    """A second frame header and scan before EOI is a second picture that decoders do not show (or fail on)."""
    jpeg = fx.plain_jpeg()
    segments = parse_jpeg(jpeg, "a.jpg").segments
    frame = next(s.start for s in segments if 0xC0 <= s.marker <= 0xC2)
    twice = jpeg[:-2] + jpeg[frame:-2] + b"\xff\xd9"
    refused_alike(twice, "two.jpg", r"a second frame header at byte \d+")


def test_an_orientation_block_carrying_more_bytes_is_reported_and_dropped() -> None:
    """An EXIF block whose only tag is Orientation but which carries bytes no tag points to (a name, a preview):
    scan reports it, and create drops it (writing its own Orientation block) and says so."""
    from mirror.privacy.jpeg import orientation_tiff, segment_bytes

    jpeg = fx.plain_jpeg()
    tiff = orientation_tiff(6) + b"Owner: Aigerim Nurlan, +7 701 123 45 67" * 4
    padded = jpeg[:2] + segment_bytes(0xE1, b"Exif\0\0" + tiff) + jpeg[2:]
    assert scan_photo(padded, "a.jpg")
    cleaned = strip_jpeg(padded, "a.jpg")
    assert "exif" in cleaned.removed and b"Aigerim" not in cleaned.data and cleaned.orientation == 6
    plain = jpeg[:2] + segment_bytes(0xE1, b"Exif\0\0" + orientation_tiff(6)) + jpeg[2:]
    assert scan_photo(plain, "b.jpg") == [] and strip_jpeg(plain, "b.jpg").removed == ()


def test_a_colour_or_density_chunk_of_the_wrong_size_is_dropped() -> None:
    """pHYs is 9 bytes, gAMA 4, sRGB 1, cHRM 32: a longer one carries bytes nobody reads (libpng ignores the chunk),
    such as a name; it is dropped, and the picture does not change."""
    png = fx.plain_png()
    padded = fx.chunk(b"pHYs", bytes(9) + b"owner=Aigerim Nurlan phone=+77011234567")
    fine = fx.chunk(b"gAMA", (45455).to_bytes(4, "big"))
    data = png[:33] + padded + fine + png[33:]
    cleaned = strip_png(data, "p.png")
    assert b"Aigerim" not in cleaned.data and b"gAMA" in cleaned.data and b"pHYs" not in cleaned.data
    assert decoded(cleaned.data) == decoded(png)
    assert scan_photo(data, "p.png")


@pytest.mark.parametrize("field", [slice(1, 3), slice(3, 5)], ids=["height", "width"])
def test_a_jpeg_of_no_height_or_width_is_refused(field: slice) -> None:
    """A frame header of height 0 (the height left to a DNL marker, which libjpeg, browsers and Pillow do not read)
    or width 0: no viewer shows it, so nobody could check what it holds; scan and create refuse it alike."""
    jpeg = bytearray(fx.plain_jpeg())
    frame = next(s for s in parse_jpeg(bytes(jpeg), "a.jpg").segments if 0xC0 <= s.marker <= 0xC2)
    at = frame.start + 4 + field.start  # 0xFF, marker and the length come before the payload
    jpeg[at:at + 2] = b"\0\0"
    refused_alike(bytes(jpeg), "dnl.jpg", r"gives a height of 0 \(as when the height is left to a DNL marker\)"
                  if field.start == 1 else r"gives a width of 0, which no viewer can show")


def test_a_file_named_like_a_jpeg_that_is_none_is_told_to_be_copied_again() -> None:
    """A .jpg that is not a JPEG (a damaged copy, a fuzzed file): not told to convert it on the phone; a TIFF
    named .jpg gets the TIFF fix, whatever its name."""
    with pytest.raises(PhotoError, match="not a JPEG, PNG, WebP or GIF image") as caught:
        strip_photo(b"\xff\xd8\x00\x10 damaged", "photos/a.jpg")
    assert caught.value.hint is not None and caught.value.hint.startswith("copy it again")
    with pytest.raises(PhotoError, match="a TIFF or camera RAW file") as caught:
        strip_photo(b"II*\0\x08\0\0\0", "photos/b.jpg")
    assert caught.value.hint == TIFF_OR_RAW_FIX and "photo editor" in caught.value.hint


def test_the_orientation_a_browser_shows_is_kept_from_a_later_exif_block() -> None:
    """The camera's EXIF block without Orientation, a second one with 6: browsers (Blink) and exiftool turn the
    photo, so the cleaned photo keeps 6; the first block's own Orientation wins when it has one."""
    without = fx.ifd_chain([fx.ascii_entry(0x010F, fx.MAKE)])
    second = orientation_segment(6)
    raw = fx.splice(fx.plain_jpeg(), fx.segment(0xE1, b"Exif\0\0" + without) + second)
    assert strip_jpeg(raw, NAME).orientation == 6
    first = fx.splice(fx.plain_jpeg(), orientation_segment(3) + second)
    assert strip_jpeg(first, NAME).orientation == 3


@pytest.mark.parametrize(("error", "said"), [
    (RuntimeError("Error while loading plugin: Support for this compression format has not been built in: "
                  "JPEG 2000 (a suitable decoder plugin is openjpeg)"),
     "x.heif: its image is coded as JPEG 2000, which mirror's HEIF decoder does not read"),
    (IndexError("list index out of range"), "x.heif: the HEIC image cannot be decoded (no image in it could be read)"),
    (ValueError("Invalid input: No 'ftyp' box"), "x.heif: the HEIC image cannot be decoded (Invalid input: No 'ftyp'"),
    (RuntimeError(""), "x.heif: the HEIC image cannot be decoded (no reason given)")])
def test_a_heif_that_cannot_be_decoded_is_said_in_words(error: Exception, said: str) -> None:
    """libheif's reasons reached the author as Python's: "(IndexError: list index out of range)", and a coding
    mirror does not decode was called a damaged copy."""
    from mirror.privacy.heic import _undecodable

    refusal = _undecodable("x.heif", error)
    assert str(refusal).startswith(said) and "Error:" not in str(refusal), str(refusal)
    if isinstance(error, IndexError):  # a file that names an uncompressed image: its coding, not a damaged copy
        uncompressed = _undecodable("x.heif", error, uncompressed=True)
        assert str(uncompressed).startswith("x.heif: its image is stored uncompressed or with generic compression "
                                            "(ISO/IEC 23001-17)")  # not "or one coded in another way" (helper-154)


def test_convert_heic_holds_one_picture_while_it_encodes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Converting an iPhone's 12 MP HEIC took 220 MB: libheif's decoded picture stayed with the open file while
    Pillow's copy of it was converted to sRGB into a third picture, 3 bytes a pixel each (about 650 MB at 48 MP,
    which the converter takes). The file is let go once its picture is copied, and the colours are converted in
    place: the JPEG is made from the one picture, and its bytes are the same."""
    import weakref

    import pillow_heif
    from PIL import Image, ImageCms

    from mirror.privacy.heic import convert_heic

    heif = pillow_heif.from_pillow(fx.pixels(64, 48, 5))
    heif.info["icc_profile"] = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    raw = io.BytesIO()
    heif.save(raw, quality=90)
    files: list[weakref.ref[Any]] = []
    pictures: list[Image.Image] = []
    opened, copied, saved = pillow_heif.open_heif, pillow_heif.HeifFile.to_pillow, Image.Image.save

    def open_heif(*args: Any, **kwargs: Any) -> Any:
        heif = opened(*args, **kwargs)
        files.append(weakref.ref(heif))
        return heif

    def to_pillow(self: Any) -> Image.Image:
        pictures.append(copied(self))
        return pictures[-1]

    def save(self: Image.Image, *args: Any, **kwargs: Any) -> None:
        assert files[-1]() is None, "the HEIF file and its decoded picture are still held"
        assert self is pictures[-1], "the picture was copied again"
        saved(self, *args, **kwargs)

    monkeypatch.setattr(pillow_heif, "open_heif", open_heif)
    monkeypatch.setattr(pillow_heif.HeifFile, "to_pillow", to_pillow)
    monkeypatch.setattr(Image.Image, "save", save)
    converted = convert_heic(raw.getvalue(), "IMG_0001.HEIC")
    assert Image.open(io.BytesIO(converted.data)).size == (64, 48)


def _exif_turned_heic(orientation: int) -> bytes:
    """A HEIC as Samsung phones and Fujifilm cameras write it: the picture stored as the sensor saw it and turned
    only by EXIF's Orientation, with no rotation (irot) or mirror (imir) of HEIF's own."""
    import pillow_heif

    heif = pillow_heif.from_pillow(fx.pixels(64, 48, 5))
    heif.info["exif"] = b"Exif\0\0" + fx.camera_tiff(orientation=1, thumbnail=False)
    raw = io.BytesIO()
    heif.save(raw, quality=90)
    upright = struct.pack("<HHIHH", 0x0112, fx.SHORT, 1, 1, 0)
    assert raw.getvalue().count(upright) == 1 and b"irot" not in raw.getvalue()
    return raw.getvalue().replace(upright, struct.pack("<HHIHH", 0x0112, fx.SHORT, 1, orientation, 0))


def test_a_heic_turned_only_by_its_exif_is_converted_upright() -> None:
    """metadata-extractor-images' "Issue 437 (dotnet).heic", a Galaxy S24 FE's: 4000 x 1848 with EXIF's "Rotate
    90 CW" and no irot box. The phone's gallery shows it upright; --convert-heic made it a JPEG lying on its side
    (libheif turns a picture by irot only, and the EXIF that said how to turn it is dropped). A HEIC with its own
    irot (an iPhone's, whose EXIF says the same) is turned once, not twice."""
    from PIL import Image

    from mirror.privacy.heic import convert_heic

    def converted(data: bytes) -> Image.Image:
        return Image.open(io.BytesIO(convert_heic(data, "IMG_0001.HEIC").data))

    assert exiftool(_exif_turned_heic(6))["IFD0:Orientation"] == "Rotate 90 CW"
    for orientation, size in ((6, (48, 64)), (8, (48, 64)), (3, (64, 48)), (1, (64, 48))):
        picture = converted(_exif_turned_heic(orientation))
        assert picture.size == size, (orientation, picture.size)
        assert picture.getexif() == {} and "icc_profile" not in picture.info
    # the corner the sensor saw first is where EXIF's Orientation puts it: top right for 6 ("Rotate 90 CW")
    source = fx.pixels(64, 48, 5).getpixel((0, 0))
    turned = converted(_exif_turned_heic(6)).getpixel((47, 0))
    assert sum(abs(a - b) for a, b in zip(turned, source, strict=True)) < 40, (turned, source)
    assert converted(fx.heic_photo(orientation=6)).size == (48, 64)
