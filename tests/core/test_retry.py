"""The pure retry policy (clova-api.md 8.1, 8.2): what is retried and how long we wait."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import format_datetime

import httpx
import pytest

from clova_core.constants import (
    INITIAL_RETRY_DELAY_SECONDS,
    MAX_RETRY_AFTER_SECONDS,
    MAX_RETRY_DELAY_SECONDS,
)
from clova_core.errors import (
    APIConnectionError,
    APIError,
    APIResponseError,
    APITimeoutError,
    StreamError,
    error_from_response,
)
from clova_core.retry import (
    RetryPolicy,
    is_retryable_error,
    is_retryable_status,
    parse_duration,
    parse_retry_after,
    retry_delay,
)

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (406, False),
        (408, True),
        (413, False),
        (415, False),
        (424, False),
        (429, True),
        (500, True),
        (501, True),
        (502, True),
        (503, True),
        (504, True),
        (599, True),
        (200, False),
        (600, False),
    ],
)
def test_retryable_statuses(status: int, retryable: bool) -> None:
    assert is_retryable_status(status) is retryable


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (APIConnectionError("x"), True),
        (APITimeoutError("x"), True),
        (APIResponseError("x"), False),
        (StreamError("x"), False),
        (StreamError("x", status_code=429, code="42902"), True),
        (StreamError("x", status_code=400, code="40001"), False),
        (error_from_response(429, b"", request_id="r"), True),
        (error_from_response(503, b"", request_id="r"), True),
        (error_from_response(400, b"", request_id="r"), False),
        (error_from_response(401, b"", request_id="r"), False),
    ],
)
def test_retryable_errors(error: APIError, retryable: bool) -> None:
    assert is_retryable_error(error) is retryable


@pytest.mark.parametrize(
    ("headers", "status", "seconds"),
    [
        ({}, 429, None),
        ({"Retry-After": "3"}, 429, 3.0),
        ({"retry-after": "0"}, 503, 0.0),
        ({"Retry-After": "1.5"}, 429, 1.5),
        ({"Retry-After": "-4"}, 429, 0.0),
        ({"Retry-After": "soon"}, 429, None),
        (
            {
                "Retry-After": format_datetime(
                    datetime.fromtimestamp(NOW + 7, timezone.utc), usegmt=True
                )
            },
            429,
            7.0,
        ),
        (
            {
                "Retry-After": format_datetime(
                    datetime.fromtimestamp(NOW - 9, timezone.utc), usegmt=True
                )
            },
            429,
            0.0,
        ),
        ({"retry-after-ms": "250"}, 429, 0.25),
        ({"retry-after-ms": "250", "retry-after": "9"}, 429, 0.25),
        ({"retry-after-ms": "x", "retry-after": "9"}, 429, 9.0),
        ({"x-ratelimit-reset-requests": "1s"}, 429, 1.0),
        ({"x-ratelimit-reset-requests": "20ms"}, 429, 0.02),
        ({"x-ratelimit-reset-requests": "1m30s"}, 429, 90.0),
        ({"x-ratelimit-reset-requests": "1s"}, 503, None),
        (
            {"x-ratelimit-reset-requests": "2s", "x-ratelimit-remaining-requests": "5"},
            429,
            None,
        ),
        (
            {
                "x-ratelimit-reset-requests": "2s",
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-tokens": "6m0s",
                "x-ratelimit-remaining-tokens": "0",
            },
            429,
            360.0,
        ),
        ({"Retry-After": "2", "x-ratelimit-reset-requests": "9s"}, 429, 2.0),
    ],
)
def test_parse_retry_after(headers: dict[str, str], status: int, seconds: float | None) -> None:
    parsed = parse_retry_after(httpx.Headers(headers), status_code=status, now=lambda: NOW)
    assert parsed == (None if seconds is None else pytest.approx(seconds))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1s", 1.0),
        ("20ms", 0.02),
        ("6m0s", 360.0),
        ("1h2m3s", 3723.0),
        ("0.5", 0.5),
        ("", None),
        ("abc", None),
        ("5x", None),
    ],
)
def test_parse_duration(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == (None if seconds is None else pytest.approx(seconds))


@pytest.mark.parametrize("attempt", range(8))
@pytest.mark.parametrize("draw", [0.0, 0.25, 0.999999])
def test_backoff_is_full_jitter_within_bounds(attempt: int, draw: float) -> None:
    policy = RetryPolicy(random=lambda: draw)
    ceiling = min(MAX_RETRY_DELAY_SECONDS, INITIAL_RETRY_DELAY_SECONDS * 2**attempt)
    assert policy.backoff(attempt) == pytest.approx(ceiling * draw)
    assert 0.0 <= policy.backoff(attempt) <= MAX_RETRY_DELAY_SECONDS


def test_backoff_grows_then_caps() -> None:
    policy = RetryPolicy(random=lambda: 1.0)
    delays = [policy.backoff(n) for n in range(7)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_retry_after_wins_over_backoff_and_long_waits_give_up() -> None:
    policy = RetryPolicy(random=lambda: 1.0)
    assert policy.delay(0, 3.0) == 3.0
    assert policy.delay(0, MAX_RETRY_AFTER_SECONDS) == MAX_RETRY_AFTER_SECONDS
    assert policy.delay(0, MAX_RETRY_AFTER_SECONDS + 1) is None
    assert policy.delay(2, None) == 2.0


@pytest.mark.parametrize(
    ("error", "attempt", "max_retries", "expected"),
    [
        (error_from_response(429, b"", request_id="r", retry_after=1.0), 0, 2, 1.0),
        (error_from_response(429, b"", request_id="r", retry_after=1.0), 1, 2, 1.0),
        (error_from_response(429, b"", request_id="r", retry_after=1.0), 2, 2, None),
        (error_from_response(429, b"", request_id="r", retry_after=1.0), 0, 0, None),
        (error_from_response(429, b"", request_id="r", retry_after=600.0), 0, 2, None),
        (error_from_response(500, b"", request_id="r"), 1, 2, 1.0),
        (error_from_response(400, b"", request_id="r"), 0, 2, None),
        (APITimeoutError("t"), 0, 1, 0.5),
        (APIResponseError("bad"), 0, 5, None),
    ],
)
def test_retry_delay_table(
    error: APIError, attempt: int, max_retries: int, expected: float | None
) -> None:
    policy = RetryPolicy(random=lambda: 1.0)
    assert retry_delay(error, attempt=attempt, max_retries=max_retries, policy=policy) == expected
