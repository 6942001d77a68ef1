"""Pure request builder and response parser for RAG Reasoning
(``POST /v1/api-tools/rag-reasoning``): v3 messages plus required retrieval tools in; tool
calls, or an answer citing ``<doc-ID>`` from ``search_result`` tool outputs, out."""

# Wire format and what is documented: clova-api.md 10 and 10.1.

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clova_core.citations import parse_citations, search_results_in
from clova_core.errors import ClovaValidationError
from clova_core.features import tool_choice_to_wire, tools_to_wire
from clova_core.messages import messages_to_wire
from clova_core.models import ChatModelSpec
from clova_core.request import WireRequest
from clova_core.response import parse_chat_result
from clova_core.tokens import estimate_tokens
from clova_core.toolkit_types import RagReasoningRequest, RagReasoningResult
from clova_core.toolkit_wire import (
    DEFAULT_TOOLKIT_OUTPUT_TOKENS,
    MAX_TOOLKIT_OUTPUT_TOKENS,
    RERANKER_MAX_INPUT_TOKENS,
    int_field,
)
from clova_core.types import ChatRequest
from clova_core.validation import sampling_fields

RAG_REASONING_PATH = "/v1/api-tools/rag-reasoning"
RAG_MIN_OUTPUT_TOKENS = 1_024

RAG_REASONING_SPEC = ChatModelSpec(
    name="RAG Reasoning",
    api_version=3,
    # [gap] the context window of the RAG Reasoning model is not documented; the reranker's
    # 128,000 input tokens is assumed [inference]. Only used to shape messages and tools.
    context_window=RERANKER_MAX_INPUT_TOKENS,
    max_input_tokens=RERANKER_MAX_INPUT_TOKENS,
    max_output_tokens=MAX_TOOLKIT_OUTPUT_TOKENS,
    supports_tools=True,
)


def prepare_rag_reasoning(request: RagReasoningRequest) -> WireRequest:
    """``POST /v1/api-tools/rag-reasoning``: v3 messages and tools (required, each with a
    ``parameters`` schema), ``maxTokens`` 1024..4095, ``temperature`` in (0, 1]."""
    if not request.tools:
        raise ClovaValidationError(
            "RAG Reasoning needs at least one tool (a retrieval function it can call); pass "
            "tools=[Tool(name, description, parameters)]."
        )
    for tool in request.tools:
        if getattr(tool, "parameters", None) is None:
            raise ClovaValidationError(
                f"tool {getattr(tool, 'name', tool)!r} has no parameters schema; RAG Reasoning "
                "requires one (e.g. {'type': 'object', 'properties': {'query': {'type': "
                "'string'}}, 'required': ['query']})."
            )
    if request.temperature is not None and request.temperature == 0:
        raise ClovaValidationError(
            "temperature=0 is not allowed by RAG Reasoning (0 < temperature <= 1); use a "
            "small positive value such as 0.01."
        )
    chat = ChatRequest(
        messages=request.messages,
        model=RAG_REASONING_SPEC.name,
        temperature=request.temperature,
        top_p=request.top_p,
        top_k=request.top_k,
        repetition_penalty=request.repetition_penalty,
        stop=request.stop,
        seed=request.seed,
        tools=request.tools,
        tool_choice=request.tool_choice,
        include_ai_filters=request.include_ai_filters,
    )
    wire_messages = messages_to_wire(chat.messages, RAG_REASONING_SPEC, tuned=False)
    body: dict[str, Any] = {"messages": wire_messages.messages}
    body.update(sampling_fields(chat, RAG_REASONING_SPEC))
    body["tools"] = tools_to_wire(chat, RAG_REASONING_SPEC, tuned=False, has_images=False)
    choice = tool_choice_to_wire(chat)
    if choice is not None:
        body["toolChoice"] = choice
    if request.max_tokens is not None:
        body["maxTokens"] = int_field(
            "max_tokens",
            request.max_tokens,
            low=RAG_MIN_OUTPUT_TOKENS,
            high=MAX_TOOLKIT_OUTPUT_TOKENS,
            auto=False,
        )
    if request.extra_body:
        body.update(request.extra_body)
    quota = estimate_tokens(str(body["messages"])) + (
        request.max_tokens or DEFAULT_TOOLKIT_OUTPUT_TOKENS
    )
    return WireRequest(path=RAG_REASONING_PATH, body=body, api_version=3, quota_tokens=quota)


def parse_rag_reasoning(
    result: Mapping[str, Any], *, request: RagReasoningRequest, request_id: str
) -> RagReasoningResult:
    """The reply as a v3 chat result, its ``<doc-ID>`` citations mapped to the
    ``search_result`` documents of the request's tool messages."""
    chat = parse_chat_result(
        result, api_version=3, model=RAG_REASONING_SPEC.name, request_id=request_id
    )
    documents = search_results_in(m.content for m in request.messages if m.role == "tool")
    plain, citations = parse_citations(chat.content, documents)
    return RagReasoningResult(
        chat=chat, answer_text=plain, citations=citations, documents=documents
    )
