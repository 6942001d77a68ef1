"""The issue's targets, judged on one run's figures (medians)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from benchmarks.results import (
    ChatRow,
    EmbedRow,
    ImportPairRow,
    ImportRow,
    RunResults,
    StreamRow,
    Target,
)

OVERHEAD_RATIO = 1.5
TTFC_SLACK_MS = 2.0
EMBED_VS_NAVER = 20.0
EMBED_VS_BOUND = 0.8
IMPORT_SLACK = 0.10

OURS_CHAT = "langchain_clova ChatClovaX"
NAVER_CHAT = "langchain-naver ChatClovaX"
NAVER_EMBED = "langchain-naver ClovaXEmbeddings"


class _Named(Protocol):
    @property
    def name(self) -> str: ...


RowT = TypeVar("RowT", bound=_Named)


def _by_name(rows: Sequence[RowT]) -> dict[str, RowT]:
    return {row.name: row for row in rows}


def _overhead(rows: list[ChatRow]) -> Target | None:
    chat = _by_name(rows)
    if OURS_CHAT not in chat or NAVER_CHAT not in chat:
        return None
    ours = chat[OURS_CHAT].overhead_ms.median
    naver = chat[NAVER_CHAT].overhead_ms.median
    name = f"ChatClovaX.invoke overhead >= {OVERHEAD_RATIO}x lower than langchain-naver's"
    if ours <= 0:  # our transport can beat raw httpx's: no overhead left to divide
        return Target(
            name=name,
            met=naver > 0,
            detail=f"ours {ours:+.2f} ms against the raw-httpx floor (faster than it) vs "
            f"langchain-naver {naver:+.2f} ms",
        )
    ratio = naver / ours
    return Target(
        name=name,
        met=ratio >= OVERHEAD_RATIO,
        detail=f"ours {ours:.2f} ms vs langchain-naver {naver:.2f} ms over the floor: "
        f"{ratio:.1f}x lower",
    )


def _ttfc(rows: list[StreamRow]) -> list[Target]:
    targets = []
    for row in rows:
        if row.group != "ours":
            continue
        over = row.ttfc_over_floor_ms.median
        targets.append(
            Target(
                name=f"{row.name}: time to first chunk within {TTFC_SLACK_MS:g} ms of raw httpx",
                met=over <= TTFC_SLACK_MS,
                detail=f"{row.ttfc_ms.median:.2f} ms vs floor {row.ttfc_ms.median - over:.2f} ms"
                f" (+{over:.2f} ms, paired median)",
            )
        )
    return targets


def _cpu_detail(row: EmbedRow) -> str:
    if row.client_cpu_ms is None or row.server_cpu_ms is None:
        return ""
    return (
        f"; CPU {row.client_cpu_ms.median:.2f} ms/text client + "
        f"{row.server_cpu_ms.median:.2f} ms/request emulator"
    )


def _embed(
    rows: list[EmbedRow], mock: list[EmbedRow], bound_s: float | None, texts: int
) -> list[Target]:
    embed = _by_name(rows)
    mocked = _by_name(mock)
    if NAVER_EMBED not in embed or bound_s is None:
        return []
    naver = embed[NAVER_EMBED].texts_per_s.median
    bound_rate = texts / bound_s
    floor = next((row.texts_per_s.median for row in rows if row.group == "floor"), 0.0)
    targets = []
    for row in rows:
        if row.group != "ours":
            continue
        rate = row.texts_per_s.median
        vs_naver = rate / naver
        vs_bound = rate / bound_rate
        met = vs_naver >= EMBED_VS_NAVER and vs_bound >= EMBED_VS_BOUND and not row.rate_limited
        targets.append(
            Target(
                name=f"{row.name}: >= {EMBED_VS_NAVER:g}x langchain-naver, >= "
                f"{EMBED_VS_BOUND:.0%} of the bound, no 429",
                met=met,
                detail=f"{rate:.0f} texts/s = {vs_naver:.1f}x langchain-naver ({naver:.1f}/s), "
                f"{vs_bound:.0%} of the bound ({bound_rate:.0f}/s), "
                f"{rate / floor if floor else 0:.0%} of the raw-httpx floor ({floor:.0f}/s), "
                f"{row.rate_limited} x 429"
                + _cpu_detail(row)
                + (
                    f"; server-free: {mocked[row.name].texts_per_s.median / bound_rate:.0%} "
                    "of the bound"
                    if row.name in mocked
                    else ""
                ),
            )
        )
    return targets


def _imports(pairs: list[ImportPairRow], rows: list[ImportRow]) -> list[Target]:
    separate = {row.statement: row for row in rows}
    targets = []
    for pair in pairs:
        ratio = pair.added_ratio.median
        detail = (
            f"adds {pair.added_ms.median:.0f} ms to {pair.reference_ms.median:.0f} ms "
            f"({ratio:+.1%}, CPU {pair.added_cpu_ratio.median:+.1%}), same interpreter, "
            f"median of {pair.added_ratio.trials}"
        )
        ours, reference = separate.get(pair.statement), separate.get(pair.reference)
        if ours is not None and reference is not None:
            apart = ours.import_ms.median / reference.import_ms.median - 1
            detail += (
                f"; separate interpreters: {ours.import_ms.median:.0f} vs "
                f"{reference.import_ms.median:.0f} ms ({apart:+.0%}, noisier)"
            )
        targets.append(
            Target(
                name=f"`{pair.statement}` costs < {IMPORT_SLACK:.0%} more than `{pair.reference}`",
                met=ratio < IMPORT_SLACK,
                detail=detail,
            )
        )
    return targets


def evaluate(results: RunResults, texts: int) -> list[Target]:
    """Every target the run has figures for."""
    targets: list[Target] = []
    overhead = _overhead(results.chat)
    if overhead is not None:
        targets.append(overhead)
    targets.extend(_ttfc(results.stream))
    targets.extend(_embed(results.embed, results.embed_mock, results.embed_bound_s, texts))
    targets.extend(_imports(results.import_pairs, results.imports))
    return targets
