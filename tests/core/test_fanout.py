"""map_in_threads: input order, the worker bound, and what a failure stops and raises."""

from __future__ import annotations

import threading
import time

import pytest

from clova_core.fanout import map_in_threads


def test_results_keep_input_order_when_items_finish_out_of_order() -> None:
    def slow_first(item: int) -> int:
        time.sleep(0.01 * (5 - item))
        return item * item

    assert map_in_threads(slow_first, range(6), workers=6, thread_name_prefix="t") == [
        0,
        1,
        4,
        9,
        16,
        25,
    ]


def test_at_most_workers_run_at_once() -> None:
    lock = threading.Lock()
    running = peak = 0

    def track(item: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.005)
        with lock:
            running -= 1
        return item

    assert map_in_threads(track, range(40), workers=3, thread_name_prefix="t") == list(range(40))
    assert peak == 3


def test_a_failure_cancels_the_queue_and_raises_the_earliest_failed_item() -> None:
    started: list[int] = []
    finished: list[int] = []

    def work(item: int) -> int:
        started.append(item)
        if item == 0:  # still running when item 1 fails: it finishes, and fails too
            time.sleep(0.2)
            finished.append(item)
            raise KeyError("item 0")
        if item == 1:
            raise ValueError("item 1")
        time.sleep(0.05)
        return item

    with pytest.raises(KeyError, match="item 0"):
        map_in_threads(work, range(50), workers=2, thread_name_prefix="t")
    assert finished == [0]  # the running item was waited for
    assert len(started) < 10  # the queued items were cancelled


def test_no_items() -> None:
    assert map_in_threads(str, [], workers=4, thread_name_prefix="t") == []
