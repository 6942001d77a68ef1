"""The client-side QPM / TPM limiter: no window ever holds more than the limits."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time

import httpx
import pytest
from transport_fakes import BASE, TEST_KEY, ok

from clova_core.client import AsyncClovaClient, ClovaClient
from clova_core.errors import ClovaConfigurationError, ClovaValidationError
from clova_core.ratelimit import RateLimiter
from clova_core.tokens import estimate_tokens
from clova_core.types import ChatRequest, Message

WINDOW = 0.3


def max_in_window(stamps: list[tuple[float, int]], window: float) -> tuple[int, int]:
    """The most requests and tokens that fall in any half-open window of ``window`` seconds."""
    stamps = sorted(stamps)
    most_requests = most_tokens = 0
    for i, (start, _) in enumerate(stamps):
        inside = [tokens for at, tokens in stamps[i:] if at < start + window]
        most_requests = max(most_requests, len(inside))
        most_tokens = max(most_tokens, sum(inside))
    return most_requests, most_tokens


def test_requests_per_window_are_capped_across_threads() -> None:
    limiter = RateLimiter(requests_per_minute=5, window_seconds=WINDOW, burst=1.0)
    stamps: list[tuple[float, int]] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(3):
            limiter.acquire()
            with lock:
                stamps.append((time.monotonic(), 0))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(stamps) == 12
    requests, _ = max_in_window(stamps, WINDOW * 0.98)
    assert requests <= 5
    # 12 requests at 5 per window cannot all fit in the first two windows.
    assert max(at for at, _ in stamps) - min(at for at, _ in stamps) >= 2 * WINDOW * 0.9


async def test_tokens_per_window_are_capped_across_tasks() -> None:
    limiter = RateLimiter(tokens_per_minute=100, window_seconds=WINDOW)
    stamps: list[tuple[float, int]] = []

    async def task(tokens: int) -> None:
        await limiter.aacquire(tokens)
        stamps.append((time.monotonic(), tokens))

    await asyncio.gather(*(task(30) for _ in range(7)))

    _, tokens = max_in_window(stamps, WINDOW * 0.98)
    assert tokens <= 100
    assert len(stamps) == 7


def test_a_request_larger_than_the_token_limit_is_a_typed_error() -> None:
    limiter = RateLimiter(tokens_per_minute=100)
    with pytest.raises(ClovaValidationError, match="tokens_per_minute is 100"):
        limiter.acquire(101)


def test_within_limits_nothing_waits() -> None:
    # A frozen clock: any wait would never end, so finishing proves no request waited.
    limiter = RateLimiter(
        requests_per_minute=3, tokens_per_minute=300, burst=1.0, clock=lambda: 0.0
    )
    done = threading.Event()

    def send_three() -> None:
        for _ in range(3):
            limiter.acquire(100)
        done.set()

    threading.Thread(target=send_three, daemon=True).start()
    assert done.wait(timeout=2.0)


def test_a_long_job_is_paced_evenly_after_a_short_burst() -> None:
    """Default settings at 60 requests a minute: a tenth of the limit goes at once, then one
    request every (60 s + the 2% margin) / 60, never a window's worth in a lump."""
    now = [0.0]
    limiter = RateLimiter(requests_per_minute=60, clock=lambda: now[0])
    starts = [limiter.reserve() for _ in range(20)]
    assert starts[:6] == [0.0] * 6
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts[5:])]
    assert gaps == pytest.approx([61.2 / 60] * 14)


def test_the_margin_is_two_percent_of_the_window_unless_given() -> None:
    assert RateLimiter(60).settings.span == pytest.approx(61.2)
    assert RateLimiter(60, window_seconds=1.0, margin_seconds=0.25).settings.span == 1.25


@pytest.mark.parametrize("value", [0, -5])
def test_non_positive_limits_are_rejected(value: int) -> None:
    with pytest.raises(ClovaConfigurationError, match="positive"):
        RateLimiter(requests_per_minute=value)


def test_repr_shows_limits() -> None:
    assert repr(RateLimiter(60, 1000)) == (
        "RateLimiter(requests_per_minute=60, tokens_per_minute=1000)"
    )


# --- through the client: the limiter gates real requests on the wire -----------------------


def _embedding_reply(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/tokenize"):
        return ok({"numTokens": 5})
    return ok({"embedding": [0.1] * 4, "inputTokens": 3})


def test_client_requests_never_exceed_the_limit_in_any_window() -> None:
    arrivals: list[tuple[float, int]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        arrivals.append((time.monotonic(), 0))
        return _embedding_reply(request)

    limiter = RateLimiter(requests_per_minute=3, window_seconds=WINDOW)
    http = httpx.Client(transport=httpx.MockTransport(handler))
    with ClovaClient(api_key=TEST_KEY, base_url=BASE, http_client=http, rate_limiter=limiter) as c:
        for _ in range(7):
            c.embed("안녕하세요")
        c.count_embedding_tokens("not counted against the quota")

    assert len(arrivals) == 8
    requests, _ = max_in_window(arrivals[:7], WINDOW * 0.98)
    assert requests <= 3


async def test_async_chat_charges_input_plus_requested_output() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok({"message": {"role": "assistant", "content": "hi"}, "finishReason": "stop"})

    limiter = RateLimiter(tokens_per_minute=2_000)
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = AsyncClovaClient(
        api_key=TEST_KEY, base_url=BASE, http_client=http, rate_limiter=limiter
    )
    async with client:
        await client.chat(ChatRequest(model="HCX-005", messages=[Message("user", "hi")]))
        # 3,000 requested output tokens alone exceed a 2,000 TPM quota: refused before sending.
        with pytest.raises(ClovaValidationError, match="tokens_per_minute is 2000"):
            await client.chat(
                ChatRequest(model="HCX-005", messages=[Message("user", "hi")], max_tokens=3_000)
            )
    assert len(seen) == 1


def test_an_embedding_is_charged_its_estimated_tokens() -> None:
    """The quota of an embedding is estimated from its text when a limiter asks for it."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _embedding_reply(request)

    text = "하이퍼클로바X 임베딩 문장입니다. " * 20
    limit = estimate_tokens(text) - 1
    limiter = RateLimiter(tokens_per_minute=limit)
    http = httpx.Client(transport=httpx.MockTransport(handler))
    with ClovaClient(api_key=TEST_KEY, base_url=BASE, http_client=http, rate_limiter=limiter) as c:
        with pytest.raises(ClovaValidationError, match=f"tokens_per_minute is {limit}"):
            c.embed(text)
        c.embed("짧은 문장")
    assert len(seen) == 1
