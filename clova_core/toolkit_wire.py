"""Pure request builders and response parsers for segmentation, the reranker and summarization
(RAG Reasoning: :mod:`clova_core.rag_reasoning_wire`).

::

    POST /v1/api-tools/segmentation      text -> topicSeg, span, inputTokens
    POST /v1/api-tools/reranker          query + documents[{id, doc}] -> result (answer with
                                         <doc-ID> tags), citedDocuments, suggestedQueries, usage
    POST /v1/api-tools/summarization/v2  texts[] -> text, inputTokens

Every documented limit is checked here, before anything is sent, with a
:class:`~clova_core.errors.ClovaValidationError` that says what to change. Undocumented
points are marked [gap]; what we assumed, [inference].
"""

# Wire format and what is documented: clova-api.md 10 and 10.1.

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from clova_core.citations import check_documents, parse_citations
from clova_core.errors import APIResponseError, ClovaValidationError, ContextLimitError
from clova_core.request import WireRequest
from clova_core.tokens import estimate_tokens, lower_bound_tokens
from clova_core.toolkit_types import (
    RerankDocument,
    RerankResult,
    Segment,
    SegmentationResult,
    SummaryResult,
)
from clova_core.types import Usage

SEGMENTATION_PATH = "/v1/api-tools/segmentation"
RERANKER_PATH = "/v1/api-tools/reranker"
SUMMARIZATION_PATH = "/v1/api-tools/summarization/v2"

SEGMENTATION_MAX_CHARS = 120_000
SUMMARIZATION_MAX_CHARS = 35_000
"""Per text [gap: the docs do not say whether the limit is per text or for all texts]."""
RERANKER_MAX_INPUT_TOKENS = 128_000
MAX_TOOLKIT_OUTPUT_TOKENS = 4_095
"""Reranker and RAG Reasoning: ``maxTokens < 4096``."""
DEFAULT_TOOLKIT_OUTPUT_TOKENS = 1_024
"""The server's default ``maxTokens`` for both; what we count against a quota when unset."""


def _text_field(text: object, what: str, limit: int) -> str:
    if not isinstance(text, str):
        raise ClovaValidationError(f"{what} must be a string, got {type(text).__name__}.")
    if not text.strip():
        raise ClovaValidationError(f"{what} is empty; CLOVA rejects empty text (40004).")
    if len(text) > limit:
        raise ClovaValidationError(
            f"{what} has {len(text):,} characters; CLOVA accepts at most {limit:,}. Split it "
            "and send the parts separately."
        )
    return text


def int_field(name: str, value: object, *, low: int, high: int | None = None, auto: bool) -> int:
    """An integer in ``low..high``, or -1 ("the model chooses") when ``auto``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ClovaValidationError(f"{name} must be an integer, got {value!r}.")
    if auto and value == -1:
        return value
    if value < low or (high is not None and value > high):
        allowed = f"{low}..{high}" if high is not None else f">= {low}"
        raise ClovaValidationError(
            f"{name}={value} is out of range: allowed {'-1 (automatic) or ' if auto else ''}"
            f"{allowed}."
        )
    return value


def _bool_field(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ClovaValidationError(f"{name} must be True or False, got {value!r}.")
    return value


DEFAULT_MIN_SIZE = 300
"""The server's default ``postProcessMinSize`` / ``segMinSize``, which must not exceed the
maximum size."""


def _min_default_message(prefix: str, max_size: int) -> str:
    return (
        f"{prefix}_max_size={max_size} is below the default {prefix}_min_size of "
        f"{DEFAULT_MIN_SIZE}, which must not exceed it; also pass {prefix}_min_size "
        f"(0..{max_size})."
    )


# --- segmentation ------------------------------------------------------------------------


def prepare_segmentation(
    text: str,
    *,
    alpha: float | None = None,
    seg_count: int | None = None,
    post_process: bool | None = None,
    post_process_max_size: int | None = None,
    post_process_min_size: int | None = None,
) -> WireRequest:
    """``POST /v1/api-tools/segmentation``. ``alpha`` -1.5..1.5 (higher: more paragraphs) or
    -100 (automatic); ``seg_count`` -1 (automatic) or >= 1; the post-process sizes bound
    paragraph lengths in characters when ``post_process`` is True."""
    _text_field(text, "The text to segment", SEGMENTATION_MAX_CHARS)
    body: dict[str, Any] = {"text": text}
    if alpha is not None:
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
            raise ClovaValidationError(f"alpha must be a number, got {alpha!r}.")
        if alpha != -100 and not (math.isfinite(alpha) and -1.5 <= alpha <= 1.5):
            raise ClovaValidationError(
                f"alpha={alpha} is out of range: allowed -1.5..1.5 (higher splits more), or "
                "-100 to let the model choose."
            )
        body["alpha"] = alpha
    if seg_count is not None:
        body["segCnt"] = int_field("seg_count", seg_count, low=1, auto=True)
    if post_process is not None:
        body["postProcess"] = _bool_field("post_process", post_process)
    max_size = 1000 if post_process_max_size is None else post_process_max_size
    if post_process_max_size is not None:
        body["postProcessMaxSize"] = int_field("post_process_max_size", max_size, low=1, auto=False)
    if post_process_min_size is not None:
        body["postProcessMinSize"] = int_field(
            "post_process_min_size", post_process_min_size, low=0, high=max_size, auto=True
        )
    elif max_size < DEFAULT_MIN_SIZE:
        raise ClovaValidationError(_min_default_message("post_process", max_size))
    return WireRequest(path=SEGMENTATION_PATH, body=body, api_version=1, quota_text=text)


def _locate(text: str, sentence: str, cursor: int) -> tuple[int, int]:
    """Where ``sentence`` (or its stripped form) occurs in ``text`` from ``cursor``, and its
    length there; ``(-1, 0)`` when it does not."""
    for candidate in (sentence, sentence.strip()):
        found = text.find(candidate, cursor) if candidate else -1
        if found >= 0:
            return found, len(candidate)
    return -1, 0


def parse_segmentation(
    result: Mapping[str, Any], *, text: str, request_id: str
) -> SegmentationResult:
    """Paragraphs from ``topicSeg`` (lists of sentences) and ``span`` (their sentence indexes
    [inference: the docs show the field, not its meaning]). Each paragraph's text is the
    original text from its first to its last sentence when both are found in order, else
    its sentences joined by spaces."""
    topics = result.get("topicSeg")
    if not isinstance(topics, list) or not all(
        isinstance(seg, list) and all(isinstance(s, str) for s in seg) for seg in topics
    ):
        raise broken_reply("result.topicSeg is not a list of sentence lists", request_id)
    spans = result.get("span")
    span_list = spans if isinstance(spans, list) and len(spans) == len(topics) else None
    segments: list[Segment] = []
    cursor = 0
    for index, sentences in enumerate(topics):
        if not sentences:
            continue
        start, _ = _locate(text, sentences[0], cursor)
        last, size = _locate(text, sentences[-1], start) if start >= 0 else (-1, 0)
        if start >= 0 and last >= 0:
            body, cursor = text[start : last + size], last + size
        else:
            body, start = " ".join(s.strip() for s in sentences), -1
        indexes = span_list[index] if span_list is not None else ()
        if not isinstance(indexes, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in indexes
        ):
            indexes = []
        segments.append(Segment(body, tuple(sentences), start, tuple(indexes)))
    return SegmentationResult(
        segments=tuple(segments),
        input_tokens=count_field(result, "inputTokens", request_id),
        request_id=request_id,
        raw=dict(result),
    )


def segmentation_windows(text: str, limit: int = SEGMENTATION_MAX_CHARS) -> list[tuple[int, str]]:
    """``text`` cut into pieces of at most ``limit`` characters, with their offsets, for texts
    longer than one segmentation request takes. Each cut is at the last line break before the
    limit, else the last sentence end (``. ``), else the last space, else at the limit.
    Whitespace-only pieces are dropped; a text within the limit is one piece."""
    pieces: list[tuple[int, str]] = []
    start = 0
    while start < len(text):
        end = min(start + limit, len(text))
        if end < len(text):
            for mark in ("\n", ". ", " "):
                cut = text.rfind(mark, start + 1, end)
                if cut > start:
                    end = cut + len(mark)
                    break
        if text[start:end].strip():
            pieces.append((start, text[start:end]))
        start = end
    return pieces


def shifted(segments: Sequence[Segment], offset: int) -> list[Segment]:
    """``segments`` of a piece starting at ``offset``, with offsets into the whole text."""
    return [
        replace(s, start_index=s.start_index + offset) if s.start_index >= 0 else s
        for s in segments
    ]


# --- reranker ----------------------------------------------------------------------------


def prepare_rerank(
    query: str, documents: Iterable[object], *, max_tokens: int | None = None
) -> tuple[WireRequest, list[RerankDocument]]:
    """``POST /v1/api-tools/reranker``, and the checked documents (for citation mapping).

    Documents need unique, non-empty string ids and non-empty text; their number is not
    limited by the docs [gap], their size by the 128,000 input-token limit, checked here
    with a conservative local lower bound."""
    _text_field(query, "The query", RERANKER_MAX_INPUT_TOKENS * 8)
    checked = check_documents(documents, what="documents")
    if not checked:
        raise ClovaValidationError(
            "documents is empty; the reranker needs at least one document to choose from."
        )
    body: dict[str, Any] = {
        "query": query,
        "documents": [{"id": d.id, "doc": d.doc} for d in checked],
    }
    if max_tokens is not None:
        body["maxTokens"] = int_field(
            "max_tokens", max_tokens, low=1, high=MAX_TOOLKIT_OUTPUT_TOKENS, auto=False
        )
    lower = lower_bound_tokens(query) + sum(lower_bound_tokens(d.doc) for d in checked)
    if lower > RERANKER_MAX_INPUT_TOKENS:
        raise ContextLimitError(
            f"The query and documents are at least {lower:,} tokens (a conservative local "
            f"lower bound), over the reranker's {RERANKER_MAX_INPUT_TOKENS:,}-token input "
            "limit. Send fewer or shorter documents (e.g. the top hits of a retriever).",
            input_tokens=lower,
            max_input_tokens=RERANKER_MAX_INPUT_TOKENS,
        )
    quota = (
        estimate_tokens(query)
        + sum(estimate_tokens(d.doc) for d in checked)
        + (max_tokens or DEFAULT_TOOLKIT_OUTPUT_TOKENS)
    )
    return WireRequest(path=RERANKER_PATH, body=body, api_version=1, quota_tokens=quota), checked


def parse_rerank(
    result: Mapping[str, Any], *, documents: Sequence[RerankDocument], request_id: str
) -> RerankResult:
    """The reranker's answer, its citations mapped to the sent ``documents``.

    ``cited_documents`` keeps the reply's ``citedDocuments`` order (the documents the answer
    relies on, most relevant first [inference]); each is the caller's own document when its
    id was sent. Ids that were not sent are kept as received and listed in ``unknown_ids``."""
    by_id = {d.id: d for d in documents}
    answer = result.get("result")
    if answer is None:
        answer = ""
    if not isinstance(answer, str):
        raise broken_reply("result.result (the answer) is not a string", request_id)
    plain, citations = parse_citations(answer, by_id)
    raw_cited = result.get("citedDocuments") or []
    if not isinstance(raw_cited, list):
        raise broken_reply("result.citedDocuments is not a list", request_id)
    cited: list[RerankDocument] = []
    unknown: list[str] = []
    for item in raw_cited:
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), (str, int)):
            raise broken_reply("result.citedDocuments holds an entry without an id", request_id)
        doc_id = str(item["id"])
        if doc_id in by_id:
            cited.append(by_id[doc_id])
        else:
            unknown.append(doc_id)
            cited.append(RerankDocument(doc_id, str(item.get("doc") or "")))
    if not raw_cited:  # [inference] fall back on the answer's citations, in answer order
        for citation in citations:
            if citation.document is not None and citation.document not in cited:
                cited.append(citation.document)
    unknown.extend(c.id for c in citations if not c.known)
    queries = result.get("suggestedQueries") or []
    if not isinstance(queries, list):
        raise broken_reply("result.suggestedQueries is not a list", request_id)
    return RerankResult(
        answer=answer,
        answer_text=plain,
        cited_documents=tuple(cited),
        citations=citations,
        suggested_queries=tuple(str(q) for q in queries),
        usage=toolkit_usage(result, request_id),
        request_id=request_id,
        unknown_ids=tuple(dict.fromkeys(unknown)),
        raw=dict(result),
    )


# --- summarization -----------------------------------------------------------------------


def prepare_summarization(
    texts: Sequence[str],
    *,
    auto_sentence_splitter: bool | None = None,
    seg_count: int | None = None,
    seg_max_size: int | None = None,
    seg_min_size: int | None = None,
    include_ai_filters: bool | None = None,
) -> WireRequest:
    """``POST /v1/api-tools/summarization/v2``: one summary of ``texts`` (each 1..35,000
    characters). ``seg_count`` -1 (automatic) or >= 1; ``seg_max_size`` 1..3000;
    ``seg_min_size`` 0..``seg_max_size``."""
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise ClovaValidationError(
            "texts must be a list of strings; wrap a single text in a list: [text]."
        )
    if not texts:
        raise ClovaValidationError("texts is empty; give at least one text to summarize.")
    for index, text in enumerate(texts):
        _text_field(text, f"texts[{index}]", SUMMARIZATION_MAX_CHARS)
    body: dict[str, Any] = {"texts": list(texts)}
    if auto_sentence_splitter is not None:
        body["autoSentenceSplitter"] = _bool_field("auto_sentence_splitter", auto_sentence_splitter)
    if seg_count is not None:
        body["segCount"] = int_field("seg_count", seg_count, low=1, auto=True)
    max_size = 1000 if seg_max_size is None else seg_max_size
    if seg_max_size is not None:
        body["segMaxSize"] = int_field("seg_max_size", max_size, low=1, high=3000, auto=False)
    if seg_min_size is not None:
        body["segMinSize"] = int_field(
            "seg_min_size", seg_min_size, low=0, high=max_size, auto=False
        )
    elif max_size < DEFAULT_MIN_SIZE:
        raise ClovaValidationError(_min_default_message("seg", max_size))
    if include_ai_filters is not None:
        body["includeAiFilters"] = _bool_field("include_ai_filters", include_ai_filters)
    return WireRequest(
        path=SUMMARIZATION_PATH, body=body, api_version=1, quota_text="\n".join(texts)
    )


def parse_summary(result: Mapping[str, Any], *, request_id: str) -> SummaryResult:
    """``result.text`` and ``result.inputTokens``."""
    text = result.get("text")
    if not isinstance(text, str):
        raise broken_reply("result.text (the summary) is not a string", request_id)
    return SummaryResult(
        text=text,
        input_tokens=count_field(result, "inputTokens", request_id),
        request_id=request_id,
        raw=dict(result),
    )


# --- shared ------------------------------------------------------------------------------


def broken_reply(what: str, request_id: str) -> APIResponseError:
    return APIResponseError(f"Unexpected CLOVA Studio reply: {what}.", request_id=request_id)


def count_field(result: Mapping[str, Any], key: str, request_id: str) -> int:
    value = result.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise broken_reply(f"result.{key} is not a number", request_id)
    return int(value)


def toolkit_usage(result: Mapping[str, Any], request_id: str) -> Usage | None:
    usage = result.get("usage")
    if usage is None:
        return None
    if not isinstance(usage, Mapping):
        raise broken_reply("result.usage is not an object", request_id)
    prompt = count_field(usage, "promptTokens", request_id)
    completion = count_field(usage, "completionTokens", request_id)
    total = usage.get("totalTokens")
    return Usage(prompt, completion, total if isinstance(total, int) else prompt + completion)
