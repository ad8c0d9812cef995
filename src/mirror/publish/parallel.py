"""Work on every host at once, each within its time budget, never waiting on a host that is stuck.

Example::

    outcomes = each_host(hosts, {"dav": 3600.0, "usb": 3600.0}, lambda host: check_host(host, ...), log)
    for host, outcome in zip(hosts, outcomes, strict=True):
        ...        # what `work` returned, or the TransferError that stopped it (TIMEOUT when it overran)

Each host gets a thread and a phase budget (net/pace.py): every transfer it starts ends by the
budget's deadline, its sockets shut down by the watchdog. A thread still busy GRACE seconds after
that (a read no socket can cut short: a hung network share) is left behind and reported as timed
out; it is a daemon thread, so the process does not wait for it either.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from mirror.errors import Failure, TransferError
from mirror.net.pace import CLEANUP_SECONDS, Stop, budget, stoppable
from mirror.publish.hosts.base import Host

Log = Callable[[str], None]
T = TypeVar("T")
RETRIES = 3
GRACE = CLEANUP_SECONDS + 2.0  # a host whose budget is spent may still delete its temporary files


@dataclass
class _Slot(Generic[T]):
    """One host's thread and what it came to."""

    deadline: float
    thread: threading.Thread | None = None
    ended: threading.Event = field(default_factory=threading.Event)  # waited on, never the thread itself (below)
    result: T | None = None
    error: BaseException | None = None
    done: bool = False


def _run(slot: _Slot[T], host: Host, seconds: float, work: Callable[[Host], T], log: Log, stop: Stop) -> None:
    try:
        with budget(seconds, log), stoppable(stop):
            slot.result = work(host)
    except BaseException as exc:  # handed to the waiting thread, which decides
        slot.error = exc
    slot.done = True
    slot.ended.set()


def each_host(hosts: Sequence[Host], seconds: Mapping[str, float], work: Callable[[Host], T],
              log: Log, reads: bool = False) -> list[T | TransferError]:
    """`work(host)` for every host in parallel, each within `seconds[host.name]`; outcomes in host order.

    A TransferError that `work` raises is its host's outcome; any other exception is raised here, once every
    other host has had its turn (raised at once, it cut the others off mid-upload: their threads are daemons, and
    a required host was left without its index and never reported, helper-151). `reads`: `work` only reads (status,
    publish's look at what the hosts hold), which an interrupt then says.
    """
    slots: list[_Slot[T]] = []
    stop = Stop()
    try:
        for host in hosts:
            slot: _Slot[T] = _Slot(time.monotonic() + seconds[host.name])
            slot.thread = threading.Thread(target=_run, args=(slot, host, seconds[host.name], work, log, stop),
                                           daemon=True, name=f"host {host.name}")
            slots.append(slot)  # before it starts: a signal as it starts finds it among those to wait for
            slot.thread.start()
        for slot in slots:
            slot.ended.wait(max(0.0, slot.deadline + GRACE - time.monotonic()))
    except BaseException:
        _stopped(stop, slots, log, reads)
        raise
    return _outcomes(hosts, seconds, slots)


def _stopped(stop: Stop, slots: Sequence[_Slot[T]], log: Log, reads: bool) -> None:
    """Ctrl-C (or a bug) in the waiting thread: end every host's transfers and wait, a little, while they delete
    their temporary files (a daemon thread is cut off where it stands when the process ends: a `.NAME.part` was
    left on the host, and nothing removed it later). A second Ctrl-C ends the wait.

    The wait is on each slot's event: a Thread.join cut short by Ctrl-C marks a thread that is still running as
    ended (CPython 3.11's bpo-45274 handling), and every later join returned at once."""
    busy = [slot for slot in slots if slot.thread is not None and slot.thread.ident is not None
            and not slot.ended.is_set()]  # before the switch: a host that ends at it was under way all the same
    stop.set()
    if not busy:
        return
    with contextlib.suppress(OSError):  # a closed stderr must not hide the interrupt
        log("interrupted: ending the requests under way" if reads  # status, the index's look: no file to remove
            else "interrupted: ending the transfers under way and removing their temporary files")
    until = time.monotonic() + CLEANUP_SECONDS
    for slot in busy:
        slot.ended.wait(max(0.0, until - time.monotonic()))


def _outcomes(hosts: Sequence[Host], seconds: Mapping[str, float],
              slots: Sequence[_Slot[T]]) -> list[T | TransferError]:
    outcomes: list[T | TransferError] = []
    unexpected: BaseException | None = None
    for host, slot in zip(hosts, slots, strict=True):
        if not slot.done:
            outcomes.append(TransferError(host.name, f"still busy {GRACE:g} s after its time budget of "
                                          f"{seconds[host.name]:g} s ran out; no longer waited for",
                                          Failure.TIMEOUT, transient=False))
        elif isinstance(slot.error, TransferError):
            outcomes.append(slot.error)
        elif slot.error is not None:
            unexpected = unexpected or slot.error
            outcomes.append(TransferError(host.name, f"{type(slot.error).__name__}", Failure.BAD_ANSWER))
        else:
            outcomes.append(slot.result)  # type: ignore[arg-type]  # done without error: work returned it
    if unexpected is not None:
        raise unexpected
    return outcomes


def with_retries(action: Callable[[], T], host: str, what: str, log: Log) -> T:
    """`action()`, tried again after a transient TransferError (0.5 s, then 1 s), RETRIES times in all.

    Raises:
        TransferError: the last failure, or one that is not transient.
    """
    for attempt in range(RETRIES):
        try:
            return action()
        except TransferError as exc:
            if not exc.transient or attempt == RETRIES - 1:
                raise
            delay = 0.5 * 2**attempt
            log(f"[{host}] {what}: {exc.reason}; trying again in {delay:g} s")
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
