"""Lossless PNG cleaning: keep the chunks that draw the image, drop the rest.

Example::

    stripped = strip_png(raw, "photos/b.png")
    stripped.removed        # ("text", "time")
    stripped.data           # signature + IHDR, PLTE, IDAT..., the colour chunks, IEND

    parsed = parse_png(raw, "photos/b.png")   # the chunks, for the scanner

Every chunk's length and CRC is checked (PNG spec, 3rd edition, section 5.3).
IHDR must come first, IDAT chunks must be consecutive, IEND must end the image.
Kept chunks are copied byte for byte, so IDAT (the pixels) never changes.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from mirror.errors import PhotoError
from mirror.privacy.exif import CONVERT_HINT, Stripped, exif_kinds, ordered_kinds, read_tiff

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CRITICAL = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND"})
KEPT = CRITICAL | {b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"pHYs"}
KIND_OF = {b"tEXt": "text", b"zTXt": "text", b"iTXt": "text", b"eXIf": "exif", b"tIME": "time",
           b"iCCP": "icc"}
_MAX_LENGTH = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Chunk:
    """One PNG chunk.

    Attributes:
        type: the four-letter chunk type, such as b"IDAT".
        data: the chunk's data field.
        raw: the chunk as stored: length, type, data and CRC.
    """

    type: bytes
    data: bytes
    raw: bytes


@dataclass(frozen=True, slots=True)
class ParsedPng:
    """A PNG as its chunks, IHDR through IEND, and the bytes after IEND."""

    chunks: tuple[Chunk, ...]
    trailing: bytes


def _fail(name: str, reason: str, hint: str | None = None) -> PhotoError:
    return PhotoError(name, f"not a valid PNG: {reason}", hint=hint)


def _read_chunk(data: bytes, pos: int, name: str) -> Chunk:
    """The chunk at `pos`, with its length, type letters and CRC checked."""
    if pos + 12 > len(data):
        raise _fail(name, "the file ends before the IEND chunk (truncated?)")
    length, kind = struct.unpack_from(">I4s", data, pos)
    if not kind.isalpha():  # bytes.isalpha(): ASCII letters only
        raise _fail(name, f"chunk at byte {pos} has an invalid type {kind!r}")
    label = kind.decode("ascii")
    if length > _MAX_LENGTH or pos + 12 + length > len(data):
        raise _fail(name, f"chunk {label} at byte {pos} runs past the end of the file")
    body = data[pos + 8:pos + 8 + length]
    (crc,) = struct.unpack_from(">I", data, pos + 8 + length)
    if zlib.crc32(kind + body) != crc:
        raise _fail(name, f"chunk {label} at byte {pos} has a bad CRC")
    return Chunk(kind, body, data[pos:pos + 12 + length])


def _check_order(chunk: Chunk, seen: set[bytes], last: bytes, name: str) -> None:
    """IHDR first and once; no unknown critical chunk; PLTE before IDAT; IDAT consecutive."""
    kind, label = chunk.type, chunk.type.decode("ascii")
    if (kind == b"IHDR") != (not seen):
        raise _fail(name, "IHDR must be the first chunk, and only once")
    if kind == b"IHDR" and len(chunk.data) != 13:
        raise _fail(name, "IHDR has the wrong length")
    if kind == b"acTL":
        raise _fail(name, "animated PNG (APNG) is not supported", hint=CONVERT_HINT)
    if kind[:1].isupper() and kind not in CRITICAL:
        raise _fail(name, f"unknown critical chunk {label}")
    if kind == b"PLTE" and (b"PLTE" in seen or b"IDAT" in seen):
        raise _fail(name, "PLTE is repeated or comes after image data")
    if kind == b"IDAT" and b"IDAT" in seen and last != b"IDAT":
        raise _fail(name, "IDAT chunks are not consecutive")


def parse_png(data: bytes, name: str) -> ParsedPng:
    """Read every chunk of a PNG, checking lengths, CRCs and order.

    Raises:
        PhotoError: no signature, a truncated or corrupt chunk, chunks out of order,
            an unknown critical chunk, an animated PNG, no image data, or no IEND.
    """
    if not data.startswith(SIGNATURE):
        raise _fail(name, "it does not start with the PNG signature")
    chunks: list[Chunk] = []
    seen: set[bytes] = set()
    pos = len(SIGNATURE)
    while True:
        chunk = _read_chunk(data, pos, name)
        _check_order(chunk, seen, chunks[-1].type if chunks else b"", name)
        chunks.append(chunk)
        seen.add(chunk.type)
        pos += len(chunk.raw)
        if chunk.type == b"IEND":
            break
    if chunk.data:
        raise _fail(name, "IEND has data")
    if b"IDAT" not in seen:
        raise _fail(name, "it holds no image data (no IDAT chunk)")
    return ParsedPng(tuple(chunks), data[pos:])


def chunk_kinds(chunk: Chunk) -> tuple[str, ...]:
    """The kinds of metadata a chunk holds; () for the chunks that are kept."""
    if chunk.type in KEPT:
        return ()
    if chunk.type == b"eXIf":
        return exif_kinds(read_tiff(chunk.data))
    if chunk.type == b"iTXt" and chunk.data.startswith(b"XML:com.adobe.xmp\0"):
        return ("xmp",)
    return (KIND_OF.get(chunk.type, "other-chunk"),)


def strip_png(data: bytes, name: str) -> Stripped:
    """Keep IHDR, PLTE, IDAT, IEND, tRNS, gAMA, cHRM, sRGB and pHYs; drop every other chunk.

    Raises:
        PhotoError: the PNG is malformed, animated, or has an unknown critical chunk.
    """
    parsed = parse_png(data, name)
    removed = [kind for chunk in parsed.chunks for kind in chunk_kinds(chunk)]
    if parsed.trailing:
        removed.append("trailing-data")
    kept = [chunk.raw for chunk in parsed.chunks if chunk.type in KEPT]
    return Stripped(SIGNATURE + b"".join(kept), ordered_kinds(removed), 1)
