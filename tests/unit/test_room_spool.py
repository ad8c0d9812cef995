"""The room's temporary folder: private, locked while the room runs, and removed by the next room after a kill."""

from __future__ import annotations

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

from mirror.serve import spool
from mirror.serve.spool import LOCK_NAME, PREFIX, spool_folder


@pytest.fixture
def tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    yield tmp_path


def _left(base: Path, name: str, *, lock: bool = True, age: float = 7200.0) -> Path:
    folder = base / (PREFIX + name)
    folder.mkdir(mode=0o700)
    (folder / "sums").write_bytes(b"x" * 10)
    then = time.time() - age
    if lock:
        (folder / LOCK_NAME).touch()
        os.utime(folder / LOCK_NAME, (then, then))
    os.utime(folder, (then, then))
    return folder


def test_a_room_folder_is_private_locked_and_removed(tmp: Path) -> None:
    with spool_folder() as folder:
        assert folder.parent == tmp and folder.name.startswith(PREFIX)
        assert folder.stat().st_mode & 0o077 == 0
        fd = os.open(folder / LOCK_NAME, os.O_RDONLY)
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
    nothing else."""
    dead = _left(tmp, "dead")
    unlocked_old = _left(tmp, "nolock", lock=False)
    unlocked_new = _left(tmp, "starting", lock=False, age=5)
    young_lock = _left(tmp, "locking", age=5)  # made a moment ago, by a room about to lock it
    running = _left(tmp, "running")
    fd = os.open(running / LOCK_NAME, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    target = tmp / "elsewhere"
    target.mkdir()
    (target / LOCK_NAME).touch()
    os.utime(target / LOCK_NAME, (0, 0))
    (tmp / (PREFIX + "link")).symlink_to(target)
    not_ours = tmp / "other-folder"
    not_ours.mkdir()
    try:
        with spool_folder():
            assert not dead.exists() and not unlocked_old.exists()
            assert unlocked_new.is_dir() and young_lock.is_dir() and running.is_dir() and not_ours.is_dir()
            assert (target / LOCK_NAME).exists() and (tmp / (PREFIX + "link")).is_symlink()
    finally:
        os.close(fd)


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to give a folder to another user")
def test_another_users_folder_is_never_touched(tmp: Path) -> None:
    theirs = _left(tmp, "theirs")
    os.chown(theirs, 65534, 65534)
    with spool_folder():
        assert theirs.is_dir()


def test_a_killed_room_leaves_its_folder_to_the_next(tmp: Path) -> None:
    """A real process enters the room's folder and is killed with SIGKILL: its folder stays; once it is past
    STARTING, the next room removes it."""
    code = ("import sys, tempfile, time\n"
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
            assert folder.is_dir()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        if child.stdout is not None:
            child.stdout.close()
    assert folder.is_dir()  # nothing ran to remove it
    then = time.time() - 2 * spool.STARTING
    os.utime(folder / LOCK_NAME, (then, then))
    with spool_folder():
        assert not folder.exists()
