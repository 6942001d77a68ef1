"""Shared, thread-safe state of one emulator and the request/response types of the router."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from clova_emulator.faults import FaultDice, Knobs, Limits, RateLimiter, limit_for
from clova_emulator.limits import CHAT_MODELS, ChatModelSpec
from clova_emulator.observe import DEFAULT_REQUEST_LOG_SIZE, RequestLog
from clova_emulator.scripting import Script
from clova_emulator.serving.sse import Frame


@dataclass
class Incoming:
    """A received HTTP request. ``path`` has the query and the legacy app prefix removed."""

    method: str
    raw_path: str
    path: str
    headers: dict[str, str]
    """Lower-cased header names."""
    body: bytes
    openai: bool = False


@dataclass
class JsonResponse:
    """A complete JSON reply."""

    status: int
    body: Any
    code: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class StreamResponse:
    """An SSE reply: ``frames`` are written in order, paced and possibly cut."""

    frames: list[Frame]
    headers: dict[str, str] = field(default_factory=dict)
    cut_after: int | None = None
    code: str = "20000"


@dataclass
class DropConnection:
    """Close the connection without any reply."""


@dataclass
class RawResponse:
    """Bytes written verbatim (``send_bytes``: only that many, then the connection closes)."""

    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    send_bytes: int | None = None


class RawReply(Exception):  # noqa: N818 - control flow, not a failure
    """Raised by an endpoint that took a :class:`~clova_emulator.ScriptedRaw` item; the
    router answers with its :class:`RawResponse` instead of the endpoint's reply."""

    def __init__(self, response: RawResponse) -> None:
        super().__init__(f"raw reply, HTTP {response.status}")
        self.response = response


Response = JsonResponse | StreamResponse | DropConnection | RawResponse


class EmulatorState:
    """Knobs, script, tasks, limiter, dice and log of one emulator (all thread-safe)."""

    def __init__(
        self,
        knobs: Knobs,
        *,
        tasks: Mapping[str, str] | None = None,
        models: Mapping[str, ChatModelSpec] | None = None,
        request_log_size: int = DEFAULT_REQUEST_LOG_SIZE,
    ) -> None:
        self._lock = threading.Lock()
        self.base_knobs = knobs
        self._knobs = knobs
        self.script = Script()
        self.log = RequestLog(request_log_size)
        self.limiter = RateLimiter()
        self.dice = FaultDice(knobs.fault_seed)
        self._base_tasks = dict(tasks or {})
        self._tasks = dict(self._base_tasks)
        self.registry: dict[str, ChatModelSpec] = {**CHAT_MODELS, **(models or {})}
        self._server_errors: list[str] = []

    @property
    def knobs(self) -> Knobs:
        """The knobs in force now (an immutable snapshot)."""
        with self._lock:
            return self._knobs

    def configure(self, **changes: Any) -> Knobs:
        """Change knobs; unknown names raise ``TypeError``, bad values ``ValueError``."""
        with self._lock:
            updated = dataclasses.replace(self._knobs, **changes)
            if updated.fault_seed != self._knobs.fault_seed:
                self.dice = FaultDice(updated.fault_seed)
            self._knobs = updated
            return updated

    def reset(self) -> None:
        """Back to the constructor's knobs and tasks; script, log, limiter and dice cleared."""
        with self._lock:
            self._knobs = self.base_knobs
            self.dice = FaultDice(self.base_knobs.fault_seed)
            self._tasks = dict(self._base_tasks)
            self._server_errors.clear()
        self.script.clear()
        self.log.clear()
        self.limiter.reset()

    def register_task(self, task_id: str, base_model: str) -> None:
        """Make ``task_id`` a tuned task of ``base_model`` (a registry name)."""
        if base_model not in self.registry:
            raise ValueError(f"unknown base model {base_model!r}")
        with self._lock:
            self._tasks[task_id] = base_model

    def tasks(self) -> dict[str, str]:
        """Registered tasks: id -> base model."""
        with self._lock:
            return dict(self._tasks)

    def add_server_error(self, text: str) -> None:
        """Remember an unexpected exception (tests assert there are none)."""
        with self._lock:
            self._server_errors.append(text)

    def server_errors(self) -> list[str]:
        """Tracebacks of unexpected exceptions so far."""
        with self._lock:
            return list(self._server_errors)

    def admit(
        self, model: str, documented_qpm: int | None, documented_tpm: int | None, tokens: int
    ) -> dict[str, str]:
        """Count a request against the QPM / TPM knobs; raises 429 / 42901 when over."""
        knobs = self.knobs
        limits = Limits(
            key=model,
            qpm=limit_for(knobs.qpm, model, documented_qpm),
            tpm=limit_for(knobs.tpm, model, documented_tpm),
        )
        return self.limiter.admit(
            limits,
            tokens,
            knobs.rate_window,
            headers=knobs.rate_limit_headers,
            mode=knobs.rate_mode,
            offset=knobs.rate_window_offset,
        )


@dataclass
class Ctx:
    """What an endpoint handler gets: state, the knobs snapshot, the request and its body."""

    state: EmulatorState
    knobs: Knobs
    incoming: Incoming
    params: dict[str, str]
    body: dict[str, Any]

    @property
    def wants_stream(self) -> bool:
        """``Accept: text/event-stream`` switches native chat to SSE."""
        return "text/event-stream" in self.incoming.headers.get("accept", "").lower()
