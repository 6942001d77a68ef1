"""What JSON cannot carry (lone surrogates, NaN / Infinity, very deep nesting, non-JSON
values) is a typed ClovaValidationError naming the field, raised before anything is sent:
never a raw UnicodeEncodeError, ValueError, TypeError or RecursionError, never ``NaN`` on
the wire. Each case goes through ClovaClient / AsyncClovaClient over an httpx.MockTransport
that records every request, so "nothing was sent" is observed, not assumed."""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from transport_fakes import Server, async_client, clean_env, ok, sync_client

from clova_core.client import ClovaClient
from clova_core.errors import ClovaValidationError
from clova_core.request_json import MAX_JSON_DEPTH, encode_json_body
from clova_core.schema import MAX_SCHEMA_DEPTH
from clova_core.types import ChatRequest, Message, TextPart, Tool, ToolCall

__all__ = ["clean_env"]

LONE = "\ud800"
REPLY = {
    "message": {"role": "assistant", "content": "ok"},
    "finishReason": "stop",
    "usage": {"promptTokens": 1, "completionTokens": 1, "totalTokens": 2},
}


def ask(text: str = "hi", model: str = "HCX-005", **fields: Any) -> ChatRequest:
    return ChatRequest(messages=[Message("user", text)], model=model, **fields)


def nested_schema(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"inner": schema}, "required": ["inner"]}
    return schema


def nested_list(levels: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(levels):
        value = [value]
    return value


def weather(parameters: dict[str, Any]) -> Tool:
    return Tool(name="weather", description="Weather of a city", parameters=parameters)


def city_schema(**extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": {"city": {"type": "string", **extra}}}


Call = Callable[[ClovaClient], object]

SURROGATE_CASES: list[tuple[str, Call, str]] = [
    ("prompt", lambda c: c.chat(ask(f"Seoul {LONE} weather")), "messages[0].content"),
    (
        "text part",
        lambda c: c.chat(
            ChatRequest(
                messages=[Message("user", [TextPart("a"), TextPart(f"b{LONE}")])], model="HCX-005"
            )
        ),
        "messages[0].content",
    ),
    (
        "system prompt",
        lambda c: c.chat(
            ChatRequest(messages=[Message("system", LONE), Message("user", "hi")], model="HCX-003")
        ),
        "messages[0].content",
    ),
    (
        "tool call arguments",
        lambda c: c.chat(
            ChatRequest(
                messages=[
                    Message("user", "hi"),
                    Message(
                        "assistant",
                        "",
                        tool_calls=[ToolCall("c1", "weather", {"city": f"Se{LONE}oul"})],
                    ),
                    Message("tool", "sunny", tool_call_id="c1"),
                ],
                model="HCX-005",
            )
        ),
        "messages[1].toolCalls[0].function.arguments.city",
    ),
    (
        "tool schema",
        lambda c: c.chat(ask(tools=[weather(city_schema(description=f"city {LONE}"))])),
        "tools['weather'].parameters.properties.city.description",
    ),
    (
        "tool description",
        lambda c: c.chat(ask(tools=[Tool(name="weather", description=f"w{LONE}")])),
        "tools[0].function.description",
    ),
    (
        "response schema",
        lambda c: c.chat(ask(model="HCX-007", response_format=city_schema(enum=[LONE]))),
        "response_format.properties.city.enum[0]",
    ),
    ("embedding text", lambda c: c.embed(f"text {LONE}"), "The text to embed"),
    ("token count text", lambda c: c.count_embedding_tokens(LONE), "The text to count"),
    ("chat token count", lambda c: c.count_chat_tokens(ask(LONE)), "messages[0].content"),
    ("extra_body value", lambda c: c.chat(ask(extra_body={"note": [LONE]})), "extra_body.note[0]"),
    ("extra_body key", lambda c: c.chat(ask(extra_body={LONE: 1})), "a key of extra_body"),
    ("stream", lambda c: c.stream_chat(ask(LONE)), "messages[0].content"),
]


@pytest.mark.parametrize(("name", "call", "field"), SURROGATE_CASES, ids=lambda v: v)
def test_lone_surrogates_are_typed_errors_before_sending(name: str, call: Call, field: str) -> None:
    server = Server(ok(REPLY))
    with pytest.raises(ClovaValidationError) as info:
        call(sync_client(server))
    message = str(info.value)
    assert field in message
    assert "lone surrogate (U+D800" in message
    assert "encode('utf-8', 'replace')" in message  # what to do
    assert server.requests == []


async def test_lone_surrogates_async_twin() -> None:
    server = Server(ok(REPLY))
    client = async_client(server)
    with pytest.raises(ClovaValidationError, match=r"messages\[0\]\.content contains a lone"):
        await client.chat(ask(LONE))
    with pytest.raises(ClovaValidationError, match="The text to embed contains a lone"):
        await client.embed(LONE)
    with pytest.raises(ClovaValidationError, match="lone surrogate"):
        await client.stream_chat(ask(LONE))
    assert server.requests == []


NOT_FINITE_CASES: list[tuple[Call, str, str]] = [
    (lambda c: c.chat(ask(extra_body={"weight": math.nan})), "extra_body.weight", "nan"),
    (lambda c: c.chat(ask(extra_body={"w": [1.0, -math.inf]})), "extra_body.w[1]", "-inf"),
    (lambda c: c.chat(ask(extra_body={math.inf: 1})), "a key of extra_body", "inf"),
    (
        lambda c: c.chat(ask(tools=[weather(city_schema(maximum=math.inf))])),
        "tools['weather'].parameters.properties.city.maximum",
        "inf",
    ),
    (
        lambda c: c.chat(ask(model="HCX-007", response_format=city_schema(minimum=math.nan))),
        "response_format.properties.city.minimum",
        "nan",
    ),
    (
        lambda c: c.chat(
            ChatRequest(
                messages=[
                    Message("user", "hi"),
                    Message("assistant", "", tool_calls=[ToolCall("c1", "f", {"x": math.nan})]),
                    Message("tool", "ok", tool_call_id="c1"),
                ],
                model="HCX-005",
            )
        ),
        "messages[1].toolCalls[0].function.arguments.x",
        "nan",
    ),
]


@pytest.mark.parametrize(("call", "field", "value"), NOT_FINITE_CASES)
def test_nan_and_infinity_are_typed_errors_before_sending(
    call: Call, field: str, value: str
) -> None:
    server = Server(ok(REPLY))
    with pytest.raises(ClovaValidationError) as info:
        call(sync_client(server))
    assert f"{field} is {value}; JSON has no NaN or Infinity" in str(info.value)
    assert server.requests == []


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (
            lambda c: c.chat(ask(model="HCX-007", response_format=nested_schema(600))),
            f"response_format: the schema nests subschemas more than {MAX_SCHEMA_DEPTH} levels",
        ),
        (
            lambda c: c.chat(ask(tools=[weather(nested_schema(600))])),
            f"tools['weather'].parameters: the schema nests subschemas more than "
            f"{MAX_SCHEMA_DEPTH} levels",
        ),
        (
            lambda c: c.chat(ask(extra_body={"deep": nested_list(600)})),
            f"more than {MAX_JSON_DEPTH} levels deep",
        ),
        (
            lambda c: c.chat(
                ask(model="HCX-007", response_format=city_schema(default=nested_list(600)))
            ),
            f"more than {MAX_JSON_DEPTH} levels deep",
        ),
    ],
)
def test_very_deep_payloads_state_the_limit_instead_of_recursion_error(
    call: Call, needle: str
) -> None:
    server = Server(ok(REPLY))
    with pytest.raises(ClovaValidationError) as info:
        call(sync_client(server))
    assert needle in str(info.value)
    assert len(str(info.value)) < 800  # a deep path is abbreviated, not printed in full
    assert server.requests == []


def test_deep_tool_call_arguments_name_the_message() -> None:
    history = [
        Message("user", "hi"),
        Message("assistant", "", tool_calls=[ToolCall("c1", "f", {"x": nested_list(600)})]),
        Message("tool", "ok", tool_call_id="c1"),
    ]
    server = Server(ok(REPLY))
    with pytest.raises(ClovaValidationError) as info:
        sync_client(server).chat(ChatRequest(messages=history, model="HCX-005"))
    assert str(info.value).startswith("messages[1].toolCalls[0].function.arguments.x[0]")
    assert f"more than {MAX_JSON_DEPTH} levels deep" in str(info.value)
    assert server.requests == []


def test_a_self_containing_extra_body_is_a_typed_error() -> None:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    server = Server(ok(REPLY))
    with pytest.raises(ClovaValidationError, match="contains itself"):
        sync_client(server).chat(ask(extra_body={"loop": loop}))
    assert server.requests == []


def test_non_json_values_are_typed_errors() -> None:
    server = Server(ok(REPLY))
    with pytest.raises(ClovaValidationError, match=r"extra_body\.when is a date .*not JSON"):
        sync_client(server).chat(ask(extra_body={"when": datetime.date(2026, 1, 1)}))
    assert server.requests == []


def test_nesting_at_the_documented_limits_is_sent() -> None:
    server = Server(ok(REPLY))
    client = sync_client(server)
    client.chat(ask(model="HCX-007", response_format=nested_schema(MAX_SCHEMA_DEPTH)))
    client.chat(ask(tools=[weather(nested_schema(MAX_SCHEMA_DEPTH))], max_tokens=1024))
    client.chat(ask(extra_body={"deep": nested_list(MAX_JSON_DEPTH - 2)}))
    assert len(server.requests) == 3
    assert server.body(-1)["deep"] == nested_list(MAX_JSON_DEPTH - 2)


def test_valid_unicode_goes_out_as_utf8_unchanged() -> None:
    text = "날씨 😀 café \u2028 \U0010ffff"
    server = Server(ok(REPLY))
    sync_client(server).chat(ask(text, extra_body={"ratio": 0.5}))
    sent = server.requests[0].content
    assert text.encode("utf-8") in sent  # not \\u-escaped: compact UTF-8 as httpx writes it
    assert server.body()["messages"][0]["content"] == text
    assert b"NaN" not in sent


# --- the encoder the clients send with ---------------------------------------------------


def test_encoder_writes_what_httpx_json_writes() -> None:
    body = {"messages": [{"role": "user", "content": "안녕 😀"}], "topP": 0.8, "seed": 3}
    expected = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    assert encode_json_body(body) == expected.encode("utf-8")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"messages": [{"content": LONE}]}, "the request body.messages[0].content contains a lone"),
        ({"x": math.nan}, "the request body.x is nan"),
        ({"x": {1, 2}}, "the request body.x is a set"),
        ({"x": nested_list(5_000)}, f"more than {MAX_JSON_DEPTH} levels deep"),
    ],
)
def test_encoder_raises_typed_errors(body: dict[str, Any], needle: str) -> None:
    with pytest.raises(ClovaValidationError) as info:
        encode_json_body(body)
    assert needle in str(info.value)


def test_build_request_encodes_with_typed_errors() -> None:
    """A body that bypassed the request builders still never reaches the transport raw."""
    server = Server(ok(REPLY))
    http = httpx.Client(transport=httpx.MockTransport(server))
    client = ClovaClient(api_key="k", base_url="http://127.0.0.1:9", http_client=http)
    with pytest.raises(ClovaValidationError, match="lone surrogate"):
        client.build_request(http, path="/v3/x", body={"t": LONE}, request_id="r", stream=False)
    request = client.build_request(
        http, path="/v3/x", body={"t": "é"}, request_id="r", stream=False
    )
    assert request.content == '{"t":"é"}'.encode()
    assert request.headers["content-type"] == "application/json"
    assert server.requests == []
