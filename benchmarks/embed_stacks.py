"""One adapter per embedding stack: embed a list of texts, sync or async.

Ours run with ``max_concurrency`` = the suite's concurrency. The alternatives run with their
defaults, which is what a user gets: langchain-naver and langchain-community send one
request per text, one after another; ``OpenAIEmbeddings`` (``check_embedding_ctx_length=
False``, so no tiktoken download) and ``OpenAILikeEmbedding`` put many texts in one request
to the OpenAI-compatible ``/embeddings``. Whether the real CLOVA compat endpoint accepts an
array ``input`` is unverified (anchors.md); the emulator accepts it and charges one latency
and one QPM slot per request, however many texts it carries.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Literal, Protocol

import httpx

from benchmarks.chat_stacks import API_KEY, GATEWAY_KEY

EMBED_MODEL = "clir-emb-dolphin"

Group = Literal["floor", "ours", "alternative"]
Mode = Literal["sync", "async"]


class EmbedStack(Protocol):
    """What the embedding suite drives."""

    name: str
    group: Group
    library: str
    mode: Mode
    sequential: bool
    """One request per text, one at a time: measured on fewer texts."""
    concurrency: str
    note: str

    def embed(self, texts: list[str]) -> list[list[float]]: ...

    def close(self) -> None: ...


def texts_for(count: int) -> list[str]:
    """``count`` distinct short Korean/English passages (well under any input limit)."""
    return [
        f"문서 {index}번: 하이퍼클로바X 임베딩 벤치마크용 문장입니다. passage number {index}."
        for index in range(count)
    ]


class _Base:
    name: str
    group: Group
    library: str
    mode: Mode = "sync"
    sequential = False
    concurrency = "1"
    note = ""

    def close(self) -> None:
        """Nothing to release by default."""


class Transports:
    """httpx transports for the stacks: real sockets, or (``mock_latency`` set) an
    ``httpx.MockTransport`` that sleeps ``mock_latency`` and answers a canned CLOVA
    embedding reply. The mock removes the server, so what is left is the client's own
    cost per request and how well it keeps ``concurrency`` requests in flight."""

    def __init__(self, mock_latency: float | None = None) -> None:
        self.mock_latency = mock_latency
        self._reply = b""
        if mock_latency is not None:
            from clova_emulator.api.embeddings import vector

            values = vector(texts_for(1)[0], EMBED_MODEL)
            envelope = {
                "status": {"code": "20000", "message": "OK"},
                "result": {"embedding": values, "inputTokens": 24},
            }
            self._reply = json.dumps(envelope).encode()

    def sync_client(self) -> httpx.Client | None:
        if self.mock_latency is None:
            return None
        delay, reply = self.mock_latency, self._reply

        def answer(request: httpx.Request) -> httpx.Response:
            time.sleep(delay)
            return httpx.Response(200, content=reply, headers=_JSON)

        return httpx.Client(transport=httpx.MockTransport(answer))

    def async_client(self) -> httpx.AsyncClient | None:
        if self.mock_latency is None:
            return None
        delay, reply = self.mock_latency, self._reply

        async def answer(request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(delay)
            return httpx.Response(200, content=reply, headers=_JSON)

        return httpx.AsyncClient(transport=httpx.MockTransport(answer))


_JSON = {"content-type": "application/json"}
REAL = Transports()


class RawAsyncFloor(_Base):
    """Raw ``httpx.AsyncClient`` to the native endpoint, ``concurrency`` requests in flight
    under a semaphore, order kept: the practical floor for a one-text-per-request API."""

    group: Group = "floor"
    library = "httpx"
    mode: Mode = "async"

    def __init__(self, base_url: str, concurrency: int, transports: Transports = REAL) -> None:
        self.name = f"raw httpx (asyncio, {concurrency} in flight)"
        self.concurrency = str(concurrency)
        self._url = f"{base_url}/v1/api-tools/embedding/{EMBED_MODEL}"
        self._limit = concurrency
        self._transports = transports

    def embed(self, texts: list[str]) -> list[list[float]]:
        return asyncio.run(self._embed(texts))

    async def _embed(self, texts: list[str]) -> list[list[float]]:
        limits = httpx.Limits(max_connections=self._limit, max_keepalive_connections=self._limit)
        headers = {"Authorization": f"Bearer {API_KEY}"}
        client = self._transports.async_client() or httpx.AsyncClient(limits=limits)
        client.headers.update(headers)
        async with client:
            semaphore = asyncio.Semaphore(self._limit)

            async def one(text: str) -> list[float]:
                async with semaphore:
                    reply = await client.post(self._url, json={"text": text})
                reply.raise_for_status()
                vector: list[float] = json.loads(reply.content)["result"]["embedding"]
                return vector

            return list(await asyncio.gather(*(one(text) for text in texts)))


# ---------------------------------------------------------------------------- ours


class OursLangChain(_Base):
    group: Group = "ours"
    library = "langchain_clova"

    def __init__(
        self, base_url: str, concurrency: int, mode: Mode, transports: Transports = REAL
    ) -> None:
        from langchain_clova import ClovaXEmbeddings

        self.mode = mode
        self.name = f"langchain_clova ClovaXEmbeddings ({mode})"
        self.concurrency = str(concurrency)
        self._model = ClovaXEmbeddings(
            model=EMBED_MODEL,
            api_key=API_KEY,
            base_url=base_url,
            max_concurrency=concurrency,
            http_client=transports.sync_client(),
            http_async_client=transports.async_client(),
        )

    def embed(self, texts: list[str]) -> list[list[float]]:
        if self.mode == "sync":
            return self._model.embed_documents(texts)
        return asyncio.run(self._model.aembed_documents(texts))

    def close(self) -> None:
        self._model.close()


class OursLlamaIndex(_Base):
    group: Group = "ours"
    library = "llama_index_clova"

    def __init__(
        self, base_url: str, concurrency: int, mode: Mode, transports: Transports = REAL
    ) -> None:
        from llama_index_clova import ClovaXEmbedding

        self.mode = mode
        self.name = f"llama_index_clova ClovaXEmbedding ({mode})"
        self.concurrency = str(concurrency)
        self._model = ClovaXEmbedding(
            model_name=EMBED_MODEL,
            api_key=API_KEY,
            base_url=base_url,
            max_concurrency=concurrency,
            http_client=transports.sync_client(),
            http_async_client=transports.async_client(),
        )

    def embed(self, texts: list[str]) -> list[list[float]]:
        if self.mode == "sync":
            vectors: list[list[float]] = self._model.get_text_embedding_batch(texts)
            return vectors
        return asyncio.run(self._model.aget_text_embedding_batch(texts))

    def close(self) -> None:
        self._model.close()


class _AioHttpLoop:
    """A ``DefaultAioHttpClient`` (the optional ``[aiohttp]`` transport) and the one event
    loop it lives in: an aiohttp session belongs to the loop that opened it, so these stacks
    run every trial on the same loop instead of a new ``asyncio.run`` each time."""

    def __init__(self, concurrency: int) -> None:
        from clova_core import DefaultAioHttpClient

        self.loop = asyncio.new_event_loop()
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self.http = DefaultAioHttpClient(limits=limits)

    def close(self) -> None:
        self.loop.run_until_complete(self.http.aclose())
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()


class OursLangChainAioHttp(_Base):
    group: Group = "ours"
    library = "langchain_clova"
    mode: Mode = "async"
    note = "optional aiohttp transport (DefaultAioHttpClient)"

    def __init__(self, base_url: str, concurrency: int) -> None:
        from langchain_clova import ClovaXEmbeddings

        self.name = "langchain_clova ClovaXEmbeddings (async, aiohttp)"
        self.concurrency = str(concurrency)
        self._aio = _AioHttpLoop(concurrency)
        self._model = ClovaXEmbeddings(
            model=EMBED_MODEL,
            api_key=API_KEY,
            base_url=base_url,
            max_concurrency=concurrency,
            http_async_client=self._aio.http,
        )

    def embed(self, texts: list[str]) -> list[list[float]]:
        return self._aio.loop.run_until_complete(self._model.aembed_documents(texts))

    def close(self) -> None:
        self._model.close()
        self._aio.close()


class OursLlamaIndexAioHttp(_Base):
    group: Group = "ours"
    library = "llama_index_clova"
    mode: Mode = "async"
    note = "optional aiohttp transport (DefaultAioHttpClient)"

    def __init__(self, base_url: str, concurrency: int) -> None:
        from llama_index_clova import ClovaXEmbedding

        self.name = "llama_index_clova ClovaXEmbedding (async, aiohttp)"
        self.concurrency = str(concurrency)
        self._aio = _AioHttpLoop(concurrency)
        self._model = ClovaXEmbedding(
            model_name=EMBED_MODEL,
            api_key=API_KEY,
            base_url=base_url,
            max_concurrency=concurrency,
            http_async_client=self._aio.http,
        )

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = self._aio.loop.run_until_complete(
            self._model.aget_text_embedding_batch(texts)
        )
        return vectors

    def close(self) -> None:
        self._model.close()
        self._aio.close()


# ---------------------------------------------------------------------------- alternatives


class LangChainNaver(_Base):
    name = "langchain-naver ClovaXEmbeddings"
    group: Group = "alternative"
    library = "langchain-naver"
    sequential = True
    note = "one request per text, sequential"

    def __init__(self, openai_base_url: str) -> None:
        from langchain_naver import ClovaXEmbeddings

        self._model = ClovaXEmbeddings(model=EMBED_MODEL, api_key=API_KEY, base_url=openai_base_url)

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = self._model.embed_documents(texts)
        return vectors


class Community(_Base):
    name = "community ClovaXEmbeddings"
    group: Group = "alternative"
    library = "langchain-community"
    sequential = True
    note = "one request per text, sequential (native /testapp, legacy keys)"

    def __init__(self, base_url: str) -> None:
        from langchain_community.embeddings.naver import ClovaXEmbeddings

        self._model = ClovaXEmbeddings(
            model=EMBED_MODEL,
            api_key=API_KEY,
            apigw_api_key=GATEWAY_KEY,
            app_id="bench",
            base_url=base_url,
        )

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = self._model.embed_documents(texts)
        return vectors


class LangChainOpenAI(_Base):
    name = "langchain-openai OpenAIEmbeddings"
    group: Group = "alternative"
    library = "langchain-openai"
    note = "array input, up to 1000 texts per request (unverified on real CLOVA)"

    def __init__(self, openai_base_url: str) -> None:
        from langchain_openai import OpenAIEmbeddings

        options: dict[str, Any] = {"api_key": API_KEY, "base_url": openai_base_url}
        # CLOVA's compat endpoint returns float vectors only; the openai SDK asks for base64
        # unless told otherwise (the emulator, like the service, rejects that).
        self._model = OpenAIEmbeddings(
            model=EMBED_MODEL,
            check_embedding_ctx_length=False,
            model_kwargs={"encoding_format": "float"},
            **options,
        )

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = self._model.embed_documents(texts)
        return vectors


class LlamaIndexOpenAILike(_Base):
    name = "llama-index OpenAILikeEmbedding"
    group: Group = "alternative"
    library = "llama-index-embeddings-openai-like"
    note = "array input, 10 texts per request, sequential (unverified on real CLOVA)"

    def __init__(self, openai_base_url: str) -> None:
        from llama_index.embeddings.openai_like import OpenAILikeEmbedding

        self._model = OpenAILikeEmbedding(
            model_name=EMBED_MODEL,
            api_base=openai_base_url,
            api_key=API_KEY,
            additional_kwargs={"encoding_format": "float"},  # see LangChainOpenAI
        )

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = self._model.get_text_embedding_batch(texts)
        return vectors


def build_mock_stacks(latency: float, concurrency: int) -> list[EmbedStack]:
    """The floor and ours on a server-free mock transport answering after ``latency``."""
    transports = Transports(mock_latency=latency)
    base_url = "http://127.0.0.1:9"  # never dialled: the mock transport answers
    return [
        RawAsyncFloor(base_url, concurrency, transports),
        OursLangChain(base_url, concurrency, "sync", transports),
        OursLangChain(base_url, concurrency, "async", transports),
        OursLlamaIndex(base_url, concurrency, "sync", transports),
        OursLlamaIndex(base_url, concurrency, "async", transports),
    ]


def build_stacks(base_url: str, concurrency: int) -> list[EmbedStack]:
    """Floor, ours (sync and async, LangChain and LlamaIndex; async also over the optional
    aiohttp transport), then the alternatives."""
    openai_base_url = f"{base_url}/v1/openai"
    return [
        RawAsyncFloor(base_url, concurrency),
        OursLangChain(base_url, concurrency, "sync"),
        OursLangChain(base_url, concurrency, "async"),
        OursLlamaIndex(base_url, concurrency, "sync"),
        OursLlamaIndex(base_url, concurrency, "async"),
        OursLangChainAioHttp(base_url, concurrency),
        OursLlamaIndexAioHttp(base_url, concurrency),
        LangChainNaver(openai_base_url),
        Community(base_url),
        LangChainOpenAI(openai_base_url),
        LlamaIndexOpenAILike(openai_base_url),
    ]
