"""ClovaXEmbedding through the real core client over httpx.MockTransport."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from llama_index.core.rate_limiter import BaseRateLimiter

from clova_core.errors import (
    ClovaValidationError,
    ContextLimitError,
    InternalServerError,
    UnknownModelError,
)
from llama_index_clova import ClovaXEmbedding

from .wire import embedding_reply, mock_embedding


def _vector_for(text: str) -> list[float]:
    """A vector that identifies its text, so order can be checked."""
    return [float(len(text)), float(sum(map(ord, text)) % 997)]


class _ConcurrentWire:
    """Answers every embedding request after a short pause, tracking requests in flight."""

    def __init__(self, delay: float = 0.02) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.paths: list[str] = []

    def _enter(self, request: httpx.Request) -> str:
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.paths.append(request.url.path)
        text: str = json.loads(request.content)["text"]
        return text

    def _leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def __call__(self, request: httpx.Request) -> httpx.Response:
        text = self._enter(request)
        time.sleep(self.delay)
        self._leave()
        return embedding_reply(_vector_for(text))

    async def handle_async(self, request: httpx.Request) -> httpx.Response:
        text = self._enter(request)
        await asyncio.sleep(self.delay)
        self._leave()
        return embedding_reply(_vector_for(text))


def _mock(wire: _ConcurrentWire, **kwargs: Any) -> ClovaXEmbedding:
    return mock_embedding(wire, wire.handle_async, **kwargs)


LONG_TEXT = "한국어 문장입니다. " * 700
"""Far over clir's 500 tokens even by the core's conservative lower bound; fine for bge-m3."""
TEXTS = [f"문서 {index}번: {'가나다' * index}" for index in range(12)]


@pytest.mark.parametrize(
    ("model", "path"),
    [
        ("clir-emb-dolphin", "/v1/api-tools/embedding/clir-emb-dolphin"),
        ("clir-sts-dolphin", "/v1/api-tools/embedding/clir-sts-dolphin"),
        ("bge-m3", "/v1/api-tools/embedding/v2"),
    ],
)
def test_each_model_hits_its_endpoint(model: str, path: str) -> None:
    wire = _ConcurrentWire(delay=0)
    embed = _mock(wire, model_name=model)
    assert embed.get_query_embedding("서울") == _vector_for("서울")
    assert wire.paths == [path]


def test_sync_batch_keeps_order_and_bounds_concurrency() -> None:
    wire = _ConcurrentWire()
    embed = _mock(wire, max_concurrency=3, embed_batch_size=100)
    vectors = embed.get_text_embedding_batch(TEXTS)
    assert vectors == [_vector_for(text) for text in TEXTS]
    assert len(wire.paths) == len(TEXTS)
    assert wire.peak == 3


async def test_async_batch_keeps_order_and_bounds_concurrency_across_batches() -> None:
    wire = _ConcurrentWire()
    # Four batches of three run concurrently; the shared semaphore still caps requests at 5.
    embed = _mock(wire, max_concurrency=5, embed_batch_size=3)
    vectors = await embed.aget_text_embedding_batch(TEXTS)
    assert vectors == [_vector_for(text) for text in TEXTS]
    assert wire.peak == 5


def test_show_progress_reports_every_text(capsys: pytest.CaptureFixture[str]) -> None:
    embed = _mock(_ConcurrentWire(delay=0), embed_batch_size=5)
    vectors = embed.get_text_embedding_batch(TEXTS, show_progress=True)
    assert len(vectors) == len(TEXTS)
    assert f"{len(TEXTS)}/{len(TEXTS)}" in capsys.readouterr().err


async def test_async_show_progress(capsys: pytest.CaptureFixture[str]) -> None:
    embed = _mock(_ConcurrentWire(delay=0), embed_batch_size=5, num_workers=2)
    vectors = await embed.aget_text_embedding_batch(TEXTS, show_progress=True)
    assert vectors == [_vector_for(text) for text in TEXTS]
    assert "3/3" in capsys.readouterr().err


async def _embed_batch(embed: ClovaXEmbedding, texts: list[str], mode: str) -> None:
    if mode == "sync":
        embed.get_text_embedding_batch(texts)
    else:
        await embed.aget_text_embedding_batch(texts)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_over_long_text_fails_naming_its_index_before_any_request(mode: str) -> None:
    wire = _ConcurrentWire(delay=0)
    embed = _mock(wire, embed_batch_size=2)
    texts = ["짧은 글", "둘째", "셋째", LONG_TEXT, "다섯째"]
    with pytest.raises(ContextLimitError, match=r"texts\[3\]") as info:
        await _embed_batch(embed, texts, mode)
    assert info.value.max_input_tokens == 500
    assert wire.paths == []


def test_bge_m3_takes_what_dolphin_refuses() -> None:
    long_text = LONG_TEXT
    with pytest.raises(ContextLimitError):
        _mock(_ConcurrentWire(delay=0)).get_text_embedding(long_text)
    wire = _ConcurrentWire(delay=0)
    assert _mock(wire, model_name="bge-m3").get_text_embedding(long_text)


def test_empty_text_is_a_typed_error_naming_its_index() -> None:
    wire = _ConcurrentWire(delay=0)
    with pytest.raises(ClovaValidationError, match=r"texts\[1\].*40004"):
        _mock(wire).get_text_embedding_batch(["a", ""])
    assert wire.paths == []


def test_unknown_model_is_a_typed_error() -> None:
    with pytest.raises(UnknownModelError):
        ClovaXEmbedding(model_name="text-embedding-3-small", api_key="test-key")


def test_api_key_never_serialised() -> None:
    secret = "test-key-do-not-leak"
    embed = ClovaXEmbedding(api_key=secret)
    for text in (repr(embed), str(embed), embed.to_json(), json.dumps(embed.to_dict())):
        assert secret not in text
    assert "api_key" not in embed.to_dict()


class _CountingLimiter(BaseRateLimiter):
    def __init__(self) -> None:
        self.slots = 0
        self.lock = threading.Lock()

    def acquire(self, num_tokens: int = 0) -> None:
        with self.lock:
            self.slots += 1

    async def async_acquire(self, num_tokens: int = 0) -> None:
        self.slots += 1


async def test_rate_limiter_takes_one_slot_per_request() -> None:
    wire = _ConcurrentWire(delay=0)
    limiter = _CountingLimiter()
    embed = _mock(wire, embed_batch_size=5, rate_limiter=limiter)
    embed.get_text_embedding_batch(TEXTS)
    assert limiter.slots == len(wire.paths) == len(TEXTS)
    await embed.aget_text_embedding_batch(TEXTS)
    assert limiter.slots == len(wire.paths) == 2 * len(TEXTS)


def _failing_on(text: str) -> Callable[[httpx.Request], httpx.Response]:
    def reply(request: httpx.Request) -> httpx.Response:
        sent: str = json.loads(request.content)["text"]
        if sent == text:
            return httpx.Response(
                500, json={"status": {"code": "50000", "message": "Internal error"}}
            )
        return embedding_reply(_vector_for(sent))

    return reply


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_failed_text_is_named_by_its_index_in_the_whole_batch(mode: str) -> None:
    """LlamaIndex hands the batch over in slices of embed_batch_size; the error still names
    the text's index in the whole batch, and keeps the slice's finished vectors."""
    wire = _failing_on(TEXTS[6])
    embed = mock_embedding(wire, max_concurrency=1, embed_batch_size=4)

    async def run() -> object:
        if mode == "sync":
            return embed.get_text_embedding_batch(TEXTS)
        return await embed.aget_text_embedding_batch(TEXTS)

    with pytest.raises(InternalServerError, match=r"^texts\[6\] \(of 12\): ") as caught:
        await run()
    assert getattr(caught.value, "index", None) == 6
    partial = getattr(caught.value, "partial_results", None) or []
    vectors = [list(result.embedding) if result else None for result in partial]
    assert vectors[:2] == [_vector_for(TEXTS[4]), _vector_for(TEXTS[5])]  # texts 4 and 5
    assert vectors[2:] == [None, None]
