"""Values of the 7z reader: limits, coders, folders, members, and the method ids it knows.

Example::

    archive.members[0].unix_mode          # POSIX mode bits stored by the archiver, or None
    {c.name for f in archive.folders for c in f.chain}   # {"LZMA2", "Copy"}
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import overload

from mirror.errors import UnreadableContainer
from mirror.formats.manifest import MAX_MEMBERS
from mirror.formats.table import NameColumn
from mirror.record import field, record

MAGIC = b"7z\xbc\xaf\x27\x1c"
CHUNK = 1 << 20
# 1,020,000 members with names of 50 characters take about 120 MiB (UTF-16 names, sizes, CRCs, attributes). The
# decoded header is held whole while it is parsed, and its names kept as UTF-8 in one buffer: the cap bounds both.
MAX_HEADER = 128 << 20
HEADER_BYTES_PER_MEMBER = 16  # besides its name: size, CRC, attributes and flags, with room (headerwriter.py)
# The largest LZMA or LZMA2 dictionary stock 7-Zip writes at any preset: 7-Zip 26 uses 256 MiB at -mx8 and
# -mx9 (128 MiB at -mx7, 64 MiB at -mx6) once the input is larger than that (docs/format.md, "Bounds").
# Decoding needs the whole dictionary in memory, so a block declaring more is refused before decoding.
MAX_DICT = 256 << 20
MAX_FOLDERS = 10_000

COPY, LZMA2, LZMA1, BCJ, DELTA = b"\x00", b"\x21", b"\x03\x01\x01", b"\x03\x03\x01\x03", b"\x03"
METHOD_NAMES = {
    COPY: "Copy", LZMA2: "LZMA2", LZMA1: "LZMA", BCJ: "BCJ", DELTA: "Delta",
    b"\x04\xf7\x11\x01": "ZSTD", b"\x04\xf7\x11\x02": "Brotli", b"\x04\xf7\x11\x04": "LZ4",
    b"\x06\xf1\x07\x01": "7zAES", b"\x03\x04\x01": "PPMd", b"\x04\x02\x02": "BZip2",
    b"\x04\x01\x08": "Deflate", b"\x04\x01\x09": "Deflate64", b"\x03\x03\x01\x1b": "BCJ2",
    b"\x03\x03\x02\x05": "PPC", b"\x03\x03\x04\x01": "IA64", b"\x03\x03\x05\x01": "ARM",
    b"\x03\x03\x07\x01": "ARMT", b"\x03\x03\x08\x05": "SPARC", b"\x0a": "ARM64", b"\x0b": "RISCV",
    b"\x02\x03\x02": "Swap2", b"\x02\x03\x04": "Swap4",
}
# Repacking is harmless (the signature covers the list of hashes, not the archive), but mirror reads only the
# methods of docs/format.md: say so, and how to get a copy it reads.
REPACK_HINT = ("ask the sender for the original, or repack it with 7-Zip: 7z x COPY -oFOLDER, then "
               "7z a -m0=lzma2 NEW.7z ./FOLDER/. (or check the folder itself: mirror verify FOLDER)")
AES = b"\x06\xf1\x07\x01"
ACCEPTED_METHODS = frozenset({COPY, LZMA2, LZMA1, BCJ, DELTA})


@record
class Limits:
    """Caps applied before anything is decompressed (docs/format.md, "Bounds").

    `max_members` also caps the lines of SHA256SUMS and the files of bundle.json; the two signed lists have
    their own caps in bytes (None: formats/manifest.py's MAX_SUMS_BYTES and MAX_META_BYTES). Only a benchmark
    raises them (bench/verify_scale.py). `shown_names`: a name that is not valid UTF-16 (an unpaired surrogate,
    which NTFS allows) is read with a private-use character of its own in its place (shown escaped) rather
    than refused; for `mirror scan` alone, which only shows names (one such name lost every other file's scan).
    """

    max_members: int = MAX_MEMBERS
    max_total_size: int = 16 << 30
    max_header: int = MAX_HEADER
    max_sums_bytes: int | None = None
    max_meta_bytes: int | None = None
    shown_names: bool = False


@record
class Coder:
    """One coder of a folder: method id and properties."""

    method: bytes
    props: bytes

    @property
    def name(self) -> str:
        """7-Zip's name for the method, or its id in hex (0x7f01)."""
        if not self.method:
            return "a method of no id"
        return METHOD_NAMES.get(self.method, "0x" + self.method.hex())


def refuse_unread(chain: tuple[Coder, ...]) -> None:
    """Raise unless mirror reads every method of the chain: a method it does not read is a repack, named.

    Raises:
        UnreadableContainer: encrypted (7zAES), or another method than those of docs/format.md.
    """
    for coder in chain:
        if coder.method == AES:
            raise UnreadableContainer("this copy is encrypted with a password (7zAES); mirror does not "
                                      "read encrypted archives", hint=REPACK_HINT)
        if coder.method not in ACCEPTED_METHODS:
            raise UnreadableContainer(f"this copy was repacked with {coder.name}, which mirror does not read",
                                      hint=REPACK_HINT)


@record
class Folder:
    """A 7z folder (block): a coder chain over one packed stream."""

    chain: tuple[Coder, ...]  # in decoding order: packed data goes through chain[0] first
    pack_offset: int
    pack_size: int
    unpack_size: int
    crc: int | None


class FolderTable(Sequence[Folder]):
    """The blocks of an archive in columns: about 30 bytes a block (a header may declare a million, one per file,
    as 7-Zip writes with -ms=off), and each distinct coder chain once.

    Indexing gives a `Folder` made on the spot; `chains` lists the distinct chains (what check_methods checks),
    and `pack_offsets`, `pack_sizes` and `unpack_sizes` are whole columns.
    """

    __slots__ = ("_chain_index", "chain_of", "chains", "crcs", "has_crc", "pack_offsets", "pack_sizes",
                 "unpack_sizes")

    def __init__(self) -> None:
        self.chains: list[tuple[Coder, ...]] = []
        self._chain_index: dict[tuple[Coder, ...], int] = {}
        self.chain_of = array("I")  # index into chains
        self.pack_offsets = array("Q")
        self.pack_sizes = array("Q")
        self.unpack_sizes = array("Q")
        self.crcs = array("I")  # 0 where none is given (has_crc says)
        self.has_crc = bytearray()

    @classmethod
    def of(cls, folders: Iterable[Folder]) -> FolderTable:
        """A table of `folders`."""
        table = cls()
        for f in folders:
            table.append(table.chain_id(f.chain), f.pack_offset, f.pack_size, f.unpack_size, f.crc)
        return table

    def chain_id(self, chain: tuple[Coder, ...]) -> int:
        """The index of `chain` in `chains`, added if new."""
        found = self._chain_index.get(chain)
        if found is None:
            found = self._chain_index[chain] = len(self.chains)
            self.chains.append(chain)
        return found

    def append(self, chain_id: int, pack_offset: int, pack_size: int, unpack_size: int, crc: int | None) -> None:
        """Add one block; `chain_id` from `chain_id`."""
        self.chain_of.append(chain_id)
        self.pack_offsets.append(pack_offset)
        self.pack_sizes.append(pack_size)
        self.unpack_sizes.append(unpack_size)
        self.crcs.append(0 if crc is None else crc)
        self.has_crc.append(crc is not None)

    def crc(self, i: int) -> int | None:
        """Block `i`'s CRC, or None."""
        return self.crcs[i] if self.has_crc[i] else None

    def __len__(self) -> int:
        return len(self.chain_of)

    @overload
    def __getitem__(self, i: int) -> Folder: ...

    @overload
    def __getitem__(self, i: slice) -> list[Folder]: ...

    def __getitem__(self, i: int | slice) -> Folder | list[Folder]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("block index out of range")
        return Folder(self.chains[self.chain_of[i]], self.pack_offsets[i], self.pack_sizes[i], self.unpack_sizes[i],
                      self.crc(i))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FolderTable):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]


@record
class Member:
    """A file entry as stored: name exactly as in the header, sizes as declared."""

    name: str
    size: int
    crc: int | None
    folder: int | None
    attributes: int | None
    has_stream: bool
    is_empty_file: bool
    is_anti: bool
    index: int = -1  # its position in the archive's MemberTable, when it came from one

    @property
    def unix_mode(self) -> int | None:
        """The POSIX st_mode in the high 16 bits, when the archiver stored one: flagged by 0x8000, or not (7-Zip
        and libarchive read the high bits either way, so a link or a set-id file there is one for them)."""
        if self.attributes is not None and (self.attributes & 0x8000 or self.attributes >> 16):
            return self.attributes >> 16
        return None

    @property
    def is_dir(self) -> bool:
        """A directory entry (no data stream, directory attribute or empty-stream non-file)."""
        if self.attributes is not None and self.attributes & 0x10:
            return True
        return not self.has_stream and not self.is_empty_file


_STREAM, _EMPTY_FILE, _ANTI, _CRC, _ATTRIBUTES = 1, 2, 4, 8, 16
_KIND = _STREAM | _EMPTY_FILE | _ANTI
_WITH_CRC = bytes.maketrans(b"\x00\x01", bytes([_STREAM, _STREAM | _CRC]))
_ADD_ATTRIBUTES = bytes(b | _ATTRIBUTES for b in range(256))


def stream_flags(has_crc: bytearray, has_attributes: bytearray) -> bytearray:
    """MemberTable.flags of members that all have data, from one byte (0 or 1) each saying whether a CRC and
    attributes are given: in whole columns, without a loop over the members."""
    flags = has_crc.translate(_WITH_CRC)
    if has_attributes.count(0) == 0:
        return flags.translate(_ADD_ATTRIBUTES)
    joined = int.from_bytes(flags, "little") | int.from_bytes(has_attributes, "little") << 4  # 1 -> 16, per byte
    return bytearray(joined.to_bytes(len(flags), "little"))


class MemberTable(Sequence[Member]):
    """The members of an archive in columns: about 25 bytes and the name's UTF-8 bytes per member.

    Indexing gives a `Member` made on the spot (a view: the table holds no objects per member); `name(i)`,
    `size(i)`, `folder(i)` and `has_stream(i)` read one column without making one.
    """

    __slots__ = ("attributes", "crcs", "flags", "folders", "names", "sizes")

    def __init__(self) -> None:
        self.names = NameColumn()
        self.sizes = array("Q")
        self.crcs = array("I")  # 0 where none is given (flags say)
        self.folders = array("i")  # -1: no data stream
        self.attributes = array("I")  # 0 where none is stored (flags say)
        self.flags = bytearray()  # _STREAM, _EMPTY_FILE, _ANTI, _CRC, _ATTRIBUTES

    @classmethod
    def of(cls, members: Iterable[Member]) -> MemberTable:
        """A table of `members`."""
        table = cls()
        for m in members:
            table.append(m.name.encode("utf-8", "surrogatepass"), m.size, m.crc, m.folder, m.attributes,
                         m.has_stream, m.is_empty_file, m.is_anti)
        return table

    def append(self, name: bytes, size: int, crc: int | None, folder: int | None, attributes: int | None,
               has_stream: bool, is_empty_file: bool, is_anti: bool) -> None:
        """Add one member; `name` as UTF-8."""
        self.names.append(name)
        self.add_row(size, crc, folder, attributes, has_stream, is_empty_file, is_anti)

    def add_row(self, size: int, crc: int | None, folder: int | None, attributes: int | None,
                has_stream: bool, is_empty_file: bool, is_anti: bool) -> None:
        """Add the next member's columns but its name, which `names` has already (header.py reads them first)."""
        self.sizes.append(size)
        self.crcs.append(0 if crc is None else crc)
        self.folders.append(-1 if folder is None else folder)
        self.attributes.append(0 if attributes is None else attributes)
        self.flags.append(has_stream * _STREAM | is_empty_file * _EMPTY_FILE | is_anti * _ANTI
                          | (crc is not None) * _CRC | (attributes is not None) * _ATTRIBUTES)

    def __len__(self) -> int:
        return len(self.sizes)

    @overload
    def __getitem__(self, i: int) -> Member: ...

    @overload
    def __getitem__(self, i: slice) -> list[Member]: ...

    def __getitem__(self, i: int | slice) -> Member | list[Member]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("member index out of range")
        folder, flags = self.folders[i], self.flags[i]
        return Member(self.names.name(i), self.sizes[i], self.crcs[i] if flags & _CRC else None,
                      None if folder < 0 else folder, self.attributes[i] if flags & _ATTRIBUTES else None,
                      bool(flags & _STREAM), bool(flags & _EMPTY_FILE), bool(flags & _ANTI), i)

    def __iter__(self) -> Iterator[Member]:
        return (self[i] for i in range(len(self)))

    def name(self, i: int) -> str:
        """Member `i`'s name."""
        return self.names.name(i)

    def size(self, i: int) -> int:
        """Member `i`'s declared size."""
        return self.sizes[i]

    def folder(self, i: int) -> int | None:
        """The block holding member `i`'s data, or None."""
        folder = self.folders[i]
        return None if folder < 0 else folder

    def has_stream(self, i: int) -> bool:
        """Whether member `i` has a data stream."""
        return bool(self.flags[i] & _STREAM)

    def is_dir(self, i: int) -> bool:
        """Whether member `i` is a folder (`Member.is_dir`)."""
        flags = self.flags[i]
        if flags & _ATTRIBUTES and self.attributes[i] & 0x10:
            return True
        return not flags & (_STREAM | _EMPTY_FILE)

    def kind(self, i: int) -> tuple[int, int | None]:
        """What makes member `i` a file, a folder or something else: its flags (a stream, an empty file, a deletion
        marker) and its attributes (None: none stored). Members of one kind differ only in their names, sizes, CRCs
        and data."""
        flags = self.flags[i]
        return flags & _KIND, self.attributes[i] if flags & _ATTRIBUTES else None

    def plain_file(self, i: int, accepted: frozenset[int]) -> bool:
        """Whether member `i` is a file with data (not empty, not anti) whose attributes (-1: none) are one of
        `accepted`."""
        flags = self.flags[i]
        return flags & _KIND == _STREAM and (self.attributes[i] if flags & _ATTRIBUTES else -1) in accepted


@record
class Archive:
    """The parsed header of a 7z archive."""

    members: MemberTable = field(default_factory=MemberTable)
    folders: FolderTable = field(default_factory=FolderTable)
