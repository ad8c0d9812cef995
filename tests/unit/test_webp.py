"""WebP photos are cleaned losslessly: the pixels as they were, the metadata gone, the orientation kept."""

from __future__ import annotations

import io
import random
import struct
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import photo_fixtures as fx
from helpers import decoded, exiftool, refused_alike
from mirror.errors import PhotoError
from mirror.privacy.findings import MAX_PER_FILE
from mirror.privacy.jpeg import orientation_tiff
from mirror.privacy.scan import scan_photo, scan_photo_chunks
from mirror.privacy.strip import detect_kind, strip_photo
from mirror.privacy.webp import strip_webp

NAME = "photos/снимок.webp"
KINDS = ("exif", "gps", "xmp", "icc", "other-chunk", "trailing-data")
SHAPES = [pytest.param({}, id="lossy"), pytest.param({"lossless": True}, id="lossless"),
          pytest.param({"animated": True}, id="animated")]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _frames(data: bytes) -> list[bytes]:
    """Every frame as Pillow (libwebp) draws it, in RGBA."""
    with Image.open(io.BytesIO(data)) as image:
        drawn = []
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            drawn.append(image.convert("RGBA").tobytes())
        return drawn


@pytest.mark.parametrize("shape", SHAPES)
def test_strip_webp_removes_every_planted_item(shape: dict[str, bool]) -> None:
    """EXIF (camera, GPS, serials), XMP, an ICC profile naming a person, an unknown chunk and a trailer go; the
    image chunks stay byte for byte, every frame draws the same, and the orientation is kept."""
    raw = fx.planted_webp(**shape)
    stripped = strip_webp(raw, NAME)
    assert stripped.removed == KINDS and stripped.orientation == 6
    kinds = [kind for kind, _ in fx.webp_chunks(stripped.data)]
    assert kinds[0] == b"VP8X" and kinds[-1] == b"EXIF"
    assert not {b"ICCP", b"XMP ", b"PLNT"} & set(kinds)
    for kind, body in fx.webp_chunks(raw):
        if kind in (b"VP8 ", b"VP8L", b"ANMF", b"ANIM"):
            assert fx.riff_chunk(kind, body) in stripped.data
    assert _frames(stripped.data) == _frames(raw)
    assert decoded(stripped.data, transpose=True)[1] == (24, 40) or shape.get("animated")
    for secret in fx.SECRETS:
        assert secret.encode() not in stripped.data
    assert b"PLANTED" not in stripped.data
    assert scan_photo(stripped.data, NAME) == []
    again = strip_webp(stripped.data, NAME)
    assert again.data == stripped.data and again.removed == ()


@pytest.mark.parametrize("shape", SHAPES)
def test_exiftool_finds_nothing_but_orientation_in_a_stripped_webp(shape: dict[str, bool]) -> None:
    """exiftool sees EXIF, GPS, XMP and the ICC profile before; after, the image's own fields and Orientation."""
    raw = fx.planted_webp(**shape)
    before, after = exiftool(raw), exiftool(strip_photo(raw, NAME).data)
    assert {"GPS:GPSLatitude", "XMP-dc:Creator", "IFD0:Make", "ICC-header:ProfileClass"} <= set(before)
    groups = {key.split(":")[0] for key in after if key != "IFD0:Orientation"}
    assert groups <= {"SourceFile", "ExifTool", "System", "File", "RIFF", "Composite"}, sorted(after)
    assert after["IFD0:Orientation"] == "Rotate 90 CW" and "ExifTool:Warning" not in after
    assert "PLANTED" not in str(after)


def test_a_clean_webp_is_unchanged() -> None:
    """A simple WebP without metadata, lossy or lossless, comes out byte for byte as it went in."""
    for lossless in (False, True):
        plain = fx.plain_webp(lossless=lossless)
        assert detect_kind(plain, NAME) == "webp"
        stripped = strip_photo(plain, NAME)
        assert (stripped.data, stripped.removed, stripped.orientation) == (plain, (), 1)
        assert scan_photo(plain, NAME) == []


def test_upright_photo_gets_no_exif_chunk() -> None:
    """Orientation 1 needs nothing: the EXIF chunk and its flag are gone."""
    stripped = strip_webp(fx.planted_webp(orientation=1), NAME)
    assert [kind for kind, _ in fx.webp_chunks(stripped.data)] == [b"VP8X", b"VP8 "]
    assert fx.webp_chunks(stripped.data)[0][1][0] == 0  # no ICC, EXIF, XMP, alpha or animation flag


def test_a_second_picture_hidden_after_the_first_is_dropped() -> None:
    """Readers draw the first bitstream of a still image; a second one after it (a whole other picture, say the
    uncropped original) is never drawn, so it is dropped and named, not carried unseen."""
    first = fx.webp_chunks(fx.plain_webp(lossless=True))[0][1]
    hidden = fx.webp_chunks(fx.plain_webp(lossless=True, size=(64, 64)))[0][1]
    vp8x = bytes([0, 0, 0, 0]) + (39).to_bytes(3, "little") + (23).to_bytes(3, "little")
    raw = fx.webp_of(fx.riff_chunk(b"VP8X", vp8x), fx.riff_chunk(b"VP8L", first), fx.riff_chunk(b"VP8L", hidden))
    stripped = strip_webp(raw, NAME)
    assert stripped.removed == ("other-chunk",) and hidden not in stripped.data
    assert _frames(stripped.data) == _frames(fx.plain_webp(lossless=True))  # libwebp refuses `raw` itself
    assert [f.kind for f in scan_photo(raw, NAME)] == ["other-metadata"]


def test_unknown_chunks_inside_a_frame_are_dropped() -> None:
    """An animation frame holds its alpha and bitstream; anything else in it goes, and the frame's size follows."""
    raw = fx.planted_webp(animated=True, orientation=1)
    chunks = fx.webp_chunks(raw)
    at = next(i for i, (kind, _) in enumerate(chunks) if kind == b"ANMF")
    frame = chunks[at][1] + fx.riff_chunk(b"NOTE", b"PLANTED in a frame")
    chunks[at] = (b"ANMF", frame)
    edited = fx.webp_of(*(fx.riff_chunk(kind, body) for kind, body in chunks))
    stripped = strip_webp(edited, NAME)
    assert "other-chunk" in stripped.removed and b"PLANTED" not in stripped.data
    assert _frames(stripped.data) == _frames(edited)
    assert any("in an animation frame" in f.detail for f in scan_photo(edited, NAME))


@pytest.mark.parametrize(("data", "reason"), [
    pytest.param(b"RIFF\x04\0\0\0WEBP", "holds no chunks", id="empty container"),
    pytest.param(fx.webp_of(fx.riff_chunk(b"EXIF", b"MM\0*")), "starts with a 'EXIF' chunk", id="no image first"),
    pytest.param(fx.webp_of(fx.riff_chunk(b"VP8X", bytes(10))), "no image data", id="VP8X alone"),
    pytest.param(fx.webp_of(fx.riff_chunk(b"VP8X", bytes(4))), "VP8X chunk is too short", id="short VP8X"),
    pytest.param(fx.webp_of(fx.riff_chunk(b"VP8X", bytes([2]) + bytes(9)), fx.riff_chunk(b"ANIM", bytes(6))),
                 "animation without frames", id="animation without frames"),
    pytest.param(b"RIFF\xff\xff\xff\x7fWEBPVP8 \x10\0\0\0", "truncated", id="RIFF longer than the file"),
    pytest.param(b"RIFF\x0c\0\0\0WEBPVP8 \x10\0\0\0", "runs past the end of its container", id="chunk too long"),
    pytest.param(b"RIFF\x0c\0\0\0WEBP\0\x01\x02\x03\0\0\0\0", r"starts with a '\\x00\\x01\\x02\\x03' chunk",
                 id="binary FourCC first"),
])
def test_malformed_webps_raise_photo_error(data: bytes, reason: str) -> None:
    """Each broken container is a PhotoError that names the file and says what is wrong; cleaner and scanner
    agree."""
    assert all(message.startswith(f"{NAME}: not a valid WebP: ") for message in refused_alike(data, NAME, reason))


@pytest.mark.parametrize("make", [fx.plain_webp, lambda: fx.planted_webp(animated=True)])
@FUZZ
@given(cut=st.floats(0, 1, exclude_max=True))
def test_every_truncation_is_a_photo_error(make: Callable[[], bytes], cut: float) -> None:
    """A WebP cut anywhere inside its container is refused (cut after it, only the trailer goes)."""
    data = make()
    end = 8 + struct.unpack("<I", data[4:8])[0]
    cut_at = int(cut * end)
    with pytest.raises(PhotoError) as caught:
        strip_photo(data[:cut_at], NAME)
    assert str(caught.value).startswith(f"{NAME}: ")


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), min_size=1, max_size=8))
def test_mutated_webps_raise_only_photo_error_and_clean_idempotently(edits: list[tuple[int, int]]) -> None:
    """Random byte edits: PhotoError from both cleaner and scanner, or a result that cleaning again leaves alone
    and the scanner calls clean exactly when the cleaner removed nothing."""
    for raw in (fx.planted_webp(), fx.planted_webp(animated=True)):
        data = fx.mutated(raw, edits)
        try:
            stripped = strip_photo(data, NAME)
        except PhotoError as exc:
            assert str(exc).startswith(f"{NAME}: ")
            with pytest.raises(PhotoError):  # the scanner refuses what the cleaner refuses
                scan_photo(data, NAME)
            continue
        assert strip_photo(stripped.data, NAME).data == stripped.data
        assert (scan_photo(data, NAME) == []) == (stripped.removed == ())


def test_riff_info_fields_are_named_and_dropped() -> None:
    """RIFF INFO chunks after the picture, as older writers (and libwebp's own test images) add them: the artist
    and the title are shown by the scanner and dropped by the cleaner; the simple file stays simple."""
    plain = fx.plain_webp()
    raw = fx.webp_of(*(fx.riff_chunk(kind, body) for kind, body in fx.webp_chunks(plain)),
                     fx.riff_chunk(b"IART", b"PLANTED Aigerim\0"), fx.riff_chunk(b"INAM", b"square.webp\0"))
    assert [(f.kind, f.detail) for f in scan_photo(raw, NAME)] == [
        ("text", "artist: PLANTED Aigerim"), ("text", "title: square.webp")]
    stripped = strip_webp(raw, NAME)
    assert stripped.removed == ("text",) and stripped.data == plain


def test_a_webp_of_countless_empty_chunks_is_refused_early() -> None:
    """800 KB of empty chunks would be 100,000 of them: refused by cleaner and scanner alike, naming the cap,
    rather than walked while memory and time grow; the scanner keeps one finding more than a report lists."""
    plain = fx.plain_webp()
    raw = fx.webp_of(*(fx.riff_chunk(kind, body) for kind, body in fx.webp_chunks(plain)),
                     fx.riff_chunk(b"zzzz", b"") * 100_000)
    refused_alike(raw, NAME, "more than 100,000 chunks")
    result = scan_photo_chunks([raw], NAME)
    assert len(result.findings) == MAX_PER_FILE + 1 and "more than 100,000 chunks" in (result.problem or "")


def _animation(frame_size: tuple[int, int] = (32, 24), **options: object) -> bytes:
    """An animation as Pillow writes it: its last frame ends the file when there is no metadata. Its frames are
    noise, which lossless coding cannot shrink."""
    out = io.BytesIO()
    width, height = frame_size
    frames = [Image.frombytes("RGBA", frame_size, random.Random(seed).randbytes(width * height * 4))
              for seed in (5, 9)]
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], duration=120, lossless=True, **options)
    return out.getvalue()


def test_the_scanner_reads_animations_to_their_end() -> None:
    """A plain animation is clean to the scanner (its last frame ends the file), and one whose frames pass the
    scanner's 1 MiB read pieces still has its GPS found after them."""
    plain = _animation()
    assert scan_photo(plain, NAME) == [] and strip_webp(plain, NAME).removed == ()
    big = _animation((600, 500), exif=b"Exif\0\0" + fx.camera_tiff(orientation=1, thumbnail=False))
    assert max(len(body) for kind, body in fx.webp_chunks(big) if kind == b"ANMF") > 1 << 20
    pieces = [big[i:i + (1 << 20)] for i in range(0, len(big), 1 << 20)]
    result = scan_photo_chunks(pieces, NAME)
    assert result.problem is None and "gps" in {f.kind for f in result.findings}


def _edit(data: bytes, kind: bytes, change: Callable[[bytes], bytes], extra: bytes = b"") -> bytes:
    """`data` with the first chunk of `kind` changed (and `extra` chunks after it)."""
    chunks, out, done = fx.webp_chunks(data), [], False
    for each, body in chunks:
        out.append(fx.riff_chunk(each, change(body) if each == kind and not done else body))
        if each == kind and not done:
            out.append(extra)
            done = True
    return fx.webp_of(*out)


@pytest.mark.parametrize(("kind", "change", "extra"), [
    pytest.param(b"ANIM", lambda b: b + b"PLANTED", b"", id="ANIM longer than 6 bytes"),
    pytest.param(b"ANIM", lambda b: b, fx.riff_chunk(b"ANIM", b"\0" * 6 + b"PLANTED"), id="a second ANIM"),
    pytest.param(b"ANMF", lambda b: b[:15] + bytes([b[15] | 0xFC]) + b[16:], b"", id="ANMF reserved bits"),
    pytest.param(b"VP8X", lambda b: b + b"PLANTED", b"", id="VP8X longer than 10 bytes"),
    pytest.param(b"VP8X", lambda b: bytes([b[0] | 0xC1]) + b"PLA" + b[4:], b"", id="VP8X reserved fields"),
])
def test_what_readers_ignore_in_kept_chunks_goes_and_is_named(kind: bytes, change: Callable[[bytes], bytes],
                                                                extra: bytes) -> None:
    """Bytes and bits readers never read, in chunks the cleaner keeps (VP8X, ANIM, a frame's header): cut or
    cleared, and named by scanner and cleaner alike, so nothing rides through unseen."""
    plain = _animation()
    edited = _edit(plain, kind, change, extra)
    stripped = strip_webp(edited, NAME)
    assert stripped.removed == ("other-chunk",) and b"PLANTED" not in stripped.data and b"PLA" not in stripped.data
    kinds = [f.kind for f in scan_photo(edited, NAME)]  # and what text the bytes spell
    assert kinds[0] == "other-metadata" and set(kinds[1:]) <= {"text"}
    assert _frames(stripped.data) == _frames(plain) and stripped.data == plain


@pytest.mark.parametrize("which", ["exif", "xmp"])
def test_an_orientation_readers_do_not_apply_is_not_put_back(which: str) -> None:
    """EXIF or XMP whose VP8X flag is clear: libwebp, and so Pillow, never pass it on, so the photo is shown as
    stored; the cleaner must not start turning it."""
    raw = fx.planted_webp(orientation=6)
    flag = 0x08 if which == "exif" else 0x04
    unflagged = _edit(raw, b"VP8X", lambda b: bytes([b[0] & ~flag & ~(0x04 if which == "exif" else 0)]) + b[1:])
    if which == "xmp":  # the XMP alone says 6: drop the EXIF chunk, keep the XMP one without its flag
        xmp = fx.xmp_packet().replace(b"<rdf:Description ", b'<rdf:Description tiff:Orientation="6" ')
        chunks = [(k, xmp if k == b"XMP " else b) for k, b in fx.webp_chunks(unflagged) if k != b"EXIF"]
        unflagged = fx.webp_of(*(fx.riff_chunk(k, b) for k, b in chunks))
    with Image.open(io.BytesIO(unflagged)) as shown:
        assert shown.getexif().get(0x0112) in (None, 1)
    stripped = strip_webp(unflagged, NAME)
    assert stripped.orientation == 1 and b"EXIF" not in stripped.data


def test_an_orientation_past_a_mib_of_exif_is_kept() -> None:
    """The cleaner has the whole photo in memory: an EXIF chunk whose IFD0 lies past 1 MiB is read whole for its
    orientation, as Pillow reads it."""
    ifd0 = orientation_tiff(6)[8:]  # one entry, Orientation 6, inline
    far = b"MM\0*" + struct.pack(">I", 8 + (2 << 20)) + bytes(2 << 20) + ifd0
    raw = fx.planted_webp(orientation=1)
    edited = fx.webp_of(*(fx.riff_chunk(k, far if k == b"EXIF" else b) for k, b in fx.webp_chunks(raw)))
    with Image.open(io.BytesIO(edited)) as shown:
        assert shown.getexif().get(0x0112) == 6
    assert strip_webp(edited, NAME).orientation == 6


def test_an_alpha_chunk_before_a_lossless_picture_is_refused() -> None:
    """VP8L carries its own alpha; an ALPH before it is never read (libwebp refuses the file), so it could carry
    anything: refused by cleaner and scanner alike."""
    lossless = fx.webp_chunks(fx.plain_webp(lossless=True))[0][1]
    vp8x = bytes([0x10, 0, 0, 0]) + (39).to_bytes(3, "little") + (23).to_bytes(3, "little")
    raw = fx.webp_of(fx.riff_chunk(b"VP8X", vp8x), fx.riff_chunk(b"ALPH", b"\0PLANTED"),
                     fx.riff_chunk(b"VP8L", lossless))
    refused_alike(raw, NAME, "alpha chunk comes before a lossless")


def test_chunks_of_any_type_are_walked_and_an_iphone_xmp_chunk_is_named() -> None:
    """A chunk type need not be printable (libwebp reads any): an iPhone's "XMP\\0" chunk is XMP to exiftool, so
    the scanner lists its properties and the cleaner drops it as XMP; a binary type is an unknown chunk, dropped."""
    plain = fx.plain_webp()
    raw = fx.webp_of(*(fx.riff_chunk(kind, body) for kind, body in fx.webp_chunks(plain)),
                     fx.riff_chunk(b"XMP\0", fx.xmp_packet()), fx.riff_chunk(b"\0\x01\x02\x03", b"PLANTED"))
    stripped = strip_webp(raw, NAME)
    assert stripped.removed == ("xmp", "other-chunk") and stripped.data == plain
    found = [(f.kind, f.detail) for f in scan_photo(raw, NAME)]
    assert ("owner", "XMP dc:creator PLANTED-Creator") in found
    assert found[-2:] == [("other-metadata", "WebP \\x00\\x01\\x02\\x03 chunk, 7 bytes (readers do not draw it)"),
                          ("text", "in it: PLANTED")]
