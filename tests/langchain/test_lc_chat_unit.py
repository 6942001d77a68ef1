"""ChatClovaX through the real core over httpx.MockTransport: wire shape, results, errors."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.load import dumpd, dumps, load
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.rate_limiters import BaseRateLimiter
from langchain_core.tools import tool
from lc_wire import FakeClova, error, ok, png, sse, tool_call, v1_result, v3_result, v3_token
from pydantic import BaseModel, SecretStr, ValidationError

from clova_core import errors
from clova_core.errors import (
    AuthenticationError,
    ClovaValidationError,
    ContextLengthExceededError,
    ContextLimitError,
    RateLimitError,
    StreamError,
    UnsupportedFeatureError,
)
from clova_core.models import custom_chat_model
from langchain_clova import ChatClovaX

BASE_URL = "https://clova.test"


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


class Person(BaseModel):
    """A person."""

    name: str
    age: int


@pytest.fixture
def fake() -> FakeClova:
    return FakeClova()


def chat(fake: FakeClova, **params: Any) -> ChatClovaX:
    params.setdefault("max_retries", 0)
    return ChatClovaX(
        api_key="test-key",
        base_url=BASE_URL,
        http_client=fake.client(),
        http_async_client=fake.async_client(),
        **params,
    )


def test_invoke_sends_v3_request_and_maps_the_result(fake: FakeClova) -> None:
    fake.on(
        "/v3/chat-completions/HCX-005",
        ok(
            v3_result(
                "안녕하세요!",
                ai_filter=[{"groupName": "curse", "name": "insult", "score": "2", "result": "OK"}],
            )
        ),
    )
    model = chat(
        fake,
        temperature=0,
        max_tokens=256,
        top_p=0.8,
        top_k=3,
        repetition_penalty=1.1,
        seed=7,
        include_ai_filters=True,
    )
    message = model.invoke([SystemMessage("Be kind."), HumanMessage("Hi")])

    (request,) = fake.requests
    assert request.headers["authorization"] == "Bearer test-key"
    body = fake.body()
    assert body["messages"] == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "Hi"},
    ]
    assert body["temperature"] == 0
    assert body["maxTokens"] == 256
    assert (body["topP"], body["topK"], body["repetitionPenalty"], body["seed"]) == (0.8, 3, 1.1, 7)
    assert body["includeAiFilters"] is True

    assert message.content == "안녕하세요!"
    assert message.usage_metadata == {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
    metadata = message.response_metadata
    assert metadata["model_name"] == "HCX-005"
    assert metadata["finish_reason"] == "stop"
    assert metadata["seed"] == 1234
    assert metadata["request_id"] == request.headers["x-ncp-clovastudio-request-id"]
    assert metadata["ai_filter"] == [
        {"group_name": "curse", "name": "insult", "score": "2", "result": "OK"}
    ]


def test_v1_model_and_tuned_task_routes(fake: FakeClova) -> None:
    fake.on("/v1/chat-completions/HCX-003", ok(v1_result("v1 answer")))
    fake.on("/v2/tasks/task123/chat-completions", ok(v1_result("tuned answer")))
    message = chat(fake, model="HCX-003", stop=["\n\n"]).invoke("Hi")
    assert message.content == "v1 answer"
    assert message.response_metadata["finish_reason"] == "stop"
    assert fake.body()["stopBefore"] == ["\n\n"]
    tuned = chat(fake, model="HCX-003", task_id="task123").invoke("Hi")
    assert tuned.content == "tuned answer"
    assert fake.paths[-1] == "/v2/tasks/task123/chat-completions"


def test_model_override_per_call(fake: FakeClova) -> None:
    fake.on("/v3/chat-completions/HCX-DASH-002", ok(v3_result("dash")))
    message = chat(fake).invoke("Hi", model="HCX-DASH-002")
    assert message.response_metadata["model_name"] == "HCX-DASH-002"


def test_reasoning_is_a_content_block_and_never_sent_back(fake: FakeClova) -> None:
    fake.on(
        "/v3/chat-completions/HCX-007",
        ok(v3_result("4", thinking="2 + 2 is 4.", completion_tokens=30, thinking_tokens=20)),
        ok(v3_result("6")),
    )
    model = chat(fake, model="HCX-007", thinking={"effort": "high"})
    first = model.invoke("What is 2 + 2?")
    assert fake.body()["thinking"] == {"effort": "high"}
    assert first.content_blocks[0] == {"type": "reasoning", "reasoning": "2 + 2 is 4."}
    assert first.usage_metadata is not None
    assert first.usage_metadata["output_token_details"] == {"reasoning": 20}

    model.invoke([HumanMessage("What is 2 + 2?"), first, HumanMessage("And 3 + 3?")])
    sent = fake.body()["messages"]
    assert sent[1] == {"role": "assistant", "content": "4"}
    assert "2 + 2 is 4." not in fake.requests[-1].content.decode()


def test_bind_tools_on_a_v1_model_fails_at_bind_time(fake: FakeClova) -> None:
    model = chat(fake, model="HCX-003")
    with pytest.raises(UnsupportedFeatureError, match="HCX-003 does not support function calling"):
        model.bind_tools([add])
    with pytest.raises(UnsupportedFeatureError, match="HCX-003"):
        model.with_structured_output(Person)
    assert fake.requests == []


def test_tool_calls_and_tool_message_round_trip(fake: FakeClova) -> None:
    fake.on(
        "/v3/chat-completions/HCX-005",
        ok(
            v3_result(
                "",
                finish_reason="tool_calls",
                tool_calls=[
                    tool_call("call_1", "add", {"a": 1, "b": 2}),
                    tool_call("call_2", "multiply", {"a": 3, "b": 4}),
                ],
            )
        ),
        ok(v3_result("3 and 12")),
    )
    model = chat(fake).bind_tools([add, multiply])
    first = model.invoke("1+2 and 3*4?")
    body = fake.body()
    assert [t["function"]["name"] for t in body["tools"]] == ["add", "multiply"]
    assert body["tools"][0]["function"]["description"] == "Add two integers."
    assert "toolChoice" not in body
    assert body["maxTokens"] >= 1024  # CLOVA's tool-calling floor (clova-api.md 3.6)
    assert [(c["name"], c["args"], c["id"]) for c in first.tool_calls] == [
        ("add", {"a": 1, "b": 2}, "call_1"),
        ("multiply", {"a": 3, "b": 4}, "call_2"),
    ]

    answer = model.invoke(
        [
            HumanMessage("1+2 and 3*4?"),
            first,
            ToolMessage("3", tool_call_id="call_1"),
            ToolMessage("12", tool_call_id="call_2"),
        ]
    )
    assert answer.content == "3 and 12"
    sent = fake.body()["messages"]
    assert sent[1]["toolCalls"][0]["function"]["arguments"] == {"a": 1, "b": 2}
    assert sent[2] == {"role": "tool", "content": "3", "toolCallId": "call_1"}


@pytest.mark.parametrize(
    "choice", ["add", "any", {"type": "function", "function": {"name": "add"}}]
)
def test_forced_tool_choice(fake: FakeClova, choice: Any) -> None:
    fake.on(
        "/v3/chat-completions/HCX-005",
        ok(
            v3_result(
                "", finish_reason="tool_calls", tool_calls=[tool_call("c", "add", {"a": 1, "b": 1})]
            )
        ),
    )
    tools = [add] if choice == "any" else [add, multiply]
    chat(fake).bind_tools(tools, tool_choice=choice).invoke("add")
    assert fake.body()["toolChoice"] == {"type": "function", "function": {"name": "add"}}


def test_tool_choice_and_parallel_calls_errors(fake: FakeClova) -> None:
    model = chat(fake)
    with pytest.raises(ClovaValidationError, match="not one of the bound tools"):
        model.bind_tools([add], tool_choice="divide")
    with pytest.raises(UnsupportedFeatureError, match="parallel tool calls"):
        model.bind_tools([add], parallel_tool_calls=False)
    assert fake.requests == []


def test_structured_output_json_schema_on_hcx007(fake: FakeClova) -> None:
    fake.on(
        "/v3/chat-completions/HCX-007",
        ok(v3_result('{"name": "Kim", "age": 31}')),
        ok(v3_result("not json")),
    )
    structured = chat(fake, model="HCX-007").with_structured_output(Person)
    assert structured.invoke("Kim is 31.") == Person(name="Kim", age=31)
    body = fake.body()
    assert body["responseFormat"]["type"] == "json"
    assert body["responseFormat"]["schema"]["required"] == ["name", "age"]
    assert body["thinking"] == {"effort": "none"}  # structured output excludes reasoning

    raw = chat(fake, model="HCX-007").with_structured_output(Person, include_raw=True)
    result = raw.invoke("Kim is 31.")
    assert isinstance(result["raw"], AIMessage)
    assert result["parsed"] is None
    assert result["parsing_error"] is not None


def test_structured_output_function_calling_on_hcx005(fake: FakeClova) -> None:
    fake.on(
        "/v3/chat-completions/HCX-005",
        ok(
            v3_result(
                "",
                finish_reason="tool_calls",
                tool_calls=[tool_call("c", "Person", {"name": "Lee", "age": 40})],
            )
        ),
    )
    structured = chat(fake).with_structured_output(Person.model_json_schema(), include_raw=True)
    result = structured.invoke("Lee is 40.")
    assert result["parsed"] == {"name": "Lee", "age": 40}
    assert result["parsing_error"] is None
    assert fake.body()["toolChoice"] == {"type": "function", "function": {"name": "Person"}}


def test_unsupported_structured_output_combinations(fake: FakeClova) -> None:
    with pytest.raises(UnsupportedFeatureError, match="only HCX-007"):
        chat(fake).with_structured_output(Person, method="json_schema")
    with pytest.raises(UnsupportedFeatureError, match="HCX-DASH-001"):
        chat(fake, model="HCX-DASH-001").with_structured_output(Person, method="function_calling")
    assert fake.requests == []


def test_images_on_hcx005(fake: FakeClova) -> None:
    fake.on("/v3/chat-completions/HCX-005", ok(v3_result("A grey square.")))
    data = base64.b64encode(png()).decode()
    chat(fake).invoke(
        [
            HumanMessage(
                [
                    {"type": "text", "text": "Describe"},
                    {"type": "image", "base64": data, "mime_type": "image/png"},
                ]
            )
        ]
    )
    chat(fake).invoke(
        [
            HumanMessage(
                [
                    {"type": "text", "text": "Describe"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                ]
            )
        ]
    )
    first, second = (fake.body(0)["messages"][0]["content"], fake.body(1)["messages"][0]["content"])
    assert first[0] == {"type": "text", "text": "Describe"}
    assert first[1]["type"] == "image_url"
    assert base64.b64decode(first[1]["dataUri"]["data"].split(",")[-1]) == png()
    assert second[1] == {"type": "image_url", "imageUrl": {"url": "https://example.com/a.png"}}


@pytest.mark.parametrize(
    ("params", "message", "expected"),
    [
        (
            {"model": "HCX-007"},
            HumanMessage([{"type": "image", "url": "https://example.com/a.png"}]),
            UnsupportedFeatureError,
        ),
        (
            {},
            HumanMessage(
                [
                    {
                        "type": "image",
                        "base64": base64.b64encode(b"GIF89a....").decode(),
                        "mime_type": "image/gif",
                    }
                ]
            ),
            ClovaValidationError,
        ),
        ({"temperature": 5}, HumanMessage("hi"), ClovaValidationError),
        ({"model": "HCX-003"}, HumanMessage("안녕하세요 반갑습니다 " * 12_000), ContextLimitError),
    ],
)
def test_preflight_errors_reach_the_user_unchanged_and_nothing_is_sent(
    fake: FakeClova, params: dict[str, Any], message: HumanMessage, expected: type[Exception]
) -> None:
    model = chat(fake, **params)
    with pytest.raises(expected):
        model.invoke([message])
    with pytest.raises(expected):
        list(model.stream([message]))
    assert fake.requests == []


def test_tool_floor_is_a_typed_preflight_error(fake: FakeClova) -> None:
    with pytest.raises(ClovaValidationError, match="1024"):
        chat(fake, max_tokens=100).bind_tools([add]).invoke("add 1 and 2")
    assert fake.requests == []


@pytest.mark.parametrize(
    ("reply", "expected", "code"),
    [
        (error(429, "42901", "Too many requests - rate exceeded"), RateLimitError, "42901"),
        (error(400, "40003", "Context length exceeded"), ContextLengthExceededError, "40003"),
        (error(401, "40104", "Invalid key"), AuthenticationError, "40104"),
    ],
)
async def test_api_errors_propagate_unchanged(
    fake: FakeClova, reply: Any, expected: type[errors.APIStatusError], code: str
) -> None:
    fake.on("/v3/chat-completions/HCX-005", reply)
    model = chat(fake)
    with pytest.raises(expected) as caught:
        model.invoke("Hi")
    assert type(caught.value) is expected
    assert caught.value.code == code
    assert caught.value.request_id == fake.requests[-1].headers["x-ncp-clovastudio-request-id"]
    with pytest.raises(expected):
        await model.ainvoke("Hi")
    with pytest.raises(expected):
        [chunk async for chunk in model.astream("Hi")]
    assert "test-key" not in str(caught.value)


def test_429_is_retried_by_the_core_once_per_attempt(fake: FakeClova) -> None:
    fake.on(
        "/v3/chat-completions/HCX-005",
        error(429, "42901", "Too many requests", headers={"Retry-After": "0"}),
        ok(v3_result("after retry")),
    )
    assert chat(fake, max_retries=2).invoke("Hi").content == "after retry"
    assert len(fake.requests) == 2
    ids = {request.headers["x-ncp-clovastudio-request-id"] for request in fake.requests}
    assert len(ids) == 1  # one request id across retries


def stream_events() -> Any:
    return sse(
        [
            ("token", v3_token("안")),
            ("token", v3_token("녕")),
            ("result", v3_result("안녕", prompt_tokens=7, completion_tokens=2)),
        ]
    )


def test_stream_yields_tokens_then_one_usage_chunk(fake: FakeClova) -> None:
    fake.on("/v3/chat-completions/HCX-005", stream_events())
    chunks = list(chat(fake).stream("Hi"))
    assert fake.requests[0].headers["accept"] == "text/event-stream"
    assert [c.content for c in chunks] == ["안", "녕", ""]
    assert [c.usage_metadata is not None for c in chunks] == [False, False, True]
    assert chunks[-1].chunk_position == "last"
    full = chunks[0] + chunks[1] + chunks[2]
    assert full.content == "안녕"
    assert full.usage_metadata == {"input_tokens": 7, "output_tokens": 2, "total_tokens": 9}
    assert full.response_metadata["model_name"] == "HCX-005"


async def test_astream_and_streaming_invoke(fake: FakeClova) -> None:
    fake.on("/v3/chat-completions/HCX-005", stream_events())
    chunks = [chunk async for chunk in chat(fake).astream("Hi")]
    assert "".join(str(c.content) for c in chunks) == "안녕"
    assert sum(1 for c in chunks if c.usage_metadata) == 1
    # streaming=True makes invoke stream under the hood (same SSE reply, same result)
    message = await chat(fake, streaming=True).ainvoke("Hi")
    assert message.content == "안녕"
    assert fake.requests[-1].headers["accept"] == "text/event-stream"
    assert chat(fake, streaming=True).invoke("Hi").usage_metadata == {
        "input_tokens": 7,
        "output_tokens": 2,
        "total_tokens": 9,
    }


def test_streamed_tool_calls_and_reasoning(fake: FakeClova) -> None:
    fake.on(
        "/v3/chat-completions/HCX-005",
        sse(
            [
                (
                    "token",
                    v3_token(
                        tool_calls=[
                            {"id": "call_9", "type": "function", "function": {"name": "add"}}
                        ]
                    ),
                ),
                (
                    "token",
                    v3_token(
                        tool_calls=[{"type": "function", "function": {"partialJson": '{"a": 1, '}}]
                    ),
                ),
                (
                    "token",
                    v3_token(
                        tool_calls=[{"type": "function", "function": {"partialJson": '"b": 2}'}}]
                    ),
                ),
                (
                    "result",
                    v3_result(
                        "",
                        finish_reason="tool_calls",
                        tool_calls=[tool_call("call_9", "add", {"a": 1, "b": 2})],
                    ),
                ),
            ]
        ),
    )
    fake.on(
        "/v3/chat-completions/HCX-007",
        sse(
            [
                ("token", v3_token(thinking="Thinking")),
                ("token", v3_token("Done")),
                ("result", v3_result("Done", thinking="Thinking", thinking_tokens=3)),
            ]
        ),
    )
    chunks = list(chat(fake).bind_tools([add]).stream("1+2"))
    full = chunks[0]
    for chunk in chunks[1:]:
        full += chunk
    assert full.tool_call_chunks[0]["id"] == "call_9"
    assert full.tool_calls == [
        {"name": "add", "args": {"a": 1, "b": 2}, "id": "call_9", "type": "tool_call"}
    ]

    chunks = list(chat(fake, model="HCX-007").stream("Why?"))
    full = chunks[0]
    for chunk in chunks[1:]:
        full += chunk
    assert full.content_blocks[0] == {"type": "reasoning", "reasoning": "Thinking"}
    assert full.content == "Done"
    assert full.usage_metadata is not None
    assert full.usage_metadata["output_token_details"] == {"reasoning": 3}


def test_stream_error_event_raises_stream_error(fake: FakeClova) -> None:
    fake.on(
        "/v3/chat-completions/HCX-005",
        sse(
            [
                ("token", v3_token("par")),
                ("error", {"status": {"code": "50000", "message": "boom"}}),
            ]
        ),
    )
    received: list[str] = []

    def consume() -> None:
        for chunk in chat(fake).stream("Hi"):
            received.append(str(chunk.content))

    with pytest.raises(StreamError) as caught:
        consume()
    assert received == ["par"]
    assert caught.value.partial_content == "par"


def test_token_counting_local_and_exact(fake: FakeClova) -> None:
    fake.on(
        "/v3/api-tools/chat-tokenize/HCX-005",
        ok(
            {
                "messages": [
                    {"role": "system", "content": [{"type": "text", "text": "s", "count": 16}]},
                    {"role": "user", "content": [{"type": "text", "text": "u", "count": 12}]},
                ]
            }
        ),
    )
    messages = [SystemMessage("Be kind."), HumanMessage("Describe this")]
    estimate = chat(fake).get_num_tokens_from_messages(messages)
    assert estimate > 0
    assert fake.requests == []
    with_tools = chat(fake).get_num_tokens_from_messages(messages, tools=[add])
    assert with_tools > estimate
    assert chat(fake, exact_token_count=True).get_num_tokens_from_messages(messages) == 28
    assert fake.paths == ["/v3/api-tools/chat-tokenize/HCX-005"]
    assert chat(fake).get_num_tokens("안녕하세요") > 0


def test_exact_token_check_runs_the_calculator_before_the_chat(fake: FakeClova) -> None:
    fake.on(
        "/v1/api-tools/chat-tokenize/HCX-003",
        ok({"messages": [{"role": "user", "content": "x", "count": 7700}]}),
    )
    with pytest.raises(ContextLimitError) as caught:
        chat(fake, model="HCX-003", exact_token_count=True).invoke("short text, long count")
    assert caught.value.exact is True
    assert fake.paths == ["/v1/api-tools/chat-tokenize/HCX-003"]


class CountingLimiter(BaseRateLimiter):
    def __init__(self, fake: FakeClova) -> None:
        self.fake = fake
        self.seen_before_acquire: list[int] = []

    def acquire(self, *, blocking: bool = True) -> bool:
        self.seen_before_acquire.append(len(self.fake.requests))
        return True

    async def aacquire(self, *, blocking: bool = True) -> bool:
        return self.acquire(blocking=blocking)


async def test_rate_limiter_is_acquired_before_each_request(fake: FakeClova) -> None:
    fake.on("/v3/chat-completions/HCX-005", ok(v3_result("ok")))
    limiter = CountingLimiter(fake)
    model = chat(fake, rate_limiter=limiter)
    model.invoke("1")
    await model.ainvoke("2")
    model.batch(["3", "4"])
    assert sorted(limiter.seen_before_acquire)[:2] == [0, 1]
    assert len(limiter.seen_before_acquire) == len(fake.requests) == 4


def test_unknown_keyword_is_a_type_error(fake: FakeClova) -> None:
    with pytest.raises(TypeError, match="frequency_penalty"):
        chat(fake).invoke("Hi", frequency_penalty=1)


def test_ls_params_and_identifying_params() -> None:
    model = ChatClovaX(
        model="HCX-007", api_key="test-key", temperature=0.3, max_tokens=500, stop=["x"]
    )
    params = model._get_ls_params()
    assert params == {
        "ls_provider": "naver",
        "ls_model_name": "HCX-007",
        "ls_model_type": "chat",
        "ls_temperature": 0.3,
        "ls_max_tokens": 500,
        "ls_stop": ["x"],
    }
    assert model._get_ls_params(model="HCX-005")["ls_model_name"] == "HCX-005"
    assert model._identifying_params["model"] == "HCX-007"


@pytest.mark.filterwarnings("ignore:The function `load` is in beta")
def test_serialization_round_trip_without_the_key() -> None:
    model = ChatClovaX(
        model="HCX-005", api_key=SecretStr("test-key"), temperature=0.2, thinking="none"
    )
    dumped = dumps(model)
    assert "test-key" not in dumped
    assert "test-key" not in repr(model)
    assert "test-key" not in str(model)
    assert dumpd(model)["kwargs"]["api_key"] == {
        "lc": 1,
        "type": "secret",
        "id": ["CLOVASTUDIO_API_KEY"],
    }
    loaded = load(
        dumpd(model),
        secrets_map={"CLOVASTUDIO_API_KEY": "test-key"},
        valid_namespaces=["langchain_clova"],
        allowed_objects=[ChatClovaX],
    )
    assert isinstance(loaded, ChatClovaX)
    assert loaded.api_key is not None
    assert loaded.api_key.get_secret_value() == "test-key"
    assert (loaded.model, loaded.temperature) == ("HCX-005", 0.2)


def test_langchain_naver_style_arguments_are_accepted() -> None:
    model = ChatClovaX(
        model_name="HCX-007",
        api_key="test-key",
        thinking={"effort": "low"},
        max_completion_tokens=2048,
    )
    assert (model.model, model.thinking, model.max_tokens) == ("HCX-007", "low", 2048)
    assert model.profile is not None
    assert model.profile["reasoning_output"] is True


def test_custom_model_spec_and_extra_body(fake: FakeClova) -> None:
    fake.on("/v3/chat-completions/HCX-NEXT", ok(v3_result("new model")))
    spec = custom_chat_model("HCX-NEXT", base="HCX-005", max_output_tokens=8192)
    model = chat(fake, model="HCX-NEXT", model_spec=spec, extra_body={"newField": True})
    assert model.invoke("Hi").content == "new model"
    assert fake.body()["newField"] is True
    assert model.profile is not None
    assert model.profile["max_output_tokens"] == 8192
    with pytest.raises(ValidationError, match="temprature"):
        ChatClovaX(model="HCX-005", temprature=0.5)


class TokenCollector(BaseCallbackHandler):
    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.ended = 0

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.tokens.append(token)

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.ended += 1


def test_callbacks_and_disable_streaming(fake: FakeClova) -> None:
    fake.on("/v3/chat-completions/HCX-005", stream_events())
    collector = TokenCollector()
    message = chat(fake, streaming=True).invoke("Hi", config={"callbacks": [collector]})
    assert message.content == "안녕"
    assert collector.tokens[:2] == ["안", "녕"]
    assert collector.ended == 1

    fake.on("/v3/chat-completions/HCX-DASH-002", ok(v3_result("one piece")))
    chunks = list(chat(fake, model="HCX-DASH-002", disable_streaming=True).stream("Hi"))
    assert [c.content for c in chunks] == ["one piece"]
    assert fake.requests[-1].headers["accept"] != "text/event-stream"
