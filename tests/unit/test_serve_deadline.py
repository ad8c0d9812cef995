"""How long `mirror serve` waits for a client that takes a body slowly (serve/http.py, `_look`): judged each second
by what its TCP acknowledged, which comes in steps. A client is cut when it took nothing for `window` seconds, or
less than 2 * MIN_PIECE over the last two windows; the piece in flight is never cut earlier than its own window."""

from __future__ import annotations

import asyncio

import pytest

from mirror.serve import http
from mirror.serve.http import HttpServer, _Download
from mirror.serve.limits import MIN_PIECE, Limits

WINDOW = 30.0


class _Clock:
    """Stands in for the event loop (its time and timers) and for the piece's asyncio.Timeout."""

    def __init__(self) -> None:
        self.now = 0.0
        self.due = WINDOW  # the piece in flight began at 0

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: object, *args: object) -> None:
        return None

    def when(self) -> float:
        return self.due

    def expired(self) -> bool:
        return self.now >= self.due

    def reschedule(self, when: float) -> None:
        self.due = when


def _cut_at(monkeypatch: pytest.MonkeyPatch, acked_by_second: list[int]) -> float | None:
    """The second at which a client whose TCP acknowledged these counts (one a second) is cut, or None."""
    async def made() -> tuple[HttpServer, _Download]:
        return HttpServer(lambda *_: None, Limits(window=WINDOW)), _Download("a", 0.0, None)

    server, download = asyncio.run(made())
    clock = _Clock()
    monkeypatch.setattr(http.asyncio, "get_running_loop", lambda: clock)
    counts = iter(acked_by_second)
    monkeypatch.setattr(http, "_acked", lambda transport: next(counts))
    download.acked, download.deadline = 0, clock  # type: ignore[assignment]
    for second in range(1, len(acked_by_second) + 1):
        clock.now = float(second)
        if clock.expired():
            return clock.due
        server._look(download)
    return None


def test_a_client_that_takes_nothing_is_cut_after_one_window(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _cut_at(monkeypatch, [0] * 100) == WINDOW + 1  # and the one look of grace


def test_a_client_that_stops_is_cut_one_window_and_a_look_after_its_last_step(monkeypatch: pytest.MonkeyPatch) -> None:
    taken = [min(second, 20) * 40_000 for second in range(1, 100)]  # 40 KB/s for 20 s, then nothing
    assert _cut_at(monkeypatch, taken) == 20 + WINDOW + 1


def test_steps_far_apart_keep_a_slow_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """1.6 KB/s, acknowledged 24 KB at a time every 15 s: above the floor of 1 KiB/s, so never cut. (Each step
    alone is under MIN_PIECE: a rule of "MIN_PIECE within one window" cut it.)"""
    taken = [24_000 * (second // 15) for second in range(1, 300)]
    assert _cut_at(monkeypatch, taken) is None


def test_a_trickle_under_the_floor_is_cut_though_it_never_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    """A little every second, but 2 * MIN_PIECE takes it longer than two windows: cut."""
    rate = 2 * MIN_PIECE // (3 * int(WINDOW))  # two thirds of the floor
    cut = _cut_at(monkeypatch, [rate * second for second in range(1, 400)])
    assert cut is not None and 2 * WINDOW < cut < 4 * WINDOW, cut
