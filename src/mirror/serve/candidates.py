"""Which *.7z files of a served folder the room verifies: never the first ones in name order.

Example::

    chosen = choose(root, Path("bundles"), at_most=20_000)
    chosen.paths            # [(path, stamp), ...]: the files to verify, the best first
    chosen.small, chosen.foreign, chosen.beyond, chosen.odd

The folder a room serves is often a USB stick or a copy handed on: its contents are
hostile. When the cap on files verified kept the first names, 20,000 empty `0*.7z`
files crowded every bundle out of the room. So a file is looked at in three steps,
each bounded, and memory stays bounded by the cap whatever the folder holds:

1. listed with `os.scandir` (never the whole folder held at once) and looked at with
   one `lstat`: links and other non-regular files are never followed (named, up to a
   count); a file shorter than a 7z archive's signature header is passed over;
2. the first six bytes are read: a file that does not begin with the 7z signature is
   passed over. Neither counts against the cap of files verified;
3. of the 7z archives left, at most `at_most` are kept, in an order of this room's own
   (a keyed hash of the name, unknown outside this process): no name wins a race.
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

from mirror.record import field, record
from mirror.sevenzip.model import MAGIC

SIGNATURE_HEADER = 32  # a 7z archive starts with this many bytes (signature, version, start header): none is shorter
MAX_ODD = 100  # links and other non-regular files named one by one; beyond, counted
_ORDER_KEY = secrets.token_bytes(16)  # this run's: the order in which 7z files beyond the cap are left out


@record
class Stamp:
    """Which file a path was when it was checked: a replaced or rewritten file has another stamp. The change time
    too: a file rewritten in place with its modification time put back (`cp -p` onto it, `touch -r`) kept its
    stamp, and the room served the new bytes as the verified bundle (helper-157); no user can set ctime back."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, info: os.stat_result) -> Stamp:
        """The stamp of a stat result."""
        return cls(info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


@record
class Chosen:
    """The files a scan verifies, and what it passed over and why."""

    paths: list[tuple[Path, Stamp]] = field(default_factory=list)  # the best first
    small: int = 0  # shorter than a 7z signature header
    foreign: int = 0  # no 7z signature at the start
    beyond: int = 0  # 7z archives past the cap, not looked at
    odd: list[Path] = field(default_factory=list)  # links and non-regular files, at most MAX_ODD
    more_odd: int = 0  # ... and how many more
    passed: list[Path] = field(default_factory=list)  # the first MAX_ODD of `small` and `foreign`, to say why


def bundle_folders(root: Path) -> Iterator[Path]:
    """The folders bundles are looked for in: the root, and bundles/ unless it is a link.

    The root is the folder the user named, a link to one too (a desktop's mount often is): passed over, a room on
    it offered none of its bundles and served its index all the same. A link inside it is never followed."""
    if root.is_dir():
        yield root
    if (root / "bundles").is_dir() and not (root / "bundles").is_symlink():
        yield root / "bundles"


def named_like_a_bundle(name: str) -> bool:
    """`*.7z` in any case (`ALMATY.7Z` from a FAT stick or a phone), not hidden (a hidden name is another
    program's temporary file)."""
    return name.lower().endswith(".7z") and not name.startswith(".")


_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0)
_NOATIME = getattr(os, "O_NOATIME", 0)


def open_quietly(path: str) -> int:
    """The file opened to read its start, without changing its access time where the system allows (Linux, for the
    files of the user running the room): the folder is only read, and a look at a million files wrote a million
    access times (reading their starts, page cache warm: 11 s with them, 8.8 s without; from disk it is 150 s
    and more either way).

    Raises:
        OSError: it cannot be opened.
    """
    if _NOATIME:
        try:
            return os.open(path, _FLAGS | _NOATIME)
        except PermissionError:  # another user's file: O_NOATIME is for the owner alone
            pass
    return os.open(path, _FLAGS)


def _starts_as_7z(path: str) -> bool | None:
    """Whether the file begins with the 7z signature; None when it cannot be opened or read (a FIFO is never
    waited on: O_NONBLOCK; a link put in its place is never followed: O_NOFOLLOW)."""
    try:
        fd = open_quietly(path)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, len(MAGIC)) == MAGIC
    except OSError:
        return None
    finally:
        os.close(fd)


def _order(path: str) -> bytes:
    return hashlib.blake2b(os.fsencode(path), key=_ORDER_KEY, digest_size=16).digest()


def choose(root: Path, at_most: int) -> Chosen:
    """The regular 7z files to verify at the root and in bundles/, at most `at_most`, and what was passed over.

    Raises:
        OSError: a folder cannot be listed.
    """
    kept: list[tuple[bytes, str, Stamp]] = []  # a heap of the best `at_most` so far; the worst on top (negated)
    odd: list[Path] = []
    passed: list[Path] = []
    more_odd = small = foreign = beyond = 0
    for folder in bundle_folders(root):
        with os.scandir(folder) as entries:
            for entry in entries:
                if not named_like_a_bundle(entry.name):
                    continue
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue  # gone since it was listed
                if not stat.S_ISREG(info.st_mode):
                    if len(odd) < MAX_ODD:
                        odd.append(Path(entry.path))
                    else:
                        more_odd += 1
                    continue
                magic = _starts_as_7z(entry.path) if info.st_size >= SIGNATURE_HEADER else False
                if magic is None:
                    continue  # gone, or swapped for a FIFO since it was listed: looked at next round
                if not magic:
                    if info.st_size < SIGNATURE_HEADER:
                        small += 1
                    else:
                        foreign += 1
                    if len(passed) < MAX_ODD:
                        passed.append(Path(entry.path))
                    continue
                item = (bytes(255 - b for b in _order(entry.path)), entry.path, Stamp.of(info))
                if len(kept) < at_most:
                    heapq.heappush(kept, item)
                    continue
                beyond += 1
                if at_most:
                    heapq.heappushpop(kept, item)
    paths = [(Path(path), stamp) for _, path, stamp in sorted(kept, reverse=True)]
    return Chosen(paths, small, foreign, beyond, sorted(odd), more_odd, sorted(passed))


def folder_digest(root: Path) -> tuple[int, int]:
    """How many *.7z names the folders hold, and a digest of each one's name, inode, size and times: it changes
    when any of them is added, removed, renamed or written to, whichever the scan looked at; memory bounded
    whatever the folder holds (one stat a file, never one open).

    Raises:
        OSError: a folder cannot be listed.
    """
    count, total = 0, 0
    for folder in bundle_folders(root):
        with os.scandir(folder) as entries:
            for entry in entries:
                if not named_like_a_bundle(entry.name):
                    continue
                count += 1
                with contextlib.suppress(OSError):
                    info = entry.stat(follow_symlinks=False)
                    # summed, so in any listing order; hash() is this process's own, as the state it is compared to
                    total += hash((entry.path, info.st_mode, info.st_ino, info.st_size, info.st_mtime_ns,
                                   info.st_ctime_ns))
    return count, total & ((1 << 64) - 1)
