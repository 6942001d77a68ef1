"""A limiter for when the quota is unknown: it finds the server's requests-per-window limit
from the replies and then holds the process just under it.

Users rarely know their QPM. :class:`AdaptiveRateLimiter` paces requests like
:class:`~clova_core.ratelimit.RateLimiter` (exact log over the window plus a margin, GCRA
pacing) at a limit it learns, told how each attempt ended through ``record_reply`` (the
clients call it when a limiter has it, see :class:`~clova_core.quota.QuotaFeedback`):

* **slow start**: every success raises the limit by ``growth`` requests per window, so the
  pace doubles about every window while the server accepts everything;
* **on the first 429** the server's window is full, and the successes of the last window are
  what it accepted: the limit drops to that count (a measurement, not a guess);
* **then probe gently**: each window of successes adds ``probe`` of the limit (at least one
  request), and a later 429 lowers the limit to ``decrease`` of itself or to the successes
  of the last window, whichever is lower; at most once per twentieth of a window, so the
  requests already in flight when the server said no do not cut it again.

``Retry-After`` holds every caller of the limiter until it passes, those already waiting
for a slot included (they take a new one after it).
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections import deque
from collections.abc import Callable

from clova_core.errors import ClovaConfigurationError
from clova_core.ratelimit import WINDOW_SECONDS, QuotaSchedule, QuotaSettings

TOO_MANY_REQUESTS = 429


class AdaptiveRateLimiter:
    """Finds and keeps to an unknown requests-per-window quota (a
    :class:`~clova_core.quota.QuotaLimiter` and a :class:`~clova_core.quota.QuotaFeedback`).

    ``start_requests_per_minute`` is the first limit (the lowest documented CLOVA quota by
    default); ``max_requests_per_minute`` caps what it may reach; ``tokens_per_minute`` is a
    known token limit to respect as well. Share one per model between the objects that call
    it, like a :class:`~clova_core.ratelimit.RateLimiter`.
    """

    def __init__(
        self,
        *,
        start_requests_per_minute: int = 60,
        max_requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        window_seconds: float = WINDOW_SECONDS,
        margin_seconds: float | None = None,
        burst: float = 0.05,
        growth: float = 1.0,
        probe: float = 0.02,
        decrease: float = 0.9,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if start_requests_per_minute < 1:
            raise ClovaConfigurationError(
                f"start_requests_per_minute must be >= 1, got {start_requests_per_minute}"
            )
        if max_requests_per_minute is not None and max_requests_per_minute < 1:
            raise ClovaConfigurationError(
                f"max_requests_per_minute must be >= 1, got {max_requests_per_minute}"
            )
        if not growth > 0 or not probe >= 0 or not 0 < decrease < 1:
            raise ClovaConfigurationError(
                "growth must be > 0, probe >= 0 and decrease between 0 and 1 (exclusive), got "
                f"{growth}, {probe}, {decrease}"
            )
        settings = QuotaSettings.check(
            start_requests_per_minute, tokens_per_minute, window_seconds, margin_seconds, burst
        )
        self._schedule = QuotaSchedule(settings)
        self._limit = float(start_requests_per_minute)
        self._ceiling = max_requests_per_minute
        self._growth = growth
        self._probe = probe
        self._decrease = decrease
        self._clock = clock
        self._lock = threading.Lock()
        self._successes: deque[float] = deque()
        self._found = False
        self._last_cut = -float("inf")
        self._hold_until = -float("inf")
        self.too_many = 0
        """How many 429 replies the limiter has been told of."""
        self._apply()

    @property
    def requests_per_minute(self) -> int:
        """The limit in force now (requests per window)."""
        return self._schedule.settings.requests_per_minute or 1

    @property
    def found(self) -> bool:
        """Whether the server has said no at least once (the limit is then a measurement)."""
        return self._found

    def __repr__(self) -> str:
        return (
            f"AdaptiveRateLimiter(requests_per_minute={self.requests_per_minute}, "
            f"found={self._found})"
        )

    def _apply(self) -> None:
        if self._ceiling is not None:
            self._limit = min(self._limit, float(self._ceiling))
        self._limit = max(self._limit, 1.0)
        settings = self._schedule.settings
        limit = int(self._limit)
        if limit != settings.requests_per_minute:
            self._schedule.settings = dataclasses.replace(settings, requests_per_minute=limit)

    def _recent_successes(self, now: float) -> int:
        window = self._schedule.settings.window_seconds
        while self._successes and self._successes[0] <= now - window:
            self._successes.popleft()
        return len(self._successes)

    def record_reply(self, *, status: int | None, retry_after: float | None) -> None:
        """Learn from one attempt's outcome (see the module docstring)."""
        with self._lock:
            now = self._clock()
            if status is not None and 200 <= status < 300:
                self._successes.append(now)
                if self._found:
                    self._limit += max(self._probe * self._limit, 1.0) / self._limit
                else:
                    self._limit += self._growth
            elif status == TOO_MANY_REQUESTS:
                self.too_many += 1
                if retry_after is not None and retry_after > 0:
                    self._hold_until = max(self._hold_until, now + retry_after)
                window = self._schedule.settings.window_seconds
                if now - self._last_cut >= window / 20:
                    accepted = float(self._recent_successes(now))
                    if self._found:
                        self._limit = min(self._limit * self._decrease, accepted)
                    else:
                        self._limit = min(self._limit, accepted)
                        self._found = True
                    self._last_cut = now
            else:
                return
            self._apply()

    def reserve(self, tokens: int = 0) -> float:
        """Reserve a start for a request of ``tokens``; returns the seconds to wait for it."""
        self._schedule.settings.check_tokens(tokens)
        with self._lock:
            now = self._clock()
            return self._schedule.reserve(tokens, now, self._hold_until) - now

    def _held(self) -> bool:
        """Whether a ``Retry-After`` arrived while a caller slept: its slot is then void."""
        with self._lock:
            return self._hold_until > self._clock()

    def acquire(self, tokens: int = 0) -> None:
        """Block the calling thread until a request of ``tokens`` may be sent."""
        while (wait := self.reserve(tokens)) > 0:
            time.sleep(wait)
            if not self._held():
                return

    async def aacquire(self, tokens: int = 0) -> None:
        """Wait without blocking the event loop until a request may be sent."""
        while (wait := self.reserve(tokens)) > 0:
            await asyncio.sleep(wait)
            if not self._held():
                return
