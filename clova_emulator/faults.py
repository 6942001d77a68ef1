"""Knobs for realism and faults, the QPM / TPM rate limiter and the seeded fault dice.

Rate limiting follows the documented rules: limits per model, QPM counts requests, TPM counts
input tokens plus the *requested* maximum output, whichever is hit first answers
429 / 42901. Like a real server it counts each request when it *arrives*: the emulated
latency (``latency`` plus up to ``latency_jitter``) is spent before the count, as a network
on the way in would, so a client sees its send times and the server's counting times drift
apart by the jitter. The window slides (``rate_mode="sliding"``: any ``rate_window`` seconds)
or is fixed (``"fixed"``: consecutive windows starting ``rate_window_offset`` seconds after
the limiter starts or is reset, so a test can set the alignment).

The ``Retry-After`` and ``x-ratelimit-*`` headers are **emulator-invented** (the docs name
no headers); they follow OpenAI's names.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from clova_emulator.serving.envelope import EmulatedApiError

RateSetting = int | Mapping[str, int] | Literal["documented"] | None
"""Off (``None``), one limit for every model (``int``), limits by model name (a mapping; the
key ``"*"`` is the fallback), or the documented test-key limits of ``clova_emulator.limits``."""

DEFAULT_KEYS: frozenset[str] = frozenset({"test-key"})
DEFAULT_LEGACY_KEYS: frozenset[tuple[str, str]] = frozenset({("test-key", "test-gateway-key")})


@dataclass(frozen=True)
class Knobs:
    """Everything a test can turn. Defaults: fast, faithful, fault-free."""

    keys: frozenset[str] = DEFAULT_KEYS
    """Accepted ``Authorization: Bearer`` keys."""
    legacy_keys: frozenset[tuple[str, str]] = DEFAULT_LEGACY_KEYS
    """Accepted (``X-NCP-CLOVASTUDIO-API-KEY``, ``X-NCP-APIGW-API-KEY``) pairs."""
    latency: float = 0.0
    """Seconds slept before answering each request."""
    latency_jitter: float = 0.0
    """Up to this many seconds added to ``latency``, uniformly at random per request (seeded
    by ``fault_seed``, drawn apart from the fault dice)."""
    token_delay: float = 0.0
    """Seconds slept before each streamed event, so time-to-first-token is real."""
    qpm: RateSetting = None
    tpm: RateSetting = None
    rate_window: float = 60.0
    """Length of the rate-limit window in seconds (shorten it in tests)."""
    rate_mode: Literal["sliding", "fixed"] = "sliding"
    """Count requests in any ``rate_window`` seconds (sliding) or in consecutive windows."""
    rate_window_offset: float = 0.0
    """Fixed windows start this many seconds (modulo ``rate_window``) after the limiter
    starts or is reset: the alignment of the server's windows to the client's clock."""
    rate_limit_headers: bool = True
    """Send the invented ``x-ratelimit-*`` headers on limited models."""
    error_rates: Mapping[int, float] = field(default_factory=dict)
    """Injected failures by HTTP status, e.g. ``{429: 0.2, 500: 0.1, 503: 0.05}``."""
    fault_retry_after: float | None = None
    """``Retry-After`` seconds sent with injected 429 / 503 replies (``None``: no header)."""
    fault_seed: int = 0
    """Seed of the dice for injected faults: a run is reproducible."""
    reset_rate: float = 0.0
    """Probability of closing the connection without any reply."""
    cut_stream_after: int | None = None
    """Close every stream after this many events (no ``result``)."""
    malformed_rate: float = 0.0
    """Probability of a truncated (invalid JSON) success body or ``result`` event."""
    created_unit: Literal["ms", "s"] = "ms"
    """``created`` in milliseconds (documented) or seconds (several examples)."""
    stop_reason_case: Literal["lower", "upper"] = "lower"
    """v1 ``stopReason`` casing (the docs show both)."""
    sse_space: bool = False
    """Write ``data: ...`` instead of the default ``data:...``."""
    done_signal: bool = False
    """Send a trailing ``signal`` event ``{"data":"[DONE]"}`` after ``result``."""

    def __post_init__(self) -> None:
        for name in (
            "latency",
            "latency_jitter",
            "token_delay",
            "reset_rate",
            "malformed_rate",
            "rate_window_offset",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.fault_retry_after is not None and self.fault_retry_after < 0:
            raise ValueError("fault_retry_after must be >= 0")
        for name in ("reset_rate", "malformed_rate"):
            if getattr(self, name) > 1:
                raise ValueError(f"{name} must be <= 1")
        for status, rate in self.error_rates.items():
            if status not in (429, 500, 503) or not 0 <= rate <= 1:
                raise ValueError("error_rates maps 429 / 500 / 503 to a probability in [0, 1]")
        if self.rate_window <= 0:
            raise ValueError("rate_window must be > 0")
        if self.rate_mode not in ("sliding", "fixed"):
            raise ValueError("rate_mode is 'sliding' or 'fixed'")
        if self.created_unit not in ("ms", "s"):
            raise ValueError("created_unit is 'ms' or 's'")
        if self.stop_reason_case not in ("lower", "upper"):
            raise ValueError("stop_reason_case is 'lower' or 'upper'")


def limit_for(setting: RateSetting, model: str, documented: int | None) -> int | None:
    """The limit that applies to ``model`` under ``setting``."""
    if setting is None:
        return None
    if setting == "documented":
        return documented
    if isinstance(setting, int):
        return setting
    if isinstance(setting, Mapping):
        return setting.get(model, setting.get("*"))
    return None


_INJECTED = {
    429: ("42902", "Too many requests - overloaded"),
    500: ("50000", "Internal server error"),
    503: ("50300", "Service unavailable"),
}


class FaultDice:
    """A seeded RNG shared by all requests: the same sequence of requests gets the same faults."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self._latency_random = random.Random(f"latency-{seed}")
        self._lock = threading.Lock()

    def latency(self, base: float, jitter: float) -> float:
        """This request's latency: ``base`` plus up to ``jitter`` (its own seeded draws, so
        turning jitter on leaves the fault dice's sequence as it was)."""
        if jitter <= 0:
            return base
        with self._lock:
            return base + self._latency_random.uniform(0.0, jitter)

    def roll(self, probability: float) -> bool:
        """True with ``probability`` (no draw is spent when it is 0 or 1)."""
        if probability <= 0:
            return False
        if probability >= 1:
            return True
        with self._lock:
            return self._random.random() < probability

    def injected_failure(
        self, rates: Mapping[int, float], retry_after: float | None = None
    ) -> EmulatedApiError | None:
        """The injected error of this request, if the dice say so (429 and 503 carry
        ``Retry-After: retry_after`` when it is given)."""
        for status in sorted(rates):
            if self.roll(rates[status]):
                code, message = _INJECTED[status]
                headers = {}
                if retry_after is not None and status in (429, 503):
                    headers["Retry-After"] = f"{retry_after:g}"
                return EmulatedApiError(code, message, status=status, headers=headers)
        return None


@dataclass(frozen=True)
class Limits:
    """The limits that apply to one request's model."""

    key: str
    qpm: int | None
    tpm: int | None


class _Window:
    """The requests counted for one model: ``(time, tokens)`` oldest first, and the sum of
    their tokens kept up to date (so admission costs the same however full the window is).
    In fixed mode ``index`` is the number of the window the entries belong to."""

    __slots__ = ("entries", "index", "tokens")

    def __init__(self) -> None:
        self.entries: deque[tuple[float, int]] = deque()
        self.tokens = 0
        self.index = 0

    def forget(self, now: float, window: float) -> None:
        """Sliding mode: drop what arrived ``window`` seconds ago or earlier."""
        entries = self.entries
        while entries and entries[0][0] <= now - window:
            self.tokens -= entries.popleft()[1]

    def start(self, index: int) -> None:
        """Fixed mode: a new window empties the count."""
        if index != self.index:
            self.entries.clear()
            self.tokens = 0
            self.index = index


class RateLimiter:
    """QPM / TPM accounting per model by arrival time, sliding or fixed windows
    (thread-safe)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()
        self._origin = clock()

    def reset(self) -> None:
        """Forget all counted requests; fixed windows start again from now."""
        with self._lock:
            self._windows.clear()
            self._origin = self._clock()

    def admit(
        self,
        limits: Limits,
        tokens: int,
        window: float,
        *,
        headers: bool,
        mode: Literal["sliding", "fixed"] = "sliding",
        offset: float = 0.0,
    ) -> dict[str, str]:
        """Count the request or raise 429 / 42901; returns the invented headers to send."""
        if limits.qpm is None and limits.tpm is None:
            return {}
        now = self._clock()
        with self._lock:
            counted = self._windows.get(limits.key)
            if counted is None:
                counted = self._windows[limits.key] = _Window()
            if mode == "fixed":
                elapsed = now - self._origin - offset % window
                index = math.floor(elapsed / window)
                counted.start(index)
                reset = (index + 1) * window - elapsed
            else:
                counted.forget(now, window)
                reset = (counted.entries[0][0] + window - now) if counted.entries else window
            used_requests = len(counted.entries)
            used_tokens = counted.tokens
            over_requests = limits.qpm is not None and used_requests + 1 > limits.qpm
            over_tokens = limits.tpm is not None and used_tokens + tokens > limits.tpm
            if not (over_requests or over_tokens):
                counted.entries.append((now, tokens))
                counted.tokens += tokens
                used_requests += 1
                used_tokens += tokens
        extra = _headers(limits, used_requests, used_tokens, reset) if headers else {}
        if over_requests or over_tokens:
            extra["Retry-After"] = str(max(1, math.ceil(reset)))
            raise EmulatedApiError("42901", headers=extra)
        return extra


def _headers(limits: Limits, requests: int, tokens: int, reset: float) -> dict[str, str]:
    values: dict[str, str] = {}
    reset_text = f"{max(reset, 0.0):.3f}s"
    if limits.qpm is not None:
        values["x-ratelimit-limit-requests"] = str(limits.qpm)
        values["x-ratelimit-remaining-requests"] = str(max(limits.qpm - requests, 0))
        values["x-ratelimit-reset-requests"] = reset_text
    if limits.tpm is not None:
        values["x-ratelimit-limit-tokens"] = str(limits.tpm)
        values["x-ratelimit-remaining-tokens"] = str(max(limits.tpm - tokens, 0))
        values["x-ratelimit-reset-tokens"] = reset_text
    return values
