"""Lossless PNG cleaning: keep the chunks that draw the image, drop the rest.

Example::

    stripped = strip_png(raw, "photos/b.png")
    stripped.removed        # ("text", "time")
    stripped.data           # signature + IHDR, (eXIf with Orientation), PLTE, IDAT..., colour chunks, IEND

    parsed = parse_png(raw, "photos/b.png")   # the chunks, for tests and tools
    walk = PngWalk(Cursor.of_chunks(chunks), "b.png", keep_image=False)   # the scanner: bounded memory

Every chunk's length and CRC is checked (PNG spec, 3rd edition, section 5.3).
IHDR must come first, IDAT chunks must be consecutive, IEND must end the image.
Kept chunks are copied byte for byte, so IDAT (the pixels) never changes. An
orientation that Pillow would apply (from eXIf, ImageMagick's "Raw profile type
exif" text, or XMP's tiff:Orientation) is put back as an eXIf chunk holding
only Orientation, so the photo is still shown the right way up.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator

from mirror.errors import PhotoError
from mirror.privacy.cursor import TRAILING_KEPT, Cursor
from mirror.privacy.exif import Stripped, Tiff, exif_kinds, ordered_kinds, read_tiff, xmp_orientation
from mirror.privacy.icc import canonical_iccp, iccp_profile_head, shifts_colours, standard_iccp
from mirror.privacy.jpeg import orientation_tiff
from mirror.record import record, replace

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CRITICAL = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND"})
ANIMATION = frozenset({b"acTL", b"fcTL", b"fdAT"})  # APNG: frame count, each frame's place and timing, its data
KEPT = CRITICAL | ANIMATION | {b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"pHYs"}
FIXED_SIZE = {b"gAMA": 4, b"cHRM": 32, b"sRGB": 1, b"pHYs": 9}  # PNG 1.2, 4.2: the only valid lengths
_READ = {b"IHDR": 13, b"acTL": 8, b"fcTL": 26, b"fdAT": 4}  # what a streaming walk reads of a kept chunk to check it
KIND_OF = {b"tEXt": "text", b"zTXt": "text", b"iTXt": "text", b"eXIf": "exif", b"tIME": "time",
           b"iCCP": "icc"}
TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")
XMP_KEYWORD = "XML:com.adobe.xmp"
MAX_KEPT_DATA = 1 << 20  # a streaming walk keeps at most this much of a metadata chunk
MAX_TEXT = 1 << 20  # compressed text is inflated up to this much
MAX_CHUNKS = 1_000_000  # 8 GB of libpng's 8 KiB IDAT chunks; past it, time and memory would only grow
# Text chunks a PNG may hold: editors write a few. Each compressed one may be inflated to MAX_TEXT to be judged.
MAX_TEXT_CHUNKS = 1024
TEXT_SHOWN = 4096  # of a plain text chunk (a comment, an author), only what a finding shows is inflated
_MAX_LENGTH = 2**31 - 1
_HEX = re.compile(rb"[0-9a-fA-F]+")


@record
class Chunk:
    """One PNG chunk.

    Attributes:
        type: the four-letter chunk type, such as b"IDAT".
        data: the chunk's data field (in a streaming walk: its first MAX_KEPT_DATA bytes, none of IDAT).
        raw: the chunk as stored: length, type, data and CRC (empty in a streaming walk).
        size: the length of the data field.
        ignored: an animation chunk of a file readers show still (no acTL before the image data): dropped.
    """

    type: bytes
    data: bytes
    raw: bytes
    size: int = -1
    ignored: bool = False

    @property
    def kept(self) -> bool:
        """Whether the cleaner keeps this chunk: one that draws the image, or a standard colour profile. One of a
        fixed size given another (libpng ignores it, and the bytes past its size are read by nobody) is dropped."""
        length = self.size if self.size >= 0 else len(self.data)
        if self.type in FIXED_SIZE and length != FIXED_SIZE[self.type]:
            return False
        return (self.type in KEPT and not self.ignored) or (self.type == b"iCCP" and standard_iccp(self.data))


@record
class ParsedPng:
    """A PNG as its chunks, IHDR through IEND, and how many bytes follow IEND."""

    chunks: tuple[Chunk, ...]
    trailing: int
    trailing_head: bytes = b""


def _fail(name: str, reason: str, hint: str | None = None) -> PhotoError:
    return PhotoError(name, f"not a valid PNG: {reason}", hint=hint)


# Each colour type's bit depths (PNG 11.2.2): any other header is one no decoder shows, whatever it holds
_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
_MAX_SIDE = (1 << 31) - 1


def _check_header(name: str, data: bytes) -> int:
    """IHDR's colour type, once its fields are ones a decoder draws: a size, a depth the colour type has, the one
    compression and filter method, and interlacing none or Adam7. A photo nobody can see is never bundled as clean:
    what it holds could not be checked by anyone who receives it.

    Raises:
        PhotoError: a field no decoder accepts.
    """
    width, height, depth, colour, compression, filtering, interlace = map(int, struct.unpack(">IIBBBBB", data[:13]))
    if not (0 < width <= _MAX_SIDE and 0 < height <= _MAX_SIDE):
        raise _fail(name, f"its header gives a size of {width} x {height} pixels")
    if depth not in _DEPTHS.get(colour, ()):
        raise _fail(name, f"its header gives colour type {colour} with bit depth {depth}, which no decoder shows")
    if compression or filtering or interlace > 1:
        raise _fail(name, "its header names a compression, filter or interlace method PNG does not have")
    return colour


class PngWalk:
    """One pass over a PNG's chunks.

    Args:
        cursor: the data.
        name: the photo's name, for messages.
        keep_image: keep every chunk whole (the cleaner); otherwise keep only the start of metadata
            chunks and none of the image data (the scanner).
    """

    def __init__(self, cursor: Cursor, name: str, keep_image: bool = True) -> None:
        self.cursor, self.name, self.keep_image = cursor, name, keep_image
        self.trailing, self.trailing_head = 0, b""
        self.frames = 0  # the frame count an acTL chunk announces
        self.animated: bool | None = None  # unknown until an acTL chunk, or the image data or a frame before one
        self.image_seen = False
        self.size = (0, 0)  # IHDR's width and height
        self.colour_type = 0
        self.frame_open = self.frame_filled = False  # a frame control after the image data, and its data seen
        self.default_frame = False  # a frame control before the image data: the still image is frame 0
        self.controls = self.sequence = 0  # fcTL chunks seen; the next sequence number (fcTL and fdAT share it)

    def _chunk(self, pos: int) -> Chunk:
        """The chunk at `pos`, with its length, type letters and CRC checked."""
        head = self.cursor.take(pos, pos + 8)
        if len(head) < 8:
            raise _fail(self.name, "the file ends before the IEND chunk (truncated?)")
        length, kind = struct.unpack(">I4s", head)
        if not kind.isalpha():  # bytes.isalpha(): ASCII letters only
            raise _fail(self.name, f"chunk at byte {pos} has an invalid type {kind!r}")
        label = kind.decode("ascii")
        if length > _MAX_LENGTH:
            raise _fail(self.name, f"chunk {label} at byte {pos} is longer than PNG allows")
        end = pos + 8 + length
        keep = length if self.keep_image else min(length, _READ.get(kind, 0)) if kind in KEPT else min(
            length, MAX_KEPT_DATA)
        body = self.cursor.take(pos + 8, pos + 8 + keep)
        crc = self.cursor.crc32(pos + 4, end, 0)
        stored = self.cursor.take(end, end + 4)
        if crc is None or len(stored) < 4:
            raise _fail(self.name, f"chunk {label} at byte {pos} runs past the end of the file")
        if crc != struct.unpack(">I", stored)[0]:
            raise _fail(self.name, f"chunk {label} at byte {pos} has a bad CRC")
        raw = self.cursor.take(pos, end + 4) if self.keep_image else b""
        self.cursor.release(end + 4)
        return Chunk(kind, body, raw, length)

    def _check_order(self, chunk: Chunk, seen: set[bytes], last: bytes) -> Chunk:
        """IHDR first and once; no unknown critical chunk; PLTE before IDAT; IDAT consecutive; animation chunks
        in turn. The chunk, marked ignored when it is an animation chunk readers ignore."""
        kind, label = chunk.type, chunk.type.decode("ascii")
        if (kind == b"IHDR") != (not seen):
            raise _fail(self.name, "IHDR must be the first chunk, and only once")
        if kind == b"IHDR" and chunk.size != 13:
            raise _fail(self.name, "IHDR has the wrong length")
        if kind == b"IHDR":
            self.size = struct.unpack(">II", chunk.data[:8])
            # the cleaner's alone: the scanner reads on, for what the chunks after a header no decoder shows hold
            self.colour_type = _check_header(self.name, chunk.data) if self.keep_image else -1
        if kind == b"IDAT" and self.colour_type == 3 and b"PLTE" not in seen:
            raise _fail(self.name, "a palette image without its palette (PLTE)")
        if kind == b"IDAT":
            self.image_seen = True
            self.animated = self.animated or False  # an acTL chunk after the image data makes no animation
        if kind in ANIMATION and not self._animation_chunk(chunk):
            chunk = replace(chunk, ignored=True)
        if kind[:1].isupper() and kind not in CRITICAL:
            raise _fail(self.name, f"unknown critical chunk {label}")
        if kind == b"PLTE" and (b"PLTE" in seen or b"IDAT" in seen):
            raise _fail(self.name, "PLTE is repeated or comes after image data")
        if kind == b"IDAT" and b"IDAT" in seen and last != b"IDAT":
            raise _fail(self.name, "IDAT chunks are not consecutive")
        return chunk

    def _animation_chunk(self, chunk: Chunk) -> bool:
        """Whether an APNG chunk is kept. An animation is an acTL chunk before the image data and before any
        frame; then fcTL and fdAT are numbered in turn from 0, fcTL as many as acTL announces. Without that
        acTL, readers show the still image and ignore the frames: they are dropped, never drawn. A broken
        animation, which readers show still or refuse, is refused rather than carried."""
        kind, size = chunk.type, chunk.size
        if kind == b"acTL" and self.animated:
            raise _fail(self.name, "its acTL chunk is repeated")
        if kind == b"acTL" and self.animated is False and not self.image_seen:  # Pillow would play those frames
            raise _fail(self.name, "an animation frame comes before its acTL chunk")
        if kind == b"acTL" and self.animated is None:
            if size != 8:
                raise _fail(self.name, "its acTL chunk has the wrong length")
            self.frames = struct.unpack(">I", chunk.data[:4])[0]
            if not self.frames:
                raise _fail(self.name, "its acTL chunk announces no frames")
            self.animated = True
            return True
        if not self.animated:
            self.animated = False
            return False
        if size < 4 or (kind == b"fcTL" and size != 26):
            raise _fail(self.name, f"its {kind.decode('ascii')} chunk has the wrong length")
        number = struct.unpack(">I", chunk.data[:4])[0]
        if number != self.sequence:
            raise _fail(self.name, f"animation chunk {number} comes where {self.sequence} should")
        self.sequence += 1
        if kind == b"fdAT":
            if not self.frame_open:  # before the image data, or after it without a frame control of its own
                raise _fail(self.name, f"frame data (chunk {number}) comes without a frame control before it")
            self.frame_filled = True
            return True
        self._frame_control(chunk.data, number)
        self.controls += 1
        if self.controls > self.frames:
            raise _fail(self.name, f"it holds more frames than the {self.frames} its acTL chunk announces")
        return True

    def _frame_control(self, data: bytes, number: int) -> None:
        """An fcTL's frame lies in the image and has a size, its disposal and blending are ones readers know;
        one before the image data is the whole image; the frame before it has data."""
        width, height, x, y = struct.unpack(">IIII", data[4:20])
        dispose, blend = data[24], data[25]
        if not width or not height or x + width > self.size[0] or y + height > self.size[1] or dispose > 2 or (
                blend > 1):
            raise _fail(self.name, f"animation frame {number} does not fit the image, or its fields are unknown")
        if self.frame_open and not self.frame_filled:
            raise _fail(self.name, f"an animation frame before chunk {number} holds no data")
        if not self.image_seen:
            if self.default_frame or (x, y, width, height) != (0, 0, *self.size):
                raise _fail(self.name, "the frame before the image data is repeated, or is not the whole image")
            self.default_frame = True
            return
        self.frame_open, self.frame_filled = True, False

    def chunks(self) -> Iterator[Chunk]:
        """Every chunk from IHDR to IEND; afterwards `trailing` is set.

        Raises:
            PhotoError: no signature, a truncated or corrupt chunk, chunks out of order, an unknown critical
                chunk, animation chunks out of turn, no image data, or no IEND.
        """
        if self.cursor.take(0, 8) != SIGNATURE:
            raise _fail(self.name, "it does not start with the PNG signature")
        seen: set[bytes] = set()
        pos, last, texts = len(SIGNATURE), b"", 0
        for count in range(MAX_CHUNKS + 1):
            if count == MAX_CHUNKS:
                raise _fail(self.name, f"it holds more than {MAX_CHUNKS:,} chunks")
            chunk = self._check_order(self._chunk(pos), seen, last)
            seen.add(chunk.type)
            texts += chunk.type in TEXT_CHUNKS
            if texts > MAX_TEXT_CHUNKS:
                raise _fail(self.name, f"it holds more than {MAX_TEXT_CHUNKS:,} text chunks, far more than any editor "
                                       "writes")
            pos, last = pos + 12 + chunk.size, chunk.type
            if chunk.type == b"IEND":
                break
            if chunk.type == b"IDAT" and not self.keep_image:
                continue  # the scanner needs no image data, and thousands of chunks would only fill memory
            yield chunk
        if chunk.size:
            raise _fail(self.name, "IEND has data")
        if b"IDAT" not in seen:
            raise _fail(self.name, "it holds no image data (no IDAT chunk)")
        if self.animated and self.frames > self.controls:
            raise _fail(self.name, f"its acTL chunk announces {self.frames} frames, it holds {self.controls}")
        if self.frame_open and not self.frame_filled:
            raise _fail(self.name, "its last animation frame holds no data")
        yield chunk
        self.trailing, self.trailing_head = self.cursor.skip_to_end(pos, TRAILING_KEPT)


def parse_png(data: bytes, name: str) -> ParsedPng:
    """Read every chunk of a PNG in memory, checking lengths, CRCs and order.

    Raises:
        PhotoError: see `PngWalk.chunks`.
    """
    walk = PngWalk(Cursor(data), name)
    chunks = tuple(walk.chunks())
    return ParsedPng(chunks, walk.trailing, walk.trailing_head)


def text_keyword(chunk: Chunk) -> str:
    """The keyword of a tEXt, zTXt or iTXt chunk, without inflating its text."""
    return chunk.data.partition(b"\0")[0].decode("latin-1")


def text_chunk(chunk: Chunk, limit: int = MAX_TEXT) -> tuple[str, bytes]:
    """Keyword and text of a tEXt, zTXt or iTXt chunk (compressed text: up to `limit` bytes)."""
    keyword, _, rest = chunk.data.partition(b"\0")
    compressed = chunk.type == b"zTXt" or (chunk.type == b"iTXt" and rest[:1] == b"\1")
    if chunk.type == b"zTXt":
        rest = rest[1:]
    elif chunk.type == b"iTXt":  # flag, method, language\0, translated keyword\0, text
        rest = rest[2:].split(b"\0", 2)[-1]
    try:
        text = zlib.decompressobj().decompress(rest, limit) if compressed else rest[:limit]
    except zlib.error:
        text = b"(unreadable compressed text)"
    return keyword.decode("latin-1"), text


def raw_profile(text: bytes) -> bytes:
    """The bytes of an ImageMagick "Raw profile type ..." text: a name, a length, then hex digits."""
    digits = b"".join(_HEX.findall(b"".join(text.split(b"\n")[3:])))
    return bytes.fromhex(digits[: len(digits) // 2 * 2].decode("ascii"))


def exif_of(chunk: Chunk) -> Tiff | None:
    """The EXIF block in an eXIf chunk or an ImageMagick "Raw profile type exif" text; None otherwise."""
    if chunk.type == b"eXIf":
        return read_tiff(chunk.data.removeprefix(b"Exif\0\0"))
    if chunk.type in TEXT_CHUNKS:
        keyword, text = text_chunk(chunk)
        if keyword in ("Raw profile type exif", "Raw profile type APP1"):
            return read_tiff(raw_profile(text).removeprefix(b"Exif\0\0"))
    return None


def png_orientation(chunks: tuple[Chunk, ...]) -> int:
    """The orientation Pillow applies: eXIf, else "Raw profile type exif", else XMP tiff:Orientation; else 1."""
    exif = next((c for c in chunks if c.type == b"eXIf"), None)
    if exif is None:
        exif = next((c for c in chunks if c.type in TEXT_CHUNKS and text_keyword(c) == "Raw profile type exif"),
                    None)
    tiff = exif_of(exif) if exif is not None else None
    stored = tiff.orientation_tag() if tiff is not None else None
    if stored is None:
        stored = next((xmp_orientation(text_chunk(c)[1]) for c in chunks
                       if c.type in TEXT_CHUNKS and text_keyword(c) == XMP_KEYWORD), None)
    return stored if stored is not None and 1 <= stored <= 8 else 1


def chunk_kinds(chunk: Chunk) -> tuple[str, ...]:
    """The kinds of metadata a chunk holds; () for the chunks that are kept."""
    if chunk.kept:
        return ()
    if chunk.type == b"eXIf":
        return exif_kinds(exif_of(chunk))
    if chunk.type in TEXT_CHUNKS:
        keyword = text_keyword(chunk)
        if keyword == XMP_KEYWORD:
            return ("xmp",)
        if keyword in ("Raw profile type exif", "Raw profile type APP1"):  # ImageMagick's EXIF as hex text
            return exif_kinds(exif_of(chunk)) or ("text",)
    return (KIND_OF.get(chunk.type, "other-chunk"),)


def _chunk_bytes(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def strip_png(data: bytes, name: str) -> Stripped:
    """Keep IHDR, PLTE, IDAT, IEND, tRNS, gAMA, cHRM, sRGB, pHYs, and an animation's acTL, fcTL and fdAT; drop
    every other chunk.

    An orientation other than 1 is put back right after IHDR as an eXIf chunk holding only Orientation.

    Raises:
        PhotoError: the PNG is malformed, its animation chunks are out of turn, or it has an unknown critical
            chunk.
    """
    parsed = parse_png(data, name)
    removed = [kind for chunk in parsed.chunks for kind in chunk_kinds(chunk)]
    if parsed.trailing:
        removed.append("trailing-data")
    kept = [chunk.raw if chunk.type != b"iCCP" else _chunk_bytes(b"iCCP", canonical_iccp(chunk.data))
            for chunk in parsed.chunks if chunk.kept]
    orientation = png_orientation(parsed.chunks)
    if orientation != 1:
        kept.insert(1, _chunk_bytes(b"eXIf", orientation_tiff(orientation)))
    # The profile readers apply (the first iCCP; an sRGB chunk instead means sRGB), when it goes
    first = next((c for c in parsed.chunks if c.type in (b"iCCP", b"sRGB")), None)
    dropped = first is not None and first.type == b"iCCP" and not first.kept
    colours = (shifts_colours(iccp_profile_head(first.data)) or "") if dropped and first else ""
    return Stripped(SIGNATURE + b"".join(kept), ordered_kinds(removed), orientation, colours=colours)
