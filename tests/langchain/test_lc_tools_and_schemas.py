"""Pure helpers: tool conversion, tool_choice mapping, structured-output methods, profiles."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.tools import tool
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from clova_core.errors import ClovaValidationError, UnsupportedFeatureError
from clova_core.models import get_chat_model
from clova_core.types import Tool
from langchain_clova.profiles import profile_from_spec
from langchain_clova.structured_output import (
    json_schema_of,
    normalize_response_format,
    resolve_method,
)
from langchain_clova.tools import format_tools, normalize_tool_choice, to_clova_tools


class Weather(BaseModel):
    """Get the weather for a city."""

    city: str = Field(description="City name")


class Inner(BaseModel):
    x: int


class Outer(BaseModel):
    """An outer object."""

    inner: Inner
    note: str | None = None


class Movie(TypedDict):
    """A movie."""

    title: str
    year: int


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


def test_tools_of_every_kind_become_core_tools() -> None:
    raw = {"type": "function", "function": {"name": "nodesc", "parameters": {"type": "object"}}}
    converted = to_clova_tools(format_tools([add, multiply, Weather, Movie, raw]))
    assert [t.name for t in converted] == ["add", "multiply", "Weather", "Movie", "nodesc"]
    assert converted[0].description == "Add two integers."
    assert converted[0].parameters is not None
    assert set(converted[0].parameters["properties"]) == {"a", "b"}
    assert converted[2].parameters is not None
    assert converted[2].parameters["properties"]["city"]["description"] == "City name"
    # CLOVA requires a description: a tool without one is described by its name.
    assert converted[4] == Tool(name="nodesc", description="nodesc", parameters={"type": "object"})


@pytest.mark.parametrize(
    ("choice", "names", "expected"),
    [
        (None, ["a", "b"], None),
        (False, ["a"], None),
        ("auto", ["a", "b"], "auto"),
        ("none", ["a", "b"], "none"),
        ("b", ["a", "b"], "b"),
        ({"type": "function", "function": {"name": "a"}}, ["a", "b"], "a"),
        ("any", ["a"], "required"),
        ("required", ["a"], "required"),
        (True, ["a"], "required"),
        ("any", ["a", "b"], "required"),
    ],
)
def test_tool_choice_mapping(choice: Any, names: list[str], expected: str | None) -> None:
    assert normalize_tool_choice(choice, names) == expected


def test_tool_choice_errors() -> None:
    with pytest.raises(ClovaValidationError, match="at least one bound tool"):
        normalize_tool_choice("any", [])
    with pytest.raises(ClovaValidationError, match="not one of the bound tools"):
        normalize_tool_choice("c", ["a", "b"])


@pytest.mark.parametrize(
    ("model", "method", "expected"),
    [
        ("HCX-007", None, "json_schema"),
        ("HCX-007", "json_schema", "json_schema"),
        ("HCX-007", "json_mode", "json_schema"),
        ("HCX-007", "function_calling", "function_calling"),
        ("HCX-005", None, "function_calling"),
        ("HCX-005", "function_calling", "function_calling"),
        ("HCX-DASH-002", None, "function_calling"),
    ],
)
def test_structured_output_method(model: str, method: Any, expected: str) -> None:
    assert resolve_method(method, get_chat_model(model)) == expected


@pytest.mark.parametrize(
    ("model", "method", "message"),
    [
        ("HCX-005", "json_schema", "only HCX-007"),
        ("HCX-005", "json_mode", "only HCX-007"),
        ("HCX-003", None, "neither structured outputs nor function calling"),
        ("HCX-DASH-001", "function_calling", "neither"),
    ],
)
def test_unsupported_structured_output_is_a_typed_error(
    model: str, method: Any, message: str
) -> None:
    with pytest.raises(UnsupportedFeatureError, match=message):
        resolve_method(method, get_chat_model(model))
    with pytest.raises(ClovaValidationError, match="Unknown structured output method"):
        resolve_method("xml", get_chat_model("HCX-007"))  # type: ignore[arg-type]


def test_json_schema_inlines_references() -> None:
    schema = json_schema_of(Outer)
    assert "$defs" not in str(schema)
    assert schema["properties"]["inner"]["properties"]["x"] == {"type": "integer"}
    assert schema["required"] == ["inner"]
    from_dict = json_schema_of(Outer.model_json_schema())
    assert "$defs" not in str(from_dict)
    assert "$ref" not in str(from_dict)
    assert from_dict["properties"]["inner"]["properties"]["x"]["type"] == "integer"
    (as_tool,) = to_clova_tools(format_tools([Outer.model_json_schema()]))
    assert as_tool.parameters is not None
    assert "$ref" not in str(as_tool.parameters)


def test_response_format_shapes() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    assert normalize_response_format(None) is None
    assert normalize_response_format(schema) == schema
    assert normalize_response_format({"type": "json", "schema": schema}) == schema
    openai_style = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    assert normalize_response_format(openai_style) == schema
    assert normalize_response_format(Weather)["properties"]["city"]["type"] == "string"
    with pytest.raises(UnsupportedFeatureError, match="schema-less JSON mode"):
        normalize_response_format({"type": "json_object"})


def test_profiles_follow_the_registry() -> None:
    hcx003 = profile_from_spec(get_chat_model("HCX-003"))
    assert not hcx003["structured_output"]
    assert hcx003["max_input_tokens"] == 7600
    assert hcx003["max_output_tokens"] == 4096
    assert not hcx003["tool_calling"]
    assert not hcx003["image_inputs"]
    hcx005 = profile_from_spec(get_chat_model("HCX-005"))
    assert hcx005["image_inputs"]
    assert hcx005["image_url_inputs"]
    assert hcx005["tool_calling"]
    # Every model with tools answers in a schema (a forced function), so create_agent
    # picks its provider strategy on every v3 model.
    assert hcx005["structured_output"]
    assert not hcx005["reasoning_output"]
    assert "reasoning_effort_levels" not in hcx005
    hcx007 = profile_from_spec(get_chat_model("HCX-007"))
    assert hcx007["max_output_tokens"] == 32768
    assert hcx007["reasoning_output"]
    assert hcx007["structured_output"]
    assert hcx007["reasoning_effort_levels"] == ["none", "low", "medium", "high"]
    assert hcx007["reasoning_effort_default"] == "low"


class Node(BaseModel):
    """A tree node: recursive, so it has no self-contained JSON schema."""

    name: str
    children: list[Node] = Field(default_factory=list)


@pytest.mark.parametrize(
    ("model", "method"), [("HCX-007", "json_schema"), ("HCX-005", "function_calling")]
)
def test_recursive_model_is_refused_before_sending(model: str, method: Any) -> None:
    import httpx

    from langchain_clova import ChatClovaX

    sent: list[httpx.Request] = []

    def wire(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    llm = ChatClovaX(
        model=model,
        api_key="test-key",
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(wire)),
    )
    with pytest.raises(ClovaValidationError, match=r"recursive.*Flatten the recursion"):
        llm.with_structured_output(Node, method=method).invoke("a tree, please")
    with pytest.raises(ClovaValidationError, match="recursive"):
        llm.bind_tools([Node]).invoke("a tree, please")
    assert sent == []
