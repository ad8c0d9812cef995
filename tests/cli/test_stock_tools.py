"""Bundles open in stock 7-Zip, verify with stock minisign and sha256sum, and survive repacking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from helpers import AUTHOR, META, SIG, SUMS, make_jpeg, require_tool, run, sevenzip_extract, sevenzip_rebuild
from mirror.bundle.create import CreateRequest, create_bundle
from mirror.trust.keyring import Keyring
from mirror.trust.keys import SecretKey


def test_stock_7zip_tests_and_lists_only_lzma2_and_copy(bundle: Path) -> None:
    """`7zz t` passes; `7zz l -slt` shows LZMA2 and Copy only, regular files with mode 0644."""
    sevenzz = require_tool("7zz")
    assert "Everything is Ok" in run(sevenzz, "t", bundle).stdout
    listing = run(sevenzz, "l", "-slt", bundle).stdout
    entries = listing.split("\n\n")
    methods = {word.split(":")[0] for line in listing.splitlines() if line.startswith("Method = ")
               for word in line.split(" = ", 1)[1].split()}
    assert methods == {"LZMA2", "Copy"}, methods
    attributes = [line for line in listing.splitlines() if line.startswith("Attributes = ")]
    assert attributes and all(a == "Attributes = A -rw-r--r--" for a in attributes), attributes
    first_block = [e for e in entries if "Block = 0" in e]
    names = {line.split(" = ", 1)[1] for e in first_block for line in e.splitlines() if line.startswith("Path = ")}
    assert names == {SUMS, SIG, AUTHOR, META}


def test_stock_minisign_and_sha256sum_verify_an_extraction(bundle: Path, keyring: Keyring, tmp_path: Path) -> None:
    """The by-hand path of docs/verify-by-hand.md works with the real programs, from the extracted folder."""
    minisign = require_tool("minisign")
    folder = sevenzip_extract(bundle, tmp_path / "x")
    key = tmp_path / "alice.pub"
    key.write_text(keyring.get("alice").public.to_text())
    result = run(minisign, "-Vm", SUMS, "-p", key, cwd=folder)
    assert "Signature and comment signature verified" in result.stdout
    assert "Trusted comment: bundle:" in result.stdout and "\trole:author" in result.stdout
    checked = run(require_tool("sha256sum"), "-c", SUMS, cwd=folder)
    assert checked.stdout.count(": OK") == 7 and "index.html: OK" in checked.stdout


def test_stock_minisign_rejects_a_changed_list(bundle: Path, keyring: Keyring, tmp_path: Path) -> None:
    """The signature really covers SHA256SUMS: one changed byte and minisign refuses."""
    minisign = require_tool("minisign")
    folder = sevenzip_extract(bundle, tmp_path / "x")
    sums = folder / SUMS
    sums.write_bytes(sums.read_bytes().replace(b"a", b"b", 1))
    key = tmp_path / "alice.pub"
    key.write_text(keyring.get("alice").public.to_text())
    assert run(minisign, "-Vm", SUMS, "-p", key, cwd=folder, check=False).returncode != 0


@pytest.mark.parametrize("options", [("-mx9",), ("-mx1", "-ms=off"), ("-m0=LZMA",), ("-mhc=off", "-m0=Copy"),
                                     ("-m0=Delta:4", "-m1=LZMA2")])
def test_verifier_accepts_a_bundle_repacked_by_stock_7zip(options: tuple[str, ...], bundle: Path,
                                                          keyring: Keyring, tmp_path: Path,
                                                          runner: CliRunner) -> None:
    """Trust comes from the signed list, not the container: any honest repack verifies."""
    folder = sevenzip_extract(bundle, tmp_path / "x")
    repacked = sevenzip_rebuild(folder, tmp_path / "repacked.7z", *options)
    code, out, err = invoke(runner, "verify", repacked)
    assert code == 0, err
    assert out.startswith("VERIFIED")
    with_dirs = tmp_path / "with-dirs.7z"  # 7-Zip adds folder entries when given a folder
    run(require_tool("7zz"), "a", "-bso0", *options, with_dirs, ".", cwd=folder)
    assert invoke(runner, "verify", with_dirs)[0] == 0


@pytest.mark.parametrize(("options", "method"), [
    (("-m0=BCJ2", "-m1=LZMA", "-m2=LZMA", "-m3=LZMA", "-mb0s0:1", "-mb0s1:2", "-mb0s2:3"), "BCJ2"),
    (("-m0=ARM64", "-m1=LZMA2"), "ARM64"), (("-m0=ARM", "-m1=LZMA2"), "ARM"), (("-m0=PPMd",), "PPMd"),
    (("-m0=BZip2",), "BZip2"), (("-m0=LZMA2", "-m1=LZMA2"), "the chain LZMA2 + LZMA2"),
    (("-m0=LZMA2", "-m1=Copy"), "the chain Copy + LZMA2"), (("-m0=Copy", "-m1=LZMA2"), "the chain LZMA2 + Copy")])
def test_a_repack_with_a_method_mirror_does_not_read_is_named(options: tuple[str, ...], method: str, bundle: Path,
                                                               tmp_path: Path, runner: CliRunner) -> None:
    """Not checked (exit 3), with the method's 7-Zip name and how to get a copy mirror reads."""
    folder = sevenzip_extract(bundle, tmp_path / "x")
    repacked = sevenzip_rebuild(folder, tmp_path / "repacked.7z", *options)
    code, out, err = invoke(runner, "verify", repacked)
    assert code == 3 and out.startswith("NOT CHECKED"), (out, err)
    assert f"repacked with {method}, which mirror does not read" in out and "7z a -m0=lzma2" in err


DOCS = Path(__file__).resolve().parents[2] / "docs"


def _extra_files_command(guide: Path) -> str:
    """The bash block of a by-hand guide that lists files present but not in SHA256SUMS."""
    text = guide.read_text(encoding="utf-8")
    blocks = text.split("```\n")[1::2]
    return next(b for b in blocks if "comm -23" in b)


@pytest.mark.parametrize("guide", ["verify-by-hand.md", "verify-by-hand.ru.md", "verify-by-hand.kk.md"])
def test_the_guides_extra_files_check_skips_only_endorsements(guide: str, bundle: Path, keyring: Keyring,
                                                              tmp_path: Path, runner: CliRunner) -> None:
    """On an endorsed bundle the guide's command prints nothing; anything else under .mirror/endorsements/ (a note,
    a lower-case or longer name, a file in a subfolder) is printed as extra."""
    bash = require_tool("bash")
    keyring.create("bob", None)
    endorsed = tmp_path / "endorsed.7z"
    code, _, err = invoke(runner, "endorse", bundle, "--key", "bob", "--claim", "knows-author", "-o", endorsed)
    assert code == 0, err
    folder = sevenzip_extract(endorsed, tmp_path / "x")
    command = _extra_files_command(DOCS / guide)
    assert run(bash, "-c", command, cwd=folder).stdout == ""
    notes = folder / ".mirror" / "endorsements"
    extra = ["notes.txt", "0123456789abcdef.minisig", "0123456789ABCDEF0.minisig", "0123456789ABCDEF.minisig.d/x"]
    for name in extra:
        (notes / name).parent.mkdir(exist_ok=True)
        (notes / name).write_bytes(b"x")
    printed = run(bash, "-c", command, cwd=folder).stdout.splitlines()
    assert printed == sorted(f".mirror/endorsements/{name}" for name in extra)


@pytest.mark.parametrize("guide", ["verify-by-hand.md", "verify-by-hand.ru.md", "verify-by-hand.kk.md"])
def test_the_guides_find_a_name_with_a_line_break(guide: str, bundle: Path, tmp_path: Path) -> None:
    """A member named "photos/A.jpg\nphotos/B.jpg" (two signed names) passed the guides' comm check, since find
    printed it as those two names: a forged file under a name the author signed (helper-158). The guides' second
    command prints it."""
    bash = require_tool("bash")
    folder = sevenzip_extract(bundle, tmp_path / "x")
    signed = [line[66:] for line in (folder / SUMS).read_text().splitlines()]
    photos = [name for name in signed if name.startswith("photos/")]
    for name in photos[:2]:  # a part without them (with them, comm prints the second copies of their names)
        (folder / name).unlink()
    forged = folder / f"{photos[0]}\n{photos[1]}"
    forged.parent.mkdir(parents=True)
    forged.write_bytes(b"not the author's")
    text = (DOCS / guide).read_text(encoding="utf-8")
    blocks = text.split("```\n")[1::2]
    assert run(bash, "-c", _extra_files_command(DOCS / guide), cwd=folder).stdout == ""  # why it is needed, in a part
    command = next(b for b in blocks if "[[:cntrl:]]" in b)
    assert run(bash, "-c", command, cwd=folder).stdout != ""
    forged.unlink()
    forged.parent.rmdir()
    assert run(bash, "-c", command, cwd=folder).stdout == ""


@pytest.mark.parametrize("guide", ["verify-by-hand.md", "verify-by-hand.ru.md", "verify-by-hand.kk.md"])
def test_the_guides_part_section_checks_a_part_and_all_parts(guide: str, sources: Path, secret: SecretKey,
                                                               tmp_path: Path, runner: CliRunner) -> None:
    """The guides had no word on parts: followed literally on a part made by split, sha256sum -c failed on the
    files in the other parts and the extra-files check named .mirror/part.json. Their commands for a part pass on
    each part; every part extracted into one folder with 7zz x -aos passes the whole check."""
    import re

    bash = require_tool("bash")
    text = (DOCS / guide).read_text(encoding="utf-8")
    (check,) = set(re.findall(r"`(sha256sum -c --ignore-missing [^`]+)`", text))
    (skip,) = set(re.findall(r"`(! -path \./\.mirror/part\.json)`", text))
    extra = _extra_files_command(DOCS / guide).replace("find . ! -type d", f"find . ! -type d {skip}")
    for number in range(3):  # photos large enough to need parts of their own
        (sources / "photos" / f"grain{number}.jpg").write_bytes(make_jpeg(200, 150, seed=number, noisy=True))
    bundle = tmp_path / "bundle.7z"
    create_bundle(CreateRequest(sources, bundle, title="Parts"), secret)
    code, _, err = invoke(runner, "split", bundle, "--max-size", "40k", "-o", tmp_path / "parts")
    assert code == 0, err
    parts = sorted((tmp_path / "parts").glob("*.7z"))
    assert len(parts) >= 2
    for number, part in enumerate(parts):
        folder = sevenzip_extract(part, tmp_path / f"p{number}")
        assert (folder / ".mirror" / "part.json").is_file()
        assert run(bash, "-c", check, cwd=folder).returncode == 0
        assert run(bash, "-c", extra, cwd=folder).stdout == ""
    whole = tmp_path / "whole"
    whole.mkdir()
    for part in parts:
        run(require_tool("7zz"), "x", "-aos", "-bso0", part, cwd=whole)
    assert run(bash, "-c", "sha256sum -c --strict .mirror/SHA256SUMS", cwd=whole).returncode == 0
    assert run(bash, "-c", extra, cwd=whole).stdout == ""


@pytest.mark.parametrize(("tool", "name"), [
    (("tar", "cf"), "tar"), (("tar", "czf"), "gzip"), (("tar", "cJf"), "xz"), (("tar", "cjf"), "bzip2")])
def test_a_bundle_wrapped_by_another_archiver_is_named_with_how_to_unwrap_it(tool: tuple[str, ...], name: str,
                                                                             bundle: Path, tmp_path: Path,
                                                                             runner: CliRunner) -> None:
    """A bundle someone put in a tarball (or gzip, xz, bzip2) on the way: not checked (exit 3), the tool named,
    and the fix is to unpack it and verify what it held, which then verifies."""
    wrapped = tmp_path / "bundle.7z"  # the name it kept: only the bytes tell
    run(require_tool(tool[0]), *tool[1:], tmp_path / "w", bundle.name, cwd=bundle.parent)
    bundle.rename(tmp_path / "original.7z")
    (tmp_path / "w").rename(wrapped)
    code, out, err = invoke(runner, "verify", wrapped)
    assert code == 3 and out.startswith("NOT CHECKED"), (out, err)
    assert f"repacked with {name}, which mirror does not read" in out and "mirror verify FOLDER/NAME.7z" in err
    sevenzip, layer = require_tool("7zz"), wrapped
    for depth in range(2):  # 7-Zip takes one layer off at a time: a .tar.gz is the tarball first
        run(sevenzip, "x", "-bso0", "-bsp0", f"-o{tmp_path / f'out{depth}'}", layer)
        (layer,) = (tmp_path / f"out{depth}").iterdir()
        if layer.name == "bundle.7z":
            break
    assert layer.name == "bundle.7z" and invoke(runner, "verify", layer)[0] == 0


@pytest.mark.parametrize("what", ["the bundle", "its extracted folder", "a folder holding the bundle",
                                  "a folder holding its extracted folder"])
def test_a_bundle_packed_again_by_7zip_is_named_with_how_to_unwrap_it(what: str, bundle: Path, tmp_path: Path,
                                                                     runner: CliRunner) -> None:
    """7-Zip asked to pack the bundle itself, or the folder it was extracted into with the folder's name, or a
    folder holding either (Downloads/, packed whole: the extracted folder's files were "the bundle has no
    SHA256SUMS"): not checked (exit 3), not called tampered, and the fix named, which then verifies."""
    sevenzip = require_tool("7zz")
    wrapped = tmp_path / "wrapped.7z"
    above = "Downloads/" if what.startswith("a folder holding") else ""
    (tmp_path / "Downloads").mkdir()
    if what.endswith("the bundle"):
        bundle = bundle.rename(tmp_path / above / bundle.name)
        expected, fix = f"holding another one, '{above}{bundle.name}'", f"mirror verify FOLDER/{above}{bundle.name}"
    else:
        sevenzip_extract(bundle, tmp_path / above / "story")
        expected, fix = f"a bundle's files inside the folder '{above}story/'", f"mirror verify FOLDER/{above}story"
    run(sevenzip, "a", "-bso0", "-bsp0", wrapped, above.rstrip("/") or fix.rsplit("/", 1)[1], cwd=tmp_path)
    code, out, err = invoke(runner, "verify", wrapped)
    assert code == 3 and out.startswith("NOT CHECKED") and expected in out and fix in err, (out, err)
    run(sevenzip, "x", "-bso0", "-bsp0", f"-o{tmp_path / 'out'}", wrapped)
    inner = tmp_path / "out" / fix.split("FOLDER/", 1)[1]
    assert invoke(runner, "verify", inner)[0] == 0


def test_bytes_after_or_inside_an_archive_that_belong_to_no_file_are_refused(bundle: Path, tmp_path: Path,
                                                                             runner: CliRunner) -> None:
    """Bytes appended to a bundle (a zip's directory there makes a file that is a verified bundle and a zip at
    once), or put between its data and its header: 7-Zip warns of the first; mirror refuses both (exit 3)."""
    import struct
    import zlib

    data = bundle.read_bytes()
    appended = tmp_path / "appended.7z"
    appended.write_bytes(data + b"PK\x05\x06" + bytes(18))
    code, out, _ = invoke(runner, "verify", appended)
    assert code == 3 and "22 bytes follow the end of the 7z archive" in out, out
    offset, length, _ = struct.unpack("<QQI", data[12:32])
    header = 32 + offset
    moved = struct.pack("<QQ", offset + 7, length)
    moved += struct.pack("<I", zlib.crc32(data[header:header + length]))
    start = data[:8] + struct.pack("<I", zlib.crc32(moved)) + moved
    gap = tmp_path / "gap.7z"
    gap.write_bytes(start + data[32:header] + b"PLANTED" + data[header:])
    run(require_tool("7zz"), "t", "-bso0", "-bsp0", gap)  # 7-Zip itself reads it
    code, out, _ = invoke(runner, "verify", gap)
    assert code == 3 and "bytes that belong to no file in it" in out, out


def test_scan_does_not_decode_a_compression_bomb(tmp_path: Path, runner: CliRunner) -> None:
    """A 7z of a few hundred KB whose block unpacks to 256 MiB (zeros named as a text): scan names the file as not
    read, a bomb, instead of decoding it; the ordinary texts in the other blocks are still scanned."""
    folder = tmp_path / "src"
    folder.mkdir()
    with (folder / "zeros.txt").open("wb") as out:
        out.truncate(256 << 20)
    (folder / "after.md").write_text("call +7 701 234 5678\n", encoding="utf-8")
    bomb = tmp_path / "bomb.7z"
    run(require_tool("7zz"), "a", "-bso0", "-bsp0", "-mx1", bomb, "zeros.txt", "after.md", cwd=folder)
    (folder / "plain.md").write_text("write to someone@example.org\n", encoding="utf-8")
    run(require_tool("7zz"), "a", "-bso0", "-bsp0", "-ms=off", bomb, "plain.md", cwd=folder)
    assert bomb.stat().st_size < 1 << 20
    code, out, _ = invoke(runner, "scan", "--json", bomb)
    report = json.loads(out)
    assert code == 6, out  # the e-mail address in the ordinary block
    assert {f["kind"] for f in report["findings"]} == {"email", "phone"}
    bombs = {entry["path"] for entry in report["not_scanned"] if "compression bomb" in entry["reason"]}
    assert bombs == {"zeros.txt"}, report["not_scanned"]
    for name in ("a.txt", "b.txt", "c.txt"):  # a bomb cut into blocks each under the 64 MiB floor
        with (folder / name).open("wb") as out:
            out.truncate(40 << 20)
    split = tmp_path / "split.7z"
    run(require_tool("7zz"), "a", "-bso0", "-bsp0", "-mx1", "-ms=off", split, "a.txt", "b.txt", "c.txt", cwd=folder)
    report = json.loads(invoke(runner, "scan", "--json", split)[1])
    assert {entry["path"] for entry in report["not_scanned"] if "compression bomb" in entry["reason"]} == {
        "a.txt", "b.txt", "c.txt"}, report


def test_a_text_that_shrinks_hundreds_of_times_is_a_bomb_too(runner: CliRunner, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """An archive that unpacks to about 220 times its size: under the old ratio of 1,000 per block, a 450 KB file held
    the scan 52 s on 384 MiB. The floors are lowered to 1 MiB here, so that 3 MB show the edge; an ordinary text
    is read."""
    import random

    import mirror.privacy.scan_paths

    monkeypatch.setattr(mirror.privacy.scan_paths, "BOMB_FLOOR", 1 << 20)
    monkeypatch.setattr(mirror.privacy.scan_paths, "TOTAL_FLOOR", 1 << 20)
    folder = tmp_path / "src"
    folder.mkdir()
    pick = random.Random(1)
    (folder / "dense.txt").write_bytes(b"".join(b"the same line of an account, again and again\n" * 8
                                                + b"%c\n" % pick.choice(b"abcdefghij") for _ in range(8000)))
    (folder / "plain.md").write_text("write to someone@example.org\n", encoding="utf-8")
    archive = tmp_path / "dense.7z"
    run(require_tool("7zz"), "a", "-bso0", "-bsp0", "-ms=off", archive, "dense.txt", "plain.md", cwd=folder)
    report = json.loads(invoke(runner, "scan", "--json", archive)[1])
    assert [e["path"] for e in report["not_scanned"] if "compression bomb" in e["reason"]] == ["dense.txt"], report
    assert {f["kind"] for f in report["findings"]} == {"email"}, report


@pytest.mark.parametrize("what", ["the bundle", "its extracted folder"])
def test_the_path_to_verify_in_a_wrapping_is_quoted_for_the_shell(what: str, bundle: Path, tmp_path: Path,
                                                                  runner: CliRunner) -> None:
    """The hint's command names a path the sender chose: a folder with a space (Downloads/Telegram Desktop/) gave a
    command that verifies another path, and one with a ';' ran what followed it when pasted into a shell."""
    import shlex

    sevenzip = require_tool("7zz")
    above = tmp_path / "x; touch PWNED; y" / "Telegram Desktop"
    above.mkdir(parents=True)
    if what == "the bundle":
        inner = bundle.rename(above / bundle.name).relative_to(tmp_path).as_posix()
    else:
        inner = sevenzip_extract(bundle, above / "story").relative_to(tmp_path).as_posix()
    wrapped = tmp_path / "wrapped.7z"
    run(sevenzip, "a", "-bso0", "-bsp0", wrapped, "x; touch PWNED; y", cwd=tmp_path)
    code, out, err = invoke(runner, "verify", wrapped)
    assert code == 3 and out.startswith("NOT CHECKED"), (out, err)
    command = err.split("then: ", 1)[1].split("\n", 1)[0] if "then: " in err else err.split("folder: ", 1)[1]
    assert shlex.split(command.strip()) == ["mirror", "verify", f"FOLDER/{inner}"], err
