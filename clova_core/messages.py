"""Messages -> CLOVA wire messages, for the v1 and v3 chat APIs.

v1: ``{"role": "system"|"user"|"assistant", "content": <string>}`` only;
text-only part lists are joined with :data:`TEXT_PART_SEPARATOR`; images, ``tool`` messages
and tool calls do not exist there.

v3 (3.3, 3.6): user content is a string or a list of parts (``text`` / ``image_url``);
system, assistant and tool content is sent as a string; assistant ``toolCalls`` carry
``arguments`` as a JSON *object*; ``tool`` messages need ``toolCallId``. ``None`` assistant
content becomes ``""`` (the server rejects null, 3.6). Reasoning is never sent back
(3.5): :class:`~clova_core.types.Message` has no field for it.

Rules checked for both versions: a non-empty list, valid roles, at most one system message
and only as the first message, user/system content that is not empty or only whitespace,
images only in user messages, at most one image per message and five per request (3.3, 9.4).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clova_core.errors import ClovaValidationError, UnsupportedFeatureError
from clova_core.images import image_to_wire
from clova_core.models import (
    MAX_IMAGES_PER_MESSAGE,
    MAX_IMAGES_PER_REQUEST,
    MAX_REQUEST_BODY_BYTES,
    ChatModelSpec,
    models_supporting,
)
from clova_core.types import ImagePart, Message, TextPart, ToolCall

TEXT_PART_SEPARATOR = "\n"
"""Joins text parts where the wire wants one string (v1 content; v3 system/assistant/tool)."""
ROLES = ("system", "user", "assistant", "tool")


@dataclass(frozen=True, slots=True)
class WireMessages:
    """Converted messages plus the facts the request builder needs about them."""

    messages: list[dict[str, Any]]
    image_count: int
    has_tool_turns: bool


def _parts(message: Message, index: int) -> list[TextPart | ImagePart]:
    content: object = message.content
    if content is None:
        return []
    if isinstance(content, str):
        return [TextPart(content)]
    if not isinstance(content, Iterable):
        raise ClovaValidationError(
            f"messages[{index}].content must be a string or a list of TextPart/ImagePart, "
            f"got {type(content).__name__}."
        )
    parts: list[TextPart | ImagePart] = []
    for part in content:
        if not isinstance(part, (TextPart, ImagePart)):
            raise ClovaValidationError(
                f"messages[{index}].content contains a {type(part).__name__}; only TextPart "
                "and ImagePart are supported."
            )
        parts.append(part)
    return parts


def _joined_text(parts: Sequence[TextPart | ImagePart], index: int, role: str) -> str:
    if any(isinstance(part, ImagePart) for part in parts):
        raise ClovaValidationError(
            f"messages[{index}] ({role}) contains an image; images are allowed only in user "
            "messages. Move the image into a user message."
        )
    return TEXT_PART_SEPARATOR.join(part.text for part in parts if isinstance(part, TextPart))


def _tool_call_to_wire(call: ToolCall, index: int) -> dict[str, Any]:
    if not isinstance(call, ToolCall) or not call.id or not call.name:
        raise ClovaValidationError(
            f"messages[{index}].tool_calls: every tool call needs a non-empty id and name "
            "(ToolCall(id=..., name=..., arguments={...}))."
        )
    arguments: object = call.arguments
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except (ValueError, RecursionError) as exc:
            raise ClovaValidationError(
                f"messages[{index}].tool_calls[{call.name!r}].arguments is not valid JSON; "
                "CLOVA needs the arguments as a JSON object."
            ) from exc
    if not isinstance(arguments, Mapping):
        raise ClovaValidationError(
            f"messages[{index}].tool_calls[{call.name!r}].arguments must be a JSON object "
            f"(a dict), got {type(arguments).__name__}; CLOVA sends and expects objects, not "
            "strings."
        )
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": dict(arguments)},
    }


def _check_structure(messages: Sequence[Message]) -> None:
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise ClovaValidationError("messages must be a list of Message objects.")
    if not messages:
        raise ClovaValidationError("messages is empty; send at least one user message.")
    for index, message in enumerate(messages):
        if not isinstance(message, Message):
            raise ClovaValidationError(
                f"messages[{index}] is a {type(message).__name__}, not a clova_core Message."
            )
        if message.role not in ROLES:
            raise ClovaValidationError(
                f"messages[{index}].role {message.role!r} is invalid; use one of "
                f"{', '.join(ROLES)}."
            )
        if message.role == "system" and index != 0:
            raise ClovaValidationError(
                f"messages[{index}] is a system message; CLOVA accepts one system message "
                "and only as the first message. Merge your system prompts into messages[0]."
            )
        if message.tool_calls and message.role != "assistant":
            raise ClovaValidationError(
                f"messages[{index}] ({message.role}) has tool_calls; only assistant messages "
                "can carry tool calls."
            )
        if message.role == "tool" and not message.tool_call_id:
            raise ClovaValidationError(
                f"messages[{index}] is a tool message without tool_call_id; set it to the id "
                "of the assistant tool call it answers."
            )
        if message.role != "tool" and message.tool_call_id is not None:
            raise ClovaValidationError(
                f"messages[{index}] ({message.role}) has tool_call_id; only tool messages carry it."
            )


def _check_tools_allowed(message: Message, index: int, spec: ChatModelSpec, tuned: bool) -> None:
    if not (message.role == "tool" or message.tool_calls):
        return
    what = "a tool message" if message.role == "tool" else "assistant tool_calls"
    if tuned:
        raise UnsupportedFeatureError(
            f"messages[{index}] is {what}, but tuned tasks do not support function calling. "
            "Call a base model instead."
        )
    if not spec.supports_tools:
        raise UnsupportedFeatureError(
            f"messages[{index}] is {what}, but {spec.name} has no function calling. Models "
            f"with tools: {models_supporting('tools')}."
        )


def _user_content_v3(
    parts: list[TextPart | ImagePart], index: int, spec: ChatModelSpec, tuned: bool
) -> tuple[str | list[dict[str, Any]], int]:
    images = [part for part in parts if isinstance(part, ImagePart)]
    if not images:
        return TEXT_PART_SEPARATOR.join(p.text for p in parts if isinstance(p, TextPart)), 0
    if tuned or not spec.supports_images:
        where = "tuned tasks" if tuned else spec.name
        raise UnsupportedFeatureError(
            f"messages[{index}] contains an image, but {where} cannot take image input. "
            f"Models with images: {models_supporting('images')}."
        )
    if len(images) > MAX_IMAGES_PER_MESSAGE:
        raise ClovaValidationError(
            f"messages[{index}] has {len(images)} images; CLOVA accepts {MAX_IMAGES_PER_MESSAGE} "
            "image per user message (40000). Split them over several user messages."
        )
    wire: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, TextPart):
            wire.append({"type": "text", "text": part.text})
        else:
            wire.append(image_to_wire(part))
    return wire, len(images)


def _data_bytes(content: object) -> int:
    if not isinstance(content, list):
        return 0
    return sum(len(part["dataUri"]["data"]) for part in content if "dataUri" in part)


def messages_to_wire(
    messages: Sequence[Message], spec: ChatModelSpec, *, tuned: bool
) -> WireMessages:
    """Validate ``messages`` and convert them for ``spec.api_version`` (module docstring)."""
    _check_structure(messages)
    out: list[dict[str, Any]] = []
    image_count = 0
    data_bytes = 0
    has_tool_turns = False
    for index, message in enumerate(messages):
        role = message.role
        parts = _parts(message, index)
        if role in ("system", "user") and not any(
            isinstance(part, ImagePart) or (part.text and not part.text.isspace()) for part in parts
        ):
            raise ClovaValidationError(
                f"messages[{index}] ({role}) has empty or whitespace-only content; CLOVA "
                "rejects it (40004 'Text empty'). Remove the message or give it text."
            )
        if spec.api_version == 1:
            if role == "tool" or message.tool_calls:
                raise UnsupportedFeatureError(
                    f"messages[{index}] uses function calling (role 'tool' or tool_calls), "
                    f"which the v1 API of {spec.name} does not have. Models with tools: "
                    f"{models_supporting('tools')}."
                )
            if role == "user" and any(isinstance(part, ImagePart) for part in parts):
                raise UnsupportedFeatureError(
                    f"messages[{index}] contains an image, but {spec.name} (v1 API) cannot "
                    f"take image input. Models with images: {models_supporting('images')}."
                )
            out.append({"role": role, "content": _joined_text(parts, index, role)})
            continue
        _check_tools_allowed(message, index, spec, tuned)
        wire: dict[str, Any] = {"role": role}
        if role == "user":
            content, images = _user_content_v3(parts, index, spec, tuned)
            image_count += images
            data_bytes += _data_bytes(content)
            wire["content"] = content
        else:
            wire["content"] = _joined_text(parts, index, role)
        if message.tool_calls:
            wire["toolCalls"] = [_tool_call_to_wire(call, index) for call in message.tool_calls]
            has_tool_turns = True
        if role == "tool":
            wire["toolCallId"] = message.tool_call_id
            has_tool_turns = True
        out.append(wire)
    if image_count > MAX_IMAGES_PER_REQUEST:
        raise ClovaValidationError(
            f"The request has {image_count} images; CLOVA accepts at most "
            f"{MAX_IMAGES_PER_REQUEST} per request (40003 'Image limit exceeded'). Drop older "
            "images from the history."
        )
    if data_bytes > MAX_REQUEST_BODY_BYTES:
        raise ClovaValidationError(
            f"The base64 image data adds up to {data_bytes / 1024 / 1024:.1f} MB; the whole "
            f"request body must stay under {MAX_REQUEST_BODY_BYTES // 1024 // 1024} MB (41300). "
            "Send images as http(s) URLs or downscale them."
        )
    return WireMessages(messages=out, image_count=image_count, has_tool_turns=has_tool_turns)
