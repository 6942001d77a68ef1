"""The scripting API: a test dictates the next responses exactly.

``emu.script(item, ...)`` appends to a FIFO queue. Each API request (after routing, auth and
validation succeeded) takes the first queued item that applies to its kind of endpoint and
matches the optional ``path`` (substring of the path, legacy prefix removed) and ``model``
(model name, task id, or embedding model) filters:

* :class:`ScriptedReply` - chat (native v1/v3 and OpenAI-compatible) answers;
* :class:`ScriptedEmbedding` - a vector for the next embedding;
* :class:`ScriptedError` - an error reply (or an in-stream ``error`` event) for the next
  request of ``endpoint`` kind (default: any);
* :class:`ScriptedDisconnect` - close the connection without a reply;
* :class:`ScriptedRaw` - these exact bytes as the reply (non-JSON, truncated, hand-written
  SSE, invalid UTF-8: what a broken server or proxy might send).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Endpoint = Literal["any", "chat", "embedding", "tokenize"]


@dataclass(frozen=True)
class ScriptedReply:
    """The next chat answer, verbatim (no truncation, stop sequences or generation).

    ``tool_calls`` items are ``{"name": ..., "arguments": {...}}`` with an optional ``"id"``.
    ``finish_reason`` defaults to ``"tool_calls"`` when there are calls, else ``"stop"``.
    Token counts default to the emulator's tokenizer. ``cut_after`` closes a stream after that
    many events, without the ``result`` event.
    """

    content: str = ""
    thinking: str | None = None
    tool_calls: Sequence[Mapping[str, Any]] = ()
    finish_reason: Literal["stop", "length", "tool_calls"] | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cut_after: int | None = None
    path: str | None = None
    model: str | None = None


@dataclass(frozen=True)
class ScriptedError:
    """The next request fails with this status and CLOVA code.

    ``code`` defaults to the status followed by ``00`` (``429`` -> ``"42900"``); ``message``
    to the documented one. ``retry_after`` becomes a ``Retry-After`` header. With
    ``in_stream=True`` a streaming request gets HTTP 200, ``after_events`` token events of
    the normal answer and then an ``error`` event ``{"status": {...}}``;
    a non-streaming request gets the plain error reply.
    """

    status: int = 500
    code: str | None = None
    message: str | None = None
    retry_after: float | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    in_stream: bool = False
    after_events: int = 0
    endpoint: Endpoint = "any"
    path: str | None = None
    model: str | None = None

    @property
    def clova_code(self) -> str:
        """The 5-digit code sent in the envelope."""
        return self.code if self.code is not None else f"{self.status}00"


@dataclass(frozen=True)
class ScriptedDisconnect:
    """Close the connection without sending any reply (the client sees a dropped connection)."""

    endpoint: Endpoint = "any"
    path: str | None = None
    model: str | None = None


@dataclass(frozen=True)
class ScriptedRaw:
    """The next request of ``endpoint`` kind gets ``body`` verbatim, with ``status`` and
    ``content_type`` (``text/event-stream`` for a hand-written stream).

    ``Content-Length`` always declares the whole ``body``; ``send_bytes`` writes only that many
    bytes of it and then closes the connection (a reply truncated in transit).
    """

    body: bytes
    status: int = 200
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)
    send_bytes: int | None = None
    endpoint: Endpoint = "any"
    path: str | None = None
    model: str | None = None


@dataclass(frozen=True)
class ScriptedEmbedding:
    """The next embedding vector (``input_tokens`` defaults to the tokenizer's count)."""

    vector: Sequence[float]
    input_tokens: int | None = None
    path: str | None = None
    model: str | None = None


ScriptItem = ScriptedReply | ScriptedError | ScriptedDisconnect | ScriptedEmbedding | ScriptedRaw
_ITEM_TYPES = (ScriptedReply, ScriptedError, ScriptedDisconnect, ScriptedEmbedding, ScriptedRaw)


def _applies(item: ScriptItem, kind: Endpoint, path: str, model: str) -> bool:
    if isinstance(item, ScriptedReply):
        wanted: Endpoint = "chat"
    elif isinstance(item, ScriptedEmbedding):
        wanted = "embedding"
    else:
        wanted = item.endpoint
    if wanted not in ("any", kind):
        return False
    if item.path is not None and item.path not in path:
        return False
    return item.model is None or item.model == model


class Script:
    """A thread-safe FIFO of script items."""

    def __init__(self) -> None:
        self._items: list[ScriptItem] = []
        self._lock = threading.Lock()

    def push(self, items: Sequence[ScriptItem]) -> None:
        """Append items in order."""
        for item in items:
            if not isinstance(item, _ITEM_TYPES):
                raise TypeError(f"not a script item: {item!r}")
        with self._lock:
            self._items.extend(items)

    def take(self, kind: Endpoint, path: str, model: str) -> ScriptItem | None:
        """Remove and return the first item that applies to this request, if any."""
        with self._lock:
            for index, item in enumerate(self._items):
                if _applies(item, kind, path, model):
                    return self._items.pop(index)
        return None

    def clear(self) -> None:
        """Drop every pending item."""
        with self._lock:
            self._items.clear()

    def pending(self) -> list[ScriptItem]:
        """A copy of the items not consumed yet."""
        with self._lock:
            return list(self._items)
