"""`mirror verify`, `show` and `extract` on good bundles: verdicts, exit codes, what lands on disk."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from helpers import META
from mirror.trust.fingerprint import fingerprint
from mirror.trust.keyring import Keyring


def test_show_of_an_extracted_folder_says_what_verify_says(runner: CliRunner, bundle: Path, keyring: Keyring,
                                                           tmp_path: Path) -> None:
    """`mirror show FOLDER` was a usage error (exit 2: "is a directory") where `verify FOLDER` worked: a reader who
    extracted a bundle could not see what it holds and who signed it. It now checks the folder as verify does
    (same verdict, same exit codes) and lists its files; a file taken away is marked, a changed one fails."""
    from helpers import sevenzip_extract

    folder = sevenzip_extract(bundle, tmp_path / "story")
    code, out, err = invoke(runner, "show", folder)
    assert code == 0, (out, err)
    assert out.splitlines()[0] == f"VERIFIED  {folder}" and "alice (key" in out
    assert "accounts/2022-01-05-almaty.en.md  (2022-01-05 | Almaty | Square)" in out and "photos/square.jpg" in out
    code, out, _ = invoke(runner, "show", "--json", folder)
    doc = json.loads(out)
    assert code == 0 and doc["verdict"] == "verified" and "photos/street.png" in doc["contents"]
    code, out, _ = invoke(runner, "show", folder, "--keys", tmp_path / "empty")
    assert code == 5 and out.startswith("INTACT, UNKNOWN SIGNER")
    (folder / "photos" / "square.jpg").unlink()
    code, out, _ = invoke(runner, "show", folder)
    assert code == 0 and "photos/square.jpg  [not in this folder]" in out, out
    (folder / "photos" / "street.png").write_bytes(b"changed")
    code, out, err = invoke(runner, "show", folder)
    assert code == 3 and out.startswith(f"FAILED  {folder}"), (out, err)


def test_verify_prints_verdict_signer_and_counts(runner: CliRunner, bundle: Path, keyring: Keyring) -> None:
    """Exit 0, one verdict line, the signer's name, key id and fingerprint."""
    code, out, err = invoke(runner, "verify", bundle)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"VERIFIED  {bundle}"
    record = keyring.get("alice")
    assert f"alice (key {record.key_id_hex})" in out
    assert fingerprint(record.public) in out
    assert "2 accounts, 2 photos" in out


def test_unknown_signer_exits_5_with_fingerprint(runner: CliRunner, bundle: Path, keyring: Keyring,
                                                 tmp_path: Path) -> None:
    """A receiver without the author's key learns the bundle is intact and whose key to ask about."""
    code, out, _ = invoke(runner, "verify", bundle, "--keys", tmp_path / "empty")
    assert code == 5
    assert out.startswith("INTACT, UNKNOWN SIGNER")
    assert fingerprint(keyring.get("alice").public) in out
    code, out, _ = invoke(runner, "verify", "--json", bundle, "--keys", tmp_path / "empty")
    doc = json.loads(out)
    assert code == 5 and doc["verdict"] == "untrusted" and doc["signer"]["in_keyring"] is False


def test_publisher_only_key_does_not_make_bundles_trusted(runner: CliRunner, bundle: Path, keyring: Keyring,
                                                          tmp_path: Path) -> None:
    """A key imported only to sign indexes is not trusted as an author."""
    pub = tmp_path / "alice.pub"
    pub.write_text(keyring.get("alice").public.to_text())
    other = tmp_path / "other-keys"
    assert invoke(runner, "keys", "import", pub, "--name", "a", "--role", "publisher", "--keys", other)[0] == 0
    assert invoke(runner, "verify", bundle, "--keys", other)[0] == 5


def test_verify_json(runner: CliRunner, bundle: Path) -> None:
    """--json gives one object with the verdict, signer, bundle and file counts."""
    code, out, _ = invoke(runner, "verify", "--json", bundle)
    doc = json.loads(out)
    assert code == 0
    assert doc["verdict"] == "verified"
    assert doc["signer"]["name"] == "alice"
    assert doc["files"] == {"total": 4, "accounts": 2, "photos": 2}
    assert doc["bundle"]["languages"] == ["en", "ru"]


def test_verify_usage_errors(runner: CliRunner, tmp_path: Path) -> None:
    """A missing file is a usage error (2), an empty file must not be trusted (3)."""
    assert invoke(runner, "verify", tmp_path / "nope.7z")[0] == 2
    empty = tmp_path / "empty.7z"
    empty.write_bytes(b"")
    code, _, err = invoke(runner, "verify", empty)
    assert code == 3 and "not a 7z archive" in err


def test_show_lists_contents(runner: CliRunner, bundle: Path) -> None:
    """show gives title, languages and every file with its date and place."""
    code, out, _ = invoke(runner, "show", bundle)
    assert code == 0
    assert "'Test bundle'" in out and "languages    en, ru" in out
    assert "accounts/2022-01-05-almaty.en.md  (2022-01-05 | Almaty | Square)" in out
    assert "photos/square.jpg" in out


def test_extract_writes_regular_files_0644(runner: CliRunner, bundle: Path, tmp_path: Path, sources: Path) -> None:
    """Every listed file plus the signed list (under .mirror/), mode 0644, identical to what was signed."""
    dest = tmp_path / "out"
    code, _, err = invoke(runner, "extract", bundle, dest)
    assert code == 0, err
    files = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert files == [".mirror/SHA256SUMS", ".mirror/SHA256SUMS.minisig", ".mirror/author.pub", ".mirror/bundle.json",
                     "accounts/2022-01-05-almaty.en.md", "accounts/2022-01-06-almaty.ru.md", "index.html",
                     "photos/square.jpg", "photos/street.png"]
    for path in dest.rglob("*"):
        expected = 0o755 if path.is_dir() else 0o644
        assert stat.S_IMODE(path.stat().st_mode) == expected, path
    account = "accounts/2022-01-05-almaty.en.md"
    assert (dest / account).read_bytes() == (sources / account).read_bytes()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".mirror-tmp")] == []


def test_extract_never_overwrites(runner: CliRunner, bundle: Path, tmp_path: Path) -> None:
    """An existing destination is refused and left untouched."""
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "mine.txt").write_text("keep")
    code, _, err = invoke(runner, "extract", bundle, dest)
    assert code == 2 and "already exists" in err
    assert [p.name for p in dest.iterdir()] == ["mine.txt"]


def test_extract_untrusted_needs_consent(runner: CliRunner, bundle: Path, tmp_path: Path) -> None:
    """An unknown signer stops extraction (exit 5) unless --untrusted is given."""
    dest = tmp_path / "out"
    code, _, err = invoke(runner, "extract", bundle, dest, "--keys", tmp_path / "none")
    assert code == 5 and not dest.exists() and "fingerprint" in err
    code, out, _ = invoke(runner, "extract", bundle, dest, "--keys", tmp_path / "none", "--untrusted")
    assert code == 0 and "unknown key" in out and (dest / META).exists()


def test_extract_notices_a_bundle_that_changes_after_verification(bundle: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  sources: Path, keyring: Keyring) -> None:
    """A repack with the signed files last is verified, then written in a second pass that hashes again: a file
    swapped on the stick between the passes is refused, nothing written."""
    import mirror.bundle.extract as extract_module
    from forge import Entry, forge
    from helpers import sevenzip_extract
    from mirror.errors import ContentError

    folder = sevenzip_extract(bundle, tmp_path / "members")
    members = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    last = sorted(members, key=lambda name: name.startswith(".mirror/"))
    bundle.write_bytes(forge(tmp_path / "last.7z", [Entry(name, members[name]) for name in last]).read_bytes())
    members["accounts/2022-01-05-almaty.en.md"] = b""  # same signed files; one member now has no data stream
    other = forge(tmp_path / "other.7z", [Entry(name, data) for name, data in members.items()])
    verify_first = extract_module.verify_open

    def swap_after_verify(*args: object, **kwargs: object) -> object:
        result = verify_first(*args, **kwargs)  # type: ignore[arg-type]
        bundle.write_bytes(other.read_bytes())  # the open handle sees the new bytes: same inode
        return result

    monkeypatch.setattr(extract_module, "verify_open", swap_after_verify)
    dest = tmp_path / "out"
    with pytest.raises(ContentError, match="changed between verifying and extracting"):
        extract_module.extract_bundle(bundle, dest, keyring)
    assert not dest.exists() and not list(tmp_path.glob(".out.*"))


def test_extract_writes_while_it_verifies(bundle: Path, tmp_path: Path, keyring: Keyring,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A bundle made by mirror (signed files first) by a trusted author, or with consent to an untrusted one, is
    read once; an untrusted one without consent is refused before anything is written."""
    import mirror.bundle.extract as extract_module
    from mirror.errors import UntrustedSigner

    def no_second_pass(*_: object) -> int:
        raise AssertionError("second pass")

    monkeypatch.setattr(extract_module, "_write_all", no_second_pass)
    out = extract_module.extract_bundle(bundle, tmp_path / "out", keyring).dest
    assert (out / ".mirror" / "SHA256SUMS").is_file() and (out / "photos" / "square.jpg").is_file()
    assert extract_module.extract_bundle(bundle, tmp_path / "consent", None, allow_untrusted=True).files == \
        len(list(p for p in out.rglob("*") if p.is_file()))
    with pytest.raises(UntrustedSigner):
        extract_module.extract_bundle(bundle, tmp_path / "refused", None)
    assert not list(tmp_path.glob(".refused.*")) and not (tmp_path / "refused").exists()


def test_extract_in_one_pass_leaves_nothing_when_a_member_changed(bundle: Path, tmp_path: Path,
                                                                  keyring: Keyring) -> None:
    """A changed photo is found after it was written to the staging folder: it is removed, nothing appears."""
    from mirror.bundle.extract import extract_bundle
    from mirror.errors import ContentError

    data = bytearray(bundle.read_bytes())
    marker = data.find(b"\xff\xd8\xff")  # the stored photo's first bytes (Copy block)
    data[marker + 200] ^= 0x01
    bundle.write_bytes(bytes(data))
    with pytest.raises(ContentError, match=r"photos/square\.jpg"):
        extract_bundle(bundle, tmp_path / "out", keyring)
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.*"))
    with pytest.raises(ContentError):  # folders made on the way to the target are removed again
        extract_bundle(bundle, tmp_path / "new" / "deeper" / "out", keyring)
    assert not (tmp_path / "new").exists()


def test_mirror_extract_of_a_whole_bundle_is_one_pass(runner: CliRunner, bundle: Path, tmp_path: Path,
                                                      keyring: Keyring, monkeypatch: pytest.MonkeyPatch) -> None:
    """`mirror extract BUNDLE DEST` writes while it verifies: the second pass is never needed."""
    import mirror.bundle.staging as staging_module

    def no_second_pass(*_: object) -> None:
        raise AssertionError("second pass")

    monkeypatch.setattr(staging_module, "_write", no_second_pass)
    code, _, err = invoke(runner, "extract", bundle, tmp_path / "out", "--keys", keyring.folder)
    assert code == 0, err
    assert (tmp_path / "out" / "accounts" / "2022-01-05-almaty.en.md").is_file()


def test_verify_without_a_temporary_folder_is_a_clean_error(runner: CliRunner, bundle: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The signed lists of a large bundle wait in the temporary folder: with none to be had, verify says so
    (exit 1, no traceback), and never calls the bundle bad."""
    import tempfile

    import mirror.bundle.control as control

    monkeypatch.setattr(control, "SPILL", 16)  # spool even this small bundle's lists
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    code, out, err = invoke(runner, "verify", bundle)
    assert code == 1, err
    assert "the temporary folder" in err and str(tmp_path / "gone") in err and "Traceback" not in err
    assert "NOT VERIFIED" not in out and "do not trust" not in (out + err).lower()
    monkeypatch.setattr(tempfile, "tempdir", None)
    assert invoke(runner, "verify", bundle)[0] == 0  # with a temporary folder, it verifies (spooled to disk)


def test_a_folder_of_bundles_is_not_called_an_untrusted_bundle(runner: CliRunner, bundle: Path,
                                                               tmp_path: Path) -> None:
    """`mirror verify STICK` on a stick that holds bundles: a usage error naming a bundle to verify, not exit 3."""
    stick = tmp_path / "stick"
    stick.mkdir()
    shutil.copy(bundle, stick / "almaty.7z")
    code, out, err = invoke(runner, "verify", stick)
    assert code == 2 and out == "", out
    assert f"{stick} is a folder that holds bundles, not an unpacked bundle" in err
    assert f"mirror verify {stick / 'almaty.7z'}" in err


def test_the_signed_files_folder_of_an_unpacked_bundle_is_named(runner: CliRunner, bundle: Path,
                                                                 tmp_path: Path) -> None:
    """`mirror verify X/.mirror` of a good unpacked bundle said FAILED, do not trust (exit 3): it says which
    folder to verify (helper-121)."""
    assert invoke(runner, "extract", bundle, tmp_path / "x")[0] == 0
    code, out, err = invoke(runner, "verify", tmp_path / "x" / ".mirror")
    assert code == 2 and "FAILED" not in out and f"mirror verify {tmp_path / 'x'}" in err, (out, err)
    assert invoke(runner, "verify", tmp_path / "x")[0] == 0


def test_a_photo_or_a_program_given_as_a_bundle_is_named(runner: CliRunner, tmp_path: Path) -> None:
    """A photo sent instead of the bundle, or a self-extracting archive (a program): said what it is."""
    from PIL import Image

    photo = tmp_path / "IMG_0001.jpg"
    Image.new("RGB", (8, 8)).save(photo, "JPEG")
    code, out, err = invoke(runner, "verify", photo)
    assert code == 3 and "not a 7z archive: it is a JPEG photo" in out + err
    program = tmp_path / "bundle.exe"
    program.write_bytes(b"MZ\x90\x00" + bytes(200))
    code, out, err = invoke(runner, "verify", program)
    assert code == 3 and "it is a program" in out + err and "do not run it" in err
    program.write_bytes(b"\xcf\xfa\xed\xfe" + bytes(200))  # a macOS self-extractor (Mach-O)
    code, out, err = invoke(runner, "verify", program)
    assert code == 3 and "it is a program" in out + err
    empty = tmp_path / "empty.7z"
    empty.write_bytes(b"")
    code, out, err = invoke(runner, "verify", empty)
    assert code == 3 and "the file is empty (0 bytes)" in out + err
    page = tmp_path / "almaty.part2of3.7z"  # a messenger's or a blocked network's page, saved under the file's name
    page.write_bytes(b"\n<!DOCTYPE html>\n<html><head><title>Sign in</title></head></html>\n")
    code, out, err = invoke(runner, "verify", page)
    assert code == 3 and "it is a web page (HTML)" in out + err and "download the .7z itself again" in err


def test_the_files_that_travel_beside_a_bundle_are_named(runner: CliRunner, bundle: Path, tmp_path: Path) -> None:
    """verify of the .torrent, the signature, the signed list or bundle.json of an unpacked bundle said only "not a
    7z archive (or truncated in its first 32 bytes)": each is named, with what to verify instead."""
    from helpers import sevenzip_extract
    from mirror.bundle.torrent import make_torrent
    from mirror.bundle.verify import verify_bundle

    folder = sevenzip_extract(bundle, tmp_path / "unpacked")
    torrent = tmp_path / "b.torrent"
    torrent.write_bytes(make_torrent(bundle, verify_bundle(bundle, None), ()).torrent.to_bytes())
    for path, said, hint in (
            (torrent, "it is a .torrent file", "a BitTorrent client"),
            (folder / ".mirror" / "SHA256SUMS.minisig", "it is a minisign signature or key", "verify the .7z bundle"),
            (folder / ".mirror" / "author.pub", "it is a minisign signature or key", "verify the .7z bundle"),
            (folder / ".mirror" / "SHA256SUMS", "it is a list of SHA-256 sums", "mirror verify FOLDER"),
            (folder / ".mirror" / "bundle.json", "it is a JSON file", "or the folder it was unpacked into")):
        code, out, err = invoke(runner, "verify", path)
        assert code == 3 and f"not a 7z archive: {said}" in out + err and hint in err, (path, out, err)


def test_a_bundle_zipped_on_the_way_is_to_be_unzipped_not_repacked(runner: CliRunner, bundle: Path,
                                                                   tmp_path: Path) -> None:
    """A mail program or messenger zips what it sends: the zip holds the .7z itself. The hint said to repack the
    zip's content with 7-Zip, which put a 7z inside a 7z."""
    import zipfile

    around = tmp_path / "sent.zip"
    with zipfile.ZipFile(around, "w") as out_zip:
        out_zip.write(bundle, "almaty-january-2022.7z")
    code, _, err = invoke(runner, "verify", around)
    assert code == 3 and "repacked as a zip archive" in err
    assert "it holds almaty-january-2022.7z: unzip it" in err and "7z a" not in err
    of_files = tmp_path / "files.zip"
    with zipfile.ZipFile(of_files, "w") as out_zip:
        out_zip.writestr("accounts/a.md", "text")
    code, _, err = invoke(runner, "verify", of_files)
    assert code == 3 and "7z a -m0=lzma2" in err


def test_an_archive_of_another_project_is_said_to_be_no_bundle(runner: CliRunner, tmp_path: Path) -> None:
    """A plain 7z (or one another archiver coded with PPMd) was called a bundle that lost its SHA256SUMS, or one
    repacked: it is said to be a 7z archive that is no bundle, nothing in it signed. One with a bundle's kind of
    names and no signed file at all is said to hold nothing signed (not a bundle, or one whose signed files were
    all taken out); a bundle that lost SHA256SUMS but kept another signed file is still said to be one."""
    from helpers import require_tool, run

    sevenzip = require_tool("7zz")
    (tmp_path / "notes.txt").write_text("minutes of the meeting\n")
    (tmp_path / "accounts").mkdir()
    (tmp_path / "accounts" / "a.md").write_text("# a\n")
    for name, options, files in (("plain.7z", (), ("notes.txt",)), ("ppmd.7z", ("-m0=PPMd",), ("notes.txt",)),
                                 ("lost.7z", (), ("accounts",))):
        assert run(sevenzip, "a", "-bso0", *options, name, *files, cwd=tmp_path).returncode == 0
        code, out, err = invoke(runner, "verify", tmp_path / name)
        foreign = "this is a 7z archive of 1 file(s), not a mirror bundle: nothing in it is signed"
        assert code == 3 and (foreign in err) == (name != "lost.7z"), (name, out, err)
    assert "this is a 7z archive of 1 file(s) without SHA256SUMS, its signature, author.pub or bundle.json" in err
    (tmp_path / ".mirror").mkdir()
    (tmp_path / ".mirror" / "bundle.json").write_text("{}\n")
    assert run(sevenzip, "a", "-bso0", "damaged.7z", "accounts", ".mirror", cwd=tmp_path).returncode == 0
    code, out, err = invoke(runner, "verify", tmp_path / "damaged.7z")
    assert code == 3 and out.startswith("FAILED  ") and "the bundle has no SHA256SUMS" in err, (out, err)
    (tmp_path / "trip" / "empty").mkdir(parents=True)  # 7-Zip stores folders: "unexpected folder in the bundle"
    (tmp_path / "trip" / "notes.txt").write_text("minutes\n")
    (tmp_path / "trip" / "link.txt").symlink_to("notes.txt")
    assert run(sevenzip, "a", "-bso0", "-snl", "trip.7z", "trip", cwd=tmp_path).returncode == 0
    code, _, err = invoke(runner, "verify", tmp_path / "trip.7z")
    assert code == 3 and "this is a 7z archive of 2 file(s), not a mirror bundle" in err, err


@pytest.mark.parametrize("options", [(), ("-m0=PPMd",), ("-m0=BZip2",), ("-m0=Deflate",), ("-m0=Deflate64",),
                                     ("-mf=ARM64",), ("-mf=Delta:4",), ("-mqs",), ("-mx9", "-ms=on"), ("-pX",),
                                     ("-snl",), ("-v4k",)])
def test_an_ordinary_7z_is_not_checked_rather_than_failed(runner: CliRunner, tmp_path: Path,
                                                          options: tuple[str, ...]) -> None:
    """An ordinary 7z that 7-Zip made (solid, filtered, PPMd, BZip2, Deflate, a password, links, volumes) was
    FAILED, "do not trust this bundle", as if a bundle were damaged: nothing in it is signed, which is NOT CHECKED
    (exit 3 still: nothing in it can be trusted), with the reason."""
    from helpers import require_tool, run

    sevenzip = require_tool("7zz")
    files = tmp_path / "files"
    (files / "docs").mkdir(parents=True)
    (files / "notes.txt").write_text("minutes of the meeting\n" * 200)
    (files / "docs" / "tool.bin").write_bytes(bytes(range(256)) * 40)
    (files / "link.txt").symlink_to("notes.txt")
    assert run(sevenzip, "a", "-bso0", *options, str(tmp_path / "other.7z"), ".", cwd=files).returncode == 0
    target = tmp_path / ("other.7z.001" if "-v4k" in options else "other.7z")
    code, out, err = invoke(runner, "verify", target)
    assert code == 3 and out.startswith(f"NOT CHECKED  {target}: nothing in it is signed"), (out, err)
    assert "not a mirror bundle" in out and "FAILED" not in out
    code, out, err = invoke(runner, "verify", "--json", target)  # a script tells it from damage the same way
    assert code == 3 and json.loads(out)["checked"] is False, (out, err)


def test_a_folder_of_ordinary_files_is_not_checked_rather_than_failed(runner: CliRunner, tmp_path: Path) -> None:
    """The same files unpacked into a folder were FAILED, "do not trust this bundle ... holds no SHA256SUMS", and
    --json said "checked": true, as for a damaged bundle, where their 7z says NOT CHECKED (helper-180). A folder
    that lost only SHA256SUMS, its other signed files there, still fails."""
    files = tmp_path / "files"
    (files / "docs").mkdir(parents=True)
    (files / "notes.txt").write_text("minutes of the meeting\n")
    (files / "docs" / "tool.bin").write_bytes(bytes(range(256)))
    code, out, err = invoke(runner, "verify", files)
    assert code == 3 and out.startswith(f"NOT CHECKED  {files}: nothing in it is signed"), (out, err)
    assert "no unpacked mirror bundle" in out and "FAILED" not in out
    code, out, err = invoke(runner, "verify", "--json", files)
    assert code == 3 and json.loads(out)["checked"] is False, (out, err)
    (files / "bundle.json").write_text("{}")
    code, out, err = invoke(runner, "verify", "--json", files)
    assert code == 3 and json.loads(out)["checked"] is True and "holds no SHA256SUMS" in out, (out, err)


@pytest.mark.parametrize(("made", "options"), [("link", ("-snl",)), ("empty folder", ()), ("case", ()),
                                               ("PPMd", ("-m0=PPMd",))])
def test_a_photo_folders_7z_is_not_checked_rather_than_failed(runner: CliRunner, tmp_path: Path, made: str,
                                                              options: tuple[str, ...]) -> None:
    """A 7z of someone's photos/ or accounts/ folder (a bundle's kind of names, nothing signed) that also held a
    link, an empty folder or two names differing in case was FAILED for that ("is not a regular file", "unexpected
    folder", "collide"), and one packed with PPMd was "repacked": nothing in it is signed, which is NOT CHECKED.
    With a signed file beside them, the same archive still FAILS."""
    from helpers import require_tool, run

    sevenzip = require_tool("7zz")
    folder = tmp_path / "files"
    (folder / "photos").mkdir(parents=True)
    (folder / "photos" / "a.jpg").write_bytes(b"not really a photo")
    if made == "link":
        (folder / "photos" / "b.jpg").symlink_to("a.jpg")
    elif made == "empty folder":
        (folder / "photos" / "later").mkdir()
    elif made == "case":
        (folder / "photos" / "A.jpg").write_bytes(b"another")
    assert run(sevenzip, "a", "-bso0", *options, str(tmp_path / "photos.7z"), "photos", cwd=folder).returncode == 0
    code, out, err = invoke(runner, "verify", tmp_path / "photos.7z")
    assert code == 3 and out.startswith("NOT CHECKED  ") and "without SHA256SUMS, its signature" in out, (out, err)
    (folder / "bundle.json").write_text("{}\n")
    assert run(sevenzip, "a", "-bso0", *options, str(tmp_path / "signed.7z"), "photos", "bundle.json",
               cwd=folder).returncode == 0
    code, out, err = invoke(runner, "verify", tmp_path / "signed.7z")
    assert code == 3 and "without SHA256SUMS, its signature" not in out, (out, err)
    assert out.startswith("NOT CHECKED  " if made == "PPMd" else "FAILED  "), (out, err)


def test_empty_and_folder_only_and_anti_item_archives_are_not_checked(runner: CliRunner, tmp_path: Path) -> None:
    """An empty 7z, one of empty folders only, and one of anti-items alone (a file deleted since, from 7z u) hold no
    file: each is NOT CHECKED as holding nothing signed, and an anti-item is not counted as a file."""
    from helpers import require_tool, run

    sevenzip = require_tool("7zz")
    (tmp_path / "empty" / "inner").mkdir(parents=True)
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "gone.txt").write_text("soon deleted\n")
    assert run(sevenzip, "a", "-bso0", "folders.7z", "empty", cwd=tmp_path).returncode == 0
    assert run(sevenzip, "a", "-bso0", "base.7z", "kept", cwd=tmp_path).returncode == 0
    (tmp_path / "kept" / "gone.txt").unlink()
    assert run(sevenzip, "u", "-bso0", "base.7z", "-u-", "-up0q3x2z0!anti.7z", "kept", cwd=tmp_path).returncode == 0
    (tmp_path / "none.7z").write_bytes(bytes.fromhex("377abcaf271c00048d9bd50f") + bytes(20))  # 7-Zip's, of none
    for name in ("folders.7z", "anti.7z", "none.7z"):
        code, out, err = invoke(runner, "verify", tmp_path / name)
        assert code == 3 and out.startswith("NOT CHECKED  ") and "a 7z archive of 0 file(s)" in out, (name, out, err)


def test_a_secret_key_given_as_a_bundle_is_named(runner: CliRunner, keyring: Keyring, tmp_path: Path) -> None:
    """verify of a .key file said "a JSON file (an index, a listing or bundle.json)": it is a secret key, not to be
    sent (helper-121)."""
    key = keyring.folder / "alice.key"
    code, out, err = invoke(runner, "verify", key)
    assert code == 3 and "not a 7z archive: it is a secret key" in out + err and "never send it" in out + err


@pytest.mark.skipif(not hasattr(__import__("resource"), "RLIMIT_AS"), reason="no address-space limit here")
def test_an_extracted_folder_verifies_in_the_memory_a_bundle_does(bundle: Path, tmp_path: Path) -> None:
    """A folder a bundle was extracted into, checked under a 300 MB address-space limit that the bundle itself
    verifies well within: each signed file was read with read(cap + 1), which sets the cap aside first (512 MiB
    for a bundle.json of a few KB), so verify, show and extract of the folder stopped on an internal error
    (MemoryError, exit 1). Each signed file is now read a piece at a time."""
    import os
    import resource
    import subprocess
    import sys

    import mirror
    from helpers import sevenzip_extract

    folder = sevenzip_extract(bundle, tmp_path / "story")
    (tmp_path / "reader-keys").mkdir(mode=0o700)

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (300 << 20, 300 << 20))

    for target in (bundle, folder):
        done = subprocess.run([sys.executable, "-m", "mirror", "verify", str(target), "--keys",
                               str(tmp_path / "reader-keys")],
                              capture_output=True, text=True, preexec_fn=limited, timeout=120, check=False,
                              env={**os.environ, "PYTHONPATH": str(Path(mirror.__file__).parents[1])})
        assert done.returncode == 5 and "MemoryError" not in done.stderr, (target, done.stdout, done.stderr)


@pytest.mark.skipif(not hasattr(__import__("resource"), "RLIMIT_AS"), reason="no address-space limit here")
def test_an_extracted_folders_oversized_signed_file_is_refused_without_reading_it(bundle: Path,
                                                                                   tmp_path: Path) -> None:
    """A folder's bundle.json made a sparse file of 100 GB (a few bytes on the disk) was read up to its cap of
    512 MiB and then cut to the cap, a copy: 1 GB held, and under a 300 MB address-space limit an internal error
    (MemoryError, exit 1) instead of the refusal (exit 3). Its size is looked at first."""
    import os
    import resource
    import subprocess
    import sys

    import mirror
    from helpers import sevenzip_extract

    folder = sevenzip_extract(bundle, tmp_path / "story")
    meta = next(p for p in folder.rglob("bundle.json"))
    os.truncate(meta, 100 << 30)
    (tmp_path / "reader-keys").mkdir(mode=0o700)

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (300 << 20, 300 << 20))

    command = [sys.executable, "-m", "mirror", "verify", str(folder), "--keys", str(tmp_path / "reader-keys")]
    done = subprocess.run(command, capture_output=True, text=True, preexec_fn=limited, timeout=120, check=False,
                          env={**os.environ, "PYTHONPATH": str(Path(mirror.__file__).parents[1])})
    assert done.returncode == 3 and "bundle.json is larger than" in done.stderr, (done.stdout, done.stderr)
    assert "MemoryError" not in done.stdout + done.stderr


@pytest.mark.skipif(not hasattr(__import__("resource"), "RLIMIT_AS"), reason="no address-space limit here")
@pytest.mark.parametrize("signed_file", ["SHA256SUMS", "bundle.json"])
def test_an_extracted_folders_large_junk_signed_list_is_refused_in_bounded_memory(bundle: Path, tmp_path: Path,
                                                                                  signed_file: str) -> None:
    """A folder's SHA256SUMS or bundle.json of 200 MB of junk (under their caps of 256 and 512 MiB) was read whole
    before the signature or its hash refused it: 224 MB at the peak, and under an address-space limit a bundle
    verifies well within, an internal error (MemoryError, exit 1) instead of the refusal (exit 3). Each is now
    spooled a piece at a time, as a bundle's are, and the signature checked on what was spooled."""
    import os
    import resource
    import subprocess
    import sys

    import mirror
    from helpers import sevenzip_extract

    folder = sevenzip_extract(bundle, tmp_path / "story")
    target = next(p for p in folder.rglob(signed_file))
    block = (b"0" * 64 + b"  accounts/x.md\n") * ((1 << 20) // 80)  # about 1 MiB of SHA256SUMS lines
    with target.open("wb") as fp:
        for _ in range(200):
            fp.write(block)
    (tmp_path / "reader-keys").mkdir(mode=0o700)

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (200 << 20, 200 << 20))

    command = [sys.executable, "-m", "mirror", "verify", str(folder), "--keys", str(tmp_path / "reader-keys")]
    done = subprocess.run(command, capture_output=True, text=True, preexec_fn=limited, timeout=120, check=False,
                          env={**os.environ, "PYTHONPATH": str(Path(mirror.__file__).parents[1])})
    said = {"SHA256SUMS": "signature does not match", "bundle.json": "bundle.json does not match its hash"}
    assert done.returncode == 3 and said[signed_file] in done.stderr, (done.stdout, done.stderr)
    assert "MemoryError" not in done.stdout + done.stderr


@pytest.mark.parametrize("signed_file", ["SHA256SUMS", "bundle.json"])
def test_an_extracted_folders_forged_signed_list_is_refused_before_it_is_copied(
        bundle: Path, keyring: Keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signed_file: str) -> None:
    """A folder's SHA256SUMS and bundle.json were copied into the temporary folder before the signature or the hash
    refused them: two sparse files of 250 and 500 MB, which take no space on a stick, wrote 750 MiB there (on many
    systems a tmpfs, so memory). The signature is now checked, and bundle.json hashed, where they are; a forged one
    is refused without a temporary file (here there is none to be had), and a good folder still spools."""
    import os
    import tempfile

    import mirror.bundle.control as control
    from helpers import sevenzip_extract
    from mirror.bundle.folder import verify_folder
    from mirror.errors import ContentError, SignatureError

    folder = sevenzip_extract(bundle, tmp_path / "story")
    monkeypatch.setattr(control, "SPILL", 16)  # spool even this small bundle's lists
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    with pytest.raises(OSError, match="the temporary folder"):  # a good folder's lists are spooled as before
        verify_folder(folder, keyring)
    monkeypatch.setattr(control, "SPILL", 1 << 20)  # the good SHA256SUMS in memory, the forged file past it
    target = next(p for p in folder.rglob(signed_file))
    os.truncate(target, (250 if signed_file == "SHA256SUMS" else 500) << 20)
    error, said = {"SHA256SUMS": (SignatureError, "signature does not match"),
                   "bundle.json": (ContentError, "bundle.json does not match its hash in SHA256SUMS")}[signed_file]
    with pytest.raises(error, match=said):
        verify_folder(folder, keyring)
