"""The optional faster async transport: :class:`DefaultAioHttpClient` (extra ``[aiohttp]``).

Like the openai and anthropic SDKs, the package sends requests through httpx's own transport
unless the user opts in to `httpx-aiohttp <https://pypi.org/project/httpx-aiohttp/>`_, which
runs httpx's async API over aiohttp's connection pool and HTTP parser (less CPU per request
for async bulk work, such as embedding many texts at once)::

    pip install "clova-integrations[aiohttp]"

    from clova_core import AsyncClovaClient, DefaultAioHttpClient

    async with AsyncClovaClient(http_client=DefaultAioHttpClient()) as client:
        ...

The framework classes take it the same way (``http_async_client=DefaultAioHttpClient()``).
The client you pass is yours: close it (``await http_client.aclose()``) when done.

It uses the package's defaults (timeouts, the shared TLS context that follows
``SSL_CERT_FILE`` / ``SSL_CERT_DIR``) and maps every aiohttp failure to an httpx error, so
errors, retries and deadlines behave as with the default transport. Without the extra,
importing this module raises :class:`~clova_core.extras.MissingExtraError` naming it.

One difference remains, aiohttp's: bytes a server writes on an idle kept-alive connection
(which no correct server does) are read by aiohttp as the reply to the next request sent on
that connection, where httpx's transport discards such a connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from clova_core.extras import require

require(
    "httpx_aiohttp",
    package="httpx-aiohttp",
    extra="aiohttp",
    needed_for="DefaultAioHttpClient (the optional aiohttp transport)",
)

import aiohttp  # noqa: E402  (only after the check above names the missing extra)
from httpx_aiohttp import HttpxAiohttpClient  # noqa: E402

from clova_core.client_base import default_ssl_context, default_timeout  # noqa: E402

__all__ = ["DefaultAioHttpClient"]


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    """aiohttp failures that httpx-aiohttp leaves unmapped (a malformed status line, header
    or chunk size raises ``aiohttp.ClientResponseError``) as httpx errors."""
    try:
        yield
    except aiohttp.ClientError as exc:
        raise httpx.RemoteProtocolError(f"{type(exc).__name__}: {exc}") from exc


class _MappedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors():
            async for chunk in self._inner:
                yield chunk

    async def aclose(self) -> None:
        with _as_httpx_errors():
            await self._inner.aclose()


class _MappedTransport(httpx.AsyncBaseTransport):
    """httpx-aiohttp's transport with every failure an :class:`httpx.HTTPError`."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with _as_httpx_errors():
            response = await self._inner.handle_async_request(request)
        stream = response.stream
        if isinstance(stream, httpx.AsyncByteStream):
            response.stream = _MappedStream(stream)
        return response

    async def aclose(self) -> None:
        with _as_httpx_errors():
            await self._inner.aclose()


class DefaultAioHttpClient(HttpxAiohttpClient):
    """An :class:`httpx.AsyncClient` over aiohttp with the package's defaults (module
    docstring). Keyword arguments are :class:`httpx.AsyncClient`'s; ``timeout`` defaults to
    60 s (10 s to connect) and ``verify`` to the package's shared TLS context."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("timeout", default_timeout())
        kwargs.setdefault("verify", default_ssl_context())
        super().__init__(**kwargs)

    def _init_transport(self, *args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
        # httpx-aiohttp plugs its transport in through these two hooks; ours wraps it.
        return _MappedTransport(super()._init_transport(*args, **kwargs))

    def _init_proxy_transport(self, *args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
        return _MappedTransport(super()._init_proxy_transport(*args, **kwargs))
