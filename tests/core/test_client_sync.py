"""ClovaClient over httpx.MockTransport: endpoints, headers, auth, request ids, retries and
resources (clova-api.md 1-3, 5, 6, 8)."""

from __future__ import annotations

import gc
import logging
from typing import Any

import httpx
import pytest
from transport_fakes import (
    BASE,
    NO_WAIT,
    TEST_KEY,
    V1_RESULT,
    V3_RESULT,
    Server,
    clean_env,
    failure,
    ok,
    sse,
    stream_reply,
    sync_client,
    v3_result,
    v3_token,
)

from clova_core.client import ClovaClient
from clova_core.constants import DEFAULT_BASE_URL
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
    RequestTimeoutError,
    UnknownModelError,
)
from clova_core.models import custom_chat_model
from clova_core.transport_errors import ClientClosedError, PoolTimeoutError, ResponseTimeoutError
from clova_core.types import ChatRequest, Message

__all__ = ["clean_env"]

HELLO_V3 = ChatRequest(messages=[Message("user", "안녕")], model="HCX-005")
HELLO_V1 = ChatRequest(messages=[Message("user", "안녕")], model="HCX-003")
RID_HEADER = "x-ncp-clovastudio-request-id"
COUNT_V3 = {"messages": [{"role": "user", "content": [{"type": "text", "count": 7}]}]}


# ---- endpoints ----------------------------------------------------------------------------------


def test_chat_v3() -> None:
    server = Server(ok(V3_RESULT))
    with sync_client(server) as client:
        result = client.chat(HELLO_V3)
    assert server.paths == ["/v3/chat-completions/HCX-005"]
    assert str(server.requests[0].url).startswith(BASE)
    assert server.body()["messages"] == [{"role": "user", "content": "안녕"}]
    assert result.content == "A child feeding a sheep."
    assert (result.model, result.api_version) == ("HCX-005", 3)
    assert result.usage is not None
    assert result.usage.total_tokens == 42


def test_chat_v1() -> None:
    server = Server(ok(V1_RESULT))
    result = sync_client(server).chat(HELLO_V1)
    assert server.paths == ["/v1/chat-completions/HCX-003"]
    assert result.content == "안녕하세요"
    assert result.finish_reason == "stop"
    assert result.api_version == 1


@pytest.mark.parametrize(
    ("model", "path", "result"),
    [
        ("HCX-003", "/v2/tasks/task42/chat-completions", V1_RESULT),
        ("HCX-005", "/v3/tasks/task42/chat-completions", V3_RESULT),
    ],
)
def test_chat_tuned_task_paths(model: str, path: str, result: dict[str, Any]) -> None:
    server = Server(ok(result))
    request = ChatRequest(messages=[Message("user", "hi")], model=model, task_id="task42")
    sync_client(server).chat(request)
    assert server.paths == [path]


def test_chat_with_custom_spec_for_unknown_model() -> None:
    server = Server(ok(V3_RESULT))
    request = ChatRequest(messages=[Message("user", "hi")], model="HCX-NEW")
    with pytest.raises(UnknownModelError):
        sync_client(server).chat(request)
    assert server.requests == []
    result = sync_client(server).chat(request, spec=custom_chat_model("HCX-NEW"))
    assert server.paths == ["/v3/chat-completions/HCX-NEW"]
    assert result.model == "HCX-NEW"


@pytest.mark.parametrize(
    ("model", "path"),
    [
        ("clir-emb-dolphin", "/v1/api-tools/embedding/clir-emb-dolphin"),
        ("clir-sts-dolphin", "/v1/api-tools/embedding/clir-sts-dolphin"),
        ("bge-m3", "/v1/api-tools/embedding/v2"),
    ],
)
def test_embed(model: str, path: str) -> None:
    server = Server(ok({"embedding": [0.1, -0.2, 0.3], "inputTokens": 4}))
    result = sync_client(server).embed("임베딩할 문장", model=model)
    assert server.paths == [path]
    assert server.body() == {"text": "임베딩할 문장"}
    assert (list(result.embedding), result.input_tokens, result.model) == (
        [0.1, -0.2, 0.3],
        4,
        model,
    )
    assert result.request_id == server.header(RID_HEADER)


def test_embed_default_model() -> None:
    server = Server(ok({"embedding": [1.0], "inputTokens": 1}))
    sync_client(server).embed("x")
    assert server.paths == ["/v1/api-tools/embedding/clir-emb-dolphin"]


def test_count_chat_tokens_v1_and_v3() -> None:
    v1_count = {"messages": [{"role": "user", "content": "안녕", "count": 3}]}
    server = Server(ok(v1_count), ok({**COUNT_V3, "tools": {"count": 5}}))
    client = sync_client(server)
    assert client.count_chat_tokens(HELLO_V1).total == 3
    count = client.count_chat_tokens(HELLO_V3, request_id="mine")
    assert (count.total, count.tools, count.request_id) == (12, 5, "mine")
    assert server.paths == [
        "/v1/api-tools/chat-tokenize/HCX-003",
        "/v3/api-tools/chat-tokenize/HCX-005",
    ]


def test_count_embedding_tokens() -> None:
    server = Server(ok({"numTokens": 7}))
    assert sync_client(server).count_embedding_tokens("hello") == 7
    assert server.paths == ["/v1/api-tools/embedding/v2/tokenize"]
    assert server.body() == {"text": "hello"}


# ---- exact token check --------------------------------------------------------------------------


def test_exact_token_check_counts_first_then_chats() -> None:
    server = Server(ok(COUNT_V3), ok(V3_RESULT))
    result = sync_client(server).chat(HELLO_V3, exact_token_check=True, request_id="r1")
    assert server.paths == ["/v3/api-tools/chat-tokenize/HCX-005", "/v3/chat-completions/HCX-005"]
    assert result.request_id == "r1"


def test_exact_token_check_rejects_before_chat() -> None:
    huge = {"messages": [{"role": "user", "content": [{"type": "text", "count": 200_000}]}]}
    server = Server(ok(huge), ok(V3_RESULT))
    with pytest.raises(ContextLimitError) as info:
        sync_client(server).chat(HELLO_V3, exact_token_check=True)
    assert info.value.exact
    assert info.value.input_tokens == 200_000
    assert server.paths == ["/v3/api-tools/chat-tokenize/HCX-005"]


def test_exact_token_check_for_streams_happens_at_call_time() -> None:
    huge = {"messages": [{"role": "user", "content": [{"type": "text", "count": 200_000}]}]}
    server = Server(ok(huge))
    with pytest.raises(ContextLimitError):
        sync_client(server).stream_chat(HELLO_V3, exact_token_check=True)
    assert len(server.requests) == 1


def test_stream_validation_is_eager_and_connection_lazy() -> None:
    server = Server(ok(V3_RESULT))
    client = sync_client(server)
    bad = ChatRequest(messages=[Message("user", "x")], model="HCX-005", temperature=7.0)
    with pytest.raises(ClovaValidationError):
        client.stream_chat(bad)
    stream = client.stream_chat(HELLO_V3, request_id="lazy")
    assert server.requests == []
    assert stream.request_id == "lazy"
    stream.close()
    assert server.requests == []


# ---- headers and auth ---------------------------------------------------------------------------


def test_json_call_headers() -> None:
    server = Server(ok(V3_RESULT))
    sync_client(server, default_headers={"X-Extra": "1"}).chat(HELLO_V3)
    headers = server.requests[0].headers
    assert headers["authorization"] == f"Bearer {TEST_KEY}"
    assert headers["accept"] == "application/json"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"].startswith("clova-integrations/")
    assert headers["x-extra"] == "1"
    assert "x-ncp-apigw-api-key" not in headers
    assert len(headers[RID_HEADER]) == 32


def test_default_headers_merge_case_insensitively_and_cannot_replace_auth() -> None:
    server = Server(ok(V3_RESULT))
    extra = {"user-agent": "my-app/1", "authorization": "Bearer other", "accept": "text/plain"}
    sync_client(server, default_headers=extra).chat(HELLO_V3)
    headers = server.requests[0].headers
    assert headers.get_list("user-agent") == ["my-app/1"]
    assert headers.get_list("authorization") == [f"Bearer {TEST_KEY}"]
    assert headers.get_list("accept") == ["application/json"]
    legacy = sync_client(server, apigw_api_key="gateway-key", default_headers=extra)
    legacy.chat(HELLO_V3)
    assert "authorization" not in server.requests[-1].headers


def test_stream_headers() -> None:
    body = sse([("token", v3_token("a")), ("result", v3_result("a"))])
    server = Server(lambda _r: stream_reply([body], is_async=False))
    stream = sync_client(server).stream_chat(HELLO_V3)
    list(stream)
    assert server.header("accept") == "text/event-stream"
    assert server.header("content-type") == "application/json"
    assert stream.request_id == server.header(RID_HEADER)
    assert stream.result is not None
    assert stream.result.request_id == stream.request_id


def test_legacy_two_header_auth() -> None:
    server = Server(ok(V3_RESULT))
    client = sync_client(server, api_key="legacy-key", apigw_api_key="gateway-key")
    client.chat(HELLO_V3)
    headers = server.requests[0].headers
    assert "authorization" not in headers
    assert headers["x-ncp-clovastudio-api-key"] == "legacy-key"
    assert headers["x-ncp-apigw-api-key"] == "gateway-key"
    assert client.auth_scheme == "legacy"


def test_env_key_and_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOVASTUDIO_API_KEY", "env-key")
    monkeypatch.setenv("CLOVASTUDIO_API_BASE_URL", "https://env.example/testapp/")
    server = Server(ok(V3_RESULT))
    client = ClovaClient(http_client=httpx.Client(transport=httpx.MockTransport(server)))
    assert client.base_url == "https://env.example/testapp"
    client.chat(HELLO_V3)
    assert str(server.requests[0].url) == "https://env.example/testapp/v3/chat-completions/HCX-005"
    assert server.header("authorization") == "Bearer env-key"


def test_env_gateway_key_only_for_non_bearer_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NCP_APIGW_API_KEY", "gateway-env")
    server = Server(ok(V3_RESULT))
    sync_client(server, api_key="old-style-key").chat(HELLO_V3)
    assert server.header("x-ncp-apigw-api-key") == "gateway-env"
    assert server.header("x-ncp-clovastudio-api-key") == "old-style-key"
    sync_client(server, api_key="nv-placeholder").chat(HELLO_V3)
    assert server.header("authorization") == "Bearer nv-placeholder"
    assert server.header("x-ncp-apigw-api-key") is None


def test_defaults_and_argument_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    client = ClovaClient(api_key=TEST_KEY)
    assert client.base_url == DEFAULT_BASE_URL
    assert client.timeout == httpx.Timeout(60.0, connect=10.0)
    assert client.max_retries == 2
    client.close()
    monkeypatch.setenv("CLOVASTUDIO_API_BASE_URL", "https://env.example")
    assert ClovaClient(api_key=TEST_KEY, base_url="https://arg.example/").base_url == (
        "https://arg.example"
    )


def test_missing_key_is_a_configuration_error() -> None:
    with pytest.raises(ClovaConfigurationError, match="CLOVASTUDIO_API_KEY"):
        ClovaClient()


@pytest.mark.parametrize("url", ["clovastudio.stream.ntruss.com", "ftp://x", "https://"])
def test_bad_base_url(url: str) -> None:
    with pytest.raises(ClovaConfigurationError, match="base URL"):
        ClovaClient(api_key=TEST_KEY, base_url=url)


# ---- request ids and retries --------------------------------------------------------------------


def test_request_id_given_is_sent_kept_across_retries_and_exposed() -> None:
    server = Server(
        failure(500, "50000", "Internal Server Error", {"Retry-After": "0"}),
        failure(429, "42901", "Too many requests - rate exceeded", {"Retry-After": "0"}),
        ok(V3_RESULT),
    )
    result = sync_client(server).chat(HELLO_V3, request_id="caller-id")
    assert [r.headers[RID_HEADER] for r in server.requests] == ["caller-id"] * 3
    assert result.request_id == "caller-id"


def test_generated_request_id_is_per_call() -> None:
    server = Server(ok(V3_RESULT))
    client = sync_client(server)
    first, second = client.chat(HELLO_V3), client.chat(HELLO_V3)
    assert first.request_id != second.request_id
    assert [first.request_id, second.request_id] == [r.headers[RID_HEADER] for r in server.requests]


@pytest.mark.parametrize(
    ("reply", "error_class", "calls"),
    [
        (failure(429, "42901", "rate", {"Retry-After": "0"}), RateLimitError, 3),
        (failure(408, "40800", "Request timeout"), RequestTimeoutError, 3),
        (failure(503, "50300", "unavailable"), InternalServerError, 3),
        (failure(400, "40001", "Invalid parameter"), BadRequestError, 1),
        (failure(401, "40104", "Invalid key"), AuthenticationError, 1),
        (
            httpx.Response(200, json={"status": {"code": "42902", "message": "busy"}}),
            RateLimitError,
            3,
        ),
        (httpx.ConnectError("refused"), APIConnectionError, 3),
        (httpx.ConnectTimeout("slow"), APITimeoutError, 3),
        (httpx.WriteTimeout("slow"), APITimeoutError, 3),
        # A chat whose reply is late after the request was sent may still be generated and
        # billed by the server: not retried. A full local pool would stay full: not retried.
        (httpx.ReadTimeout("slow"), ResponseTimeoutError, 1),
        (httpx.PoolTimeout("busy"), PoolTimeoutError, 1),
    ],
)
def test_retries_are_bounded_and_only_for_retryable(
    reply: httpx.Response | Exception, error_class: type[Exception], calls: int
) -> None:
    server = Server(reply)
    with pytest.raises(error_class) as info:
        sync_client(server, max_retries=2).chat(HELLO_V3)
    assert len(server.requests) == calls
    assert getattr(info.value, "request_id", None) == server.header(RID_HEADER)
    assert not isinstance(info.value, httpx.HTTPError)


def test_late_reply_is_retried_for_embeddings_and_token_counts() -> None:
    server = Server(httpx.ReadTimeout("slow"))
    client = sync_client(server, max_retries=2)
    with pytest.raises(ResponseTimeoutError):
        client.embed("hello")
    with pytest.raises(ResponseTimeoutError):
        client.count_embedding_tokens("hello")
    with pytest.raises(ResponseTimeoutError):
        client.count_chat_tokens(HELLO_V3)
    assert len(server.requests) == 9
    with pytest.raises(ResponseTimeoutError):
        client.chat(HELLO_V3)
    assert len(server.requests) == 10


def test_max_retries_zero_and_success_after_retry() -> None:
    server = Server(failure(500, "50000", "boom"), ok(V3_RESULT))
    with pytest.raises(InternalServerError):
        sync_client(server, max_retries=0).chat(HELLO_V3)
    assert len(server.requests) == 1
    assert sync_client(server).chat(HELLO_V3).content == "A child feeding a sheep."


def test_long_retry_after_is_not_slept_on() -> None:
    server = Server(failure(429, "42901", "rate", {"Retry-After": "3600"}), ok(V3_RESULT))
    with pytest.raises(RateLimitError) as info:
        sync_client(server).chat(HELLO_V3)
    assert info.value.retry_after == 3600.0
    assert len(server.requests) == 1


def test_retries_are_logged_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    server = Server(failure(503, "50300", "unavailable"), ok(V3_RESULT))
    with caplog.at_level(logging.DEBUG, logger="clova_core"):
        sync_client(server, api_key="secret-test-key").chat(HELLO_V3, request_id="log-id")
    retry_lines = [r.getMessage() for r in caplog.records if "Retrying" in r.getMessage()]
    assert len(retry_lines) == 1
    assert "/v3/chat-completions/HCX-005" in retry_lines[0]
    assert "status=503" in retry_lines[0]
    assert "log-id" in retry_lines[0]
    assert all("secret-test-key" not in r.getMessage() for r in caplog.records)


# ---- resources ----------------------------------------------------------------------------------


def test_close_only_closes_our_own_http_client() -> None:
    http = httpx.Client(transport=httpx.MockTransport(Server(ok(V3_RESULT))))
    with ClovaClient(api_key=TEST_KEY, http_client=http, retry_policy=NO_WAIT):
        pass
    assert not http.is_closed
    own = ClovaClient(api_key=TEST_KEY)
    own.close()
    with pytest.raises(ClientClosedError):  # typed, not retried, not httpx's RuntimeError
        own.chat(HELLO_V3)


def test_stream_closes_response_on_break_and_on_exhaustion() -> None:
    closed: list[bool] = []

    class Tracking(httpx.SyncByteStream):
        def __init__(self, data: bytes) -> None:
            self.data = data

        def __iter__(self) -> Any:
            yield from (self.data[i : i + 8] for i in range(0, len(self.data), 8))

        def close(self) -> None:
            closed.append(True)

    body = sse([("token", v3_token("a")), ("token", v3_token("b")), ("result", v3_result("ab"))])

    def reply(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=Tracking(body)
        )

    client = sync_client(Server(reply))
    with client.stream_chat(HELLO_V3) as stream:
        next(stream)
        assert closed == []
    assert closed == [True]
    with pytest.raises(StopIteration):
        next(stream)
    assert stream.result is None

    full = client.stream_chat(HELLO_V3)
    assert len(list(full)) == 3
    assert closed == [True, True]
    assert full.result is not None
    assert full.result.content == "ab"

    abandoned = client.stream_chat(HELLO_V3)
    next(abandoned)
    del abandoned  # generator finalisation closes the response too
    gc.collect()
    assert closed == [True, True, True]
