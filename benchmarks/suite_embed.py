"""Suite 3: embedding throughput against the latency / concurrency bound.

The emulator answers each embedding request after ``latency`` seconds and limits requests
per minute to ``qpm``. With ``C`` requests in flight, ``N`` texts cannot take less than
``N * latency / C`` (the bound) as long as ``N`` stays under the QPM quota of one window;
every trial starts from a fresh emulator window (``reset``), so with N = 1000 and
QPM = 6000 the quota never binds and any 429 counted is the client's doing. None of our
classes gets a client-side limiter here: the bound is latency and concurrency alone.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from benchmarks.embed_stacks import EmbedStack, build_mock_stacks, build_stacks, texts_for
from benchmarks.emulator_proc import EmulatorProcess
from benchmarks.results import EmbedRow
from benchmarks.settings import Settings
from benchmarks.timing import Summary, timed

Progress = Callable[[str], None]
DIMENSIONS = 1024


def bound_seconds(settings: Settings) -> float:
    """``N * latency / C``: the least time ``N`` one-text requests can take."""
    return settings.embed_texts * settings.embed_latency / settings.embed_concurrency


def _size(stack: EmbedStack, settings: Settings) -> int:
    return settings.embed_texts_sequential if stack.sequential else settings.embed_texts


def _checked(stack: EmbedStack, texts: list[str]) -> None:
    vectors = stack.embed(texts)
    if len(vectors) != len(texts) or any(len(vector) != DIMENSIONS for vector in vectors):
        raise RuntimeError(f"{stack.name}: wrong result shape")


def _rows(
    stacks: list[EmbedStack],
    seconds: dict[str, list[float]],
    sizes: dict[str, int],
    requests: dict[str, int],
    limited: dict[str, int],
) -> list[EmbedRow]:
    rows = []
    for stack in stacks:
        size = sizes[stack.name]
        rows.append(
            EmbedRow(
                name=stack.name,
                group=stack.group,
                library=stack.library,
                mode=stack.mode,
                texts=size,
                concurrency=stack.concurrency,
                seconds=Summary.of(seconds[stack.name]),
                texts_per_s=Summary.of([size / value for value in seconds[stack.name]]),
                requests=requests[stack.name],
                rate_limited=limited[stack.name],
                note=stack.note,
            )
        )
    return rows


def run_embed_mock(settings: Settings, progress: Progress) -> list[EmbedRow]:
    """The floor and ours with the server replaced by a mock transport that sleeps the same
    latency: is the client able to reach the bound when the server costs nothing?"""
    stacks = build_mock_stacks(settings.embed_latency, settings.embed_concurrency)
    texts = texts_for(settings.embed_mock_texts)
    seconds: dict[str, list[float]] = {stack.name: [] for stack in stacks}
    try:
        for stack in stacks:
            _checked(stack, texts[: 2 * settings.embed_concurrency])
        for trial in range(settings.embed_trials):
            shift = trial % len(stacks)
            for stack in [*stacks[shift:], *stacks[:shift]]:
                seconds[stack.name].append(timed(partial(_checked, stack, texts)))
        progress("embeddings: server-free check done")
    finally:
        for stack in stacks:
            stack.close()
    sizes = dict.fromkeys(seconds, len(texts))
    zeros = dict.fromkeys(seconds, 0)
    return _rows(stacks, seconds, sizes, zeros, zeros)


def run_embed(
    emu: EmulatorProcess, settings: Settings, progress: Progress
) -> tuple[list[EmbedRow], float]:
    """Seconds and texts/s per stack (median of trials), requests sent and 429s provoked."""
    knobs = {"latency": settings.embed_latency, "qpm": settings.embed_qpm, "token_delay": 0.0}
    emu.reset(**knobs)
    stacks = build_stacks(emu.base_url, settings.embed_concurrency)
    seconds: dict[str, list[float]] = {stack.name: [] for stack in stacks}
    requests = dict.fromkeys(seconds, 0)
    limited = dict.fromkeys(seconds, 0)
    try:
        for stack in stacks:  # warm-up: connections, lazy imports, thread pools
            _checked(stack, texts_for(min(_size(stack, settings), 2 * settings.embed_concurrency)))
        for trial in range(settings.embed_trials):
            shift = trial % len(stacks)
            for stack in [*stacks[shift:], *stacks[:shift]]:
                texts = texts_for(_size(stack, settings))
                emu.reset(**knobs)  # a fresh rate-limit window and request log
                seconds[stack.name].append(timed(partial(_checked, stack, texts)))
                counts = emu.counts()
                requests[stack.name] += counts.total
                limited[stack.name] += counts.rate_limited
            progress(f"embeddings trial {trial + 1}/{settings.embed_trials}")
    finally:
        for stack in stacks:
            stack.close()
    sizes = {stack.name: _size(stack, settings) for stack in stacks}
    return _rows(stacks, seconds, sizes, requests, limited), bound_seconds(settings)
