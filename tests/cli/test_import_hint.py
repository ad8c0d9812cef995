"""The exact `mirror keys import` command printed for an unknown signer works for any file name, and a file name
never reaches the terminal with its control characters raw."""

from __future__ import annotations

import json
import os
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from helpers import require_tool, run
from mirror.cli.common import shell_word
from mirror.trust.keyring import Keyring


def _command(text: str) -> str:
    """The pasteable command in a line of output."""
    start = text.index("mirror keys import ")
    return text[start:].split(" --name ")[0]


@pytest.fixture
def reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Keyring:
    """A reader whose keyring does not hold alice."""
    ring = Keyring(tmp_path / "reader-keys")
    monkeypatch.setenv("MIRROR_KEYS", str(ring.folder))
    return ring


def test_a_name_beginning_with_a_dash_is_printed_as_a_path(bundle: Path, reader: Keyring, runner: CliRunner,
                                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """verify, extract and open print the same command, `./-dash.7z`, and pasting it imports the key."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    shutil.copy(bundle, "-dash.7z")
    code, out, _ = invoke(runner, "verify", "--", "-dash.7z")
    assert code == 5 and _command(out) == "mirror keys import ./-dash.7z"
    for args in (("extract", "--", "-dash.7z", tmp_path / "out"), ("open", "--no-browser", "--", "-dash.7z")):
        code, _, err = invoke(runner, *args)
        assert code == 5 and _command(err) == "mirror keys import ./-dash.7z", err
    words = shlex.split(_command(out))[1:]
    code, _, err = invoke(runner, *words, "--name", "alice", "--checked", "first-use")
    assert code == 0, err
    assert reader.get("alice").checked == "first-use"


@pytest.mark.parametrize("name", ["a\x1b[2Jb.7z", "new\nline.7z", "bidi\u202eevil.7z", "quote's \\x.7z",
                                  "bad\udcffbyte.7z"],
                         ids=["escape", "newline", "bidi", "quote and backslash", "undecodable byte"])
def test_a_name_with_control_characters_is_escaped_and_still_exact(name: str, bundle: Path, reader: Keyring,
                                                                   runner: CliRunner) -> None:
    """Nothing non-printable reaches the terminal; bash reads the printed word back as the exact file name."""
    bash = require_tool("bash")
    shutil.copy(bundle, name)
    code, out, _ = invoke(runner, "verify", name)
    assert code == 5
    assert all(c.isprintable() or c == "\n" for c in out) and out.count("\n") == len(out.splitlines())
    word = shell_word(Path(name))
    assert _command(out) == f"mirror keys import {word}"
    done = run(bash, "-c", f"printf %s {word} > printed")
    assert done.returncode == 0 and Path("printed").read_bytes() == os.fsencode(name)


def test_an_extracted_folder_gets_a_command_for_its_key_file(bundle: Path, reader: Keyring, runner: CliRunner,
                                                             tmp_path: Path) -> None:
    """verify DIR of an unknown signer names the folder's author.pub (keys import reads a key file, not a
    folder), and the printed command, with the right digits, imports the key."""
    from helpers import sevenzip_extract
    from mirror.trust.fingerprint import fingerprint

    folder = sevenzip_extract(bundle, tmp_path / "-folder")
    code, out, _ = invoke(runner, "verify", folder)
    assert code == 5
    assert _command(out) == f"mirror keys import {shell_word(folder / '.mirror' / 'author.pub')}"
    digits = fingerprint(Keyring(tmp_path / "keys").get("alice").public)
    code, _, err = invoke(runner, *shlex.split(_command(out))[1:], "--name", "alice", "--fingerprint", digits)
    assert code == 0, err
    assert reader.get("alice").checked == "fingerprint"


def test_the_key_inside_an_extracted_bundle_needs_the_digits_too(bundle: Path, reader: Keyring, runner: CliRunner,
                                                                 tmp_path: Path) -> None:
    """keys import of a bundle asks for the digits, but the same key taken from the unpacked bundle
    (.mirror/author.pub) went in with nothing compared, and verify then said VERIFIED: whoever re-signed a bundle
    puts their own key there. It asks for the digits (or --checked first-use) too; verify names an unchecked key
    as never compared."""
    from helpers import sevenzip_extract

    folder = sevenzip_extract(bundle, tmp_path / "folder")
    key = folder / ".mirror" / "author.pub"
    code, _, err = invoke(runner, "keys", "import", key, "--name", "alice")
    assert code == 2 and "is the key that came inside a bundle" in err and "--fingerprint" in err
    assert "alice" not in reader.names()
    copied = tmp_path / "author.pub"  # the same file, kept apart from the bundle: the reader's own judgement
    copied.write_bytes(key.read_bytes())
    assert invoke(runner, "keys", "import", copied, "--name", "alice")[0] == 0
    code, out, _ = invoke(runner, "verify", folder)
    assert code == 0 and "(never compared with its owner)" in out and "first use" not in out


def test_verify_against_the_digits_without_importing_the_key(bundle: Path, reader: Keyring, runner: CliRunner,
                                                               tmp_path: Path) -> None:
    """A reader with the author's 40 digits (by phone, on paper) had to change their keyring before a check, where
    minisign takes the key on the command line (-P). verify --fingerprint trusts the signer for this check only;
    other digits mean the bundle is not the author's (exit 3); digits that are no fingerprint are a usage error."""
    from mirror.trust.fingerprint import fingerprint

    digits = fingerprint(Keyring(tmp_path / "keys").get("alice").public)
    code, out, err = invoke(runner, "verify", bundle, "--fingerprint", digits.replace(" ", ""))
    assert code == 0 and "VERIFIED" in out and "signed by    the fingerprint you gave" in out, out + err
    code, out, _ = invoke(runner, "verify", "--json", bundle, "--fingerprint", digits)
    assert code == 0 and json.loads(out)["signer"]["checked"] == "fingerprint"
    assert reader.names() == []  # nothing was imported
    other = ("1" + digits[1:]) if digits[0] != "1" else ("2" + digits[1:])
    code, out, err = invoke(runner, "verify", bundle, "--fingerprint", other)
    assert code == 3 and "whose fingerprint is not the one you gave" in out + err
    code, _, err = invoke(runner, "verify", bundle, "--fingerprint", "12345")
    assert code == 2 and "a fingerprint is 40 digits" in err


def test_a_keyring_chosen_with_keys_is_the_one_the_command_imports_into(bundle: Path, runner: CliRunner,
                                                                       tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """`verify --keys FOLDER` of an unknown signer: the printed command names the same FOLDER, in English and in
    Russian. Without it the key went into the default keyring, and `verify --keys FOLDER` still said exit 5."""
    from mirror.trust.fingerprint import fingerprint

    monkeypatch.delenv("MIRROR_KEYS")
    (chosen := tmp_path / "stick keys").mkdir()
    digits = fingerprint(Keyring(tmp_path / "keys").get("alice").public)
    for lang in ("ru", "en"):
        monkeypatch.setenv("MIRROR_LANG", lang)
        code, out, _ = invoke(runner, "verify", bundle, "--keys", chosen)
        assert code == 5
        line = out[out.index("mirror keys import "):].splitlines()[0]
        assert line.endswith(f" --keys {shell_word(chosen)}"), line
        code, _, err = invoke(runner, "extract", bundle, tmp_path / f"out-{lang}", "--keys", chosen)
        assert code == 5 and f"--keys {shell_word(chosen)}; " in err, err
    args = shlex.split(line)[1:]
    args[args.index("--fingerprint") + 1], args[args.index("--name") + 1] = digits, "alice"
    code, _, err = invoke(runner, *args)
    assert code == 0, err
    assert invoke(runner, "verify", bundle, "--keys", chosen)[0] == 0
