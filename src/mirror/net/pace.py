"""Deadlines and minimum rates for transfers from peers that may be slow on purpose (a throttling censor).

Example::

    limits = Limits(stall=30, min_rate=1024, budget=120)
    with budget(limits.budget, log=print):                       # one mirror or host, one phase
        with Watch("https://a.example/m/", "GET index.json", limits) as watch:
            for chunk in read_somehow():                           # net/http.py connections count by themselves
                watch.count(len(chunk))
    # TransferError(TIMEOUT): "https://a.example/m/: GET index.json: too slow: 30 bytes in the last 30 s ..."

Why: a library's timeout applies to each socket read, so a peer that sends one byte a second never
trips it, and a reader waits forever. A Watch measures what arrives; its watchdog thread ends the
transfer when fewer than `min_rate` bytes per second arrived over the last `stall` seconds (nothing at
all, with a min_rate of 0), or when the time budget of the thread's current phase is spent. Ending
means shutting down the sockets attached to the watch, so that a read blocked deep inside requests,
urllib3, paramiko or botocore returns at once; the `with` block then raises TransferError(TIMEOUT)
saying why, whatever the library made of the closed socket. A local read (a folder) cannot be
interrupted: it only stops at the next `check`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Protocol

from mirror.errors import ConfigError, Failure, TransferError
from mirror.record import record

Log = Callable[[str], None]
HEARTBEAT = 10.0  # seconds of waiting before the first "still waiting" line; the gaps then double
HEARTBEAT_MAX = 300.0
CLEANUP_SECONDS = 10.0  # what deleting a temporary file may take once a budget is spent
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
_RATE = re.compile(r"([0-9]{1,15}(?:\.[0-9]{1,9})?)\s*([kmg]?)(?:i?b)?(?:/s)?")  # ASCII; 15 digits: exact


class Closable(Protocol):
    """What a watch can cut: a socket, or anything with a socket's shutdown."""

    def shutdown(self, how: int, /) -> None:
        """Stop reading and writing."""
        ...


@record
class Limits:
    """How patient to be with one peer.

    Attributes:
        stall: seconds to connect, and the window over which `min_rate` is measured: a transfer that
            gets nothing for this long (or less than `min_rate` on average) ends.
        min_rate: bytes per second a transfer must average over the last `stall` seconds; 0 for none.
        budget: seconds a transfer may take when no phase budget (`budget()`) is active.
    """

    stall: float = 30.0
    min_rate: int = 1024
    budget: float = 120.0

    @property
    def timeouts(self) -> tuple[float, float]:
        """(connect, read) for libraries that take them: both the stall time."""
        return (self.stall, self.stall)


def parse_rate(text: str | int) -> int:
    """Bytes per second from 2048, "2048", "2K", "2 KiB/s" or "1.5M" (K, M, G are powers of 1024).

    Raises:
        ConfigError: anything else.
    """
    if isinstance(text, int) and not isinstance(text, bool) and text >= 0:
        return text
    match = _RATE.fullmatch(text.strip().lower()) if isinstance(text, str) else None
    if match is None:
        raise ConfigError(f"not a rate: {text!r}", hint="bytes per second, like 2048, 2K or 1.5M")
    return int(float(match[1]) * _UNITS[match[2]])


def format_rate(rate: int) -> str:
    """2048 -> "2 KiB/s"."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if rate >= size:
            return f"{rate / size:.3g} {unit}/s"
    return f"{rate} B/s"


@dataclasses.dataclass(slots=True)
class Budget:
    """The time one peer may take for one phase (its index, a turn at a download, a publish)."""

    seconds: float
    deadline: float  # time.monotonic()
    log: Log | None = None


class _Local(threading.local):
    """Per thread: the active phase budgets and watches, innermost last."""

    def __init__(self) -> None:
        self.budgets: list[Budget] = []
        self.watches: list[Watch] = []
        self.cleanup = False
        self.stop: Stop | None = None


_local = _Local()


class Stop:
    """One command's stop switch for the transfers of its worker threads (each enters `stoppable(stop)`): once
    set, their watches end what they are doing within a watchdog tick and refuse new transfers. Set when the user
    interrupts; never reset (a new run makes a new Stop), and other commands in the process are not touched."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        """Stop every transfer under this switch."""
        self._event.set()

    def is_set(self) -> bool:
        """Whether the switch was set."""
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Wait until the switch is set, at most `seconds`; whether it was."""
        return self._event.wait(seconds)


@contextlib.contextmanager
def stoppable(stop: Stop) -> Iterator[None]:
    """Inside, every Watch this thread starts ends when `stop` is set."""
    before, _local.stop = _local.stop, stop
    try:
        yield
    finally:
        _local.stop = before


@contextlib.contextmanager
def budget(seconds: float, log: Log | None = None) -> Iterator[Budget]:
    """Every Watch this thread starts inside the block ends `seconds` from now at the latest.

    `log` receives "still waiting" lines while a transfer is slow. Budgets nest; the tightest wins.
    """
    phase = Budget(seconds, time.monotonic() + seconds, log)
    _local.budgets.append(phase)
    try:
        yield phase
    finally:
        _local.budgets.remove(phase)


def pause(seconds: float) -> bool:
    """Wait `seconds` (a busy peer's Retry-After) if this thread's budgets leave time for that and something
    after it; False at once when they do not, or as soon as the thread's stop switch is set."""
    now = time.monotonic()
    if any(phase.deadline - now < seconds + 1.0 for phase in _local.budgets):
        return False
    stop = _local.stop
    if stop is None:
        time.sleep(seconds)
        return True
    return not stop.wait(seconds)


def carried() -> Callable[[], contextlib.AbstractContextManager[None]]:
    """This thread's budgets and stop switch, for a worker thread it starts to enter: the worker's transfers end by
    the same deadlines (a host's several connections share its one budget), and when the same switch is set."""
    phases = list(_local.budgets)
    switch = _local.stop

    @contextlib.contextmanager
    def enter() -> Iterator[None]:
        _local.budgets.extend(phases)
        before, _local.stop = _local.stop, switch if switch is not None else _local.stop
        try:
            yield
        finally:
            _local.stop = before
            for phase in phases:
                _local.budgets.remove(phase)

    return enter


def interrupted() -> bool:
    """Whether this thread's stop switch is set: for loops no socket can stop (a copy to a folder)."""
    return _local.stop is not None and _local.stop.is_set() and not _local.cleanup


@contextlib.contextmanager
def cleanup() -> Iterator[None]:
    """Inside, watches ignore spent budgets and a set stop switch, and get CLEANUP_SECONDS: for deleting a
    temporary file."""
    before, _local.cleanup = _local.cleanup, True
    try:
        yield
    finally:
        _local.cleanup = before


def current() -> Watch | None:
    """The innermost watch of this thread, if any."""
    return _local.watches[-1] if _local.watches else None


def attach(connection: Closable) -> None:
    """Let the current watch of this thread (if any) shut `connection` down."""
    watch = current()
    if watch is not None:
        watch.attach(connection)


def count(received: int) -> None:
    """Count bytes that moved for the current watch of this thread (if any)."""
    watch = current()
    if watch is not None:
        watch.count(received)


def _shutdown(connection: Closable) -> None:
    """Shut down without touching Python-level state (an SSLSocket's own shutdown drops its SSL object
    under the reading thread's feet): the blocked read sees the end of the stream."""
    try:
        if isinstance(connection, socket.socket):
            socket.socket.shutdown(connection, socket.SHUT_RDWR)
        else:
            connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed or never connected


class Watch:
    """One transfer, ended by its watchdog when the peer is too slow or the budget is spent.

    Args:
        where: the mirror's label or the host's name, for the error.
        what: the request, e.g. "GET index.json".
        limits: the stall time, minimum rate and default budget.
    """

    def __init__(self, where: str, what: str, limits: Limits) -> None:
        self.where = where
        self.what = what
        self.limits = limits
        self.received = 0
        self.error: TransferError | None = None
        self._connections: list[Closable] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._phase = Budget(limits.budget, 0.0)
        self._started = 0.0
        self._stack: list[Watch] = []
        self._switch: Stop | None = None

    def __enter__(self) -> Watch:
        now = time.monotonic()
        own = Budget(CLEANUP_SECONDS if _local.cleanup else self.limits.budget,
                     now + (CLEANUP_SECONDS if _local.cleanup else self.limits.budget))
        phases = [] if _local.cleanup else _local.budgets
        self._phase = min([own, *phases], key=lambda b: b.deadline)
        log = next((b.log for b in reversed(_local.budgets) if b.log is not None), None)
        if self._phase.deadline <= now:
            raise self._failure(f"not started: the time budget of {self._phase.seconds:g} s is spent")
        self._switch = None if _local.cleanup else _local.stop  # deleting a temporary file is what a stop wants
        if self._switch is not None and self._switch.is_set():
            raise self._failure("not started: interrupted")
        self._started = now
        self._stack = _local.watches  # this thread's: a generator may be closed by another thread
        self._stack.append(self)
        self._thread = threading.Thread(target=self._watchdog, args=(log,), daemon=True,
                                        name=f"watch {self.where}")
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self in self._stack:
            self._stack.remove(self)
        if self.error is not None and (exc is None or isinstance(exc, Exception)):
            raise self.error from None  # whatever the library made of the closed socket, this is why

    def count(self, received: int) -> None:
        """Count bytes that arrived (or left, for an upload)."""
        self.received += received

    def check(self) -> None:
        """Raise the watch's TransferError if it has ended the transfer (for loops no socket can stop)."""
        if self.error is not None:
            raise self.error

    def attach(self, connection: Closable) -> None:
        """Shut `connection` down when the transfer ends early (at once if it already has)."""
        with self._lock:
            if self.error is None:
                self._connections.append(connection)
                return
        _shutdown(connection)

    def _failure(self, reason: str) -> TransferError:
        """Too slow is no passing fault: trying again at once would cost another window (or budget) for nothing."""
        return TransferError(self.where, f"{self.what}: {reason}", Failure.TIMEOUT, transient=False)

    def _verdict(self, now: float, base: tuple[float, int]) -> TransferError | None:
        """Why the transfer must end now, if it must."""
        if self._switch is not None and self._switch.is_set():
            return self._failure("interrupted")
        if now >= self._phase.deadline:
            return self._failure(f"the time budget of {self._phase.seconds:g} s ran out")
        window = self.limits.stall
        if now - base[0] < window:
            return None  # not running for a whole window yet
        got = self.received - base[1]
        if got >= max(1, self.limits.min_rate * window):
            return None
        if got == 0:
            return self._failure(f"nothing arrived for {window:g} s")
        return self._failure(f"too slow: {got:,} bytes in the last {window:g} s "
                             f"(at least {format_rate(self.limits.min_rate)} needed)")

    def _watchdog(self, log: Log | None) -> None:
        window = self.limits.stall
        tick = min(1.0, max(0.02, window / 10))
        samples: deque[tuple[float, int]] = deque([(self._started, 0)])
        gap = HEARTBEAT
        beat = self._started + gap
        while not self._stop.wait(tick):
            now = time.monotonic()
            samples.append((now, self.received))
            while len(samples) > 1 and samples[1][0] <= now - window:
                samples.popleft()  # keep the newest sample that is at least a window old
            verdict = self._verdict(now, samples[0])
            if verdict is not None:
                self._end(verdict)
                return
            if log is not None and now >= beat:
                with contextlib.suppress(OSError):  # a closed stderr must not end the watchdog
                    log(f"{self.where}: still waiting for {self.what}: {self.received:,} bytes in "
                        f"{now - self._started:.0f} s")
                gap = min(gap * 2, HEARTBEAT_MAX)
                beat = now + gap

    def _end(self, error: TransferError) -> None:
        with self._lock:
            self.error = error
            connections, self._connections = self._connections, []
        for connection in connections:
            _shutdown(connection)
