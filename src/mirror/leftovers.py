"""What a run killed outright left beside its output, told apart from what a live run is writing.

A run killed by SIGKILL, the OOM killer or a power cut cannot remove its temporary file (137 MB of a bundle,
hidden on a USB stick) or its working folder (the accounts and photos it had unpacked). Each run therefore
holds an exclusive flock(2) on every temporary file and working folder of its own while it writes them: the
kernel lets go of it when the process ends, however it ends. The next run writing beside them removes those of
exactly its own naming that no process holds and that have not changed for a while (their ctime, which a link,
a rename and every write set to now, and no tool sets back): a name is made a moment before it is held.

Example::

    remove_unheld(folder, ".out.7z.", ".mirror-tmp")     # before making a new one of that naming
    fd, name = tempfile.mkstemp(prefix=".out.7z.", suffix=".mirror-tmp", dir=folder)
    hold(fd)                                              # until the fd is closed, or the process ends

    with held(Path(name)):                                # a name made by os.link or mkdtemp: held by path
        ...

Where flock is not to be had (some network file systems) nothing is held, and nothing is removed either: a
lock that cannot be taken is taken to mean a live run.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
import time
from collections.abc import Iterator
from pathlib import Path

UNCHANGED_FOR = 120.0  # seconds since the last change (ctime) before an unheld leftover may be removed
RANDOM_LETTERS = 8  # what tempfile puts between prefix and suffix
_RANDOM_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


def hold(fd: int) -> bool:
    """Hold `fd`'s file or folder as a live run's until the fd is closed; False where flock is not available."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def held(path: Path) -> Iterator[None]:
    """Hold the file or folder at `path` (never followed through a link) for the `with` block."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        yield  # gone, or not ours to open: nothing to hold
        return
    try:
        hold(fd)
        yield
    finally:
        os.close(fd)


def _ours(name: str, prefix: str, suffix: str) -> bool:
    """`name` is `prefix`, tempfile's random letters and `suffix`, exactly."""
    if not (name.startswith(prefix) and name.endswith(suffix)
            and len(name) == len(prefix) + RANDOM_LETTERS + len(suffix)):
        return False
    return set(name[len(prefix):len(prefix) + RANDOM_LETTERS]) <= _RANDOM_ALPHABET


def remove_unheld(folder: Path, prefix: str, suffix: str, *, folders: bool = False) -> int:
    """Remove what killed runs left in `folder` under this naming (files, or with `folders` working folders):
    owned by this user, held by no process, unchanged for UNCHANGED_FOR seconds. Never follows a link; any error
    leaves the item where it is. Returns how many were removed."""
    removed = 0
    try:
        with os.scandir(folder) as items:
            names = [item.name for item in items if _ours(item.name, prefix, suffix)]
    except OSError:
        return 0
    for name in names:
        with contextlib.suppress(OSError):
            removed += _remove_if_unheld(folder / name, folders=folders)
    return removed


def _remove_if_unheld(path: Path, *, folders: bool) -> bool:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    fd = os.open(path, flags | (os.O_DIRECTORY if folders else 0))
    try:
        info = os.fstat(fd)
        kind = stat.S_ISDIR if folders else stat.S_ISREG
        if not kind(info.st_mode) or info.st_uid != os.getuid() or time.time() - info.st_ctime < UNCHANGED_FOR:
            return False
        if not hold(fd):
            return False  # a live run holds it (or locks are not to be had here)
        now = os.stat(path, follow_symlinks=False)
        if (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino):
            return False  # replaced since it was opened
        if folders:
            shutil.rmtree(path)
        else:
            path.unlink()
        return True
    finally:
        os.close(fd)
