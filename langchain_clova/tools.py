"""Tool conversion and ``tool_choice`` mapping for ``ChatClovaX.bind_tools``.

LangChain tools (``BaseTool``, functions, Pydantic / TypedDict classes, OpenAI-format dicts)
are normalised with ``convert_to_openai_tool`` at bind time, so tracing shows the usual
OpenAI-style tool list, and turned into core :class:`~clova_core.types.Tool` s per request.
CLOVA function calling is documented in clova-api.md 3.6.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_core.utils.json_schema import dereference_refs

from clova_core.errors import ClovaValidationError, UnsupportedFeatureError
from clova_core.models import ChatModelSpec, models_supporting
from clova_core.types import Tool, ToolChoice

if TYPE_CHECKING:  # langchain_core.tools.base builds pydantic models: ~15 ms at import
    from langchain_core.tools import BaseTool

ToolLike: TypeAlias = "Mapping[str, Any] | type | Callable[..., Any] | BaseTool"
"""Anything ``bind_tools`` accepts."""
ToolChoiceLike = str | bool | Mapping[str, Any] | None
"""Anything ``bind_tools(tool_choice=...)`` accepts."""


def require_tool_support(spec: ChatModelSpec) -> None:
    """Raise the core's typed error when ``spec`` has no function calling (v1 models)."""
    if not spec.supports_tools:
        raise UnsupportedFeatureError(
            f"{spec.name} does not support tool calling (function calling is a v3 feature, "
            f"clova-api.md 3.6). Models with tools: {models_supporting('tools')}."
        )


def format_tools(tools: Sequence[ToolLike]) -> list[dict[str, Any]]:
    """OpenAI-format tool dicts, as bound to the model."""
    return [convert_to_openai_tool(tool) for tool in tools]


def to_clova_tools(formatted: Sequence[Mapping[str, Any]]) -> list[Tool]:
    """Core tools from OpenAI-format dicts.

    CLOVA requires a description (clova-api.md 3.6); a tool without one is described by
    its name rather than sent with an empty string.
    """
    tools: list[Tool] = []
    for item in formatted:
        function = item.get("function", item)
        name = function.get("name")
        if not isinstance(name, str) or not name:
            raise ClovaValidationError(f"A tool has no name: {item!r}")
        parameters = function.get("parameters")
        tools.append(
            Tool(
                name=name,
                description=function.get("description") or name,
                parameters=inline_refs(parameters) if isinstance(parameters, Mapping) else None,
            )
        )
    return tools


def inline_refs(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON schema with local ``$ref`` s replaced by their definitions.

    CLOVA's schema subset has no ``$ref`` (clova-api.md 3.7); LangChain inlines them for
    Pydantic / TypedDict inputs but passes a raw JSON schema (``model_json_schema()``)
    through with its ``$defs``.
    """
    inlined = dereference_refs(dict(schema))
    for key in ("$defs", "definitions"):
        inlined.pop(key, None)
    return inlined


def normalize_tool_choice(
    tool_choice: ToolChoiceLike, tool_names: Sequence[str]
) -> ToolChoice | None:
    """Map LangChain's ``tool_choice`` values to the core's.

    ``"auto"`` / ``"none"`` pass through; ``"any"``, ``"required"`` and ``True`` mean "must
    call a tool", which CLOVA can only express by forcing one named function
    (clova-api.md 3.6), so they need exactly one bound tool; a tool name, or an
    OpenAI-style ``{"type": "function", "function": {"name": ...}}``, forces that tool.
    """
    if tool_choice is None or tool_choice is False:
        return None
    if tool_choice is True or tool_choice in ("any", "required"):
        if len(tool_names) != 1:
            raise UnsupportedFeatureError(
                "CLOVA Studio cannot require 'any one of several tools': toolChoice is "
                "'auto', 'none' or one named function (clova-api.md 3.6). Bind a single "
                f"tool, or name the tool to force (bound tools: {', '.join(tool_names)})."
            )
        return "required"
    if isinstance(tool_choice, Mapping):
        function = tool_choice.get("function")
        name = function.get("name") if isinstance(function, Mapping) else tool_choice.get("name")
        if not isinstance(name, str):
            raise ClovaValidationError(f"Unrecognised tool_choice {tool_choice!r}.")
        tool_choice = name
    if tool_choice in ("auto", "none"):
        return tool_choice
    if tool_choice not in tool_names:
        raise ClovaValidationError(
            f"tool_choice {tool_choice!r} is not one of the bound tools "
            f"({', '.join(tool_names)}); use 'auto', 'none', 'any' or a bound tool's name."
        )
    return tool_choice
