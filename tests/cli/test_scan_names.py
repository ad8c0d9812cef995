"""`mirror scan` of a 7z whose names block holds an odd name: only what that name costs is lost, never the scan of
every other member; `verify` still refuses such an archive exactly as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from forge import Entry, forge
from mirror.errors import ArchiveError
from mirror.formats.names import MAX_NAME_BYTES
from mirror.sevenzip import Limits, read_archive
from mirror.sevenzip.header import SHOWN_NAME

PHONE = b"call +7 701 123 45 67\n"
SLICE = 1 << 20  # header.py reads the names block a slice of this many bytes at a time


def _fillers(count: int, length: int) -> list[Entry]:
    return [Entry(f"accounts/{i:04}".ljust(length, "x") + ".md", b"nothing here\n") for i in range(count)]


def _crossing(long: int) -> list[Entry]:
    """Names of 900 characters up to just before the names block's first 1 MiB slice ends, then one of `long`
    characters that crosses it, then a text with a phone number."""
    count = (SLICE - 4000) // ((900 + 3 + 1) * 2)
    used = 1 + count * (900 + 3 + 1) * 2  # the "external" byte, then each name in UTF-16 with its NUL
    assert used < SLICE < used + 2 * long
    return [*_fillers(count, 900), Entry("accounts/" + "y" * long + ".md", b"hello\n"), Entry("z.txt", PHONE)]


def _read(path: Path, shown: bool) -> str | None:
    """read_archive's error of `path`, or None."""
    try:
        with path.open("rb") as fp:
            read_archive(fp, Limits(shown_names=shown))
    except ArchiveError as exc:
        return str(exc)
    return None


def test_a_long_name_across_a_slice_of_the_names_loses_nothing(runner: CliRunner, tmp_path: Path) -> None:
    """A name longer than MAX_NAME_BYTES that crossed the names block's 1 MiB slice was "a 7z archive mirror
    cannot read: a file name is longer than 1,024 bytes" (exit 7), the phone number after it never seen, while the
    same name within a slice was read. Now it is read where it lies; verify refuses it as before."""
    archive = tmp_path / "long.7z"
    forge(archive, _crossing(3 * MAX_NAME_BYTES))
    code, out, _ = invoke(runner, "scan", "--json", archive)
    doc = json.loads(out)
    assert code == 6 and doc["not_scanned"] == [], doc
    assert any(f["path"] == "z.txt" and f["kind"] == "phone" for f in doc["findings"]), doc
    assert _read(archive, False) == f"a file name is longer than {MAX_NAME_BYTES:,} bytes, more than mirror allows"
    code, _, err = invoke(runner, "verify", archive)
    assert code != 0 and "longer than 1,024 bytes" in err, err


def test_a_name_longer_than_scan_keeps_costs_only_its_member(runner: CliRunner, tmp_path: Path) -> None:
    """A name of more characters than scan keeps (SHOWN_NAME), across slices, is cut: that member alone is "not
    read" (its suffix is lost); the phone number after it is found."""
    archive = tmp_path / "longer.7z"
    forge(archive, [Entry("a.txt", b"hello\n"), Entry("b" * (SHOWN_NAME + 10) + ".jpg", b"\xff\xd8\xff"),
                    Entry("z.txt", PHONE)])
    code, out, _ = invoke(runner, "scan", "--json", archive)
    doc = json.loads(out)
    assert code == 6 and any(f["path"] == "z.txt" and f["kind"] == "phone" for f in doc["findings"]), doc
    assert [(e["path"][:3], e["path"][-4:]) for e in doc["not_scanned"]] == [("bbb", "b...")], doc
    assert "gives only the start of its name" in doc["not_scanned"][0]["reason"], doc
    assert doc["scanned"] == 2, doc
    assert _read(archive, False) is not None


@pytest.mark.parametrize("odd", ["photos/a\x00b.jpg", "a\x00\x00b.txt"])
def test_a_nul_inside_a_name_costs_only_the_names(runner: CliRunner, tmp_path: Path, odd: str) -> None:
    """A NUL inside a name (more names than files) was "file names do not match the file count" for the whole
    archive (exit 7). Now every member is still read, named in order as 7-Zip names them, the names left over
    are scanned as names, and the names are said to be unsure; verify refuses it as before."""
    archive = tmp_path / "nul.7z"
    forge(archive, [Entry("a.txt", b"hello\n"), Entry(odd, b"hello\n"), Entry("c.txt", b"hello\n"),
                    Entry("z.txt", PHONE), Entry("+77011234567.txt", b"hello\n")])
    code, out, _ = invoke(runner, "scan", "--json", archive)
    doc = json.loads(out)
    assert code == 6, doc
    assert any(f["kind"] == "phone" and f["detail"].startswith("line 1") for f in doc["findings"]), doc
    assert any(f["path"] == "+77011234567.txt" for f in doc["findings"]), doc  # a name left over, scanned
    assert doc["not_scanned"][0]["path"] == "the archive's file names", doc
    assert "a NUL inside a name" in doc["not_scanned"][0]["reason"], doc
    # each member's data is read, under the name 7-Zip gives it: "hello" named b.jpg is said to be no JPEG
    assert doc["scanned"] + len(doc["not_scanned"]) - 1 == 5, doc
    assert _read(archive, False) == "file names do not match the file count (a NUL inside a name?)"
    code, _, err = invoke(runner, "verify", archive)
    assert code != 0 and "NUL inside a name" in err, err


def test_names_that_run_out_before_the_files_cost_only_those_files(tmp_path: Path) -> None:
    """A names block with fewer names than files: the unnamed files are said as not read, by number."""
    from mirror.privacy.scan_paths import scan_path

    archive = tmp_path / "few.7z"
    forge(archive, [Entry("a.txt", PHONE), Entry("b.txt", b"hello\n")])
    data = bytearray(archive.read_bytes())
    named = "a.txt\0b.txt\0".encode("utf-16-le")
    at = data.index(named)
    data[at:at + len(named)] = "a.txt\0bbtxt.".encode("utf-16-le")  # no NUL after the second name
    archive.write_bytes(_fix_crc(bytes(data)))
    report = scan_path(archive)
    assert [f.path for f in report.findings] == ["a.txt"], report
    assert report.not_scanned == [("bbtxt....", "not read: the archive gives only the start of its name (one "
                                                f"longer than {SHOWN_NAME:,} characters, or one no NUL ends), so "
                                                "what it is cannot be told")], report.not_scanned
    data[at:at + len(named)] = "a.txt.bbtxt.".encode("utf-16-le")  # no NUL at all: one name begun, none for b
    archive.write_bytes(_fix_crc(bytes(data)))
    report = scan_path(archive)
    assert [name for name, _ in report.not_scanned] == ["a.txt.bbtxt....", "file 2 of the archive"], report
    assert report.not_scanned[1][1] == "not read: the archive gives no name for it", report


def _fix_crc(data: bytes) -> bytes:
    """A 7z with its end header's CRC, in the start header, set to what the end header now holds."""
    import struct
    import zlib

    offset, size = struct.unpack_from("<QQ", data, 12)
    header = data[32 + offset:32 + offset + size]
    start = struct.pack("<QQI", offset, size, zlib.crc32(header))
    return data[:8] + struct.pack("<I", zlib.crc32(start)) + start + data[32:]


def test_names_past_the_file_count_are_kept_only_so_far() -> None:
    """A names block of countless NULs for one file keeps MAX_EXTRA_NAMES names past it, then one mark: memory
    and the scan of names left over stay bounded."""
    from mirror.sevenzip.header import CUT, MAX_EXTRA_NAMES, Buf, _read_names

    raw = b"\0" + "a\0".encode("utf-16-le") * (MAX_EXTRA_NAMES * 5)
    names = _read_names(Buf(raw), len(raw), 1, shown=True)
    assert len(names) == 1 + MAX_EXTRA_NAMES + 1 and names.name(len(names) - 1) == CUT
    raw = b"\0" + "a\0".encode("utf-16-le") * (1 + MAX_EXTRA_NAMES)
    names = _read_names(Buf(raw), len(raw), 1, shown=True)
    assert len(names) == 1 + MAX_EXTRA_NAMES and CUT not in names.name(len(names) - 1)
