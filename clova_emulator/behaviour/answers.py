"""Answers in a schema after tool calls: what a model would copy from the tool results.

A structured answer (``responseFormat``, or a forced function) is filled first from the
fields of the data it is given: JSON objects in this turn's tool results, and flat JSON
objects quoted in the request itself (LlamaIndex's agent, for one, sends the whole
conversation, tool results included, as one user message). A top-level property whose name
is a key of such an object takes that value when its type fits; every other slot is filled
from the request and the results' text as usual (``schema_values.fill``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from clova_emulator.behaviour.conversation import ChatCall
from clova_emulator.behaviour.evidence import Evidence
from clova_emulator.behaviour.schema_values import fill

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


_FLAT_OBJECT_RE = re.compile(r"\{[^{}]*\}")


def _results(call: ChatCall) -> list[str]:
    """The tool results' text after the last user message."""
    return [turn.text for turn in call.turns[call.last_user_index() + 1 :] if turn.role == "tool"]


def result_fields(call: ChatCall) -> dict[str, Any]:
    """Top-level fields of the JSON objects quoted in the request and of this turn's tool
    results (later ones win)."""
    fields: dict[str, Any] = {}
    quoted = _FLAT_OBJECT_RE.findall(call.request_text())
    for text in [*quoted, *_results(call)]:
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, dict):
            fields.update(value)
    return fields


def _fits(value: Any, schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    if not isinstance(kind, str) or kind not in _JSON_TYPES:
        return False
    if isinstance(value, bool) and kind != "boolean":
        return False
    return isinstance(value, _JSON_TYPES[kind])


def fill_answer(
    schema: Mapping[str, Any], call: ChatCall, *, exclude: frozenset[str] = frozenset()
) -> Any:
    """A value valid against ``schema`` for this turn's answer (module docstring)."""
    text = " ".join([call.request_text(), *_results(call)])
    value = fill(schema, Evidence(text, exclude))
    known = result_fields(call)
    properties = schema.get("properties")
    if isinstance(value, dict) and isinstance(properties, Mapping):
        for name, prop in properties.items():
            if name in known and isinstance(prop, Mapping) and _fits(known[name], prop):
                value[name] = known[name]
    return value
