"""The emulated model: a deterministic :class:`Reply` for a validated :class:`ChatCall`.

Order of decisions:

1. a scripted reply, verbatim;
2. tool calls (``toolcalls.py``) when tools are offered and the turn calls for one; when the
   wanted call lacks a required argument that the request does not give, a question asking
   for it (the emulator never invents an argument);
3. structured output: a JSON document valid against the ``responseFormat`` schema;
4. a text answer from tool results when the conversation carries them;
5. a RAG answer quoting the best passage (``rag.py``);
6. otherwise a short reply echoing the key words of the last user message (Korean for
   Korean input).

Thinking (HCX-007, effort low/medium/high) comes first and grows with the effort. Then stop
sequences cut the content, and the output budget (``maxTokens`` / ``maxCompletionTokens``)
truncates thinking + content, giving ``finish_reason == "length"``.
"""

from __future__ import annotations

import json
from typing import Any

from clova_emulator.behaviour.answers import fill_answer
from clova_emulator.behaviour.conversation import CallOut, ChatCall, FinishReason, Reply
from clova_emulator.behaviour.rag import find_rag, rag_answer
from clova_emulator.behaviour.text import has_hangul, join_list, keywords
from clova_emulator.behaviour.tokenizer import count_tokens, truncate_tokens
from clova_emulator.behaviour.toolcalls import call_id, plan_tool_calls
from clova_emulator.scripting import ScriptedReply

_GREETINGS = frozenset({"hi", "hello", "hey", "안녕", "안녕하세요", "반가워요", "good morning"})
THINKING_SENTENCES = {"low": 3, "medium": 7, "high": 14}
_THINK_EN = (
    "I should work out what is being asked about {kw}.",
    "The relevant facts about {kw} come first; the answer should stay short.",
    "Check that the answer addresses {kw} directly and does not invent details.",
    "Consider whether {kw} needs an example or a caveat.",
)
_THINK_KO = (
    "{kw}에 대해 무엇을 묻는지 정리해 본다.",
    "{kw}와 관련된 핵심 사실을 먼저 떠올리고 답은 짧게 유지한다.",
    "답이 {kw}을 직접 다루는지, 지어낸 내용은 없는지 확인한다.",
    "{kw}에 예시나 주의 사항이 필요한지 생각한다.",
)


def generate(call: ChatCall, scripted: ScriptedReply | None = None) -> Reply:
    """The reply to ``call`` (``scripted`` wins when given)."""
    if scripted is not None:
        return scripted_reply(call, scripted)
    thinking = thinking_text(call) if call.thinking != "none" else None
    plan = plan_tool_calls(call)
    tool_calls = plan.calls
    finish: FinishReason = "tool_calls" if tool_calls else "stop"
    if tool_calls:
        content = ""
    elif plan.missing:
        content = ask_for(plan.missing, korean=has_hangul(call.request_text()))
    elif call.schema is not None:
        content = structured_text(call)
    else:
        content = tool_result_answer(call) or _rag_or_echo(call)
    content = apply_stop(content, call.stop)
    return _fit_budget(call, content, thinking, tool_calls, finish)


def _fit_budget(
    call: ChatCall,
    content: str,
    thinking: str | None,
    tool_calls: list[CallOut],
    finish: FinishReason,
) -> Reply:
    budget = call.max_output
    thinking_tokens: int | None = None
    if thinking is not None:
        thinking, cut = truncate_tokens(thinking, budget)
        thinking_tokens = count_tokens(thinking)
        if cut:
            content, tool_calls, finish = "", [], "length"
        budget -= thinking_tokens
    content, cut = truncate_tokens(content, budget)
    if cut:
        finish = "length"
    completion = count_tokens(content) + (thinking_tokens or 0)
    completion += sum(tool_call.token_count() for tool_call in tool_calls)
    return Reply(
        content=content,
        thinking=thinking,
        tool_calls=tool_calls,
        finish_reason=finish,
        prompt_tokens=call.prompt_tokens,
        completion_tokens=completion,
        thinking_tokens=thinking_tokens,
    )


def ask_for(missing: list[tuple[str, str]], *, korean: bool) -> str:
    """A question back for the arguments a wanted tool call lacks."""
    tool, _ = missing[0]
    slots = ", ".join(dict.fromkeys(slot.strip() or "value" for _, slot in missing))
    if korean:
        return f"{tool}을(를) 실행하려면 {slots} 값이 필요합니다. 알려 주시겠어요?"
    return f"To use {tool} I need the {slots}. Could you tell me?"


def scripted_reply(call: ChatCall, script: ScriptedReply) -> Reply:
    """A scripted reply as given; missing ids and counts filled in."""
    calls = [
        CallOut(
            str(item.get("id") or call_id(call.seed, len(call.turns), index, str(item["name"]))),
            str(item["name"]),
            dict(item.get("arguments") or {}),
        )
        for index, item in enumerate(script.tool_calls)
    ]
    thinking_tokens = count_tokens(script.thinking) if script.thinking is not None else None
    completion = count_tokens(script.content) + (thinking_tokens or 0)
    completion += sum(tool_call.token_count() for tool_call in calls)
    return Reply(
        content=script.content,
        thinking=script.thinking,
        tool_calls=calls,
        finish_reason=script.finish_reason or ("tool_calls" if calls else "stop"),
        prompt_tokens=script.prompt_tokens
        if script.prompt_tokens is not None
        else call.prompt_tokens,
        completion_tokens=(
            script.completion_tokens if script.completion_tokens is not None else completion
        ),
        thinking_tokens=thinking_tokens,
    )


def apply_stop(content: str, stops: list[str]) -> str:
    """``content`` cut before the earliest stop sequence (the sequence itself excluded)."""
    positions = [content.find(stop) for stop in stops if stop and stop in content]
    return content[: min(positions)] if positions else content


def structured_text(call: ChatCall) -> str:
    """A JSON document valid against the schema, pretty-printed like the docs."""
    value = fill_answer(call.schema or {}, call)
    return json.dumps(value, ensure_ascii=False, indent=2)


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_describe(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(_describe(item) for item in value)
    return str(value)


def tool_result_answer(call: ChatCall) -> str | None:
    """A text answer mentioning the values of the tool results after the last user message."""
    start = call.last_user_index() + 1
    names = {tool_call.id: tool_call.name for turn in call.turns for tool_call in turn.tool_calls}
    results: list[str] = []
    for turn in call.turns[start:]:
        if turn.role != "tool":
            continue
        try:
            described = _describe(json.loads(turn.text))
        except ValueError:
            described = turn.text.strip()
        name = names.get(turn.tool_call_id or "", "the tool")
        results.append(f"{name} → {described[:300]}")
    if not results:
        return None
    if has_hangul(call.request_text()):
        return "도구 실행 결과에 따르면 " + "; ".join(results) + "입니다."
    return "Based on the tool results: " + "; ".join(results) + "."


def _rag_or_echo(call: ChatCall) -> str:
    prompt = find_rag(call)
    if prompt is not None:
        answer = rag_answer(prompt)
        if answer is not None:
            return answer
    return echo_reply(call.request_text())


def echo_reply(request: str) -> str:
    """A short, deterministic, non-empty reply built from the request's key words."""
    korean = has_hangul(request)
    snippet = " ".join(request.split())[:80]
    if not snippet or snippet.lower().strip("!.?~ ") in _GREETINGS:
        return "안녕하세요! 무엇을 도와드릴까요?" if korean else "Hello! How can I help you today?"
    found = keywords(request, limit=4)
    if not found:
        return f'"{snippet}"라고 말씀하셨네요.' if korean else f'You said: "{snippet}".'
    if korean:
        return (
            f"{join_list(found, korean=True)}에 대해 질문하셨네요. "
            f"{found[0]}에 대한 짧은 답변을 드립니다."
        )
    listed = join_list(found, korean=False)
    return f"You asked about {listed}. Here is a short answer about {found[0]}."


def thinking_text(call: ChatCall) -> str:
    """Reasoning text whose length grows with the effort (low < medium < high)."""
    request = call.request_text()
    korean = has_hangul(request)
    found = keywords(request, limit=6) or (["요청"] if korean else ["the request"])
    snippet = " ".join(request.split())[:120]
    lines = [f'사용자의 요청: "{snippet}".' if korean else f'The user asks: "{snippet}".']
    templates = _THINK_KO if korean else _THINK_EN
    for index in range(THINKING_SENTENCES.get(call.thinking, 3) - 1):
        lines.append(templates[index % len(templates)].format(kw=found[index % len(found)]))
    return " ".join(lines)
