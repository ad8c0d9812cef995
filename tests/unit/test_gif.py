"""GIF images are cleaned losslessly: every frame drawn as before, its timing and loop kept, the metadata gone."""

from __future__ import annotations

import io
import random
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import photo_fixtures as fx
from helpers import exiftool, refused_alike
from mirror.errors import PhotoError
from mirror.privacy import gif
from mirror.privacy.findings import MAX_PER_FILE
from mirror.privacy.scan import scan_photo, scan_photo_chunks
from mirror.privacy.strip import detect_kind, strip_photo

NAME = "photos/сурет.gif"
KINDS = ("xmp", "iptc", "icc", "comment", "text", "other-chunk", "trailing-data")
SHAPES = [pytest.param(False, id="still"), pytest.param(True, id="animated")]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _head(data: bytes) -> int:
    """Where a GIF's first block starts: after its screen descriptor and global colours."""
    return 13 + (3 << ((data[10] & 7) + 1) if data[10] & 0x80 else 0)


def _blocks(data: bytes) -> list[bytes]:
    """A well-formed GIF's blocks after its screen, as stored (the trailer last)."""
    found, pos = [], _head(data)
    while data[pos] != 0x3B:
        start = pos
        if data[pos] == 0x2C:
            pos += 10 + (3 << ((data[pos + 9] & 7) + 1) if data[pos + 9] & 0x80 else 0) + 1
        else:
            pos += 2
        while data[pos]:
            pos += 1 + data[pos]
        pos += 1
        found.append(data[start:pos])
    return [*found, b";"]


def _gif_of(screen_of: bytes, *blocks: bytes) -> bytes:
    return screen_of[:_head(screen_of)] + b"".join(blocks)


@pytest.mark.parametrize("animated", SHAPES)
def test_strip_gif_removes_every_planted_item(animated: bool) -> None:
    """A comment, XMP (creator, GPS), an ICC profile naming a person, Photoshop IPTC, plain text, an unknown
    extension and a trailer go; what is left is the GIF as Pillow wrote it, byte for byte."""
    raw = fx.planted_gif(animated)
    stripped = strip_photo(raw, NAME)
    assert stripped.removed == KINDS and stripped.orientation == 1
    assert stripped.data == fx.plain_gif(animated)
    assert fx.frames(stripped.data) == fx.frames(raw)
    for secret in fx.SECRETS:
        assert secret.encode() not in stripped.data
    assert b"Aigerim" not in stripped.data and b"XMP" not in stripped.data
    assert scan_photo(stripped.data, NAME) == []
    again = strip_photo(stripped.data, NAME)
    assert again.data == stripped.data and again.removed == ()


def test_the_scanner_names_each_item() -> None:
    """Each dropped item is a finding the courier can read, with its value cut short."""
    found = [(f.kind, f.detail) for f in scan_photo(fx.planted_gif(), NAME)]
    kinds = [kind for kind, _ in found]
    assert kinds == ["comment", "xmp", "gps", "owner", "icc", "iptc", "owner", "text", "other-metadata", "text",
                     "comment", "trailing-data", "text"]
    assert ("text", "in it: PLANTED unknown") in found  # what an unknown extension spells
    assert ("comment", "PLANTED comment by PLANTED-Artist") in found
    assert ("owner", "IPTC By-line PLANTED-Byline") in found
    assert ("text", "plain text: PLANTED plain text") in found
    assert any("Aigerim" in detail for kind, detail in found if kind == "icc")


@pytest.mark.parametrize("animated", SHAPES)
def test_exiftool_finds_nothing_but_the_image_in_a_stripped_gif(animated: bool) -> None:
    """exiftool sees the comment, XMP and the ICC profile before; after, only the GIF's own fields."""
    raw = fx.planted_gif(animated)
    before, after = exiftool(raw), exiftool(strip_photo(raw, NAME).data)
    assert {"File:Comment", "XMP-dc:Creator", "XMP-exif:GPSLatitude", "ICC_Profile:ProfileDescription"} <= set(before)
    groups = {key.split(":")[0] for key in after}
    assert groups <= {"SourceFile", "ExifTool", "System", "File", "GIF", "Composite"}, sorted(after)
    assert "File:Comment" not in after and "GIF:Text" not in after and "ExifTool:Warning" not in after
    assert ("GIF:AnimationIterations" in after) == animated


@pytest.mark.parametrize("animated", SHAPES)
def test_a_clean_gif_is_unchanged(animated: bool) -> None:
    """A GIF without metadata comes out byte for byte as it went in, its loop and timing with it."""
    plain = fx.plain_gif(animated)
    assert detect_kind(plain, NAME) == "gif"
    stripped = strip_photo(plain, NAME)
    assert (stripped.data, stripped.removed) == (plain, ())
    assert scan_photo(plain, NAME) == []
    assert (b"NETSCAPE2.0" in plain) == animated


def test_a_gif87a_and_a_gif_without_trailer_are_read() -> None:
    """GIF87a has no extensions but is otherwise the same; a file that ends after its last image without a
    trailer (cut after a whole block) is given one, and nothing is said to be removed."""
    plain = fx.plain_gif()
    old = b"GIF87a" + plain[6:]
    assert strip_photo(old, NAME).data == old
    stripped = strip_photo(plain[:-1], NAME)
    assert (stripped.data, stripped.removed) == (plain, ())
    assert scan_photo(plain[:-1], NAME) == []


def test_a_byte_no_block_starts_with_ends_the_image_as_in_browsers() -> None:
    """Browsers stop at a byte where a block should start and none does, as at the trailer; Pillow skips it and
    reads on. The cleaner follows browsers: frames only Pillow would show (a hidden one, say) are not carried,
    and the rest is named as trailing data."""
    plain = fx.plain_gif(animated=True)
    blocks = _blocks(plain)
    first = next(i for i, block in enumerate(blocks) if block[0] == 0x2C) + 1
    edited = _gif_of(plain, *blocks[:first], b"\0PLANTED", *blocks[first:])
    stripped = strip_photo(edited, NAME)
    assert stripped.removed == ("trailing-data",) and b"PLANTED" not in stripped.data
    assert stripped.data == _gif_of(plain, *blocks[:first], b";")
    assert len(fx.frames(stripped.data)) == 1 and len(fx.frames(edited)) == 3  # Pillow skipped the bytes
    found = scan_photo(edited, NAME)
    assert [f.kind for f in found] == ["trailing-data"] and "where browsers stop" in found[0].detail


def test_the_loop_count_is_the_one_browsers_read() -> None:
    """Browsers take the last sub-block whose id's low three bits are 1, after any other (a buffer size); Pillow
    only a first one of id 1. The cleaner writes the count browsers read, in the form both read."""
    plain = fx.plain_gif(animated=True)
    at = plain.index(b"NETSCAPE2.0") + 11  # the loop sub-block: 03 01 lo hi
    for edited in (plain[:at] + b"\x06\x02PLANT" + plain[at:],  # a buffer size first
                   plain[:at] + b"\x03\x09\x05\x00" + plain[at + 4:]):  # id 9: 1 to browsers, looping 5 times
        stripped = strip_photo(edited, NAME)
        assert stripped.removed == ("other-chunk",) and b"PLANT" not in stripped.data
        loop = stripped.data[stripped.data.index(b"NETSCAPE2.0") + 11:][:5]
        assert loop == (b"\x03\x01\x00\x00\x00" if b"PLANT" in edited else b"\x03\x01\x05\x00\x00")


def test_a_graphic_control_after_the_last_image_goes() -> None:
    """Timing for a frame that never comes: readers ignore it (exiftool adds its delay to the duration), so it
    goes and is named."""
    plain = fx.plain_gif(animated=True)
    edited = plain[:-1] + fx.gif_extension(0xF9, b"\x00\xff\x7f\x00") + b";"
    stripped = strip_photo(edited, NAME)
    assert stripped.removed == ("other-chunk",) and stripped.data == plain
    assert [f.kind for f in scan_photo(edited, NAME)] == ["other-metadata"]


def _gce(packed: int, *extra: bytes) -> Callable[[bytes], bytes]:
    return lambda block: block[:3] + bytes([block[3] | packed]) + block[4:7] + b"".join(extra) + b"\0"


@pytest.mark.parametrize(("kind", "change"), [
    pytest.param(0xF9, _gce(0xE0), id="graphic control reserved bits"),
    pytest.param(0xF9, _gce(0x02), id="graphic control user input flag"),
    pytest.param(0xF9, lambda b: b[:3] + bytes([b[3] & 0xFE]) + b[4:6] + b"\x41\0", id="unused transparent colour"),
    pytest.param(0xF9, _gce(0, b"\x07PLANTED"), id="graphic control with a sub-block more"),
    pytest.param(0xF9, lambda b: b[:2] + b"\x0b" + b[3:7] + b"PLANTED\0", id="graphic control longer"),
    pytest.param(0xFF, lambda b: b[:-1] + b"\x07PLANTED\0", id="loop with a sub-block more"),
    pytest.param(0xFF, lambda b: b + fx.gif_application(b"NETSCAPE2.0", b"\x02PLANTED"),
                 id="a buffer size, not a loop count"),
    pytest.param(0x2C, lambda b: b[:9] + bytes([b[9] | 0x18]) + b[10:], id="image descriptor reserved bits"),
])
def test_what_readers_ignore_in_kept_blocks_goes_and_is_named(kind: int, change: Callable[[bytes], bytes]) -> None:
    """Bits and sub-blocks that readers never read, in blocks the cleaner keeps (a frame's timing, the loop
    count, an image's descriptor): cut or cleared and named by scanner and cleaner alike."""
    plain = fx.plain_gif(animated=True)
    blocks = _blocks(plain)
    at = next(i for i, block in enumerate(blocks) if block[0] == kind or block[:2] == bytes([0x21, kind]))
    edited = _gif_of(plain, *blocks[:at], change(blocks[at]), *blocks[at + 1:])
    stripped = strip_photo(edited, NAME)
    assert stripped.removed == ("other-chunk",) and b"PLANTED" not in stripped.data
    assert stripped.data == plain and fx.frames(edited) == fx.frames(plain)
    kinds = [f.kind for f in scan_photo(edited, NAME)]  # and what text the bytes spell
    assert kinds[0] == "other-metadata" and set(kinds[1:]) <= {"text"}


@pytest.mark.parametrize(("data", "reason"), [
    pytest.param(b"GIF89a\x01\0", "ends inside its screen descriptor", id="short screen"),
    pytest.param(b"GIF89a\x01\0\x01\0\x80\0\0" + bytes(3), "ends inside its screen descriptor", id="short colours"),
    pytest.param(b"GIF89a\x01\0\x01\0\0\0\0;", "holds no image", id="no image"),
    pytest.param(b"GIF89a\x01\0\x01\0\0\0\0!\xf9\x02\0\0\0,", "graphic control extension at byte 13 is too short",
                 id="short graphic control"),
    pytest.param(b"GIF89a\x01\0\x01\0\0\0\0,\0\0\0\0\x01\0\x01\0\0\x02\x05ab", "ends inside the image at byte 13",
                 id="image cut"),
    pytest.param(b"GIF89a\x01\0\x01\0\0\0\0!\xfe\x05ab", "ends inside the extension at byte 13", id="comment cut"),
    pytest.param(b"GIF89a\x01\0\x01\0\0\0\0,\0\0\0\0\0\0\x01\0\0\x02\x07PLANTED\0;",
                 "the image at byte 13 has no width or height", id="zero width"),
])
def test_malformed_gifs_raise_photo_error(data: bytes, reason: str) -> None:
    """Each broken file is a PhotoError that names the file and says what is wrong; cleaner and scanner agree."""
    assert all(message.startswith(f"{NAME}: not a valid GIF: ") for message in refused_alike(data, NAME, reason))


@pytest.mark.parametrize("make", [fx.plain_gif, lambda: fx.planted_gif(animated=True)])
@FUZZ
@given(cut=st.floats(0, 1, exclude_max=True))
def test_a_truncated_gif_is_refused_unless_cut_between_blocks(make: Callable[[], bytes], cut: float) -> None:
    """A GIF cut inside a block is refused; cut between blocks, it is what precedes the cut, given a trailer."""
    data = make()
    cut_at = int(cut * len(data))
    try:
        stripped = strip_photo(data[:cut_at], NAME)
    except PhotoError as exc:
        assert str(exc).startswith(f"{NAME}: ")
        return
    assert stripped.data.endswith(b";") and strip_photo(stripped.data, NAME).data == stripped.data


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), min_size=1, max_size=8))
def test_mutated_gifs_raise_only_photo_error_and_clean_idempotently(edits: list[tuple[int, int]]) -> None:
    """Random byte edits: PhotoError from both cleaner and scanner, or a result that cleaning again leaves alone
    and the scanner calls clean exactly when the cleaner removed nothing."""
    for raw in (fx.planted_gif(), fx.planted_gif(animated=True)):
        data = fx.mutated(raw, edits)
        try:
            stripped = strip_photo(data, NAME)
        except PhotoError as exc:
            assert str(exc).startswith(f"{NAME}: ")
            with pytest.raises(PhotoError):
                scan_photo(data, NAME)
            continue
        assert strip_photo(stripped.data, NAME).data == stripped.data
        assert (scan_photo(data, NAME) == []) == (stripped.removed == ())


def test_the_scanner_reads_large_animations_in_pieces() -> None:
    """A GIF whose frames pass the scanner's 1 MiB read pieces is walked to its end: the comment after them is
    found, and the plain file is clean."""
    frames = [Image.frombytes("RGB", (640, 480), random.Random(seed).randbytes(640 * 480 * 3)).convert("P")
              for seed in (1, 2, 3, 4)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)
    plain = out.getvalue()
    assert len(plain) > 1 << 20
    commented = plain[:-1] + fx.gif_extension(0xFE, b"PLANTED after the frames") + b";"
    for data, expected in ((plain, []), (commented, ["comment"])):
        pieces = [data[i:i + (1 << 20)] for i in range(0, len(data), 1 << 20)]
        result = scan_photo_chunks(pieces, NAME)
        assert result.problem is None and [f.kind for f in result.findings] == expected


def test_countless_blocks_or_sub_blocks_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Graphic controls or comments by the hundred thousand, or data in one-byte sub-blocks past the cap: refused
    by cleaner and scanner alike, naming the cap, rather than walked while time grows. Of countless comments the
    scanner keeps one more than a report lists, and walks on to the cap."""
    plain = fx.plain_gif()
    many = plain[:-1] + b"!\xf9\x04\0\0\0\0\0" * 200_001 + b";"
    refused_alike(many, NAME, "more than 200,000 blocks")
    comments = plain[:-1] + b"!\xfe\0" * 200_001 + b";"
    refused_alike(comments, NAME, "more than 200,000 blocks")
    result = scan_photo_chunks([comments], NAME)
    assert len(result.findings) == MAX_PER_FILE + 1 and "more than 200,000 blocks" in (result.problem or "")
    monkeypatch.setattr(gif, "MAX_SUB_BLOCKS", 1000)
    tiny = plain[:-1] + fx.gif_extension(0xFE, *[b"x"] * 1001) + b";"
    refused_alike(tiny, NAME, "more than 1,000 data sub-blocks")
