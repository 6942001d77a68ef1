"""``ClovaXEmbedding``: CLOVA Studio embeddings as a LlamaIndex ``BaseEmbedding``.

Settings (``clova_core.connection``) plus translation: batches go through the core's batch
embedding (:mod:`clova_core.embedding_batch`). LlamaIndex hands a batch over in slices of
``embed_batch_size``; every text of the whole batch is validated once, before the first
slice is sent, and an error names the text's index in the whole batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from llama_index.core.bridge.pydantic import ConfigDict, Field, PrivateAttr
from pydantic import AliasChoices

from clova_core.connection import ConnectionSettings
from clova_core.embedding_batch import (
    LoopSemaphores,
    aembed_prepared,
    embed_prepared,
    prepare_texts,
)
from clova_core.models import DEFAULT_EMBEDDING_MODEL, EmbeddingModelSpec, get_embedding_model
from clova_core.request import WireRequest

DEFAULT_MAX_CONCURRENCY = 8
DEFAULT_EMBED_BATCH_SIZE = 1024
"""LlamaIndex hands a sync batch over only when the previous one has finished, so the
requests in flight drain at the end of every batch: 1,024 texts keep ``max_concurrency``
requests busy far longer than LlamaIndex's usual 10 to 100 (measured in ``benchmarks/``).
Progress bars and callback events move per batch. Each text is still its own request."""

_Prepared = dict[int, tuple[int, WireRequest]]
"""``id(text)`` -> (the text's index in the whole batch, its validated request)."""
_PREPARED: ContextVar[tuple[_Prepared, int] | None] = ContextVar(
    "clova_prepared_embedding_texts", default=None
)
"""The texts of the batch being embedded in this context, validated once (and its size)."""


class ClovaXEmbedding(ConnectionSettings, BaseEmbedding):
    """CLOVA Studio embeddings: ``clir-emb-dolphin`` (default), ``clir-sts-dolphin``, ``bge-m3``.

    Example::

        from llama_index_clova import ClovaXEmbedding

        embed_model = ClovaXEmbedding(model_name="bge-m3", max_concurrency=8)
        vectors = embed_model.get_text_embedding_batch(["첫 문장", "둘째 문장"])

    Queries and documents use the same endpoint (CLOVA has no query/passage split). A
    missing key or an unknown model raises when the object is built; pickling leaves the key
    out (see the README).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    model_name: str = Field(
        default=DEFAULT_EMBEDDING_MODEL,
        validation_alias=AliasChoices("model_name", "model"),
        description="clir-emb-dolphin, clir-sts-dolphin or bge-m3 (also accepted as ``model``).",
    )
    embed_batch_size: int = Field(
        default=DEFAULT_EMBED_BATCH_SIZE,
        gt=0,
        le=2048,
        description="Texts handed to one batch call (each still is one request); a sync "
        "batch waits for its slowest request before the next batch starts.",
    )
    max_concurrency: int = Field(
        default=DEFAULT_MAX_CONCURRENCY,
        ge=1,
        description="Most embedding requests in flight at once (threads or async tasks).",
    )

    _semaphores: LoopSemaphores | None = PrivateAttr(default=None)

    def _check_settings(self) -> None:
        super()._check_settings()
        _ = self.spec

    @classmethod
    def class_name(cls) -> str:
        return "ClovaXEmbedding"

    @property
    def spec(self) -> EmbeddingModelSpec:
        """The registry entry of the model (limits, dimensions, similarity)."""
        return get_embedding_model(self.model_name)

    def _semaphore(self) -> asyncio.Semaphore:
        """The running loop's bound on requests in flight (shared by concurrent batches)."""
        if self._semaphores is None or self._semaphores.limit != self.max_concurrency:
            self._semaphores = LoopSemaphores(self.max_concurrency)
        return self._semaphores.for_running_loop()

    # --------------------------------------------------------- validated once, sent

    def _prepared(self, texts: Sequence[str]) -> tuple[list[WireRequest], list[int], int]:
        """The requests for ``texts`` (validated by the whole batch's call when there was
        one), their indices in the whole batch, and its size."""
        batch = _PREPARED.get()
        if batch is not None:
            prepared, total = batch
            found = [prepared.get(id(text)) for text in texts]
            if all(entry is not None for entry in found):
                return [e[1] for e in found if e], [e[0] for e in found if e], total
        return prepare_texts(texts, self.spec), list(range(len(texts))), len(texts)

    @contextmanager
    def _whole_batch(self, texts: list[str]) -> Iterator[None]:
        wires = prepare_texts(texts, self.spec)  # all texts, before the first request
        prepared = {
            id(text): (index, wire)
            for index, (text, wire) in enumerate(zip(texts, wires, strict=True))
        }
        token = _PREPARED.set((prepared, len(texts)))
        try:
            yield
        finally:
            _PREPARED.reset(token)

    def _before_send(self, index: int) -> None:
        # The base class takes one rate-limiter slot per batch; take one for every further
        # request so that each HTTP request costs exactly one slot.
        if index > 0 and self.rate_limiter is not None:
            self.rate_limiter.acquire()

    async def _abefore_send(self, index: int) -> None:
        if index > 0 and self.rate_limiter is not None:
            await self.rate_limiter.async_acquire()

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        wires, positions, total = self._prepared(texts)
        results = embed_prepared(
            self._core().sync,
            wires,
            self.spec,
            max_concurrency=self.max_concurrency,
            before_send=self._before_send,
            positions=positions,
            total=total,
        )
        return [list(result.embedding) for result in results]

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        wires, positions, total = self._prepared(texts)
        results = await aembed_prepared(
            self._core().for_running_loop(),
            wires,
            self.spec,
            semaphore=self._semaphore(),
            before_send=self._abefore_send,
            positions=positions,
            total=total,
        )
        return [list(result.embedding) for result in results]

    def _get_query_embedding(self, query: str) -> Embedding:
        return self._get_text_embeddings([query])[0]

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return (await self._aget_text_embeddings([query]))[0]

    def _get_text_embedding(self, text: str) -> Embedding:
        return self._get_text_embeddings([text])[0]

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return (await self._aget_text_embeddings([text]))[0]

    def get_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[Embedding]:
        """Embed ``texts`` in order; a bad text fails (naming its index) before any request
        is sent."""
        with self._whole_batch(texts):
            return super().get_text_embedding_batch(texts, show_progress=show_progress, **kwargs)

    async def aget_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[Embedding]:
        """Async twin of :meth:`get_text_embedding_batch`."""
        with self._whole_batch(texts):
            return await super().aget_text_embedding_batch(
                texts, show_progress=show_progress, **kwargs
            )
