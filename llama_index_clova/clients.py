"""The core clients behind one ``ClovaX`` / ``ClovaXEmbedding``: one sync client, and one async
client per event loop (an httpx async connection pool must stay on the loop that made it,
while LlamaIndex code often runs ``asyncio.run`` several times in one process)."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import httpx
from pydantic import SecretStr

from clova_core.client import AsyncClovaClient, ClovaClient


class CoreClients:
    """Sync and per-loop async :mod:`clova_core.client` clients sharing one configuration."""

    def __init__(
        self,
        *,
        api_key: SecretStr | None,
        base_url: str | None,
        timeout: float | None,
        max_retries: int,
        default_headers: dict[str, str] | None,
        http_client: httpx.Client | None,
        async_http_client: httpx.AsyncClient | None,
    ) -> None:
        self._options: dict[str, Any] = {
            "api_key": api_key,
            "base_url": base_url,
            "timeout": timeout,
            "max_retries": max_retries,
            "default_headers": default_headers,
        }
        self._async_http_client = async_http_client
        # Reads CLOVASTUDIO_API_KEY / CLOVASTUDIO_API_BASE_URL; ClovaConfigurationError if no key.
        self.sync = ClovaClient(**self._options, http_client=http_client)
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncClovaClient] = (
            weakref.WeakKeyDictionary()
        )

    def for_running_loop(self) -> AsyncClovaClient:
        """The async client of the running event loop (made on first use)."""
        loop = asyncio.get_running_loop()
        client = self._async.get(loop)
        if client is None:
            client = AsyncClovaClient(**self._options, http_client=self._async_http_client)
            self._async[loop] = client
        return client

    def close(self) -> None:
        """Close the sync client's connections (a caller's ``http_client`` is left open)."""
        self.sync.close()

    async def aclose(self) -> None:
        """Close the running loop's async client (a caller's client is left open)."""
        client = self._async.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()
