"""The LangChain jobs: embed the corpus, answer with a streaming RAG chain, run an agent."""

from __future__ import annotations

from langchain.agents import create_agent
from langchain_core.documents import Document
from langchain_core.messages import ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import StructuredTool
from langchain_core.vectorstores import InMemoryVectorStore
from pydantic import SecretStr

from clova_demo.backend import Backend
from clova_demo.corpus import (
    AGENT_QUESTION,
    LANGCHAIN_QUESTIONS,
    RAG_INSTRUCTIONS,
    ToolLog,
    load_corpus,
)
from clova_demo.report import Report
from langchain_clova import ChatClovaX, ClovaXEmbeddings


def run(backend: Backend, model: str, embedding_model: str, report: Report) -> None:
    key = SecretStr(backend.api_key)
    embeddings = ClovaXEmbeddings(
        model=embedding_model, api_key=key, base_url=backend.base_url, show_progress=True
    )
    llm = ChatClovaX(model=model, api_key=key, base_url=backend.base_url, temperature=0.3)
    try:
        _run_jobs(llm, embeddings, model, embedding_model, report)
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
