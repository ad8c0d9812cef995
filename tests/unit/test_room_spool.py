"""The room's temporary folder: private, locked while the room runs, and removed by the next room after a kill."""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mirror.serve.spool import MARKER, PREFIX, spool_folder


@pytest.fixture
def tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    yield tmp_path


def _left(base: Path, name: str, *, marked: bool = True) -> Path:
    """A folder as a room leaves it, its files a day old."""
    folder = base / (PREFIX + name)
    folder.mkdir(mode=0o700)
    (folder / "sums").write_bytes(b"x" * 10)
    if marked:
        (folder / MARKER).touch()
    then = time.time() - 86400
    for path in (*folder.iterdir(), folder):
        os.utime(path, (then, then))
    return folder


def _held(folder: Path) -> int:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_a_room_folder_is_private_locked_and_removed(tmp: Path) -> None:
    with spool_folder() as folder:
        assert folder.parent == tmp and folder.name.startswith(PREFIX)
        assert folder.stat().st_mode & 0o077 == 0 and (folder / MARKER).is_file()
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            with pytest.raises(BlockingIOError):  # held while the room runs
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        with spool_folder() as second:  # a second room at once leaves the first one's folder alone
            assert second != folder and folder.is_dir()
    assert not folder.exists() and not second.exists()


def test_only_folders_of_dead_rooms_are_removed(tmp: Path) -> None:
    """A room killed (SIGKILL, a power cut) left its folder in /tmp for good: the next room removes it, and
    nothing else: not a running room's, not one without the marker (a room of the release before it, whose
    folder was removed under it by the first version of this, helper-150), not a link, not another's folder."""
    dead = _left(tmp, "dead")
    unmarked = _left(tmp, "unmarked", marked=False)
    running = _left(tmp, "running")
    fd = _held(running)
    target = tmp / "elsewhere"
    target.mkdir()
    (target / MARKER).touch()
    (tmp / (PREFIX + "link")).symlink_to(target)
    not_ours = tmp / "other-folder"
    not_ours.mkdir()
    try:
        with spool_folder():
            assert not dead.exists()
            assert unmarked.is_dir() and running.is_dir() and (running / "sums").is_file() and not_ours.is_dir()
            assert (target / MARKER).exists() and (tmp / (PREFIX + "link")).is_symlink()
    finally:
        os.close(fd)


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to give a folder to another user")
def test_another_users_folder_is_never_touched(tmp: Path) -> None:
    theirs = _left(tmp, "theirs")
    os.chown(theirs, 65534, 65534)
    with spool_folder():
        assert theirs.is_dir()


def test_a_running_room_of_the_build_before_keeps_its_folder(tmp: Path) -> None:
    """The build before locked a file named `held` in its folder, not the folder: with the marker of that name, the
    folder of its running room looked marked and free, and was removed under it (helper-152)."""
    before = _left(tmp, "before", marked=False)
    fd = os.open(before / "held", os.O_WRONLY | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with spool_folder():
            assert before.is_dir() and (before / "sums").is_file()
    finally:
        os.close(fd)


def test_a_file_system_without_locks_still_serves(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """$TMPDIR on NFS without lockd or some FUSE file systems refuses flock: the room did not start
    (helper-150). It serves without the lock, and leaves no marker another room could take for a dead room's."""
    def refuse(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", refuse)
    with spool_folder() as folder:
        assert folder.is_dir() and not (folder / MARKER).exists()
        with spool_folder():
            assert folder.is_dir()
    assert not folder.exists()


def test_a_killed_room_leaves_its_folder_to_the_next(tmp: Path) -> None:
    """A real process enters the room's folder and is killed with SIGKILL: its folder stays while it lives and
    after it dies; the next room removes it."""
    code = ("import tempfile, time\n"
            f"tempfile.tempdir = {str(tmp)!r}\n"
            "from mirror.serve.spool import spool_folder\n"
            "with spool_folder() as folder:\n"
            "    print(folder, flush=True)\n"
            "    time.sleep(60)\n")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        folder = Path(child.stdout.readline().strip())
        with spool_folder():  # the room is alive: its folder stays
            assert folder.is_dir() and (folder / MARKER).is_file()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        if child.stdout is not None:
            child.stdout.close()
    assert folder.is_dir()  # nothing ran to remove it
    with spool_folder():
        assert not folder.exists()
