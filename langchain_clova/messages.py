"""Pure conversion between LangChain messages and ``clova_core.types``.

Nothing here does I/O or knows CLOVA's wire names: the core turns :class:`Message` into v1
or v3 JSON and parses replies into :class:`ChatResult` / stream events. This module maps
LangChain's message classes and content blocks onto those types and back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.ai import OutputTokenDetails, UsageMetadata
from langchain_core.messages.tool import tool_call, tool_call_chunk
from langchain_core.outputs import ChatGeneration
from langchain_core.outputs import ChatResult as LangChainChatResult

from clova_core.errors import ClovaValidationError, UnsupportedFeatureError
from clova_core.types import (
    ChatResult,
    ContentPart,
    ImagePart,
    Message,
    ResultEvent,
    Role,
    StreamEvent,
    TextPart,
    ToolCall,
    Usage,
)

MODEL_PROVIDER = "naver"
"""``ls_provider`` and ``response_metadata["model_provider"]`` (as langchain-naver)."""

_SKIPPED_BLOCKS = frozenset(
    {
        # Reasoning is never sent back (clova-api.md 3.5: assistant messages must not carry
        # thinkingContent); tool-call blocks duplicate ``AIMessage.tool_calls``, which is
        # what we send.
        "reasoning",
        "thinking",
        "redacted_thinking",
        "tool_call",
        "tool_call_chunk",
        "tool_use",
        "function_call",
        "invalid_tool_call",
    }
)
_CHAT_MESSAGE_ROLES: dict[str, Role] = {
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "ai": "assistant",
    "system": "system",
}


def to_clova_messages(messages: Sequence[BaseMessage]) -> list[Message]:
    """Convert a LangChain conversation to core messages.

    CLOVA takes one system message per request, so every
    ``SystemMessage`` is merged, in order, into a single leading one (the profile says
    ``mid_conversation_system_messages=False``). Reasoning content is dropped.
    """
    system_texts: list[str] = []
    converted: list[Message] = []
    for message in messages:
        if isinstance(message, SystemMessage) or (
            isinstance(message, ChatMessage) and message.role == "system"
        ):
            text = _text_only(message.content, "system")
            if text:
                system_texts.append(text)
        else:
            converted.append(_convert_one(message))
    if system_texts:
        converted.insert(0, Message(role="system", content="\n\n".join(system_texts)))
    return converted


def _convert_one(message: BaseMessage) -> Message:
    if isinstance(message, HumanMessage):
        return Message(role="user", content=_user_content(message.content))
    if isinstance(message, AIMessage):
        return Message(
            role="assistant",
            content=_text_only(message.content, "assistant"),
            tool_calls=tuple(
                ToolCall(id=call.get("id") or "", name=call["name"], arguments=call["args"])
                for call in message.tool_calls
            ),
        )
    if isinstance(message, ToolMessage):
        return Message(
            role="tool",
            content=_text_only(message.content, "tool"),
            tool_call_id=message.tool_call_id,
        )
    if isinstance(message, ChatMessage) and message.role in _CHAT_MESSAGE_ROLES:
        role = _CHAT_MESSAGE_ROLES[message.role]
        if role == "user":
            return Message(role="user", content=_user_content(message.content))
        return Message(role=role, content=_text_only(message.content, role))
    raise ClovaValidationError(
        f"ChatClovaX cannot send a {type(message).__name__}"
        + (f" with role {message.role!r}" if isinstance(message, ChatMessage) else "")
        + "; use SystemMessage, HumanMessage, AIMessage or ToolMessage."
    )


def _user_content(content: str | list[str | dict[str, Any]]) -> str | list[ContentPart]:
    """A user message's content: a string, or text and image parts when it has images."""
    if isinstance(content, str):
        return content
    parts = [part for item in content if (part := _content_part(item, "user")) is not None]
    if any(isinstance(part, ImagePart) for part in parts):
        return parts
    return "".join(part.text for part in parts if isinstance(part, TextPart))


def _text_only(content: str | list[str | dict[str, Any]], role: str) -> str:
    """Content for roles that take text only (system, assistant, tool)."""
    if isinstance(content, str):
        return content
    texts: list[str] = []
    for item in content:
        part = _content_part(item, role)
        if isinstance(part, ImagePart):
            raise UnsupportedFeatureError(
                f"CLOVA Studio accepts images only in user messages, not in {role} messages: "
                "move the image into a user message."
            )
        if part is not None:
            texts.append(part.text)
    return "".join(texts)


def _content_part(item: str | Mapping[str, Any], role: str) -> ContentPart | None:
    """One LangChain content item as a core part; ``None`` for blocks that are not sent."""
    if isinstance(item, str):
        return TextPart(item)
    block_type = item.get("type")
    if block_type == "text":
        return TextPart(str(item.get("text", "")))
    if block_type in _SKIPPED_BLOCKS:
        return None
    if block_type == "image_url":
        # OpenAI Chat Completions format: {"image_url": {"url": ...}} or {"image_url": "..."}.
        image_url = item.get("image_url")
        url = image_url.get("url") if isinstance(image_url, Mapping) else image_url
        if isinstance(url, str) and url:
            return _image_from_url(url)
    if block_type == "image":
        image = _standard_image(item)
        if image is not None:
            return image
    raise UnsupportedFeatureError(
        f"CLOVA Studio accepts text and image content (images only on HCX-005); "
        f"cannot send a {block_type!r} content block in a {role} message."
    )


def _image_from_url(url: str) -> ImagePart:
    # A data: URL carries the bytes; the core accepts bare base64 or a data: URI.
    return ImagePart(data=url) if url.startswith("data:") else ImagePart(url=url)


def _standard_image(block: Mapping[str, Any]) -> ImagePart | None:
    """LangChain v1 ``{"type": "image", "url" | "base64": ...}`` (and v0 ``source_type``)."""
    url = block.get("url")
    if isinstance(url, str) and url:
        return _image_from_url(url)
    data = block.get("base64")
    if not isinstance(data, str) and block.get("source_type") == "base64":
        data = block.get("data")
    if isinstance(data, str) and data:
        mime_type = block.get("mime_type")
        if isinstance(mime_type, str) and mime_type:
            return ImagePart(data=f"data:{mime_type};base64,{data}")
        return ImagePart(data=data)
    return None


def usage_metadata(usage: Usage | None) -> UsageMetadata | None:
    """LangChain usage from core usage; reasoning tokens as ``output_token_details``."""
    if usage is None:
        return None
    metadata = UsageMetadata(
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.completion_tokens,
        total_tokens=usage.total_tokens,
    )
    if usage.thinking_tokens is not None:
        metadata["output_token_details"] = OutputTokenDetails(reasoning=usage.thinking_tokens)
    return metadata


def response_metadata(result: ChatResult) -> dict[str, Any]:
    """Model name, finish reason, request id, seed and AI-filter verdicts of one answer."""
    metadata: dict[str, Any] = {
        "model_name": result.model,
        "model_provider": MODEL_PROVIDER,
        "finish_reason": result.finish_reason,
        "request_id": result.request_id,
        "api_version": result.api_version,
    }
    if result.seed is not None:
        metadata["seed"] = result.seed
    if result.created_ms is not None:
        metadata["created"] = result.created_ms
    if result.ai_filter is not None:
        metadata["ai_filter"] = [
            {
                "group_name": score.group_name,
                "name": score.name,
                "score": score.score,
                "result": score.result,
            }
            for score in result.ai_filter
        ]
    return metadata


def ai_message_from_result(result: ChatResult) -> AIMessage:
    """The ``AIMessage`` of a complete (non-streamed) answer.

    Reasoning goes to ``additional_kwargs["reasoning_content"]``, which langchain-core
    turns into a standard ``{"type": "reasoning"}`` content block.
    """
    return AIMessage(
        content=result.content,
        additional_kwargs=_reasoning_kwargs(result.thinking_content or ""),
        tool_calls=[
            tool_call(name=call.name, args=dict(call.arguments), id=call.id)
            for call in result.tool_calls
        ],
        usage_metadata=usage_metadata(result.usage),
        response_metadata=response_metadata(result),
    )


def chat_result(result: ChatResult) -> LangChainChatResult:
    """LangChain's ``ChatResult`` for a complete answer."""
    return LangChainChatResult(
        generations=[
            ChatGeneration(
                message=ai_message_from_result(result),
                generation_info={"finish_reason": result.finish_reason},
            )
        ],
        llm_output={"model_name": result.model, "request_id": result.request_id},
    )


def _reasoning_kwargs(thinking: str) -> dict[str, Any]:
    return {"reasoning_content": thinking} if thinking else {}


@dataclass
class StreamAssembler:
    """Turns core stream events into ``AIMessageChunk`` s.

    Token events carry only new fragments (the core de-duplicates). The final result event
    becomes the one chunk with usage and response metadata, marked
    ``chunk_position="last"``; it adds only what the token events did not already deliver,
    so aggregating the chunks never repeats text or tool calls.
    """

    content: list[str] = field(default_factory=list)
    thinking: list[str] = field(default_factory=list)
    streamed_tool_calls: bool = False

    def chunk(self, event: StreamEvent) -> AIMessageChunk | None:
        """The chunk for one event; ``None`` for an event that carries nothing."""
        if isinstance(event, ResultEvent):
            return self._last_chunk(event.result)
        if not (event.content or event.thinking_content or event.tool_call_chunks):
            return None
        self.content.append(event.content)
        self.thinking.append(event.thinking_content)
        if event.tool_call_chunks:
            self.streamed_tool_calls = True
        return AIMessageChunk(
            content=event.content,
            additional_kwargs=_reasoning_kwargs(event.thinking_content),
            tool_call_chunks=[
                tool_call_chunk(
                    name=piece.name, args=piece.arguments, id=piece.id, index=piece.index
                )
                for piece in event.tool_call_chunks
            ],
        )

    def _last_chunk(self, result: ChatResult) -> AIMessageChunk:
        chunks = []
        if not self.streamed_tool_calls:
            chunks = [
                tool_call_chunk(
                    name=call.name,
                    args=json.dumps(dict(call.arguments), ensure_ascii=False),
                    id=call.id,
                    index=index,
                )
                for index, call in enumerate(result.tool_calls)
            ]
        return AIMessageChunk(
            content=_undelivered(result.content, self.content),
            additional_kwargs=_reasoning_kwargs(
                _undelivered(result.thinking_content or "", self.thinking)
            ),
            tool_call_chunks=chunks,
            usage_metadata=usage_metadata(result.usage),
            response_metadata=response_metadata(result),
            chunk_position="last",
        )


def whole_chunk(result: ChatResult) -> AIMessageChunk:
    """A complete answer as the one (last) chunk of a stream."""
    return StreamAssembler().chunk(ResultEvent(result=result)) or AIMessageChunk(content="")


def _undelivered(full: str, delivered: Sequence[str]) -> str:
    """The tail of ``full`` that the token events did not deliver."""
    sent = "".join(delivered)
    return full[len(sent) :] if full.startswith(sent) else ""
