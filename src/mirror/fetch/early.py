"""A bundle verified while it downloads: its 7z header read first from the end of the file on a mirror, then its
members checked on another thread as the download appends them.

Example::

    early = EarlyCheck.begin(entry, download, mirrors, keys, policy)    # None: not worth it, or one already runs
    path = download.run(mirrors)                  # the complete file, whose SHA-256 is the signed one; or None
    checked = early.result(path) if early and path else None    # what verify_open found; None: verify as before

Without it, a bundle is verified once its last byte arrived: the whole file read again and every member hashed
again, after the download, while the network idles (on 1 GB over loopback, 0.7 s on top of a 1.3 s download).

Nothing is trusted early. The result counts only if the download ended with the file whose SHA-256 is the signed
one (Download checks that), no byte of the part was thrown away meanwhile (a mirror that served wrong bytes, or
ignored Range), and the end of the file read ahead from a mirror is, byte for byte, the end of the finished file.
Anything else (a mirror that cannot answer a Range, a header that is not at the end, a failed check, an
interrupted download) gives None, and the caller verifies the finished file as before: the verdict is always that
of the finished file's bytes.

At most two checks exist at once in a fetch run (`gate`): the one whose bundle is being placed and the next
download's (bundles are placed in the order asked, so a download may end before the one before it is placed);
others of `fetch --parallel` are verified once their files are complete. A check holds a header's columns and
an open file until it is answered, and both cores are already busy receiving and hashing.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import stat
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from mirror.bundle.verify import Checked, verify_open
from mirror.errors import MirrorError
from mirror.fetch.download import Download
from mirror.fetch.transport import Mirror
from mirror.formats.index import BundleEntry
from mirror.net.pace import Stop, carried, stoppable
from mirror.sevenzip import Limits, read_archive
from mirror.trust.keyset import TrustedKeys
from mirror.trust.policy import Policy

EARLY_MIN = 8 << 20  # smaller bundles arrive in moments: verified once complete
# The most read ahead from a file's end: the 7z header, packed, and its locator. A million members' header packs to
# about 15 MB; a larger one is read when the file is complete (the header's own cap, MAX_HEADER, is 128 MiB).
TAIL_MAX = (32 << 20) + (1 << 16)
_START = 32  # the 7z start header: always read from the part, which has it within moments
_POLL = 0.02  # seconds between looks at a part that has not grown
_COMPARE = 1 << 20


AT_ONCE = 2  # checks that may exist at once in a fetch run


def gate() -> threading.BoundedSemaphore:
    """What lets AT_ONCE checks exist at once in a fetch run: each held from `begin` until `result` answers."""
    return threading.BoundedSemaphore(AT_ONCE)


class Abandoned(Exception):
    """The early check stopped: the download ended short of a byte it needs, or threw bytes away, or nothing
    arrived and the check is no longer wanted."""


class GrowingFile(io.RawIOBase):
    """The part file as the bundle it will be once complete, read-only.

    A read waits until the download has appended the bytes it asks for. While `ahead` is set (reading the
    header), a read within TAIL_MAX of the end that the part does not have yet is answered at once with
    `fetch_tail(start)`: the bytes from `start` to the end, as a mirror sends them, kept in `tail` (compared with
    the finished file before any result counts).
    """

    def __init__(self, part: Path, size: int, fetch_tail: Callable[[int], tuple[bytearray, str]],
                 current: Callable[[], bool], over: threading.Event) -> None:
        super().__init__()
        self.part, self.size, self.fetch_tail, self.current, self.over = part, size, fetch_tail, current, over
        self.cancelled = threading.Event()  # no result is wanted: the next read ends the check
        self.ahead = True
        # The start header (which the mirror of the part chose) says where the header is: never read ahead more
        # than an eighth of the file, which a real header never needs, nor the file a second time.
        self.tail_max = min(TAIL_MAX, size // 8)
        self.tail_at, self.tail = size, bytearray()
        # (start, SHA-256, the mirror that sent it) of every tail used, the replaced ones too
        self.read_ahead: list[tuple[int, bytes, str]] = []
        self.unlike: str | None = None  # the mirror whose read ahead was not the finished file's end (holds)
        self.pos = 0
        self._fd: int | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.pos, 2: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def _length(self) -> int:
        """How many bytes the part has now (0 while it does not exist)."""
        if self._fd is None:
            if self.cancelled.is_set():  # closed by result(): never opened again by a check still running
                raise Abandoned("the check is no longer wanted")
            try:
                fd = os.open(self.part, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
            except FileNotFoundError:
                return 0
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                raise Abandoned("the part is not a regular file")
            self._fd = fd
        return os.fstat(self._fd).st_size

    def _wait(self, want: int) -> int:
        """The part's length once it holds at least `want` bytes; Abandoned if it never will."""
        while True:
            ended = self.over.is_set()  # looked at before the length: a download that ends meanwhile is seen next
            if not self.current():
                raise Abandoned("the download threw bytes away")
            have = self._length()
            if have >= want:
                return have
            if ended:
                raise Abandoned("the download ended before this byte arrived")
            self.over.wait(_POLL)

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if self.cancelled.is_set():
            raise Abandoned("the check is no longer wanted")
        if self.pos >= self.size or not len(view):
            return 0
        end = min(self.pos + len(view), self.size)
        if self.tail and self.pos >= self.tail_at:
            n = end - self.pos
            view[:n] = self.tail[self.pos - self.tail_at : end - self.tail_at]
        elif self.ahead and self.pos >= _START and self.size - self.pos <= self.tail_max and self._length() < end:
            self.tail = bytearray()  # let go of a narrower tail before a wider one arrives
            self.tail, sender = self.fetch_tail(self.pos)  # a read further back (the packed header) widens the tail
            self.tail_at = self.pos
            self.read_ahead.append((self.pos, hashlib.sha256(self.tail).digest(), sender))
            n = end - self.pos
            view[:n] = self.tail[:n]
        else:
            have = self._wait(self.pos + 1)
            if self._fd is None:  # never: a part with bytes in it was opened to count them
                raise Abandoned("the part is not open")
            n = os.preadv(self._fd, [view[: min(end, have) - self.pos]], self.pos)
            if n <= 0:
                raise Abandoned("the part is shorter than it was")
        self.pos += n
        return n

    def holds(self, path: Path) -> bool:
        """Whether what was read is `path`, complete: the same file as the part that was read, and every tail
        read ahead its own end (a mirror may have sent other bytes for each request: `unlike` names it)."""
        if self._fd is None:
            return False
        try:
            if os.stat(path).st_ino != os.fstat(self._fd).st_ino or os.fstat(self._fd).st_size != self.size:
                return False
            for start, digest, sender in self.read_ahead:
                own = hashlib.sha256()
                for at in range(start, self.size, _COMPARE):
                    own.update(os.pread(self._fd, min(_COMPARE, self.size - at), at))
                if own.digest() != digest:
                    self.unlike = sender
                    return False
        except OSError:  # a drive that fails now: the finished file is verified as before, and fails there
            return False
        return True

    def close(self) -> None:
        self.cancelled.set()
        fd, self._fd = self._fd, None  # forgotten first: Ctrl-C after the close left it to be closed twice
        if fd is not None:
            os.close(fd)
        super().close()


class EarlyCheck:
    """One bundle's verification, run on its own thread while the bundle downloads."""

    def __init__(self, entry: BundleEntry, download: Download, mirrors: Sequence[Mirror], keys: TrustedKeys,
                 policy: Policy, gate: threading.BoundedSemaphore) -> None:
        self.entry, self.download, self.mirrors, self.keys, self.policy = entry, download, mirrors, keys, policy
        self.gate = gate  # acquired by begin; released once, by result
        self._answer = threading.Lock()
        self._answered = False
        self.over = threading.Event()
        self.halt = Stop()  # ends a read ahead still under way when the download is over
        self.generation = download.growing.generation
        self.file = GrowingFile(download.part, entry.size, self._tail, self._current, self.over)
        self.checked: Checked | None = None
        self._reader: io.BufferedReader | None = None
        self._enter = carried()  # the downloading thread's deadlines, for the read ahead (its stop switch: `halt`)
        self._thread = threading.Thread(target=self._run, name="mirror-early-verify", daemon=True)

    @classmethod
    def begin(cls, entry: BundleEntry, download: Download, mirrors: Sequence[Mirror], keys: TrustedKeys,
              policy: Policy, gate: threading.BoundedSemaphore) -> EarlyCheck | None:
        """Start checking `entry` as `download` receives it; None for a small bundle, or while AT_ONCE other
        checks of this run (`gate`) are not yet answered. Every check begun must be answered with `result`."""
        if entry.size < EARLY_MIN or not gate.acquire(blocking=False):
            return None
        early: EarlyCheck | None = None
        try:
            early = cls(entry, download, mirrors, keys, policy, gate)
            early._thread.start()
        except BaseException:  # Ctrl-C, or no thread to be had: the gate is released exactly once
            if early is None:
                gate.release()
            else:
                early.result(None)
            raise
        return early

    def _current(self) -> bool:
        return self.download.growing.generation == self.generation

    def _tail(self, start: int) -> tuple[bytearray, str]:
        """Bytes [start, end) of the bundle from the first mirror that sends them, and that mirror's label."""
        for mirror in self.mirrors:
            if self.download.reports[mirror.label].distrusted:
                continue
            with contextlib.suppress(MirrorError):
                return mirror.read_tail(self.entry.path, start, self.entry.size), mirror.label
        raise Abandoned("no mirror sent the end of the file")

    def _run(self) -> None:
        try:
            with self._enter(), stoppable(self.halt):  # Ctrl-C ends the download, and with it `halt`
                fp = self._reader = io.BufferedReader(self.file, 1 << 16)  # closed by result(), after it compared
                limits = Limits()
                archive = read_archive(fp, limits)  # the only reads that may go ahead of the download
                self.file.ahead = False
                self.file.tail = bytearray()  # parsed; compared later by its hash (`read_ahead`): not held through
                # the members' check (a million members' header packs to about 15 MB)
                self.checked = verify_open(fp, self.keys, limits, self.policy, archive=archive)
        except Exception:  # anything early is only a shortcut missed: the finished file is verified as before
            self.checked = None
        finally:
            self.file.tail = bytearray()  # compared later by its hash (`read_ahead`); the reader (whose end closes
            # the part) is closed by result, after it compared

    def end(self) -> None:
        """The download is over (complete or not): stop waiting for bytes that will not come, and end a read
        ahead that is still under way (a mirror that drips the end of the file never holds up the result)."""
        self.over.set()
        self.halt.set()

    def result(self, path: Path | None) -> Checked | None:
        """What the early check found, if it holds for the finished file at `path` (the part, renamed once
        its SHA-256 matched); None, or a `path` of None (nothing arrived: the check ends at its next read).
        Answers once: a second call (an interrupted fetch answering every check) gives None."""
        with self._answer:
            if self._answered:
                return None
            self._answered = True
        try:
            if path is None:
                self.file.cancelled.set()
            self.end()
            with contextlib.suppress(RuntimeError):  # a thread that never started (begin interrupted)
                self._thread.join()
            checked, self.checked = self.checked, None  # nothing held once answered: fetch keeps `self` to the end
            if path is None or not self._current():
                return None
            if not self.file.holds(path):  # compared even when the check failed: a bad read ahead may be why
                if self.file.unlike is not None:  # the file that arrived is the signed one: that answer was not
                    self.download.reports[self.file.unlike].blame(
                        self.entry, f"answered a ranged read of {self.entry.path} with bytes that are not the "
                                    "signed bundle's")
                return None
            return checked
        finally:
            self.file.close()
            self.file.tail, self.file.read_ahead, self._reader = bytearray(), [], None
            self.gate.release()
