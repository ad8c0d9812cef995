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
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mirror.errors import Failure, TransferError
from mirror.formats.index import BundleEntry
from mirror.formats.layout import INDEX_NAME, SIG_SUFFIX, version_path
from mirror.formats.names import printable
from mirror.net.pace import carried
from mirror.publish.config import MirrorConfig
from mirror.publish.held import Sides, bundle_of, needed, short, sizes_on
from mirror.publish.hosts import open_host, sending_progress
from mirror.publish.hosts.base import Host, read_back
from mirror.publish.parallel import each_host, with_retries
from mirror.publish.plan import Log, Plan, Upload
from mirror.publish.state import host_key

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
    missing: list[str] = field(default_factory=list)  # listed bundles it was known to hold, and found without

    @property
    def ok(self) -> bool:
        """True when every file reached the host."""
        return self.error is None


def _is_index(path: str) -> bool:
    """The index files, which go last and in order, once every other file is on the host."""
    return path in (INDEX_NAME, INDEX_NAME + SIG_SUFFIX) or path.startswith(version_path(0).rpartition("/")[0] + "/")


def _same_bytes(host: Host, path: str, sha256: str, size: int, log: Log) -> bool:
    """Whether the file at `path` on the host reads back whole with `sha256` (retried when transient)."""
    try:
        with_retries(functools.partial(read_back, host, path, sha256, size), host.name, path, log)
    except TransferError as exc:
        if exc.failure is not Failure.BAD_ANSWER:
            raise
        return False
    return True


class _Sender:
    """Sends uploads to one host, from one or several threads, and collects what happened.

    A content-addressed file already there at its size is taken as it is if the host is known to hold its bundle
    (state.py's `holding`: it was read back when it was sent); otherwise it is read back first, and sent again if
    it holds other bytes (a read-back that failed left them under the bundle's name; a partial copy by other
    means; a host restored from elsewhere)."""

    def __init__(self, result: HostResult, log: Log, advance: Callable[[int], None] | None,
                 known: frozenset[str] = frozenset()) -> None:
        self.result, self.log, self.advance, self.known = result, log, advance, known
        self.lock = threading.Lock()

    def _there(self, host: Host, upload: Upload) -> bool:
        """Whether `upload` is on the host already, with its bytes."""
        if upload.replace or host.stat(upload.path) != upload.size:
            return False
        if bundle_of(upload.path) in self.known or _same_bytes(host, upload.path, upload.sha256, upload.size,
                                                                self.log):
            return True
        self.log(f"[{host.name}] {upload.path} is there with other bytes; it is sent again")
        return False

    def _count(self, n: int) -> None:
        if self.advance is not None:
            with self.lock:
                self.advance(n)

    def send(self, host: Host, upload: Upload) -> None:
        """One file, unless it is there already (content-addressed files only); retried when transient."""
        counted = 0

        def count(n: int) -> None:
            nonlocal counted
            counted += n
            self._count(n)

        if self._there(host, upload):
            with self.lock:
                self.result.present.append(upload.path)
            count(upload.size)
            return
        with sending_progress(count if self.advance is not None else None):
            with_retries(functools.partial(host.upload, upload.path, upload.source, upload.sha256), host.name,
                         upload.path, self.log)
        count(upload.size - counted)  # exactly its size in the end, whatever retries read again
        with self.lock:
            self.result.sent.append(upload.path)
        self.log(f"[{host.name}] sent {upload.path} ({upload.size} bytes)")

    def send_all(self, host: Host, uploads: Sequence[Upload], spare: Callable[[], Host] | None,
                 transfers: int) -> None:
        """Every upload, `transfers` at a time: `host` and up to transfers - 1 more connections from `spare`.

        The first failure stops new files from starting; it is raised once the files under way have ended.
        """
        workers = min(transfers, len(uploads)) if spare is not None else 1
        if workers <= 1:
            for upload in uploads:
                self.send(host, upload)
            return
        queue = list(reversed(uploads))
        failures: list[BaseException] = []
        budgets = carried()

        def work(target: Host, own: bool) -> None:
            try:
                with budgets():
                    while True:
                        with self.lock:
                            if failures or not queue:
                                return
                            upload = queue.pop()
                        self.send(target, upload)
            except BaseException as exc:  # handed to the host's thread, which raises the first
                with self.lock:
                    failures.append(exc)
            finally:
                if own:
                    target.close()

        assert spare is not None  # noqa: S101 - workers > 1 only with spare connections
        threads = [threading.Thread(target=work, args=(host, False), daemon=True, name=f"host {host.name} 1")]
        threads += [threading.Thread(target=work, args=(spare(), True), daemon=True, name=f"host {host.name} {i}")
                    for i in range(2, workers + 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise failures[0]


def _lacking(host: Host, unsure: Sequence[BundleEntry], log: Log | None = None,
             confirmed: list[str] | None = None, sides: Sides | None = None) -> None:
    """Refuse a host that lacks a bundle the index lists (or one of its files, or has other bytes under its name)
    and this machine cannot send it again. The bundles and their side files are looked for in one listing
    (held.py; a SHA256SUMS or signature at the size `sides` records), then each bundle, and each side file `sides`
    records, is read back whole, unless `log` is None (a dry run); each one found whole goes into `confirmed` at
    once, its files with it, so that it is remembered as held even if the host's run fails later (otherwise every
    run after a lost state would read them all back again)."""
    if not unsure:
        return
    sizes = sizes_on(host, [path for entry in unsure for path, _ in needed(entry, sides)], log or (lambda _: None))
    for entry in unsure:
        where = f"the index lists {printable(entry.title)} ({entry.path}), which is"
        again = "and the file it was published from is not here: publish that bundle again"
        missing = [path for path, _ in short(entry, sizes, sides)]
        if missing:
            raise TransferError(host.name, f"{where} not on this host, or not whole, {again}" if entry.path in missing
                                else f"{where} on this host without {missing[0]} (or with it empty or cut short), "
                                     f"{again}")
        if log is not None:
            for path, (size, sha256) in [(entry.path, (entry.size, entry.sha256)),
                                         *((p, (sides or {})[p]) for p, _ in needed(entry) if p in (sides or {}))]:
                if not _same_bytes(host, path, sha256, size, log):
                    raise TransferError(host.name, f"{where} on this host with other bytes" + (
                        "" if path == entry.path else f" in {path}") + f", {again}")
        if confirmed is not None:
            confirmed += [path for path, _ in needed(entry)]


def _still_there(host: Host, held: Sequence[BundleEntry], log: Log, missing: list[str] | None = None,
                 sides: Sides | None = None) -> None:
    """Refuse a host that no longer has, at its size, a listed bundle it is known to hold and that planning had no
    time to look for (plan.py's `_still_held`, `Plan.unchecked`), or one of its side files (held.py; a SHA256SUMS
    or signature not at the size `sides` records); each one found missing goes into `missing`, so that it is held no
    more, and sent again by the next run."""
    if not held:
        return
    sizes = sizes_on(host, [path for entry in held for path, _ in needed(entry, sides)], log)
    gone = [(entry, lacks[0][0]) for entry in held if (lacks := short(entry, sizes, sides))]
    if gone:
        if missing is not None:
            missing += [entry.path for entry, _ in gone]
        first, path = gone[0]
        more = f" (and {len(gone) - 1} more listed bundle(s))" if len(gone) > 1 else ""
        which = "" if path == first.path else f", whose {path}"
        raise TransferError(host.name, f"the index lists {printable(first.title)} ({first.path}){which}{more}, "
                                       "which is no longer on this host, or not whole: run this again to send it "
                                       "from the file it was published from (if that is gone, publish that bundle "
                                       "again)", Failure.MISSING, transient=False)


def publish_to_host(host: Host, required: bool, uploads: Sequence[Upload], log: Log,
                    advance: Callable[[int], None] | None = None, spare: Callable[[], Host] | None = None,
                    transfers: int = 1, unsure: Sequence[BundleEntry] = (),
                    known: frozenset[str] = frozenset(), unchecked: Sequence[BundleEntry] = (),
                    sides: Sides | None = None) -> HostResult:
    """Send every upload to one host; stop at the first failure (the index goes last).

    The files before the index go `transfers` at a time, each further connection made by `spare`; the index
    files go one by one, in order, once all of them are there. `advance` hears of every byte sent (and of every
    file already there, by its size): a progress bar's. Bundles in `unsure` (listed, but not known to be on the
    host, and not sent) must be there, or the host gets nothing. `known`: the bundles the host is known to hold;
    those of them in `unchecked` (not looked for while planning) must be there at their size too. `sides`: the
    size and SHA-256 each listed bundle's SHA256SUMS and signature were sent with (held.py).
    """
    result = HostResult(host.name, required)
    sender = _Sender(result, log, advance, known)
    try:
        _still_there(host, unchecked, log, result.missing, sides)
        _lacking(host, unsure, log, result.present, sides)
        sender.send_all(host, [u for u in uploads if not _is_index(u.path)], spare, transfers)
        for upload in uploads:
            if _is_index(upload.path):
                sender.send(host, upload)
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
            lambda h: publish_to_host(h, config.host(h.name).required, plan.uploads, log, advance,
                                      functools.partial(open_host, config.host(h.name)),
                                      config.host(h.name).transfers, plan.unsure.get(h.name, ()),
                                      plan.holding.get(host_key(config.host(h.name)), frozenset()) |
                                      plan.whole.get(h.name, frozenset()),
                                      plan.unchecked.get(h.name, ()), plan.sides), log),
            strict=True):
        if isinstance(outcome, TransferError):  # its index did not come, or it was still busy past its budget
            host.close()
            outcome = HostResult(host.name, config.host(host.name).required, error=outcome.reason,
                                 failure=outcome.failure)
        results.append(outcome)
    return results


def holding_after(plan: Plan, results: Sequence[HostResult], config: MirrorConfig) -> dict[str, frozenset[str]]:
    """Which listed bundles each host is known to hold once `results` are in (state.py's `holding`)."""
    listed = frozenset(e.path for e in plan.index.bundles)
    holding = dict(plan.holding)
    for result in results:
        key = host_key(config.host(result.name))
        done = {*result.sent, *result.present}  # a bundle counts once its own files are all there
        arrived = listed if result.ok else {path for path in listed & done if all(
            u.path in done for u in plan.uploads if not u.replace and bundle_of(u.path) == path)}
        holding[key] = (holding.get(key, frozenset()) - set(result.missing)) | arrived
    return holding


def total_bytes(plan: Plan, hosts: Sequence[Host]) -> int:
    """What `run_plan` sends at most: every upload to every host whose index came."""
    return sum(u.size for u in plan.uploads) * sum(h.name not in plan.unread for h in hosts)


def dry_run(plan: Plan, hosts: Sequence[Host], config: MirrorConfig, log: Log) -> dict[str, dict[str, Any]]:
    """Per host, what it would get (each file, and whether it is there already), or why it cannot be asked."""
    def look(host: Host) -> list[dict[str, Any]]:
        try:
            _still_there(host, plan.unchecked.get(host.name, ()), log, sides=plan.sides)  # what would refuse the
            _lacking(host, plan.unsure.get(host.name, ()), sides=plan.sides)  # host its index (by size alone)
            sizes = sizes_on(host, [u.path for u in plan.uploads if not u.replace], log, bundle_first=False)
            return [{"path": u.path, "size": u.size, "present": not u.replace and sizes[u.path] == u.size}
                    for u in plan.uploads]  # a .torrent is sent again all the same (its web seeds may have changed)
        finally:
            host.close()

    return {host.name: {"files": [], "error": outcome.reason} if isinstance(outcome, TransferError)
            else {"files": outcome, "error": None}
            for host, outcome in zip(hosts, _each_ready_host(plan, hosts, config, look, log), strict=True)}
