"""JSON-Schema handling: the structured-output schema check and schema-valid value filling.

:func:`check_response_schema` enforces the documented subset of JSON Schema (types
string/number/boolean/integer/object/array; ``format``, ``minimum``, ``maximum``,
``minItems``, ``maxItems``, ``items``, ``properties``, ``required``, ``enum``, ``anyOf``; no
``pattern``) and answers 40055 otherwise. :func:`fill` builds a value valid against a schema,
taking numbers, enum members and strings from the request text; it is used for tool-call
arguments and structured outputs alike. With strict evidence (tool arguments) a required slot
whose value is not in the text raises :class:`~clova_emulator.behaviour.evidence.MissingValueError`
instead of being filled with a stand-in. Local ``$ref`` to ``$defs`` /
``definitions`` (as pydantic emits) is resolved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clova_emulator.behaviour.evidence import Evidence, MissingValueError
from clova_emulator.serving.envelope import EmulatedApiError

SCHEMA_TYPES = frozenset({"string", "number", "boolean", "integer", "object", "array", "null"})
SCHEMA_FORMATS = frozenset(
    {"date-time", "date", "time", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)
_FORMAT_DEFAULTS = {
    "date-time": "2025-01-01T00:00:00Z",
    "date": "2025-01-01",
    "time": "00:00:00",
    "duration": "PT1H",
    "email": "user@example.com",
    "hostname": "example.com",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
    "uuid": "00000000-0000-4000-8000-000000000000",
}
_MAX_DEPTH = 8


def _schema_error(detail: str) -> EmulatedApiError:
    return EmulatedApiError("40055", f"Invalid response format schema: {detail}")


def check_response_schema(schema: Any, path: str = "schema") -> None:
    """Raise 40055 when ``schema`` uses something outside the documented subset."""
    if not isinstance(schema, Mapping):
        raise _schema_error(f"{path} must be an object")
    if "pattern" in schema:
        raise _schema_error(f"{path}.pattern is not supported")
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind is not None else []
    for item in kinds:
        if item not in SCHEMA_TYPES:
            raise _schema_error(f"{path}.type {item!r} is not supported")
    fmt = schema.get("format")
    if fmt is not None and fmt not in SCHEMA_FORMATS:
        raise _schema_error(f"{path}.format {fmt!r} is not supported")
    properties = schema.get("properties", {})
    if not isinstance(properties, Mapping):
        raise _schema_error(f"{path}.properties must be an object")
    for name, sub in properties.items():
        check_response_schema(sub, f"{path}.properties.{name}")
    if "items" in schema:
        check_response_schema(schema["items"], f"{path}.items")
    for keyword in ("anyOf", "oneOf", "allOf"):
        options = schema.get(keyword)
        if options is not None:
            if not isinstance(options, list) or not options:
                raise _schema_error(f"{path}.{keyword} must be a non-empty array")
            for index, sub in enumerate(options):
                check_response_schema(sub, f"{path}.{keyword}[{index}]")
    for keyword in ("$defs", "definitions"):
        for name, sub in (schema.get(keyword) or {}).items():
            check_response_schema(sub, f"{path}.{keyword}.{name}")


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    target: Any = root
    for key in ref[2:].split("/"):
        target = target.get(key) if isinstance(target, Mapping) else None
    return target if isinstance(target, Mapping) else {}


def _first_type(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        non_null = [item for item in kind if item != "null"]
        return str(non_null[0]) if non_null else "null"
    if isinstance(kind, str):
        return kind
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "string"


def _number(schema: Mapping[str, Any], evidence: Evidence, integer: bool, hint: str) -> float | int:
    found = evidence.next_number()
    if found is None:
        default = schema.get("default")
        if isinstance(default, (int, float)) and not isinstance(default, bool):
            found = float(default)
        elif evidence.strict:
            raise MissingValueError(hint)
        else:
            found = float(schema.get("minimum", 0))
    low, high = schema.get("minimum"), schema.get("maximum")
    if isinstance(low, (int, float)):
        found = max(found, float(low))
    if isinstance(high, (int, float)):
        found = min(found, float(high))
    if integer or found.is_integer():
        return round(found)
    return found


def _string(schema: Mapping[str, Any], evidence: Evidence, hint: str) -> str:
    fmt = schema.get("format")
    found = evidence.date() if fmt == "date" else evidence.email() if fmt == "email" else None
    if found is not None:
        return found
    if isinstance(fmt, str) and fmt in _FORMAT_DEFAULTS:
        if evidence.strict:
            raise MissingValueError(hint)
        return _FORMAT_DEFAULTS[fmt]
    default = schema.get("default")
    if isinstance(default, str) and not evidence.has_string():
        return default
    description = schema.get("description")
    return evidence.next_string(f"{hint} {description if isinstance(description, str) else ''}")


def _has_evidence(schema: Mapping[str, Any], evidence: Evidence) -> bool:
    if "enum" in schema:
        return evidence.mentioned(list(schema["enum"])) is not None
    kind = _first_type(schema)
    if kind in ("number", "integer"):
        return evidence.has_number()
    if kind == "string":
        return evidence.has_string()
    return False


def fill(
    schema: Mapping[str, Any],
    evidence: Evidence,
    *,
    hint: str = "",
    root: Mapping[str, Any] | None = None,
    depth: int = 0,
) -> Any:
    """A value valid against ``schema``, preferring values found in ``evidence``."""
    root = schema if root is None else root
    schema = _resolve(schema, root)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        options = list(schema["enum"])
        mentioned = evidence.mentioned(options)
        if mentioned is not None:
            return mentioned
        if "default" in schema:
            return schema["default"]
        if evidence.strict:
            raise MissingValueError(hint)
        return options[0]
    for keyword in ("anyOf", "oneOf", "allOf"):
        choices = schema.get(keyword)
        if isinstance(choices, list) and choices:
            usable = [
                option
                for option in choices
                if isinstance(option, Mapping) and _resolve(option, root).get("type") != "null"
            ]
            chosen = usable[0] if usable else choices[0]
            return fill(chosen, evidence, hint=hint, root=root, depth=depth)
    kind = _first_type(schema)
    if kind == "object":
        return _object(schema, evidence, root, depth)
    if kind == "array":
        return _array(schema, evidence, hint, root, depth)
    if kind in ("number", "integer"):
        return _number(schema, evidence, kind == "integer", hint)
    if kind == "boolean":
        default = schema.get("default")
        return default if isinstance(default, bool) else evidence.flag()
    if kind == "null":
        return None
    return _string(schema, evidence, hint)


def _object(
    schema: Mapping[str, Any], evidence: Evidence, root: Mapping[str, Any], depth: int
) -> dict[str, Any]:
    properties = schema.get("properties")
    if not isinstance(properties, Mapping) or depth >= _MAX_DEPTH:
        return {}
    required = schema.get("required")
    required_names = set(required) if isinstance(required, list) else set(properties)
    value: dict[str, Any] = {}
    for name, sub in properties.items():
        if not isinstance(sub, Mapping):
            continue
        resolved = _resolve(sub, root)
        if name in required_names or _has_evidence(resolved, evidence):
            value[name] = fill(resolved, evidence, hint=name, root=root, depth=depth + 1)
    return value


def _array(
    schema: Mapping[str, Any],
    evidence: Evidence,
    hint: str,
    root: Mapping[str, Any],
    depth: int,
) -> list[Any]:
    items = schema.get("items")
    count = max(int(schema.get("minItems", 0)), 1)
    maximum = schema.get("maxItems")
    if isinstance(maximum, int):
        count = min(count, maximum)
    if depth >= _MAX_DEPTH or not isinstance(items, Mapping):
        return ["" for _ in range(count)] if not isinstance(items, Mapping) else []
    return [fill(items, evidence, hint=hint, root=root, depth=depth + 1) for _ in range(count)]
