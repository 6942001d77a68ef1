"""Chat turns the client completes over more than one request, when one request cannot.

Two contracts CLOVA's wire cannot state in one request, both decided here for every framework:

* **A structured answer after tool turns** (tools *and* ``response_format``): the request is
  sent with the tools, without the schema and with the caller's tool choice (``auto`` by
  default). A reply that calls tools is returned as it is. A reply in text is replaced by the
  answer in the schema, from a second request over the same conversation: with native
  ``responseFormat`` and no tools on models that have it (HCX-007), else with one function
  carrying the schema, forced, whose arguments become the answer's JSON text (HCX-005,
  HCX-DASH-002). Cost: one extra request for the final answer. ``response_format`` without
  tools on a model without native structured outputs is that forced call alone (one request).
* **"Call any one of several tools"** (``tool_choice="required"`` over several tools): sent
  as ``auto`` with an instruction to answer by calling one of the tools. A reply in text is
  asked again once, with the reply and a firmer instruction (repeating the last user
  request) appended; a second reply in text is a :class:`ToolCallRequiredError`. A reply
  without a tool call is never returned. Cost: at most one extra request.

Everything else is one request, sent as it is. :func:`turn_steps` holds the logic once as a
generator (it yields requests and receives their results); :func:`chat_turn` and
:func:`achat_turn` only run it with a sync or async client.
"""

# Sources: clova-api.md 3.6 (toolChoice is auto, none or one named function), 3.7
# (responseFormat excludes tools), 3.2 (one leading system message).

from __future__ import annotations

import json
import re
from collections.abc import Generator, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

from clova_core.errors import APIResponseError, ClovaValidationError
from clova_core.features import (
    requires_any_tool,
    response_format_to_wire,
    structured_output_method,
    tools_to_wire,
    unwrap_schema,
)
from clova_core.models import ChatModelSpec
from clova_core.request import resolve_chat_spec
from clova_core.types import ChatRequest, ChatResult, Message, TextPart, Tool

ANSWER_TOOL_NAME = "final_answer"
"""Name of the function carrying the answer schema when the schema has no usable title."""
ANSWER_TOOL_DESCRIPTION = "Give the final answer to the user's request in this exact shape."
REQUIRED_CALL_INSTRUCTION = (
    "Answer only by calling one of these tools: {names}. Do not answer in plain text."
)
REASK_INSTRUCTION = (
    "You answered in plain text, but this request must be answered by calling one of these "
    "tools: {names}. Call the most suitable one now, with its arguments."
)
REASK_REQUEST = "\n\nThe request: {request}"

TurnSteps = Generator[ChatRequest, ChatResult, ChatResult]
"""Yields the requests to send, receives each one's result, returns the turn's result."""


class ToolCallRequiredError(APIResponseError):
    """The model answered in text twice where a tool call was required."""


class _SyncChat(Protocol):
    def chat(
        self,
        request: ChatRequest,
        *,
        spec: ChatModelSpec | None = ...,
        request_id: str | None = ...,
        exact_token_check: bool = ...,
    ) -> ChatResult: ...


class _AsyncChat(Protocol):
    async def chat(
        self,
        request: ChatRequest,
        *,
        spec: ChatModelSpec | None = ...,
        request_id: str | None = ...,
        exact_token_check: bool = ...,
    ) -> ChatResult: ...


def needs_several_requests(request: ChatRequest, spec: ChatModelSpec | None = None) -> bool:
    """Whether :func:`turn_steps` may send more than the request as given.

    Streaming callers use it to fall back to one complete turn: a reply that may be replaced
    must not reach the caller token by token first.
    """
    if requires_any_tool(request):
        return True
    if request.response_format is None:
        return False
    if request.tools:
        return True
    resolved = resolve_chat_spec(request, spec)
    return structured_output_method(resolved, tuned=request.task_id is not None) != "json_schema"


def turn_steps(request: ChatRequest, spec: ChatModelSpec | None = None) -> TurnSteps:
    """The requests of one turn, as a generator (see the module docstring).

    The answer's schema and the turn's own rules are checked before the first request is
    yielded, so a request that cannot succeed fails before anything is sent.
    """
    schema = request.response_format
    if schema is not None:
        resolved = resolve_chat_spec(request, spec)
        tuned = request.task_id is not None
        method = structured_output_method(resolved, tuned=tuned)
        if not request.tools and method == "json_schema":
            return (yield request)
        answer = _answer_request(request, schema, method)
        # The answer request's schema is checked now, not after the tool turns were spent.
        if method == "json_schema":
            response_format_to_wire(answer, resolved, tuned=tuned)
        else:
            tools_to_wire(answer, resolved, tuned=tuned, has_images=False)
        return (yield from _structured_answer(request, answer, method))
    if requires_any_tool(request):
        return (yield from _required_call(request))
    return (yield request)


def _answer_request(request: ChatRequest, schema: Mapping[str, Any], method: str) -> ChatRequest:
    """The request that produces the answer in the schema, over the same conversation."""
    if method == "json_schema":
        return replace(request, tools=(), tool_choice=None)
    answer = answer_tool(schema)
    if answer.name in {tool.name for tool in request.tools}:
        answer = replace(answer, name=f"{answer.name}_answer")
    return replace(request, tools=(answer,), tool_choice=answer.name, response_format=None)


def _structured_answer(request: ChatRequest, answer: ChatRequest, method: str) -> TurnSteps:
    if request.tools:
        if request.tool_choice not in (None, "auto", "none"):
            raise ClovaValidationError(
                f"tool_choice={request.tool_choice!r} together with response_format would "
                "force a tool call on every turn and never let the model give its final "
                "answer. Leave tool_choice unset (or 'auto') to get the answer in the schema "
                "after the tool calls."
            )
        result = yield replace(request, response_format=None)
        if result.tool_calls:
            return result
    if method == "json_schema":
        return (yield answer)
    forced = yield answer
    return answer_from_call(forced, str(answer.tool_choice))


def _required_call(request: ChatRequest) -> TurnSteps:
    names = ", ".join(tool.name for tool in request.tools)
    first = replace(
        request,
        tool_choice="auto",
        messages=with_instruction(request.messages, REQUIRED_CALL_INSTRUCTION.format(names=names)),
    )
    result = yield first
    if result.tool_calls:
        return result
    reask = REASK_INSTRUCTION.format(names=names)
    if request_text := last_user_text(request.messages):
        reask += REASK_REQUEST.format(request=request_text)
    again = replace(
        first,
        messages=[
            *first.messages,
            Message(role="assistant", content=result.content),
            Message(role="user", content=reask),
        ],
    )
    result = yield again
    if result.tool_calls:
        return result
    raise ToolCallRequiredError(
        f"{result.model} answered in text twice although a call of one of the tools "
        f"({names}) was required. Name the tool to call (tool_choice=<tool name>) to force "
        "it, or allow text answers with tool_choice='auto'.",
        request_id=result.request_id,
    )


def answer_tool(schema: Mapping[str, Any]) -> Tool:
    """The function whose arguments are the answer, named after the schema's title."""
    inner = unwrap_schema(schema)
    title = inner.get("title")
    name = re.sub(r"[^A-Za-z0-9_-]", "_", title) if isinstance(title, str) else ""
    description = inner.get("description")
    return Tool(
        name=name or ANSWER_TOOL_NAME,
        description=description if isinstance(description, str) else ANSWER_TOOL_DESCRIPTION,
        parameters=inner,
    )


def answer_from_call(result: ChatResult, name: str) -> ChatResult:
    """``result`` with the forced call's arguments as JSON ``content`` and no tool calls."""
    for call in result.tool_calls:
        if call.name == name:
            return replace(
                result,
                content=json.dumps(call.arguments, ensure_ascii=False),
                tool_calls=(),
                finish_reason="stop",
            )
    raise APIResponseError(
        f"{result.model} did not call the forced function {name!r} that carries the answer "
        "schema, so no structured answer was produced.",
        request_id=result.request_id,
    )


def last_user_text(messages: Sequence[Message]) -> str:
    """The text of the last user message (text parts joined), or ``""``."""
    for message in reversed(messages):
        if message.role == "user":
            content = message.content
            if isinstance(content, str):
                return content
            return " ".join(part.text for part in content if isinstance(part, TextPart))
    return ""


def with_instruction(messages: Sequence[Message], instruction: str) -> list[Message]:
    """``messages`` with ``instruction`` appended to the leading system message (CLOVA takes
    one system message, first), or in a new one."""
    if messages and messages[0].role == "system":
        system = messages[0]
        content = system.content
        if isinstance(content, str):
            merged: str | list[TextPart] = f"{content}\n\n{instruction}" if content else instruction
        else:
            merged = [part for part in content if isinstance(part, TextPart)]
            merged.append(TextPart(instruction))
        return [replace(system, content=merged), *messages[1:]]
    return [Message(role="system", content=instruction), *messages]


def chat_turn(
    client: _SyncChat,
    request: ChatRequest,
    *,
    spec: ChatModelSpec | None = None,
    request_id: str | None = None,
    exact_token_check: bool = False,
) -> ChatResult:
    """One turn with a sync client; ``request_id`` goes with the first request only."""
    steps = turn_steps(request, spec)
    rid = request_id
    try:
        step = next(steps)
        while True:
            result = client.chat(
                step, spec=spec, request_id=rid, exact_token_check=exact_token_check
            )
            rid = None
            step = steps.send(result)
    except StopIteration as done:
        final: ChatResult = done.value
        return final


async def achat_turn(
    client: _AsyncChat,
    request: ChatRequest,
    *,
    spec: ChatModelSpec | None = None,
    request_id: str | None = None,
    exact_token_check: bool = False,
) -> ChatResult:
    """Async twin of :func:`chat_turn`."""
    steps = turn_steps(request, spec)
    rid = request_id
    try:
        step = next(steps)
        while True:
            result = await client.chat(
                step, spec=spec, request_id=rid, exact_token_check=exact_token_check
            )
            rid = None
            step = steps.send(result)
    except StopIteration as done:
        final: ChatResult = done.value
        return final
