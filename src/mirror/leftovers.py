"""What runs killed outright left in a folder, told apart from what a live run is writing there.

A run killed by SIGKILL, the OOM killer or a power cut cannot remove its temporary file (137 MB of a bundle,
hidden on a USB stick) or its working folder (the accounts and photos it had unpacked). Each run therefore
claims every temporary file and working folder of its own, an exclusive flock(2) held while it writes them: the
kernel lets go of it when the process ends, however it ends. The first run of a process to write in a folder
removes the hidden `*.mirror-tmp` files and folders there (`TEMPORARY`) that no process holds and that have not
changed for UNCHANGED_FOR (their ctime, which a link, a rename and every write set to now, and no tool sets
back): a name is made a moment before it is claimed, and a claim that finds its name gone or taken makes another.

Example::

    remove_unheld(folder)                                 # once a process and folder, before writing there
    fd, name = tempfile.mkstemp(prefix=".out.7z.", suffix=".mirror-tmp", dir=folder)
    if not claim(fd, Path(name)): ...                     # lost to a cleaner: make another name

    with held(Path(name)):                                # a name made by os.link: held for the block
        ...

Where flock is not to be had nothing is held, and nothing is removed either: a lock that cannot be taken is taken
to mean a live run. On a network file system whose locks are local to each machine (NFS mounted "nolock", sshfs)
a live run on another machine looks unheld, and only UNCHANGED_FOR protects it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

UNCHANGED_FOR = 3600.0  # seconds since the last change (ctime) before an unheld leftover may be removed
# What atomic_output and private_folder name: hidden, tempfile's 8 random letters, then the suffix (a name cut
# short to fit 255 bytes may have lost the dot before the letters)
TEMPORARY = re.compile(r"\..*[a-z0-9_]{8}\.mirror-tmp", re.DOTALL)
_SWEPT_MAX = 256
_swept: set[tuple[int, int]] = set()  # folders (device, inode) this process has swept already


def _lock(fd: int) -> bool | None:
    """True: `fd` is now held by this process; False: another process holds it; None: no locks here."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        return False if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN) else None
    return True


def claim(fd: int, path: Path) -> bool:
    """Hold `fd`, just made at `path`, as a live run's until it is closed. False when it was lost meanwhile: a
    cleaner holds it or removed it (the run stopped for longer than UNCHANGED_FOR between making and claiming);
    the caller makes another."""
    if _lock(fd) is False:
        return False
    try:
        there = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    mine = os.fstat(fd)
    return (there.st_dev, there.st_ino) == (mine.st_dev, mine.st_ino)


def made_and_claimed(make: Callable[[], tuple[int, Path]]) -> tuple[int, Path] | None:
    """`make()` a new file or folder (its open fd and its path) and claim it; made again if a cleaner took it
    meanwhile (the run was stopped between making and claiming), twice at most; None if lost each time."""
    for _ in range(3):
        fd, path = make()
        if claim(fd, path):
            return fd, path
        os.close(fd)
    return None


@contextlib.contextmanager
def held(path: Path) -> Iterator[None]:
    """Hold the file or folder at `path` (never followed through a link) for the `with` block."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        yield  # gone, or not ours to open: nothing to hold
        return
    try:
        _lock(fd)
        yield
    finally:
        os.close(fd)


def remove_unheld(folder: Path) -> int:
    """Remove what killed runs left in `folder` (`TEMPORARY` names, files or folders): owned by this user, on the
    folder's own file system, held by no process, unchanged for UNCHANGED_FOR. Never follows a link; any error
    leaves the item where it is. Once a process for each folder (a mirror folder of 20,000 files is read once,
    not once a file written). Returns how many were removed."""
    try:
        info = os.stat(folder)
        if (info.st_dev, info.st_ino) in _swept:
            return 0
        with os.scandir(folder) as items:
            names = [item.name for item in items if TEMPORARY.fullmatch(item.name)]
    except OSError:
        return 0  # tried again by the next write there
    if len(_swept) >= _SWEPT_MAX:
        _swept.clear()
    _swept.add((info.st_dev, info.st_ino))
    removed = 0
    for name in names:
        with contextlib.suppress(OSError):
            removed += _remove_if_unheld(folder, name, info.st_dev)
    return removed


def _remove_if_unheld(folder: Path, name: str, device: int) -> bool:
    path = folder / name
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)) or info.st_uid != os.getuid() \
                or info.st_dev != device or time.time() - info.st_ctime < UNCHANGED_FOR:
            return False  # a FIFO, another user's, a mount point, or what may be a run that just began
        if _lock(fd) is not True:
            return False  # a live run holds it (or locks are not to be had here)
        now = os.stat(path, follow_symlinks=False)
        if (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino):
            return False  # replaced since it was opened
        if stat.S_ISDIR(info.st_mode):
            _empty(fd)  # through the folder held, never its name again: a folder renamed here meanwhile is safe
            os.rmdir(path)
        else:
            path.unlink()
        return True
    finally:
        os.close(fd)


def _empty(fd: int) -> None:
    """Remove what the folder open at `fd` holds, never following a link."""
    with os.scandir(fd) as entries:
        names = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
    for name, is_folder in names:
        if is_folder:
            shutil.rmtree(name, dir_fd=fd)
        else:
            os.unlink(name, dir_fd=fd)
