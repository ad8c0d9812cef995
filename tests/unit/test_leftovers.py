"""What runs killed outright left beside their output is removed by the next run; a live run's work never is."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import mirror.leftovers
from mirror.bundle.extract import extract_bundle
from mirror.safeio import atomic_write
from mirror.trust.keyring import Keyring

_WRITER = """
import sys, time
from pathlib import Path
from mirror.safeio import atomic_output
with atomic_output(Path(sys.argv[1]), force=False) as tmp:
    tmp.write_bytes(b"part of a bundle")
    print(tmp, flush=True)
    time.sleep(600)
"""

_EXTRACTOR = """
import sys, time
from pathlib import Path
from mirror.bundle.destination import private_folder
with private_folder(Path(sys.argv[1]), sys.argv[2]) as folder:
    (folder / "account.txt").write_text("what the unpacked account said")
    print(folder, flush=True)
    time.sleep(600)
"""


@pytest.fixture(autouse=True)
def _sweep_again() -> None:
    """Each folder is swept once a process: a folder of an earlier test may have had this one's inode."""
    mirror.leftovers._swept.clear()


@pytest.fixture
def runs() -> Iterator[list[subprocess.Popen[str]]]:
    """Writers started in their own processes; killed at the end if still running."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        _kill(process)


def _start(runs: list[subprocess.Popen[str]], script: str, *args: str | Path) -> tuple[subprocess.Popen[str], Path]:
    """A run of `script` in its own process, and the temporary path it printed once it was working."""
    process = subprocess.Popen([sys.executable, "-c", script, *map(str, args)], stdout=subprocess.PIPE, text=True)
    runs.append(process)
    assert process.stdout is not None
    made = Path(process.stdout.readline().strip())
    assert made.exists(), made
    return process, made


def _kill(process: subprocess.Popen[str]) -> None:
    """SIGKILL, as a power cut or the OOM killer ends a run: nothing of it runs after."""
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def test_a_killed_runs_temporary_file_goes_a_live_runs_stays(runs: list[subprocess.Popen[str]], tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A run killed outright (SIGKILL, a power cut) left its temporary file, 137 MB of a bundle hidden on a USB
    stick, for good. The next run writing in that folder removes it, and another output's; a run still writing
    its own (held, however old) keeps it."""
    target, other = tmp_path / "b.7z", tmp_path / "c.7z"
    killed, killed_tmp = _start(runs, _WRITER, target)
    _, live_tmp = _start(runs, _WRITER, target)
    dead_other, other_tmp = _start(runs, _WRITER, other)
    _kill(killed)
    _kill(dead_other)
    monkeypatch.setattr(mirror.leftovers, "UNCHANGED_FOR", 0.0)
    atomic_write(target, b"the bundle")
    assert target.read_bytes() == b"the bundle"
    assert not killed_tmp.exists()
    assert live_tmp.read_bytes() == b"part of a bundle"  # held by the run still writing it
    assert not other_tmp.exists()


def test_a_leftover_is_kept_while_it_may_be_a_run_that_just_began(runs: list[subprocess.Popen[str]],
                                                                   tmp_path: Path) -> None:
    """A temporary file is made a moment before it is held: one changed in the last UNCHANGED_FOR seconds stays
    even when no process holds it."""
    target = tmp_path / "b.7z"
    killed, killed_tmp = _start(runs, _WRITER, target)
    _kill(killed)
    atomic_write(target, b"the bundle")
    assert killed_tmp.exists()


def test_only_this_naming_owned_here_and_never_through_a_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    """Names of another shape, and a link of the right shape (and what it points to), are left."""
    monkeypatch.setattr(mirror.leftovers, "UNCHANGED_FOR", 0.0)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    pointed = elsewhere / "precious.7z"
    pointed.write_bytes(b"the reader's")
    keep = [tmp_path / ".b.7z.mine.mirror-tmp", tmp_path / ".b.7z.ABCDEFGH.mirror-tmp",
            tmp_path / "b.7z.abcd1234.mirror-tmp", tmp_path / ".b.7z.abcd1234.mirror-tmp.bak"]
    for path in keep:
        path.write_bytes(b"not a run's")
    link = tmp_path / ".b.7z.abcd1234.mirror-tmp"
    link.symlink_to(pointed)
    folder = tmp_path / ".b.7z.efgh5678.mirror-tmp"
    folder.mkdir()
    stale = tmp_path / ".b.7z.ijkl9012.mirror-tmp"
    stale.write_bytes(b"a killed run's")
    atomic_write(tmp_path / "b.7z", b"the bundle")
    assert all(path.exists() for path in keep) and link.is_symlink()
    assert pointed.read_bytes() == b"the reader's"
    assert not stale.exists() and not folder.exists()  # a killed extract's working folder is one too


def test_a_killed_extracts_working_folder_goes_with_what_it_had_unpacked(
        runs: list[subprocess.Popen[str]], tmp_path: Path, bundle: Path, keyring: Keyring,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A killed `mirror extract` left a hidden working folder with the accounts and photos it had unpacked beside
    the reader's folder. The next extract there removes it; one a live extract holds stays."""
    folder = tmp_path / "stick"
    folder.mkdir()
    killed, killed_work = _start(runs, _EXTRACTOR, folder, ".out.")
    _, live_work = _start(runs, _EXTRACTOR, folder, ".out.")
    _kill(killed)
    monkeypatch.setattr(mirror.leftovers, "UNCHANGED_FOR", 0.0)
    extracted = extract_bundle(bundle, folder / "out", keyring)
    assert extracted.dest == folder / "out" and (folder / "out").is_dir()
    assert not killed_work.exists()
    assert (live_work / "account.txt").exists()


def test_another_users_leftover_is_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A shared folder: a leftover of the right naming that another user owns is theirs, and stays."""
    monkeypatch.setattr(mirror.leftovers, "UNCHANGED_FOR", 0.0)
    stale = tmp_path / ".b.7z.abcd1234.mirror-tmp"
    stale.write_bytes(b"someone else's")
    owner = stale.stat().st_uid
    monkeypatch.setattr(mirror.leftovers.os, "getuid", lambda: owner + 1)
    atomic_write(tmp_path / "b.7z", b"the bundle")
    assert stale.exists() and (tmp_path / "b.7z").read_bytes() == b"the bundle"


def test_a_name_lost_before_it_was_claimed_is_said_to_be(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run stopped (SIGSTOP, a laptop closed) between making its temporary file and holding it may find it
    removed by another run's cleaning: claim says so, and the run makes another name."""
    import tempfile

    from mirror.leftovers import claim, remove_unheld

    monkeypatch.setattr(mirror.leftovers, "UNCHANGED_FOR", 0.0)
    fd, name = tempfile.mkstemp(prefix=".b.7z.", suffix=".mirror-tmp", dir=tmp_path)
    try:
        assert remove_unheld(tmp_path) == 1  # not held yet: taken for a killed run's
        assert not claim(fd, Path(name))
    finally:
        os.close(fd)
    fd, name = tempfile.mkstemp(prefix=".b.7z.", suffix=".mirror-tmp", dir=tmp_path)
    try:
        assert claim(fd, Path(name))
        mirror.leftovers._swept.clear()
        assert remove_unheld(tmp_path) == 0 and Path(name).exists()
    finally:
        os.close(fd)


def test_a_hard_link_put_at_a_temporary_name_is_held_by_its_file(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """fetch --keep-mirror puts a hard link of the fetched bundle at atomic_output's temporary name: while it is
    held, no cleaning removes it; once the run is gone, only the link goes, never the file it shares."""
    from mirror.leftovers import held, remove_unheld

    monkeypatch.setattr(mirror.leftovers, "UNCHANGED_FOR", 0.0)
    fetched = tmp_path / "downloads" / "bundle.7z"
    fetched.parent.mkdir()
    fetched.write_bytes(b"a fetched bundle")
    linked = tmp_path / ".b.7z.abcd1234.mirror-tmp"
    os.link(fetched, linked)
    with held(linked):
        assert remove_unheld(tmp_path) == 0 and linked.exists()
    mirror.leftovers._swept.clear()
    assert remove_unheld(tmp_path) == 1
    assert not linked.exists() and fetched.read_bytes() == b"a fetched bundle"


def test_a_killed_runs_folder_is_emptied_without_following_its_links(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A working folder left with links inside (to a folder and to a file elsewhere): the links go, never what
    they point to."""
    from mirror.leftovers import remove_unheld

    monkeypatch.setattr(mirror.leftovers, "UNCHANGED_FOR", 0.0)
    precious = tmp_path / "precious"
    (precious / "deep").mkdir(parents=True)
    (precious / "deep" / "photo.jpg").write_bytes(b"the reader's photo")
    left = tmp_path / ".out.abcd1234.mirror-tmp"
    (left / "accounts" / "sub").mkdir(parents=True)
    (left / "accounts" / "sub" / "a.md").write_text("what was unpacked")
    (left / "to-folder").symlink_to(precious)
    (left / "accounts" / "to-file").symlink_to(precious / "deep" / "photo.jpg")
    assert remove_unheld(tmp_path) == 1
    assert not left.exists() and (precious / "deep" / "photo.jpg").read_bytes() == b"the reader's photo"
