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
        |   +-- ToolCallRequiredError          text twice where a tool call was required
        +-- StreamError                        an ``error`` event, or a stream cut mid-way
        +-- APIStatusError                     an HTTP error status; ``status_code``, ``code``
            +-- BadRequestError (400)
            |   +-- ContextLengthExceededError (40003, input too long)
            +-- AuthenticationError (401)
            +-- PermissionDeniedError (403)
            +-- NotFoundError (404)
            +-- RequestTimeoutError (408)
            +-- RateLimitError (429)
            +-- InternalServerError (5xx)

Every :class:`APIError` carries ``status_code``, the CLOVA ``code`` (a 5-digit string such
as ``"40003"``), ``message`` and the ``request_id`` that was sent, so a support ticket can
quote it. Messages never contain credentials, and end with what to change where the code or
status says it. CLOVA uses 40003 both for "Context length exceeded" and for "Image limit
exceeded" (more than 5 images): only the first is a :class:`ContextLengthExceededError`; the
second is a plain :class:`BadRequestError` with an image hint. Codes are listed at
https://api.ncloud-docs.com/docs/clovastudio-troubleshoot.
"""
# Envelopes (clova-api.md 1.3, 1.4): native {"status": {"code", "message"}}, OpenAI-style
# {"error": {"code", "message"}}, anything else (a gateway's HTML page) by HTTP status alone.

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from clova_core.models import EMBEDDING_MODELS, MAX_IMAGES_PER_REQUEST


class ClovaError(Exception):
    """Base of every error this package raises."""

    index: int | None = None
    """For an error while embedding several texts: the position of the text that failed
    (``None`` otherwise)."""

    partial_results: list[Any] | None = None
    """For an error while embedding several texts: every result finished before it, in input
    order, ``None`` where a text was not done (``None`` when the call kept none)."""


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
    """HTTP 400 / CLOVA 40003 "Context length exceeded": input (plus max tokens) over the
    model's limit. "Image limit exceeded", the same code, is a plain :class:`BadRequestError`."""


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

_CODE_HINTS: dict[str, str] = {
    "40003": "Shorten the input (trim the chat history) or lower max_tokens.",
    "40004": "Give every system and user message some text (not only whitespace).",
    "40080": "Check the model name; a tuned model is called with task_id and its base model.",
    "40082": "This model was retired: move to a current one (HCX-005, HCX-007, HCX-DASH-002).",
    "40083": "The account has no resource for this model: check its subscription.",
    "40084": "The model is not served on this API: HCX-003 / HCX-DASH-001 use v1, "
    "HCX-005 / HCX-007 / HCX-DASH-002 use v3.",
    "40170": "Subscribe to CLOVA Studio in the NAVER Cloud console.",
}
_STATUS_HINTS: dict[int, str] = {
    401: "Check the API key: pass api_key=... or set CLOVASTUDIO_API_KEY (a key issued before "
    "2025 also needs apigw_api_key / NCP_APIGW_API_KEY).",
    403: "The key has no permission for this model or task: check its app in the console.",
    404: "Check the model name or task id, and the base URL (CLOVASTUDIO_API_BASE_URL).",
    408: "The server timed out: retry later or send a shorter request.",
    413: "The request body is over 50 MB: send fewer or smaller images.",
    429: "Over the QPM / TPM quota, or the service is busy: retry later, raise max_retries, "
    "or pace requests with quota_limiter=RateLimiter(...).",
}
_SERVER_HINT = "A server-side failure, usually transient: retry later or raise max_retries."
UNEXPECTED_REPLY_HINT = (
    "Check that base_url points at CLOVA Studio (a proxy or gateway may have answered); "
    "if it does, report this with the request id."
)
"""What to do about a reply this client cannot read (used by the parsers)."""
CONNECTION_HINT = "Check the network and base_url, or raise max_retries."
TIMEOUT_HINT = "Raise timeout=..., or retry later."


_IMAGE_LIMIT_HINT = (
    f"Send at most {MAX_IMAGES_PER_REQUEST} images per request (one per user message): drop "
    "older images from the history or split the work over several requests."
)
_EMBEDDING_PATH = "/api-tools/embedding"
_EMBEDDING_LIMITS = ", ".join(
    f"{spec.name} {spec.max_input_tokens:,}" for spec in EMBEDDING_MODELS.values()
)
_EMBEDDING_CODE_HINTS: dict[str, str] = {
    "40003": "Shorten the text or split it into smaller chunks: each text must fit the "
    f"embedding model's input limit (tokens: {_EMBEDDING_LIMITS}).",
    "40004": "The text is empty or only whitespace: skip such texts before embedding.",
}


def is_image_limit(code: str | None, message: str | None) -> bool:
    """Whether a CLOVA 40003 is "Image limit exceeded" rather than a context overflow."""
    return code == "40003" and message is not None and "image" in message.lower()


def error_hint(
    status_code: int | None,
    code: str | None,
    *,
    message: str | None = None,
    path: str | None = None,
) -> str | None:
    """What the caller can change, for a CLOVA code or HTTP status.

    ``message`` (CLOVA's) tells the two kinds of 40003 apart; ``path`` (the request's URL
    path) gives embedding requests their own hints.
    """
    if is_image_limit(code, message):
        return _IMAGE_LIMIT_HINT
    if code is not None and path is not None and _EMBEDDING_PATH in path:
        hint = _EMBEDDING_CODE_HINTS.get(code)
        if hint is not None:
            return hint
    if code is not None and code in _CODE_HINTS:
        return _CODE_HINTS[code]
    if status_code is None:
        return None
    if status_code >= 500:
        return _SERVER_HINT
    return _STATUS_HINTS.get(status_code)


def _with_hint(
    message: str,
    status_code: int | None,
    code: str | None,
    *,
    clova_message: str | None = None,
    path: str | None = None,
) -> str:
    hint = error_hint(status_code, code, message=clova_message, path=path)
    if hint is None:
        return message
    return f"{message.rstrip()}{'' if message.rstrip().endswith(('.', '!', '?')) else '.'} {hint}"


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


def error_class_for(
    status_code: int, code: str | None, message: str | None = None
) -> type[APIStatusError]:
    """The exception class for an HTTP status and CLOVA code (and message, for 40003)."""
    if code == "40003" and status_code == 400 and not is_image_limit(code, message):
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
    path: str | None = None,
) -> APIStatusError:
    """Map an HTTP error reply (any body) to the typed error for its status and code.

    ``path``, the URL path the request went to, picks the hints of embedding requests."""
    text = content.decode("utf-8", errors="replace")
    body: Any
    try:
        body = json.loads(text) if text.strip() else None
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        body = text
    code, clova_message = _envelope(body)
    message = clova_message
    if message is None:
        snippet = " ".join(text.split())[:_MAX_BODY_IN_MESSAGE]
        message = f"HTTP {status_code}" + (f": {snippet}" if snippet else "")
    cls = error_class_for(status_code, code, clova_message)
    return cls(
        _with_hint(
            f"CLOVA Studio error: {message}",
            status_code,
            code,
            clova_message=clova_message,
            path=path,
        ),
        status_code=status_code,
        request_id=request_id,
        code=code,
        body=body,
        retry_after=retry_after,
    )


def http_status_for_code(code: str | None) -> int | None:
    """The HTTP status a common CLOVA code implies: its first three digits."""
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
    status_code = http_status_for_code(code)
    return StreamError(
        _with_hint(
            f"CLOVA Studio stream error: {message or 'error event without a message'}",
            status_code,
            code,
            clova_message=message,
        ),
        request_id=request_id,
        status_code=status_code,
        code=code,
        partial_content=partial_content,
        partial_thinking=partial_thinking,
    )
