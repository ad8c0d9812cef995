"""Room on the disk for downloads: a bundle is not begun when DEST's file system cannot hold the rest of it.

Example::

    space = DiskSpace(dest)
    refused = space.claim(part, entry.size)     # None, or why not: "... it needs 2.4 MB, and DEST has 1.0 MB free"
    try:
        ...                                     # download into `part`
    finally:
        space.release(part)

Without it a download writes until the disk is full: the phone or laptop it runs on then has no room left for
anything else, and the run stops with "No space left on device" halfway through a file. An index or a peer's
unsigned listing may name thousands of bundles (a room's listing is anyone's to write), so what a run writes is
bounded by the free space, less a reserve left for the system: `RESERVE_SHARE` of the file system, at most
`RESERVE_MAX`. Downloads running at the same time count with what they still have to write. The file system may
still fill from elsewhere meanwhile; the write then fails as before, and the partial file stays to be resumed.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

RESERVE_SHARE = 0.02
RESERVE_MAX = 100 << 20


def _written(part: Path) -> int:
    try:
        return os.stat(part).st_size
    except OSError:
        return 0


def megabytes(size: int) -> str:
    """A size as people read it: "2.4 MB" (decimal, as file managers show it)."""
    return f"{size / 1e6:,.1f} MB"


class DiskSpace:
    """The downloads of one run into one folder, and the bytes each still has to write."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._running: dict[Path, int] = {}  # a download's part file -> the size it will reach

    def claim(self, part: Path, size: int) -> str | None:
        """Reserve room for `part` to grow to `size` bytes; None when there is room, else why not (nothing is
        reserved then). A folder whose space cannot be asked for is not refused."""
        with self._lock:
            try:
                usage = shutil.disk_usage(self.folder)
            except OSError:
                return None
            pending = sum(max(0, total - _written(path)) for path, total in self._running.items() if path != part)
            need = max(0, size - _written(part))
            reserve = min(RESERVE_MAX, int(usage.total * RESERVE_SHARE))
            free = max(0, usage.free - pending)
            if need > free - reserve:
                if reserve < 100_000:  # 0.0 MB
                    return f"not downloaded: it needs {megabytes(need)}, and {self.folder} has {megabytes(free)} free"
                return (f"not downloaded: it needs {megabytes(need)}, and {self.folder} has {megabytes(free)} free, "
                        f"{megabytes(reserve)} of which stay free for the system")
            self._running[part] = size
            return None

    def release(self, part: Path) -> None:
        """The download into `part` has ended, one way or another."""
        with self._lock:
            self._running.pop(part, None)
