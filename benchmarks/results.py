"""The measured rows of each suite and the whole run, as plain dataclasses (JSON-ready)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks.timing import Summary


@dataclass(frozen=True)
class ChatRow:
    """Short blocking chat call: wall time per call and overhead over the endpoint's floor."""

    name: str
    group: str
    endpoint: str
    library: str
    floor: str
    call_ms: Summary
    overhead_ms: Summary
    """Per trial: this stack's median call minus the floor's median call in the same trial."""
    client_cpu_ms: Summary | None = None
    """CPU of the benchmark process (the client) per call; the emulator runs apart."""


@dataclass(frozen=True)
class StreamRow:
    """Streams: time to first non-empty chunk, paced total, and unpaced chunks per second."""

    name: str
    group: str
    endpoint: str
    library: str
    floor: str
    ttfc_ms: Summary
    ttfc_over_floor_ms: Summary
    paced_total_ms: Summary
    chunks_per_s: Summary
    chunks: int
    """Non-empty text chunks the stack delivered for the unpaced stream."""


@dataclass(frozen=True)
class EmbedRow:
    """One embedding stack over ``texts`` texts."""

    name: str
    group: str
    library: str
    mode: str
    texts: int
    concurrency: str
    seconds: Summary
    texts_per_s: Summary
    requests: int
    """HTTP requests the emulator received over all trials (incl. warm-up)."""
    rate_limited: int
    """429 answers the emulator gave over all trials."""
    note: str = ""
    client_cpu_ms: Summary | None = None
    """CPU of the benchmark process per text (the client: its threads, loop and parsing)."""
    server_cpu_ms: Summary | None = None
    """CPU of the emulator process per request it received (None without the emulator)."""


@dataclass(frozen=True)
class ImportRow:
    """``import`` cost in a fresh interpreter: wall time and peak RSS."""

    name: str
    group: str
    statement: str
    import_ms: Summary
    cpu_ms: Summary
    """CPU time of the import (less sensitive than wall time to other load on the machine)."""
    peak_rss_mb: Summary
    rss_added_mb: float
    """Median peak RSS minus a bare interpreter's."""


@dataclass(frozen=True)
class ImportPairRow:
    """What ``statement`` adds on top of ``reference``, both timed in one fresh interpreter
    (the reference first), so load on the machine affects both halves alike."""

    statement: str
    reference: str
    reference_ms: Summary
    added_ms: Summary
    added_ratio: Summary
    """Per trial: added time over the reference's time (0.05 = 5% more)."""
    added_cpu_ratio: Summary


@dataclass(frozen=True)
class Target:
    """One of the issue's targets, evaluated on this run's figures."""

    name: str
    met: bool
    detail: str


@dataclass
class RunResults:
    """Everything one run measured."""

    command: str
    settings: dict[str, Any]
    environment: dict[str, Any]
    chat: list[ChatRow] = field(default_factory=list)
    stream: list[StreamRow] = field(default_factory=list)
    embed: list[EmbedRow] = field(default_factory=list)
    embed_bound_s: float | None = None
    embed_mock: list[EmbedRow] = field(default_factory=list)
    """The floor and ours on a server-free mock transport (same latency and concurrency)."""
    imports: list[ImportRow] = field(default_factory=list)
    import_pairs: list[ImportPairRow] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    blocked_connections: list[str] = field(default_factory=list)
    emulator_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
