"""``with_structured_output`` for ``ChatClovaX``: method choice, schemas and parsers.

CLOVA has two ways to get structured output:

* ``"json_schema"``: native structured outputs (``responseFormat``), HCX-007 only; the
  answer arrives as JSON text in ``content``. The core sends ``thinking: none`` with it.
* ``"function_calling"``: one forced tool whose arguments are the object; every v3 model.

v1 models (HCX-003, HCX-DASH-001) have neither. ``"json_mode"`` (JSON without a schema)
does not exist on CLOVA: on HCX-007 it is served by ``responseFormat`` with the given schema,
elsewhere it is refused with a typed error, as is ``"json_schema"`` on a model without
native structured outputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import itemgetter
from typing import Any, Literal

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import (
    JsonOutputKeyToolsParser,
    JsonOutputParser,
    PydanticOutputParser,
    PydanticToolsParser,
)
from langchain_core.output_parsers.base import OutputParserLike
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass

from clova_core.errors import ClovaValidationError, UnsupportedFeatureError
from clova_core.features import structured_output_method
from clova_core.models import ChatModelSpec
from langchain_clova.tools import check_not_recursive_tool, inline_refs

StructuredOutputMethod = Literal["function_calling", "json_schema", "json_mode"]
SchemaLike = Mapping[str, Any] | type


def resolve_method(
    method: StructuredOutputMethod | None, spec: ChatModelSpec
) -> Literal["function_calling", "json_schema"]:
    """The method to use on ``spec``; the core decides (a typed error when it cannot serve it).

    The default is ``"json_schema"`` where native structured outputs exist (HCX-007) and
    ``"function_calling"`` on the other v3 models.
    """
    return structured_output_method(spec, requested=method)


def is_pydantic_schema(schema: SchemaLike) -> bool:
    """Whether ``schema`` is a Pydantic (v1 or v2) model class."""
    return isinstance(schema, type) and is_basemodel_subclass(schema)


def json_schema_of(schema: SchemaLike) -> dict[str, Any]:
    """The JSON Schema object sent as ``responseFormat.schema``.

    LangChain's conversion inlines ``$ref`` s and drops titles, which keeps the schema
    within the documented subset for ordinary Pydantic / TypedDict / JSON-schema inputs.
    """
    check_not_recursive_tool(schema, "response_format")
    parameters = convert_to_openai_tool(schema)["function"].get("parameters")
    if not isinstance(parameters, Mapping):
        raise ClovaValidationError(f"Cannot build a JSON schema from {schema!r}.")
    return inline_refs(parameters)


def tool_name_of(schema: SchemaLike) -> str:
    """The function name a schema gets when it is bound as a tool."""
    name = convert_to_openai_tool(schema)["function"]["name"]
    return str(name)


def normalize_response_format(value: Any) -> Mapping[str, Any] | None:
    """A response-format JSON schema from what callers pass as ``response_format``.

    Accepts a bare JSON schema, CLOVA's own ``{"type": "json", "schema": ...}`` and the
    OpenAI ``{"type": "json_schema", "json_schema": {"schema": ...}}`` that LangChain's
    agent ``ProviderStrategy`` binds.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        return json_schema_of(value)
    if value.get("type") == "json_schema" and isinstance(value.get("json_schema"), Mapping):
        schema = value["json_schema"].get("schema")
        if isinstance(schema, Mapping):
            return inline_refs(schema)
    if value.get("type") == "json" and isinstance(value.get("schema"), Mapping):
        return inline_refs(value["schema"])
    if value.get("type") == "json_object":
        raise UnsupportedFeatureError(
            "CLOVA Studio has no schema-less JSON mode; pass a JSON schema."
        )
    return inline_refs(value)


def output_parser(
    schema: SchemaLike, method: Literal["function_calling", "json_schema"]
) -> OutputParserLike[Any]:
    """The parser that turns the model's answer into the schema's type."""
    pydantic = is_pydantic_schema(schema)
    if method == "json_schema":
        if pydantic:
            return PydanticOutputParser(pydantic_object=schema)
        return JsonOutputParser()
    if pydantic:
        return PydanticToolsParser(tools=[schema], first_tool_only=True)
    return JsonOutputKeyToolsParser(key_name=tool_name_of(schema), first_tool_only=True)


def with_parser(
    llm: Runnable[LanguageModelInput, AIMessage],
    parser: OutputParserLike[Any],
    *,
    include_raw: bool,
) -> Runnable[LanguageModelInput, Any]:
    """``llm | parser``, or the ``{"raw", "parsed", "parsing_error"}`` map when asked."""
    if not include_raw:
        return llm | parser
    parser_assign = RunnablePassthrough.assign(
        parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
    )
    parser_none = RunnablePassthrough.assign(parsed=lambda _: None)
    parser_with_fallback = parser_assign.with_fallbacks(
        [parser_none], exception_key="parsing_error"
    )
    return RunnableMap(raw=llm) | parser_with_fallback
