"""net/pace.py: a watch ends a transfer that drips, stalls or overruns its budget, and leaves a fast one alone."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

import mirror.net.pace as pace
from mirror.errors import ConfigError, Failure, TransferError
from mirror.net.pace import Limits, Watch, budget, cleanup, format_rate, parse_rate


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """Two connected sockets: (the peer's end, ours)."""
    peer, ours = socket.socketpair()
    yield peer, ours
    peer.close()
    ours.close()


def _drip(peer: socket.socket, gap: float, stop: threading.Event) -> None:
    while not stop.wait(gap):
        try:
            peer.send(b"x")
        except OSError:
            return


def test_a_drip_is_cut_off_mid_read(pair: tuple[socket.socket, socket.socket]) -> None:
    """One byte every 0.1 s is below 100 B/s: the watch shuts the socket down within about one window."""
    peer, ours = pair
    stop = threading.Event()
    threading.Thread(target=_drip, args=(peer, 0.1, stop), daemon=True).start()
    started = time.monotonic()
    try:
        with pytest.raises(TransferError) as caught, Watch("m", "GET x", Limits(stall=0.5, min_rate=100)) as watch:
            watch.attach(ours)
            while chunk := ours.recv(100):  # blocks between bytes; a library's per-read timeout never fires
                watch.count(len(chunk))
    finally:
        stop.set()
    assert time.monotonic() - started < 2
    assert caught.value.failure is Failure.TIMEOUT and not caught.value.transient
    assert "GET x: too slow:" in caught.value.reason and "100 B/s needed" in caught.value.reason


def test_a_read_blocked_in_the_kernel_returns(pair: tuple[socket.socket, socket.socket]) -> None:
    """Nothing arrives: a recv without any timeout is woken by the shutdown and the watch says why."""
    _, ours = pair
    started = time.monotonic()
    with pytest.raises(TransferError, match=r"nothing arrived for 0\.3 s"), \
            Watch("m", "GET x", Limits(stall=0.3, min_rate=0)) as watch:
        watch.attach(ours)
        assert ours.recv(10) == b""  # the shutdown ends the stream; the watch's error replaces whatever follows
    assert time.monotonic() - started < 2


def test_the_phase_budget_ends_a_steady_transfer_and_blocks_the_next() -> None:
    """Enough bytes for the minimum rate, but the phase's 0.5 s run out; a later request does not even start."""
    limits = Limits(stall=0.2, min_rate=10, budget=60)
    with budget(0.5) as phase:
        with pytest.raises(TransferError, match=r"the time budget of 0\.5 s ran out"), \
                Watch("m", "GET big", limits) as w:
            while True:
                w.count(100)
                w.check()
                time.sleep(0.02)
        assert time.monotonic() >= phase.deadline
        with pytest.raises(TransferError, match=r"not started: the time budget of 0\.5 s is spent"):
            Watch("m", "GET next", limits).__enter__()
        with cleanup(), Watch("m", "DELETE temp", limits):
            pass  # deleting a temporary file is still allowed


def test_a_fast_transfer_is_left_alone() -> None:
    """Plenty of bytes per window and time to spare: no error, and the count is kept."""
    with Watch("m", "GET x", Limits(stall=0.1, min_rate=1000)) as watch:
        for _ in range(30):
            watch.count(1000)
            time.sleep(0.01)
    assert watch.error is None and watch.received == 30_000


def test_a_slow_wait_is_never_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    """While a transfer lasts, the phase's log gets "still waiting" lines, further and further apart."""
    monkeypatch.setattr(pace, "HEARTBEAT", 0.1)
    lines: list[str] = []
    with budget(10, log=lines.append), Watch("m", "GET x", Limits(stall=1, min_rate=0)) as watch:
        for _ in range(40):
            watch.count(1)
            time.sleep(0.02)
    assert 2 <= len(lines) <= 4
    assert lines[0].startswith("m: still waiting for GET x:") and "bytes in" in lines[0]


@pytest.mark.parametrize(("text", "rate"), [
    ("2048", 2048), (2048, 2048), ("2K", 2048), ("2 KiB/s", 2048), ("1.5M", 1536 << 10), ("0", 0), (0, 0),
])
def test_rates_parse(text: str | int, rate: int) -> None:
    """Plain bytes, or K, M, G as powers of 1024, with or without B/s."""
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["-1", "fast", "1KK", "", -5, True, 1.5])
def test_bad_rates_are_refused(text: object) -> None:
    """Anything else is a usage error."""
    with pytest.raises(ConfigError, match="not a rate"):
        parse_rate(text)  # type: ignore[arg-type]


def test_rates_print() -> None:
    """Rates are shown in the largest unit that fits."""
    assert [format_rate(r) for r in (512, 1024, 1536 << 10)] == ["512 B/s", "1 KiB/s", "1.5 MiB/s"]


def test_a_set_stop_switch_refuses_transfers_but_not_the_deletion_of_temporary_files() -> None:
    """Ctrl-C stops a host's transfers; the DELETE of its `.part` file must still go out (it was refused as
    "not started: interrupted", and the file stayed on the host)."""
    limits = Limits(stall=5, min_rate=0, budget=60)
    switch = pace.Stop()
    with pace.stoppable(switch):
        switch.set()
        assert pace.interrupted()
        with pytest.raises(TransferError, match="not started: interrupted"):
            Watch("m", "PUT next", limits).__enter__()
        with cleanup():
            assert not pace.interrupted()
            with Watch("m", "DELETE temp", limits) as watch:
                time.sleep(0.3)  # several watchdog ticks: the set switch does not end it either
            assert watch.error is None


def test_a_worker_thread_carries_its_hosts_stop_switch() -> None:
    """A host's extra connections (publish --transfers) stop with it."""
    switch, seen = pace.Stop(), []
    with pace.stoppable(switch):
        enter = pace.carried()

    def worker() -> None:
        with enter():
            seen.append(pace.interrupted())
            switch.set()
            seen.append(pace.interrupted())
        seen.append(pace.interrupted())

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [False, True, False]
