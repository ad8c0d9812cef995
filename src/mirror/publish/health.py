"""The health of each host: its index version and age, which bundles it has (with their side files, in one listing
per folder: held.py), and (deep) whether they read back.

Example::

    statuses = check_hosts(hosts, config, publisher, expected, now, deep=False, log=print)
    print(statuses[0].name, statuses[0].version, statuses[0].state, statuses[0].problems)

Hosts are checked in parallel, each within its budget from mirror.toml, and its index
within INDEX_BUDGET seconds (plan.py): a slow host is reported, never waited on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from mirror.errors import MirrorError, MissingFile, TransferError
from mirror.formats.index import BundleEntry, Index
from mirror.formats.minisign import PublicKeyFile
from mirror.net.pace import budget
from mirror.publish.config import MirrorConfig
from mirror.publish.held import Sides, needed, short, sizes_on, wrong
from mirror.publish.hosts.base import Host, read_back
from mirror.publish.parallel import each_host
from mirror.publish.plan import CLOCK_SLACK as FUTURE_SLACK
from mirror.publish.plan import INDEX_BUDGET, Log, host_index


class Health(StrEnum):
    """A host's state in one word."""

    OK = "ok"
    STALE = "stale"  # an older or expired index: readers are served old news
    FAILED = "failed"  # no index, missing or damaged bundles, or the host did not answer


@dataclass(slots=True)
class HostStatus:
    """What one host serves, judged against the publisher's current index."""

    name: str
    version: int | None = None
    age_hours: float | None = None
    expired: bool = False
    present: int = 0
    problems: list[str] = field(default_factory=list)
    age_problems: int = 0  # how many of the problems say the index is old or expired

    @property
    def ok(self) -> bool:
        """Nothing is stale, missing or damaged."""
        return not self.problems

    @property
    def state(self) -> Health:
        """OK, STALE (an old or expired index, nothing else wrong) or FAILED."""
        if not self.problems:
            return Health.OK
        return Health.STALE if len(self.problems) == self.age_problems else Health.FAILED


def check_host(host: Host, publisher: PublicKeyFile, expected: Index | None, now: datetime,
               deep: bool, sides: Sides | None = None) -> HostStatus:
    """Read the host's index and check the bundles the publisher's current index lists; a SHA256SUMS or signature
    against the size (and, with `deep`, the SHA-256) `sides` records of it (the publisher's state, held.py)."""
    status = HostStatus(host.name)
    raw = b""
    try:
        with budget(INDEX_BUDGET):
            index, raw = host_index(host, publisher)
    except MissingFile:
        status.problems.append("no index.json")
        index = None
    except MirrorError as exc:
        status.problems.append(f"index unusable: {exc}")
        index = None
    try:
        if index is not None:
            status.version = index.version
            status.age_hours = (now - index.created_at).total_seconds() / 3600
            status.expired = index.expires_at <= now
            if status.expired:
                status.problems.append(f"index expired at {index.expires}")
            if index.created_at > now + FUTURE_SLACK:
                status.problems.append(f"index signed in the future ({index.created}): a clock is wrong, this "
                                       "machine's or the signer's")
            if expected is not None and index.version < expected.version:
                status.problems.append(f"stale: version {index.version}, current is {expected.version}")
            status.age_problems = len(status.problems)
            if expected is not None and index.version == expected.version and raw != expected.to_bytes():
                status.problems.append("same version as the local index but other bytes")
        listed = (expected or index or Index("", 0, "", "", (), ())).bundles
        sizes = sizes_on(host, [path for entry in listed for path, _ in needed(entry, sides)], lambda _: None)
        for entry in listed:
            _check_bundle(host, entry, sizes, deep, status, sides or {})
    except TransferError as exc:
        status.problems.append(exc.reason)
    finally:
        host.close()
    return status


def check_hosts(hosts: Sequence[Host], config: MirrorConfig, publisher: PublicKeyFile, expected: Index | None,
                now: datetime, deep: bool, log: Log, sides: Sides | None = None) -> list[HostStatus]:
    """check_host on every host in parallel, each within its budget; a host that failed oddly is FAILED, saying why."""
    def check(host: Host) -> HostStatus:
        try:
            return check_host(host, publisher, expected, now, deep, sides)
        except MirrorError as exc:
            return HostStatus(host.name, problems=[str(exc)])

    outcomes = each_host(hosts, {h.name: config.host(h.name).budget for h in hosts}, check, log, reads=True)
    statuses = [HostStatus(host.name, problems=[outcome.reason]) if isinstance(outcome, TransferError) else outcome
                for host, outcome in zip(hosts, outcomes, strict=True)]
    newest = max((s.version for s in statuses if s.version is not None), default=None)
    if expected is None and newest is not None:  # no local state here: the hosts are compared with each other
        for status in statuses:
            if status.version is not None and status.version < newest:
                status.problems.append(f"stale: version {status.version}, another host has {newest}")
                status.age_problems += 1
    return statuses


def _check_bundle(host: Host, entry: BundleEntry, sizes: dict[str, int | None], deep: bool,
                  status: HostStatus, sides: Sides) -> None:
    """The bundle and every side file a reader needs (held.py), by the sizes of one listing; with `deep`, the
    bundle read back whole, and each side file `sides` records."""
    missing = short(entry, sizes, sides)
    if missing and missing[0][0] == entry.path:  # the bundle itself: its side files go without saying
        found = missing[0][1]
        status.problems.append(f"missing {entry.path}" if found is None else
                               f"{entry.path} has {found} bytes, not {entry.size}")
        return
    for path, found in missing:
        status.problems.append(f"missing {path}" if found is None else f"{path} {wrong(entry, path, found, sides)}")
    if missing:
        return
    if deep:
        try:
            read_back(host, entry.path, entry.sha256, entry.size)
            for path, _ in needed(entry):
                if path in sides:
                    read_back(host, path, sides[path][1], sides[path][0])
        except TransferError as exc:
            status.problems.append(exc.reason)
            return
    status.present += 1
