"""The reader's index rules as pure functions: no rollback, no freeze, no mix-and-match.

Example::

    chooser = IndexChooser(seen={"01F0...": Seen(4, "ab12...")}, now=now, strict=False)
    for label, index, digest in answers_in_mirror_order:
        judgement = chooser.offer(label, index, digest)    # FRESH, EXPIRED, STALE or ATTACK
        if chooser.done:
            break
    chosen = chooser.choice()        # the first fresh index, else the newest expired one
    state = chooser.new_state()      # what the reader keeps for next time

The rules (python-tuf's TrustedMetadataSet does the same for TUF roles):
1. A version lower than the highest seen from that publisher is stale (a rollback).
2. The same version with other bytes than seen before, or than another mirror served
   in this run, is an attack (mix-and-match).
3. An index dated more than a day ahead is accepted with a warning (a wrong clock).
4. An expired index is stale with --strict; otherwise kept as a fallback.
5. The first fresh index in mirror order wins; with none, the newest expired one.
Every index reaching these rules has already passed its signature check; nothing
here reads or writes a file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum

from mirror.formats.index import BundleEntry, Index
from mirror.record import field, record

FUTURE_SLACK = timedelta(days=1)


class Outcome(StrEnum):
    """What the rules say of one signed index."""

    FRESH = "fresh"  # usable, not expired
    EXPIRED = "expired"  # usable only if no mirror has a fresh one
    STALE = "stale"  # a rollback, or expired with --strict
    ATTACK = "attack"  # the same version with other bytes


@record
class Seen:
    """What a reader remembers of one publisher: the highest version accepted, its hash, its mirrors."""

    version: int
    sha256: str
    mirrors: tuple[str, ...] = ()


@record
class Judgement:
    """The outcome for one index, why, and warnings to show."""

    outcome: Outcome
    detail: str
    warnings: tuple[str, ...] = ()


@record
class Choice:
    """The index a fetch works from.

    `raw` and `signature` are the index files exactly as fetched (kept by `fetch --keep-mirror`).
    `signed` is False for a peer's unsigned listing (fetch/listing.py): then `index` holds only its
    bundles (no publisher, version 0) and each bundle is trusted by its author's signature alone, and
    `others` holds, by the sha256 of the copy in `index`, the other copies of the same version that peers
    offer (an endorsed and an unendorsed copy are different files), to try when that copy is not trusted;
    `listed_by` names, by sha256, size and info hash, the peers whose listing names that file so (only they are
    asked for it).
    """

    label: str
    index: Index
    sha256: str
    expired: bool
    signed: bool = True
    raw: bytes = field(default=b"", repr=False)
    signature: bytes = field(default=b"", repr=False)
    others: Mapping[str, tuple[BundleEntry, ...]] = field(default_factory=dict, repr=False)
    listed_by: Mapping[tuple[str, int, str | None], tuple[str, ...]] = field(default_factory=dict, repr=False)


def judge_index(seen: Seen | None, index: Index, sha256: str, now: datetime, strict: bool) -> Judgement:
    """Rules 1-4 for one index against what was seen before."""
    if seen is not None and index.version < seen.version:
        return Judgement(Outcome.STALE, f"index version {index.version}, older than version {seen.version} "
                                        "seen before")
    if seen is not None and index.version == seen.version and sha256 != seen.sha256:
        return Judgement(Outcome.ATTACK, f"ATTACK: index version {index.version} with other bytes than seen before")
    warnings: tuple[str, ...] = ()
    if index.created_at > now + FUTURE_SLACK:
        warnings = (f"index dated {index.created}, in the future: is your clock right?",)
    if index.expires_at <= now:
        hours = (now - index.expires_at).total_seconds() / 3600  # in days past two days; whole lines, translated
        days = hours / 24
        expired = (f"index v{index.version} expired {hours:.1f} hours ago" if hours < 48
                   else f"index v{index.version} expired {days:.1f} days ago")
        if strict:
            return Judgement(Outcome.STALE, f"{expired} (--strict)", warnings)
        return Judgement(Outcome.EXPIRED, expired, warnings)
    return Judgement(Outcome.FRESH, f"index v{index.version}", warnings)


@dataclasses.dataclass(slots=True)
class IndexChooser:
    """Rule 5 over the answers of several mirrors, in order; rule 2 across mirrors too."""

    seen: Mapping[str, Seen]
    now: datetime
    strict: bool
    _fresh: Choice | None = None
    _fallback: Choice | None = None
    _served: dict[tuple[str, int], str] = dataclasses.field(default_factory=dict)  # (publisher, version) -> sha256

    @property
    def done(self) -> bool:
        """A fresh index was found: later mirrors need not be asked."""
        return self._fresh is not None

    def offer(self, label: str, index: Index, sha256: str) -> Judgement:
        """Judge the index one mirror served, and keep it if it is the best so far."""
        earlier = self._served.setdefault((index.publisher_key, index.version), sha256)
        if earlier != sha256:
            return Judgement(Outcome.ATTACK, f"ATTACK: index version {index.version} with other bytes than "
                                             "another mirror served")
        judgement = judge_index(self.seen.get(index.publisher_key), index, sha256, self.now, self.strict)
        choice = Choice(label, index, sha256, judgement.outcome is Outcome.EXPIRED)
        if judgement.outcome is Outcome.FRESH and self._fresh is None:
            self._fresh = choice
        elif judgement.outcome is Outcome.EXPIRED and (
                self._fallback is None or index.version > self._fallback.index.version):
            self._fallback = choice
        return judgement

    def choice(self) -> Choice | None:
        """The first fresh index; else the newest expired one; else None."""
        return self._fresh or self._fallback

    def new_state(self) -> tuple[str, Seen] | None:
        """The publisher whose state changes, and what to remember: the chosen index."""
        chosen = self.choice()
        if chosen is None:
            return None
        return chosen.index.publisher_key, Seen(chosen.index.version, chosen.sha256, chosen.index.mirrors)
