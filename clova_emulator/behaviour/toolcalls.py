"""Deterministic tool calling: which tool to call, with which arguments, and when to stop.

* No tool result after the last user message: call the offered tool whose name parts (split
  on ``_``, ``-`` and camelCase) and description best overlap the request. When the request
  clearly asks for several things ("and", "then", "그리고", ...) and several tools match,
  call each of them in one turn, each filled from the clause that matches it best.
* After tool results: call another matching tool that was not called yet (so a 2-tool agent
  loop works); otherwise answer in text from the results (``replies.py``).
* ``toolChoice`` ``none`` never calls; a forced function is called once per user turn.

Arguments are filled from the request by ``schema_values.fill`` and
never invented: when a required argument is not in the request, the tool is not called and
the plan records what is missing, so the reply can ask for it as a model would. A forced
function is always called (the API guarantees the call), with stand-ins for what is missing.
Common words for an operation ("plus", "times", "날씨") count as the tool's own name parts.
"""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass, field

from clova_emulator.behaviour.answers import fill_answer, result_fields
from clova_emulator.behaviour.conversation import CallOut, ChatCall, ToolDef
from clova_emulator.behaviour.evidence import Evidence, MissingValueError
from clova_emulator.behaviour.schema_values import fill
from clova_emulator.behaviour.text import STOPWORDS, content_terms, split_identifier, term_set

# "and" between two numbers ("add 17 and 25") joins the operands, not two requests.
_CLAUSE_RE = re.compile(
    r"\s*(?:,?\s+and then\s+|,?\s+then\s+|,\s+and\s+|(?<![\d.])\s+and\s+(?![\d.-])"
    r"|;\s*|그리고\s*|다음에\s*|또한\s*|하고\s+)",
    re.IGNORECASE,
)
# Words that name an operation or a topic the way a tool's name does.
_SYNONYMS: dict[str, frozenset[str]] = {
    "plus": frozenset({"add", "sum"}),
    "sum": frozenset({"add"}),
    "total": frozenset({"add", "sum"}),
    "더하기": frozenset({"add", "sum"}),
    "더해": frozenset({"add", "sum"}),
    "times": frozenset({"multiply", "product"}),
    "product": frozenset({"multiply"}),
    "곱하기": frozenset({"multiply", "product"}),
    "minus": frozenset({"subtract", "difference"}),
    "difference": frozenset({"subtract"}),
    "빼기": frozenset({"subtract", "difference"}),
    "divided": frozenset({"divide", "quotient"}),
    "나누기": frozenset({"divide", "quotient"}),
    "날씨": frozenset({"weather"}),
    "기온": frozenset({"weather", "temperature"}),
    "인구": frozenset({"population"}),
    "환율": frozenset({"currency", "exchange", "convert"}),
    "환전": frozenset({"currency", "exchange", "convert"}),
    "메일": frozenset({"email", "mail"}),
    "이메일": frozenset({"email", "mail"}),
}
_ID_ALPHABET = string.ascii_letters + string.digits
_CAPITALISED_WORD_RE = re.compile(r"\b[A-Z][A-Za-z]*\b")


def _name_terms(tool: ToolDef) -> set[str]:
    return {part for part in split_identifier(tool.name) if part not in STOPWORDS}


def _request_terms(text: str) -> set[str]:
    terms = term_set(text)
    for term in list(terms):
        terms |= _SYNONYMS.get(term, frozenset())
    return terms


def score(tool: ToolDef, text: str) -> int:
    """Lexical match of a tool against request text (name parts weigh more than description)."""
    request = _request_terms(text)
    lowered = text.lower()
    value = 3 * len(_name_terms(tool) & request) + len(term_set(tool.description) & request)
    if tool.name.lower() in lowered:
        value += 10
    return value


def matches(tool: ToolDef, text: str) -> bool:
    """A clear match: the tool's name is mentioned, a name part, or two description terms."""
    request = _request_terms(text)
    return (
        tool.name.lower() in text.lower()
        or bool(_name_terms(tool) & request)
        or len(term_set(tool.description) & request) >= 2
    )


def clauses(text: str) -> list[str]:
    """The request split on conjunctions (a single clause when it has none)."""
    return [part for part in _CLAUSE_RE.split(text) if part and part.strip()] or [text]


def call_id(seed: int, turn_index: int, position: int, name: str) -> str:
    """``call_`` + 24 alphanumerics, derived deterministically."""
    digest = hashlib.sha256(f"{seed}:{turn_index}:{position}:{name}".encode()).digest()
    return "call_" + "".join(_ID_ALPHABET[byte % len(_ID_ALPHABET)] for byte in digest[:24])


def build_arguments(tool: ToolDef, text: str, *, strict: bool = True) -> dict[str, object]:
    """Arguments for ``tool`` valid against its parameters schema, taken from ``text``.

    Strict (the default): raises :class:`MissingValueError` when a required argument is not
    in the text.
    """
    if not tool.parameters.get("properties"):
        return {}
    # The tool's own words are instructions, not values; capitalised ones are not excluded,
    # since descriptions list the accepted values ("a city: Seoul, Busan or Jeju"). They are
    # not preferred either: only the request decides which value is meant.
    examples = {word.lower() for word in _CAPITALISED_WORD_RE.findall(tool.description)}
    description_terms = set(content_terms(tool.description)) - examples
    exclude = {tool.name.lower(), *split_identifier(tool.name), *description_terms}
    value = fill(tool.parameters, Evidence(text, exclude, strict=strict))
    return value if isinstance(value, dict) else {}


@dataclass
class ToolPlan:
    """The tool calls of the next assistant turn, and the arguments a wanted call lacks."""

    calls: list[CallOut] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)  # (tool name, argument)


def _best_clause(tool: ToolDef, parts: list[str]) -> str:
    return max(parts, key=lambda clause: (score(tool, clause), -parts.index(clause)))


def _plan(call: ChatCall, tools: list[ToolDef], request: str, *, forced: bool = False) -> ToolPlan:
    parts = clauses(request)
    plan = ToolPlan()
    for position, tool in enumerate(tools):
        text = _best_clause(tool, parts) if len(tools) > 1 else request
        try:
            arguments = build_arguments(tool, text, strict=not forced)
        except MissingValueError as missing:
            plan.missing.append((tool.name, missing.slot))
            continue
        plan.calls.append(
            CallOut(call_id(call.seed, len(call.turns), position, tool.name), tool.name, arguments)
        )
    return plan


def plan_tool_calls(call: ChatCall) -> ToolPlan:
    """The tool calls of the next assistant turn (none: answer, or ask, in text)."""
    if not call.tools or call.tool_choice == "none":
        return ToolPlan()
    request = call.request_text()
    after = call.turns[call.last_user_index() + 1 :]
    called = {tool_call.name for turn in after for tool_call in turn.tool_calls}
    by_name = {tool.name: tool for tool in call.tools}
    if call.forced_tool is not None:
        forced = by_name[call.forced_tool]
        if forced.name in called:
            return ToolPlan()
        if any(turn.role == "tool" for turn in after) or result_fields(call):
            # A forced call after tool results (or over quoted data) is how clients ask for
            # a final answer in a schema: filled from that data as well (answers.py).
            arguments = fill_answer(forced.parameters, call)
            made = CallOut(
                call_id(call.seed, len(call.turns), 0, forced.name),
                forced.name,
                arguments if isinstance(arguments, dict) else {},
            )
            return ToolPlan(calls=[made])
        return _plan(call, [forced], request, forced=True)
    if not called:
        matching = [tool for tool in call.tools if matches(tool, request)]
        if len(matching) > 1 and len(clauses(request)) > 1:
            matching.sort(key=lambda tool: _first_mention(tool, request))
            return _plan(call, matching, request)
        best = max(call.tools, key=lambda tool: score(tool, request))
        return _plan(call, [best], request) if score(best, request) > 0 else ToolPlan()
    remaining = [tool for tool in call.tools if tool.name not in called and matches(tool, request)]
    if not remaining:
        return ToolPlan()
    best = max(remaining, key=lambda tool: score(tool, request))
    return _plan(call, [best], request)


def _first_mention(tool: ToolDef, text: str) -> int:
    parts = clauses(text)
    clause = _best_clause(tool, parts)
    return parts.index(clause)
