"""One table of reservations, followed exactly by the in-process limiter and by the Redis
limiter (sync and async, against a real Redis server): with one process they behave alike."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from quota_support import TABLE, Scenario, max_in_window

from clova_core.errors import ClovaConfigurationError, ClovaValidationError
from clova_core.ratelimit import RateLimiter
from clova_core.ratelimit_redis import RedisRateLimiter

KINDS = ["in-process", "redis-sync", "redis-async"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def build(kind: str, redis_url: str, key: str, **settings: Any) -> Any:
    if kind == "in-process":
        return RateLimiter(**settings)
    return RedisRateLimiter(redis_url, key=key, **settings)


def reserve(limiter: Any, kind: str, tokens: int) -> float:
    if kind == "redis-async":

        async def one() -> float:
            try:
                wait: float = await limiter.areserve(tokens)
                return wait
            finally:
                await limiter.aclose()

        return asyncio.run(one())
    wait: float = limiter.reserve(tokens)
    return wait


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("scenario", TABLE, ids=[scenario.name for scenario in TABLE])
def test_the_table(kind: str, scenario: Scenario, redis_url: str, quota_key: str) -> None:
    clock = Clock()
    limiter = build(kind, redis_url, quota_key, clock=clock, **scenario.settings)
    waits = []
    for at, tokens in scenario.steps:
        clock.now = 1000.0 + at
        waits.append(reserve(limiter, kind, tokens))
    assert waits == pytest.approx(scenario.waits, abs=1e-6)


WINDOW = 0.3


@pytest.mark.parametrize("kind", ["in-process", "redis-sync"])
def test_threads_never_exceed_the_limit_in_any_window(
    kind: str, redis_url: str, quota_key: str
) -> None:
    limiter = build(
        kind, redis_url, quota_key, requests_per_minute=5, window_seconds=WINDOW, burst=1.0
    )
    stamps: list[tuple[float, int]] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(3):
            limiter.acquire()
            with lock:
                stamps.append((time.monotonic(), 0))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(stamps) == 12
    requests, _ = max_in_window(stamps, WINDOW * 0.98)
    assert requests <= 5
    # 12 requests at 5 per window cannot all fit in the first two windows.
    assert max(at for at, _ in stamps) - min(at for at, _ in stamps) >= 2 * WINDOW * 0.9


@pytest.mark.parametrize("kind", ["in-process", "redis-async"])
async def test_tasks_never_exceed_the_token_limit_in_any_window(
    kind: str, redis_url: str, quota_key: str
) -> None:
    limiter = build(kind, redis_url, quota_key, tokens_per_minute=100, window_seconds=WINDOW)
    stamps: list[tuple[float, int]] = []

    async def task(tokens: int) -> None:
        await limiter.aacquire(tokens)
        stamps.append((time.monotonic(), tokens))

    await asyncio.gather(*(task(30) for _ in range(7)))
    if kind != "in-process":
        await limiter.aclose()

    _, tokens = max_in_window(stamps, WINDOW * 0.98)
    assert tokens <= 100
    assert len(stamps) == 7


Make = Callable[..., Any]


@pytest.mark.parametrize("kind", ["in-process", "redis-sync"])
def test_a_request_larger_than_the_token_limit_is_a_typed_error(
    kind: str, redis_url: str, quota_key: str
) -> None:
    limiter = build(kind, redis_url, quota_key, tokens_per_minute=100)
    with pytest.raises(ClovaValidationError, match="tokens_per_minute is 100"):
        limiter.acquire(101)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"requests_per_minute": 0}, "positive"),
        ({"tokens_per_minute": -5}, "positive"),
        ({"window_seconds": 0}, "window_seconds"),
        ({"margin_seconds": -1}, "margin_seconds"),
        ({"burst": 0}, "burst"),
        ({"burst": 1.5}, "burst"),
    ],
)
@pytest.mark.parametrize("kind", ["in-process", "redis-sync"])
def test_bad_settings_are_typed_errors(
    kind: str, settings: dict[str, Any], message: str, redis_url: str, quota_key: str
) -> None:
    with pytest.raises(ClovaConfigurationError, match=message):
        build(kind, redis_url, quota_key, **settings)
