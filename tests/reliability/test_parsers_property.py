"""Property-based tests (hypothesis): the parsers take any bytes and fail only in type.

For arbitrary bytes, arbitrary JSON, plausible-but-wrong CLOVA shapes and valid streams cut
into arbitrary pieces, fed through the real client path (``ClovaClient`` / ``ChatStream`` over
``httpx.MockTransport``) and through the pure parsers, the only exceptions ever raised are
``clova_core.errors.ClovaError`` subclasses: no ``KeyError`` / ``TypeError`` /
``RecursionError`` / raw httpx error, no crash, no hang (each example has a deadline).
Streams also keep their promise: an error's ``partial_content`` is exactly the text already
delivered, and a valid stream decodes the same however its bytes are split.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clova_core.client import AsyncClovaClient, ClovaClient
from clova_core.errors import APIStatusError, ClovaError, ClovaValidationError, StreamError
from clova_core.models import get_chat_model
from clova_core.request import prepare_chat
from clova_core.response import (
    parse_chat_result,
    parse_chat_token_count,
    parse_embedding,
    parse_embedding_token_count,
    parse_envelope,
)
from clova_core.retry import RetryPolicy, parse_retry_after
from clova_core.sse_events import StreamDecoder
from clova_core.types import ChatRequest, Message, ResultEvent, StreamEvent, TokenEvent

SETTINGS = settings(
    max_examples=100,
    deadline=timedelta(milliseconds=750),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
NO_WAIT = RetryPolicy(initial_delay=0.0, max_delay=0.0)
SSE_TYPE = "text/event-stream; charset=utf-8"
RID = "prop-request"

# --- strategies ------------------------------------------------------------------------------

text = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)  # no lone surrogates
scalars = st.none() | st.booleans() | st.integers() | st.floats() | text
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=15,
)
numbers = st.integers(min_value=-(10**20), max_value=10**20) | st.floats() | json_values


def shaped(required: dict[str, Any], **optional: Any) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(required, optional=optional)


tool_calls = st.lists(
    shaped(
        {},
        id=text | json_values,
        type=text,
        function=shaped(
            {},
            name=text | json_values,
            arguments=json_values | text | json_values.map(json.dumps),
            partialJson=text | json_values,
        )
        | json_values,
    )
    | json_values,
    max_size=3,
)
messages = (
    shaped(
        {},
        role=text,
        content=text | json_values,
        thinkingContent=text | json_values,
        toolCalls=tool_calls | json_values,
    )
    | json_values
)
chat_results = shaped(
    {},
    message=messages,
    stopReason=text | json_values,
    finishReason=text | json_values,
    inputLength=numbers,
    outputLength=numbers,
    usage=shaped(
        {},
        promptTokens=numbers,
        completionTokens=numbers,
        totalTokens=numbers,
        completionTokensDetails=shaped({}, thinkingTokens=numbers) | json_values,
    )
    | json_values,
    seed=numbers,
    created=numbers,
    aiFilter=st.lists(
        shaped({}, groupName=json_values, name=json_values, score=json_values) | json_values
    )
    | json_values,
)
envelopes = shaped(
    {},
    status=shaped({}, code=text | numbers, message=text | json_values) | json_values,
    result=chat_results | json_values,
)
event_names = st.sampled_from(["token", "result", "error", "signal", "ping", "", "message"]) | text
event_data = (
    shaped({}, message=messages).map(json.dumps)
    | chat_results.map(json.dumps)
    | envelopes.map(json.dumps)
    | st.sampled_from(["[DONE]", '{"data":"[DONE]"}', "{", ""])
    | text
)


@st.composite
def sse_bodies(draw: st.DrawFn) -> bytes:
    """An SSE body of plausible events in any framing, then possibly damaged."""
    colon = draw(st.sampled_from([":", ": "]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    parts = []
    for name, data in draw(st.lists(st.tuples(event_names, event_data), max_size=6)):
        lines = [f"event{colon}{name}", *(f"data{colon}{line}" for line in data.split("\n"))]
        parts.append(newline.join(lines) + newline * 2)
    body = "".join(parts).encode("utf-8", "surrogatepass")
    damage = draw(st.lists(st.tuples(st.integers(0, 4096), st.binary(max_size=3)), max_size=3))
    for at, junk in damage:
        body = body[: at % (len(body) + 1)] + junk + body[at % (len(body) + 1) + len(junk) :]
    return body


def splits(body: bytes) -> st.SearchStrategy[list[bytes]]:
    """``body`` cut at arbitrary points (through multi-byte characters too)."""
    return st.lists(st.integers(0, max(len(body), 1)), max_size=8).map(
        lambda cuts: [
            body[a:b] for a, b in zip([0, *sorted(cuts)], [*sorted(cuts), len(body)], strict=True)
        ]
    )


@st.composite
def chunked_streams(draw: st.DrawFn) -> list[bytes]:
    body = draw(sse_bodies() | st.binary(max_size=600))
    return draw(splits(body))


# --- the real client path over MockTransport --------------------------------------------------


class Replies:
    """What the mock server answers next (one client serves every example)."""

    def __init__(self) -> None:
        self.status = 200
        self.headers: dict[str, str] = {"content-type": SSE_TYPE}
        self.chunks: Sequence[bytes] = ()

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """Header values as the bytes a server could send (any text, UTF-8 encoded)."""
        return [(k.encode(), v.encode("utf-8", "surrogatepass")) for k, v in self.headers.items()]

    def sync(self, request: httpx.Request) -> httpx.Response:
        chunks = list(self.chunks)

        def body() -> Iterator[bytes]:
            yield from chunks

        return httpx.Response(self.status, headers=self.raw_headers(), content=body())

    async def asynchronous(self, request: httpx.Request) -> httpx.Response:
        chunks = list(self.chunks)

        async def body() -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk

        return httpx.Response(self.status, headers=self.raw_headers(), content=body())


REPLIES = Replies()
REQUEST = ChatRequest(messages=[Message("user", "hi")], model="HCX-005")
REQUEST_V1 = ChatRequest(messages=[Message("user", "hi")], model="HCX-003")


@pytest.fixture(scope="module")
def core() -> Iterator[ClovaClient]:
    http = httpx.Client(transport=httpx.MockTransport(REPLIES.sync))
    with ClovaClient(
        api_key="test-key", base_url="https://clova.test", http_client=http, max_retries=0
    ) as client:
        yield client
    http.close()


def check_stream(events: list[StreamEvent], error: BaseException | None) -> None:
    delivered = "".join(event.content for event in events if isinstance(event, TokenEvent))
    if error is None:
        assert isinstance(events[-1], ResultEvent)
        return
    assert isinstance(error, ClovaError), f"{type(error).__name__}: {error}"
    if isinstance(error, StreamError):
        assert error.partial_content == delivered


def consume(client: ClovaClient, request: ChatRequest) -> tuple[list[StreamEvent], Any]:
    events: list[StreamEvent] = []
    try:
        with client.stream_chat(request) as stream:
            events.extend(stream)
    except Exception as error:  # judged by check_stream
        return events, error
    return events, None


@SETTINGS
@given(chunks=chunked_streams(), v1=st.booleans())
def test_stream_over_any_bytes(core: ClovaClient, chunks: list[bytes], v1: bool) -> None:
    REPLIES.status, REPLIES.headers, REPLIES.chunks = 200, {"content-type": SSE_TYPE}, chunks
    events, error = consume(core, REQUEST_V1 if v1 else REQUEST)
    check_stream(events, error)


@SETTINGS
@given(chunks=chunked_streams())
def test_async_stream_over_any_bytes(chunks: list[bytes]) -> None:
    async def run() -> tuple[list[StreamEvent], Any]:
        http = httpx.AsyncClient(transport=httpx.MockTransport(REPLIES.asynchronous))
        client = AsyncClovaClient(
            api_key="test-key", base_url="https://clova.test", http_client=http, max_retries=0
        )
        events: list[StreamEvent] = []
        try:
            async with await client.stream_chat(REQUEST) as stream:
                events.extend([event async for event in stream])
        except Exception as error:  # judged by check_stream
            return events, error
        finally:
            await http.aclose()
        return events, None

    REPLIES.status, REPLIES.headers, REPLIES.chunks = 200, {"content-type": SSE_TYPE}, chunks
    check_stream(*asyncio.run(run()))


@st.composite
def valid_streams(draw: st.DrawFn) -> tuple[list[str], list[bytes]]:
    fragments = draw(st.lists(text.filter(bool), min_size=1, max_size=8))
    colon = draw(st.sampled_from([":", ": "]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    events: list[tuple[str, Any]] = [
        ("token", {"message": {"role": "assistant", "content": part}}) for part in fragments
    ]
    events.append(("result", {"message": {"content": "".join(fragments)}, "finishReason": "stop"}))
    body = "".join(
        f"id{colon}{index}{newline}event{colon}{name}{newline}"
        f"data{colon}{json.dumps(data, ensure_ascii=False)}{newline}{newline}"
        for index, (name, data) in enumerate(events)
    ).encode()
    return fragments, draw(splits(body))


@SETTINGS
@given(stream=valid_streams())
def test_valid_stream_split_anywhere(
    core: ClovaClient, stream: tuple[list[str], list[bytes]]
) -> None:
    fragments, chunks = stream
    REPLIES.status, REPLIES.headers, REPLIES.chunks = 200, {"content-type": SSE_TYPE}, chunks
    events, error = consume(core, REQUEST)
    assert error is None
    assert [event.content for event in events if isinstance(event, TokenEvent)] == fragments
    assert isinstance(events[-1], ResultEvent)
    assert events[-1].result.content == "".join(fragments)


reply_headers = st.fixed_dictionaries(
    {},
    optional={
        "content-type": st.sampled_from(["application/json", "text/html", "", SSE_TYPE]),
        "retry-after": text,
        "content-encoding": st.sampled_from(["gzip", "deflate", "br", "identity", "bogus"]),
    },
)


@SETTINGS
@given(
    status=st.sampled_from([200, 200, 201, 204, 400, 401, 404, 408, 429, 500, 502, 503, 302, 418]),
    body=st.binary(max_size=300) | envelopes.map(lambda v: json.dumps(v).encode()),
    headers=reply_headers,
)
def test_reply_over_any_bytes(
    core: ClovaClient, status: int, body: bytes, headers: dict[str, str]
) -> None:
    REPLIES.status, REPLIES.headers, REPLIES.chunks = status, headers, [body]
    with contextlib.suppress(ClovaError):
        core.chat(REQUEST)
    with contextlib.suppress(ClovaError):
        core.embed("hi")


# --- the pure parsers -------------------------------------------------------------------------


@SETTINGS
@given(content=st.binary(max_size=400) | envelopes.map(lambda v: json.dumps(v).encode()))
def test_parse_envelope(content: bytes) -> None:
    with contextlib.suppress(ClovaError):
        assert isinstance(parse_envelope(content, http_status=200, request_id=RID), dict)


@SETTINGS
@given(result=chat_results | json_values, version=st.sampled_from([1, 3]))
def test_parse_chat_result(result: Any, version: int) -> None:
    try:
        parsed = parse_chat_result(result, api_version=version, model="HCX-005", request_id=RID)
    except ClovaError:
        return
    assert isinstance(parsed.content, str)


@SETTINGS
@given(
    result=st.dictionaries(text, json_values, max_size=4)
    | shaped(
        {},
        embedding=st.lists(numbers, max_size=5) | json_values,
        inputTokens=numbers,
        messages=st.lists(shaped({}, count=numbers, content=json_values) | json_values, max_size=3),
        numTokens=numbers,
        tools=json_values,
        responseFormat=json_values,
    )
)
def test_other_parsers(result: dict[str, Any]) -> None:
    for parse in (
        lambda: parse_embedding(result, model="bge-m3", request_id=RID),
        lambda: parse_chat_token_count(result, api_version=3, request_id=RID),
        lambda: parse_chat_token_count(result, api_version=1, request_id=RID),
        lambda: parse_embedding_token_count(result, request_id=RID),
    ):
        with contextlib.suppress(ClovaError):
            parse()


@SETTINGS
@given(
    status=st.integers(100, 599),
    content=st.binary(max_size=300) | envelopes.map(lambda v: json.dumps(v).encode()),
)
def test_error_from_any_reply(status: int, content: bytes) -> None:
    from clova_core.errors import error_from_response

    error = error_from_response(status, content, request_id=RID)
    assert isinstance(error, APIStatusError)
    assert error.status_code == status
    assert isinstance(str(error), str)


@SETTINGS
@given(events=st.lists(st.tuples(event_names, event_data | text), max_size=8))
def test_stream_decoder(events: list[tuple[str, str]]) -> None:
    decoder = StreamDecoder(api_version=3, model="HCX-005", request_id=RID)
    delivered = ""
    failure: ClovaError | None = None
    try:
        for name, data in events:
            event = decoder.decode(name, data)
            if isinstance(event, TokenEvent):
                delivered += event.content
        decoder.finish()
    except ClovaError as error:
        failure = error
    if isinstance(failure, StreamError):
        assert failure.partial_content == delivered


@SETTINGS
@given(
    headers=st.dictionaries(
        st.sampled_from(
            [
                "retry-after",
                "Retry-After",
                "retry-after-ms",
                "x-ratelimit-reset-requests",
                "x-ratelimit-reset-tokens",
                "x-ratelimit-remaining-requests",
            ]
        ),
        text
        | st.sampled_from(
            [
                "nan",
                "inf",
                "-1",
                "1e400",
                "Wed, 21 Oct 2015 07:28:00 GMT",
                "Fri, 31 Dec 9999 23:59:59 GMT",
                "6m0s",
                "1h2m3s",
                "20ms",
            ]
        ),
    ),
    status=st.sampled_from([429, 503, None]),
)
def test_retry_after_is_a_finite_delay_or_none(headers: dict[str, str], status: int | None) -> None:
    delay = parse_retry_after(headers, status_code=status)
    assert delay is None or (math.isfinite(delay) and delay >= 0)


sampling_values = st.none() | st.booleans() | st.integers() | st.floats() | text | st.lists(text)


@SETTINGS
@given(
    model=st.sampled_from(["HCX-003", "HCX-DASH-001", "HCX-005", "HCX-DASH-002", "HCX-007"]),
    content=text,
    fields=st.fixed_dictionaries(
        {},
        optional=dict.fromkeys(
            (
                "temperature",
                "top_p",
                "top_k",
                "repetition_penalty",
                "seed",
                "max_tokens",
                "stop",
                "thinking",
                "include_ai_filters",
                "tool_choice",
            ),
            sampling_values,
        ),
    ),
)
def test_request_preflight_fails_only_in_type(
    model: str, content: str, fields: dict[str, Any]
) -> None:
    request = ChatRequest(messages=[Message("user", content)], model=model, **fields)
    with contextlib.suppress(ClovaValidationError):
        prepare_chat(request, get_chat_model(model))
