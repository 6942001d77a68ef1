"""Real LangChain / LangGraph flows against the emulator over 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from collections.abc import Callable
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.documents import Document
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    trim_messages,
)
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.rate_limiters import InMemoryRateLimiter
from langchain_core.runnables import RunnablePassthrough
from langchain_core.tools import tool
from langchain_core.vectorstores import InMemoryVectorStore
from langgraph.graph import START, MessagesState, StateGraph
from lc_wire import png
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from clova_core.errors import (
    APITimeoutError,
    ClovaConfigurationError,
    ClovaValidationError,
    ContextLengthExceededError,
    ContextLimitError,
    UnknownModelError,
    UnsupportedFeatureError,
)
from clova_emulator import Emulator, RequestRecord, ScriptedError
from langchain_clova import ChatClovaX, ClovaXEmbeddings

pytestmark = pytest.mark.usefixtures("emulator_env")


Settled = Callable[[int], list[RequestRecord]]


@pytest.fixture
def settled(emulator_env: Emulator) -> Settled:
    """``settled(n)``: this test's requests in the emulator's log once there are ``n``.

    The emulator logs a request after writing its reply, so the client can be a moment
    ahead of the log (and a previous test's last record can land late): wait, and keep
    only records that arrived after this test started.
    """
    started = time.time()

    def wait(count: int, timeout: float = 5.0) -> list[RequestRecord]:
        deadline = time.monotonic() + timeout
        while True:
            records = [r for r in emulator_env.requests if r.time >= started]
            if len(records) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        assert len(records) == count, [r.path for r in records]
        return records

    return wait


PASSAGES = [
    "The Han River flows through Seoul and is crossed by more than thirty bridges.",
    "Jeju Island is a volcanic island famous for Hallasan, the tallest mountain in South Korea.",
    "Kimchi is a traditional Korean side dish of salted and fermented napa cabbage and radish.",
    "Busan is the largest port city in South Korea and hosts an international film festival.",
]


def test_lcel_rag_chain_answers_from_the_right_passage(
    emulator_env: Emulator, settled: Settled
) -> None:
    store = InMemoryVectorStore.from_documents(
        [Document(page_content=text, metadata={"i": i}) for i, text in enumerate(PASSAGES)],
        ClovaXEmbeddings(model="bge-m3"),
    )
    retriever = store.as_retriever(search_kwargs={"k": 2})
    question = "Which mountain on Jeju Island is the tallest in South Korea?"
    assert retriever.invoke(question)[0].metadata["i"] == 1

    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "Answer using only the context."),
            ("human", "Context:\n{context}\n\nQuestion: {question}"),
        ]
    )

    def join(docs: list[Document]) -> str:
        return "\n\n".join(doc.page_content for doc in docs)

    chain = (
        {"context": retriever | join, "question": RunnablePassthrough()}
        | prompt
        | ChatClovaX(model="HCX-005", temperature=0)
        | StrOutputParser()
    )
    answer = chain.invoke(question)
    assert "Hallasan" in answer
    assert "Han River" not in answer
    embed_paths = [r.path for r in settled(7) if "embedding" in r.path]
    assert embed_paths
    assert set(embed_paths) == {"/v1/api-tools/embedding/v2"}


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"It is sunny and 23 degrees in {city}."


@tool
def get_population(city: str) -> str:
    """Get the population of a city."""
    return f"{city} has 9.4 million people."


async def test_create_agent_calls_two_tools_and_answers(
    emulator_env: Emulator, settled: Settled
) -> None:
    agent = create_agent(ChatClovaX(model="HCX-005"), tools=[get_weather, get_population])
    question = "What is the weather in Seoul and what is the population of Seoul?"
    result = agent.invoke({"messages": [HumanMessage(question)]})
    messages: list[BaseMessage] = result["messages"]
    ai_turns = [m for m in messages if isinstance(m, AIMessage)]
    # both tools requested in one turn (parallel calls), answered by two ToolMessages
    first = ai_turns[0]
    assert sorted(call["name"] for call in first.tool_calls) == ["get_population", "get_weather"]
    assert all(call["args"] == {"city": "Seoul"} for call in first.tool_calls)
    tool_ids = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    assert tool_ids == {call["id"] for call in first.tool_calls}
    final = messages[-1]
    assert isinstance(final, AIMessage)
    assert not final.tool_calls
    assert "sunny" in final.text
    assert "9.4 million" in final.text
    # every model turn went through v3 with both tools attached
    chat_bodies = [r.body for r in settled(len(ai_turns))]
    assert all(len(body["tools"]) == 2 for body in chat_bodies)

    streamed = [
        chunk
        async for chunk, _ in agent.astream(
            {"messages": [HumanMessage(question)]}, stream_mode="messages"
        )
        if isinstance(chunk, AIMessageChunk)
    ]
    assert any(chunk.tool_call_chunks for chunk in streamed)
    assert "9.4 million" in "".join(str(chunk.content) for chunk in streamed)


def test_langgraph_messages_stream_from_a_sync_invoke_in_a_node(
    emulator_env: Emulator, settled: Settled
) -> None:
    model = ChatClovaX(model="HCX-005")

    def call_model(state: MessagesState) -> dict[str, list[BaseMessage]]:
        return {"messages": [model.invoke(state["messages"])]}

    graph = (
        StateGraph(MessagesState).add_node("model", call_model).add_edge(START, "model").compile()
    )
    chunks: list[AIMessageChunk] = []
    for message, metadata in graph.stream(
        {"messages": [HumanMessage("Tell me about the Han River in Seoul.")]},
        stream_mode="messages",
    ):
        assert metadata["langgraph_node"] == "model"
        assert isinstance(message, AIMessageChunk)
        chunks.append(message)
    assert len([c for c in chunks if c.content]) > 3  # token by token, not one blob
    assert sum(1 for c in chunks if c.usage_metadata) == 1
    (record,) = settled(1)
    assert record.stream
    text = "".join(str(c.content) for c in chunks)
    assert "Han" in text


def long_history(turns: int) -> list[BaseMessage]:
    history: list[BaseMessage] = [SystemMessage("You are a helpful assistant.")]
    for index in range(turns):
        history.append(
            HumanMessage(
                f"{index}번째 질문입니다. " + "서울의 한강과 다리에 대해 알려 주세요. " * 12
            )
        )
        history.append(AIMessage("한강에는 서른 개가 넘는 다리가 있습니다. " * 12))
    history.append(HumanMessage("마지막 질문: 한강 다리는 몇 개인가요?"))
    return history


def test_trim_messages_fits_hcx003_input_limit(emulator_env: Emulator, settled: Settled) -> None:
    model = ChatClovaX(model="HCX-003", max_tokens=512)
    history = long_history(40)
    assert model.get_num_tokens_from_messages(history) > 7600
    with pytest.raises(ContextLengthExceededError) as caught:
        model.invoke(history)
    assert caught.value.code == "40003"

    exact = ChatClovaX(model="HCX-003", max_tokens=512, exact_token_count=True)
    settled(1)
    emulator_env.clear_requests()
    with pytest.raises(ContextLimitError) as preflight:
        exact.invoke(history)
    assert preflight.value.exact
    assert [r.path for r in settled(1)] == ["/v1/api-tools/chat-tokenize/HCX-003"]

    budget = model.profile["max_input_tokens"] - 512 if model.profile else 0
    trimmed = trim_messages(
        history,
        max_tokens=budget,
        token_counter=model,
        strategy="last",
        include_system=True,
        start_on="human",
    )
    assert len(trimmed) < len(history)
    assert isinstance(trimmed[0], SystemMessage)
    assert model.get_num_tokens_from_messages(trimmed) <= budget
    answer = model.invoke(trimmed)
    assert answer.content
    assert exact.get_num_tokens_from_messages(trimmed) <= budget  # exact count agrees
    assert exact.invoke(trimmed).content


class Person(BaseModel):
    """A person mentioned in the text."""

    name: str = Field(description="The person's name")
    age: int = Field(description="Age in years")


class City(TypedDict):
    """A city and its country."""

    city: str
    country: str


@pytest.mark.parametrize(
    ("model", "method"), [("HCX-007", "json_schema"), ("HCX-005", "function_calling")]
)
async def test_structured_output(
    emulator_env: Emulator, model: str, method: str, settled: Settled
) -> None:
    chat = ChatClovaX(model=model)
    person = chat.with_structured_output(Person)
    result = person.invoke('The new engineer, "Kim Minsu", is 31 years old.')
    assert result == Person(name="Kim Minsu", age=31)
    body = settled(1)[0].body
    if method == "json_schema":
        assert body["responseFormat"]["type"] == "json"
        assert body["thinking"] == {"effort": "none"}
    else:
        assert body["toolChoice"] == {"type": "function", "function": {"name": "Person"}}

    city = chat.with_structured_output(City, include_raw=True)
    raw = await city.ainvoke('Where is "Busan"? It is in "South Korea".')
    assert raw["parsing_error"] is None
    assert raw["parsed"] == {"city": "Busan", "country": "South Korea"}
    assert isinstance(raw["raw"], AIMessage)
    streamed = [chunk async for chunk in city.astream('"Busan" is in "South Korea".')]
    assert streamed[-1]["parsed"] == {"city": "Busan", "country": "South Korea"}


def test_preflight_errors_are_the_cores_typed_errors(emulator_env: Emulator) -> None:
    image = {"type": "image", "url": "https://example.com/cat.png"}
    cases: list[tuple[Any, type[Exception]]] = [
        (
            lambda: ChatClovaX(model="HCX-007").invoke([HumanMessage([image])]),
            UnsupportedFeatureError,
        ),
        (lambda: ChatClovaX(model="HCX-003").bind_tools([get_weather]), UnsupportedFeatureError),
        (
            lambda: ChatClovaX(model="HCX-005").with_structured_output(
                Person, method="json_schema"
            ),
            UnsupportedFeatureError,
        ),
        (
            lambda: ChatClovaX(model="HCX-DASH-001").with_structured_output(Person),
            UnsupportedFeatureError,
        ),
        (lambda: ChatClovaX(model="HCX-005", thinking="low").invoke("hi"), UnsupportedFeatureError),
        (
            lambda: (
                ChatClovaX(model="HCX-007", thinking="high")
                .bind_tools([get_weather])
                .invoke("weather?")
            ),
            ClovaValidationError,
        ),
        (lambda: ChatClovaX(model="HCX-005", max_tokens=9999).invoke("hi"), ClovaValidationError),
        (lambda: ChatClovaX(model="HCX-005", top_k=500).invoke("hi"), ClovaValidationError),
        (lambda: ChatClovaX(model="HCX-003", temperature=0).invoke("hi"), ClovaValidationError),
        (
            lambda: ChatClovaX(model="HCX-DASH-001").invoke("가나다라마바사아" * 5_000),
            ContextLimitError,
        ),
        (lambda: ChatClovaX(model="HCX-999").invoke("hi"), UnknownModelError),
        (
            lambda: list(
                ChatClovaX(model="HCX-005").stream(
                    [HumanMessage([image]), HumanMessage([image])] * 3
                )
            ),
            ClovaValidationError,
        ),
        (lambda: ClovaXEmbeddings().embed_documents(["ok", ""]), ClovaValidationError),
    ]
    for call, expected in cases:
        with pytest.raises(expected):
            call()
    assert emulator_env.requests == []


@pytest.mark.parametrize("model", ["HCX-005", "HCX-007", "HCX-003"])
async def test_usage_metadata_exactly_once_per_stream(emulator_env: Emulator, model: str) -> None:
    chat = ChatClovaX(model=model)
    sync_chunks = list(chat.stream("Write a short poem about Busan."))
    async_chunks = [c async for c in chat.astream("Write a short poem about Busan.")]
    for chunks in (sync_chunks, async_chunks):
        with_usage = [c for c in chunks if c.usage_metadata]
        assert len(with_usage) == 1
        assert with_usage[0] is chunks[-1]
        assert chunks[-1].chunk_position == "last"
        usage = with_usage[0].usage_metadata
        assert usage is not None
        assert usage["input_tokens"] > 0
        assert usage["output_tokens"] > 0
        if model == "HCX-007":
            assert usage.get("output_token_details", {}).get("reasoning", 0) > 0


def test_reasoning_in_content_blocks_and_not_resent(
    emulator_env: Emulator, settled: Settled
) -> None:
    chat = ChatClovaX(model="HCX-007", thinking="medium")
    first = chat.invoke("Why is the sky blue?")
    reasoning = [b for b in first.content_blocks if b["type"] == "reasoning"]
    assert reasoning
    assert reasoning[0]["reasoning"]
    streamed = None
    for chunk in chat.stream("Why is the sky blue?"):
        streamed = chunk if streamed is None else streamed + chunk
    assert streamed is not None
    assert streamed.content_blocks[0]["type"] == "reasoning"
    v1 = ChatClovaX(model="HCX-007", thinking="low", output_version="v1").invoke("Why?")
    assert isinstance(v1.content, list)
    assert v1.content[0]["type"] == "reasoning"

    # The emulator rejects thinkingContent sent back (40001), so a clean second turn proves it.
    second = chat.invoke(
        [HumanMessage("Why is the sky blue?"), first, HumanMessage("And sunsets?")]
    )
    assert second.content
    third = chat.invoke([HumanMessage("Why?"), v1, HumanMessage("More?")])
    assert third.content
    for record in settled(5)[-2:]:
        assistant = [m for m in record.body["messages"] if m["role"] == "assistant"]
        assert assistant
        assert all(set(m) == {"role", "content"} for m in assistant)
        assert str(reasoning[0]["reasoning"]) not in str(record.body)


async def test_rate_limiter_spaces_requests(emulator_env: Emulator, settled: Settled) -> None:
    limiter = InMemoryRateLimiter(
        requests_per_second=10, check_every_n_seconds=0.005, max_bucket_size=1
    )
    chat = ChatClovaX(model="HCX-005", rate_limiter=limiter, max_tokens=16)
    chat.invoke("warm up the sync client")
    await chat.ainvoke("warm up the async client")
    settled(2)
    emulator_env.clear_requests()
    chat.batch(["one", "two", "three"])
    await chat.ainvoke("four")
    [c async for c in chat.astream("five")]
    times = sorted(r.time for r in settled(5))
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) > 0.05  # 10 requests/s with a bucket of one: ~0.1 s apart


def test_image_inputs_on_hcx005(emulator_env: Emulator, settled: Settled) -> None:
    data = base64.b64encode(png(64, 48)).decode()
    chat = ChatClovaX(model="HCX-005")
    blocks: list[dict[str, Any]] = [
        {"type": "image", "base64": data, "mime_type": "image/png"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}},
        {"type": "image", "url": "https://example.com/cat.png"},
        {"type": "image_url", "image_url": {"url": "https://example.com/dog.jpg"}},
    ]
    for block in blocks:
        answer = chat.invoke(
            [HumanMessage([{"type": "text", "text": "Describe this image."}, block])]
        )
        assert answer.content
    sent = [r.body["messages"][0]["content"][1] for r in settled(4)]
    assert [("dataUri" in part, "imageUrl" in part) for part in sent] == [
        (True, False),
        (True, False),
        (False, True),
        (False, True),
    ]
    emulator_env.clear_requests()
    with pytest.raises(ClovaValidationError, match="ratio"):
        chat.invoke(
            [
                HumanMessage(
                    [
                        {
                            "type": "image",
                            "base64": base64.b64encode(png(600, 20)).decode(),
                            "mime_type": "image/png",
                        }
                    ]
                )
            ]
        )
    assert emulator_env.requests == []


def test_configuration_comes_from_the_environment(
    emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch, settled: Settled
) -> None:
    assert ChatClovaX().invoke("hi").content  # CLOVASTUDIO_API_KEY / _BASE_URL from env
    assert settled(1)[0].auth == "bearer"
    monkeypatch.delenv("CLOVASTUDIO_API_KEY")
    with pytest.raises(ClovaConfigurationError):
        ChatClovaX().invoke("hi")


def test_core_retries_429_from_the_server(emulator_env: Emulator, settled: Settled) -> None:
    emulator_env.script(ScriptedError(status=429, code="42901", retry_after=0))
    assert ChatClovaX(model="HCX-005").invoke("hi").content
    records = settled(2)
    assert [r.status for r in records] == [429, 200]
    assert len({r.request_id for r in records}) == 1


def test_model_reused_across_event_loops(emulator_env: Emulator) -> None:
    chat = ChatClovaX(model="HCX-005")
    first = asyncio.run(chat.ainvoke("hi"))
    second = asyncio.run(chat.ainvoke("hello"))
    assert first.content
    assert second.content


def test_batch_runs_concurrently_on_one_client(emulator_env: Emulator) -> None:
    emulator_env.configure(latency=0.2)
    chat = ChatClovaX(model="HCX-005")
    started = time.monotonic()
    results = chat.batch([f"question {i}" for i in range(6)], config={"max_concurrency": 6})
    elapsed = time.monotonic() - started
    assert len(results) == 6
    assert elapsed < 6 * 0.2  # overlapping requests, not one after another


def test_timeout_reaches_the_user_as_the_cores_error(emulator_env: Emulator) -> None:
    emulator_env.configure(latency=1.0)
    with pytest.raises(APITimeoutError):
        ChatClovaX(model="HCX-005", timeout=0.2, max_retries=0).invoke("hi")
