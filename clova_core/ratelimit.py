"""A client-side limiter for CLOVA Studio's QPM / TPM quotas.

CLOVA counts requests per minute and tokens per minute (input plus the *requested* maximum
output) per account and model, and answers 429 / 42901 past either. Retrying after a 429
wastes a round trip and a quota slot; this limiter makes a process stay under the quota in
the first place.

A server counts a request when it *arrives*, not when the client sends it, and the time in
between varies (network jitter, thread scheduling). So the limiter keeps its window
``margin_seconds`` longer than the server's: if no stretch of ``window + margin`` holds more
than the limit at send time, no stretch of ``window`` holds more at arrival time, whatever
the spread of the delays within the margin, and whether the server counts with a sliding
window or a fixed one with any alignment.

Two rules decide when a request may go, and each request *reserves* its start time at once
(first come, first served), so a caller sleeps exactly once and large requests never starve:

* **exact bound**: a log of the reservations of the last ``window + margin`` seconds; a
  request goes when that stretch, with it, holds at most the limits (requests and tokens);
* **pacing** (GCRA, the leaky bucket as a virtual clock): requests are spaced at
  ``(window + margin) / limit`` on average, with ``burst`` (a share of one window's limits)
  allowed back to back after an idle spell, so a long job flows evenly instead of sending a
  window's worth at once and then stalling.

The arithmetic is :class:`QuotaSchedule`, pure and shared with the Redis limiter
(``clova_core.ratelimit_redis``, the same rules in a Lua script) so that one process behaves
the same with either. State sits behind one ``threading.Lock`` never held across a sleep or
an ``await``: one limiter is shared by threads and asyncio tasks of a process alike.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from clova_core.errors import ClovaConfigurationError, ClovaValidationError
from clova_core.models import EMBEDDING_MODELS, ChatModelSpec, EmbeddingModelSpec, get_chat_model

WINDOW_SECONDS = 60.0
DEFAULT_MARGIN_SHARE = 0.02
"""Default ``margin_seconds`` as a share of the window (1.2 s of a minute)."""
DEFAULT_BURST = 0.1
"""Default share of one window's limits that may go back to back after an idle spell."""


@dataclass(frozen=True)
class QuotaSettings:
    """Checked limiter settings: limits per window, window, margin and burst share."""

    requests_per_minute: int | None
    tokens_per_minute: int | None
    window_seconds: float
    margin_seconds: float
    burst: float

    @classmethod
    def check(
        cls,
        requests_per_minute: int | None,
        tokens_per_minute: int | None,
        window_seconds: float,
        margin_seconds: float | None,
        burst: float,
    ) -> QuotaSettings:
        """Settings, or a :class:`ClovaConfigurationError` saying which value to change."""
        for name, value in (
            ("requests_per_minute", requests_per_minute),
            ("tokens_per_minute", tokens_per_minute),
        ):
            if value is not None and (isinstance(value, bool) or value <= 0):
                raise ClovaConfigurationError(f"{name} must be a positive integer, got {value}")
        if not window_seconds > 0:
            raise ClovaConfigurationError(f"window_seconds must be > 0, got {window_seconds}")
        margin = window_seconds * DEFAULT_MARGIN_SHARE if margin_seconds is None else margin_seconds
        if not margin >= 0:
            raise ClovaConfigurationError(f"margin_seconds must be >= 0, got {margin_seconds}")
        if not 0 < burst <= 1:
            raise ClovaConfigurationError(
                f"burst is a share of one window's limits in (0, 1], got {burst}"
            )
        return cls(requests_per_minute, tokens_per_minute, window_seconds, margin, burst)

    @property
    def span(self) -> float:
        """The client's window: the server's plus the margin."""
        return self.window_seconds + self.margin_seconds

    def check_tokens(self, tokens: int) -> None:
        """A request that could never fit is a typed error, not an endless wait."""
        if tokens < 0:
            raise ClovaValidationError(f"tokens must be >= 0, got {tokens}")
        if self.tokens_per_minute is not None and tokens > self.tokens_per_minute:
            raise ClovaValidationError(
                f"One request needs {tokens} tokens but tokens_per_minute is "
                f"{self.tokens_per_minute}: lower max_tokens or shorten the input."
            )


def paced_start(tat: float, cost: float, interval: float, tolerance: float) -> float:
    """GCRA: the earliest start for a request of ``cost`` units when the virtual clock stands
    at ``tat`` (one unit is worth ``interval`` seconds; ``tolerance`` seconds of credit after
    an idle spell). A request larger than the credit waits for the clock to catch up."""
    return tat - max(tolerance - cost * interval, 0.0)


class QuotaSchedule:
    """The reservations of one quota and the two rules (pure: the caller gives the time)."""

    def __init__(self, settings: QuotaSettings) -> None:
        self.settings = settings
        self._log: deque[tuple[float, int]] = deque()
        self._tokens = 0
        self._request_tat = -math.inf
        self._token_tat = -math.inf

    def reserve(self, tokens: int, now: float, not_before: float = -math.inf) -> float:
        """Reserve the earliest start ``>= now`` (and ``>= not_before``) for a request of
        ``tokens``; returns it."""
        settings = self.settings
        span = settings.span
        log = self._log
        while log and log[0][0] <= now - span:
            self._tokens -= log.popleft()[1]
        start = max(now, not_before, log[-1][0] if log else now)
        rpm = settings.requests_per_minute
        if rpm is not None:
            if len(log) >= rpm:
                start = max(start, log[len(log) - rpm][0] + span)
            interval = span / rpm
            start = max(start, paced_start(self._request_tat, 1, interval, settings.burst * span))
        tpm = settings.tokens_per_minute
        if tpm is not None:
            excess = self._tokens + tokens - tpm
            if excess > 0:
                for sent_at, sent_tokens in log:
                    excess -= sent_tokens
                    if excess <= 0:
                        start = max(start, sent_at + span)
                        break
            interval = span / tpm
            start = max(
                start, paced_start(self._token_tat, tokens, interval, settings.burst * span)
            )
        if rpm is not None:
            self._request_tat = max(self._request_tat, start) + span / rpm
        if tpm is not None:
            self._token_tat = max(self._token_tat, start) + tokens * span / tpm
        log.append((start, tokens))
        self._tokens += tokens
        return start


class RateLimiter:
    """Holds callers so that at most ``requests_per_minute`` requests and
    ``tokens_per_minute`` tokens are sent in any ``window_seconds + margin_seconds``, paced
    evenly. Either limit may be ``None`` (unlimited).

    ``margin_seconds`` (default: 2% of the window) must cover how much the time from sending
    to the server's count varies between requests; ``burst`` is the share of one window's
    limits that may go back to back after an idle spell (1.0: a whole window's worth).
    ``window_seconds`` shortens the window (the limits then apply per that window): for tests.
    """

    def __init__(
        self,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        *,
        window_seconds: float = WINDOW_SECONDS,
        margin_seconds: float | None = None,
        burst: float = DEFAULT_BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = QuotaSettings.check(
            requests_per_minute, tokens_per_minute, window_seconds, margin_seconds, burst
        )
        self._clock = clock
        self._lock = threading.Lock()
        self._schedule = QuotaSchedule(self.settings)

    @classmethod
    def for_model(
        cls,
        model: str,
        *,
        window_seconds: float = WINDOW_SECONDS,
        margin_seconds: float | None = None,
        burst: float = DEFAULT_BURST,
    ) -> RateLimiter:
        """A limiter at a model's documented test-key QPM / TPM, e.g.
        ``RateLimiter.for_model("bge-m3")``: 60 requests and 40,000 tokens a minute.

        The quota is per account and model: share one limiter between every object that
        calls ``model``. Service apps have higher limits; pass them to the constructor."""
        qpm, tpm = documented_limits(model)
        return cls(
            qpm, tpm, window_seconds=window_seconds, margin_seconds=margin_seconds, burst=burst
        )

    @property
    def requests_per_minute(self) -> int | None:
        """Requests allowed per window (``None``: unlimited)."""
        return self.settings.requests_per_minute

    @property
    def tokens_per_minute(self) -> int | None:
        """Tokens allowed per window (``None``: unlimited)."""
        return self.settings.tokens_per_minute

    @property
    def window_seconds(self) -> float:
        """The server's window."""
        return self.settings.window_seconds

    def __repr__(self) -> str:
        return (
            f"RateLimiter(requests_per_minute={self.requests_per_minute}, "
            f"tokens_per_minute={self.tokens_per_minute})"
        )

    def reserve(self, tokens: int = 0) -> float:
        """Reserve a start for a request of ``tokens``; returns the seconds to wait for it."""
        self.settings.check_tokens(tokens)
        with self._lock:
            now = self._clock()
            return self._schedule.reserve(tokens, now) - now

    def acquire(self, tokens: int = 0) -> None:
        """Block the calling thread until a request of ``tokens`` may be sent."""
        if (wait := self.reserve(tokens)) > 0:
            time.sleep(wait)

    async def aacquire(self, tokens: int = 0) -> None:
        """Wait without blocking the event loop until a request may be sent."""
        if (wait := self.reserve(tokens)) > 0:
            await asyncio.sleep(wait)


def documented_limits(model: str) -> tuple[int | None, int | None]:
    """A model's documented test-key (QPM, TPM), or a typed error when none is documented."""
    spec: ChatModelSpec | EmbeddingModelSpec = (
        EMBEDDING_MODELS[model] if model in EMBEDDING_MODELS else get_chat_model(model)
    )
    if spec.qpm is None and spec.tpm is None:
        raise ClovaConfigurationError(
            f"No documented rate limits for {model!r}: pass requests_per_minute and "
            "tokens_per_minute to RateLimiter(...) yourself."
        )
    return spec.qpm, spec.tpm
