"""``ClovaXReranker``: CLOVA Studio's reranker as a LangChain ``BaseDocumentCompressor``.

One request per call (``POST /v1/api-tools/reranker``). The service reads the query and the
documents, answers with citations and lists the documents that answer relies on; those are
returned, most relevant first, so ``ContextualCompressionRetriever(base_compressor=
ClovaXReranker(), base_retriever=...)`` keeps only the passages that answer the question.

Nothing the service says is lost: each returned document is a copy carrying, in its
metadata, ``relevance_rank`` (0 = most relevant), ``cited_passages`` (the spans of the
answer that cite it), ``rerank_answer`` (the answer without citation tags) and
``suggested_queries``; ``last_result`` holds the whole :class:`clova_core.RerankResult`
of this object's latest call.

Documents are sent under their ``id`` when every document has a distinct one without
spaces or angle brackets, else under their position (``"0"``, ``"1"``...); citations map
back either way. Documents with empty text are skipped (they cannot be cited); no documents
means no request and an empty result. A reply citing an id that was not sent is dropped from
the returned documents and listed in ``last_result.unknown_ids``, or, with
``strict_citations=True``, raises ``clova_core.UnknownCitationError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import Callbacks
from langchain_core.documents import BaseDocumentCompressor, Document
from pydantic import Field, PrivateAttr

from clova_core.citations import UnknownCitationError
from clova_core.connection import ConnectionSettings
from clova_core.toolkit_types import RerankDocument, RerankResult


def wire_ids(ids: Sequence[str | None]) -> list[str]:
    """The ids to send: the documents' own when all are usable and distinct, else positions."""
    usable = [i for i in ids if i and not any(c.isspace() or c in "<>" for c in i)]
    if len(usable) == len(ids) and len(set(usable)) == len(usable):
        return list(usable)
    return [str(index) for index in range(len(ids))]


class ClovaXReranker(ConnectionSettings, BaseDocumentCompressor):
    """Keep the documents CLOVA Studio's reranker cites, most relevant first.

    Example:
        ```python
        from langchain_classic.retrievers import ContextualCompressionRetriever
        from langchain_clova import ClovaXReranker

        retriever = ContextualCompressionRetriever(
            base_compressor=ClovaXReranker(), base_retriever=store.as_retriever(k=8)
        )
        docs = retriever.invoke("한라산의 높이는?")
        docs[0].metadata["rerank_answer"], docs[0].metadata["cited_passages"]
        ```
    """

    max_tokens: int | None = Field(default=None, ge=1, le=4095)
    """Most tokens of the answer the service writes (server default 1024)."""
    top_n: int | None = Field(default=None, ge=1)
    """Return at most this many documents (all cited documents when None)."""
    strict_citations: bool = False
    """Raise ``UnknownCitationError`` when the reply cites an id that was not sent."""

    _last_result: RerankResult | None = PrivateAttr(default=None)

    @property
    def last_result(self) -> RerankResult | None:
        """The full reply of this object's latest call (shared by all threads using it)."""
        return self._last_result

    def _prepare(
        self, documents: Sequence[Document]
    ) -> tuple[list[RerankDocument], dict[str, Document]]:
        kept = [d for d in documents if d.page_content.strip()]
        ids = wire_ids([d.id for d in kept])
        return [RerankDocument(i, d.page_content) for i, d in zip(ids, kept, strict=True)], dict(
            zip(ids, kept, strict=True)
        )

    def _finish(self, result: RerankResult, by_id: dict[str, Document]) -> list[Document]:
        self._last_result = result
        if self.strict_citations and result.unknown_ids:
            raise UnknownCitationError(
                f"The reranker cited document id(s) {', '.join(map(repr, result.unknown_ids))} "
                "that were not sent. Pass strict_citations=False to drop them instead.",
                ids=result.unknown_ids,
                request_id=result.request_id,
            )
        out: list[Document] = []
        for rank, cited in enumerate(d for d in result.cited_documents if d.id in by_id):
            source = by_id[cited.id]
            metadata: dict[str, Any] = {
                **source.metadata,
                "relevance_rank": rank,
                "cited_passages": [c.text for c in result.citations if c.id == cited.id],
                "rerank_answer": result.answer_text,
                "suggested_queries": list(result.suggested_queries),
            }
            out.append(source.model_copy(update={"metadata": metadata}))
        return out[: self.top_n] if self.top_n is not None else out

    def compress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Callbacks | None = None
    ) -> Sequence[Document]:
        """The cited documents, most relevant first (one request; none for no documents)."""
        sent, by_id = self._prepare(documents)
        if not sent:
            return []
        client = self._core().sync
        result = client.rerank(query, sent, max_tokens=self.max_tokens)
        return self._finish(result, by_id)

    async def acompress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Callbacks | None = None
    ) -> Sequence[Document]:
        """Async :meth:`compress_documents`."""
        sent, by_id = self._prepare(documents)
        if not sent:
            return []
        client = self._core().for_running_loop()
        result = await client.rerank(query, sent, max_tokens=self.max_tokens)
        return self._finish(result, by_id)
