"""Chat streams: :class:`ChatStream` (sync) and :class:`AsyncChatStream` (async).

A stream connects lazily, on the first ``next()``; the request was validated when it was
created (``stream_chat``). Bytes are framed by httpx-sse and given meaning by
:class:`~clova_core.sse_events.StreamDecoder`; this module is only the I/O loop, written
twice in parallel:

* it yields :class:`~clova_core.types.TokenEvent` s as they arrive and finally one
  :class:`~clova_core.types.ResultEvent`, then closes the connection;
* before the first event reaches the caller, connection errors, timeouts and retryable
  statuses (also a retryable ``error`` event) are retried with the client's policy and the
  same request id;
* once an event was yielded nothing is replayed: a failure (a lost connection, an ``error``
  event, an unreadable event, the end of the bytes before the ``result``) raises
  :class:`~clova_core.errors.StreamError` carrying the partial content;
* a stream that ends before any event was sent is a connection failure (retried);
* the response is closed on exhaustion, on error, on ``close()`` / ``aclose()``, on leaving
  the ``with`` block and when the generator is finalised;
* a read timeout before the first event is not retried (the server may be generating, and
  billing, the answer): :class:`~clova_core.transport_errors.ResponseTimeoutError`;
* the bytes are UTF-8 whatever the ``charset`` says, and one leading byte order mark is
  dropped (the SSE spec's decoding rule); ``Content-Type`` is matched case-insensitively;
* a rate limiter that listens (:class:`~clova_core.quota.QuotaFeedback`) is told once per
  attempt how it ended: at the first event, or at the failure.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Generator
from contextlib import aclosing, closing
from types import TracebackType

import httpx
from httpx_sse import EventSource

from clova_core.client_base import (
    EVENT_STREAM_MEDIA_TYPE,
    BaseClient,
    is_event_stream,
    stream_reply_error,
    transport_error,
)
from clova_core.errors import APIConnectionError, APIError, APIResponseError
from clova_core.request import WireRequest
from clova_core.sse_events import StreamDecoder
from clova_core.transport_errors import client_closed_error
from clova_core.types import ChatResult, ResultEvent, StreamEvent


class _StreamState:
    """What both stream classes hold (the request, its id, the decoder and the result) and
    their two I/O loops. The loops are generators over this object, never over the stream
    object itself: a stream dropped without ``close()`` has no reference cycle, so it is
    finalised (and its connection closed) at once rather than at the next garbage
    collection."""

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
        self._reported = False

    def _new_decoder(self) -> StreamDecoder:
        return StreamDecoder(
            api_version=self._wire.api_version, model=self._model, request_id=self.request_id
        )

    def _seen(self, event: StreamEvent) -> StreamEvent:
        if isinstance(event, ResultEvent):
            self.result = event.result
        return event

    def _failure(self, exc: httpx.RequestError | APIError, delivered: bool) -> APIError:
        """The error to retry on or raise. Once something was delivered, every failure is a
        :class:`StreamError` keeping the partial content (a lost connection, an unreadable
        event); before that, the error of the reply as it is (retried when retryable).
        An httpx error is chained without its request or traceback (they hold the key)."""
        if isinstance(exc, httpx.RequestError):
            error: APIError = transport_error(exc, self.request_id)
            if delivered:
                cause = error.__cause__
                error = self.decoder.cut(f"connection lost mid-stream ({type(exc).__name__})")
                error.__cause__ = cause
            else:
                self._report(error)
            return error
        if not delivered:
            self._report(exc)
        if delivered and isinstance(exc, APIResponseError):
            error = self.decoder.cut(f"unreadable event mid-stream ({exc.message})")
            error.__cause__ = exc
            return error
        return exc

    def _ended_early(self, delivered: bool) -> None:
        """At the end of the bytes: fine after a result; a :class:`StreamError` with the
        partial content after other events; a retryable connection error when nothing at
        all reached the caller (a proxy or server closed the stream before answering)."""
        if delivered:
            self.decoder.finish()
            return
        raise APIConnectionError(
            "CLOVA Studio closed the stream before sending any event. Check that base_url "
            "points at CLOVA Studio and that any proxy passes text/event-stream through, or "
            "raise max_retries.",
            request_id=self.request_id,
        )

    def _report(self, outcome: APIError | None) -> None:
        """Tell the client's limiter how this attempt ended (once per attempt)."""
        if self._reported:
            return
        self._reported = True
        if outcome is None:
            self._client.report_attempt(status=200, retry_after=None)
        else:
            self._client.report_error(outcome)

    def _open(self, response: httpx.Response) -> EventSource:
        """httpx-sse's reader over ``response``, decoding UTF-8 with its optional BOM."""
        response.encoding = "utf-8-sig"
        media_type = response.headers.get("content-type", "").partition(";")[0].strip()
        if media_type != EVENT_STREAM_MEDIA_TYPE:  # e.g. Text/Event-Stream: same media type
            response.headers["content-type"] = EVENT_STREAM_MEDIA_TYPE
        return EventSource(response)

    def _retry_delay(self, error: APIError, attempt: int, delivered: bool) -> float | None:
        if delivered:
            return None
        return self._client.retry_delay(error, attempt=attempt, path=self._wire.path)

    def describe(self) -> str:
        """``model=..., request_id=...`` for the streams' reprs."""
        return f"model={self._model!r}, request_id={self.request_id!r}"

    def iterate(self, http: httpx.Client) -> Generator[StreamEvent, None, None]:
        """The sync I/O loop (module docstring). The request and response live only in
        :meth:`_events`' frame, never in the traceback of the error raised here."""
        attempt, delivered = 0, False
        while True:
            self.decoder = self._new_decoder()
            self._client.wait_for_quota(self._wire)
            self._reported = False
            try:
                with closing(self._events(http)) as events:
                    for event in events:
                        delivered = True
                        self._report(None)
                        yield self._seen(event)
                return
            except (httpx.RequestError, APIError) as exc:
                error = self._failure(exc, delivered)
            delay = self._retry_delay(error, attempt, delivered)
            if delay is None:
                raise error
            time.sleep(delay)
            attempt += 1

    def _events(self, http: httpx.Client) -> Generator[StreamEvent, None, None]:
        """One attempt's events, until the ``result`` or the end of the bytes."""
        if self._client.closed or http.is_closed:
            raise client_closed_error(self.request_id)
        request = self._client.build_request(
            http,
            path=self._wire.path,
            body=self._wire.body,
            request_id=self.request_id,
            stream=True,
        )
        response, yielded = http.send(request, stream=True), False
        try:
            if not is_event_stream(response):
                raise stream_reply_error(response, response.read(), self.request_id)
            for sse in self._open(response).iter_sse():
                event = self.decoder.decode(sse.event, sse.data, sse.id or None)
                if event is not None:
                    yielded = True
                    yield event
                if self.decoder.finished:
                    return
            self._ended_early(yielded)
        finally:
            response.close()

    async def aiterate(self, http: httpx.AsyncClient) -> AsyncGenerator[StreamEvent, None]:
        """The async I/O loop, line for line the sync one."""
        attempt, delivered = 0, False
        while True:
            self.decoder = self._new_decoder()
            await self._client.await_quota(self._wire)
            self._reported = False
            try:
                async with aclosing(self._aevents(http)) as events:
                    async for event in events:
                        delivered = True
                        self._report(None)
                        yield self._seen(event)
                return
            except (httpx.RequestError, APIError) as exc:
                error = self._failure(exc, delivered)
            delay = self._retry_delay(error, attempt, delivered)
            if delay is None:
                raise error
            await asyncio.sleep(delay)
            attempt += 1

    async def _aevents(self, http: httpx.AsyncClient) -> AsyncGenerator[StreamEvent, None]:
        """One attempt's events; see :meth:`_events`."""
        if self._client.closed or http.is_closed:
            raise client_closed_error(self.request_id)
        request = self._client.build_request(
            http,
            path=self._wire.path,
            body=self._wire.body,
            request_id=self.request_id,
            stream=True,
        )
        response, yielded = await http.send(request, stream=True), False
        try:
            if not is_event_stream(response):
                raise stream_reply_error(response, await response.aread(), self.request_id)
            async with aclosing(self._open(response).aiter_sse()) as sse_events:
                async for sse in sse_events:
                    event = self.decoder.decode(sse.event, sse.data, sse.id or None)
                    if event is not None:
                        yielded = True
                        yield event
                    if self.decoder.finished:
                        return
            self._ended_early(yielded)
        finally:
            await response.aclose()


class ChatStream:
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
        self._state = _StreamState(client=client, wire=wire, model=model, request_id=request_id)
        self._events = self._state.iterate(http_client)

    @property
    def request_id(self) -> str:
        """The ``X-NCP-CLOVASTUDIO-REQUEST-ID`` sent (the same on every retry)."""
        return self._state.request_id

    @property
    def result(self) -> ChatResult | None:
        """The final :class:`ChatResult` once the ``result`` event arrived."""
        return self._state.result

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._state.describe()})"

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


class AsyncChatStream:
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
        self._state = _StreamState(client=client, wire=wire, model=model, request_id=request_id)
        self._events = self._state.aiterate(http_client)

    @property
    def request_id(self) -> str:
        """The ``X-NCP-CLOVASTUDIO-REQUEST-ID`` sent (the same on every retry)."""
        return self._state.request_id

    @property
    def result(self) -> ChatResult | None:
        """The final :class:`ChatResult` once the ``result`` event arrived."""
        return self._state.result

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._state.describe()})"

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
