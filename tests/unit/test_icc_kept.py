"""A JPEG's colour profile stays when it is exactly a published standard one (Display P3, Adobe RGB), so colours
are not lost; any other profile, or a standard one altered or badly numbered, goes as before."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from collections.abc import Callable

import pytest
from PIL import Image

import photo_fixtures as fx
from mirror.privacy import icc
from mirror.privacy.scan import scan_photo, scan_photo_chunks
from mirror.privacy.strip import strip_photo

NAME = "photos/түс.jpg"
WIDE = fx.icc_profile("Wide Gamut RGB")  # stands in for a published profile: the tests do not ship Apple's or Adobe's


@pytest.fixture(autouse=True)
def _published(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(icc.STANDARD_PROFILES, hashlib.sha256(WIDE).hexdigest(), "Wide Gamut RGB")


def _segments(profile: bytes, numbers: list[tuple[int, int]]) -> bytes:
    """The profile cut into as many APP2 segments as `numbers` has, each with its (sequence, count); (0, 0) is a
    segment of 13 bytes, one letter after the identifier, which readers skip."""
    whole = [number for number in numbers if number != (0, 0)]
    size = -(-len(profile) // len(whole))
    pieces = iter(range(len(whole)))
    return b"".join(fx.segment(0xE2, b"ICC_PROFILE\0J") if number == (0, 0) else fx.segment(
        0xE2, b"ICC_PROFILE\0" + bytes(number) + profile[(i := next(pieces)) * size:(i + 1) * size])
        for number in numbers)


@pytest.mark.parametrize("pieces", [1, 3])
def test_a_standard_profile_stays_byte_for_byte(pieces: int) -> None:
    """In one segment or several, numbered 1 to n: kept, written as one segment of the profile's exact bytes,
    with the rest of the photo's metadata gone; the scanner, which lists what the cleaner removes, says nothing
    of it."""
    profile = _segments(WIDE, [(i, pieces) for i in range(1, pieces + 1)])
    raw = fx.splice(fx.plain_jpeg(), fx.segment(0xE1, b"Exif\0\0" + fx.camera_tiff()) + profile
                    + fx.segment(0xFE, b"PLANTED"))
    stripped = strip_photo(raw, NAME)
    assert fx.segment(0xE2, b"ICC_PROFILE\0\x01\x01" + WIDE) in stripped.data
    assert "icc" not in stripped.removed and "gps" in stripped.removed
    assert b"PLANTED" not in stripped.data
    assert scan_photo(stripped.data, NAME) == [] and strip_photo(stripped.data, NAME).data == stripped.data
    clean = fx.splice(fx.plain_jpeg(), profile)
    assert strip_photo(clean, NAME).removed == () and scan_photo(clean, NAME) == []
    pieces_of = [clean[i:i + 7] for i in range(0, len(clean), 7)]
    assert scan_photo_chunks(pieces_of, NAME).findings == []


@pytest.mark.parametrize(("profile", "numbers"), [
    pytest.param(fx.icc_profile("Aigerim's MacBook display"), [(1, 1)], id="a profile of one's own"),
    pytest.param(WIDE[:-1] + b"\x01", [(1, 1)], id="a standard profile with a byte changed"),
    pytest.param(WIDE, [(2, 2), (1, 2)], id="segments out of order"),
    pytest.param(WIDE, [(1, 3), (2, 3)], id="a segment missing"),
    pytest.param(WIDE, [(0, 1)], id="numbered from 0"),
    pytest.param(WIDE, [(1, 1), (0, 0)], id="a short segment beside it"),
])
def test_any_other_profile_goes_and_is_named(profile: bytes, numbers: list[tuple[int, int]]) -> None:
    """Not exactly a published profile as readers join it: dropped, and the scanner names it."""
    raw = fx.splice(fx.plain_jpeg(), _segments(profile, numbers))
    stripped = strip_photo(raw, NAME)
    assert stripped.removed == ("icc",) and b"ICC_PROFILE" not in stripped.data
    assert [f.kind for f in scan_photo(raw, NAME)] == ["icc"]


def test_two_profiles_in_one_photo_both_go() -> None:
    """A standard profile beside another (the planted photo carries LittleCMS's sRGB): readers join them into one
    that is neither, so both go."""
    raw = fx.splice(fx.planted_jpeg(), _segments(WIDE, [(1, 1)]))
    stripped = strip_photo(raw, NAME)
    assert "icc" in stripped.removed and b"ICC_PROFILE" not in stripped.data


@pytest.mark.parametrize(("keyword", "profile", "kept"), [
    pytest.param(b"ICC Profile", WIDE, True, id="a standard profile"),
    pytest.param(b"Wide Gamut RGB", WIDE, True, id="named by its own name"),
    pytest.param(b"Aigerim's screen", WIDE, False, id="under a keyword that names something else"),
    pytest.param(b"ICC Profile", fx.icc_profile("Aigerim's MacBook display"), False, id="a profile of one's own"),
])
def test_a_png_keeps_a_standard_profile_under_a_plain_name(keyword: bytes, profile: bytes, kept: bool) -> None:
    """An iCCP chunk (screenshots carry one) stays when its profile is a published one and its keyword names only
    a profile; otherwise it goes and is named, as before."""
    import zlib

    stream = zlib.compressobj(9, zlib.DEFLATED, 15)
    padded = stream.compress(profile) + stream.flush(zlib.Z_FULL_FLUSH) + b"\x00\x00\x00\xff\xff" * 3 + stream.flush()
    assert zlib.decompress(padded) == profile  # empty stored blocks: bits no reader looks at
    raw = fx.png_with(fx.chunk(b"iCCP", keyword + b"\0\0" + padded))
    stripped = strip_photo(raw, "shots/экран.png")
    canonical = fx.chunk(b"iCCP", b"ICC Profile\0\0" + zlib.compress(profile, 9))
    assert (canonical in stripped.data) == kept and (stripped.removed == ()) == kept
    assert padded not in stripped.data  # written anew, or gone
    assert (scan_photo(raw, "shots/экран.png") == []) == kept
    assert strip_photo(stripped.data, "shots/экран.png").data == stripped.data


def _webp(profile: bytes, animated: bool = False) -> bytes:
    """A WebP as libwebp writes one with a colour profile: VP8X with its ICC flag, ICCP, then the picture."""
    out = io.BytesIO()
    if animated:
        frames = [fx.pixels(32, 24, seed).convert("RGBA") for seed in (5, 6)]
        frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], duration=100, icc_profile=profile)
    else:
        fx.pixels(40, 24, 4).save(out, "WEBP", quality=80, icc_profile=profile)
    return out.getvalue()


@pytest.mark.parametrize("animated", [False, True])
def test_a_webp_keeps_a_standard_profile(animated: bool) -> None:
    """The first ICCP chunk, where libwebp writes it, stays byte for byte with VP8X's flag saying so, and Pillow
    (libwebp's demuxer) reads the same profile back; the scanner says nothing of it."""
    raw = _webp(WIDE, animated)
    stripped = strip_photo(raw, "photos/a.webp")
    assert stripped.removed == () and b"ICCP" + struct.pack("<I", len(WIDE)) + WIDE in stripped.data
    assert fx.webp_chunks(stripped.data)[0][1][0] & 0x20  # the ICC flag
    with Image.open(io.BytesIO(stripped.data)) as image:
        assert image.info.get("icc_profile") == WIDE
    assert scan_photo(raw, "photos/a.webp") == [] and strip_photo(stripped.data, "photos/a.webp").data == stripped.data


def _without_icc_flag(raw: bytes) -> bytes:
    chunks = fx.webp_chunks(raw)
    first = bytes([chunks[0][1][0] & ~0x20]) + chunks[0][1][1:]
    return fx.webp_of(fx.riff_chunk(b"VP8X", first), *(fx.riff_chunk(kind, data) for kind, data in chunks[1:]))


def _moved_after_the_picture(raw: bytes) -> bytes:
    chunks = fx.webp_chunks(raw)
    order = [chunks[0], *chunks[2:], chunks[1]]
    return fx.webp_of(*(fx.riff_chunk(kind, data) for kind, data in order))


def _second_profile(raw: bytes) -> bytes:
    chunks = fx.webp_chunks(raw)
    order = [chunks[0], (b"ICCP", WIDE), (b"ICCP", fx.icc_profile("Aigerim's screen")), *chunks[2:]]
    return fx.webp_of(*(fx.riff_chunk(kind, data) for kind, data in order))


@pytest.mark.parametrize(("made", "kept"), [
    pytest.param(lambda: _webp(fx.icc_profile("Aigerim's MacBook display")), False, id="a profile of one's own"),
    pytest.param(lambda: _webp(WIDE[:-1] + b"\x01"), False, id="a standard profile with a byte changed"),
    pytest.param(lambda: _without_icc_flag(_webp(WIDE)), False, id="no flag: readers ignore it"),
    pytest.param(lambda: _moved_after_the_picture(_webp(WIDE)), False, id="after the picture"),
    pytest.param(lambda: _second_profile(_webp(WIDE)), True, id="a second profile after a standard one"),
])
def test_a_webp_profile_out_of_place_or_of_ones_own_goes(made: Callable[[], bytes], kept: bool) -> None:
    """Any other profile goes and is named; a standard one only where readers read it, once."""
    raw = made()
    stripped = strip_photo(raw, "photos/a.webp")
    profiles = [data for kind, data in fx.webp_chunks(stripped.data) if kind == b"ICCP"]
    assert profiles == ([WIDE] if kept else []) and stripped.removed == ("icc",)
    assert bool(fx.webp_chunks(stripped.data)[0][1][0] & 0x20) == kept
    assert [f.kind for f in scan_photo(raw, "photos/a.webp")] == ["icc"]


def _gif(*before_image: bytes, after_image: bytes = b"") -> bytes:
    """Pillow's plain GIF with these blocks after its screen (and `after_image` after its image)."""
    plain = fx.plain_gif()
    head = 13 + (3 << ((plain[10] & 7) + 1) if plain[10] & 0x80 else 0)
    return plain[:head] + b"".join(before_image) + plain[head:-1] + after_image + b";"


def _icc_extension(profile: bytes, size: int = 255) -> bytes:
    return fx.gif_extension(0xFF, b"ICCRGBG1012", *(profile[i:i + size] for i in range(0, len(profile), size)))


def test_a_gif_keeps_a_standard_profile() -> None:
    """An ICC application extension before the first image whose sub-blocks join to a published profile stays,
    in 255-byte sub-blocks as every writer stores it (ImageMagick and libvips read it; Pillow does not)."""
    raw = _gif(_icc_extension(WIDE))
    stripped = strip_photo(raw, "photos/a.gif")
    assert stripped.removed == () and stripped.data == raw and _icc_extension(WIDE) in raw
    assert scan_photo(raw, "photos/a.gif") == []
    cut_small = _gif(_icc_extension(WIDE, 7), fx.gif_extension(0xFE, b"PLANTED"))
    again = strip_photo(cut_small, "photos/a.gif")  # sub-blocks cut elsewhere: written anew, the cut named
    assert again.data == raw and set(again.removed) == {"comment", "other-chunk"}


@pytest.mark.parametrize("made", [
    pytest.param(lambda: _gif(_icc_extension(fx.icc_profile("Aigerim's MacBook display"))), id="of one's own"),
    pytest.param(lambda: _gif(_icc_extension(WIDE[:-1] + b"\x01")), id="a byte changed"),
    pytest.param(lambda: _gif(after_image=_icc_extension(WIDE)), id="after the first image"),
])
def test_a_gif_profile_of_ones_own_or_out_of_place_goes(made: Callable[[], bytes]) -> None:
    raw = made()
    stripped = strip_photo(raw, "photos/a.gif")
    assert stripped.removed == ("icc",) and b"ICCRGBG1012" not in stripped.data
    assert [f.kind for f in scan_photo(raw, "photos/a.gif")] == ["icc"]


def test_a_second_gif_profile_goes() -> None:
    raw = _gif(_icc_extension(WIDE), _icc_extension(fx.icc_profile("Aigerim's screen")))
    stripped = strip_photo(raw, "photos/a.gif")
    assert stripped.removed == ("icc",) and stripped.data.count(b"ICCRGBG1012") == 1


GENERIC = fx.icc_profile("Generic RGB Profile")  # what macOS writes: not sRGB, so colours change without it


@pytest.mark.parametrize(("make", "name"), [
    pytest.param(lambda p: fx.splice(fx.plain_jpeg(), _segments(p, [(1, 1)])), NAME, id="jpeg"),
    pytest.param(lambda p: fx.png_with(fx.chunk(b"iCCP", b"ICC Profile\0\0" + zlib.compress(p))), "a.png", id="png"),
    pytest.param(_webp, "a.webp", id="webp"),
    pytest.param(lambda p: _gif(_icc_extension(p)), "a.gif", id="gif"),  # exiftool's GIF.gif: a Nikon Adobe RGB
])
def test_a_removed_profile_that_changes_colours_is_named_for_the_author(make: Callable[[bytes], bytes],
                                                                         name: str) -> None:
    """A profile that goes and is not sRGB (macOS's Generic RGB, a CMYK press profile): the cleaner names it, so
    that create can say why the photo will look different; an sRGB one that goes, or a standard one that stays,
    changes nothing shown and is not named."""
    assert strip_photo(make(GENERIC), name).colours == "Generic RGB Profile"
    assert strip_photo(make(fx.icc_profile("sRGB IEC61966-2.1 (a vendor's copy)")), name).colours == ""
    assert strip_photo(make(WIDE), name).colours == ""  # published: kept
    assert icc.shifts_colours(b"\0" * 40) == "unnamed" and icc.profile_name(b"") == ""


def test_the_first_description_of_a_profile_names_it() -> None:
    """A profile with two 'desc' tags is named by the first, as readers take it (a second, empty one hid the
    first's name)."""
    def desc(text: bytes) -> bytes:
        return b"desc\0\0\0\0" + struct.pack(">I", len(text) + 1) + text + b"\0"

    first, second = desc(b"Aigerim's monitor"), desc(b"")
    start = 128 + 4 + 2 * 12
    table = struct.pack(">4sII", b"desc", start, len(first)) + struct.pack(">4sII", b"desc", start + len(first),
                                                                            len(second))
    profile = b"\0" * 128 + struct.pack(">I", 2) + table + first + second
    assert icc.profile_name(profile) == "Aigerim's monitor"
    assert icc.shifts_colours(profile) == "Aigerim's monitor"
