"""Failures and the two error envelopes.

Every check in the emulator raises :class:`EmulatedApiError`; the server turns it into the HTTP
status, CLOVA code and envelope of the route that was called.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clova_emulator.limits import SUCCESS_CODE

MESSAGES: dict[str, str] = {
    "40000": "Bad request",
    "40001": "Invalid parameter",
    "40002": "Unsupported parameter",
    "40003": "Context length exceeded",
    "40004": "Text empty",
    "40009": "Unsupported function",
    "40055": "Invalid response format schema",
    "40060": "Unsupported image format",
    "40061": "File size error",
    "40063": "Invalid image file",
    "40080": "Model not found",
    "40084": "Unsupported API for model",
    "40102": "Invalid Authentication Type",
    "40104": "Invalid key",
    "40400": "Not found",
    "41300": "Request body size exceeded",
    "41500": "MediaType error",
    "42901": "Too many requests - rate exceeded",
    "42902": "Too many requests - overloaded",
    "50000": "Internal server error",
    "50300": "Service unavailable",
}
"""Documented messages for the codes the emulator produces. ``50300`` is
emulator-invented: the docs list no 503 code, but proxies in front of the service do send 503."""


class EmulatedApiError(Exception):
    """An HTTP error reply: status, 5-digit CLOVA code, message and extra headers."""

    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.code = code
        self.message = message if message is not None else MESSAGES.get(code, "Error")
        # clova-api.md 1.3: for the common codes the HTTP status is the first three digits.
        self.status = status if status is not None else int(code[:3])
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(f"{self.status} {self.code} {self.message}")


def invalid(detail: str) -> EmulatedApiError:
    """40001 "Invalid parameter" with the offending field(s) named after a colon."""
    return EmulatedApiError("40001", f"Invalid parameter: {detail}")


def native_envelope(code: str, message: str, result: Any = None) -> dict[str, Any]:
    """``{"status": {"code", "message"}, "result": ...}`` (``result`` only on success)."""
    body: dict[str, Any] = {"status": {"code": code, "message": message}}
    if result is not None:
        body["result"] = result
    return body


def native_success(result: Any) -> dict[str, Any]:
    """The success envelope with code ``20000``."""
    return native_envelope(SUCCESS_CODE, "OK", result)


def openai_error(code: str, message: str) -> dict[str, Any]:
    """``{"error": {"message", "type": null, "param": null, "code"}}``."""
    return {"error": {"message": message, "type": None, "param": None, "code": code}}
