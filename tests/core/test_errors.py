"""Every kind of error reply, through the client, becomes the right typed error carrying
status, CLOVA code, message and request id (clova-api.md 1.3, 1.4, 8.1); the API key never
shows up in reprs, error strings or logs."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from pydantic import SecretStr
from transport_fakes import (
    Server,
    async_client,
    clean_env,
    sse,
    stream_reply,
    sync_client,
    v3_token,
)

from clova_core.client import AsyncClovaClient, ClovaClient
from clova_core.errors import (
    APIError,
    APIResponseError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ClovaValidationError,
    ContextLengthExceededError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StreamError,
)
from clova_core.types import ChatRequest, Message
from clova_emulator import Emulator

__all__ = ["clean_env"]

HELLO = ChatRequest(messages=[Message("user", "안녕")], model="HCX-005")
SECRET = "test-key-do-not-leak"
GATEWAY_SECRET = "gateway-do-not-leak"


def native(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"status": {"code": code, "message": message}})


def openai_style(status: int, code: str, message: str) -> httpx.Response:
    body = {"error": {"message": message, "type": None, "param": None, "code": code}}
    return httpx.Response(status, json=body)


HTML_502 = httpx.Response(
    502,
    content=b"<html><body><h1>502 Bad Gateway</h1></body></html>",
    headers={"content-type": "text/html"},
)

CASES = [
    (native(400, "40001", "Invalid parameter"), BadRequestError, 400, "40001", "Invalid parameter"),
    (
        native(400, "40003", "Context length exceeded"),
        ContextLengthExceededError,
        400,
        "40003",
        "Context length exceeded",
    ),
    (native(401, "40104", "Invalid key"), AuthenticationError, 401, "40104", "Invalid key"),
    (native(403, "40300", "Forbidden"), PermissionDeniedError, 403, "40300", "Forbidden"),
    (native(404, "40400", "Not found"), NotFoundError, 404, "40400", "Not found"),
    (native(429, "42901", "Too many requests"), RateLimitError, 429, "42901", "Too many requests"),
    (native(500, "50000", "Internal Server Error"), InternalServerError, 500, "50000", "Internal"),
    (native(501, "50100", "Not yet implemented"), InternalServerError, 501, "50100", "Not yet"),
    (
        openai_style(400, "40002", "Unsupported parameter"),
        BadRequestError,
        400,
        "40002",
        "Unsupported parameter",
    ),
    (openai_style(429, "42902", "overloaded"), RateLimitError, 429, "42902", "overloaded"),
    (HTML_502, InternalServerError, 502, None, "502 Bad Gateway"),
    (httpx.Response(503), InternalServerError, 503, None, "HTTP 503"),
    (httpx.Response(413, content=b""), APIStatusError, 413, None, "HTTP 413"),
    (
        httpx.Response(200, json={"status": {"code": "40084", "message": "Unsupported API"}}),
        BadRequestError,
        400,
        "40084",
        "Unsupported API",
    ),
]


Case = tuple[httpx.Response, type[APIStatusError], int, str | None, str]


async def chat(server: Server, is_async: bool, request_id: str) -> None:
    if is_async:
        await async_client(server, max_retries=0).chat(HELLO, request_id=request_id)
    else:
        sync_client(server, max_retries=0).chat(HELLO, request_id=request_id)


async def stream(server: Server, is_async: bool, request_id: str) -> None:
    if is_async:
        chat_stream = await async_client(server).stream_chat(HELLO, request_id=request_id)
        _ = [event async for event in chat_stream]
    else:
        list(sync_client(server).stream_chat(HELLO, request_id=request_id))


@pytest.mark.parametrize("is_async", [False, True])
@pytest.mark.parametrize("case", CASES)
async def test_error_envelopes(is_async: bool, case: Case) -> None:
    reply, cls, status, code, message = case
    server = Server(reply)
    with pytest.raises(APIStatusError) as info:
        await chat(server, is_async, "err-id")
    error = info.value
    assert type(error) is cls
    assert (error.status_code, error.code, error.request_id) == (status, code, "err-id")
    assert message in error.message
    assert "err-id" in str(error)


@pytest.mark.parametrize("is_async", [False, True])
@pytest.mark.parametrize("case", CASES[:4])
async def test_error_envelopes_on_stream_requests(is_async: bool, case: Case) -> None:
    reply, cls, status, code, message = case
    server = Server(reply)
    with pytest.raises(APIStatusError) as info:
        await stream(server, is_async, "s-id")
    error = info.value
    assert type(error) is cls
    assert (error.status_code, error.code, error.request_id) == (status, code, "s-id")
    assert message in error.message


@pytest.mark.parametrize(
    "body", [b"<html>OK?</html>", b"", b"[]", b'{"status":{"code":"20000","message":"OK"}}']
)
def test_unreadable_success_reply(body: bytes) -> None:
    server = Server(httpx.Response(200, content=body))
    with pytest.raises(APIResponseError) as info:
        sync_client(server).chat(HELLO, request_id="bad-200")
    assert info.value.request_id == "bad-200"
    assert len(server.requests) == 1


def test_stream_error_event_carries_request_id_and_code() -> None:
    body = sse(
        [
            ("token", v3_token("앞부분")),
            ("error", {"status": {"code": "40003", "message": "Context length exceeded"}}),
        ]
    )
    server = Server(lambda _r: stream_reply([body], is_async=False))
    with pytest.raises(StreamError) as info:
        list(sync_client(server).stream_chat(HELLO, request_id="se"))
    error = info.value
    assert (error.code, error.status_code, error.request_id) == ("40003", 400, "se")
    assert error.partial_content == "앞부분"
    assert "Context length exceeded" in str(error)


@pytest.mark.parametrize("cls", [ClovaClient, AsyncClovaClient])
@pytest.mark.parametrize("key", [SECRET, SecretStr(SECRET)])
def test_key_never_in_repr_or_attributes_str(
    cls: type[ClovaClient] | type[AsyncClovaClient], key: str | SecretStr
) -> None:
    client = cls(api_key=key, apigw_api_key=GATEWAY_SECRET)
    for text in (repr(client), str(client), repr(vars(client)), str(client.api_key)):
        assert SECRET not in text
        assert GATEWAY_SECRET not in text


@pytest.mark.parametrize(
    "reply",
    [
        native(401, "40104", "Invalid key"),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("timed out"),
        lambda _r: stream_reply([b"event:token\ndata:{\n\n"], is_async=False),
    ],
)
def test_key_never_in_errors_or_logs(reply: object, caplog: pytest.LogCaptureFixture) -> None:
    server = Server(reply)  # type: ignore[arg-type]
    client = sync_client(server, api_key=SECRET, max_retries=1)
    with caplog.at_level(logging.DEBUG), pytest.raises(APIError) as info:
        list(client.stream_chat(HELLO))
    error = info.value
    for text in (str(error), repr(error), repr(vars(error)), json.dumps(str(error.args))):
        assert SECRET not in text
    assert all(SECRET not in record.getMessage() for record in caplog.records)
    assert error.request_id == server.header("x-ncp-clovastudio-request-id")
    assert not isinstance(error, httpx.HTTPError)


# --- hints that fit the failure (issue 18 section 1) ----------------------------------------

IMAGE_LIMIT = native(400, "40003", "Image limit exceeded")


@pytest.mark.parametrize("is_async", [False, True])
@pytest.mark.parametrize(
    "reply",
    [IMAGE_LIMIT, openai_style(400, "40003", "image count exceeded: 6 > 5")],
)
async def test_image_limit_is_not_a_context_length_error(
    is_async: bool, reply: httpx.Response
) -> None:
    server = Server(reply)
    with pytest.raises(BadRequestError) as info:
        await chat(server, is_async, "img")
    error = info.value
    assert type(error) is BadRequestError
    assert not isinstance(error, ContextLengthExceededError)
    assert error.code == "40003"
    assert "Send at most 5 images per request" in str(error)
    for wrong in ("Shorten", "trim the chat history", "max_tokens"):
        assert wrong not in str(error)


def test_image_limit_in_a_stream_error_event_gets_the_image_hint() -> None:
    body = sse([("error", {"status": {"code": "40003", "message": "Image limit exceeded"}})])
    server = Server(lambda _r: stream_reply([body], is_async=False))
    with pytest.raises(StreamError) as info:
        list(sync_client(server).stream_chat(HELLO))
    assert "Send at most 5 images per request" in str(info.value)
    assert "trim the chat history" not in str(info.value)


def test_context_length_keeps_its_chat_hint() -> None:
    server = Server(native(400, "40003", "Context length exceeded"))
    with pytest.raises(ContextLengthExceededError) as info:
        sync_client(server, max_retries=0).chat(HELLO)
    assert "trim the chat history" in str(info.value)


@pytest.mark.parametrize(
    ("model", "path"),
    [
        ("clir-emb-dolphin", "/v1/api-tools/embedding/clir-emb-dolphin"),
        ("bge-m3", "/v1/api-tools/embedding/v2"),
    ],
)
def test_embedding_length_errors_carry_an_embedding_hint(model: str, path: str) -> None:
    server = Server(native(400, "40003", "Context length exceeded"))
    with pytest.raises(ContextLengthExceededError) as info:
        sync_client(server, max_retries=0).embed("a text", model=model)
    message = str(info.value)
    assert server.paths == [path]
    assert "Shorten the text or split it into smaller chunks" in message
    assert "clir-emb-dolphin 500" in message
    assert "bge-m3 8,192" in message
    assert "chat history" not in message
    assert "max_tokens" not in message


def test_embedding_text_empty_reply_says_to_skip_such_texts() -> None:
    server = Server(native(400, "40004", "Text empty"))
    with pytest.raises(BadRequestError) as info:
        sync_client(server, max_retries=0).embed("\u200b")  # not whitespace to Python
    assert "empty or only whitespace: skip such texts" in str(info.value)


def test_chat_text_empty_reply_has_a_hint() -> None:
    server = Server(native(400, "40004", "Text empty"))
    with pytest.raises(BadRequestError) as info:
        sync_client(server, max_retries=0).chat(HELLO)
    assert "Give every system and user message some text" in str(info.value)


@pytest.mark.parametrize("is_async", [False, True])
@pytest.mark.parametrize("text", ["   ", "\n\t", "\u3000"])
async def test_whitespace_only_text_is_caught_before_sending(is_async: bool, text: str) -> None:
    server = Server(native(400, "40004", "Text empty"))
    request = ChatRequest(messages=[Message("user", text)], model="HCX-005")
    if is_async:
        client = async_client(server)
        with pytest.raises(ClovaValidationError, match="whitespace"):
            await client.embed(text)
        with pytest.raises(ClovaValidationError, match="empty or whitespace-only content"):
            await client.chat(request)
    else:
        with pytest.raises(ClovaValidationError, match="whitespace"):
            sync_client(server).embed(text)
        with pytest.raises(ClovaValidationError, match="empty or whitespace-only content"):
            sync_client(server).chat(request)
    assert server.requests == []


def test_embedding_over_the_limit_on_the_emulator_gets_the_embedding_hint(emu: Emulator) -> None:
    # Short enough for the local lower bound to let it go, over 500 tokens by the server's count.
    text = "alpha beta gamma delta " * 200
    with ClovaClient(api_key="test-key", base_url=emu.base_url, max_retries=0) as client:
        with pytest.raises(ContextLengthExceededError) as info:
            client.embed(text, model="clir-emb-dolphin")
        assert "split it into smaller chunks" in str(info.value)
        assert "chat history" not in str(info.value)
        assert len(client.embed(text, model="bge-m3").embedding) == 1024
