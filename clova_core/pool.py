"""Deprecated alias of :mod:`clova_core.client_cache` (renamed: it caches clients)."""

from __future__ import annotations

import warnings

from clova_core.client_cache import AsyncHttpClient, ClientPool, HttpClient

__all__ = ["AsyncHttpClient", "ClientPool", "HttpClient"]

warnings.warn(
    "clova_core.pool is deprecated; import from clova_core.client_cache instead.",
    DeprecationWarning,
    stacklevel=2,
)
