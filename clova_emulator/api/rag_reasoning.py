"""``POST /v1/api-tools/rag-reasoning``: validation and the reply.

The body is v3-style: ``messages`` (with ``tool`` / ``toolCalls`` / ``toolCallId``), ``tools``
(required, each with ``parameters``), ``toolChoice``, ``topP`` (0, 1], ``topK`` 0..128,
``maxTokens`` 1024..4095, ``temperature`` (0, 1], ``repetitionPenalty`` (0, 2], ``stop``,
``seed``, ``includeAiFilters`` (default true). The reply is a v3 ``result`` with
``thinkingContent``; the docs do not say the endpoint streams [gap], so it answers in JSON
whatever the ``Accept`` header says.
"""

# Wire format and what is documented: clova-api.md 10 and 10.1.

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clova_emulator.api.chat import take_control
from clova_emulator.api.native import parse_tool_choice, parse_tools, parse_v3_messages
from clova_emulator.api.render import ai_filter, created_now, native_tool_call
from clova_emulator.api.validation import check_common, integer, number, seed_of, string_list
from clova_emulator.behaviour.conversation import messages_tokens
from clova_emulator.behaviour.rag_reasoning import reply
from clova_emulator.behaviour.tokenizer import count_tokens
from clova_emulator.scripting import ScriptedDisconnect
from clova_emulator.serving.envelope import EmulatedApiError, invalid, native_success
from clova_emulator.state import Ctx, DropConnection, JsonResponse, Response

MIN_OUTPUT_TOKENS = 1_024
MAX_OUTPUT_TOKENS = 4_095
MAX_INPUT_TOKENS = 128_000
"""[gap] not documented for RAG Reasoning; the reranker's input limit is assumed."""


def _check_tools(raw: Any) -> None:
    if not isinstance(raw, list) or not raw:
        raise invalid("tools is required: give at least one retrieval function")
    for index, item in enumerate(raw):
        function = item.get("function") if isinstance(item, Mapping) else None
        if not isinstance(function, Mapping) or not isinstance(function.get("parameters"), Mapping):
            raise invalid(f"tools[{index}].function.parameters is required")


def rag_reasoning(ctx: Ctx) -> Response:
    """Call a retrieval tool, or answer from ``search_result`` tool output with citations."""
    body = ctx.body
    turns = parse_v3_messages(body)
    check_common(turns)
    _check_tools(body.get("tools"))
    tools = parse_tools(body.get("tools"), require_description=True)
    choice, forced = parse_tool_choice(body.get("toolChoice"), tools, "toolChoice")
    number(body, "topP", low=0, high=1, low_open=True)
    integer(body, "topK", low=0, high=128)
    number(body, "temperature", low=0, high=1, low_open=True)
    number(body, "repetitionPenalty", low=0, high=2, low_open=True)
    max_tokens = integer(body, "maxTokens", low=MIN_OUTPUT_TOKENS, high=MAX_OUTPUT_TOKENS)
    string_list(body, "stop")
    filters = body.get("includeAiFilters", True)
    if not isinstance(filters, bool):
        raise invalid("includeAiFilters must be a boolean")
    seed = seed_of(body)
    prompt = messages_tokens(turns)
    if prompt > MAX_INPUT_TOKENS:
        raise EmulatedApiError("40003")
    budget = max_tokens or MIN_OUTPUT_TOKENS
    headers = ctx.state.admit("rag-reasoning", None, None, prompt + budget)
    if isinstance(take_control(ctx, "any", "rag-reasoning"), ScriptedDisconnect):
        return DropConnection()
    answer = reply(turns, tools, tool_choice=choice, forced=forced, seed=seed)
    message: dict[str, Any] = {
        "role": "assistant",
        "content": answer.content,
        "thinkingContent": answer.thinking,
    }
    if answer.tool_calls:
        message["toolCalls"] = [native_tool_call(call) for call in answer.tool_calls]
    completion = count_tokens(answer.content + answer.thinking) + sum(
        call.token_count() for call in answer.tool_calls
    )
    result: dict[str, Any] = {
        "created": created_now(ctx.knobs),
        "message": message,
        "finishReason": "tool_calls" if answer.tool_calls else "stop",
        "seed": seed,
        "usage": {
            "promptTokens": prompt,
            "completionTokens": completion,
            "totalTokens": prompt + completion,
        },
    }
    if filters:
        result["aiFilter"] = ai_filter()
    return JsonResponse(200, native_success(result), "20000", headers)
