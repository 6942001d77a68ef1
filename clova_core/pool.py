"""The core clients behind one framework object (a LangChain model, a LlamaIndex LLM).

One sync :class:`~clova_core.client.ClovaClient`, built on first use and then shared by every
call and thread, so connections are pooled. Async clients are kept one per event loop: an
httpx async connection pool belongs to the loop that opened it, and framework code often
runs ``asyncio.run`` several times in one process. A caller's own ``async_http_client`` is
used for every loop, as given. Building a client resolves the API key and base URL (the
argument, else ``CLOVASTUDIO_API_KEY`` / ``CLOVASTUDIO_API_BASE_URL``), so a missing key
is reported on first use as :class:`~clova_core.errors.ClovaConfigurationError`.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import SecretStr

from clova_core.client import AsyncClovaClient, ClovaClient
from clova_core.constants import DEFAULT_MAX_RETRIES
from clova_core.ratelimit import RateLimiter


class ClientPool:
    """Sync and per-event-loop async clients sharing one configuration."""

    def __init__(
        self,
        *,
        api_key: str | SecretStr | None = None,
        apigw_api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self._options: dict[str, Any] = {
            "api_key": api_key,
            "apigw_api_key": apigw_api_key,
            "base_url": base_url,
            "timeout": timeout,
            "max_retries": max_retries,
            "default_headers": default_headers,
            "rate_limiter": rate_limiter,
        }
        self._http_client = http_client
        self._async_http_client = async_http_client
        self._lock = threading.Lock()
        self._sync: ClovaClient | None = None
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncClovaClient] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return f"ClientPool(base_url={self._options['base_url']!r})"

    @property
    def sync(self) -> ClovaClient:
        """The sync client (built on first use)."""
        with self._lock:
            if self._sync is None:
                self._sync = ClovaClient(**self._options, http_client=self._http_client)
            return self._sync

    def for_running_loop(self) -> AsyncClovaClient:
        """The async client of the running event loop (built on first use in that loop)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._async.get(loop)
            if client is None:
                client = AsyncClovaClient(**self._options, http_client=self._async_http_client)
                self._async[loop] = client
            return client

    def close(self) -> None:
        """Close the sync client's connections (a caller's ``http_client`` stays open).
        Async clients need :meth:`aclose` from their own event loop."""
        with self._lock:
            client, self._sync = self._sync, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close the running loop's async client and the sync client."""
        self.close()
        with self._lock:
            client = self._async.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()
