"""Tool conversion and ``tool_choice`` mapping for ``ChatClovaX.bind_tools``.

LangChain tools (``BaseTool``, functions, Pydantic / TypedDict classes, OpenAI-format dicts)
are normalised with ``convert_to_openai_tool`` at bind time, so tracing shows the usual
OpenAI-style tool list, and turned into core :class:`~clova_core.types.Tool` s per request.
CLOVA function calling is documented at https://api.ncloud-docs.com/docs/clovastudio-chatcompletionsv3-fc.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_core.utils.json_schema import dereference_refs
from pydantic import BaseModel

from clova_core.errors import ClovaValidationError, UnsupportedFeatureError
from clova_core.features import require_tools
from clova_core.models import ChatModelSpec
from clova_core.schema import check_not_recursive
from clova_core.types import Tool, ToolChoice

if TYPE_CHECKING:  # langchain_core.tools.base builds pydantic models: ~15 ms at import
    from langchain_core.tools import BaseTool

ToolLike: TypeAlias = "Mapping[str, Any] | type | Callable[..., Any] | BaseTool"
"""Anything ``bind_tools`` accepts."""
ToolChoiceLike = str | bool | Mapping[str, Any] | None
"""Anything ``bind_tools(tool_choice=...)`` accepts."""


def require_tool_support(spec: ChatModelSpec) -> None:
    """Raise the core's typed error when ``spec`` has no function calling (v1 models)."""
    require_tools(spec)


def refuse_answer_tools(tools: Sequence[ToolLike], tool_choice: ToolChoiceLike) -> None:
    """Refuse "call any of these" when one of them only carries an answer schema.

    LangChain's agent ``ToolStrategy`` binds the answer schema as a tool that cannot run
    (no function) and forces "any" tool. CLOVA cannot force one of several tools, and a model
    that keeps calling the working tools would loop until the recursion limit, so this is a
    typed error pointing at the default strategy, which CLOVA serves.
    """
    if not (tool_choice is True or tool_choice in ("any", "required")) or len(tools) < 2:
        return
    from langchain_core.tools import StructuredTool

    for tool in tools:
        if isinstance(tool, StructuredTool) and tool.func is None and tool.coroutine is None:
            raise UnsupportedFeatureError(
                f"The tool {tool.name!r} only carries an answer schema and is bound with "
                f"tool_choice={tool_choice!r} next to other tools, as LangChain's "
                "ToolStrategy does. CLOVA Studio cannot force 'one of several tools'; use "
                "create_agent(..., response_format=Schema) (the default) or "
                "ProviderStrategy(Schema), which ChatClovaX serves on every model with tools."
            )


def raw_schema(tool: ToolLike) -> Mapping[str, Any] | None:
    """The JSON schema of ``tool`` before LangChain inlines its ``$ref`` s, where it has one:
    a Pydantic model's ``model_json_schema()``, a tool's args schema, a JSON-schema dict."""
    if isinstance(tool, type) and issubclass(tool, BaseModel):
        return tool.model_json_schema()
    args_schema = getattr(tool, "args_schema", None)
    if isinstance(args_schema, type) and issubclass(args_schema, BaseModel):
        return args_schema.model_json_schema()
    if isinstance(tool, Mapping):
        function = tool.get("function", tool)
        parameters = function.get("parameters") if isinstance(function, Mapping) else None
        return parameters if isinstance(parameters, Mapping) else tool
    return None


def check_not_recursive_tool(tool: ToolLike, what: str) -> None:
    """Refuse a recursive schema (typed error) before LangChain's ``$ref`` inlining, which
    would cut the recursion silently (the recursive fields sent as ``{}``)."""
    schema = raw_schema(tool)
    if schema is not None:
        check_not_recursive(schema, what=what)


def format_tools(tools: Sequence[ToolLike]) -> list[dict[str, Any]]:
    """OpenAI-format tool dicts, as bound to the model."""
    for tool in tools:
        check_not_recursive_tool(tool, "tools")
    return [convert_to_openai_tool(tool) for tool in tools]


def to_clova_tools(formatted: Sequence[Mapping[str, Any]]) -> list[Tool]:
    """Core tools from OpenAI-format dicts.

    CLOVA requires a description; a tool without one is described by
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

    CLOVA's schema subset has no ``$ref``; LangChain inlines them for
    Pydantic / TypedDict inputs but passes a raw JSON schema (``model_json_schema()``)
    through with its ``$defs``.
    """
    check_not_recursive(schema)
    inlined = dereference_refs(dict(schema))
    for key in ("$defs", "definitions"):
        inlined.pop(key, None)
    return inlined


def normalize_tool_choice(
    tool_choice: ToolChoiceLike, tool_names: Sequence[str]
) -> ToolChoice | None:
    """Map LangChain's ``tool_choice`` values to the core's.

    ``"auto"`` / ``"none"`` pass through; ``"any"``, ``"required"`` and ``True`` mean "must
    call a tool" (the core's ``"required"``): with one bound tool it is forced, over several
    the core enforces it (clova_core.turns: ``auto`` with an instruction, one re-ask, else a
    typed error); a tool name, or an OpenAI-style
    ``{"type": "function", "function": {"name": ...}}``, forces that tool.
    """
    if tool_choice is None or tool_choice is False:
        return None
    if tool_choice is True or tool_choice in ("any", "required"):
        if not tool_names:
            raise ClovaValidationError(
                f"tool_choice={tool_choice!r} needs at least one bound tool."
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
