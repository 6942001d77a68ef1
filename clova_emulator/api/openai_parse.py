"""Parsing and validating OpenAI-compatible chat bodies.

snake_case fields; parameters the docs list as unsupported answer 40002; ranges follow the
model's native API version (v1 models: ``0 < temperature``; v3 models: ``0 <= temperature``).
Tool-call ``arguments`` in request history are JSON strings, as in OpenAI.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from clova_emulator.api.native import parse_tool_choice, parse_tools
from clova_emulator.api.validation import (
    boolean,
    check_common,
    check_context,
    check_exclusions,
    check_images,
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
    Turn,
    json_tokens,
    messages_tokens,
)
from clova_emulator.behaviour.schema_values import check_response_schema
from clova_emulator.limits import ChatModelSpec
from clova_emulator.serving.envelope import EmulatedApiError, invalid

UNSUPPORTED = (
    "audio",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "metadata",
    "modalities",
    "prediction",
    "presence_penalty",
    "prompt_cache_key",
    "safety_identifier",
    "service_tier",
    "store",
    "stream_options",
    "top_logprobs",
    "user",
    "web_search_options",
)
ROLES = frozenset({"system", "user", "assistant", "tool"})


OPENAI_DEFAULT_MAX_TOKENS = 512
"""The compatible layer's default for max_tokens and max_completion_tokens alike."""


def reject_unsupported(body: Mapping[str, Any], names: tuple[str, ...]) -> None:
    """40002 "Unsupported parameter" for the first unsupported field that is set."""
    for name in names:
        if body.get(name) is not None:
            raise EmulatedApiError("40002", f"Unsupported parameter: {name}")


def _parts(content: Any, where: str) -> list[Part]:
    if content is None:
        return []
    if isinstance(content, str):
        return [Part("text", content, wire={"type": "text", "text": content})]
    if not isinstance(content, list):
        raise invalid(f"{where}.content must be a string or an array of parts")
    parts: list[Part] = []
    for index, part in enumerate(content):
        spot = f"{where}.content[{index}]"
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text" and isinstance(part.get("text"), str):
            parts.append(Part("text", part["text"], wire=dict(part)))
            continue
        image = part.get("image_url") if kind == "image_url" else None
        url = image.get("url") if isinstance(image, Mapping) else image
        if not isinstance(url, str):
            raise invalid(f"{spot} must be a text or image_url part")
        picture = ImageInput(data=url) if url.startswith("data:") else ImageInput(url=url)
        parts.append(Part("image", image=picture, wire=dict(part)))
    return parts


def _tool_calls(value: Any, where: str) -> list[CallOut]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(f"{where}.tool_calls must be an array")
    calls: list[CallOut] = []
    for index, item in enumerate(value):
        function = item.get("function") if isinstance(item, Mapping) else None
        spot = f"{where}.tool_calls[{index}].function"
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            raise invalid(f"{spot}.name must be a string")
        arguments: Any = function.get("arguments") or "{}"
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments)
            except ValueError:
                raise invalid(f"{spot}.arguments must be a JSON object string") from None
        if not isinstance(arguments, Mapping):
            raise invalid(f"{spot}.arguments must be a JSON object")
        calls.append(CallOut(str(item.get("id") or ""), function["name"], dict(arguments)))
    return calls


def parse_messages(body: Mapping[str, Any]) -> list[Turn]:
    """OpenAI ``messages`` into turns."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise invalid("messages must be a non-empty array")
    turns: list[Turn] = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, Mapping) or message.get("role") not in ROLES:
            raise invalid(f"{where}.role must be system, user, assistant or tool")
        role = str(message["role"])
        calls = _tool_calls(message.get("tool_calls"), where)
        if message.get("content") is None and not calls:
            raise invalid(f"{where}.content must not be null")
        call_id = message.get("tool_call_id")
        if role == "tool" and not isinstance(call_id, str):
            raise invalid(f"{where}.tool_call_id is required on tool messages")
        turns.append(Turn(role, _parts(message.get("content"), where), calls, call_id))
    return turns


def _effort(body: Mapping[str, Any]) -> Any:
    reasoning = body.get("reasoning")
    if isinstance(reasoning, Mapping) and reasoning.get("effort") is not None:
        return reasoning["effort"]
    return body.get("reasoning_effort")


def _schema(body: Mapping[str, Any], spec: ChatModelSpec) -> dict[str, Any] | None:
    value = body.get("response_format")
    if value is None:
        return None
    if not isinstance(value, Mapping) or value.get("type") != "json_schema":
        raise invalid('response_format.type must be "json_schema"')
    if not spec.supports_structured_output:
        raise EmulatedApiError(
            "40009", f"Unsupported function: {spec.name} has no structured outputs"
        )
    inner = value.get("json_schema")
    schema = inner.get("schema") if isinstance(inner, Mapping) else None
    check_response_schema(schema)
    return dict(schema) if isinstance(schema, Mapping) else None


def parse_chat(body: Mapping[str, Any], registry: Mapping[str, ChatModelSpec]) -> ChatCall:
    """Validate an OpenAI-compatible chat body into a :class:`ChatCall`."""
    reject_unsupported(body, UNSUPPORTED)
    model = body.get("model")
    if not isinstance(model, str):
        raise invalid("model is required")
    spec = registry.get(model)
    if spec is None:
        raise EmulatedApiError("40080", f"Model not found: {model}")
    if body.get("n") is not None and body.get("n") != 1:
        raise invalid("n must be 1")
    if body.get("parallel_tool_calls") is not None and body.get("parallel_tool_calls") is not True:
        raise invalid("parallel_tool_calls must be true")
    turns = parse_messages(body)
    check_common(turns)
    v1 = spec.api_version == 1
    number(body, "temperature", low=0, high=1, low_open=v1)
    number(body, "top_p", low=0, high=1, low_open=True)
    integer(body, "top_k", low=0, high=128)
    number(body, "repeat_penalty", low=0, high=10, low_open=True)
    number(body, "repetition_penalty", low=0, high=2, low_open=True)
    if body.get("max_tokens") is not None and body.get("max_completion_tokens") is not None:
        raise invalid("max_tokens, max_completion_tokens cannot be used together")
    max_tokens = integer(body, "max_tokens", low=1, high=spec.max_output_tokens)
    max_completion = integer(body, "max_completion_tokens", low=1, high=spec.max_output_tokens)
    explicit = max_tokens if max_tokens is not None else max_completion
    tools = parse_tools(body.get("tools"), require_description=False)
    if tools and not spec.supports_tools:
        raise EmulatedApiError("40009", f"Unsupported function: {spec.name} does not call tools")
    choice, forced = parse_tool_choice(body.get("tool_choice"), tools, "tool_choice")
    schema = _schema(body, spec)
    check_images(turns, spec, tuned=False)
    call = ChatCall(
        surface="openai",
        model=model,
        spec=spec,
        turns=turns,
        tools=tools,
        tool_choice=choice,
        forced_tool=forced,
        stop=string_list(body, "stop", allow_string=True),
        seed=seed_of(body),
        thinking=thinking_effort(_effort(body), spec, tuned=False),
        schema=schema,
        stream=boolean(body, "stream"),
    )
    check_exclusions(call, explicit_max=explicit, uses_max_tokens=False)
    # The compatible layer documents one default, 512, for max_tokens and
    # max_completion_tokens alike (clova-api.md 7), reasoning or not.
    call.max_output = explicit if explicit is not None else OPENAI_DEFAULT_MAX_TOKENS
    extras = sum(json_tokens(body[key]) for key in ("tools", "response_format") if body.get(key))
    call.prompt_tokens = messages_tokens(turns) + extras
    check_context(call, requested_output=None)
    return call
