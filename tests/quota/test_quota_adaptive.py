"""The adaptive limiter: slow start, the first 429 measures the quota, gentle probing, one
cut per overshoot, ``Retry-After`` honoured; and against the emulator it converges to a
quota it was never told."""

from __future__ import annotations

import pytest

from clova_core.errors import ClovaConfigurationError
from clova_core.quota import QuotaFeedback, QuotaLimiter
from clova_core.ratelimit_adaptive import AdaptiveRateLimiter
from clova_emulator import Emulator
from langchain_clova import ClovaXEmbeddings


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def limiter(clock: Clock, **settings: float) -> AdaptiveRateLimiter:
    return AdaptiveRateLimiter(
        start_requests_per_minute=10,
        window_seconds=10.0,
        margin_seconds=0.0,
        clock=clock,
        **settings,  # type: ignore[arg-type]
    )


def test_it_is_both_protocols() -> None:
    adaptive = AdaptiveRateLimiter()
    assert isinstance(adaptive, QuotaLimiter)
    assert isinstance(adaptive, QuotaFeedback)


def test_slow_start_then_the_first_429_sets_the_limit_to_what_was_accepted() -> None:
    clock = Clock()
    adaptive = limiter(clock)
    for _ in range(15):
        clock.now += 0.1
        adaptive.record_reply(status=200, retry_after=None)
    assert adaptive.requests_per_minute == 25  # 10 + one per success
    assert not adaptive.found

    clock.now += 0.1
    adaptive.record_reply(status=429, retry_after=None)
    assert adaptive.found
    assert adaptive.requests_per_minute == 15  # the successes of the last window
    assert adaptive.too_many == 1


def test_429s_in_flight_cut_once_and_later_ones_cut_again() -> None:
    clock = Clock()
    adaptive = limiter(clock)
    for _ in range(40):
        clock.now += 0.2
        adaptive.record_reply(status=200, retry_after=None)
    adaptive.record_reply(status=429, retry_after=None)
    measured = adaptive.requests_per_minute
    assert measured == 40
    for _ in range(3):  # the same overshoot, replies of requests already sent
        clock.now += 0.1
        adaptive.record_reply(status=429, retry_after=None)
    assert adaptive.requests_per_minute == measured
    clock.now += 1.0  # a new overshoot, later than a twentieth of a window
    adaptive.record_reply(status=429, retry_after=None)
    assert adaptive.requests_per_minute == int(measured * 0.9)


def test_after_the_first_429_it_probes_by_a_share_of_the_limit_per_window() -> None:
    clock = Clock()
    adaptive = limiter(clock, probe=0.1)
    for _ in range(50):
        clock.now += 0.2
        adaptive.record_reply(status=200, retry_after=None)
    adaptive.record_reply(status=429, retry_after=None)
    assert adaptive.requests_per_minute == 50
    for _ in range(50):  # one window's worth of successes: +10%
        clock.now += 0.2
        adaptive.record_reply(status=200, retry_after=None)
    assert 54 <= adaptive.requests_per_minute <= 55


def test_retry_after_holds_every_caller() -> None:
    clock = Clock()
    adaptive = limiter(clock, burst=1.0)
    assert adaptive.reserve() == 0.0
    for _ in range(5):
        adaptive.record_reply(status=200, retry_after=None)
    adaptive.record_reply(status=429, retry_after=2.5)
    assert adaptive.requests_per_minute == 5
    assert adaptive.reserve() == pytest.approx(2.5)


def test_other_failures_teach_nothing() -> None:
    clock = Clock()
    adaptive = limiter(clock)
    for status in (None, 500, 503, 400):
        adaptive.record_reply(status=status, retry_after=1.0)
    assert adaptive.requests_per_minute == 10
    assert adaptive.reserve() == 0.0


def test_the_ceiling_caps_growth() -> None:
    clock = Clock()
    adaptive = limiter(clock, max_requests_per_minute=12)
    for _ in range(10):
        adaptive.record_reply(status=200, retry_after=None)
    assert adaptive.requests_per_minute == 12


@pytest.mark.parametrize(
    "settings",
    [
        {"start_requests_per_minute": 0},
        {"max_requests_per_minute": 0},
        {"growth": 0},
        {"decrease": 1.0},
        {"probe": -0.1},
    ],
)
def test_bad_settings_are_typed_errors(settings: dict[str, float]) -> None:
    with pytest.raises(ClovaConfigurationError):
        AdaptiveRateLimiter(**settings)  # type: ignore[arg-type]


def test_it_converges_to_a_quota_it_was_never_told(emu: Emulator) -> None:
    """The emulator allows 30 requests per 1 s window; the limiter starts at 5 and is told
    only what the replies say. The run finishes, the limit lands just under the quota, and
    429s are a small share of the requests."""
    quota = 30
    emu.configure(qpm={"bge-m3": quota}, rate_window=1.0, latency=0.02, latency_jitter=0.03)
    adaptive = AdaptiveRateLimiter(
        start_requests_per_minute=5, window_seconds=1.0, margin_seconds=0.1
    )
    embeddings = ClovaXEmbeddings(
        model="bge-m3",
        api_key="test-key",
        base_url=emu.base_url,
        max_retries=6,
        max_concurrency=8,
        quota_limiter=adaptive,
    )
    try:
        vectors = embeddings.embed_documents([f"text {index}" for index in range(200)])
    finally:
        embeddings.close()
    assert len(vectors) == 200
    statuses = [record.status for record in emu.requests]
    assert statuses.count(200) == 200
    assert adaptive.found
    assert adaptive.too_many == statuses.count(429)
    assert 0.7 * quota <= adaptive.requests_per_minute <= 1.1 * quota
    assert statuses.count(429) <= 0.1 * len(statuses)
