"""Send a signed plan to every host, independently and in parallel, with retries.

Example::

    results = run_plan(plan, hosts, config, log=print)
    [r.name for r in results if not r.ok]          # hosts that failed; the others went on

Order on each host: bundles and their detached signature files first, the immutable
index/<version>.json pair next, index.json and its signature last, so a reader never
sees an index that names a file the host does not have. Each file goes to a
temporary name, is renamed into place, then read back (hosts/base.py). Each host has
its `budget` from mirror.toml for all of it (parallel.py): a slow host is reported
when its time is up, and never holds the others.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mirror.errors import Failure, TransferError
from mirror.publish.config import MirrorConfig
from mirror.publish.hosts import sending_progress
from mirror.publish.hosts.base import Host
from mirror.publish.parallel import each_host, with_retries
from mirror.publish.plan import Log, Plan, Upload

T = TypeVar("T")


@dataclass(slots=True)
class HostResult:
    """What happened on one host."""

    name: str
    required: bool
    sent: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    error: str | None = None
    failure: Failure | None = None

    @property
    def ok(self) -> bool:
        """True when every file reached the host."""
        return self.error is None


def publish_to_host(host: Host, required: bool, uploads: Sequence[Upload], log: Log,
                    advance: Callable[[int], None] | None = None) -> HostResult:
    """Send every upload to one host, in order; stop at the first failure (the index goes last).

    `advance` hears of every byte sent (and of every file already there, by its size): a progress bar's.
    """
    result = HostResult(host.name, required)
    counted = 0

    def count(n: int) -> None:
        nonlocal counted
        counted += n
        if advance is not None:
            advance(n)

    try:
        for upload in uploads:
            counted = 0
            if not upload.replace and host.stat(upload.path) == upload.size:
                result.present.append(upload.path)
                count(upload.size)
                continue
            with sending_progress(count if advance is not None else None):
                with_retries(functools.partial(host.upload, upload.path, upload.source, upload.sha256), host.name,
                              upload.path, log)
            count(upload.size - counted)  # exactly its size in the end, whatever retries read again
            result.sent.append(upload.path)
            log(f"[{host.name}] sent {upload.path} ({upload.size} bytes)")
    except TransferError as exc:
        result.error, result.failure = exc.reason, exc.failure
    except OSError as exc:  # reading a local file failed: this host's run ends, the others go on
        result.error = f"{exc.filename}: {exc.strerror}"
    finally:
        host.close()
    return result


def _each_ready_host(plan: Plan, hosts: Sequence[Host], config: MirrorConfig, work: Callable[[Host], T],
                     log: Log) -> list[T | TransferError]:
    """`work` on every host whose index came while planning, in parallel within budgets; for the others, why not.

    A host whose index did not come gets nothing: its version is unknown.
    """
    ready = [h for h in hosts if h.name not in plan.unread]
    done = dict(zip([h.name for h in ready],
                    each_host(ready, {h.name: config.host(h.name).budget for h in ready}, work, log), strict=True))
    return [done[h.name] if h.name in done else plan.unread[h.name] for h in hosts]


def run_plan(plan: Plan, hosts: Sequence[Host], config: MirrorConfig, log: Log,
             advance: Callable[[int], None] | None = None) -> list[HostResult]:
    """Publish to every host in parallel, each within its budget; one failure never stops the others.

    `advance` hears of the bytes sent to all hosts together (at most `total_bytes(plan, hosts)`).
    """
    results = []
    for host, outcome in zip(hosts, _each_ready_host(
            plan, hosts, config,
            lambda h: publish_to_host(h, config.host(h.name).required, plan.uploads, log, advance), log),
            strict=True):
        if isinstance(outcome, TransferError):  # its index did not come, or it was still busy past its budget
            host.close()
            outcome = HostResult(host.name, config.host(host.name).required, error=outcome.reason,
                                 failure=outcome.failure)
        results.append(outcome)
    return results


def total_bytes(plan: Plan, hosts: Sequence[Host]) -> int:
    """What `run_plan` sends at most: every upload to every host whose index came."""
    return sum(u.size for u in plan.uploads) * sum(h.name not in plan.unread for h in hosts)


def dry_run(plan: Plan, hosts: Sequence[Host], config: MirrorConfig, log: Log) -> dict[str, dict[str, Any]]:
    """Per host, what it would get (each file, and whether it is there already), or why it cannot be asked."""
    def look(host: Host) -> list[dict[str, Any]]:
        try:
            return [{"path": u.path, "size": u.size, "present": host.stat(u.path) == u.size} for u in plan.uploads]
        finally:
            host.close()

    return {host.name: {"files": [], "error": outcome.reason} if isinstance(outcome, TransferError)
            else {"files": outcome, "error": None}
            for host, outcome in zip(hosts, _each_ready_host(plan, hosts, config, look, log), strict=True)}
