"""``ClovaXSegmentationParser``: CLOVA Studio topic segmentation as a LlamaIndex ``NodeParser``.

One request per non-empty node (``POST /v1/api-tools/segmentation``): nodes are split into
topic paragraphs, so chunks follow the text's structure rather than a token count. Each new
node keeps its source's metadata and relationships (``SOURCE``, ``PREVIOUS`` / ``NEXT``, set by
LlamaIndex) and gets ``start_char_idx`` / ``end_char_idx`` from the paragraph's offset in the
source text (left unset when the service's sentence cannot be found in the text). Works in an
``IngestionPipeline`` (sync and async). Empty nodes produce no chunks and no request. A text
over the service's 120,000 characters is sent in pieces of at most that size, cut at line
breaks (else sentence ends, else spaces): one request per piece, offsets kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from llama_index.core.bridge.pydantic import Field
from llama_index.core.node_parser.interface import NodeParser
from llama_index.core.node_parser.node_utils import build_nodes_from_splits
from llama_index.core.schema import BaseNode, MetadataMode, TextNode

from clova_core.connection import ConnectionSettings
from clova_core.toolkit_client import asegment_text, segment_text
from clova_core.toolkit_types import Segment


class ClovaXSegmentationParser(ConnectionSettings, NodeParser):
    """Split nodes into topic paragraphs with CLOVA Studio segmentation.

    Example::

        from llama_index.core.ingestion import IngestionPipeline
        from llama_index_clova import ClovaXEmbedding, ClovaXSegmentationParser

        pipeline = IngestionPipeline(
            transformations=[ClovaXSegmentationParser(), ClovaXEmbedding()]
        )
        nodes = pipeline.run(documents=documents)
    """

    alpha: float | None = Field(
        default=None, description="-1.5..1.5 (higher: more paragraphs), or -100 (automatic)."
    )
    seg_count: int | None = Field(
        default=None, description="Number of paragraphs wanted (-1: automatic)."
    )
    post_process: bool | None = Field(
        default=None, description="Merge / split paragraphs to the sizes below."
    )
    post_process_max_size: int | None = Field(default=None, ge=1)
    post_process_min_size: int | None = Field(default=None, ge=-1)

    @classmethod
    def class_name(cls) -> str:
        return "ClovaXSegmentationParser"

    def _options(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "seg_count": self.seg_count,
            "post_process": self.post_process,
            "post_process_max_size": self.post_process_max_size,
            "post_process_min_size": self.post_process_min_size,
        }

    @staticmethod
    def _text(node: BaseNode) -> str:
        return node.get_content(metadata_mode=MetadataMode.NONE)

    def _nodes(self, node: BaseNode, segments: list[Segment]) -> list[BaseNode]:
        if not segments:
            return []
        built = build_nodes_from_splits([s.text for s in segments], node, id_func=self.id_func)
        out: list[BaseNode] = []
        for child, segment in zip(built, segments, strict=True):
            if isinstance(child, TextNode):
                known = segment.start_index >= 0
                child.start_char_idx = segment.start_index if known else None
                child.end_char_idx = segment.start_index + len(segment.text) if known else None
            out.append(child)
        return out

    def _parse_nodes(
        self, nodes: Sequence[BaseNode], show_progress: bool = False, **kwargs: Any
    ) -> list[BaseNode]:
        client = self._core().sync
        out: list[BaseNode] = []
        for node in nodes:
            segments = segment_text(client, self._text(node), **self._options())
            out.extend(self._nodes(node, segments))
        return out

    async def _aparse_nodes(
        self, nodes: Sequence[BaseNode], show_progress: bool = False, **kwargs: Any
    ) -> list[BaseNode]:
        client = self._core().for_running_loop()

        results = await asyncio.gather(
            *(asegment_text(client, self._text(node), **self._options()) for node in nodes)
        )
        out: list[BaseNode] = []
        for node, segments in zip(nodes, results, strict=True):
            out.extend(self._nodes(node, segments))
        return out
