"""Pure conversion between LlamaIndex chat objects and ``clova_core.types``.

Requests: :func:`to_clova_messages` turns ``ChatMessage`` s (text, image, tool-call and
thinking blocks) into core :class:`~clova_core.types.Message` s. Responses:
:func:`chat_response_from_result` and :class:`ChatStreamBuilder` turn core results and
stream events into ``ChatResponse`` s. No I/O and no wire field names live here: the core
owns the v1 / v3 JSON (``clova_core.request`` / ``clova_core.response``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llama_index.core.base.llms.types import (
    CachePoint,
    ChatMessage,
    ChatResponse,
    ContentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)

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
    TokenEvent,
    ToolCall,
    Usage,
)

_ROLES: dict[MessageRole, Role] = {
    MessageRole.SYSTEM: "system",
    MessageRole.DEVELOPER: "system",
    MessageRole.USER: "user",
    MessageRole.ASSISTANT: "assistant",
    MessageRole.CHATBOT: "assistant",
    MessageRole.MODEL: "assistant",
    MessageRole.TOOL: "tool",
    MessageRole.FUNCTION: "tool",
}


# --------------------------------------------------------------------------- requests


def to_clova_messages(messages: Sequence[ChatMessage]) -> list[Message]:
    """Convert LlamaIndex messages to core messages.

    * ``ThinkingBlock`` s are dropped: CLOVA rejects reasoning sent back in a request and
      wants only the final answer for multi-turn.
    * ``ToolCallBlock`` s on assistant messages become ``tool_calls``; a tool message takes
      its ``tool_call_id`` from ``additional_kwargs`` as FunctionAgent writes it (3.6).
    * ``ImageBlock`` s become image parts (URL, base64 data or a file read as base64); the
      core checks the model and the image limits (3.3).
    * System messages are merged into one leading system message: CLOVA accepts only one,
      first (3.2), while LlamaIndex stacks them (``system_prompt`` plus a template's own).
    """
    converted = [_to_clova_message(message) for message in messages]
    systems = [message for message in converted if message.role == "system"]
    if not systems or (len(systems) == 1 and converted[0].role == "system"):
        return converted
    merged = "\n\n".join(text for text in map(_content_text, systems) if text)
    rest = [message for message in converted if message.role != "system"]
    return [Message(role="system", content=merged), *rest] if merged else rest


def _content_text(message: Message) -> str:
    if isinstance(message.content, str):
        return message.content
    return _text_of(message.content)


def _to_clova_message(message: ChatMessage) -> Message:
    role = _ROLES[MessageRole(message.role)]
    parts: list[ContentPart] = []
    tool_calls: list[ToolCall] = []
    for block in message.blocks:
        if isinstance(block, TextBlock):
            parts.append(TextPart(text=block.text))
        elif isinstance(block, ImageBlock):
            parts.append(_image_part(block))
        elif isinstance(block, ToolCallBlock):
            tool_calls.append(_tool_call(block))
        elif isinstance(block, (ThinkingBlock, CachePoint)):
            continue
        else:
            raise UnsupportedFeatureError(_unsupported_block_message(block))
    if role == "assistant" and not tool_calls:
        tool_calls = _legacy_tool_calls(message.additional_kwargs)
    if role == "tool":
        return Message(
            role="tool",
            content=_text_of(parts),
            tool_call_id=_tool_call_id(message),
        )
    text_only = all(isinstance(part, TextPart) for part in parts)
    content: str | list[ContentPart] = _text_of(parts) if text_only else parts
    return Message(role=role, content=content, tool_calls=tuple(tool_calls))


def _text_of(parts: Sequence[ContentPart]) -> str:
    # Same joining rule as ChatMessage.content, so what was shown is what is sent.
    return "\n".join(part.text for part in parts if isinstance(part, TextPart))


def _image_part(block: ImageBlock) -> ImagePart:
    """A URL stays a URL (the server downloads it); everything else is sent as base64."""
    if block.url is not None and block.image is None:
        url = str(block.url)
        if url.startswith("data:"):
            return ImagePart(data=url)
        return ImagePart(url=url)
    encoded = block.resolve_image(as_base64=True).read().decode("ascii")
    if block.image_mimetype:
        return ImagePart(data=f"data:{block.image_mimetype};base64,{encoded}")
    return ImagePart(data=encoded)


def _tool_call(block: ToolCallBlock) -> ToolCall:
    arguments = block.tool_kwargs
    if isinstance(arguments, str):
        arguments = _arguments_from_text(arguments, block.tool_name)
    return ToolCall(id=block.tool_call_id or "", name=block.tool_name, arguments=arguments)


def _arguments_from_text(text: str, tool_name: str) -> dict[str, Any]:
    # CLOVA wants tool-call arguments as a JSON object, not a string (clova-api.md 3.6).
    try:
        parsed = json.loads(text) if text.strip() else {}
    except ValueError as err:
        raise ClovaValidationError(
            f"The arguments of the call to tool {tool_name!r} are not valid JSON: {text!r}"
        ) from err
    if not isinstance(parsed, dict):
        raise ClovaValidationError(
            f"The arguments of the call to tool {tool_name!r} must be a JSON object, "
            f"got {type(parsed).__name__}."
        )
    return parsed


def _legacy_tool_calls(additional_kwargs: Mapping[str, Any]) -> list[ToolCall]:
    """Tool calls stored as dicts in ``additional_kwargs["tool_calls"]``.

    Accepts the shape this package writes (``id`` / ``name`` / ``arguments``) and the
    OpenAI one (``function.name`` / ``function.arguments``), for messages that were built
    without ``ToolCallBlock`` s.
    """
    calls: list[ToolCall] = []
    for raw in additional_kwargs.get("tool_calls") or ():
        if not isinstance(raw, Mapping):
            continue
        function = raw.get("function")
        source = function if isinstance(function, Mapping) else raw
        name = str(source.get("name") or "")
        arguments = source.get("arguments") or {}
        if isinstance(arguments, str):
            arguments = _arguments_from_text(arguments, name)
        calls.append(ToolCall(id=str(raw.get("id") or ""), name=name, arguments=arguments))
    return calls


def _tool_call_id(message: ChatMessage) -> str:
    tool_call_id = message.additional_kwargs.get("tool_call_id")
    if not tool_call_id:
        raise ClovaValidationError(
            "A tool message needs additional_kwargs['tool_call_id'] naming the assistant "
            "tool call it answers."
        )
    return str(tool_call_id)


def _unsupported_block_message(block: ContentBlock) -> str:
    return (
        f"CLOVA Studio chat accepts text and image content only; got a "
        f"{type(block).__name__} ({block.block_type!r})."
    )


# -------------------------------------------------------------------------- responses


def usage_dict(usage: Usage | None) -> dict[str, int]:
    """Usage with snake_case keys, the names ``TokenCountingHandler`` reads."""
    if usage is None:
        return {}
    values = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
    if usage.thinking_tokens is not None:
        values["thinking_tokens"] = usage.thinking_tokens
    return values


def result_metadata(result: ChatResult) -> dict[str, Any]:
    """What goes into ``ChatResponse.additional_kwargs``: usage, request id, finish reason."""
    return {
        **usage_dict(result.usage),
        "request_id": result.request_id,
        "model": result.model,
        "finish_reason": result.finish_reason,
    }


def raw_from_result(result: ChatResult) -> dict[str, Any]:
    """``ChatResponse.raw``: normalised fields, with the untouched wire object under ``result``.

    ``usage`` is snake_case so that ``TokenCountingHandler`` counts CLOVA's numbers rather
    than its own estimate.
    """
    return {
        "request_id": result.request_id,
        "model": result.model,
        "api_version": result.api_version,
        "finish_reason": result.finish_reason,
        "usage": usage_dict(result.usage) or None,
        "seed": result.seed,
        "created_ms": result.created_ms,
        "ai_filter": [
            {
                "group_name": score.group_name,
                "name": score.name,
                "score": score.score,
                "result": score.result,
            }
            for score in result.ai_filter or ()
        ]
        or None,
        "result": dict(result.raw),
    }


def tool_call_dict(call_id: str, name: str, arguments: Mapping[str, Any] | str) -> dict[str, Any]:
    """The dict form kept in ``message.additional_kwargs["tool_calls"]``."""
    return {
        "id": call_id,
        "name": name,
        "arguments": arguments if isinstance(arguments, str) else dict(arguments),
    }


def assistant_message(
    content: str,
    *,
    thinking: str | None = None,
    thinking_tokens: int | None = None,
    tool_calls: Sequence[tuple[str, str, Mapping[str, Any] | str]] = (),
) -> ChatMessage:
    """An assistant message: ``ThinkingBlock``, then text, then ``ToolCallBlock`` s."""
    blocks: list[ContentBlock] = []
    if thinking:
        blocks.append(ThinkingBlock(content=thinking, num_tokens=thinking_tokens))
    if content or not tool_calls:
        blocks.append(TextBlock(text=content))
    additional_kwargs: dict[str, Any] = {}
    for call_id, name, arguments in tool_calls:
        kwargs = arguments if isinstance(arguments, str) else dict(arguments)
        blocks.append(ToolCallBlock(tool_call_id=call_id, tool_name=name, tool_kwargs=kwargs))
    if tool_calls:
        additional_kwargs["tool_calls"] = [tool_call_dict(*call) for call in tool_calls]
    return ChatMessage(
        role=MessageRole.ASSISTANT, blocks=blocks, additional_kwargs=additional_kwargs
    )


def chat_response_from_result(result: ChatResult, *, delta: str | None = None) -> ChatResponse:
    """A complete ``ChatResponse`` from a core result (JSON reply or final stream event)."""
    message = assistant_message(
        result.content,
        thinking=result.thinking_content,
        thinking_tokens=result.usage.thinking_tokens if result.usage else None,
        tool_calls=[(call.id, call.name, call.arguments) for call in result.tool_calls],
    )
    return ChatResponse(
        message=message,
        raw=raw_from_result(result),
        delta=delta,
        additional_kwargs=result_metadata(result),
    )


def whole_response(response: ChatResponse) -> ChatResponse:
    """A complete response as the one item of a stream (its ``delta`` is the whole text)."""
    return response.model_copy(update={"delta": response.message.content or ""})


@dataclass
class _PartialToolCall:
    id: str = ""
    name: str = ""
    arguments: str = ""


class ChatStreamBuilder:
    """Turns core stream events into cumulative ``ChatResponse`` s.

    Each response carries the whole message so far plus ``delta`` (the new answer text)
    and, in ``additional_kwargs``, ``thinking_delta`` (new reasoning text, read by
    ``FunctionAgent``) and the request id. Tool calls in flight are ``ToolCallBlock`` s whose
    ``tool_kwargs`` is the partial JSON text received so far (CLOVA ``partialJson``). The
    final ``result`` event yields one last response built from the complete result, with
    usage in ``raw`` and ``additional_kwargs``.
    """

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self._content: list[str] = []
        self._thinking: list[str] = []
        self._calls: dict[int, _PartialToolCall] = {}

    def feed(self, event: StreamEvent) -> ChatResponse:
        """The response for one event."""
        if isinstance(event, ResultEvent):
            return self._final(event.result)
        return self._token(event)

    def _token(self, event: TokenEvent) -> ChatResponse:
        self._content.append(event.content)
        self._thinking.append(event.thinking_content)
        for chunk in event.tool_call_chunks:
            call = self._calls.setdefault(chunk.index, _PartialToolCall())
            call.id = chunk.id or call.id
            call.name = chunk.name or call.name
            call.arguments += chunk.arguments
        message = assistant_message(
            "".join(self._content),
            thinking="".join(self._thinking) or None,
            tool_calls=[
                (call.id, call.name, call.arguments) for _, call in sorted(self._calls.items())
            ],
        )
        additional_kwargs: dict[str, Any] = {"request_id": self.request_id}
        if event.thinking_content:
            additional_kwargs["thinking_delta"] = event.thinking_content
        return ChatResponse(
            message=message, delta=event.content, additional_kwargs=additional_kwargs
        )

    def _final(self, result: ChatResult) -> ChatResponse:
        streamed = "".join(self._content)
        # The core never replays text (TokenEvent holds new fragments only); if the result
        # holds text no token delivered, hand it over as the last delta.
        delta = result.content[len(streamed) :] if result.content.startswith(streamed) else ""
        return chat_response_from_result(result, delta=delta)
