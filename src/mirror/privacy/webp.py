"""Lossless WebP cleaning: keep the chunks that draw the image, drop the rest.

Example::

    stripped = strip_webp(raw, "photos/c.webp")
    stripped.removed        # ("exif", "gps", "xmp", "icc")
    stripped.data           # RIFF/WEBP: VP8X (flags cleared), ALPH, VP8 or VP8L, or ANIM and ANMF frames
    walk = WebpWalk(Cursor.of_chunks(chunks), "c.webp")   # cleaner and scanner: no pixels kept, bounded memory

A WebP is a RIFF container of chunks (WebP Container Specification): a simple file holds one VP8 (lossy) or
VP8L (lossless) chunk; an extended one starts with VP8X, whose flags say what follows: an ICC profile (ICCP),
an animation (ANIM, then ANMF frames, each holding its own ALPH and VP8 or VP8L), EXIF and XMP. Every chunk's
size is checked against the container's. Kept chunks are copied byte for byte, so the pixels never change.
What readers never draw is dropped too: a second bitstream after the first in a still image (it can hold a
whole other picture), chunks of unknown kind, and a frame's chunks other than its alpha and bitstream. A colour
profile that is exactly a published standard one (icc.py) stays, as in JPEG and PNG. An
orientation that Pillow would apply (EXIF, else XMP's tiff:Orientation) is put back as an EXIF chunk holding
only Orientation.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from mirror.errors import PhotoError
from mirror.privacy.cursor import TRAILING_KEPT, Cursor
from mirror.privacy.exif import (
    Recipe,
    Stripped,
    exif_kinds,
    extend_recipe,
    follow,
    ordered_kinds,
    read_tiff,
    xmp_orientation,
)
from mirror.privacy.icc import MAX_STANDARD, shifts_colours, standard_profile
from mirror.privacy.jpeg import orientation_tiff
from mirror.record import record

RIFF, WEBP = b"RIFF", b"WEBP"
VP8, VP8L, VP8X, ALPH, ANIM, ANMF = b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"
EXIF, XMP, ICCP = b"EXIF", b"XMP ", b"ICCP"
XMP_CHUNKS = (XMP, b"XMP\0")  # readers know the first; some writers (an iPhone's) use the second, which exiftool reads
_BITSTREAMS = (VP8, VP8L)
_PIXELS = frozenset({VP8, VP8L, ALPH})  # a scan keeps none of their bytes
_FRAME_HEADER = 16  # an ANMF chunk's position, size, duration and flags, before its own chunks
_FRAME_FLAGS = 0x03  # blending and disposal: the frame header's other six bits are reserved
_VP8X_SIZE = 10
_ANIM_SIZE = 6  # background colour and loop count
_FLAG_ANIMATION, _FLAG_XMP, _FLAG_EXIF, _FLAG_ALPHA, _FLAG_ICC = 0x02, 0x04, 0x08, 0x10, 0x20
_VP8X_RESERVED = 0xC1
# RIFF INFO fields some writers put in WebPs, as in WAV and AVI files (libwebp's test images carry them)
INFO_FIELDS = {b"IART": "artist", b"ICMT": "comment", b"ICOP": "copyright", b"INAM": "title", b"ICRD": "created",
               b"ISFT": "software", b"IENG": "engineer", b"ITCH": "technician", b"ISBJ": "subject",
               b"IKEY": "keywords", b"ISRC": "source", b"IPRD": "product"}
MAX_KEPT_DATA = 1 << 20  # a streaming walk keeps at most this much of a metadata chunk
MAX_CHUNKS = 100_000  # an animation of 30,000 frames has fewer; past it, time and memory would only grow


@record
class WebpChunk:
    """One chunk: its kind, its data (a scan keeps the start of metadata only, and a frame's header alone),
    the length of its data, where its header starts, and whether it lies inside an ANMF frame."""

    type: bytes
    data: bytes
    size: int
    start: int
    nested: bool = False

    @property
    def end(self) -> int:
        """Where the chunk's data ends (before its pad byte)."""
        return self.start + 8 + self.size


def _fail(name: str, reason: str) -> PhotoError:
    return PhotoError(name, f"not a valid WebP: {reason}")


def chunk_label(kind: bytes) -> str:
    """A chunk's type as text, bytes that are not printable ASCII escaped (b"XMP\\0" -> "XMP\\x00")."""
    return "".join(chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02x}" for b in kind)


def is_webp(data: bytes) -> bool:
    """Whether `data` starts like a WebP (a RIFF container of kind WEBP)."""
    return data[:4] == RIFF and data[8:12] == WEBP


class WebpWalk:
    """One pass over a WebP's chunks, an ANMF frame's own chunks right after it; afterwards `trailing` is set.

    Args:
        cursor: the data.
        name: the photo's name, for messages.

    Each chunk keeps the start of its data (a metadata chunk's first MAX_KEPT_DATA bytes, a frame's header),
    none of the pixels: the cleaner copies what it keeps as ranges of the original.
    """

    def __init__(self, cursor: Cursor, name: str) -> None:
        self.cursor, self.name = cursor, name
        self.trailing, self.trailing_head = 0, b""
        self.count = 0

    def chunks(self) -> Iterator[WebpChunk]:
        """Every chunk in the container, in order.

        Raises:
            PhotoError: not a RIFF/WEBP file, or a chunk runs past its container or the file.
        """
        head = self.cursor.take(0, 12)
        if not is_webp(head):
            raise _fail(self.name, "it does not start with RIFF....WEBP")
        end = 8 + struct.unpack("<I", head[4:8])[0]
        if end < 12:
            raise _fail(self.name, "the RIFF container is shorter than its header")
        yield from self._walk(12, end, nested=False)
        self.trailing, self.trailing_head = self.cursor.skip_to_end(end, TRAILING_KEPT)

    def _walk(self, pos: int, end: int, nested: bool) -> Iterator[WebpChunk]:
        while pos < end:
            self.count += 1
            if self.count > MAX_CHUNKS:
                raise _fail(self.name, f"it holds more than {MAX_CHUNKS:,} chunks")
            head = self.cursor.take(pos, pos + 8)
            if len(head) < 8 or pos + 8 > end:
                raise _fail(self.name, f"the file ends inside the chunk at byte {pos} (truncated?)")
            kind, size = head[:4], struct.unpack("<I", head[4:8])[0]
            chunk_end = pos + 8 + size
            if chunk_end > end:
                label = chunk_label(kind)
                raise _fail(self.name, f"chunk '{label}' at byte {pos} runs past the end of its container")
            if kind == ANMF and not nested:
                if size < _FRAME_HEADER:
                    raise _fail(self.name, f"the frame at byte {pos} is shorter than its header")
                header = self.cursor.take(pos + 8, pos + 8 + _FRAME_HEADER)  # its chunks are walked, not skipped
                if len(header) < _FRAME_HEADER:
                    raise _fail(self.name, "the file ends before its last chunk does (truncated?)")
                yield WebpChunk(kind, header, size, pos)
                yield from self._walk(pos + 8 + _FRAME_HEADER, chunk_end, nested=True)
            else:
                keep = 0 if kind in _PIXELS else min(size, MAX_KEPT_DATA)
                yield WebpChunk(kind, self._data(pos + 8, pos + 8 + keep, chunk_end), size, pos, nested)
            padded = chunk_end + (size & 1)  # a chunk of odd size is padded to even
            if size & 1 and padded <= end and len(self.cursor.take(chunk_end, padded)) < 1:
                raise _fail(self.name, "the file ends before its RIFF container does (truncated?)")
            pos = min(padded, end)  # some writers leave out the last pad byte, and count without it
            self.cursor.release(pos)

    def _data(self, start: int, keep_end: int, end: int) -> bytes:
        """The bytes from `start` to `keep_end`; the rest up to `end` is read (to be sure it is there), not kept."""
        data = self.cursor.take(start, keep_end)
        if len(data) < keep_end - start or (keep_end < end and self.cursor.crc32(keep_end, end) is None):
            raise _fail(self.name, "the file ends before its last chunk does (truncated?)")
        return data


Verdict = tuple[bool, tuple[str, ...]]  # keep the chunk (perhaps trimmed), and the kinds of what goes
_DROP_SILENTLY: Verdict = (False, ())
_KEEP: Verdict = (True, ())
_IGNORED = ("other-chunk",)  # bytes or bits readers ignore: a field for later versions, reserved bits, a repeat


class ChunkJudge:
    """What happens to each chunk, in order: kept whole, kept trimmed to what readers read, or dropped; and the
    kinds of what goes (none for a frame's chunks when the frame goes: said once, with the frame)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.first: bytes | None = None
        self.flags = 0
        self.animated = self.drawn = self.alpha = self.in_dropped_frame = self.anim = False
        self.frames = 0
        self.frame_drawn = self.frame_alpha = True  # no frame open yet
        self.icc = False  # a standard colour profile is kept
        self.colours = ""  # the name of the profile readers used, when it goes and colours change (icc.py)

    def judge(self, chunk: WebpChunk) -> Verdict:
        """Whether to keep `chunk`, and the kinds (from exif.KINDS) of what it holds that goes.

        Raises:
            PhotoError: the first chunk is not one a WebP starts with, a frame holds no bitstream, or an alpha
                chunk comes before a lossless bitstream (readers refuse that file).
        """
        if chunk.nested:
            return self._in_frame(chunk)
        if self.first is None:
            return self._first(chunk)
        if chunk.type == ANMF:
            self._close_frame()
            if not self.animated:
                self.in_dropped_frame = True
                return False, _IGNORED
            self.frames += 1
            self.frame_drawn = self.frame_alpha = self.in_dropped_frame = False
            return True, _IGNORED if chunk.data[15] & ~_FRAME_FLAGS & 0xFF else ()
        self.in_dropped_frame = False
        if chunk.type == ICCP and self._standard_icc(chunk):
            self.icc = True
            return _KEEP
        if chunk.type == ICCP and self.first == VP8X and self.flags & _FLAG_ICC and not (self.icc or self.colours):
            self.colours = shifts_colours(chunk.data) or ""  # the first: the one readers apply
        if chunk.type == ANIM and self.animated and self.frames == 0 and not self.anim:
            if chunk.size < _ANIM_SIZE:
                raise _fail(self.name, "its ANIM chunk is too short")
            self.anim = True
            return True, _IGNORED if chunk.size > _ANIM_SIZE else ()
        if not self.animated and not self.drawn and self.first == VP8X:
            if chunk.type == ALPH and not self.alpha:
                self.alpha = True
                return _KEEP
            if chunk.type in _BITSTREAMS:
                self._alpha_fits(chunk, self.alpha)
                self.drawn = True
                return _KEEP
        return False, metadata_kinds(chunk)

    def _first(self, chunk: WebpChunk) -> Verdict:
        self.first = chunk.type
        if chunk.type == VP8X:
            if chunk.size < _VP8X_SIZE:
                raise _fail(self.name, "its VP8X chunk is too short")
            self.flags = chunk.data[0]
            self.animated = bool(self.flags & _FLAG_ANIMATION)
            unread = chunk.size > _VP8X_SIZE or self.flags & _VP8X_RESERVED or any(chunk.data[1:4])
            return True, _IGNORED if unread else ()
        if chunk.type in _BITSTREAMS:
            self.drawn = True
            return _KEEP
        raise _fail(self.name, f"it starts with a '{chunk_label(chunk.type)}' chunk, not VP8X, VP8 or VP8L")

    def _standard_icc(self, chunk: WebpChunk) -> bool:
        """Whether to keep this ICCP chunk: exactly a published standard profile (icc.py), where the format puts
        it (after VP8X, whose flag says it is there, before anything drawn) and the first: readers (libwebp's
        demuxer) take the first ICCP when the flag is set, so a second one is never read and goes."""
        nothing_yet = not (self.drawn or self.alpha or self.anim or self.frames or self.icc)
        return (self.first == VP8X and bool(self.flags & _FLAG_ICC) and nothing_yet and chunk.size <= MAX_STANDARD
                and standard_profile(chunk.data) is not None)

    def _in_frame(self, chunk: WebpChunk) -> Verdict:
        if self.in_dropped_frame:
            return _DROP_SILENTLY
        if chunk.type == ALPH and not self.frame_alpha and not self.frame_drawn:
            self.frame_alpha = True
            return _KEEP
        if chunk.type in _BITSTREAMS and not self.frame_drawn:
            self._alpha_fits(chunk, self.frame_alpha)
            self.frame_drawn = True
            return _KEEP
        return False, metadata_kinds(chunk)

    def _alpha_fits(self, bitstream: WebpChunk, alpha: bool) -> None:
        if alpha and bitstream.type == VP8L:  # a lossless picture carries its own alpha: readers refuse the file
            raise _fail(self.name, "an alpha chunk comes before a lossless (VP8L) picture")

    def _close_frame(self) -> None:
        if not self.frame_drawn:
            raise _fail(self.name, f"frame {self.frames} holds no image data")

    def finish(self) -> None:
        """Raises PhotoError when the file draws nothing: no bitstream, or an animation without frames."""
        if self.first is None:
            raise _fail(self.name, "it holds no chunks")
        self._close_frame()
        if self.animated and self.frames == 0:
            raise _fail(self.name, "an animation without frames")
        if not self.animated and not self.drawn:
            raise _fail(self.name, "it holds no image data (no VP8 or VP8L chunk)")


def metadata_kinds(chunk: WebpChunk) -> tuple[str, ...]:
    """What a dropped chunk holds, as kinds."""
    if chunk.type == EXIF:
        tiff = read_tiff(chunk.data.removeprefix(b"Exif\0\0"))
        return exif_kinds(tiff) if tiff is not None else ("exif",)  # () for Orientation alone: put back as it is
    if chunk.type in XMP_CHUNKS:
        return ("xmp",)
    if chunk.type == ICCP:
        return ("icc",)
    if chunk.type in INFO_FIELDS:
        return ("text",)
    return ("other-chunk",)


def _orientation(exif: bytes | None, xmp: bytes | None) -> int:
    """The orientation Pillow applies: the first EXIF chunk's, else XMP's tiff:Orientation; else 1 (libwebp's
    demuxer, which Pillow reads with, passes a chunk on only when VP8X's flag says it is there)."""
    tiff = read_tiff(exif.removeprefix(b"Exif\0\0")) if exif is not None else None
    stored = tiff.orientation_tag() if tiff is not None else None
    if stored is None and xmp is not None:
        stored = xmp_orientation(xmp)
    return stored if stored is not None and 1 <= stored <= 8 else 1


def _header(kind: bytes, size: int) -> bytes:
    return kind + struct.pack("<I", size)


def _padded(size: int) -> int:
    return size + (size & 1)


def _kept(chunk: WebpChunk) -> tuple[list[tuple[int, int] | bytes], int]:
    """A kept chunk as recipe steps (its bytes as stored, a zero pad of our own) and its length with the pad."""
    steps: list[tuple[int, int] | bytes] = [(chunk.start, chunk.end)]
    if chunk.size & 1:
        steps.append(b"\0")
    return steps, 8 + _padded(chunk.size)


def strip_webp(data: bytes, name: str) -> Stripped:
    """Keep VP8X (its metadata flags and reserved fields cleared), a standard colour profile (ICCP), ALPH, VP8,
    VP8L, ANIM and ANMF frames (their reserved bits cleared); drop every other chunk.

    One pass that keeps no chunk's pixels: what is kept is a range of `data` in the recipe.

    Raises:
        PhotoError: the WebP is malformed, starts with an unknown chunk, draws nothing, has an alpha chunk before
            a lossless picture, or holds more than MAX_CHUNKS chunks.
    """
    walk = WebpWalk(Cursor(data), name)
    judge = ChunkJudge(name)
    removed: set[str] = set()
    body: list[tuple[int, int] | bytes] = []
    size, vp8x_at, vp8x = 0, -1, b""
    exif: bytes | None = None
    xmp: bytes | None = None
    frame: list[tuple[int, int] | bytes] = []  # the open frame: its header, then its kept chunks
    frame_size = 0

    def close_frame() -> int:
        if not frame:
            return 0
        extend_recipe(body, [_header(ANMF, frame_size), *frame])
        frame.clear()
        return 8 + frame_size

    for chunk in walk.chunks():
        whole = data[chunk.start + 8:chunk.end]  # in memory already: a view's copy of what the walk left out
        if chunk.type == EXIF and exif is None and not chunk.nested and judge.flags & _FLAG_EXIF:
            exif = whole
        elif chunk.type == XMP and xmp is None and not chunk.nested and judge.flags & _FLAG_XMP:
            xmp = whole
        keep, kinds = judge.judge(chunk)
        removed.update(kinds)
        if not keep:
            continue
        steps, length = _kept(chunk)
        if chunk.nested:
            extend_recipe(frame, steps)
            frame_size += length
            continue
        size += close_frame()
        if chunk.type == ANMF:
            header = chunk.data[:15] + bytes([chunk.data[15] & _FRAME_FLAGS])
            frame.append(header)  # its chunks follow
            frame_size = _FRAME_HEADER
        elif chunk.type == VP8X:
            vp8x_at, vp8x = len(body), chunk.data[:_VP8X_SIZE]
            body.append(b"")  # made once the orientation is known (EXIF comes after the pixels)
            size += 8 + _VP8X_SIZE
        elif chunk.type == ANIM:
            body.append(_header(ANIM, _ANIM_SIZE) + chunk.data[:_ANIM_SIZE])
            size += 8 + _ANIM_SIZE
        else:
            extend_recipe(body, steps)
            size += length
    size += close_frame()
    judge.finish()
    orientation = _orientation(exif, xmp)
    if vp8x_at >= 0:
        flags = vp8x[0] & (_FLAG_ALPHA | _FLAG_ANIMATION) | (_FLAG_EXIF if orientation != 1 else 0) | (
            _FLAG_ICC if judge.icc else 0)
        body[vp8x_at] = _header(VP8X, _VP8X_SIZE) + bytes([flags, 0, 0, 0]) + vp8x[4:_VP8X_SIZE]
    if orientation != 1:
        tiff = orientation_tiff(orientation)
        body.append(_header(EXIF, len(tiff)) + tiff)  # 26 bytes: even, no pad
        size += 8 + len(tiff)
    if walk.trailing:
        removed.add("trailing-data")
    recipe: Recipe = (_header(RIFF, 4 + size) + WEBP, *body)
    return Stripped(follow(recipe, data), ordered_kinds(removed), orientation, (), recipe, judge.colours)
