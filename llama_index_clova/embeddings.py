"""``ClovaXEmbedding``: CLOVA Studio embeddings as a LlamaIndex ``BaseEmbedding``.

CLOVA embeds one text per request (clova-api.md 5), so a batch fans out: in sync code over a
thread pool sharing one :class:`~clova_core.client.ClovaClient`, in async code as tasks
under a semaphore on one :class:`~clova_core.client.AsyncClovaClient` per event loop. At
most ``max_concurrency`` requests are in flight, results keep the input order, and every
text of a batch is checked against the model's token limit before anything is sent.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from llama_index.core.bridge.pydantic import ConfigDict, Field, PrivateAttr, SecretStr
from pydantic import AliasChoices

from clova_core.constants import DEFAULT_MAX_RETRIES
from clova_core.fanout import map_in_threads
from clova_core.models import DEFAULT_EMBEDDING_MODEL, EmbeddingModelSpec, get_embedding_model
from clova_core.pool import AsyncHttpClient, ClientPool, HttpClient
from clova_core.ratelimit import RateLimiter
from clova_core.retry import RetryPolicy
from llama_index_clova.embedding_limits import check_texts

DEFAULT_MAX_CONCURRENCY = 8
DEFAULT_EMBED_BATCH_SIZE = 1024
"""LlamaIndex hands a sync batch over only when the previous one has finished, so the
requests in flight drain at the end of every batch: 1,024 texts keep ``max_concurrency``
requests busy far longer than LlamaIndex's usual 10 to 100. Against the emulator: about a
quarter more texts/s with 256 than with 64 at 16 in flight, and about 4% more again with
1,024 at 20. Progress bars and callback events move per batch. Each text is still its own
request."""


class ClovaXEmbedding(BaseEmbedding):
    """CLOVA Studio embeddings: ``clir-emb-dolphin`` (default), ``clir-sts-dolphin``, ``bge-m3``.

    Example::

        from llama_index_clova import ClovaXEmbedding

        embed_model = ClovaXEmbedding(model_name="bge-m3", max_concurrency=8)
        vectors = embed_model.get_text_embedding_batch(["첫 문장", "둘째 문장"])

    Queries and documents use the same endpoint (CLOVA has no query/passage split).
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
    api_key: SecretStr | None = Field(
        default=None,
        exclude=True,
        repr=False,
        description="API key; read from CLOVASTUDIO_API_KEY when not given.",
    )
    base_url: str | None = Field(default=None, description="Base URL override.")
    timeout: float | None = Field(default=None, description="Request timeout in seconds.")
    max_retries: int = Field(default=DEFAULT_MAX_RETRIES, ge=0, description="Retries per text.")
    default_headers: dict[str, str] | None = Field(
        default=None, description="Extra HTTP headers sent with every request."
    )
    http_client: HttpClient = Field(
        default=None, exclude=True, repr=False, description="A custom httpx.Client."
    )
    async_http_client: AsyncHttpClient = Field(
        default=None, exclude=True, repr=False, description="A custom httpx.AsyncClient."
    )
    quota_limiter: RateLimiter | None = Field(
        default=None,
        exclude=True,
        repr=False,
        description="A clova_core.RateLimiter (QPM / TPM, e.g. RateLimiter.for_model('bge-m3')) "
        "the core waits on before every request, retries included, so bulk work stays under "
        "the account's quota instead of meeting 429s. Share one per model. Not LlamaIndex's "
        "rate_limiter, which paces calls without counting tokens.",
    )
    retry_policy: RetryPolicy | None = Field(
        default=None,
        exclude=True,
        repr=False,
        description="Backoff of the core's retries (clova_core.RetryPolicy); default: "
        "full-jitter exponential backoff from 0.5 s up to 8 s, Retry-After honoured.",
    )

    _spec: EmbeddingModelSpec = PrivateAttr()
    _clients: ClientPool = PrivateAttr()
    _semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
        PrivateAttr(default_factory=weakref.WeakKeyDictionary)
    )

    def __init__(self, **kwargs: Any) -> None:
        """Validate the fields, then resolve the model and build the sync client (after
        validation, so the core's typed errors reach the caller unwrapped)."""
        super().__init__(**kwargs)
        self._spec = get_embedding_model(self.model_name)
        self._clients = ClientPool(
            api_key=self.api_key,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
            default_headers=self.default_headers,
            http_client=self.http_client,
            async_http_client=self.async_http_client,
            rate_limiter=self.quota_limiter,
            retry_policy=self.retry_policy,
        )
        _ = self._clients.sync  # a missing key is a ClovaConfigurationError right here

    def close(self) -> None:
        """Close the sync client's connections (a caller's ``http_client`` is left open)."""
        self._clients.close()

    async def aclose(self) -> None:
        """Close the connections of the running event loop's async client."""
        await self._clients.aclose()

    @classmethod
    def class_name(cls) -> str:
        return "ClovaXEmbedding"

    @property
    def spec(self) -> EmbeddingModelSpec:
        """The registry entry of the model (limits, dimensions, similarity)."""
        return self._spec

    def _semaphore(self) -> asyncio.Semaphore:
        """The running loop's bound on requests in flight (shared by concurrent batches)."""
        loop = asyncio.get_running_loop()
        # A semaphore that waited holds its loop, so the weak mapping never drops finished
        # loops by itself (each ``asyncio.run`` adds one): drop them here.
        for closed in [other for other in self._semaphores if other.is_closed()]:
            del self._semaphores[closed]
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = asyncio.Semaphore(self.max_concurrency)
            self._semaphores[loop] = semaphore
        return semaphore

    # ------------------------------------------------------------------- one text

    def _embed(self, text: str) -> Embedding:
        return list(self._clients.sync.embed(text, model=self._spec.name).embedding)

    async def _aembed(self, text: str) -> Embedding:
        async with self._semaphore():
            result = await self._clients.for_running_loop().embed(text, model=self._spec.name)
        return list(result.embedding)

    def _get_query_embedding(self, query: str) -> Embedding:
        check_texts([query], self._spec)
        return self._embed(query)

    async def _aget_query_embedding(self, query: str) -> Embedding:
        check_texts([query], self._spec)
        return await self._aembed(query)

    def _get_text_embedding(self, text: str) -> Embedding:
        check_texts([text], self._spec)
        return self._embed(text)

    async def _aget_text_embedding(self, text: str) -> Embedding:
        check_texts([text], self._spec)
        return await self._aembed(text)

    # ------------------------------------------------------------------- batches

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        check_texts(texts, self._spec)
        if len(texts) <= 1:
            return [self._embed(text) for text in texts]
        return map_in_threads(
            self._embed_limited,
            list(enumerate(texts)),
            workers=self.max_concurrency,
            thread_name_prefix="clova-embed",
        )

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        check_texts(texts, self._spec)
        tasks = [asyncio.ensure_future(self._aembed_limited(item)) for item in enumerate(texts)]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:
                task.cancel()
            raise

    def _embed_limited(self, item: tuple[int, str]) -> Embedding:
        # The base class takes one rate-limiter slot per batch; take one for every further
        # request so that each HTTP request costs exactly one slot.
        index, text = item
        if index > 0 and self.rate_limiter is not None:
            self.rate_limiter.acquire()
        return self._embed(text)

    async def _aembed_limited(self, item: tuple[int, str]) -> Embedding:
        index, text = item
        if index > 0 and self.rate_limiter is not None:
            await self.rate_limiter.async_acquire()
        return await self._aembed(text)

    def get_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[Embedding]:
        """Embed ``texts`` in order; over-long texts fail (naming their index) before any
        request is sent."""
        check_texts(texts, self._spec)
        return super().get_text_embedding_batch(texts, show_progress=show_progress, **kwargs)

    async def aget_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[Embedding]:
        """Async twin of :meth:`get_text_embedding_batch`."""
        check_texts(texts, self._spec)
        return await super().aget_text_embedding_batch(texts, show_progress=show_progress, **kwargs)
