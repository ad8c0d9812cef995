"""mirror's own 7z writer: read back by stock 7-Zip and by mirror's strict reader, byte for byte."""

from __future__ import annotations

import hashlib
import lzma
import random
import re
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import require_tool

from mirror.record import replace
from mirror.sevenzip import Limits, headerwriter, iter_members, read_archive, regular_files
from mirror.sevenzip import writer as writer_module
from mirror.sevenzip.header import Buf
from mirror.sevenzip.headerwriter import number
from mirror.sevenzip.model import COPY, LZMA2, FolderTable
from mirror.sevenzip.writer import ArchiveWriter, SpooledTexts


def _texts(n: int, seed: int = 1) -> list[tuple[str, bytes]]:
    rnd = random.Random(seed)
    return [(f"accounts/{i:05d}.md", f"account {i}, {rnd.random()}\n".encode() * rnd.randint(0, 60))
            for i in range(n)]


def _contents(path: Path) -> dict[str, bytes]:
    """Every member as mirror's reader decodes it (members without data as b"")."""
    with path.open("rb") as fp:
        archive = read_archive(fp, Limits())
        files = {m.name: b"" for m in regular_files(archive)}
        for member, chunks in iter_members(fp, archive):
            files[member.name] = b"".join(chunks)
    return files


def _stock(path: Path, into: Path) -> dict[str, bytes]:
    """Every file as stock 7-Zip tests and extracts it."""
    tool = require_tool("7zz")
    subprocess.run([tool, "t", str(path)], check=True, capture_output=True)
    subprocess.run([tool, "x", f"-o{into}", str(path)], check=True, capture_output=True)
    return {p.relative_to(into).as_posix(): p.read_bytes() for p in into.rglob("*") if p.is_file()}


def _write(path: Path, texts: list[tuple[str, bytes]], threads: int = 2, block_size: int = 1 << 16) -> None:
    with ArchiveWriter.create(path, threads=threads, block_size=block_size) as writer:
        writer.add_block([(".mirror/SHA256SUMS", b"sums\n"), (".mirror/empty", b"")])
        writer.add_texts(texts)
        writer.add_stored([("photos/a.jpg", [b"\xff\xd8" + bytes(range(256)) * 900, b"tail"]),
                           ("photos/empty.jpg", iter([])), ("photos/b.png", [b"\x89PNG"])])


def test_numbers_round_trip_through_the_reader() -> None:
    values = [0, 1, 0x7F, 0x80, 0x3FFF, 0x4000, 1 << 20, (1 << 56) - 1, 1 << 56, (1 << 64) - 1]
    buf = Buf(b"".join(number(v) for v in values))
    assert [buf.number() for _ in values] == values


def test_many_members_and_empty_files_read_back_by_7zip_and_mirror(tmp_path: Path) -> None:
    texts = _texts(3000)
    out = tmp_path / "a.7z"
    _write(out, texts)
    expected = {".mirror/SHA256SUMS": b"sums\n", ".mirror/empty": b"", **dict(texts),
                "photos/a.jpg": b"\xff\xd8" + bytes(range(256)) * 900 + b"tail", "photos/empty.jpg": b"",
                "photos/b.png": b"\x89PNG"}
    assert _contents(out) == expected
    assert _stock(out, tmp_path / "x") == expected
    with out.open("rb") as fp:
        archive = read_archive(fp, Limits())
    assert {c.method for f in archive.folders for c in f.chain} == {LZMA2, COPY}
    assert len(archive.folders) > 10  # the texts were cut into blocks
    assert all(f.unpack_size <= 1 << 16 for f in archive.folders[1:-1])
    assert [m.name for m in archive.members] == list(expected)  # the order they were given in
    assert all(m.unix_mode == stat.S_IFREG | 0o644 for m in archive.members)
    assert sum(not m.has_stream for m in archive.members) == sum(1 for d in expected.values() if not d)
    assert (tmp_path / "x/accounts/00001.md").stat().st_mode & 0o777 == 0o644


def test_parallel_blocks_give_the_same_bytes_as_one_thread(tmp_path: Path) -> None:
    texts = _texts(2000, seed=2)
    digests = set()
    for threads in (1, 2, 4):
        _write(tmp_path / f"{threads}.7z", texts, threads=threads)
        digests.add(hashlib.sha256((tmp_path / f"{threads}.7z").read_bytes()).hexdigest())
    assert len(digests) == 1


def test_a_member_longer_than_a_block_has_one_to_itself(tmp_path: Path) -> None:
    big = random.Random(3).randbytes(200_000)
    texts = [("a.txt", b"a"), ("big.bin", big), ("c.txt", b"c")]
    _write(tmp_path / "a.7z", texts, block_size=1 << 16)
    assert _contents(tmp_path / "a.7z")["big.bin"] == big


def test_copy_folders_carries_packed_blocks_byte_for_byte(tmp_path: Path) -> None:
    """A new archive from blocks of one made by stock 7-Zip (folders, BCJ) and new members."""
    tool = require_tool("7zz")
    src_dir = tmp_path / "src"
    for name, data in _texts(300):
        (src_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (src_dir / name).write_bytes(data)
    source = tmp_path / "source.7z"
    subprocess.run([tool, "a", "-mx5", "-ms=50f", "-mf=BCJ", str(source), "."], cwd=src_dir, check=True,
                   capture_output=True)
    out = tmp_path / "copy.7z"
    with source.open("rb") as src:
        archive = read_archive(src, Limits())
        assert len(archive.folders) > 2
        with ArchiveWriter.create(out) as writer:
            writer.copy_folders(src, archive, [0])
            writer.add_block([("new/endorsement.minisig", b"signature\n")])
            writer.copy_folders(src, archive, range(1, len(archive.folders)))
            writer.copy_empty(archive)
        packed = [_packed(src, f.pack_offset, f.pack_size) for f in archive.folders]
    with out.open("rb") as fp:
        copied = read_archive(fp, Limits())
        assert [_packed(fp, f.pack_offset, f.pack_size) for i, f in enumerate(copied.folders) if i != 1] == packed
    assert [f.chain for i, f in enumerate(copied.folders) if i != 1] == [f.chain for f in archive.folders]
    expected = {**_contents(source), "new/endorsement.minisig": b"signature\n"}
    assert _contents(out) == expected
    assert _stock(out, tmp_path / "x") == {k: v for k, v in expected.items() if v or not k.endswith("/")}
    with out.open("rb") as fp:
        names = {m.name: m.is_dir for m in read_archive(fp, Limits()).members}
    assert names["accounts"] is True  # 7-Zip's folder entry stays a folder entry


def _packed(fp: object, offset: int, size: int) -> bytes:
    fp.seek(offset)  # type: ignore[attr-defined]
    return fp.read(size)  # type: ignore[attr-defined,no-any-return]


def test_copy_folders_refuses_a_block_it_does_not_have(tmp_path: Path) -> None:
    _write(tmp_path / "a.7z", _texts(10))
    with (tmp_path / "a.7z").open("rb") as src:
        archive = read_archive(src, Limits())
        with ArchiveWriter.create(tmp_path / "b.7z") as writer, pytest.raises(ValueError, match="no block 99"):
            writer.copy_folders(src, archive, [99])


def test_names_spilled_to_a_temporary_file_read_back_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(headerwriter, "NAMES_IN_MEMORY", 1024)  # the real threshold is 16 MiB of names
    texts = [(f"accounts/{i:05d}-{'é' * (i % 7)}.md", b"x" * (i % 3)) for i in range(3000)]
    _write(tmp_path / "a.7z", texts)
    got = _contents(tmp_path / "a.7z")
    assert {n: got[n] for n, _ in texts} == dict(texts)
    assert len(_stock(tmp_path / "a.7z", tmp_path / "x")) == len(texts) + 5  # and the five _write adds


def test_a_block_holds_a_bounded_number_of_members(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny members cut blocks by count, not only by size: what a block in flight holds stays small."""
    monkeypatch.setattr(writer_module, "BLOCK_MEMBERS", 100)  # the real bound is 8192
    texts = [(f"a/{i:04d}.txt", b"%d\n" % i) for i in range(1000)]
    with ArchiveWriter.create(tmp_path / "a.7z", block_size=1 << 20) as writer:
        writer.add_texts(texts)
    with (tmp_path / "a.7z").open("rb") as fp:
        archive = read_archive(fp, Limits())
    per_block: dict[int | None, int] = {}
    for member in archive.members:
        per_block[member.folder] = per_block.get(member.folder, 0) + 1
    assert len(archive.folders) == 10 and set(per_block.values()) == {100}
    assert _contents(tmp_path / "a.7z") == dict(texts)


def test_copy_keeps_a_block_crc_and_does_not_repeat_it(tmp_path: Path) -> None:
    """A one-file block whose CRC the source declares on the block (as some writers do) is copied as declared."""
    _write(tmp_path / "a.7z", [("one.txt", b"only member\n")])
    with (tmp_path / "a.7z").open("rb") as src:
        archive = read_archive(src, Limits())
        single = archive.folders[1]
        crc = next(m.crc for m in archive.members if m.folder == 1)
        folders = FolderTable.of([archive.folders[0], replace(single, crc=crc), *archive.folders[2:]])
        archive = replace(archive, folders=folders)
        with ArchiveWriter.create(tmp_path / "b.7z") as writer:
            writer.copy_folders(src, archive, range(len(archive.folders)))
    with (tmp_path / "b.7z").open("rb") as fp:
        assert read_archive(fp, Limits()).folders[1].crc == crc
    assert _contents(tmp_path / "b.7z")["one.txt"] == b"only member\n"
    assert _stock(tmp_path / "b.7z", tmp_path / "x")["one.txt"] == b"only member\n"


def test_an_unknown_method_is_named_once() -> None:
    """An unknown coder id reads "unsupported method 0x7f01", never "method method 7f01"."""
    from mirror.errors import ArchiveError
    from mirror.sevenzip.model import Coder
    from mirror.sevenzip.reader import _lzma_filters

    assert Coder(b"\x7f\x01", b"").name == "0x7f01"
    with pytest.raises(ArchiveError) as raised:
        _lzma_filters((Coder(b"\x7f\x01", b""),))
    assert str(raised.value) == "unsupported method 0x7f01 in this archive"


@pytest.mark.parametrize(("method", "props", "said"), [
    ("copy", b"\x01", "stored (Copy) with properties, which 7-Zip does not read either"),
    ("lzma", b"\x5d\x00\x00\x01\x00\x00", "LZMA properties are 6 bytes, not the 5 7-Zip writes"),
    ("lzma2", b"\x41", "LZMA2 dictionary property is 65, over 40"),
])
def test_odd_properties_of_methods_mirror_reads_are_named(method: str, props: bytes, said: str) -> None:
    """Copy with properties was "repacked with Copy alone, which mirror does not read", and LZMA with six property
    bytes "unsupported method LZMA": both methods mirror reads (helper-149)."""
    from mirror.errors import ArchiveError
    from mirror.sevenzip.model import Coder
    from mirror.sevenzip.reader import COPY, LZMA1, LZMA2, _lzma_filters

    with pytest.raises(ArchiveError, match=re.escape(said)):
        _lzma_filters((Coder({"copy": COPY, "lzma": LZMA1, "lzma2": LZMA2}[method], props),))


def test_a_block_fed_member_by_member_packs_as_one_piece() -> None:
    """Blocks are compressed member by member (a large member is never copied into a buffer first): liblzma's
    output must not depend on where its input is cut, or the bytes would change with the member sizes."""
    import lzma

    rnd = random.Random(7)
    words = [rnd.randbytes(rnd.randint(2, 9)).hex() for _ in range(2000)]
    data = " ".join(rnd.choice(words) for _ in range(150_000)).encode()
    whole = lzma.compress(data, format=lzma.FORMAT_RAW, filters=[writer_module.TEXT_FILTER])
    for _ in range(4):
        cuts = sorted(rnd.sample(range(1, len(data)), rnd.randint(1, 400)))
        chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        assert b"".join(writer_module._compress(chunks)) + writer_module.END_MARKER == whole


def _words(n: int, seed: int) -> bytes:
    rnd = random.Random(seed)
    words = [rnd.randbytes(rnd.randint(2, 9)).hex() for _ in range(3000)]
    return " ".join(rnd.choice(words) for _ in range(n)).encode()


def _block(path: Path, folder: int) -> bytes:
    """The packed bytes of block `folder`."""
    with path.open("rb") as fp:
        found = read_archive(fp, Limits()).folders[folder]
        return _packed(fp, found.pack_offset, found.pack_size)


def test_a_long_block_is_compressed_in_pieces_that_read_as_one_stream(tmp_path: Path) -> None:
    """A block longer than block_size is several LZMA2 streams, each resetting the dictionary, then one end
    marker: stock 7-Zip and mirror's reader decode it as one member; the cuts depend on the sizes only."""
    big, small = _words(60_000, 4), _words(2_000, 5)
    size = 64 << 10
    made = {}
    for threads, cut in ((1, 1000), (3, 77_777), (2, 1 << 20)):
        path = tmp_path / f"{threads}.7z"
        with ArchiveWriter.create(path, threads=threads, block_size=size) as writer:
            writer.add_solid([("big.txt", (big[i : i + cut] for i in range(0, len(big), cut))),
                              ("empty.txt", iter([])), ("small.txt", [small])])
            writer.add_texts([("long.txt", big)])
        made[threads] = path.read_bytes()
        assert _contents(path) == {"big.txt": big, "empty.txt": b"", "small.txt": small, "long.txt": big}
    assert len(set(made.values())) == 1
    assert _stock(tmp_path / "1.7z", tmp_path / "x") == {"big.txt": big, "empty.txt": b"", "small.txt": small,
                                                           "long.txt": big}
    whole = big + small
    pieces = [whole[i : i + size] for i in range(0, len(whole), size)]
    expected = b"".join(b"".join(writer_module._compress([p])) for p in pieces) + writer_module.END_MARKER
    assert len(pieces) > 10
    assert _block(tmp_path / "1.7z", 0) == expected
    assert _block(tmp_path / "1.7z", 1) == b"".join(
        b"".join(writer_module._compress([big[i : i + size]])) for i in range(0, len(big), size)) + b"\x00"


def test_a_block_of_one_piece_is_one_lzma2_stream(tmp_path: Path) -> None:
    """Up to block_size, add_block writes exactly what one LZMA2 stream is (the golden bundle depends on it)."""
    data = _words(5_000, 6)
    path = tmp_path / "one.7z"
    with ArchiveWriter.create(path, block_size=len(data)) as writer:
        writer.add_block([("a.txt", data[:100]), ("b.txt", data[100:])])
    assert _block(path, 0) == lzma.compress(data, format=lzma.FORMAT_RAW, filters=[writer_module.TEXT_FILTER])


@pytest.mark.parametrize("size", [1, 7, 64])
def test_pieces_cut_at_the_same_places_however_the_input_comes(size: int) -> None:
    rnd = random.Random(size)
    data = rnd.randbytes(1000)
    for _ in range(50):
        cuts = sorted(rnd.sample(range(1, len(data)), rnd.randint(0, 60)))
        chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        pieces = [b"".join(bytes(c) for c in piece) for piece in writer_module._pieces(chunks, size)]
        assert pieces == [data[i : i + size] for i in range(0, len(data), size)]


def test_empty_members_keep_their_place_whatever_the_core_count(tmp_path: Path) -> None:
    """Empty members after a block that filled up are written after the blocks still being compressed."""
    members = [("a", b"x" * 100), ("b", b"y" * 3000), ("c", b""), ("d", b"z" * 50), ("e", b""), ("f", b""),
               ("g", b"w" * 2500), ("h", b"")]
    made = {}
    for threads in (1, 3):
        path = tmp_path / f"{threads}.7z"
        with ArchiveWriter.create(path, threads=threads, block_size=1000) as writer:
            writer.add_texts(members)
        made[threads] = path.read_bytes()
        with path.open("rb") as fp:
            assert [m.name for m in read_archive(fp, Limits()).members] == [name for name, _ in members]
    assert made[1] == made[3]


def test_a_buffer_the_caller_changes_later_is_stored_as_it_was(tmp_path: Path) -> None:
    """Members wait in a block until it is compressed: a reused bytearray must not change what is stored."""
    def reused() -> Iterator[tuple[str, bytes]]:
        buffer = bytearray(100)
        for i in range(5):
            buffer[:] = bytes([65 + i]) * 100
            yield f"m{i}", buffer  # type: ignore[misc]  # a caller breaking the bytes contract

    path = tmp_path / "reused.7z"
    with ArchiveWriter.create(path) as writer:
        writer.add_texts(reused())
    assert _contents(path) == {f"m{i}": bytes([65 + i]) * 100 for i in range(5)}


def _spooled(path: Path, members: list[tuple[str, bytes]], names: list[str], threads: int = 2,
             block_size: int = 1000) -> None:
    """`members` compressed ahead into a spool while other work goes on, then copied in after a first block."""
    texts = SpooledTexts(path.parent, threads, block_size)
    try:
        for name, data in members:
            texts.add(name, data)
        texts.finish()
        with ArchiveWriter.create(path, threads=threads, block_size=block_size) as writer:
            writer.add_block([(".mirror/SHA256SUMS", b"sums\n")])
            writer.add_spooled(texts, names)
    finally:
        texts.close()


@pytest.mark.parametrize("threads", [1, 3])
def test_texts_compressed_ahead_are_the_same_bytes_as_texts_written_in_place(tmp_path: Path, threads: int) -> None:
    """Empty members, a member longer than a block, blocks full by size and by count: the spool and the copy give
    the archive add_texts gives, which stock 7-Zip reads."""
    members = [("a", b"x" * 100), ("b", b"y" * 3000), ("c", b""), ("d", b"z" * 50), ("e", b""), ("f", b""),
               *_texts(300, seed=4), ("g", random.Random(5).randbytes(2500)), ("h", b"")]
    direct, ahead = tmp_path / "direct.7z", tmp_path / "ahead.7z"
    with ArchiveWriter.create(direct, threads=threads, block_size=1000) as writer:
        writer.add_block([(".mirror/SHA256SUMS", b"sums\n")])
        writer.add_texts(members)
    _spooled(ahead, members, [name for name, _ in members], threads)
    assert ahead.read_bytes() == direct.read_bytes()
    assert _stock(ahead, tmp_path / "x") == {".mirror/SHA256SUMS": b"sums\n", **dict(members)}


@pytest.mark.parametrize("change", ["renamed", "one less", "one more", "reordered"])
def test_spooled_texts_refuse_names_they_were_not_given(tmp_path: Path, change: str) -> None:
    members = _texts(50, seed=6)
    names = [name for name, _ in members]
    if change == "renamed":
        names[7] = "accounts/other.md"
    elif change == "one less":
        names.pop()
    elif change == "one more":
        names.append("accounts/more.md")
    else:
        names[3], names[4] = names[4], names[3]
    with pytest.raises(ValueError, match="not the names of the spooled texts"):
        _spooled(tmp_path / "a.7z", members, names)


@pytest.mark.parametrize(("total", "expected"), [
    (0, 4 << 20), ((2 << 20) - 1, 4 << 20),  # under SPLIT_AT: pieces of block_size (one, here)
    (2 << 20, 1 << 20), (3_000_001, 1_500_001),  # two halves, the first one byte longer when odd
    (8 << 20, 4 << 20), ((8 << 20) + 1, 2 << 20 | 1), (12_113_093, 3_028_274),  # as few as may be, an even count
    (40 << 20, 4 << 20), ((36 << 20) + 1, 3_774_874),
])
def test_piece_size_cuts_into_an_even_number_of_equal_pieces_from_split_at(total: int, expected: int) -> None:
    assert writer_module.piece_size(total, 4 << 20) == expected


def _streams(chunks: list[bytes]) -> bytes:
    return b"".join(b"".join(writer_module._compress([c])) for c in chunks)


def test_a_last_block_from_split_at_on_is_compressed_in_two_halves(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Two cores share the last block (create's accounts of a small collection): cut into two equal streams,
    read as one by stock 7-Zip and mirror; a block full before it is still one stream; the spool and the writer
    give the same bytes."""
    monkeypatch.setattr(writer_module, "SPLIT_AT", 20_000)
    size = 64 << 10
    members = [(f"a/{i:03d}.md", _words(300, i)) for i in range(200)]
    members = members[: next(i for i in range(len(members)) if sum(len(d) for _, d in members[:i]) > size * 3 // 2)]
    # one block full before the last (it would overflow), then the last: half a block, from SPLIT_AT on
    path, ahead = tmp_path / "a.7z", tmp_path / "ahead.7z"
    with ArchiveWriter.create(path, threads=2, block_size=size) as writer:
        writer.add_texts(members)
    _spooled(ahead, members, [name for name, _ in members], threads=2, block_size=size)
    with path.open("rb") as fp:
        assert len(read_archive(fp, Limits()).folders) == 2
    first = b"".join(data for _, data in members[: _count(members, size)])
    rest = b"".join(data for _, data in members)[len(first):]
    assert len(first) > size // 2 and 20_000 <= len(rest) <= size
    half = -(-len(rest) // 2)
    assert _block(path, 0) == _streams([first]) + writer_module.END_MARKER
    assert _block(path, 1) == _streams([rest[:half], rest[half:]]) + writer_module.END_MARKER
    assert [_block(ahead, 1), _block(ahead, 2)] == [_block(path, 0), _block(path, 1)]  # after the spool's first block
    assert _stock(path, tmp_path / "x") == dict(members)


def _count(members: list[tuple[str, bytes]], size: int) -> int:
    """How many members the first block of `size` takes (TextBlocks: it is sent before it would overflow)."""
    total = 0
    for index, (_, data) in enumerate(members):
        if total and total + len(data) > size:
            return index
        total += len(data)
    return len(members)


def test_a_solid_block_is_cut_into_pieces_of_the_size_asked(tmp_path: Path) -> None:
    """split and join cut the page as create does (PAGE_PIECE), whatever the archive's block size."""
    page, size = _words(9_000, 9), 64 << 10
    assert size < len(page) < 2 * size
    for told in (None, 20_000):
        path = tmp_path / f"{told}.7z"
        with ArchiveWriter.create(path, threads=2, block_size=size) as writer:
            writer.add_solid([("index.html", (page[i : i + 777] for i in range(0, len(page), 777)))], piece=told)
        cut = told or size
        expected = [page[i : i + cut] for i in range(0, len(page), cut)]
        assert _block(path, 0) == _streams(expected) + writer_module.END_MARKER
        assert _stock(path, tmp_path / f"x{told}") == {"index.html": page}


def test_a_block_made_ahead_in_a_file_of_its_own_is_copied_in_as_add_solid_writes_it(tmp_path: Path) -> None:
    """create's page: compressed while it is rendered, before the block that comes first in the archive exists."""
    page, size = _words(30_000, 11), 40_000
    members = [("empty-first.txt", b""), ("index.html", page), ("empty-last.txt", b"")]
    direct, ahead = tmp_path / "direct.7z", tmp_path / "ahead.7z"
    with ArchiveWriter.create(direct, threads=2, block_size=size) as writer:
        writer.add_block([(".mirror/SHA256SUMS", b"sums\n")])
        writer.add_solid([(name, [data[i : i + 999] for i in range(0, len(data), 999)]) for name, data in members])
    with (tmp_path / "spool").open("w+b") as spool:
        block = writer_module.SolidBlock(spool, threads=3, piece=size)
        seen: list[int] = []
        try:
            for name, data in members:
                assert block.add(name, iter([data[:5], bytearray(data[5:])])) == len(data)
            with ArchiveWriter.create(ahead, threads=2, block_size=size) as writer:
                writer.add_block([(".mirror/SHA256SUMS", b"sums\n")])
                with pytest.raises(ValueError, match="not finished"):
                    writer.add_spooled_block(block)
                block.finish()
                writer.add_spooled_block(block, seen.append)
        finally:
            block.close()
    assert seen == [0, len(page), 0]
    assert ahead.read_bytes() == direct.read_bytes()
    assert _block(ahead, 1) == _streams([page[i : i + size] for i in range(0, len(page), size)]) + b"\x00"
    assert _stock(ahead, tmp_path / "x") == {".mirror/SHA256SUMS": b"sums\n", **dict(members)}


def test_a_block_made_ahead_of_empty_members_only_has_no_data(tmp_path: Path) -> None:
    with (tmp_path / "spool").open("w+b") as spool:
        block = writer_module.SolidBlock(spool, threads=2, piece=1000)
        block.add("a", [])
        block.add("b", [b""])
        block.finish()
        block.close()
        assert (block.packed, block.unpacked, spool.tell()) == (0, 0, 0)
        with ArchiveWriter.create(tmp_path / "a.7z") as writer:
            writer.add_spooled_block(block)
    assert _contents(tmp_path / "a.7z") == {"a": b"", "b": b""}
    with (tmp_path / "a.7z").open("rb") as fp:
        assert len(read_archive(fp, Limits()).folders) == 0


def test_a_block_made_ahead_refuses_what_would_spoil_it(tmp_path: Path) -> None:
    """Fed or finished again after finish, or finished after close (pieces dropped): refused, never a block that
    7-Zip reads as damaged. A block made after other data in its file is copied from where it starts."""
    with (tmp_path / "spool").open("w+b") as spool:
        spool.write(b"other data first")
        block = writer_module.SolidBlock(spool, threads=2, piece=1000)
        try:
            block.add("a.txt", [_words(500, 1)])
            block.finish()
            with pytest.raises(ValueError, match="already finished"):
                block.add("b.txt", [b"late"])
            with pytest.raises(ValueError, match="already finished"):
                block.finish()
        finally:
            block.close()
        with ArchiveWriter.create(tmp_path / "a.7z") as writer:
            writer.add_spooled_block(block)
        closed = writer_module.SolidBlock(spool, threads=2, piece=1000)
        closed.add("c.txt", [_words(500, 2)])
        closed.close()
        with pytest.raises(ValueError, match="was closed"):
            closed.finish()
        assert not closed.finished
    assert _stock(tmp_path / "a.7z", tmp_path / "x") == {"a.txt": _words(500, 1)}
