"""A strict, read-only 7z reader for untrusted archives, with bounded memory.

Example::

    with path.open("rb") as fp:
        archive = read_archive(fp, Limits())
        for member, chunks in iter_members(fp, archive):
            for chunk in chunks:
                digest.update(chunk)

Why not py7zr for reading: py7zr rewrites names as it parses them (backslashes
become slashes, names are cut at NUL), decodes whatever methods its optional
packages support, and decompresses in chunks of up to 128 MB. A verifier must
see the names as stored, accept an explicit list of methods, and hold little in
memory. This reader parses the header into values with every count and size
capped, and streams members through the standard library's `lzma` decoder.
The layout follows 7-Zip's 7zFormat.txt.
"""

from __future__ import annotations

import lzma
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from mirror.errors import ArchiveError

MAGIC = b"7z\xbc\xaf\x27\x1c"
CHUNK = 1 << 20
MAX_HEADER = 64 << 20
MAX_DICT = 1 << 30

COPY, LZMA2, LZMA1, BCJ, DELTA = b"\x00", b"\x21", b"\x03\x01\x01", b"\x03\x03\x01\x03", b"\x03"
METHOD_NAMES = {
    COPY: "Copy", LZMA2: "LZMA2", LZMA1: "LZMA", BCJ: "BCJ", DELTA: "Delta",
    b"\x04\xf7\x11\x01": "ZSTD", b"\x04\xf7\x11\x02": "Brotli", b"\x04\xf7\x11\x04": "LZ4",
    b"\x06\xf1\x07\x01": "7zAES", b"\x03\x04\x01": "PPMD", b"\x04\x02\x02": "BZip2",
    b"\x04\x01\x08": "Deflate", b"\x04\x01\x09": "Deflate64", b"\x03\x03\x01\x1b": "BCJ2",
}
ACCEPTED_METHODS = frozenset({COPY, LZMA2, LZMA1, BCJ, DELTA})

(K_END, K_HEADER, K_ARCHIVE_PROPS, K_ADD_STREAMS, K_MAIN_STREAMS, K_FILES, K_PACK_INFO, K_UNPACK_INFO,
 K_SUBSTREAMS, K_SIZE, K_CRC, K_FOLDER, K_UNPACK_SIZE, K_NUM_UNPACK, K_EMPTY_STREAM, K_EMPTY_FILE,
 K_ANTI, K_NAME) = range(18)
K_ATTRIBUTES, K_ENCODED_HEADER, K_DUMMY = 0x15, 0x17, 0x19


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps applied before anything is decompressed."""

    max_members: int = 100_000
    max_total_size: int = 16 << 30
    max_header: int = MAX_HEADER


@dataclass(frozen=True, slots=True)
class Coder:
    """One coder of a folder: method id and properties."""

    method: bytes
    props: bytes

    @property
    def name(self) -> str:
        """7-Zip's name for the method, or its id in hex."""
        return METHOD_NAMES.get(self.method, "method " + self.method.hex())


@dataclass(frozen=True, slots=True)
class Folder:
    """A 7z folder (block): a coder chain over one packed stream."""

    chain: tuple[Coder, ...]  # in decoding order: packed data goes through chain[0] first
    pack_offset: int
    pack_size: int
    unpack_size: int
    crc: int | None


@dataclass(frozen=True, slots=True)
class Member:
    """A file entry as stored: name exactly as in the header, sizes as declared."""

    index: int
    name: str
    size: int
    crc: int | None
    folder: int | None
    attributes: int | None
    has_stream: bool
    is_empty_file: bool
    is_anti: bool

    @property
    def unix_mode(self) -> int | None:
        """The POSIX st_mode in the high 16 bits, when the archiver stored one."""
        if self.attributes is not None and self.attributes & 0x8000:
            return self.attributes >> 16
        return None

    @property
    def is_dir(self) -> bool:
        """A directory entry (no data stream, directory attribute or empty-stream non-file)."""
        if self.attributes is not None and self.attributes & 0x10:
            return True
        return not self.has_stream and not self.is_empty_file


@dataclass(frozen=True, slots=True)
class Archive:
    """The parsed header of a 7z archive."""

    members: tuple[Member, ...]
    folders: tuple[Folder, ...]

    @property
    def methods(self) -> set[str]:
        """Names of every method used."""
        return {c.name for f in self.folders for c in f.chain}


class _Buf:
    """A cursor over header bytes; every read is bounds-checked."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ArchiveError("archive header is truncated or malformed")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def byte(self) -> int:
        return self.take(1)[0]

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

    def bits(self, n: int) -> list[bool]:
        raw = self.take((n + 7) // 8)
        return [bool(raw[i // 8] & (0x80 >> (i % 8))) for i in range(n)]

    def defined(self, n: int) -> list[bool]:
        return [True] * n if self.byte() else self.bits(n)

    def u32(self) -> int:
        return int(struct.unpack("<I", self.take(4))[0])

    def expect(self, prop: int) -> None:
        if self.byte() != prop:
            raise ArchiveError("archive header is malformed")


def read_archive(fp: BinaryIO, limits: Limits) -> Archive:
    """Parse and check the header of the archive open in `fp`.

    Raises:
        ArchiveError: not a 7z archive, truncated, malformed, or over a limit.
    """
    fp.seek(0, 2)
    size = fp.tell()
    fp.seek(0)
    start = fp.read(32)
    if len(start) < 32 or start[:6] != MAGIC:
        raise ArchiveError("not a 7z archive (or truncated in its first 32 bytes)")
    if start[6] != 0:
        raise ArchiveError(f"unsupported 7z format version {start[6]}.{start[7]}")
    if zlib.crc32(start[12:32]) != struct.unpack("<I", start[8:12])[0]:
        raise ArchiveError("the 7z start header is damaged")
    offset, length, crc = struct.unpack("<QQI", start[12:32])
    if 32 + offset + length > size or offset > size:
        raise ArchiveError("archive is truncated: its end header is missing")
    if length > limits.max_header:
        raise ArchiveError("archive header is too large")
    if length == 0:
        return Archive((), ())
    fp.seek(32 + offset)
    raw = fp.read(length)
    if zlib.crc32(raw) != crc:
        raise ArchiveError("archive header is damaged (CRC mismatch)")
    for _ in range(4):
        buf = _Buf(raw)
        kind = buf.byte()
        if kind == K_HEADER:
            return _read_header(buf, limits, 32 + offset)
        if kind != K_ENCODED_HEADER:
            raise ArchiveError("archive header is malformed")
        folders, _ = _read_streams(buf, limits, 32 + offset)
        if len(folders) != 1 or folders[0].unpack_size > limits.max_header:
            raise ArchiveError("archive header is malformed or too large")
        raw = b"".join(_FolderReader(fp, folders[0]).chunks(folders[0].unpack_size))
        if folders[0].crc is not None and zlib.crc32(raw) != folders[0].crc:
            raise ArchiveError("archive header is damaged (CRC mismatch)")
    raise ArchiveError("archive header is nested too deeply")


def _read_header(buf: _Buf, limits: Limits, header_pos: int) -> Archive:
    folders: list[Folder] = []
    streams: list[tuple[int, int | None, int]] = []  # (size, crc, folder index)
    prop = buf.byte()
    if prop == K_ARCHIVE_PROPS:
        raise ArchiveError("archive properties are not supported")
    if prop == K_ADD_STREAMS:
        raise ArchiveError("additional header streams are not supported")
    if prop == K_MAIN_STREAMS:
        folders, streams = _read_streams(buf, limits, header_pos)
        prop = buf.byte()
    members: list[Member] = []
    if prop == K_FILES:
        members = _read_files(buf, limits, streams)
        prop = buf.byte()
    if prop != K_END:
        raise ArchiveError("archive header is malformed")
    if sum(1 for m in members if m.has_stream) != len(streams):
        raise ArchiveError("archive header lists a different number of files and data streams")
    return Archive(tuple(members), tuple(folders))


def _read_streams(
    buf: _Buf, limits: Limits, header_pos: int
) -> tuple[list[Folder], list[tuple[int, int | None, int]]]:
    buf.expect(K_PACK_INFO)
    pack_pos = 32 + buf.number()
    n_packs = buf.count(limits.max_members, "packed streams")
    buf.expect(K_SIZE)
    pack_sizes = [buf.number() for _ in range(n_packs)]
    prop = buf.byte()
    if prop == K_CRC:
        defined = buf.defined(n_packs)
        for is_defined in defined:
            if is_defined:
                buf.u32()
        prop = buf.byte()
    if prop != K_END:
        raise ArchiveError("archive header is malformed (pack info)")
    offsets = []
    for pack_size in pack_sizes:
        offsets.append(pack_pos)
        pack_pos += pack_size
    if pack_pos > header_pos:
        raise ArchiveError("archive is truncated: packed data runs past the header")
    buf.expect(K_UNPACK_INFO)
    buf.expect(K_FOLDER)
    n_folders = buf.count(limits.max_members, "blocks")
    if buf.byte() != 0:
        raise ArchiveError("unsupported 7z block layout")
    chains = [_read_folder(buf) for _ in range(n_folders)]
    if n_folders != n_packs:
        raise ArchiveError("unsupported 7z block layout")
    buf.expect(K_UNPACK_SIZE)
    unpack_sizes = [[buf.number() for _ in chain] for chain in chains]
    prop = buf.byte()
    crcs: list[int | None] = [None] * n_folders
    if prop == K_CRC:
        defined = buf.defined(n_folders)
        crcs = [buf.u32() if d else None for d in defined]
        prop = buf.byte()
    if prop != K_END:
        raise ArchiveError("archive header is malformed (unpack info)")
    folders = [
        Folder(chain, offsets[i], pack_sizes[i], sizes[-1], crcs[i])
        for i, (chain, sizes) in enumerate(zip(chains, unpack_sizes, strict=True))
    ]
    if sum(f.unpack_size for f in folders) > limits.max_total_size:
        raise ArchiveError("archive declares more data than the size limit (a decompression bomb?)")
    return folders, _read_substreams(buf, limits, folders)


def _read_folder(buf: _Buf) -> tuple[Coder, ...]:
    n_coders = buf.count(4, "coders in one block")
    coders = []
    for _ in range(n_coders):
        flags = buf.byte()
        method = buf.take(flags & 0x0F)
        if flags & 0xC0 or flags & 0x10:
            name = Coder(method, b"").name
            raise ArchiveError(f"unsupported method {name} in this archive (multi-stream coder)")
        props = buf.take(buf.number()) if flags & 0x20 else b""
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
    return tuple(coders[i] for i in order)


def _read_substreams(
    buf: _Buf, limits: Limits, folders: list[Folder]
) -> list[tuple[int, int | None, int]]:
    counts = [1] * len(folders)
    prop = buf.byte()
    if prop == K_SUBSTREAMS:
        prop = buf.byte()
        if prop == K_NUM_UNPACK:
            counts = [buf.count(limits.max_members, "files in a block") for _ in folders]
            prop = buf.byte()
        if sum(counts) > limits.max_members:
            raise ArchiveError("archive declares too many files")
        sizes: list[list[int]] = []
        for folder, count in zip(folders, counts, strict=True):
            these = [buf.number() for _ in range(count - 1)] if prop == K_SIZE and count else []
            if count:
                if sum(these) > folder.unpack_size:
                    raise ArchiveError("archive declares file sizes larger than their block")
                these.append(folder.unpack_size - sum(these))
            sizes.append(these)
        if prop == K_SIZE:
            prop = buf.byte()
        unknown = sum(c for f, c in zip(folders, counts, strict=True) if not (c == 1 and f.crc is not None))
        extra: list[int | None] = [None] * unknown
        if prop == K_CRC:
            defined = buf.defined(unknown)
            extra = [buf.u32() if d else None for d in defined]
            prop = buf.byte()
        if prop != K_END:
            raise ArchiveError("archive header is malformed (substreams)")
        prop = buf.byte()
    else:
        sizes = [[f.unpack_size] for f in folders]
        extra = [None] * len(folders)
    if prop != K_END:
        raise ArchiveError("archive header is malformed (streams)")
    streams: list[tuple[int, int | None, int]] = []
    pending = iter(extra)
    for index, (folder, these) in enumerate(zip(folders, sizes, strict=True)):
        for size in these:
            crc = folder.crc if len(these) == 1 and folder.crc is not None else next(pending, None)
            streams.append((size, crc, index))
    return streams


def _read_files(buf: _Buf, limits: Limits, streams: list[tuple[int, int | None, int]]) -> list[Member]:
    n = buf.count(limits.max_members, "files")
    empty_stream, empty_file, anti = [False] * n, [False] * n, [False] * n
    names: list[str] | None = None
    attributes: list[int | None] = [None] * n
    while (prop := buf.byte()) != K_END:
        body = _Buf(buf.take(buf.number()))
        if prop == K_EMPTY_STREAM:
            empty_stream = body.bits(n)
        elif prop in (K_EMPTY_FILE, K_ANTI):
            flags = iter(body.bits(sum(empty_stream)))
            values = [next(flags) if e else False for e in empty_stream]
            if prop == K_EMPTY_FILE:
                empty_file = values
            else:
                anti = values
        elif prop == K_NAME:
            names = _read_names(body, n)
        elif prop == K_ATTRIBUTES:
            defined = body.defined(n)
            if body.byte() != 0:
                raise ArchiveError("external attributes are not supported")
            attributes = [body.u32() if d else None for d in defined]
    if names is None:
        raise ArchiveError("archive does not name its files")
    members, stream_iter = [], iter(streams)
    for i in range(n):
        size, crc, folder = (0, None, None) if empty_stream[i] else next(stream_iter, (0, None, None))
        members.append(Member(i, names[i], size, crc, folder, attributes[i], not empty_stream[i],
                              empty_file[i], anti[i]))
    return members


def _read_names(body: _Buf, n: int) -> list[str]:
    if body.byte() != 0:
        raise ArchiveError("external file names are not supported")
    raw = body.take(len(body.data) - body.pos)
    if len(raw) % 2:
        raise ArchiveError("file names are malformed")
    units = [raw[i : i + 2] for i in range(0, len(raw), 2)]
    names, current = [], bytearray()
    for unit in units:
        if unit == b"\0\0":
            try:
                names.append(current.decode("utf-16-le"))
            except UnicodeDecodeError:
                raise ArchiveError("a file name is not valid UTF-16") from None
            current = bytearray()
        else:
            current += unit
    if current or len(names) != n:
        # A NUL inside a name splits it in two, so the count no longer matches.
        raise ArchiveError("file names do not match the file count (a NUL inside a name?)")
    return names


def _lzma_filters(chain: tuple[Coder, ...]) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = []
    for coder in reversed(chain):  # lzma wants encoding order: filters first, compressor last
        if coder.method == LZMA2 and len(coder.props) == 1 and coder.props[0] <= 40:
            p = coder.props[0]
            dict_size = 0xFFFFFFFF if p == 40 else (2 | (p & 1)) << (p // 2 + 11)
            filters.append({"id": lzma.FILTER_LZMA2, "dict_size": min(dict_size, MAX_DICT)})
        elif coder.method == LZMA1 and len(coder.props) == 5:
            d, dict_size = coder.props[0], struct.unpack("<I", coder.props[1:])[0]
            if d >= 9 * 5 * 5 or dict_size > MAX_DICT:
                raise ArchiveError("unsupported LZMA settings")
            filters.append({"id": lzma.FILTER_LZMA1, "lc": d % 9, "lp": (d // 9) % 5, "pb": d // 45,
                            "dict_size": max(dict_size, 4096)})
        elif coder.method == BCJ and not coder.props:
            filters.append({"id": lzma.FILTER_X86})
        elif coder.method == DELTA and len(coder.props) == 1:
            filters.append({"id": lzma.FILTER_DELTA, "dist": coder.props[0] + 1})
        elif coder.method == COPY:
            raise ArchiveError("unsupported coder chain " + " + ".join(c.name for c in chain))
        else:
            raise ArchiveError(f"unsupported method {coder.name} in this archive")
    if filters[-1]["id"] not in (lzma.FILTER_LZMA1, lzma.FILTER_LZMA2) or any(
        f["id"] in (lzma.FILTER_LZMA1, lzma.FILTER_LZMA2) for f in filters[:-1]
    ):
        raise ArchiveError("unsupported coder chain " + " + ".join(c.name for c in chain))
    return filters


def check_methods(archive: Archive) -> None:
    """Raise unless every block uses only the accepted methods, in a chain we decode.

    Raises:
        ArchiveError: "unsupported method X", naming it.
    """
    for folder in archive.folders:
        for coder in folder.chain:
            if coder.method not in ACCEPTED_METHODS:
                raise ArchiveError(f"unsupported method {coder.name} in this archive",
                                   hint="only LZMA2, LZMA, Copy, BCJ and Delta are accepted")
        if folder.chain != (Coder(COPY, b""),):
            _lzma_filters(folder.chain)


class _FolderReader:
    """Decodes one folder's packed stream, never yielding more than asked for."""

    def __init__(self, fp: BinaryIO, folder: Folder) -> None:
        self.fp, self.pos, self.left = fp, folder.pack_offset, folder.pack_size
        copy = folder.chain == (Coder(COPY, b""),)
        self.dec = None if copy else lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=_lzma_filters(folder.chain))
        # LZMA (version 1) streams in 7z have no end marker, so liblzma holds back
        # the last bytes until it sees more input: feed a little padding, and cut
        # the output at the declared size as always.
        self.padding = 4096 if folder.chain[0].method == LZMA1 else 0

    def _packed(self, n: int) -> bytes:
        self.fp.seek(self.pos)
        data = self.fp.read(min(n, self.left))
        self.pos += len(data)
        self.left -= len(data)
        return data

    def read(self, n: int) -> bytes:
        """Exactly `n` bytes of decoded data, or ArchiveError."""
        if self.dec is None:
            data = self._packed(n)
            if len(data) != n:
                raise ArchiveError("archive is truncated: data ends early")
            return data
        out = bytearray()
        while len(out) < n:
            feed = b""
            if self.dec.needs_input:
                feed = self._packed(CHUNK)
                if not feed and self.padding > 0:
                    feed, self.padding = bytes(64), self.padding - 64
                if not feed:
                    raise ArchiveError("archive is truncated or damaged: compressed data ends early")
            try:
                piece = self.dec.decompress(feed, n - len(out))
            except lzma.LZMAError:
                raise ArchiveError("compressed data is damaged") from None
            if not piece and (self.dec.eof or not feed):
                raise ArchiveError("compressed data ends before the declared size")
            out += piece
        return bytes(out)

    def chunks(self, size: int) -> Iterator[bytes]:
        """The next `size` bytes, in chunks of at most CHUNK."""
        while size > 0:
            piece = self.read(min(size, CHUNK))
            size -= len(piece)
            yield piece


def iter_members(fp: BinaryIO, archive: Archive) -> Iterator[tuple[Member, Iterator[bytes]]]:
    """Each member with data, in archive order, with an iterator over its bytes.

    The caller must consume each chunk iterator before advancing. A member's
    CRC is checked after its last chunk.

    Raises:
        ArchiveError: damaged or truncated data, CRC mismatch.
    """
    by_folder: dict[int, list[Member]] = {}
    for member in archive.members:
        if member.folder is not None:
            by_folder.setdefault(member.folder, []).append(member)
    for index, folder in enumerate(archive.folders):
        reader = _FolderReader(fp, folder)
        for member in by_folder.get(index, []):
            yield member, _checked(reader.chunks(member.size), member)


def _checked(chunks: Iterator[bytes], member: Member) -> Iterator[bytes]:
    crc = 0
    for chunk in chunks:
        crc = zlib.crc32(chunk, crc)
        yield chunk
    if member.crc is not None and crc != member.crc:
        raise ArchiveError(f"member {member.name!r} is damaged (CRC mismatch)")
