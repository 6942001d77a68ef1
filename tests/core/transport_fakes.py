"""Helpers for the transport tests: fake CLOVA replies served through ``httpx.MockTransport``.

No sockets: every client under test gets ``http_client=httpx.Client(transport=MockTransport)``
(or the async twin) and a :class:`RetryPolicy` with zero backoff, so retries do not sleep.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import httpx
import pytest

from clova_core.client import AsyncClovaClient, ClovaClient
from clova_core.constants import ENV_API_KEY, ENV_APIGW_API_KEY, ENV_BASE_URL
from clova_core.retry import RetryPolicy

TEST_KEY = "test-key"
BASE = "https://clova.test"
NO_WAIT = RetryPolicy(initial_delay=0.0, max_delay=0.0)
SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8"}

Reply = httpx.Response | Exception
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CLOVA variables from the outer environment leak into a test."""
    for name in (ENV_API_KEY, ENV_APIGW_API_KEY, ENV_BASE_URL):
        monkeypatch.delenv(name, raising=False)


def envelope(result: Mapping[str, Any], code: str = "20000", message: str = "OK") -> bytes:
    """A native success envelope (clova-api.md 1.3)."""
    return json.dumps(
        {"status": {"code": code, "message": message}, "result": result}, ensure_ascii=False
    ).encode()


def ok(result: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        200,
        content=envelope(result),
        headers={"content-type": "application/json", **(headers or {})},
    )


def failure(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> httpx.Response:
    body = json.dumps({"status": {"code": code, "message": message}}).encode()
    return httpx.Response(
        status, content=body, headers={"content-type": "application/json", **(headers or {})}
    )


def sse(
    events: Iterable[tuple[str, Any]], *, space: bool = False, crlf: bool = False, ids: bool = True
) -> bytes:
    """An SSE body; data that is not a str is JSON-encoded (clova-api.md 2.4 line format)."""
    sep = ": " if space else ":"
    nl = "\r\n" if crlf else "\n"
    out = []
    for number, (name, data) in enumerate(events):
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        lines = ([f"id{sep}evt-{number}"] if ids else []) + [
            f"event{sep}{name}",
            f"data{sep}{text}",
        ]
        out.append(nl.join(lines) + nl + nl)
    return "".join(out).encode()


def split(data: bytes, size: int) -> list[bytes]:
    """``data`` in chunks of ``size`` bytes (cutting through UTF-8 characters on purpose)."""
    return [data[i : i + size] for i in range(0, len(data), size)]


def stream_reply(
    chunks: Sequence[bytes],
    *,
    is_async: bool,
    cut: Exception | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """A streamed 200 reply made of ``chunks``, optionally failing with ``cut`` at the end."""
    if is_async:

        async def agen() -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk
            if cut is not None:
                raise cut

        return httpx.Response(200, headers={**SSE_HEADERS, **(headers or {})}, content=agen())

    def gen() -> Iterator[bytes]:
        yield from chunks
        if cut is not None:
            raise cut

    return httpx.Response(200, headers={**SSE_HEADERS, **(headers or {})}, content=gen())


class Server:
    """A scripted fake server: answers each request with the next reply, records requests.

    A reply that is an exception is raised by the transport (a connection failure); a
    callable is called with the request.
    """

    def __init__(self, *replies: Reply | Handler) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.replies:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        if not isinstance(reply, httpx.Response):
            return reply(request)
        try:
            content = reply.content
        except httpx.ResponseNotRead:
            return reply  # a streamed reply: served once
        # A fresh copy, so one scripted reply can answer several retries.
        return httpx.Response(reply.status_code, headers=reply.headers, content=content)

    @property
    def paths(self) -> list[str]:
        return [request.url.path for request in self.requests]

    def header(self, name: str, index: int = -1) -> str | None:
        value: str | None = self.requests[index].headers.get(name)
        return value

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


def sync_client(server: Server, **kwargs: Any) -> ClovaClient:
    kwargs.setdefault("api_key", TEST_KEY)
    kwargs.setdefault("base_url", BASE)
    kwargs.setdefault("retry_policy", NO_WAIT)
    return ClovaClient(http_client=httpx.Client(transport=httpx.MockTransport(server)), **kwargs)


def async_client(server: Server, **kwargs: Any) -> AsyncClovaClient:
    kwargs.setdefault("api_key", TEST_KEY)
    kwargs.setdefault("base_url", BASE)
    kwargs.setdefault("retry_policy", NO_WAIT)
    transport = httpx.MockTransport(server)
    return AsyncClovaClient(http_client=httpx.AsyncClient(transport=transport), **kwargs)


# Canonical CLOVA payloads (shapes from clova-api.md 2.3, 2.4, 3.4, 3.5, 3.8).
V1_RESULT = {
    "message": {"role": "assistant", "content": "안녕하세요"},
    "stopReason": "stop_before",
    "inputLength": 20,
    "outputLength": 5,
    "seed": 1234567,
}
V3_RESULT = {
    "message": {"role": "assistant", "content": "A child feeding a sheep."},
    "finishReason": "stop",
    "created": 1791043155000,
    "seed": 1561390649,
    "usage": {"promptTokens": 30, "completionTokens": 12, "totalTokens": 42},
}


def v1_text_events(fragments: Sequence[str]) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = [
        (
            "token",
            {
                "message": {"role": "assistant", "content": piece},
                "index": 0,
                "inputLength": 20,
                "outputLength": i + 1,
                "stopReason": None,
            },
        )
        for i, piece in enumerate(fragments)
    ]
    full = "".join(fragments)
    result = {
        "message": {"role": "assistant", "content": full},
        "inputLength": 20,
        "outputLength": len(fragments),
        "stopReason": "stop_before",
    }
    return [*events, ("result", result)]


def v3_token(content: str = "", thinking: str | None = None, tool_calls: Any = None) -> Any:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if thinking is not None:
        message["thinkingContent"] = thinking
    if tool_calls is not None:
        message["toolCalls"] = tool_calls
    return {
        "message": message,
        "finishReason": None,
        "created": 1744710905,
        "seed": 3284419119,
        "usage": None,
    }


def v3_result(
    content: str, thinking: str | None = None, tool_calls: Any = None, finish: str = "stop"
) -> Any:
    data = v3_token(content, thinking, tool_calls)
    data["finishReason"] = finish
    data["usage"] = {"promptTokens": 9, "completionTokens": 47, "totalTokens": 56}
    if thinking is not None:
        data["usage"]["completionTokensDetails"] = {"thinkingTokens": 30}
    return data
