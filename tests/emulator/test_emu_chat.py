"""Deterministic chat behaviour over the wire: shapes, RAG, tools, structured output, thinking."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from emu_support import MULTIPLY_TOOL, TIME_TOOL, WEATHER_TOOL, stream, user

from clova_core.models import custom_chat_model
from clova_emulator import Emulator, count_tokens
from clova_emulator.behaviour.tokenizer import is_hangul

V1 = "/v1/chat-completions/HCX-003"
V3 = "/v3/chat-completions/HCX-005"
V3_007 = "/v3/chat-completions/HCX-007"


def result(http: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post(path, json=body)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["status"] == {"code": "20000", "message": "OK"}
    return payload["result"]  # type: ignore[no-any-return]


def has_hangul(text: str) -> bool:
    return any(is_hangul(char) for char in text)


# --- shapes ---------------------------------------------------------------------------------


def test_v1_json_shape(emu: Emulator, http: httpx.Client) -> None:
    got = result(http, V1, {**user("Tell me about Seoul"), "seed": 42})
    assert set(got) == {"message", "stopReason", "inputLength", "outputLength", "seed"}
    assert got["message"]["role"] == "assistant"
    assert "Seoul" in got["message"]["content"]
    assert got["stopReason"] == "stop_before"
    assert got["seed"] == 42
    assert got["outputLength"] == count_tokens(got["message"]["content"])


def test_v3_json_shape_and_created_ms(emu: Emulator, http: httpx.Client) -> None:
    got = result(http, V3, user("Tell me about Seoul"))
    assert set(got) == {"created", "usage", "message", "finishReason", "seed"}
    assert got["created"] > 10**12
    usage = got["usage"]
    assert usage["totalTokens"] == usage["promptTokens"] + usage["completionTokens"]
    assert usage["completionTokens"] == count_tokens(got["message"]["content"])
    assert got["finishReason"] == "stop"
    assert "completionTokensDetails" not in usage


def test_created_in_seconds_knob(emu: Emulator, http: httpx.Client) -> None:
    emu.configure(created_unit="s")
    assert result(http, V3, user("hi"))["created"] < 10**11


def test_seed_zero_is_random_but_deterministic(emu: Emulator, http: httpx.Client) -> None:
    first = result(http, V3, {**user("same"), "seed": 0})
    again = result(http, V3, {**user("same"), "seed": 0})
    other = result(http, V3, {**user("different"), "seed": 0})
    assert 1 <= first["seed"] <= 4_294_967_295
    assert first["seed"] == again["seed"]
    assert first["seed"] != other["seed"]
    assert first["message"] == again["message"]


def test_ai_filter_when_requested(emu: Emulator, http: httpx.Client) -> None:
    got = result(http, V3, {**user("hi"), "includeAiFilters": True})
    assert [item["name"] for item in got["aiFilter"]] == [
        "insult",
        "discrimination",
        "sexualHarassment",
    ]
    assert all(item["score"] == "2" and item["result"] == "OK" for item in got["aiFilter"])
    assert "aiFilter" in result(http, V1, {**user("hi"), "includeAiFilters": True})


def test_v1_max_tokens_truncates_with_length(emu: Emulator, http: httpx.Client) -> None:
    got = result(http, V1, {**user("Explain quantum computing in detail"), "maxTokens": 3})
    assert got["stopReason"] == "length"
    assert got["outputLength"] == 3
    assert count_tokens(got["message"]["content"]) == 3


def test_v1_stop_reason_upper_case_knob(emu: Emulator, http: httpx.Client) -> None:
    emu.configure(stop_reason_case="upper")
    assert result(http, V1, user("hi"))["stopReason"] == "STOP_BEFORE"
    assert result(http, V1, {**user("Explain things"), "maxTokens": 2})["stopReason"] == "LENGTH"


def test_v3_max_tokens_truncates_with_length(emu: Emulator, http: httpx.Client) -> None:
    got = result(http, V3, {**user("Explain quantum computing in detail"), "maxTokens": 4})
    assert got["finishReason"] == "length"
    assert got["usage"]["completionTokens"] == 4


def test_stop_sequences_cut_the_output(emu: Emulator, http: httpx.Client) -> None:
    full = result(http, V3, user("Tell me about Seoul"))["message"]["content"]
    assert "Here" in full
    cut = result(http, V3, {**user("Tell me about Seoul"), "stop": ["Here"]})
    assert cut["message"]["content"] == full[: full.index("Here")]
    assert cut["finishReason"] == "stop"
    v1 = result(http, V1, {**user("Tell me about Seoul"), "stopBefore": ["Here"]})
    assert "Here" not in v1["message"]["content"]
    assert v1["stopReason"] == "stop_before"


def test_reply_language_follows_the_input(emu: Emulator, http: httpx.Client) -> None:
    korean = result(http, V3, user("서울의 인구는 얼마나 되나요?"))["message"]["content"]
    english = result(http, V3, user("How many people live in Seoul?"))["message"]["content"]
    assert has_hangul(korean)
    assert "서울" in korean
    assert not has_hangul(english)
    assert result(http, V3, user("Hi"))["message"]["content"] == "Hello! How can I help you today?"
    assert (
        result(http, V3, user("안녕"))["message"]["content"] == "안녕하세요! 무엇을 도와드릴까요?"
    )
    assert (
        result(http, V3, user("What is 2+2?"))["message"]["content"] == 'You said: "What is 2+2?".'
    )


# --- RAG ------------------------------------------------------------------------------------

PASSAGES = (
    "Paris is the capital of France and is famous for the Eiffel Tower.\n\n"
    "Berlin is the capital of Germany. It has many museums.\n\n"
    "Seoul is the capital of South Korea and home to Gyeongbokgung palace."
)


def test_rag_context_and_question_markers(emu: Emulator, http: httpx.Client) -> None:
    prompt = f"Context:\n{PASSAGES}\n\nQuestion: Which city has the Eiffel Tower?"
    content = result(http, V3, user(prompt))["message"]["content"]
    assert "Eiffel Tower" in content
    assert "Berlin" not in content


def test_rag_system_context_langchain_style(emu: Emulator, http: httpx.Client) -> None:
    body = {
        "messages": [
            {
                "role": "system",
                "content": "Use the following pieces of retrieved context to answer.\n\n"
                + PASSAGES,
            },
            {"role": "user", "content": "What is the capital of Germany?"},
        ]
    }
    assert "Berlin is the capital of Germany" in result(http, V3, body)["message"]["content"]


def test_rag_llamaindex_template(emu: Emulator, http: httpx.Client) -> None:
    prompt = (
        "Context information is below.\n---------------------\n"
        f"{PASSAGES}\n---------------------\n"
        "Given the context information and not prior knowledge, answer the query.\n"
        "Query: Where is Gyeongbokgung palace?\nAnswer: "
    )
    assert "Seoul" in result(http, V3, user(prompt))["message"]["content"]


def test_rag_korean_with_particles(emu: Emulator, http: httpx.Client) -> None:
    prompt = (
        "문맥:\n제주도는 한국에서 가장 큰 섬이다.\n\n"
        "부산은 한국 제2의 도시이며 해운대 해수욕장이 있다.\n\n"
        "대전은 과학 도시로 알려져 있다.\n\n질문: 해운대는 어느 도시에 있나요?"
    )
    content = result(http, V3, user(prompt))["message"]["content"]
    assert "부산은 한국 제2의 도시" in content
    assert has_hangul(content)


def test_rag_without_a_matching_passage_says_so(emu: Emulator, http: httpx.Client) -> None:
    prompt = f"Context:\n{PASSAGES}\n\nQuestion: Who painted the Mona Lisa?"
    assert "could not find" in result(http, V3, user(prompt))["message"]["content"]


# --- tools ----------------------------------------------------------------------------------


def tool_body(text: str, *tools: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**user(text), "tools": list(tools), "maxTokens": 1024, **extra}


def test_tool_call_arguments_from_the_request(emu: Emulator, http: httpx.Client) -> None:
    got = result(http, V3, tool_body("What's the weather in Seoul in fahrenheit?", WEATHER_TOOL))
    assert got["finishReason"] == "tool_calls"
    assert got["message"]["content"] == ""
    (call,) = got["message"]["toolCalls"]
    assert call["id"].startswith("call_")
    assert len(call["id"]) == len("call_") + 24
    assert call["type"] == "function"
    assert call["function"] == {
        "name": "get_weather",
        "arguments": {"location": "Seoul", "unit": "fahrenheit"},
    }


def test_korean_tool_call(emu: Emulator, http: httpx.Client) -> None:
    tool = json.loads(json.dumps(WEATHER_TOOL))
    tool["function"]["description"] = "지정한 도시의 현재 날씨를 알려줍니다"
    got = result(http, V3, tool_body("서울의 날씨를 알려줘", tool))
    (call,) = got["message"]["toolCalls"]
    assert call["function"]["arguments"]["location"] == "서울"


def test_numbers_fill_numeric_arguments_in_order(emu: Emulator, http: httpx.Client) -> None:
    got = result(http, V3, tool_body("Multiply 6 by 7.5 please", MULTIPLY_TOOL, WEATHER_TOOL))
    (call,) = got["message"]["toolCalls"]
    assert call["function"] == {"name": "multiply", "arguments": {"a": 6, "b": 7.5}}


def test_tool_choice_none_and_forced(emu: Emulator, http: httpx.Client) -> None:
    none = result(http, V3, tool_body("weather in Seoul?", WEATHER_TOOL, toolChoice="none"))
    assert none["finishReason"] == "stop"
    assert "toolCalls" not in none["message"]
    forced = result(
        http,
        V3,
        tool_body(
            "Tell me a joke",
            WEATHER_TOOL,
            MULTIPLY_TOOL,
            toolChoice={"type": "function", "function": {"name": "multiply"}},
        ),
    )
    assert [call["function"]["name"] for call in forced["message"]["toolCalls"]] == ["multiply"]


def test_unrelated_request_gets_text(emu: Emulator, http: httpx.Client) -> None:
    got = result(http, V3, tool_body("Write a haiku about autumn leaves", MULTIPLY_TOOL))
    assert got["finishReason"] == "stop"
    assert got["message"]["content"]


def history_with(calls: list[dict[str, Any]], results: list[str]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "assistant", "content": "", "toolCalls": calls}]
    messages.extend(
        {"role": "tool", "toolCallId": call["id"], "content": content}
        for call, content in zip(calls, results, strict=True)
    )
    return messages


def test_two_tool_agent_loop(emu: Emulator, http: httpx.Client) -> None:
    question = "Weather in Paris plus the local time there?"
    messages: list[dict[str, Any]] = [{"role": "user", "content": question}]
    body = {"tools": [WEATHER_TOOL, TIME_TOOL], "maxTokens": 1024}
    first = result(http, V3, {"messages": messages, **body})["message"]["toolCalls"]
    messages += history_with(first, ['{"time": "14:05"}'])
    second = result(http, V3, {"messages": messages, **body})["message"]["toolCalls"]
    assert {first[0]["function"]["name"], second[0]["function"]["name"]} == {
        "get_weather",
        "get_local_time",
    }
    messages += history_with(second, ['{"temperature": "17C", "condition": "clear"}'])
    final = result(http, V3, {"messages": messages, **body})
    assert final["finishReason"] == "stop"
    assert "17C" in final["message"]["content"]
    assert "14:05" in final["message"]["content"]


def test_answer_from_a_tool_result(emu: Emulator, http: httpx.Client) -> None:
    call = {
        "id": "call_abc",
        "type": "function",
        "function": {"name": "get_weather", "arguments": {"location": "Seoul"}},
    }
    messages = [
        {"role": "user", "content": "Weather in Seoul?"},
        *history_with([call], ["It's sunny."]),
    ]
    got = result(http, V3, {"messages": messages, "tools": [WEATHER_TOOL], "maxTokens": 1024})
    assert "sunny" in got["message"]["content"]
    assert "get_weather" in got["message"]["content"]


def test_several_calls_in_one_turn(emu: Emulator, http: httpx.Client) -> None:
    body = tool_body(
        "What's the weather in Paris and the local time in Tokyo?", WEATHER_TOOL, TIME_TOOL
    )
    calls = result(http, V3, body)["message"]["toolCalls"]
    assert [(call["function"]["name"], call["function"]["arguments"]) for call in calls] == [
        ("get_weather", {"location": "Paris"}),
        ("get_local_time", {"city": "Tokyo"}),
    ]
    assert len({call["id"] for call in calls}) == 2
    _, events = stream(http, V3, body)
    headers = [
        event.json()["message"]["toolCalls"][0]["function"]["name"]
        for event in events
        if event.event == "token" and "name" in event.json()["message"]["toolCalls"][0]["function"]
    ]
    assert headers == ["get_weather", "get_local_time"]


def test_replies_are_deterministic(emu: Emulator, http: httpx.Client) -> None:
    body = tool_body("What's the weather in Seoul?", WEATHER_TOOL)
    assert result(http, V3, body)["message"] == result(http, V3, body)["message"]


# --- structured output ----------------------------------------------------------------------

REPORT_SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "temp_high_c": {"type": "number"},
        "precipitation_percent": {"type": "integer", "minimum": 0, "maximum": 100},
        "condition": {"type": "string", "enum": ["sunny", "cloudy", "rainy"]},
        "alerts": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 3},
        "wind": {
            "type": "object",
            "properties": {"speed": {"type": "number"}, "calm": {"type": "boolean"}},
            "required": ["speed", "calm"],
        },
        "updated": {"type": "string", "format": "date"},
        "note": {"anyOf": [{"type": "null"}, {"type": "string"}]},
    },
    "required": [
        "city",
        "temp_high_c",
        "precipitation_percent",
        "condition",
        "alerts",
        "wind",
        "updated",
        "note",
    ],
}


def test_structured_output_is_valid_and_uses_the_request(emu: Emulator, http: httpx.Client) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    text = "In Busan the high is 31 degrees with 140 percent rain, rainy, wind 12 on 2025-06-13"
    body = {
        **user(text),
        "thinking": {"effort": "none"},
        "responseFormat": {"type": "json", "schema": REPORT_SCHEMA},
    }
    got = result(http, V3_007, body)
    document = json.loads(got["message"]["content"])
    jsonschema.validate(document, REPORT_SCHEMA)
    assert document["city"] == "Busan"
    assert document["temp_high_c"] == 31
    assert document["precipitation_percent"] == 100
    assert document["condition"] == "rainy"
    assert document["updated"] == "2025-06-13"
    assert got["finishReason"] == "stop"
    assert "thinkingContent" not in got["message"]


# --- thinking -------------------------------------------------------------------------------


def test_thinking_grows_with_effort_and_is_counted(emu: Emulator, http: httpx.Client) -> None:
    lengths = []
    for effort in ("low", "medium", "high"):
        got = result(http, V3_007, {**user("Why is the sky blue?"), "thinking": {"effort": effort}})
        thinking = got["message"]["thinkingContent"]
        details = got["usage"]["completionTokensDetails"]
        assert details["thinkingTokens"] == count_tokens(thinking)
        assert got["usage"]["completionTokens"] == details["thinkingTokens"] + count_tokens(
            got["message"]["content"]
        )
        lengths.append(details["thinkingTokens"])
    assert lengths[0] < lengths[1] < lengths[2]
    default = result(http, V3_007, user("Why is the sky blue?"))
    assert default["usage"]["completionTokensDetails"]["thinkingTokens"] == lengths[0]
    none = result(http, V3_007, {**user("Why is the sky blue?"), "thinking": {"effort": "none"}})
    assert "thinkingContent" not in none["message"]


def test_thinking_that_exhausts_the_budget_ends_with_length(
    emu: Emulator, http: httpx.Client
) -> None:
    got = result(http, V3_007, {**user("Why is the sky blue?"), "maxCompletionTokens": 10})
    assert got["finishReason"] == "length"
    assert got["message"]["content"] == ""
    assert got["usage"]["completionTokensDetails"]["thinkingTokens"] == 10
    assert got["usage"]["completionTokens"] == 10


# --- tuned tasks and custom models ----------------------------------------------------------


def test_tuned_tasks(emu: Emulator, http: httpx.Client) -> None:
    emu.register_task("my-task", "HCX-003")
    emu.register_task("my-v3-task", "HCX-005")
    for path in ("/v1/tasks/my-task/chat-completions", "/v2/tasks/my-task/chat-completions"):
        assert "stopReason" in result(http, path, user("hi"))
    assert "finishReason" in result(http, "/v3/tasks/my-v3-task/chat-completions", user("hi"))
    wrong = http.post("/v3/tasks/my-task/chat-completions", json=user("hi"))
    assert wrong.json()["status"]["code"] == "40084"
    tools = http.post(
        "/v3/tasks/my-v3-task/chat-completions", json=tool_body("weather", WEATHER_TOOL)
    )
    assert tools.json()["status"]["code"] == "40009"
    emu.reset()
    gone = http.post("/v1/tasks/my-task/chat-completions", json=user("hi"))
    assert gone.status_code == 404


def test_constructor_tasks_and_custom_models() -> None:
    spec = custom_chat_model("HCX-NEXT", api_version=3, context_window=1000)
    with (
        Emulator(tasks={"t1": "HCX-DASH-001"}, models=[spec]) as emu,
        httpx.Client(base_url=emu.base_url, headers={"Authorization": "Bearer test-key"}) as http,
    ):
        assert http.post("/v2/tasks/t1/chat-completions", json=user("hi")).status_code == 200
        assert http.post("/v3/chat-completions/HCX-NEXT", json=user("hi")).status_code == 200
        over = http.post("/v3/chat-completions/HCX-NEXT", json={**user("a"), "maxTokens": 1000})
        assert over.json()["status"]["code"] == "40003"
    with pytest.raises(ValueError, match="unknown base model"):
        Emulator(tasks={"t": "HCX-404"})
