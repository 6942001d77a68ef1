"""What the sync and async clients share: configuration, headers, reply handling, retry policy.

Everything here is pure (no I/O): :class:`BaseClient` reads the environment once at
construction, builds :class:`httpx.Request` objects, turns replies and transport failures
into the package's errors, and decides whether and how long to wait before a retry. The two
I/O loops in :mod:`clova_core.client` and :mod:`clova_core.stream` are then short and
parallel, so sync and async cannot drift apart.

Authentication (clova-api.md 1.2): ``Authorization: Bearer <key>``; legacy keys (made before
2025-01) use ``X-NCP-CLOVASTUDIO-API-KEY`` plus the account's ``X-NCP-APIGW-API-KEY``. Keys
are :class:`pydantic.SecretStr` and only unwrapped into the outgoing headers.
"""

from __future__ import annotations

import logging
import os
import ssl
import uuid
from collections.abc import Mapping
from functools import lru_cache
from importlib import metadata
from typing import Any

import httpx
from pydantic import SecretStr

from clova_core.constants import (
    DEFAULT_BASE_URL,
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    ENV_API_KEY,
    ENV_APIGW_API_KEY,
    ENV_BASE_URL,
    HEADER_AUTHORIZATION,
    HEADER_LEGACY_API_KEY,
    HEADER_LEGACY_APIGW_KEY,
    HEADER_REQUEST_ID,
    SECRET_HEADERS,
)
from clova_core.errors import (
    CONNECTION_HINT,
    TIMEOUT_HINT,
    UNEXPECTED_REPLY_HINT,
    APIConnectionError,
    APIError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    ClovaConfigurationError,
    error_from_response,
)
from clova_core.ratelimit import RateLimiter
from clova_core.request import WireRequest
from clova_core.response import parse_envelope
from clova_core.retry import RetryPolicy, parse_retry_after, retry_delay

logger = logging.getLogger("clova_core")

PACKAGE_NAME = "clova-integrations"
JSON_MEDIA_TYPE = "application/json"
EVENT_STREAM_MEDIA_TYPE = "text/event-stream"
LEGACY_KEY_PREFIX_BEARER = "nv-"
"""Console-issued Bearer keys start with ``nv-`` (clova-api.md 1.2)."""


@lru_cache(maxsize=1)
def user_agent() -> str:
    """``clova-integrations/<version> httpx/<version>`` (read lazily, not at import time)."""
    try:
        version = metadata.version(PACKAGE_NAME)
    except metadata.PackageNotFoundError:
        version = "unknown"
    return f"{PACKAGE_NAME}/{version} httpx/{httpx.__version__}"


@lru_cache(maxsize=1)
def default_ssl_context() -> ssl.SSLContext:
    """The TLS settings of every HTTP client the package builds, made once per process.

    httpx would load the CA bundle again for each new client (~0.1 s); with one async client
    per event loop, ``asyncio.run(model.ainvoke(...))`` would pay that on every call. An
    ``SSLContext`` is safe to share between clients and threads.
    """
    return httpx.create_ssl_context()


def default_timeout() -> httpx.Timeout:
    """60 s overall, 10 s to connect (constants.py)."""
    return httpx.Timeout(DEFAULT_TIMEOUT_SECONDS, connect=DEFAULT_CONNECT_TIMEOUT_SECONDS)


def new_request_id() -> str:
    """A fresh ``X-NCP-CLOVASTUDIO-REQUEST-ID`` (free-form per clova-api.md 9.3)."""
    return uuid.uuid4().hex


def _secret(value: str | SecretStr | None) -> SecretStr | None:
    if value is None or isinstance(value, SecretStr):
        return value
    return SecretStr(value)


def _nonempty_env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def resolve_base_url(base_url: str | None) -> str:
    """Argument, else ``CLOVASTUDIO_API_BASE_URL``, else the default; no trailing slash.

    A base ending in ``/testapp`` or ``/serviceapp`` (clova-api.md 1.1) simply prefixes paths.
    """
    url = (base_url or _nonempty_env(ENV_BASE_URL) or DEFAULT_BASE_URL).strip().rstrip("/")
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ClovaConfigurationError(
            f"Invalid CLOVA Studio base URL {url!r}: expected http(s)://host[/prefix]. "
            f"Pass base_url or set {ENV_BASE_URL}."
        )
    return url


def transport_error(exc: httpx.RequestError, request_id: str) -> APIError:
    """An httpx failure as the package's error (never raw httpx): a timeout, another
    transport failure (both retried), or a body that cannot be decoded (its
    ``Content-Encoding`` is broken: an unreadable reply, not retried)."""
    if isinstance(exc, httpx.DecodingError):
        return APIResponseError(
            f"Unexpected CLOVA Studio reply: the body could not be decoded ({exc}). "
            f"{UNEXPECTED_REPLY_HINT}",
            request_id=request_id,
        )
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(
            f"Request to CLOVA Studio timed out ({exc!r}). {TIMEOUT_HINT}", request_id=request_id
        )
    return APIConnectionError(
        f"Connection to CLOVA Studio failed ({type(exc).__name__}: {exc}). {CONNECTION_HINT}",
        request_id=request_id,
    )


def status_error(response: httpx.Response, content: bytes, request_id: str) -> APIStatusError:
    """The typed error for a non-2xx reply, with its ``Retry-After`` (clova-api.md 1.3, 1.4)."""
    return error_from_response(
        response.status_code,
        content,
        request_id=request_id,
        retry_after=parse_retry_after(response.headers, status_code=response.status_code),
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
    """A 2xx reply with ``Content-Type: text/event-stream`` (clova-api.md 2.4)."""
    return response.is_success and EVENT_STREAM_MEDIA_TYPE in response.headers.get(
        "content-type", ""
    )


def stream_reply_error(response: httpx.Response, content: bytes, request_id: str) -> APIError:
    """Why a reply to a stream request is not an event stream: an HTTP error, a failure
    code in a 200 JSON envelope, or a plain JSON answer (the legacy ``apigw`` host does not
    stream, clova-api.md 1.1)."""
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
        rate_limiter: RateLimiter | None,
        owns_http_client: bool,
    ) -> None:
        key = _secret(api_key) or _secret(_nonempty_env(ENV_API_KEY))
        if key is None or not key.get_secret_value().strip():
            raise ClovaConfigurationError(
                f"No CLOVA Studio API key: set {ENV_API_KEY} or pass api_key=..."
            )
        gateway_key = _secret(apigw_api_key)
        if gateway_key is None and not key.get_secret_value().startswith(LEGACY_KEY_PREFIX_BEARER):
            # Legacy two-header auth only with an old-style key (clova-api.md 1.2); a stray
            # NCP_APIGW_API_KEY next to an nv- key is ignored (anchors.md pain point 4).
            gateway_key = _secret(_nonempty_env(ENV_APIGW_API_KEY))
        if max_retries < 0:
            raise ClovaConfigurationError(f"max_retries must be >= 0, got {max_retries}")
        self.api_key: SecretStr = key
        self.apigw_api_key: SecretStr | None = gateway_key
        self._base_url = resolve_base_url(base_url)
        self.max_retries = max_retries
        self.retry_policy = retry_policy or RetryPolicy()
        self.rate_limiter = rate_limiter
        self.default_headers: dict[str, str] = dict(default_headers or {})
        self._fixed_headers: dict[tuple[Any, ...], dict[str, str]] = {}
        self._urls: dict[str, httpx.URL] = {}
        # Our own httpx client gets the default timeout; a caller's client keeps its own
        # unless a timeout is passed explicitly.
        if isinstance(timeout, (int, float)):
            timeout = httpx.Timeout(timeout, connect=min(timeout, DEFAULT_CONNECT_TIMEOUT_SECONDS))
        self.timeout: httpx.Timeout | None = (
            timeout if timeout is not None or not owns_http_client else default_timeout()
        )

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
        """The credential headers (clova-api.md 1.2). Never log their values."""
        if self.apigw_api_key is None:
            return {HEADER_AUTHORIZATION: f"Bearer {self.api_key.get_secret_value()}"}
        return {
            HEADER_LEGACY_API_KEY: self.api_key.get_secret_value(),
            HEADER_LEGACY_APIGW_KEY: self.apigw_api_key.get_secret_value(),
        }

    def headers(self, *, request_id: str, stream: bool) -> dict[str, str]:
        """All headers of one request. ``Accept`` picks JSON or SSE (clova-api.md 1.2).

        ``default_headers`` may replace the User-Agent; they never replace the content
        negotiation, request id or credential headers. Names merge case-insensitively.
        Everything but the request id is merged once per configuration and reused (merging
        through ``httpx.Headers`` costs about 100 us, a tenth of an embedding request's CPU).
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
        return http_client.build_request(
            "POST",
            self._url(path),
            json=dict(body),
            headers=self.headers(request_id=request_id, stream=stream),
            **extra,
        )

    def _url(self, path: str) -> httpx.URL:
        """``{base_url}{path}``, parsed once per path (a parse costs about 40 us a request)."""
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
            error, attempt=attempt, max_retries=self.max_retries, policy=self.retry_policy
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
