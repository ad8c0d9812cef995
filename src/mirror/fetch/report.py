"""What each mirror did during a fetch, in one word and a detail, for people and for --json.

Example::

    report = MirrorReport("https://a.example/m/")
    report.fate = Fate.of(exc.failure)          # after a TransferError
    report.fate, report.detail                  # Fate.TIMEOUT, "index.json: too slow (120 B in 30 s)"
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mirror.errors import Failure


class Fate(StrEnum):
    """One word for what a mirror did."""

    NOT_TRIED = "not tried"
    OK = "ok"  # served what was asked, and it verified
    STALE = "stale"  # an older or expired index
    TAMPERED = "tampered"  # bytes that failed a signature or hash check
    UNTRUSTED = "untrusted"  # an index signed by a key that is not a publisher in the keyring
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


@dataclass(slots=True)
class MirrorReport:
    """What one mirror did; the latest event wins, except that a failed check is never forgotten."""

    label: str
    fate: Fate = Fate.NOT_TRIED
    detail: str = ""

    @property
    def distrusted(self) -> bool:
        """The mirror served something that failed a check: nothing more is taken from it."""
        return self.fate in (Fate.TAMPERED, Fate.UNTRUSTED)
