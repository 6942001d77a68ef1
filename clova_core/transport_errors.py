"""How a failure of the HTTP transport (httpx, or httpx-aiohttp) becomes the package's error.

The transport errors added to the tree of :mod:`clova_core.errors`::

    APIConnectionError
    +-- CertificateVerifyError        the server's TLS certificate is not trusted: never retried
    +-- ClientClosedError             the client was closed before or during the call: never
    |                                 retried
    +-- APITimeoutError
        +-- PoolTimeoutError          every local connection was busy: never retried
        +-- ResponseTimeoutError      the request was sent, the reply came too slowly

What is retried (the rest of the policy is in :mod:`clova_core.retry`): connection failures
and timeouts before the request was fully sent, always; a :class:`ResponseTimeoutError` only
for calls that cost nothing to repeat (embeddings, token counts). A chat whose reply is late is
not retried: the server may still be generating, and billing, the first answer.

The httpx exception is chained as ``__cause__`` without its request (whose headers would show
the credentials) and without its traceback (whose frames hold them), so printing, logging or
capturing the error with its locals never reveals the key.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

from clova_core.errors import (
    CONNECTION_HINT,
    TIMEOUT_HINT,
    UNEXPECTED_REPLY_HINT,
    APIConnectionError,
    APIError,
    APIResponseError,
    APITimeoutError,
)

if TYPE_CHECKING:  # httpx loads with the clients, not with the error types (import cost)
    import httpx


class CertificateVerifyError(APIConnectionError):
    """The server's TLS certificate could not be verified (never retried)."""


class ClientClosedError(APIConnectionError):
    """The client (or the caller's http_client) was closed before or during the call
    (never retried: create a new client)."""


def client_closed_error(request_id: str) -> ClientClosedError:
    """The error for a call on a closed client, or one whose client was closed mid-call."""
    return ClientClosedError(
        "The CLOVA Studio client was closed (close() / aclose(), or its http_client was "
        "closed): create a new client for further calls.",
        request_id=request_id,
    )


class PoolTimeoutError(APITimeoutError):
    """No local connection became free in time: lower concurrency or raise the pool's limits
    (never retried: a retry would wait for the same busy pool)."""


class ResponseTimeoutError(APITimeoutError):
    """The request was fully sent but the reply, or its end, came too slowly: retried only for
    embeddings and token counts, never for chat."""


def _is_certificate_failure(exc: BaseException) -> bool:
    """Whether ``exc`` or anything it was raised from is a failed certificate check
    (httpcore chains :class:`ssl.SSLCertVerificationError`; aiohttp wraps it)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError) or isinstance(
            getattr(current, "certificate_error", None), ssl.SSLCertVerificationError
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def _clean_cause(exc: httpx.RequestError) -> httpx.RequestError:
    """A copy of ``exc`` (same class and message) with no request, traceback or chain."""
    import httpx

    try:
        return type(exc)(str(exc))
    except TypeError:  # a subclass with another signature
        return httpx.TransportError(str(exc))


def _certificate_error(exc: httpx.RequestError, request_id: str) -> APIError:
    return CertificateVerifyError(
        f"The TLS certificate of CLOVA Studio's host could not be verified ({exc}). Check "
        "base_url; behind a TLS-inspecting proxy, point SSL_CERT_FILE at your CA bundle or "
        "pass an http_client with verify=ssl.create_default_context(cafile=...).",
        request_id=request_id,
    )


def transport_error(exc: httpx.RequestError, request_id: str) -> APIError:
    """``exc`` as the package's error (never raw httpx), with a credential-free cause."""
    import httpx

    error: APIError
    if _is_certificate_failure(exc):  # first: httpx-aiohttp reports it as a ConnectTimeout
        error = _certificate_error(exc, request_id)
    elif isinstance(exc, httpx.DecodingError):
        error = APIResponseError(
            f"Unexpected CLOVA Studio reply: the body could not be decoded ({exc}). "
            f"{UNEXPECTED_REPLY_HINT}",
            request_id=request_id,
        )
    elif isinstance(exc, httpx.PoolTimeout):
        error = PoolTimeoutError(
            "Every connection of the local pool stayed busy past the pool timeout. Send fewer "
            "requests at once, or pass an http_client with larger httpx.Limits.",
            request_id=request_id,
        )
    elif isinstance(exc, httpx.ReadTimeout):
        error = ResponseTimeoutError(
            f"CLOVA Studio's reply did not arrive in time ({exc or 'read timeout'}). "
            f"{TIMEOUT_HINT}",
            request_id=request_id,
        )
    elif isinstance(exc, httpx.TimeoutException):
        error = APITimeoutError(
            f"Request to CLOVA Studio timed out ({type(exc).__name__}: {exc}). {TIMEOUT_HINT}",
            request_id=request_id,
        )
    else:
        error = APIConnectionError(
            f"Connection to CLOVA Studio failed ({type(exc).__name__}: {exc}). {CONNECTION_HINT}",
            request_id=request_id,
        )
    error.__cause__ = _clean_cause(exc)
    return error


def deadline_error(seconds: float, request_id: str) -> ResponseTimeoutError:
    """The error for a reply still incomplete when the attempt's total deadline passed."""
    return ResponseTimeoutError(
        f"CLOVA Studio's reply was not complete within the {seconds:g} s deadline of one "
        f"attempt. {TIMEOUT_HINT}",
        request_id=request_id,
    )
