"""``ClovaXSummaryExtractor``: CLOVA Studio summaries as LlamaIndex node metadata.

A ``BaseExtractor`` for ``IngestionPipeline``: each node gets its summary under
``metadata_key`` (``"section_summary"``, LlamaIndex's own name for it) from one request per
non-empty node (``POST /v1/api-tools/summarization/v2``), run concurrently up to
``num_workers``. Empty nodes get no summary. A node over 35,000 characters raises
``clova_core.ClovaValidationError`` before anything is sent: split first (e.g. with
``ClovaXSegmentationParser``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from llama_index.core.bridge.pydantic import Field
from llama_index.core.extractors.interface import BaseExtractor
from llama_index.core.schema import BaseNode, MetadataMode

from clova_core.connection import ConnectionSettings


class ClovaXSummaryExtractor(ConnectionSettings, BaseExtractor):
    """Summaries of nodes into their metadata, with CLOVA Studio summarization.

    Example::

        from llama_index.core.ingestion import IngestionPipeline
        from llama_index_clova import ClovaXSegmentationParser, ClovaXSummaryExtractor

        pipeline = IngestionPipeline(
            transformations=[ClovaXSegmentationParser(), ClovaXSummaryExtractor()]
        )
    """

    metadata_key: str = Field(default="section_summary")
    auto_sentence_splitter: bool | None = None
    seg_count: int | None = None
    seg_max_size: int | None = Field(default=None, ge=1, le=3000)
    seg_min_size: int | None = Field(default=None, ge=0)
    include_ai_filters: bool | None = None

    @classmethod
    def class_name(cls) -> str:
        return "ClovaXSummaryExtractor"

    async def aextract(self, nodes: Sequence[BaseNode]) -> list[dict[str, Any]]:
        client = self._core().for_running_loop()
        semaphore = asyncio.Semaphore(max(self.num_workers, 1))
        options: dict[str, Any] = {
            "auto_sentence_splitter": self.auto_sentence_splitter,
            "seg_count": self.seg_count,
            "seg_max_size": self.seg_max_size,
            "seg_min_size": self.seg_min_size,
            "include_ai_filters": self.include_ai_filters,
        }

        async def one(node: BaseNode) -> dict[str, Any]:
            text = node.get_content(metadata_mode=MetadataMode.NONE)
            if not text.strip():
                return {}
            async with semaphore:
                result = await client.summarize([text], **options)
            return {self.metadata_key: result.text}

        return list(await asyncio.gather(*(one(node) for node in nodes)))
