"""The asyncio twin of :class:`clova_core.keepalive.KeepAliveTransport` (see that module for
why and what), with one pool per running event loop: asyncio streams belong to the loop that
opened them."""

from __future__ import annotations

import asyncio
import logging
import ssl
import sys
import weakref
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

import httpx

from clova_core.http11 import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_IDLE_PER_ORIGIN,
    MAX_HEAD_BYTES,
    READ_CHUNK,
    Origin,
    ResponseHead,
    chunk_size,
    httpx_transport_replaced,
    incomplete_body,
    no_response,
    origin_of,
    parse_head,
    protocol_error,
    readable,
    request_head,
    timeouts_of,
    to_response,
)

logger = logging.getLogger("clova_core.keepalive")

_T = TypeVar("_T")

if sys.version_info >= (3, 11):

    async def _within(awaitable: Awaitable[_T], seconds: float | None) -> _T:
        """``asyncio.wait_for`` without its cost on 3.11, where it wraps every read in a new
        task (two extra loop passes each); ``asyncio.timeout`` only arms a timer. Raises
        ``TimeoutError``, which is ``asyncio.TimeoutError`` there."""
        async with asyncio.timeout(seconds):
            return await awaitable

else:
    _within = asyncio.wait_for


class _AsyncConnection:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def is_stale(self) -> bool:
        """As the sync one; the socket is polled too, because the loop may not have run
        since the server closed it (then ``at_eof`` does not know yet)."""
        if self.reader.at_eof() or self.writer.is_closing():
            return True
        sock = self.writer.get_extra_info("socket")
        return sock is None or readable(sock)

    def close(self) -> None:
        self.writer.close()


class _LoopPool:
    """One event loop's connections: asyncio streams belong to the loop that opened them."""

    def __init__(self, max_connections: int) -> None:
        self.slots = asyncio.Semaphore(max_connections)
        self.idle: dict[Origin, list[_AsyncConnection]] = {}


class AsyncKeepAliveTransport(httpx.AsyncBaseTransport):
    """The asyncio twin of :class:`KeepAliveTransport` (one pool per running loop)."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        max_idle_per_origin: int = DEFAULT_MAX_IDLE_PER_ORIGIN,
    ) -> None:
        self._ssl = ssl_context
        self._max_connections = max_connections
        self._max_idle = max_idle_per_origin
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopPool] = (
            weakref.WeakKeyDictionary()
        )
        self._httpx_transport: httpx.AsyncHTTPTransport | None = None

    def _pool(self) -> _LoopPool:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            pool = self._pools[loop] = _LoopPool(self._max_connections)
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if httpx_transport_replaced(asynchronous=True):
            if self._httpx_transport is None:  # see the sync transport
                self._httpx_transport = httpx.AsyncHTTPTransport(verify=self._ssl)
            return await self._httpx_transport.handle_async_request(request)
        origin = origin_of(request)
        timeouts = timeouts_of(request)
        pool = self._pool()
        if pool.slots.locked():
            try:
                await _within(pool.slots.acquire(), timeouts.get("pool"))
            except asyncio.TimeoutError:
                raise httpx.PoolTimeout(
                    "No connection free within the pool timeout", request=request
                ) from None
        else:
            await pool.slots.acquire()
        connection: _AsyncConnection | None = None
        try:
            connection = await self._checkout(pool, origin, timeouts, request)
            payload = request_head(request, await request.aread())
            connection.writer.write(payload)
            if connection.writer.transport.get_write_buffer_size():
                try:
                    await _within(connection.writer.drain(), timeouts.get("write"))
                except asyncio.TimeoutError:
                    raise httpx.WriteTimeout("write timed out", request=request) from None
                except OSError as exc:
                    raise httpx.WriteError(str(exc), request=request) from exc
            head = await self._read_head(connection.reader, request, timeouts.get("read"))
        except BaseException:
            if connection is not None:
                connection.close()
            pool.slots.release()
            raise
        return to_response(
            head,
            _AsyncBody(
                self, pool=pool, origin=origin, connection=connection, head=head, request=request
            ),
        )

    async def _checkout(
        self,
        pool: _LoopPool,
        origin: Origin,
        timeouts: dict[str, float | None],
        request: httpx.Request,
    ) -> _AsyncConnection:
        idle = pool.idle.get(origin, [])
        while idle:
            connection = idle.pop()
            if not connection.is_stale():
                return connection
            connection.close()
        scheme, host, port = origin
        tls: dict[str, Any] = (
            {"ssl": self._ssl, "server_hostname": host} if scheme == "https" else {}
        )
        try:
            reader, writer = await _within(
                asyncio.open_connection(host, port, limit=MAX_HEAD_BYTES, **tls),
                timeouts.get("connect"),
            )
        except asyncio.TimeoutError:
            raise httpx.ConnectTimeout("connect timed out", request=request) from None
        except OSError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        logger.debug("Connected to %s:%d (%s)", host, port, scheme)
        return _AsyncConnection(reader, writer)

    @staticmethod
    async def _read_head(
        reader: asyncio.StreamReader, request: httpx.Request, timeout: float | None
    ) -> ResponseHead:
        while True:
            try:
                raw = await _within(reader.readuntil(b"\r\n\r\n"), timeout)
            except asyncio.TimeoutError:
                raise httpx.ReadTimeout("read timed out", request=request) from None
            except asyncio.IncompleteReadError as exc:
                raise (
                    no_response(request) if not exc.partial else incomplete_body(request)
                ) from None
            except asyncio.LimitOverrunError:
                raise protocol_error("Response head too large", request) from None
            except OSError as exc:
                raise httpx.ReadError(str(exc), request=request) from exc
            head = parse_head(raw[:-4], request.method, request)
            if not 100 <= head.status < 200:
                return head
            if head.status == 101:
                raise protocol_error("Unexpected 101 Switching Protocols", request)

    def release(
        self, pool: _LoopPool, origin: Origin, connection: _AsyncConnection, reusable: bool
    ) -> bool:
        """Back to the loop's idle pool (``True``), or closing (``False``)."""
        pool.slots.release()
        idle = pool.idle.setdefault(origin, [])
        if reusable and len(idle) < self._max_idle:
            idle.append(connection)
            return True
        connection.close()
        return False

    async def aclose(self) -> None:
        """Close the running loop's idle connections (other loops' are dropped with them)."""
        fallback, self._httpx_transport = self._httpx_transport, None
        if fallback is not None:
            await fallback.aclose()
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is None:
            return
        for connections in pool.idle.values():
            for connection in connections:
                connection.close()
        await asyncio.sleep(0)  # the loop closes the sockets on its next pass


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(
        self,
        transport: AsyncKeepAliveTransport,
        *,
        pool: _LoopPool,
        origin: Origin,
        connection: _AsyncConnection,
        head: ResponseHead,
        request: httpx.Request,
    ) -> None:
        self._transport = transport
        self._pool = pool
        self._origin = origin
        self._connection = connection
        self._head = head
        self._request = request
        self._complete = False
        self._released = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        reader, request = self._connection.reader, self._request
        timeout = timeouts_of(request).get("read")
        try:
            if self._head.framing == "length":
                remaining = self._head.length
                while remaining:
                    data = await _within(reader.read(min(remaining, READ_CHUNK)), timeout)
                    if not data:
                        raise incomplete_body(request)
                    remaining -= len(data)
                    yield data
            elif self._head.framing == "chunked":
                while True:
                    line = await _within(reader.readuntil(b"\r\n"), timeout)
                    size = chunk_size(line, request)
                    if not size:
                        break
                    data = await _within(reader.readexactly(size + 2), timeout)
                    if not data.endswith(b"\r\n"):
                        raise incomplete_body(request)
                    yield data[:-2]
                while await _within(reader.readuntil(b"\r\n"), timeout) != b"\r\n":
                    pass  # trailers
            else:
                while data := await _within(reader.read(READ_CHUNK), timeout):
                    yield data
        except asyncio.TimeoutError:
            raise httpx.ReadTimeout("read timed out", request=request) from None
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            raise incomplete_body(request) from None
        except OSError as exc:
            raise httpx.ReadError(str(exc), request=request) from exc
        self._complete = True

    async def aclose(self) -> None:
        if not self._released:
            self._released = True
            reusable = self._complete and self._head.keep_alive
            if not self._transport.release(self._pool, self._origin, self._connection, reusable):
                await asyncio.sleep(0)  # the loop closes the socket on its next pass
