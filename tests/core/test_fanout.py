"""Fan-out (threads and tasks): input order, the bound, context, and what a failure stops and
raises."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import pytest

from clova_core.fanout import Outcome, fan_out_tasks, fan_out_threads, map_in_threads


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


# --------------------------------------------------------------------- context and async


VAR: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")


def test_each_item_runs_in_a_copy_of_the_callers_context() -> None:
    VAR.set("caller")

    def read(item: int) -> str:
        value = VAR.get()
        VAR.set(f"item {item}")  # a worker's change stays in its own copy
        return value

    assert map_in_threads(read, range(8), workers=4, thread_name_prefix="t") == ["caller"] * 8
    assert VAR.get() == "caller"


def test_an_outcome_keeps_the_finished_results() -> None:
    def work(item: int) -> int:
        if item == 3:
            raise ValueError("three")
        return item * 10

    outcome = fan_out_threads(work, range(6), workers=1, thread_name_prefix="t")
    assert (outcome.failed_index, str(outcome.error)) == (3, "three")
    assert outcome.results == [0, 10, 20, None, None, None]  # one at a time: 4 and 5 not run


def test_async_fan_out_keeps_order_and_bounds_the_tasks() -> None:
    running = peak = 0

    async def track(item: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001 * (10 - item % 10))
        running -= 1
        return item

    async def run() -> list[int]:
        outcome = await fan_out_tasks(track, range(30), semaphore=asyncio.Semaphore(3))
        return outcome.unwrap()

    assert asyncio.run(run()) == list(range(30))
    assert peak == 3


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_sync_and_async_report_the_same_earliest_failure(mode: str) -> None:
    """Item 0 fails late, item 1 fails first: both report item 0; queued items never start."""
    started: list[int] = []

    def work(item: int) -> int:
        started.append(item)
        if item == 0:
            time.sleep(0.1)
            raise KeyError("item 0")
        if item == 1:
            raise ValueError("item 1")
        time.sleep(0.02)
        return item

    async def awork(item: int) -> int:
        started.append(item)
        if item == 0:
            await asyncio.sleep(0.1)
            raise KeyError("item 0")
        if item == 1:
            raise ValueError("item 1")
        await asyncio.sleep(0.02)
        return item

    async def arun() -> Outcome[int]:
        return await fan_out_tasks(awork, range(50), semaphore=asyncio.Semaphore(2))

    if mode == "sync":
        outcome = fan_out_threads(work, range(50), workers=2, thread_name_prefix="t")
    else:
        outcome = asyncio.run(arun())
    assert outcome.failed_index == 0
    assert isinstance(outcome.error, KeyError)
    assert len(started) < 10  # the queued items were not started
    with pytest.raises(KeyError):
        outcome.unwrap()


def test_async_tasks_see_the_callers_context() -> None:
    async def read(item: int) -> str:
        return VAR.get()

    async def run() -> list[str]:
        VAR.set("async caller")
        return (await fan_out_tasks(read, range(4), semaphore=asyncio.Semaphore(2))).unwrap()

    assert asyncio.run(run()) == ["async caller"] * 4
