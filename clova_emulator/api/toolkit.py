"""Segmentation, reranker and summarization endpoints.

Documented fields and limits are validated with the documented codes: 40001 "Invalid
parameter" for a bad value, 40004 "Text empty" for empty text. Text over a length limit gets
40003 with the legacy "Text too long" message [inference: the docs name no code for it], and
a reranker request over its 128,000 input tokens 40003 "Context length exceeded". Scripted
errors, raw replies and disconnects with ``endpoint="any"`` apply here (model: the tool name).
"""

# Wire format and what is documented: clova-api.md 10 and 10.1.

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clova_emulator.api.chat import take_control
from clova_emulator.api.validation import boolean, integer
from clova_emulator.behaviour.reranking import Doc, cited, cited_answer, suggested_queries
from clova_emulator.behaviour.segmenting import AUTO_ALPHA, segment
from clova_emulator.behaviour.summarizing import summarize
from clova_emulator.behaviour.tokenizer import count_tokens
from clova_emulator.scripting import ScriptedDisconnect
from clova_emulator.serving.envelope import EmulatedApiError, invalid, native_success
from clova_emulator.state import Ctx, DropConnection, JsonResponse, Response

SEGMENTATION_MAX_CHARS = 120_000
SUMMARIZATION_MAX_CHARS = 35_000
RERANKER_MAX_INPUT_TOKENS = 128_000
MAX_OUTPUT_TOKENS = 4_095


def checked_text(value: Any, key: str, limit: int) -> str:
    """A required non-empty string of at most ``limit`` characters."""
    if not isinstance(value, str):
        raise invalid(f"{key} must be a string")
    if not value.strip():
        raise EmulatedApiError("40004", f"Text empty: {key}")
    if len(value) > limit:
        raise EmulatedApiError("40003", f"Text too long: {key} exceeds {limit} characters")
    return value


def _auto_or_at_least(body: Mapping[str, Any], key: str, low: int, default: int) -> int:
    """-1 (automatic) or an integer >= ``low``."""
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or (value != -1 and value < low):
        raise invalid(f"{key} must be -1 or an integer >= {low}")
    return value


def _serve(ctx: Ctx, tool: str, tokens: int, result: dict[str, Any]) -> Response:
    headers = ctx.state.admit(tool, None, None, tokens)
    if isinstance(take_control(ctx, "any", tool), ScriptedDisconnect):
        return DropConnection()
    return JsonResponse(200, native_success(result), "20000", headers)


def segmentation(ctx: Ctx) -> Response:
    """``POST /v1/api-tools/segmentation``: ``topicSeg``, ``span``, ``inputTokens``."""
    body = ctx.body
    text = checked_text(body.get("text"), "text", SEGMENTATION_MAX_CHARS)
    alpha = body.get("alpha", 0.0)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
        raise invalid("alpha must be a number")
    if alpha != AUTO_ALPHA and not -1.5 <= alpha <= 1.5:
        raise invalid("alpha must be -100 or in [-1.5, 1.5]")
    seg_count = _auto_or_at_least(body, "segCnt", 1, -1)
    post_process = boolean(body, "postProcess")
    max_size = integer(body, "postProcessMaxSize", low=1, high=10**9) or 1000
    min_size = _auto_or_at_least(body, "postProcessMinSize", 0, 300)
    if min_size > max_size:
        raise invalid("postProcessMinSize must be -1 or in [0, postProcessMaxSize]")
    paragraphs = segment(
        text,
        alpha=float(alpha),
        seg_count=seg_count,
        post_process=post_process,
        max_size=max_size,
        min_size=min_size,
    )
    tokens = count_tokens(text)
    result = {
        "topicSeg": [[sentence for _, sentence in p] for p in paragraphs],
        "span": [sorted({index for index, _ in p}) for p in paragraphs],
        "inputTokens": tokens,
    }
    return _serve(ctx, "segmentation", tokens, result)


def _documents(value: Any) -> list[Doc]:
    if not isinstance(value, list) or not value:
        raise invalid("documents must be a non-empty array of {id, doc}")
    docs: list[Doc] = []
    for index, item in enumerate(value):
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            raise invalid(f"documents[{index}].id must be a string")
        if not isinstance(item.get("doc"), str):
            raise invalid(f"documents[{index}].doc must be a string")
        if not item["doc"].strip():
            raise EmulatedApiError("40004", f"Text empty: documents[{index}].doc")
        docs.append(Doc(item["id"], item["doc"]))
    return docs


def reranker(ctx: Ctx) -> Response:
    """``POST /v1/api-tools/reranker``: the cited documents, a cited answer, suggestions."""
    body = ctx.body
    query = body.get("query")
    if not isinstance(query, str):
        raise invalid("query must be a string")
    if not query.strip():
        raise EmulatedApiError("40004", "Text empty: query")
    docs = _documents(body.get("documents"))
    max_tokens = integer(body, "maxTokens", low=1, high=MAX_OUTPUT_TOKENS) or 1024
    prompt = count_tokens(query) + sum(count_tokens(d.doc) for d in docs)
    if prompt > RERANKER_MAX_INPUT_TOKENS:
        raise EmulatedApiError("40003")
    relevant = cited(query, docs)
    answer = cited_answer(query, relevant)
    completion = count_tokens(answer)
    result = {
        "result": answer,
        "citedDocuments": [{"id": d.id, "doc": d.doc} for d in relevant],
        "suggestedQueries": suggested_queries(query, relevant),
        "usage": {
            "promptTokens": prompt,
            "completionTokens": completion,
            "totalTokens": prompt + completion,
        },
    }
    return _serve(ctx, "reranker", prompt + max_tokens, result)


def summarization(ctx: Ctx) -> Response:
    """``POST /v1/api-tools/summarization/v2``: ``text`` and ``inputTokens``."""
    body = ctx.body
    texts = body.get("texts")
    if not isinstance(texts, list) or not texts:
        raise invalid("texts must be a non-empty array of strings")
    for index, text in enumerate(texts):
        checked_text(text, f"texts[{index}]", SUMMARIZATION_MAX_CHARS)
    splitter = body.get("autoSentenceSplitter", True)
    if not isinstance(splitter, bool):
        raise invalid("autoSentenceSplitter must be a boolean")
    seg_count = _auto_or_at_least(body, "segCount", 1, -1)
    max_size = integer(body, "segMaxSize", low=1, high=3000) or 1000
    min_size = integer(body, "segMinSize", low=0, high=3000)
    if min_size is not None and min_size > max_size:
        raise invalid("segMinSize must be in [0, segMaxSize]")
    boolean(body, "includeAiFilters")
    tokens = sum(count_tokens(text) for text in texts)
    summary = summarize(texts, seg_count=seg_count, split_sentences_=splitter)
    return _serve(ctx, "summarization", tokens, {"text": summary, "inputTokens": tokens})
