"""Observability for tests: a bounded, thread-safe log of received requests and counts.

The log keeps the most recent requests only (``request_log_size``, 10,000 by default), so a
long-running emulator's memory stays flat; :class:`Stats` count over what it keeps.
Credentials are never stored: the ``Authorization`` and legacy key headers are dropped from
the recorded headers and only the scheme that was used is kept (``auth``).
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from clova_emulator.limits import SECRET_HEADERS

Outcome = Literal["replied", "reset", "cut", "client_disconnected", "client_timeout"]
DEFAULT_REQUEST_LOG_SIZE = 10_000


@dataclass
class RequestRecord:
    """One received request and what happened to it."""

    method: str
    path: str
    """The path as received (legacy ``/testapp`` prefix included)."""
    request_id: str | None
    headers: dict[str, str]
    """Request headers without credentials, names lower-cased."""
    auth: Literal["bearer", "legacy", "none", "other"]
    time: float
    """``time.time()`` when the request line arrived."""
    body: Any = None
    """The parsed JSON body (``None`` when absent or not JSON)."""
    stream: bool = False
    status: int | None = None
    """HTTP status sent; ``None`` when the connection was closed without a reply."""
    code: str | None = None
    """CLOVA code of the reply (``"20000"`` on success)."""
    outcome: Outcome = "replied"
    duration: float = 0.0
    events_sent: int = 0
    """SSE events written (streams only)."""


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers with every credential header removed."""
    return {
        name.lower(): value for name, value in headers.items() if name.lower() not in SECRET_HEADERS
    }


@dataclass(frozen=True)
class Stats:
    """Counts over the request log (the requests it still holds)."""

    total: int
    by_path: dict[str, int] = field(default_factory=dict)
    by_status: dict[int | None, int] = field(default_factory=dict)
    by_path_status: dict[tuple[str, int | None], int] = field(default_factory=dict)
    by_outcome: dict[str, int] = field(default_factory=dict)


class RequestLog:
    """The last ``size`` :class:`RequestRecord` s, oldest first (thread-safe)."""

    def __init__(self, size: int = DEFAULT_REQUEST_LOG_SIZE) -> None:
        if size < 1:
            raise ValueError(f"request_log_size must be at least 1, got {size}")
        self._records: deque[RequestRecord] = deque(maxlen=size)
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """How many records are kept at most."""
        return self._records.maxlen or 0

    def add(self, record: RequestRecord) -> None:
        """Add a record (on arrival; the handler fills it in as the request proceeds); the
        oldest one is dropped when the log is full."""
        with self._lock:
            self._records.append(record)

    def snapshot(self) -> list[RequestRecord]:
        """A copy of the records so far, oldest first."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._records.clear()

    def stats(self) -> Stats:
        """Counts per path, status, (path, status) and outcome."""
        records = self.snapshot()
        return Stats(
            total=len(records),
            by_path=dict(Counter(record.path for record in records)),
            by_status=dict(Counter(record.status for record in records)),
            by_path_status=dict(Counter((record.path, record.status) for record in records)),
            by_outcome=dict(Counter(record.outcome for record in records)),
        )
