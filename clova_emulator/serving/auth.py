"""Authentication.

``Authorization: Bearer <key>`` with a key from ``Knobs.keys``, or the legacy pair
``X-NCP-CLOVASTUDIO-API-KEY`` + ``X-NCP-APIGW-API-KEY`` from ``Knobs.legacy_keys``. Missing
or unknown keys answer 401 / 40104 "Invalid key"; an ``Authorization`` header with another
scheme answers 401 / 40102 "Invalid Authentication Type". The OpenAI-compatible API takes
Bearer keys only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from clova_emulator.faults import Knobs
from clova_emulator.limits import (
    HEADER_AUTHORIZATION,
    HEADER_LEGACY_API_KEY,
    HEADER_LEGACY_APIGW_KEY,
)
from clova_emulator.serving.envelope import EmulatedApiError

AuthScheme = Literal["bearer", "legacy", "none", "other"]


def auth_scheme(headers: Mapping[str, str]) -> AuthScheme:
    """Which scheme the request used (what the request log records instead of the key)."""
    authorization = headers.get(HEADER_AUTHORIZATION.lower())
    if authorization is not None:
        return "bearer" if authorization.lower().startswith("bearer ") else "other"
    if headers.get(HEADER_LEGACY_API_KEY.lower()) is not None:
        return "legacy"
    return "none"


def authenticate(headers: Mapping[str, str], knobs: Knobs, *, bearer_only: bool = False) -> None:
    """Raise 401 unless the request carries an accepted key. ``headers`` are lower-cased."""
    authorization = headers.get(HEADER_AUTHORIZATION.lower())
    if authorization is not None:
        scheme, _, key = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            raise EmulatedApiError("40102")
        if key.strip() in knobs.keys:
            return
        raise EmulatedApiError("40104")
    if bearer_only:
        raise EmulatedApiError("40104")
    api_key = headers.get(HEADER_LEGACY_API_KEY.lower())
    gateway_key = headers.get(HEADER_LEGACY_APIGW_KEY.lower())
    if (
        api_key is not None
        and gateway_key is not None
        and (api_key.strip(), gateway_key.strip()) in knobs.legacy_keys
    ):
        return
    raise EmulatedApiError("40104")
