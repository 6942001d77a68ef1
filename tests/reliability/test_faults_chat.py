"""Chat under injected faults, and streams cut mid-way, through the core and both frameworks.

* 300 chat calls per surface (LangChain ``invoke`` / ``ainvoke``, LlamaIndex ``chat`` /
  ``achat``) and 60 streams (LangChain ``stream``, LlamaIndex ``astream_chat``), all under
  rel_support.FAULTS (``p = 0.1621`` per attempt; ``max_retries=6`` leaves
  ``p**7 * 300 = 0.0009`` expected failures per surface): every call
  succeeds, and the request log shows one request id per call whose only repeats are
  retries of injected failures. Faults hit a stream before its first event, so it is
  retried and the text is never doubled.
* A stream cut after N events (clean EOF, a connection torn mid-body, an ``error`` event, an
  unreadable event) raises ``StreamError`` whose ``partial_content`` is exactly the text
  the caller already received, that text is a prefix of the full answer (nothing
  repeated), and the request is not retried.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk
from llama_index.core.base.llms.types import ChatMessage
from rel_support import FAULT_RETRIES, KEY, NO_WAIT, account_retries, faulty

from clova_core.client import AsyncClovaClient, ClovaClient
from clova_core.errors import RateLimitError, StreamError
from clova_core.types import ChatRequest, Message, TokenEvent
from clova_emulator import Emulator, ScriptedError, ScriptedRaw, ScriptedReply
from langchain_clova import ChatClovaX
from llama_index_clova import ClovaX

MODEL = "HCX-005"
CHAT_PATH = f"/v3/chat-completions/{MODEL}"
CALLS = 300
STREAMS = 60
PROMPT = "Tell me about the history of Seoul and its palaces"


@pytest.fixture
def faults(emu: Emulator) -> Iterator[Emulator]:
    faulty(emu, seed=7)
    yield emu
    assert emu.server_errors == []


OPENED: list[ChatClovaX | ClovaX] = []


@pytest.fixture(autouse=True)
def close_models() -> Iterator[None]:
    """Close the sync clients of the models a test built (async ones close with their loop)."""
    yield
    while OPENED:
        OPENED.pop().close()


def lc_model(emu: Emulator, **kwargs: Any) -> ChatClovaX:
    options: dict[str, Any] = {
        "model": MODEL,
        "api_key": KEY,
        "base_url": emu.base_url,
        "max_retries": FAULT_RETRIES,
        "retry_policy": NO_WAIT,
        "max_tokens": 64,
    }
    model = ChatClovaX(**{**options, **kwargs})
    OPENED.append(model)
    return model


def li_model(emu: Emulator, **kwargs: Any) -> ClovaX:
    options: dict[str, Any] = {
        "model": MODEL,
        "api_key": KEY,
        "base_url": emu.base_url,
        "max_retries": FAULT_RETRIES,
        "retry_policy": NO_WAIT,
        "max_tokens": 64,
    }
    llm = ClovaX(**{**options, **kwargs})
    OPENED.append(llm)
    return llm


def user(text: str) -> list[ChatMessage]:
    return [ChatMessage(role="user", content=text)]


def check_log(emu: Emulator, calls: int) -> None:
    account = account_retries(emu.requests, calls=calls)
    assert account.retries > 0
    assert all(record.path == CHAT_PATH for record in emu.requests)


# --- 300 calls per surface and 60 streams, all succeed -----------------------------------


def test_langchain_invoke(faults: Emulator) -> None:
    model = lc_model(faults)
    replies = [model.invoke(f"question {index}: {PROMPT}") for index in range(CALLS)]
    assert all(isinstance(reply.content, str) and reply.content for reply in replies)
    check_log(faults, CALLS)


async def test_langchain_ainvoke(faults: Emulator) -> None:
    model = lc_model(faults)
    replies = [await model.ainvoke(f"question {index}: {PROMPT}") for index in range(CALLS)]
    assert all(isinstance(reply.content, str) and reply.content for reply in replies)
    check_log(faults, CALLS)


def test_llamaindex_chat(faults: Emulator) -> None:
    llm = li_model(faults)
    replies = [llm.chat(user(f"question {index}: {PROMPT}")) for index in range(CALLS)]
    assert all(reply.message.content for reply in replies)
    check_log(faults, CALLS)


async def test_llamaindex_achat(faults: Emulator) -> None:
    llm = li_model(faults)
    replies = [await llm.achat(user(f"question {index}: {PROMPT}")) for index in range(CALLS)]
    assert all(reply.message.content for reply in replies)
    check_log(faults, CALLS)


def test_langchain_streams(faults: Emulator) -> None:
    model = lc_model(faults)
    for index in range(STREAMS):
        chunks = list(model.stream(f"question {index}: {PROMPT}"))
        text = "".join(chunk.text for chunk in chunks)
        final = sum(chunks[1:], chunks[0])
        assert isinstance(final, AIMessageChunk)
        assert text
        assert final.text == text
    check_log(faults, STREAMS)


async def test_llamaindex_astreams(faults: Emulator) -> None:
    llm = li_model(faults)
    for index in range(STREAMS):
        stream = await llm.astream_chat(user(f"question {index}: {PROMPT}"))
        responses = [response async for response in stream]
        text = "".join(response.delta or "" for response in responses)
        assert text
        assert responses[-1].message.content == text
    check_log(faults, STREAMS)


# --- streams cut mid-way ---------------------------------------------------------------------

CORE_ASK = ChatRequest(messages=[Message("user", PROMPT)], model=MODEL)


def answer_tokens(emu: Emulator) -> list[str]:
    """The streamed fragments of the full answer to PROMPT (the emulator is deterministic)."""
    with ClovaClient(api_key=KEY, base_url=emu.base_url) as client:
        stream = client.stream_chat(CORE_ASK)
        with stream:
            tokens = [event.content for event in stream if isinstance(event, TokenEvent)]
    emu.clear_requests()
    return tokens


def torn_mid_body(emu: Emulator) -> None:
    """The answer's first three events, then the connection torn in the middle of the body."""
    frames = b"".join(
        b"event:token\ndata:%s\n\n"
        % json.dumps({"message": {"role": "assistant", "content": token}}).encode()
        for token in answer_tokens(emu)[:3]
    )
    body = frames + b'event:token\ndata:{"message":{"content":"never seen"}}\n\n'
    emu.script(
        ScriptedRaw(body=body, content_type="text/event-stream", send_bytes=len(frames) + 10)
    )


CUTS: dict[str, Callable[[Emulator], object]] = {
    "eof-after-4-events": lambda emu: emu.configure(cut_stream_after=4),
    "torn-mid-body": torn_mid_body,
    "error-event": lambda emu: emu.script(
        ScriptedError(status=500, in_stream=True, after_events=3)
    ),
    "unreadable-result": lambda emu: emu.configure(malformed_rate=1.0),
}


def read_core(emu: Emulator, received: list[str]) -> None:
    with ClovaClient(api_key=KEY, base_url=emu.base_url, retry_policy=NO_WAIT) as client:
        stream = client.stream_chat(CORE_ASK)
        with stream:
            for event in stream:
                if isinstance(event, TokenEvent):
                    received.append(event.content)


async def aread_core(emu: Emulator, received: list[str]) -> None:
    async with AsyncClovaClient(api_key=KEY, base_url=emu.base_url, retry_policy=NO_WAIT) as c:
        stream = await c.stream_chat(CORE_ASK)
        async with stream:
            async for event in stream:
                if isinstance(event, TokenEvent):
                    received.append(event.content)


def read_langchain(emu: Emulator, received: list[str]) -> None:
    for chunk in lc_model(emu, max_tokens=None).stream(PROMPT):
        received.append(chunk.text)


async def aread_langchain(emu: Emulator, received: list[str]) -> None:
    async for chunk in lc_model(emu, max_tokens=None).astream(PROMPT):
        received.append(chunk.text)


def read_llamaindex(emu: Emulator, received: list[str]) -> None:
    for response in li_model(emu, max_tokens=None).stream_chat(user(PROMPT)):
        received.append(response.delta or "")


async def aread_llamaindex(emu: Emulator, received: list[str]) -> None:
    async for response in await li_model(emu, max_tokens=None).astream_chat(user(PROMPT)):
        received.append(response.delta or "")


READERS: dict[str, Callable[[Emulator, list[str]], object]] = {
    "core": read_core,
    "core-async": aread_core,
    "langchain": read_langchain,
    "langchain-async": aread_langchain,
    "llamaindex": read_llamaindex,
    "llamaindex-async": aread_llamaindex,
}


async def read(surface: str, emu: Emulator, received: list[str]) -> None:
    outcome = READERS[surface](emu, received)
    if asyncio.iscoroutine(outcome):
        await outcome


@pytest.mark.parametrize("surface", list(READERS))
@pytest.mark.parametrize("cut", list(CUTS))
async def test_stream_cut_mid_way(emu: Emulator, cut: str, surface: str) -> None:
    answer = "".join(answer_tokens(emu))
    CUTS[cut](emu)
    received: list[str] = []  # filled as the caller receives text, up to the failure
    with pytest.raises(StreamError) as info:
        await read(surface, emu, received)
    text = "".join(received)
    error = info.value
    assert text, "the cut came after some text"
    assert error.partial_content == text  # what the caller saw, nothing more or less
    assert answer.startswith(text)  # a prefix of the answer: nothing repeated
    assert text != answer or cut == "unreadable-result"
    assert len(emu.requests) == 1  # never retried once text was delivered
    assert error.request_id == emu.requests[0].request_id
    assert emu.server_errors == []


def test_a_stream_closed_before_its_first_event_is_retried(emu: Emulator) -> None:
    """Nothing reached the caller, so the stream is simply sent again (same request id)."""
    answer = "".join(answer_tokens(emu))
    emu.script(ScriptedReply(content="never seen", cut_after=0))
    received: list[str] = []
    read_core(emu, received)
    assert "".join(received) == answer
    assert [record.outcome for record in emu.requests] == ["cut", "replied"]
    assert len({record.request_id for record in emu.requests}) == 1


def test_injected_429s_carry_retry_after_and_it_is_honoured(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    """The fault knob's ``Retry-After`` reaches the client, which waits exactly that long
    (the delay it logs) instead of its own backoff."""
    emu.configure(error_rates={429: 1.0}, fault_retry_after=0.05)
    caplog.set_level(logging.INFO, logger="clova_core")
    client = ClovaClient(api_key=KEY, base_url=emu.base_url, max_retries=2)
    with client, pytest.raises(RateLimitError) as info:
        client.chat(CORE_ASK)
    assert info.value.retry_after == 0.05
    assert [record.status for record in emu.requests] == [429, 429, 429]
    waits = [record.getMessage() for record in caplog.records if "Retrying" in record.getMessage()]
    assert len(waits) == 2
    assert all(
        message.endswith(("in 0.05s, retry 1 of 2", "in 0.05s, retry 2 of 2")) for message in waits
    )
