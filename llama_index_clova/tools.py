"""Tool calling glue: LlamaIndex tools <-> core :class:`~clova_core.types.Tool`, tool choice,
and reading tool calls back out of a ``ChatResponse``.

CLOVA function calling: tools are ``{name, description, parameters}``,
``toolChoice`` is ``auto`` / ``none`` / one named function; there is no parallel-calls
switch, so ``allow_parallel_tool_calls=False`` is enforced on the response instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole, ToolCallBlock
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.llms.utils import parse_partial_json

from clova_core.schema import check_not_recursive
from clova_core.types import Tool, ToolChoice

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool


def to_clova_tools(tools: Sequence[BaseTool]) -> list[Tool]:
    """Core tool specs from LlamaIndex tools (name, description, JSON-Schema parameters).

    A recursive ``fn_schema`` is refused (typed error) before ``get_parameters_dict()``,
    which would inline its ``$ref`` s and cut the recursion silently."""
    for tool in tools:
        fn_schema = tool.metadata.fn_schema
        if fn_schema is not None:
            check_not_recursive(fn_schema.model_json_schema(), what="tools")
    return [
        Tool(
            name=tool.metadata.get_name(),
            description=tool.metadata.description,
            parameters=tool.metadata.get_parameters_dict(),
        )
        for tool in tools
    ]


def resolve_tool_choice(
    tool_choice: str | Mapping[str, Any] | None,
    *,
    tool_required: bool,
    has_tools: bool,
) -> ToolChoice | None:
    """The core tool choice for LlamaIndex's ``tool_choice`` / ``tool_required``.

    ``tool_choice`` may be ``"auto"``, ``"none"``, ``"required"``, a tool name, or the
    OpenAI-style ``{"type": "function", "function": {"name": ...}}`` some callers pass.
    ``tool_required`` without an explicit choice asks for ``"required"``; the core decides
    how (and whether) the model can express it.
    """
    if not has_tools:
        return None
    if isinstance(tool_choice, Mapping):
        function = tool_choice.get("function")
        name = function.get("name") if isinstance(function, Mapping) else None
        return str(name) if name else ("required" if tool_required else "auto")
    if tool_choice:
        return tool_choice
    return "required" if tool_required else None


def prepare_chat_with_tools(
    tools: Sequence[BaseTool],
    user_msg: str | ChatMessage | None,
    chat_history: list[ChatMessage] | None,
    *,
    tool_required: bool,
    kwargs: dict[str, Any],
) -> dict[str, Any]:
    """The ``chat`` arguments of ``_prepare_chat_with_tools``: the history plus the user
    message, the tools as core specs and the resolved tool choice; other keywords pass on."""
    messages = list(chat_history or [])
    if user_msg is not None:
        if isinstance(user_msg, str):
            user_msg = ChatMessage(role=MessageRole.USER, content=user_msg)
        messages.append(user_msg)
    tool_choice = resolve_tool_choice(
        kwargs.pop("tool_choice", None), tool_required=tool_required, has_tools=bool(tools)
    )
    return {
        "messages": messages,
        "tools": to_clova_tools(tools),
        "tool_choice": tool_choice,
        **kwargs,
    }


def tool_selections(response: ChatResponse, *, error_on_no_tool_call: bool) -> list[ToolSelection]:
    """The tool calls of a response (complete, or partial while streaming)."""
    selections = [
        ToolSelection(
            tool_id=block.tool_call_id or "",
            tool_name=block.tool_name,
            tool_kwargs=_arguments(block.tool_kwargs),
        )
        for block in response.message.blocks
        if isinstance(block, ToolCallBlock)
    ]
    if not selections and error_on_no_tool_call:
        raise ValueError(f"Expected at least one tool call, but got {len(selections)} tool calls.")
    return selections


def _arguments(tool_kwargs: dict[str, Any] | str) -> dict[str, Any]:
    if isinstance(tool_kwargs, dict):
        return tool_kwargs
    # Streamed arguments arrive as partial JSON text (clova-api.md 3.8).
    try:
        parsed = parse_partial_json(tool_kwargs) if tool_kwargs.strip() else {}
    except (ValueError, TypeError, json.JSONDecodeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def keep_first_tool_call(response: ChatResponse) -> ChatResponse:
    """Drop every tool call after the first (``allow_parallel_tool_calls=False``)."""
    calls = [block for block in response.message.blocks if isinstance(block, ToolCallBlock)]
    if len(calls) <= 1:
        return response
    first = calls[0]
    response.message.blocks = [
        block
        for block in response.message.blocks
        if not isinstance(block, ToolCallBlock) or block is first
    ]
    listed = response.message.additional_kwargs.get("tool_calls")
    if isinstance(listed, list):
        response.message.additional_kwargs["tool_calls"] = listed[:1]
    return response
