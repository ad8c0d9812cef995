"""Send a signed plan to every host, independently and in parallel, with retries.

Example::

    results = run_plan(plan, hosts, {"dav": True, "usb": False}, log=print)
    [r.name for r in results if not r.ok]          # hosts that failed; the others went on

Order on each host: bundles and their detached signature files first, the immutable
index/<version>.json pair next, index.json and its signature last, so a reader never
sees an index that names a file the host does not have. Each file goes to a
temporary name, is renamed into place, then read back (hosts/base.py).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from mirror.errors import Failure, TransferError
from mirror.publish.hosts.base import Host
from mirror.publish.plan import Log, Plan, Upload

RETRIES = 3


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


def _with_retries(action: Callable[[], None], host: str, what: str, log: Log) -> None:
    for attempt in range(RETRIES):
        try:
            action()
            return
        except TransferError as exc:
            if not exc.transient or attempt == RETRIES - 1:
                raise
            delay = 0.5 * 2**attempt
            log(f"[{host}] {what}: {exc.reason}; trying again in {delay:g} s")
            time.sleep(delay)


def publish_to_host(host: Host, required: bool, uploads: Sequence[Upload], log: Log) -> HostResult:
    """Send every upload to one host, in order; stop at the first failure (the index goes last)."""
    result = HostResult(host.name, required)
    try:
        for upload in uploads:
            if not upload.replace and host.stat(upload.path) == upload.size:
                result.present.append(upload.path)
                continue
            _with_retries(functools.partial(host.upload, upload.path, upload.source, upload.sha256), host.name,
                          upload.path, log)
            result.sent.append(upload.path)
            log(f"[{host.name}] sent {upload.path} ({upload.size} bytes)")
    except TransferError as exc:
        result.error, result.failure = exc.reason, exc.failure
    except OSError as exc:  # reading a local file failed: this host's run ends, the others go on
        result.error = f"{exc.filename}: {exc.strerror}"
    finally:
        host.close()
    return result


def run_plan(plan: Plan, hosts: Sequence[Host], required: dict[str, bool], log: Log) -> list[HostResult]:
    """Publish to every host in parallel; one failure never stops the others."""
    with ThreadPoolExecutor(max_workers=max(1, len(hosts))) as pool:
        futures = [pool.submit(publish_to_host, h, required.get(h.name, True), plan.uploads, log) for h in hosts]
        return [f.result() for f in futures]


