"""Request shaping for the v3 API (HCX-005, HCX-DASH-002, HCX-007, tuned v3 tasks,
custom specs): clova-api.md 3."""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

import pytest
from pydantic import BaseModel

from clova_core.errors import ClovaValidationError, UnknownModelError, UnsupportedFeatureError
from clova_core.models import custom_chat_model, get_chat_model
from clova_core.request import (
    effective_max_tokens,
    prepare_chat,
    prepare_chat_tokenize,
    resolve_chat_spec,
)
from clova_core.types import ChatRequest, ImagePart, Message, TextPart, Tool, ToolCall

HI = [Message(role="system", content="Be kind."), Message(role="user", content="Hi")]
WEATHER = Tool(
    name="get_weather",
    description="Weather for a city",
    parameters={
        "type": "object",
        "title": "GetWeather",
        "properties": {"city": {"type": "string", "title": "City", "pattern": "^[A-Z]"}},
        "required": ["city"],
    },
)
TIME = Tool(name="get_time", description="Current time")
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}


def png_b64(width: int = 8, height: int = 8) -> str:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress((b"\x00" + b"\x00" * 3 * width) * height)
    blob = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    return base64.b64encode(blob).decode()


def chat(model: str = "HCX-005", messages: Any = None, **fields: Any) -> ChatRequest:
    return ChatRequest(messages=HI if messages is None else messages, model=model, **fields)


def build(request: ChatRequest) -> dict[str, Any]:
    wire = prepare_chat(request, resolve_chat_spec(request))
    assert wire.api_version == 3
    return wire.body


def image_message(*parts: Any) -> Message:
    return Message(role="user", content=list(parts))


@pytest.mark.parametrize(
    ("model", "task_id", "path"),
    [
        ("HCX-005", None, "/v3/chat-completions/HCX-005"),
        ("HCX-DASH-002", None, "/v3/chat-completions/HCX-DASH-002"),
        ("HCX-007", None, "/v3/chat-completions/HCX-007"),
        ("HCX-005", "task9", "/v3/tasks/task9/chat-completions"),
    ],
)
def test_paths(model: str, task_id: str | None, path: str) -> None:
    request = chat(model, task_id=task_id)
    assert prepare_chat(request, resolve_chat_spec(request)).path == path


def test_full_v3_body_uses_v3_names() -> None:
    body = build(
        chat(
            temperature=0,
            top_p=0.8,
            top_k=0,
            repetition_penalty=1.1,
            stop=["###"],
            seed=7,
            include_ai_filters=False,
            max_tokens=512,
        )
    )
    assert body == {
        "messages": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi"}],
        "temperature": 0.0,
        "topP": 0.8,
        "topK": 0,
        "repetitionPenalty": 1.1,
        "stop": ["###"],
        "seed": 7,
        "includeAiFilters": False,
        "maxTokens": 512,
    }


@pytest.mark.parametrize(
    ("fields", "needles"),
    [
        ({"temperature": 1.2}, ["temperature=1.2", "0 <= temperature <= 1"]),
        ({"repetition_penalty": 2.5}, ["repetition_penalty=2.5", "<= 2", "HCX-005"]),
        ({"repetition_penalty": 0}, ["repetition_penalty=0"]),
        ({"max_tokens": 4097}, ["max_tokens=4097", "1..4,096"]),
    ],
)
def test_v3_ranges(fields: dict[str, Any], needles: list[str]) -> None:
    with pytest.raises(ClovaValidationError) as info:
        build(chat(**fields))
    for needle in needles:
        assert needle in str(info.value)


# --- HCX-007: thinking and maxCompletionTokens (clova-api.md 3.5) -------------------------


@pytest.mark.parametrize(
    ("fields", "thinking", "max_completion"),
    [
        ({}, None, None),  # server default effort (low) and its effort-based output default
        ({"thinking": "low"}, {"effort": "low"}, None),
        ({"thinking": "high", "max_tokens": 20_000}, {"effort": "high"}, 20_000),
        ({"thinking": "none"}, {"effort": "none"}, 1024),
        ({"tools": [WEATHER]}, {"effort": "none"}, 1024),
        ({"response_format": SCHEMA}, {"effort": "none"}, 1024),
        ({"stop": ["END"]}, {"effort": "none"}, 1024),
        ({"stop": []}, None, None),  # an empty stop list is not "stop present"
        ({"max_tokens": 32_768}, None, 32_768),
    ],
)
def test_hcx007_thinking_and_output_cap(
    fields: dict[str, Any], thinking: dict[str, str] | None, max_completion: int | None
) -> None:
    request = chat("HCX-007", **fields)
    body = build(request)
    assert body.get("thinking") == thinking
    assert body.get("maxCompletionTokens") == max_completion
    assert "maxTokens" not in body
    assert effective_max_tokens(request, get_chat_model("HCX-007")) == max_completion


@pytest.mark.parametrize(
    ("fields", "conflict"),
    [
        ({"tools": [WEATHER]}, "tools"),
        ({"response_format": SCHEMA}, "response_format"),
        ({"stop": ["END"]}, "stop"),
    ],
)
@pytest.mark.parametrize("effort", ["low", "medium", "high"])
def test_explicit_reasoning_with_excluded_features_is_rejected(
    fields: dict[str, Any], conflict: str, effort: str
) -> None:
    with pytest.raises(ClovaValidationError) as info:
        build(chat("HCX-007", thinking=effort, **fields))
    message = str(info.value)
    assert f"thinking={effort!r} cannot be combined with {conflict}" in message
    assert "thinking='none'" in message


def test_hcx007_max_tokens_limit() -> None:
    with pytest.raises(ClovaValidationError, match=r"1\.\.32,768 \(sent as maxCompletionTokens\)"):
        build(chat("HCX-007", max_tokens=32_769))


@pytest.mark.parametrize("model", ["HCX-005", "HCX-DASH-002"])
def test_thinking_on_models_without_it(model: str) -> None:
    assert "thinking" not in build(chat(model, thinking="none"))
    with pytest.raises(UnsupportedFeatureError) as info:
        build(chat(model, thinking="medium"))
    assert f"{model} does not support thinking='medium'" in str(info.value)
    assert "HCX-007" in str(info.value)


def test_invalid_thinking_value() -> None:
    with pytest.raises(ClovaValidationError, match="thinking='max' is invalid"):
        build(chat("HCX-007", thinking="max"))


# --- tools (clova-api.md 3.6) -------------------------------------------------------------


def test_tools_wire_form_and_normalised_parameters() -> None:
    body = build(chat("HCX-DASH-002", tools=[WEATHER, TIME], tool_choice="auto"))
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string", "pattern": "^[A-Z]"}},
                    "required": ["city"],
                },
            },
        },
        {"type": "function", "function": {"name": "get_time", "description": "Current time"}},
    ]
    assert body["toolChoice"] == "auto"
    assert body["maxTokens"] == 1024


class Lookup(BaseModel):
    """Look a word up."""

    word: str


def test_pydantic_tool_parameters_are_inlined() -> None:
    tool = Tool(name="lookup", description="Look up", parameters=Lookup.model_json_schema())
    params = build(chat(tools=[tool]))["tools"][0]["function"]["parameters"]
    assert params == {
        "description": "Look a word up.",
        "type": "object",
        "properties": {"word": {"type": "string"}},
        "required": ["word"],
    }


@pytest.mark.parametrize(
    ("tools", "choice", "expected"),
    [
        ([WEATHER, TIME], "auto", "auto"),
        ([WEATHER, TIME], "none", "none"),
        ([WEATHER, TIME], "get_time", {"type": "function", "function": {"name": "get_time"}}),
        ([WEATHER], "required", {"type": "function", "function": {"name": "get_weather"}}),
        (
            [WEATHER, TIME],
            {"type": "function", "function": {"name": "get_weather"}},
            {"type": "function", "function": {"name": "get_weather"}},
        ),
    ],
)
def test_tool_choice(tools: list[Tool], choice: Any, expected: Any) -> None:
    assert build(chat(tools=tools, tool_choice=choice))["toolChoice"] == expected


@pytest.mark.parametrize(
    ("fields", "needles"),
    [
        (
            {"tools": [WEATHER, TIME], "tool_choice": "required"},
            ["'required' with 2 tools", "tool_choice=<tool name>"],
        ),
        (
            {"tools": [WEATHER], "tool_choice": "get_time"},
            ["tool_choice='get_time'", "get_weather"],
        ),
        ({"tool_choice": "auto"}, ["without tools"]),
        ({"tools": [WEATHER, WEATHER]}, ["'get_weather' is used twice"]),
        ({"tools": [Tool(name="", description="x")]}, ["tools[0]", "non-empty name"]),
        ({"tools": [WEATHER], "max_tokens": 512}, ["max_tokens=512", "maxTokens >= 1024"]),
        ({"tools": [WEATHER], "response_format": SCHEMA}, ["cannot be combined with tools"]),
    ],
)
def test_tool_errors(fields: dict[str, Any], needles: list[str]) -> None:
    model = "HCX-007" if "response_format" in fields else "HCX-005"
    with pytest.raises(ClovaValidationError) as info:
        build(chat(model, **fields))
    for needle in needles:
        assert needle in str(info.value)


def test_explicit_max_tokens_at_the_tool_floor_is_sent() -> None:
    assert build(chat(tools=[WEATHER], max_tokens=1024))["maxTokens"] == 1024
    assert build(chat(tools=[WEATHER], max_tokens=4096))["maxTokens"] == 4096


def test_custom_model_whose_output_limit_is_below_the_tool_floor() -> None:
    spec = custom_chat_model("small-tools", max_output_tokens=512)
    with pytest.raises(ClovaValidationError, match="at most 512 output tokens"):
        prepare_chat(chat("small-tools", tools=[WEATHER]), spec)


def test_tool_round_trip_messages() -> None:
    messages = [
        Message(role="user", content="Weather in Seoul?"),
        Message(
            role="assistant",
            content=None,  # type: ignore[arg-type]
            tool_calls=[ToolCall(id="call_1", name="get_weather", arguments={"city": "Seoul"})],
        ),
        Message(role="tool", content='{"temp": "17C"}', tool_call_id="call_1"),
    ]
    body = build(chat(messages=messages, tools=[WEATHER]))
    assert body["messages"] == [
        {"role": "user", "content": "Weather in Seoul?"},
        {
            "role": "assistant",
            "content": "",
            "toolCalls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": {"city": "Seoul"}},
                }
            ],
        },
        {"role": "tool", "content": '{"temp": "17C"}', "toolCallId": "call_1"},
    ]


def test_string_arguments_are_sent_as_a_json_object() -> None:
    call = ToolCall(id="c", name="f", arguments='{"a": 1}')  # type: ignore[arg-type]
    messages = [Message(role="user", content="x"), Message(role="assistant", tool_calls=[call])]
    sent = build(chat(messages=messages))["messages"][1]["toolCalls"][0]["function"]["arguments"]
    assert sent == {"a": 1}


@pytest.mark.parametrize(
    ("message", "needle"),
    [
        (
            Message(role="assistant", tool_calls=[ToolCall(id="c", name="f", arguments="[1]")]),  # type: ignore[arg-type]
            "must be a JSON object",
        ),
        (
            Message(role="assistant", tool_calls=[ToolCall(id="c", name="f", arguments="{oops")]),  # type: ignore[arg-type]
            "is not valid JSON",
        ),
        (
            Message(role="assistant", tool_calls=[ToolCall(id="", name="f", arguments={})]),
            "non-empty id and name",
        ),
        (Message(role="tool", content="42"), "without tool_call_id"),
        (
            Message(
                role="user", content="x", tool_calls=[ToolCall(id="c", name="f", arguments={})]
            ),
            "only assistant messages can carry tool calls",
        ),
    ],
)
def test_tool_message_rules(message: Message, needle: str) -> None:
    with pytest.raises(ClovaValidationError) as info:
        build(chat(messages=[Message(role="user", content="x"), message]))
    assert needle in str(info.value)


# --- structured output (clova-api.md 3.7) -------------------------------------------------


class Answer(BaseModel):
    answer: str
    confidence: float


@pytest.mark.parametrize(
    "response_format",
    [
        Answer.model_json_schema(),
        {"type": "json", "schema": Answer.model_json_schema()},
        {"type": "json_schema", "json_schema": {"name": "a", "schema": Answer.model_json_schema()}},
    ],
)
def test_structured_output_on_hcx007(response_format: dict[str, Any]) -> None:
    body = build(chat("HCX-007", response_format=response_format))
    assert body["responseFormat"] == {
        "type": "json",
        "schema": {
            "type": "object",
            "properties": {"answer": {"type": "string"}, "confidence": {"type": "number"}},
            "required": ["answer", "confidence"],
        },
    }
    assert body["thinking"] == {"effort": "none"}
    assert body["maxCompletionTokens"] == 1024


def test_structured_output_rejects_pattern_with_property_path() -> None:
    schema = {"type": "object", "properties": {"code": {"type": "string", "pattern": "^[0-9]+$"}}}
    with pytest.raises(ClovaValidationError, match=r"'pattern' keyword at \$\.code .*40055"):
        build(chat("HCX-007", response_format=schema))


@pytest.mark.parametrize("model", ["HCX-005", "HCX-DASH-002"])
def test_structured_output_needs_hcx007(model: str) -> None:
    with pytest.raises(UnsupportedFeatureError) as info:
        build(chat(model, response_format=SCHEMA))
    assert f"{model} does not support structured output" in str(info.value)
    assert "HCX-007" in str(info.value)


# --- images (clova-api.md 3.3) ------------------------------------------------------------


def test_image_parts_on_hcx005() -> None:
    data = png_b64()
    messages = [
        image_message(TextPart("What is this?"), ImagePart(url="https://example.com/a.png")),
        Message(role="assistant", content="A cat."),
        image_message(ImagePart(data=f"data:image/png;base64,{data}")),
    ]
    body = build(chat(messages=messages))
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "imageUrl": {"url": "https://example.com/a.png"}},
    ]
    assert body["messages"][2]["content"] == [{"type": "image_url", "dataUri": {"data": data}}]


@pytest.mark.parametrize(
    ("messages", "needle"),
    [
        (
            [
                image_message(
                    ImagePart(url="https://x.test/a.png"), ImagePart(url="https://x.test/b.png")
                )
            ],
            "messages[0] has 2 images",
        ),
        (
            [
                m
                for i in range(6)
                for m in (
                    image_message(ImagePart(url=f"https://x.test/{i}.png")),
                    Message(role="assistant", content="ok"),
                )
            ],
            "6 images; CLOVA accepts at most 5",
        ),
        ([image_message(ImagePart(url="https://x.test/a.gif"))], "a .gif file"),
        ([image_message(ImagePart(data=png_b64(3000, 100)))], "longer side must be at most 2240"),
    ],
)
def test_image_limits(messages: list[Message], needle: str) -> None:
    with pytest.raises(ClovaValidationError) as info:
        build(chat(messages=messages))
    assert needle in str(info.value)


def test_base64_images_over_the_body_limit_are_rejected() -> None:
    big = base64.b64decode(png_b64()) + b"\x00" * (13 * 1024 * 1024)
    data = base64.b64encode(big).decode()
    messages = [
        m
        for _ in range(3)
        for m in (image_message(ImagePart(data=data)), Message(role="assistant", content="ok"))
    ]
    with pytest.raises(ClovaValidationError, match="Send images as http\\(s\\) URLs"):
        build(chat(messages=messages))


@pytest.mark.parametrize("model", ["HCX-DASH-002", "HCX-007"])
def test_images_need_an_image_model(model: str) -> None:
    messages = [image_message(ImagePart(url="https://x.test/a.png"))]
    with pytest.raises(UnsupportedFeatureError) as info:
        build(chat(model, messages=messages))
    assert f"{model} cannot take image input" in str(info.value)
    assert "HCX-005" in str(info.value)


def test_tools_and_images_cannot_be_combined() -> None:
    messages = [image_message(TextPart("hi"), ImagePart(url="https://x.test/a.png"))]
    with pytest.raises(ClovaValidationError, match="tools cannot be combined with image input"):
        build(chat(messages=messages, tools=[WEATHER]))


def test_image_only_user_message_is_allowed() -> None:
    messages = [image_message(ImagePart(url="https://x.test/a.png"))]
    assert build(chat(messages=messages))["messages"][0]["content"][0]["type"] == "image_url"


# --- tuned tasks and custom specs ---------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"tools": [WEATHER]}, "function calling (tools) is not available on tuned tasks"),
        ({"response_format": SCHEMA}, "structured output (response_format) is not available"),
        ({"thinking": "low"}, "thinking='low' is not available on tuned tasks"),
        (
            {"messages": [image_message(ImagePart(url="https://x.test/a.png"))]},
            "tuned tasks cannot take image input",
        ),
        (
            {
                "messages": [
                    Message(role="user", content="x"),
                    Message(role="tool", content="1", tool_call_id="c"),
                ]
            },
            "tuned tasks do not support function calling",
        ),
    ],
)
def test_tuned_tasks_have_no_tools_images_thinking_or_schema(
    fields: dict[str, Any], needle: str
) -> None:
    model = "HCX-007" if "thinking" in fields or "response_format" in fields else "HCX-005"
    with pytest.raises(UnsupportedFeatureError) as info:
        build(chat(model, task_id="task1", **fields))
    assert needle in str(info.value)


def test_tuned_hcx007_task_omits_thinking_and_sends_a_default_cap() -> None:
    body = build(chat("HCX-007", task_id="task1"))
    assert "thinking" not in body
    assert body["maxCompletionTokens"] == 1024


def test_custom_v3_model() -> None:
    spec = custom_chat_model("HCX-NEXT", context_window=64_000, max_output_tokens=8_192)
    request = chat("HCX-NEXT", max_tokens=8_000)
    assert resolve_chat_spec(request, spec) is spec
    wire = prepare_chat(request, spec)
    assert wire.path == "/v3/chat-completions/HCX-NEXT"
    assert wire.body["maxTokens"] == 8_000
    # an unknown default effort gets the ordinary default cap; explicit reasoning leaves the
    # cap to the server; a spec based on HCX-007 inherits its known reasoning default
    assert prepare_chat(chat("HCX-NEXT"), spec).body["maxTokens"] == 1024
    assert "maxTokens" not in prepare_chat(chat("HCX-NEXT", thinking="high"), spec).body
    reasoning = custom_chat_model("HCX-007-next", base="HCX-007")
    assert "maxCompletionTokens" not in prepare_chat(chat("HCX-007-next"), reasoning).body


def test_custom_spec_based_on_a_registry_model() -> None:
    spec = custom_chat_model("HCX-005-eu", base="HCX-005")
    body = prepare_chat(chat("HCX-005-eu", thinking="none"), spec).body
    assert "thinking" not in body
    assert body["maxTokens"] == 1024


def test_unknown_models() -> None:
    with pytest.raises(UnknownModelError, match="custom_chat_model"):
        resolve_chat_spec(chat("HCX-999"))
    with pytest.raises(UnknownModelError, match="task's base model"):
        resolve_chat_spec(chat("my-task-id", task_id="my-task-id"))


def test_model_names_that_would_break_the_path_are_rejected() -> None:
    spec = custom_chat_model("a/b")
    with pytest.raises(ClovaValidationError, match="model 'a/b' is not a valid"):
        prepare_chat(chat("a/b"), spec)


# --- token calculator v3 (clova-api.md 6.2) -----------------------------------------------


def test_tokenize_v3_includes_tools_choice_and_schema() -> None:
    request = chat("HCX-007", tools=[TIME], tool_choice="get_time", temperature=0.2)
    wire = prepare_chat_tokenize(request, resolve_chat_spec(request))
    assert wire.path == "/v3/api-tools/chat-tokenize/HCX-007"
    assert wire.body == {
        "messages": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi"}],
        "tools": [
            {"type": "function", "function": {"name": "get_time", "description": "Current time"}}
        ],
        "toolChoice": {"type": "function", "function": {"name": "get_time"}},
    }
    schema_request = chat("HCX-007", response_format=SCHEMA)
    schema_wire = prepare_chat_tokenize(schema_request, resolve_chat_spec(schema_request))
    assert schema_wire.body["responseFormat"] == {"type": "json", "schema": SCHEMA}


def test_tokenize_v3_keeps_images_and_uses_the_base_model_for_tasks() -> None:
    messages = [image_message(TextPart("Describe"), ImagePart(url="https://x.test/a.png"))]
    request = chat(messages=messages, task_id="task1")
    wire = prepare_chat_tokenize(request, resolve_chat_spec(request))
    assert wire.path == "/v3/api-tools/chat-tokenize/HCX-005"
    assert wire.body["messages"][0]["content"][1] == {
        "type": "image_url",
        "imageUrl": {"url": "https://x.test/a.png"},
    }
