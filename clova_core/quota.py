"""What the clients need from a quota limiter: two protocols, so any object can pace requests.

A limiter is anything with :class:`QuotaLimiter`'s two methods; the package's own
:class:`~clova_core.ratelimit.RateLimiter` is one. The clients call ``acquire`` (threads) or
``aacquire`` (asyncio) before every attempt, retries included, with the tokens the attempt
counts against a tokens-per-minute quota (input plus the requested maximum output).

A limiter that also has :class:`QuotaFeedback`'s method is told how each attempt ended, so it
can adapt its pace to what the server says (for example slow down on 429 and ``Retry-After``).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class QuotaLimiter(Protocol):
    """Waits until one more request of ``tokens`` tokens fits the quota, then counts it."""

    def acquire(self, tokens: int = 0) -> None:
        """Block the calling thread until the request may be sent."""

    async def aacquire(self, tokens: int = 0) -> None:
        """Wait without blocking the event loop until the request may be sent."""


@runtime_checkable
class QuotaFeedback(Protocol):
    """Told how every attempt ended (optional for a limiter)."""

    def record_reply(self, *, status: int | None, retry_after: float | None) -> None:
        """``status`` is the HTTP status, or ``None`` when no reply came (connection error,
        timeout); ``retry_after`` is the server's ``Retry-After`` in seconds when it sent one."""
