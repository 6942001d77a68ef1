"""CLOVA SSE event semantics (clova-api.md 2.4, 3.8): the decoder alone, then whole streams
through the client over httpx.MockTransport with the bytes split at arbitrary boundaries."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from transport_fakes import (
    Server,
    async_client,
    clean_env,
    split,
    sse,
    stream_reply,
    sync_client,
    v1_text_events,
    v3_result,
    v3_token,
)

from clova_core.errors import APIConnectionError, APIResponseError, RateLimitError, StreamError
from clova_core.sse_events import StreamDecoder
from clova_core.types import (
    ChatRequest,
    Message,
    ResultEvent,
    StreamEvent,
    TokenEvent,
    ToolCall,
    ToolCallChunk,
)

__all__ = ["clean_env"]

RID = "rid-stream"


def decoder(api_version: int = 3) -> StreamDecoder:
    return StreamDecoder(api_version=api_version, model="HCX-005", request_id=RID)


def feed(dec: StreamDecoder, name: str, data: Any) -> StreamEvent | None:
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return dec.decode(name, text, "evt")


# ---- the decoder ---------------------------------------------------------------------------------


def test_v1_token_is_the_new_fragment_and_result_is_not_repeated() -> None:
    dec = decoder(api_version=1)
    events = [feed(dec, name, data) for name, data in v1_text_events(["안", "녕"])]
    assert events[0] == TokenEvent(content="안", event_id="evt")
    assert events[1] == TokenEvent(content="녕", event_id="evt")
    final = events[2]
    assert isinstance(final, ResultEvent)
    assert final.result.content == "안녕"
    assert final.result.finish_reason == "stop"
    assert dec.finished
    assert dec.content == "안녕"


def test_v1_ignores_thinking_field() -> None:
    event = feed(decoder(1), "token", {"message": {"content": "a", "thinkingContent": "t"}})
    assert event == TokenEvent(content="a", event_id="evt")


def test_v3_thinking_then_content() -> None:
    dec = decoder()
    first = feed(dec, "token", v3_token("", thinking="Let me think. "))
    second = feed(dec, "token", v3_token("Answer", thinking=""))
    assert first == TokenEvent(thinking_content="Let me think. ", event_id="evt")
    assert second == TokenEvent(content="Answer", event_id="evt")
    final = feed(dec, "result", v3_result("Answer", thinking="Let me think. "))
    assert isinstance(final, ResultEvent)
    assert final.result.thinking_content == "Let me think. "
    assert final.result.usage is not None
    assert final.result.usage.thinking_tokens == 30


def test_tool_call_pieces_are_indexed_in_arrival_order() -> None:
    dec = decoder()
    header_a = {"id": "call_a", "type": "function", "function": {"name": "get_weather"}}
    header_b = {"id": "call_b", "type": "function", "function": {"name": "get_time"}}
    events = [
        feed(dec, "token", v3_token(tool_calls=[header_a])),
        feed(dec, "token", v3_token(tool_calls=[{"function": {"partialJson": '{"city"'}}])),
        feed(dec, "token", v3_token(tool_calls=[{"function": {"partialJson": ':"서울"}'}}])),
        feed(dec, "token", v3_token(tool_calls=[header_b])),
        feed(dec, "token", v3_token(tool_calls=[{"function": {"partialJson": "{}"}}])),
    ]
    chunks = [c for e in events if isinstance(e, TokenEvent) for c in e.tool_call_chunks]
    assert chunks == [
        ToolCallChunk(0, id="call_a", name="get_weather"),
        ToolCallChunk(0, arguments='{"city"'),
        ToolCallChunk(0, arguments=':"서울"}'),
        ToolCallChunk(1, id="call_b", name="get_time"),
        ToolCallChunk(1, arguments="{}"),
    ]
    assert all(isinstance(e, TokenEvent) and e.content == "" for e in events)
    full_a = [
        {"id": "call_a", "function": {"name": "get_weather", "arguments": {"city": "서울"}}},
        {"id": "call_b", "function": {"name": "get_time", "arguments": {}}},
    ]
    final = feed(dec, "result", v3_result("", tool_calls=full_a, finish="tool_calls"))
    assert isinstance(final, ResultEvent)
    assert final.result.tool_calls == (
        ToolCall("call_a", "get_weather", {"city": "서울"}),
        ToolCall("call_b", "get_time", {}),
    )


def test_tool_call_piece_repeating_the_id_continues_the_call() -> None:
    dec = decoder()
    feed(dec, "token", v3_token(tool_calls=[{"id": "c1", "function": {"name": "f"}}]))
    event = feed(
        dec, "token", v3_token(tool_calls=[{"id": "c1", "function": {"partialJson": "{"}}])
    )
    assert isinstance(event, TokenEvent)
    assert event.tool_call_chunks == (ToolCallChunk(0, id=None, name=None, arguments="{"),)


def test_empty_token_yields_nothing() -> None:
    assert feed(decoder(), "token", v3_token("")) is None
    assert feed(decoder(), "token", {"index": 0}) is None


def test_error_event_raises_with_partial_content() -> None:
    dec = decoder()
    feed(dec, "token", v3_token("", thinking="hmm"))
    feed(dec, "token", v3_token("Hel"))
    with pytest.raises(StreamError) as info:
        feed(dec, "error", {"status": {"code": "50000", "message": "Internal Server Error"}})
    error = info.value
    assert (error.partial_content, error.partial_thinking) == ("Hel", "hmm")
    assert (error.code, error.status_code, error.request_id) == ("50000", 500, RID)
    assert "Internal Server Error" in str(error)


def test_error_event_with_non_json_data() -> None:
    with pytest.raises(StreamError) as info:
        feed(decoder(), "error", "upstream exploded")
    assert "upstream exploded" in str(info.value)


@pytest.mark.parametrize("data", ['{"data":"[DONE]"}', "[DONE]"])
def test_done_before_result_is_an_error(data: str) -> None:
    dec = decoder()
    feed(dec, "token", v3_token("partial"))
    with pytest.raises(StreamError) as info:
        dec.decode("signal", data)
    assert "before the result event" in str(info.value)
    assert info.value.partial_content == "partial"


def test_done_after_result_and_late_events_are_ignored() -> None:
    dec = decoder()
    feed(dec, "result", v3_result("ok"))
    assert dec.decode("signal", '{"data":"[DONE]"}') is None
    assert feed(dec, "token", v3_token("late")) is None
    assert dec.content == ""


def test_unknown_events_and_other_signals_are_ignored() -> None:
    dec = decoder()
    assert dec.decode("ping", "{}") is None
    assert dec.decode("message", "not json") is None
    assert dec.decode("signal", '{"data":"keepalive"}') is None
    assert not dec.finished


@pytest.mark.parametrize("name", ["token", "result"])
def test_malformed_json_raises_response_error(name: str) -> None:
    with pytest.raises(APIResponseError) as info:
        decoder().decode(name, '{"message": ')
    assert info.value.request_id == RID


def test_finish_without_result() -> None:
    with pytest.raises(StreamError, match="before the result event"):
        decoder().finish()


# ---- whole streams through the client, bytes split anywhere ----------------------------------

SPLITS = [1, 2, 3, 5, 7, 64, 100_000]
REQUEST_V1 = ChatRequest(messages=[Message("user", "인사해줘")], model="HCX-003")
REQUEST_V3 = ChatRequest(messages=[Message("user", "인사해줘")], model="HCX-005")
REQUEST_THINK = ChatRequest(messages=[Message("user", "왜?")], model="HCX-007")


async def collect(
    events_bytes: bytes,
    size: int,
    request: ChatRequest,
    is_async: bool,
    cut: Exception | None = None,
) -> tuple[list[StreamEvent], Server]:
    server = Server(lambda _r: stream_reply(split(events_bytes, size), is_async=is_async, cut=cut))
    if is_async:
        async with async_client(server) as client:
            stream = await client.stream_chat(request)
            async with stream:
                return [event async for event in stream], server
    with sync_client(server) as sync, sync.stream_chat(request) as sync_stream:
        return list(sync_stream), server


def text_of(events: list[StreamEvent]) -> str:
    return "".join(e.content for e in events if isinstance(e, TokenEvent))


@pytest.mark.parametrize("is_async", [False, True])
@pytest.mark.parametrize("size", SPLITS)
@pytest.mark.parametrize(("space", "crlf"), [(False, False), (True, False), (True, True)])
async def test_v1_stream_any_split(is_async: bool, size: int, space: bool, crlf: bool) -> None:
    body = sse(v1_text_events(["안녕", "하세요", "!"]), space=space, crlf=crlf)
    events, server = await collect(body, size, REQUEST_V1, is_async)
    assert [e.content for e in events if isinstance(e, TokenEvent)] == ["안녕", "하세요", "!"]
    assert [e.event_id for e in events] == ["evt-0", "evt-1", "evt-2", "evt-3"]
    final = events[-1]
    assert isinstance(final, ResultEvent)
    assert final.result.content == "안녕하세요!"
    assert final.result.api_version == 1
    assert server.header("accept") == "text/event-stream"
    assert server.paths == ["/v1/chat-completions/HCX-003"]


@pytest.mark.parametrize("is_async", [False, True])
@pytest.mark.parametrize("size", SPLITS)
async def test_v3_thinking_stream_with_trailing_done(is_async: bool, size: int) -> None:
    events_in = [
        ("token", v3_token("", thinking="생각 ")),
        ("token", v3_token("", thinking="중")),
        ("token", v3_token("답")),
        ("token", v3_token("변")),
        ("result", v3_result("답변", thinking="생각 중")),
        ("signal", {"data": "[DONE]"}),
    ]
    events, _ = await collect(sse(events_in, space=size % 2 == 0), size, REQUEST_THINK, is_async)
    tokens = [e for e in events if isinstance(e, TokenEvent)]
    assert "".join(t.thinking_content for t in tokens) == "생각 중"
    assert text_of(events) == "답변"
    assert isinstance(events[-1], ResultEvent)
    assert events[-1].result.thinking_content == "생각 중"
    assert len(events) == 5


@pytest.mark.parametrize("is_async", [False, True])
@pytest.mark.parametrize("size", SPLITS)
async def test_v3_tool_call_stream(is_async: bool, size: int) -> None:
    header = {"id": "call_zumb", "type": "function", "function": {"name": "get_weather"}}
    pieces = ['{"', 'location":"', "서울", '"}']
    events_in = [("token", v3_token(tool_calls=[header]))]
    events_in += [
        ("token", v3_token(tool_calls=[{"type": "function", "function": {"partialJson": p}}]))
        for p in pieces
    ]
    full = [{**header, "function": {"name": "get_weather", "arguments": {"location": "서울"}}}]
    events_in.append(("result", v3_result("", tool_calls=full, finish="tool_calls")))
    events, _ = await collect(sse(events_in), size, REQUEST_V3, is_async)
    chunks = [c for e in events if isinstance(e, TokenEvent) for c in e.tool_call_chunks]
    assert chunks[0] == ToolCallChunk(0, id="call_zumb", name="get_weather")
    assert json.loads("".join(c.arguments for c in chunks)) == {"location": "서울"}
    assert all(c.index == 0 for c in chunks)
    final = events[-1]
    assert isinstance(final, ResultEvent)
    assert final.result.tool_calls == (ToolCall("call_zumb", "get_weather", {"location": "서울"}),)
    assert final.result.finish_reason == "tool_calls"


@pytest.mark.parametrize("is_async", [False, True])
@pytest.mark.parametrize("size", [1, 4, 1000])
async def test_error_event_mid_stream(is_async: bool, size: int) -> None:
    body = sse(
        [
            ("token", v3_token("부분")),
            ("error", {"status": {"code": "42902", "message": "Too many requests - overloaded"}}),
        ]
    )
    server = Server(lambda _r: stream_reply(split(body, size), is_async=is_async))
    with pytest.raises(StreamError) as info:
        await collect_from(server, is_async)
    assert info.value.partial_content == "부분"
    assert (info.value.code, info.value.status_code) == ("42902", 429)
    assert len(server.requests) == 1  # an event was delivered: never replayed


async def collect_from(server: Server, is_async: bool) -> list[StreamEvent]:
    if is_async:
        client = async_client(server)
        return [event async for event in await client.stream_chat(REQUEST_V3)]
    return list(sync_client(server).stream_chat(REQUEST_V3))


@pytest.mark.parametrize("is_async", [False, True])
@pytest.mark.parametrize("size", [1, 3, 1000])
async def test_stream_cut_mid_way(is_async: bool, size: int) -> None:
    body = sse([("token", v3_token("안녕")), ("token", v3_token("하"))])
    cut = httpx.RemoteProtocolError("peer closed connection without sending complete body")
    server = Server(lambda _r: stream_reply(split(body, size), is_async=is_async, cut=cut))
    with pytest.raises(StreamError) as info:
        await collect_from(server, is_async)
    assert info.value.partial_content == "안녕하"
    assert "connection lost" in str(info.value)
    assert info.value.request_id == server.header("x-ncp-clovastudio-request-id")
    assert isinstance(info.value.__cause__, httpx.RemoteProtocolError)
    assert len(server.requests) == 1


@pytest.mark.parametrize("is_async", [False, True])
async def test_stream_ending_without_result(is_async: bool) -> None:
    body = sse([("token", v3_token("안녕"))])
    server = Server(lambda _r: stream_reply(split(body, 3), is_async=is_async))
    with pytest.raises(StreamError, match="before the result event") as info:
        await collect_from(server, is_async)
    assert info.value.partial_content == "안녕"


@pytest.mark.parametrize("is_async", [False, True])
async def test_unknown_events_do_not_break_the_stream(is_async: bool) -> None:
    body = sse(
        [("ping", {}), ("token", v3_token("a")), ("future", "x"), ("result", v3_result("a"))]
    )
    server = Server(lambda _r: stream_reply([body], is_async=is_async))
    events = await collect_from(server, is_async)
    assert [type(e) for e in events] == [TokenEvent, ResultEvent]


@pytest.mark.parametrize("is_async", [False, True])
async def test_malformed_event_data(is_async: bool) -> None:
    body = b"event:token\ndata:{oops\n\n"
    server = Server(lambda _r: stream_reply([body], is_async=is_async))
    with pytest.raises(APIResponseError) as info:
        await collect_from(server, is_async)
    assert info.value.request_id == server.header("x-ncp-clovastudio-request-id")


@pytest.mark.parametrize("is_async", [False, True])
async def test_retried_before_first_event_not_after(is_async: bool) -> None:
    good = sse([("token", v3_token("ok")), ("result", v3_result("ok"))])
    server = Server(
        httpx.ConnectError("refused"),
        httpx.Response(429, json={"status": {"code": "42901", "message": "rate"}}),
        lambda _r: stream_reply(
            [b"event:error\n", b'data:{"status":{"code":"50000","message":"boom"}}\n\n'],
            is_async=is_async,
        ),
        lambda _r: stream_reply([good], is_async=is_async),
    )
    events = await collect_from_with(server, is_async, max_retries=3)
    assert text_of(events) == "ok"
    assert len(server.requests) == 4
    ids = {request.headers["x-ncp-clovastudio-request-id"] for request in server.requests}
    assert len(ids) == 1


async def collect_from_with(server: Server, is_async: bool, **kwargs: Any) -> list[StreamEvent]:
    if is_async:
        client = async_client(server, **kwargs)
        return [event async for event in await client.stream_chat(REQUEST_V3)]
    return list(sync_client(server, **kwargs).stream_chat(REQUEST_V3))


@pytest.mark.parametrize("is_async", [False, True])
async def test_stream_retries_exhausted(is_async: bool) -> None:
    server = Server(httpx.Response(429, json={"status": {"code": "42901", "message": "rate"}}))
    with pytest.raises(RateLimitError) as info:
        await collect_from_with(server, is_async, max_retries=2)
    assert len(server.requests) == 3
    assert info.value.request_id == server.header("x-ncp-clovastudio-request-id")


@pytest.mark.parametrize("is_async", [False, True])
async def test_stream_connection_error_before_first_event(is_async: bool) -> None:
    server = Server(httpx.ConnectError("refused"))
    with pytest.raises(APIConnectionError) as info:
        await collect_from_with(server, is_async, max_retries=1)
    assert not isinstance(info.value, StreamError)
    assert len(server.requests) == 2


@pytest.mark.parametrize("is_async", [False, True])
async def test_json_reply_to_stream_request(is_async: bool) -> None:
    ok_json = httpx.Response(
        200, json={"status": {"code": "20000", "message": "OK"}, "result": v3_result("x")}
    )
    server = Server(ok_json)
    with pytest.raises(APIResponseError, match="text/event-stream"):
        await collect_from(server, is_async)
    assert len(server.requests) == 1


# ---- SSE decoding rules the spec sets (BOM, events without data, media type case) ------------


@pytest.mark.parametrize("is_async", [False, True])
@pytest.mark.parametrize("size", [1, 2, 3, 100_000])
async def test_leading_byte_order_mark_keeps_the_first_token(is_async: bool, size: int) -> None:
    # No id line: the BOM sits right before "event:token", which it used to turn into an
    # unknown field name, dropping the first token.
    events_in = [("token", v3_token("first")), ("result", v3_result("first"))]
    body = "\ufeff".encode() + sse(events_in, ids=False)
    events, _ = await collect(body, size, REQUEST_V3, is_async)
    assert text_of(events) == "first"
    assert isinstance(events[-1], ResultEvent)


@pytest.mark.parametrize("is_async", [False, True])
async def test_event_without_data_is_ignored(is_async: bool) -> None:
    # The SSE spec dispatches no event whose data buffer is empty (id- or event-only blocks).
    body = (
        b"event:token\n\n"
        + b"event:error\nid:7\n\n"
        + b"event:result\n\n"
        + sse([("token", v3_token("a")), ("result", v3_result("a"))])
    )
    events, _ = await collect(body, 100_000, REQUEST_V3, is_async)
    assert [type(e) for e in events] == [TokenEvent, ResultEvent]
    assert text_of(events) == "a"


@pytest.mark.parametrize("is_async", [False, True])
@pytest.mark.parametrize(
    "content_type",
    ["Text/Event-Stream; charset=UTF-8", "TEXT/EVENT-STREAM", "text/event-stream;charset=latin-1"],
)
async def test_media_type_is_case_insensitive(is_async: bool, content_type: str) -> None:
    body = sse([("token", v3_token("안녕")), ("result", v3_result("안녕"))])
    server = Server(
        lambda _r: stream_reply([body], is_async=is_async, headers={"content-type": content_type})
    )
    events = await collect_from(server, is_async)
    assert text_of(events) == "안녕"  # UTF-8 whatever the charset says (the SSE spec)
