"""Client CPU per request next to the documented CLOVA quotas, so a reader sees when it matters.

An account's quota caps how many requests a minute one key may send (per model; the same
quota is shared by every process using the key), so the most CPU a client can spend on its
requests in a minute is its CPU per request times that quota. The table puts each of our
stacks' measured CPU per request (this run's median) next to the documented quotas: a test
key's and a service app's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.results import RunResults


@dataclass(frozen=True)
class Quota:
    label: str
    kind: str
    """``"chat"`` or ``"embedding"``: which measured CPU per request applies."""
    qpm: int


QUOTAS: Sequence[Quota] = (
    # Documented QPM (clova-api.md 8.2: the rate-limiting page, values as of 2025-07-17;
    # service-app figures from secondary sources there).
    Quota("HCX-005, test key", "chat", 60),
    Quota("HCX-005, service app", "chat", 300),
    Quota("HCX-003, test key", "chat", 200),
    Quota("embedding v2, test key", "embedding", 60),
    Quota("embedding v2, service app", "embedding", 540),
)


def _cpu_rows(results: RunResults) -> list[tuple[str, str, float]]:
    """(stack, kind, median client CPU ms per request) for each of our stacks measured."""
    rows = [
        (row.name, "chat", row.client_cpu_ms.median)
        for row in results.chat
        if row.group == "ours" and row.client_cpu_ms is not None
    ]
    rows += [
        (row.name, "embedding", row.client_cpu_ms.median)
        for row in results.embed
        if row.group == "ours" and row.client_cpu_ms is not None
    ]
    return rows


def quota_cpu_md(results: RunResults) -> list[str]:
    """The Markdown section, or nothing when no CPU was measured."""
    rows = _cpu_rows(results)
    if not rows:
        return []
    header = ["stack", "client CPU per request, ms"] + [
        f"at {quota.label} ({quota.qpm} QPM)" for quota in QUOTAS
    ]
    body = []
    for name, kind, cpu_ms in rows:
        cells = [f"**{name}**", f"{cpu_ms:.2f}"]
        for quota in QUOTAS:
            if quota.kind != kind:
                cells.append("-")
                continue
            per_minute = cpu_ms * quota.qpm
            share = per_minute / 60_000 * 100
            cells.append(f"{per_minute:,.0f} ms CPU/min ({share:.2f}% of a core)")
        body.append(cells)
    lines = [
        "### Client CPU per request at the documented quotas",
        "",
        "At a quota of N requests per minute the client spends (CPU per request x N) of CPU "
        "per minute, whatever the transport; network latency (50-300 ms per reply) and the "
        "quota bound throughput long before this CPU does. Chat CPU is from suite 1 (a short "
        "blocking call), embedding CPU from suite 3 (per text, one text per request).",
        "",
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
    ]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    return lines
