"""The emulator's internal, version-neutral view of one chat call and of its reply.

The native v1 / v3 parsers (``native.py``) and the OpenAI-compatible parser
(``openai_compat.py``) all produce a :class:`ChatCall`; the reply generator
(``replies.py``) turns it into a :class:`Reply`; the renderers write that reply in the wire
shape of the route that was called. Token counts here follow ``tokenizer.py`` so chat usage
and the token calculators agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from clova_emulator.behaviour.tokenizer import IMAGE_TOKENS, MESSAGE_OVERHEAD, count_tokens
from clova_emulator.limits import ChatModelSpec

Surface = Literal["v1", "v3", "openai"]
FinishReason = Literal["stop", "length", "tool_calls"]


@dataclass(slots=True)
class ImageInput:
    """One image of a request: a URL (never downloaded) or base64 data as sent."""

    url: str | None = None
    data: str | None = None


@dataclass(slots=True)
class Part:
    """One content part. ``wire`` is the part as received (echoed by the v3 calculator)."""

    kind: Literal["text", "image"]
    text: str = ""
    image: ImageInput | None = None
    wire: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class CallOut:
    """A tool call, in a request history or in a reply. ``arguments`` is a JSON object."""

    id: str
    name: str
    arguments: dict[str, Any]

    def arguments_json(self) -> str:
        """The arguments as JSON text (what streams send as ``partialJson``)."""
        return json.dumps(self.arguments, ensure_ascii=False)

    def token_count(self) -> int:
        """Tokens of the call: its name plus its JSON arguments."""
        return count_tokens(self.name) + count_tokens(self.arguments_json())


@dataclass(slots=True)
class Turn:
    """One message of the conversation."""

    role: str
    parts: list[Part] = field(default_factory=list)
    tool_calls: list[CallOut] = field(default_factory=list)
    tool_call_id: str | None = None

    @property
    def text(self) -> str:
        """All text parts joined by newlines."""
        return "\n".join(part.text for part in self.parts if part.kind == "text")

    @property
    def images(self) -> list[ImageInput]:
        """The image inputs of this message, in order."""
        return [part.image for part in self.parts if part.image is not None]

    def part_counts(self) -> list[int]:
        """Tokens per part; the first part also carries the message overhead and tool calls.

        Their sum is what chat usage counts for this message, so the v3 calculator's
        per-part counts add up to ``promptTokens``.
        """
        counts = [
            IMAGE_TOKENS if part.kind == "image" else count_tokens(part.text) for part in self.parts
        ] or [0]
        counts[0] += MESSAGE_OVERHEAD + sum(call.token_count() for call in self.tool_calls)
        return counts

    def token_count(self) -> int:
        """Tokens of the whole message."""
        return sum(self.part_counts())


@dataclass(slots=True)
class ToolDef:
    """A function offered to the model."""

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ChatCall:
    """One validated chat request, whichever API it came through."""

    surface: Surface
    model: str
    """The model name of the path or body, or the task id for tuned tasks."""
    spec: ChatModelSpec
    turns: list[Turn]
    tools: list[ToolDef] = field(default_factory=list)
    tool_choice: str = "auto"
    """``"auto"``, ``"none"`` or ``"function"`` (then :attr:`forced_tool` names the tool)."""
    forced_tool: str | None = None
    max_output: int = 512
    stop: list[str] = field(default_factory=list)
    seed: int = 0
    thinking: str = "none"
    schema: dict[str, Any] | None = None
    ai_filters: bool = False
    prompt_tokens: int = 0
    stream: bool = False
    tuned: bool = False

    def last_user_index(self) -> int:
        """Index of the last user message (-1 when there is none)."""
        for index in range(len(self.turns) - 1, -1, -1):
            if self.turns[index].role == "user":
                return index
        return -1

    def request_text(self) -> str:
        """The text of the last user message (the request the reply answers)."""
        index = self.last_user_index()
        return self.turns[index].text if index >= 0 else ""


@dataclass(slots=True)
class Reply:
    """What the emulated model answers, before rendering to a wire shape."""

    content: str
    thinking: str | None
    tool_calls: list[CallOut]
    finish_reason: FinishReason
    prompt_tokens: int
    completion_tokens: int
    thinking_tokens: int | None = None


def messages_tokens(turns: list[Turn]) -> int:
    """Tokens of all messages (chat v1 ``inputLength``)."""
    return sum(turn.token_count() for turn in turns)


def json_tokens(value: Any) -> int:
    """Tokens of a JSON value (tools, a response-format schema) as compact-ish text."""
    return count_tokens(json.dumps(value, ensure_ascii=False))
