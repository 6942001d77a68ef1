"""Suite 3: embedding throughput against the latency / concurrency bound.

The emulator answers each embedding request after ``latency`` seconds and limits requests
per minute to ``qpm``. With ``C`` requests in flight, ``N`` texts cannot take less than
``N * latency / C`` (the bound) as long as ``N`` stays under the QPM quota of one window;
every trial starts from a fresh emulator window (``reset``), so with N = 1000 and
QPM = 6000 the quota never binds and any 429 counted is the client's doing. None of our
classes gets a client-side limiter here: the bound is latency and concurrency alone.

Each trial also records the CPU time of both processes: the benchmark's (the client under
test) per text and the emulator's per request. On a 2-core machine their sum per request
decides how close anything can get to the bound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from benchmarks.embed_stacks import EmbedStack, build_mock_stacks, build_stacks, texts_for
from benchmarks.emulator_proc import EmulatorProcess
from benchmarks.results import EmbedRow
from benchmarks.settings import Settings
from benchmarks.timing import Summary, timed_cpu

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


@dataclass
class _Trials:
    """What the trials of one stack measured."""

    seconds: list[float] = field(default_factory=list)
    client_cpu_ms: list[float] = field(default_factory=list)
    """Benchmark-process CPU per text."""
    server_cpu_ms: list[float] = field(default_factory=list)
    """Emulator CPU per request received."""
    requests: int = 0
    rate_limited: int = 0


def _rows(
    stacks: list[EmbedStack], trials: dict[str, _Trials], sizes: dict[str, int]
) -> list[EmbedRow]:
    rows = []
    for stack in stacks:
        size, measured = sizes[stack.name], trials[stack.name]
        rows.append(
            EmbedRow(
                name=stack.name,
                group=stack.group,
                library=stack.library,
                mode=stack.mode,
                texts=size,
                concurrency=stack.concurrency,
                seconds=Summary.of(measured.seconds),
                texts_per_s=Summary.of([size / value for value in measured.seconds]),
                requests=measured.requests,
                rate_limited=measured.rate_limited,
                note=stack.note,
                client_cpu_ms=Summary.of(measured.client_cpu_ms),
                server_cpu_ms=Summary.of(measured.server_cpu_ms)
                if measured.server_cpu_ms
                else None,
            )
        )
    return rows


def run_embed_mock(settings: Settings, progress: Progress) -> list[EmbedRow]:
    """The floor and ours with the server replaced by a mock transport that sleeps the same
    latency: is the client able to reach the bound when the server costs nothing?"""
    stacks = build_mock_stacks(settings.embed_latency, settings.embed_concurrency)
    texts = texts_for(settings.embed_mock_texts)
    trials = {stack.name: _Trials() for stack in stacks}
    try:
        for stack in stacks:
            _checked(stack, texts[: 2 * settings.embed_concurrency])
        for trial in range(settings.embed_trials):
            shift = trial % len(stacks)
            for stack in [*stacks[shift:], *stacks[:shift]]:
                wall, cpu = timed_cpu(partial(_checked, stack, texts))
                trials[stack.name].seconds.append(wall)
                trials[stack.name].client_cpu_ms.append(1000 * cpu / len(texts))
        progress("embeddings: server-free check done")
    finally:
        for stack in stacks:
            stack.close()
    return _rows(stacks, trials, dict.fromkeys(trials, len(texts)))


def run_embed(
    emu: EmulatorProcess, settings: Settings, progress: Progress
) -> tuple[list[EmbedRow], float]:
    """Seconds and texts/s per stack (median of trials), requests sent and 429s provoked."""
    knobs = {"latency": settings.embed_latency, "qpm": settings.embed_qpm, "token_delay": 0.0}
    emu.reset(**knobs)
    stacks = build_stacks(emu.base_url, settings.embed_concurrency)
    trials = {stack.name: _Trials() for stack in stacks}
    try:
        for stack in stacks:  # warm-up: connections, lazy imports, thread pools
            _checked(stack, texts_for(min(_size(stack, settings), 2 * settings.embed_concurrency)))
        for trial in range(settings.embed_trials):
            shift = trial % len(stacks)
            for stack in [*stacks[shift:], *stacks[:shift]]:
                texts = texts_for(_size(stack, settings))
                emu.reset(**knobs)  # a fresh rate-limit window and request log
                server_cpu = emu.cpu_seconds()
                wall, cpu = timed_cpu(partial(_checked, stack, texts))
                server_cpu = emu.cpu_seconds() - server_cpu
                counts = emu.counts()
                measured = trials[stack.name]
                measured.seconds.append(wall)
                measured.client_cpu_ms.append(1000 * cpu / len(texts))
                measured.server_cpu_ms.append(1000 * server_cpu / max(counts.total, 1))
                measured.requests += counts.total
                measured.rate_limited += counts.rate_limited
            progress(f"embeddings trial {trial + 1}/{settings.embed_trials}")
    finally:
        for stack in stacks:
            stack.close()
    sizes = {stack.name: _size(stack, settings) for stack in stacks}
    return _rows(stacks, trials, sizes), bound_seconds(settings)
