"""What a hurried user types (helper-148's review): each gets a plain refusal or does what was meant."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from mirror.trust.keyring import Keyring


@pytest.mark.parametrize("args", [
    ("fetch", "--mirror", "http://127.0.0.1:9/", "--dest", ""),
    ("split", "BUNDLE", "--max-size", "1M", "-o", ""),
    ("serve", ""),
    ("extract", "BUNDLE", ""),
], ids=["fetch --dest ''", "split -o ''", "serve ''", "extract BUNDLE ''"])
def test_an_empty_path_is_refused(args: tuple[str, ...], bundle: Path, runner: CliRunner, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """`--dest "$DEST"` with DEST unset: fetch wrote into the current folder, split wrote its parts there, serve
    served it. An empty path is refused (exit 2) and nothing is written."""
    monkeypatch.chdir(tmp_path)
    before = sorted(tmp_path.iterdir())
    code, _, err = invoke(runner, *(str(bundle) if a == "BUNDLE" else a for a in args))
    assert code == 2 and "an empty path" in err, err
    assert sorted(tmp_path.iterdir()) == before


def test_fetch_all_with_ids_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    """`fetch --all ID` fetched everything without a word; the synopsis is [--all | ID ...]."""
    code, _, err = invoke(runner, "fetch", "--mirror", "http://127.0.0.1:9/", "--all", "0123456789abcdef",
                          "--dest", tmp_path / "in")
    assert code == 2 and "--all and bundle ids: choose one" in err, err
    assert not (tmp_path / "in").exists()


def test_a_mirror_url_pasted_with_a_space_after_it(runner: CliRunner, tmp_path: Path) -> None:
    """`--mirror 'http://HOST/ '` (copied from a messenger) asked for 'http://HOST/ /index.json'."""
    code, out, err = invoke(runner, "fetch", "--mirror", "http://127.0.0.1:9/ \n", "--list", "--timeout", "1",
                            "--budget", "2")
    assert code == 4 and "http://127.0.0.1:9/ /" not in out + err and "http://127.0.0.1:9/" in out, out + err
    code, _, err = invoke(runner, "fetch", "--mirror", "http://127.0.0.1:9/a\nb/", "--list")
    assert code == 2 and "not a valid mirror URL" in err


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to give a folder to another user")
def test_a_keyring_of_another_user_is_not_fixed_by_chmod(keyring: Keyring, bundle: Path, runner: CliRunner,
                                                         tmp_path: Path) -> None:
    """The hint said `chmod o-w`, which cannot change whose the folder is."""
    theirs = tmp_path / "theirs"
    shutil.copytree(keyring.folder, theirs)
    for path in (theirs, *theirs.rglob("*")):
        os.chown(path, 65534, 65534)
    code, _, err = invoke(runner, "verify", bundle, "--keys", theirs)
    assert code == 2 and "belongs to another user" in err and "chmod" not in err and "of your own" in err, err


def test_update_onto_a_version_made_before_does_not_offer_a_second_one(runner: CliRunner, keyring: Keyring,
                                                                       sources: Path, tmp_path: Path) -> None:
    """`create --update v1.7z -o v2.7z` when v2.7z exists (made before, from other sources): the hint offered
    --force, which signs a second, different v2 of the same bundle. It now points at --update v2.7z."""
    first, second = tmp_path / "v1.7z", tmp_path / "v2.7z"
    assert invoke(runner, "create", sources, "-o", first, "--key", "alice")[0] == 0
    assert invoke(runner, "create", sources, "-o", second, "--key", "alice", "--update", first)[0] == 0
    code, _, err = invoke(runner, "create", sources, "-o", second, "--key", "alice", "--update", first)
    assert code == 2 and "perhaps version 2 made before" in err and f"--update {second}" in err, err
    assert "second, different version 2" in err


@pytest.mark.parametrize("command", [("verify",), ("show",), ("scan",), ("split", "--max-size", "1M")])
def test_an_unreadable_input_is_one_line_and_exit_1(command: tuple[str, ...], bundle: Path, tmp_path: Path) -> None:
    """A bundle this user may not read, or one in a folder they may not enter, was click's three-line usage error
    (exit 2), "does not exist" for the second (helper-158); docs/json.md says exit 1."""
    import subprocess
    import sys

    from helpers import require_tool

    prefix: list[str] = []
    if os.geteuid() == 0:  # root reads anything: without the capabilities that let it
        prefix = [require_tool("setpriv"), "--inh-caps=-dac_override,-dac_read_search",
                  "--bounding-set=-dac_override,-dac_read_search"]
    mine = tmp_path / "mine.7z"
    shutil.copy(bundle, mine)
    mine.chmod(0)
    locked = tmp_path / "locked"
    locked.mkdir()
    shutil.copy(bundle, locked / "b.7z")
    locked.chmod(0)
    try:
        for path, said in ((mine, "this user may not read it"), (locked / "b.7z", "a folder on its path may not be "
                                                                                   "entered")):
            done = subprocess.run([*prefix, sys.executable, "-m", "mirror", command[0], str(path), *command[1:]],
                                  capture_output=True, text=True, timeout=60, cwd=tmp_path)
            assert done.returncode == 1 and done.stderr.startswith(f"mirror: {path}: permission denied: {said}"), \
                done.stderr
            assert "Usage:" not in done.stderr and "does not exist" not in done.stderr
    finally:
        locked.chmod(0o700)


_DAMAGED = "this copy was broken or changed on its way: do not open it or pass it on; get another copy"
_CUT = "the copy ends early (a download or a copy was cut short): get the whole file again"


@pytest.mark.parametrize("command", [("verify",), ("show",), ("extract",), ("open", "--no-browser"), ("join",)])
def test_a_damaged_copy_is_said_with_what_to_do(command: tuple[str, ...], bundle: Path, runner: CliRunner,
                                                tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A changed byte or a copy cut short: exit 3 with a hint of what to do, in the reader's language too (there
    was the error alone, "compressed data is damaged", and the reader was left to guess)."""
    data = bytearray(bundle.read_bytes())
    data[len(data) // 2] ^= 0xFF
    (changed := tmp_path / "changed.7z").write_bytes(data)
    (cut := tmp_path / "cut.7z").write_bytes(bundle.read_bytes()[:-2000])
    (page := tmp_path / "notes.7z").write_text("not a bundle at all, written by hand\n")

    def run(path: Path) -> tuple[int, str]:
        extra = [tmp_path / f"out-{path.stem}"] if command == ("extract",) else \
            ["-o", tmp_path / "joined.7z"] if command == ("join",) else []
        code, _, err = invoke(runner, *command, path, *extra)
        return code, err

    for path, hint in ((changed, _DAMAGED), (cut, _CUT), (page, "give the .7z file the bundle came in")):
        code, err = run(path)
        assert code == 3 and f"hint: {hint}" in err, (path.name, err)
        assert len(err.strip().splitlines()) == 2, err
    monkeypatch.setenv("MIRROR_LANG", "ru")
    code, err = run(changed)
    assert code == 3 and "подсказка: эта копия была повреждена или изменена в пути" in err, err
    assert not (tmp_path / "joined.7z").exists() and not list(tmp_path.glob("out-*"))
