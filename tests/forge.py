"""Forge 7z archives byte by byte, to build hostile bundles no archiver would write.

Example::

    forge(path, [Entry("../x", b"data"), Entry("a", b"", attributes=link_attributes())])
    forge(path, entries, coded=lzma2(data, dict_prop=36))      # a block declaring a 1 GiB dictionary
    forge(path, entries, encode_header=True)                   # the header LZMA2-coded, as 7-Zip writes it

By default every member's data goes into one Copy block and the header is
written uncompressed, so names, attributes and declared sizes are exactly as
given. `coded` replaces the packed stream (and its coder) with any bytes.
"""

from __future__ import annotations

import lzma
import stat
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

FILE_0644 = 0x20 | 0x8000 | ((stat.S_IFREG | 0o644) << 16)
LZMA2_METHOD = b"\x21"


def file_attributes(mode: int) -> int:
    """7z attributes for a POSIX mode (type bits included)."""
    return 0x20 | 0x8000 | (mode << 16)


@dataclass(frozen=True)
class Entry:
    """One member: name stored as given (NULs, backslashes and all)."""

    name: str
    data: bytes
    attributes: int | None = FILE_0644
    directory: bool = False
    size: int | None = None  # the size declared in the header, when it differs from len(data)
    crc: int | None = None  # the CRC stored in the header, when `data` is not the whole member


@dataclass(frozen=True)
class Coded:
    """A packed stream and the coder that unpacks it."""

    packed: bytes
    method: bytes
    props: bytes


def lzma2_prop(dict_size: int) -> int:
    """7-Zip's one-byte LZMA2 property for the smallest dictionary of at least `dict_size` bytes."""
    return next(p for p in range(41) if p == 40 or (2 | (p & 1)) << (p // 2 + 11) >= dict_size)


def lzma2(data: bytes | list[bytes], dict_prop: int | None = None) -> Coded:
    """`data` (or the pieces, fed one by one) LZMA2-coded; the header may declare another dictionary."""
    encoder = lzma.LZMACompressor(lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 1,
                                                             "dict_size": 1 << 20}])
    pieces = [data] if isinstance(data, bytes) else data
    packed = b"".join(encoder.compress(piece) for piece in pieces) + encoder.flush()
    return Coded(packed, LZMA2_METHOD, bytes([lzma2_prop(1 << 20) if dict_prop is None else dict_prop]))


def number(value: int) -> bytes:
    """A 7z variable-length number."""
    if value < 0x80:
        return bytes([value])
    for n in range(1, 9):
        if value < (1 << (7 * (n + 1))) or n == 8:
            high = value >> (8 * n)
            if n < 8 and high >= (0x80 >> n):
                continue
            first = (0xFF << (8 - n)) & 0xFF | high
            return bytes([first]) + value.to_bytes(8, "little")[:n]
    raise ValueError(value)


def _bits(flags: list[bool]) -> bytes:
    out = bytearray((len(flags) + 7) // 8)
    for i, flag in enumerate(flags):
        if flag:
            out[i // 8] |= 0x80 >> (i % 8)
    return bytes(out)


def _one_block(pack_pos: int, coded: Coded, unpack_size: int, crc: int | None) -> bytes:
    """PackInfo and UnpackInfo of one block with one coder."""
    out = b"\x06" + number(pack_pos) + number(1) + b"\x09" + number(len(coded.packed)) + b"\x00"
    coder_flags = len(coded.method) | (0x20 if coded.props else 0)
    out += b"\x07\x0b" + number(1) + b"\x00" + number(1) + bytes([coder_flags]) + coded.method
    if coded.props:
        out += number(len(coded.props)) + coded.props
    out += b"\x0c" + number(unpack_size)
    if crc is not None:
        out += b"\x0a\x01" + struct.pack("<I", crc)
    return out + b"\x00"


def _files(entries: list[Entry], extra: bytes = b"", attributes_id: bytes = b"\x15") -> bytes:
    header = b"\x05" + number(len(entries))
    empty = [e.directory or (not e.data and not e.size) for e in entries]
    if any(empty):
        body = _bits(empty)
        header += b"\x0e" + number(len(body)) + body
        empty_file = [not e.directory for e, is_empty in zip(entries, empty, strict=True) if is_empty]
        body = _bits(empty_file)
        header += b"\x0f" + number(len(body)) + body
    names = b"\x00" + b"".join(e.name.encode("utf-16-le", "surrogatepass") + b"\x00\x00" for e in entries)
    header += b"\x11" + number(len(names)) + names
    defined = [e.attributes is not None for e in entries]
    attrs = b"".join(struct.pack("<I", e.attributes) for e in entries if e.attributes is not None)
    body = (b"\x01" if all(defined) else b"\x00" + _bits(defined)) + b"\x00" + attrs
    return header + attributes_id + number(len(body)) + body + extra + b"\x00"


def forge(path: Path, entries: list[Entry], method: bytes = b"\x00", props: bytes = b"",
          declared_sizes: list[int] | None = None, coded: Coded | None = None,
          encode_header: bool | int = False, **shape: bytes) -> Path:
    """Write `entries` as a 7z archive; `declared_sizes` overrides the stored sizes (bombs)."""
    path.write_bytes(forge_bytes(entries, method, props, declared_sizes, coded, encode_header, **shape))
    return path


def forge_bytes(entries: list[Entry], method: bytes = b"\x00", props: bytes = b"",
                declared_sizes: list[int] | None = None, coded: Coded | None = None,
                encode_header: bool | int = False, extra_properties: bytes = b"",
                attributes_id: bytes = b"\x15", after_header: bytes = b"") -> bytes:
    """The bytes forge() writes. `encode_header`: LZMA2-code the header (a number: that many times);
    `extra_properties`: file properties after the attributes; `attributes_id`: the attributes' property id as
    written; `after_header`: bytes after the header's end marker (inside the header, its CRC over them too)."""
    streams = [e for e in entries if not e.directory and (e.data or e.size)]
    if coded is None:
        coded = Coded(b"".join(e.data for e in streams), method, props)
    sizes = declared_sizes or [len(e.data) if e.size is None else e.size for e in streams]
    header = bytearray([0x01])
    if streams:
        header += b"\x04" + _one_block(0, coded, sum(sizes), None)
        header += b"\x08\x0d" + number(len(streams)) + b"\x09"
        for size in sizes[:-1]:
            header += number(size)
        crcs = [zlib.crc32(e.data) if e.crc is None else e.crc for e in streams]
        header += b"\x0a\x01" + b"".join(struct.pack("<I", crc) for crc in crcs)
        header += b"\x00\x00"
    header += _files(entries, extra_properties, attributes_id) + b"\x00" + after_header
    body = coded.packed if streams else b""
    for _ in range(int(encode_header)):
        packed_header = lzma2(bytes(header))
        body += packed_header.packed
        header = bytearray(b"\x17" + _one_block(len(body) - len(packed_header.packed), packed_header,
                                                len(header), zlib.crc32(header)) + b"\x00")
    start = struct.pack("<QQI", len(body), len(header), zlib.crc32(header))
    return b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<I", zlib.crc32(start)) + start + body + bytes(header)
