"""SHA-256 on a second thread: blocks handed over in order are hashed while the caller goes on.

Example::

    digest = BackgroundHash()
    for block in blocks:           # bytes objects, never changed afterwards
        send(block)
        digest.update(block)       # queued; hashed on the other core (hashlib releases the GIL)
    digest.hexdigest()             # waits for the last block; the thread then ends

Worth it for blocks of 64 KiB and more; at most QUEUED blocks wait, then `update` waits too, so memory stays
bounded whatever the speeds. `close()` ends the thread when the hash is no longer wanted.
"""

from __future__ import annotations

import hashlib
import queue
import threading


class BackgroundHash:
    """A running hash (SHA-256 unless told) whose updates are computed on a thread of its own."""

    QUEUED = 8

    def __init__(self, name: str = "sha256") -> None:
        self._blocks: queue.Queue[bytes | None] = queue.Queue(self.QUEUED)
        self._digest = hashlib.new(name)
        self._result: str | None = None
        self._ended = False
        self._thread = threading.Thread(target=self._run, name="mirror-hash-behind", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (block := self._blocks.get()) is not None:
            self._digest.update(block)

    def update(self, block: bytes) -> None:
        """Hash `block` after the blocks before it."""
        self._blocks.put(block)

    def hexdigest(self) -> str:
        """The hash of every block, once the thread has caught up."""
        if self._result is None:
            self._end()
            self._thread.join()
            self._result = self._digest.hexdigest()
        return self._result

    def close(self) -> None:
        """End the thread; what was queued is still hashed, but no result is wanted."""
        self._end()

    def _end(self) -> None:
        if not self._ended:
            self._ended = True
            self._blocks.put(None)
