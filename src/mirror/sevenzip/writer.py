"""Write 7z archives that stock 7-Zip opens: LZMA2 blocks compressed in parallel, Copy blocks streamed.

Example, a new bundle::

    with ArchiveWriter.create(tmp_path) as writer:
        writer.add_block([("SHA256SUMS", sums), ("SHA256SUMS.minisig", sig)])   # one small LZMA2 block
        writer.add_texts(accounts)          # (name, bytes) pairs: LZMA2 blocks of at most 4 MiB of input each,
                                            # compressed on every core, written in order
        writer.add_stored(photos)           # (name, chunks) pairs: one Copy block, streamed

Example, a new archive that carries blocks of an existing one byte for byte (no recompression)::

    with src_path.open("rb") as src:
        archive = read_archive(src, Limits())         # reader.py: checked before anything is copied
        with ArchiveWriter.create(new_path) as writer:
            writer.copy_folders(src, archive, [0])    # the first block: its packed bytes, coders, sizes, CRCs
            writer.add_block([("extra.txt", b"...")]) # new members in a new small block
            writer.copy_folders(src, archive, range(1, len(archive.folders)))
            writer.copy_empty(archive)                # members without data (empty files, folder entries)

Only ever writes a file this process creates; received archives are read by reader.py alone, and
copy_folders copies packed bytes without decoding them (verify the source first). Output is the same
bytes for the same input, whatever the thread timing: block boundaries depend on member sizes only,
and each block is compressed on its own. Memory is flat in the member count: data is never held per
member beyond the blocks in flight, and the header keeps a few compact bytes per member (headerwriter.py).
Only LZMA2 and Copy are written; copied blocks keep the coders they have.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import lzma
import os
import struct
import zlib
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

from mirror.record import record
from mirror.sevenzip.headerwriter import FolderSpec, HeaderTable, encoded_header
from mirror.sevenzip.model import COPY, LZMA2, MAGIC, Archive, Coder

# LZMA2 in normal mode with a binary-tree match finder and short matches (nice_len 16): on the
# benchmark's accounts about 11% smaller than preset 3 (fast mode) and no slower, within 7% of
# `7zz a -mx5`. Accounts are short independent texts, so a 1 MiB dictionary loses almost nothing
# (1.5% against 8 MiB) while the encoder touches about 12 MB and a decoder 1 MiB.
TEXT_FILTER: dict[str, Any] = {"id": lzma.FILTER_LZMA2, "preset": 5, "dict_size": 1 << 20,
                               "mf": lzma.MF_BT4, "nice_len": 16}
# Input per LZMA2 block: blocks are compressed in parallel. With a 1 MiB dictionary a block of
# several MiB loses next to nothing to the cut (benchmarked in bench/run.py).
TEXT_BLOCK = 4 << 20
# The header is mostly names and CRCs: LZMA2 fast mode is four times faster there than the text filter,
# for a few percent more (7-Zip compresses its header with LZMA too).
HEADER_FILTER: dict[str, Any] = {"id": lzma.FILTER_LZMA2, "preset": 1, "dict_size": 1 << 20}
# From this much input on, a block compressed last (or a member of known size) is cut into at least two
# pieces: two cores compress 3 MB of accounts in 0.43 s instead of 0.91 s, for 2% more output. Always two,
# never one per core: the bytes written must not depend on the machine.
SPLIT_AT = 2 << 20
BLOCK_MEMBERS = 8192  # members per LZMA2 block at most: what a block in flight holds per member stays small
COPY_CHUNK = 4 << 20
RUN = 256 << 10  # short members are handed to liblzma this many bytes at a time (see _runs)
END_MARKER = b"\x00"  # LZMA2's last control byte
# Regular file, POSIX mode 0644 in the high 16 bits (0x8000 says they are there), archive bit.
MEMBER_ATTRIBUTES = 0x20 | 0x8000 | ((0o100000 | 0o644) << 16)

Progress = Callable[[int], None]


def lzma2_props(dict_size: int) -> bytes:
    """LZMA2's one property byte: the smallest dictionary size code that holds `dict_size`."""
    for code in range(40):
        if (2 | (code & 1)) << (code // 2 + 11) >= dict_size:
            return bytes([code])
    return bytes([40])


TEXT_CODER = Coder(LZMA2, lzma2_props(TEXT_FILTER["dict_size"]))
HEADER_CODER = Coder(LZMA2, lzma2_props(HEADER_FILTER["dict_size"]))
COPY_CODER = Coder(COPY, b"")


Chunk = bytes | memoryview  # memoryviews only of bytes, which cannot change while they wait


@record
class Summed:
    """A member's chunks with their CRC32 already computed, for `add_stored`: the caller's read-ahead thread
    sums them while this thread writes the member before (zlib releases the GIL)."""

    chunks: list[Chunk]
    crc: int

    @classmethod
    def of(cls, chunks: list[Chunk]) -> Summed:
        crc = 0
        for chunk in chunks:
            crc = zlib.crc32(chunk, crc)
        return cls(chunks, crc)


def _compress(chunks: list[Chunk]) -> list[bytes]:
    """The bytes as one LZMA2 stream, fed chunk by chunk (liblzma's output does not depend on how its input is
    cut), so that a large member is never copied into a block buffer first; without the end marker.

    A block longer than one piece is several such streams one after the other, then the end marker (a zero
    byte): each stream starts with a chunk that resets the dictionary and the state, so a decoder reads them
    as one stream. 7-Zip's multithreaded LZMA2 encoder writes its blocks the same way.
    """
    compressor = lzma.LZMACompressor(format=lzma.FORMAT_RAW, filters=[TEXT_FILTER])
    packed = [compressor.compress(run) for run in _runs(chunks)]
    last = compressor.flush()
    if not last.endswith(END_MARKER):
        raise RuntimeError("liblzma ended an LZMA2 stream without its end marker")
    packed.append(last[: -len(END_MARKER)])
    # A first chunk resets the dictionary: control byte 0x01 (stored) or 111xxxxx (LZMA, xxxxx the size's top bits).
    first = next((piece[0] for piece in packed if piece), 0)
    if first != 0x01 and first < 0xE0:
        raise RuntimeError("liblzma began an LZMA2 stream without resetting its dictionary")
    return packed


def _runs(chunks: list[Chunk]) -> Iterator[Chunk]:
    """Short chunks (accounts of a few KB) joined into runs of about RUN bytes: liblzma is called, and the
    interpreter's lock released and taken again, once a run instead of once a chunk. The output is the same;
    6% less CPU, and the thread checking the next files is not kept waiting for the lock as often."""
    run: list[Chunk] = []
    size = 0
    for chunk in chunks:
        if len(chunk) >= RUN:
            if run:
                yield b"".join(run)
                run, size = [], 0
            yield chunk
            continue
        run.append(chunk)
        size += len(chunk)
        if size >= RUN:
            yield b"".join(run)
            run, size = [], 0
    if run:
        yield b"".join(run)


def piece_size(total: int, block_size: int) -> int:
    """The size of the pieces that cut `total` bytes of input into equal pieces of at most `block_size`, as few
    as may be but an even number from SPLIT_AT on (see there): two cores take them two at a time, never one
    alone at the end (12 MB: four pieces of 3 MB, not three of 4). Depends on the sizes only. (With a block_size
of a few KB, rounding up can leave an odd count; at TEXT_BLOCK that needs terabytes.)"""
    if total < SPLIT_AT:
        return block_size
    count = -(-total // block_size)
    count += count % 2
    return -(-total // count)


def _pieces(chunks: Iterable[Chunk], size: int) -> Iterator[list[Chunk]]:
    """`chunks` cut into pieces of `size` bytes (the last may be shorter), where only the sizes decide the cuts.
    No byte is copied: a chunk across a cut is sliced by memoryview."""
    if size <= 0:
        raise ValueError(f"a piece of {size} bytes")
    piece: list[Chunk] = []
    filled = 0
    for chunk in chunks:
        while chunk and filled + len(chunk) >= size:
            take = size - filled
            head, chunk = (chunk, b"") if take == len(chunk) else (memoryview(chunk)[:take], memoryview(chunk)[take:])
            piece.append(head)
            yield piece
            piece, filled = [], 0
        if chunk:
            piece.append(chunk)
            filled += len(chunk)
    if piece:
        yield piece


@dataclasses.dataclass(slots=True)
class _Batch:
    """Members gathered for one LZMA2 block: their records and their bytes, in order."""

    records: list[tuple[str, int, int | None]] = dataclasses.field(default_factory=list)  # name, size, crc
    chunks: list[bytes] = dataclasses.field(default_factory=list)
    size: int = 0

    def add(self, name: str, data: bytes) -> None:
        if type(data) is not bytes:
            data = bytes(data)  # held until compressed: a caller's buffer could change before then
        self.records.append((name, len(data), zlib.crc32(data) if data else None))
        if data:
            self.chunks.append(data)
            self.size += len(data)


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


Done = Callable[[_Batch, "list[bytes] | None"], None]  # a block's members, and its packed bytes (None: no data)


class TextBlocks:
    """Members pushed one at a time, gathered into LZMA2 blocks of at most `block_size` of input and
    BLOCK_MEMBERS members (a longer member has a block to itself), compressed on `threads` cores and handed to
    `done` in order. One block per core is compressed while the next is gathered; `add` waits for the oldest
    when all are busy. Blocks depend on the members' sizes only, never on the timing.

    `budget`: the most input bytes in flight; a block larger than that (one long member) is compressed alone,
    and `add` returns once it is done, so that a caller going on meanwhile (create's checking pass, reading the
    next file) never holds it beside its own.
    """

    def __init__(self, done: Done, threads: int, block_size: int, budget: int | None = None) -> None:
        if block_size <= 0:
            raise ValueError(f"blocks of {block_size} bytes")
        self._done, self._threads, self._block_size, self._budget = done, threads, block_size, budget
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="mirror-lzma")
        self._in_flight: deque[tuple[_Batch, list[Future[list[bytes]]]]] = deque()
        self._flying = 0  # input bytes of the blocks in flight
        self._batch = _Batch()

    def add(self, name: str, data: bytes) -> None:
        batch = self._batch
        if batch.size and (batch.size + len(data) > self._block_size or len(batch.records) >= BLOCK_MEMBERS):
            self._send(batch)
            batch = self._batch = _Batch()
        batch.add(name, data)
        # Full whatever comes next (the next add would send it): started now, not held while the caller goes on.
        if batch.size and (batch.size > self._block_size or len(batch.records) >= BLOCK_MEMBERS):
            self._send(batch)
            self._batch = _Batch()

    def flush(self) -> None:
        """Start compressing what is gathered: the last block, or the last before a pause (create's accounts
        before its photos). It is cut into equal pieces (piece_size), so that every core has a part of it."""
        if self._batch.records:
            self._send(self._batch, last=True)
            self._batch = _Batch()

    def finish(self) -> None:
        """Compress what is gathered, hand every block on, and stop the threads."""
        self.flush()
        self._write_done(0)
        self.close()

    def close(self) -> None:
        """Stop the threads; blocks not handed on yet are dropped."""
        self._in_flight.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _send(self, batch: _Batch, last: bool = False) -> None:
        if not batch.size:  # only empty members: after the blocks before them, whatever the core count
            self._write_done(0)
            self._done(batch, None)
            return
        self._write_done(self._threads - 1)
        budget = self._budget
        while budget is not None and self._in_flight and self._flying + batch.size > budget:
            self._write_done(len(self._in_flight) - 1)
        # more than one for a member over block_size, or a last block from SPLIT_AT on
        pieces = _pieces(batch.chunks, piece_size(batch.size, self._block_size) if last else self._block_size)
        self._in_flight.append((batch, [self._pool.submit(_compress, piece) for piece in pieces]))
        self._flying += batch.size
        if budget is not None and batch.size > budget:
            self._write_done(0)

    def _write_done(self, keep: int) -> None:
        """Hand on the oldest blocks in flight, in order, until `keep` are left."""
        while len(self._in_flight) > keep:
            batch, futures = self._in_flight.popleft()
            self._flying -= batch.size
            self._done(batch, [piece for future in futures for piece in future.result()] + [END_MARKER])


class SolidBlock:
    """One LZMA2 block whose members come chunk by chunk, written to `out` as it is made: the input is cut into
    pieces of `piece` bytes (sizes alone decide the cuts), each compressed on one of `threads` cores as soon as it
    is full (see _compress), and written in order. At most one piece per core is held, and one more while it is
    gathered, whatever the members' sizes.

    ArchiveWriter.add_solid makes one into the archive itself. Over a temporary file, a block is made before the
    blocks that must come first in the archive are known (create's page, compressed while it is rendered, before
    bundle.json, which names its digest), then copied in by ArchiveWriter.add_spooled_block.
    """

    def __init__(self, out: BinaryIO, threads: int, piece: int) -> None:
        if piece <= 0:
            raise ValueError(f"pieces of {piece} bytes")
        self.out, self.threads, self.piece = out, max(1, threads), piece
        self.members: list[tuple[str, int, int | None]] = []  # name, size, CRC32 (None: empty)
        self.packed = self.unpacked = 0
        self.start = out.tell()  # where its bytes begin in `out`
        self.finished = self._closed = False
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="mirror-lzma")
        self._in_flight: deque[Future[list[bytes]]] = deque()
        self._gathered: list[Chunk] = []
        self._filled = 0

    def add(self, name: str, chunks: Iterable[bytes]) -> int:
        """Feed one member's bytes, chunk by chunk; returns its size.

        Raises:
            ValueError: the block is finished or closed.
        """
        self._check_open()
        size, crc = 0, 0
        for chunk in chunks:
            if type(chunk) is not bytes:
                chunk = bytes(chunk)  # held until compressed: a caller's buffer could change before then
            if chunk:
                crc = zlib.crc32(chunk, crc)
                size += len(chunk)
                self._take(chunk)
        self.members.append((name, size, crc if size else None))
        self.unpacked += size
        return size

    def finish(self) -> None:
        """Compress what is gathered, write every piece and the end marker (none if no member had data).

        Raises:
            ValueError: the block is finished or closed (pieces may have been dropped).
        """
        self._check_open()
        if self._gathered:
            self._send()
        self._write_done(0)
        if self.unpacked:
            self.out.write(END_MARKER)
            self.packed += len(END_MARKER)
        self.finished = True

    def close(self) -> None:
        """Stop the threads; pieces not written yet are dropped, and the block can no longer be finished."""
        self._closed = True
        self._in_flight.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _check_open(self) -> None:
        if self.finished or self._closed:
            raise ValueError("the block is already finished" if self.finished else "the block was closed")

    def _take(self, chunk: Chunk) -> None:
        while chunk:
            room = self.piece - self._filled
            if len(chunk) < room:
                self._gathered.append(chunk)
                self._filled += len(chunk)
                return
            head, chunk = (chunk, b"") if len(chunk) == room else (memoryview(chunk)[:room], memoryview(chunk)[room:])
            self._gathered.append(head)
            self._send()

    def _send(self) -> None:
        self._write_done(self.threads - 1)
        self._in_flight.append(self._pool.submit(_compress, self._gathered))
        self._gathered, self._filled = [], 0

    def _write_done(self, keep: int) -> None:
        while len(self._in_flight) > keep:
            for packed in self._in_flight.popleft().result():
                self.out.write(packed)
                self.packed += len(packed)


def members_by_folder(archive: Archive, chosen: set[int] | None = None) -> dict[int, list[int]]:
    """The indexes of the members of each block (of the `chosen` ones, or all), in archive order: one walk."""
    found: dict[int, list[int]] = {}
    folders = archive.members.folders
    for i in range(len(archive.members)):
        folder = folders[i]
        if folder >= 0 and (chosen is None or folder in chosen):
            found.setdefault(folder, []).append(i)
    return found


def _name_key(name: str) -> bytes:
    """A name as SpooledTexts and add_spooled hash it, to find that both were given the same names."""
    return name.encode("utf-8", "surrogateescape") + b"\0"


class SpooledTexts:
    """Texts compressed ahead, into an anonymous file beside the output, while their producer goes on (create's
    checking pass compresses each account it has read, checked and hashed); ArchiveWriter.add_spooled copies the
    blocks in later, after other blocks. What the header needs of each member is kept in arrays (12 bytes)."""

    def __init__(self, beside: Path | None = None, threads: int | None = None, block_size: int = TEXT_BLOCK) -> None:
        import tempfile  # create only

        self.fp = tempfile.TemporaryFile(dir=beside)  # noqa: SIM115  # closed by close()
        self.blocks: list[tuple[int, int, int]] = []  # packed size (-1: no data), unpacked size, members
        self.sizes = array("Q")
        self.crcs = array("I")  # 0 for an empty member: it has no CRC
        self._names = hashlib.sha256()  # of every name, each ended by NUL: add_spooled is given the same ones
        threads = threads or cores()
        self._blocks = TextBlocks(self._spool, threads, block_size, budget=threads * block_size)
        self._finished = False

    def add(self, name: str, data: bytes) -> None:
        self._names.update(_name_key(name))
        self._blocks.add(name, data)

    def flush(self) -> None:
        """Start compressing what is gathered (the last account: the photos come next)."""
        self._blocks.flush()

    def finish(self) -> None:
        """Every block compressed and spooled; the threads stopped."""
        if not self._finished:
            self._finished = True
            self._blocks.finish()

    def close(self) -> None:
        """Stop the threads and let go of the spool."""
        self._blocks.close()
        with contextlib.suppress(OSError):  # nothing more is written to it: a full disk changes nothing now
            self.fp.close()
        self.sizes, self.crcs, self.blocks = array("Q"), array("I"), []

    def __del__(self) -> None:
        fp = getattr(self, "fp", None)  # a run that stops before writing (a wrong passphrase) lets go of it
        if fp is not None:
            with contextlib.suppress(OSError):
                fp.close()

    def names_digest(self) -> bytes:
        return self._names.digest()

    def _spool(self, batch: _Batch, packed: list[bytes] | None) -> None:
        for _, size, crc in batch.records:
            self.sizes.append(size)
            self.crcs.append(crc or 0)
        if packed is None:
            self.blocks.append((-1, 0, len(batch.records)))
            return
        written = 0
        for piece in packed:
            self.fp.write(piece)
            written += len(piece)
        self.blocks.append((written, batch.size, len(batch.records)))


class ArchiveWriter:
    """Writes one 7z archive into a seekable file, block after block; close() writes the header."""

    def __init__(self, fp: BinaryIO, threads: int | None = None, block_size: int = TEXT_BLOCK) -> None:
        if block_size <= 0:
            raise ValueError(f"blocks of {block_size} bytes")
        self.fp = fp
        self.threads = max(1, threads or cores())
        self.block_size = block_size
        self.table = HeaderTable()
        self._own: BinaryIO | None = None
        self._closed = False
        fp.seek(0)
        fp.write(bytes(32))  # the start header, written last
        fp.truncate()

    @classmethod
    def create(cls, path: Path, threads: int | None = None, block_size: int = TEXT_BLOCK) -> ArchiveWriter:
        """A writer over a new file at `path` (replaced if it exists), closed with the writer."""
        fp = path.open("w+b")
        try:
            writer = cls(fp, threads, block_size)
        except BaseException:
            fp.close()
            raise
        writer._own = fp
        return writer

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if kind is None:
                self.close()
        finally:
            self.table.close()
            if self._own is not None:
                self._own.close()

    def add_block(self, members: Iterable[tuple[str, bytes]], compress: bool = True) -> None:
        """Write `members` (name, bytes), held in memory, as one block: LZMA2, or Copy."""
        if compress:
            self.add_solid((name, (data,)) for name, data in members)
            return
        batch = _Batch()
        for name, data in members:
            batch.add(name, data)
        self._write_batch(batch, None)

    def add_solid(self, members: Iterable[tuple[str, Iterable[bytes]]], on_member: Progress | None = None,
                  piece: int | None = None) -> None:
        """Write `members` (name, chunks of its bytes) as one LZMA2 block, each chunk taken as it comes.

        The input is cut into pieces of block_size (or `piece`: the page is cut as create cuts it) compressed on
        every core (see SolidBlock). At most one piece per core is held, and one more while it is gathered,
        whatever the members' sizes.
        """
        block = SolidBlock(self.fp, self.threads, piece or self.block_size)
        try:
            for name, chunks in members:
                added = block.add(name, chunks)
                if on_member is not None:
                    on_member(added)
            block.finish()
        finally:
            block.close()
        self._members_of(block)

    def add_spooled_block(self, block: SolidBlock, on_member: Progress | None = None) -> None:
        """Copy in a block made ahead into a file of its own (SolidBlock over a temporary file), with its members.

        Raises:
            ValueError: `block` is not finished, or its file holds less than it wrote.
        """
        if not block.finished:
            raise ValueError("the block is not finished")
        block.out.seek(block.start)
        self._copy(block.out, block.packed, "the spooled block ends early")
        self._members_of(block, on_member)

    def _members_of(self, block: SolidBlock, on_member: Progress | None = None) -> None:
        """The header's entries for `block`, just written: its members, and the block if it holds data."""
        table = self.table
        if block.unpacked:
            table.open_folder()
        for name, size, crc in block.members:
            table.add_member(name, size, crc, MEMBER_ATTRIBUTES)
            if on_member is not None:
                on_member(size)
        if block.unpacked:
            table.close_folder(FolderSpec((TEXT_CODER,), block.packed, block.unpacked))

    def add_texts(self, members: Iterable[tuple[str, bytes]], on_member: Progress | None = None) -> None:
        """Write `members` (name, bytes) in LZMA2 blocks of at most block_size of input and BLOCK_MEMBERS
        members each (a longer member has a block to itself), compressed in parallel and written in order."""
        blocks = TextBlocks(self._write_batch, self.threads, self.block_size)
        try:
            for name, data in members:
                blocks.add(name, data)
                if on_member is not None:
                    on_member(len(data))
            blocks.finish()
        finally:
            blocks.close()

    def add_spooled(self, texts: SpooledTexts, names: Iterable[str], on_member: Progress | None = None) -> None:
        """Copy in the blocks `texts` compressed ahead; `names` are its members' names again, in order.

        Raises:
            ValueError: `names` are not the names `texts` was given.
        """
        texts.finish()
        table, src, at = self.table, texts.fp, 0
        given, digest = iter(names), hashlib.sha256()
        src.seek(0)
        for packed, unpacked, count in texts.blocks:
            if packed >= 0:
                table.open_folder()
            for name in itertools.islice(given, count):
                digest.update(_name_key(name))
                size = texts.sizes[at]
                table.add_member(name, size, texts.crcs[at] if size else None, MEMBER_ATTRIBUTES)
                at += 1
                if on_member is not None:
                    on_member(size)
            if packed < 0:
                continue
            self._copy(src, packed, "the spooled texts end inside a block")
            table.close_folder(FolderSpec((TEXT_CODER,), packed, unpacked))
        if at != len(texts.sizes) or next(given, None) is not None or digest.digest() != texts.names_digest():
            raise ValueError("the names given are not the names of the spooled texts")

    def _write_batch(self, batch: _Batch, packed: list[bytes] | None) -> None:
        """The batch's members, and its block unless it holds no data. `packed` None means Copy."""
        table = self.table
        if not batch.size:
            for name, size, crc in batch.records:
                table.add_member(name, size, crc, MEMBER_ATTRIBUTES)
            return
        table.open_folder()
        for name, size, crc in batch.records:
            table.add_member(name, size, crc, MEMBER_ATTRIBUTES)
        written = 0
        for piece in batch.chunks if packed is None else packed:
            self.fp.write(piece)
            written += len(piece)
        chain = (COPY_CODER,) if packed is None else (TEXT_CODER,)
        table.close_folder(FolderSpec(chain, written, batch.size))

    def add_stored(self, members: Iterable[tuple[str, Iterable[Chunk] | Summed]],
                   on_member: Progress | None = None) -> None:
        """Write `members` (name, chunks of its bytes, or the chunks Summed already) as one Copy block, each
        chunk written as it comes."""
        table, opened, total = self.table, False, 0
        for name, chunks in members:
            size, crc = 0, 0
            summed, pieces = (chunks, chunks.chunks) if isinstance(chunks, Summed) else (None, chunks)
            for chunk in pieces:
                if not chunk:
                    continue
                if not opened:
                    table.open_folder()
                    opened = True
                self.fp.write(chunk)
                if summed is None:
                    crc = zlib.crc32(chunk, crc)
                size += len(chunk)
            if summed is not None:
                crc = summed.crc
            table.add_member(name, size, crc if size else None, MEMBER_ATTRIBUTES)
            total += size
            if on_member is not None:
                on_member(size)
        if opened:
            table.close_folder(FolderSpec((COPY_CODER,), total, total))

    def copy_folders(self, src: BinaryIO, archive: Archive, folder_indexes: Iterable[int],
                     by_folder: Mapping[int, list[int]] | None = None) -> None:
        """Copy the packed bytes of `archive`'s blocks `folder_indexes`, read from `src`, with their coders,
        sizes, CRCs and members (names, sizes, CRCs, attributes) unchanged. Nothing is decoded or checked:
        `archive` must come from reader.read_archive on `src`, and the source should be verified first.
        `by_folder` (`members_by_folder`), when the caller copies block by block: the members are not walked
        again for each call.

        Raises:
            ValueError: an index out of range, or a member without a CRC (it could not be written as stored).
        """
        wanted = list(folder_indexes)
        if by_folder is None:
            by_folder = members_by_folder(archive, set(wanted))
        for index in wanted:
            if not 0 <= index < len(archive.folders):
                raise ValueError(f"the archive has no block {index}")
            folder = archive.folders[index]
            members = [archive.members[i] for i in by_folder.get(index, [])]
            if any(m.crc is None for m in members):
                raise ValueError(f"block {index} has a member without a CRC")
            table = self.table
            table.open_folder()
            for member in members:
                table.add_member(member.name, member.size, member.crc, member.attributes)
            src.seek(folder.pack_offset)
            self._copy(src, folder.pack_size, "the source archive ends inside a packed block")
            table.close_folder(FolderSpec(folder.chain, folder.pack_size, folder.unpack_size, folder.crc))

    def _copy(self, src: BinaryIO, size: int, short: str) -> None:
        """Copy `size` bytes from where `src` stands; ValueError(`short`) if it ends first."""
        left = size
        while left > 0:
            chunk = src.read(min(left, COPY_CHUNK))
            if not chunk:
                raise ValueError(short)
            self.fp.write(chunk)
            left -= len(chunk)

    def copy_empty(self, archive: Archive) -> None:
        """Add `archive`'s members that have no data (empty files, folder entries), as they are."""
        for member in archive.members:
            if not member.has_stream and not member.is_anti:
                self.table.add_member(member.name, 0, None, member.attributes, directory=member.is_dir)

    def add_empty(self, name: str) -> None:
        """An empty regular file."""
        self.table.add_member(name, 0, None, MEMBER_ATTRIBUTES)

    def close(self) -> None:
        """Write the header (LZMA2, as 7-Zip does) and the start header. The file is then complete."""
        if self._closed:
            return
        self._closed = True
        fp = self.fp
        header_at = fp.tell()
        compressor = lzma.LZMACompressor(format=lzma.FORMAT_RAW, filters=[HEADER_FILTER])
        raw_size, raw_crc, packed = 0, 0, 0
        for piece in self.table.pieces(0):
            raw_size += len(piece)
            raw_crc = zlib.crc32(piece, raw_crc)
            out = compressor.compress(piece)
            fp.write(out)
            packed += len(out)
        out = compressor.flush()
        fp.write(out)
        packed += len(out)
        encoded = encoded_header(header_at - 32, FolderSpec((HEADER_CODER,), packed, raw_size, raw_crc))
        next_at = fp.tell()
        fp.write(encoded)
        tail = struct.pack("<QQI", next_at - 32, len(encoded), zlib.crc32(encoded))
        fp.seek(0)
        fp.write(MAGIC + b"\x00\x04" + struct.pack("<I", zlib.crc32(tail)) + tail)
        fp.flush()
        self.table.close()
