"""Version-neutral request and result types: what callers of the core speak.

The wire layer (``clova_core.request`` / ``clova_core.response`` / ``clova_core.sse_events``)
translates these to and from CLOVA's v1 or v3 camelCase JSON by model; nothing else in the
package sees wire field names. All types are frozen dataclasses: cheap to build, hashable
where their fields are, and free of framework imports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from clova_core.models import ThinkingEffort

Role = Literal["system", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length", "tool_calls"]
"""Normalised finish reason. v1 ``stop_before`` -> ``stop``; ``length`` / ``end_token`` ->
``length`` (compared case-insensitively); v3 values pass through. A value
the spec does not list is kept lower-cased as it came."""


@dataclass(frozen=True, slots=True)
class TextPart:
    """A text part of a message's content."""

    text: str


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image part: exactly one of ``url`` or ``data`` (base64, bare or a ``data:`` URI)."""

    url: str | None = None
    data: str | None = None


ContentPart = TextPart | ImagePart


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A complete tool call. ``arguments`` is parsed (CLOVA sends a JSON object)."""

    id: str
    name: str
    arguments: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message. ``content`` is a string or a list of parts (text and images).

    ``tool_calls`` only on assistant messages, ``tool_call_id`` only (and always) on tool
    messages. Reasoning is never part of a request message.
    """

    role: Role
    content: str | Sequence[ContentPart] = ""
    tool_calls: Sequence[ToolCall] = ()
    tool_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class Tool:
    """A function the model may call. ``parameters`` is a JSON Schema object."""

    name: str
    description: str
    parameters: Mapping[str, Any] | None = None


ToolChoice = Literal["auto", "none", "required"] | str
"""``"auto"``, ``"none"``, ``"required"`` (only expressible with a single tool, which is then
forced), or the name of one of the request's tools to force it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatRequest:
    """One chat call, independent of API version.

    ``None`` means "not given": the field is left out of the wire body and the server default
    applies, except ``max_tokens`` (see ``clova_core.request`` for the defaults we send).
    ``response_format`` is a JSON Schema; the output then arrives as JSON text in ``content``.
    ``extra_body`` is merged into the wire body last, for fields this package does not model.
    ``task_api_version`` picks the tuned-task path: tasks tuned on HCX-003 / HCX-DASH-001 are
    served under ``/v2/tasks/...`` (the default) and, for tasks made with the older tuning
    API, under ``/v1/tasks/...`` (pass 1); tasks of v3 models under ``/v3/tasks/...``.
    """

    messages: Sequence[Message]
    model: str
    task_id: str | None = None
    task_api_version: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    repetition_penalty: float | None = None
    stop: Sequence[str] | None = None
    seed: int | None = None
    max_tokens: int | None = None
    thinking: ThinkingEffort | None = None
    tools: Sequence[Tool] = ()
    tool_choice: ToolChoice | None = None
    response_format: Mapping[str, Any] | None = None
    include_ai_filters: bool | None = None
    extra_body: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """Token usage. ``completion_tokens`` includes ``thinking_tokens``."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    thinking_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class AiFilterScore:
    """One AI-filter verdict. ``score`` is CLOVA's string ("-1".."2")."""

    group_name: str
    name: str
    score: str
    result: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatResult:
    """A complete chat answer, from a JSON reply or the final ``result`` stream event."""

    content: str
    thinking_content: str | None = None
    tool_calls: Sequence[ToolCall] = ()
    finish_reason: str | None = None
    usage: Usage | None = None
    seed: int | None = None
    ai_filter: Sequence[AiFilterScore] | None = None
    created_ms: int | None = None
    """``created`` normalised to milliseconds (values < 10**11 are seconds)."""
    model: str
    api_version: int
    request_id: str
    raw: Mapping[str, Any] = field(default_factory=dict)
    """The ``result`` object as received, for fields this package does not model."""


@dataclass(frozen=True, slots=True)
class ToolCallChunk:
    """A piece of a streamed tool call. The first piece of a call has ``id`` and ``name``;
    later pieces carry ``arguments`` text (CLOVA's ``partialJson``). ``index`` numbers the
    calls of one answer from 0 in the order their headers arrived."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True, slots=True)
class TokenEvent:
    """One ``token`` SSE event: the new fragment(s) only, never text already delivered."""

    content: str = ""
    thinking_content: str = ""
    tool_call_chunks: Sequence[ToolCallChunk] = ()
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class ResultEvent:
    """The final ``result`` SSE event, parsed into a complete :class:`ChatResult`."""

    result: ChatResult
    event_id: str | None = None


StreamEvent = TokenEvent | ResultEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class EmbeddingResult:
    """One embedding vector (CLOVA embeds one text per request)."""

    embedding: Sequence[float]
    input_tokens: int
    model: str
    request_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatTokenCount:
    """The chat token calculator's answer: one count per message, plus tools and schema."""

    message_counts: Sequence[int]
    tools: int = 0
    response_format: int = 0
    request_id: str

    @property
    def total(self) -> int:
        """All counted tokens of the request."""
        return sum(self.message_counts) + self.tools + self.response_format
