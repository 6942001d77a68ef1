"""RAG end to end: VectorStoreIndex with ClovaXEmbedding, query engine with ClovaX."""

from __future__ import annotations

import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.base.response.schema import AsyncStreamingResponse, StreamingResponse
from llama_index.core.node_parser import SentenceSplitter

from clova_emulator import Emulator

from .conftest import Target, logged

DOCUMENTS = [
    Document(text="한라산은 제주도에 있는 산으로, 높이는 1,947미터이다."),
    Document(text="부산의 자갈치 시장은 한국에서 가장 큰 수산물 시장이다."),
    Document(text="서울의 남산타워는 높이가 236미터인 전망대이다."),
]
QUESTION = "한라산의 높이는 얼마인가요?"


def _index(target: Target) -> VectorStoreIndex:
    return VectorStoreIndex.from_documents(
        DOCUMENTS,
        embed_model=target.embedding(),
        transformations=[SentenceSplitter(chunk_size=256, chunk_overlap=0)],
    )


@pytest.mark.vcr
def test_query_engine_answers_from_the_right_passage(clova_settings: Target) -> None:
    engine = _index(clova_settings).as_query_engine(llm=clova_settings.llm(), similarity_top_k=2)
    response = engine.query(QUESTION)
    assert "한라산" in response.source_nodes[0].node.get_content()
    assert "1,947" in str(response)


@pytest.mark.vcr
async def test_async_query_engine_answers_from_the_right_passage(clova_settings: Target) -> None:
    index = VectorStoreIndex(nodes=[], embed_model=clova_settings.embedding(max_concurrency=2))
    nodes = SentenceSplitter(chunk_size=256, chunk_overlap=0).get_nodes_from_documents(DOCUMENTS)
    await index.ainsert_nodes(nodes)
    engine = index.as_query_engine(llm=clova_settings.llm(), similarity_top_k=2)
    response = await engine.aquery(QUESTION)
    assert "한라산" in response.source_nodes[0].node.get_content()
    assert "1,947" in str(response)


def test_streaming_query_engine_streams_the_answer(clova_settings: Target, emu: Emulator) -> None:
    engine = _index(clova_settings).as_query_engine(
        llm=clova_settings.llm(), similarity_top_k=2, streaming=True
    )
    response = engine.query(QUESTION)
    assert isinstance(response, StreamingResponse)
    pieces = list(response.response_gen)
    assert len(pieces) > 3
    assert "1,947" in "".join(pieces)
    records = logged(emu, len(DOCUMENTS) + 2)
    chats = [record for record in records if "chat-completions" in record.path]
    assert [record.stream for record in chats] == [True]


async def test_async_streaming_query_engine(clova_settings: Target) -> None:
    engine = _index(clova_settings).as_query_engine(
        llm=clova_settings.llm(model="HCX-DASH-002"), similarity_top_k=2, streaming=True
    )
    response = await engine.aquery(QUESTION)
    assert isinstance(response, AsyncStreamingResponse)
    pieces = [piece async for piece in response.async_response_gen()]
    assert len(pieces) > 3
    assert "1,947" in "".join(pieces)
