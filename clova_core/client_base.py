"""What the sync and async clients share: configuration, headers, reply handling, retry policy.

Everything here is pure (no I/O): :class:`BaseClient` reads the environment once at
construction, checks it (a key or request id that would break an HTTP header, a malformed
base URL, a timeout that cannot work are all :class:`~clova_core.errors.ClovaError` s before
anything is sent), builds :class:`httpx.Request` objects, turns replies and transport failures
into the package's errors, and decides whether and how long to wait before a retry. The two
I/O loops in :mod:`clova_core.client` and :mod:`clova_core.chat_stream` are then short and
parallel, so sync and async cannot drift apart. HTTP itself (framing, TLS, proxies, pooling)
is httpx's: the package never writes or parses it.

Authentication: ``Authorization: Bearer <key>``; legacy keys (made before
2025-01) use ``X-NCP-CLOVASTUDIO-API-KEY`` plus the account's ``X-NCP-APIGW-API-KEY``. Keys
are :class:`pydantic.SecretStr` and only unwrapped into the outgoing headers.

Timeouts: ``timeout`` bounds each network operation as in httpx (connect, each read, each
write, the wait for a pooled connection). A call that is not a stream also has a deadline
per attempt, ``total_timeout`` (by default the read timeout), so a server that trickles its
reply cannot stretch one attempt much beyond it. A stream has no total deadline (a long
answer may stream for minutes); only the gap between its chunks is bounded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache
from importlib import metadata
from typing import Any

import httpx
from pydantic import SecretStr

from clova_core.client_config import (
    check_timeout,
    default_ssl_context,
    default_timeout,
    is_generation,
    new_request_id,
    nonempty_env,
    resolve_base_url,
    resolve_request_id,
    secret,
)
from clova_core.constants import (
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    ENV_API_KEY,
    ENV_APIGW_API_KEY,
    HEADER_AUTHORIZATION,
    HEADER_LEGACY_API_KEY,
    HEADER_LEGACY_APIGW_KEY,
    HEADER_REQUEST_ID,
    SECRET_HEADERS,
)
from clova_core.errors import (
    APIError,
    APIResponseError,
    APIStatusError,
    ClovaConfigurationError,
    error_from_response,
)
from clova_core.quota import QuotaFeedback, QuotaLimiter
from clova_core.request import WireRequest
from clova_core.request_json import encode_json_body
from clova_core.response import parse_envelope
from clova_core.retry import RetryPolicy, parse_retry_after, retry_delay
from clova_core.transport_errors import transport_error

__all__ = [
    "BaseClient",
    "default_ssl_context",
    "default_timeout",
    "new_request_id",
    "resolve_request_id",
    "transport_error",
]

logger = logging.getLogger("clova_core")

PACKAGE_NAME = "clova-integrations"
JSON_MEDIA_TYPE = "application/json"
EVENT_STREAM_MEDIA_TYPE = "text/event-stream"
LEGACY_KEY_PREFIX_BEARER = "nv-"
"""Console-issued Bearer keys start with ``nv-``."""


@lru_cache(maxsize=1)
def user_agent() -> str:
    """``clova-integrations/<version> httpx/<version>`` (read lazily, not at import time)."""
    try:
        version = metadata.version(PACKAGE_NAME)
    except metadata.PackageNotFoundError:
        version = "unknown"
    return f"{PACKAGE_NAME}/{version} httpx/{httpx.__version__}"


def status_error(response: httpx.Response, content: bytes, request_id: str) -> APIStatusError:
    """The typed error for a non-2xx reply, with its ``Retry-After``."""
    return error_from_response(
        response.status_code,
        content,
        request_id=request_id,
        retry_after=parse_retry_after(response.headers, status_code=response.status_code),
        path=response.request.url.path,
    )


def reply_result(response: httpx.Response, content: bytes, request_id: str) -> Mapping[str, Any]:
    """The ``result`` object of a complete reply, or the error it stands for."""
    if not response.is_success:
        raise status_error(response, content, request_id)
    return parse_envelope(
        content,
        http_status=response.status_code,
        request_id=request_id,
        retry_after=parse_retry_after(response.headers, status_code=response.status_code),
    )


def is_event_stream(response: httpx.Response) -> bool:
    """A 2xx reply with ``Content-Type: text/event-stream``; media types
    are case-insensitive (RFC 9110 8.3.1)."""
    media_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    return response.is_success and media_type == EVENT_STREAM_MEDIA_TYPE


def stream_reply_error(response: httpx.Response, content: bytes, request_id: str) -> APIError:
    """Why a reply to a stream request is not an event stream: an HTTP error, a failure
    code in a 200 JSON envelope, or a plain JSON answer (the legacy ``apigw`` host does not
    stream)."""
    if not response.is_success:
        return status_error(response, content, request_id)
    try:
        parse_envelope(
            content,
            http_status=response.status_code,
            request_id=request_id,
            retry_after=parse_retry_after(response.headers, status_code=response.status_code),
        )
    except APIError as error:
        return error
    content_type = response.headers.get("content-type", "")
    return APIResponseError(
        f"Expected a {EVENT_STREAM_MEDIA_TYPE} reply to a streaming request, got "
        f"{content_type or 'no content type'!r}. The legacy clovastudio.apigw.ntruss.com host "
        "does not stream; use https://clovastudio.stream.ntruss.com.",
        request_id=request_id,
    )


class BaseClient:
    """Configuration and policy shared by :class:`~clova_core.client.ClovaClient` and
    :class:`~clova_core.client.AsyncClovaClient`."""

    def __init__(
        self,
        *,
        api_key: str | SecretStr | None,
        apigw_api_key: str | SecretStr | None,
        base_url: str | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        default_headers: Mapping[str, str] | None,
        retry_policy: RetryPolicy | None,
        rate_limiter: QuotaLimiter | None,
        owns_http_client: bool,
        total_timeout: float | None = None,
    ) -> None:
        key = secret(api_key, "API key")
        if key is None or not key.get_secret_value():
            key = secret(nonempty_env(ENV_API_KEY), f"API key in {ENV_API_KEY}")
        if key is None or not key.get_secret_value():
            raise ClovaConfigurationError(
                f"No CLOVA Studio API key: set {ENV_API_KEY} or pass api_key=..."
            )
        gateway_key = secret(apigw_api_key, "apigw_api_key") or None
        if gateway_key is None and not key.get_secret_value().startswith(LEGACY_KEY_PREFIX_BEARER):
            # Legacy two-header auth only with an old-style key (clova-api.md 1.2); a stray
            # NCP_APIGW_API_KEY next to an nv- key is ignored (anchors.md pain point 4).
            gateway_key = secret(nonempty_env(ENV_APIGW_API_KEY), ENV_APIGW_API_KEY)
        if max_retries < 0:
            raise ClovaConfigurationError(f"max_retries must be >= 0, got {max_retries}")
        check_timeout(timeout)
        check_timeout(total_timeout, "total_timeout")
        self.api_key: SecretStr = key
        self.apigw_api_key: SecretStr | None = gateway_key
        self._base_url = resolve_base_url(base_url)
        self.max_retries = max_retries
        self.retry_policy = retry_policy or RetryPolicy()
        self.rate_limiter = rate_limiter
        self.default_headers: dict[str, str] = dict(default_headers or {})
        self._fixed_headers: dict[tuple[Any, ...], dict[str, str]] = {}
        self._urls: dict[str, httpx.URL] = {}
        self._request_extensions: dict[str, Any] = {}
        self.closed = False
        """Set by ``close()`` / ``aclose()``: no new attempt starts, retries included."""
        # Our own httpx client gets the default timeout; a caller's client keeps its own
        # unless a timeout is passed explicitly.
        if isinstance(timeout, (int, float)):
            timeout = httpx.Timeout(timeout, connect=min(timeout, DEFAULT_CONNECT_TIMEOUT_SECONDS))
        self.timeout: httpx.Timeout | None = (
            timeout if timeout is not None or not owns_http_client else default_timeout()
        )
        self.total_timeout = total_timeout
        """Seconds one attempt of a call that is not a stream may take in all, or None for
        the read timeout (module docstring)."""

    def attempt_deadline(self, http_client: httpx.Client | httpx.AsyncClient) -> float | None:
        """Seconds one attempt of a non-streamed call may take: ``total_timeout``, else the
        read timeout (this client's, or the caller's http_client's), else no limit."""
        if self.total_timeout is not None:
            return self.total_timeout
        return (self.timeout or http_client.timeout).read

    def report_attempt(self, *, status: int | None, retry_after: float | None) -> None:
        """Tell the rate limiter how an attempt ended, if it listens
        (:class:`~clova_core.quota.QuotaFeedback`)."""
        if isinstance(self.rate_limiter, QuotaFeedback):
            self.rate_limiter.record_reply(status=status, retry_after=retry_after)

    def report_error(self, error: APIError) -> None:
        """:meth:`report_attempt` for a failed attempt (``status`` None: no reply came)."""
        retry_after = error.retry_after if isinstance(error, APIStatusError) else None
        self.report_attempt(status=error.status_code, retry_after=retry_after)

    @property
    def base_url(self) -> str:
        """The base URL requests go to (no trailing slash)."""
        return self._base_url

    @property
    def auth_scheme(self) -> str:
        """``"bearer"`` or ``"legacy"`` (two-header) authentication."""
        return "bearer" if self.apigw_api_key is None else "legacy"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self._base_url!r}, auth={self.auth_scheme!r}, "
            f"max_retries={self.max_retries})"
        )

    def auth_headers(self) -> dict[str, str]:
        """The credential headers. Never log their values."""
        if self.apigw_api_key is None:
            return {HEADER_AUTHORIZATION: f"Bearer {self.api_key.get_secret_value()}"}
        return {
            HEADER_LEGACY_API_KEY: self.api_key.get_secret_value(),
            HEADER_LEGACY_APIGW_KEY: self.apigw_api_key.get_secret_value(),
        }

    def headers(self, *, request_id: str, stream: bool) -> dict[str, str]:
        """All headers of one request. ``Accept`` picks JSON or SSE.

        ``default_headers`` may replace the User-Agent; they never replace the content
        negotiation, request id or credential headers. Names merge case-insensitively.
        Everything but the request id is merged once per configuration and reused.
        """
        config = (stream, tuple(self.default_headers.items()), self.api_key, self.apigw_api_key)
        fixed = self._fixed_headers.get(config)
        if fixed is None:
            merged = httpx.Headers({"User-Agent": user_agent()})
            merged.update(self.default_headers)
            merged.update(
                {
                    "Content-Type": JSON_MEDIA_TYPE,
                    "Accept": EVENT_STREAM_MEDIA_TYPE if stream else JSON_MEDIA_TYPE,
                }
            )
            for name in (HEADER_REQUEST_ID, *SECRET_HEADERS):
                merged.pop(name, None)
            merged.update(self.auth_headers())
            fixed = {key.decode("latin-1"): value.decode("latin-1") for key, value in merged.raw}
            if len(self._fixed_headers) >= 4:  # only if default_headers or keys are changed
                self._fixed_headers.clear()
            self._fixed_headers[config] = fixed
        return {**fixed, HEADER_REQUEST_ID: request_id}

    def build_request(
        self,
        http_client: httpx.Client | httpx.AsyncClient,
        *,
        path: str,
        body: Mapping[str, Any],
        request_id: str,
        stream: bool,
    ) -> httpx.Request:
        """A ``POST {base_url}{path}`` with a JSON body."""
        extra: dict[str, Any] = {} if self.timeout is None else {"timeout": self.timeout}
        if self._request_extensions:
            extra["extensions"] = self._request_extensions
        return http_client.build_request(
            "POST",
            self._url(path),
            content=encode_json_body(body),
            headers=self.headers(request_id=request_id, stream=stream),
            **extra,
        )

    def _url(self, path: str) -> httpx.URL:
        """``{base_url}{path}``, parsed once per path."""
        url = self._urls.get(path)
        if url is None:
            if len(self._urls) >= 64:  # paths name models and tuned tasks: few in practice
                self._urls.clear()
            url = self._urls[path] = httpx.URL(f"{self._base_url}{path}")
        return url

    def wait_for_quota(self, wire: WireRequest) -> None:
        """Block until the rate limiter lets ``wire`` go (every attempt counts: 8.2)."""
        if self.rate_limiter is not None and (tokens := wire.quota()) is not None:
            self.rate_limiter.acquire(tokens)

    async def await_quota(self, wire: WireRequest) -> None:
        """:meth:`wait_for_quota` without blocking the event loop."""
        if self.rate_limiter is not None and (tokens := wire.quota()) is not None:
            await self.rate_limiter.aacquire(tokens)

    def retry_delay(self, error: APIError, *, attempt: int, path: str) -> float | None:
        """Seconds to wait before the next try (logged), or None to raise ``error``."""
        delay = retry_delay(
            error,
            attempt=attempt,
            max_retries=self.max_retries,
            policy=self.retry_policy,
            idempotent=not is_generation(path),
        )
        if delay is not None:
            logger.info(
                "Retrying POST %s (status=%s code=%s request_id=%s) in %.2fs, retry %d of %d",
                path,
                error.status_code,
                error.code,
                error.request_id,
                delay,
                attempt + 1,
                self.max_retries,
            )
        return delay
