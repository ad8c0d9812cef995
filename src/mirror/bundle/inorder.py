"""Work on a sequence of files on a few threads, the results taken in the order of the sequence.

Example::

    for item, result in in_order(examine, items, cost=lambda i: i.size, pooled=lambda i: i.kind == "photo"):
        record(item, result)    # same order as `items`, whichever thread finished first

Reading a file and hashing it release the interpreter's lock, so two photos read, cleaned and hashed on two
threads take less time than one after the other. At most `budget` of cost (bytes of source files) is in flight
beside the item being taken (which the caller should let go before it takes the next), so memory stays bounded
whatever the sizes. Items that are not `pooled` (short
accounts, whose work is all in Python and holds the lock) are worked on by the caller's thread: no thread is
started for a collection of text.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

WORKERS = 2
BUDGET = 32 << 20  # cost (bytes held) in flight at most, besides the item being taken


def in_order(work: Callable[[T], R], items: Iterable[T], cost: Callable[[T], int],
             pooled: Callable[[T], bool] = lambda _: True, workers: int = WORKERS,
             budget: int = BUDGET) -> Iterator[tuple[T, R]]:
    """(item, work(item)) for each item, in order; pooled items computed ahead on `workers` threads.

    An exception raised by `work` is raised here, at its item's place; items further ahead are then
    cancelled or, when already running, waited for (and their results dropped) before this returns.
    """
    pending: deque[tuple[T, int, Future[R]]] = deque()
    held = 0
    pool: ThreadPoolExecutor | None = None

    def take() -> tuple[T, R]:
        nonlocal held
        item, size, future = pending.popleft()
        held -= size
        return item, future.result()

    try:
        for item in items:
            if not pooled(item):
                while pending:
                    yield take()
                yield item, work(item)
                continue
            size = max(0, cost(item))
            while pending and held + size > budget:
                yield take()
            if pool is None:
                pool = ThreadPoolExecutor(workers, thread_name_prefix="mirror-in-order")
            pending.append((item, size, pool.submit(work, item)))
            held += size
        while pending:
            yield take()
    finally:
        for _, _, future in pending:
            future.cancel()
        if pool is not None:
            pool.shutdown(wait=True)
