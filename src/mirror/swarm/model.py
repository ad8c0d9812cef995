"""What a swarm download is asked for and what it reports, as plain values (no libtorrent here).

Example::

    wanted = Wanted(infohash, info, Path("in/.mirror-downloads/swarm"), "ab12....7z", size,
                    web_seeds=("https://a.example/m/bundles/ab12....7z",), peers=(("127.0.0.1", 6881),))
    tally.summary()     # "1048576 B from 2 peer(s); 0 B from 0 web seed(s); bytes by peer: 127.0.0.1:6881=..."
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from mirror.record import record

Log = Callable[[str], None]
Advance = Callable[[int], None]


def endpoint_text(endpoint: tuple[str, int]) -> str:
    """An address as people write it: 1.2.3.4:6881 or [::1]:6881."""
    host, port = endpoint
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@record
class Wanted:
    """One file to download, and where from."""

    infohash: str
    info: bytes | None  # the bencoded info dict, checked against the signed info hash; None: peers send it
    folder: Path
    file_name: str
    size: int
    web_seeds: tuple[str, ...] = ()
    trackers: tuple[str, ...] = ()
    peers: tuple[tuple[str, int], ...] = ()


@record
class Deadlines:
    """Give up after `stall` seconds with less than `least` bytes of progress (at least a block), and after
    `total` seconds in any case."""

    stall: float
    total: float
    least: int = 0


@dataclasses.dataclass(slots=True)
class Tally:
    """What the swarm did for one download: payload bytes per source, peers banned, pieces that failed."""

    received: dict[str, int] = dataclasses.field(default_factory=dict)  # address -> bytes of the blocks it sent
    web_seeds: set[str] = dataclasses.field(default_factory=set)  # which of those addresses are web seeds (HTTP)
    banned: list[str] = dataclasses.field(default_factory=list)
    hash_failures: int = 0
    resumed: int = 0  # bytes already on disk from an earlier run
    unnamed: int = 0  # payload kept that libtorrent named no sender for (it posts no alert for some blocks)
    # web seed URL -> the addresses it was reached at (its host resolved), and the URLs whose last answer was an
    # HTTP error or a redirect (libtorrent never asked them again), with that answer
    seed_addresses: dict[str, set[str]] = dataclasses.field(default_factory=dict)
    seed_errors: dict[str, str] = dataclasses.field(default_factory=dict)
    asked: set[str] = dataclasses.field(default_factory=set)  # web seed URLs libtorrent connected to: they saw us

    def summary(self) -> str:
        """One line for the fetch report. A banned peer's blocks were in pieces that failed: not counted as sent."""
        peers = {a: n for a, n in self.received.items() if a not in self.web_seeds and a not in self.banned}
        seeds = {a: n for a, n in self.received.items() if a in self.web_seeds and a not in self.banned}
        parts = [f"{sum(peers.values())} B from {len(peers)} peer(s)",
                 f"{sum(seeds.values())} B from {len(seeds)} web seed(s)"]
        if self.unnamed:
            parts.append(f"{self.unnamed} B from senders not named")
        if self.resumed:
            parts.append(f"{self.resumed} B from an earlier run")
        if peers:
            each = ", ".join(f"{a}={n}" for a, n in sorted(peers.items()))
            parts.append(f"bytes by peer: {each}")
        if self.banned:
            parts.append(f"banned {', '.join(self.banned)} ({self.hash_failures} failed piece(s))")
        return "; ".join(parts)
