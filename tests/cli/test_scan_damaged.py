"""`mirror scan` of a damaged 7z: one bad member or block never hides what the others hold (helper-172)."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from forge import Coded, Entry, forge
from helpers import require_tool
from mirror.sevenzip import Limits, read_archive

PHONE = b"call +7 701 123 45 67\n"


def test_a_member_whose_crc_is_wrong_is_named_and_the_others_are_scanned(runner: CliRunner, tmp_path: Path) -> None:
    """A wrong CRC in the first member was "a 7z archive mirror cannot read" for the whole archive, and the phone
    number in the member after it was never seen. The damaged member is read as it is and named; findings win
    (6), and without any the result is INCOMPLETE (7), never CLEAN."""
    forge(tmp_path / "found.7z", [Entry("bad\x1b[2J.txt", b"hello\n", crc=1234), Entry("z.txt", PHONE)])
    code, out, _ = invoke(runner, "scan", tmp_path / "found.7z")
    assert code == 6 and "z.txt: phone: line 1:" in out, out
    assert "bad\\x1b[2J.txt: damaged: its data does not match the CRC" in out and "\x1b" not in out, out
    assert "INCOMPLETE: 1 file(s)" in out
    forge(tmp_path / "clean.7z", [Entry("bad.txt", b"hello\n", crc=1234), Entry("z.txt", b"hello\n")])
    code, out, _ = invoke(runner, "scan", "--json", tmp_path / "clean.7z")
    doc = json.loads(out)
    assert code == 7 and doc["verdict"] == "incomplete" and doc["scanned"] == 2, doc
    assert [e["path"] for e in doc["not_scanned"]] == ["bad.txt"], doc


def _texts(folder: Path, names: str, planted: str) -> None:
    rng = random.Random(1)
    folder.mkdir()
    for name in names:  # not compressible to nothing: each block is thousands of bytes to damage
        text = "".join(rng.choice("abcdefgh \n") for _ in range(20000))
        (folder / f"{name}.txt").write_text(text + ("\ncall +7 701 123 45 67\n" if name in planted else ""))


def _damage(archive: Path, block: int) -> None:
    with archive.open("rb") as fp:
        folder = read_archive(fp, Limits()).folders[block]
    data = bytearray(archive.read_bytes())
    for i in range(folder.pack_offset + 100, folder.pack_offset + 200):
        data[i] ^= 0x55
    archive.write_bytes(bytes(data))


def test_a_damaged_block_loses_its_own_members_only(runner: CliRunner, tmp_path: Path) -> None:
    """7-Zip's archive of three files, a block each, the second's compressed data damaged: the third file's phone
    number was lost with it. Now it is found, and the damaged file is named as read only in part."""
    sevenzip = require_tool("7zz")
    _texts(tmp_path / "t", "abc", "ac")
    archive = tmp_path / "three.7z"
    subprocess.run([sevenzip, "a", "-bso0", "-ms=off", archive, "a.txt", "b.txt", "c.txt"], cwd=tmp_path / "t",
                   check=True)
    _damage(archive, 1)
    code, out, _ = invoke(runner, "scan", archive)
    assert code == 6 and "a.txt: phone:" in out and "c.txt: phone:" in out, out
    assert "b.txt: read only in part: the archive is damaged there (compressed data is damaged)" in out, out


def test_the_members_after_damage_in_a_solid_block_are_each_named(runner: CliRunner, tmp_path: Path) -> None:
    """In one solid block, what follows the damage cannot be decoded: each such file is named as not read (the
    report named only the archive), and a later block is still read."""
    sevenzip = require_tool("7zz")
    _texts(tmp_path / "t", "abcde", "e")
    archive = tmp_path / "solid.7z"
    subprocess.run([sevenzip, "a", "-bso0", "-ms=3f", archive, "a.txt", "b.txt", "c.txt", "d.txt", "e.txt"],
                   cwd=tmp_path / "t", check=True)  # blocks of three files: a, b, c, then d, e
    _damage(archive, 0)
    code, out, _ = invoke(runner, "scan", archive)
    assert code == 6 and "e.txt: phone:" in out, out
    lost = [line for line in out.splitlines() if "damaged" in line]
    assert len(lost) == 3 and "a.txt: read only in part" in lost[0], out
    assert all(f"{n}.txt: not read: the archive is damaged before it" in out for n in "bc"), out


def test_thousands_of_lost_members_are_counted_not_printed(runner: CliRunner, tmp_path: Path) -> None:
    """A forged block whose data ends after its first byte, of 5,000 members (the first read whole): each other
    is counted, the first hundred printed, then how many more (the report printed up to a thousand lines)."""
    entries = [Entry(f"d/{i:05d}.txt", b"x") for i in range(5000)]
    forge(tmp_path / "cut.7z", entries, coded=Coded(b"x", b"\x00", b""))
    code, out, _ = invoke(runner, "scan", tmp_path / "cut.7z")
    assert code == 7 and "INCOMPLETE: 4999 file(s)" in out, out
    assert len(out.splitlines()) < 110 and "... and 4,899 more not listed here" in out, out
    assert "d/00002.txt: not read: the archive is damaged before it, in its block (archive is truncated" in out


def test_a_name_that_is_not_utf16_loses_no_other_file(runner: CliRunner, tmp_path: Path) -> None:
    """An unpaired surrogate in one name (NTFS allows one) made the whole 7z "a file name is not valid UTF-16",
    and no file in it was scanned. Scan only shows names: that one is read with U+FFFD in its place, and its
    data, its name's phone number and the other files are scanned. Reading a bundle still refuses it."""
    from mirror.errors import ArchiveError

    archive = forge(tmp_path / "odd.7z", [Entry("bad\udc80 87011234567.txt", b"hello\n"), Entry("z.txt", PHONE)])
    code, out, _ = invoke(runner, "scan", archive)
    assert code == 6 and "z.txt: phone: line 1:" in out, out
    assert "bad\\U000f0480 87011234567.txt: phone: name:" in out, out
    with archive.open("rb") as fp, pytest.raises(ArchiveError, match="not valid UTF-16"):
        read_archive(fp, Limits())


def test_data_past_a_blocks_last_file_is_said_as_not_read(runner: CliRunner, tmp_path: Path) -> None:
    """A block that holds bytes after its last file (where a forger can hide a text no scan reads): its files are
    scanned, and the rest of the block is listed as not read (the whole archive was "cannot read")."""
    from forge import lzma2

    texts = [Entry("a.txt", b"hello\n"), Entry("z.txt", PHONE)]
    archive = forge(tmp_path / "extra.7z", texts, coded=lzma2(b"hello\n" + PHONE + b"HIDDEN 87011234567"))
    code, out, _ = invoke(runner, "scan", archive)
    assert code == 6 and "z.txt: phone: line 1:" in out, out
    assert "block 1 of the archive: not read to its end: compressed block holds more data than it declares" in out


def test_two_names_not_utf16_stay_apart(runner: CliRunner, tmp_path: Path) -> None:
    """Read with U+FFFD in place of a lone surrogate, "a<U+DC80>.txt" and "a<U+DC81>.txt" were both shown as
    "a\ufffd.txt" (helper-177): the phone number in one was said of a name two files share, and a courier could
    not tell which to check. Each is now a private-use character of its own (U+F0480, U+F0481), which the report
    escapes, so no two names differ only unseen."""
    archive = forge(tmp_path / "two.7z", [Entry("a\udc80.txt", b"hello\n"), Entry("a\udc81.txt", PHONE),
                                          Entry("a\ufffd.txt", b"world\n")])
    code, out, _ = invoke(runner, "scan", "--json", archive)
    found = {f["path"] for f in json.loads(out)["findings"] if f["kind"] == "phone"}
    assert code == 6 and found == {"a\U000f0481.txt"}, out
    code, out, _ = invoke(runner, "scan", archive)
    assert "a\\U000f0481.txt: phone: line 1:" in out, out
