"""Model-aware feature shaping: thinking, tools, tool choice, structured output, max tokens.

Rules (defaults documented in :mod:`clova_core.request`):

* Thinking exists only where ``spec.supports_thinking`` (HCX-007) and never on tuned tasks.
  Elsewhere ``thinking=None`` / ``"none"`` is simply omitted and any other effort is an
  :class:`~clova_core.errors.UnsupportedFeatureError`.
* On a thinking model, reasoning excludes tools, structured output, ``stop`` and images: when
  one of them is present and the caller gave no effort, ``{"effort": "none"}`` is sent (the
  server default is ``low``, which would be rejected); an explicit low/medium/high together
  with them is a :class:`~clova_core.errors.ClovaValidationError`.
  An explicit effort is the caller's choice and is never silently replaced, in either
  framework: the error says to drop the effort or the conflicting feature.
* Tools need ``spec.supports_tools`` (no tuned tasks, no v1), cannot be mixed with images
  (3.6), and need max tokens >= :data:`~clova_core.models.MIN_TOOL_OUTPUT_TOKENS`.
* ``tool_choice``: ``"auto"`` / ``"none"`` pass through; a tool name becomes
  ``{"type": "function", "function": {"name": ...}}``; ``"required"`` forces the only tool
  when there is exactly one. CLOVA cannot express "any of several": over several tools
  ``"required"`` is a contract :mod:`clova_core.turns` enforces over one or two requests
  (:func:`requires_any_tool`); a single request refuses it.
* Structured output: :func:`structured_output_method` picks native ``responseFormat``
  (``"json_schema"``) where the model has it, else one forced function carrying the schema
  (``"function_calling"``). One request cannot hold both tools and ``responseFormat``;
  :mod:`clova_core.turns` runs the tool turns first and produces the answer after them.
  The schema goes through :func:`clova_core.schema.normalize_schema`.
"""

# Sources: clova-api.md 3.5 (thinking), 3.6 (function calling), 3.7 (structured outputs),
# 4 (models), 3.1 (tuned tasks).

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from clova_core.errors import ClovaValidationError, UnsupportedFeatureError
from clova_core.models import (
    MIN_TOOL_OUTPUT_TOKENS,
    THINKING_EFFORTS,
    ChatModelSpec,
    models_supporting,
)
from clova_core.schema import normalize_schema
from clova_core.types import ChatRequest, Tool

DEFAULT_MAX_OUTPUT_TOKENS = 1024
MIN_DEFAULT_OUTPUT_TOKENS = 256
"""The default cap is never shrunk below this: our input estimate errs high, and an answer
capped at a handful of tokens is useless; if the input really is that close to the window,
the server's 40003 says so (a typed ContextLengthExceededError)."""
"""Output cap sent when the caller gives none (see :mod:`clova_core.request`)."""


@dataclass(frozen=True, slots=True)
class ThinkingPlan:
    """What to send as ``thinking`` and whether the model will reason."""

    wire: dict[str, str] | None
    active: bool


Capability = Literal["tools", "images", "thinking", "structured_output"]
StructuredOutputMethod = Literal["json_schema", "function_calling"]
"""How a model produces an answer in a schema: native ``responseFormat`` or a forced function."""


def _unsupported(
    feature: str, spec: ChatModelSpec, tuned: bool, flag: Capability
) -> UnsupportedFeatureError:
    if tuned:
        return UnsupportedFeatureError(
            f"{feature} is not available on tuned tasks. Call a base model "
            f"instead: {models_supporting(flag)}."
        )
    return UnsupportedFeatureError(
        f"{spec.name} does not support {feature}. Models that do: {models_supporting(flag)}."
    )


def thinking_conflicts(request: ChatRequest, *, has_images: bool, has_stop: bool) -> list[str]:
    """The request fields that rule out reasoning."""
    conflicts = []
    if request.tools:
        conflicts.append("tools")
    if request.response_format is not None:
        conflicts.append("response_format")
    if has_stop:
        conflicts.append("stop")
    if has_images:
        conflicts.append("images")
    return conflicts


def plan_thinking(
    request: ChatRequest, spec: ChatModelSpec, *, tuned: bool, conflicts: Sequence[str]
) -> ThinkingPlan:
    """The ``thinking`` body field for ``request`` on ``spec`` (module docstring)."""
    effort = request.thinking
    if effort is not None and effort not in THINKING_EFFORTS:
        raise ClovaValidationError(
            f"thinking={effort!r} is invalid; use one of {', '.join(THINKING_EFFORTS)} or None."
        )
    if tuned or not spec.supports_thinking:
        if effort in (None, "none"):
            return ThinkingPlan(wire=None, active=False)
        raise _unsupported(f"thinking={effort!r}", spec, tuned, "thinking")
    if effort is None:
        if conflicts:
            return ThinkingPlan(wire={"effort": "none"}, active=False)
        # Reasoning counts as active only when the server default is known to reason
        # (HCX-007: low). A custom spec with an unknown default gets the ordinary cap.
        return ThinkingPlan(wire=None, active=spec.default_thinking in ("low", "medium", "high"))
    if effort == "none":
        return ThinkingPlan(wire={"effort": "none"}, active=False)
    if conflicts:
        listed = ", ".join(conflicts)
        raise ClovaValidationError(
            f"thinking={effort!r} cannot be combined with {listed} on {spec.name}: CLOVA "
            "allows reasoning only without tools, response_format, stop and images. "
            f"Set thinking='none' (or leave it unset) to keep {listed}, "
            f"or remove {listed} to keep reasoning."
        )
    return ThinkingPlan(wire={"effort": effort}, active=True)


def require_tools(spec: ChatModelSpec, *, tuned: bool = False) -> None:
    """Raise the typed error when ``spec`` (or a tuned task) has no function calling."""
    if tuned or not spec.supports_tools:
        raise _unsupported("function calling (tools)", spec, tuned, "tools")


def tools_to_wire(
    request: ChatRequest, spec: ChatModelSpec, *, tuned: bool, has_images: bool
) -> list[dict[str, Any]] | None:
    """``tools`` in the v3 wire form, or None when the request has none (3.6)."""
    if not request.tools:
        return None
    require_tools(spec, tuned=tuned)
    if has_images:
        raise ClovaValidationError(
            "tools cannot be combined with image input: CLOVA's function calling does not "
            "accept images. Describe the image in a separate call first, "
            "or drop the tools for this turn."
        )
    wire: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, tool in enumerate(request.tools):
        if not isinstance(tool, Tool) or not isinstance(tool.name, str) or not tool.name:
            raise ClovaValidationError(
                f"tools[{index}] must be a Tool with a non-empty name, got {tool!r}."
            )
        if tool.name in seen:
            raise ClovaValidationError(
                f"tools[{index}]: the tool name {tool.name!r} is used twice; names must be unique."
            )
        seen.add(tool.name)
        function: dict[str, Any] = {"name": tool.name, "description": tool.description or ""}
        if tool.parameters is not None:
            function["parameters"] = normalize_schema(
                tool.parameters, allow_pattern=True, what=f"tools[{tool.name!r}].parameters"
            )
        wire.append({"type": "function", "function": function})
    return wire


def structured_output_method(
    spec: ChatModelSpec, *, tuned: bool = False, requested: str | None = None
) -> StructuredOutputMethod:
    """How ``spec`` produces an answer in a schema; a typed error when it cannot.

    The default is ``"json_schema"`` (native ``responseFormat``) where the model has native
    structured outputs (HCX-007) and ``"function_calling"`` (one forced function whose
    arguments are the answer) on the other models with tools. ``requested`` (``"json_schema"``,
    ``"json_mode"`` or ``"function_calling"``) is honoured when the model can serve it;
    ``"json_mode"`` is served by ``responseFormat`` with the given schema (CLOVA has no
    schema-less JSON mode).
    """
    native = spec.supports_structured_output and not tuned
    calls = spec.supports_tools and not tuned
    if not native and not calls:
        raise UnsupportedFeatureError(
            f"{spec.name}{' (tuned task)' if tuned else ''} supports neither structured "
            "outputs nor function calling, so it cannot answer in a schema. Use a model "
            f"with function calling ({models_supporting('tools')}) or native structured "
            f"outputs ({models_supporting('structured_output')})."
        )
    if requested is None:
        return "json_schema" if native else "function_calling"
    if requested == "function_calling":
        if not calls:
            raise _unsupported("function calling (tools)", spec, tuned, "tools")
        return "function_calling"
    if requested in ("json_schema", "json_mode"):
        if not native:
            raise UnsupportedFeatureError(
                f"method={requested!r} needs native structured outputs, which only "
                f"{models_supporting('structured_output')} have; use "
                f"method='function_calling' on {spec.name}."
            )
        return "json_schema"
    raise ClovaValidationError(
        f"Unknown structured output method {requested!r}; "
        "use 'json_schema', 'function_calling' or 'json_mode'."
    )


def requires_any_tool(request: ChatRequest) -> bool:
    """Whether ``request`` asks for "a call of any one of several tools", which CLOVA's
    ``toolChoice`` cannot express in one request (3.6)."""
    return request.tool_choice == "required" and len(request.tools) > 1


def tool_choice_to_wire(request: ChatRequest) -> str | dict[str, Any] | None:
    """``toolChoice`` for the wire, or None when not given (3.6)."""
    choice: object = request.tool_choice
    if choice is None:
        return None
    names = [tool.name for tool in request.tools]
    if not names:
        raise ClovaValidationError(
            f"tool_choice={choice!r} was given without tools; pass tools=[...] or drop tool_choice."
        )
    if isinstance(choice, Mapping):
        function = choice.get("function")
        choice = function.get("name") if isinstance(function, Mapping) else None
    if choice in ("auto", "none"):
        return str(choice)
    if choice == "required":
        if len(names) != 1:
            raise ClovaValidationError(
                f"tool_choice='required' with {len(names)} tools cannot be sent as one CLOVA "
                "request, which can only force one named tool or leave the choice to the "
                "model. Send it with clova_core.turns.chat_turn (which enforces it over one "
                "or two requests), pass tool_choice=<tool name> to force one tool, or 'auto'."
            )
        choice = names[0]
    if not isinstance(choice, str) or choice not in names:
        raise ClovaValidationError(
            f"tool_choice={choice!r} is not one of the request's tools ({', '.join(names)}); "
            "use 'auto', 'none', 'required' or one of those names."
        )
    return {"type": "function", "function": {"name": choice}}


def unwrap_schema(value: Mapping[str, Any]) -> Mapping[str, Any]:
    """Accept CLOVA's ``{"type": "json", "schema": ...}`` and OpenAI's ``json_schema`` wrappers."""
    if value.get("type") == "json" and isinstance(value.get("schema"), Mapping):
        schema: Mapping[str, Any] = value["schema"]
        return schema
    inner = value.get("json_schema")
    if value.get("type") == "json_schema" and isinstance(inner, Mapping):
        nested = inner.get("schema")
        if isinstance(nested, Mapping):
            return nested
    return value


def response_format_to_wire(
    request: ChatRequest, spec: ChatModelSpec, *, tuned: bool
) -> dict[str, Any] | None:
    """``responseFormat`` for the wire, or None when not given (3.7)."""
    if request.response_format is None:
        return None
    if tuned or not spec.supports_structured_output:
        raise _unsupported("structured output (response_format)", spec, tuned, "structured_output")
    if request.tools:
        raise ClovaValidationError(
            "response_format cannot be combined with tools in one CLOVA request. Use "
            "either structured output or function calling in one request."
        )
    if not isinstance(request.response_format, Mapping):
        raise ClovaValidationError(
            "response_format must be a JSON-schema dict, got "
            f"{type(request.response_format).__name__}."
        )
    schema = normalize_schema(unwrap_schema(request.response_format), allow_pattern=False)
    return {"type": "json", "schema": schema}


def resolve_max_tokens(
    request: ChatRequest,
    spec: ChatModelSpec,
    *,
    has_tools: bool,
    thinking_active: bool,
    estimated_input: int,
) -> int | None:
    """The output cap to send, or None to leave the server's (effort-based) default."""
    field = "maxTokens" if spec.api_version == 1 else spec.max_tokens_field
    explicit: object = request.max_tokens
    if explicit is not None:
        if isinstance(explicit, bool) or not isinstance(explicit, int):
            raise ClovaValidationError(f"max_tokens must be an integer, got {explicit!r}.")
        if not 1 <= explicit <= spec.max_output_tokens:
            raise ClovaValidationError(
                f"max_tokens={explicit} is out of range for {spec.name}: allowed "
                f"1..{spec.max_output_tokens:,} (sent as {field})."
            )
        if has_tools and explicit < MIN_TOOL_OUTPUT_TOKENS:
            raise ClovaValidationError(
                f"max_tokens={explicit} is too small for function calling: CLOVA needs "
                f"{field} >= {MIN_TOOL_OUTPUT_TOKENS} when tools are given. "
                f"Set max_tokens to at least {MIN_TOOL_OUTPUT_TOKENS} or leave it unset."
            )
        return explicit
    if has_tools and spec.max_output_tokens < MIN_TOOL_OUTPUT_TOKENS:
        raise ClovaValidationError(
            f"{spec.name} allows at most {spec.max_output_tokens} output tokens, but function "
            f"calling needs {MIN_TOOL_OUTPUT_TOKENS}; drop the tools or use "
            f"a model with a larger output limit: {models_supporting('tools')}."
        )
    if thinking_active:
        return None
    room = max(MIN_DEFAULT_OUTPUT_TOKENS, spec.context_window - estimated_input)
    default = min(DEFAULT_MAX_OUTPUT_TOKENS, spec.max_output_tokens, room)
    if has_tools:
        default = max(default, MIN_TOOL_OUTPUT_TOKENS)
    return default
