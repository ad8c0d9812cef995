"""A 7z header of many blocks (7-Zip writes one a file with -ms=off) is read into columns: the same values as stock
7-Zip writes them, from any split of the bytes, at a few dozen bytes a block, with a cap on distinct coder chains."""

from __future__ import annotations

import random
import shutil
import subprocess
import tracemalloc
import zlib
from pathlib import Path

import pytest

from forge import number
from mirror.errors import ArchiveError, UnreadableContainer
from mirror.sevenzip import Limits, iter_members, read_archive
from mirror.sevenzip.header import MAX_CHAINS, Buf, parse_header
from mirror.sevenzip.headerwriter import FolderSpec, HeaderTable
from mirror.sevenzip.model import COPY, LZMA1, LZMA2, Coder, FolderTable

_WIDTHS = [0, 1, 0x7F, 0x80, 0x3FFF, 0x4000, 0x1FFFFF, 0x200000, (1 << 35) - 1, 1 << 35, (1 << 56) - 1, 1 << 56,
           (1 << 64) - 1]


def _pieces(raw: bytes, rnd: random.Random) -> list[bytes]:
    out, at = [], 0
    while at < len(raw):
        step = rnd.choice((1, 2, 3, 5, 9, 10, 4096))
        out.append(raw[at : at + step])
        at += step
    return out


@pytest.mark.parametrize("seed", range(6))
def test_numbers_of_every_width_read_the_same_from_any_split(seed: int) -> None:
    rnd = random.Random(seed)
    values = [rnd.choice(_WIDTHS) if rnd.random() < 0.5 else rnd.getrandbits(rnd.randint(1, 64)) for _ in range(3000)]
    raw = b"".join(number(v) for v in values) + b"\x42"
    for buf in (Buf(raw), Buf(b"", iter(_pieces(raw, rnd)))):
        assert list(buf.numbers(len(values))) == values
        assert buf.byte() == 0x42


def test_numbers_past_the_end_are_truncated() -> None:
    raw = number(1 << 40) + number(5)
    with pytest.raises(ArchiveError, match="truncated"):
        Buf(raw[:-1]).numbers(2)
    with pytest.raises(ArchiveError, match="truncated"):
        Buf(b"", iter([raw[:3], raw[3:-1]])).numbers(2)


_CHAINS = [(Coder(COPY, b""),), (Coder(LZMA2, b"\x10"),), (Coder(LZMA2, b"\x0c"),),
           (Coder(LZMA1, b"\x5d\x00\x00\x10\x00"),), (Coder(LZMA2, b"\x18"), Coder(b"\x03\x03\x01\x03", b"")),
           (Coder(LZMA2, b"\x10"), Coder(b"\x03", b"\x03"))]


def _header(n_blocks: int, seed: int, runs: bool = False) -> tuple[bytes, list[FolderSpec],
                                                                   list[tuple[int, int | None, int]]]:
    """A plain header of blocks with mixed chains (or, with `runs`, runs of 1 to 300 blocks of one chain), one
    to four files each, block CRCs on some, and the files (size, CRC, block) it declares."""
    rnd, table = random.Random(seed), HeaderTable()
    specs, files = [], []
    run_chain, run_left = _CHAINS[0], 0
    for block in range(n_blocks):
        if run_left == 0:
            run_chain, run_left = rnd.choice(_CHAINS), rnd.choice((1, 63, 64, 65, 128, 300))
        run_left -= 1
        table.open_folder()
        sizes = [rnd.choice((1, 200, 70_000, 1 << 33)) for _ in range(rnd.choice((1, 1, 1, 2, 4)))]
        for i, size in enumerate(sizes):
            crc = rnd.getrandbits(32)
            table.add_member(f"b{block}/{i}", size, crc, 0x20)
            files.append((size, crc, block))
        chain = run_chain if runs else rnd.choice(_CHAINS) if rnd.random() < 0.3 else _CHAINS[block % 2]
        one_crc = files[-1][1] if len(sizes) == 1 and rnd.random() < 0.5 else None
        spec = FolderSpec(chain, rnd.randint(1, 1 << 20), sum(sizes), one_crc)
        table.close_folder(spec)
        specs.append(spec)
    try:
        return b"".join(table.pieces(0)), specs, files
    finally:
        table.close()


@pytest.mark.parametrize("runs", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_blocks_read_back_as_written_from_any_split(seed: int, runs: bool) -> None:
    raw, specs, files = _header(2000, seed, runs)
    rnd = random.Random(seed)
    for buf in (Buf(raw[1:]), Buf(b"", iter(_pieces(raw[1:], rnd)))):
        archive = parse_header(buf, Limits(max_total_size=1 << 62), 1 << 62)
        folders = archive.folders
        assert [(f.chain, f.pack_size, f.unpack_size, f.crc) for f in folders] == [
            (s.chain, s.pack_size, s.unpack_size, s.crc) for s in specs]
        assert folders[0].pack_offset == 32 and all(
            folders[i].pack_offset == folders[i - 1].pack_offset + specs[i - 1].pack_size for i in range(1, 2000))
        assert sorted(folders.chains, key=repr) == sorted(set(_CHAINS), key=repr)
        assert [(m.size, m.crc, m.folder) for m in archive.members] == files
        assert folders == FolderTable.of(list(folders))


def test_a_block_costs_a_few_dozen_bytes() -> None:
    """200,000 one-file blocks (-ms=off): columns, not an object a block (about 400 bytes each before)."""
    n, table = 200_000, HeaderTable()
    for i in range(n):
        table.open_folder()
        table.add_member(f"{i:06d}", 1, i, 0x20)
        table.close_folder(FolderSpec(_CHAINS[i % 2], 1, 1, i))
    raw = b"".join(table.pieces(0))
    table.close()
    tracemalloc.start()
    try:
        archive = parse_header(Buf(b"", iter([raw[i : i + (1 << 20)] for i in range(1, len(raw), 1 << 20)])),
                               Limits(), 1 << 40)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(archive.folders) == n and archive.folders[n - 1].crc == n - 1
    assert held / n < 100, f"{held / n:.0f} bytes a block, with its member"
    assert peak / n < 200, f"{peak / n:.0f} bytes a block at the peak"


def _lzma1(dict_size: int) -> tuple[Coder, ...]:
    return (Coder(LZMA1, b"\x5d" + dict_size.to_bytes(4, "little")),)


@pytest.mark.parametrize(("chains", "fine"), [(MAX_CHAINS, True), (MAX_CHAINS + 1, False)])
def test_distinct_coder_chains_are_capped(chains: int, fine: bool) -> None:
    table = HeaderTable()
    for i in range(chains + 50):
        table.open_folder()
        table.add_member(f"{i}", 1, 0, 0x20)
        table.close_folder(FolderSpec(_lzma1(4096 + i % chains), 1, 1))
    raw = b"".join(table.pieces(0))
    table.close()
    if fine:
        assert len(parse_header(Buf(raw[1:]), Limits(), 1 << 40).folders.chains) == MAX_CHAINS
    else:
        with pytest.raises(ArchiveError, match=f"more than {MAX_CHAINS} different coder chains"):
            parse_header(Buf(raw[1:]), Limits(), 1 << 40)


def test_a_repeated_record_that_is_not_whole_is_still_checked() -> None:
    """The parser skips a record that repeats the last one byte for byte; a record cut short at the end is not
    taken for one."""
    table = HeaderTable()
    for i in range(3):
        table.open_folder()
        table.add_member(f"{i}", 1, 0, 0x20)
        table.close_folder(FolderSpec(_CHAINS[1], 1, 1))
    raw = b"".join(table.pieces(0))
    table.close()
    record = b"\x01\x21\x21\x01\x10"  # one coder, LZMA2 (0x21) with one byte of property
    cut = raw.index(record * 3) + 2 * len(record) + 2
    with pytest.raises(ArchiveError):
        parse_header(Buf(raw[1:cut]), Limits(), 1 << 40)


def _sevenzip() -> str:
    found = shutil.which("7zz")
    if found is None:
        pytest.fail("7zz is needed (scripts/test.sh installs it)")
    return found


def test_an_archive_of_one_block_a_file_from_stock_7zip(tmp_path: Path) -> None:
    """7-Zip with -ms=off: a block each; files added later with another method give the blocks a second chain."""
    rnd = random.Random(5)
    src = tmp_path / "src"
    src.mkdir()
    expected = {}
    for i in range(300):
        data = rnd.randbytes(rnd.choice((0, 10, 5000, 70_000))) + b"text " * rnd.randint(0, 3000)
        (src / f"f{i:03d}.txt").write_bytes(data)
        expected[f"f{i:03d}.txt"] = data
    archive_path = tmp_path / "a.7z"
    for args, names in ((["-m0=LZMA2"], ["f0*.txt"]), (["-m0=BCJ", "-m1=LZMA"], ["f1*.txt", "f2*.txt"])):
        subprocess.run([_sevenzip(), "a", "-bd", "-bso0", "-ms=off", *args, str(archive_path), *names], cwd=src,
                       check=True)
    with archive_path.open("rb") as fp:
        archive = read_archive(fp, Limits())
        assert len(archive.folders) == sum(1 for d in expected.values() if d)
        assert sorted(len(chain) for chain in archive.folders.chains) == [1, 2]
        got = {m.name: b"".join(chunks) for m, chunks in iter_members(fp, archive)}
    assert got == {k: v for k, v in expected.items() if v}
    assert {m.name: (m.size, m.crc) for m in archive.members} == {
        k: (len(v), zlib.crc32(v) if v else None) for k, v in expected.items()}


@pytest.mark.parametrize("flag", [0x10, 0x40, 0x80])
def test_reserved_or_multi_stream_flags_on_a_method_mirror_reads_are_malformed(flag: int) -> None:
    """Only a method mirror does not read (BCJ2) is a repack to undo; LZMA2 flagged as a coder of several
    streams, or with a reserved bit, is a damaged or forged header."""
    table = HeaderTable()
    table.open_folder()
    table.add_member("a", 1, 0, 0x20)
    table.close_folder(FolderSpec(_CHAINS[1], 1, 1))
    raw = b"".join(table.pieces(0))
    table.close()
    record = b"\x01\x21\x21\x01\x10"
    at = raw.index(record) + 1
    forged = raw[:at] + bytes([raw[at] | flag]) + raw[at + 1 :]
    with pytest.raises(ArchiveError, match=r"malformed \(coder flags\)") as caught:
        parse_header(Buf(forged[1:]), Limits(), 1 << 40)
    assert not isinstance(caught.value, UnreadableContainer)


@pytest.mark.parametrize("unpacked", [2400, 0])
def test_a_block_of_no_file_is_refused(unpacked: int) -> None:
    """A block that declares data but no file (7-Zip writes none) was read past without a word: its bytes,
    belonging to no file, were checked by nothing, and the bundle verified. One that unpacks to nothing was let
    through after that, whatever its packed bytes held (a PDF's start, at the start of the file)."""
    table = HeaderTable()
    table.open_folder()
    table.add_member("a.md", 10, 0, 0x20)
    table.close_folder(FolderSpec(_CHAINS[0], 5, 10))
    table.open_folder()
    table.close_folder(FolderSpec(_CHAINS[0], 800, unpacked))  # packed bytes, no file
    table.open_folder()
    table.add_member("b.md", 10, 0, 0x20)
    table.close_folder(FolderSpec(_CHAINS[0], 5, 10))
    try:
        raw = b"".join(table.pieces(0))
    finally:
        table.close()
    with pytest.raises(ArchiveError, match="block 2 holds 800 packed bytes but no file"):
        parse_header(Buf(raw[1:]), Limits(), 1 << 40)


def test_a_coder_of_no_id_is_copy_as_7zip_reads_it() -> None:
    """py7zr's copy_2.7z names its Copy coder with an id of no bytes: 7-Zip reads that as 0, Copy; mirror refused
    it as "a method of no id"."""
    table = HeaderTable()
    table.open_folder()
    table.add_member("a.md", 10, 0, 0x20)
    table.close_folder(FolderSpec((Coder(b"", b""),), 10, 10))
    try:
        raw = b"".join(table.pieces(0))
    finally:
        table.close()
    archive = parse_header(Buf(raw[1:]), Limits(), 1 << 40)
    assert archive.folders[0].chain == (Coder(COPY, b""),)


@pytest.mark.parametrize(("chains", "refused"), [
    ([1], None),  # py7zr's: one LZMA2 block of one byte, for folders alone
    ([1, 1], 3),  # two of them: a byte each adds up (5,000 blocks, 5,000 bytes that nothing reads)
    ([0], 2),  # Copy: the byte is any byte
])
def test_a_one_byte_block_of_no_file_is_let_through_once(chains: list[int], refused: int | None) -> None:
    """py7zr writes one block of no file, of one byte, for a folder that holds only folders; more such blocks,
    or one of another coder, stay refused (helper-135)."""
    table = HeaderTable()
    table.open_folder()
    table.add_member("a.md", 10, 0, 0x20)
    table.close_folder(FolderSpec(_CHAINS[0], 10, 10))
    for chain in chains:
        table.open_folder()
        table.close_folder(FolderSpec(_CHAINS[chain], 1, 0))
    try:
        raw = b"".join(table.pieces(0))
    finally:
        table.close()
    if refused is None:
        parse_header(Buf(raw[1:]), Limits(), 1 << 40)
    else:
        with pytest.raises(ArchiveError, match=f"block {refused} holds 1 packed bytes but no file"):
            parse_header(Buf(raw[1:]), Limits(), 1 << 40)
