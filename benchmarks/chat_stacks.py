"""One adapter per chat stack: a short blocking call and a text stream, on the emulator.

Every adapter is built once (client construction is not timed), warmed up, then called.
``invoke()`` sends the same short Korean prompt and returns the reply text; ``stream()``
yields the reply's text pieces as the stack delivers them. Three raw-httpx floors, one per
endpoint family, are the reference each library is compared with: the native v3 endpoint
(ours), the native v1 ``/testapp`` endpoint (langchain-community) and the OpenAI-compatible
``/v1/openai`` endpoint (langchain-naver, ChatOpenAI, OpenAILike). Overhead is a stack's
time minus the floor of the endpoint it uses, so emulator-side differences between
endpoints cancel out.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import httpx

PROMPT = "안녕하세요, 짧게 인사해 주세요."
API_KEY = "test-key"
GATEWAY_KEY = "test-gateway-key"
MODEL = "HCX-005"
V1_MODEL = "HCX-003"
MAX_TOKENS = 1024
"""Sent by every stack that takes it (ours sends 1024 by default), so the emulator budgets
every request alike; the community class caps it at 4096 and defaults to 100."""

Group = Literal["floor", "ours", "alternative"]
Endpoint = Literal["native-v3", "native-v1", "openai"]


class ChatStack(Protocol):
    """What the chat and streaming suites drive."""

    name: str
    group: Group
    endpoint: Endpoint

    def invoke(self) -> str: ...

    def stream(self) -> Iterator[str]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class StackInfo:
    """Name, kind and endpoint of a stack, as the report prints them."""

    name: str
    group: Group
    endpoint: Endpoint
    library: str


# ---------------------------------------------------------------------------- floors


class _RawHttpx:
    """A persistent ``httpx.Client`` doing a bare POST and a bare SSE read."""

    group: Group = "floor"

    def __init__(self, url: str, headers: dict[str, str], body: dict[str, Any]) -> None:
        self._client = httpx.Client(headers=headers)
        self._url = url
        self._body = body

    def _post(self) -> Any:
        response = self._client.post(self._url, json=self._body)
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self._client.close()


class RawNative(_RawHttpx):
    """Floor for native CLOVA chat: POST, ``json()``, read ``result.message.content``;
    streams: ``iter_lines`` and ``json.loads`` of each ``token`` event's data."""

    def __init__(self, name: str, endpoint: Endpoint, url: str, headers: dict[str, str]) -> None:
        body = {"messages": [{"role": "user", "content": PROMPT}], "maxTokens": MAX_TOKENS}
        super().__init__(url, headers, body)
        self.name = name
        self.endpoint = endpoint

    def invoke(self) -> str:
        content: str = self._post()["result"]["message"]["content"]
        return content

    def stream(self) -> Iterator[str]:
        headers = {"Accept": "text/event-stream"}
        with self._client.stream("POST", self._url, json=self._body, headers=headers) as reply:
            reply.raise_for_status()
            event = ""
            for line in reply.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "token":
                    yield json.loads(line[5:])["message"]["content"]


class RawOpenAI(_RawHttpx):
    """Floor for the OpenAI-compatible endpoint: POST ``/chat/completions``; streams read
    ``data:`` lines up to ``[DONE]``."""

    name = "raw httpx (OpenAI-compat)"
    endpoint: Endpoint = "openai"

    def __init__(self, openai_base_url: str) -> None:
        body = {
            "model": MODEL,
            "messages": [{"role": "user", "content": PROMPT}],
            "max_tokens": MAX_TOKENS,
        }
        headers = {"Authorization": f"Bearer {API_KEY}"}
        super().__init__(f"{openai_base_url}/chat/completions", headers, body)

    def invoke(self) -> str:
        content: str = self._post()["choices"][0]["message"]["content"]
        return content

    def stream(self) -> Iterator[str]:
        body = {**self._body, "stream": True}
        with self._client.stream("POST", self._url, json=body) as reply:
            reply.raise_for_status()
            for line in reply.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    return
                choices = json.loads(data)["choices"]
                if choices and choices[0]["delta"].get("content"):
                    yield choices[0]["delta"]["content"]


# ---------------------------------------------------------------------------- ours


class CoreClient:
    """``clova_core.ClovaClient.chat`` / ``stream_chat`` (no framework)."""

    name = "clova_core ClovaClient"
    group: Group = "ours"
    endpoint: Endpoint = "native-v3"

    def __init__(self, base_url: str) -> None:
        from clova_core import ChatRequest, ClovaClient, Message

        self._client = ClovaClient(api_key=API_KEY, base_url=base_url)
        self._request = ChatRequest(
            messages=[Message(role="user", content=PROMPT)], model=MODEL, max_tokens=MAX_TOKENS
        )

    def invoke(self) -> str:
        return self._client.chat(self._request).content

    def stream(self) -> Iterator[str]:
        from clova_core import TokenEvent

        with self._client.stream_chat(self._request) as events:
            for event in events:
                if isinstance(event, TokenEvent) and event.content:
                    yield event.content

    def close(self) -> None:
        self._client.close()


class CoreAsyncClient:
    """``clova_core.AsyncClovaClient`` on one event loop, over httpx's async transport (the
    default) or the optional aiohttp one (``DefaultAioHttpClient``)."""

    group: Group = "ours"
    endpoint: Endpoint = "native-v3"

    def __init__(self, base_url: str, transport: Literal["httpx", "aiohttp"]) -> None:
        from clova_core import AsyncClovaClient, ChatRequest, DefaultAioHttpClient, Message

        self.name = f"clova_core AsyncClovaClient ({transport})"
        self._loop = asyncio.new_event_loop()
        self._http = DefaultAioHttpClient() if transport == "aiohttp" else None
        self._client = AsyncClovaClient(api_key=API_KEY, base_url=base_url, http_client=self._http)
        self._request = ChatRequest(
            messages=[Message(role="user", content=PROMPT)], model=MODEL, max_tokens=MAX_TOKENS
        )

    def invoke(self) -> str:
        return self._loop.run_until_complete(self._client.chat(self._request)).content

    def stream(self) -> Iterator[str]:
        from clova_core import TokenEvent

        events = self._loop.run_until_complete(self._client.stream_chat(self._request))
        try:
            while True:
                try:
                    event = self._loop.run_until_complete(anext(events))
                except StopAsyncIteration:
                    return
                if isinstance(event, TokenEvent) and event.content:
                    yield event.content
        finally:
            self._loop.run_until_complete(events.aclose())

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        if self._http is not None:
            self._loop.run_until_complete(self._http.aclose())
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        self._loop.close()


class _LangChainModel:
    """Any LangChain ``BaseChatModel``: ``invoke`` and ``stream`` with a string input."""

    group: Group
    _model: Any

    def invoke(self) -> str:
        return str(self._model.invoke(PROMPT).content)

    def stream(self) -> Iterator[str]:
        for chunk in self._model.stream(PROMPT):
            if chunk.content:
                yield str(chunk.content)

    def close(self) -> None:
        for name in ("close", "_close"):
            closer = getattr(self._model, name, None)
            if callable(closer):
                closer()
                return


class OursLangChain(_LangChainModel):
    name = "langchain_clova ChatClovaX"
    group: Group = "ours"
    endpoint: Endpoint = "native-v3"

    def __init__(self, base_url: str) -> None:
        from langchain_clova import ChatClovaX

        self._model = ChatClovaX(
            model=MODEL, api_key=API_KEY, base_url=base_url, max_tokens=MAX_TOKENS
        )

    def close(self) -> None:
        pool = self._model._core()
        pool.close()


class _LlamaIndexLLM:
    """Any LlamaIndex LLM: ``chat`` and ``stream_chat`` with one user message."""

    group: Group
    _llm: Any

    def _messages(self) -> list[Any]:
        from llama_index.core.llms import ChatMessage

        return [ChatMessage(role="user", content=PROMPT)]

    def invoke(self) -> str:
        return str(self._llm.chat(self._messages()).message.content)

    def stream(self) -> Iterator[str]:
        for response in self._llm.stream_chat(self._messages()):
            if response.delta:
                yield str(response.delta)

    def close(self) -> None:
        closer = getattr(self._llm, "close", None)
        if callable(closer):
            closer()


class OursLlamaIndex(_LlamaIndexLLM):
    name = "llama_index_clova ClovaX"
    group: Group = "ours"
    endpoint: Endpoint = "native-v3"

    def __init__(self, base_url: str) -> None:
        from llama_index_clova import ClovaX

        self._llm = ClovaX(model=MODEL, api_key=API_KEY, base_url=base_url, max_tokens=MAX_TOKENS)


# ---------------------------------------------------------------------------- alternatives


class LangChainNaver(_LangChainModel):
    """langchain-naver 0.1.1: ``BaseChatOpenAI`` over the openai SDK, OpenAI-compat endpoint
    (``base_url`` is the alias of its ``naver_api_base``)."""

    name = "langchain-naver ChatClovaX"
    group: Group = "alternative"
    endpoint: Endpoint = "openai"

    def __init__(self, openai_base_url: str) -> None:
        from langchain_naver import ChatClovaX

        self._model = ChatClovaX(
            model=MODEL, api_key=API_KEY, base_url=openai_base_url, max_tokens=MAX_TOKENS
        )


class Community(_LangChainModel):
    """langchain-community 0.4.2: native v1 at ``{base_url}/testapp/v1/chat-completions``.
    A key without the ``nv-`` prefix is a legacy key, so it sends the two legacy headers.
    Its sync ``_stream`` crashes when core hands it a run manager (anchors.md); the plain
    ``.stream()`` measured here does not."""

    name = "community ChatClovaX (v1)"
    group: Group = "alternative"
    endpoint: Endpoint = "native-v1"

    def __init__(self, base_url: str) -> None:
        from langchain_community.chat_models.naver import ChatClovaX

        self._model = ChatClovaX(
            model=V1_MODEL,
            api_key=API_KEY,
            apigw_api_key=GATEWAY_KEY,
            base_url=base_url,
            max_tokens=MAX_TOKENS,
        )


class LangChainOpenAI(_LangChainModel):
    name = "langchain-openai ChatOpenAI"
    group: Group = "alternative"
    endpoint: Endpoint = "openai"

    def __init__(self, openai_base_url: str) -> None:
        from langchain_openai import ChatOpenAI

        self._model = ChatOpenAI(
            model=MODEL, api_key=API_KEY, base_url=openai_base_url, max_tokens=MAX_TOKENS
        )


class LlamaIndexOpenAILike(_LlamaIndexLLM):
    """``OpenAILike`` with the settings CLOVA needs (``is_chat_model=True``, else it calls
    ``/completions``; a real context window instead of 3900)."""

    name = "llama-index OpenAILike"
    group: Group = "alternative"
    endpoint: Endpoint = "openai"

    def __init__(self, openai_base_url: str) -> None:
        from llama_index.llms.openai_like import OpenAILike

        self._llm = OpenAILike(
            model=MODEL,
            api_base=openai_base_url,
            api_key=API_KEY,
            is_chat_model=True,
            context_window=128_000,
            max_tokens=MAX_TOKENS,
        )


# ---------------------------------------------------------------------------- registry

StackFactory = Callable[[str], ChatStack]


def _native_v3(base_url: str) -> ChatStack:
    return RawNative(
        "raw httpx (native v3)",
        "native-v3",
        f"{base_url}/v3/chat-completions/{MODEL}",
        {"Authorization": f"Bearer {API_KEY}"},
    )


def _native_v1(base_url: str) -> ChatStack:
    return RawNative(
        "raw httpx (native v1 /testapp)",
        "native-v1",
        f"{base_url}/testapp/v1/chat-completions/{V1_MODEL}",
        {"X-NCP-CLOVASTUDIO-API-KEY": API_KEY, "X-NCP-APIGW-API-KEY": GATEWAY_KEY},
    )


def build_stacks(base_url: str) -> list[ChatStack]:
    """Every chat stack, floors first, then ours, then the alternatives."""
    openai_base_url = f"{base_url}/v1/openai"
    return [
        _native_v3(base_url),
        _native_v1(base_url),
        RawOpenAI(openai_base_url),
        CoreClient(base_url),
        CoreAsyncClient(base_url, "httpx"),
        CoreAsyncClient(base_url, "aiohttp"),
        OursLangChain(base_url),
        OursLlamaIndex(base_url),
        LangChainNaver(openai_base_url),
        Community(base_url),
        LangChainOpenAI(openai_base_url),
        LlamaIndexOpenAILike(openai_base_url),
    ]


FLOOR_OF: dict[Endpoint, str] = {
    "native-v3": "raw httpx (native v3)",
    "native-v1": "raw httpx (native v1 /testapp)",
    "openai": "raw httpx (OpenAI-compat)",
}
"""The floor each endpoint's stacks are measured against."""


LIBRARY_OF: dict[str, str] = {
    "raw httpx (native v3)": "httpx",
    "raw httpx (native v1 /testapp)": "httpx",
    "raw httpx (OpenAI-compat)": "httpx",
    "clova_core ClovaClient": "clova_core",
    "clova_core AsyncClovaClient (httpx)": "clova_core",
    "clova_core AsyncClovaClient (aiohttp)": "clova_core + httpx-aiohttp",
    "langchain_clova ChatClovaX": "langchain_clova",
    "llama_index_clova ClovaX": "llama_index_clova",
    "langchain-naver ChatClovaX": "langchain-naver",
    "community ChatClovaX (v1)": "langchain-community",
    "langchain-openai ChatOpenAI": "langchain-openai",
    "llama-index OpenAILike": "llama-index-llms-openai-like",
}
