"""AsyncClovaClient over both async transports, on real sockets.

Every test runs twice: over httpx's own transport (the default, the client builds it) and over
the optional aiohttp one (``DefaultAioHttpClient``, extra ``[aiohttp]``), against the emulator
or a small hostile server on 127.0.0.1. The MockTransport tests of ``test_client_async.py``
cover the rest of the async client's behaviour (no socket, so no transport to vary).
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]
import pytest
from hostile_server import Connection, hostile, read_request, reply, wait_until
from transport_fakes import NO_WAIT

from clova_core import DefaultAioHttpClient
from clova_core.client import AsyncClovaClient
from clova_core.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    ClovaError,
    InternalServerError,
    StreamError,
)
from clova_core.extras import MissingExtraError
from clova_core.models import custom_chat_model
from clova_core.transport_errors import ClientClosedError, ResponseTimeoutError
from clova_core.types import ChatRequest, Message, ResultEvent, TokenEvent
from clova_emulator import Emulator

HELLO_V3 = ChatRequest(messages=[Message("user", "Say hello")], model="HCX-005")
HELLO_V1 = ChatRequest(messages=[Message("user", "Say hello")], model="HCX-003")


def embedding_reply(value: float) -> bytes:
    body = (
        b'{"status":{"code":"20000","message":"OK"},"result":{"embedding":[%r],'
        b'"inputTokens":1}}' % value
    )
    return reply("200 OK", body)


@pytest.fixture(params=["httpx", "aiohttp"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@asynccontextmanager
async def clova(transport: str, base_url: str, **options: Any) -> AsyncIterator[AsyncClovaClient]:
    """An AsyncClovaClient on ``transport``: its own httpx client, or a DefaultAioHttpClient
    the test owns (and closes)."""
    options.setdefault("retry_policy", NO_WAIT)
    http = DefaultAioHttpClient() if transport == "aiohttp" else None
    client = AsyncClovaClient(api_key="test-key", base_url=base_url, http_client=http, **options)
    try:
        yield client
    finally:
        await client.aclose()
        if http is not None:
            await http.aclose()


async def test_every_endpoint(transport: str, emu: Emulator) -> None:
    async with clova(transport, emu.base_url) as client:
        assert (await client.chat(HELLO_V3)).content
        assert (await client.chat(HELLO_V1)).api_version == 1
        assert len((await client.embed("hello")).embedding) > 0
        assert (await client.count_chat_tokens(HELLO_V3)).total > 0
        assert await client.count_embedding_tokens("hello") > 0
        stream = await client.stream_chat(HELLO_V3)
        events = [event async for event in stream]
    assert any(isinstance(event, TokenEvent) for event in events)
    assert isinstance(events[-1], ResultEvent)
    streamed = "".join(e.content for e in events if isinstance(e, TokenEvent))
    assert streamed == events[-1].result.content


async def test_retries_then_typed_error(transport: str, emu: Emulator) -> None:
    emu.configure(error_rates={500: 1.0})
    async with clova(transport, emu.base_url, max_retries=2) as client:
        with pytest.raises(InternalServerError):
            await client.embed("hello")
    assert len(emu.requests) == 3


async def test_stream_cut_mid_way_keeps_the_partial_content(transport: str, emu: Emulator) -> None:
    emu.configure(cut_stream_after=2)
    async with clova(transport, emu.base_url) as client:
        stream = await client.stream_chat(HELLO_V3)
        with pytest.raises(StreamError) as info:
            async for _ in stream:
                pass
    assert info.value.partial_content
    assert len(emu.requests) == 1  # delivered tokens are never replayed


MALFORMED = {
    "chunk size 0x5": b"Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
    "chunk size 0_5": b"Transfer-Encoding: chunked\r\n\r\n0_5\r\nhello\r\n0\r\n\r\n",
    "chunk size -5": b"Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
    "header name with a space": b"Bad Name: x\r\nContent-Length: 2\r\n\r\n{}",
    "header name with NUL": b"Bad\x00Name: x\r\nContent-Length: 2\r\n\r\n{}",
}


@pytest.mark.parametrize("tail", MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_http_is_a_typed_error(transport: str, tail: bytes) -> None:
    def handler(conn: Connection) -> None:
        while read_request(conn) is not None:
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + tail)

    with hostile(handler) as server:
        async with clova(transport, server.base_url, max_retries=1) as client:
            with pytest.raises(APIError) as info:
                await client.embed("hello")
            stream = await client.stream_chat(HELLO_V3)
            with pytest.raises(APIError):
                await anext(stream)
    # Typed, with a clean httpx cause: never a bare ValueError or an aiohttp exception.
    assert isinstance(info.value, APIConnectionError)
    assert isinstance(info.value.__cause__, httpx.HTTPError)
    assert info.value.__cause__.__traceback__ is None


async def test_lf_only_head_is_read(transport: str) -> None:
    def handler(conn: Connection) -> None:
        while read_request(conn) is not None:
            body = b'{"status":{"code":"20000","message":"OK"},"result":{"embedding":[0.5]}}'
            head = b"HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: %d\n\n"
            conn.send(head % len(body) + body)

    with hostile(handler) as server:
        async with clova(transport, server.base_url, timeout=5.0) as client:
            assert (await client.embed("hello")).embedding == [0.5]


async def test_stray_reply_on_an_idle_connection_is_not_returned(
    transport: str, request: pytest.FixtureRequest
) -> None:
    if transport == "aiohttp":
        # aiohttp parses bytes that arrive on an idle pooled connection as the next reply and
        # reuses the connection without checking (its connector only checks is_connected);
        # httpcore drops a pooled connection that became readable. Documented in
        # clova_core.aiohttp_client and the README; strict, so a fixed aiohttp shows up here.
        request.applymarker(pytest.mark.xfail(strict=True, reason="aiohttp reuses it"))
    stray_sent = asyncio.Event()
    loop = asyncio.get_running_loop()

    def handler(conn: Connection) -> None:
        if conn.server.connections == 1:
            if read_request(conn) is None:
                return
            conn.send(embedding_reply(1.0))
            conn.server.stopping.wait(0.05)
            conn.send(embedding_reply(2.0))  # nobody asked for this one
            loop.call_soon_threadsafe(stray_sent.set)
        while read_request(conn) is not None:
            conn.send(embedding_reply(3.0))

    with hostile(handler) as server:
        async with clova(transport, server.base_url) as client:
            assert (await client.embed("first")).embedding == [1.0]
            await stray_sent.wait()
            await asyncio.sleep(0.05)  # let the stray bytes reach our socket
            assert (await client.embed("second")).embedding == [3.0]


def trickle_handler(conn: Connection) -> None:
    """A reply whose head comes at once and whose body trickles for a minute."""
    while read_request(conn) is not None:
        body = b'{"status":{"code":"20000","message":"OK"},"result":{"embedding":[0.5]}}'
        body += b" " * 600
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        conn.send(b"Content-Length: %d\r\n\r\n" % len(body))
        conn.trickle(body, every=0.1)


async def test_total_deadline_bounds_a_trickling_reply(transport: str) -> None:
    with hostile(trickle_handler) as server:
        async with clova(transport, server.base_url, timeout=0.5, max_retries=1) as client:
            with pytest.raises(ResponseTimeoutError):
                await client.chat(HELLO_V3)
            assert len(server.requests) == 1  # a late chat is not retried (billed answer)
            with pytest.raises(ResponseTimeoutError):
                await client.embed("hello")
            assert len(server.requests) == 3  # an embedding is (nothing billed twice)


def connections_to(port: int) -> int:
    return sum(
        1
        for conn in psutil.Process().net_connections(kind="tcp")
        if conn.raddr and conn.raddr.port == port and conn.status == psutil.CONN_ESTABLISHED
    )


def silent_handler(conn: Connection) -> None:
    """Read the request, never answer (until the server stops)."""
    if read_request(conn) is not None:
        conn.server.stopping.wait()


async def test_aclose_with_calls_in_flight_closes_every_connection(transport: str) -> None:
    with hostile(silent_handler) as server:
        http = DefaultAioHttpClient() if transport == "aiohttp" else None
        client = AsyncClovaClient(
            api_key="test-key", base_url=server.base_url, http_client=http, retry_policy=NO_WAIT
        )
        calls = [asyncio.ensure_future(client.embed(f"text {n}")) for n in range(4)]
        while len(server.requests) < 4:
            await asyncio.sleep(0.01)
        assert connections_to(server.port) == 4
        await client.aclose()
        if http is not None:
            await http.aclose()
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        assert all(isinstance(outcome, APIConnectionError) for outcome in outcomes), outcomes
        assert any(isinstance(outcome, ClientClosedError) for outcome in outcomes)
        assert await asyncio.to_thread(wait_until, lambda: connections_to(server.port) == 0)


def early_413(conn: Connection) -> None:
    """Answer 413 as soon as the head arrives, without reading the upload, and close."""
    if read_request(conn, read_body=False) is None:
        return
    body = b'{"status":{"code":"41300","message":"Request Entity Too Large"}}'
    conn.send(reply("413 Payload Too Large", body, headers="Connection: close\r\n"))
    conn.linger()


async def test_large_upload_answered_early_with_413_shows_the_413(transport: str) -> None:
    big = custom_chat_model("big-model", max_input_tokens=10**9, context_window=10**9 + 4096)
    request = ChatRequest(messages=[Message("user", "x" * 8_000_000)], model="big-model")
    with hostile(early_413) as server:
        async with clova(transport, server.base_url, max_retries=2) as client:
            with pytest.raises(APIStatusError) as info:
                await client.chat(request, spec=big)
    assert info.value.status_code == 413
    assert "50 MB" in str(info.value)
    assert "Broken pipe" not in str(info.value)
    assert len(server.requests) == 1


def test_missing_extra_says_which_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpx_aiohttp", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "clova_core.aiohttp_client")
    with pytest.raises(MissingExtraError) as info:
        importlib.import_module("clova_core").DefaultAioHttpClient  # noqa: B018
    assert 'pip install "clova-integrations[aiohttp]"' in str(info.value)
    assert isinstance(info.value, ClovaError)
    assert isinstance(info.value, ImportError)
