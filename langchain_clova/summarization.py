"""``ClovaXSummarizer``: CLOVA Studio summarization as a LangChain document transformer.

``transform_documents`` attaches a summary to each document's metadata (under
``metadata_key``, ``"summary"`` by default) and keeps its text: summaries are meant for
ingestion (shown with a hit, or embedded next to it), not as a replacement for the source.
One request per non-empty document (``POST /v1/api-tools/summarization/v2``); empty
documents pass through without a summary. ``summarize(texts)`` returns one summary of
several texts. A text over 35,000 characters raises ``clova_core.ClovaValidationError``
before anything is sent: split it first (e.g. with ``ClovaXSegmentationSplitter``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from langchain_core.documents import BaseDocumentTransformer, Document
from pydantic import Field

from clova_core.connection import ConnectionSettings


class ClovaXSummarizer(ConnectionSettings, BaseDocumentTransformer):
    """Summaries of documents into their metadata, with CLOVA Studio summarization.

    Example:
        ```python
        from langchain_clova import ClovaXSummarizer

        docs = ClovaXSummarizer().transform_documents(docs)
        docs[0].metadata["summary"]
        ```
    """

    metadata_key: str = "summary"
    """The metadata key the summary is stored under."""
    auto_sentence_splitter: bool | None = None
    seg_count: int | None = None
    seg_max_size: int | None = Field(default=None, ge=1, le=3000)
    seg_min_size: int | None = Field(default=None, ge=0)
    include_ai_filters: bool | None = None

    def _options(self) -> dict[str, Any]:
        return {
            "auto_sentence_splitter": self.auto_sentence_splitter,
            "seg_count": self.seg_count,
            "seg_max_size": self.seg_max_size,
            "seg_min_size": self.seg_min_size,
            "include_ai_filters": self.include_ai_filters,
        }

    def summarize(self, texts: Sequence[str]) -> str:
        """One summary of ``texts`` (one request)."""
        return self._core().sync.summarize(texts, **self._options()).text

    async def asummarize(self, texts: Sequence[str]) -> str:
        """Async :meth:`summarize`."""
        client = self._core().for_running_loop()
        return (await client.summarize(texts, **self._options())).text

    def _with_summary(self, document: Document, summary: str | None) -> Document:
        if summary is None:
            return document
        metadata = {**document.metadata, self.metadata_key: summary}
        return document.model_copy(update={"metadata": metadata})

    def transform_documents(
        self, documents: Sequence[Document], **kwargs: Any
    ) -> Sequence[Document]:
        """Copies of ``documents`` with a summary in their metadata."""
        return [
            self._with_summary(
                d, self.summarize([d.page_content]) if d.page_content.strip() else None
            )
            for d in documents
        ]

    async def atransform_documents(
        self, documents: Sequence[Document], **kwargs: Any
    ) -> Sequence[Document]:
        """Async :meth:`transform_documents` (documents summarized concurrently)."""

        async def one(document: Document) -> Document:
            if not document.page_content.strip():
                return document
            return self._with_summary(document, await self.asummarize([document.page_content]))

        return list(await asyncio.gather(*(one(d) for d in documents)))
