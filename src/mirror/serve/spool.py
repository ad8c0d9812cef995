"""The room's private temporary folder, and the folders of rooms that were killed before they could remove theirs.

Example::

    with spool_folder() as spool:     # $TMPDIR/mirror-room-XXXX, mode 0700, locked while the room runs
        serve(..., spool)             # each bundle's SHA256SUMS is served from a file in it
    # removed here; and a room stopped by SIGKILL (or a power cut) leaves its folder, removed by the next room

A running room holds an exclusive flock on `held` inside its folder. The next room to start removes every
`mirror-room-*` folder of the same user whose lock it can take (its room is gone), and one without the lock file
only when it is older than STALE_UNLOCKED; a lock file younger than STARTING is left too (a room between making
its folder and locking it is never touched).
Only the user's own folders are looked at, and a link is never followed.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PREFIX = "mirror-room-"
LOCK_NAME = "held"
STALE_UNLOCKED = 3600.0  # seconds: a folder without its lock file this old was left by a room that died
STARTING = 60.0  # seconds: a lock file younger than this may be a room's that has not locked it yet
MAX_LISTED = 100_000  # entries of the temporary folder read on start, and of those named like ours, looked at:
MAX_LOOKED_AT = 1000  # the start stays quick for any /tmp


@contextlib.contextmanager
def spool_folder() -> Iterator[Path]:
    """A new private folder, locked while in use and removed after; left folders of dead rooms removed first."""
    base = Path(tempfile.gettempdir())
    _remove_left(base)
    folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=base))
    try:
        fd = os.open(folder / LOCK_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield folder
        finally:
            os.close(fd)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _remove_left(base: Path) -> None:
    """Remove the folders that rooms of this user left behind (no room holds their lock); never raises."""
    try:
        with os.scandir(base) as entries:
            listed = itertools.islice(entries, MAX_LISTED)
            names = list(itertools.islice((e.name for e in listed if e.name.startswith(PREFIX)), MAX_LOOKED_AT))
    except OSError:
        return
    for name in names:
        with contextlib.suppress(OSError):
            if _is_left(base / name):
                shutil.rmtree(base / name, ignore_errors=True)


def _is_left(folder: Path) -> bool:
    """Whether this folder is one of ours whose room is gone."""
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        return False  # a link, a file, or another user's: never touched
    try:
        fd = os.open(folder / LOCK_NAME, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        return time.time() - info.st_mtime > STALE_UNLOCKED
    try:
        lock = os.fstat(fd)
        if not stat.S_ISREG(lock.st_mode) or time.time() - lock.st_mtime < STARTING:
            return False  # not ours; or made just now, by a room about to lock it
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a running room holds it
        return True
    finally:
        os.close(fd)
