"""Suites 1 and 2: short-call overhead and streaming, every chat stack side by side.

Stacks run interleaved: each trial visits every stack once, in an order rotated per trial,
so slow drift of a shared machine spreads over all of them instead of landing on one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from benchmarks.chat_stacks import FLOOR_OF, LIBRARY_OF, ChatStack, build_stacks
from benchmarks.emulator_proc import EmulatorProcess
from benchmarks.results import ChatRow, StreamRow
from benchmarks.settings import Settings
from benchmarks.timing import Summary, per_call_median_cpu

Progress = Callable[[str], None]


def _rotated(stacks: Sequence[ChatStack], trial: int) -> list[ChatStack]:
    shift = trial % len(stacks)
    return [*stacks[shift:], *stacks[:shift]]


def _paired_delta(values: dict[str, list[float]], name: str, floor: str) -> list[float]:
    return [mine - base for mine, base in zip(values[name], values[floor], strict=True)]


def run_chat(emu: EmulatorProcess, settings: Settings, progress: Progress) -> list[ChatRow]:
    """Median wall time of a short ``invoke``/``chat`` per stack, and its overhead."""
    emu.reset(latency=0.0, token_delay=0.0)
    stacks = build_stacks(emu.base_url)
    try:
        for stack in stacks:
            for _ in range(settings.chat_warmup):
                stack.invoke()
        per_trial: dict[str, list[float]] = {stack.name: [] for stack in stacks}
        cpu_per_call: dict[str, list[float]] = {stack.name: [] for stack in stacks}
        for trial in range(settings.chat_trials):
            for stack in _rotated(stacks, trial):
                median, cpu = per_call_median_cpu(stack.invoke, settings.chat_calls)
                per_trial[stack.name].append(median)
                cpu_per_call[stack.name].append(cpu)
            progress(f"chat trial {trial + 1}/{settings.chat_trials}")
    finally:
        for stack in stacks:
            stack.close()
    rows = []
    for stack in stacks:
        floor = FLOOR_OF[stack.endpoint]
        rows.append(
            ChatRow(
                name=stack.name,
                group=stack.group,
                endpoint=stack.endpoint,
                library=LIBRARY_OF[stack.name],
                floor=floor,
                call_ms=Summary.of(per_trial[stack.name]).scaled(1000),
                overhead_ms=Summary.of(_paired_delta(per_trial, stack.name, floor)).scaled(1000),
                client_cpu_ms=Summary.of(cpu_per_call[stack.name]).scaled(1000),
            )
        )
    return rows


def _long_text(tokens: int) -> str:
    """Korean prose of exactly ``tokens`` emulator tokens (one Hangul syllable = one token,
    punctuation one, spaces free), so every stack receives ``tokens`` token events."""
    from clova_emulator import count_tokens

    sentence = "하이퍼클로바엑스는 네이버가 만든 대규모 언어 모델입니다. "
    text = ""
    while count_tokens(text) < tokens:
        text += sentence
    while count_tokens(text) > tokens:
        text = text[:-1]
    return text


def _first_and_total(stack: ChatStack) -> tuple[float, float, int]:
    """Seconds to the first non-empty chunk, seconds to the end, and the chunk count."""
    started = time.perf_counter()
    first = 0.0
    chunks = 0
    for piece in stack.stream():
        if piece and not chunks:
            first = time.perf_counter() - started
        chunks += 1 if piece else 0
    return first, time.perf_counter() - started, chunks


def run_stream(emu: EmulatorProcess, settings: Settings, progress: Progress) -> list[StreamRow]:
    """Time to first chunk (short paced streams), paced total, and unpaced chunks/s."""
    from clova_emulator import ScriptedReply

    emu.reset(latency=0.0, token_delay=settings.token_delay)
    stacks = build_stacks(emu.base_url)
    short = ScriptedReply(content=_long_text(settings.ttfc_tokens))
    paced = ScriptedReply(content=_long_text(settings.paced_tokens))
    burst = ScriptedReply(content=_long_text(settings.burst_tokens))
    ttfc: dict[str, list[float]] = {stack.name: [] for stack in stacks}
    totals: dict[str, list[float]] = {stack.name: [] for stack in stacks}
    rates: dict[str, list[float]] = {stack.name: [] for stack in stacks}
    counts: dict[str, int] = {}
    try:
        for stack in stacks:  # warm-up: connections, lazy imports
            emu.script(short)
            _first_and_total(stack)
        for trial in range(settings.ttfc_trials):
            for stack in _rotated(stacks, trial):
                emu.script(short)
                ttfc[stack.name].append(_first_and_total(stack)[0])
        progress("stream: time to first chunk done")
        for trial in range(settings.paced_trials):
            for stack in _rotated(stacks, trial):
                emu.script(paced)
                totals[stack.name].append(_first_and_total(stack)[1])
        progress("stream: paced totals done")
        emu.configure(token_delay=0.0)
        for trial in range(settings.burst_trials):
            for stack in _rotated(stacks, trial):
                emu.script(burst)
                _, seconds, chunks = _first_and_total(stack)
                rates[stack.name].append(chunks / seconds)
                counts[stack.name] = chunks
        progress("stream: unpaced chunks/s done")
    finally:
        emu.clear_script()
        for stack in stacks:
            stack.close()
    rows = []
    for stack in stacks:
        floor = FLOOR_OF[stack.endpoint]
        rows.append(
            StreamRow(
                name=stack.name,
                group=stack.group,
                endpoint=stack.endpoint,
                library=LIBRARY_OF[stack.name],
                floor=floor,
                ttfc_ms=Summary.of(ttfc[stack.name]).scaled(1000),
                ttfc_over_floor_ms=Summary.of(_paired_delta(ttfc, stack.name, floor)).scaled(1000),
                paced_total_ms=Summary.of(totals[stack.name]).scaled(1000),
                chunks_per_s=Summary.of(rates[stack.name]),
                chunks=counts[stack.name],
            )
        )
    return rows
