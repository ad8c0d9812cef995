"""mirror reads a 7z header as 7-Zip does, or refuses it: where the two read one header differently, a bundle
mirror calls VERIFIED extracts with stock 7-Zip under names and file types nobody signed, and where mirror reads
past what 7-Zip reads, unsigned bytes ride along in a verified file."""

from __future__ import annotations

import io
import lzma
import stat
import struct
from pathlib import Path

import pytest

from forge import Coded, Entry, file_attributes, forge, forge_bytes, number
from helpers import require_tool, run
from mirror.errors import ArchiveError, UnreadableContainer
from mirror.sevenzip import read_archive
from mirror.sevenzip.model import Limits
from mirror.sevenzip.reader import iter_members

LINK = file_attributes(stat.S_IFLNK | 0o777)


def _read(data: bytes) -> list[tuple[str, int, bytes]]:
    """Each member's name, attributes and data, as mirror reads them."""
    fp = io.BytesIO(data)
    archive = read_archive(fp, Limits())
    return [(member.name, member.attributes or 0, b"".join(chunks)) for member, chunks in iter_members(fp, archive)]


def test_a_property_id_is_a_number_as_7zip_reads_it(tmp_path: Path) -> None:
    """0x80 0x15 is the number 0x15 (attributes) to 7-Zip; mirror read the byte 0x80 as an unknown property of
    0x15 bytes and passed over them, so 7-Zip extracted a link where mirror saw a plain file."""
    path = forge(tmp_path / "a.7z", [Entry("index.html", b"<p>hello</p>", attributes=LINK)],
                 attributes_id=b"\x80\x15")
    listed = run(require_tool("7zz"), "l", "-slt", path).stdout
    assert "Attributes = A lrwxrwxrwx" in listed, listed  # 7-Zip's reading
    [(name, attributes, data)] = _read(path.read_bytes())
    assert (name, attributes, data) == ("index.html", LINK, b"<p>hello</p>")  # mirror's: the same


@pytest.mark.parametrize("prop", [
    b"\x30\x03abc",  # an id 7-Zip defines no property for, which it passes over
    b"\x16\x03abc",  # kComment: not a file property 7-Zip reads either
    b"\x81\x00\x01\x00",  # a two-byte id
])
def test_a_file_property_7zip_does_not_write_is_refused(prop: bytes) -> None:
    """Its bytes would ride along in the header, read by neither mirror nor 7-Zip, and signed by nobody."""
    with pytest.raises(ArchiveError, match="file property 7-Zip does not write"):
        _read(forge_bytes([Entry("a.md", b"text")], extra_properties=prop))


def _times(defined: bytes, values: bytes, external: bytes = b"\x00") -> bytes:
    body = defined + external + values
    return b"\x14" + number(len(body)) + body


def test_file_times_are_read_whole_and_nothing_more() -> None:
    """Modification times (kMTime), as `7zz a -mtm` writes them, pass; bytes after the values, a value cut
    short or times kept elsewhere (external) are what 7-Zip calls broken headers."""
    stamp = struct.pack("<Q", 133_000_000_000_000_000)
    assert _read(forge_bytes([Entry("a.md", b"text")], extra_properties=_times(b"\x01", stamp)))[0][2] == b"text"
    for broken in (_times(b"\x01", stamp + b"\x00" * 6), _times(b"\x01", stamp[:5]),
                   _times(b"\x01", stamp, external=b"\x01")):
        with pytest.raises(ArchiveError):
            _read(forge_bytes([Entry("a.md", b"text")], extra_properties=broken))


def test_bytes_left_in_a_file_property_are_refused() -> None:
    """kEmptyStream with six bytes after its bits: 7-Zip says "Headers Error"; mirror read it as good."""
    body = b"\x00" + b"\x00" * 6
    with pytest.raises(ArchiveError, match="has 6 bytes more than its values"):
        _read(forge_bytes([Entry("a.md", b"text")], extra_properties=b"\x0e" + number(len(body)) + body))


@pytest.mark.parametrize("encoded", [0, 1])
def test_bytes_after_the_header_end_are_refused(encoded: int) -> None:
    """After the header's end marker, plain or in the decoded header: a zip's central directory there made a
    file that verified as a bundle and listed as a zip (a polyglot); 7-Zip calls it a header error."""
    riding = b"PK\x05\x06" + b"\x00" * 18
    data = forge_bytes([Entry("a.md", b"text")], encode_header=encoded, after_header=riding)
    with pytest.raises(ArchiveError, match="22 bytes after its end"):
        _read(data)
    assert _read(forge_bytes([Entry("a.md", b"text")], encode_header=encoded))[0][2] == b"text"


def test_a_header_encoded_twice_is_refused(tmp_path: Path) -> None:
    """7-Zip opens a header encoded once and calls one encoded again broken; mirror read four levels."""
    twice = forge(tmp_path / "twice.7z", [Entry("a.md", b"text")], encode_header=2)
    assert run(require_tool("7zz"), "t", twice, check=False).returncode != 0
    with pytest.raises(ArchiveError, match="encoded twice"):
        _read(twice.read_bytes())
    assert _read(forge_bytes([Entry("a.md", b"text")], encode_header=1))[0][2] == b"text"


def test_an_lzma_dictionary_liblzma_would_round_up_is_not_read(tmp_path: Path) -> None:
    """LZMA (version 1) declares its dictionary in bytes. liblzma rounds it up to a multiple of 16, 7-Zip keeps it:
    a stream that reaches just past a dictionary of 4,097 bytes decoded here and was "Data Error" to 7-Zip. Such a
    copy is not checked, as other repacks mirror does not read; 7-Zip's own sizes (2^n, 3 * 2^n) are read."""
    text = bytes(range(256)) * 64  # 16 KiB: matches 4,096 bytes back
    for declared, readable in ((4097, False), (4096, True), (3 << 12, True)):
        packed = lzma.compress(text, format=lzma.FORMAT_RAW,
                               filters=[{"id": lzma.FILTER_LZMA1, "dict_size": max(declared, 4096)}])
        props = bytes([3 + 9 * 0 + 45 * 2]) + struct.pack("<I", declared)  # lc=3, lp=0, pb=2
        data = forge_bytes([Entry("a.md", text)], coded=Coded(packed, b"\x03\x01\x01", props))
        if readable:
            assert _read(data)[0][2] == text
        else:
            with pytest.raises(UnreadableContainer, match="4,097 bytes, not a multiple of 16"):
                _read(data)


def test_py7zrs_block_of_no_file_for_folders_alone_is_read(tmp_path: Path) -> None:
    """py7zr packs a folder that holds only folders with a block of no file, of one byte (LZMA2's end marker):
    nothing can ride in it, and 7-Zip reads it (helper-134); more than a byte stays refused."""
    import py7zr

    (tmp_path / "src" / "empty" / "deeper").mkdir(parents=True)
    with py7zr.SevenZipFile(tmp_path / "folders.7z", "w") as archive:
        archive.writeall(tmp_path / "src", arcname="src")
    assert run(require_tool("7zz"), "t", tmp_path / "folders.7z", check=False).returncode == 0
    archive_read = read_archive(io.BytesIO((tmp_path / "folders.7z").read_bytes()), Limits())
    assert sorted(m.name for m in archive_read.members) == ["src", "src/empty", "src/empty/deeper"]
