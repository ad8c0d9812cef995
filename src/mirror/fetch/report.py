"""What each mirror did during a fetch: for the index, and for each bundle, in words and numbers.

Example::

    report = MirrorReport("https://a.example/m/")
    report.index = Event(Fate.OK, "version 5, chosen", seconds=0.4)
    report.bundle(entry).add(Fate.TIMEOUT, "GET bundles/ab.7z: too slow: 30 bytes in the last 30 s", 30, 31.0)
    report.fate, report.detail          # Fate.TIMEOUT, "GET bundles/ab.7z: too slow: ..."

The one-word fate of a mirror is the latest thing it did, except that a failed check (tampered
bytes, an index signed by an unknown key) is never forgotten: nothing more is taken from it.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mirror.errors import Failure
from mirror.formats.index import BundleEntry


class Fate(StrEnum):
    """One word for what a mirror did."""

    NOT_TRIED = "not tried"
    OK = "ok"  # served what was asked, and it verified
    STALE = "stale"  # an older or expired index
    TAMPERED = "tampered"  # bytes that failed a signature or hash check
    UNTRUSTED = "untrusted"  # an index signed by a key that is not a publisher in the keyring
    SUSPECT = "suspect"  # served part of a download that failed its hash; no whole copy came to tell who lied
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    MISSING = "missing"
    REFUSED = "refused"
    BAD_ANSWER = "bad answer"

    @classmethod
    def of(cls, failure: Failure) -> Fate:
        """The fate of a mirror whose transfer failed this way."""
        return cls(failure.value)

    @property
    def delivered(self) -> bool:
        """Whether the mirror answered with an index at all (even a bad one)."""
        return self in (Fate.OK, Fate.STALE, Fate.TAMPERED, Fate.UNTRUSTED)

    @property
    def failed_check(self) -> bool:
        """Whether the mirror served something that failed a signature or hash check."""
        return self in (Fate.TAMPERED, Fate.UNTRUSTED)


@dataclass(slots=True)
class Event:
    """What a mirror did for one thing asked of it: its fate, why, how many bytes and how long."""

    fate: Fate
    detail: str = ""
    received: int = 0
    seconds: float = 0.0
    tally: Counter[Fate] | None = field(default=None, repr=False, compare=False)  # its report's, kept up by `set`

    def add(self, fate: Fate, detail: str, received: int, seconds: float) -> None:
        """Another turn at the same thing: the bytes and time add up, the latest outcome stands."""
        if not self.fate.failed_check:
            self.set(fate, detail)
        self.received += received
        self.seconds += seconds

    def set(self, fate: Fate, detail: str) -> None:
        """Its fate now, and why (the report's count of its bundles' fates follows)."""
        if self.tally is not None:
            self.tally[self.fate] -= 1
            self.tally[fate] += 1
        self.fate, self.detail = fate, detail

    def to_json(self) -> dict[str, Any]:
        """The event as --json shows it."""
        return {"fate": self.fate.value, "detail": self.detail, "bytes": self.received,
                "seconds": round(self.seconds, 2)}


@dataclass(slots=True)
class MirrorReport:
    """What one mirror did for the index and for each bundle, in the order it happened."""

    label: str
    index: Event | None = None
    bundles: dict[str, tuple[BundleEntry, Event]] = field(default_factory=dict)  # by sha256
    given_up: bool = False  # not asked for more bundles in this run: it had none of the many it was asked for
    # how many of its bundles have each fate now: for choosing whom to ask first (fetcher.py), never for trust
    # (threads update it without a lock, and a lost count only changes an order)
    fates: Counter[Fate] = field(default_factory=Counter)
    _latest: Event | None = field(default=None, repr=False)
    # Several downloads at once (fetcher.py) add bundles while another asks whether the mirror is distrusted.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def set_index(self, fate: Fate, detail: str, seconds: float, received: int = 0) -> Event:
        """Record what the mirror did when asked for its index."""
        self.index = self._latest = Event(fate, detail, received, seconds)
        return self.index

    def bundle(self, entry: BundleEntry) -> Event:
        """The event for `entry`, created as NOT_TRIED on first use; it becomes the latest."""
        with self._lock:
            if entry.sha256 not in self.bundles:
                self.bundles[entry.sha256] = (entry, Event(Fate.NOT_TRIED, tally=self.fates))
                self.fates[Fate.NOT_TRIED] += 1
            self._latest = self.bundles[entry.sha256][1]
            return self._latest

    def blame(self, entry: BundleEntry, detail: str) -> None:
        """The mirror served bytes of `entry` that are proven wrong (found out after its turn ended)."""
        self.bundle(entry).set(Fate.TAMPERED, detail)

    def _deciding(self) -> Event | None:
        with self._lock:
            events = [e for e in (self.index, *(e for _, e in self.bundles.values())) if e is not None]
        return next((e for e in events if e.fate.failed_check), self._latest)

    @property
    def fate(self) -> Fate:
        """The first failed check, else the latest event's fate; NOT_TRIED when nothing was asked."""
        event = self._deciding()
        return Fate.NOT_TRIED if event is None else event.fate

    @property
    def detail(self) -> str:
        """Why the mirror has its fate."""
        event = self._deciding()
        return "" if event is None else event.detail

    @property
    def distrusted(self) -> bool:
        """The mirror served something that failed a check: nothing more is taken from it."""
        return self.fate.failed_check

    def to_json(self) -> dict[str, Any]:
        """The report as --json shows it (docs/fetch.md)."""
        return {"mirror": self.label, "fate": self.fate.value, "detail": self.detail,
                "index": None if self.index is None else self.index.to_json(),
                "bundles": [{"id": entry.id, "version": entry.version, "sha256": entry.sha256, **event.to_json()}
                            for entry, event in list(self.bundles.values())]}
