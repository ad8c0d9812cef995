"""Encode a 7z header (7-Zip's 7zFormat.txt) from compact per-member records, a piece at a time.

Example::

    table = HeaderTable()
    table.open_folder(FolderSpec((Coder(LZMA2, b"\\x10"),), pack_size=120, unpack_size=300))
    table.add_member("a.txt", size=300, crc=0x1234ABCD)
    table.close_folder()
    table.add_member("empty.txt", size=0, crc=None)      # no data: an empty-stream file
    for piece in table.pieces(pack_pos=0):              # the plain header, in pieces
        ...

Memory is small and flat per member: its size as a 7z number, its CRC and its attributes,
each in a compact array (about 11 bytes); nothing per member is a Python object. Names, the
bulk of a header, go to an anonymous temporary file once they pass NAMES_IN_MEMORY.
The reader in header.py parses exactly what this writes.
"""

from __future__ import annotations

import array
import contextlib
import struct
import tempfile
from collections.abc import Iterable, Iterator

from mirror.record import record
from mirror.sevenzip.header import (
    K_ATTRIBUTES,
    K_CRC,
    K_EMPTY_FILE,
    K_EMPTY_STREAM,
    K_ENCODED_HEADER,
    K_END,
    K_FILES,
    K_FOLDER,
    K_HEADER,
    K_MAIN_STREAMS,
    K_NAME,
    K_NUM_UNPACK,
    K_PACK_INFO,
    K_SIZE,
    K_SUBSTREAMS,
    K_UNPACK_INFO,
    K_UNPACK_SIZE,
)
from mirror.sevenzip.model import Coder, FolderTable

_PIECE = 1 << 20
NAMES_IN_MEMORY = 16 << 20


def number(value: int) -> bytes:
    """A 7z UINT64: the first byte's high bits say how many bytes follow."""
    if value < 0 or value >= 1 << 64:
        raise ValueError(f"7z numbers are 0 to 2**64-1, not {value}")
    for extra in range(8):
        if value < 1 << (7 * (extra + 1)):
            high = value >> (8 * extra)
            mask = (0xFF00 >> extra) & 0xFF
            return bytes([mask | high]) + value.to_bytes(8, "little")[:extra]
    return b"\xff" + value.to_bytes(8, "little")


def _bits(flags: Iterable[int], n: int) -> bytes:
    out = bytearray((n + 7) // 8)
    for i, flag in enumerate(flags):
        if flag:
            out[i // 8] |= 0x80 >> (i % 8)
    return bytes(out)


def _property(kind: int, body: bytes) -> bytes:
    return bytes([kind]) + number(len(body)) + body


@record
class FolderSpec:
    """One block as written: its coders in decoding order, sizes, and the block CRC if the source declared one."""

    chain: tuple[Coder, ...]
    pack_size: int
    unpack_size: int
    crc: int | None = None


def folder_record(chain: tuple[Coder, ...]) -> bytes:
    """The coder list of a straight chain: 7-Zip lists the last decoder first, each fed by the next."""
    coders = list(reversed(chain))
    out = bytearray(number(len(coders)))
    for coder in coders:
        flags = len(coder.method) | (0x20 if coder.props else 0)
        out += bytes([flags]) + coder.method
        if coder.props:
            out += number(len(coder.props)) + coder.props
    for i in range(len(coders) - 1):
        out += number(i) + number(i + 1)  # coder i's input is coder i+1's output
    return bytes(out)


def streams_info(pack_pos: int, folders: FolderTable) -> bytes:
    """PackInfo and UnpackInfo for `folders` (no SubStreamsInfo): what an encoded header declares."""
    out = bytearray([K_PACK_INFO]) + number(pack_pos) + number(len(folders)) + bytes([K_SIZE])
    for size in folders.pack_sizes:
        out += number(size)
    out += bytes([K_END, K_UNPACK_INFO, K_FOLDER]) + number(len(folders)) + b"\x00"
    records = [folder_record(chain) for chain in folders.chains]
    for chain_id in folders.chain_of:
        out += records[chain_id]
    out += bytes([K_UNPACK_SIZE])
    lengths = [len(chain) for chain in folders.chains]
    for chain_id, size in zip(folders.chain_of, folders.unpack_sizes, strict=True):
        out += number(size) * lengths[chain_id]  # filters keep the size: every coder's output
    if any(folders.has_crc):
        out += bytes([K_CRC]) + (b"\x01" if all(folders.has_crc) else b"\x00" + _bits(folders.has_crc,
                                                                                     len(folders)))
        out += _little_endian(array.array("I", (c for c, h in zip(folders.crcs, folders.has_crc, strict=True)
                                                if h)))
    out += bytes([K_END])
    return bytes(out)


def _add(table: FolderTable, folder: FolderSpec) -> None:
    table.append(table.chain_id(folder.chain), 0, folder.pack_size, folder.unpack_size, folder.crc)


def _table(folders: Iterable[FolderSpec]) -> FolderTable:
    table = FolderTable()
    for folder in folders:
        _add(table, folder)
    return table


def encoded_header(pack_pos: int, folder: FolderSpec) -> bytes:
    """The small header that points at the compressed real header."""
    return bytes([K_ENCODED_HEADER]) + streams_info(pack_pos, _table([folder])) + bytes([K_END])


@contextlib.contextmanager
def _spilled_names() -> Iterator[None]:
    """A write or read of the names that failed in their temporary file (a bundle of many members spills them to
    TMPDIR): said with the folder that is full, never as if the bundle's own output were."""
    try:
        yield
    except OSError as exc:
        if exc.filename is not None:
            raise
        try:
            folder = tempfile.gettempdir()
        except OSError:
            folder = "the temporary folder"
        raise OSError(exc.errno, f"{exc.strerror or exc} (the temporary folder, where a large bundle's member names "
                                 "wait while it is written; TMPDIR names another)", folder) from None


class HeaderTable:
    """Folders and members as they are written, kept compactly until the header is encoded."""

    def __init__(self) -> None:
        self.folders = FolderTable()  # pack offsets are not kept: blocks are written one after another
        self.counts = array.array("Q")  # streams in each folder
        self.sizes = bytearray()  # 7z numbers: every stream's size but the last of each folder
        self.crcs = array.array("I")  # stream CRCs not already given by a one-stream folder's CRC
        self.names = tempfile.SpooledTemporaryFile(NAMES_IN_MEMORY)  # noqa: SIM115 (closed by close())
        self.names_size = 0  # the names in UTF-16-LE, each NUL-terminated
        self.attributes = array.array("I")  # once they differ; until then a count of the same value (all of them,
        self.same, self.same_count = 0, 0  # in a bundle mirror writes: 4 bytes a member less)
        self.undefined = array.array("Q")  # indexes of the members whose attributes are not defined
        self.empty = array.array("Q")  # indexes of the members without a data stream
        self.dirs = array.array("Q")  # those of them that are folder entries, not empty files
        self.members = 0
        self._open: bool = False
        self._last_size_at = 0

    def open_folder(self) -> None:
        """Members added from now until close_folder are the streams of the next block."""
        if self._open:
            raise ValueError("a block is already open")
        self._open = True
        self.counts.append(0)
        self._last_size_at = len(self.sizes)

    def close_folder(self, folder: FolderSpec) -> None:
        """End the open block, now that its packed and unpacked sizes are known."""
        if not self._open:
            raise ValueError("no block is open")
        self._open = False
        _add(self.folders, folder)
        count = self.counts[-1]
        if count:
            del self.sizes[self._last_size_at :]  # the last size is the block's size minus the others
            if count == 1 and folder.crc is not None:
                self.crcs.pop()  # the block's CRC is the stream's
        self._last_size_at = len(self.sizes)

    def add_member(self, name: str, size: int, crc: int | None, attributes: int | None,
                   directory: bool = False) -> None:
        """A member: with a data stream in the open block if it has one, else an empty file (or a folder)."""
        encoded = name.encode("utf-16-le")  # strict: a lone surrogate cannot be stored
        if "\0" in name:
            raise ValueError("a member name cannot hold a NUL")
        if crc is not None and size > 0:
            if not self._open:
                raise ValueError("a member with data needs an open block")
            self.counts[-1] += 1
            self._last_size_at = len(self.sizes)
            self.sizes += number(size)
            self.crcs.append(crc)
        elif size > 0:
            raise ValueError("a member with data needs its CRC")
        else:
            if directory:
                self.dirs.append(self.members)
            self.empty.append(self.members)
        with _spilled_names():
            self.names.write(encoded + b"\0\0")
        self.names_size += len(encoded) + 2
        if attributes is None:
            self.undefined.append(self.members)
        elif self.attributes or (self.same_count and attributes != self.same):
            if not self.attributes:  # the first that differs: every one is kept from now on
                self.attributes, self.same_count = array.array("I", [self.same]) * self.same_count, 0
            self.attributes.append(attributes)
        else:
            self.same, self.same_count = attributes, self.same_count + 1
        self.members += 1

    def close(self) -> None:
        """Let go of the names (and their temporary file). Quietly: closing flushes, and a folder that was full
        when a name was written is full still; that was said then, and this must not hide it."""
        with contextlib.suppress(OSError):
            self.names.close()

    def pieces(self, pack_pos: int) -> Iterator[bytes]:
        """The plain header, in pieces of about a MiB (names and CRCs are never copied whole)."""
        if self._open:
            raise ValueError("a block is still open")
        yield bytes([K_HEADER])
        if self.folders:
            yield bytes([K_MAIN_STREAMS]) + streams_info(pack_pos, self.folders)
            yield from self._substreams()
        if self.members:
            yield from self._files()
        yield bytes([K_END])

    def _substreams(self) -> Iterator[bytes]:
        # streams_info ended UnpackInfo with its K_END; this is SubStreamsInfo, then MainStreamsInfo's K_END.
        head = bytearray([K_SUBSTREAMS, K_NUM_UNPACK])
        for count in self.counts:
            head += number(count)
        head += bytes([K_SIZE])
        yield bytes(head)
        yield from _slices(self.sizes)
        if self.crcs:
            yield bytes([K_CRC, 1])
            yield from _slices(_little_endian(self.crcs))
        yield bytes([K_END, K_END])

    def _files(self) -> Iterator[bytes]:
        n = self.members
        yield bytes([K_FILES]) + number(n)
        if self.empty:
            empty, dirs = set(self.empty), set(self.dirs)
            yield _property(K_EMPTY_STREAM, _bits((i in empty for i in range(n)), n))
            yield _property(K_EMPTY_FILE, _bits((i not in dirs for i in self.empty), len(empty)))
        yield bytes([K_NAME]) + number(self.names_size + 1) + b"\x00"
        with _spilled_names():
            self.names.seek(0)
            while piece := self.names.read(_PIECE):
                yield piece
        values = self.attributes
        if not self.undefined:
            flags = b"\x01"
        else:
            undefined = set(self.undefined)
            flags = b"\x00" + _bits((i not in undefined for i in range(n)), n)
        body_size = len(flags) + 1 + 4 * (len(values) or self.same_count)
        yield bytes([K_ATTRIBUTES]) + number(body_size) + flags + b"\x00"
        if values:
            yield from _slices(_little_endian(values))
        for start in range(0, self.same_count, _PIECE // 4):
            yield struct.pack("<I", self.same) * min(_PIECE // 4, self.same_count - start)
        yield bytes([K_END])


def _little_endian(values: array.array[int]) -> bytes:
    if struct.pack("=I", 1) != b"\1\0\0\0":
        values = array.array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def _slices(data: bytes | bytearray | memoryview) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(view), _PIECE):
        yield bytes(view[start : start + _PIECE])
