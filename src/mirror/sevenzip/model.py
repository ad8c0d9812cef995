"""Values of the 7z reader: limits, coders, folders, members, and the method ids it knows.

Example::

    archive.members[0].unix_mode          # POSIX mode bits stored by the archiver, or None
    {c.name for f in archive.folders for c in f.chain}   # {"LZMA2", "Copy"}
"""

from __future__ import annotations

from dataclasses import dataclass

from mirror.formats.manifest import MAX_MEMBERS

MAGIC = b"7z\xbc\xaf\x27\x1c"
CHUNK = 1 << 20
# 120,000 members with names of 100 characters take about 25 MiB (UTF-16 names, sizes, CRCs, attributes).
# Names are held as Python strings, up to four bytes a character (twice their UTF-16 size) when one is
# outside the BMP: the cap bounds that too.
MAX_HEADER = 32 << 20
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
}
AES = b"\x06\xf1\x07\x01"
ACCEPTED_METHODS = frozenset({COPY, LZMA2, LZMA1, BCJ, DELTA})


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps applied before anything is decompressed."""

    max_members: int = MAX_MEMBERS
    max_total_size: int = 16 << 30
    max_header: int = MAX_HEADER


@dataclass(frozen=True, slots=True)
class Coder:
    """One coder of a folder: method id and properties."""

    method: bytes
    props: bytes

    @property
    def name(self) -> str:
        """7-Zip's name for the method, or its id in hex (0x7f01)."""
        return METHOD_NAMES.get(self.method, "0x" + self.method.hex())


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
