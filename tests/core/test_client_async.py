"""AsyncClovaClient over httpx.MockTransport: the same behaviour as the sync client."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from transport_fakes import (
    NO_WAIT,
    TEST_KEY,
    V1_RESULT,
    V3_RESULT,
    Server,
    async_client,
    clean_env,
    failure,
    ok,
    sse,
    stream_reply,
    v3_result,
    v3_token,
)

from clova_core.client import AsyncClovaClient
from clova_core.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClovaConfigurationError,
    ClovaValidationError,
    ContextLimitError,
    InternalServerError,
    RateLimitError,
    StreamError,
)
from clova_core.transport_errors import ClientClosedError
from clova_core.types import ChatRequest, Message, ResultEvent, TokenEvent

__all__ = ["clean_env"]

HELLO_V3 = ChatRequest(messages=[Message("user", "안녕")], model="HCX-005")
HELLO_V1 = ChatRequest(messages=[Message("user", "안녕")], model="HCX-003")
RID_HEADER = "x-ncp-clovastudio-request-id"


async def test_every_endpoint() -> None:
    server = Server(
        ok(V3_RESULT),
        ok(V1_RESULT),
        ok({"embedding": [0.5], "inputTokens": 1}),
        ok({"embedding": [0.5], "inputTokens": 1}),
        ok({"messages": [{"role": "user", "content": "안녕", "count": 3}]}),
        ok({"messages": [{"role": "user", "content": [{"type": "text", "count": 4}]}]}),
        ok({"numTokens": 9}),
    )
    async with async_client(server) as client:
        assert (await client.chat(HELLO_V3)).api_version == 3
        assert (await client.chat(HELLO_V1)).content == "안녕하세요"
        assert (await client.embed("x")).model == "clir-emb-dolphin"
        assert list((await client.embed("x", model="bge-m3")).embedding) == [0.5]
        assert (await client.count_chat_tokens(HELLO_V1)).total == 3
        assert (await client.count_chat_tokens(HELLO_V3)).total == 4
        assert await client.count_embedding_tokens("x") == 9
    assert server.paths == [
        "/v3/chat-completions/HCX-005",
        "/v1/chat-completions/HCX-003",
        "/v1/api-tools/embedding/clir-emb-dolphin",
        "/v1/api-tools/embedding/v2",
        "/v1/api-tools/chat-tokenize/HCX-003",
        "/v3/api-tools/chat-tokenize/HCX-005",
        "/v1/api-tools/embedding/v2/tokenize",
    ]
    assert all(r.headers["authorization"] == f"Bearer {TEST_KEY}" for r in server.requests)
    assert len({r.headers[RID_HEADER] for r in server.requests}) == 7


async def test_tuned_task_path_and_legacy_auth() -> None:
    server = Server(ok(V1_RESULT))
    client = async_client(server, api_key="legacy-key", apigw_api_key="gateway-key")
    request = ChatRequest(messages=[Message("user", "hi")], model="HCX-003", task_id="t1")
    await client.chat(request)
    assert server.paths == ["/v2/tasks/t1/chat-completions"]
    assert server.header("x-ncp-clovastudio-api-key") == "legacy-key"
    assert server.header("x-ncp-apigw-api-key") == "gateway-key"
    assert server.header("authorization") is None


async def test_missing_key() -> None:
    with pytest.raises(ClovaConfigurationError, match="CLOVASTUDIO_API_KEY"):
        AsyncClovaClient()


async def test_request_id_kept_across_retries() -> None:
    server = Server(
        failure(503, "50300", "unavailable", {"Retry-After": "0"}),
        httpx.ConnectError("refused"),
        ok(V3_RESULT),
    )
    result = await async_client(server, max_retries=2).chat(HELLO_V3, request_id="caller-id")
    assert [r.headers[RID_HEADER] for r in server.requests] == ["caller-id"] * 3
    assert result.request_id == "caller-id"


@pytest.mark.parametrize(
    ("reply", "error_class", "calls"),
    [
        (failure(429, "42901", "rate", {"Retry-After": "0"}), RateLimitError, 3),
        (failure(500, "50000", "boom"), InternalServerError, 3),
        (failure(400, "40001", "Invalid parameter"), BadRequestError, 1),
        (failure(401, "40104", "Invalid key"), AuthenticationError, 1),
        (httpx.ConnectError("refused"), APIConnectionError, 3),
        (httpx.ConnectTimeout("slow"), APITimeoutError, 3),
    ],
)
async def test_retry_policy_matches_sync(
    reply: httpx.Response | Exception, error_class: type[Exception], calls: int
) -> None:
    server = Server(reply)
    with pytest.raises(error_class) as info:
        await async_client(server, max_retries=2).chat(HELLO_V3)
    assert len(server.requests) == calls
    assert getattr(info.value, "request_id", None) == server.header(RID_HEADER)


async def test_exact_token_check_and_eager_stream_validation() -> None:
    huge = {"messages": [{"role": "user", "content": [{"type": "text", "count": 200_000}]}]}
    server = Server(ok(huge))
    client = async_client(server)
    with pytest.raises(ContextLimitError):
        await client.stream_chat(HELLO_V3, exact_token_check=True)
    assert server.paths == ["/v3/api-tools/chat-tokenize/HCX-005"]
    bad = ChatRequest(messages=[Message("user", "x")], model="HCX-005", top_k=999)
    with pytest.raises(ClovaValidationError):
        await client.stream_chat(bad)
    assert len(server.requests) == 1


async def test_stream_events_result_and_request_id() -> None:
    body = sse(
        [("token", v3_token("안")), ("token", v3_token("녕")), ("result", v3_result("안녕"))]
    )
    server = Server(lambda _r: stream_reply([body], is_async=True))
    async with async_client(server) as client:
        stream = await client.stream_chat(HELLO_V3, request_id="s1")
        assert server.requests == []  # connects on the first anext()
        async with stream:
            events = [event async for event in stream]
    assert [type(e) for e in events] == [TokenEvent, TokenEvent, ResultEvent]
    assert stream.result is not None
    assert stream.result.content == "안녕"
    assert stream.request_id == "s1" == server.header(RID_HEADER)
    assert server.header("accept") == "text/event-stream"


async def test_stream_aclose_closes_the_response() -> None:
    closed: list[bool] = []

    class Tracking(httpx.AsyncByteStream):
        def __init__(self, data: bytes) -> None:
            self.data = data

        async def __aiter__(self) -> Any:
            for i in range(0, len(self.data), 8):
                yield self.data[i : i + 8]

        async def aclose(self) -> None:
            closed.append(True)

    body = sse([("token", v3_token("a")), ("token", v3_token("b")), ("result", v3_result("ab"))])

    def reply(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=Tracking(body)
        )

    client = async_client(Server(reply))
    stream = await client.stream_chat(HELLO_V3)
    first = await stream.__anext__()
    assert isinstance(first, TokenEvent)
    assert closed == []
    await stream.aclose()
    assert closed == [True]
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()

    full = await client.stream_chat(HELLO_V3)
    assert len([event async for event in full]) == 3
    assert closed == [True, True]


async def test_stream_error_after_first_event_is_not_retried() -> None:
    body = sse([("token", v3_token("부분"))])
    cut = httpx.ReadError("connection reset")
    server = Server(lambda _r: stream_reply([body], is_async=True, cut=cut))
    stream = await async_client(server, max_retries=3).stream_chat(HELLO_V3)
    with pytest.raises(StreamError) as info:
        async for _event in stream:
            pass
    assert info.value.partial_content == "부분"
    assert len(server.requests) == 1


async def test_aclose_only_closes_our_own_http_client() -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(Server(ok(V3_RESULT))))
    async with AsyncClovaClient(api_key=TEST_KEY, http_client=http, retry_policy=NO_WAIT):
        pass
    assert not http.is_closed
    await http.aclose()
    own = AsyncClovaClient(api_key=TEST_KEY)
    await own.aclose()
    with pytest.raises(ClientClosedError):  # typed, not retried, not httpx's RuntimeError
        await own.chat(HELLO_V3)
