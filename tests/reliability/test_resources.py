"""Connections and threads: nothing is left behind.

Open sockets are counted from ``/proc/self/fd`` (client and emulator sides, the emulator runs
in this process) and client connections to the emulator with psutil; threads with
``threading.active_count()``. The emulator's handler threads notice a closed connection on
their own schedule, so counts are polled for up to 5 s before they must be back (a bound on
a hang, not a timing assertion).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import itertools
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.bridge.pydantic import BaseModel, Field
from llama_index.core.prompts import PromptTemplate
from rel_support import KEY, NO_WAIT, Baseline, client_connections, settle

from clova_core.client import AsyncClovaClient, ClovaClient
from clova_core.client_cache import ClientPool
from clova_core.errors import BadRequestError, StreamError
from clova_core.types import ChatRequest, Message, ResultEvent
from clova_emulator import (
    Emulator,
    ScriptedDisconnect,
    ScriptedError,
    ScriptedReply,
    ScriptItem,
)
from langchain_clova import ChatClovaX
from llama_index_clova import ClovaX

ASK = ChatRequest(messages=[Message("user", "hello there")], model="HCX-005", max_tokens=32)
LONG = ChatRequest(
    messages=[Message("user", "Tell me a long story about Seoul and its palaces")],
    model="HCX-005",
)

# Every 20th call gets one of these first (the rest are answered normally).
FAULTS: list[ScriptItem] = [
    ScriptedError(status=500),  # retried
    ScriptedError(status=400, code="40001", message="Invalid parameter"),  # reaches the caller
    ScriptedDisconnect(),  # retried
    ScriptedReply(content="a b c d e f", cut_after=2),  # a StreamError on a stream call
    ScriptedError(status=429, retry_after=0),  # retried
]


def connections(emu: Emulator) -> Callable[[], int]:
    return functools.partial(client_connections, emu.port)


@pytest.fixture(scope="module")
def own() -> Iterator[Emulator]:
    """An emulator of this module's own: connections to its port are ours alone (other
    tests' clients may still hold keep-alive connections to the session emulator)."""
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def clean(own: Emulator) -> Iterator[Emulator]:
    own.reset()
    yield own
    assert own.server_errors == []
    own.reset()


def outcome(call: Callable[[], object]) -> str:
    try:
        call()
    except BadRequestError:
        return "bad request"
    except StreamError:
        return "cut"
    return "ok"


def test_a_thousand_calls_leave_nothing_behind(clean: Emulator) -> None:
    emu = clean
    baseline = Baseline.take()
    faults = itertools.cycle(FAULTS)
    outcomes: Counter[str] = Counter()
    client = ClovaClient(api_key=KEY, base_url=emu.base_url, retry_policy=NO_WAIT)

    def sync_call(index: int) -> Callable[[], object]:
        if index % 4:
            return lambda: client.chat(ASK)
        return lambda: list(client.stream_chat(ASK))

    for index in range(500):
        if index % 20 == 0:
            emu.script(next(faults))
        outcomes[outcome(sync_call(index))] += 1
        if index % 100 == 99:  # one pooled keep-alive connection at most, streams closed
            assert settle(connections(emu), lambda n: n <= 1) <= 1

    async def async_calls() -> None:
        async with AsyncClovaClient(
            api_key=KEY, base_url=emu.base_url, retry_policy=NO_WAIT
        ) as aclient:

            async def stream() -> object:
                chat_stream = await aclient.stream_chat(ASK)
                async with chat_stream:
                    return [event async for event in chat_stream]

            for index in range(500):
                if index % 20 == 0:
                    emu.script(next(faults))
                try:
                    await (aclient.chat(ASK) if index % 4 else stream())
                    outcomes["ok"] += 1
                except BadRequestError:
                    outcomes["bad request"] += 1
                except StreamError:
                    outcomes["cut"] += 1
                if index % 100 == 99:
                    assert client_connections(emu.port) <= 2

    asyncio.run(async_calls())
    client.close()

    assert sum(outcomes.values()) == 1000
    # 50 scripted faults: 30 retried away, 10 bad requests and 10 cuts that reach the caller
    # only on the stream calls / JSON calls they happened to land on.
    assert outcomes["bad request"] + outcomes["cut"] <= 20
    assert outcomes["ok"] >= 980
    assert settle(connections(emu), lambda n: n == 0) == 0
    baseline.assert_back()


# --- abandoned streams ---------------------------------------------------------------------


def abandon_with_close(client: ClovaClient) -> None:
    stream = client.stream_chat(LONG)
    next(stream)
    stream.close()


def abandon_with_break(client: ClovaClient) -> None:
    with client.stream_chat(LONG) as stream:
        for _ in stream:
            break


def abandon_by_dropping(client: ClovaClient) -> None:
    for _ in client.stream_chat(LONG):
        break  # no close(), no with: the stream is finalised when it is dropped


@pytest.mark.parametrize("abandon", [abandon_with_close, abandon_with_break, abandon_by_dropping])
def test_an_abandoned_stream_releases_its_connection(
    clean: Emulator, abandon: Callable[[ClovaClient], None]
) -> None:
    clean.configure(token_delay=0.01)  # the server is still writing when the caller leaves
    baseline = Baseline.take()
    with ClovaClient(api_key=KEY, base_url=clean.base_url) as client:
        for _ in range(3):
            abandon(client)
            assert settle(connections(clean), lambda n: n == 0) == 0
    outcomes = settle(
        lambda: [record.outcome for record in clean.requests],
        lambda seen: seen == ["client_disconnected"] * 3,
    )
    assert outcomes == ["client_disconnected"] * 3  # the server saw each caller leave
    baseline.assert_back()


async def test_an_abandoned_async_stream_releases_its_connection(clean: Emulator) -> None:
    clean.configure(token_delay=0.01)
    baseline = Baseline.take()
    async with AsyncClovaClient(api_key=KEY, base_url=clean.base_url) as client:
        stream = await client.stream_chat(LONG)
        await stream.__anext__()
        await stream.aclose()
        assert settle(connections(clean), lambda n: n == 0) == 0
        async with await client.stream_chat(LONG) as stream:
            async for event in stream:
                assert not isinstance(event, ResultEvent)
                break
        assert settle(connections(clean), lambda n: n == 0) == 0
    baseline.assert_back()


def test_framework_streams_left_early_release_their_connection(clean: Emulator) -> None:
    clean.configure(token_delay=0.01)
    baseline = Baseline.take()
    model = ChatClovaX(api_key=KEY, base_url=clean.base_url)
    for _ in model.stream("Tell me a long story about Seoul and its palaces"):
        break
    assert settle(connections(clean), lambda n: n == 0) == 0
    llm = ClovaX(api_key=KEY, base_url=clean.base_url)
    for _ in llm.stream_chat([ChatMessage(role="user", content="Tell me a long story")]):
        break
    assert settle(connections(clean), lambda n: n == 0) == 0
    model.close()
    llm.close()
    baseline.assert_back()


# --- per-loop async clients ----------------------------------------------------------------


def test_pool_clients_of_finished_loops_leave_nothing(clean: Emulator) -> None:
    """``aclose()`` in each loop, or nothing at all: ``asyncio.run`` shutting its loop down
    closes that loop's client."""
    baseline = Baseline.take()
    pool = ClientPool(api_key=KEY, base_url=clean.base_url)

    async def use(close: bool) -> None:
        await pool.for_running_loop().chat(ASK)
        if close:
            await pool.aclose()

    for close in (True, True, False, False, False):
        asyncio.run(use(close))
        assert settle(connections(clean), lambda n: n == 0) == 0
    pool.close()
    baseline.assert_back()


# Their sockets can only be released by garbage collection, which warns about them.
@pytest.mark.filterwarnings("ignore:unclosed:ResourceWarning")
def test_pool_clients_of_loops_closed_without_shutdown_are_dropped(clean: Emulator) -> None:
    """The old pattern, a loop closed without ``shutdown_asyncgens()``: the connections
    cannot be closed in their loop; the next use of the pool forgets those clients."""
    baseline = Baseline.take()
    pool = ClientPool(api_key=KEY, base_url=clean.base_url)

    async def use() -> None:
        await pool.for_running_loop().chat(ASK)

    for _ in range(3):
        loop = asyncio.new_event_loop()
        loop.run_until_complete(use())
        loop.close()
    # Each new loop already forgot the clients of the loops closed before it; whether their
    # sockets are gone yet depends on when garbage collection runs. The last one is open.
    assert 1 <= client_connections(clean.port) <= 3
    asyncio.run(use())  # the next use forgets the last dead loop's client
    gc.collect()
    assert settle(connections(clean), lambda n: n == 0) == 0
    pool.close()
    baseline.assert_back()


def test_asyncio_run_per_call_does_not_pile_up_connections(clean: Emulator) -> None:
    baseline = Baseline.take()
    model = ChatClovaX(api_key=KEY, base_url=clean.base_url)
    llm = ClovaX(api_key=KEY, base_url=clean.base_url)
    for _ in range(10):
        asyncio.run(model.ainvoke("hi"))
        asyncio.run(llm.achat([ChatMessage(role="user", content="hi")]))
    assert settle(connections(clean), lambda n: n == 0) == 0
    model.close()
    llm.close()
    baseline.assert_back()


class Weather(BaseModel):
    """A weather report."""

    city: str = Field(description="The city the report is about.")
    temperature_c: float = Field(description="Temperature in degrees Celsius.")


async def test_a_dropped_model_leaves_its_stream_in_flight_alone(clean: Emulator) -> None:
    """The model (and its client pool) can be garbage while a stream it started is read:
    the loop's client must stay open for that stream (closed only at loop shutdown)."""
    clean.configure(token_delay=0.002)
    prompt = PromptTemplate("Extract the weather report from this text: {text}")
    stream = await ClovaX(
        model="HCX-007", api_key=KEY, base_url=clean.base_url
    ).astream_structured_predict(Weather, prompt, text="It is 23 degrees in Seoul today.")
    outputs = [await anext(stream)]  # connected and reading
    gc.collect()  # the ClovaX and its ClientPool are gone now
    await asyncio.sleep(0.01)  # let the loop run anything their collection scheduled
    outputs += [output async for output in stream]
    assert outputs[-1] == Weather(city="Seoul", temperature_c=23)
    assert clean.requests[0].outcome == "replied"
