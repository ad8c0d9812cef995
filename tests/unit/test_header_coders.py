"""A block's size and files are read as 7-Zip reads them: the size is that of the coder whose output is not bound
to another, wherever the record lists it; coders that disagree on the size, and files in a block without their
sizes, are refused (7-Zip would take fewer bytes, or refuses too); an encrypted copy is named as one even when
each block has its own chain."""

from __future__ import annotations

import lzma
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from forge import number
from mirror.errors import ArchiveError, UnreadableContainer
from mirror.sevenzip import Limits, check_methods, iter_members, read_archive
from mirror.sevenzip.header import MAX_CHAINS

_DATA = bytes(range(40)) + b"\xe8\x00\x00\x00\x00 call" * 8 + b"plain text that BCJ leaves as it is " * 3
_PACKED = lzma.compress(_DATA, lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_X86},
                                                          {"id": lzma.FILTER_LZMA2, "dict_size": 1 << 16}])
_BCJ = b"\x04\x03\x03\x01\x03"  # flags (4-byte id, no properties) and BCJ's id
_LZMA2 = b"\x21\x21\x01\x10"  # flags (1-byte id, properties), LZMA2, one byte: a 64 KiB dictionary
_AES = b"\x24\x06\xf1\x07\x01\x02\xd0\x00"  # 7zAES with its two bytes of properties (no salt, no IV)


def _archive(path: Path, records: list[bytes], sizes: list[list[int]], names: list[str],
             substreams: bytes = b"", packed: bytes = _PACKED) -> Path:
    """A 7z archive whose blocks have the coder `records` as given and each coder's size in record order; the
    packed stream of every block is `packed`."""
    header = bytearray(b"\x01\x04\x06" + number(0) + number(len(records)) + b"\x09")
    header += number(len(packed)) * len(records) + b"\x00\x07\x0b" + number(len(records)) + b"\x00"
    header += b"".join(records) + b"\x0c" + b"".join(number(s) for block in sizes for s in block) + b"\x00"
    header += substreams + b"\x00"
    name_bytes = b"\x00" + b"".join(n.encode("utf-16-le") + b"\x00\x00" for n in names)
    header += b"\x05" + number(len(names)) + b"\x11" + number(len(name_bytes)) + name_bytes + b"\x00\x00"
    body = packed * len(records)
    start = struct.pack("<QQI", len(body), len(header), zlib.crc32(header))
    path.write_bytes(b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<I", zlib.crc32(start)) + start + body + header)
    return path


def _sevenzip() -> str:
    found = shutil.which("7zz")
    if found is None:
        pytest.fail("7zz is needed (scripts/test.sh installs it)")
    return found


def _read(path: Path) -> dict[str, bytes]:
    with path.open("rb") as fp:
        archive = read_archive(fp, Limits())
        return {m.name: b"".join(chunks) for m, chunks in iter_members(fp, archive)}


def _extracted_by_7zip(path: Path, into: Path) -> dict[str, bytes] | None:
    done = subprocess.run([_sevenzip(), "x", "-bd", "-y", f"-o{into}", str(path)], capture_output=True, check=False)
    if done.returncode != 0:
        return None
    return {p.name: p.read_bytes() for p in into.iterdir()}


_STOCK = b"\x02" + _BCJ + _LZMA2 + number(0) + number(1)  # as 7-Zip writes: BCJ first, fed by LZMA2
_TURNED = b"\x02" + _LZMA2 + _BCJ + number(1) + number(0)  # LZMA2 first; BCJ (coder 1) is fed by it


@pytest.mark.parametrize(("record", "sizes"), [(_STOCK, [len(_DATA), len(_DATA)]),
                                               (_TURNED, [len(_DATA), len(_DATA)])], ids=["stock", "turned"])
def test_a_filter_chain_in_either_order_reads_as_7zip_reads_it(tmp_path: Path, record: bytes,
                                                               sizes: list[int]) -> None:
    path = _archive(tmp_path / "a.7z", [record], [sizes], ["a.txt"])
    assert _read(path) == {"a.txt": _DATA}
    assert _extracted_by_7zip(path, tmp_path / "x") == {"a.txt": _DATA}


@pytest.mark.parametrize(("record", "sizes"), [(_STOCK, [len(_DATA) - 10, len(_DATA)]),
                                               (_TURNED, [len(_DATA), len(_DATA) - 10]),
                                               (_STOCK, [len(_DATA), len(_DATA) + 7])],
                         ids=["filter-smaller", "turned-filter-smaller", "filter-larger"])
def test_coders_that_disagree_on_the_size_of_a_block_are_refused(tmp_path: Path, record: bytes,
                                                                 sizes: list[int]) -> None:
    """7-Zip takes the size of the last decoder (BCJ here) and writes that much of the file: a reader that took
    the other coder's would check bytes that are not what 7-Zip extracts."""
    path = _archive(tmp_path / "a.7z", [record], [sizes], ["a.txt"])
    with pytest.raises(ArchiveError, match="coders of a block disagree on its size"), path.open("rb") as fp:
        read_archive(fp, Limits())
    final = sizes[0] if record == _STOCK else sizes[1]
    got = _extracted_by_7zip(path, tmp_path / "x")
    if final < len(_DATA):  # stock 7-Zip writes what the final size says
        assert got == {"a.txt": _DATA[:final]}
    else:
        assert got is None


def test_an_encrypted_block_whose_coders_differ_in_size_is_named_as_encrypted(tmp_path: Path) -> None:
    """AES pads its output to 16 bytes, so its size differs from the decompressor's: that is no fault."""
    record = b"\x02" + _LZMA2 + _AES + number(0) + number(1)
    path = _archive(tmp_path / "a.7z", [record], [[len(_DATA), 96]], ["a.txt"], packed=bytes(96))
    with path.open("rb") as fp:
        archive = read_archive(fp, Limits())
    assert archive.folders[0].unpack_size == len(_DATA)
    with pytest.raises(UnreadableContainer, match="encrypted"):
        check_methods(archive)


def test_an_encrypted_copy_of_one_block_a_file_is_named_as_encrypted_past_the_chain_cap(tmp_path: Path) -> None:
    """7-Zip's -p with -ms=off gives each block its own AES chain (its own IV): more than the cap on chains."""
    src = tmp_path / "src"
    src.mkdir()
    for i in range(MAX_CHAINS + 10):
        (src / f"{i:05d}.txt").write_bytes(b"%d" % i)
    path = tmp_path / "e.7z"
    subprocess.run([_sevenzip(), "a", "-bd", "-bso0", "-ms=off", "-mx1", "-psecret", str(path), "."], cwd=src,
                   check=True)
    with pytest.raises(UnreadableContainer, match="encrypted"), path.open("rb") as fp:
        read_archive(fp, Limits())


def test_files_in_a_block_without_their_sizes_are_refused(tmp_path: Path) -> None:
    """Two files declared in one block, no sizes listed: 7-Zip refuses the header, and so does mirror (it took
    the block for one file before, the one file the header names)."""
    record = b"\x01" + _LZMA2
    coded = lzma.compress(_DATA, lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "dict_size": 1 << 16}])
    substreams = b"\x08\x0d" + number(2) + b"\x00"
    for names in (["a.txt"], ["a.txt", "b.txt"]):
        path = _archive(tmp_path / "a.7z", [record], [[len(_DATA)]], names, substreams, coded)
        with pytest.raises(ArchiveError, match="files in a block without their sizes"), path.open("rb") as fp:
            read_archive(fp, Limits())
        assert _extracted_by_7zip(path, tmp_path / f"x{len(names)}") is None
    sized = b"\x08\x0d" + number(2) + b"\x09" + number(30) + b"\x00"
    path = _archive(tmp_path / "b.7z", [record], [[len(_DATA)]], ["a.txt", "b.txt"], sized, coded)
    assert _read(path) == {"a.txt": _DATA[:30], "b.txt": _DATA[30:]}
    assert _extracted_by_7zip(path, tmp_path / "y") == {"a.txt": _DATA[:30], "b.txt": _DATA[30:]}


_TEXT = b"an account, signed line by line\n" * 10
_LZMA2_TEXT = lzma.compress(_TEXT, lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "dict_size": 1 << 16}])
_LZMA1_PROPS = b"\x5d" + (1 << 16).to_bytes(4, "little")
_LZMA1_MARKED = lzma.compress(_TEXT, lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA1, "dict_size": 1 << 16}])


@pytest.mark.parametrize(("record", "size", "packed"), [
    (b"\x01" + _LZMA2, len(_TEXT) - 1, _LZMA2_TEXT),
    (b"\x01" + _LZMA2, len(_TEXT), _LZMA2_TEXT + bytes(16)),
    (b"\x01\x01\x00", len(_TEXT), _TEXT + b"xx"),
    (b"\x01\x23\x03\x01\x01\x05" + _LZMA1_PROPS, len(_TEXT), _LZMA1_MARKED + bytes(8)),
], ids=["lzma2-holds-more", "after-the-end-marker", "copy-larger", "lzma-end-marker-then-more"])
def test_a_stream_that_does_not_end_with_its_block_is_refused(tmp_path: Path, record: bytes, size: int,
                                                              packed: bytes) -> None:
    """7-Zip reports a data error when the packed stream goes on past the block's declared size: so does mirror,
    once the block's files were read (before, it said nothing while `7z x` said "Data Error")."""
    path = _archive(tmp_path / "a.7z", [record], [[size]], ["a.txt"], packed=packed)
    with pytest.raises(ArchiveError, match=r"more data than it declares|after the end|after its declared end"):
        _read(path)
    done = subprocess.run([_sevenzip(), "t", str(path)], capture_output=True, check=False)
    assert done.returncode != 0


def test_a_stream_without_its_end_marker_is_read_as_7zip_reads_it(tmp_path: Path) -> None:
    """LZMA2 may end without its end marker right after the block's bytes: 7-Zip accepts that, and so does mirror."""
    path = _archive(tmp_path / "a.7z", [b"\x01" + _LZMA2], [[len(_TEXT)]], ["a.txt"], packed=_LZMA2_TEXT[:-1])
    assert _read(path) == {"a.txt": _TEXT} == _extracted_by_7zip(path, tmp_path / "x")


_TAILS = [b"ends in a CJK character \xe8\x90\xac!", b"\xe8\x00\x01", b"call \xe8\x10\x20\x30\x40",
          b"jump \xe9\x01\x02\x03", bytes(range(256)) * 40 + b"\xe8\xe8\xe8"]


@pytest.mark.parametrize("method", [["-m0=BCJ", "-m1=LZMA"], ["-m0=Delta:2", "-m1=LZMA"], ["-m0=LZMA", "-mx1"],
                                    ["-m0=BCJ", "-m1=LZMA2"], ["-m0=LZMA", "-ms=off"]])
def test_stock_7zip_blocks_read_as_7zip_writes_them(tmp_path: Path, method: list[str]) -> None:
    """Data ending in an x86 call or jump opcode (UTF-8 for U+8000-U+9FFF starts with E8 or E9): BCJ after LZMA
    must not look past the block's end. Before, mirror fed padding to LZMA and BCJ read what it decoded to, so
    the last bytes of such a file came out changed."""
    src = tmp_path / "src"
    src.mkdir()
    expected = {f"t{i}.bin": tail * (1 + i % 2) for i, tail in enumerate(_TAILS)}
    for name, data in expected.items():
        (src / name).write_bytes(data)
    path = tmp_path / "a.7z"
    subprocess.run([_sevenzip(), "a", "-bd", "-bso0", *method, str(path), "."], cwd=src, check=True)
    assert _read(path) == expected == _extracted_by_7zip(path, tmp_path / "x")


@pytest.mark.parametrize("filters", [[{"id": lzma.FILTER_LZMA1}], [{"id": lzma.FILTER_X86}, {"id": lzma.FILTER_LZMA1}],
                                     [{"id": lzma.FILTER_DELTA, "dist": 4}, {"id": lzma.FILTER_LZMA1}]],
                         ids=["lzma", "bcj-lzma", "delta-lzma"])
def test_lzma_with_its_end_marker_from_another_writer(tmp_path: Path, filters: list[dict[str, int]]) -> None:
    """py7zr's LZMA (liblzma's raw encoder) always writes the end marker, right after the block's bytes."""
    import py7zr

    src = tmp_path / "src"
    src.mkdir()
    expected = {f"t{i}.bin": tail for i, tail in enumerate(_TAILS)}
    path = tmp_path / "a.7z"
    with py7zr.SevenZipFile(path, "w", filters=filters) as archive:
        for name, data in expected.items():
            (src / name).write_bytes(data)
            archive.write(src / name, name)
    assert _read(path) == expected == _extracted_by_7zip(path, tmp_path / "x")


def test_coders_that_disagree_are_refused_among_blocks_of_other_chains(tmp_path: Path) -> None:
    """The same rule where blocks of one coder sit beside blocks of two (each block's sizes read on its own)."""
    copy = b"\x01\x01\x00"
    for sizes, fine in (([len(_DATA)], [len(_DATA), len(_DATA)]), ([len(_DATA)], [len(_DATA) - 1, len(_DATA)])):
        path = _archive(tmp_path / "a.7z", [copy, _STOCK], [sizes, fine], ["c.bin", "a.txt"],
                        substreams=b"", packed=_PACKED)
        with path.open("rb") as fp:
            if fine[0] == fine[1]:
                assert read_archive(fp, Limits()).folders[1].unpack_size == len(_DATA)
            else:
                with pytest.raises(ArchiveError, match="disagree on its size"):
                    read_archive(fp, Limits())


def _stock_lzma(tmp_path: Path, data: bytes) -> tuple[bytes, bytes]:
    """The properties and packed stream of `data` as 7-Zip writes LZMA (version 1): no end marker."""
    src = tmp_path / "lzma-src"
    src.mkdir()
    (src / "a.txt").write_bytes(data)
    path = tmp_path / "lzma.7z"
    subprocess.run([_sevenzip(), "a", "-bd", "-bso0", "-m0=LZMA", str(path), "a.txt"], cwd=src, check=True)
    with path.open("rb") as fp:
        folder = read_archive(fp, Limits()).folders[0]
        fp.seek(folder.pack_offset)
        return folder.chain[0].props, fp.read(folder.pack_size)


def test_lzma_streams_end_where_7zip_says(tmp_path: Path) -> None:
    """LZMA (version 1) without an end marker is decoded as a stream of known size, so its end is known: a
    stream cut short is refused instead of completed from padding (mirror made up the missing bytes from zeros:
    5 bytes gave 100,000), and data after it, or a stream holding more, is refused as 7-Zip refuses it."""
    text = b"an account, signed line by line, and more of it\n" * 40
    props, packed = _stock_lzma(tmp_path, text)
    record = b"\x01\x23\x03\x01\x01\x05" + props
    cases = {"whole": (len(text), packed), "cut short": (len(text), packed[: len(packed) // 3]),
             "zeros": (100_000, bytes(5)), "then more": (len(text), packed + b"junk" * 100),
             "holds more": (len(text) - 7, packed)}
    for label, (size, stream) in cases.items():
        path = _archive(tmp_path / f"{label}.7z", [record], [[size]], ["a.txt"], packed=stream)
        if label == "whole":
            assert _read(path) == {"a.txt": text} == _extracted_by_7zip(path, tmp_path / "x")
            continue
        with pytest.raises(ArchiveError):
            _read(path)
        assert subprocess.run([_sevenzip(), "t", str(path)], capture_output=True, check=False).returncode != 0


def test_lzma2_cut_inside_a_chunk_is_refused(tmp_path: Path) -> None:
    """An LZMA2 stream may end without its end marker only at a chunk's end: one cut inside a chunk (a stored
    chunk declaring 249 bytes, the block 240) is a data error for 7-Zip, and for mirror now."""
    data = bytes(range(240))
    for label, stream in (("cut", b"\x01" + (248).to_bytes(2, "big") + data),
                          ("lone control byte", b"\x01" + (239).to_bytes(2, "big") + data + b"\x01")):
        path = _archive(tmp_path / f"{label}.7z", [b"\x01" + _LZMA2], [[240]], ["a.bin"], packed=stream)
        with pytest.raises(ArchiveError):
            _read(path)
        assert subprocess.run([_sevenzip(), "t", str(path)], capture_output=True, check=False).returncode != 0
