"""`mirror create`: what goes in, what is refused, atomic output."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from helpers import META, hear_hangups, sevenzip_extract
from mirror.trust.keyring import Keyring


def _tree_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file()}


def test_create_writes_a_verified_bundle_and_leaves_sources_alone(runner: CliRunner, keyring: Keyring,
                                                                   sources: Path, tmp_path: Path) -> None:
    """The bundle verifies; sources keep their bytes; bundle.json describes every file."""
    before = _tree_digest(sources)
    out = tmp_path / "b.7z"
    code, stdout, err = invoke(runner, "create", sources, "-o", out, "--key", "alice", "--title", "T")
    assert code == 0, err
    assert "2 accounts, 2 photos" in stdout
    assert _tree_digest(sources) == before
    assert invoke(runner, "verify", out)[0] == 0
    meta = json.loads((sevenzip_extract(out, tmp_path / "x") / META).read_bytes())
    assert meta["format"] == "mirror-bundle/2" and meta["title"] == "T" and meta["version"] == 1
    assert meta["author_key"] == keyring.get("alice").key_id_hex
    assert meta["files"]["accounts/2022-01-06-almaty.ru.md"]["language"] == "ru"
    assert meta["files"]["photos/square.jpg"]["type"] == "image/jpeg"


def test_create_refuses_existing_output_unless_forced(runner: CliRunner, keyring: Keyring, sources: Path,
                                                      tmp_path: Path) -> None:
    """An existing file is never replaced silently; the hint leads to the next version of it first (--force made a
    new, unrelated bundle that readers never see as newer, and deleted the one already given out)."""
    out = tmp_path / "b.7z"
    out.write_bytes(b"precious")
    code, _, err = invoke(runner, "create", sources, "-o", out, "--key", "alice")
    assert code == 2 and "already exists" in err and out.read_bytes() == b"precious"
    assert f"a new version of the bundle in it: --update {out} -o NEW.7z" in err and "unrelated bundle" in err
    assert invoke(runner, "create", sources, "-o", out, "--key", "alice", "--force")[0] == 0
    assert out.read_bytes()[:6] == b"7z\xbc\xaf\x27\x1c"


def test_a_mistyped_key_is_refused_before_the_folder_is_read(runner: CliRunner, keyring: Keyring, sources: Path,
                                                              tmp_path: Path) -> None:
    """--key with no such secret key (a typo, or a key only imported): said first, with the keys there are, and
    nothing of the folder checked (a large collection took minutes to read before the name was looked up); endorse
    says the same."""
    (sources / ".DS_Store").write_bytes(b"\0\0\0\x01Bud1")  # the check would say "left out" of it
    for name in ("alcie", "bob"):
        if name == "bob":
            keyring.create("bob", None)
            (keyring.folder / "bob.key").unlink()  # a public key only, as one imported
        code, _, err = invoke(runner, "create", sources, "-o", tmp_path / "b.7z", "--key", name)
        assert code == 2 and f"no secret key named {name} in {keyring.folder}" in err, err
        assert f"secret keys in {keyring.folder}: alice" in err and "left out" not in err, err
        assert not (tmp_path / "b.7z").exists()


def test_an_output_that_cannot_be_written_is_refused_before_the_folder_is_read(
        runner: CliRunner, keyring: Keyring, sources: Path, tmp_path: Path) -> None:
    """-o under a file, or in a folder that cannot hold files: said first, naming the folder, with nothing of the
    sources checked (it was said after the whole check, minutes on a large collection)."""
    (sources / ".DS_Store").write_bytes(b"\0\0\0\x01Bud1")  # the check would say "left out" of it
    (tmp_path / "file").write_bytes(b"x")
    code, _, err = invoke(runner, "create", sources, "-o", tmp_path / "file" / "sub" / "b.7z", "--key", "alice")
    assert code == 2 and f"{tmp_path / 'file'} is not a folder" in err and "left out" not in err, err
    if Path("/proc/self").is_dir():  # a folder even root cannot make a file in
        code, _, err = invoke(runner, "create", sources, "-o", "/proc/b.7z", "--key", "alice")
        assert code == 1 and "/proc: no file can be made in this folder, where the output would go" in err, err
        assert "left out" not in err, err


def test_create_lists_files_it_does_not_understand(runner: CliRunner, keyring: Keyring, sources: Path,
                                                   tmp_path: Path) -> None:
    """Unknown files are refused as a list, never skipped; no bundle is written."""
    (sources / "notes.docx").write_bytes(b"PK\x03\x04")
    (sources / "photos" / "clip.exe").write_bytes(b"MZ")
    os.symlink("/etc/passwd", sources / "accounts" / "link.md")
    out = tmp_path / "b.7z"
    code, _, err = invoke(runner, "create", sources, "-o", out, "--key", "alice")
    assert code == 2
    assert "3 file(s)" in err and "notes.docx" in err and "photos/clip.exe" in err and "link.md" in err
    assert not out.exists()


def test_create_refuses_non_utf8_accounts(runner: CliRunner, keyring: Keyring, sources: Path,
                                          tmp_path: Path) -> None:
    """An account that is not UTF-8 text is named in the error."""
    (sources / "accounts" / "cp1251.txt").write_bytes("Алматы".encode("cp1251"))
    code, _, err = invoke(runner, "create", sources, "-o", tmp_path / "b.7z", "--key", "alice")
    assert code == 2 and "accounts/cp1251.txt: not UTF-8" in err


def test_create_refuses_colliding_names(runner: CliRunner, keyring: Keyring, sources: Path,
                                        tmp_path: Path) -> None:
    """Names that would be one file on Windows or macOS are refused."""
    (sources / "photos" / "Square.JPG").write_bytes((sources / "photos" / "square.jpg").read_bytes())
    code, _, err = invoke(runner, "create", sources, "-o", tmp_path / "b.7z", "--key", "alice")
    assert code == 2 and "would be the same file" in err


def test_a_jpeg_saved_as_jfif_is_cleaned_and_bundled_as_jpg(runner: CliRunner, keyring: Keyring, sources: Path,
                                                             tmp_path: Path) -> None:
    """A browser on Windows saves a JPEG as .jfif: it was refused as "not an account or a photo". It is a JPEG's
    other name: cleaned like one and bundled as .jpg, which every reader (older ones too) knows."""
    (sources / "photos" / "square.jpg").rename(sources / "photos" / "From Chat.JFIF")
    out = tmp_path / "b.7z"
    code, stdout, err = invoke(runner, "create", sources, "-o", out, "--key", "alice")
    assert code == 0, err
    assert "2 accounts, 2 photos" in stdout
    assert invoke(runner, "verify", out)[0] == 0
    meta = json.loads((sevenzip_extract(out, tmp_path / "x") / META).read_bytes())
    assert meta["files"]["photos/From Chat.jpg"]["type"] == "image/jpeg"
    (sources / "photos" / "From Chat.jpg").write_bytes((sources / "photos" / "From Chat.JFIF").read_bytes())
    code, _, err = invoke(runner, "create", sources, "-o", tmp_path / "c.7z", "--key", "alice")
    assert code == 2 and "it would be bundled as photos/From Chat.jpg, as photos/From Chat.JFIF is" in err, err


@pytest.mark.parametrize(("first", "second"), [
    ("accounts/same.md", "same.md"),  # both become accounts/same.md
    ("accounts/\u00e9t\u00e9.md", "accounts/e\u0301te\u0301.md"),  # NFC and NFD: one name in the bundle
], ids=["folder", "normalization"])
def test_create_refuses_files_with_one_name_in_the_bundle(runner: CliRunner, keyring: Keyring, sources: Path,
                                                          tmp_path: Path, first: str, second: str) -> None:
    """Two sources that would be the very same member are refused as a list, never an internal error."""
    (sources / first).write_text("One account.\n", encoding="utf-8")
    (sources / second).write_text("Another account.\n", encoding="utf-8")
    out = tmp_path / "b.7z"
    code, _, err = invoke(runner, "create", sources, "-o", out, "--key", "alice")
    member = "accounts/" + unicodedata.normalize("NFC", first.rsplit("/", 1)[-1])
    assert code == 2 and f"it would be bundled as {member}" in err and "1 file(s)" in err, err
    assert "internal error" not in err and not out.exists()


def test_create_uses_workspace_defaults(runner: CliRunner, keyring: Keyring, sources: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """In a workspace, SRC, -o and --key can be left out; --key only once this computer made the key there (one
    without a passphrase that came with the folder is never chosen for the user)."""
    (tmp_path / "mirror.toml").write_text('[workspace]\nsources = "src"\nbundles = "out"\nkeys = "keys"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MIRROR_KEYS")
    code, out, err = invoke(runner, "create", "--title", "Almaty")
    assert code == 2 and "came with the folder without a passphrase (alice)" in err, err
    (tmp_path / "keys" / "alice.key").unlink()
    assert invoke(runner, "keys", "new", "writer", "--no-passphrase")[0] == 0
    code, out, err = invoke(runner, "create", "--title", "Almaty")
    assert code == 0, err
    written = list((tmp_path / "out").glob("almaty-*.7z"))
    assert len(written) == 1 and str(written[0].name) in out
    code, out, err = invoke(runner, "create", "--title", "Almaty", "--update", written[0])
    assert code == 0, err  # the same day's name, with the version: version 1 stays beside it
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted([written[0].name,
                                                                           written[0].stem + "-v2.7z"])


def test_create_refuses_outputs_that_would_undo_work(runner: CliRunner, keyring: Keyring, sources: Path,
                                                     bundle: Path, tmp_path: Path) -> None:
    """The bundle given to --update as the output (even with --force: the version it follows would be gone), an
    output inside SRC (the next create of SRC would refuse it), and an --id no bundle can have: each a usage error
    before any file is read or a passphrase asked."""
    code, _, err = invoke(runner, "create", sources, "-o", bundle, "--update", bundle, "--key", "alice", "--force")
    assert code == 2 and "is the bundle given to --update" in err and bundle.exists()
    code, _, err = invoke(runner, "create", sources, "-o", sources / "b.7z", "--key", "alice")
    assert code == 2 and "is inside" in err and not (sources / "b.7z").exists()
    for bad in ("nothex", "0123456789ABCDEF0123456789ABCDEF", "../../etc"):
        code, _, err = invoke(runner, "create", sources, "-o", tmp_path / "x.7z", "--key", "alice", "--id", bad,
                              "--version", "2")
        assert code == 2 and "a bundle id is 8 to 64 lower-case letters" in err, bad


def test_interrupted_create_leaves_nothing_at_the_output(keyring: Keyring, sources: Path, tmp_path: Path) -> None:
    """SIGINT, SIGTERM or SIGHUP midway: no output file and no temporary file (the last two used to end the process
    before its cleanup); SIGKILL: nothing at the output path, or, killed just after the rename, the whole bundle."""
    big = sources / "accounts" / "big.md"
    with big.open("w", encoding="utf-8") as handle:
        for i in range(150_000):  # a checking pass of about 2 s, so the signal comes while create runs
            handle.write(f"line {i} of a long account, {i * 7919 % 10007} people\n")
    env = {**os.environ, "MIRROR_KEYS": str(tmp_path / "keys")}
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL):
        out = tmp_path / f"out-{sig.name}.7z"
        for _ in range(3):  # on a loaded machine the signal may come once the bundle is in place: then again
            proc = subprocess.Popen([sys.executable, "-m", "mirror", "create", str(sources), "-o", str(out),
                                     "--key", "alice"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    preexec_fn=hear_hangups)
            deadline = time.monotonic() + 60
            while not list(tmp_path.glob(f".{out.name}.*")) and time.monotonic() < deadline:
                time.sleep(0.02)
            assert proc.poll() is None, "create finished before it could be interrupted"
            proc.send_signal(sig)  # at once: the writing after the temporary file takes a few tenths of a second
            _, err = proc.communicate(timeout=60)
            assert b"Traceback" not in err
            if not out.exists():
                break
            # the signal came after the rename: the whole bundle, never a piece, and nothing else left
            assert invoke(CliRunner(), "verify", out, "--keys", tmp_path / "keys")[0] == 0
            assert list(tmp_path.glob(f".{out.name}.*")) == []
            out.unlink()
        else:
            pytest.fail(f"create was never interrupted by {sig.name} before it placed the bundle")
        assert proc.returncode != 0
        if sig != signal.SIGKILL:
            assert b"interrupted" in err and proc.returncode == 128 + sig, err  # 130, 143, 129: as a shell says
            assert list(tmp_path.glob(f".{out.name}.*")) == []


def test_progress_counts_every_stored_byte(keyring: Keyring, sources: Path, tmp_path: Path) -> None:
    """The progress callback sees each account and photo once, as stored, and the reader's page."""
    from mirror.bundle.create import CreateRequest, create_bundle

    seen: list[int] = []
    result = create_bundle(CreateRequest(sources, tmp_path / "b.7z"), keyring.secret("alice", None), seen.append)
    assert len(seen) == result.files + 1 == 5
    meta = json.loads((sevenzip_extract(result.out, tmp_path / "x") / META).read_bytes())
    assert sum(seen) == sum(f["size"] for f in meta["files"].values())


def test_create_refuses_a_title_readers_could_not_verify(runner: CliRunner, keyring: Keyring, sources: Path,
                                                         tmp_path: Path) -> None:
    """A title over bundle.json's cap is refused up front (exit 2), before any passphrase, with nothing written."""
    out = tmp_path / "b.7z"
    code, _, err = invoke(runner, "create", sources, "-o", out, "--key", "alice", "--title", "x" * 1001)
    assert code == 2 and "more than 1000" in err and not out.exists()
    assert invoke(runner, "create", sources, "-o", out, "--key", "alice", "--title", "x" * 1000)[0] == 0


@pytest.mark.parametrize(("title", "says"), [
    ("caf\udce9", "the title is not UTF-8 text"), ("   ", "the title is empty"),
    ("Алматы\nновая строка", "holds control characters"), ("\x1b[2Jtitle", "holds control characters"),
])
def test_create_refuses_a_title_that_is_no_line_of_text(runner: CliRunner, keyring: Keyring, sources: Path,
                                                         tmp_path: Path, title: str, says: str) -> None:
    """A title typed in a cp1251 terminal (not UTF-8) broke the reader's page after the passphrase was asked
    ("internal error: UnicodeEncodeError"); a blank one, a line break or an escape was signed (helper-121)."""
    out = tmp_path / "b.7z"
    code, _, err = invoke(runner, "create", sources, "-o", out, "--key", "alice", "--title", title)
    assert code == 2 and says in err and "internal error" not in err and not out.exists(), err


def test_create_names_a_folder_whose_name_is_no_utf8(runner: CliRunner, keyring: Keyring, sources: Path,
                                                     tmp_path: Path) -> None:
    """A folder named in cp1251 (as a Windows zip brings it) would be the title: refused before any work, with the
    fix; with --title it is bundled."""
    import os
    import shutil

    folder = Path(os.fsdecode(bytes(tmp_path) + b"/" + "Алматы".encode("cp1251")))
    shutil.copytree(sources, folder)
    out = tmp_path / "b.7z"
    code, _, err = invoke(runner, "create", folder, "-o", out, "--key", "alice")
    assert code == 2 and "is not UTF-8 text, and it would be the title" in err and not out.exists(), err
    assert invoke(runner, "create", folder, "-o", out, "--key", "alice", "--title", "Алматы")[0] == 0
