"""Forge 7z archives byte by byte, to build hostile bundles no archiver would write.

Example::

    forge(path, [Entry("../x", b"data"), Entry("a", b"", attributes=link_attributes())])

Every member's data goes into one Copy block; the header is written
uncompressed, so names, attributes and declared sizes are exactly as given.
"""

from __future__ import annotations

import stat
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

FILE_0644 = 0x20 | 0x8000 | ((stat.S_IFREG | 0o644) << 16)


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


def _number(value: int) -> bytes:
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


def forge(path: Path, entries: list[Entry], method: bytes = b"\x00", props: bytes = b"",
          declared_sizes: list[int] | None = None) -> Path:
    """Write `entries` as a 7z archive; `declared_sizes` overrides the stored sizes (bombs)."""
    streams = [e for e in entries if not e.directory and e.data]
    packed = b"".join(e.data for e in streams)
    sizes = declared_sizes or [len(e.data) for e in streams]
    header = bytearray([0x01])
    if streams:
        header += b"\x04\x06" + _number(0) + _number(1) + b"\x09" + _number(len(packed)) + b"\x00"
        coder_flags = len(method) | (0x20 if props else 0)
        header += b"\x07\x0b" + _number(1) + b"\x00" + _number(1) + bytes([coder_flags]) + method
        if props:
            header += _number(len(props)) + props
        header += b"\x0c" + _number(sum(sizes)) + b"\x00"
        header += b"\x08\x0d" + _number(len(streams)) + b"\x09"
        for size in sizes[:-1]:
            header += _number(size)
        header += b"\x0a\x01" + b"".join(struct.pack("<I", zlib.crc32(e.data)) for e in streams)
        header += b"\x00\x00"
    header += b"\x05" + _number(len(entries))
    empty = [e.directory or not e.data for e in entries]
    if any(empty):
        body = _bits(empty)
        header += b"\x0e" + _number(len(body)) + body
        empty_file = [not e.directory for e, is_empty in zip(entries, empty, strict=True) if is_empty]
        body = _bits(empty_file)
        header += b"\x0f" + _number(len(body)) + body
    names = b"\x00" + b"".join(e.name.encode("utf-16-le", "surrogatepass") + b"\x00\x00" for e in entries)
    header += b"\x11" + _number(len(names)) + names
    defined = [e.attributes is not None for e in entries]
    attrs = b"".join(struct.pack("<I", e.attributes) for e in entries if e.attributes is not None)
    body = (b"\x01" if all(defined) else b"\x00" + _bits(defined)) + b"\x00" + attrs
    header += b"\x15" + _number(len(body)) + body
    header += b"\x00\x00"
    start = struct.pack("<QQI", len(packed), len(header), zlib.crc32(header))
    data = b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<I", zlib.crc32(start)) + start + packed + header
    path.write_bytes(bytes(data))
    return path
