"""Lossless GIF cleaning: keep the blocks that draw the image, drop the rest.

Example::

    stripped = strip_gif(raw, "photos/saved.gif")
    stripped.removed        # ("xmp", "icc", "comment")
    stripped.data           # the screen, its colours, each frame's timing and image data, the loop count
    walk = GifWalk(Cursor.of_chunks(chunks), "saved.gif")    # cleaner and scanner: bounded memory

A GIF (GIF89a specification) is a screen descriptor with its colour table, then blocks: images (a descriptor,
a colour table, LZW data in sub-blocks of at most 255 bytes), extensions (a label, then sub-blocks) and a
trailer. Kept byte for byte: the screen, every image, each frame's graphic control extension (delay, disposal,
transparency) and the loop count (NETSCAPE2.0 or ANIMEXTS1.0; every one, since readers differ on which counts);
bits, bytes and sub-blocks of those that readers never read are cleared or cut (the user input flag, a
transparent colour that is not used, a graphic control after the last image). Dropped and named: comments,
plain text extensions (no browser draws them), XMP, ICC profiles (but one that is exactly a published standard
profile, icc.py, before the first image: kept in 255-byte sub-blocks), Photoshop and IPTC data, any other application
or unknown extension, and anything after the trailer, or after a byte no block starts with, where browsers stop
(Pillow skips such bytes and reads on: frames only it would show are not carried). An image of no width or
height is refused: nothing draws it, so its data could be anything. A GIF has no orientation to keep.

Not checked: bytes after the end code inside an image's LZW data; finding that end means decoding.
"""

from __future__ import annotations

from collections.abc import Iterator

from mirror.errors import PhotoError
from mirror.privacy.cursor import TRAILING_KEPT, Cursor
from mirror.privacy.exif import Recipe, Stripped, extend_recipe, follow, ordered_kinds
from mirror.privacy.icc import MAX_STANDARD, shifts_colours, standard_profile
from mirror.record import record

SIGNATURES = (b"GIF87a", b"GIF89a")
EXTENSION, IMAGE, TRAILER = 0x21, 0x2C, 0x3B
GRAPHIC_CONTROL, COMMENT, PLAIN_TEXT, APPLICATION = 0xF9, 0xFE, 0x01, 0xFF
_SCREEN = 13  # signature, version, and the logical screen descriptor
_DESCRIPTOR = 10  # an image's separator and descriptor
_COLOURS = 0x80  # a descriptor's flag: a colour table follows
_IMAGE_RESERVED = 0x18  # an image descriptor's two reserved bits
_CONTROL_FLAGS = 0x1D  # disposal and transparency: the user input flag and three reserved bits are not read
_TRANSPARENT = 0x01
LOOPS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")  # application extensions that hold the loop count
XMP_ID = b"XMP DataXMP"
ICC_ID = b"ICCRGBG1012"
APPLICATIONS = {XMP_ID: "xmp", ICC_ID: "icc", b"MGK8BIM0000": "iptc", b"MGKIPTC0000": "iptc"}
MAX_KEPT_DATA = 1 << 20  # of an extension's sub-blocks, as stored; an image's data is never kept
MAX_BLOCKS = 200_000  # an animation of 100,000 frames (a graphic control and an image each) has no more
# Sub-blocks in the whole file: a real GIF's are 255 bytes long, so this covers 255 MB; a file of one-byte
# sub-blocks would otherwise cost a step of Python per two bytes.
MAX_SUB_BLOCKS = 1_000_000

Step = tuple[int, int] | bytes
Plan = tuple[list[Step] | None, tuple[str, ...]]  # what is written for the block (None: dropped), what goes
_IGNORED = ("other-chunk",)  # bytes or bits readers never read: cut or cleared


@record
class GifBlock:
    """One block: "screen" (the header, screen descriptor and global colours), "image" or "extension"; where
    it starts and ends; an extension's label; and its data: an
    extension's sub-blocks as stored, length bytes included (the first MAX_KEPT_DATA bytes), an image's
    separator and descriptor, the screen's first 13 bytes."""

    kind: str
    start: int
    end: int
    label: int = 0
    data: bytes = b""


def _fail(name: str, reason: str) -> PhotoError:
    return PhotoError(name, f"not a valid GIF: {reason}")


def is_gif(data: bytes) -> bool:
    """Whether `data` starts like a GIF."""
    return data[:6] in SIGNATURES


def payloads(data: bytes) -> list[bytes]:
    """The sub-blocks' contents of `data` (sub-blocks as stored, cut anywhere), without their length bytes."""
    found, pos = [], 0
    while pos < len(data) and data[pos]:
        found.append(data[pos + 1:pos + 1 + data[pos]])
        pos += 1 + data[pos]
    return found


def _as_sub_blocks(data: bytes) -> bytes:
    """`data` as sub-blocks of 255 bytes (the last shorter) and the terminator, as every writer stores them."""
    return b"".join(bytes([len(data[i:i + 255])]) + data[i:i + 255] for i in range(0, len(data), 255)) + b"\0"


def _colour_table(packed: int) -> int:
    """The size of the colour table a descriptor's flags announce."""
    return 3 << ((packed & 7) + 1) if packed & _COLOURS else 0


class GifWalk:
    """One pass over a GIF's blocks; afterwards `trailer` (where the trailer is, or -1), `trailing` and
    `trailing_head` (what follows the trailer, or a byte no block starts with: `stray`) are set.

    Args:
        cursor: the data.
        name: the photo's name, for messages.
    """

    def __init__(self, cursor: Cursor, name: str) -> None:
        self.cursor, self.name = cursor, name
        self.trailer, self.trailing, self.trailing_head = -1, 0, b""
        self.stray = False
        self.count = self.sub_blocks = 0

    def blocks(self) -> Iterator[GifBlock]:
        """Every block, in order. A file that ends after a whole block without a trailer ends there.

        Raises:
            PhotoError: not a GIF, a block runs past the end of the file, or a cap is passed.
        """
        head = self.cursor.take(0, _SCREEN)
        if not is_gif(head):
            raise _fail(self.name, "it does not start with GIF87a or GIF89a")
        pos = _SCREEN + _colour_table(head[10]) if len(head) == _SCREEN else _SCREEN
        if self.cursor.byte(pos - 1) is None:
            raise self._truncated("its screen descriptor or colour table")
        yield GifBlock("screen", 0, pos, data=head)
        while True:
            self.cursor.release(pos)
            first = self.cursor.byte(pos)
            if first is None:
                return
            if first not in (EXTENSION, IMAGE):  # the trailer, or a byte browsers stop at as if it were
                self.trailer, self.stray = (pos, False) if first == TRAILER else (-1, True)
                self.trailing, self.trailing_head = self.cursor.skip_to_end(pos + (first == TRAILER), TRAILING_KEPT)
                return
            self.count += 1
            if self.count > MAX_BLOCKS:
                raise _fail(self.name, f"it holds more than {MAX_BLOCKS:,} blocks")
            block = self._extension(pos) if first == EXTENSION else self._image(pos)
            yield block
            pos = block.end

    def _truncated(self, place: str) -> PhotoError:
        return _fail(self.name, f"the file ends inside {place} (truncated?)")

    def _extension(self, pos: int) -> GifBlock:
        label = self.cursor.byte(pos + 1)
        if label is None:
            raise self._truncated(f"the extension at byte {pos}")
        end, data = self._sub_blocks(pos + 2, MAX_KEPT_DATA, f"the extension at byte {pos}")
        return GifBlock("extension", pos, end, label, data)

    def _image(self, pos: int) -> GifBlock:
        descriptor = self.cursor.take(pos, pos + _DESCRIPTOR)
        if len(descriptor) < _DESCRIPTOR:
            raise self._truncated(f"the image at byte {pos}")
        data_at = pos + _DESCRIPTOR + _colour_table(descriptor[9])
        if self.cursor.byte(data_at) is None:  # the LZW code size, after the colour table
            raise self._truncated(f"the image at byte {pos}")
        end, _ = self._sub_blocks(data_at + 1, 0, f"the image at byte {pos}")
        return GifBlock("image", pos, end, data=descriptor)

    def _sub_blocks(self, pos: int, keep: int, where: str) -> tuple[int, bytes]:
        """Where the sub-blocks from `pos` end (after their terminator), and their first `keep` bytes."""
        start, kept = pos, None if keep else b""
        byte, cap = self.cursor.byte, MAX_SUB_BLOCKS - self.sub_blocks
        count = 0
        while size := byte(pos):
            count += 1
            if count > cap:
                raise _fail(self.name, f"it holds more than {MAX_SUB_BLOCKS:,} data sub-blocks")
            pos += 1 + size
            if kept is None and pos >= start + keep:  # taken once, before what is read goes
                kept = self.cursor.take(start, start + keep)
            if kept is not None:
                self.cursor.release(pos)
        if size is None:
            raise self._truncated(where)
        self.sub_blocks += count
        end = pos + 1
        return end, kept if kept is not None else self.cursor.take(start, end)


class BlockJudge:
    """What happens to each block, in order: kept as stored, kept with what readers never read cut or cleared,
    or dropped; and the kinds of what goes."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.images = 0
        self.dangling: list[GifBlock] = []  # graphic controls since the last image: readers ignore them at the end
        self.icc = False  # a standard colour profile is kept
        self.colours = ""  # the name of the profile readers applied, when it goes and colours change (icc.py)

    def judge(self, block: GifBlock) -> Plan:
        """The steps that write `block` (None to drop it), and the kinds (from exif.KINDS) of what goes.

        Raises:
            PhotoError: a graphic control extension is shorter than its 4 bytes.
        """
        whole: list[Step] = [(block.start, block.end)]
        if block.kind == "screen":
            return whole, ()
        if block.kind == "image":
            if not (block.data[5] or block.data[6]) or not (block.data[7] or block.data[8]):
                raise _fail(self.name, f"the image at byte {block.start} has no width or height")
            self.images += 1
            self.dangling.clear()
            packed = block.data[9]
            if not packed & _IMAGE_RESERVED:
                return whole, ()
            cleared = bytes([packed & ~_IMAGE_RESERVED & 0xFF])
            return [(block.start, block.start + 9), cleared, (block.start + _DESCRIPTOR, block.end)], _IGNORED
        parts = payloads(block.data)
        if block.label == GRAPHIC_CONTROL:
            if not parts or len(parts[0]) < 4:
                raise _fail(self.name, f"the graphic control extension at byte {block.start} is too short")
            flags = parts[0][0] & _CONTROL_FLAGS
            transparent = parts[0][3] if flags & _TRANSPARENT else 0
            self.dangling.append(block)
            return self._canonical(block, bytes([EXTENSION, GRAPHIC_CONTROL, 4, flags]) + parts[0][1:3]
                                   + bytes([transparent, 0]))
        if block.label == APPLICATION and parts:
            # Browsers take the last sub-block whose id (its low three bits) is 1; Pillow the first, if its id is 1
            loops = [part for part in parts[1:] if len(part) >= 3 and part[0] & 7 == 1]
            if parts[0] == ICC_ID and self._standard_icc(parts[1:]):
                self.icc = True
                return self._canonical(block, bytes([EXTENSION, APPLICATION, 11]) + ICC_ID
                                       + _as_sub_blocks(b"".join(parts[1:])))
            if parts[0] == ICC_ID and not (self.icc or self.colours or self.images):  # the one readers apply
                self.colours = shifts_colours(b"".join(parts[1:])) or ""
            if parts[0] in LOOPS and loops:
                return self._canonical(block, bytes([EXTENSION, APPLICATION, 11]) + parts[0] + b"\3\1"
                                       + loops[-1][1:3] + b"\0")
            return None, (APPLICATIONS.get(parts[0][:11], "other-chunk"),)
        return None, ({COMMENT: "comment", PLAIN_TEXT: "text"}.get(block.label, "other-chunk"),)

    def _standard_icc(self, parts: list[bytes]) -> bool:
        """Whether an ICC extension's sub-blocks hold exactly a published standard profile (icc.py), the first,
        before the first image: readers (Pillow, Chromium) take a profile only there."""
        return (not self.icc and not self.images and sum(map(len, parts)) <= MAX_STANDARD
                and standard_profile(b"".join(parts)) is not None)

    @staticmethod
    def _canonical(block: GifBlock, kept: bytes) -> Plan:
        """Keep the block as stored when it is exactly what readers read, else written as `kept`."""
        if block.end - block.start == len(kept) and block.data == kept[2:]:
            return [(block.start, block.end)], ()
        return [kept], _IGNORED

    def finish(self) -> None:
        """Raises PhotoError when the file holds no image."""
        if not self.images:
            raise _fail(self.name, "it holds no image")


def strip_gif(data: bytes, name: str) -> Stripped:
    """Keep the screen, the images, graphic control extensions before an image, and loop counts; drop every
    other extension, and what follows the trailer or a byte no block starts with. The file ends with a trailer.

    One pass that keeps no image data: what is kept is a range of `data` in the recipe.

    Raises:
        PhotoError: the GIF is malformed, holds no image, or passes MAX_BLOCKS or MAX_SUB_BLOCKS.
    """
    walk = GifWalk(Cursor(data), name)
    judge = BlockJudge(name)
    removed: set[str] = set()
    body: list[Step] = []
    tail: list[tuple[GifBlock, list[Step]]] = []  # kept since the last image: its graphic controls may go
    for block in walk.blocks():
        steps, kinds = judge.judge(block)
        removed.update(kinds)
        if block.kind == "image":
            for _, held in tail:
                extend_recipe(body, held)
            tail.clear()
        if steps is not None:
            tail.append((block, steps))
    judge.finish()
    dangling = {id(block) for block in judge.dangling}
    for block, held in tail:
        if id(block) in dangling:
            removed.add("other-chunk")
        else:
            extend_recipe(body, held)
    extend_recipe(body, [(walk.trailer, walk.trailer + 1) if walk.trailer >= 0 else bytes([TRAILER])])
    if walk.trailing:
        removed.add("trailing-data")
    recipe: Recipe = tuple(body)
    return Stripped(follow(recipe, data), ordered_kinds(removed), 1, (), recipe, judge.colours)
