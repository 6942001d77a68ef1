"""FunctionAgent (llama_index.core.agent.workflow) driving ClovaX tool calls."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.agent.workflow import AgentStream, FunctionAgent, ToolCallResult

from clova_emulator import Emulator

from .conftest import Target, logged

# llama-index workflows inspect the agent (a pydantic model) with inspect.getmembers, which
# touches pydantic's deprecated attributes; nothing here can change that.
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated.*:DeprecationWarning:inspect")


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"{city}: sunny, 23 degrees"


def get_population(city: str) -> str:
    """Get the number of people living in a city."""
    return f"{city}: 9.4 million people"


async def _run(agent: FunctionAgent, question: str) -> tuple[str, list[ToolCallResult], list[Any]]:
    handler = agent.run(question)
    calls: list[ToolCallResult] = []
    streamed: list[Any] = []
    async for event in handler.stream_events():
        if isinstance(event, ToolCallResult):
            calls.append(event)
        elif isinstance(event, AgentStream):
            streamed.append(event)
    return str(await handler), calls, streamed


@pytest.mark.vcr
async def test_function_agent_calls_the_tool_and_answers(clova_settings: Target) -> None:
    agent = FunctionAgent(
        tools=[get_weather, get_population],
        llm=clova_settings.llm(model="HCX-005"),
        system_prompt="You answer questions about cities with the tools.",
        streaming=False,
    )
    answer, calls, _ = await _run(agent, "What is the weather in Seoul?")
    assert [(call.tool_name, call.tool_kwargs) for call in calls] == [
        ("get_weather", {"city": "Seoul"})
    ]
    assert "23" in answer


async def test_streaming_function_agent_on_hcx_007(clova_settings: Target, emu: Emulator) -> None:
    # HCX-007 reasons by default; with tools the core sends thinking effort "none".
    agent = FunctionAgent(tools=[get_weather], llm=clova_settings.llm(model="HCX-007"))
    answer, calls, streamed = await _run(agent, "What is the weather in Busan?")
    assert [(call.tool_name, call.tool_kwargs) for call in calls] == [
        ("get_weather", {"city": "Busan"})
    ]
    assert "23" in answer
    assert any(event.tool_calls for event in streamed)
    assert "".join(event.delta for event in streamed if not event.tool_calls)
    chats = [record for record in logged(emu, 2) if "chat-completions" in record.path]
    assert [record.stream for record in chats] == [True, True]
    assert all(record.body["thinking"] == {"effort": "none"} for record in chats)
    assert chats[1].body["messages"][-1]["role"] == "tool"
