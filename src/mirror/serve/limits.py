"""How much `mirror serve` takes on, how long it waits for a client, and what it did.

Example::

    limits = Limits(window=30.0)           # a client must take 32 KiB of a body every 30 s
    pace = Pace(now)
    piece = pace.next_piece(later, sent)   # about one second of the client's average speed so far

The numbers are explained in docs/resharing.md ("Limits and deadlines"). The window and the
smallest piece give the minimum rate: 32 KiB per 30 s, about 1 KiB/s, as readers ask of mirrors.
"""

from __future__ import annotations

import dataclasses
from collections import deque

from mirror.record import record, replace

MIN_PIECE = 32 << 10
MAX_PIECE = 2 << 20


@record
class Limits:
    """How much the server takes on, and how long it waits for a client."""

    max_connections: int = 256  # when full, an idle connection of the address holding the most gives way
    per_client: int = 32
    max_transfers: int = 64
    per_client_transfers: int = 8  # downloads at once from one address, waiting ones included
    queue_wait: float = 10.0
    slow_rate: float = 64 << 10  # bytes a second: slower than this, a download gives its slot to one that waits
    slow_after: float = 3.0  # judged on what it took over its last so many seconds (kernel buffers fill at once)
    idle: float = 15.0  # seconds to send request headers after connecting, or between requests
    window: float = 30.0  # seconds a client may take for MIN_PIECE of a body (for a piece, where TCP does not say)


OTHER_FILES = 32  # open files besides connections and the bundles being sent: listening sockets, the folder's scan
WANTED_FILES = 4096  # the soft limit raised to, when the hard one allows


def fitted(limits: Limits) -> Limits:
    """`limits` with at most as many connections as this process may open files for, beside a bundle for each
    transfer: the soft limit is raised to the hard one first (up to WANTED_FILES). Under a limit of 256 (macOS's),
    256 connections left no file to send a bundle from or scan the folder with ("Too many open files")."""
    try:
        import resource
    except ImportError:  # Windows: no such limit for sockets
        return limits
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = WANTED_FILES if hard == resource.RLIM_INFINITY else min(WANTED_FILES, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return limits
    room = max(8, soft - limits.max_transfers - OTHER_FILES)
    return limits if room >= limits.max_connections else replace(limits, max_connections=room)


@dataclasses.dataclass(slots=True)
class Stats:
    """What the server did, for the operator and for tests."""

    requests: int = 0
    paths: deque[str] = dataclasses.field(default_factory=lambda: deque(maxlen=1000))
    bytes_sent: int = 0
    too_slow: int = 0
    busy: int = 0
    refused_connections: int = 0
    gave_way: int = 0  # slow downloads and idle connections closed for others that waited


class Pace:
    """Piece sizes from the client's average speed so far: about one second each, at most doubling each time."""

    def __init__(self, now: float) -> None:
        self.start = now
        self.piece = MIN_PIECE

    def next_piece(self, now: float, sent: int) -> int:
        """Record progress (`sent` bytes so far); the size of the next piece."""
        rate = sent / max(now - self.start, 1e-3)
        self.piece = int(min(MAX_PIECE, 2 * self.piece, max(MIN_PIECE, rate)))
        return self.piece
