"""The RAG toolkit's client methods, mixed into ``ClovaClient`` and ``AsyncClovaClient``.

Each method checks its input with :mod:`clova_core.toolkit_wire` before anything is sent,
then makes one request through the client's own ``_post`` loop: the same headers, request
id (given or generated, the same on every retry), retries, typed errors and quota limiter as
chat and embeddings. One call is one request:

* ``segment``       ``POST /v1/api-tools/segmentation``      -> :class:`SegmentationResult`
* ``rerank``        ``POST /v1/api-tools/reranker``          -> :class:`RerankResult`
* ``summarize``     ``POST /v1/api-tools/summarization/v2``  -> :class:`SummaryResult`
* ``rag_reasoning`` ``POST /v1/api-tools/rag-reasoning``     -> :class:`RagReasoningResult`

:func:`segment_text` / :func:`asegment_text` segment a text of any length: one request per
120,000-character piece (the async one sends the pieces concurrently), with offsets into the
whole text.

RAG Reasoning is not streamed: the docs do not say the endpoint streams [gap], so the
framework classes deliver its answer as one chunk.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from clova_core.client_base import new_request_id
from clova_core.rag_reasoning_wire import parse_rag_reasoning, prepare_rag_reasoning
from clova_core.request import WireRequest
from clova_core.toolkit_types import (
    RagReasoningRequest,
    RagReasoningResult,
    RerankResult,
    Segment,
    SegmentationResult,
    SummaryResult,
)
from clova_core.toolkit_wire import (
    parse_rerank,
    parse_segmentation,
    parse_summary,
    prepare_rerank,
    prepare_segmentation,
    prepare_summarization,
    segmentation_windows,
    shifted,
)

if TYPE_CHECKING:
    from clova_core.client import AsyncClovaClient, ClovaClient

__all__ = ["AsyncToolkitMethods", "ToolkitMethods", "asegment_text", "segment_text"]


class _Posts(Protocol):
    def _post(self, wire: WireRequest, request_id: str) -> Mapping[str, Any]: ...


class _AsyncPosts(Protocol):
    async def _post(self, wire: WireRequest, request_id: str) -> Mapping[str, Any]: ...


class ToolkitMethods:
    """Segmentation, reranker, summarization and RAG Reasoning on a sync client."""

    def segment(
        self: _Posts,
        text: str,
        *,
        alpha: float | None = None,
        seg_count: int | None = None,
        post_process: bool | None = None,
        post_process_max_size: int | None = None,
        post_process_min_size: int | None = None,
        request_id: str | None = None,
    ) -> SegmentationResult:
        """Split ``text`` (1..120,000 characters) into topic paragraphs.

        ``alpha`` (-1.5..1.5, or -100 for automatic) raises or lowers the number of breaks;
        ``seg_count`` asks for a number of paragraphs (-1: automatic); with
        ``post_process=True`` paragraphs are merged or split to
        ``post_process_min_size``..``post_process_max_size`` characters."""
        wire = prepare_segmentation(
            text,
            alpha=alpha,
            seg_count=seg_count,
            post_process=post_process,
            post_process_max_size=post_process_max_size,
            post_process_min_size=post_process_min_size,
        )
        rid = request_id or new_request_id()
        return parse_segmentation(self._post(wire, rid), text=text, request_id=rid)

    def rerank(
        self: _Posts,
        query: str,
        documents: Iterable[object],
        *,
        max_tokens: int | None = None,
        request_id: str | None = None,
    ) -> RerankResult:
        """The documents that answer ``query``, most relevant first, and a cited answer.

        ``documents`` are ``RerankDocument(id, doc)``, ``{"id", "doc"}`` mappings or
        ``(id, doc)`` pairs with unique ids; citations map back to them by id."""
        wire, checked = prepare_rerank(query, documents, max_tokens=max_tokens)
        rid = request_id or new_request_id()
        return parse_rerank(self._post(wire, rid), documents=checked, request_id=rid)

    def summarize(
        self: _Posts,
        texts: Sequence[str],
        *,
        auto_sentence_splitter: bool | None = None,
        seg_count: int | None = None,
        seg_max_size: int | None = None,
        seg_min_size: int | None = None,
        include_ai_filters: bool | None = None,
        request_id: str | None = None,
    ) -> SummaryResult:
        """One summary of ``texts`` (each 1..35,000 characters)."""
        wire = prepare_summarization(
            texts,
            auto_sentence_splitter=auto_sentence_splitter,
            seg_count=seg_count,
            seg_max_size=seg_max_size,
            seg_min_size=seg_min_size,
            include_ai_filters=include_ai_filters,
        )
        rid = request_id or new_request_id()
        return parse_summary(self._post(wire, rid), request_id=rid)

    def rag_reasoning(
        self: _Posts, request: RagReasoningRequest, *, request_id: str | None = None
    ) -> RagReasoningResult:
        """One RAG Reasoning turn: tool calls to run, or an answer citing ``<doc-ID>``."""
        wire = prepare_rag_reasoning(request)
        rid = request_id or new_request_id()
        return parse_rag_reasoning(self._post(wire, rid), request=request, request_id=rid)


class AsyncToolkitMethods:
    """The async twins of :class:`ToolkitMethods` (same arguments, same checks)."""

    async def segment(
        self: _AsyncPosts,
        text: str,
        *,
        alpha: float | None = None,
        seg_count: int | None = None,
        post_process: bool | None = None,
        post_process_max_size: int | None = None,
        post_process_min_size: int | None = None,
        request_id: str | None = None,
    ) -> SegmentationResult:
        """See :meth:`ToolkitMethods.segment`."""
        wire = prepare_segmentation(
            text,
            alpha=alpha,
            seg_count=seg_count,
            post_process=post_process,
            post_process_max_size=post_process_max_size,
            post_process_min_size=post_process_min_size,
        )
        rid = request_id or new_request_id()
        return parse_segmentation(await self._post(wire, rid), text=text, request_id=rid)

    async def rerank(
        self: _AsyncPosts,
        query: str,
        documents: Iterable[object],
        *,
        max_tokens: int | None = None,
        request_id: str | None = None,
    ) -> RerankResult:
        """See :meth:`ToolkitMethods.rerank`."""
        wire, checked = prepare_rerank(query, documents, max_tokens=max_tokens)
        rid = request_id or new_request_id()
        return parse_rerank(await self._post(wire, rid), documents=checked, request_id=rid)

    async def summarize(
        self: _AsyncPosts,
        texts: Sequence[str],
        *,
        auto_sentence_splitter: bool | None = None,
        seg_count: int | None = None,
        seg_max_size: int | None = None,
        seg_min_size: int | None = None,
        include_ai_filters: bool | None = None,
        request_id: str | None = None,
    ) -> SummaryResult:
        """See :meth:`ToolkitMethods.summarize`."""
        wire = prepare_summarization(
            texts,
            auto_sentence_splitter=auto_sentence_splitter,
            seg_count=seg_count,
            seg_max_size=seg_max_size,
            seg_min_size=seg_min_size,
            include_ai_filters=include_ai_filters,
        )
        rid = request_id or new_request_id()
        return parse_summary(await self._post(wire, rid), request_id=rid)

    async def rag_reasoning(
        self: _AsyncPosts, request: RagReasoningRequest, *, request_id: str | None = None
    ) -> RagReasoningResult:
        """See :meth:`ToolkitMethods.rag_reasoning`."""
        wire = prepare_rag_reasoning(request)
        rid = request_id or new_request_id()
        return parse_rag_reasoning(await self._post(wire, rid), request=request, request_id=rid)


def segment_text(client: ClovaClient, text: str, **options: Any) -> list[Segment]:
    """The topic paragraphs of ``text`` of any length, with offsets into it (one
    :meth:`~ToolkitMethods.segment` request per piece; none for empty text)."""
    segments: list[Segment] = []
    for offset, piece in segmentation_windows(text):
        segments.extend(shifted(client.segment(piece, **options).segments, offset))
    return segments


async def asegment_text(client: AsyncClovaClient, text: str, **options: Any) -> list[Segment]:
    """:func:`segment_text` with the pieces sent concurrently."""
    windows = segmentation_windows(text)
    results = await asyncio.gather(*(client.segment(piece, **options) for _, piece in windows))
    return [
        segment
        for (offset, _), result in zip(windows, results, strict=True)
        for segment in shifted(result.segments, offset)
    ]
