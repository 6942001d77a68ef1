"""RAG Reasoning (``/v1/api-tools/rag-reasoning``): retrieve first, then answer with citations.

* No tool result since the last user message: the model calls a retrieval tool (the forced
  one, else the best lexical match of the question, else the first), passing the question as
  its query argument (``finishReason: tool_calls``). With ``toolChoice: "none"`` it answers
  that it needs to search instead.
* Tool results present: the ``search_result`` documents of those tool messages
  (``{"search_result": [{"id", "doc"}]}``) are ranked against the question and
  the answer quotes the best ones as ``<doc-{id}>`` ... ``</doc-{id}>``.
"""

# Wire format and what is documented: clova-api.md 10 and 10.1.

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from clova_emulator.behaviour.conversation import CallOut, ToolDef, Turn
from clova_emulator.behaviour.reranking import Doc, cited, cited_answer
from clova_emulator.behaviour.text import has_hangul
from clova_emulator.behaviour.toolcalls import call_id, score

_QUERY_NAMES = ("query", "question", "q", "keyword", "keywords", "search", "text", "input")


@dataclass
class RagReply:
    content: str = ""
    thinking: str = ""
    tool_calls: list[CallOut] = field(default_factory=list)
    cited_ids: list[str] = field(default_factory=list)


def search_results(turns: list[Turn]) -> list[Doc]:
    """The ``search_result`` documents of tool messages (others are ignored)."""
    docs: list[Doc] = []
    seen: set[str] = set()
    for turn in turns:
        try:
            payload = json.loads(turn.text)
        except ValueError:
            continue
        items = payload.get("search_result") if isinstance(payload, dict) else None
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and isinstance(item.get("doc"), str):
                doc_id = str(item.get("id"))
                if doc_id not in seen:
                    seen.add(doc_id)
                    docs.append(Doc(doc_id, item["doc"]))
    return docs


def _arguments(tool: ToolDef, question: str) -> dict[str, Any]:
    properties = tool.parameters.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    required = tool.parameters.get("required")
    required = required if isinstance(required, list) else []
    strings = [
        n for n, p in properties.items() if isinstance(p, dict) and p.get("type") == "string"
    ]
    query = next((n for n in strings if n.lower() in _QUERY_NAMES), strings[0] if strings else None)
    arguments: dict[str, Any] = {} if query is None else {query: question}
    for name in required:
        if name in arguments or not isinstance(properties.get(name), dict):
            continue
        kind = properties[name].get("type")
        if "default" in properties[name]:
            arguments[name] = properties[name]["default"]
        elif kind in ("integer", "number"):
            arguments[name] = 5
        elif kind == "boolean":
            arguments[name] = False
        elif kind == "string":
            arguments[name] = question
    return arguments


def reply(
    turns: list[Turn], tools: list[ToolDef], *, tool_choice: str, forced: str | None, seed: int
) -> RagReply:
    """What RAG Reasoning answers to this conversation."""
    last_user = max((i for i, t in enumerate(turns) if t.role == "user"), default=-1)
    question = turns[last_user].text if last_user >= 0 else ""
    korean = has_hangul(question)
    results = [t for t in turns[last_user + 1 :] if t.role == "tool"]
    if results:
        docs = cited(question, search_results(results))
        thinking = (
            f"검색 결과 {len(docs)}개 문서가 질문과 관련이 있다."
            if korean
            else f"{len(docs)} search result(s) are relevant to the question."
        )
        return RagReply(cited_answer(question, docs), thinking, cited_ids=[d.id for d in docs])
    if tool_choice == "none" or not tools:
        text = (
            "검색 없이는 근거 있는 답을 드릴 수 없습니다."
            if korean
            else "I need to search the documents to answer with sources."
        )
        return RagReply(text, "")
    if forced is not None:
        tool = next(t for t in tools if t.name == forced)
    else:
        tool = max(tools, key=lambda t: (score(t, question), -tools.index(t)))
    call = CallOut(call_id(seed, last_user, 0, tool.name), tool.name, _arguments(tool, question))
    thinking = (
        f"답하려면 {tool.name} 도구로 검색해야 한다."
        if korean
        else f"To answer, I should search with {tool.name}."
    )
    return RagReply("", thinking, [call])
