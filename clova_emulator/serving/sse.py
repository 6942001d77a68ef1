"""Server-sent-event framing.

Native streams default to the no-space form ``id:..\\nevent:..\\ndata:..\\n\\n`` that real CLOVA
clients were written against, with a fresh uuid per event; ``space=True`` writes
``id: ..`` instead. OpenAI-compatible streams use standard ``data: {...}`` lines and end with
``data: [DONE]``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Literal

FrameKind = Literal["token", "result", "error", "signal", "chunk", "done"]


@dataclass(frozen=True)
class Frame:
    """One framed event: ``kind`` says what it carries (pacing, cutting and faults use it)."""

    kind: FrameKind
    payload: bytes


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def native_frame(
    event: Literal["token", "result", "error", "signal"], data: Any, *, space: bool
) -> Frame:
    """An ``id`` / ``event`` / ``data`` block for the native API."""
    colon = ": " if space else ":"
    text = f"id{colon}{uuid.uuid4()}\nevent{colon}{event}\ndata{colon}{_dumps(data)}\n\n"
    return Frame(event, text.encode())


def openai_frame(data: Any) -> Frame:
    """One ``chat.completion.chunk`` line."""
    return Frame("chunk", f"data: {_dumps(data)}\n\n".encode())


def openai_done() -> Frame:
    """The ``data: [DONE]`` terminator."""
    return Frame("done", b"data: [DONE]\n\n")


def malformed(frame: Frame) -> Frame:
    """The same frame with its JSON data cut in half (an unparseable event)."""
    text = frame.payload.decode()
    head, marker, data = text.rpartition("data:")
    if not marker:
        return frame
    data = data.rstrip("\n")
    return Frame(frame.kind, f"{head}{marker}{data[: max(len(data) // 2, 2)]}\n\n".encode())
