"""Checks shared by the native and OpenAI-compatible chat parsers.

Failures follow the documented error codes: 40001 "Invalid parameter" for ranges and
mutually exclusive features (the message names them), 40009 for a feature the model lacks,
40080 / 40084 for unknown models and model/API mismatches, 40003 for context overflow and too
many images, 40000 for two images in one message.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from clova_emulator.api.images import check_image
from clova_emulator.behaviour.conversation import ChatCall, Turn
from clova_emulator.limits import (
    MAX_IMAGES_PER_MESSAGE,
    MAX_IMAGES_PER_REQUEST,
    MIN_TOOL_OUTPUT_TOKENS,
    THINKING_EFFORTS,
    ChatModelSpec,
)
from clova_emulator.serving.envelope import EmulatedApiError, invalid

MAX_SEED = 4_294_967_295
V1_DEFAULT_MAX_TOKENS = 100
"""v1 ``maxTokens`` default."""
V3_DEFAULT_MAX_TOKENS = 512
"""v3 default is not documented for HCX-005 / DASH-002 [GAP]; the OpenAI layer documents 512."""
THINKING_DEFAULT_BUDGET = {"none": 512, "low": 5_120, "medium": 10_240, "high": 20_480}
"""HCX-007 ``maxCompletionTokens`` default by effort."""


def is_number(value: Any) -> bool:
    """A JSON number (``bool`` excluded)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def number(
    body: Mapping[str, Any],
    key: str,
    *,
    low: float,
    high: float,
    low_open: bool = False,
    integer: bool = False,
) -> float | None:
    """``body[key]`` checked against ``[low, high]`` (``(low, high]`` if ``low_open``)."""
    value = body.get(key)
    if value is None:
        return None
    if not is_number(value) or (integer and not float(value).is_integer()):
        raise invalid(f"{key} must be {'an integer' if integer else 'a number'}")
    number_value = float(value)
    below = number_value <= low if low_open else number_value < low
    if below or number_value > high:
        bracket = "(" if low_open else "["
        raise invalid(f"{key} must be in {bracket}{low:g}, {high:g}]")
    return number_value


def integer(body: Mapping[str, Any], key: str, *, low: int, high: int) -> int | None:
    """An integer field in ``[low, high]``."""
    value = number(body, key, low=low, high=high, integer=True)
    return None if value is None else int(value)


def boolean(body: Mapping[str, Any], key: str) -> bool:
    """A boolean field (absent -> ``False``)."""
    value = body.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise invalid(f"{key} must be a boolean")
    return value


def string_list(body: Mapping[str, Any], key: str, *, allow_string: bool = False) -> list[str]:
    """A list of strings (a single string too when ``allow_string``)."""
    value = body.get(key)
    if value is None:
        return []
    if allow_string and isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid(f"{key} must be an array of strings")
    return list(value)


def seed_of(body: Mapping[str, Any], key: str = "seed") -> int:
    """The seed to echo: the request's, or a deterministic "random" one for 0 / absent."""
    value = integer(body, key, low=0, high=MAX_SEED)
    if value:
        return value
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).digest()
    return int.from_bytes(digest[:4], "big") % MAX_SEED + 1


def resolve_model(name: str, version: int, registry: Mapping[str, ChatModelSpec]) -> ChatModelSpec:
    """40080 for an unknown name, 40084 when the model is not served by this API version."""
    spec = registry.get(name)
    if spec is None:
        raise EmulatedApiError("40080", f"Model not found: {name}")
    if spec.api_version != version:
        raise EmulatedApiError(
            "40084", f"Unsupported API for model: {name} is served by v{spec.api_version}"
        )
    return spec


def resolve_task(
    task_id: str,
    version: int,
    tasks: Mapping[str, str],
    registry: Mapping[str, ChatModelSpec],
) -> ChatModelSpec:
    """The base model of a registered tuned task; 404 / 40400 for an unknown task."""
    base = tasks.get(task_id)
    if base is None:
        raise EmulatedApiError("40400", f"Not found: task {task_id}")
    spec = registry.get(base)
    if spec is None:
        raise EmulatedApiError("40080", f"Model not found: {base}")
    if spec.api_version != version:
        raise EmulatedApiError(
            "40084", f"Unsupported API for model: task {task_id} is based on {base}"
        )
    return spec


def thinking_effort(value: Any, spec: ChatModelSpec, *, tuned: bool) -> str:
    """The effective effort: given, else the model default (HCX-007: low); 40009 if unsupported."""
    effort: Any = None
    if value is not None:
        effort = value.get("effort") if isinstance(value, Mapping) else value
        if effort not in THINKING_EFFORTS:
            raise invalid("thinking.effort must be one of none, low, medium, high")
    if effort is None:
        effort = spec.default_thinking if spec.supports_thinking and not tuned else "none"
    if effort != "none" and (tuned or not spec.supports_thinking):
        raise EmulatedApiError(
            "40009", f"Unsupported function: thinking is not supported by {spec.name}"
        )
    return str(effort)


def check_images(turns: list[Turn], spec: ChatModelSpec, *, tuned: bool) -> None:
    """Documented image rules: model support, 1 per message, 5 per request, bytes."""
    total = 0
    for turn in turns:
        images = turn.images
        if not images:
            continue
        if tuned or not spec.supports_images:
            raise EmulatedApiError(
                "40009", f"Unsupported input format: {spec.name} takes no images"
            )
        if len(images) > MAX_IMAGES_PER_MESSAGE:
            raise EmulatedApiError("40000", "Each user message can contain only one image")
        total += len(images)
    if total > MAX_IMAGES_PER_REQUEST:
        raise EmulatedApiError("40003", "Image limit exceeded")
    for turn in turns:
        for image in turn.images:
            check_image(image)


def check_common(turns: list[Turn]) -> None:
    """One system message at most; some text, image or tool call somewhere (40004)."""
    if sum(1 for turn in turns if turn.role == "system") > 1:
        raise invalid("messages may contain only one system message")
    if not any(turn.text.strip() or turn.images or turn.tool_calls for turn in turns):
        raise EmulatedApiError("40004")


def check_exclusions(call: ChatCall, *, explicit_max: int | None, uses_max_tokens: bool) -> None:
    """Mutually exclusive features."""
    if call.thinking != "none":
        for active, name in (
            (bool(call.tools), "tools"),
            (call.schema is not None, "responseFormat"),
            (bool(call.stop), "stop"),
            (any(turn.images for turn in call.turns), "images"),
        ):
            if active:
                raise invalid(f"thinking, {name} cannot be used together")
        if uses_max_tokens and call.spec.max_tokens_field == "maxCompletionTokens":
            raise invalid("maxTokens cannot be used with thinking; use maxCompletionTokens")
    if call.tools and call.schema is not None:
        raise invalid("tools, responseFormat cannot be used together")
    # Function calling cannot be combined with image input (clova-api.md 3.6).
    if call.tools and any(turn.images for turn in call.turns):
        raise invalid("tools, images cannot be used together")
    if call.tools and explicit_max is not None and explicit_max < MIN_TOOL_OUTPUT_TOKENS:
        raise invalid(f"maxTokens must be >= {MIN_TOOL_OUTPUT_TOKENS} with tools")


def default_budget(call: ChatCall) -> int:
    """The output budget when the request sets none."""
    if call.surface == "v1":
        return V1_DEFAULT_MAX_TOKENS
    if call.spec.supports_thinking and call.schema is None:
        return THINKING_DEFAULT_BUDGET.get(call.thinking, V3_DEFAULT_MAX_TOKENS)
    return V3_DEFAULT_MAX_TOKENS


def check_context(call: ChatCall, *, requested_output: int | None) -> None:
    """40003 when input, or input plus the requested output, is over the model's limits."""
    spec = call.spec
    if call.prompt_tokens > spec.max_input_tokens:
        raise EmulatedApiError(
            "40003",
            f"Context length exceeded: {call.prompt_tokens} input tokens > {spec.max_input_tokens}",
        )
    output = requested_output if requested_output is not None else call.max_output
    if call.prompt_tokens + output > spec.context_window:
        raise EmulatedApiError(
            "40003",
            f"Context length exceeded: {call.prompt_tokens} input + {output} output tokens > "
            f"{spec.context_window}",
        )
