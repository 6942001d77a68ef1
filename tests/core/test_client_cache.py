"""ClientPool and ClientCache: one sync client, one async client per event loop, lazily built."""

# clean_env (autouse, imported) keeps CLOVASTUDIO_* variables of the outer environment out.

from __future__ import annotations

import asyncio
import copy
import os
import pickle

import httpx
import pytest
from transport_fakes import BASE, TEST_KEY, clean_env, ok  # noqa: F401

from clova_core.client import AsyncClovaClient
from clova_core.client_cache import ClientCache, ClientPool
from clova_core.errors import ClovaConfigurationError
from clova_core.ratelimit import RateLimiter


def test_the_sync_client_is_built_once_with_the_options() -> None:
    limiter = RateLimiter(requests_per_minute=10)
    pool = ClientPool(api_key=TEST_KEY, base_url=BASE, max_retries=5, rate_limiter=limiter)
    client = pool.sync
    assert pool.sync is client
    assert (client.base_url, client.max_retries, client.rate_limiter) == (BASE, 5, limiter)
    pool.close()


def test_async_clients_are_one_per_event_loop() -> None:
    pool = ClientPool(api_key=TEST_KEY, base_url=BASE)

    async def get() -> AsyncClovaClient:
        first = pool.for_running_loop()
        assert pool.for_running_loop() is first
        return first

    async def get_and_close() -> AsyncClovaClient:
        client = await get()
        await pool.aclose()
        return client

    one = asyncio.run(get_and_close())
    another = asyncio.run(get_and_close())
    assert one is not another  # an httpx.AsyncClient is bound to the loop that used it


def test_a_callers_async_http_client_is_used_in_every_loop() -> None:
    served: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        served.append(request.url.path)
        return ok({"numTokens": 3})

    given = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    pool = ClientPool(api_key=TEST_KEY, base_url=BASE, async_http_client=given)

    async def count() -> int:
        return await pool.for_running_loop().count_embedding_tokens("안녕")

    assert asyncio.run(count()) == asyncio.run(count()) == 3
    assert served == ["/v1/api-tools/embedding/v2/tokenize"] * 2
    asyncio.run(given.aclose())


def test_a_missing_key_is_reported_on_first_use() -> None:
    pool = ClientPool()  # building the pool itself needs no key
    with pytest.raises(ClovaConfigurationError, match="CLOVASTUDIO_API_KEY"):
        _ = pool.sync


def test_repr_has_no_key() -> None:
    assert TEST_KEY not in repr(ClientPool(api_key=TEST_KEY, base_url=BASE))


# --------------------------------------------------------------------- ClientCache


def _pool(key: str) -> ClientPool:
    return ClientPool(api_key=key, base_url=BASE)


def test_the_cache_rebuilds_when_the_settings_key_changes() -> None:
    cache = ClientCache()
    first = cache.get(("a",), lambda: _pool("key-a"))
    assert cache.get(("a",), lambda: _pool("never built")) is first
    second = cache.get(("b",), lambda: _pool("key-b"))
    assert second is not first
    assert second.sync.api_key.get_secret_value() == "key-b"
    first_sync = first.sync
    cache.close()  # closes the replaced pool's client too
    assert first_sync._http.is_closed


def test_copies_and_pickles_of_a_cache_start_empty() -> None:
    cache = ClientCache()
    built = cache.get(("a",), lambda: _pool("key-a"))
    for other in (copy.copy(cache), copy.deepcopy(cache), pickle.loads(pickle.dumps(cache))):
        assert other.get(("a",), lambda: _pool("key-a")) is not built
    assert b"key-a" not in pickle.dumps(cache)


def test_after_a_fork_the_child_builds_its_own_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ClientCache()
    parents = cache.get(("a",), lambda: _pool("key-a"))
    parents_client = parents.sync
    monkeypatch.setattr(os, "getpid", lambda: -1)  # what the child sees (real forks: tests/)
    childs = cache.get(("a",), lambda: _pool("key-a"))
    assert childs is not parents
    cache.close()
    assert not parents_client._http.is_closed  # the parent's sockets are left alone
