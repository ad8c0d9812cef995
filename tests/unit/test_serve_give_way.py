"""Which download gives its slot to a request that waits (serve/http.py): the one that took the least over its
last few seconds, however young (a client that stopped reading once the kernel's buffers were full took
nothing), and among those alike, one of the address holding the most downloads."""

from __future__ import annotations

import asyncio

from mirror.serve.http import HttpServer, _Download
from mirror.serve.limits import Limits


def _chosen(histories: dict[str, tuple[str, list[tuple[float, int]]]], now: float) -> set[str]:
    """The downloads `_give_way` stops, by label, among downloads of (client, [(time, bytes taken)...])."""

    async def run() -> set[str]:
        server = HttpServer(lambda *_: None, Limits())  # as a room is started
        tasks = {}
        for label, (client, progress) in histories.items():
            async def hold() -> None:
                await asyncio.sleep(60)
            task = asyncio.create_task(hold())
            download = _Download(client, progress[0][0], None)
            download.task = task
            for at, sent in progress[1:]:
                download.took(at, sent)
            server._downloads[download] = None
            tasks[label] = task
        loop = asyncio.get_running_loop()
        base = loop.time()
        for download in server._downloads:  # histories are relative to now
            download.progress = type(download.progress)(((base + t - now, s) for t, s in download.progress),
                                                        maxlen=64)
        server._give_way()
        await asyncio.sleep(0)
        stopped = {label for label, task in tasks.items() if task.cancelled() or task.cancelling()}
        for task in tasks.values():
            task.cancel()
        return stopped

    return asyncio.run(run())


def test_a_young_download_that_takes_nothing_gives_way_before_a_slow_honest_one() -> None:
    """A download re-opened every few seconds, its buffers filled at once (2.5 MB in 0.2 s) and nothing taken
    since, against an honest phone taking 40 KiB/s for minutes: the young one is stopped."""
    honest = [(0.0, 0)] + [(float(t), 40_960 * t) for t in range(1, 120)]
    young = [(116.0, 0), (116.2, 2_500_000)]
    assert _chosen({"honest": ("10.0.0.50", honest), "young": ("10.0.0.2", young)}, now=120.0) == {"young"}


def test_downloads_younger_than_the_window_and_fast_ones_are_left_alone() -> None:
    fast = [(0.0, 0)] + [(float(t), 1_000_000 * t) for t in range(1, 20)]
    newborn = [(19.0, 0)]
    assert _chosen({"fast": ("10.0.0.3", fast), "newborn": ("10.0.0.4", newborn)}, now=20.0) == set()


def test_among_alike_the_address_holding_the_most_gives_way() -> None:
    stalled = [(0.0, 0), (0.1, 100_000)]
    chosen = _chosen({"one": ("10.0.0.5", stalled), "many-1": ("10.0.0.6", stalled),
                      "many-2": ("10.0.0.6", [(0.5, 0), (0.6, 100_000)])}, now=10.0)
    assert chosen == {"many-2"}  # the newest of the address with two
