"""bundle/inorder.py: results in the order of the items, errors at their place, memory in flight bounded."""

from __future__ import annotations

import threading
import time

import pytest

from mirror.bundle.inorder import in_order


def test_results_come_in_order_when_later_items_finish_first() -> None:
    def work(n: int) -> int:
        time.sleep(0.02 * (5 - n))  # the first item is the slowest
        return n * n

    assert list(in_order(work, range(5), cost=lambda _: 1)) == [(n, n * n) for n in range(5)]


def test_an_error_is_raised_at_its_item_after_the_ones_before() -> None:
    taken: list[int] = []

    def work(n: int) -> int:
        if n == 2:
            raise ValueError("item 2")
        return n

    with pytest.raises(ValueError, match="item 2"):
        for n, _ in in_order(work, range(6), cost=lambda _: 1):
            taken.append(n)
    assert taken == [0, 1]


def test_no_more_than_the_budget_is_in_flight() -> None:
    lock, state = threading.Lock(), {"held": 0, "most": 0}

    def work(n: int) -> int:
        with lock:
            state["held"] += 10
            state["most"] = max(state["most"], state["held"])
        time.sleep(0.005)
        return n

    for _ in in_order(work, range(30), cost=lambda _: 10, workers=4, budget=25):
        with lock:
            state["held"] -= 10  # taken: the caller lets it go
    assert 10 <= state["most"] <= 30  # two in flight within the budget, and the one being taken


def test_an_item_over_the_budget_still_goes_alone() -> None:
    assert [r for _, r in in_order(lambda n: n, [1, 2], cost=lambda _: 1 << 40, budget=10)] == [1, 2]


def test_items_not_pooled_run_on_the_callers_thread_and_start_no_thread() -> None:
    before = {t.name for t in threading.enumerate()}
    where = [r for _, r in in_order(lambda _: threading.get_ident(), range(3), cost=lambda _: 1,
                                    pooled=lambda _: False)]
    assert where == [threading.get_ident()] * 3
    assert {t.name for t in threading.enumerate()} == before


def test_mixed_items_keep_their_order() -> None:
    def work(n: int) -> tuple[int, bool]:
        time.sleep(0.01 if n % 3 == 0 else 0)
        return n, threading.current_thread() is threading.main_thread()

    got = list(in_order(work, range(12), cost=lambda _: 1, pooled=lambda n: n % 2 == 0))
    assert [n for n, _ in got] == list(range(12))
    assert [on_caller for _, (_, on_caller) in got] == [n % 2 == 1 for n in range(12)]


def test_stopping_early_leaves_no_thread_running() -> None:
    started: list[int] = []

    def work(n: int) -> int:
        started.append(n)
        time.sleep(0.01)
        return n

    results = in_order(work, range(100), cost=lambda _: 1, budget=3)
    assert next(results) == (0, 0)
    results.close()
    assert len(started) <= 6  # the rest were never started
    assert not [t for t in threading.enumerate() if t.name.startswith("mirror-in-order")]
