"""The one exception tree of the package, and the functions that build it from replies.

::

    ClovaError
    +-- ClovaConfigurationError (ValueError)   no API key, bad base URL: fix your setup
    +-- ClovaValidationError (ValueError)      pre-flight: raised before any request is sent
    |   +-- UnknownModelError                  a name the registry does not know
    |   +-- UnsupportedFeatureError            tools / images / thinking / schema on a model without
    |   +-- ContextLimitError                  input (+ requested output) over the model's limits
    +-- APIError                               something went wrong after a request was sent
        +-- APIConnectionError                 could not connect, or the connection dropped
        |   +-- APITimeoutError
        +-- APIResponseError                   unreadable reply (non-JSON, truncated, bad event)
        +-- StreamError                        an ``error`` event, or a stream cut mid-way
        +-- APIStatusError                     an HTTP error status; ``status_code``, ``code``
            +-- BadRequestError (400)
            |   +-- ContextLengthExceededError (40003)
            +-- AuthenticationError (401)
            +-- PermissionDeniedError (403)
            +-- NotFoundError (404)
            +-- RequestTimeoutError (408)
            +-- RateLimitError (429)
            +-- InternalServerError (5xx)

Every :class:`APIError` carries ``status_code``, the CLOVA ``code`` (a 5-digit string such
as ``"40003"``), ``message`` and the ``request_id`` that was sent, so a support ticket can
quote it. Messages never contain credentials. Envelopes (clova-api.md 1.3, 1.4): native
``{"status": {"code", "message"}}``, OpenAI-style ``{"error": {"code", "message"}}``, and
anything else (a gateway's HTML page) by HTTP status alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class ClovaError(Exception):
    """Base of every error this package raises."""


class ClovaConfigurationError(ClovaError, ValueError):
    """The client is set up wrongly (no API key, a malformed base URL)."""


class ClovaValidationError(ClovaError, ValueError):
    """The request cannot succeed as given; raised before anything is sent."""


class UnknownModelError(ClovaValidationError):
    """The model name is not in the registry and no explicit spec was given."""


class UnsupportedFeatureError(ClovaValidationError):
    """The model lacks a feature the request uses; the message names models that have it."""


class ContextLimitError(ClovaValidationError):
    """Input, or input plus requested output, is over the model's token limits."""

    def __init__(
        self,
        message: str,
        *,
        input_tokens: int,
        max_input_tokens: int,
        requested_output_tokens: int | None = None,
        context_window: int | None = None,
        exact: bool = False,
    ) -> None:
        super().__init__(message)
        self.input_tokens = input_tokens
        self.max_input_tokens = max_input_tokens
        self.requested_output_tokens = requested_output_tokens
        self.context_window = context_window
        self.exact = exact


class APIError(ClovaError):
    """A failure after a request was sent."""

    def __init__(
        self,
        message: str,
        *,
        request_id: str | None = None,
        status_code: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.request_id = request_id
        self.status_code = status_code
        self.code = code

    def __str__(self) -> str:
        details = [
            f"{name}={value}"
            for name, value in (
                ("status", self.status_code),
                ("code", self.code),
                ("request_id", self.request_id),
            )
            if value is not None
        ]
        return f"{self.message} ({', '.join(details)})" if details else self.message


class APIConnectionError(APIError):
    """The connection could not be made or broke before a reply arrived."""


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class APIResponseError(APIError):
    """The reply could not be understood (non-JSON, truncated, an unknown event)."""


class StreamError(APIError):
    """A stream ended in an ``error`` event or was cut mid-way.

    ``partial_content`` / ``partial_thinking`` hold what was delivered before the failure
    (the stream is never replayed, so this is what the caller already saw).
    """

    def __init__(
        self,
        message: str,
        *,
        request_id: str | None = None,
        status_code: int | None = None,
        code: str | None = None,
        partial_content: str = "",
        partial_thinking: str = "",
    ) -> None:
        super().__init__(message, request_id=request_id, status_code=status_code, code=code)
        self.partial_content = partial_content
        self.partial_thinking = partial_thinking


class APIStatusError(APIError):
    """CLOVA answered with an HTTP error status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        request_id: str | None = None,
        code: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id, status_code=status_code, code=code)
        self.status_code: int = status_code
        self.body = body
        self.retry_after = retry_after


class BadRequestError(APIStatusError):
    """HTTP 400: the server rejected a parameter (CLOVA 400xx)."""


class ContextLengthExceededError(BadRequestError):
    """HTTP 400 / CLOVA 40003: input plus max tokens over the model limit (or too many images)."""


class AuthenticationError(APIStatusError):
    """HTTP 401: the key is missing, invalid or of the wrong kind."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403."""


class NotFoundError(APIStatusError):
    """HTTP 404: bad path, model or task id."""


class RequestTimeoutError(APIStatusError):
    """HTTP 408: the server timed out processing the request (retried)."""


class RateLimitError(APIStatusError):
    """HTTP 429 / CLOVA 429xx: over QPM / TPM, or the platform is overloaded (retried)."""


class InternalServerError(APIStatusError):
    """HTTP 5xx (retried)."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: RequestTimeoutError,
    429: RateLimitError,
}

_MAX_BODY_IN_MESSAGE = 200


def _envelope(body: Any) -> tuple[str | None, str | None]:
    """(code, message) from a native or OpenAI-style envelope, else (None, None)."""
    if not isinstance(body, Mapping):
        return None, None
    for key in ("status", "error"):
        inner = body.get(key)
        if isinstance(inner, Mapping):
            code = inner.get("code")
            message = inner.get("message")
            return (
                None if code is None else str(code),
                None if message is None else str(message),
            )
    return None, None


def error_class_for(status_code: int, code: str | None) -> type[APIStatusError]:
    """The exception class for an HTTP status and CLOVA code."""
    if code == "40003" and status_code == 400:
        return ContextLengthExceededError
    if status_code >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status_code, APIStatusError)


def error_from_response(
    status_code: int,
    content: bytes,
    *,
    request_id: str | None,
    retry_after: float | None = None,
) -> APIStatusError:
    """Map an HTTP error reply (any body) to the typed error for its status and code."""
    text = content.decode("utf-8", errors="replace")
    body: Any
    try:
        body = json.loads(text) if text.strip() else None
    except ValueError:
        body = text
    code, message = _envelope(body)
    if message is None:
        snippet = " ".join(text.split())[:_MAX_BODY_IN_MESSAGE]
        message = f"HTTP {status_code}" + (f": {snippet}" if snippet else "")
    cls = error_class_for(status_code, code)
    return cls(
        f"CLOVA Studio error: {message}",
        status_code=status_code,
        request_id=request_id,
        code=code,
        body=body,
        retry_after=retry_after,
    )


def http_status_for_code(code: str | None) -> int | None:
    """The HTTP status a common CLOVA code implies: its first three digits (clova-api.md 1.3)."""
    if code and len(code) == 5 and code.isdigit() and code[0] in "2345":
        return int(code[:3])
    return None


def error_from_stream_event(
    data: Any,
    *,
    request_id: str | None,
    partial_content: str = "",
    partial_thinking: str = "",
) -> StreamError:
    """Map an in-stream ``error`` event's data to a :class:`StreamError`."""
    code, message = _envelope(data)
    return StreamError(
        f"CLOVA Studio stream error: {message or 'error event without a message'}",
        request_id=request_id,
        status_code=http_status_for_code(code),
        code=code,
        partial_content=partial_content,
        partial_thinking=partial_thinking,
    )
