"""Agents that end in a typed answer, and "call any of these tools", against the emulator.

``create_agent(ChatClovaX(model=m), tools, response_format=Schema)`` runs the tool turns
without the schema and produces the final answer in the schema with one more request:
native ``responseFormat`` on HCX-007, one forced function carrying the schema on HCX-005 and
HCX-DASH-002. Prompts name every value a tool needs. Every test but the replayed one runs
against the emulator (the ``chats`` fixture points the client at it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.structured_output import ProviderStrategy, ToolStrategy
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from clova_core.errors import UnsupportedFeatureError
from clova_core.turns import ToolCallRequiredError
from clova_emulator import Emulator, RequestRecord, ScriptedReply
from langchain_clova import ChatClovaX

MODELS = ["HCX-005", "HCX-007", "HCX-DASH-002"]
QUESTION = "Get the weather for Seoul and then find a hotel in Seoul."


class TripPlan(BaseModel):
    """A short trip plan."""

    city: str = Field(description="The destination city")
    temperature_c: float = Field(description="Forecast temperature in Celsius")
    hotel: str = Field(description="The hotel to stay at")


@tool
def get_weather(city: str) -> str:
    """Get the weather forecast for a city."""
    return json.dumps({"city": city, "temperature_c": 21.5})


@tool
def find_hotel(city: str) -> str:
    """Find a hotel in a city."""
    return json.dumps({"city": city, "hotel": f"Grand {city} Hotel"})


Chats = Callable[[int], list[RequestRecord]]


@pytest.fixture
def chats(emulator_env: Emulator) -> Chats:
    """``chats(n)``: this test's chat requests once the emulator has logged ``n`` of them."""
    started = time.time()

    def wait(count: int) -> list[RequestRecord]:
        deadline = time.monotonic() + 5
        while True:
            records = [
                r
                for r in emulator_env.requests
                if r.time >= started and "chat-completions" in r.path
            ]
            if len(records) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        assert len(records) == count, [r.path for r in records]
        return records

    return wait


def _check_plan(result: dict[str, Any]) -> None:
    assert result["structured_response"] == TripPlan(
        city="Seoul", temperature_c=21.5, hotel="Grand Seoul Hotel"
    )
    messages = result["messages"]
    called = [call["name"] for m in messages if isinstance(m, AIMessage) for call in m.tool_calls]
    assert sorted(called) == ["find_hotel", "get_weather"]
    assert sum(isinstance(m, ToolMessage) for m in messages) == 2
    assert isinstance(messages[-1], AIMessage)
    assert not messages[-1].tool_calls


def _check_wire(model: str, records: list[RequestRecord]) -> None:
    tool_turns, final = records[:-1], records[-1].body
    for record in tool_turns:
        names = [t["function"]["name"] for t in record.body["tools"]]
        assert names == ["get_weather", "find_hotel"]
        assert "responseFormat" not in record.body
        assert "toolChoice" not in record.body  # the model chooses (auto)
    if model == "HCX-007":
        assert final["responseFormat"]["type"] == "json"
        assert set(final["responseFormat"]["schema"]["required"]) == {
            "city",
            "temperature_c",
            "hotel",
        }
        assert "tools" not in final
        assert final["thinking"] == {"effort": "none"}
    else:
        assert "responseFormat" not in final
        assert [t["function"]["name"] for t in final["tools"]] == ["TripPlan"]
        assert final["toolChoice"] == {"type": "function", "function": {"name": "TripPlan"}}
    assert final["messages"][-1]["role"] == "tool"


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("strategy", ["schema", "provider"])
def test_create_agent_returns_a_structured_response(
    model: str, strategy: str, chats: Chats
) -> None:
    response_format: Any = TripPlan if strategy == "schema" else ProviderStrategy(TripPlan)
    agent = create_agent(
        ChatClovaX(model=model), [get_weather, find_hotel], response_format=response_format
    )
    result = agent.invoke({"messages": [HumanMessage(QUESTION)]})
    _check_plan(result)
    # One tool turn (both calls), the text reply it ended with, then the answer request.
    records = chats(3)
    _check_wire(model, records)


@pytest.mark.parametrize("model", MODELS)
async def test_create_agent_returns_a_structured_response_async(model: str, chats: Chats) -> None:
    agent = create_agent(
        ChatClovaX(model=model), [get_weather, find_hotel], response_format=TripPlan
    )
    result = await agent.ainvoke({"messages": [HumanMessage(QUESTION)]})
    _check_plan(result)
    _check_wire(model, chats(3))


@pytest.mark.parametrize("model", ["HCX-005", "HCX-007"])
def test_streamed_agent_delivers_the_answer_whole(model: str, chats: Chats) -> None:
    agent = create_agent(
        ChatClovaX(model=model, streaming=True),
        [get_weather, find_hotel],
        response_format=TripPlan,
    )
    final: dict[str, Any] = {}
    for update in agent.stream({"messages": [HumanMessage(QUESTION)]}, stream_mode="values"):
        final = update
    _check_plan(final)
    assert not any(record.stream for record in chats(3))


@pytest.mark.parametrize("model", MODELS)
def test_tool_strategy_is_a_typed_error_pointing_at_the_default(model: str, chats: Chats) -> None:
    agent = create_agent(
        ChatClovaX(model=model), [get_weather, find_hotel], response_format=ToolStrategy(TripPlan)
    )
    with pytest.raises(UnsupportedFeatureError, match="ProviderStrategy") as caught:
        agent.invoke({"messages": [HumanMessage(QUESTION)]})
    assert "response_format=Schema" in str(caught.value)
    chats(0)


@pytest.mark.parametrize("model", MODELS)
def test_schema_without_tools_is_one_request(model: str, chats: Chats) -> None:
    llm = ChatClovaX(model=model).bind_tools([], response_format=TripPlan)
    reply = llm.invoke("Plan a trip to Busan: 18.5 degrees, stay at the Haeundae Inn.")
    assert isinstance(reply, AIMessage)
    assert not reply.tool_calls
    plan = TripPlan.model_validate_json(str(reply.content))
    assert plan.city == "Busan"
    (record,) = chats(1)
    assert ("responseFormat" in record.body) == (model == "HCX-007")


# ------------------------------------------------------------- tool_choice="any"


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


@pytest.mark.parametrize("model", MODELS)
def test_any_tool_calls_the_matching_tool_in_one_request(model: str, chats: Chats) -> None:
    llm = ChatClovaX(model=model).bind_tools([add, multiply], tool_choice="any")
    reply = llm.invoke("Multiply 6 and 7.")
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [("multiply", {"a": 6, "b": 7})]
    (record,) = chats(1)
    assert record.body["toolChoice"] == "auto"
    system = record.body["messages"][0]
    assert system["role"] == "system"
    assert "add, multiply" in system["content"]


@pytest.mark.parametrize("model", MODELS)
async def test_any_tool_never_returns_a_text_reply(model: str, chats: Chats) -> None:
    # No numbers to add or multiply: the emulator asks for them (it never invents values),
    # twice, so the contract ends in the typed error rather than a reply without a call.
    llm = ChatClovaX(model=model).bind_tools([add, multiply], tool_choice="any")
    with pytest.raises(ToolCallRequiredError, match="answered in text twice"):
        await llm.ainvoke("Hello!")
    _, again = chats(2)
    assert again.body["toolChoice"] == "auto"
    assert again.body["messages"][-2]["role"] == "assistant"
    assert "add, multiply" in again.body["messages"][-1]["content"]


def test_any_tool_reasks_once_after_a_text_reply(emulator_env: Emulator, chats: Chats) -> None:
    emulator_env.script(ScriptedReply(content="Which numbers should I use?"))
    llm = ChatClovaX(model="HCX-005").bind_tools([add, multiply], tool_choice="any")
    reply = llm.invoke("Add 2 and 3.")
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [("add", {"a": 2, "b": 3})]
    assert reply.content == ""
    first, again = chats(2)
    assert again.body["messages"][:-2] == first.body["messages"]
    assert again.body["messages"][-2] == {
        "role": "assistant",
        "content": "Which numbers should I use?",
    }


def test_any_tool_with_a_stream_is_delivered_whole(chats: Chats) -> None:
    llm = ChatClovaX(model="HCX-005").bind_tools([add, multiply], tool_choice="any")
    chunks = list(llm.stream("Add 2 and 3."))
    assert len(chunks) == 1
    assert [(c["name"], c["args"]) for c in chunks[0].tool_calls] == [("add", {"a": 2, "b": 3})]
    assert not chats(1)[0].stream


@pytest.mark.vcr
@pytest.mark.usefixtures("clova_env")
def test_create_agent_structured_response_replayed() -> None:
    # Replayed from tests/langchain/cassettes (recorded against the emulator; with
    # CLOVA_LIVE_TESTS=1 it can be re-recorded against the real service, see the README).
    agent = create_agent(
        ChatClovaX(model="HCX-007"), [get_weather, find_hotel], response_format=TripPlan
    )
    _check_plan(agent.invoke({"messages": [HumanMessage(QUESTION)]}))
