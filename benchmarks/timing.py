"""Statistics over repeated trials: medians and spread, nothing fancier.

Every figure in the report is the median over trials; each trial is itself a median over
the calls it made (chat) or one timed run (streams, embedding batches, imports). The spread
shown is the inter-quartile range of the trial values.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Summary:
    """Median and spread of one metric over trials (unit given by the metric's name)."""

    median: float
    q1: float
    q3: float
    minimum: float
    maximum: float
    trials: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        if not values:
            raise ValueError("no values to summarise")
        ordered = sorted(values)
        if len(ordered) >= 4:
            q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
        else:
            q1, q3 = ordered[0], ordered[-1]
        return cls(
            median=statistics.median(ordered),
            q1=q1,
            q3=q3,
            minimum=ordered[0],
            maximum=ordered[-1],
            trials=len(ordered),
        )

    def scaled(self, factor: float) -> Summary:
        """The same summary in another unit (e.g. seconds -> milliseconds)."""
        return Summary(
            median=self.median * factor,
            q1=self.q1 * factor,
            q3=self.q3 * factor,
            minimum=self.minimum * factor,
            maximum=self.maximum * factor,
            trials=self.trials,
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def per_call_median(call: Callable[[], object], calls: int, *, collect: bool = True) -> float:
    """Median wall time (seconds) of ``calls`` sequential calls, garbage collected first."""
    if collect:
        gc.collect()
    durations: list[float] = []
    clock = time.perf_counter
    for _ in range(calls):
        started = clock()
        call()
        durations.append(clock() - started)
    return statistics.median(durations)


def per_call_median_cpu(call: Callable[[], object], calls: int) -> tuple[float, float]:
    """:func:`per_call_median` and this process's CPU seconds per call, the garbage
    collection before the calls left out of the CPU."""
    gc.collect()
    cpu = time.process_time()
    median = per_call_median(call, calls, collect=False)
    return median, (time.process_time() - cpu) / calls


def timed(action: Callable[[], object]) -> float:
    """Wall time (seconds) of one run of ``action``."""
    gc.collect()
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def timed_cpu(action: Callable[[], object]) -> tuple[float, float]:
    """Wall time and this process's CPU time (all threads), in seconds, of one run."""
    gc.collect()
    cpu, started = time.process_time(), time.perf_counter()
    action()
    return time.perf_counter() - started, time.process_time() - cpu
