"""The Redis limiter on a real Redis server: built from a URL or a client, pickled to other
processes, shared by several processes that together stay under one quota, and a clear
typed error when the extra is missing."""

from __future__ import annotations

import asyncio
import multiprocessing
import pickle
import sys
import time

import pytest
import redis
import redis.asyncio
from quota_support import max_in_window

from clova_core.errors import ClovaConfigurationError
from clova_core.quota import QuotaLimiter
from clova_core.ratelimit_redis import RedisRateLimiter
from clova_emulator import Emulator
from langchain_clova import ClovaXEmbeddings

WINDOW = 1.0
QUOTA = 20


def test_a_missing_extra_is_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ClovaConfigurationError, match=r"clova-integrations\[redis\]"):
        RedisRateLimiter("redis://127.0.0.1:1/0", key="k", requests_per_minute=1)


def test_anything_else_than_a_url_or_a_client_is_refused() -> None:
    with pytest.raises(ClovaConfigurationError, match="URL"):
        RedisRateLimiter(42, key="k")  # type: ignore[arg-type]
    with pytest.raises(ClovaConfigurationError, match="key"):
        RedisRateLimiter("redis://127.0.0.1:1/0", key="")


def test_built_from_a_url_it_pickles_without_its_connections(
    redis_url: str, quota_key: str
) -> None:
    limiter = RedisRateLimiter(redis_url, key=quota_key, requests_per_minute=5)
    assert limiter.reserve() == 0.0  # opens a connection
    copy = pickle.loads(pickle.dumps(limiter))
    assert isinstance(copy, RedisRateLimiter)
    assert isinstance(copy, QuotaLimiter)
    assert copy.reserve() >= 0.0  # the copy shares the quota through the server
    records = redis.Redis.from_url(redis_url).zcard(f"{{clova-quota:{quota_key}}}:log")
    assert records == 2
    limiter.close()
    copy.close()


def test_built_from_a_client_it_refuses_to_pickle(redis_url: str, quota_key: str) -> None:
    limiter = RedisRateLimiter(redis.Redis.from_url(redis_url), key=quota_key)
    with pytest.raises(TypeError, match="from a URL"):
        pickle.dumps(limiter)


def test_given_clients_are_used_and_left_open(redis_url: str, quota_key: str) -> None:
    sync_client = redis.Redis.from_url(redis_url)
    limiter = RedisRateLimiter(sync_client, key=quota_key, requests_per_minute=5, burst=1.0)
    limiter.acquire()
    limiter.close()
    assert sync_client.ping()

    async def with_async_client() -> None:
        async_client = redis.asyncio.Redis.from_url(redis_url)
        shared = RedisRateLimiter(async_client, key=quota_key, requests_per_minute=5, burst=1.0)
        await shared.aacquire()
        await shared.aclose()
        assert await async_client.ping()
        await async_client.aclose()
        with pytest.raises(ClovaConfigurationError, match="aacquire"):
            shared.acquire()

    asyncio.run(with_async_client())
    assert sync_client.zcard(f"{{clova-quota:{quota_key}}}:log") == 2


def _embed_in_a_process(url: str, limiter: RedisRateLimiter, first: int, count: int) -> int:
    embeddings = ClovaXEmbeddings(
        model="bge-m3",
        api_key="test-key",
        base_url=url,
        max_retries=0,
        max_concurrency=4,
        quota_limiter=limiter,
    )
    try:
        texts = [f"text {index}" for index in range(first, first + count)]
        return len(embeddings.embed_documents(texts))
    finally:
        embeddings.close()


def test_processes_sharing_the_redis_quota_meet_no_429(
    emu: Emulator, redis_url: str, quota_key: str
) -> None:
    """Three processes, 20 texts each, one quota of 20 per 1 s window counted at arrival by
    the emulator; server time (Redis ``TIME``) paces them all. ``max_retries=0``: a single
    429 would fail a process."""
    emu.configure(qpm={"bge-m3": QUOTA}, rate_window=WINDOW, latency=0.03, latency_jitter=0.03)
    limiter = RedisRateLimiter(
        redis_url,
        key=quota_key,
        requests_per_minute=QUOTA,
        window_seconds=WINDOW,
        margin_seconds=0.15,
    )
    context = multiprocessing.get_context("spawn")
    with context.Pool(3) as pool:
        done = pool.starmap(
            _embed_in_a_process, [(emu.base_url, limiter, 20 * index, 20) for index in range(3)]
        )
    assert done == [20, 20, 20]
    records = emu.requests
    assert [record.status for record in records] == [200] * 60
    assert emu.server_errors == []


def test_server_time_paces_threads_of_one_process(redis_url: str, quota_key: str) -> None:
    limiter = RedisRateLimiter(
        redis_url, key=quota_key, requests_per_minute=5, window_seconds=0.3, burst=1.0
    )
    stamps = []
    for _ in range(11):
        limiter.acquire()
        stamps.append((time.monotonic(), 0))
    requests, _ = max_in_window(stamps, 0.3 * 0.98)
    assert requests <= 5
    assert stamps[-1][0] - stamps[0][0] >= 2 * 0.3 * 0.9
