"""Lazily created, reused core clients for one LangChain model instance.

Each ``ChatClovaX`` / ``ClovaXEmbeddings`` builds its ``ClovaClient`` on first use and keeps
it, so connections are pooled across calls (and across the threads of ``batch`` /
``embed_documents``). The API key and base URL are resolved by the core (argument, else
the ``CLOVASTUDIO_API_KEY`` / ``CLOVASTUDIO_API_BASE_URL`` environment variables).

An ``httpx.AsyncClient`` is tied to the event loop that first used its connections, so the
async client is rebuilt when it is used from a different loop (e.g. two ``asyncio.run``
calls with one model); a caller-supplied async client is always reused as given.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from pydantic import SecretStr

from clova_core.client import AsyncClovaClient, ClovaClient


@dataclass(frozen=True)
class ClientSettings:
    """What the core client is built from (all optional: the core fills defaults)."""

    api_key: SecretStr | None = None
    apigw_api_key: SecretStr | None = None
    base_url: str | None = None
    timeout: float | None = None
    max_retries: int = 2
    default_headers: Mapping[str, str] | None = None
    http_client: httpx.Client | None = None
    http_async_client: httpx.AsyncClient | None = None


class LazyClients:
    """One sync and one async core client, created on first use (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sync: ClovaClient | None = None
        self._async: AsyncClovaClient | None = None
        self._async_loop: asyncio.AbstractEventLoop | None = None

    def sync(self, settings: ClientSettings) -> ClovaClient:
        """The sync client, built once."""
        with self._lock:
            if self._sync is None:
                self._sync = ClovaClient(
                    api_key=settings.api_key,
                    apigw_api_key=settings.apigw_api_key,
                    base_url=settings.base_url,
                    timeout=settings.timeout,
                    max_retries=settings.max_retries,
                    http_client=settings.http_client,
                    default_headers=settings.default_headers,
                )
            return self._sync

    def async_(self, settings: ClientSettings) -> AsyncClovaClient:
        """The async client for the running event loop."""
        loop = asyncio.get_running_loop()
        with self._lock:
            reuse = settings.http_async_client is not None or self._async_loop is loop
            if self._async is None or not reuse:
                self._async = AsyncClovaClient(
                    api_key=settings.api_key,
                    apigw_api_key=settings.apigw_api_key,
                    base_url=settings.base_url,
                    timeout=settings.timeout,
                    max_retries=settings.max_retries,
                    http_client=settings.http_async_client,
                    default_headers=settings.default_headers,
                )
                self._async_loop = loop
            return self._async

    def close(self) -> None:
        """Close the sync client (the async one needs :meth:`aclose`)."""
        with self._lock:
            client, self._sync = self._sync, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close both clients."""
        self.close()
        with self._lock:
            client, self._async, self._async_loop = self._async, None, None
        if client is not None:
            await client.aclose()
