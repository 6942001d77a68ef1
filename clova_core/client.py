"""``ClovaClient`` and ``AsyncClovaClient``: the only place in the package that does HTTP.

Both share :class:`~clova_core.client_base.BaseClient` (configuration, headers, reply handling,
retry policy); each has one short request loop (``_post``) and the same public methods:

* ``chat`` -> :class:`~clova_core.types.ChatResult`
  (``/v1|v3/chat-completions/{model}``, tuned ``/v2|v3/tasks/{id}/chat-completions``);
* ``stream_chat`` -> :class:`~clova_core.chat_stream.ChatStream` / ``AsyncChatStream`` (SSE);
* ``embed`` -> :class:`~clova_core.types.EmbeddingResult` (``/v1/api-tools/embedding/...``);
* ``count_chat_tokens`` -> :class:`~clova_core.types.ChatTokenCount`
  (``/v1|v3/api-tools/chat-tokenize/{model}``);
* ``count_embedding_tokens`` -> ``int`` (``/v1/api-tools/embedding/v2/tokenize``).

Requests are validated by :mod:`clova_core.request` when a method is called, before any
network (also for ``stream_chat``). Every call sends one ``X-NCP-CLOVASTUDIO-REQUEST-ID``
(given or generated), the same on every retry, and every result and every
:class:`~clova_core.errors.APIError` carries it.

HTTP is httpx's: by default a plain :class:`httpx.Client` / :class:`httpx.AsyncClient` (which
honour the proxy and ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` variables exactly as httpx does),
with one TLS context shared by every client of the process. For async bulk work, pass
``http_client=DefaultAioHttpClient()`` (:mod:`clova_core.aiohttp_client`, the ``[aiohttp]``
extra). What is retried and what ``timeout`` / ``total_timeout`` bound is described in
:mod:`clova_core.client_base` and :mod:`clova_core.transport_errors`.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Awaitable, Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx
from pydantic import SecretStr

from clova_core.chat_stream import AsyncChatStream, ChatStream
from clova_core.client_base import (
    BaseClient,
    default_ssl_context,
    reply_result,
    resolve_request_id,
    transport_error,
)
from clova_core.constants import DEFAULT_MAX_RETRIES
from clova_core.errors import APIError
from clova_core.models import DEFAULT_EMBEDDING_MODEL, ChatModelSpec, get_embedding_model
from clova_core.open_sockets import OpenSockets
from clova_core.quota import QuotaLimiter
from clova_core.request import (
    WireRequest,
    prepare_chat,
    prepare_chat_tokenize,
    prepare_embedding,
    prepare_embedding_tokenize,
    resolve_chat_spec,
)
from clova_core.response import (
    parse_chat_result,
    parse_chat_token_count,
    parse_embedding,
    parse_embedding_token_count,
)
from clova_core.retry import RetryPolicy
from clova_core.toolkit_client import AsyncToolkitMethods, ToolkitMethods
from clova_core.transport_errors import client_closed_error, deadline_error
from clova_core.types import ChatRequest, ChatResult, ChatTokenCount, EmbeddingResult

__all__ = ["AsyncClovaClient", "ClovaClient"]

logger = logging.getLogger("clova_core")
_T = TypeVar("_T")


def _own_sync_client() -> httpx.Client:
    """The httpx client we build (and close): httpx's own transport, the shared TLS context."""
    return httpx.Client(verify=default_ssl_context())


def _own_async_client() -> httpx.AsyncClient:
    """The async twin of :func:`_own_sync_client`."""
    return httpx.AsyncClient(verify=default_ssl_context())


def _read_before(response: httpx.Response, deadline: float | None) -> bytes:
    """The body of a streamed ``response``, or ``TimeoutError`` once the monotonic
    ``deadline`` passed (checked after every chunk, so a trickle cannot stretch it)."""
    if deadline is None:
        return response.read()
    chunks = []
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise TimeoutError
    return b"".join(chunks)


async def _within(seconds: float | None, exchange: Awaitable[_T]) -> _T:
    """``await exchange``, cancelled with ``TimeoutError`` after ``seconds`` (None: no limit)."""
    if seconds is None:
        return await exchange
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await exchange
    return await asyncio.wait_for(exchange, seconds)  # pragma: no cover - Python 3.10


class ClovaClient(ToolkitMethods, BaseClient):
    """Synchronous CLOVA Studio client. Use as a context manager or call :meth:`close`.

    ``api_key`` defaults to ``CLOVASTUDIO_API_KEY``; ``apigw_api_key`` (or
    ``NCP_APIGW_API_KEY`` next to a non-``nv-`` key) switches to legacy two-header auth;
    ``base_url`` defaults to ``CLOVASTUDIO_API_BASE_URL`` or the public host. A caller's
    ``http_client`` is used as is and never closed by us. ``retry_policy`` tunes backoff.
    ``rate_limiter`` (any :class:`~clova_core.quota.QuotaLimiter`, such as a shareable
    :class:`~clova_core.ratelimit.RateLimiter`) holds chat and embedding calls under a QPM /
    TPM quota; one that implements :class:`~clova_core.quota.QuotaFeedback` is told how every
    attempt ended (its HTTP status and ``Retry-After``), streams included.

    ``timeout`` (seconds, or an :class:`httpx.Timeout`; default 60 s, 10 s to connect) bounds
    each network operation: connecting, each read, each write, waiting for a pooled
    connection. ``total_timeout`` bounds one whole attempt of a call that is not a stream
    (default: the read timeout), so a server that trickles bytes cannot stretch it; streams
    have no total bound. Each must be above 0; ``None`` means no limit. API keys are stripped
    of surrounding whitespace (a key read from a file keeps its newline); a key with a line
    break or control character inside is refused.
    """

    def __init__(
        self,
        *,
        api_key: str | SecretStr | None = None,
        apigw_api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
        default_headers: Mapping[str, str] | None = None,
        retry_policy: RetryPolicy | None = None,
        rate_limiter: QuotaLimiter | None = None,
        total_timeout: float | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            apigw_api_key=apigw_api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            retry_policy=retry_policy,
            rate_limiter=rate_limiter,
            owns_http_client=http_client is None,
            total_timeout=total_timeout,
        )
        self._owns_http_client = http_client is None
        self._http = http_client if http_client is not None else _own_sync_client()
        self._sockets = OpenSockets()
        if self._owns_http_client:
            self._request_extensions = {"trace": self._sockets.trace}

    def chat(
        self,
        request: ChatRequest,
        *,
        spec: ChatModelSpec | None = None,
        request_id: str | None = None,
        exact_token_check: bool = False,
    ) -> ChatResult:
        """One chat completion. ``exact_token_check`` first asks CLOVA's
        token calculator and checks the context limits exactly (6.1, 6.2)."""
        spec, wire, rid = self._chat_wire(request, spec, request_id, exact_token_check)
        result = self._post(wire, rid)
        return parse_chat_result(
            result, api_version=wire.api_version, model=spec.name, request_id=rid
        )

    def stream_chat(
        self,
        request: ChatRequest,
        *,
        spec: ChatModelSpec | None = None,
        request_id: str | None = None,
        exact_token_check: bool = False,
    ) -> ChatStream:
        """A streamed chat completion; validated now, connected on the first ``next()``."""
        spec, wire, rid = self._chat_wire(request, spec, request_id, exact_token_check)
        return ChatStream(
            client=self, http_client=self._http, wire=wire, model=spec.name, request_id=rid
        )

    def embed(
        self, text: str, *, model: str = DEFAULT_EMBEDDING_MODEL, request_id: str | None = None
    ) -> EmbeddingResult:
        """One embedding vector (one text per request)."""
        embedding_spec = get_embedding_model(model)
        wire, rid = prepare_embedding(text, embedding_spec), resolve_request_id(request_id)
        return parse_embedding(self._post(wire, rid), model=embedding_spec.name, request_id=rid)

    def count_chat_tokens(
        self,
        request: ChatRequest,
        *,
        spec: ChatModelSpec | None = None,
        request_id: str | None = None,
    ) -> ChatTokenCount:
        """CLOVA's exact token count of a chat request."""
        wire = prepare_chat_tokenize(request, resolve_chat_spec(request, spec))
        rid = resolve_request_id(request_id)
        result = self._post(wire, rid)
        return parse_chat_token_count(result, api_version=wire.api_version, request_id=rid)

    def count_embedding_tokens(self, text: str, *, request_id: str | None = None) -> int:
        """CLOVA's token count of a text for embedding v2."""
        wire, rid = prepare_embedding_tokenize(text), resolve_request_id(request_id)
        return parse_embedding_token_count(self._post(wire, rid), request_id=rid)

    def close(self) -> None:
        """Close the HTTP client if this client created it, also the connections of calls
        still in flight in other threads (they fail with a connection error)."""
        if self._owns_http_client:
            self.closed = True
            self._sockets.shutdown()  # first: closing the pool detaches the sockets
            self._http.close()
            self._sockets.shutdown()  # any opened by a retry that raced the close

    def __enter__(self) -> ClovaClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _chat_wire(
        self,
        request: ChatRequest,
        spec: ChatModelSpec | None,
        request_id: str | None,
        exact_token_check: bool,
    ) -> tuple[ChatModelSpec, WireRequest, str]:
        spec = resolve_chat_spec(request, spec)
        wire, rid = prepare_chat(request, spec), resolve_request_id(request_id)
        if exact_token_check:
            count = self.count_chat_tokens(request, spec=spec, request_id=rid)
            wire = prepare_chat(request, spec, input_tokens=count.total)
        return spec, wire, rid

    def _post(self, wire: WireRequest, request_id: str) -> Mapping[str, Any]:
        attempt = 0
        while True:
            logger.debug("POST %s request_id=%s attempt=%d", wire.path, request_id, attempt)
            self.wait_for_quota(wire)
            try:
                return self._attempt(wire, request_id)
            except APIError as exc:
                error = exc
            self.report_error(error)
            delay = self.retry_delay(error, attempt=attempt, path=wire.path)
            if delay is None:
                raise error
            time.sleep(delay)
            attempt += 1

    def _attempt(self, wire: WireRequest, request_id: str) -> Mapping[str, Any]:
        """One try: send, read the reply within the attempt's deadline, map any failure.
        The request (and its credential headers) lives only in :meth:`_exchange`'s frame,
        never in the traceback of the error raised here."""
        seconds = self.attempt_deadline(self._http)
        error: APIError
        if self.closed or self._http.is_closed:
            raise client_closed_error(request_id)
        try:
            response, content = self._exchange(wire, request_id, seconds)
        except httpx.RequestError as exc:
            error = transport_error(exc, request_id)
        except RuntimeError:  # httpx: "the client has been closed", in a race with close()
            if not self._http.is_closed:
                raise
            error = client_closed_error(request_id)
        except TimeoutError:
            error = deadline_error(seconds or 0.0, request_id)
        else:
            result = reply_result(response, content, request_id)
            self.report_attempt(status=response.status_code, retry_after=None)
            return result
        raise error  # outside the except blocks: no __context__ holding the request

    def _exchange(
        self, wire: WireRequest, request_id: str, seconds: float | None
    ) -> tuple[httpx.Response, bytes]:
        deadline = None if seconds is None else time.monotonic() + seconds
        request = self.build_request(
            self._http, path=wire.path, body=wire.body, request_id=request_id, stream=False
        )
        response = self._http.send(request, stream=True)
        try:
            return response, _read_before(response, deadline)
        finally:
            response.close()


class AsyncClovaClient(AsyncToolkitMethods, BaseClient):
    """Asynchronous twin of :class:`ClovaClient`: the same methods as coroutines,
    ``stream_chat`` returns an :class:`~clova_core.chat_stream.AsyncChatStream`; ``async with``
    or :meth:`aclose`."""

    def __init__(
        self,
        *,
        api_key: str | SecretStr | None = None,
        apigw_api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        default_headers: Mapping[str, str] | None = None,
        retry_policy: RetryPolicy | None = None,
        rate_limiter: QuotaLimiter | None = None,
        total_timeout: float | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            apigw_api_key=apigw_api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            retry_policy=retry_policy,
            rate_limiter=rate_limiter,
            owns_http_client=http_client is None,
            total_timeout=total_timeout,
        )
        self._owns_http_client = http_client is None
        self._http = http_client if http_client is not None else _own_async_client()

    async def chat(
        self,
        request: ChatRequest,
        *,
        spec: ChatModelSpec | None = None,
        request_id: str | None = None,
        exact_token_check: bool = False,
    ) -> ChatResult:
        """One chat completion; see :meth:`ClovaClient.chat`."""
        spec, wire, rid = await self._chat_wire(request, spec, request_id, exact_token_check)
        result = await self._post(wire, rid)
        return parse_chat_result(
            result, api_version=wire.api_version, model=spec.name, request_id=rid
        )

    async def stream_chat(
        self,
        request: ChatRequest,
        *,
        spec: ChatModelSpec | None = None,
        request_id: str | None = None,
        exact_token_check: bool = False,
    ) -> AsyncChatStream:
        """A streamed chat completion; validated now, connected on the first ``anext()``."""
        spec, wire, rid = await self._chat_wire(request, spec, request_id, exact_token_check)
        return AsyncChatStream(
            client=self, http_client=self._http, wire=wire, model=spec.name, request_id=rid
        )

    async def embed(
        self, text: str, *, model: str = DEFAULT_EMBEDDING_MODEL, request_id: str | None = None
    ) -> EmbeddingResult:
        """One embedding vector; see :meth:`ClovaClient.embed`."""
        embedding_spec = get_embedding_model(model)
        wire, rid = prepare_embedding(text, embedding_spec), resolve_request_id(request_id)
        result = await self._post(wire, rid)
        return parse_embedding(result, model=embedding_spec.name, request_id=rid)

    async def count_chat_tokens(
        self,
        request: ChatRequest,
        *,
        spec: ChatModelSpec | None = None,
        request_id: str | None = None,
    ) -> ChatTokenCount:
        """CLOVA's exact token count; see :meth:`ClovaClient.count_chat_tokens`."""
        wire = prepare_chat_tokenize(request, resolve_chat_spec(request, spec))
        rid = resolve_request_id(request_id)
        result = await self._post(wire, rid)
        return parse_chat_token_count(result, api_version=wire.api_version, request_id=rid)

    async def count_embedding_tokens(self, text: str, *, request_id: str | None = None) -> int:
        """CLOVA's token count of a text for embedding v2."""
        wire, rid = prepare_embedding_tokenize(text), resolve_request_id(request_id)
        return parse_embedding_token_count(await self._post(wire, rid), request_id=rid)

    async def aclose(self) -> None:
        """Close the HTTP client if this client created it."""
        if self._owns_http_client:
            self.closed = True
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClovaClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _chat_wire(
        self,
        request: ChatRequest,
        spec: ChatModelSpec | None,
        request_id: str | None,
        exact_token_check: bool,
    ) -> tuple[ChatModelSpec, WireRequest, str]:
        spec = resolve_chat_spec(request, spec)
        wire, rid = prepare_chat(request, spec), resolve_request_id(request_id)
        if exact_token_check:
            count = await self.count_chat_tokens(request, spec=spec, request_id=rid)
            wire = prepare_chat(request, spec, input_tokens=count.total)
        return spec, wire, rid

    async def _post(self, wire: WireRequest, request_id: str) -> Mapping[str, Any]:
        attempt = 0
        while True:
            logger.debug("POST %s request_id=%s attempt=%d", wire.path, request_id, attempt)
            await self.await_quota(wire)
            try:
                return await self._attempt(wire, request_id)
            except APIError as exc:
                error = exc
            self.report_error(error)
            delay = self.retry_delay(error, attempt=attempt, path=wire.path)
            if delay is None:
                raise error
            await asyncio.sleep(delay)
            attempt += 1

    async def _attempt(self, wire: WireRequest, request_id: str) -> Mapping[str, Any]:
        """One try; see :meth:`ClovaClient._attempt`."""
        seconds = self.attempt_deadline(self._http)
        error: APIError
        if self.closed or self._http.is_closed:
            raise client_closed_error(request_id)
        try:
            response, content = await _within(seconds, self._exchange(wire, request_id))
        except httpx.RequestError as exc:
            error = transport_error(exc, request_id)
        except RuntimeError:  # httpx: "the client has been closed", in a race with aclose()
            if not self._http.is_closed:
                raise
            error = client_closed_error(request_id)
        except (TimeoutError, asyncio.TimeoutError):
            error = deadline_error(seconds or 0.0, request_id)
        else:
            result = reply_result(response, content, request_id)
            self.report_attempt(status=response.status_code, retry_after=None)
            return result
        raise error  # outside the except blocks: no __context__ holding the request

    async def _exchange(self, wire: WireRequest, request_id: str) -> tuple[httpx.Response, bytes]:
        request = self.build_request(
            self._http, path=wire.path, body=wire.body, request_id=request_id, stream=False
        )
        response = await self._http.send(request, stream=True)
        try:
            return response, await response.aread()
        finally:
            await response.aclose()
