"""The LangChain jobs: embed the corpus, answer with a streaming RAG chain, run an agent, and
the RAG toolkit pipeline (segment, summarize, embed, retrieve, rerank, answer with citations)."""

from __future__ import annotations

import json
from typing import Any

from langchain.agents import create_agent
from langchain_core.documents import Document
from langchain_core.messages import BaseMessage, HumanMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import StructuredTool
from langchain_core.vectorstores import InMemoryVectorStore
from pydantic import SecretStr

from clova_demo.backend import Backend
from clova_demo.corpus import (
    AGENT_QUESTION,
    LANGCHAIN_QUESTIONS,
    RAG_INSTRUCTIONS,
    TOOLKIT_LANGCHAIN_QUESTION,
    ToolLog,
    load_corpus,
    long_documents,
)
from clova_demo.report import Report
from langchain_clova import (
    ChatClovaX,
    ChatClovaXRAGReasoning,
    ClovaXEmbeddings,
    ClovaXReranker,
    ClovaXSegmentationSplitter,
    ClovaXSummarizer,
    clova_search_tool,
)


def run(backend: Backend, model: str, embedding_model: str, report: Report) -> None:
    key = SecretStr(backend.api_key)
    embeddings = ClovaXEmbeddings(
        model=embedding_model, api_key=key, base_url=backend.base_url, show_progress=True
    )
    llm = ChatClovaX(model=model, api_key=key, base_url=backend.base_url, temperature=0.3)
    try:
        _run_jobs(llm, embeddings, model, embedding_model, report)
        _run_toolkit(backend, embeddings, report)
    finally:
        llm.close()
        embeddings.close()


def _run_jobs(
    llm: ChatClovaX,
    embeddings: ClovaXEmbeddings,
    model: str,
    embedding_model: str,
    report: Report,
) -> None:
    report.step(f"LangChain: embedding {len(load_corpus())} passages with {embedding_model}")
    store = InMemoryVectorStore(embeddings)
    store.add_documents([Document(p.text, id=p.id, metadata={"id": p.id}) for p in load_corpus()])

    prompt = ChatPromptTemplate.from_messages([("human", RAG_INSTRUCTIONS)])
    chain = prompt | llm | StrOutputParser()
    for question in LANGCHAIN_QUESTIONS:
        report.step(f"LangChain RAG ({model}, streaming): {question.text}")
        hits = store.similarity_search(question.text, k=2)
        report.check_retrieval(question, [doc.metadata["id"] for doc in hits])
        context = "\n\n".join(doc.page_content for doc in hits)
        answer = report.stream(chain.stream({"context": context, "question": question.text}))
        report.check_answer(question, answer)

    report.step(f"LangChain agent ({model}, create_agent): {AGENT_QUESTION}")
    log = ToolLog()
    tools = [
        StructuredTool.from_function(log.get_weather),
        StructuredTool.from_function(log.convert_currency),
    ]
    agent = create_agent(llm, tools=tools, system_prompt="Use the tools to answer.")
    state = agent.invoke({"messages": [{"role": "user", "content": AGENT_QUESTION}]})
    for message in state["messages"]:
        if isinstance(message, ToolMessage):
            report.detail(f"tool {message.name} -> {message.content}")
    report.check_tools(log, {"get_weather", "convert_currency"})
    report.answer(str(state["messages"][-1].content))


def _run_toolkit(backend: Backend, embeddings: ClovaXEmbeddings, report: Report) -> None:
    """Segment long documents -> summarize -> embed -> retrieve -> rerank -> RAG Reasoning."""
    settings: dict[str, Any] = {"api_key": SecretStr(backend.api_key), "base_url": backend.base_url}
    sources = {doc.id: doc for doc in long_documents()}
    report.step(
        "LangChain RAG toolkit: ClovaXSegmentationSplitter -> ClovaXSummarizer -> embed -> "
        "retrieve -> ClovaXReranker -> ChatClovaXRAGReasoning"
    )
    documents = [Document(d.text, metadata={"source": d.id}) for d in sources.values()]
    chunks = ClovaXSegmentationSplitter(**settings).split_documents(documents)
    chunks = list(ClovaXSummarizer(**settings).transform_documents(chunks))
    for chunk in chunks:
        source, start = chunk.metadata["source"], chunk.metadata["start_index"]
        chunk.id = f"{source}@{start}"
        chunk.metadata["passage"] = sources[source].passage_at(start)
    report.detail(
        f"{len(documents)} long documents -> {len(chunks)} topic segments, each with a summary"
    )
    store = InMemoryVectorStore(embeddings)
    store.add_documents(chunks)
    reranker = ClovaXReranker(**settings)

    def retrieve_and_rerank(query: str) -> list[Document]:
        return list(reranker.compress_documents(store.similarity_search(query, k=4), query))

    search = clova_search_tool(RunnableLambda(retrieve_and_rerank))
    llm = ChatClovaXRAGReasoning(**settings).bind_tools([search])
    question = TOOLKIT_LANGCHAIN_QUESTION
    report.step(f"LangChain RAG Reasoning with a retrieve+rerank tool: {question.text}")
    history: list[BaseMessage] = [HumanMessage(question.text)]
    reply = llm.invoke(history)
    while reply.tool_calls:  # RAG Reasoning retrieves first, then answers
        history.append(reply)
        for call in reply.tool_calls:
            output = search.invoke(call["args"])
            hits = json.loads(output)["search_result"]
            report.detail(f"tool {call['name']}({call['args']}) -> {len(hits)} reranked passages")
            history.append(ToolMessage(output, tool_call_id=str(call["id"])))
        reply = llm.invoke(history)
    report.answer(str(reply.content))
    by_id = {chunk.id: chunk for chunk in chunks}
    cited: list[str] = []
    for citation in reply.response_metadata.get("citations", []):
        hit = by_id.get(citation["id"])
        where = (
            f"{hit.metadata['source']} @ {hit.metadata['start_index']} "
            f"(passage {hit.metadata['passage']})"
            if hit is not None
            else "not a sent document"
        )
        report.detail(f"cites {citation['id']} -> {where}: {citation['text']}")
        if hit is not None:
            cited.append(hit.metadata["passage"])
    report.check_citation(question, str(reply.content), cited)
    reranker.close()
