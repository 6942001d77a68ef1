"""The LlamaIndex RAG toolkit: ClovaXSegmentationParser, ClovaXRerank, ClovaXSummaryExtractor and
ClovaXRAGReasoning on the wire (MockTransport), against the emulator, and from cassettes."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from clova_core.citations import UnknownCitationError
from clova_core.errors import ClovaValidationError
from clova_demo.corpus import load_corpus
from llama_index_clova import (
    ClovaXRAGReasoning,
    ClovaXRerank,
    ClovaXSegmentationParser,
    ClovaXSummaryExtractor,
    clova_search_tool,
)

from .conftest import Target

CORPUS = load_corpus()
ENGLISH = "\n".join(p.text for p in CORPUS if p.lang == "en")
KOREAN = "\n".join(p.text for p in CORPUS if p.lang == "ko")
QUESTION = "What do the haenyeo women divers of Jeju harvest?"


class Wire:
    """A MockTransport handler with one canned ``result`` that records request bodies."""

    def __init__(self, result: dict[str, Any]) -> None:
        self.result = result
        self.bodies: list[Any] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        body = {"status": {"code": "20000", "message": "OK"}, "result": self.result}
        return httpx.Response(200, json=body)

    def settings(self) -> dict[str, Any]:
        transport = httpx.MockTransport(self)
        return {
            "api_key": "test-key",
            "base_url": "https://clova.test",
            "http_client": httpx.Client(transport=transport),
            "http_async_client": httpx.AsyncClient(transport=transport),
        }


def _ids(prefix: str) -> Any:
    return lambda index, node: f"{node.node_id}-{index}" if prefix == "" else f"{prefix}-{index}"


# --- wire path -----------------------------------------------------------------------------


def test_parser_keeps_metadata_relationships_and_char_offsets() -> None:
    text = "첫 주제 문장이다.\n둘째 주제 문장이다."
    wire = Wire({"topicSeg": [["첫 주제 문장이다."], ["둘째 주제 문장이다."]], "inputTokens": 9})
    parser = ClovaXSegmentationParser(**wire.settings())
    nodes = parser.get_nodes_from_documents(
        [Document(text=text, id_="doc", metadata={"source": "a.txt"}), Document(text=" ")]
    )
    assert wire.bodies == [{"text": text}]
    assert [n.get_content() for n in nodes] == ["첫 주제 문장이다.", "둘째 주제 문장이다."]
    assert all(n.metadata == {"source": "a.txt"} for n in nodes)
    assert all(n.ref_doc_id == "doc" for n in nodes)
    second = nodes[1]
    assert isinstance(second, TextNode)
    assert (second.start_char_idx, second.end_char_idx) == (text.index("둘째"), len(text))


def _scored(*pairs: tuple[str, str]) -> list[NodeWithScore]:
    return [
        NodeWithScore(node=TextNode(id_=i, text=t, metadata={"k": i}), score=0.1) for i, t in pairs
    ]


def test_rerank_returns_cited_nodes_in_relevance_order_with_hidden_metadata() -> None:
    wire = Wire(
        {
            "result": "<doc-b>B!</doc-b>",
            "citedDocuments": [{"id": "b", "doc": "B"}, {"id": "a", "doc": "A"}],
            "suggestedQueries": ["next?"],
        }
    )
    rerank = ClovaXRerank(**wire.settings())
    nodes = _scored(("a", "A text"), ("b", "B text"), ("c", "C text"))
    out = rerank.postprocess_nodes(nodes, query_bundle=QueryBundle("q"))
    assert [(n.node.node_id, n.score) for n in out] == [("b", 1.0), ("a", 0.5)]
    assert out[0].node.metadata["cited_passages"] == ["B!"]
    assert out[0].node.metadata["rerank_answer"] == "B!"
    assert "rerank_answer" in out[0].node.excluded_llm_metadata_keys
    assert nodes[1].node.metadata == {"k": "b"}  # the retrieved nodes are not modified
    assert wire.bodies[0]["documents"] == [
        {"id": "a", "doc": "A text"},
        {"id": "b", "doc": "B text"},
        {"id": "c", "doc": "C text"},
    ]
    assert rerank.postprocess_nodes([], query_bundle=QueryBundle("q")) == []
    assert len(wire.bodies) == 1


def test_rerank_drops_unsent_citations_or_raises_when_strict() -> None:
    reply = {"result": "<doc-ghost>?</doc-ghost>", "citedDocuments": [{"id": "ghost", "doc": "?"}]}
    wire = Wire(reply)
    lenient = ClovaXRerank(**wire.settings())
    assert lenient.postprocess_nodes(_scored(("a", "A")), query_bundle=QueryBundle("q")) == []
    assert lenient.last_result is not None
    assert lenient.last_result.unknown_ids == ("ghost",)
    strict = ClovaXRerank(strict_citations=True, **wire.settings())
    with pytest.raises(UnknownCitationError):
        strict.postprocess_nodes(_scored(("a", "A")), query_bundle=QueryBundle("q"))


def test_summary_extractor_fills_section_summary_and_skips_empty_nodes() -> None:
    wire = Wire({"text": "short", "inputTokens": 2})
    extracted = ClovaXSummaryExtractor(**wire.settings()).extract(
        [TextNode(text="a long text"), TextNode(text="")]
    )
    assert extracted == [{"section_summary": "short"}, {}]
    assert wire.bodies == [{"texts": ["a long text"]}]


def test_rag_reasoning_without_tools_is_refused_before_sending() -> None:
    wire = Wire({})
    llm = ClovaXRAGReasoning(**wire.settings())
    with pytest.raises(ClovaValidationError, match="at least one tool"):
        llm.chat([ChatMessage(role=MessageRole.USER, content="q")])
    assert wire.bodies == []


def test_rag_reasoning_unknown_citation_is_flagged_or_strict() -> None:
    answer = {
        "message": {"role": "assistant", "content": "<doc-x>made up</doc-x>"},
        "finishReason": "stop",
    }
    wire = Wire(answer)
    tool = clova_search_tool(_FixedRetriever())
    llm = ClovaXRAGReasoning(**wire.settings())
    response = llm.chat_with_tools([tool], user_msg="q")
    (citation,) = response.message.additional_kwargs["citations"]
    assert (citation["id"], citation["known"], citation["doc"]) == ("x", False, None)
    assert response.message.content == "made up"
    strict = ClovaXRAGReasoning(strict_citations=True, **wire.settings())
    with pytest.raises(UnknownCitationError):
        strict.chat_with_tools([tool], user_msg="q")


class _FixedRetriever:
    def retrieve(self, query: str) -> list[NodeWithScore]:
        return _scored(("n1", "text"))

    async def aretrieve(self, query: str) -> list[NodeWithScore]:
        return self.retrieve(query)


# --- against the emulator --------------------------------------------------------------------


def _index(target: Target) -> VectorStoreIndex:
    settings = {"api_key": target.api_key, "base_url": target.base_url}
    documents = [Document(text=ENGLISH, id_="korea-en", metadata={"source": "korea-en"})]
    pipeline = IngestionPipeline(
        transformations=[
            ClovaXSegmentationParser(id_func=lambda i, node: f"{node.node_id}#{i}", **settings),
            ClovaXSummaryExtractor(**settings),
            target.embedding(),
        ]
    )
    nodes = pipeline.run(documents=documents)
    assert all("section_summary" in n.metadata for n in nodes)
    return VectorStoreIndex(nodes, embed_model=target.embedding())


def _query(target: Target) -> None:
    index = _index(target)
    rerank = ClovaXRerank(api_key=target.api_key, base_url=target.base_url)
    engine = index.as_query_engine(
        llm=target.llm(), similarity_top_k=4, node_postprocessors=[rerank]
    )
    response = engine.query(QUESTION)
    top = response.source_nodes[0].node
    assert "abalone" in top.get_content()
    assert top.node_id.startswith("korea-en#")
    assert "abalone" in str(response)


def test_query_engine_with_the_reranker_against_the_emulator(target: Target) -> None:
    _query(target)


@pytest.mark.vcr
def test_li_toolkit_query_engine_from_a_cassette(target: Target) -> None:
    _query(target)


async def _agent_answer(target: Target) -> ChatMessage:
    index = _index(target)
    llm = ClovaXRAGReasoning(api_key=target.api_key, base_url=target.base_url)
    agent = FunctionAgent(
        tools=[clova_search_tool(index.as_retriever(similarity_top_k=4))], llm=llm
    )
    output: Any = await agent.run(user_msg=QUESTION)
    await llm.aclose()
    message: ChatMessage = output.response
    return message


async def test_rag_reasoning_agent_cites_the_retrieved_node(target: Target) -> None:
    message = await _agent_answer(target)
    assert "abalone" in str(message.content)
    citation = message.additional_kwargs["citations"][0]
    assert citation["known"]
    assert citation["id"].startswith("korea-en#")
    assert "abalone" in citation["doc"]


@pytest.mark.vcr
async def test_li_toolkit_agent_from_a_cassette(target: Target) -> None:
    message = await _agent_answer(target)
    assert message.additional_kwargs["citations"][0]["known"]


async def test_async_parsing_reranking_and_streaming(target: Target) -> None:
    settings = {"api_key": target.api_key, "base_url": target.base_url}
    parser = ClovaXSegmentationParser(**settings)
    nodes = await parser.aget_nodes_from_documents([Document(text=KOREAN)])
    assert len(nodes) == len([p for p in CORPUS if p.lang == "ko"])
    scored = [NodeWithScore(node=n, score=0.0) for n in nodes]
    reranked = await ClovaXRerank(**settings).apostprocess_nodes(
        scored, query_bundle=QueryBundle("한라산의 높이는 몇 미터인가요?")
    )
    assert "1947" in reranked[0].node.get_content()
    llm = ClovaXRAGReasoning(**settings)
    tool = clova_search_tool(_FixedRetriever())
    stream = await llm.astream_chat_with_tools([tool], user_msg="한라산 높이")
    pieces = [piece async for piece in stream]
    assert len(pieces) == 1
    assert llm.get_tool_calls_from_response(pieces[0])[0].tool_name == "search_documents"
    await llm.aclose()
