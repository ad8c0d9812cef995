"""Parse a 7z header (7-Zip's 7zFormat.txt) into values, with every count and size capped.

Example::

    archive = parse_header(Buf(raw_header), Limits(), header_pos)

The parser never decompresses: read_archive in reader.py decodes an encoded
header and hands the plain bytes here as they are decoded (Buf over an iterator).
"""

from __future__ import annotations

import codecs
import re
import struct
import sys
from array import array
from collections.abc import Iterator
from itertools import accumulate

from mirror.errors import ArchiveError, UnreadableContainer
from mirror.formats.names import MAX_NAME_BYTES
from mirror.formats.table import NameColumn
from mirror.sevenzip.model import (
    ACCEPTED_METHODS,
    BCJ,
    COPY,
    DELTA,
    LZMA1,
    LZMA2,
    REPACK_HINT,
    Archive,
    Coder,
    FolderTable,
    Limits,
    MemberTable,
    refuse_unread,
    stream_flags,
)

(K_END, K_HEADER, K_ARCHIVE_PROPS, K_ADD_STREAMS, K_MAIN_STREAMS, K_FILES, K_PACK_INFO, K_UNPACK_INFO,
 K_SUBSTREAMS, K_SIZE, K_CRC, K_FOLDER, K_UNPACK_SIZE, K_NUM_UNPACK, K_EMPTY_STREAM, K_EMPTY_FILE,
 K_ANTI, K_NAME) = range(18)
K_ATTRIBUTES, K_ENCODED_HEADER, K_DUMMY = 0x15, 0x17, 0x19

_NAMES_SLICE = 1 << 20
_MAX_CODER_PROPS = 64  # the longest any 7z method has is AES's, 34 bytes; LZMA's are 5
_BITS = bytes.maketrans(b"01", b"\x00\x01")


class Streams:
    """Size, CRC and block of each file stream, in columns: a header may declare a million. Filled in place."""

    __slots__ = ("crcs", "folders", "has_crc", "sizes")

    def __init__(self) -> None:
        self.sizes = array("Q")
        self.crcs = array("I")  # 0 where none is given
        self.has_crc = bytearray()  # 1 where one is
        self.folders = array("i")

    def __len__(self) -> int:
        return len(self.sizes)


class Buf:
    """A cursor over header bytes; every read is bounds-checked, and slices are views, not copies.

    Over `more` (the decoded header as it is decoded), only the bytes not yet read are held: a header that
    decodes to 80 MB (a million names) is never whole in memory beside the columns parsed from it.
    """

    def __init__(self, data: bytes | bytearray | memoryview, more: Iterator[bytes] | None = None) -> None:
        self.data, self.pos, self.more = memoryview(data), 0, more

    def take(self, n: int) -> memoryview:
        if n < 0:
            raise ArchiveError("archive header is truncated or malformed")
        if self.pos + n > len(self.data) and self.more is not None:
            self._fill(n)
        if self.pos + n > len(self.data):
            raise ArchiveError("archive header is truncated or malformed")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def _fill(self, n: int) -> None:
        """Hold at least `n` unread bytes if the stream has them: the rest of the current piece and the next
        pieces, in a new buffer, grown in place (each byte held once; views handed out keep the old buffer alive
        as long as they need it, and the new one is never resized once viewed)."""
        held = bytearray(self.data[self.pos :])
        more = self.more
        while more is not None and len(held) < n and (piece := next(more, None)) is not None:
            held += piece
        self.data, self.pos = memoryview(held), 0

    def skip(self, n: int) -> None:
        """Pass over `n` bytes without holding them (a property the parser does not use)."""
        if n < 0:
            raise ArchiveError("archive header is truncated or malformed")
        here = min(n, len(self.data) - self.pos)
        self.pos += here
        n -= here
        while n > 0:
            piece = next(self.more, None) if self.more is not None else None
            if piece is None:
                raise ArchiveError("archive header is truncated or malformed")
            if len(piece) > n:
                self.data, self.pos = memoryview(piece), n
                return
            n -= len(piece)

    def starts_with(self, raw: bytes) -> bool:
        """Whether the next bytes are `raw` (nothing is consumed)."""
        if self.pos + len(raw) > len(self.data) and self.more is not None:
            self._fill(len(raw))
        return self.data[self.pos : self.pos + len(raw)] == raw

    def byte(self) -> int:
        return self.take(1)[0]

    def numbers(self, n: int) -> array[int]:
        """`n` numbers in a column: decoded in place while the buffer surely holds the next one (a 7z number is at
        most 9 bytes), else one at a time through `number` (a header may hold millions)."""
        out = array("Q")
        append, left = out.append, n
        while left > 0:
            data, pos = self.data, self.pos
            end = len(data) - 9
            while left > 0 and pos <= end:
                first = data[pos]
                pos += 1
                left -= 1
                if first < 0x80:
                    append(first)
                    continue
                value, mask, shift = 0, 0x80, 0
                while mask and first & mask:
                    value |= data[pos] << shift
                    pos, shift, mask = pos + 1, shift + 8, mask >> 1
                append(value | (first & (mask - 1)) << shift if mask else value)
            self.pos = pos
            if left > 0:
                append(self.number())
                left -= 1
        return out

    def number(self) -> int:
        first, mask, value = self.byte(), 0x80, 0
        for i in range(8):
            if first & mask == 0:
                return value | ((first & (mask - 1)) << (8 * i))
            value |= self.byte() << (8 * i)
            mask >>= 1
        return value

    def count(self, cap: int, what: str) -> int:
        n = self.number()
        if n > cap:
            raise ArchiveError(f"archive declares too many {what} ({n})")
        return n

    def bits(self, n: int) -> bytearray:
        """`n` bits, most significant first, as one byte (0 or 1) each."""
        raw = self.take((n + 7) // 8)
        if not raw:
            return bytearray()
        text = bin(int.from_bytes(raw, "big"))[2:].zfill(8 * len(raw))[:n]
        return bytearray(text.encode("ascii").translate(_BITS))

    def defined(self, n: int) -> bytearray:
        return bytearray(b"\x01") * n if self.byte() else self.bits(n)

    def u32(self) -> int:
        return int(struct.unpack("<I", self.take(4))[0])

    def left(self) -> int:
        """Bytes held but not read (of a body taken whole: what it has left)."""
        return len(self.data) - self.pos

    def expect(self, prop: int) -> None:
        if self.byte() != prop:
            raise ArchiveError("archive header is malformed")



def parse_header(buf: Buf, limits: Limits, header_pos: int) -> Archive:
    folders = FolderTable()
    streams = Streams()
    prop = buf.byte()
    if prop == K_ARCHIVE_PROPS:
        raise ArchiveError("archive properties are not supported")
    if prop == K_ADD_STREAMS:
        raise ArchiveError("additional header streams are not supported")
    if prop == K_MAIN_STREAMS:
        folders, streams = parse_streams(buf, limits, header_pos)
        prop = buf.byte()
    members = MemberTable()
    if prop == K_FILES:
        members = _read_files(buf, limits, streams)
        prop = buf.byte()
    if prop != K_END:
        raise ArchiveError("archive header is malformed")
    if sum(1 for i in range(len(members)) if members.has_stream(i)) != len(streams):
        raise ArchiveError("archive header lists a different number of files and data streams")
    return Archive(members, folders)


# Distinct coder chains in one archive. 7-Zip writes a handful, and with one block per file (-ms=off) one per
# dictionary size it shrank to a file's size: a few dozen. Each is kept once, so a header cannot make a million.
MAX_CHAINS = 4096


def parse_streams(buf: Buf, limits: Limits, header_pos: int) -> tuple[FolderTable, Streams]:
    buf.expect(K_PACK_INFO)
    pack_pos = 32 + buf.number()
    n_packs = buf.count(limits.max_members, "packed streams")
    buf.expect(K_SIZE)
    pack_sizes = buf.numbers(n_packs)
    prop = buf.byte()
    if prop == K_CRC:
        buf.skip(4 * sum(buf.defined(n_packs)))
        prop = buf.byte()
    if prop != K_END:
        raise ArchiveError("archive header is malformed (pack info)")
    if pack_pos + sum(pack_sizes) > header_pos:
        raise ArchiveError("archive is truncated: packed data runs past the header")
    offsets = array("Q", accumulate(pack_sizes[:-1], initial=pack_pos)) if n_packs else array("Q")
    buf.expect(K_UNPACK_INFO)
    buf.expect(K_FOLDER)
    n_folders = buf.count(limits.max_members, "blocks")
    if buf.byte() != 0:
        raise ArchiveError("unsupported 7z block layout")
    table = FolderTable()
    chain_ids, finals = _read_chains(buf, n_folders, table)
    if n_folders != n_packs:
        raise ArchiveError("unsupported 7z block layout")
    buf.expect(K_UNPACK_SIZE)
    lengths = {len(chain) for chain in table.chains}
    if lengths == {1}:
        unpack_sizes = buf.numbers(n_folders)
    elif len(lengths) == 1 and finals.count(finals[0]) == n_folders and all(map(_keeps_size, table.chains)):
        unpack_sizes = _block_sizes(buf, n_folders, lengths.pop(), finals[0])  # 7-Zip's -ms=off of programs
    else:
        unpack_sizes = array("Q", (_block_size(buf, table.chains[k], final)
                                   for k, final in zip(chain_ids, finals, strict=True)))
    if sum(unpack_sizes) > limits.max_total_size:
        raise ArchiveError("archive declares more data than the size limit (a decompression bomb?)")
    prop = buf.byte()
    crcs, has_crc = array("I", bytes(4 * n_folders)), bytearray(n_folders)
    if prop == K_CRC:
        has_crc = buf.defined(n_folders)
        crcs = _u32s(buf, has_crc)
        prop = buf.byte()
    if prop != K_END:
        raise ArchiveError("archive header is malformed (unpack info)")
    table.chain_of, table.pack_offsets, table.pack_sizes = chain_ids, offsets, pack_sizes
    table.unpack_sizes, table.crcs, table.has_crc = unpack_sizes, crcs, has_crc
    return table, _read_substreams(buf, limits, table)


def _keeps_size(chain: tuple[Coder, ...]) -> bool:
    """A chain mirror decodes, where every coder's output is the block's size: one coder, or a decompressor that
    reads the packed stream followed by filters that keep the size. Any other chain (LZMA2 after LZMA2, a filter
    on the packed side: 7-Zip makes them when asked) has sizes of its own, and is refused as a chain mirror does
    not read, not as a malformed header."""
    first, *rest = chain
    return first.method in ACCEPTED_METHODS and (not rest or (first.method in (LZMA1, LZMA2) and all(
        c.method in (BCJ, DELTA, COPY) for c in rest)))


def _block_size(buf: Buf, chain: tuple[Coder, ...], final: int) -> int:
    """A block's unpacked size: each coder's output size is listed, in record order, and the block's is that of
    the coder whose output is not bound to another (`final`), as 7-Zip takes it.

    Raises:
        ArchiveError: the sizes disagree in a chain of methods that keep the size (filters after one
            decompressor), so that one reader would take fewer bytes of a file than another.
    """
    sizes = buf.numbers(len(chain))
    size = sizes[final]
    if sizes.count(size) != len(sizes) and _keeps_size(chain):
        raise ArchiveError("archive header is malformed (the coders of a block disagree on its size)")
    return size


def _block_sizes(buf: Buf, n: int, length: int, final: int) -> array[int]:
    """`_block_size` of `n` blocks alike (`length` coders of methods that keep the size), as whole columns."""
    sizes = buf.numbers(n * length)
    chosen = sizes[final::length]
    if any(sizes[j::length] != chosen for j in range(length) if j != final):
        raise ArchiveError("archive header is malformed (the coders of a block disagree on its size)")
    return chosen


_RUN = 64  # blocks whose records repeat the last one, taken together (7-Zip's -ms=off: a million alike)


def _read_chains(buf: Buf, n: int, table: FolderTable) -> tuple[array[int], array[int]]:
    """The coder chains of `n` blocks, as indexes into `table.chains` (each distinct chain parsed and kept once:
    a block whose record repeats the bytes of a recent one is not parsed again, and a run of _RUN such blocks is
    taken at once), and for each block the place in its record of the coder that gives the block's output."""
    ids, finals = array("I"), array("B")
    recent: list[tuple[bytes, int, int, bytes]] = []  # the last distinct records read, their chains, and a run
    left = n
    while left > 0:
        if left >= _RUN and recent and buf.starts_with(recent[0][3]):
            buf.pos += len(recent[0][3])
            ids.extend(array("I", [recent[0][1]]) * _RUN)
            finals.extend(array("B", [recent[0][2]]) * _RUN)
            left -= _RUN
            continue
        left -= 1
        for raw, chain_id, final, _ in recent:
            if buf.starts_with(raw):
                buf.pos += len(raw)
                ids.append(chain_id)
                finals.append(final)
                break
        else:
            data, start = buf.data, buf.pos
            chain, final = _read_folder(buf)
            chain_id = table.chain_id(chain)
            if len(table.chains) > MAX_CHAINS:
                for seen in table.chains:  # an encrypted copy gives each block its own chain: say so first
                    refuse_unread(seen)
                raise ArchiveError(f"archive declares more than {MAX_CHAINS} different coder chains")
            ids.append(chain_id)
            finals.append(final)
            if buf.data is data:  # read from one buffer: its bytes are the record
                record = bytes(data[start : buf.pos])
                recent = [(record, chain_id, final, record * _RUN), *recent[:3]]
    return ids, finals


def _u32s(buf: Buf, defined: bytearray) -> array[int]:
    """A little-endian UINT32 for each defined entry, 0 for the others."""
    values = array("I")
    if defined.count(0) == 0:
        values.frombytes(buf.take(4 * len(defined)))
        if sys.byteorder == "big":
            values.byteswap()
        return values
    values.extend(buf.u32() if d else 0 for d in defined)
    return values


def _read_folder(buf: Buf) -> tuple[tuple[Coder, ...], int]:
    """One block's coders in decoding order, and the place in the record of the last (whose output is the
    block's)."""
    n_coders = buf.count(4, "coders in one block")
    coders = []
    for _ in range(n_coders):
        flags = buf.byte()
        method = bytes(buf.take(flags & 0x0F)) or COPY  # an id of no bytes is 0, Copy, as 7-Zip reads it
        if flags & 0xC0:  # reserved: 7-Zip never sets them
            raise ArchiveError("archive header is malformed (coder flags)")
        if flags & 0x10:  # a coder of several streams: BCJ2 (7-Zip's filter for programs) has four inputs
            if method in ACCEPTED_METHODS:
                raise ArchiveError("archive header is malformed (coder flags)")
            name = Coder(method, b"").name
            raise UnreadableContainer(f"this copy was repacked with {name}, which mirror does not read",
                                      hint=REPACK_HINT)
        props = b""
        if flags & 0x20:
            size = buf.number()
            if size > _MAX_CODER_PROPS:
                raise ArchiveError("archive header is malformed (coder properties are too long)")
            props = bytes(buf.take(size))
        coders.append(Coder(method, props))
    if n_coders == 0:
        raise ArchiveError("archive block has no coder")
    binds = [(buf.number(), buf.number()) for _ in range(n_coders - 1)]
    # Only a straight chain is accepted: the packed stream enters one coder and
    # each coder's output feeds the next (a filter such as BCJ after LZMA2).
    bound_out = {out_index for _, out_index in binds}
    bound_in = {in_index for in_index, _ in binds}
    heads = [i for i in range(n_coders) if i not in bound_in]
    if len(heads) != 1 or len(bound_out) != len(binds) or any(i >= n_coders for b in binds for i in b):
        raise ArchiveError("unsupported 7z coder layout")
    order, current = [heads[0]], heads[0]
    feeds = {out_index: in_index for in_index, out_index in binds}
    while current in feeds and len(order) <= n_coders:
        current = feeds[current]
        order.append(current)
    if len(order) != n_coders:
        raise ArchiveError("unsupported 7z coder layout")
    return tuple(coders[i] for i in order), order[-1]


def _read_substreams(buf: Buf, limits: Limits, folders: FolderTable) -> Streams:
    n = len(folders)
    counts = array("Q", [1]) * n
    streams = Streams()
    prop = buf.byte()
    if prop == K_SUBSTREAMS:
        prop = buf.byte()
        if prop == K_NUM_UNPACK:
            counts = buf.numbers(n)
            largest = max(counts, default=0)
            if largest > limits.max_members:
                raise ArchiveError(f"archive declares too many files in a block ({largest})")
            prop = buf.byte()
        if sum(counts) > limits.max_members:
            raise ArchiveError("archive declares too many files")
        # 7-Zip writes none: bytes that belong to no file, which no check would read (a block that unpacks to
        # nothing is never decoded, however many packed bytes it has). py7zr writes one LZMA2 (and BCJ) block of a
        # single byte (its end marker) for a folder that holds only folders: that one is let through, nothing more.
        fileless = [k for k in range(n) if counts[k] == 0]
        empty = next((k for k in fileless if folders.unpack_sizes[k] or folders.pack_sizes[k] > 1
                      or sorted(c.method for c in folders.chains[folders.chain_of[k]]) not in _PY7ZR_EMPTY), None)
        if empty is None and len(fileless) > 1:
            empty = fileless[1]
        if empty is not None:
            raise ArchiveError(f"block {empty + 1} holds {folders.pack_sizes[empty]:,} packed bytes but no file")
        sized = prop == K_SIZE
        if not sized and max(counts, default=0) > 1:  # 7-Zip refuses it too: whose size would each file be?
            raise ArchiveError("archive header is malformed (files in a block without their sizes)")
        if counts.count(1) == n:  # a file a block (7-Zip's -ms=off): whole columns
            streams.sizes, streams.folders = array("Q", folders.unpack_sizes), array("i", range(n))
        else:
            _sized_streams(buf, counts, folders, streams)
        if sized:
            prop = buf.byte()
        # A block of one stream has the block's CRC, if it declares one; the others are listed here.
        unknown = sum(counts) - sum(1 for c, h in zip(counts, folders.has_crc, strict=True) if c == 1 and h)
        extra, has_extra = array("I", bytes(4 * unknown)), bytearray(unknown)
        if prop == K_CRC:
            has_extra = buf.defined(unknown)
            extra = _u32s(buf, has_extra)
            prop = buf.byte()
        if prop != K_END:
            raise ArchiveError("archive header is malformed (substreams)")
        prop = buf.byte()
    else:
        extra, has_extra = array("I"), bytearray()
        streams.sizes = array("Q", folders.unpack_sizes)
        streams.folders = array("i", range(n))
    if prop != K_END:
        raise ArchiveError("archive header is malformed (streams)")
    if counts.count(1) == n and folders.has_crc.count(1) == n:  # every block one file, with its CRC
        streams.crcs, streams.has_crc = array("I", folders.crcs), bytearray(folders.has_crc)
        return streams
    pending = 0
    crcs, has_crc = streams.crcs, streams.has_crc
    for index, count in enumerate(counts):
        if count == 1 and folders.has_crc[index]:
            crcs.append(folders.crcs[index])
            has_crc.append(1)
            continue
        for _ in range(count):
            if pending < len(extra):
                crcs.append(extra[pending])
                has_crc.append(has_extra[pending])
                pending += 1
            else:
                crcs.append(0)
                has_crc.append(0)
    return streams


def _sized_streams(buf: Buf, counts: array[int], folders: FolderTable, streams: Streams) -> None:
    """Each block's streams: their sizes, all but the last listed (none when `counts` are 0 or 1), the last what
    is left of the block."""
    for index, count in enumerate(counts):
        if not count:
            continue
        listed, total = count - 1, 0
        if listed:
            sizes = buf.numbers(listed)
            total = sum(sizes)
            streams.sizes.extend(sizes)
        if total > folders.unpack_sizes[index]:
            raise ArchiveError("archive declares file sizes larger than their block")
        streams.sizes.append(folders.unpack_sizes[index] - total)
        streams.folders.extend(array("i", [index]) * count)


_PY7ZR_EMPTY = (sorted([LZMA2]), sorted([LZMA2, BCJ]))  # the coders of py7zr's one-byte block of no file
_MAX_PROPERTIES = 64  # file properties in one header at most (7-Zip defines about 20 and writes each once)
MAX_DUMMY = 256  # bytes of kDummy padding (7-Zip aligns what follows to 8 or 16 bytes)
K_TIMES = frozenset((0x12, 0x13, 0x14, 0x18))  # creation, access, modification times, start positions: 8 bytes each


def _read_files(buf: Buf, limits: Limits, streams: Streams) -> MemberTable:
    n = buf.count(limits.max_members, "files")
    empty_stream, empty_file, anti = bytearray(n), bytearray(n), bytearray(n)
    names: NameColumn | None = None
    attributes, has_attributes = array("I", bytes(4 * n)), bytearray(n)
    seen: set[int] = set()
    # A property's id is a 7z number, as 7-Zip reads it: read as one byte, 0x80 0x15 was an unknown property of
    # 0x15 bytes here and attributes to 7-Zip, so the two saw other names and file types in one archive.
    while (prop := buf.number()) != K_END:
        # 7-Zip writes each property once (kDummy, padding, before each aligned one): a repeated one would make
        # the loops below run again over every member for two header bytes (a tiny file, hours of work).
        if (prop in seen and prop != K_DUMMY) or len(seen) >= _MAX_PROPERTIES:
            raise ArchiveError("archive header repeats a file property, or has too many")
        seen.add(prop if prop != K_DUMMY else 0x100 + len(seen))
        size = buf.number()
        if prop == K_NAME:  # most of a header's bytes: read a slice at a time, never held whole
            names = _read_names(buf, size, n, limits.shown_names)
            continue
        if prop == K_DUMMY:  # padding: 7-Zip writes a few zero bytes, and its test calls anything else an error
            if size > MAX_DUMMY or any(buf.take(size)):
                raise ArchiveError("archive header is malformed (padding that is not a few zero bytes)")
            continue
        if prop not in (K_EMPTY_STREAM, K_EMPTY_FILE, K_ANTI, K_ATTRIBUTES) and prop not in K_TIMES:
            # 7-Zip writes no other (and passes over one it does not know): its bytes would ride along unsigned
            raise ArchiveError(f"archive header holds a file property 7-Zip does not write (0x{prop:X})")
        if size > (8 if prop in K_TIMES else 4) * n + n // 8 + 3:  # more than every value defined needs
            raise ArchiveError("archive header is malformed (a file property is too long)")
        body = Buf(buf.take(size))
        if prop == K_EMPTY_STREAM:
            empty_stream = body.bits(n)
        elif prop in (K_EMPTY_FILE, K_ANTI):
            flags = iter(body.bits(sum(empty_stream)))
            values = bytearray(next(flags) if e else 0 for e in empty_stream)
            if prop == K_EMPTY_FILE:
                empty_file = values
            else:
                anti = values
        elif prop == K_ATTRIBUTES:
            defined = body.defined(n)
            if body.byte() != 0:
                raise ArchiveError("external attributes are not supported")
            attributes, has_attributes = _u32s(body, defined), defined
        else:  # times: not used, but read as 7-Zip reads them, which refuses them malformed
            defined = body.defined(n)
            if body.byte() != 0:
                raise ArchiveError("external file times are not supported")
            body.take(8 * sum(defined))
        if body.left():  # 7-Zip calls the archive's headers broken then, and extracts nothing
            raise ArchiveError(f"archive header is malformed (a file property, 0x{prop:X}, has {body.left():,} "
                               "bytes more than its values)")
    if names is None:
        raise ArchiveError("archive does not name its files")
    members, stream = MemberTable(), 0
    members.names = names  # the column read above, not a second copy of every name
    if len(streams) == n and not any(empty_stream):  # every member has data (bundles mirror writes): whole columns
        members.names, members.sizes = names, streams.sizes
        members.crcs, members.folders, members.attributes = streams.crcs, streams.folders, attributes
        members.flags = stream_flags(streams.has_crc, has_attributes)
        return members
    for i in range(n):
        size, crc, folder = 0, None, None
        if not empty_stream[i] and stream < len(streams):
            size, folder = streams.sizes[stream], streams.folders[stream]
            crc = streams.crcs[stream] if streams.has_crc[stream] else None
            stream += 1
        members.add_row(size, crc, folder, attributes[i] if has_attributes[i] else None, not empty_stream[i],
                        bool(empty_file[i]), bool(anti[i]))
    return members


_LONE = re.compile("[\ud800-\udfff]")  # what "surrogatepass" lets through: an unpaired surrogate
# A lone surrogate of a name that is only shown, as a private-use character of its own (U+DC80 as U+F0480, which
# printable() writes as \\U000f0480): with U+FFFD for every one, "a<U+DC80>" and "a<U+DC81>" were both "a\ufffd",
# and a finding in one was said of a name two files share (helper-177). Four bytes of the name column a unit, as a
# CJK letter takes about as much; decoded in C (an error handler in Python took 2 us a surrogate).
_PRIVATE = {unit: 0xF0000 + unit - 0xD800 for unit in range(0xD800, 0xE000)}


def _read_names(buf: Buf, size: int, n: int, shown: bool = False) -> NameColumn:
    """The names property's `size` bytes, decoded a slice at a time into one UTF-8 column: a Python string
    each would cost far more. `shown`: read as `_shown_names` says (for `mirror scan`), not refused."""
    if size < 1:
        raise ArchiveError("archive header is truncated or malformed")
    if buf.byte() != 0:
        raise ArchiveError("external file names are not supported")
    left = size - 1
    if left % 2:
        raise ArchiveError("file names are malformed")
    if shown:
        return _shown_names(buf, left, n)
    decoder = codecs.getincrementaldecoder("utf-16-le")("strict")  # a lone surrogate is an error
    names = NameColumn()
    carry = ""
    try:
        while left > 0:
            raw = buf.take(min(left, _NAMES_SLICE))
            left -= len(raw)
            text = decoder.decode(raw, final=left == 0)
            parts = (carry + text).split("\0")
            carry = parts.pop()  # each name ends in a NUL unit: the last part is the start of the next one
            names.extend(part.encode("utf-8") for part in parts)
            if len(names) > n or len(carry) > MAX_NAME_BYTES:
                break
    except UnicodeDecodeError:
        raise ArchiveError("a file name is not valid UTF-16") from None
    if len(carry) > MAX_NAME_BYTES:
        raise ArchiveError(f"a file name is longer than {MAX_NAME_BYTES:,} bytes, more than mirror allows")
    if carry or len(names) != n:
        # A NUL inside a name splits it in two, so the count no longer matches.
        raise ArchiveError("file names do not match the file count (a NUL inside a name?)")
    return names


SHOWN_NAME = _NAMES_SLICE  # characters of a name `mirror scan` keeps; a longer one is cut, and ends in CUT
CUT = "\0"  # no name read holds a NUL (each ends at one): the mark of a name cut, or of one the header lacks
MAX_EXTRA_NAMES = 1000  # names past the file count kept (each after a NUL inside a name)


def _shown_names(buf: Buf, left: int, n: int) -> NameColumn:
    """The names property's `left` bytes as `mirror scan` reads them, which only shows names: as 7-Zip reads them,
    losing no other member for one odd name. Each NUL ends a name, so one with a NUL inside is two: the first `n`
    are the files' names, in order (7-Zip names them so, calls it a header error, and extracts all the same); the
    rest follow them (at most MAX_EXTRA_NAMES, then CUT: more were not kept), so `len(names) > n` says so. A name
    longer than SHOWN_NAME characters (where a name crosses a slice, or within one) is cut there and ends in CUT;
    a file the names run out before is named CUT alone. An unpaired surrogate is read as `_PRIVATE` says."""
    decoder = codecs.getincrementaldecoder("utf-16-le")("surrogatepass")
    names = NameColumn()
    carry, cut = "", False  # the start of the name being read (SHOWN_NAME characters at most); whether it is longer
    kept, over = n + MAX_EXTRA_NAMES, False  # names kept at most; whether there were more
    while left > 0 and not over:
        raw = buf.take(min(left, _NAMES_SLICE))
        left -= len(raw)
        text = decoder.decode(raw, final=left == 0)
        if _LONE.search(text):
            text = text.translate(_PRIVATE)
        *ended, rest = text.split("\0")  # each NUL ends a name
        if ended:
            names.append(_shown_name(carry if cut else carry + ended[0], cut))
            room = max(0, kept - len(names))
            names.extend(_shown_name(name, False) for name in ended[1:1 + room])
            over = len(ended) - 1 > room or (len(names) >= kept and (left > 0 or bool(rest)))
            carry, cut = "", False
        if not cut and not over:
            carry += rest  # at most SHOWN_NAME and a slice: never a name's whole length again and again
            cut = len(carry) > SHOWN_NAME
            carry = carry[:SHOWN_NAME]
    while left > 0:  # names past those kept: passed over, a slice at a time
        left -= len(buf.take(min(left, _NAMES_SLICE)))
    if over:  # more names than were kept: one CUT says so
        names.append(CUT.encode())
    elif carry or cut:  # the last name has no NUL after it: kept all the same, as cut
        names.append((carry + CUT).encode("utf-8"))
    while len(names) < n:
        names.append(CUT.encode())
    return names


def _shown_name(name: str, cut: bool) -> bytes:
    """A name as `_shown_names` keeps it: SHOWN_NAME characters at most, then CUT when it was longer."""
    return (name[:SHOWN_NAME] + CUT if cut or len(name) > SHOWN_NAME else name).encode("utf-8")
