"""Agents that end in a typed answer, and ``tool_required=True`` over several tools, on the
three v3 models, against the emulator (and one flow replayed from a committed cassette).

``FunctionAgent(output_cls=...)`` runs its tool loop, then asks the LLM for the answer in the
schema (``as_structured_llm``): native ``responseFormat`` on HCX-007, a forced function on
HCX-005 / HCX-DASH-002. Prompts name every value a tool needs.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, ToolCallBlock
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel, Field

from clova_core.errors import ClovaValidationError
from clova_core.turns import ToolCallRequiredError
from clova_emulator import Emulator, RequestRecord, ScriptedReply

from .conftest import Target, logged

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*deprecated.*:DeprecationWarning:inspect"),
    # FunctionAgent turns a failed structured answer into this warning and returns None.
    pytest.mark.filterwarnings("error:There was a problem with the generation"),
]

MODELS = ["HCX-005", "HCX-007", "HCX-DASH-002"]
QUESTION = "Get the weather for Seoul and then find a hotel in Seoul."
PLAN = {"city": "Seoul", "temperature_c": 21.5, "hotel": "Grand Seoul Hotel"}


class TripPlan(BaseModel):
    """A short trip plan."""

    city: str = Field(description="The destination city")
    temperature_c: float = Field(description="Forecast temperature in Celsius")
    hotel: str = Field(description="The hotel to stay at")


def get_weather(city: str) -> str:
    """Get the weather forecast for a city."""
    return json.dumps({"city": city, "temperature_c": 21.5})


def find_hotel(city: str) -> str:
    """Find a hotel in a city."""
    return json.dumps({"city": city, "hotel": f"Grand {city} Hotel"})


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


ARITHMETIC = [FunctionTool.from_defaults(fn=add), FunctionTool.from_defaults(fn=multiply)]


def _chats(emu: Emulator, count: int) -> list[RequestRecord]:
    records = [r for r in logged(emu, count) if "chat-completions" in r.path]
    assert len(records) == count
    return records


async def _plan(target: Target, model: str, **llm: Any) -> Any:
    agent = FunctionAgent(
        tools=[get_weather, find_hotel],
        llm=target.llm(model=model, **llm),
        output_cls=TripPlan,
    )
    return await agent.run(QUESTION)


@pytest.mark.parametrize("model", MODELS)
async def test_function_agent_output_cls(model: str, target: Target, emu: Emulator) -> None:
    output = await _plan(target, model)
    assert output.structured_response == PLAN
    assert sorted(call.tool_name for call in output.tool_calls) == ["find_hotel", "get_weather"]
    # Two tool turns (calls, then the text answer), then the answer in the schema.
    tool_turns, final = _chats(emu, 3)[:2], _chats(emu, 3)[2].body
    for record in tool_turns:
        assert "responseFormat" not in record.body
        assert [t["function"]["name"] for t in record.body["tools"]] == [
            "get_weather",
            "find_hotel",
        ]
    if model == "HCX-007":
        assert final["responseFormat"]["type"] == "json"
        assert "tools" not in final
    else:
        assert final["toolChoice"] == {"type": "function", "function": {"name": "TripPlan"}}
        assert "responseFormat" not in final


@pytest.mark.vcr
async def test_function_agent_output_cls_replayed(target: Target) -> None:
    output = await _plan(target, "HCX-005")
    assert output.structured_response == PLAN


async def test_explicit_thinking_with_tools_is_a_typed_error(target: Target, emu: Emulator) -> None:
    llm = target.llm(model="HCX-007", thinking="high")
    with pytest.raises(ClovaValidationError, match="thinking='high' cannot be combined with tools"):
        await llm.achat_with_tools([FunctionTool.from_defaults(fn=get_weather)], user_msg=QUESTION)
    assert emu.requests == []


# ------------------------------------------------------------ tool_required=True


def _calls(response: Any) -> list[tuple[str, Any]]:
    return [
        (block.tool_name, block.tool_kwargs)
        for block in response.message.blocks
        if isinstance(block, ToolCallBlock)
    ]


@pytest.mark.parametrize("model", MODELS)
def test_tool_required_over_several_tools(model: str, target: Target, emu: Emulator) -> None:
    llm = target.llm(model=model)
    response = llm.chat_with_tools(ARITHMETIC, user_msg="Multiply 6 and 7.", tool_required=True)
    assert _calls(response) == [("multiply", {"a": 6, "b": 7})]
    (record,) = _chats(emu, 1)
    assert record.body["toolChoice"] == "auto"
    assert "add, multiply" in record.body["messages"][0]["content"]


@pytest.mark.parametrize("model", MODELS)
async def test_tool_required_streamed_reasks_once(
    model: str, target: Target, emu: Emulator
) -> None:
    emu.script(ScriptedReply(content="Which numbers?"))
    llm = target.llm(model=model)
    stream = await llm.astream_chat_with_tools(
        ARITHMETIC, chat_history=[ChatMessage(content="Add 2 and 3.")], tool_required=True
    )
    responses = [response async for response in stream]
    assert len(responses) == 1  # delivered whole: a text reply must not reach the caller
    assert _calls(responses[0]) == [("add", {"a": 2, "b": 3})]
    first, again = _chats(emu, 2)
    assert not first.stream
    assert again.body["messages"][-2] == {"role": "assistant", "content": "Which numbers?"}


@pytest.mark.parametrize("model", MODELS)
async def test_tool_required_never_returns_text(model: str, target: Target, emu: Emulator) -> None:
    llm = target.llm(model=model)
    with pytest.raises(ToolCallRequiredError, match="answered in text twice"):
        await llm.achat_with_tools(ARITHMETIC, user_msg="Hello!", tool_required=True)
    assert len(_chats(emu, 2)) == 2
