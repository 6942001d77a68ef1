"""The connection settings of every framework class, declared once.

``ChatClovaX`` and ``ClovaXEmbeddings`` (LangChain), ``ClovaX`` and ``ClovaXEmbedding``
(LlamaIndex) all inherit :class:`ConnectionSettings`: the same fields, names, defaults and
checks, and the same life of the clients built from them.

* **One moment of failure.** A missing API key, a malformed ``base_url`` or a negative
  ``max_retries`` raise the core's :class:`~clova_core.errors.ClovaConfigurationError` when
  the object is constructed (the core client is built then), not at the first call.
* **Settings follow the object.** The clients are cached per object and keyed on these
  settings (:class:`~clova_core.client_cache.ClientCache`): after ``obj.api_key = ...``,
  ``obj.base_url = ...`` or ``obj.model_copy(update={...})`` the next call uses the new
  values; a copy never shares another object's clients. A forked child process opens its own
  connections.
* **Copies and pickles.** ``copy.deepcopy`` keeps the key and shares the caller's httpx
  clients, quota limiter and retry policy (they are meant to be shared). ``pickle`` never
  carries the key, the legacy gateway key or a caller's httpx clients: the unpickled object
  reads ``CLOVASTUDIO_API_KEY`` from its own environment on first use (a worker process
  gets the key from its environment, not from the pickle) and builds its own clients.

Renamed settings keep working with a ``DeprecationWarning``: ``async_http_client`` is now
``http_async_client`` (the LangChain name).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    model_validator,
)

from clova_core.client_cache import AsyncHttpClient, ClientCache, ClientPool, HttpClient
from clova_core.constants import DEFAULT_MAX_RETRIES
from clova_core.quota import QuotaLimiter
from clova_core.retry import RetryPolicy

_Settings = TypeVar("_Settings", bound="ConnectionSettings")

_NOT_PICKLED = ("api_key", "apigw_api_key", "http_client", "http_async_client")
"""Fields a pickle leaves out: credentials, and httpx clients (live connections)."""
_SHARED_BY_COPIES = ("http_client", "http_async_client", "quota_limiter", "retry_policy")
"""Fields ``copy.deepcopy`` shares instead of copying (a limiter must be shared to work)."""


_LIBRARY_PACKAGES = (
    "clova_core",
    "langchain_clova",
    "llama_index_clova",
    "pydantic",
    "langchain_core",
    "llama_index",
)


def caller_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside this package and the frameworks, so a
    deprecation warning points at the user's line whatever the framework's call depth."""
    level, frame = 1, sys._getframe(1)
    while frame.f_back is not None:
        name = frame.f_globals.get("__name__", "")
        if not name.startswith(_LIBRARY_PACKAGES):
            break
        frame, level = frame.f_back, level + 1
    return level


def renamed_settings(data: Any, renames: Mapping[str, str], owner: str) -> Any:
    """``data`` with deprecated setting names moved to their new names (with a warning)."""
    if not isinstance(data, dict):
        return data
    for old, new in renames.items():
        if old in data:
            warnings.warn(
                f"{owner}({old}=...) is deprecated; use {new}=... instead.",
                DeprecationWarning,
                stacklevel=caller_stacklevel(),
            )
            data = {key: value for key, value in data.items() if key != old} | {new: data[old]}
    return data


class ConnectionSettings(BaseModel):
    """Key, endpoint, timeouts, retries, headers, HTTP clients and quota of a CLOVA object."""

    model_config = ConfigDict(
        arbitrary_types_allowed=True, populate_by_name=True, protected_namespaces=()
    )

    api_key: SecretStr | None = Field(default=None, exclude=True)
    """API key; ``CLOVASTUDIO_API_KEY`` is read when this is not given. Never pickled."""
    apigw_api_key: SecretStr | None = Field(default=None, exclude=True)
    """Legacy API Gateway key, for keys issued before 2025 (two-header auth);
    ``NCP_APIGW_API_KEY`` is read next to an old-style key."""
    base_url: str | None = None
    """API base URL; ``CLOVASTUDIO_API_BASE_URL`` is read when not given, else the public
    host."""
    timeout: float | None = Field(
        default=None, validation_alias=AliasChoices("timeout", "request_timeout")
    )
    """Seconds per request (connect, read, write, pool); the core's default when None."""
    max_retries: int = DEFAULT_MAX_RETRIES
    """Retries of 429 / 5xx / connection errors, done by the core (never stacked)."""
    default_headers: dict[str, str] | None = None
    """Extra HTTP headers sent with every request."""
    http_client: HttpClient = Field(default=None, exclude=True)
    """Your own ``httpx.Client``, used exactly as configured and never closed by us."""
    http_async_client: AsyncHttpClient = Field(default=None, exclude=True)
    """Your own ``httpx.AsyncClient`` (used in every event loop, never closed by us)."""
    quota_limiter: QuotaLimiter | None = Field(default=None, exclude=True)
    """Any object with ``acquire(tokens)`` / ``aacquire(tokens)``
    (``clova_core.quota.QuotaLimiter``), such as ``clova_core.RateLimiter.for_model(...)``:
    the core waits on it before every request and retry, so bulk work stays under the
    account's QPM / TPM quota. Share one per model. Unlike the frameworks' own
    ``rate_limiter`` it counts tokens."""
    retry_policy: RetryPolicy | None = Field(default=None, exclude=True)
    """Backoff of the core's retries (default: full-jitter exponential backoff from 0.5 s up
    to 8 s, a server's ``Retry-After`` honoured)."""

    _client_cache: ClientCache = PrivateAttr(default_factory=ClientCache)

    def __init__(self, /, **data: Any) -> None:
        """Validate the fields, then check the settings with the core (after validation, so
        the core's typed errors reach the caller as they are, not as a ``ValidationError``)."""
        super().__init__(**data)
        self._check_settings()

    @model_validator(mode="before")
    @classmethod
    def _renamed_connection_settings(cls, data: Any) -> Any:
        return renamed_settings(data, {"async_http_client": "http_async_client"}, cls.__name__)

    def _check_settings(self) -> None:
        """Construction-time checks: build the sync client (a missing key, a bad base URL or
        ``max_retries`` raise here). Subclasses add their model lookup."""
        _ = self._core().sync

    @property
    def async_http_client(self) -> Any:
        """Deprecated name of :attr:`http_async_client`."""
        warnings.warn(
            "async_http_client is deprecated; use http_async_client.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.http_async_client

    # --- the clients -------------------------------------------------------------------

    def _connection_key(self) -> tuple[object, ...]:
        headers = self.default_headers
        return (
            self.api_key,
            self.apigw_api_key,
            self.base_url,
            self.timeout,
            self.max_retries,
            tuple(sorted(headers.items())) if headers else None,
            self.http_client,
            self.http_async_client,
            self.quota_limiter,
            self.retry_policy,
        )

    def _new_pool(self) -> ClientPool:
        return ClientPool(
            api_key=self.api_key,
            apigw_api_key=self.apigw_api_key,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
            default_headers=self.default_headers,
            http_client=self.http_client,
            async_http_client=self.http_async_client,
            rate_limiter=self.quota_limiter,
            retry_policy=self.retry_policy,
        )

    def _core(self) -> ClientPool:
        """The core clients for the current settings (rebuilt when they changed)."""
        return self._client_cache.get(self._connection_key(), self._new_pool)

    def close(self) -> None:
        """Close the sync HTTP connections, also of clients replaced after a settings change
        (rebuilt on next use; a caller's ``http_client`` stays open)."""
        self._client_cache.close()

    async def aclose(self) -> None:
        """Close the sync connections and the running event loop's async ones."""
        await self._client_cache.aclose()

    def __enter__(self: _Settings) -> _Settings:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self: _Settings) -> _Settings:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # --- copies and pickles --------------------------------------------------------------

    def __copy__(self) -> Any:
        copied = super().__copy__()
        copied._client_cache = ClientCache()
        return copied

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Any:
        memo = {} if memo is None else memo
        for name in _SHARED_BY_COPIES:
            value = self.__dict__.get(name)
            if value is not None:
                memo[id(value)] = value
        return super().__deepcopy__(memo)

    def __getstate__(self) -> dict[Any, Any]:
        state = dict(super().__getstate__())
        fields = dict(state["__dict__"])
        for name in _NOT_PICKLED:
            fields[name] = None
        state["__dict__"] = fields
        return state


__all__ = ["ConnectionSettings", "caller_stacklevel", "renamed_settings"]
