"""One table, four classes: LangChain and LlamaIndex send the same request or raise the same error.

Every row is run through ``ChatClovaX`` and ``ClovaX`` (chat rows) or ``ClovaXEmbeddings`` and
``ClovaXEmbedding`` (embedding rows), each with its own ``httpx.MockTransport`` that records
what reaches the wire. The test asserts the two frameworks produced the same requests (method,
path, headers other than the request id, JSON body) and the same replies, or the same typed
error at the same moment (construction or call), with nothing sent.

To add a case, append a :class:`ChatRow` / :class:`EmbeddingRow`. A row with tools or a response
schema gives ``langchain`` / ``llamaindex`` callables that make the call each framework's way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock

from clova_core import errors
from clova_core.models import custom_chat_model
from clova_core.turns import ToolCallRequiredError
from clova_core.types import Tool
from langchain_clova import ChatClovaX, ClovaXEmbeddings
from llama_index_clova import ClovaX, ClovaXEmbedding

KEY = "nv-agreement-key"
BASE = "http://clova.test"


# --------------------------------------------------------------------------- the wire


def _reply(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if "/api-tools/embedding/" in path:
        result: dict[str, Any] = {"embedding": [0.25, 0.5, 0.75], "inputTokens": 3}
    elif path.startswith("/v3/"):
        result = {
            "message": {"role": "assistant", "content": "Hello!"},
            "finishReason": "stop",
            "created": 1_791_043_155_000,
            "seed": 7,
            "usage": {"promptTokens": 10, "completionTokens": 5, "totalTokens": 15},
        }
    else:
        result = {
            "message": {"role": "assistant", "content": "Hello!"},
            "stopReason": "stop_before",
            "inputLength": 10,
            "outputLength": 5,
            "seed": 7,
        }
    return httpx.Response(
        200, json={"status": {"code": "20000", "message": "OK"}, "result": result}
    )


def _server_error(request: httpx.Request) -> httpx.Response:
    return httpx.Response(500, json={"status": {"code": "50000", "message": "Internal error"}})


@dataclass
class Wire:
    """A MockTransport that records every request (sync and async clients share it); the
    request's timeouts are recorded with its headers."""

    reply: Callable[[httpx.Request], httpx.Response] = _reply
    seen: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        headers = {
            name: value
            for name, value in request.headers.items()
            if name != "x-ncp-clovastudio-request-id"
        }
        body = json.loads(request.content) if request.content else None
        headers["timeout"] = repr(request.extensions.get("timeout"))
        self.seen.append((request.method, request.url.path, headers, body))
        return self.reply(request)

    def clients(self) -> dict[str, Any]:
        transport = httpx.MockTransport(self)
        return {
            "http_client": httpx.Client(transport=transport),
            "http_async_client": httpx.AsyncClient(transport=transport),
        }


# --------------------------------------------------------------------------- the table


def _token_count_reply(request: httpx.Request) -> httpx.Response:
    if "chat-tokenize" in request.url.path:
        return httpx.Response(
            200,
            json={
                "status": {"code": "20000", "message": "OK"},
                "result": {"messages": [{"role": "user", "content": "hi", "count": 2}]},
            },
        )
    return _reply(request)


def _lc_chat(model: ChatClovaX) -> Any:
    return model.invoke("hi").content


def _li_chat(llm: ClovaX) -> Any:
    return llm.chat([ChatMessage(role=MessageRole.USER, content="hi")]).message.content


# Tools and answer schemas: the same core Tool / JSON schema given each framework's way (an
# OpenAI-format dict to bind_tools, a core Tool to ClovaX.chat), so the two send equal bodies.
WEATHER_PARAMETERS = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}
WEATHER_TOOLS = [
    Tool("get_weather", "Weather of a city.", WEATHER_PARAMETERS),
    Tool("find_hotel", "A hotel in a city.", WEATHER_PARAMETERS),
]
PLAN_SCHEMA = {
    "title": "TripPlan",
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}


def _tool_dicts(count: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
            },
        }
        for tool in WEATHER_TOOLS[:count]
    ]


def _lc_tools(count: int, **bind: Any) -> Callable[[ChatClovaX], Any]:
    def call(model: ChatClovaX) -> Any:
        reply = model.bind_tools(_tool_dicts(count), **bind).invoke("Plan Seoul.")
        return reply.content, [(c["name"], c["args"]) for c in reply.tool_calls]

    return call


def _li_tools(count: int, **options: Any) -> Callable[[ClovaX], Any]:
    def call(llm: ClovaX) -> Any:
        message = ChatMessage(role=MessageRole.USER, content="Plan Seoul.")
        reply = llm.chat([message], tools=WEATHER_TOOLS[:count], **options).message
        blocks = [block for block in reply.blocks if isinstance(block, ToolCallBlock)]
        return reply.content or "", [(block.tool_name, block.tool_kwargs) for block in blocks]

    return call


def _answer_reply(request: httpx.Request) -> httpx.Response:
    """Text to the tool turn, the answer to a forced function or a response schema."""
    body = json.loads(request.content)
    message: dict[str, Any] = {"role": "assistant", "content": "Seoul it is."}
    if isinstance(body.get("toolChoice"), dict):
        name = body["toolChoice"]["function"]["name"]
        function = {"name": name, "arguments": {"city": "Seoul"}}
        call = {"id": "call_1", "type": "function", "function": function}
        message = {"role": "assistant", "content": "", "toolCalls": [call]}
    elif "responseFormat" in body:
        message["content"] = '{"city": "Seoul"}'
    result = {"message": message, "finishReason": "stop", "created": 1, "seed": 7}
    return httpx.Response(
        200, json={"status": {"code": "20000", "message": "OK"}, "result": result}
    )


@dataclass(frozen=True)
class ChatRow:
    id: str
    settings: dict[str, Any] = field(default_factory=dict)
    error: type[Exception] | None = None
    """The typed error both raise (at construction or at the call), nothing sent."""
    langchain: Callable[[ChatClovaX], Any] = _lc_chat
    llamaindex: Callable[[ClovaX], Any] = _li_chat
    reply: Callable[[httpx.Request], httpx.Response] = _reply
    with_key: bool = True
    path: str | None = None
    """The path every request goes to, when the row is about it."""


CHAT_ROWS: list[ChatRow] = [
    # settings
    ChatRow("defaults"),
    ChatRow("default headers", {"default_headers": {"X-Team": "search"}}),
    ChatRow("legacy gateway key", {"api_key": "old-style-key", "apigw_api_key": "gw-key"}),
    ChatRow("timeout and retries", {"timeout": 12.5, "max_retries": 0}),
    ChatRow(
        "server error, no retries",
        {"max_retries": 0},
        errors.InternalServerError,
        reply=_server_error,
    ),
    ChatRow("missing key", {}, errors.ClovaConfigurationError, with_key=False),
    ChatRow("negative retries", {"max_retries": -1}, errors.ClovaConfigurationError),
    ChatRow("negative timeout", {"timeout": -1}, errors.ClovaConfigurationError),
    ChatRow("zero timeout", {"timeout": 0}, errors.ClovaConfigurationError),
    ChatRow(
        "OpenAI-compatible base URL",
        {"base_url": f"{BASE}/v1/openai"},
        errors.ClovaConfigurationError,
    ),
    ChatRow("base URL with a query", {"base_url": f"{BASE}?x=1"}, errors.ClovaConfigurationError),
    # model options
    ChatRow(
        "sampling on HCX-005",
        {
            "model": "HCX-005",
            "temperature": 0.0,
            "top_p": 0.8,
            "top_k": 3,
            "repetition_penalty": 1.1,
            "max_tokens": 256,
            "seed": 42,
            "stop": ["###"],
            "include_ai_filters": True,
        },
    ),
    ChatRow("v1 model", {"model": "HCX-003", "max_tokens": 100, "temperature": 0.5}),
    ChatRow("reasoning effort", {"model": "HCX-007", "thinking": "low", "max_tokens": 2048}),
    ChatRow(
        "tuned task",
        {"model": "HCX-003", "task_id": "abcd1234"},
        path="/v2/tasks/abcd1234/chat-completions",
    ),
    ChatRow(
        "tuned task, older tuning API",
        {"model": "HCX-003", "task_id": "abcd1234", "task_api_version": 1},
        path="/v1/tasks/abcd1234/chat-completions",
    ),
    ChatRow(
        "exact token count",
        {"model": "HCX-005", "exact_token_count": True},
        reply=_token_count_reply,
    ),
    # unknown models: one way to declare one
    ChatRow("unknown model", {"model": "HCX-05"}, errors.UnknownModelError),
    ChatRow(
        "unknown model with a spec",
        {"model": "HCX-NEXT", "model_spec": custom_chat_model("HCX-NEXT", base="HCX-005")},
    ),
    # limits
    ChatRow("temperature out of range", {"temperature": 5.0}, errors.ClovaValidationError),
    ChatRow(
        "max_tokens over the model's",
        {"model": "HCX-005", "max_tokens": 100_000},
        errors.ClovaValidationError,
    ),
    ChatRow(
        "thinking on a model without it",
        {"model": "HCX-005", "thinking": "high"},
        errors.UnsupportedFeatureError,
    ),
    # thinking with tools: unset sends effort none, an explicit effort is a typed error
    ChatRow(
        "tools on HCX-007, thinking unset",
        {"model": "HCX-007"},
        langchain=_lc_tools(1),
        llamaindex=_li_tools(1),
    ),
    ChatRow(
        "tools on HCX-007 with thinking high",
        {"model": "HCX-007", "thinking": "high"},
        errors.ClovaValidationError,
        langchain=_lc_tools(1),
        llamaindex=_li_tools(1),
    ),
    # tool choice: one named tool is forced; "any of several" is asked for, re-asked once,
    # then a typed error (the reply here is always text)
    ChatRow(
        "tool choice by name",
        {"model": "HCX-005"},
        langchain=_lc_tools(2, tool_choice="find_hotel"),
        llamaindex=_li_tools(2, tool_choice="find_hotel"),
        reply=_answer_reply,
    ),
    ChatRow(
        "any of several tools",
        {"model": "HCX-005"},
        ToolCallRequiredError,
        langchain=_lc_tools(2, tool_choice="any"),
        llamaindex=_li_tools(2, tool_choice="required"),
    ),
    # structured answer after the tool turn: a forced function, or native on HCX-007
    *[
        ChatRow(
            f"tools and an answer schema on {model}",
            {"model": model},
            langchain=_lc_tools(2, response_format=PLAN_SCHEMA),
            llamaindex=_li_tools(2, response_format=PLAN_SCHEMA),
            reply=_answer_reply,
        )
        for model in ("HCX-005", "HCX-007", "HCX-DASH-002")
    ],
    ChatRow(
        "answer schema on a model without tools",
        {"model": "HCX-003"},
        errors.UnsupportedFeatureError,
        langchain=lambda model: model.bind(response_format=PLAN_SCHEMA).invoke("hi"),
        llamaindex=lambda llm: llm.chat(
            [ChatMessage(role=MessageRole.USER, content="hi")], response_format=PLAN_SCHEMA
        ),
    ),
]


@dataclass(frozen=True)
class Outcome:
    """What one framework did: the error type and when, or the requests and the answer."""

    error: type[Exception] | None
    moment: str
    requests: Sequence[tuple[str, str, dict[str, str], Any]]
    answer: Any = None


def _run(
    build: Callable[..., Any], call: Callable[[Any], Any], settings: dict[str, Any], wire: Wire
) -> Outcome:
    try:
        obj = build(**settings, **wire.clients())
    except errors.ClovaError as error:
        return Outcome(type(error), "construction", list(wire.seen))
    try:
        answer = call(obj)
    except errors.ClovaError as error:
        return Outcome(type(error), "call", list(wire.seen))
    return Outcome(None, "call", list(wire.seen), answer)


def _settings(
    row_settings: dict[str, Any], with_key: bool, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    for name in ("CLOVASTUDIO_API_KEY", "CLOVASTUDIO_API_BASE_URL", "NCP_APIGW_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = {"base_url": BASE, **row_settings}
    if with_key:
        settings.setdefault("api_key", KEY)
    return settings


@pytest.mark.parametrize("row", CHAT_ROWS, ids=[row.id for row in CHAT_ROWS])
def test_chat_classes_agree(row: ChatRow, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(row.settings, row.with_key, monkeypatch)
    langchain = _run(ChatClovaX, row.langchain, settings, Wire(row.reply))
    llamaindex = _run(ClovaX, row.llamaindex, settings, Wire(row.reply))
    assert langchain == llamaindex
    if row.error is None:
        assert langchain.error is None
        assert langchain.requests, "nothing was sent"
        if row.path is not None:
            assert {path for _, path, _, _ in langchain.requests} == {row.path}
    else:
        assert langchain.error is row.error
        if issubclass(row.error, errors.APIError):
            assert langchain.requests  # sent, then failed
        else:
            assert langchain.requests == []  # refused before anything was sent


# --------------------------------------------------------------------------- embeddings


@dataclass(frozen=True)
class EmbeddingRow:
    id: str
    settings: dict[str, Any] = field(default_factory=dict)
    texts: tuple[str, ...] = ("첫 번째 문서", "두 번째 문서")
    error: type[Exception] | None = None
    index: int | None = None
    """The index of the failing text the error names."""
    with_key: bool = True


EMBEDDING_ROWS: list[EmbeddingRow] = [
    EmbeddingRow("default model"),
    EmbeddingRow("bge-m3 with headers", {"model": "bge-m3", "default_headers": {"X-Team": "a"}}),
    EmbeddingRow("clir-sts-dolphin", {"model": "clir-sts-dolphin"}),
    EmbeddingRow("one text", texts=("하나",)),
    EmbeddingRow("unknown model", {"model": "text-embedding-3"}, error=errors.UnknownModelError),
    EmbeddingRow("missing key", error=errors.ClovaConfigurationError, with_key=False),
    EmbeddingRow("negative timeout", {"timeout": -1}, error=errors.ClovaConfigurationError),
    EmbeddingRow("empty text", texts=("a", "b", ""), error=errors.ClovaValidationError, index=2),
    EmbeddingRow(
        "over the input limit",
        texts=("short", "긴 문장 " * 3_000, "short"),
        error=errors.ContextLimitError,
        index=1,
    ),
]


def _lc_embed(embeddings: Any, texts: list[str]) -> Any:
    return embeddings.embed_documents(texts)


def _li_embed(embedding: Any, texts: list[str]) -> Any:
    return embedding.get_text_embedding_batch(texts)


@pytest.mark.parametrize("row", EMBEDDING_ROWS, ids=[row.id for row in EMBEDDING_ROWS])
def test_embedding_classes_agree(row: EmbeddingRow, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings({"max_concurrency": 1, **row.settings}, row.with_key, monkeypatch)
    outcomes, indices = [], []
    for build, embed in ((ClovaXEmbeddings, _lc_embed), (ClovaXEmbedding, _li_embed)):
        wire = Wire()
        try:
            obj = build(**settings, **wire.clients())
        except errors.ClovaError as error:
            outcomes.append(Outcome(type(error), "construction", wire.seen))
            continue
        try:
            answer = embed(obj, list(row.texts))
        except errors.ClovaError as error:
            outcomes.append(Outcome(type(error), "call", wire.seen))
            indices.append((getattr(error, "index", None), str(error)))
            continue
        outcomes.append(Outcome(None, "call", wire.seen, answer))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0].error is row.error
    if row.index is not None:
        assert [index for index, _ in indices] == [row.index, row.index]
        assert all(f"texts[{row.index}] (of {len(row.texts)})" in text for _, text in indices)
    if row.error is None:
        assert len(outcomes[0].requests) == len(row.texts)
    elif not issubclass(row.error, errors.APIError):
        assert outcomes[0].requests == []
