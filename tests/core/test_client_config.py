"""A client's settings are checked at construction, before anything is sent, each with a typed
error that says what to change: base URLs with a query, a fragment or ``/v1/openai``, and
timeouts that cannot work. Also: the rate limiter hears how every attempt ended
(``QuotaFeedback``), for plain calls and streams, sync and async."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest
from transport_fakes import (
    TEST_KEY,
    V3_RESULT,
    Server,
    async_client,
    clean_env,
    failure,
    ok,
    sse,
    stream_reply,
    sync_client,
    v3_result,
    v3_token,
)

from clova_core.client import AsyncClovaClient, ClovaClient
from clova_core.errors import ClovaConfigurationError, InternalServerError, RateLimitError
from clova_core.quota import QuotaFeedback
from clova_core.types import ChatRequest, Message

__all__ = ["clean_env"]

HELLO = ChatRequest(messages=[Message("user", "hello")], model="HCX-005")


@pytest.mark.parametrize(
    "base_url",
    [
        "https://clovastudio.stream.ntruss.com?x=1",
        "https://clovastudio.stream.ntruss.com/testapp?debug=1",
        "https://clovastudio.stream.ntruss.com/#frag",
    ],
)
@pytest.mark.parametrize("cls", [ClovaClient, AsyncClovaClient])
def test_base_url_with_a_query_or_fragment_is_refused(cls: type[Any], base_url: str) -> None:
    with pytest.raises(ClovaConfigurationError, match="query string or fragment"):
        cls(api_key=TEST_KEY, base_url=base_url)


@pytest.mark.parametrize(
    "base_url",
    [
        "https://clovastudio.stream.ntruss.com/v1/openai",
        "https://clovastudio.stream.ntruss.com/v1/openai/",
        "http://127.0.0.1:8080/V1/OpenAI",
    ],
)
def test_openai_compatible_base_url_says_to_remove_the_suffix(base_url: str) -> None:
    with pytest.raises(ClovaConfigurationError, match="remove /v1/openai: this package calls"):
        ClovaClient(api_key=TEST_KEY, base_url=base_url)


def test_base_url_from_the_environment_is_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOVASTUDIO_API_BASE_URL", "https://x.test/v1/openai")
    with pytest.raises(ClovaConfigurationError, match="/v1/openai"):
        ClovaClient(api_key=TEST_KEY)


@pytest.mark.parametrize(
    "timeout",
    [
        0,
        0.0,
        -1,
        math.nan,
        math.inf,
        -math.inf,
        True,
        httpx.Timeout(10.0, read=0),
        httpx.Timeout(10.0, connect=-1.0),
        httpx.Timeout(math.nan),
    ],
    ids=repr,
)
@pytest.mark.parametrize("cls", [ClovaClient, AsyncClovaClient])
def test_timeout_that_cannot_work_is_refused(cls: type[Any], timeout: Any) -> None:
    with pytest.raises(ClovaConfigurationError, match="above 0"):
        cls(api_key=TEST_KEY, timeout=timeout)


@pytest.mark.parametrize("total_timeout", [0, -2.0, math.nan, math.inf])
def test_total_timeout_that_cannot_work_is_refused(total_timeout: float) -> None:
    with pytest.raises(ClovaConfigurationError, match="total_timeout"):
        ClovaClient(api_key=TEST_KEY, total_timeout=total_timeout)


def test_valid_timeouts_are_accepted() -> None:
    for timeout in (0.5, 30, httpx.Timeout(10.0, pool=None), None):
        ClovaClient(api_key=TEST_KEY, timeout=timeout).close()


class Feedback:
    """A limiter that records what it is told (and never waits)."""

    def __init__(self) -> None:
        self.replies: list[tuple[int | None, float | None]] = []

    def acquire(self, tokens: int = 0) -> None:
        del tokens

    async def aacquire(self, tokens: int = 0) -> None:
        del tokens

    def record_reply(self, *, status: int | None, retry_after: float | None) -> None:
        self.replies.append((status, retry_after))


RATE_LIMITED = failure(429, "42901", "rate", {"Retry-After": "0"})


def test_limiter_hears_every_attempt_of_a_call() -> None:
    limiter = Feedback()
    assert isinstance(limiter, QuotaFeedback)
    server = Server(RATE_LIMITED, httpx.ConnectError("refused"), ok(V3_RESULT))
    sync_client(server, rate_limiter=limiter).chat(HELLO)
    assert limiter.replies == [(429, 0.0), (None, None), (200, None)]


def test_limiter_hears_the_final_failure_too() -> None:
    limiter = Feedback()
    server = Server(failure(503, "50300", "down"))
    client = sync_client(server, rate_limiter=limiter, max_retries=1)
    with pytest.raises(InternalServerError):
        client.embed("x")
    assert limiter.replies == [(503, None), (503, None)]


def test_limiter_hears_each_stream_attempt_once() -> None:
    limiter = Feedback()
    events = sse([("token", v3_token("Hi")), ("result", v3_result("Hi"))])
    server = Server(RATE_LIMITED, stream_reply([events], is_async=False))
    stream = sync_client(server, rate_limiter=limiter).stream_chat(HELLO)
    assert len(list(stream)) == 2
    assert limiter.replies == [(429, 0.0), (200, None)]


async def test_async_limiter_hears_every_attempt() -> None:
    limiter = Feedback()
    events = sse([("token", v3_token("Hi")), ("result", v3_result("Hi"))])
    server = Server(
        RATE_LIMITED, ok(V3_RESULT), httpx.ReadError("reset"), stream_reply([events], is_async=True)
    )
    async with async_client(server, rate_limiter=limiter) as client:
        await client.chat(HELLO)
        stream = await client.stream_chat(HELLO)
        assert len([event async for event in stream]) == 2
    assert limiter.replies == [(429, 0.0), (200, None), (None, None), (200, None)]


def test_limiter_without_feedback_is_fine() -> None:
    class Plain:
        def acquire(self, tokens: int = 0) -> None:
            del tokens

        async def aacquire(self, tokens: int = 0) -> None:
            del tokens

    server = Server(RATE_LIMITED, ok(V3_RESULT))
    sync_client(server, rate_limiter=Plain()).chat(HELLO)
    assert len(server.requests) == 2
    client = sync_client(Server(RATE_LIMITED), rate_limiter=Plain(), max_retries=0)
    with pytest.raises(RateLimitError):
        client.chat(HELLO)
