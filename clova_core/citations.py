"""``<doc-ID>`` citations of the reranker and RAG Reasoning, and ``search_result`` tool output.

RAG Reasoning answers cite documents as ``<doc-{id}>cited text</doc-{id}>`` with the ids of
the ``search_result`` tool output
(https://api.ncloud-docs.com/docs/en/clovastudio-ragreasoning). The reranker's tags are of "the
same family" but their exact form is not shown in the docs [gap]: both ``<doc-{id}>`` and
the dash-less ``<doc{id}>`` are read, and a dash-less tag is matched to a sent id either as
written after ``doc`` (``<doc1>`` -> ``"1"``) or whole (``<doc1>`` -> ``"doc1"``) [inference].

A tag naming an id the caller never sent is kept as a :class:`Citation` with
``document=None``: dropping it would hide a real discrepancy, guessing would invent one.
:func:`check_citations` turns such citations into :class:`UnknownCitationError` for callers
who prefer to fail.
"""

# Wire format and what is documented: clova-api.md 10 and 10.1.

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from clova_core.errors import APIResponseError, ClovaValidationError
from clova_core.toolkit_types import Citation, RerankDocument
from clova_core.types import Message

__all__ = [
    "UnknownCitationError",
    "check_citations",
    "citation_dicts",
    "cite_plain_tool_outputs",
    "parse_citations",
    "search_result_content",
    "search_results_in",
]

_TAG_RE = re.compile(r"<doc(?P<dash>-?)(?P<id>[^<>\s]+?)>(?P<text>.*?)</doc(?P=dash)(?P=id)>", re.S)
_STRAY_TAG_RE = re.compile(r"</?doc-?[^<>\s]*>")


class UnknownCitationError(APIResponseError):
    """The reply cites a document id that was not sent (``ids`` lists them)."""

    def __init__(self, message: str, *, ids: Sequence[str], request_id: str | None) -> None:
        super().__init__(message, request_id=request_id)
        self.ids = list(ids)


def resolve_id(raw_id: str, dash: bool, documents: Mapping[str, RerankDocument]) -> str:
    """The sent id a tag names: as written, else (dash-less tags) with the ``doc`` prefix."""
    if raw_id in documents:
        return raw_id
    prefixed = ("doc-" if dash else "doc") + raw_id
    return prefixed if prefixed in documents else raw_id


def parse_citations(
    answer: str, documents: Mapping[str, RerankDocument]
) -> tuple[str, tuple[Citation, ...]]:
    """The answer without tags, and one :class:`Citation` per tagged span, in answer order."""
    plain: list[str] = []
    citations: list[Citation] = []
    length = 0
    position = 0
    for match in _TAG_RE.finditer(answer):
        before = _STRAY_TAG_RE.sub("", answer[position : match.start()])
        plain.append(before)
        length += len(before)
        # Nested or stray tags inside a cited span are not part of the passage.
        text = _STRAY_TAG_RE.sub("", match.group("text"))
        cited_id = resolve_id(match.group("id"), bool(match.group("dash")), documents)
        citations.append(
            Citation(cited_id, text, length, length + len(text), documents.get(cited_id))
        )
        plain.append(text)
        length += len(text)
        position = match.end()
    plain.append(_STRAY_TAG_RE.sub("", answer[position:]))
    return "".join(plain), tuple(citations)


def check_citations(citations: Iterable[Citation], *, request_id: str | None) -> None:
    """Raise :class:`UnknownCitationError` when any citation names an id that was not sent."""
    unknown = list(dict.fromkeys(c.id for c in citations if not c.known))
    if unknown:
        raise UnknownCitationError(
            f"The answer cites document id(s) {', '.join(map(repr, unknown))} that were not "
            "among the documents sent. Check that the ids in your search results are unique "
            "and stable, or pass strict_citations=False to receive such citations flagged "
            "(document=None) instead.",
            ids=unknown,
            request_id=request_id,
        )


def check_documents(documents: Iterable[object], *, what: str) -> list[RerankDocument]:
    """Documents as :class:`RerankDocument`: non-empty string ids, unique, non-empty text.

    Accepts ``RerankDocument``, ``{"id", "doc"}`` mappings and ``(id, doc)`` pairs."""
    out: list[RerankDocument] = []
    seen: set[str] = set()
    for index, item in enumerate(documents):
        doc_id: object
        doc: object
        if isinstance(item, RerankDocument):
            doc_id, doc = item.id, item.doc
        elif isinstance(item, Mapping):
            doc_id, doc = item.get("id"), item.get("doc")
        elif isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 2:
            doc_id, doc = item[0], item[1]
        else:
            raise ClovaValidationError(
                f"{what}[{index}] must be a RerankDocument, an {{'id', 'doc'}} mapping or an "
                f"(id, doc) pair, got {type(item).__name__}."
            )
        if not isinstance(doc_id, str) or not doc_id.strip():
            raise ClovaValidationError(
                f"{what}[{index}] has id {doc_id!r}; every document needs a non-empty string "
                "id, which citations use to point back at it."
            )
        if any(char.isspace() or char in "<>" for char in doc_id):
            raise ClovaValidationError(
                f"{what}[{index}] has id {doc_id!r}; ids must not contain spaces or '<' / '>', "
                "since the answer cites them inside <doc-ID> tags."
            )
        if doc_id in seen:
            raise ClovaValidationError(
                f"{what}[{index}] repeats the id {doc_id!r}; ids must be unique so that each "
                "citation maps to one document."
            )
        if not isinstance(doc, str) or not doc.strip():
            raise ClovaValidationError(
                f"{what}[{index}] (id {doc_id!r}) has empty text; CLOVA rejects empty "
                "documents. Drop it before sending."
            )
        seen.add(doc_id)
        out.append(RerankDocument(doc_id, doc))
    return out


def search_result_content(documents: Iterable[object]) -> str:
    """The content of a tool message answering RAG Reasoning's retrieval call:
    ``{"search_result": [{"id", "doc"}, ...]}`` as JSON text (ids unique, text non-empty).
    An empty result is allowed: the model then says it found nothing."""
    checked = check_documents(documents, what="search_result")
    payload = {"search_result": [{"id": d.id, "doc": d.doc} for d in checked]}
    return json.dumps(payload, ensure_ascii=False)


def search_results_in(contents: Iterable[Any]) -> dict[str, RerankDocument]:
    """The ``search_result`` documents in tool-message contents, by id (first wins).

    Contents that are not such JSON are skipped: a tool may return anything, and only
    ``search_result`` documents can be cited."""
    found: dict[str, RerankDocument] = {}
    for content in contents:
        try:
            payload = json.loads(content) if isinstance(content, str) else content
        except ValueError:
            continue
        items = payload.get("search_result") if isinstance(payload, Mapping) else None
        if not isinstance(items, list):
            continue
        for item in items:
            if isinstance(item, Mapping) and isinstance(item.get("doc"), str):
                doc_id = item.get("id")
                if isinstance(doc_id, (str, int)) and not isinstance(doc_id, bool):
                    found.setdefault(str(doc_id), RerankDocument(str(doc_id), item["doc"]))
    return found


def cite_plain_tool_outputs(messages: Sequence[Message]) -> list[Message]:
    """``messages`` with each tool message whose content is not ``search_result`` JSON sent
    as one search result under its tool-call id [inference: RAG Reasoning cites only
    ``search_result`` documents], so a plain-text retrieval tool's output can be cited too."""
    out: list[Message] = []
    for message in messages:
        content = message.content
        if (
            message.role == "tool"
            and isinstance(content, str)
            and content.strip()
            and '"search_result"' not in content
        ):
            wrapped = search_result_content([(message.tool_call_id or "tool", content)])
            out.append(Message("tool", wrapped, tool_call_id=message.tool_call_id))
        else:
            out.append(message)
    return out


def citation_dicts(citations: Iterable[Citation]) -> list[dict[str, Any]]:
    """Citations as JSON-ready dicts: ``id``, ``text``, ``start``, ``end``, ``doc`` (the cited
    document's text, None when its id was not sent) and ``known``."""
    return [
        {
            "id": c.id,
            "text": c.text,
            "start": c.start,
            "end": c.end,
            "doc": None if c.document is None else c.document.doc,
            "known": c.known,
        }
        for c in citations
    ]
