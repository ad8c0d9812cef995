"""`mirror keys import` from what a reader has: the bundle itself, standard input, the QR code's bare key line."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from helpers import SUMS, sevenzip_extract, sevenzip_rebuild
from mirror.cli.app import main
from mirror.trust.fingerprint import fingerprint
from mirror.trust.keyring import Keyring


@pytest.fixture
def reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Keyring:
    """A reader's keyring that does not know alice yet."""
    monkeypatch.setenv("MIRROR_KEYS", str(tmp_path / "reader-keys"))
    return Keyring(tmp_path / "reader-keys")


@pytest.fixture
def named_bundle(bundle: Path, tmp_path: Path) -> Path:
    """alice's bundle under a name a shell would split: spaces and a quote."""
    target = tmp_path / "from Almaty's friend.7z"
    bundle.rename(target)
    return target


def _wrong(digits: str) -> str:
    return ("1" if digits[0] != "1" else "2") + digits[1:]


def test_verify_hint_is_the_exact_command_and_it_works(named_bundle: Path, keyring: Keyring, reader: Keyring,
                                                        runner: CliRunner) -> None:
    """The unknown-signer hint names this bundle, quoted; run with the author's digits, it imports the key."""
    code, out, _ = invoke(runner, "verify", named_bundle)
    assert code == 5
    line = out[out.index("mirror keys import"):].splitlines()[0]
    args = shlex.split(line)
    assert args[3] == str(named_bundle)
    digits = fingerprint(keyring.get("alice").public)
    args[args.index("--fingerprint") + 1] = digits
    args[args.index("--name") + 1] = "alice"
    code, out, err = invoke(runner, *args[1:])
    assert code == 0, err
    assert "signature verifies" in out and "compared by its fingerprint" in out
    assert reader.get("alice").public == keyring.get("alice").public
    assert invoke(runner, "verify", named_bundle)[0] == 0


def test_wrong_fingerprint_from_a_bundle_imports_nothing(bundle: Path, keyring: Keyring, reader: Keyring,
                                                          runner: CliRunner) -> None:
    """A fingerprint that does not match the bundle's signer: exit 2, and the keyring stays empty."""
    digits = fingerprint(keyring.get("alice").public)
    code, out, err = invoke(runner, "keys", "import", bundle, "--name", "alice", "--fingerprint", _wrong(digits))
    assert (code, out) == (2, "")
    assert "not the one you gave" in err
    assert reader.names() == [] and not reader.folder.exists()


def test_a_bundle_needs_digits_or_first_use(bundle: Path, reader: Keyring, runner: CliRunner) -> None:
    """Without --fingerprint the import is refused; --checked first-use records it, loudly."""
    code, _, err = invoke(runner, "keys", "import", bundle, "--name", "alice")
    assert code == 2 and "--checked first-use" in err
    assert reader.names() == []
    code, _, err = invoke(runner, "keys", "import", bundle, "--name", "alice", "--checked", "phone")
    assert code == 2 and reader.names() == []
    code, out, err = invoke(runner, "keys", "import", bundle, "--name", "alice", "--checked", "first-use")
    assert code == 0 and "trusted on first use, never compared" in out
    assert "TRUST ON FIRST USE" in err
    assert reader.get("alice").checked == "first-use"


def test_no_key_is_taken_from_a_tampered_bundle(bundle: Path, keyring: Keyring, reader: Keyring, tmp_path: Path,
                                                runner: CliRunner) -> None:
    """A bundle whose signature does not verify gives no key (exit 3), even with the right digits."""
    folder = sevenzip_extract(bundle, tmp_path / "x")
    sums = folder / SUMS
    sums.write_bytes(sums.read_bytes().replace(b"  ", b"  ./", 1))
    tampered = sevenzip_rebuild(folder, tmp_path / "tampered.7z")
    digits = fingerprint(keyring.get("alice").public)
    code, _, err = invoke(runner, "keys", "import", tampered, "--name", "alice", "--fingerprint", digits)
    assert code == 3, err
    assert reader.names() == []


def test_standard_input_and_the_bare_key_line(keyring: Keyring, reader: Keyring, tmp_path: Path,
                                              runner: CliRunner) -> None:
    """`keys import -` reads a key file or the bare line from stdin; a file holding the bare line works too."""
    public = keyring.get("alice").public
    result = runner.invoke(main, ["keys", "import", "-", "--name", "a1"], input=public.to_text())
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(main, ["keys", "import", "-", "--name", "a2", "--fingerprint", fingerprint(public)],
                           input=public.key_line + "\n")
    assert result.exit_code == 0 and "compared by its fingerprint" in result.stdout
    line = tmp_path / "qr.txt"
    line.write_text(public.key_line)
    assert invoke(runner, "keys", "import", line, "--name", "a3")[0] == 0
    assert {reader.get(n).public for n in ("a1", "a2", "a3")} == {public}
    result = runner.invoke(main, ["keys", "import", "-", "--name", "a4"], input="not a key\n")
    assert result.exit_code == 2 and result.stderr.startswith("mirror: standard input is not")
    result = runner.invoke(main, ["keys", "import", "-", "--name", "a5"], input=b"7z\xbc\xaf\x27\x1c" + bytes(40))
    assert result.exit_code == 2 and "name the bundle's file" in result.stderr
    assert "a4" not in reader.names() and "a5" not in reader.names()


def test_a_bundle_another_tool_wrapped_is_named_as_what_it_is(bundle: Path, reader: Keyring, tmp_path: Path,
                                                               runner: CliRunner) -> None:
    """A bundle a messenger zipped, one gzipped, and a later 7-Zip volume are said as verify says them, with what
    to do, and give no key: each was "not a minisign public key", as if the reader had given the wrong file."""
    import gzip
    import zipfile

    data = bundle.read_bytes()
    zipped = tmp_path / "story.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("story.7z", data)
    gzipped = tmp_path / "story.7z.gz"
    gzipped.write_bytes(gzip.compress(data))
    (tmp_path / "cut.7z.001").write_bytes(data[: len(data) // 2])
    later = tmp_path / "cut.7z.002"
    later.write_bytes(data[len(data) // 2 :])
    for given, code, said in ((zipped, 3, "zip archive"), (gzipped, 3, "gzip"), (later, 2, "volume 2")):
        result = invoke(runner, "keys", "import", given, "--name", "alice", "--checked", "first-use")
        assert result[0] == code and said in result[2] and "minisign" not in result[2], result
        assert len(result[2].splitlines()) == 2  # the error and its hint
    assert reader.names() == []
