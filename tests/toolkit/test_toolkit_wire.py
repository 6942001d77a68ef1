"""The RAG toolkit's client methods over ``httpx.MockTransport``: paths, bodies, request ids,
retries, typed errors, the quota limiter, and bad input refused before anything is sent."""

from __future__ import annotations

import pytest

from clova_core.citations import search_result_content
from clova_core.errors import (
    APIResponseError,
    BadRequestError,
    ClovaValidationError,
    ContextLengthExceededError,
    ContextLimitError,
)
from clova_core.toolkit_types import RagReasoningRequest, RerankDocument
from clova_core.toolkit_wire import segmentation_windows
from clova_core.types import Message, Tool, ToolCall

from .toolkit_fakes import (
    RAG_TOOL_CALL_RESULT,
    RERANK_RESULT,
    SEGMENTATION_RESULT,
    TEXT,
    Recorder,
    async_client,
    failure,
    ok,
    rag_answer,
    sync_client,
)

SEARCH = Tool(
    "search",
    "Search the documents",
    {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
)


# --- segmentation ------------------------------------------------------------------------


def test_segment_posts_the_text_and_options_and_locates_each_paragraph() -> None:
    server = Recorder(ok(SEGMENTATION_RESULT))
    with sync_client(server) as client:
        result = client.segment(TEXT, alpha=-100, seg_count=2, post_process=True)
    request = server.requests[0]
    assert request.url.path == "/v1/api-tools/segmentation"
    assert server.body() == {"text": TEXT, "alpha": -100, "segCnt": 2, "postProcess": True}
    assert [s.text for s in result.segments] == [
        "한라산은 제주도에 있는 산이다. 높이는 1947미터이다.",
        "KTX는 고속철도이다. 서울과 부산을 잇는다.",
    ]
    for segment in result.segments:
        assert TEXT[segment.start_index : segment.start_index + len(segment.text)] == segment.text
    assert [list(s.sentence_indexes) for s in result.segments] == [[0, 1], [2, 3]]
    assert result.input_tokens == 31
    assert result.request_id == request.headers["x-ncp-clovastudio-request-id"]


def test_a_paragraph_the_text_does_not_contain_has_start_index_minus_one() -> None:
    changed = {**SEGMENTATION_RESULT, "topicSeg": [["normalised away"], ["KTX는 고속철도이다."]]}
    with sync_client(Recorder(ok(changed))) as client:
        segments = client.segment(TEXT).segments
    assert (segments[0].start_index, segments[0].text) == (-1, "normalised away")
    assert segments[1].start_index == TEXT.index("KTX")


@pytest.mark.parametrize(
    ("text", "options", "fragment"),
    [
        ("", {}, "empty"),
        ("   \n", {}, "empty"),
        ("가" * 120_001, {}, "120,000"),
        ("text", {"alpha": 2.0}, "alpha"),
        ("text", {"seg_count": 0}, "seg_count"),
        ("text", {"post_process_max_size": 100, "post_process_min_size": 101}, "min_size"),
        ("text", {"post_process": "yes"}, "post_process"),
        ("text", {"post_process_max_size": 100}, "default post_process_min_size"),
    ],
)
def test_bad_segmentation_input_is_refused_before_sending(
    text: str, options: dict[str, object], fragment: str
) -> None:
    server = Recorder(ok(SEGMENTATION_RESULT))
    with sync_client(server) as client, pytest.raises(ClovaValidationError, match=fragment):
        client.segment(text, **options)  # type: ignore[arg-type]
    assert server.requests == []


def test_segmentation_windows_cut_long_texts_at_line_breaks_then_sentences_then_spaces() -> None:
    assert segmentation_windows("short") == [(0, "short")]
    assert segmentation_windows("aaa\nbbb\nccc", limit=8) == [(0, "aaa\nbbb\n"), (8, "ccc")]
    assert segmentation_windows("aa. bb cc. dd", limit=9) == [(0, "aa. "), (4, "bb cc. dd")]
    assert segmentation_windows("abcdefgh", limit=3) == [(0, "abc"), (3, "def"), (6, "gh")]
    # A whitespace-only piece is not sent.
    assert segmentation_windows("ab\n   \ncd", limit=3) == [(0, "ab\n"), (6, "\ncd")]
    pieces = segmentation_windows("x" * 250_000)
    assert "".join(p for _, p in pieces) == "x" * 250_000
    assert all(len(p) <= 120_000 for _, p in pieces)


# --- reranker ----------------------------------------------------------------------------


def test_rerank_maps_citations_and_cited_documents_to_the_documents_sent() -> None:
    server = Recorder(ok(RERANK_RESULT))
    documents = [
        RerankDocument("busan", "부산은 항구 도시이다."),
        ("hallasan", "한라산은 1947미터이다."),
    ]
    with sync_client(server) as client:
        result = client.rerank("한라산 높이", documents, max_tokens=256)
    assert server.requests[0].url.path == "/v1/api-tools/reranker"
    assert server.body() == {
        "query": "한라산 높이",
        "documents": [
            {"id": "busan", "doc": "부산은 항구 도시이다."},
            {"id": "hallasan", "doc": "한라산은 1947미터이다."},
        ],
        "maxTokens": 256,
    }
    assert [d.id for d in result.cited_documents] == ["hallasan"]
    assert result.answer_text == "높이는 한라산은 1947미터이다."
    (citation,) = result.citations
    assert citation.document == RerankDocument("hallasan", "한라산은 1947미터이다.")
    assert result.answer_text[citation.start : citation.end] == citation.text
    assert result.suggested_queries == ("백록담은 어디에 있나요?",)
    assert result.usage is not None
    assert result.usage.total_tokens == 52
    assert result.unknown_ids == ()


def test_a_reply_citing_a_document_that_was_not_sent_is_flagged_not_dropped() -> None:
    reply = {
        **RERANK_RESULT,
        "result": "<doc-ghost>made up</doc-ghost> <doc-hallasan>1947</doc-hallasan>",
        "citedDocuments": [{"id": "ghost", "doc": "made up"}, {"id": "hallasan", "doc": "x"}],
    }
    with sync_client(Recorder(ok(reply))) as client:
        result = client.rerank("q", [("hallasan", "한라산은 1947미터이다.")])
    assert result.unknown_ids == ("ghost",)
    ghost, known = result.citations
    assert (ghost.id, ghost.known, ghost.document) == ("ghost", False, None)
    assert known.known
    assert known.document is not None


def test_dashless_citation_tags_resolve_to_the_sent_ids() -> None:
    reply = {**RERANK_RESULT, "result": "<doc1>one</doc1> <docid2>two</docid2>"}
    with sync_client(Recorder(ok(reply))) as client:
        result = client.rerank("q", [("1", "one"), ("docid2", "two")])
    assert [(c.id, c.known) for c in result.citations] == [("1", True), ("docid2", True)]
    assert result.answer_text == "one two"


@pytest.mark.parametrize(
    ("documents", "fragment"),
    [
        ([], "empty"),
        ([("a", "")], "empty text"),
        ([("a", "x"), ("a", "y")], "repeats"),
        ([("", "x")], "non-empty string id"),
        ([("has space", "x")], "spaces"),
        ([42], "RerankDocument"),
        ([("a", "가나다라마바사" * 200_000)], "128,000"),
    ],
)
def test_bad_reranker_input_is_refused_before_sending(
    documents: list[object], fragment: str
) -> None:
    server = Recorder(ok(RERANK_RESULT))
    with sync_client(server) as client, pytest.raises(ClovaValidationError, match=fragment):
        client.rerank("query", documents)
    assert server.requests == []


def test_too_many_reranker_documents_for_the_input_limit_are_refused_before_sending() -> None:
    # No count limit is documented; 200 documents of 7,000 characters are certainly over the
    # 128,000 input tokens (a conservative lower bound counts at most 1 per 8 characters).
    documents = [(f"d{i}", "가나다라마바사" * 1000) for i in range(200)]
    server = Recorder(ok(RERANK_RESULT))
    with sync_client(server) as client, pytest.raises(ContextLimitError, match="128,000"):
        client.rerank("query", documents)
    assert server.requests == []


def test_rerank_max_tokens_must_be_below_4096() -> None:
    server = Recorder(ok(RERANK_RESULT))
    with sync_client(server) as client, pytest.raises(ClovaValidationError, match="max_tokens"):
        client.rerank("q", [("a", "x")], max_tokens=4096)
    assert server.requests == []


def test_retries_keep_one_request_id_and_errors_are_typed() -> None:
    server = Recorder(failure(500, "50000"), ok(RERANK_RESULT))
    with sync_client(server) as client:
        result = client.rerank("q", [("hallasan", "x")], request_id="my-id")
    assert server.request_ids() == ["my-id", "my-id"]
    assert result.request_id == "my-id"
    too_long = Recorder(failure(400, "40003", "Text too long"))
    with sync_client(too_long) as client, pytest.raises(ContextLengthExceededError) as caught:
        client.summarize(["x"], request_id="rid")
    assert caught.value.request_id == "rid"
    assert isinstance(caught.value, BadRequestError)


def test_a_broken_reply_is_an_api_response_error() -> None:
    broken = Recorder(ok({"topicSeg": "not a list"}))
    with sync_client(broken) as client, pytest.raises(APIResponseError, match="topicSeg"):
        client.segment("text")


class CountingLimiter:
    def __init__(self) -> None:
        self.tokens: list[int] = []

    def acquire(self, tokens: int = 0) -> None:
        self.tokens.append(tokens)

    async def aacquire(self, tokens: int = 0) -> None:
        self.tokens.append(tokens)


def test_the_quota_limiter_counts_every_toolkit_call() -> None:
    limiter = CountingLimiter()
    server = Recorder(ok(RERANK_RESULT))
    with sync_client(server, rate_limiter=limiter) as client:
        client.rerank("q", [("hallasan", "x")])
    # Input estimate plus the server's default answer budget (1024) is reserved.
    assert len(limiter.tokens) == 1
    assert limiter.tokens[0] > 1024


# --- summarization -----------------------------------------------------------------------


def test_summarize_posts_texts_and_options() -> None:
    server = Recorder(ok({"text": "요약", "inputTokens": 9}))
    with sync_client(server) as client:
        result = client.summarize(["첫째", "둘째"], seg_max_size=500, seg_min_size=100)
    assert server.requests[0].url.path == "/v1/api-tools/summarization/v2"
    assert server.body() == {"texts": ["첫째", "둘째"], "segMaxSize": 500, "segMinSize": 100}
    assert (result.text, result.input_tokens) == ("요약", 9)


@pytest.mark.parametrize(
    ("texts", "options", "fragment"),
    [
        ([], {}, "empty"),
        ("a bare string", {}, "list"),
        (["ok", " "], {}, r"texts\[1\] is empty"),
        (["가" * 35_001], {}, "35,000"),
        (["ok"], {"seg_max_size": 3001}, "seg_max_size"),
        (["ok"], {"seg_min_size": 1001}, "seg_min_size"),
        (["ok"], {"seg_max_size": 100}, "default seg_min_size"),
    ],
)
def test_bad_summarization_input_is_refused_before_sending(
    texts: object, options: dict[str, object], fragment: str
) -> None:
    server = Recorder(ok({"text": "", "inputTokens": 0}))
    with sync_client(server) as client, pytest.raises(ClovaValidationError, match=fragment):
        client.summarize(texts, **options)  # type: ignore[arg-type]
    assert server.requests == []


# --- RAG Reasoning -----------------------------------------------------------------------


def test_rag_reasoning_sends_v3_messages_and_tools_and_returns_tool_calls() -> None:
    server = Recorder(ok(RAG_TOOL_CALL_RESULT))
    request = RagReasoningRequest(
        messages=[Message("user", "한라산 높이는?")], tools=[SEARCH], max_tokens=2048
    )
    with sync_client(server) as client:
        result = client.rag_reasoning(request)
    assert server.requests[0].url.path == "/v1/api-tools/rag-reasoning"
    body = server.body()
    assert body["messages"] == [{"role": "user", "content": "한라산 높이는?"}]
    assert body["tools"][0]["function"]["name"] == "search"
    assert body["maxTokens"] == 2048
    assert [c.name for c in result.tool_calls] == ["search"]
    assert result.chat.thinking_content == "search first"


def _answer_request() -> RagReasoningRequest:
    call = ToolCall("call_1", "search", {"query": "한라산 높이"})
    content = search_result_content([("hallasan", "한라산은 1947미터이다."), ("busan", "부산")])
    return RagReasoningRequest(
        messages=[
            Message("user", "한라산 높이는?"),
            Message("assistant", "", tool_calls=[call]),
            Message("tool", content, tool_call_id="call_1"),
        ],
        tools=[SEARCH],
    )


async def test_rag_reasoning_citations_map_to_the_search_results_sent() -> None:
    answer = "답: <doc-hallasan>한라산은 1947미터이다.</doc-hallasan> 그리고 <doc-nope>?</doc-nope>"
    server = Recorder(ok(rag_answer(answer)))
    async with async_client(server) as client:
        result = await client.rag_reasoning(_answer_request())
    tool_message = server.body()["messages"][2]
    assert tool_message["toolCallId"] == "call_1"
    assert '"search_result"' in tool_message["content"]
    assert result.answer_text == "답: 한라산은 1947미터이다. 그리고 ?"
    assert [(c.id, c.known) for c in result.citations] == [("hallasan", True), ("nope", False)]
    assert result.unknown_citation_ids == ["nope"]
    assert set(result.documents) == {"hallasan", "busan"}


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"tools": []}, "at least one tool"),
        ({"tools": [Tool("search", "no params")]}, "parameters"),
        ({"max_tokens": 512}, "max_tokens"),
        ({"max_tokens": 4096}, "max_tokens"),
        ({"temperature": 0}, "temperature"),
        ({"messages": [Message("user", "")]}, "empty"),
    ],
)
def test_bad_rag_reasoning_input_is_refused_before_sending(
    changes: dict[str, object], fragment: str
) -> None:
    base = {"messages": [Message("user", "q")], "tools": [SEARCH]}
    request = RagReasoningRequest(**{**base, **changes})  # type: ignore[arg-type]
    server = Recorder(ok(RAG_TOOL_CALL_RESULT))
    with sync_client(server) as client, pytest.raises(ClovaValidationError, match=fragment):
        client.rag_reasoning(request)
    assert server.requests == []


def test_search_result_content_refuses_duplicate_ids() -> None:
    with pytest.raises(ClovaValidationError, match="repeats"):
        search_result_content([("a", "x"), ("a", "y")])


async def test_async_twins_send_the_same_requests() -> None:
    server = Recorder(
        ok(SEGMENTATION_RESULT), ok(RERANK_RESULT), ok({"text": "s", "inputTokens": 1})
    )
    async with async_client(server) as client:
        await client.segment(TEXT)
        await client.rerank("q", [("hallasan", "x")])
        await client.summarize(["t"])
    assert [r.url.path for r in server.requests] == [
        "/v1/api-tools/segmentation",
        "/v1/api-tools/reranker",
        "/v1/api-tools/summarization/v2",
    ]
