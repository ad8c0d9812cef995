"""The room's private temporary folder, and the folders of rooms that were killed before they could remove theirs.

Example::

    with spool_folder() as spool:     # $TMPDIR/mirror-room-XXXX, mode 0700, locked while the room runs
        serve(..., spool)             # each bundle's SHA256SUMS is served from a file in it
    # removed here; and a room stopped by SIGKILL (or a power cut) leaves its folder, removed by the next room

A running room holds an exclusive flock on its folder itself (which also keeps systemd-tmpfiles from ageing its
files away), and only then writes the marker file `room-locked` into it. The next room to start removes every
`mirror-room-*` folder of the same user that has the marker and whose lock it can take: its room is gone. A
folder without the marker is never touched (a room between making its folder and locking it; one of a release
before the marker; one on a file system that refuses flock, which serves without a lock and writes no marker).
Only the user's own folders are looked at, and a link is never followed.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

PREFIX = "mirror-room-"
MARKER = "room-locked"  # not "held": the build before this one locked a file of that name, not its folder, and
# a folder of its running room would have looked marked and free (helper-152)
MAX_LISTED = 100_000  # entries of the temporary folder read on start, and of those named like ours, looked at:
MAX_LOOKED_AT = 1000  # the start stays quick for any /tmp


@contextlib.contextmanager
def spool_folder() -> Iterator[Path]:
    """A new private folder, locked while in use and removed after; left folders of dead rooms removed first."""
    base = Path(tempfile.gettempdir())
    _remove_left(base)
    folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=base))
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            if _lock(fd, wait=True):  # the marker only once the lock is held: no other room can take it for free
                os.close(os.open(MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600, dir_fd=fd))
            yield folder
        finally:
            os.close(fd)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _lock(fd: int, wait: bool) -> bool:
    """An exclusive flock on `fd`; False where it is refused (held by another, or a file system without locks)."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except OSError:  # BlockingIOError: another holds it; ENOLCK, EOPNOTSUPP: NFS without lockd, some FUSE
        return False
    return True


def _remove_left(base: Path) -> None:
    """Remove the folders that rooms of this user left behind (marked, and no room holds their lock); never raises."""
    try:
        with os.scandir(base) as entries:
            listed = itertools.islice(entries, MAX_LISTED)
            names = list(itertools.islice((e.name for e in listed if e.name.startswith(PREFIX)), MAX_LOOKED_AT))
    except OSError:
        return
    for name in names:
        with contextlib.suppress(OSError):
            _remove_if_left(base / name)


def _remove_if_left(folder: Path) -> None:
    """Remove this folder if it is one of ours, marked, and its room is gone (its lock is free)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if info.st_uid != os.getuid():
            return  # another user's: never touched
        try:
            marker = os.stat(MARKER, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return  # not locked yet, never locked, or a release before the marker
        if stat.S_ISREG(marker.st_mode) and _lock(fd, wait=False):
            shutil.rmtree(folder, ignore_errors=True)  # while locked: a room cannot be starting in it
    finally:
        os.close(fd)
