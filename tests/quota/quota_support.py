"""What the quota tests share: the scenario table every limiter must follow, and a counter
of the most requests and tokens any window holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Scenario:
    """Requests reserved at given times, and the waits the rules give them."""

    name: str
    settings: dict[str, Any]
    steps: list[tuple[float, int]]
    """(time of the call, tokens)"""
    waits: list[float]
    extra: dict[str, Any] = field(default_factory=dict)


TABLE = [
    Scenario(
        "requests: a burst of half a window, then paced at window / limit",
        {"requests_per_minute": 4, "window_seconds": 10.0, "margin_seconds": 0.0, "burst": 0.5},
        [(0.0, 0)] * 5,
        [0.0, 0.0, 2.5, 5.0, 10.0],
    ),
    Scenario(
        "tokens: paced by size, and never more than the limit in one window",
        {"tokens_per_minute": 100, "window_seconds": 10.0, "margin_seconds": 0.0, "burst": 0.1},
        [(0.0, 30), (0.0, 30), (0.0, 5), (0.0, 50)],
        [0.0, 3.0, 5.5, 10.0],
    ),
    Scenario(
        "the margin widens the window the limit applies to",
        {"requests_per_minute": 2, "window_seconds": 1.0, "margin_seconds": 0.5, "burst": 1.0},
        [(0.0, 0)] * 3,
        [0.0, 0.0, 1.5],
    ),
    Scenario(
        "after an idle spell nothing waits",
        {"requests_per_minute": 2, "window_seconds": 1.0, "margin_seconds": 0.0, "burst": 1.0},
        [(0.0, 0), (0.0, 0), (5.0, 0), (5.0, 0)],
        [0.0, 0.0, 0.0, 0.0],
    ),
    Scenario(
        "first come, first served: a small request queues behind a large one",
        {"tokens_per_minute": 100, "window_seconds": 10.0, "margin_seconds": 0.0, "burst": 1.0},
        [(0.0, 90), (1.0, 90), (2.0, 1)],
        [0.0, 9.0, 8.0],
    ),
    Scenario(
        "both limits: the tokens bind, then the requests",
        {
            "requests_per_minute": 10,
            "tokens_per_minute": 50,
            "window_seconds": 10.0,
            "margin_seconds": 0.0,
            "burst": 0.2,
        },
        [(0.0, 10), (0.0, 1), (0.0, 1)],
        [0.0, 0.2, 1.0],
    ),
]


def max_in_window(stamps: list[tuple[float, int]], window: float) -> tuple[int, int]:
    """The most requests and tokens that fall in any half-open window of ``window`` seconds."""
    stamps = sorted(stamps)
    most_requests = most_tokens = 0
    for i, (start, _) in enumerate(stamps):
        inside = [tokens for at, tokens in stamps[i:] if at < start + window]
        most_requests = max(most_requests, len(inside))
        most_tokens = max(most_tokens, sum(inside))
    return most_requests, most_tokens
