"""The LlamaIndex jobs: index the corpus, query with streaming, run a FunctionAgent, and the RAG
toolkit pipeline (segment, summarize, embed, retrieve, rerank, answer with citations)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from llama_index.core import Document, VectorStoreIndex
from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.base.response.schema import StreamingResponse
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.schema import NodeWithScore, TextNode
from llama_index.core.tools import FunctionTool

from clova_demo.backend import Backend
from clova_demo.corpus import (
    AGENT_QUESTION,
    LLAMAINDEX_QUESTIONS,
    TOOLKIT_LLAMAINDEX_QUESTION,
    ToolLog,
    load_corpus,
    long_documents,
)
from clova_demo.report import Report
from llama_index_clova import (
    ClovaX,
    ClovaXEmbedding,
    ClovaXRAGReasoning,
    ClovaXRerank,
    ClovaXSegmentationParser,
    ClovaXSummaryExtractor,
    clova_search_tool,
)


def run(backend: Backend, model: str, embedding_model: str, report: Report) -> None:
    embed_model = ClovaXEmbedding(
        model_name=embedding_model, api_key=backend.api_key, base_url=backend.base_url
    )
    llm = ClovaX(model=model, api_key=backend.api_key, base_url=backend.base_url, temperature=0.3)
    try:
        _run_jobs(llm, embed_model, model, embedding_model, report)
        _run_toolkit(backend, embed_model, report)
    finally:
        llm.close()
        embed_model.close()


def _run_jobs(
    llm: ClovaX, embed_model: ClovaXEmbedding, model: str, embedding_model: str, report: Report
) -> None:
    corpus = load_corpus()
    report.step(f"LlamaIndex: indexing {len(corpus)} passages with {embedding_model}")
    documents = [Document(text=p.text, id_=p.id, metadata={"id": p.id}) for p in corpus]
    index = VectorStoreIndex.from_documents(documents, embed_model=embed_model, show_progress=True)
    engine = index.as_query_engine(llm=llm, streaming=True, similarity_top_k=2)
    for question in LLAMAINDEX_QUESTIONS:
        report.step(f"LlamaIndex query engine ({model}, streaming): {question.text}")
        response = engine.query(question.text)
        if not isinstance(response, StreamingResponse):
            raise TypeError(f"expected a streaming response, got {type(response).__name__}")
        report.check_retrieval(question, [n.node.metadata["id"] for n in response.source_nodes])
        report.check_answer(question, report.stream(response.response_gen))

    report.step(f"LlamaIndex FunctionAgent ({model}): {AGENT_QUESTION}")
    log = ToolLog()
    agent = FunctionAgent(
        tools=[
            FunctionTool.from_defaults(log.get_weather),
            FunctionTool.from_defaults(log.convert_currency),
        ],
        llm=llm,
        system_prompt="Use the tools to answer.",
    )
    answer = asyncio.run(_run_agent(agent, llm, report))
    report.check_tools(log, {"get_weather", "convert_currency"})
    report.answer(answer)


async def _run_agent(agent: FunctionAgent, llm: ClovaX, report: Report) -> str:
    try:
        handler = agent.run(user_msg=AGENT_QUESTION)
        async for event in handler.stream_events():
            if isinstance(event, ToolCallResult):
                report.detail(f"tool {event.tool_name} -> {event.tool_output.content}")
        return str(await handler)
    finally:
        await llm.aclose()  # this event loop's connections, before asyncio.run closes it


class _RerankedRetriever:
    """Retrieve, then keep what CLOVA's reranker cites (what the search tool returns)."""

    def __init__(self, index: VectorStoreIndex, rerank: ClovaXRerank) -> None:
        self.retriever = index.as_retriever(similarity_top_k=4)
        self.rerank = rerank

    def retrieve(self, query: str) -> list[NodeWithScore]:
        return self.rerank.postprocess_nodes(self.retriever.retrieve(query), query_str=query)

    async def aretrieve(self, query: str) -> list[NodeWithScore]:
        hits = await self.retriever.aretrieve(query)
        return await self.rerank.apostprocess_nodes(hits, query_str=query)


def _run_toolkit(backend: Backend, embed_model: ClovaXEmbedding, report: Report) -> None:
    """Segment long documents -> summarize -> embed -> retrieve -> rerank -> RAG Reasoning."""
    settings: dict[str, Any] = {"api_key": backend.api_key, "base_url": backend.base_url}
    sources = {doc.id: doc for doc in long_documents()}
    report.step(
        "LlamaIndex RAG toolkit: IngestionPipeline(ClovaXSegmentationParser, "
        "ClovaXSummaryExtractor, embed) -> retrieve -> ClovaXRerank -> ClovaXRAGReasoning"
    )
    documents = [Document(text=d.text, id_=d.id) for d in sources.values()]
    pipeline = IngestionPipeline(
        transformations=[
            ClovaXSegmentationParser(id_func=lambda i, node: f"{node.node_id}@{i}", **settings),
            ClovaXSummaryExtractor(**settings),
            embed_model,
        ]
    )
    nodes = pipeline.run(documents=documents)
    report.detail(
        f"{len(documents)} long documents -> {len(nodes)} topic segments, each with a "
        "section_summary"
    )
    by_id = {node.node_id: node for node in nodes}
    index = VectorStoreIndex(nodes, embed_model=embed_model)
    rerank = ClovaXRerank(**settings)
    llm = ClovaXRAGReasoning(**settings)
    agent = FunctionAgent(
        tools=[clova_search_tool(_RerankedRetriever(index, rerank))],
        llm=llm,
        system_prompt="Search the knowledge base, then answer with sources.",
    )
    question = TOOLKIT_LLAMAINDEX_QUESTION
    report.step(f"LlamaIndex FunctionAgent on ClovaXRAGReasoning: {question.text}")
    message = asyncio.run(_run_rag_agent(agent, llm, rerank, question.text, report))
    report.answer(str(message.content))
    cited: list[str] = []
    for citation in message.additional_kwargs.get("citations", []):
        node = by_id.get(citation["id"])
        if node is None:
            report.detail(f"cites {citation['id']} -> not a sent document")
            continue
        source = node.ref_doc_id or "?"
        start = node.start_char_idx if isinstance(node, TextNode) else None
        passage = sources[source].passage_at(start if start is not None else -1)
        report.detail(
            f"cites {citation['id']} -> {source} @ {start} (passage {passage}): {citation['text']}"
        )
        cited.append(passage)
    report.check_citation(question, str(message.content), cited)


async def _run_rag_agent(
    agent: FunctionAgent,
    llm: ClovaXRAGReasoning,
    rerank: ClovaXRerank,
    question: str,
    report: Report,
) -> ChatMessage:
    try:
        handler = agent.run(user_msg=question)
        async for event in handler.stream_events():
            if isinstance(event, ToolCallResult):
                hits = json.loads(str(event.tool_output.content))["search_result"]
                report.detail(
                    f"tool {event.tool_name}({event.tool_kwargs}) -> {len(hits)} reranked passages"
                )
        output: Any = await handler
        message: ChatMessage = output.response
        return message
    finally:
        await llm.aclose()  # this event loop's connections, before asyncio.run closes it
        await rerank.aclose()
