"""Fan-out: one call per item, at most N at a time, results in input order, sync or async.

CLOVA embeds one text per request, so a batch runs its requests on a few threads (sync) or
as tasks under a semaphore (async). Both follow the same rules:

* results keep the input order;
* each item runs in a copy of the caller's context (``contextvars``), so tracing state such
  as a LangSmith run tree reaches the worker (asyncio tasks copy it by themselves);
* on the first failure no further item is started; the items already running finish; the
  :class:`Outcome` then holds every finished result and the failure of the *earliest* failed
  item in input order (whichever failed first in time), so sync and async report the same
  item when several fail;
* an interrupt or a cancellation of the caller cancels the items not yet started and
  propagates.

The sync caller sleeps until every item is done or one has failed instead of waking for each
result as ``as_completed`` or ``Executor.map`` do (each wake-up takes the GIL from the
threads handling replies; measured with the embedding benchmarks in ``benchmarks/``).
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Generic, TypeVar

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


@dataclass(frozen=True)
class Outcome(Generic[_Result]):
    """What a fan-out produced: results in input order (``None`` where an item failed or was
    not started) and the earliest failure, if any."""

    results: list[_Result | None]
    failed_index: int | None = None
    error: BaseException | None = None

    def unwrap(self) -> list[_Result]:
        """Every result, or the earliest failure raised."""
        if self.error is not None:
            raise self.error
        return self.results  # type: ignore[return-value]  # no failure: all were set


class _NotStarted:
    """Marks an item skipped because an earlier one failed."""


_NOT_STARTED = _NotStarted()


def fan_out_threads(
    function: Callable[[_Item], _Result],
    items: Sequence[_Item],
    *,
    workers: int,
    thread_name_prefix: str,
) -> Outcome[_Result]:
    """Run ``function(item)`` for every item on at most ``workers`` threads."""
    if workers <= 1 or len(items) <= 1:
        return _run_inline(function, items)
    stop = threading.Event()

    def one(item: _Item) -> _Result | _NotStarted:
        if stop.is_set():
            return _NOT_STARTED
        try:
            return function(item)
        except BaseException:
            stop.set()  # a worker that frees up now starts nothing more
            raise

    with ThreadPoolExecutor(
        max_workers=min(workers, len(items)), thread_name_prefix=thread_name_prefix
    ) as pool:
        futures = [pool.submit(contextvars.copy_context().run, one, item) for item in items]
        try:
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        except BaseException:
            _cancel(futures)
            raise
        if any(_failed(future) for future in done):
            _cancel(futures)
    results: list[_Result | None] = []
    first: tuple[int, BaseException] | None = None
    for index, future in enumerate(futures):
        error = None if future.cancelled() else future.exception()
        if error is not None and first is None:
            first = (index, error)
        value = future.result() if not future.cancelled() and error is None else None
        results.append(None if isinstance(value, _NotStarted) else value)
    if first is None:
        return Outcome(results)
    return Outcome(results, failed_index=first[0], error=first[1])


def _run_inline(function: Callable[[_Item], _Result], items: Sequence[_Item]) -> Outcome[_Result]:
    results: list[_Result | None] = [None] * len(items)
    for index, item in enumerate(items):
        try:
            results[index] = function(item)
        except Exception as error:
            return Outcome(results, failed_index=index, error=error)
    return Outcome(results)


def map_in_threads(
    function: Callable[[_Item], _Result],
    items: Sequence[_Item],
    *,
    workers: int,
    thread_name_prefix: str,
) -> list[_Result]:
    """``[function(item) for item in items]`` on at most ``workers`` threads (see the module
    docstring for what a failure stops and raises)."""
    return fan_out_threads(
        function, items, workers=workers, thread_name_prefix=thread_name_prefix
    ).unwrap()


async def fan_out_tasks(
    function: Callable[[_Item], Awaitable[_Result]],
    items: Sequence[_Item],
    *,
    semaphore: asyncio.Semaphore,
) -> Outcome[_Result]:
    """Await ``function(item)`` for every item, at most ``semaphore``'s value at a time (a
    semaphore shared by several fan-outs bounds them together)."""
    stop = asyncio.Event()

    async def one(item: _Item) -> _Result | _NotStarted:
        async with semaphore:
            if stop.is_set():
                return _NOT_STARTED
            try:
                return await function(item)
            except BaseException:
                stop.set()  # before the semaphore wakes the next waiting item
                raise

    tasks = [asyncio.ensure_future(one(item)) for item in items]
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        if pending and any(task.exception() is not None for task in done):
            stop.set()
            await asyncio.wait(pending)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    results: list[_Result | None] = []
    first: tuple[int, BaseException] | None = None
    for index, task in enumerate(tasks):
        error = task.exception()
        if error is not None and first is None:
            first = (index, error)
        value = None if error is not None else task.result()
        results.append(None if isinstance(value, _NotStarted) else value)
    if first is None:
        return Outcome(results)
    return Outcome(results, failed_index=first[0], error=first[1])


def _failed(future: Future[_Result]) -> bool:
    return future.done() and not future.cancelled() and future.exception() is not None


def _cancel(futures: Sequence[Future[_Result]]) -> None:
    for future in futures:
        future.cancel()
