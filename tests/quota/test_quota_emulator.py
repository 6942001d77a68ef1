"""The emulator counts by arrival like a server, and the limiter stays under its quota
whatever the window's kind and alignment.

The issue's measurement: 20 requests per 1 s window, 150 texts, about 50 ms latency with
jitter, counted at arrival: the limiter set to exactly that quota must meet no 429
(``max_retries=0``, so one 429 would fail the run)."""

from __future__ import annotations

import pytest

from clova_core.ratelimit import RateLimiter
from clova_emulator import Emulator
from clova_emulator.faults import Limits
from clova_emulator.faults import RateLimiter as ServerLimiter
from clova_emulator.serving.envelope import EmulatedApiError
from langchain_clova import ClovaXEmbeddings

KEY = "test-key"
MODEL = "bge-m3"


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def admitted(server: ServerLimiter, clock: Clock, at: float, **window: object) -> bool:
    clock.now = 50.0 + at
    try:
        server.admit(Limits("m", 2, None), 0, 1.0, headers=False, **window)  # type: ignore[arg-type]
    except EmulatedApiError as error:
        refused = (error.status, error.code)
    else:
        return True
    assert refused == (429, "42901")
    return False


def test_sliding_window_counts_any_window_of_arrivals() -> None:
    clock = Clock()
    server = ServerLimiter(clock)
    assert [admitted(server, clock, at) for at in (0.0, 0.6, 0.9, 1.0, 1.5, 1.6)] == [
        True,
        True,
        False,  # 0.0 and 0.6 are within the last second
        True,  # 0.0 left the window at 1.0
        False,
        True,
    ]


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        # windows [0, 1), [1, 2): 0.0 and 0.4 fill the first; 1.1 and 1.4 the second
        (0.0, [True, True, False, False, True, True]),
        # windows [-0.5, 0.5), [0.5, 1.5): 0.0, 0.4 fill the first; 0.6, 0.9 the second
        (0.5, [True, True, True, True, False, False]),
    ],
)
def test_fixed_windows_start_at_the_offset(offset: float, expected: list[bool]) -> None:
    clock = Clock()
    server = ServerLimiter(clock)
    results = [
        admitted(server, clock, at, mode="fixed", offset=offset)
        for at in (0.0, 0.4, 0.6, 0.9, 1.1, 1.4)
    ]
    assert results == expected


def test_the_count_is_taken_after_the_emulated_latency(emu: Emulator) -> None:
    """Latency and jitter are spent before the count: the log's durations include them and
    a second request inside the window is refused even though it was sent later."""
    emu.configure(qpm={MODEL: 1}, rate_window=30, latency=0.05, latency_jitter=0.05)
    embeddings = ClovaXEmbeddings(model=MODEL, api_key=KEY, base_url=emu.base_url, max_retries=0)
    try:
        embeddings.embed_query("one")
        with pytest.raises(Exception, match="42901"):
            embeddings.embed_query("two")
    finally:
        embeddings.close()
    records = emu.requests
    assert [record.status for record in records] == [200, 429]
    assert all(0.05 <= record.duration < 1.0 for record in records)


def run_at_quota(emu: Emulator, texts: int, **window: object) -> list[int | None]:
    emu.configure(qpm={MODEL: 20}, rate_window=1.0, latency=0.04, latency_jitter=0.02, **window)
    limiter = RateLimiter(20, window_seconds=1.0, margin_seconds=0.1)
    embeddings = ClovaXEmbeddings(
        model=MODEL,
        api_key=KEY,
        base_url=emu.base_url,
        max_retries=0,
        max_concurrency=8,
        quota_limiter=limiter,
    )
    try:
        vectors = embeddings.embed_documents([f"text {index}" for index in range(texts)])
    finally:
        embeddings.close()
    assert len(vectors) == texts
    return [record.status for record in emu.requests]


def test_the_issue_measurement_meets_no_429(emu: Emulator) -> None:
    """20 per 1 s sliding window counted at arrival, 150 texts, 40-60 ms latency."""
    assert run_at_quota(emu, 150) == [200] * 150


@pytest.mark.parametrize("offset", [0.0, 0.37, 0.81])
def test_any_fixed_window_alignment_meets_no_429(emu: Emulator, offset: float) -> None:
    assert run_at_quota(emu, 45, rate_mode="fixed", rate_window_offset=offset) == [200] * 45
