"""Retry policy as pure functions: what to retry and how long to wait.

Only the client's I/O loops retry (never the glue, so retries do not multiply across
layers). What is retried: HTTP 408, 429 and 5xx, the
same codes inside a 200 envelope, connection errors and timeouts. Never retried: other 4xx,
a TLS certificate that fails verification, a closed client, a full local connection pool,
and a chat whose
reply timed out after the request was fully sent (the server may still generate and bill that
answer; embeddings and token counts cost nothing to repeat, so theirs are retried).

How long to wait: the server's ``Retry-After`` / ``retry-after-ms`` when
present, opportunistically the OpenAI-style ``x-ratelimit-reset-*`` headers on a 429 (their
names are undocumented for CLOVA), otherwise exponential backoff with full jitter. A server
asking for more than :data:`~clova_core.constants.MAX_RETRY_AFTER_SECONDS` is not waited on:
the error is raised so the caller can decide.
"""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from clova_core.constants import (
    INITIAL_RETRY_DELAY_SECONDS,
    MAX_RETRY_AFTER_SECONDS,
    MAX_RETRY_DELAY_SECONDS,
)
from clova_core.errors import APIConnectionError, APIError, APIStatusError, StreamError
from clova_core.transport_errors import (
    CertificateVerifyError,
    ClientClosedError,
    PoolTimeoutError,
    ResponseTimeoutError,
)

_DURATION = re.compile(
    r"^(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m(?!s))?"
    r"(?:(?P<s>\d+(?:\.\d+)?)s)?(?:(?P<ms>\d+(?:\.\d+)?)ms)?$"
)
_DURATION_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def is_retryable_status(status_code: int) -> bool:
    """408, 429 and every 5xx; never another 4xx."""
    return status_code in (408, 429) or 500 <= status_code <= 599


def is_retryable_error(error: APIError, *, idempotent: bool = True) -> bool:
    """Connection errors and timeouts, and status errors (HTTP, envelope or a stream ``error``
    event before anything was delivered) whose status is retryable. Not a certificate
    failure or a full local pool; a late reply only when the call is ``idempotent``."""
    if isinstance(error, (CertificateVerifyError, ClientClosedError, PoolTimeoutError)):
        return False
    if isinstance(error, ResponseTimeoutError):
        return idempotent
    if isinstance(error, APIConnectionError):
        return True
    if isinstance(error, (APIStatusError, StreamError)) and error.status_code is not None:
        return is_retryable_status(error.status_code)
    return False


def _seconds(text: str, per_second: float = 1.0) -> float | None:
    """A finite, non-negative number of seconds from ``text`` counted in ``1 / per_second``
    units, or None (``nan`` / ``inf`` are unreadable)."""
    try:
        value = float(text) / per_second
    except ValueError:
        return None
    return max(value, 0.0) if math.isfinite(value) else None


def parse_duration(text: str) -> float | None:
    """Seconds in ``"1.5"``, ``"20ms"``, ``"1s"``, ``"6m0s"`` or ``"1h2m3s"`` form; else None."""
    text = text.strip()
    if not text:
        return None
    seconds = _seconds(text)
    if seconds is not None:
        return seconds
    match = _DURATION.match(text)
    if match is None or not any(match.groupdict().values()):
        return None
    total = sum(
        float(value) * _DURATION_UNITS[unit]
        for unit, value in match.groupdict().items()
        if value is not None
    )
    return total if math.isfinite(total) else None


def _retry_after_value(text: str, now: Callable[[], float]) -> float | None:
    """``Retry-After``: delay-seconds (integer, tolerated as a float) or an HTTP-date."""
    text = text.strip()
    seconds = _seconds(text)
    if seconds is not None:
        return seconds
    try:
        return max(parsedate_to_datetime(text).timestamp() - now(), 0.0)
    except (TypeError, ValueError, IndexError, OverflowError, OSError):
        return None


def parse_retry_after(
    headers: Mapping[str, str],
    *,
    status_code: int | None = None,
    now: Callable[[], float] = time.time,
) -> float | None:
    """Seconds the server asks us to wait, or None if it says nothing readable.

    Precedence: ``retry-after-ms``, ``Retry-After``, then (429 only) the longest of
    ``x-ratelimit-reset-requests`` / ``x-ratelimit-reset-tokens`` whose ``remaining``
    counterpart is absent or zero. Header names are matched case-insensitively.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis is not None:
        seconds = _seconds(millis, 1000.0)
        if seconds is not None:
            return seconds
    retry_after = lowered.get("retry-after")
    if retry_after is not None:
        seconds = _retry_after_value(retry_after, now)
        if seconds is not None:
            return seconds
    if status_code != 429:
        return None
    resets = []
    for kind in ("requests", "tokens"):
        reset = lowered.get(f"x-ratelimit-reset-{kind}")
        remaining = lowered.get(f"x-ratelimit-remaining-{kind}", "0").strip()
        if reset is not None and remaining in ("0", "0.0"):
            seconds = parse_duration(reset)
            if seconds is not None:
                resets.append(seconds)
    return max(resets) if resets else None


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff parameters and the random source (injectable so tests are deterministic).

    ``initial_delay * 2**attempt`` capped at ``max_delay`` is the backoff ceiling; the delay
    is drawn uniformly below it ("full jitter").
    """

    initial_delay: float = INITIAL_RETRY_DELAY_SECONDS
    max_delay: float = MAX_RETRY_DELAY_SECONDS
    max_retry_after: float = MAX_RETRY_AFTER_SECONDS
    random: Callable[[], float] = field(default=random.random, repr=False)

    def backoff(self, attempt: int) -> float:
        """Full-jitter delay before retry number ``attempt + 1`` (``attempt`` from 0)."""
        ceiling = min(self.max_delay, self.initial_delay * (2.0**attempt))
        return ceiling * self.random()

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before the next try, or None when the server's ``Retry-After``
        is longer than ``max_retry_after`` (then the error is raised instead)."""
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        return self.backoff(attempt)


def retry_delay(
    error: APIError,
    *,
    attempt: int,
    max_retries: int,
    policy: RetryPolicy,
    idempotent: bool = True,
) -> float | None:
    """Seconds to wait before retrying after ``error`` on try ``attempt`` (from 0), or None
    when it must be raised: not retryable, retries used up, or ``Retry-After`` too long.
    ``idempotent`` is False for chat (see :func:`is_retryable_error`)."""
    if attempt >= max_retries or not is_retryable_error(error, idempotent=idempotent):
        return None
    retry_after = error.retry_after if isinstance(error, APIStatusError) else None
    return policy.delay(attempt, retry_after)
