"""Pure parsers of native JSON replies (clova-api.md 1.3, 2.3, 3.4-3.6, 5, 6, 9)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from clova_core.errors import (
    APIResponseError,
    APIStatusError,
    InternalServerError,
    RateLimitError,
)
from clova_core.response import (
    normalise_created,
    parse_chat_result,
    parse_chat_token_count,
    parse_embedding,
    parse_embedding_token_count,
    parse_envelope,
)
from clova_core.types import AiFilterScore, ToolCall, Usage

RID = "rid-1"


def v1(**fields: Any) -> dict[str, Any]:
    return {"message": {"role": "assistant", "content": "Hello."}, **fields}


def v3(message: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    return {"message": message or {"role": "assistant", "content": "Hi."}, **fields}


# ---- envelope -------------------------------------------------------------------------------


def test_envelope_success_returns_result() -> None:
    body = b'{"status":{"code":"20000","message":"OK"},"result":{"x":1}}'
    assert parse_envelope(body, http_status=200, request_id=RID) == {"x": 1}


def test_envelope_without_status_is_accepted() -> None:
    # clova-api.md 6.3 shows {"result":{"numTokens":7}} without a status object.
    assert parse_envelope(b'{"result":{"numTokens":7}}', http_status=200, request_id=RID) == {
        "numTokens": 7
    }


def test_envelope_200_with_rate_limit_code_maps_by_code() -> None:
    body = b'{"status":{"code":"42901","message":"Too many requests - rate exceeded"}}'
    with pytest.raises(RateLimitError) as info:
        parse_envelope(body, http_status=200, request_id=RID, retry_after=1.5)
    error = info.value
    assert (error.status_code, error.code, error.request_id) == (429, "42901", RID)
    assert "rate exceeded" in error.message
    assert error.retry_after == 1.5


def test_envelope_200_with_router_code_keeps_http_status() -> None:
    body = b'{"status":{"code":"64000","message":"Model unavailable"}}'
    with pytest.raises(APIStatusError) as info:
        parse_envelope(body, http_status=200, request_id=RID)
    assert type(info.value) is APIStatusError
    assert (info.value.status_code, info.value.code) == (200, "64000")


def test_envelope_200_with_server_error_code() -> None:
    body = b'{"status":{"code":50000,"message":"Internal Server Error"}}'
    with pytest.raises(InternalServerError) as info:
        parse_envelope(body, http_status=200, request_id=RID)
    assert info.value.code == "50000"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"<html>Bad gateway</html>", "not JSON"),
        (b"", "not JSON"),
        (b"[1, 2]", "not an object"),
        (b'{"status":{"code":"20000","message":"OK"}}', "no 'result'"),
        (b'{"status":{"code":"20000"},"result":[1]}', "no 'result'"),
    ],
)
def test_envelope_broken_bodies(body: bytes, fragment: str) -> None:
    with pytest.raises(APIResponseError) as info:
        parse_envelope(body, http_status=200, request_id=RID)
    assert fragment in str(info.value)
    assert info.value.request_id == RID


# ---- chat v1 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "normalised"),
    [
        ("stop_before", "stop"),
        ("STOP_BEFORE", "stop"),
        ("length", "length"),
        ("LENGTH", "length"),
        ("end_token", "length"),
        ("END_TOEKN", "length"),
        ("Something_New", "something_new"),
        (None, None),
    ],
)
def test_v1_stop_reason_normalised(wire: str | None, normalised: str | None) -> None:
    result = parse_chat_result(v1(stopReason=wire), api_version=1, model="HCX-003", request_id=RID)
    assert result.finish_reason == normalised


def test_v1_full_result() -> None:
    raw = v1(
        stopReason="stop_before",
        inputLength=21,
        outputLength=3,
        seed=1234567,
        aiFilter=[
            {"groupName": "curse", "name": "insult", "score": "2", "result": "OK"},
            {"groupName": "unsafeContents", "name": "sexualHarassment", "score": 1},
        ],
    )
    result = parse_chat_result(raw, api_version=1, model="HCX-003", request_id=RID)
    assert result.content == "Hello."
    assert result.usage == Usage(prompt_tokens=21, completion_tokens=3, total_tokens=24)
    assert result.seed == 1234567
    assert result.ai_filter == (
        AiFilterScore("curse", "insult", "2", "OK"),
        AiFilterScore("unsafeContents", "sexualHarassment", "1", None),
    )
    assert (result.model, result.api_version, result.request_id) == ("HCX-003", 1, RID)
    assert result.thinking_content is None
    assert result.tool_calls == ()
    assert result.raw == raw


def test_v1_without_lengths_has_no_usage() -> None:
    result = parse_chat_result(v1(), api_version=1, model="HCX-003", request_id=RID)
    assert result.usage is None
    assert result.ai_filter is None


# ---- chat v3 --------------------------------------------------------------------------------


def test_v3_thinking_result() -> None:
    raw = v3(
        {"role": "assistant", "content": "2^n.", "thinkingContent": "Each element..."},
        finishReason="stop",
        created=1753362971,
        seed=1561390649,
        usage={
            "promptTokens": 58,
            "completionTokens": 631,
            "totalTokens": 689,
            "completionTokensDetails": {"thinkingTokens": 366},
        },
    )
    result = parse_chat_result(raw, api_version=3, model="HCX-007", request_id=RID)
    assert result.content == "2^n."
    assert result.thinking_content == "Each element..."
    assert result.usage == Usage(58, 631, 689, thinking_tokens=366)
    assert result.created_ms == 1753362971000
    assert result.finish_reason == "stop"


def test_v3_total_tokens_kept_as_sent() -> None:
    # One doc example has 134 + 48 vs 315 (clova-api.md 3.4): keep the server's total.
    raw = v3(usage={"promptTokens": 134, "completionTokens": 48, "totalTokens": 315})
    result = parse_chat_result(raw, api_version=3, model="HCX-005", request_id=RID)
    assert result.usage == Usage(134, 48, 315)


def test_v3_total_tokens_missing_is_summed() -> None:
    raw = v3(usage={"promptTokens": 1, "completionTokens": 2})
    result = parse_chat_result(raw, api_version=3, model="HCX-005", request_id=RID)
    assert result.usage == Usage(1, 2, 3)


@pytest.mark.parametrize(
    "arguments",
    [
        {"location": "서울", "unit": "celsius"},
        json.dumps({"location": "서울", "unit": "celsius"}, ensure_ascii=False),
    ],
)
def test_v3_tool_calls_object_or_string(arguments: Any) -> None:
    raw = v3(
        {
            "role": "assistant",
            "content": "",
            "toolCalls": [
                {
                    "id": "call_abc",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": arguments},
                }
            ],
        },
        finishReason="tool_calls",
    )
    result = parse_chat_result(raw, api_version=3, model="HCX-005", request_id=RID)
    assert result.tool_calls == (
        ToolCall("call_abc", "get_weather", {"location": "서울", "unit": "celsius"}),
    )
    assert result.finish_reason == "tool_calls"
    assert result.content == ""


@pytest.mark.parametrize("arguments", ["{not json", "[1, 2]", 5])
def test_v3_bad_tool_arguments(arguments: Any) -> None:
    raw = v3(
        {
            "role": "assistant",
            "content": "",
            "toolCalls": [{"id": "c", "function": {"name": "f", "arguments": arguments}}],
        }
    )
    with pytest.raises(APIResponseError) as info:
        parse_chat_result(raw, api_version=3, model="HCX-005", request_id=RID)
    assert info.value.request_id == RID


@pytest.mark.parametrize(
    "raw",
    [
        {"finishReason": "stop"},
        {"message": "text"},
        {"message": {"content": 5}},
        {"message": {"content": "x", "toolCalls": "nope"}},
        {"message": {"content": "x", "toolCalls": [{"function": {}}]}},
        {"message": {"content": "x"}, "usage": [1]},
        {"message": {"content": "x"}, "seed": "abc"},
        {"message": {"content": "x"}, "seed": True},
        {"message": {"content": "x"}, "aiFilter": {"a": 1}},
    ],
)
def test_v3_shape_errors(raw: dict[str, Any]) -> None:
    with pytest.raises(APIResponseError) as info:
        parse_chat_result(raw, api_version=3, model="HCX-005", request_id=RID)
    assert info.value.request_id == RID


def test_numeric_strings_are_accepted() -> None:
    raw = v3(seed="42", usage={"promptTokens": "1", "completionTokens": 2.0, "totalTokens": 3})
    result = parse_chat_result(raw, api_version=3, model="HCX-005", request_id=RID)
    assert result.seed == 42
    assert result.usage == Usage(1, 2, 3)


@pytest.mark.parametrize(
    ("created", "ms"),
    [(1744218663, 1744218663000), (1791043155000, 1791043155000), (None, None), (0, 0)],
)
def test_created_normalised_to_ms(created: int | None, ms: int | None) -> None:
    assert normalise_created(created) == ms


# ---- embeddings and token calculators ------------------------------------------------------------


def test_parse_embedding() -> None:
    result = parse_embedding(
        {"embedding": [-0.38, 1, 0.29], "inputTokens": 4}, model="bge-m3", request_id=RID
    )
    assert result.embedding == [-0.38, 1.0, 0.29]
    assert all(isinstance(x, float) for x in result.embedding)
    assert (result.input_tokens, result.model, result.request_id) == (4, "bge-m3", RID)


@pytest.mark.parametrize(
    "raw", [{}, {"embedding": "0.1,0.2"}, {"embedding": [0.1, "x"]}, {"embedding": [True]}]
)
def test_parse_embedding_broken(raw: dict[str, Any]) -> None:
    with pytest.raises(APIResponseError):
        parse_embedding(raw, model="bge-m3", request_id=RID)


def test_chat_token_count_v1() -> None:
    raw = {
        "messages": [
            {"role": "system", "content": "- You are HyperCLOVA X.", "count": 15},
            {"role": "user", "content": "Hello, what is your name?", "count": 10},
        ]
    }
    count = parse_chat_token_count(raw, api_version=1, request_id=RID)
    assert list(count.message_counts) == [15, 10]
    assert (count.tools, count.response_format, count.total, count.request_id) == (0, 0, 25, RID)


def test_chat_token_count_v3_parts_single_object_tools_and_schema() -> None:
    raw = {
        "messages": [
            {"role": "system", "content": {"type": "text", "text": "- Be kind.", "count": 16}},
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "imageUrl": {"url": "https://x/a.png"}, "count": 1478},
                    {"type": "text", "text": "Describe this", "count": 12},
                ],
            },
        ],
        "tools": {"count": 230},
        "responseFormat": {"count": 86},
    }
    count = parse_chat_token_count(raw, api_version=3, request_id=RID)
    assert list(count.message_counts) == [16, 1490]
    assert (count.tools, count.response_format) == (230, 86)
    assert count.total == 16 + 1490 + 230 + 86


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"messages": [{"role": "user", "content": "x"}]},
        {"messages": [{"role": "user", "content": [{"type": "text"}]}]},
        {"messages": [], "tools": {"n": 1}},
    ],
)
def test_chat_token_count_broken(raw: dict[str, Any]) -> None:
    with pytest.raises(APIResponseError):
        parse_chat_token_count(raw, api_version=3, request_id=RID)


def test_embedding_token_count() -> None:
    assert parse_embedding_token_count({"numTokens": 7}, request_id=RID) == 7
    with pytest.raises(APIResponseError):
        parse_embedding_token_count({}, request_id=RID)
