"""The core client (``clova_core.client``) against the emulator over 127.0.0.1, sync and async.

The emulator implements clova-api.md independently of the client, so these tests catch a
misunderstanding on either side: request shapes the emulator rejects, replies the client
cannot read, retries that change the request id, streams that are not decoded as sent.
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from emu_support import png

from clova_core.client import AsyncClovaClient, ClovaClient
from clova_core.errors import (
    APIConnectionError,
    APIResponseError,
    AuthenticationError,
    BadRequestError,
    ContextLengthExceededError,
    InternalServerError,
    RateLimitError,
    StreamError,
)
from clova_core.models import custom_chat_model
from clova_core.retry import RetryPolicy
from clova_core.types import (
    ChatRequest,
    ChatResult,
    ImagePart,
    Message,
    ResultEvent,
    StreamEvent,
    TextPart,
    TokenEvent,
    Tool,
)
from clova_emulator import (
    Emulator,
    ScriptedDisconnect,
    ScriptedError,
    ScriptedReply,
    count_tokens,
)

FAST = RetryPolicy(initial_delay=0.01, max_delay=0.02, random=lambda: 1.0)
WEATHER = Tool(
    name="get_weather",
    description="Get the current weather for a city",
    parameters={
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
)


def ask(text: str, model: str = "HCX-005", **fields: Any) -> ChatRequest:
    return ChatRequest(messages=[Message("user", text)], model=model, **fields)


@pytest.fixture
def client(emu: Emulator) -> Iterator[ClovaClient]:
    with ClovaClient(api_key="test-key", base_url=emu.base_url, retry_policy=FAST) as made:
        yield made


@pytest.fixture
async def aclient(emu: Emulator) -> AsyncIterator[AsyncClovaClient]:
    async with AsyncClovaClient(
        api_key="test-key", base_url=emu.base_url, retry_policy=FAST
    ) as made:
        yield made


def split(events: list[StreamEvent]) -> tuple[list[TokenEvent], ChatResult]:
    *tokens, last = events
    assert isinstance(last, ResultEvent)
    assert all(isinstance(event, TokenEvent) for event in tokens)
    return [event for event in tokens if isinstance(event, TokenEvent)], last.result


# --- chat -----------------------------------------------------------------------------------


def test_chat_v3_and_request_id(emu: Emulator, client: ClovaClient) -> None:
    result = client.chat(ask("Tell me about Seoul"), request_id="rid-1")
    assert "Seoul" in result.content
    assert result.finish_reason == "stop"
    assert result.request_id == "rid-1"
    assert result.usage is not None
    assert result.usage.completion_tokens == count_tokens(result.content)
    assert result.created_ms is not None
    assert result.created_ms > 10**12
    (record,) = emu.requests
    assert (record.path, record.request_id, record.status) == (
        "/v3/chat-completions/HCX-005",
        "rid-1",
        200,
    )


def test_chat_v1_finish_reasons_in_both_casings(emu: Emulator, client: ClovaClient) -> None:
    assert client.chat(ask("hi", "HCX-003")).finish_reason == "stop"
    truncated = client.chat(
        ask("Explain quantum computing in detail", "HCX-DASH-001", max_tokens=3)
    )
    assert truncated.finish_reason == "length"
    assert truncated.usage is not None
    assert truncated.usage.completion_tokens == 3
    emu.configure(stop_reason_case="upper", created_unit="s")
    assert client.chat(ask("hi", "HCX-003")).finish_reason == "stop"
    assert client.chat(ask("Explain it all", "HCX-003", max_tokens=2)).finish_reason == "length"
    assert client.chat(ask("hi")).created_ms is not None


def test_token_counts_agree_with_usage(emu: Emulator, client: ClovaClient) -> None:
    for model in ("HCX-003", "HCX-005", "HCX-007"):
        request = ask("토큰 수를 세어 주세요, please", model)
        counted = client.count_chat_tokens(request)
        result = client.chat(request)
        assert result.usage is not None
        assert counted.total == result.usage.prompt_tokens
    assert client.count_embedding_tokens("hello 세계") == count_tokens("hello 세계")


def test_exact_token_check_keeps_one_request_id(emu: Emulator, client: ClovaClient) -> None:
    client.chat(ask("hi"), exact_token_check=True, request_id="rid-x")
    assert [record.path for record in emu.requests] == [
        "/v3/api-tools/chat-tokenize/HCX-005",
        "/v3/chat-completions/HCX-005",
    ]
    assert {record.request_id for record in emu.requests} == {"rid-x"}


def test_tools_thinking_structured_and_images(emu: Emulator, client: ClovaClient) -> None:
    called = client.chat(ask("What's the weather in Seoul?", tools=[WEATHER], max_tokens=1024))
    assert called.finish_reason == "tool_calls"
    (call,) = called.tool_calls
    assert (call.name, dict(call.arguments)) == ("get_weather", {"location": "Seoul"})
    history = [
        Message("user", "What's the weather in Seoul?"),
        Message("assistant", "", tool_calls=[call]),
        Message("tool", '{"condition": "sunny"}', tool_call_id=call.id),
    ]
    answer = client.chat(ChatRequest(messages=history, model="HCX-005", tools=[WEATHER]))
    assert "sunny" in answer.content
    on_007 = client.chat(ask("What's the weather in Seoul?", "HCX-007", tools=[WEATHER]))
    assert on_007.tool_calls[0].name == "get_weather"

    thought = client.chat(ask("Why is the sky blue?", "HCX-007", thinking="high"))
    assert thought.thinking_content
    assert thought.usage is not None
    assert thought.usage.thinking_tokens == count_tokens(thought.thinking_content)

    schema = {"type": "object", "properties": {"rank": {"type": "integer"}}, "required": ["rank"]}
    structured = client.chat(ask("It ranks 4", "HCX-007", response_format=schema))
    assert structured.content.replace(" ", "").replace("\n", "") == '{"rank":4}'

    image = base64.b64encode(png(320, 240)).decode()
    seen = client.chat(
        ChatRequest(
            messages=[Message("user", [ImagePart(data=image), TextPart("Describe this")])],
            model="HCX-005",
        )
    )
    assert seen.usage is not None
    assert seen.usage.prompt_tokens >= 1478


def test_tuned_task_and_legacy_auth(emu: Emulator) -> None:
    emu.register_task("tuned-1", "HCX-003")
    with ClovaClient(
        api_key="test-key", apigw_api_key="test-gateway-key", base_url=emu.base_url
    ) as legacy:
        assert legacy.chat(ask("hi", "HCX-003", task_id="tuned-1")).content
        assert legacy.embed("hello").embedding
    assert {record.auth for record in emu.requests} == {"legacy"}
    assert emu.requests[0].path.endswith("/tasks/tuned-1/chat-completions")


def test_embeddings(emu: Emulator, client: ClovaClient) -> None:
    for model in ("clir-emb-dolphin", "clir-sts-dolphin", "bge-m3"):
        result = client.embed("서울의 날씨", model=model, request_id=f"e-{model}")
        assert len(result.embedding) == 1024
        assert result.input_tokens == count_tokens("서울의 날씨")
        assert result.request_id == f"e-{model}"


# --- errors, retries, knobs -----------------------------------------------------------------


def test_retries_keep_the_request_id(emu: Emulator, client: ClovaClient) -> None:
    emu.script(
        ScriptedError(status=500), ScriptedError(status=429, retry_after=0), ScriptedDisconnect()
    )
    with ClovaClient(
        api_key="test-key", base_url=emu.base_url, retry_policy=FAST, max_retries=3
    ) as patient:
        result = patient.chat(ask("hi"), request_id="retry-me")
    assert result.content
    records = emu.requests
    assert [record.status for record in records] == [500, 429, None, 200]
    assert {record.request_id for record in records} == {"retry-me"}


def test_errors_are_typed(emu: Emulator) -> None:
    with (
        ClovaClient(api_key="wrong", base_url=emu.base_url) as bad,
        pytest.raises(AuthenticationError) as auth,
    ):
        bad.chat(ask("hi"))
    assert auth.value.code == "40104"
    assert "wrong" not in str(auth.value)
    with ClovaClient(api_key="test-key", base_url=emu.base_url, max_retries=0) as client:
        emu.configure(qpm=1, rate_window=30)
        client.chat(ask("hi"))
        with pytest.raises(RateLimitError) as limited:
            client.chat(ask("hi"))
        assert limited.value.code == "42901"
        assert limited.value.retry_after is not None
        emu.reset()
        emu.script(ScriptedError(status=503))
        with pytest.raises(InternalServerError):
            client.chat(ask("hi"))
        emu.script(ScriptedDisconnect())
        with pytest.raises(APIConnectionError):
            client.chat(ask("hi"))
        emu.configure(malformed_rate=1.0)
        with pytest.raises(APIResponseError):
            client.chat(ask("hi"))


def test_server_side_validation_reaches_the_caller(emu: Emulator, client: ClovaClient) -> None:
    roomy = custom_chat_model(
        "HCX-DASH-001", api_version=1, context_window=100_000, max_input_tokens=100_000
    )
    with pytest.raises(ContextLengthExceededError) as overflow:
        client.chat(ask("가" * 5000, "HCX-DASH-001"), spec=roomy)
    assert overflow.value.code == "40003"
    seeing = custom_chat_model("HCX-DASH-002", api_version=3, supports_images=True)
    image = base64.b64encode(png(64, 64)).decode()
    request = ChatRequest(
        messages=[Message("user", [ImagePart(data=image), TextPart("hi")])], model="HCX-DASH-002"
    )
    with pytest.raises(BadRequestError) as unsupported:
        client.chat(request, spec=seeing)
    assert unsupported.value.code == "40009"


# --- streams --------------------------------------------------------------------------------


def test_stream_chat_tokens_and_result(emu: Emulator, client: ClovaClient) -> None:
    for model in ("HCX-003", "HCX-005"):
        with client.stream_chat(ask("Tell me about Busan", model)) as stream:
            tokens, result = split(list(stream))
        assert "".join(token.content for token in tokens) == result.content
        assert "Busan" in result.content
        assert stream.request_id == result.request_id


def test_stream_tool_calls_and_thinking(emu: Emulator, client: ClovaClient) -> None:
    with client.stream_chat(
        ask("What's the weather in Seoul?", tools=[WEATHER], max_tokens=1024)
    ) as stream:
        tokens, result = split(list(stream))
    chunks = [chunk for token in tokens for chunk in token.tool_call_chunks]
    assert chunks[0].name == "get_weather"
    assert chunks[0].id == result.tool_calls[0].id
    assert "".join(chunk.arguments for chunk in chunks).replace(" ", "") == '{"location":"Seoul"}'
    assert {chunk.index for chunk in chunks} == {0}
    assert result.finish_reason == "tool_calls"
    assert dict(result.tool_calls[0].arguments) == {"location": "Seoul"}

    with client.stream_chat(ask("Why is the sky blue?", "HCX-007", thinking="medium")) as stream:
        tokens, result = split(list(stream))
    assert "".join(token.thinking_content for token in tokens) == result.thinking_content
    assert "".join(token.content for token in tokens) == result.content
    assert result.usage is not None
    assert result.usage.thinking_tokens == count_tokens(result.thinking_content or "")


def test_stream_framing_knobs(emu: Emulator, client: ClovaClient) -> None:
    emu.configure(sse_space=True, done_signal=True)
    with client.stream_chat(ask("hello")) as stream:
        _, result = split(list(stream))
    assert result.content


def test_stream_is_paced(emu: Emulator, client: ClovaClient) -> None:
    emu.configure(token_delay=0.03)
    started = time.monotonic()
    with client.stream_chat(ask("Explain rainbows", max_tokens=6)) as stream:
        first = next(stream)
        first_at = time.monotonic() - started
        list(stream)
    total = time.monotonic() - started
    assert isinstance(first, TokenEvent)
    assert first_at >= 0.025
    assert total - first_at >= 4 * 0.025


def test_stream_retried_before_the_first_event(emu: Emulator, client: ClovaClient) -> None:
    emu.script(ScriptedError(status=503), ScriptedDisconnect())
    with client.stream_chat(ask("hi"), request_id="s-retry") as stream:
        _, result = split(list(stream))
    assert result.content
    assert [record.request_id for record in emu.requests] == ["s-retry"] * 3


def test_stream_failures_after_delivery(emu: Emulator, client: ClovaClient) -> None:
    emu.script(ScriptedReply(content="one two three four five six seven", cut_after=2))
    stream = client.stream_chat(ask("hi"))
    with pytest.raises(StreamError) as cut:
        list(stream)
    assert cut.value.partial_content == "one two"
    emu.script(ScriptedError(status=500, in_stream=True, after_events=1))
    with pytest.raises(StreamError) as failed:
        list(client.stream_chat(ask("Tell me about Seoul")))
    assert failed.value.code == "50000"
    assert failed.value.partial_content


# --- async ----------------------------------------------------------------------------------


async def test_async_chat_embed_and_count(emu: Emulator, aclient: AsyncClovaClient) -> None:
    result = await aclient.chat(ask("서울 관광지를 알려줘"), request_id="a-1")
    assert any("\uac00" <= char <= "\ud7a3" for char in result.content)
    assert result.request_id == "a-1"
    embedded = await aclient.embed("hello", model="bge-m3")
    assert len(embedded.embedding) == 1024
    counted = await aclient.count_chat_tokens(ask("hello"))
    assert result.usage is not None
    assert counted.total == count_tokens("hello") + 3
    assert await aclient.count_embedding_tokens("hello") == 2


async def test_async_stream_tools_thinking_and_retry(
    emu: Emulator, aclient: AsyncClovaClient
) -> None:
    emu.script(ScriptedError(status=500))
    stream = await aclient.stream_chat(
        ask("What's the weather in Seoul?", tools=[WEATHER], max_tokens=1024)
    )
    async with stream:
        events = [event async for event in stream]
    tokens, result = split(events)
    assert result.tool_calls[0].name == "get_weather"
    assert tokens[0].tool_call_chunks[0].name == "get_weather"
    assert len(emu.requests) == 2

    stream = await aclient.stream_chat(ask("Why?", "HCX-007", thinking="low"))
    async with stream:
        events = [event async for event in stream]
    tokens, result = split(events)
    assert "".join(token.thinking_content for token in tokens) == result.thinking_content


async def test_async_errors(emu: Emulator) -> None:
    async with AsyncClovaClient(api_key="test-key", base_url=emu.base_url, max_retries=0) as client:
        emu.script(ScriptedError(status=429, code="42901"))
        with pytest.raises(RateLimitError):
            await client.chat(ask("hi"))
        emu.script(ScriptedReply(content="a b c d", cut_after=1))
        stream = await client.stream_chat(ask("hi"))
        with pytest.raises(StreamError):
            async with stream:
                _ = [event async for event in stream]
