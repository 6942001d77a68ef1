"""A client-side limiter for CLOVA Studio's QPM / TPM quotas (clova-api.md 8.2).

CLOVA counts requests per minute and tokens per minute (input plus the *requested* maximum
output) per account and model, and answers 429 / 42901 past either. Retrying after a 429
wastes a round trip and a quota slot; this limiter makes a process stay under the quota in
the first place.

It keeps a sliding one-minute log of what was sent: a request may go when the requests and
tokens sent in the last 60 seconds, plus its own, stay within the limits. No 60-second
window then ever holds more than the limit, whether the server counts with a fixed or a
sliding window. State sits behind one ``threading.Lock`` and the lock is never held across a
sleep or an ``await``, so one limiter is shared safely by threads and by asyncio tasks of one
process (and by a sync and an async client together).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable

from clova_core.errors import ClovaConfigurationError, ClovaValidationError
from clova_core.models import EMBEDDING_MODELS, ChatModelSpec, EmbeddingModelSpec, get_chat_model

WINDOW_SECONDS = 60.0


class RateLimiter:
    """Blocks callers so at most ``requests_per_minute`` requests and ``tokens_per_minute``
    tokens are sent in any 60-second window. Either limit may be ``None`` (unlimited).
    ``window_seconds`` shortens the window (the limits then apply per that window): for tests."""

    def __init__(
        self,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        *,
        window_seconds: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        for name, value in (
            ("requests_per_minute", requests_per_minute),
            ("tokens_per_minute", tokens_per_minute),
        ):
            if value is not None and value <= 0:
                raise ClovaConfigurationError(f"{name} must be a positive integer, got {value}")
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        self.window_seconds = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._sent: deque[tuple[float, int]] = deque()
        self._tokens_in_window = 0

    @classmethod
    def for_model(cls, model: str, *, window_seconds: float = WINDOW_SECONDS) -> RateLimiter:
        """A limiter at a model's documented test-key QPM / TPM (clova-api.md 8.2), e.g.
        ``RateLimiter.for_model("bge-m3")``: 60 requests and 40,000 tokens a minute.

        The quota is per account and model: share one limiter between every object that
        calls ``model``. Service apps have higher limits; pass them to the constructor."""
        spec: ChatModelSpec | EmbeddingModelSpec = (
            EMBEDDING_MODELS[model] if model in EMBEDDING_MODELS else get_chat_model(model)
        )
        if spec.qpm is None and spec.tpm is None:
            raise ClovaConfigurationError(
                f"No documented rate limits for {model!r}: pass requests_per_minute and "
                "tokens_per_minute to RateLimiter(...) yourself."
            )
        return cls(spec.qpm, spec.tpm, window_seconds=window_seconds)

    def __repr__(self) -> str:
        return (
            f"RateLimiter(requests_per_minute={self.requests_per_minute}, "
            f"tokens_per_minute={self.tokens_per_minute})"
        )

    def _forget_before(self, now: float) -> None:
        while self._sent and self._sent[0][0] <= now - self.window_seconds:
            self._tokens_in_window -= self._sent.popleft()[1]

    def _wait_time(self, tokens: int, now: float) -> float:
        """Seconds until a request of ``tokens`` fits (0: it fits now). Caller holds the lock."""
        self._forget_before(now)
        wait = 0.0
        rpm = self.requests_per_minute
        if rpm is not None and len(self._sent) >= rpm:
            wait = self._sent[len(self._sent) - rpm][0] + self.window_seconds - now
        tpm = self.tokens_per_minute
        if tpm is not None and self._tokens_in_window + tokens > tpm:
            excess = self._tokens_in_window + tokens - tpm
            for sent_at, sent_tokens in self._sent:
                excess -= sent_tokens
                if excess <= 0:
                    wait = max(wait, sent_at + self.window_seconds - now)
                    break
        return max(wait, 0.0)

    def _try_acquire(self, tokens: int) -> float:
        if self.tokens_per_minute is not None and tokens > self.tokens_per_minute:
            raise ClovaValidationError(
                f"One request needs {tokens} tokens but tokens_per_minute is "
                f"{self.tokens_per_minute}: lower max_tokens or shorten the input."
            )
        with self._lock:
            now = self._clock()
            wait = self._wait_time(tokens, now)
            if wait == 0.0:
                self._sent.append((now, tokens))
                self._tokens_in_window += tokens
            return wait

    def acquire(self, tokens: int = 0) -> None:
        """Block the calling thread until a request of ``tokens`` may be sent, then record it."""
        while (wait := self._try_acquire(tokens)) > 0:
            time.sleep(wait)

    async def aacquire(self, tokens: int = 0) -> None:
        """Wait without blocking the event loop until a request may be sent, then record it."""
        while (wait := self._try_acquire(tokens)) > 0:
            await asyncio.sleep(wait)
