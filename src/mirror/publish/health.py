"""status of each host: its index version and age, which bundles it has, and (deep) whether they read back.

Example::

    for report in host_status(host, publisher_key, expected, now, deep=False):
        print(report.name, report.version, report.problems)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from mirror.errors import MirrorError
from mirror.formats.index import INDEX_NAME, MAX_INDEX, Index, check_index
from mirror.formats.minisign import PublicKeyFile
from mirror.publish.hosts.base import Host, HostError, MissingFile, read_back


@dataclass(slots=True)
class HostStatus:
    """What one host serves, judged against the publisher's current index."""

    name: str
    version: int | None = None
    age_hours: float | None = None
    expired: bool = False
    present: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing is stale, missing or damaged."""
        return not self.problems


def check_host(host: Host, publisher: PublicKeyFile, expected: Index | None, now: datetime,
               deep: bool) -> HostStatus:
    """Read the host's index and check the bundles the publisher's current index lists."""
    status = HostStatus(host.name)
    try:
        raw = host.read(INDEX_NAME, MAX_INDEX)
        index = check_index(raw, host.read(INDEX_NAME + ".minisig", 4096), publisher)
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
            if expected is not None and index.version < expected.version:
                status.problems.append(f"stale: version {index.version}, current is {expected.version}")
            if expected is not None and index.version == expected.version and raw != expected.to_bytes():
                status.problems.append("same version as the local index but other bytes")
        for entry in (expected or index or Index("", 0, "", "", (), ())).bundles:
            _check_bundle(host, entry.path, entry.size, entry.sha256, deep, status)
    except HostError as exc:
        status.problems.append(exc.reason)
    finally:
        host.close()
    return status


def _check_bundle(host: Host, path: str, size: int, sha256: str, deep: bool, status: HostStatus) -> None:
    found = host.stat(path)
    if found is None:
        status.problems.append(f"missing {path}")
        return
    if found != size:
        status.problems.append(f"{path} has {found} bytes, not {size}")
        return
    if deep:
        try:
            read_back(host, path, sha256)
        except HostError as exc:
            status.problems.append(exc.reason)
            return
    status.present += 1
