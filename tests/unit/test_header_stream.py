"""The 7z header is parsed as it is decoded: the same values from any split of its bytes, never held whole, and a
damaged header is still said to be damaged rather than malformed."""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import Iterator

import pytest

from forge import _one_block, lzma2, number
from mirror.errors import ArchiveError
from mirror.sevenzip import read_archive
from mirror.sevenzip.header import _NAMES_SLICE, K_HEADER, Buf, parse_header
from mirror.sevenzip.headerwriter import FolderSpec, HeaderTable
from mirror.sevenzip.model import COPY, Coder, Limits, MemberTable


def _header(n: int, seed: int) -> bytes:
    """A plain header of `n` members: files with data in a few blocks, empty files, folders, names of every
    script (so UTF-16 pairs straddle any split), with and without attributes."""
    rnd, table = random.Random(seed), HeaderTable()
    alphabet = "abcdé文𝄞/"
    for block in range(3):
        table.open_folder()
        total = 0
        for i in range(n // 3):
            name = f"{block}/{i}-" + "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 40)))
            if rnd.random() < 0.1:
                table.add_member(name, 0, None, None if rnd.random() < 0.5 else 0x10, directory=rnd.random() < 0.5)
            else:
                size = rnd.randint(1, 5000)
                total += size
                table.add_member(name, size, rnd.getrandbits(32), 0x20)
        table.close_folder(FolderSpec((Coder(COPY, b""),), total, total))
    try:
        return b"".join(table.pieces(32))
    finally:
        table.close()


def _split(raw: bytes, rnd: random.Random) -> Iterator[bytes]:
    at = 0
    while at < len(raw):
        step = rnd.choice((1, 2, 3, 7, 4096, 65536, 1 << 20))
        yield raw[at : at + step]
        at += step


def _rows(table: MemberTable) -> list[tuple[object, ...]]:
    return [(m.name, m.size, m.crc, m.folder, m.attributes, m.has_stream, m.is_empty_file) for m in table]


@pytest.mark.parametrize("seed", range(4))
def test_any_split_of_the_bytes_gives_the_same_members(seed: int) -> None:
    raw = _header(3000, seed)
    assert raw[0] == K_HEADER
    whole = Buf(raw[1:])
    expected = parse_header(whole, Limits(), 1 << 40)
    pieces = Buf(b"", _split(raw[1:], random.Random(seed)))
    got = parse_header(pieces, Limits(), 1 << 40)
    assert _rows(got.members) == _rows(expected.members)
    assert got.folders == expected.folders


class _Watched(Buf):
    """Records the most bytes the cursor held at once."""

    most = 0

    def _fill(self, n: int) -> None:
        super()._fill(n)
        _Watched.most = max(_Watched.most, len(self.data))


def test_the_names_are_never_held_whole() -> None:
    raw = _header(60_000, 7)  # about 3 MB of names
    assert len(raw) > 3 * _NAMES_SLICE
    _Watched.most = 0
    members = parse_header(_Watched(b"", iter([raw[i : i + 65536] for i in range(1, len(raw), 65536)])),
                           Limits(), 1 << 40).members
    assert len(members) == 60_000
    assert _Watched.most <= _NAMES_SLICE + 65536


def _archive(header: bytes, crc: int) -> bytes:
    packed = lzma2(header)
    head = b"\x17" + _one_block(0, packed, len(header), crc) + b"\x00"
    start = struct.pack("<QQI", len(packed.packed), len(head), zlib.crc32(head))
    return b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<I", zlib.crc32(start)) + start + packed.packed + head


def _nul_in_a_name() -> bytes:
    """Two members whose names property holds three names: malformed, whatever the CRC says."""
    names = b"\x00" + "a\0b\0c\0".encode("utf-16-le")
    return b"\x01\x05" + number(2) + b"\x11" + number(len(names)) + names + b"\x00\x00"


def test_a_malformed_header_with_its_own_crc_is_malformed() -> None:
    header = _nul_in_a_name()
    with pytest.raises(ArchiveError, match="do not match the file count"):
        read_archive(io.BytesIO(_archive(header, zlib.crc32(header))), Limits())


def test_a_header_that_fails_its_crc_is_damaged_even_if_it_fails_to_parse_first() -> None:
    header = _nul_in_a_name()
    with pytest.raises(ArchiveError, match="damaged"):
        read_archive(io.BytesIO(_archive(header, zlib.crc32(header) ^ 1)), Limits())


def test_a_plain_header_is_checked_against_the_start_header_crc() -> None:
    header = _nul_in_a_name()
    for crc, says in ((zlib.crc32(header), "do not match the file count"), (zlib.crc32(header) ^ 1, "damaged")):
        start = struct.pack("<QQI", 0, len(header), crc)
        archive = b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<I", zlib.crc32(start)) + start + header
        with pytest.raises(ArchiveError, match=says):
            read_archive(io.BytesIO(archive), Limits())


@pytest.mark.parametrize("attributes", [[0x20] * 5, [0x20] * 3 + [0x10, 0x20], [None, 0x20, 0x20], [0x20, None, 0x30],
                                        [None, None], [0x10]])
def test_attributes_read_back_as_written(attributes: list[int | None]) -> None:
    """The writer keeps a count while every attribute is the same, and each one once they differ."""
    table = HeaderTable()
    for i, attribute in enumerate(attributes):
        table.add_member(f"e{i}", 0, None, attribute)
    raw = b"".join(table.pieces(32))
    table.close()
    members = parse_header(Buf(raw[1:]), Limits(), 1 << 40).members
    assert [m.attributes for m in members] == attributes


def _padded(padding: int) -> bytes:
    """A plain header (after its first byte) of one empty member, then a padding property of `padding` bytes."""
    names = b"\x00" + "a".encode("utf-16-le") + b"\x00\x00"
    return (b"\x05" + number(1) + b"\x0e" + number(1) + b"\x80" + b"\x11" + number(len(names)) + names
            + b"\x19" + number(padding) + bytes(padding) + b"\x00\x00")


def test_padding_is_a_few_zero_bytes_and_a_large_one_is_refused_unread() -> None:
    """7-Zip pads with a few zero bytes; 8 MiB of padding (a place for bytes nobody signed) is refused from its
    length alone, without being held."""
    members = parse_header(Buf(_padded(200)), Limits(), 1 << 40).members
    assert [m.name for m in members] == ["a"] and members[0].is_dir
    raw = _padded(8 << 20)
    _Watched.most = 0
    with pytest.raises(ArchiveError, match="padding that is not a few zero bytes"):
        parse_header(_Watched(b"", iter([raw[i : i + 65536] for i in range(0, len(raw), 65536)])), Limits(), 1 << 40)
    assert _Watched.most <= 2 * 65536
    with pytest.raises(ArchiveError, match="padding that is not a few zero bytes"):
        parse_header(Buf(_padded(200).replace(bytes(200), b"\1" * 200)), Limits(), 1 << 40)


def test_a_padding_property_that_runs_past_the_header_is_truncated() -> None:
    raw = _padded(200)[:-100]
    with pytest.raises(ArchiveError, match="truncated or malformed"):
        parse_header(Buf(b"", iter([raw[:100], raw[100:]])), Limits(), 1 << 40)


def test_a_used_property_longer_than_any_file_count_needs_is_refused() -> None:
    """Attributes of every one of n members take at most 4n + n/8 + 2 bytes: a longer one is a lie that would
    otherwise be held whole."""
    n = 1000
    names = b"\x00" + "a\0".encode("utf-16-le") * n
    attributes = b"\x01\x00" + b"\x20\x00\x00\x00" * n
    for extra, fine in ((0, True), (4 * n, False)):
        body = attributes + bytes(extra)
        raw = (b"\x05" + number(n) + b"\x0e" + number((n + 7) // 8) + b"\xff" * (n // 8) + b"\x11"
               + number(len(names)) + names + b"\x15" + number(len(body)) + body + b"\x00\x00")
        if fine:
            assert len(parse_header(Buf(raw), Limits(), 1 << 40).members) == n
        else:
            with pytest.raises(ArchiveError, match="too long"):
                parse_header(Buf(raw), Limits(), 1 << 40)


@pytest.mark.parametrize("attributes", [[0x20] * 4, [None, 0x20, None, 0x10], [None] * 4])
def test_members_that_all_have_data_keep_crcs_and_attributes(attributes: list[int | None]) -> None:
    """The whole-column path (every member has data, as in bundles mirror writes) gives each member its own CRC
    and attributes, or None where the header gives none."""
    table = HeaderTable()
    table.open_folder()
    crcs = [0, 1, 0xFFFFFFFF, 12345]
    for i, (crc, attribute) in enumerate(zip(crcs, attributes, strict=True)):
        table.add_member(f"f{i}", 10 + i, crc, attribute)
    table.close_folder(FolderSpec((Coder(COPY, b""),), 46, 46))
    raw = b"".join(table.pieces(32))
    table.close()
    members = parse_header(Buf(raw[1:]), Limits(), 1 << 40).members
    assert [(m.crc, m.attributes, m.size, m.folder, m.has_stream) for m in members] == [
        (crc, attribute, 10 + i, 0, True) for i, (crc, attribute) in enumerate(zip(crcs, attributes, strict=True))]
