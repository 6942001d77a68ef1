"""Answers in a schema after tool calls: what a model would copy from the tool results.

A structured answer (``responseFormat``, or a forced function) given after tool results in
the same user turn is filled first from the results' own fields: a top-level property whose
name is a key of a JSON tool result takes that value when its type fits; every other slot is
filled from the request and the results' text as usual (``schema_values.fill``). Before any
tool result this is the plain fill from the request.
"""

from __future__ import annotations

import json
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


def _results(call: ChatCall) -> list[str]:
    """The tool results' text after the last user message."""
    return [turn.text for turn in call.turns[call.last_user_index() + 1 :] if turn.role == "tool"]


def result_fields(call: ChatCall) -> dict[str, Any]:
    """Top-level fields of the JSON-object tool results of this turn (later ones win)."""
    fields: dict[str, Any] = {}
    for text in _results(call):
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
