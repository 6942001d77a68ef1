"""ChatMemoryBuffer sized from ClovaX metadata; TokenCountingHandler counting CLOVA's usage."""

from __future__ import annotations

import asyncio

import pytest
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.chat_engine import SimpleChatEngine
from llama_index.core.memory import ChatMemoryBuffer

from clova_emulator import Emulator, ScriptedReply

from .conftest import Target, logged


@pytest.mark.parametrize(("model", "window"), [("HCX-DASH-001", 4_096), ("HCX-005", 128_000)])
def test_chat_memory_buffer_is_sized_from_the_context_window(
    model: str, window: int, target: Target
) -> None:
    llm = target.llm(model=model)
    memory = ChatMemoryBuffer.from_defaults(llm=llm)
    assert llm.metadata.context_window == window
    assert memory.token_limit == int(window * 0.75)


def test_chat_engine_with_memory_sends_the_history(target: Target, emu: Emulator) -> None:
    llm = target.llm(model="HCX-003")
    engine = SimpleChatEngine.from_defaults(
        llm=llm, memory=ChatMemoryBuffer.from_defaults(llm=llm), system_prompt="Be brief."
    )
    first = engine.chat("제 이름은 민수입니다.")
    engine.chat("제 이름이 뭐였죠?")
    last = logged(emu, 2)[-1]
    sent = last.body["messages"]
    assert last.path == "/v1/chat-completions/HCX-003"
    assert [message["role"] for message in sent] == ["system", "user", "assistant", "user"]
    assert sent[1]["content"] == "제 이름은 민수입니다."
    assert sent[2]["content"] == str(first)


def test_memory_trims_history_to_its_token_limit(target: Target, emu: Emulator) -> None:
    llm = target.llm(model="HCX-DASH-001")
    memory = ChatMemoryBuffer.from_defaults(llm=llm, token_limit=200)
    engine = SimpleChatEngine.from_defaults(llm=llm, memory=memory)
    for turn in range(6):
        engine.chat(f"{turn}번째 질문입니다. " + "긴 문장입니다. " * 20)
    assert len(logged(emu, 6)[-1].body["messages"]) < 2 * 6


async def test_token_counting_handler_totals_equal_the_emulator_usage(
    target: Target, emu: Emulator
) -> None:
    emu.script(
        ScriptedReply(content="하나", prompt_tokens=120, completion_tokens=30),
        ScriptedReply(content="둘", prompt_tokens=200, completion_tokens=40),
        ScriptedReply(content="셋", prompt_tokens=50, completion_tokens=5),
        ScriptedReply(content="넷", prompt_tokens=7, completion_tokens=3),
    )
    counter = TokenCountingHandler()
    llm = target.llm(callback_manager=CallbackManager([counter]))
    llm.chat([ChatMessage(content="첫째")])
    llm.complete("둘째")
    list(llm.stream_chat([ChatMessage(content="셋째")]))
    [chunk async for chunk in await llm.astream_complete("넷째")]
    assert counter.prompt_llm_token_count == 120 + 200 + 50 + 7
    assert counter.completion_llm_token_count == 30 + 40 + 5 + 3
    assert counter.total_llm_token_count == 120 + 200 + 50 + 7 + 30 + 40 + 5 + 3
    assert len(counter.llm_token_counts) == 4


def test_token_counting_in_a_query_flow_matches_the_raw_usage(target: Target) -> None:
    counter = TokenCountingHandler()
    llm = target.llm(model="HCX-DASH-002", callback_manager=CallbackManager([counter]))
    responses = [llm.chat([ChatMessage(content=f"{n}번 질문: 서울의 명소는?")]) for n in range(3)]
    assert counter.prompt_llm_token_count == sum(r.raw["usage"]["prompt_tokens"] for r in responses)
    assert counter.completion_llm_token_count == sum(
        r.raw["usage"]["completion_tokens"] for r in responses
    )


def test_one_instance_serves_several_event_loops(target: Target) -> None:
    # httpx async connection pools belong to one event loop; ClovaX keeps one core async
    # client per loop, so asyncio.run() twice (as scripts and notebooks do) keeps working.
    llm = target.llm()
    embed = target.embedding()
    for _ in range(2):
        assert asyncio.run(llm.achat([ChatMessage(content="안녕")])).message.content
        assert len(asyncio.run(embed.aget_text_embedding_batch(["가", "나", "다"]))) == 3
