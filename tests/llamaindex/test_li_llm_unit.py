"""ClovaX through the real core client over httpx.MockTransport (no emulator needed)."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    AudioBlock,
    ChatMessage,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.bridge.pydantic import BaseModel, Field
from llama_index.core.callbacks import CallbackManager, CBEventType, TokenCountingHandler
from llama_index.core.callbacks.base_handler import BaseCallbackHandler
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.events.llm import LLMChatStartEvent
from llama_index.core.prompts import PromptTemplate
from llama_index.core.rate_limiter import BaseRateLimiter
from llama_index.core.tools import FunctionTool
from llama_index_instrumentation import get_dispatcher

from clova_core.errors import (
    ClovaConfigurationError,
    ClovaValidationError,
    ContextLengthExceededError,
    RateLimitError,
    StreamError,
    UnknownModelError,
    UnsupportedFeatureError,
)
from clova_core.turns import ToolCallRequiredError
from llama_index_clova import ClovaX

from .wire import (
    Wire,
    error_reply,
    json_reply,
    mock_llm,
    sse_reply,
    token_event,
    v3_result,
)


def _png(width: int, height: int) -> bytes:
    """A valid grey PNG of the given size (CLOVA wants sides >= 4 px, clova-api.md 3.3)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = _png(8, 8)


def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"{city}: sunny"


def get_time(city: str) -> str:
    """Current local time in a city."""
    return f"{city}: 12:00"


WEATHER = FunctionTool.from_defaults(fn=get_weather)
TIME = FunctionTool.from_defaults(fn=get_time)


# ------------------------------------------------------------------------ metadata


@pytest.mark.parametrize(
    ("model", "context_window", "function_calling"),
    [
        ("HCX-007", 128_000, True),
        ("HCX-005", 128_000, True),
        ("HCX-DASH-002", 32_000, True),
        ("HCX-003", 8_192, False),
        ("HCX-DASH-001", 4_096, False),
    ],
)
def test_metadata_comes_from_the_registry(
    model: str, context_window: int, function_calling: bool
) -> None:
    metadata = ClovaX(model=model, api_key="test-key").metadata
    assert metadata.context_window == context_window
    assert metadata.is_chat_model is True
    assert metadata.is_function_calling_model is function_calling
    assert metadata.model_name == model
    assert 0 < metadata.num_output <= context_window


def test_num_output_follows_max_tokens_and_override() -> None:
    assert ClovaX(api_key="test-key", max_tokens=300).metadata.num_output == 300
    assert ClovaX(api_key="test-key", num_output=77).metadata.num_output == 77


def test_unknown_model_needs_a_context_window() -> None:
    with pytest.raises(UnknownModelError):
        ClovaX(model="HCX-999", api_key="test-key")
    llm = ClovaX(model="HCX-999", api_key="test-key", context_window=16_000, num_output=2_000)
    assert llm.metadata.context_window == 16_000
    assert llm.metadata.num_output == 2_000
    assert llm.spec.known is False


def test_tuned_task_has_no_function_calling_and_uses_the_task_path() -> None:
    wire = Wire([json_reply({"message": {"role": "assistant", "content": "ok"}})])
    llm = mock_llm(wire, model="HCX-003", task_id="abc123")
    assert llm.metadata.is_function_calling_model is False
    assert llm.complete("hi").text == "ok"
    assert wire.path() == "/v2/tasks/abc123/chat-completions"


def test_api_key_never_serialised(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "test-key-do-not-leak"
    llm = ClovaX(api_key=secret)
    for text in (
        repr(llm),
        str(llm),
        llm.to_json(),
        json.dumps(llm.to_dict()),
        json.dumps(llm.to_payload(), default=str),
        llm.model_dump_json(),
    ):
        assert secret not in text
    assert "api_key" not in llm.to_dict()


def test_missing_key_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOVASTUDIO_API_KEY", raising=False)
    with pytest.raises(ClovaConfigurationError):
        ClovaX()


# --------------------------------------------------------------------------- chat


def test_chat_sends_settings_and_returns_usage_and_request_id() -> None:
    wire = Wire([json_reply(v3_result("안녕하세요", prompt_tokens=21, completion_tokens=4))])
    llm = mock_llm(wire, temperature=0.0, top_p=0.5, seed=7, max_tokens=256)
    response = llm.chat(
        [ChatMessage(role="system", content="Be brief."), ChatMessage(content="Hi")],
        top_k=3,
    )
    assert wire.path() == "/v3/chat-completions/HCX-005"
    sent = wire.requests[-1]
    assert sent.headers["authorization"] == "Bearer test-key"
    body = wire.body()
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    assert (body["temperature"], body["topP"], body["topK"], body["seed"], body["maxTokens"]) == (
        0.0,
        0.5,
        3,
        7,
        256,
    )
    assert response.message.content == "안녕하세요"
    assert response.raw["usage"] == {
        "prompt_tokens": 21,
        "completion_tokens": 4,
        "total_tokens": 25,
    }
    assert response.additional_kwargs["prompt_tokens"] == 21
    assert response.additional_kwargs["request_id"] == sent.headers["x-ncp-clovastudio-request-id"]
    assert response.raw["result"]["finishReason"] == "stop"


def test_request_id_can_be_given_per_call() -> None:
    wire = Wire([json_reply(v3_result("ok"))])
    response = mock_llm(wire).chat([ChatMessage(content="Hi")], request_id="ticket-1")
    assert wire.requests[-1].headers["x-ncp-clovastudio-request-id"] == "ticket-1"
    assert response.additional_kwargs["request_id"] == "ticket-1"


def test_system_messages_are_merged_into_one_leading_message() -> None:
    wire = Wire([json_reply(v3_result("ok"))])
    llm = mock_llm(wire, system_prompt="You are CLOVA.")
    messages = llm._extend_messages(
        [ChatMessage(role="system", content="Answer in Korean."), ChatMessage(content="Hi")]
    )
    llm.chat(messages)
    assert wire.body()["messages"] == [
        {"role": "system", "content": "You are CLOVA.\n\nAnswer in Korean."},
        {"role": "user", "content": "Hi"},
    ]


def test_unknown_keyword_is_refused() -> None:
    llm = mock_llm(Wire())
    with pytest.raises(TypeError, match="temprature"):
        llm.chat([ChatMessage(content="Hi")], temprature=0.2)


def test_images_from_url_bytes_and_path(tmp_path: Path) -> None:
    path = tmp_path / "dot.png"
    path.write_bytes(PNG)
    wire = Wire([json_reply(v3_result("a dot")) for _ in range(3)])
    llm = mock_llm(wire)
    blocks = [
        ImageBlock(url="https://example.com/cat.png"),
        ImageBlock(image=PNG),
        ImageBlock(path=path),
    ]
    for block in blocks:
        llm.chat([ChatMessage(role="user", blocks=[TextBlock(text="What is this?"), block])])
    parts = [wire.body(i)["messages"][0]["content"] for i in range(3)]
    assert parts[0][1] == {"type": "image_url", "imageUrl": {"url": "https://example.com/cat.png"}}
    for content in parts[1:]:
        data = content[1]["dataUri"]["data"]
        assert base64.b64decode(data.split(",")[-1]) == PNG
        assert content[0] == {"type": "text", "text": "What is this?"}


def test_image_on_a_text_model_fails_before_sending() -> None:
    wire = Wire()
    llm = mock_llm(wire, model="HCX-007")
    message = ChatMessage(blocks=[TextBlock(text="?"), ImageBlock(url="https://e.com/a.png")])
    with pytest.raises(UnsupportedFeatureError):
        llm.chat([message])
    assert wire.requests == []


def test_blocks_clova_cannot_take_are_typed_errors() -> None:
    wire = Wire()
    message = ChatMessage(blocks=[TextBlock(text="?"), AudioBlock(audio=b"RIFF0000WAVE")])
    with pytest.raises(UnsupportedFeatureError, match="AudioBlock"):
        mock_llm(wire).chat([message])
    assert wire.requests == []


def test_thinking_becomes_a_block_and_is_never_sent_back() -> None:
    wire = Wire(
        [
            json_reply(v3_result("4", thinking="2+2 is 4", thinking_tokens=5)),
            json_reply(v3_result("8")),
        ]
    )
    llm = mock_llm(wire, model="HCX-007", thinking="low")
    first = llm.chat([ChatMessage(content="2+2?")])
    thinking = [b for b in first.message.blocks if isinstance(b, ThinkingBlock)]
    assert thinking[0].content == "2+2 is 4"
    assert thinking[0].num_tokens == 5
    assert first.message.content == "4"
    assert first.raw["usage"]["thinking_tokens"] == 5
    assert wire.body(0)["thinking"] == {"effort": "low"}
    llm.chat([ChatMessage(content="2+2?"), first.message, ChatMessage(content="times 2?")])
    assert wire.body(1)["messages"][1] == {"role": "assistant", "content": "4"}


# ---------------------------------------------------------------------- tool calling


def test_chat_with_tools_round_trip() -> None:
    wire = Wire(
        [
            json_reply(
                v3_result(
                    tool_calls=[("call_1", "get_weather", {"city": "Seoul"})],
                    finish_reason="tool_calls",
                )
            ),
            json_reply(v3_result("Seoul is sunny.")),
        ]
    )
    llm = mock_llm(wire, model="HCX-007")
    response = llm.chat_with_tools([WEATHER], user_msg="Weather in Seoul?")
    body = wire.body(0)
    assert body["tools"][0]["function"]["name"] == "get_weather"
    assert body["tools"][0]["function"]["parameters"]["required"] == ["city"]
    # Thinking left unset: tools need effort none, sent explicitly.
    assert body["thinking"] == {"effort": "none"}
    assert body["maxCompletionTokens"] >= 1024
    selections = llm.get_tool_calls_from_response(response)
    assert [(s.tool_id, s.tool_name, s.tool_kwargs) for s in selections] == [
        ("call_1", "get_weather", {"city": "Seoul"})
    ]
    tool_message = ChatMessage(
        role=MessageRole.TOOL, content="Seoul: sunny", additional_kwargs={"tool_call_id": "call_1"}
    )
    history = [ChatMessage(content="Weather in Seoul?"), response.message, tool_message]
    final = llm.chat_with_tools([WEATHER], chat_history=history)
    sent = wire.body(1)["messages"]
    assert sent[1]["toolCalls"] == [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": {"city": "Seoul"}},
        }
    ]
    assert sent[2] == {"role": "tool", "content": "Seoul: sunny", "toolCallId": "call_1"}
    assert final.message.content == "Seoul is sunny."
    assert llm.get_tool_calls_from_response(final, error_on_no_tool_call=False) == []
    with pytest.raises(ValueError, match="Expected at least one tool call"):
        llm.get_tool_calls_from_response(final)


def test_parallel_tool_calls_are_trimmed_unless_allowed() -> None:
    calls = [("c1", "get_weather", {"city": "Seoul"}), ("c2", "get_time", {"city": "Busan"})]
    wire = Wire([json_reply(v3_result(tool_calls=calls)) for _ in range(2)])
    llm = mock_llm(wire)
    single = llm.chat_with_tools([WEATHER, TIME], user_msg="?")
    assert [s.tool_id for s in llm.get_tool_calls_from_response(single)] == ["c1"]
    both = llm.chat_with_tools([WEATHER, TIME], user_msg="?", allow_parallel_tool_calls=True)
    assert [s.tool_id for s in llm.get_tool_calls_from_response(both)] == ["c1", "c2"]


def test_tool_required_and_tool_choice_reach_the_wire() -> None:
    wire = Wire([json_reply(v3_result("x")) for _ in range(5)])
    llm = mock_llm(wire)
    llm.chat_with_tools([WEATHER], user_msg="?", tool_required=True)
    assert wire.body(0)["toolChoice"] == {"type": "function", "function": {"name": "get_weather"}}
    llm.chat_with_tools([WEATHER, TIME], user_msg="?", tool_choice="get_time")
    assert wire.body(1)["toolChoice"] == {"type": "function", "function": {"name": "get_time"}}
    llm.chat_with_tools([WEATHER, TIME], user_msg="?")
    assert "toolChoice" not in wire.body(2)

    # "Any of several" is the client's contract: auto plus an instruction, one re-ask with
    # the text reply appended, then a typed error; never a reply without a tool call.
    with pytest.raises(ToolCallRequiredError, match="answered in text twice"):
        llm.chat_with_tools([WEATHER, TIME], user_msg="?", tool_required=True)
    first, again = wire.body(3), wire.body(4)
    assert first["toolChoice"] == again["toolChoice"] == "auto"
    assert "get_weather, get_time" in first["messages"][0]["content"]
    assert first["messages"][0]["role"] == "system"
    assert again["messages"][-2] == {"role": "assistant", "content": "x"}
    assert "get_weather, get_time" in again["messages"][-1]["content"]


def test_tool_required_over_several_tools_returns_the_reasked_call() -> None:
    wire = Wire(
        [
            json_reply(v3_result("Which city?")),
            json_reply(v3_result(tool_calls=[("c1", "get_time", {"city": "Jeju"})])),
        ]
    )
    response = mock_llm(wire).chat_with_tools(
        [WEATHER, TIME], user_msg="Time in Jeju?", tool_required=True
    )
    assert [b.tool_name for b in response.message.blocks if isinstance(b, ToolCallBlock)] == [
        "get_time"
    ]
    assert len(wire.requests) == 2


def test_explicit_thinking_with_tools_is_a_typed_error_as_in_langchain() -> None:
    wire = Wire([])
    llm = mock_llm(wire, model="HCX-007", thinking="high")
    with pytest.raises(ClovaValidationError, match="thinking='high' cannot be combined with tools"):
        llm.chat_with_tools([WEATHER], user_msg="Weather in Seoul?")
    assert wire.requests == []


def test_predict_and_call_runs_the_tool() -> None:
    wire = Wire([json_reply(v3_result(tool_calls=[("c1", "get_weather", {"city": "Jeju"})]))])
    output = mock_llm(wire).predict_and_call([WEATHER], user_msg="Jeju?")
    assert output.response == "Jeju: sunny"


# ------------------------------------------------------------------------- streaming


def _text_stream() -> Any:
    return sse_reply(
        [
            token_event("안녕"),
            token_event("하세요"),
            ("result", v3_result("안녕하세요", prompt_tokens=9, completion_tokens=2)),
        ]
    )


def test_stream_chat_yields_deltas_then_usage() -> None:
    wire = Wire([_text_stream()])
    responses = list(mock_llm(wire).stream_chat([ChatMessage(content="Hi")]))
    assert [r.delta for r in responses] == ["안녕", "하세요", ""]
    assert responses[1].message.content == "안녕하세요"
    assert responses[-1].raw["usage"]["prompt_tokens"] == 9
    assert wire.requests[-1].headers["accept"] == "text/event-stream"


async def test_astream_chat_yields_deltas_then_usage() -> None:
    wire = Wire([_text_stream()])
    stream = await mock_llm(wire).astream_chat([ChatMessage(content="Hi")])
    responses = [r async for r in stream]
    assert "".join(r.delta or "" for r in responses) == "안녕하세요"
    assert responses[-1].additional_kwargs["completion_tokens"] == 2


def test_stream_thinking_deltas() -> None:
    wire = Wire(
        [
            sse_reply(
                [
                    token_event(thinking="Let me "),
                    token_event(thinking="think."),
                    token_event("42"),
                    ("result", v3_result("42", thinking="Let me think.")),
                ]
            )
        ]
    )
    responses = list(mock_llm(wire, model="HCX-007").stream_chat([ChatMessage(content="?")]))
    assert [r.additional_kwargs.get("thinking_delta") for r in responses] == [
        "Let me ",
        "think.",
        None,
        None,
    ]
    final_blocks = responses[-1].message.blocks
    assert isinstance(final_blocks[0], ThinkingBlock)
    assert final_blocks[0].content == "Let me think."


def test_streamed_tool_call_arguments_grow_then_complete() -> None:
    header = {"id": "call_9", "type": "function", "function": {"name": "get_weather"}}
    wire = Wire(
        [
            sse_reply(
                [
                    token_event(tool_calls=[header]),
                    token_event(
                        tool_calls=[
                            {"type": "function", "function": {"partialJson": '{"city": "Se'}}
                        ]
                    ),
                    token_event(
                        tool_calls=[{"type": "function", "function": {"partialJson": 'oul"}'}}]
                    ),
                    (
                        "result",
                        v3_result(tool_calls=[("call_9", "get_weather", {"city": "Seoul"})]),
                    ),
                ]
            )
        ]
    )
    llm = mock_llm(wire)
    responses = list(llm.stream_chat_with_tools([WEATHER], user_msg="?"))
    kwargs = [
        [s.tool_kwargs for s in llm.get_tool_calls_from_response(r, error_on_no_tool_call=False)]
        for r in responses
    ]
    # LlamaIndex's partial-JSON parser drops an unfinished string value.
    assert kwargs == [[{}], [{"city": None}], [{"city": "Seoul"}], [{"city": "Seoul"}]]
    final_block = responses[-1].message.blocks[-1]
    assert isinstance(final_block, ToolCallBlock)
    assert final_block.tool_kwargs == {"city": "Seoul"}


def test_stream_error_event_propagates_unchanged() -> None:
    wire = Wire(
        [
            sse_reply(
                [token_event("par"), ("error", {"status": {"code": "50000", "message": "boom"}})]
            )
        ]
    )
    stream = mock_llm(wire).stream_chat([ChatMessage(content="Hi")])
    assert next(stream).delta == "par"
    with pytest.raises(StreamError) as info:
        next(stream)
    assert info.value.partial_content == "par"
    assert info.value.code == "50000"


# ---------------------------------------------------------------------------- errors


def _run(llm: ClovaX, method: str) -> None:
    messages = [ChatMessage(content="Hi")]
    if method == "chat":
        llm.chat(messages)
    else:
        list(llm.stream_chat(messages))


@pytest.mark.parametrize("method", ["chat", "stream_chat"])
def test_http_errors_propagate_unchanged(method: str) -> None:
    wire = Wire([error_reply(400, "40003", "Context length exceeded")])
    llm = mock_llm(wire)
    with pytest.raises(ContextLengthExceededError) as info:
        _run(llm, method)
    assert info.value.code == "40003"
    assert info.value.request_id == wire.requests[0].headers["x-ncp-clovastudio-request-id"]


async def test_async_http_errors_propagate_unchanged() -> None:
    wire = Wire([error_reply(429, "42901", "Too many requests")])
    with pytest.raises(RateLimitError) as info:
        await mock_llm(wire).achat([ChatMessage(content="Hi")])
    assert info.value.code == "42901"


# ------------------------------------------------------- callbacks, rate limit, completion


class _LLMEvents(BaseCallbackHandler):
    def __init__(self) -> None:
        super().__init__([], [])
        self.ends: list[Any] = []

    def on_event_start(
        self,
        event_type: CBEventType,
        payload: Any = None,
        event_id: str = "",
        parent_id: str = "",
        **kwargs: Any,
    ) -> str:
        return event_id

    def on_event_end(
        self, event_type: CBEventType, payload: Any = None, event_id: str = "", **kwargs: Any
    ) -> None:
        if event_type == CBEventType.LLM:
            self.ends.append(payload)

    def start_trace(self, trace_id: str | None = None) -> None:
        return None

    def end_trace(self, trace_id: str | None = None, trace_map: Any = None) -> None:
        return None


class _CountingLimiter(BaseRateLimiter):
    def __init__(self) -> None:
        self.slots = 0

    def acquire(self, num_tokens: int = 0) -> None:
        self.slots += 1

    async def async_acquire(self, num_tokens: int = 0) -> None:
        self.slots += 1


async def test_each_call_is_one_llm_event_and_one_rate_limiter_slot() -> None:
    wire = Wire(
        [json_reply(v3_result("a")), _text_stream(), json_reply(v3_result("b")), _text_stream()]
    )
    events, limiter = _LLMEvents(), _CountingLimiter()
    llm = mock_llm(wire, callback_manager=CallbackManager([events]), rate_limiter=limiter)
    assert llm.complete("x").text == "a"
    assert "".join(r.delta or "" for r in llm.stream_complete("x")) == "안녕하세요"
    assert (await llm.acomplete("x")).text == "b"
    assert "".join([r.delta or "" async for r in await llm.astream_complete("x")]) == "안녕하세요"
    assert len(wire.requests) == 4
    assert len(events.ends) == 4
    assert limiter.slots == 4


def test_token_counting_handler_counts_clova_usage() -> None:
    wire = Wire(
        [json_reply(v3_result("a", prompt_tokens=101, completion_tokens=13)), _text_stream()]
    )
    counter = TokenCountingHandler()
    llm = mock_llm(wire, callback_manager=CallbackManager([counter]))
    llm.complete("How many?")
    list(llm.stream_chat([ChatMessage(content="Hi")]))
    assert counter.prompt_llm_token_count == 101 + 9
    assert counter.completion_llm_token_count == 13 + 2
    assert counter.total_llm_token_count == 101 + 13 + 9 + 2


def test_structured_output_on_v1_model_is_a_typed_error() -> None:
    class City(BaseModel):
        name: str

    wire = Wire()
    llm = mock_llm(wire, model="HCX-003")
    with pytest.raises(UnsupportedFeatureError, match="HCX-007"):
        llm.structured_predict(City, PromptTemplate("Name a city about {topic}"), topic="sea")
    with pytest.raises(UnsupportedFeatureError):
        llm.stream_structured_predict(City, PromptTemplate("{topic}"), topic="sea")
    assert wire.requests == []


class _Events(BaseEventHandler):
    events: list[BaseEvent] = Field(default_factory=list)

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.events.append(event)


@pytest.fixture
def instrumentation() -> Iterator[_Events]:
    handler = _Events()
    root = get_dispatcher()
    root.add_event_handler(handler)
    yield handler
    root.event_handlers.remove(handler)


def test_instrumentation_events_fire_as_for_built_in_llms(instrumentation: _Events) -> None:
    class City(BaseModel):
        name: str

    wire = Wire(
        [json_reply(v3_result("a")), _text_stream(), json_reply(v3_result('{"name": "Seoul"}'))]
    )
    llm = mock_llm(wire, model="HCX-007", api_key="test-key-secret")
    llm.chat([ChatMessage(content="Hi")])
    list(llm.stream_complete("Hi"))
    assert llm.structured_predict(City, PromptTemplate("{q}"), q="?") == City(name="Seoul")
    names = [type(event).__name__ for event in instrumentation.events]
    assert names[:2] == ["LLMChatStartEvent", "LLMChatEndEvent"]
    assert names[2] == "LLMCompletionStartEvent"
    assert names.count("LLMCompletionInProgressEvent") == 3
    assert names[6] == "LLMCompletionEndEvent"
    assert names[7:] == [
        "LLMStructuredPredictStartEvent",
        "LLMChatStartEvent",
        "LLMChatEndEvent",
        "LLMStructuredPredictEndEvent",
    ]
    start = instrumentation.events[0]
    assert isinstance(start, LLMChatStartEvent)
    assert start.model_dict["model_name"] == "HCX-007"
    assert "test-key-secret" not in json.dumps(start.model_dict, default=str)


def test_serialisation_round_trip_reads_the_key_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLOVASTUDIO_API_KEY", "test-key")
    llm = ClovaX(model="HCX-007", thinking="medium", temperature=0.3, stop=["\n\n"])
    again = ClovaX.from_dict(llm.to_dict())
    assert (again.model, again.thinking, again.temperature, again.stop) == (
        "HCX-007",
        "medium",
        0.3,
        ["\n\n"],
    )
    assert again.metadata == llm.metadata


class TreeNode(BaseModel):
    """A tree node: recursive, so it has no self-contained JSON schema."""

    name: str
    children: list[TreeNode] = Field(default_factory=list)


@pytest.mark.parametrize("model", ["HCX-007", "HCX-005"])
def test_recursive_output_class_is_refused_before_sending(model: str) -> None:
    sent: list[Any] = []

    def wire(request: Any) -> Any:
        sent.append(request)
        raise AssertionError("a recursive schema was sent")

    llm = mock_llm(wire, model=model)
    with pytest.raises(ClovaValidationError, match=r"recursive.*Flatten the recursion"):
        llm.structured_predict(TreeNode, PromptTemplate("A tree about {topic}."), topic="oaks")
    assert sent == []
