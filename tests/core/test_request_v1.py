"""Request shaping for the v1 API (HCX-003, HCX-DASH-001, tuned tasks): clova-api.md 2."""

from __future__ import annotations

from typing import Any

import pytest

from clova_core.errors import ClovaValidationError, UnsupportedFeatureError
from clova_core.models import custom_chat_model, get_chat_model
from clova_core.request import (
    effective_max_tokens,
    prepare_chat,
    prepare_chat_tokenize,
    resolve_chat_spec,
)
from clova_core.tokens import estimate_request_tokens
from clova_core.types import ChatRequest, ImagePart, Message, TextPart, Tool, ToolCall

HI = [Message(role="system", content="You are terse."), Message(role="user", content="Hi")]


def chat(model: str = "HCX-003", messages: Any = None, **fields: Any) -> ChatRequest:
    return ChatRequest(messages=HI if messages is None else messages, model=model, **fields)


def build(request: ChatRequest) -> dict[str, Any]:
    wire = prepare_chat(request, resolve_chat_spec(request))
    assert wire.api_version == 1
    return wire.body


@pytest.mark.parametrize(
    ("model", "task_id", "path"),
    [
        ("HCX-003", None, "/v1/chat-completions/HCX-003"),
        ("HCX-DASH-001", None, "/v1/chat-completions/HCX-DASH-001"),
        ("HCX-003", "abc123xy", "/v2/tasks/abc123xy/chat-completions"),
        ("HCX-DASH-001", "t-42", "/v2/tasks/t-42/chat-completions"),
    ],
)
def test_paths(model: str, task_id: str | None, path: str) -> None:
    request = chat(model, task_id=task_id)
    assert prepare_chat(request, resolve_chat_spec(request)).path == path


@pytest.mark.parametrize(
    ("model", "version", "path"),
    [
        ("HCX-003", 1, "/v1/tasks/old-task/chat-completions"),
        ("HCX-003", 2, "/v2/tasks/old-task/chat-completions"),
        ("HCX-DASH-001", 1, "/v1/tasks/old-task/chat-completions"),
    ],
)
def test_tasks_of_the_older_tuning_api_live_under_v1(model: str, version: int, path: str) -> None:
    request = chat(model, task_id="old-task", task_api_version=version)
    assert prepare_chat(request, resolve_chat_spec(request)).path == path


@pytest.mark.parametrize(("model", "version"), [("HCX-003", 3), ("HCX-005", 1), ("HCX-005", 2)])
def test_a_task_api_version_that_does_not_fit_the_model_is_refused(
    model: str, version: int
) -> None:
    request = ChatRequest(
        messages=[Message("user", "hi")], model=model, task_id="t1", task_api_version=version
    )
    with pytest.raises(ClovaValidationError, match="task_api_version"):
        prepare_chat(request, resolve_chat_spec(request))


def test_full_v1_body_uses_v1_camel_case_names() -> None:
    body = build(
        chat(
            temperature=0.5,
            top_k=0,
            top_p=0.8,
            repetition_penalty=5.0,
            stop=["\n\nUser:"],
            max_tokens=256,
            include_ai_filters=True,
            seed=0,
        )
    )
    assert body == {
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Hi"},
        ],
        "temperature": 0.5,
        "topK": 0,
        "topP": 0.8,
        "repeatPenalty": 5.0,
        "stopBefore": ["\n\nUser:"],
        "maxTokens": 256,
        "includeAiFilters": True,
        "seed": 0,
    }


def test_unset_fields_are_omitted_and_max_tokens_defaults_to_1024() -> None:
    assert build(chat()) == {
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Hi"},
        ],
        "maxTokens": 1024,
    }


def test_empty_stop_list_is_omitted() -> None:
    assert "stopBefore" not in build(chat(stop=[]))


def test_default_max_tokens_is_lowered_to_fit_the_context_window() -> None:
    long_text = "Please summarise the following report in detail. " * 180
    request = chat("HCX-DASH-001", messages=[Message(role="user", content=long_text)])
    estimate = estimate_request_tokens(request)
    assert 3_072 < estimate < 4_096  # the 1024 default would overflow the 4096 window
    assert build(request)["maxTokens"] == 4_096 - estimate
    assert effective_max_tokens(request, get_chat_model("HCX-DASH-001")) == 4_096 - estimate


def test_extra_body_is_merged_last_and_may_override() -> None:
    body = build(chat(max_tokens=300, extra_body={"maxTokens": 50, "futureField": True}))
    assert body["maxTokens"] == 50
    assert body["futureField"] is True


def test_text_parts_are_joined_into_one_string() -> None:
    messages = [Message(role="user", content=[TextPart("line one"), TextPart("line two")])]
    assert build(chat(messages=messages))["messages"] == [
        {"role": "user", "content": "line one\nline two"}
    ]


def test_none_assistant_content_becomes_empty_string() -> None:
    messages = [
        Message(role="user", content="Hi"),
        Message(role="assistant", content=None),  # type: ignore[arg-type]
        Message(role="user", content="Again"),
    ]
    assert build(chat(messages=messages))["messages"][1] == {"role": "assistant", "content": ""}


def test_temperature_zero_is_rejected_with_a_fix() -> None:
    with pytest.raises(ClovaValidationError) as info:
        build(chat(temperature=0))
    message = str(info.value)
    assert "temperature=0" in message
    assert "HCX-003" in message
    assert "0.01" in message
    assert "HCX-005" in message


@pytest.mark.parametrize(
    ("fields", "needles"),
    [
        ({"temperature": 1.5}, ["temperature=1.5", "0 < temperature <= 1"]),
        ({"temperature": -0.1}, ["temperature=-0.1"]),
        ({"temperature": float("nan")}, ["temperature", "finite"]),
        ({"temperature": "hot"}, ["temperature must be a number"]),
        ({"top_k": 129}, ["top_k=129", "0..128"]),
        ({"top_k": -1}, ["top_k=-1", "0..128"]),
        ({"top_k": 1.5}, ["top_k must be an integer"]),
        ({"top_p": 0}, ["top_p=0", "0 < top_p <= 1"]),
        ({"top_p": 1.01}, ["top_p=1.01"]),
        ({"repetition_penalty": 0}, ["repetition_penalty=0", "<= 10"]),
        ({"repetition_penalty": 10.5}, ["repetition_penalty=10.5", "<= 10"]),
        ({"seed": -1}, ["seed=-1", "0..4294967295"]),
        ({"seed": 4_294_967_296}, ["seed=4294967296", "0..4294967295"]),
        ({"seed": True}, ["seed must be an integer"]),
        ({"stop": "END"}, ["stop must be a list of strings", "stop=[...]"]),
        ({"stop": ["ok", 3]}, ["stop must contain only strings"]),
        ({"include_ai_filters": "yes"}, ["include_ai_filters must be True or False"]),
        ({"max_tokens": 0}, ["max_tokens=0", "1..4,096", "maxTokens"]),
        ({"max_tokens": 4097}, ["max_tokens=4097", "1..4,096"]),
        ({"max_tokens": "10"}, ["max_tokens must be an integer"]),
        ({"extra_body": ["x"]}, ["extra_body must be a dict"]),
    ],
)
def test_out_of_range_parameters(fields: dict[str, Any], needles: list[str]) -> None:
    with pytest.raises(ClovaValidationError) as info:
        build(chat(**fields))
    for needle in needles:
        assert needle in str(info.value)


def test_v1_accepts_the_wider_repeat_penalty_range() -> None:
    assert build(chat(repetition_penalty=9.5))["repeatPenalty"] == 9.5


@pytest.mark.parametrize(
    ("fields", "needles"),
    [
        ({"tools": [Tool(name="f", description="d")]}, ["HCX-003 does not support", "HCX-005"]),
        ({"thinking": "low"}, ["thinking='low'", "HCX-007"]),
        ({"response_format": {"type": "object"}}, ["structured output", "HCX-007"]),
        (
            {"messages": [Message(role="user", content=[ImagePart(url="https://x.test/a.png")])]},
            ["image", "HCX-005"],
        ),
        (
            {
                "messages": [
                    Message(role="user", content="Hi"),
                    Message(
                        role="assistant",
                        content="",
                        tool_calls=[ToolCall(id="c1", name="f", arguments={})],
                    ),
                ]
            },
            ["function calling", "HCX-007, HCX-005, HCX-DASH-002"],
        ),
        (
            {
                "messages": [
                    Message(role="user", content="Hi"),
                    Message(role="tool", content="42", tool_call_id="c1"),
                ]
            },
            ["role 'tool'", "HCX-007, HCX-005, HCX-DASH-002"],
        ),
    ],
)
def test_v3_only_features_are_unsupported_on_v1(fields: dict[str, Any], needles: list[str]) -> None:
    with pytest.raises(UnsupportedFeatureError) as info:
        build(chat(**fields))
    for needle in needles:
        assert needle in str(info.value)


def test_thinking_none_is_simply_omitted_on_v1() -> None:
    assert "thinking" not in build(chat(thinking="none"))


@pytest.mark.parametrize(
    ("messages", "needle"),
    [
        ([], "messages is empty"),
        ("Hi", "must be a list"),
        ([{"role": "user", "content": "Hi"}], "not a clova_core Message"),
        ([Message(role="robot", content="Hi")], "role 'robot' is invalid"),  # type: ignore[arg-type]
        (
            [Message(role="system", content="a"), Message(role="system", content="b")],
            "one system message and only as the first",
        ),
        (
            [Message(role="user", content="a"), Message(role="system", content="b")],
            "messages[1] is a system message",
        ),
        ([Message(role="user", content="")], "messages[0] (user) has empty or whitespace-only"),
        ([Message(role="system", content=[])], "messages[0] (system) has empty or whitespace"),
        ([Message(role="user", content=" \n\t")], "messages[0] (user) has empty or whitespace"),
        ([Message(role="user", content="a", tool_call_id="c1")], "only tool messages carry it"),
        ([Message(role="user", content=[object()])], "only TextPart and ImagePart"),  # type: ignore[list-item]
        (
            [
                Message(role="user", content="a"),
                Message(role="assistant", content=[ImagePart(url="https://x.test/a.png")]),
            ],
            "images are allowed only in user messages",
        ),
    ],
)
def test_message_rules(messages: Any, needle: str) -> None:
    with pytest.raises(ClovaValidationError) as info:
        build(chat(messages=messages))
    assert needle in str(info.value)


@pytest.mark.parametrize("task_id", ["", "../v3/x", "a b", "a/b"])
def test_task_ids_that_would_break_the_path_are_rejected(task_id: str) -> None:
    with pytest.raises(ClovaValidationError, match="task_id"):
        build(chat(task_id=task_id))


def test_tokenize_v1_sends_role_and_content_only_to_the_base_model() -> None:
    request = chat(task_id="my-task", temperature=0.3, max_tokens=100)
    wire = prepare_chat_tokenize(request, resolve_chat_spec(request))
    assert wire.path == "/v1/api-tools/chat-tokenize/HCX-003"
    assert wire.api_version == 1
    assert wire.body == {
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Hi"},
        ]
    }


def test_custom_v1_spec_routes_by_its_own_name() -> None:
    spec = custom_chat_model("HCX-003-preview", api_version=1, max_output_tokens=2048)
    request = chat("HCX-003-preview", max_tokens=2048)
    wire = prepare_chat(request, resolve_chat_spec(request, spec))
    assert wire.path == "/v1/chat-completions/HCX-003-preview"
    assert wire.body["maxTokens"] == 2048
    with pytest.raises(ClovaValidationError, match=r"1\.\.2,048"):
        prepare_chat(chat("HCX-003-preview", max_tokens=2049), spec)
