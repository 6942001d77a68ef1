"""A client's settings, checked before anything is sent: keys, request ids, base URL,
timeouts, and the TLS context and timeout the package's own HTTP clients get.

Each check raises a :class:`~clova_core.errors.ClovaError` that says what to change:
a key or request id that would break an HTTP header (a line break, NUL, another control or
a non-ASCII character; surrounding whitespace of a key is stripped, a key read from a file
keeps its trailing newline), a base URL with a query string, a fragment or the
OpenAI-compatible ``/v1/openai`` suffix, and a timeout that is 0, negative or not finite.
"""

from __future__ import annotations

import math
import os
import ssl
import uuid
from functools import lru_cache

import httpx
from pydantic import SecretStr

from clova_core.constants import (
    DEFAULT_BASE_URL,
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    ENV_BASE_URL,
)
from clova_core.errors import ClovaConfigurationError, ClovaValidationError


def default_ssl_context() -> ssl.SSLContext:
    """The TLS settings of every HTTP client the package builds, exactly httpx's default
    (``SSL_CERT_FILE``, else ``SSL_CERT_DIR``, else certifi's bundle), made once per value of
    those two variables.

    httpx would load the CA bundle again for each new client; with one async client per event
    loop, ``asyncio.run(model.ainvoke(...))`` would pay that on every call. An
    ``SSLContext`` is safe to share between clients and threads.
    """
    return _ssl_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@lru_cache(maxsize=4)
def _ssl_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    del cert_file, cert_dir  # the cache key: httpx reads the same variables itself
    return httpx.create_ssl_context(trust_env=True)


def default_timeout() -> httpx.Timeout:
    """60 s overall, 10 s to connect (constants.py)."""
    return httpx.Timeout(DEFAULT_TIMEOUT_SECONDS, connect=DEFAULT_CONNECT_TIMEOUT_SECONDS)


def new_request_id() -> str:
    """A fresh ``X-NCP-CLOVASTUDIO-REQUEST-ID`` (free-form)."""
    return uuid.uuid4().hex


def _header_safe(value: str) -> bool:
    """Printable ASCII and spaces only: nothing that could end or split an HTTP header."""
    return value.isascii() and all(char == "\t" or " " <= char <= "~" for char in value)


def check_request_id(request_id: str) -> str:
    """``request_id`` if it can be sent as a header value, else a
    :class:`~clova_core.errors.ClovaValidationError` (before anything is sent)."""
    if not request_id or not _header_safe(request_id):
        raise ClovaValidationError(
            f"request_id {request_id!r} cannot be sent as an HTTP header: use printable ASCII "
            "only (no line breaks or control characters), or leave it out to get a generated one."
        )
    return request_id


def resolve_request_id(request_id: str | None) -> str:
    """``request_id`` checked (:func:`check_request_id`), or a fresh one when None."""
    return new_request_id() if request_id is None else check_request_id(request_id)


def secret(value: str | SecretStr | None, name: str) -> SecretStr | None:
    """A key as :class:`SecretStr`, surrounding whitespace stripped (a key read from a file
    keeps its trailing newline); a key that still holds a line break, a control character or a
    non-ASCII character is a :class:`~clova_core.errors.ClovaConfigurationError`."""
    if value is None:
        return None
    text = (value.get_secret_value() if isinstance(value, SecretStr) else value).strip()
    if not _header_safe(text):
        raise ClovaConfigurationError(
            f"The {name} contains a line break, a control or a non-ASCII character, so it "
            "cannot be sent as an HTTP header. Copy the key again from the console."
        )
    return SecretStr(text)


def check_timeout(timeout: float | httpx.Timeout | None, name: str = "timeout") -> None:
    """Every bound of ``timeout`` is ``None`` or a finite number of seconds above 0."""
    values: dict[str, object]
    if isinstance(timeout, httpx.Timeout):
        values = {f"{name}.{key}": value for key, value in timeout.as_dict().items()}
    else:
        values = {name: timeout}
    for label, value in values.items():
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value <= 0
        ):
            raise ClovaConfigurationError(
                f"{label} must be a number of seconds above 0 (or None for no limit), got "
                f"{value!r}."
            )


def nonempty_env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def resolve_base_url(base_url: str | None) -> str:
    """Argument, else ``CLOVASTUDIO_API_BASE_URL``, else the default; no trailing slash.

    A base ending in ``/testapp`` or ``/serviceapp`` simply prefixes paths.
    A query string or fragment, or the OpenAI-compatible ``/v1/openai`` suffix, is a
    :class:`~clova_core.errors.ClovaConfigurationError`.
    """
    url = (base_url or nonempty_env(ENV_BASE_URL) or DEFAULT_BASE_URL).strip().rstrip("/")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ClovaConfigurationError(f"Invalid CLOVA Studio base URL {url!r}: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ClovaConfigurationError(
            f"Invalid CLOVA Studio base URL {url!r}: expected http(s)://host[/prefix]. "
            f"Pass base_url or set {ENV_BASE_URL}."
        )
    if parsed.query or parsed.fragment or "?" in url or "#" in url:
        raise ClovaConfigurationError(
            f"Invalid CLOVA Studio base URL {url!r}: remove the query string or fragment "
            "(request paths are appended to base_url)."
        )
    if parsed.path.rstrip("/").lower().endswith("/v1/openai"):
        raise ClovaConfigurationError(
            f"base_url {url!r} ends in /v1/openai: remove /v1/openai: this package calls the "
            "native API (for example https://clovastudio.stream.ntruss.com)."
        )
    return url


def is_generation(path: str) -> bool:
    """Whether ``path`` generates (and bills) an answer: a chat, not a token count or an
    embedding. A late reply to such a request is not retried (:mod:`clova_core.retry`)."""
    return "/chat-completions" in path
