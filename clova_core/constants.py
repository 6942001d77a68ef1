"""Constants shared by the client, the glue packages and the emulator.

Header names, paths and limits of the CLOVA Studio API.
"""

from __future__ import annotations

ENV_API_KEY = "CLOVASTUDIO_API_KEY"
"""Environment variable holding the API key (same name as langchain-naver)."""
ENV_APIGW_API_KEY = "NCP_APIGW_API_KEY"
"""Environment variable holding the legacy API Gateway key."""
ENV_BASE_URL = "CLOVASTUDIO_API_BASE_URL"
"""Environment variable overriding the base URL (same name as langchain-naver)."""

DEFAULT_BASE_URL = "https://clovastudio.stream.ntruss.com"
DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_CONNECT_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_RETRIES = 2
INITIAL_RETRY_DELAY_SECONDS = 0.5
MAX_RETRY_DELAY_SECONDS = 8.0
MAX_RETRY_AFTER_SECONDS = 60.0
"""A ``Retry-After`` longer than this is not slept on; the error is raised instead."""

HEADER_AUTHORIZATION = "Authorization"
HEADER_REQUEST_ID = "X-NCP-CLOVASTUDIO-REQUEST-ID"
HEADER_LEGACY_API_KEY = "X-NCP-CLOVASTUDIO-API-KEY"
HEADER_LEGACY_APIGW_KEY = "X-NCP-APIGW-API-KEY"
SECRET_HEADERS = frozenset(
    {HEADER_AUTHORIZATION.lower(), HEADER_LEGACY_API_KEY.lower(), HEADER_LEGACY_APIGW_KEY.lower()}
)
"""Headers that carry credentials: never logged, never recorded in cassettes."""

SUCCESS_CODE = "20000"
