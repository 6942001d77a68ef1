"""``ClovaXSegmentationSplitter``: CLOVA Studio's topic segmentation as a LangChain
``TextSplitter``.

One request per non-empty document (``POST /v1/api-tools/segmentation``): the service splits
the text into paragraphs at topic changes, so chunks follow the text's own structure instead
of a character count. Every chunk keeps its document's metadata and, with
``add_start_index`` (the default here), the character offset of its first sentence in the
source text (``start_index``; -1 when the service's sentence cannot be found in the text).
Empty or whitespace-only documents produce no chunks and no request. A text over the
service's 120,000 characters is sent in pieces of at most that size, cut at line breaks
(else sentence ends, else spaces): one request per piece, offsets kept relative to the
whole text.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterable, Sequence
from typing import Any

from langchain_core.documents import Document
from langchain_text_splitters import TextSplitter

from clova_core.connection import ConnectionSettings
from clova_core.toolkit_client import asegment_text, segment_text
from clova_core.toolkit_types import Segment


class ClovaXSegmentationSplitter(TextSplitter):
    """Split documents into topic paragraphs with CLOVA Studio segmentation.

    Example:
        ```python
        from langchain_clova import ClovaXSegmentationSplitter

        splitter = ClovaXSegmentationSplitter(post_process=True, post_process_max_size=800)
        chunks = splitter.split_documents(long_documents)  # metadata + start_index kept
        ```

    ``alpha`` (-1.5..1.5; -100 automatic) raises or lowers how readily a paragraph is split,
    ``seg_count`` asks for a number of paragraphs (-1 automatic), and ``post_process`` merges
    or splits paragraphs to ``post_process_min_size``..``post_process_max_size``
    characters. Connection settings (``api_key``, ``base_url``, ``timeout``,
    ``max_retries``, ``quota_limiter``...) are those of every CLOVA class.
    """

    def __init__(
        self,
        *,
        alpha: float | None = None,
        seg_count: int | None = None,
        post_process: bool | None = None,
        post_process_max_size: int | None = None,
        post_process_min_size: int | None = None,
        add_start_index: bool = True,
        **connection: Any,
    ) -> None:
        super().__init__(
            chunk_size=post_process_max_size or 120_000,
            chunk_overlap=0,
            add_start_index=add_start_index,
        )
        self.alpha = alpha
        self.seg_count = seg_count
        self.post_process = post_process
        self.post_process_max_size = post_process_max_size
        self.post_process_min_size = post_process_min_size
        self.connection = ConnectionSettings(**connection)

    def _options(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "seg_count": self.seg_count,
            "post_process": self.post_process,
            "post_process_max_size": self.post_process_max_size,
            "post_process_min_size": self.post_process_min_size,
        }

    # --- sync --------------------------------------------------------------------------

    def segment_text(self, text: str) -> list[Segment]:
        """The topic paragraphs of ``text``, with offsets (one request per 120,000
        characters; none for empty text)."""
        return segment_text(self.connection._core().sync, text, **self._options())

    def split_text(self, text: str) -> list[str]:
        """The topic paragraphs of ``text``."""
        return [s.text for s in self.segment_text(text)]

    def create_documents(
        self, texts: list[str], metadatas: list[dict[Any, Any]] | None = None
    ) -> list[Document]:
        """One document per paragraph, with a copy of its source's metadata (and
        ``start_index`` when ``add_start_index``)."""
        metadatas = metadatas or [{}] * len(texts)
        return self._documents([self.segment_text(text) for text in texts], metadatas)

    # --- async -------------------------------------------------------------------------

    async def asegment_text(self, text: str) -> list[Segment]:
        """Async :meth:`segment_text` (the pieces of a long text are sent concurrently)."""
        client = self.connection._core().for_running_loop()
        return await asegment_text(client, text, **self._options())

    async def acreate_documents(
        self, texts: list[str], metadatas: list[dict[Any, Any]] | None = None
    ) -> list[Document]:
        """Async :meth:`create_documents` (the texts are segmented concurrently)."""
        metadatas = metadatas or [{}] * len(texts)
        results = await asyncio.gather(*(self.asegment_text(text) for text in texts))
        return self._documents(list(results), metadatas)

    async def atransform_documents(
        self, documents: Sequence[Document], **kwargs: Any
    ) -> Sequence[Document]:
        """Async ``split_documents``."""
        return await self.acreate_documents(
            [d.page_content for d in documents], [d.metadata for d in documents]
        )

    # --- shared ------------------------------------------------------------------------

    def _documents(
        self, results: Iterable[list[Segment]], metadatas: Sequence[dict[Any, Any]]
    ) -> list[Document]:
        documents: list[Document] = []
        for segments, metadata in zip(results, metadatas, strict=True):
            for segment in segments:
                meta = copy.deepcopy(metadata)
                if self._add_start_index:
                    meta["start_index"] = segment.start_index
                documents.append(Document(page_content=segment.text, metadata=meta))
        return documents

    def close(self) -> None:
        """Close the HTTP connections (rebuilt on next use)."""
        self.connection.close()
