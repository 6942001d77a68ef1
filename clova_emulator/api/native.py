"""Parsing and validating native chat bodies: v1 and v3 (3.2-3.7).

Unknown keys are ignored (the docs' own v3 examples send v1 names).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clova_emulator.api.validation import (
    boolean,
    check_common,
    check_context,
    check_exclusions,
    check_images,
    default_budget,
    integer,
    number,
    seed_of,
    string_list,
    thinking_effort,
)
from clova_emulator.behaviour.conversation import (
    CallOut,
    ChatCall,
    ImageInput,
    Part,
    ToolDef,
    Turn,
    json_tokens,
    messages_tokens,
)
from clova_emulator.behaviour.schema_values import check_response_schema
from clova_emulator.limits import ChatModelSpec
from clova_emulator.serving.envelope import EmulatedApiError, invalid

V1_ROLES = frozenset({"system", "user", "assistant"})
V3_ROLES = frozenset({"system", "user", "assistant", "tool"})


def _message_list(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise invalid("messages must be a non-empty array")
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise invalid(f"messages[{index}] must be an object")
    return messages


def parse_v1_messages(body: Mapping[str, Any]) -> list[Turn]:
    """v1 messages: ``{"role": system|user|assistant, "content": string}``."""
    turns: list[Turn] = []
    for index, message in enumerate(_message_list(body)):
        role = message.get("role")
        if role not in V1_ROLES:
            raise invalid(f"messages[{index}].role must be system, user or assistant")
        content = message.get("content")
        if not isinstance(content, str):
            if isinstance(content, list) and any(
                isinstance(part, Mapping) and part.get("type") == "image_url" for part in content
            ):
                raise EmulatedApiError(
                    "40009", "Unsupported input format: images need HCX-005 on v3"
                )
            raise invalid(f"messages[{index}].content must be a string")
        turns.append(Turn(role=str(role), parts=[Part("text", content, wire={"text": content})]))
    return turns


def _image_part(part: Mapping[str, Any], where: str) -> Part:
    url_value, data_value = part.get("imageUrl"), part.get("dataUri")
    if (url_value is None) == (data_value is None):
        raise invalid(f"{where} needs exactly one of imageUrl or dataUri")
    if url_value is not None:
        url = url_value.get("url") if isinstance(url_value, Mapping) else None
        if not isinstance(url, str):
            raise invalid(f"{where}.imageUrl.url must be a string")
        return Part("image", image=ImageInput(url=url), wire=dict(part))
    data = data_value.get("data") if isinstance(data_value, Mapping) else None
    if not isinstance(data, str):
        raise invalid(f"{where}.dataUri.data must be a string")
    return Part("image", image=ImageInput(data=data), wire=dict(part))


def _content_parts(content: Any, where: str) -> list[Part]:
    if isinstance(content, str):
        return [Part("text", content, wire={"type": "text", "text": content})]
    if not isinstance(content, list):
        raise invalid(f"{where}.content must be a string or an array of parts")
    parts: list[Part] = []
    for index, part in enumerate(content):
        spot = f"{where}.content[{index}]"
        if not isinstance(part, Mapping):
            raise invalid(f"{spot} must be an object")
        kind = part.get("type")
        if kind == "text":
            if not isinstance(part.get("text"), str):
                raise invalid(f"{spot}.text must be a string")
            parts.append(Part("text", part["text"], wire=dict(part)))
        elif kind == "image_url":
            parts.append(_image_part(part, spot))
        else:
            raise invalid(f"{spot}.type must be text or image_url")
    return parts


def _native_tool_calls(value: Any, where: str) -> list[CallOut]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(f"{where}.toolCalls must be an array")
    calls: list[CallOut] = []
    for index, item in enumerate(value):
        function = item.get("function") if isinstance(item, Mapping) else None
        spot = f"{where}.toolCalls[{index}]"
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            raise invalid(f"{spot}.function.name must be a string")
        arguments = function.get("arguments", {})
        if not isinstance(arguments, Mapping):
            # clova-api.md 3.6: native arguments are a JSON object, not a JSON string.
            raise invalid(f"{spot}.function.arguments must be an object")
        call_id = item.get("id")
        calls.append(CallOut(str(call_id or ""), function["name"], dict(arguments)))
    return calls


def parse_v3_messages(body: Mapping[str, Any]) -> list[Turn]:
    """v3 messages: string or part-list content, tool calls, tool results."""
    turns: list[Turn] = []
    for index, message in enumerate(_message_list(body)):
        where = f"messages[{index}]"
        role = message.get("role")
        if role not in V3_ROLES:
            raise invalid(f"{where}.role must be system, user, assistant or tool")
        if message.get("thinkingContent") is not None:
            raise invalid(f"{where}.thinkingContent must not be sent back (clova thinking)")
        if message.get("content") is None:
            raise invalid(f"{where}.content must not be null")
        parts = _content_parts(message["content"], where)
        if role != "user" and any(part.kind == "image" for part in parts):
            raise invalid(f"{where}: images are allowed in user messages only")
        calls = _native_tool_calls(message.get("toolCalls"), where)
        if calls and role != "assistant":
            raise invalid(f"{where}.toolCalls is allowed on assistant messages only")
        call_id = message.get("toolCallId")
        if role == "tool" and not isinstance(call_id, str):
            raise invalid(f"{where}.toolCallId is required on tool messages")
        turns.append(Turn(str(role), parts, calls, call_id if role == "tool" else None))
    return turns


def parse_tools(value: Any, *, require_description: bool) -> list[ToolDef]:
    """``tools[]``: ``{"type": "function", "function": {name, description, parameters}}``."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid("tools must be an array")
    tools: list[ToolDef] = []
    for index, item in enumerate(value):
        function = item.get("function") if isinstance(item, Mapping) else None
        spot = f"tools[{index}]"
        if not isinstance(item, Mapping) or item.get("type") != "function":
            raise invalid(f"{spot}.type must be function")
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            raise invalid(f"{spot}.function.name is required")
        description = function.get("description")
        if not isinstance(description, str) and (require_description or description is not None):
            raise invalid(f"{spot}.function.description is required")
        parameters = function.get("parameters") or {}
        if not isinstance(parameters, Mapping):
            raise invalid(f"{spot}.function.parameters must be an object")
        tools.append(ToolDef(function["name"], description or "", dict(parameters)))
    return tools


def parse_tool_choice(value: Any, tools: list[ToolDef], key: str) -> tuple[str, str | None]:
    """``auto`` | ``none`` | ``{"type": "function", "function": {"name"}}``."""
    if value is None or value == "auto":
        return "auto", None
    if value == "none":
        return "none", None
    function = value.get("function") if isinstance(value, Mapping) else None
    name = function.get("name") if isinstance(function, Mapping) else None
    if (
        not isinstance(value, Mapping)
        or value.get("type") != "function"
        or not isinstance(name, str)
    ):
        raise invalid(f"{key} must be auto, none or a function object")
    if name not in {tool.name for tool in tools}:
        raise invalid(f"{key} names {name!r}, which is not in tools")
    return "function", name


def parse_v1(body: Mapping[str, Any], spec: ChatModelSpec, model: str, *, tuned: bool) -> ChatCall:
    """Validate a v1 body into a :class:`ChatCall`."""
    turns = parse_v1_messages(body)
    check_common(turns)
    number(body, "temperature", low=0, high=1, low_open=True)
    integer(body, "topK", low=0, high=128)
    number(body, "topP", low=0, high=1, low_open=True)
    number(body, "repeatPenalty", low=0, high=10, low_open=True)
    max_tokens = integer(body, "maxTokens", low=1, high=spec.max_output_tokens)
    boolean(body, "includeAiFilters")
    for feature in ("tools", "responseFormat"):
        if body.get(feature):
            raise EmulatedApiError("40009", f"Unsupported function: {feature} needs the v3 API")
    thinking_effort(body.get("thinking"), spec, tuned=True)
    call = ChatCall(
        surface="v1",
        model=model,
        spec=spec,
        turns=turns,
        stop=string_list(body, "stopBefore"),
        seed=seed_of(body),
        ai_filters=boolean(body, "includeAiFilters"),
        prompt_tokens=messages_tokens(turns),
        tuned=tuned,
    )
    call.max_output = max_tokens if max_tokens is not None else default_budget(call)
    check_context(call, requested_output=None)
    return call


def parse_v3(body: Mapping[str, Any], spec: ChatModelSpec, model: str, *, tuned: bool) -> ChatCall:
    """Validate a v3 body into a :class:`ChatCall`."""
    turns = parse_v3_messages(body)
    check_common(turns)
    number(body, "topP", low=0, high=1, low_open=True)
    integer(body, "topK", low=0, high=128)
    number(body, "temperature", low=0, high=1)
    number(body, "repetitionPenalty", low=0, high=2, low_open=True)
    if body.get("maxTokens") is not None and body.get("maxCompletionTokens") is not None:
        raise invalid("maxTokens, maxCompletionTokens cannot be used together")
    max_tokens = integer(body, "maxTokens", low=1, high=spec.max_output_tokens)
    max_completion = integer(body, "maxCompletionTokens", low=1, high=spec.max_output_tokens)
    explicit = max_tokens if max_tokens is not None else max_completion
    tools = parse_tools(body.get("tools"), require_description=True)
    if tools and (tuned or not spec.supports_tools):
        raise EmulatedApiError("40009", f"Unsupported function: {spec.name} does not call tools")
    choice, forced = parse_tool_choice(body.get("toolChoice"), tools, "toolChoice")
    schema = _response_format(body.get("responseFormat"), spec, tuned=tuned)
    check_images(turns, spec, tuned=tuned)
    call = ChatCall(
        surface="v3",
        model=model,
        spec=spec,
        turns=turns,
        tools=tools,
        tool_choice=choice,
        forced_tool=forced,
        stop=string_list(body, "stop"),
        seed=seed_of(body),
        thinking=thinking_effort(body.get("thinking"), spec, tuned=tuned),
        schema=schema,
        ai_filters=boolean(body, "includeAiFilters"),
        tuned=tuned,
    )
    check_exclusions(call, explicit_max=explicit, uses_max_tokens=max_tokens is not None)
    call.max_output = explicit if explicit is not None else default_budget(call)
    call.prompt_tokens = messages_tokens(turns) + extras_tokens(body)
    check_context(call, requested_output=None)
    return call


def _response_format(value: Any, spec: ChatModelSpec, *, tuned: bool) -> dict[str, Any] | None:
    if value is None:
        return None
    if tuned or not spec.supports_structured_output:
        raise EmulatedApiError(
            "40009", f"Unsupported function: {spec.name} has no structured outputs"
        )
    if not isinstance(value, Mapping) or value.get("type") != "json":
        raise invalid('responseFormat.type must be "json"')
    schema = value.get("schema")
    check_response_schema(schema)
    return dict(schema) if isinstance(schema, Mapping) else None


def extras_tokens(body: Mapping[str, Any]) -> int:
    """Tokens of ``tools`` and ``responseFormat``, counted into ``promptTokens``."""
    total = 0
    for key in ("tools", "responseFormat"):
        if body.get(key):
            total += json_tokens(body[key])
    return total


def tokenize_v1(body: Mapping[str, Any]) -> dict[str, Any]:
    """``/v1/api-tools/chat-tokenize/{model}`` result."""
    turns = parse_v1_messages(body)
    return {
        "messages": [
            {"role": turn.role, "content": turn.text, "count": turn.token_count()} for turn in turns
        ]
    }


def tokenize_v3(body: Mapping[str, Any]) -> dict[str, Any]:
    """``/v3/api-tools/chat-tokenize/{model}`` result: per-part counts."""
    turns = parse_v3_messages(body)
    messages: list[dict[str, Any]] = []
    for turn in turns:
        parts = turn.parts or [Part("text", "", wire={"type": "text", "text": ""})]
        counted = [
            {**part.wire, "count": count}
            for part, count in zip(parts, turn.part_counts(), strict=True)
        ]
        messages.append({"role": turn.role, "content": counted})
    result: dict[str, Any] = {"messages": messages}
    for key in ("tools", "responseFormat"):
        if body.get(key):
            result[key] = {"count": json_tokens(body[key])}
    return result
