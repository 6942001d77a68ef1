"""Lean HTTP/1.1 keep-alive transports for the httpx clients the package builds itself.

Why: CLOVA embeds one text per request, so embedding a corpus is thousands of small requests
and the client's CPU per request bounds throughput. Measured against the emulator on a
2-core machine (``benchmarks/``), httpx's default transport (httpcore, h11, anyio) spent
about 1 ms of CPU per request synchronously and 3.5 ms with 16 requests in flight on one
event loop; most of the async cost is pool bookkeeping (each queued request re-checks
every pooled connection's socket). These transports do only what the package needs, with
the same behaviour seen from httpx:

* HTTP/1.1 over TCP or TLS (the given ``ssl.SSLContext``), one keep-alive pool per origin,
  at most ``max_connections`` open at once (httpx's ``pool`` timeout applies to the wait);
* bodies framed by ``Content-Length``, chunked encoding or the connection closing
  (:mod:`clova_core.http11`), streamed as they arrive (SSE);
* httpx's ``timeout`` extension (connect / read / write / pool) and httpx's exceptions
  (``ConnectError``, ``ReadTimeout``, ``RemoteProtocolError`` ...), so retries, error
  mapping and ``httpx-sse`` above are unchanged;
* an idle connection the server closed (or sent stray bytes on) is dropped, not reused;
* while a test tool has patched httpx's own transport (vcrpy cassettes, pytest-httpx,
  respx), requests go through httpx's transport so that the tool records or mocks them.

This module holds the sync transport; :mod:`clova_core.keepalive_async` its asyncio twin.

The package's clients use them unless the environment configures a proxy
(:func:`proxy_configured`): httpx's own transport then routes through it. A caller's
``http_client`` is never touched.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from typing import BinaryIO

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


class _Connection:
    __slots__ = ("reader", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader: BinaryIO = sock.makefile("rb")

    def is_stale(self) -> bool:
        """Readable while idle: the server closed it or sent something unasked for."""
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            return True
        return readable(self.sock)

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


class KeepAliveTransport(httpx.BaseTransport):
    """A thread-safe sync transport (module docstring)."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        max_idle_per_origin: int = DEFAULT_MAX_IDLE_PER_ORIGIN,
    ) -> None:
        self._ssl = ssl_context
        self._slots = threading.BoundedSemaphore(max_connections)
        self._max_idle = max_idle_per_origin
        self._idle: dict[Origin, list[_Connection]] = {}
        self._lock = threading.Lock()
        self._httpx_transport: httpx.HTTPTransport | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if httpx_transport_replaced(asynchronous=False):
            return self._recordable().handle_request(request)
        origin = origin_of(request)
        timeouts = timeouts_of(request)
        pool_timeout = timeouts.get("pool")
        if not self._slots.acquire(timeout=pool_timeout):
            raise httpx.PoolTimeout("No connection free within the pool timeout", request=request)
        connection: _Connection | None = None
        try:
            connection = self._checkout(origin, timeouts, request)
            payload = request_head(request, request.read())
            connection.sock.settimeout(timeouts.get("write"))
            try:
                connection.sock.sendall(payload)
            except TimeoutError as exc:
                raise httpx.WriteTimeout(str(exc) or "write timed out", request=request) from exc
            except OSError as exc:
                raise httpx.WriteError(str(exc), request=request) from exc
            connection.sock.settimeout(timeouts.get("read"))
            head = self._read_head(connection.reader, request)
        except BaseException:
            if connection is not None:
                connection.close()
            self._slots.release()
            raise
        return to_response(
            head, _SyncBody(self, origin=origin, connection=connection, head=head, request=request)
        )

    def _checkout(
        self, origin: Origin, timeouts: dict[str, float | None], request: httpx.Request
    ) -> _Connection:
        with self._lock:
            idle = self._idle.get(origin, [])
            while idle:
                connection = idle.pop()
                if not connection.is_stale():
                    return connection
                connection.close()
        scheme, host, port = origin
        try:
            sock = socket.create_connection((host, port), timeout=timeouts.get("connect"))
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc) or "connect timed out", request=request) from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                sock = self._ssl.wrap_socket(sock, server_hostname=host)
        except TimeoutError as exc:
            sock.close()
            raise httpx.ConnectTimeout(
                str(exc) or "TLS handshake timed out", request=request
            ) from exc
        except OSError as exc:
            sock.close()
            raise httpx.ConnectError(str(exc), request=request) from exc
        logger.debug("Connected to %s:%d (%s)", host, port, scheme)
        return _Connection(sock)

    @staticmethod
    def _read_head(reader: BinaryIO, request: httpx.Request) -> ResponseHead:
        while True:
            lines: list[bytes] = []
            size = 0
            try:
                while True:
                    line = reader.readline(MAX_HEAD_BYTES + 1)
                    if not line:
                        raise no_response(request) if not lines else incomplete_body(request)
                    size += len(line)
                    if size > MAX_HEAD_BYTES:
                        raise protocol_error("Response head too large", request)
                    if line in (b"\r\n", b"\n"):
                        break
                    lines.append(line.rstrip(b"\r\n"))
            except TimeoutError as exc:
                raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from exc
            except OSError as exc:
                raise httpx.ReadError(str(exc), request=request) from exc
            head = parse_head(b"\r\n".join(lines), request.method, request)
            if not 100 <= head.status < 200:
                return head
            if head.status == 101:
                raise protocol_error("Unexpected 101 Switching Protocols", request)

    def release(self, origin: Origin, connection: _Connection, reusable: bool) -> None:
        """Back to the idle pool (a body read to its end on a keep-alive reply) or closed."""
        kept = False
        if reusable:
            with self._lock:
                idle = self._idle.setdefault(origin, [])
                if len(idle) < self._max_idle:
                    idle.append(connection)
                    kept = True
        if not kept:
            connection.close()
        self._slots.release()

    def _recordable(self) -> httpx.HTTPTransport:
        """httpx's own transport, where a recorder or mock patched in sees the request
        (:func:`~clova_core.http11.httpx_transport_replaced`)."""
        with self._lock:
            if self._httpx_transport is None:
                self._httpx_transport = httpx.HTTPTransport(verify=self._ssl)
            return self._httpx_transport

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
            fallback, self._httpx_transport = self._httpx_transport, None
        for connections in idle.values():
            for connection in connections:
                connection.close()
        if fallback is not None:
            fallback.close()


class _SyncBody(httpx.SyncByteStream):
    def __init__(
        self,
        transport: KeepAliveTransport,
        *,
        origin: Origin,
        connection: _Connection,
        head: ResponseHead,
        request: httpx.Request,
    ) -> None:
        self._transport = transport
        self._origin = origin
        self._connection = connection
        self._head = head
        self._request = request
        self._complete = False
        self._released = False

    def __iter__(self) -> Iterator[bytes]:
        reader, request = self._connection.reader, self._request
        try:
            if self._head.framing == "length":
                remaining = self._head.length
                while remaining:
                    data = reader.read1(min(remaining, READ_CHUNK))  # type: ignore[attr-defined]
                    if not data:
                        raise incomplete_body(request)
                    remaining -= len(data)
                    yield data
            elif self._head.framing == "chunked":
                while size := chunk_size(reader.readline(MAX_HEAD_BYTES), request):
                    data = reader.read(size + 2)
                    if len(data) != size + 2 or not data.endswith(b"\r\n"):
                        raise incomplete_body(request)
                    yield data[:-2]
                while reader.readline(MAX_HEAD_BYTES) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
            else:
                while data := reader.read1(READ_CHUNK):  # type: ignore[attr-defined]
                    yield data
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from exc
        except OSError as exc:
            raise httpx.ReadError(str(exc), request=request) from exc
        self._complete = True

    def close(self) -> None:
        if not self._released:
            self._released = True
            reusable = self._complete and self._head.keep_alive
            self._transport.release(self._origin, self._connection, reusable)
