"""The official ``openai`` SDK against the emulator's ``/v1/openai`` (clova-api.md 7)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from emu_support import WEATHER_TOOL

from clova_emulator import Emulator, count_tokens


@pytest.fixture(scope="module")
def sdk(emulator: Emulator) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        api_key="test-key", base_url=emulator.openai_base_url, max_retries=0
    ) as client:
        yield client


def extra(model: Any, name: str) -> Any:
    return (model.model_extra or {}).get(name)


def test_chat_completion(emu: Emulator, sdk: openai.OpenAI) -> None:
    reply = sdk.chat.completions.create(
        model="HCX-005",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Tell me about Busan"},
        ],
        seed=99,
        extra_body={"top_k": 0, "repetition_penalty": 1.1},
    )
    choice = reply.choices[0]
    assert "Busan" in (choice.message.content or "")
    assert choice.finish_reason == "stop"
    assert reply.model == "HCX-005"
    assert reply.created > 10**12
    assert extra(reply, "seed") == 99
    assert reply.usage is not None
    assert reply.usage.completion_tokens == count_tokens(choice.message.content or "")
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_streaming_matches_the_json_reply(emu: Emulator, sdk: openai.OpenAI) -> None:
    messages: Any = [{"role": "user", "content": "서울 여행지를 추천해 줘"}]
    expected = sdk.chat.completions.create(model="HCX-DASH-002", messages=messages)
    chunks = list(sdk.chat.completions.create(model="HCX-DASH-002", messages=messages, stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert text == expected.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == count_tokens(text)
    assert all(chunk.choices[0].finish_reason is None for chunk in chunks[:-1])


def test_tool_round_trip(emu: Emulator, sdk: openai.OpenAI) -> None:
    tools: Any = [WEATHER_TOOL]
    messages: list[Any] = [{"role": "user", "content": "What's the weather in Seoul?"}]
    first = sdk.chat.completions.create(
        model="HCX-005", messages=messages, tools=tools, max_tokens=1024
    )
    assert first.choices[0].finish_reason == "tool_calls"
    (call,) = first.choices[0].message.tool_calls or []
    assert isinstance(call, openai.types.chat.ChatCompletionMessageFunctionToolCall)
    assert isinstance(call.function.arguments, str)
    assert json.loads(call.function.arguments) == {"location": "Seoul"}
    messages.append(first.choices[0].message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": '{"temperature": "21C"}'})
    final = sdk.chat.completions.create(
        model="HCX-005", messages=messages, tools=tools, max_tokens=1024
    )
    assert final.choices[0].finish_reason == "stop"
    assert "21C" in (final.choices[0].message.content or "")


def test_tool_call_streaming(emu: Emulator, sdk: openai.OpenAI) -> None:
    stream = sdk.chat.completions.create(
        model="HCX-005",
        messages=[{"role": "user", "content": "What's the weather in Seoul?"}],
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        max_tokens=1024,
        stream=True,
    )
    names: list[str] = []
    arguments = ""
    finish = None
    for chunk in stream:
        assert isinstance(chunk, openai.types.chat.ChatCompletionChunk)
        for delta in chunk.choices[0].delta.tool_calls or []:
            assert delta.index == 0
            if delta.function and delta.function.name:
                names.append(delta.function.name)
            if delta.function and delta.function.arguments:
                arguments += delta.function.arguments
        finish = chunk.choices[0].finish_reason or finish
    assert names == ["get_weather"]
    assert json.loads(arguments) == {"location": "Seoul"}
    assert finish == "tool_calls"


def test_thinking_content_and_structured_output(emu: Emulator, sdk: openai.OpenAI) -> None:
    reasoning = sdk.chat.completions.create(
        model="HCX-007",
        messages=[{"role": "user", "content": "Why is the sky blue?"}],
        reasoning_effort="medium",
    )
    thinking = extra(reasoning.choices[0].message, "thinking_content")
    assert thinking
    assert reasoning.usage is not None
    details = reasoning.usage.completion_tokens_details
    assert details is not None
    assert details.reasoning_tokens == count_tokens(thinking)
    schema: Any = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "rank": {"type": "integer", "minimum": 1}},
        "required": ["city", "rank"],
    }
    structured = sdk.chat.completions.create(
        model="HCX-007",
        messages=[{"role": "user", "content": "Seoul ranks 3 this year"}],
        reasoning_effort="none",
        response_format={"type": "json_schema", "json_schema": {"name": "r", "schema": schema}},
    )
    assert json.loads(structured.choices[0].message.content or "") == {"city": "Seoul", "rank": 3}


def test_embeddings_float_only(emu: Emulator, sdk: openai.OpenAI) -> None:
    floats = sdk.embeddings.create(
        model="bge-m3", input=["첫 문장", "second sentence"], encoding_format="float"
    )
    assert [item.index for item in floats.data] == [0, 1]
    assert all(len(item.embedding) == 1024 for item in floats.data)
    assert floats.usage.prompt_tokens == count_tokens("첫 문장") + count_tokens("second sentence")
    single = sdk.embeddings.create(
        model="clir-emb-dolphin", input="one text", encoding_format="float"
    )
    assert len(single.data) == 1


def test_embeddings_without_float_encoding_are_rejected(emu: Emulator, sdk: openai.OpenAI) -> None:
    """The SDK asks for base64 unless told otherwise; the service supports only float."""
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.embeddings.create(model="bge-m3", input="second sentence")
    assert caught.value.status_code == 400
    assert 'encoding_format="float"' in str(caught.value)


def test_default_output_budget_is_512(emu: Emulator, sdk: openai.OpenAI) -> None:
    """max_tokens / max_completion_tokens default to 512 on the compatible API, with
    reasoning too: a prompt that leaves 1,000 tokens of room fits (the native API's high
    reasoning default, 20,480, would not)."""
    prompt = "가" * (128_000 - 1_000 - 3)
    reply = sdk.chat.completions.create(
        model="HCX-007", messages=[{"role": "user", "content": prompt}], reasoning_effort="high"
    )
    assert reply.usage is not None
    assert reply.usage.prompt_tokens == 128_000 - 1_000
    assert reply.usage.completion_tokens <= 512


def test_models_list(emu: Emulator, sdk: openai.OpenAI) -> None:
    ids = [model.id for model in sdk.models.list()]
    assert {"HCX-005", "HCX-007", "HCX-DASH-002", "HCX-003", "bge-m3"} <= set(ids)
    assert sdk.models.retrieve("HCX-005").id == "HCX-005"
    with pytest.raises(openai.NotFoundError):
        sdk.models.retrieve("gpt-4")


def test_errors_map_to_sdk_exceptions(emu: Emulator, emulator: Emulator) -> None:
    with (
        openai.OpenAI(api_key="wrong", base_url=emulator.openai_base_url, max_retries=0) as bad,
        pytest.raises(openai.AuthenticationError) as auth,
    ):
        bad.models.list()
    assert auth.value.code == "40104"
    with (
        openai.OpenAI(api_key="test-key", base_url=emulator.openai_base_url, max_retries=0) as sdk,
        pytest.raises(openai.BadRequestError) as unsupported,
    ):
        sdk.chat.completions.create(
            model="HCX-005", messages=[{"role": "user", "content": "x"}], frequency_penalty=0.5
        )
    assert unsupported.value.code == "40002"
