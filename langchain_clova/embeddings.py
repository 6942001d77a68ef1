"""``ClovaXEmbeddings``: CLOVA Studio embeddings for LangChain.

Settings (``clova_core.connection``) plus translation: batches go through the core's batch
embedding (:mod:`clova_core.embedding_batch`): every text validated once before anything is
sent, at most ``max_concurrency`` requests in flight, input order kept, a failure naming the
index of its text (``err.index``) with the finished vectors in ``err.partial_results``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

from langchain_core.embeddings import Embeddings
from pydantic import AliasChoices, ConfigDict, Field

from clova_core.connection import ConnectionSettings
from clova_core.embedding_batch import Progress, aembed_texts, embed_texts
from clova_core.extras import require
from clova_core.models import DEFAULT_EMBEDDING_MODEL, EmbeddingModelSpec, get_embedding_model
from clova_core.types import EmbeddingResult

DEFAULT_MAX_CONCURRENCY = 8


class ClovaXEmbeddings(ConnectionSettings, Embeddings):
    """CLOVA Studio embedding models: ``clir-emb-dolphin`` (default), ``clir-sts-dolphin``
    and ``bge-m3`` (1024 dimensions each).

    Example:
        ```python
        from langchain_clova import ClovaXEmbeddings

        embeddings = ClovaXEmbeddings(model="bge-m3", max_concurrency=8, normalize=True)
        vectors = embeddings.embed_documents(["첫 번째 문서", "두 번째 문서"])
        ```

    A missing key or an unknown model raises when the object is built. The connection
    settings (``api_key``, ``base_url``, ``timeout``, ``max_retries``, ``quota_limiter``, ...)
    are those of every class of the package; pickling leaves the key out (see the README).
    """

    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        default=DEFAULT_EMBEDDING_MODEL, validation_alias=AliasChoices("model", "model_name")
    )
    max_concurrency: int = Field(default=DEFAULT_MAX_CONCURRENCY, ge=1)
    """Most requests in flight at once in ``embed_documents`` / ``aembed_documents``."""
    normalize: bool = False
    """L2-normalise every vector (clir-emb-dolphin vectors are not unit length)."""
    show_progress: bool = False
    """Show a tqdm progress bar while embedding documents."""

    def _check_settings(self) -> None:
        super()._check_settings()
        _ = self.spec

    @property
    def spec(self) -> EmbeddingModelSpec:
        """The registry entry of the model (limits, dimensions)."""
        return get_embedding_model(self.model)

    def _vector(self, result: EmbeddingResult) -> list[float]:
        vector = list(result.embedding)  # floats already (the core checked and converted)
        if not self.normalize:
            return vector
        norm = math.sqrt(math.fsum(value * value for value in vector))
        return [value / norm for value in vector] if norm else vector

    @contextmanager
    def _progress(self, total: int) -> Iterator[Progress | None]:
        if not self.show_progress or total <= 1:
            yield None
            return
        require(
            "tqdm",
            package="tqdm",
            extra="langchain",
            needed_for="ClovaXEmbeddings(show_progress=True)",
        )
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=f"Embedding ({self.model})", unit="text")
        try:
            yield bar.update
        finally:
            bar.close()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts, at most ``max_concurrency`` requests at a time, in input order."""
        client = self._core().sync
        with self._progress(len(texts)) as progress:
            results = embed_texts(
                client,
                texts,
                self.spec,
                max_concurrency=self.max_concurrency,
                progress=progress,
            )
        return [self._vector(result) for result in results]

    def embed_query(self, text: str) -> list[float]:
        """Embed one text."""
        return self.embed_documents([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts concurrently (``max_concurrency`` at a time), in input order."""
        client = self._core().for_running_loop()
        with self._progress(len(texts)) as progress:
            results = await aembed_texts(
                client,
                texts,
                self.spec,
                max_concurrency=self.max_concurrency,
                progress=progress,
            )
        return [self._vector(result) for result in results]

    async def aembed_query(self, text: str) -> list[float]:
        """Embed one text."""
        return (await self.aembed_documents([text]))[0]


__all__ = ["ClovaXEmbeddings"]
