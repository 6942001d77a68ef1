"""``ClovaXEmbeddings``: CLOVA Studio embeddings for LangChain.

CLOVA embeds one text per request (clova-api.md 5.1, 5.2), so ``embed_documents`` fans the
texts out over at most ``max_concurrency`` requests at a time (a thread pool sharing one
``ClovaClient``; ``asyncio`` tasks behind a semaphore sharing one ``AsyncClovaClient``),
keeps input order, and lets the core retry 429 / 5xx. Every text is checked against the
model's input limit before anything is sent, and an over-long one is reported by index.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Sequence
from functools import partial
from typing import ClassVar, Protocol

from langchain_core.embeddings import Embeddings
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, PrivateAttr, SecretStr

from clova_core.client import ClovaClient
from clova_core.constants import DEFAULT_MAX_RETRIES
from clova_core.errors import ClovaValidationError, ContextLimitError
from clova_core.fanout import map_in_threads
from clova_core.models import DEFAULT_EMBEDDING_MODEL, get_embedding_model
from clova_core.pool import AsyncHttpClient, ClientPool, HttpClient
from clova_core.ratelimit import RateLimiter
from clova_core.request import prepare_embedding
from clova_core.retry import RetryPolicy
from clova_core.types import EmbeddingResult

DEFAULT_MAX_CONCURRENCY = 8


class _Progress(Protocol):
    def update(self, n: int = 1) -> object: ...

    def close(self) -> None: ...


class _NoProgress:
    def update(self, n: int = 1) -> None:
        """Nothing to show."""

    def close(self) -> None:
        """Nothing to close."""


class ClovaXEmbeddings(BaseModel, Embeddings):
    """CLOVA Studio embedding models: ``clir-emb-dolphin`` (default), ``clir-sts-dolphin``
    and ``bge-m3`` (1024 dimensions each).

    Example:
        ```python
        from langchain_clova import ClovaXEmbeddings

        embeddings = ClovaXEmbeddings(model="bge-m3", max_concurrency=8, normalize=True)
        vectors = embeddings.embed_documents(["첫 번째 문서", "두 번째 문서"])
        ```
    """

    model_config = ConfigDict(
        populate_by_name=True,
        protected_namespaces=(),
        arbitrary_types_allowed=True,
        extra="forbid",
    )

    model: str = Field(
        default=DEFAULT_EMBEDDING_MODEL, validation_alias=AliasChoices("model", "model_name")
    )
    api_key: SecretStr | None = None
    """API key; the core reads ``CLOVASTUDIO_API_KEY`` when this is not given."""
    apigw_api_key: SecretStr | None = None
    base_url: str | None = None
    """API base URL; the core reads ``CLOVASTUDIO_API_BASE_URL``, else the public host."""
    timeout: float | None = None
    max_retries: int = DEFAULT_MAX_RETRIES
    max_concurrency: int = Field(default=DEFAULT_MAX_CONCURRENCY, ge=1)
    """Most requests in flight at once in ``embed_documents`` / ``aembed_documents``."""
    normalize: bool = False
    """L2-normalise every vector (clir-emb-dolphin vectors are not unit length)."""
    show_progress: bool = False
    """Show a tqdm progress bar while embedding documents."""
    default_headers: dict[str, str] | None = None
    http_client: HttpClient = Field(default=None, exclude=True)
    http_async_client: AsyncHttpClient = Field(default=None, exclude=True)
    quota_limiter: RateLimiter | None = Field(default=None, exclude=True)
    """A ``clova_core.RateLimiter`` (QPM / TPM, e.g. ``RateLimiter.for_model("bge-m3")``)
    that the core waits on before every request, retries included, so bulk work stays under
    the account's quota instead of meeting 429s. Share one per model between objects,
    threads and tasks. Not LangChain's ``rate_limiter``, which paces calls without counting
    tokens."""
    retry_policy: RetryPolicy | None = Field(default=None, exclude=True)
    """Backoff of the core's retries (``clova_core.RetryPolicy``); default: full-jitter
    exponential backoff from 0.5 s up to 8 s, a server's ``Retry-After`` honoured."""

    _pool: ClientPool | None = PrivateAttr(default=None)
    _pool_lock: ClassVar[threading.Lock] = threading.Lock()

    def _core(self) -> ClientPool:
        """This instance's core clients, built on first use and reused (pooled connections)."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = ClientPool(
                    api_key=self.api_key,
                    apigw_api_key=self.apigw_api_key,
                    base_url=self.base_url,
                    timeout=self.timeout,
                    max_retries=self.max_retries,
                    default_headers=self.default_headers,
                    http_client=self.http_client,
                    async_http_client=self.http_async_client,
                    rate_limiter=self.quota_limiter,
                    retry_policy=self.retry_policy,
                )
            return self._pool

    # --- pure helpers ------------------------------------------------------------------

    def _check_texts(self, texts: Sequence[str]) -> None:
        """Validate every text with the core before any request is sent, so an empty or
        over-long text (clova-api.md 5: 500 tokens for the clir models, 8,192 for bge-m3)
        fails fast with its index instead of after the others were paid for."""
        spec = get_embedding_model(self.model)
        for index, text in enumerate(texts):
            try:
                prepare_embedding(text, spec)
            except ClovaValidationError as error:
                raise _naming_index(error, index) from error

    def _vector(self, result: EmbeddingResult) -> list[float]:
        vector = list(result.embedding)  # floats already (the core checked and converted)
        if not self.normalize:
            return vector
        norm = math.sqrt(math.fsum(value * value for value in vector))
        return [value / norm for value in vector] if norm else vector

    def _progress(self, total: int) -> _Progress:
        if not self.show_progress:
            return _NoProgress()
        from tqdm.auto import tqdm

        progress: _Progress = tqdm(total=total, desc=f"Embedding ({self.model})", unit="text")
        return progress

    # --- sync --------------------------------------------------------------------------

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts, at most ``max_concurrency`` requests at a time, in input order."""
        if not texts:
            return []
        self._check_texts(texts)
        client = self._core().sync
        progress = self._progress(len(texts))
        try:
            if len(texts) == 1 or self.max_concurrency == 1:
                return [self._embed_one(client, text, progress) for text in texts]
            return map_in_threads(
                partial(self._embed_one, client, progress=progress),
                texts,
                workers=self.max_concurrency,
                thread_name_prefix="clova-embed",
            )
        finally:
            progress.close()

    def _embed_one(self, client: ClovaClient, text: str, progress: _Progress) -> list[float]:
        result = client.embed(text, model=self.model)
        progress.update(1)
        return self._vector(result)

    def embed_query(self, text: str) -> list[float]:
        """Embed one text (the core validates it before sending)."""
        client = self._core().sync
        return self._vector(client.embed(text, model=self.model))

    # --- async -------------------------------------------------------------------------

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts concurrently (``max_concurrency`` at a time), in input order."""
        if not texts:
            return []
        self._check_texts(texts)
        client = self._core().for_running_loop()
        semaphore = asyncio.Semaphore(self.max_concurrency)
        progress = self._progress(len(texts))

        async def embed(text: str) -> list[float]:
            async with semaphore:
                result = await client.embed(text, model=self.model)
            progress.update(1)
            return self._vector(result)

        tasks = [asyncio.ensure_future(embed(text)) for text in texts]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            progress.close()

    async def aembed_query(self, text: str) -> list[float]:
        """Embed one text (the core validates it before sending)."""
        client = self._core().for_running_loop()
        return self._vector(await client.embed(text, model=self.model))

    def close(self) -> None:
        """Close the sync HTTP client (it is rebuilt on next use)."""
        if self._pool is not None:
            self._pool.close()

    async def aclose(self) -> None:
        """Close both HTTP clients (they are rebuilt on next use)."""
        if self._pool is not None:
            await self._pool.aclose()


def _naming_index(error: ClovaValidationError, index: int) -> ClovaValidationError:
    """The core's validation error, re-raised as the same type naming the text's index."""
    message = f"texts[{index}]: {error}"
    if isinstance(error, ContextLimitError):
        return ContextLimitError(
            message,
            input_tokens=error.input_tokens,
            max_input_tokens=error.max_input_tokens,
            requested_output_tokens=error.requested_output_tokens,
            context_window=error.context_window,
            exact=error.exact,
        )
    return type(error)(message)
