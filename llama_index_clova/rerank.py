"""``ClovaXRerank``: CLOVA Studio's reranker as a LlamaIndex node postprocessor.

One request per query (``POST /v1/api-tools/reranker``): the service answers the query from
the retrieved nodes with citations, and the nodes it cites are returned, most relevant first
(score 1.0, 0.5, 0.33... by rank: the service gives an order, not scores), so
``index.as_query_engine(node_postprocessors=[ClovaXRerank()])`` answers from the passages
that hold the answer. Returned nodes are copies whose metadata adds ``relevance_rank``,
``cited_passages``, ``rerank_answer`` and ``suggested_queries`` (hidden from the LLM and the
embedding model); ``last_result`` keeps this object's latest full reply.

Nodes are sent under their ``node_id``. Empty nodes are skipped; no nodes means no request.
A reply citing an id that was not sent is dropped and listed in ``last_result.unknown_ids``,
or with ``strict_citations=True`` raises ``clova_core.UnknownCitationError``.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle

from clova_core.citations import UnknownCitationError
from clova_core.connection import ConnectionSettings
from clova_core.errors import ClovaValidationError
from clova_core.toolkit_types import RerankDocument, RerankResult

RERANK_METADATA_KEYS = ("relevance_rank", "cited_passages", "rerank_answer", "suggested_queries")


class ClovaXRerank(ConnectionSettings, BaseNodePostprocessor):
    """Keep the nodes CLOVA Studio's reranker cites, most relevant first.

    Example::

        from llama_index_clova import ClovaXRerank

        engine = index.as_query_engine(similarity_top_k=8, node_postprocessors=[ClovaXRerank()])
    """

    max_tokens: int | None = Field(default=None, ge=1, le=4095)
    top_n: int | None = Field(default=None, ge=1, description="Keep at most this many nodes.")
    strict_citations: bool = Field(
        default=False, description="Raise when the reply cites an id that was not sent."
    )

    _last_result: RerankResult | None = PrivateAttr(default=None)

    @classmethod
    def class_name(cls) -> str:
        return "ClovaXRerank"

    @property
    def last_result(self) -> RerankResult | None:
        """The full reply of this object's latest call."""
        return self._last_result

    def _prepare(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None
    ) -> tuple[str, list[RerankDocument], dict[str, NodeWithScore]]:
        if query_bundle is None:
            raise ClovaValidationError("ClovaXRerank needs the query (a QueryBundle).")
        by_id: dict[str, NodeWithScore] = {}
        documents: list[RerankDocument] = []
        for item in nodes:
            text = item.node.get_content(metadata_mode=MetadataMode.NONE)
            if text.strip() and item.node.node_id not in by_id:
                by_id[item.node.node_id] = item
                documents.append(RerankDocument(item.node.node_id, text))
        return query_bundle.query_str, documents, by_id

    def _finish(self, result: RerankResult, by_id: dict[str, NodeWithScore]) -> list[NodeWithScore]:
        self._last_result = result
        if self.strict_citations and result.unknown_ids:
            raise UnknownCitationError(
                f"The reranker cited node id(s) {', '.join(map(repr, result.unknown_ids))} "
                "that were not sent. Pass strict_citations=False to drop them instead.",
                ids=result.unknown_ids,
                request_id=result.request_id,
            )
        out: list[NodeWithScore] = []
        for rank, cited in enumerate(d for d in result.cited_documents if d.id in by_id):
            node = by_id[cited.id].node.model_copy(deep=True)
            extra: dict[str, Any] = {
                "relevance_rank": rank,
                "cited_passages": [c.text for c in result.citations if c.id == cited.id],
                "rerank_answer": result.answer_text,
                "suggested_queries": list(result.suggested_queries),
            }
            node.metadata = {**node.metadata, **extra}
            for keys in (node.excluded_llm_metadata_keys, node.excluded_embed_metadata_keys):
                keys.extend(k for k in RERANK_METADATA_KEYS if k not in keys)
            out.append(NodeWithScore(node=node, score=1.0 / (rank + 1)))
        return out[: self.top_n] if self.top_n is not None else out

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        query, documents, by_id = self._prepare(nodes, query_bundle)
        if not documents:
            return []
        result = self._core().sync.rerank(query, documents, max_tokens=self.max_tokens)
        return self._finish(result, by_id)

    async def _apostprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        query, documents, by_id = self._prepare(nodes, query_bundle)
        if not documents:
            return []
        client = self._core().for_running_loop()
        result = await client.rerank(query, documents, max_tokens=self.max_tokens)
        return self._finish(result, by_id)
