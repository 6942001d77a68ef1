"""The LlamaIndex jobs: index the corpus, query with streaming, run a FunctionAgent."""

from __future__ import annotations

import asyncio

from llama_index.core import Document, VectorStoreIndex
from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult
from llama_index.core.base.response.schema import StreamingResponse
from llama_index.core.tools import FunctionTool

from clova_demo.backend import Backend
from clova_demo.corpus import AGENT_QUESTION, LLAMAINDEX_QUESTIONS, ToolLog, load_corpus
from clova_demo.report import Report
from llama_index_clova import ClovaX, ClovaXEmbedding


def run(backend: Backend, model: str, embedding_model: str, report: Report) -> None:
    embed_model = ClovaXEmbedding(
        model=embedding_model, api_key=backend.api_key, base_url=backend.base_url
    )
    llm = ClovaX(model=model, api_key=backend.api_key, base_url=backend.base_url, temperature=0.3)
    try:
        _run_jobs(llm, embed_model, model, embedding_model, report)
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
