"""JSON-schema normalisation for structured outputs and tool parameters: clova_core.schema."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, Field

from clova_core.errors import ClovaValidationError
from clova_core.schema import normalize_schema


class Address(BaseModel):
    """A postal address."""

    city: str = Field(description="City name")
    zip_code: str


class Person(BaseModel):
    title: str = Field(description="Mr/Ms (a property called title)")
    home: Address
    offices: list[Address]
    backup: Address | None = None


def _walk(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(_walk(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_walk(value))
    return found


def test_pydantic_nested_models_are_inlined_and_titles_dropped() -> None:
    raw = Person.model_json_schema()
    assert "$defs" in raw  # the point of the test: pydantic uses $ref into $defs

    schema = normalize_schema(raw, allow_pattern=False)

    assert "$defs" not in schema
    assert all("$ref" not in node for node in _walk(schema))
    assert all("title" not in node or node is schema["properties"] for node in _walk(schema))
    assert schema["properties"]["title"] == {
        "description": "Mr/Ms (a property called title)",
        "type": "string",
    }
    home = schema["properties"]["home"]
    assert home["type"] == "object"
    assert home["properties"]["city"] == {"description": "City name", "type": "string"}
    assert home["description"] == "A postal address."
    assert schema["properties"]["offices"]["items"]["properties"]["zip_code"] == {"type": "string"}
    backup_options = schema["properties"]["backup"]["anyOf"]
    assert backup_options[0]["required"] == ["city", "zip_code"]
    assert backup_options[1] == {"type": "null"}
    assert schema["required"] == ["title", "home", "offices"]


def test_input_schema_is_not_modified() -> None:
    raw = Person.model_json_schema()
    before = repr(raw)
    normalize_schema(raw, allow_pattern=False)
    assert repr(raw) == before


def test_definitions_and_sibling_keywords_next_to_ref() -> None:
    raw = {
        "type": "object",
        "properties": {"p": {"$ref": "#/definitions/P", "description": "override"}},
        "definitions": {"P": {"type": "integer", "description": "original", "minimum": 0}},
    }
    assert normalize_schema(raw, allow_pattern=False) == {
        "type": "object",
        "properties": {"p": {"type": "integer", "description": "override", "minimum": 0}},
    }


def test_values_of_enum_and_default_are_copied_verbatim() -> None:
    raw = {
        "type": "string",
        "enum": [{"title": "kept"}],
        "default": {"title": "kept", "$ref": "not-a-ref"},
    }
    assert normalize_schema(raw, allow_pattern=False) == raw


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        ({"type": "string", "pattern": "^a"}, "$"),
        (
            {"type": "object", "properties": {"email": {"type": "string", "pattern": "@"}}},
            "$.email",
        ),
        (
            {
                "type": "object",
                "properties": {"tags": {"type": "array", "items": {"pattern": "x"}}},
            },
            "$.tags[]",
        ),
        (
            {
                "$defs": {"Z": {"type": "string", "pattern": "[0-9]{5}"}},
                "properties": {"zip": {"$ref": "#/$defs/Z"}},
            },
            "$.zip",
        ),
    ],
)
def test_pattern_is_rejected_naming_the_property_path(schema: dict[str, Any], path: str) -> None:
    with pytest.raises(ClovaValidationError) as info:
        normalize_schema(schema, allow_pattern=False)
    message = str(info.value)
    assert f"'pattern' keyword at {path} " in message
    assert "40055" in message
    assert "Remove" in message


def test_pattern_is_kept_where_allowed_and_a_property_named_pattern_is_fine() -> None:
    raw = {"type": "object", "properties": {"pattern": {"type": "string", "pattern": "^a"}}}
    assert normalize_schema(raw, allow_pattern=True) == raw
    no_keyword = {"type": "object", "properties": {"pattern": {"type": "string"}}}
    assert normalize_schema(no_keyword, allow_pattern=False) == no_keyword


class Node(BaseModel):
    value: int
    children: list[Node] = []


@pytest.mark.parametrize(
    ("schema", "needle"),
    [
        (Node.model_json_schema(), "recursive"),
        ({"properties": {"a": {"$ref": "https://example.com/s.json"}}}, "not a local reference"),
        ({"properties": {"a": {"$ref": "#/$defs/Missing"}}}, "does not resolve"),
        ({"properties": {"a": "string"}}, "expected a JSON-schema object at $.a"),
    ],
)
def test_unusable_schemas_are_rejected(schema: dict[str, Any], needle: str) -> None:
    with pytest.raises(ClovaValidationError, match="response_format") as info:
        normalize_schema(schema, allow_pattern=False)
    assert needle in str(info.value)


def test_non_mapping_schema_is_rejected() -> None:
    with pytest.raises(ClovaValidationError, match="must be a JSON-schema object"):
        normalize_schema(["not", "a", "schema"], allow_pattern=False)  # type: ignore[arg-type]


def test_same_definition_used_twice_is_not_mistaken_for_recursion() -> None:
    raw = {
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/X"}, "b": {"$ref": "#/$defs/X"}},
        "$defs": {"X": {"type": "boolean", "title": "X"}},
    }
    assert normalize_schema(raw, allow_pattern=False)["properties"] == {
        "a": {"type": "boolean"},
        "b": {"type": "boolean"},
    }
