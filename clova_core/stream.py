"""Chat streams: :class:`ChatStream` (sync) and :class:`AsyncChatStream` (async).

A stream connects lazily, on the first ``next()``; the request was validated when it was
created (``stream_chat``). Bytes are framed by httpx-sse and given meaning by
:class:`~clova_core.streaming.StreamDecoder`; this module is only the I/O loop, written
twice in parallel (clova-api.md 2.4, 3.8; design.md 2):

* it yields :class:`~clova_core.types.TokenEvent` s as they arrive and finally one
  :class:`~clova_core.types.ResultEvent`, then closes the connection;
* before the first event reaches the caller, connection errors, timeouts and retryable
  statuses (also a retryable ``error`` event) are retried with the client's policy and the
  same request id;
* once an event was yielded nothing is replayed: a failure raises
  :class:`~clova_core.errors.StreamError` carrying the partial content;
* the response is closed on exhaustion, on error, on ``close()`` / ``aclose()``, on leaving
  the ``with`` block and when the generator is finalised.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Generator
from contextlib import aclosing
from types import TracebackType

import httpx
from httpx_sse import EventSource

from clova_core.errors import APIError, APIStatusError, StreamError
from clova_core.request import WireRequest
from clova_core.streaming import StreamDecoder
from clova_core.transport import BaseClient, is_event_stream, stream_reply_error, transport_error
from clova_core.types import ChatResult, ResultEvent, StreamEvent


class _StreamState:
    """What both stream classes hold: the request, its id, the decoder and the result."""

    def __init__(
        self, *, client: BaseClient, wire: WireRequest, model: str, request_id: str
    ) -> None:
        self._client = client
        self._wire = wire
        self._model = model
        self.request_id = request_id
        """The ``X-NCP-CLOVASTUDIO-REQUEST-ID`` sent (the same on every retry)."""
        self.result: ChatResult | None = None
        """The final :class:`ChatResult` once the ``result`` event arrived."""
        self.decoder = self._new_decoder()

    def _new_decoder(self) -> StreamDecoder:
        return StreamDecoder(
            api_version=self._wire.api_version, model=self._model, request_id=self.request_id
        )

    def _seen(self, event: StreamEvent) -> StreamEvent:
        if isinstance(event, ResultEvent):
            self.result = event.result
        return event

    def _failure(
        self, exc: httpx.TransportError | APIStatusError | StreamError, delivered: bool
    ) -> APIError:
        """The error to retry on or raise: mid-stream failures keep the partial content."""
        if isinstance(exc, httpx.TransportError):
            if delivered:
                error: APIError = self.decoder.cut(
                    f"connection lost mid-stream ({type(exc).__name__})"
                )
            else:
                error = transport_error(exc, self.request_id)
            error.__cause__ = exc
            return error
        return exc

    def _retry_delay(self, error: APIError, attempt: int, delivered: bool) -> float | None:
        if delivered:
            return None
        return self._client.retry_delay(error, attempt=attempt, path=self._wire.path)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self._model!r}, request_id={self.request_id!r})"


class ChatStream(_StreamState):
    """An iterator of :data:`~clova_core.types.StreamEvent` and a context manager."""

    def __init__(
        self,
        *,
        client: BaseClient,
        http_client: httpx.Client,
        wire: WireRequest,
        model: str,
        request_id: str,
    ) -> None:
        super().__init__(client=client, wire=wire, model=model, request_id=request_id)
        self._http = http_client
        self._events = self._iterate()

    def __iter__(self) -> ChatStream:
        return self

    def __next__(self) -> StreamEvent:
        return next(self._events)

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop reading and close the connection (idempotent)."""
        self._events.close()

    def _iterate(self) -> Generator[StreamEvent, None, None]:
        attempt, delivered = 0, False
        while True:
            self.decoder = self._new_decoder()
            request = self._client.build_request(
                self._http,
                path=self._wire.path,
                body=self._wire.body,
                request_id=self.request_id,
                stream=True,
            )
            self._client.wait_for_quota(self._wire)
            try:
                response = self._http.send(request, stream=True)
                try:
                    if not is_event_stream(response):
                        raise stream_reply_error(response, response.read(), self.request_id)
                    for sse in EventSource(response).iter_sse():
                        event = self.decoder.decode(sse.event, sse.data, sse.id or None)
                        if event is not None:
                            delivered = True
                            yield self._seen(event)
                        if self.decoder.finished:
                            return
                    self.decoder.finish()
                    return
                finally:
                    response.close()
            except (httpx.TransportError, APIStatusError, StreamError) as exc:
                error = self._failure(exc, delivered)
            delay = self._retry_delay(error, attempt, delivered)
            if delay is None:
                raise error
            time.sleep(delay)
            attempt += 1


class AsyncChatStream(_StreamState):
    """An async iterator of :data:`~clova_core.types.StreamEvent` and an async context
    manager. Prefer ``async with`` (or ``aclose()``) when leaving early: an abandoned async
    generator is only finalised when the event loop gets to it."""

    def __init__(
        self,
        *,
        client: BaseClient,
        http_client: httpx.AsyncClient,
        wire: WireRequest,
        model: str,
        request_id: str,
    ) -> None:
        super().__init__(client=client, wire=wire, model=model, request_id=request_id)
        self._http = http_client
        self._events = self._iterate()

    def __aiter__(self) -> AsyncChatStream:
        return self

    async def __anext__(self) -> StreamEvent:
        return await self._events.__anext__()

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop reading and close the connection (idempotent)."""
        await self._events.aclose()

    async def _iterate(self) -> AsyncGenerator[StreamEvent, None]:
        attempt, delivered = 0, False
        while True:
            self.decoder = self._new_decoder()
            request = self._client.build_request(
                self._http,
                path=self._wire.path,
                body=self._wire.body,
                request_id=self.request_id,
                stream=True,
            )
            await self._client.await_quota(self._wire)
            try:
                response = await self._http.send(request, stream=True)
                try:
                    if not is_event_stream(response):
                        raise stream_reply_error(response, await response.aread(), self.request_id)
                    async with aclosing(EventSource(response).aiter_sse()) as events:
                        async for sse in events:
                            event = self.decoder.decode(sse.event, sse.data, sse.id or None)
                            if event is not None:
                                delivered = True
                                yield self._seen(event)
                            if self.decoder.finished:
                                return
                    self.decoder.finish()
                    return
                finally:
                    await response.aclose()
            except (httpx.TransportError, APIStatusError, StreamError) as exc:
                error = self._failure(exc, delivered)
            delay = self._retry_delay(error, attempt, delivered)
            if delay is None:
                raise error
            await asyncio.sleep(delay)
            attempt += 1
