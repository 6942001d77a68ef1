"""Result types of CLOVA Studio's RAG toolkit: segmentation, reranker, summarization and
RAG Reasoning (frozen dataclasses, no framework imports).

Citations are the point of the reranker and RAG Reasoning: both answer with the cited text
wrapped in ``<doc-ID>`` ... ``</doc-ID>`` tags. :class:`Citation` maps each tagged span back to
the document the caller sent under that id; a tag naming an id that was not sent is kept
with ``document=None`` (``known`` is False) rather than dropped or guessed, so callers can
decide (the framework classes raise :class:`~clova_core.errors.UnknownCitationError` when
asked to be strict).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from clova_core.types import ChatResult, Message, Tool, ToolCall, ToolChoice, Usage


@dataclass(frozen=True, slots=True)
class Segment:
    """One topic paragraph of a segmented text.

    ``start_index`` is the character offset of the paragraph's first sentence in the text
    that was sent, or -1 when the service normalised it beyond recognition (the service
    returns sentences, not offsets). ``sentence_indexes`` are CLOVA's ``span`` entry for the
    paragraph."""

    text: str
    sentences: Sequence[str]
    start_index: int
    sentence_indexes: Sequence[int] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentationResult:
    """The topic paragraphs of one text, in text order."""

    segments: Sequence[Segment]
    input_tokens: int
    request_id: str
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RerankDocument:
    """A document sent to the reranker (or listed in a ``search_result`` tool output):
    the caller's ``id`` and the text ``doc``."""

    id: str
    doc: str


@dataclass(frozen=True, slots=True)
class Citation:
    """One ``<doc-ID>`` ... ``</doc-ID>`` span of an answer.

    ``text`` is the cited passage as it appears in the answer; ``start`` / ``end`` locate it
    in the answer with the tags removed (``answer_text``). ``document`` is the document the
    caller sent under ``id``, or None when the reply cites an id that was never sent."""

    id: str
    text: str
    start: int
    end: int
    document: RerankDocument | None

    @property
    def known(self) -> bool:
        """True when the cited id is one the caller sent."""
        return self.document is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class RerankResult:
    """The reranker's answer: the cited documents in relevance order, an answer whose
    citations point at them, and suggested follow-up queries."""

    answer: str
    """The answer as received, citation tags included."""
    answer_text: str
    """The answer with the citation tags removed (what to show a reader)."""
    cited_documents: Sequence[RerankDocument]
    citations: Sequence[Citation]
    suggested_queries: Sequence[str]
    usage: Usage | None
    request_id: str
    unknown_ids: Sequence[str] = ()
    """Ids the reply cites (in the answer or in ``citedDocuments``) that were never sent."""
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class SummaryResult:
    """A summary of the texts sent, and the input tokens they counted as."""

    text: str
    input_tokens: int
    request_id: str
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class RagReasoningRequest:
    """One RAG Reasoning call: a v3-style conversation plus the retrieval tool(s) it may call.

    ``tools`` is required (at least one, each with a JSON-Schema ``parameters`` object). The
    model either calls a tool (``tool_calls`` on the result) or, once a tool message carrying
    ``{"search_result": [{"id", "doc"}, ...]}`` is in ``messages``, answers with
    ``<doc-ID>`` citations (build that content with :func:`clova_core.search_result_content`).
    ``None`` fields are left to the server's defaults, except ``max_tokens`` (sent only when
    given). ``include_ai_filters`` defaults to True on the server for this API.
    """

    messages: Sequence[Message]
    tools: Sequence[Tool]
    tool_choice: ToolChoice | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_tokens: int | None = None
    repetition_penalty: float | None = None
    stop: Sequence[str] | None = None
    seed: int | None = None
    include_ai_filters: bool | None = None
    extra_body: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RagReasoningResult:
    """A RAG Reasoning reply: tool calls to run, or an answer with citations.

    ``documents`` are the ``search_result`` documents found in the request's tool messages,
    by id: the ids a citation may legitimately name."""

    chat: ChatResult
    answer_text: str
    """``chat.content`` with the citation tags removed."""
    citations: Sequence[Citation]
    documents: Mapping[str, RerankDocument]

    @property
    def content(self) -> str:
        """The answer as received, citation tags included."""
        return self.chat.content

    @property
    def tool_calls(self) -> Sequence[ToolCall]:
        """The retrieval calls the model asks for (empty once it answers)."""
        return self.chat.tool_calls

    @property
    def request_id(self) -> str:
        return self.chat.request_id

    @property
    def unknown_citation_ids(self) -> list[str]:
        """Ids cited in the answer that no ``search_result`` in the request carried."""
        return [citation.id for citation in self.citations if not citation.known]
