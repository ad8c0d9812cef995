"""Animated PNGs (APNG) are cleaned like any PNG: every frame drawn as before, the metadata gone."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

import photo_fixtures as fx
from helpers import refused_alike
from mirror.privacy.png import SIGNATURE
from mirror.privacy.scan import scan_photo, scan_photo_chunks
from mirror.privacy.strip import strip_photo

NAME = "stickers/жалау.png"


def _apng(frames: int = 3, size: tuple[int, int] = (32, 24)) -> bytes:
    """An animation as Pillow writes it: acTL before the image data, then fcTL and fdAT in turn."""
    out = io.BytesIO()
    images = [fx.pixels(*size, seed) for seed in range(frames)]
    images[0].save(out, "PNG", save_all=True, append_images=images[1:], duration=[100, 200, 300][:frames], loop=2)
    return out.getvalue()


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    found, pos = [], 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        found.append((kind, data[pos + 8:pos + 8 + length]))
        pos += 12 + length
    return found


def _png_of(chunks: list[tuple[bytes, bytes]]) -> bytes:
    return SIGNATURE + b"".join(fx.chunk(kind, body) for kind, body in chunks)


def test_an_animation_keeps_its_frames_and_loses_its_metadata() -> None:
    """Text (a name, a capture time), XMP, tIME and a trailer go; acTL, every fcTL and fdAT stay byte for byte,
    and Pillow plays the same frames with the same timing."""
    plain = _apng()
    chunks = _chunks(plain)
    planted = [chunks[0], (b"tEXt", b"Author\0PLANTED Aigerim"), (b"tIME", bytes.fromhex("07e60105090000")),
               *chunks[1:-1], (b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + fx.xmp_packet()), chunks[-1]]
    raw = _png_of(planted) + b"PLANTED trailer"
    stripped = strip_photo(raw, NAME)
    assert stripped.data == plain and b"PLANTED" not in stripped.data
    assert set(stripped.removed) == {"text", "time", "xmp", "trailing-data"}
    assert fx.frames(stripped.data) == fx.frames(raw) and len(fx.frames(raw)) == 3
    kinds = [kind for kind, _ in _chunks(stripped.data)]
    assert kinds.count(b"fcTL") == 3 and b"acTL" in kinds and b"fdAT" in kinds
    assert scan_photo(plain, NAME) == [] and strip_photo(plain, NAME).removed == ()
    assert {"datetime", "xmp", "trailing-data"} <= {f.kind for f in scan_photo(raw, NAME)}


def test_frame_chunks_readers_ignore_are_dropped() -> None:
    """An acTL chunk after the image data makes no animation (readers show the still image and ignore the
    frames): acTL, fcTL and fdAT are then dropped and named, and the still image is drawn as before."""
    chunks = _chunks(_apng())
    moved = [c for c in chunks if c[0] != b"acTL"]
    at = next(i for i, c in enumerate(moved) if c[0] == b"IDAT") + 1
    late = [*moved[:at], next(c for c in chunks if c[0] == b"acTL"), *moved[at:]]
    raw = _png_of(late)
    stripped = strip_photo(raw, NAME)
    assert stripped.removed == ("other-chunk",)
    assert {kind for kind, _ in _chunks(stripped.data)}.isdisjoint({b"acTL", b"fcTL", b"fdAT"})
    assert fx.frames(stripped.data)[0][0] == fx.frames(raw)[0][0]
    assert [f.kind for f in scan_photo(raw, NAME)] and strip_photo(stripped.data, NAME).removed == ()


def _renumbered(chunks: list[tuple[bytes, bytes]], index: int, number: int) -> list[tuple[bytes, bytes]]:
    kind, body = chunks[index]
    return [*chunks[:index], (kind, struct.pack(">I", number) + body[4:]), *chunks[index + 1:]]


def _broken(change: str) -> bytes:
    chunks = _chunks(_apng())
    frames = [i for i, (kind, _) in enumerate(chunks) if kind in (b"fcTL", b"fdAT")]
    actl = next(i for i, (kind, _) in enumerate(chunks) if kind == b"acTL")
    if change == "gap":
        chunks = _renumbered(chunks, frames[2], 7)
    elif change == "more frames than announced":
        chunks[actl] = (b"acTL", struct.pack(">II", 2, 0))
    elif change == "fewer frames than announced":
        chunks[actl] = (b"acTL", struct.pack(">II", 4, 0))
    elif change == "frame before acTL":
        first = chunks.pop(frames[0])
        chunks.insert(actl, first)
    elif change == "two acTL":
        chunks.insert(actl, chunks[actl])
    elif change == "frame outside the image":
        kind, body = chunks[frames[1]]
        chunks[frames[1]] = (kind, body[:4] + struct.pack(">I", 33) + body[8:])  # IHDR is 32 wide
    elif change == "data without its frame control":
        del chunks[frames[1]]  # the first frame control after the image data: its data follows the image's
        for at in frames[2:]:
            kind, body = chunks[at - 1]
            chunks[at - 1] = (kind, struct.pack(">I", struct.unpack(">I", body[:4])[0] - 1) + body[4:])
    return _png_of(chunks)


@pytest.mark.parametrize(("change", "reason"), [
    ("gap", "animation chunk 7 comes where"),
    ("more frames than announced", "more frames than the 2"),
    ("fewer frames than announced", "announces 4 frames, it holds 3"),
    ("frame before acTL", "comes before its acTL"),
    ("two acTL", "acTL chunk is repeated"),
    ("frame outside the image", "animation frame 1 does not fit the image"),
    ("data without its frame control", "frame data .chunk 1. comes without a frame control"),
])
def test_broken_animations_are_refused(change: str, reason: str) -> None:
    """Frames out of turn, more or fewer than announced, outside the image, or data without its frame control:
    readers refuse the file or show it still, so frames are never carried unseen; cleaner and scanner refuse
    alike, naming what is wrong."""
    raw = _broken(change)
    assert all(message.startswith(f"{NAME}: not a valid PNG: ") for message in refused_alike(raw, NAME, reason))


def test_the_scanner_reads_a_large_animation_in_pieces() -> None:
    """Frame data past the scanner's 1 MiB pieces: the frame chunks are checked in turn from a few bytes each,
    and the text after them is found."""
    noisy = [Image.frombytes("RGB", (600, 600), bytes(seed * 7 + i & 0xFF for i in range(600 * 600 * 3)))
             for seed in (1, 2, 3)]
    out = io.BytesIO()
    noisy[0].save(out, "PNG", save_all=True, append_images=noisy[1:], compress_level=0)
    plain = out.getvalue()
    assert len(plain) > 2 << 20
    raw = plain[:-12] + fx.chunk(b"tEXt", b"Comment\0PLANTED") + plain[-12:]
    for data, expected in ((plain, []), (raw, ["text"])):
        pieces = [data[i:i + (1 << 20)] for i in range(0, len(data), 1 << 20)]
        result = scan_photo_chunks(pieces, NAME)
        assert result.problem is None and [f.kind for f in result.findings] == expected
