"""Native wire shapes of a :class:`Reply`: v1 and v3 (3.4, 3.8).

v1: ``result.message``, ``stopReason`` (``stop_before`` / ``length``; casing is a knob),
``inputLength`` / ``outputLength``, ``seed``. Stream: ``token`` events with the new fragment
and running ``outputLength``, then ``result`` with the full text.

v3: ``created``, ``usage`` (``completionTokensDetails.thinkingTokens`` for reasoning),
``message`` (``thinkingContent``, ``toolCalls`` with ``arguments`` as an object),
``finishReason``, ``seed``. Stream: thinking fragments in ``message.thinkingContent``, then
content fragments, tool calls as a header event (id/type/name) followed by
``function.partialJson`` pieces; ``usage: null`` on tokens, everything on ``result``.
"""

from __future__ import annotations

import time
from typing import Any

from clova_emulator.behaviour.conversation import CallOut, ChatCall, Reply
from clova_emulator.behaviour.tokenizer import token_pieces
from clova_emulator.faults import Knobs
from clova_emulator.serving.sse import Frame, native_frame

_V1_STOP_REASON = {"stop": "stop_before", "length": "length", "tool_calls": "stop_before"}
AI_FILTER = (
    ("curse", "insult"),
    ("curse", "discrimination"),
    ("unsafeContents", "sexualHarassment"),
)


def created_now(knobs: Knobs) -> int:
    """``created`` in the configured unit (ms documented, s seen in examples)."""
    now = time.time()
    return int(now * 1000) if knobs.created_unit == "ms" else int(now)


def ai_filter() -> list[dict[str, str]]:
    """A benign AI-filter verdict (score "2" = low likelihood)."""
    return [
        {"groupName": group, "name": name, "score": "2", "result": "OK"}
        for group, name in AI_FILTER
    ]


def stop_reason(reply: Reply, knobs: Knobs) -> str:
    """v1 ``stopReason`` for a finish reason, in the configured casing."""
    value = _V1_STOP_REASON[reply.finish_reason]
    return value.upper() if knobs.stop_reason_case == "upper" else value


def v1_result(call: ChatCall, reply: Reply, knobs: Knobs) -> dict[str, Any]:
    """The v1 ``result`` object (JSON reply and final stream event)."""
    result: dict[str, Any] = {
        "message": {"role": "assistant", "content": reply.content},
        "stopReason": stop_reason(reply, knobs),
        "inputLength": reply.prompt_tokens,
        "outputLength": reply.completion_tokens,
        "seed": call.seed,
    }
    if call.ai_filters:
        result["aiFilter"] = ai_filter()
    return result


def usage(reply: Reply) -> dict[str, Any]:
    """v3 ``usage`` (totalTokens = prompt + completion)."""
    value: dict[str, Any] = {
        "promptTokens": reply.prompt_tokens,
        "completionTokens": reply.completion_tokens,
        "totalTokens": reply.prompt_tokens + reply.completion_tokens,
    }
    if reply.thinking_tokens is not None:
        value["completionTokensDetails"] = {"thinkingTokens": reply.thinking_tokens}
    return value


def native_tool_call(tool_call: CallOut) -> dict[str, Any]:
    """A tool call as CLOVA sends it: ``arguments`` is an object."""
    return {
        "id": tool_call.id,
        "type": "function",
        "function": {"name": tool_call.name, "arguments": tool_call.arguments},
    }


def v3_result(call: ChatCall, reply: Reply, created: int) -> dict[str, Any]:
    """The v3 ``result`` object (JSON reply and final stream event)."""
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.thinking is not None:
        message["thinkingContent"] = reply.thinking
    if reply.tool_calls:
        message["toolCalls"] = [native_tool_call(tool_call) for tool_call in reply.tool_calls]
    result: dict[str, Any] = {
        "created": created,
        "usage": usage(reply),
        "message": message,
        "finishReason": reply.finish_reason,
        "seed": call.seed,
    }
    if call.ai_filters:
        result["aiFilter"] = ai_filter()
    return result


def v1_token_frames(call: ChatCall, reply: Reply, knobs: Knobs) -> list[Frame]:
    """v1 ``token`` events: one per token of the content."""
    frames: list[Frame] = []
    for index, piece in enumerate(token_pieces(reply.content), start=1):
        data = {
            "message": {"role": "assistant", "content": piece},
            "index": 0,
            "inputLength": reply.prompt_tokens,
            "outputLength": index,
            "stopReason": None,
        }
        frames.append(native_frame("token", data, space=knobs.sse_space))
    return frames


def v3_token_frames(call: ChatCall, reply: Reply, knobs: Knobs, created: int) -> list[Frame]:
    """v3 ``token`` events: thinking fragments, content fragments, tool-call pieces."""
    frames: list[Frame] = []

    def emit(message: dict[str, Any]) -> None:
        data = {
            "message": {"role": "assistant", **message},
            "finishReason": None,
            "created": created,
            "seed": call.seed,
            "usage": None,
        }
        frames.append(native_frame("token", data, space=knobs.sse_space))

    for piece in token_pieces(reply.thinking or ""):
        emit({"content": "", "thinkingContent": piece})
    for piece in token_pieces(reply.content):
        emit({"content": piece})
    for tool_call in reply.tool_calls:
        header = {"id": tool_call.id, "type": "function", "function": {"name": tool_call.name}}
        emit({"content": "", "toolCalls": [header]})
        for piece in token_pieces(tool_call.arguments_json()):
            emit(
                {
                    "content": "",
                    "toolCalls": [{"type": "function", "function": {"partialJson": piece}}],
                }
            )
    return frames


def native_stream(call: ChatCall, reply: Reply, knobs: Knobs) -> tuple[list[Frame], Frame]:
    """Token frames and the final ``result`` frame of a native stream."""
    if call.surface == "v1":
        result = v1_result(call, reply, knobs)
        return v1_token_frames(call, reply, knobs), native_frame(
            "result", result, space=knobs.sse_space
        )
    created = created_now(knobs)
    tokens = v3_token_frames(call, reply, knobs, created)
    return tokens, native_frame("result", v3_result(call, reply, created), space=knobs.sse_space)


def native_json(call: ChatCall, reply: Reply, knobs: Knobs) -> dict[str, Any]:
    """The ``result`` object of a native JSON reply."""
    if call.surface == "v1":
        return v1_result(call, reply, knobs)
    return v3_result(call, reply, created_now(knobs))
