"""One request computes at a time: a plain lock in place of GIL contention.

CPython runs one thread's bytecode at a time anyway. When many connection threads are ready
to run they all contend for the GIL: every waiter wakes up each switch interval to ask for it
and the holder is made to hand it over. With 16-32 busy connections (and the short switch
interval the benchmarks set) that hand-over churn cost about half as much CPU again as the
requests themselves. Connection threads therefore take a :class:`CpuTurn` for the Python work
of a request (logging it, routing, validation, generation, encoding the reply) and give it up
for everything that may wait (:meth:`CpuTurn.released`): socket reads that are not already
buffered, writes that the socket does not take at once, streams, and emulated latency
(:meth:`CpuTurn.sleep`). So a slow or stuck client cannot hold up other connections, and
requests still overlap in everything that takes time rather than CPU.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType


class CpuTurn:
    """A lock for the CPU-bound part of a request (``with turn: ...``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> CpuTurn:
        self._lock.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._lock.release()

    @contextmanager
    def released(self) -> Iterator[None]:
        """Give the turn up for a block that may wait (the caller holds it), then take it back
        (also when the block raises)."""
        self._lock.release()
        try:
            yield
        finally:
            self._lock.acquire()

    def sleep(self, seconds: float) -> None:
        """``time.sleep(seconds)`` with the turn given up meanwhile (the caller holds it)."""
        with self.released():
            time.sleep(seconds)
