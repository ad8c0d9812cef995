"""The SHA-256 of a partial download, computed on a second thread while the download appends to it.

Example::

    growing = GrowingHash(part)
    with growing.following():          # while a mirror appends to `part`
        mirror.download(path, part, size)
    growing.hexdigest(size)            # the file's SHA-256, or None if it is not `size` bytes long

A download is received on one core and hashed on the other, instead of hashed in a second read
once it is complete. The file must only ever grow by appending (fetch/transport.py `append_to`);
whoever removes or replaces it calls `reset()`, and the hash starts again from its first byte.
`hexdigest` always reads what is left, so the result is the hash of the file as it is at the end.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

_READ = 4 << 20
_POLL = 0.05  # seconds between looks at a file that has not grown


class GrowingHash:
    """A running SHA-256 over the bytes [0, offset) of a file that is appended to."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._digest = hashlib.sha256()
        self._offset = 0
        self._generation = 0  # raised by reset(): a pass that began before it hashes nothing more

    @property
    def generation(self) -> int:
        """How many times the file was thrown away (fetch/early.py: bytes read before a reset are not the file's)."""
        with self._lock:
            return self._generation

    def reset(self) -> None:
        """The file was thrown away: hash from its first byte again."""
        with self._lock:
            self._digest = hashlib.sha256()
            self._offset = 0
            self._generation += 1

    def _catch_up(self) -> None:
        """Hash what was appended since the last look, a chunk at a time (reset may come between chunks)."""
        with self._lock:
            generation = self._generation
            try:
                fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            except OSError:
                return  # not there yet, or thrown away
        with os.fdopen(fd, "rb", buffering=0) as handle:
            while True:
                with self._lock:
                    if generation != self._generation:
                        return
                    handle.seek(self._offset)
                    chunk = handle.read(_READ)
                    if not chunk:
                        return
                    self._digest.update(chunk)
                    self._offset += len(chunk)

    @contextlib.contextmanager
    def following(self) -> Iterator[None]:
        """Within it, a thread hashes the file as it grows; it is stopped on the way out."""
        stop = threading.Event()

        def follow() -> None:
            while not stop.is_set():
                self._catch_up()
                stop.wait(_POLL)

        thread = threading.Thread(target=follow, name="mirror-growing-hash", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def hexdigest(self, size: int) -> str | None:
        """The hex SHA-256 of the whole file once the rest is read; None unless it is exactly `size` bytes."""
        self._catch_up()
        with self._lock:
            try:
                now = os.stat(self.path, follow_symlinks=False).st_size
            except OSError:
                return None
            if self._offset != size or now != size:
                return None
            return self._digest.hexdigest()
