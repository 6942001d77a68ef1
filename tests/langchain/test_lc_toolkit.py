"""The LangChain RAG toolkit: ClovaXSegmentationSplitter, ClovaXReranker, ClovaXSummarizer and
ChatClovaXRAGReasoning on the wire (MockTransport), against the emulator, and replayed from
cassettes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from langchain.agents import create_agent
from langchain_classic.retrievers import ContextualCompressionRetriever
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.vectorstores import InMemoryVectorStore

from clova_core.citations import UnknownCitationError
from clova_core.errors import ClovaValidationError
from clova_demo.corpus import load_corpus
from langchain_clova import (
    ChatClovaXRAGReasoning,
    ClovaXEmbeddings,
    ClovaXReranker,
    ClovaXSegmentationSplitter,
    ClovaXSummarizer,
    clova_search_tool,
)

CORPUS = load_corpus()
ENGLISH = "\n".join(p.text for p in CORPUS if p.lang == "en")
KOREAN = "\n".join(p.text for p in CORPUS if p.lang == "ko")


def _ok(result: dict[str, Any]) -> httpx.Response:
    return httpx.Response(
        200, json={"status": {"code": "20000", "message": "OK"}, "result": result}
    )


class Wire:
    """A MockTransport handler with one canned ``result`` that records request bodies."""

    def __init__(self, result: dict[str, Any]) -> None:
        self.result = result
        self.bodies: list[Any] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        return _ok(self.result)

    def settings(self) -> dict[str, Any]:
        transport = httpx.MockTransport(self)
        return {
            "api_key": "test-key",
            "base_url": "https://clova.test",
            "http_client": httpx.Client(transport=transport),
            "http_async_client": httpx.AsyncClient(transport=transport),
        }


# --- wire path -----------------------------------------------------------------------------


def test_splitter_keeps_metadata_and_start_index_and_skips_empty_documents() -> None:
    text = "첫 주제 문장이다.\n둘째 주제 문장이다."
    wire = Wire({"topicSeg": [["첫 주제 문장이다."], ["둘째 주제 문장이다."]], "inputTokens": 9})
    splitter = ClovaXSegmentationSplitter(alpha=0.5, **wire.settings())
    chunks = splitter.split_documents(
        [Document(text, metadata={"source": "a.txt"}), Document("  ", metadata={"source": "b"})]
    )
    assert wire.bodies == [{"text": text, "alpha": 0.5}]  # the empty document sent nothing
    assert [(c.page_content, c.metadata) for c in chunks] == [
        ("첫 주제 문장이다.", {"source": "a.txt", "start_index": 0}),
        ("둘째 주제 문장이다.", {"source": "a.txt", "start_index": text.index("둘째")}),
    ]


def test_splitter_sends_a_text_over_the_limit_in_pieces_cut_at_line_breaks() -> None:
    bodies: list[str] = []

    def echo(request: httpx.Request) -> httpx.Response:
        text = json.loads(request.content)["text"]
        bodies.append(text)
        lines = [[line] for line in text.splitlines() if line.strip()]
        return _ok({"topicSeg": lines, "inputTokens": 1})

    transport = httpx.MockTransport(echo)
    splitter = ClovaXSegmentationSplitter(
        api_key="test-key",
        base_url="https://clova.test",
        http_client=httpx.Client(transport=transport),
    )
    line = "가" * 999 + "\n"
    text = line * 150  # 150,000 characters
    chunks = splitter.create_documents([text])
    assert [len(body) for body in bodies] == [120_000, 30_000]  # cut after a line break
    assert len(chunks) == 150
    assert [c.metadata["start_index"] for c in chunks] == [1000 * i for i in range(150)]


def test_reranker_returns_cited_documents_in_relevance_order_and_keeps_the_answer() -> None:
    wire = Wire(
        {
            "result": "<doc-b>B cites</doc-b> and <doc-a>A cites</doc-a>",
            "citedDocuments": [{"id": "b", "doc": "B"}, {"id": "a", "doc": "A"}],
            "suggestedQueries": ["next?"],
        }
    )
    reranker = ClovaXReranker(**wire.settings())
    docs = [
        Document("A text", id="a", metadata={"n": 1}),
        Document("B text", id="b", metadata={"n": 2}),
        Document("C text", id="c", metadata={"n": 3}),
    ]
    out = reranker.compress_documents(docs, "query")
    assert [d.id for d in out] == ["b", "a"]
    assert out[0].metadata == {
        "n": 2,
        "relevance_rank": 0,
        "cited_passages": ["B cites"],
        "rerank_answer": "B cites and A cites",
        "suggested_queries": ["next?"],
    }
    assert docs[1].metadata == {"n": 2}  # the caller's documents are not modified
    assert wire.bodies[0]["documents"][0] == {"id": "a", "doc": "A text"}
    assert reranker.last_result is not None
    assert reranker.last_result.answer_text == "B cites and A cites"
    assert reranker.compress_documents([], "query") == []
    assert len(wire.bodies) == 1


def test_reranker_sends_positions_when_ids_are_missing_or_repeated() -> None:
    wire = Wire({"result": "<doc-1>x</doc-1>", "citedDocuments": [{"id": "1", "doc": "x"}]})
    out = ClovaXReranker(**wire.settings()).compress_documents(
        [Document("first", id="same"), Document("second", id="same")], "q"
    )
    assert [d["id"] for d in wire.bodies[0]["documents"]] == ["0", "1"]
    assert [d.page_content for d in out] == ["second"]


def test_a_reply_citing_an_unsent_document_is_dropped_or_raises_when_strict() -> None:
    reply = {
        "result": "<doc-ghost>?</doc-ghost> <doc-a>A</doc-a>",
        "citedDocuments": [{"id": "ghost", "doc": "?"}, {"id": "a", "doc": "A"}],
    }
    wire = Wire(reply)
    lenient = ClovaXReranker(**wire.settings())
    out = lenient.compress_documents([Document("A", id="a")], "q")
    assert [d.id for d in out] == ["a"]
    assert lenient.last_result is not None
    assert lenient.last_result.unknown_ids == ("ghost",)
    strict = ClovaXReranker(strict_citations=True, **wire.settings())
    with pytest.raises(UnknownCitationError) as caught:
        strict.compress_documents([Document("A", id="a")], "q")
    assert caught.value.ids == ["ghost"]


def test_summarizer_attaches_summaries_and_passes_empty_documents_through() -> None:
    wire = Wire({"text": "short", "inputTokens": 3})
    docs = ClovaXSummarizer(metadata_key="abstract", **wire.settings()).transform_documents(
        [Document("a long text", metadata={"k": 1}), Document("")]
    )
    assert [d.metadata for d in docs] == [{"k": 1, "abstract": "short"}, {}]
    assert wire.bodies == [{"texts": ["a long text"]}]


def test_rag_reasoning_needs_a_tool_and_refuses_before_sending() -> None:
    wire = Wire({})
    with pytest.raises(ClovaValidationError, match="at least one tool"):
        ChatClovaXRAGReasoning(**wire.settings()).invoke("question")
    assert wire.bodies == []


def test_plain_tool_output_is_sent_as_a_citable_search_result() -> None:
    answer = {
        "message": {"role": "assistant", "content": "<doc-call_1>Busan</doc-call_1>"},
        "finishReason": "stop",
    }
    wire = Wire(answer)
    llm = ChatClovaXRAGReasoning(**wire.settings()).bind_tools([clova_tool_spec()])
    call = {"name": "search_documents", "args": {"query": "q"}, "id": "call_1"}
    ai = llm.invoke(
        [
            HumanMessage("q"),
            AIMessage("", tool_calls=[call]),
            ToolMessage("Busan", tool_call_id="call_1"),
        ]
    )
    sent = wire.bodies[0]["messages"][2]["content"]
    assert json.loads(sent) == {"search_result": [{"id": "call_1", "doc": "Busan"}]}
    assert ai.content == "Busan"
    assert ai.response_metadata["citations"][0]["known"] is True


def clova_tool_spec() -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": "search_documents",
            "description": "Search",
            "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
        },
    }


# --- against the emulator --------------------------------------------------------------------


def _store(*, korean: bool = True) -> tuple[InMemoryVectorStore, list[Document]]:
    splitter = ClovaXSegmentationSplitter()
    long_docs = [Document(ENGLISH, metadata={"source": "korea-en"})]
    if korean:
        long_docs.append(Document(KOREAN, metadata={"source": "korea-ko"}))
    chunks = list(ClovaXSummarizer().transform_documents(splitter.split_documents(long_docs)))
    for index, chunk in enumerate(chunks):
        chunk.id = f"{chunk.metadata['source']}#{index}"
    store = InMemoryVectorStore(ClovaXEmbeddings())
    store.add_documents(chunks)
    return store, chunks


def _check_pipeline(run: Callable[[], tuple[list[Document], AIMessage]]) -> None:
    reranked, answer = run()
    assert "1974" in reranked[0].page_content
    assert reranked[0].metadata["relevance_rank"] == 0
    assert "1974" in str(answer.content)
    (citation,) = answer.response_metadata["citations"]
    assert citation["known"]
    assert "1974" in citation["doc"]


QUESTION = "When did the Seoul subway open its first line?"


def _pipeline() -> tuple[list[Document], AIMessage]:
    store, chunks = _store(korean=False)
    assert all("summary" in c.metadata and "start_index" in c.metadata for c in chunks)
    retriever = ContextualCompressionRetriever(
        base_compressor=ClovaXReranker(), base_retriever=store.as_retriever(search_kwargs={"k": 4})
    )
    reranked = retriever.invoke(QUESTION)
    search = clova_search_tool(store.as_retriever(search_kwargs={"k": 4}))
    llm = ChatClovaXRAGReasoning().bind_tools([search])
    first = llm.invoke([HumanMessage(QUESTION)])
    (call,) = first.tool_calls
    output = search.invoke(call["args"])
    final = llm.invoke(
        [HumanMessage(QUESTION), first, ToolMessage(output, tool_call_id=str(call["id"]))]
    )
    return list(reranked), final


@pytest.mark.usefixtures("emulator_env")
def test_the_whole_pipeline_against_the_emulator() -> None:
    _check_pipeline(_pipeline)


@pytest.mark.vcr
@pytest.mark.usefixtures("clova_env")
def test_lc_toolkit_pipeline_from_a_cassette() -> None:
    _check_pipeline(_pipeline)


@pytest.mark.usefixtures("emulator_env")
async def test_async_pipeline_and_streaming() -> None:
    splitter = ClovaXSegmentationSplitter()
    chunks = await splitter.atransform_documents([Document(ENGLISH, metadata={"s": 1})])
    assert len(chunks) == len([p for p in CORPUS if p.lang == "en"])
    summarized = await ClovaXSummarizer().atransform_documents(chunks[:2])
    assert all("summary" in d.metadata for d in summarized)
    reranked = await ClovaXReranker().acompress_documents(list(chunks), QUESTION)
    assert "1974" in reranked[0].page_content
    store = InMemoryVectorStore(ClovaXEmbeddings())
    await store.aadd_documents(list(chunks))
    search = clova_search_tool(store.as_retriever(search_kwargs={"k": 3}))
    llm = ChatClovaXRAGReasoning().bind_tools([search])
    first = await llm.ainvoke([HumanMessage(QUESTION)])
    (call,) = first.tool_calls
    output = await search.ainvoke(call["args"])
    history = [HumanMessage(QUESTION), first, ToolMessage(output, tool_call_id=str(call["id"]))]
    pieces = [chunk async for chunk in llm.astream(history)]
    assert len(pieces) == 1  # the service answers whole: one chunk
    assert "1974" in str(pieces[0].content)
    assert pieces[0].response_metadata["citations"][0]["known"]


@pytest.mark.usefixtures("emulator_env")
def test_rag_reasoning_runs_as_an_agent_with_a_retriever_tool() -> None:
    store, _ = _store()
    search = clova_search_tool(store.as_retriever(search_kwargs={"k": 4}))
    agent = create_agent(ChatClovaXRAGReasoning(), tools=[search])
    state = agent.invoke(
        {"messages": [{"role": "user", "content": "한라산의 높이는 몇 미터인가요?"}]}
    )
    final = state["messages"][-1]
    assert isinstance(final, AIMessage)
    assert "1947" in str(final.content)
    assert final.response_metadata["citations"][0]["known"]
    assert any(isinstance(m, ToolMessage) for m in state["messages"])
