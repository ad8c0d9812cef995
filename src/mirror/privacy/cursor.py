"""Bytes read forward from memory or from a stream, holding only what is still needed.

Example::

    cursor = Cursor(data)                       # a photo already in memory
    cursor = Cursor.of_chunks(chunks)           # a file or a bundle member, read 1 MiB at a time
    cursor.take(0, 4)                           # b"\\x89PNG" (shorter only at the end of the data)
    at = cursor.find(0xFF, 4)                   # an absolute offset, or -1 when the data ends first
    cursor.release(at)                          # nothing before `at` is read again: a stream drops it

The photo walkers (jpeg.py, png.py) run on a cursor, so one parser serves the
cleaner (whole photos in memory) and the scanner (any size, bounded memory).
Offsets are always absolute: from the first byte of the data.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator

TRAILING_KEPT = 64 << 10  # how much of what follows a photo's end is kept to tell what it is (scan.py)
_COMPACT = 1 << 20  # a stream's buffer drops released bytes once this many have piled up


class Cursor:
    """Forward access to bytes by absolute offset.

    Args:
        data: all of the bytes, when they are already in memory.
    """

    def __init__(self, data: bytes = b"", chunks: Iterator[bytes] | None = None) -> None:
        self._growing = bytearray()  # a stream's buffer (the same object as _buf when streaming)
        self._buf: bytes | bytearray = data if chunks is None else self._growing
        self._base = 0  # the absolute offset of _buf[0]
        self._chunks = chunks

    @classmethod
    def of_chunks(cls, chunks: Iterable[bytes]) -> Cursor:
        """A cursor over a stream of chunks (a file read in pieces, a bundle member)."""
        return cls(chunks=iter(chunks))

    def _fill(self, end: int) -> bool:
        """Read until the buffer reaches absolute offset `end`; False when the data ends first."""
        while self._base + len(self._buf) < end:
            chunk = next(self._chunks, None) if self._chunks is not None else None
            if chunk is None:
                return False
            self._growing += chunk
        return True

    def take(self, start: int, end: int) -> bytes:
        """The bytes from `start` to `end` (fewer when the data ends before `end`)."""
        self._fill(end)
        return bytes(self._buf[max(0, start - self._base):max(0, end - self._base)])

    def byte(self, pos: int) -> int | None:
        """The byte at `pos`, or None past the end."""
        if not self._fill(pos + 1):
            return None
        return self._buf[pos - self._base]

    def find(self, value: int, start: int) -> int:
        """The offset of the first byte equal to `value` at or after `start`, or -1."""
        while True:
            found = self._buf.find(bytes((value,)), max(0, start - self._base))
            if found >= 0:
                return found + self._base
            start = self._base + len(self._buf)
            self.release(start)
            if not self._fill(start + 1):
                return -1

    def search(self, pattern: re.Pattern[bytes], start: int) -> int:
        """The offset of the first match of `pattern` at or after `start`, or -1 when the data ends first.

        A match may look at most one byte past its first (a one-byte pattern with a one-byte lookahead):
        a stream's last byte is searched again once the next chunk has come.
        """
        while True:
            match = pattern.search(self._buf, max(0, start - self._base))
            if match is not None:
                return match.start() + self._base
            end = self._base + len(self._buf)
            start = max(start, end - 1)
            self.release(start)
            if not self._fill(end + 1):
                return -1

    def crc32(self, start: int, end: int, crc: int = 0) -> int | None:
        """zlib's CRC-32 of the bytes from `start` to `end`, releasing them; None when the data ends first."""
        if self._chunks is None:
            return zlib.crc32(memoryview(self._buf)[start:end], crc) if end <= len(self._buf) else None
        while start < end:
            step = min(end, start + _COMPACT)
            if not self._fill(step):
                return None
            crc = zlib.crc32(memoryview(self._buf)[start - self._base:step - self._base], crc)
            start = step
            self.release(start)
        return crc

    def release(self, pos: int) -> None:
        """Nothing before `pos` will be asked for again (a stream may drop it)."""
        drop = min(pos - self._base, len(self._buf))
        if self._chunks is None or (drop < _COMPACT and drop < len(self._buf)):
            return
        del self._growing[:drop]
        self._base += drop

    def skip_to_end(self, start: int, keep: int) -> tuple[int, bytes]:
        """How many bytes follow `start`, and the first `keep` of them; reads the stream to its end."""
        head = self.take(start, start + keep)
        if self._chunks is None:
            return max(0, len(self._buf) - start), head
        self.release(start)
        size = self._base + len(self._buf) - start
        for chunk in self._chunks:
            size += len(chunk)
        self._growing.clear()
        self._base = start + size
        return size, head
