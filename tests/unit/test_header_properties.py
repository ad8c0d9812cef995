"""The 7z reader refuses a header that repeats a file property: each repeat of an empty kEmptyFile costs two header
bytes and used to cost a pass over every member, so a 5 KB file could keep verify busy for hours."""

from __future__ import annotations

import io
import struct
import zlib

import pytest

from forge import _one_block, lzma2, number
from mirror.errors import ArchiveError
from mirror.sevenzip import read_archive
from mirror.sevenzip.model import Limits


def _archive(properties: bytes, members: int = 1000) -> bytes:
    """An archive with no data and `members` empty names, whose FilesInfo ends with `properties`; the header is
    LZMA2-coded, as a hostile one would be to stay small."""
    names = b"\x00" + ("a".encode("utf-16-le") + b"\x00\x00") * members
    header = b"\x01\x05" + number(members) + b"\x11" + number(len(names)) + names + properties + b"\x00\x00"
    packed = lzma2(header)
    head = b"\x17" + _one_block(0, packed, len(header), zlib.crc32(header)) + b"\x00"
    start = struct.pack("<QQI", len(packed.packed), len(head), zlib.crc32(head))
    return b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<I", zlib.crc32(start)) + start + packed.packed + head


@pytest.mark.parametrize("prop", [0x0E, 0x0F, 0x10, 0x15])  # kEmptyStream, kEmptyFile, kAnti, kAttributes
def test_a_repeated_file_property_is_refused_at_once(prop: int) -> None:
    body = {0x0E: b"\x00" * 125, 0x15: b"\x01\x00" + b"\x20\x00\x00\x00" * 1000}.get(prop, b"")
    repeated = (bytes([prop]) + number(len(body)) + body) * 2
    with pytest.raises(ArchiveError, match="repeats a file property"):
        read_archive(io.BytesIO(_archive(repeated)), Limits())


def test_a_hundred_thousand_repeats_cost_nothing() -> None:
    """The attack's shape: kEmptyFile with an empty body, over and over, after 120,000 names."""
    data = _archive(b"\x0f\x00" * 100_000, members=120_000)
    assert len(data) < 20_000
    with pytest.raises(ArchiveError, match="repeats a file property"):  # at the second: about 10 ms each was spent
        read_archive(io.BytesIO(data), Limits())


def test_padding_may_come_before_each_aligned_property() -> None:
    """7-Zip writes kDummy (padding) before each aligned property: several of them are not a repeat."""
    padding = b"\x19\x01\x00"
    archive = _archive(padding + b"\x15" + number(2 + 4 * 1000) + b"\x01\x00" + b"\x20\x00\x00\x00" * 1000 + padding)
    with pytest.raises(ArchiveError) as refused:
        read_archive(io.BytesIO(archive), Limits())
    assert "repeats" not in str(refused.value)  # refused later, for having no data streams
