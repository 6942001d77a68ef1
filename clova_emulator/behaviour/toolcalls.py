"""Deterministic tool calling: which tool to call, with which arguments, and when to stop.

* No tool result after the last user message: call the offered tool whose name parts (split
  on ``_``, ``-`` and camelCase) and description best overlap the request. When the request
  clearly asks for several things ("and", "then", "그리고", ...) and several tools match,
  call each of them in one turn, each filled from the clause that matches it best.
* After tool results: call another matching tool that was not called yet (so a 2-tool agent
  loop works); otherwise answer in text from the results (``replies.py``).
* ``toolChoice`` ``none`` never calls; a forced function is called once per user turn.

Arguments are filled from the request by ``schema_values.fill`` (clova-api.md 3.6 shapes).
"""

from __future__ import annotations

import hashlib
import re
import string

from clova_emulator.behaviour.conversation import CallOut, ChatCall, ToolDef
from clova_emulator.behaviour.evidence import Evidence
from clova_emulator.behaviour.schema_values import fill
from clova_emulator.behaviour.text import STOPWORDS, content_terms, split_identifier, term_set

_CLAUSE_RE = re.compile(
    r"\s*(?:,?\s+and then\s+|,?\s+then\s+|,?\s+and\s+|;\s*|그리고\s*|다음에\s*|또한\s*|하고\s+)",
    re.IGNORECASE,
)
_ID_ALPHABET = string.ascii_letters + string.digits


_CAPITALISED_WORD_RE = re.compile(r"\b[A-Z][A-Za-z]*\b")


def _name_terms(tool: ToolDef) -> set[str]:
    return {part for part in split_identifier(tool.name) if part not in STOPWORDS}


def score(tool: ToolDef, text: str) -> int:
    """Lexical match of a tool against request text (name parts weigh more than description)."""
    request = term_set(text)
    lowered = text.lower()
    value = 3 * len(_name_terms(tool) & request) + len(term_set(tool.description) & request)
    if tool.name.lower() in lowered:
        value += 10
    return value


def matches(tool: ToolDef, text: str) -> bool:
    """A clear match: the tool's name is mentioned, a name part, or two description terms."""
    request = term_set(text)
    return (
        tool.name.lower() in text.lower()
        or bool(_name_terms(tool) & request)
        or len(term_set(tool.description) & request) >= 2
    )


def clauses(text: str) -> list[str]:
    """The request split on conjunctions (a single clause when it has none)."""
    return [part for part in _CLAUSE_RE.split(text) if part and part.strip()] or [text]


def call_id(seed: int, turn_index: int, position: int, name: str) -> str:
    """``call_`` + 24 alphanumerics (clova-api.md 3.6), derived deterministically."""
    digest = hashlib.sha256(f"{seed}:{turn_index}:{position}:{name}".encode()).digest()
    return "call_" + "".join(_ID_ALPHABET[byte % len(_ID_ALPHABET)] for byte in digest[:24])


def build_arguments(tool: ToolDef, text: str) -> dict[str, object]:
    """Arguments for ``tool`` valid against its parameters schema, taken from ``text``."""
    if not tool.parameters.get("properties"):
        return {}
    # Description words are instructions, not values, except capitalised ones: descriptions
    # often list the accepted values ("a city: Seoul, Busan or Jeju"; "USD, EUR or JPY").
    examples = {word.lower() for word in _CAPITALISED_WORD_RE.findall(tool.description)}
    description_terms = set(content_terms(tool.description)) - examples
    exclude = {tool.name.lower(), *split_identifier(tool.name), *description_terms}
    value = fill(tool.parameters, Evidence(text, exclude, prefer=examples))
    return value if isinstance(value, dict) else {}


def _best_clause(tool: ToolDef, parts: list[str]) -> str:
    return max(parts, key=lambda clause: (score(tool, clause), -parts.index(clause)))


def _calls(call: ChatCall, tools: list[ToolDef], request: str) -> list[CallOut]:
    parts = clauses(request)
    made: list[CallOut] = []
    for position, tool in enumerate(tools):
        text = _best_clause(tool, parts) if len(parts) > 1 else request
        made.append(
            CallOut(
                call_id(call.seed, len(call.turns), position, tool.name),
                tool.name,
                build_arguments(tool, text),
            )
        )
    return made


def plan_tool_calls(call: ChatCall) -> list[CallOut]:
    """The tool calls of the next assistant turn (empty: answer in text)."""
    if not call.tools or call.tool_choice == "none":
        return []
    request = call.request_text()
    after = call.turns[call.last_user_index() + 1 :]
    called = {tool_call.name for turn in after for tool_call in turn.tool_calls}
    by_name = {tool.name: tool for tool in call.tools}
    if call.forced_tool is not None:
        forced = by_name[call.forced_tool]
        return [] if forced.name in called else _calls(call, [forced], request)
    if not called:
        matching = [tool for tool in call.tools if matches(tool, request)]
        if len(matching) > 1 and len(clauses(request)) > 1:
            matching.sort(key=lambda tool: _first_mention(tool, request))
            return _calls(call, matching, request)
        best = max(call.tools, key=lambda tool: score(tool, request))
        return _calls(call, [best], request) if score(best, request) > 0 else []
    remaining = [tool for tool in call.tools if tool.name not in called and matches(tool, request)]
    if not remaining:
        return []
    best = max(remaining, key=lambda tool: score(tool, request))
    return _calls(call, [best], request)


def _first_mention(tool: ToolDef, text: str) -> int:
    parts = clauses(text)
    clause = _best_clause(tool, parts)
    return parts.index(clause)
