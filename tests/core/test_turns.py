"""clova_core.turns: the requests of one turn, driven step by step (pure, no network).

The flows over the wire are in tests/langchain/test_lc_agent_structured.py and
tests/llamaindex/test_li_agent_structured.py; here each rule is checked on the generator.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from clova_core.errors import APIResponseError, ClovaValidationError, UnsupportedFeatureError
from clova_core.models import get_chat_model
from clova_core.request import prepare_chat
from clova_core.turns import (
    ToolCallRequiredError,
    TurnSteps,
    answer_tool,
    needs_several_requests,
    turn_steps,
)
from clova_core.types import ChatRequest, ChatResult, Message, TextPart, Tool, ToolCall

WEATHER = Tool("get_weather", "Weather of a city.", {"type": "object", "properties": {}})
HOTEL = Tool("find_hotel", "A hotel in a city.", {"type": "object", "properties": {}})
SCHEMA: dict[str, Any] = {
    "title": "Trip Plan",
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}
USER = Message(role="user", content="Plan Seoul.")


def _result(content: str = "", *calls: ToolCall) -> ChatResult:
    return ChatResult(
        content=content, tool_calls=calls, model="HCX-005", api_version=3, request_id="rid"
    )


def _request(model: str = "HCX-005", **fields: Any) -> ChatRequest:
    return ChatRequest(messages=[USER], model=model, **fields)


def _first(steps: TurnSteps) -> ChatRequest:
    return next(steps)


def _finish(steps: TurnSteps, result: ChatResult) -> ChatResult:
    with pytest.raises(StopIteration) as done:
        steps.send(result)
    value: ChatResult = done.value.value
    return value


def test_a_plain_request_is_sent_as_given() -> None:
    request = _request(tools=[WEATHER, HOTEL], tool_choice="auto")
    assert not needs_several_requests(request)
    steps = turn_steps(request)
    assert _first(steps) is request
    reply = _result("hi")
    assert _finish(steps, reply) is reply


def test_tool_turn_with_calls_is_returned_as_is() -> None:
    request = _request(tools=[WEATHER, HOTEL], response_format=SCHEMA)
    assert needs_several_requests(request)
    steps = turn_steps(request)
    first = _first(steps)
    assert first.response_format is None
    assert first.tools == request.tools
    reply = _result("", ToolCall("c1", "get_weather", {}))
    assert _finish(steps, reply) is reply


def test_forced_answer_function_after_a_text_reply() -> None:
    steps = turn_steps(_request(tools=[WEATHER], response_format=SCHEMA))
    _first(steps)
    answer = steps.send(_result("Seoul it is."))
    (tool,) = answer.tools
    assert tool.name == "Trip_Plan"
    assert answer.tool_choice == "Trip_Plan"
    assert answer.response_format is None
    body = prepare_chat(answer, get_chat_model("HCX-005")).body
    assert body["toolChoice"] == {"type": "function", "function": {"name": "Trip_Plan"}}
    final = _finish(steps, _result("", ToolCall("c2", "Trip_Plan", {"city": "서울"})))
    assert json.loads(final.content) == {"city": "서울"}
    assert final.tool_calls == ()
    assert final.finish_reason == "stop"


def test_native_answer_on_hcx007_drops_the_tools() -> None:
    steps = turn_steps(_request("HCX-007", tools=[WEATHER], response_format=SCHEMA))
    _first(steps)
    answer = steps.send(_result("Seoul it is."))
    assert answer.tools == ()
    assert answer.tool_choice is None
    body = prepare_chat(answer, get_chat_model("HCX-007")).body
    assert body["responseFormat"]["type"] == "json"
    assert body["thinking"] == {"effort": "none"}


def test_schema_without_tools() -> None:
    native = _request("HCX-007", response_format=SCHEMA)
    assert not needs_several_requests(native)
    forced = _request("HCX-005", response_format=SCHEMA)
    assert needs_several_requests(forced)
    assert _first(turn_steps(forced)).tool_choice == "Trip_Plan"
    with pytest.raises(UnsupportedFeatureError, match="neither"):
        _first(turn_steps(_request("HCX-003", response_format=SCHEMA)))


def test_answer_tool_names() -> None:
    assert answer_tool({"type": "object"}).name == "final_answer"
    wrapped = {"type": "json_schema", "json_schema": {"name": "x", "schema": SCHEMA}}
    assert answer_tool(wrapped).parameters == SCHEMA
    clash = Tool("Trip_Plan", "A tool named like the schema.")
    steps = turn_steps(_request(tools=[clash], response_format=SCHEMA))
    _first(steps)
    assert steps.send(_result("done")).tool_choice == "Trip_Plan_answer"


def test_a_forced_answer_that_is_not_called_is_an_error() -> None:
    steps = turn_steps(_request(response_format=SCHEMA))
    _first(steps)
    with pytest.raises(APIResponseError, match="did not call the forced function"):
        steps.send(_result("no"))


def test_required_and_a_schema_together_are_refused_before_sending() -> None:
    request = _request(tools=[WEATHER, HOTEL], tool_choice="required", response_format=SCHEMA)
    with pytest.raises(ClovaValidationError, match="never let the model give its final"):
        _first(turn_steps(request))


def test_required_over_several_tools() -> None:
    system = Message(role="system", content=[TextPart("Be brief.")])
    request = replace(
        _request(tools=[WEATHER, HOTEL], tool_choice="required"), messages=[system, USER]
    )
    steps = turn_steps(request)
    first = _first(steps)
    assert first.tool_choice == "auto"
    lead, user = first.messages
    assert user == USER
    assert lead.role == "system"
    texts = [part.text for part in lead.content if isinstance(part, TextPart)]
    assert texts[0] == "Be brief."
    assert "get_weather, find_hotel" in texts[1]
    again = steps.send(_result("Which city?"))
    assert again.messages[-2] == Message(role="assistant", content="Which city?")
    assert str(again.messages[-1].content).endswith("The request: Plan Seoul.")
    with pytest.raises(ToolCallRequiredError, match="answered in text twice"):
        steps.send(_result("Which city, please?"))


def test_a_single_request_refuses_required_over_several_tools() -> None:
    request = _request(tools=[WEATHER, HOTEL], tool_choice="required")
    with pytest.raises(ClovaValidationError, match="chat_turn"):
        prepare_chat(request, get_chat_model("HCX-005"))


def test_the_answer_schema_is_checked_before_the_tool_turns() -> None:
    patterned = {
        "type": "object",
        "properties": {"code": {"type": "string", "pattern": "^[A-Z]{3}$"}},
    }
    request = _request("HCX-007", tools=[WEATHER], response_format=patterned)
    with pytest.raises(ClovaValidationError, match="pattern"):
        _first(turn_steps(request))


def test_a_forced_tool_and_a_schema_together_are_refused() -> None:
    request = _request(tools=[WEATHER, HOTEL], tool_choice="get_weather", response_format=SCHEMA)
    with pytest.raises(ClovaValidationError, match="tool_choice='get_weather'"):
        _first(turn_steps(request))
