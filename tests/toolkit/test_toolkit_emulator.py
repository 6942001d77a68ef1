"""The RAG toolkit against the emulator: right on the bundled corpus (paragraphs at topic
changes, citations of the passages that hold the answer, summaries drawn from the text, RAG
Reasoning that retrieves first), and the documented validation codes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from clova_core.citations import search_result_content
from clova_core.client import AsyncClovaClient, ClovaClient
from clova_core.retry import RetryPolicy
from clova_core.toolkit_types import RagReasoningRequest
from clova_core.types import Message, Tool
from clova_demo.corpus import LANGCHAIN_QUESTIONS, LLAMAINDEX_QUESTIONS, load_corpus
from clova_emulator import Emulator
from clova_emulator.scripting import ScriptedError

CORPUS = load_corpus()
QUESTIONS = LANGCHAIN_QUESTIONS + LLAMAINDEX_QUESTIONS
SEARCH = Tool(
    "search_documents",
    "Search the knowledge base",
    {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
)


@pytest.fixture
def client(emu: Emulator) -> Iterator[ClovaClient]:
    no_wait = RetryPolicy(initial_delay=0.0, max_delay=0.0)
    with ClovaClient(api_key="test-key", base_url=emu.base_url, retry_policy=no_wait) as c:
        yield c


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_segmentation_puts_a_paragraph_break_at_every_topic_change(
    client: ClovaClient, lang: str
) -> None:
    passages = [p.text for p in CORPUS if p.lang == lang]
    text = "\n".join(passages)
    result = client.segment(text)
    assert [s.text for s in result.segments] == passages
    assert [s.start_index for s in result.segments] == [text.index(p) for p in passages]


def test_segmentation_without_line_breaks_still_splits_where_the_vocabulary_changes(
    client: ClovaClient,
) -> None:
    passages = [p.text for p in CORPUS if p.lang == "en"]
    text = " ".join(passages)
    segments = client.segment(text, alpha=-100).segments
    paragraph_starts = {s.start_index for s in segments}
    passage_starts = [text.index(p) for p in passages]
    # Most passages (topics) start a paragraph; passages sharing their vocabulary (the two
    # about Jeju's divers, the three about CLOVA Studio) may stay together.
    found = sum(start in paragraph_starts for start in passage_starts)
    assert found >= 0.6 * len(passages)
    assert len(segments) > 1


def test_seg_count_and_post_process_shape_the_paragraphs(client: ClovaClient) -> None:
    text = "\n".join(p.text for p in CORPUS if p.lang == "ko")
    assert len(client.segment(text, seg_count=3).segments) == 3
    sized = client.segment(
        text, post_process=True, post_process_max_size=120, post_process_min_size=0
    ).segments
    assert all(len(s.text) <= 120 for s in sized)
    merged = client.segment(
        text, post_process=True, post_process_max_size=1000, post_process_min_size=300
    ).segments
    assert all(len(s.text) >= 300 for s in merged[:-1])


@pytest.mark.parametrize("question", QUESTIONS, ids=[q.passage_id for q in QUESTIONS])
def test_the_reranker_cites_the_passage_that_holds_the_answer(
    client: ClovaClient, question: Any
) -> None:
    result = client.rerank(question.text, [(p.id, p.text) for p in CORPUS])
    assert result.cited_documents[0].id == question.passage_id
    assert question.fact in result.answer_text
    cited = [c for c in result.citations if c.id == question.passage_id]
    assert cited
    assert question.fact in cited[0].text
    assert result.unknown_ids == ()
    assert result.suggested_queries


def test_the_reranker_cites_nothing_when_nothing_matches(client: ClovaClient) -> None:
    result = client.rerank("zebra quantum", [("a", "한라산은 산이다."), ("b", "부산은 도시이다.")])
    assert result.cited_documents == ()
    assert result.citations == ()


def test_summaries_are_drawn_from_the_text(client: ClovaClient) -> None:
    texts = [p.text for p in CORPUS if p.lang == "en"]
    summary = client.summarize(texts).text
    sentences = [s for s in summary.split(". ") if s]
    assert 1 <= len(sentences) < sum(t.count(". ") + 1 for t in texts)
    joined = " ".join(texts)
    assert all(s.rstrip(".") in joined for s in sentences)


async def test_rag_reasoning_retrieves_first_then_cites_the_search_results(emu: Emulator) -> None:
    question = LANGCHAIN_QUESTIONS[1]
    async with AsyncClovaClient(api_key="test-key", base_url=emu.base_url) as client:
        first = await client.rag_reasoning(
            RagReasoningRequest(messages=[Message("user", question.text)], tools=[SEARCH])
        )
        (call,) = first.tool_calls
        assert call.name == "search_documents"
        assert call.arguments == {"query": question.text}
        hits = [(p.id, p.text) for p in CORPUS if p.lang == "en"][:5]
        second = await client.rag_reasoning(
            RagReasoningRequest(
                messages=[
                    Message("user", question.text),
                    Message("assistant", "", tool_calls=[call]),
                    Message("tool", search_result_content(hits), tool_call_id=call.id),
                ],
                tools=[SEARCH],
            )
        )
    assert second.tool_calls == ()
    assert question.fact in second.answer_text
    assert [c.id for c in second.citations] == [question.passage_id]
    assert second.citations[0].known


def test_scripted_failures_are_retried_with_one_request_id(
    client: ClovaClient, emu: Emulator
) -> None:
    emu.script(ScriptedError(status=500), ScriptedError(status=429, code="42901"))
    result = client.summarize(["한라산은 제주도에 있다."], request_id="rid-1")
    assert result.request_id == "rid-1"
    ids = [r.headers.get("x-ncp-clovastudio-request-id") for r in emu.requests]
    assert ids[-3:] == ["rid-1"] * 3


VALIDATION_CASES = [
    ("segmentation", {"text": ""}, "40004"),
    ("segmentation", {"text": "가" * 120_001}, "40003"),
    ("segmentation", {"text": "ok", "alpha": 2}, "40001"),
    ("segmentation", {"text": "ok", "segCnt": 0}, "40001"),
    ("segmentation", {"text": "ok", "postProcessMaxSize": 10, "postProcessMinSize": 11}, "40001"),
    ("reranker", {"query": "q", "documents": []}, "40001"),
    ("reranker", {"query": "q", "documents": [{"id": "a", "doc": " "}]}, "40004"),
    ("reranker", {"query": "", "documents": [{"id": "a", "doc": "x"}]}, "40004"),
    (
        "reranker",
        {"query": "q", "documents": [{"id": "a", "doc": "x"}], "maxTokens": 4096},
        "40001",
    ),
    ("summarization/v2", {"texts": []}, "40001"),
    ("summarization/v2", {"texts": ["가" * 35_001]}, "40003"),
    ("summarization/v2", {"texts": ["ok"], "segMaxSize": 3001}, "40001"),
    ("rag-reasoning", {"messages": [{"role": "user", "content": "q"}]}, "40001"),
    (
        "rag-reasoning",
        {
            "messages": [{"role": "user", "content": "q"}],
            "tools": [{"type": "function", "function": {"name": "s", "description": "d"}}],
        },
        "40001",
    ),
    (
        "rag-reasoning",
        {
            "messages": [{"role": "user", "content": "q"}],
            "tools": [
                {
                    "type": "function",
                    "function": {"name": "s", "description": "d", "parameters": {}},
                }
            ],
            "maxTokens": 512,
        },
        "40001",
    ),
]


@pytest.mark.parametrize(("tool", "body", "code"), VALIDATION_CASES)
def test_the_emulator_validates_documented_fields_with_documented_codes(
    emu: Emulator, tool: str, body: dict[str, Any], code: str
) -> None:
    reply = httpx.post(
        f"{emu.base_url}/v1/api-tools/{tool}",
        json=body,
        headers={"Authorization": "Bearer test-key"},
    )
    assert reply.status_code == int(code[:3])
    assert reply.json()["status"]["code"] == code
