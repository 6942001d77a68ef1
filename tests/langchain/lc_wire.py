"""A scripted CLOVA Studio stand-in for httpx.MockTransport unit tests.

Replies use the documented wire shapes (clova-api.md 2.3, 3.4, 3.8, 5, 6) so the tests go
through the real core: request building, HTTP, envelope parsing, SSE decoding.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

Reply = httpx.Response | Callable[[httpx.Request], httpx.Response]


def ok(result: Mapping[str, Any]) -> httpx.Response:
    """A 200 reply with the native envelope."""
    return httpx.Response(
        200, json={"status": {"code": "20000", "message": "OK"}, "result": result}
    )


def error(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> httpx.Response:
    """An error reply with the native envelope."""
    return httpx.Response(
        status, json={"status": {"code": code, "message": message}}, headers=headers
    )


def v3_result(
    content: str = "Hello!",
    *,
    thinking: str | None = None,
    tool_calls: Sequence[Mapping[str, Any]] = (),
    finish_reason: str = "stop",
    prompt_tokens: int = 10,
    completion_tokens: int = 5,
    thinking_tokens: int | None = None,
    seed: int = 1234,
    ai_filter: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """A v3 ``result`` object (clova-api.md 3.4)."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if thinking is not None:
        message["thinkingContent"] = thinking
    if tool_calls:
        message["toolCalls"] = list(tool_calls)
    usage: dict[str, Any] = {
        "promptTokens": prompt_tokens,
        "completionTokens": completion_tokens,
        "totalTokens": prompt_tokens + completion_tokens,
    }
    if thinking_tokens is not None:
        usage["completionTokensDetails"] = {"thinkingTokens": thinking_tokens}
    result: dict[str, Any] = {
        "message": message,
        "finishReason": finish_reason,
        "created": 1_791_043_155_000,
        "seed": seed,
        "usage": usage,
    }
    if ai_filter is not None:
        result["aiFilter"] = list(ai_filter)
    return result


def v1_result(
    content: str = "Hello!", *, input_length: int = 10, output_length: int = 5
) -> dict[str, Any]:
    """A v1 ``result`` object (clova-api.md 2.3)."""
    return {
        "message": {"role": "assistant", "content": content},
        "stopReason": "stop_before",
        "inputLength": input_length,
        "outputLength": output_length,
        "seed": 99,
    }


def tool_call(call_id: str, name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """A v3 tool call with object arguments (clova-api.md 3.6)."""
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": dict(arguments)},
    }


def sse(events: Sequence[tuple[str, Mapping[str, Any]]]) -> httpx.Response:
    """An SSE reply in the no-space ``id:/event:/data:`` form (clova-api.md 2.4)."""
    text = "".join(
        f"id:evt-{index}\nevent:{name}\ndata:{json.dumps(data, ensure_ascii=False)}\n\n"
        for index, (name, data) in enumerate(events)
    )
    return httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=text.encode("utf-8")
    )


def v3_token(
    content: str = "", *, thinking: str | None = None, tool_calls: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """A v3 ``token`` event's data (clova-api.md 3.8)."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if thinking is not None:
        message["thinkingContent"] = thinking
    if tool_calls:
        message["toolCalls"] = list(tool_calls)
    return {
        "message": message,
        "finishReason": None,
        "created": 1_749_810_707,
        "seed": 1,
        "usage": None,
    }


class FakeClova:
    """Routes requests to scripted replies by path and records what was sent."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self._replies: dict[str, deque[Reply]] = {}

    def on(self, path: str, *replies: Reply) -> FakeClova:
        """Queue replies for ``path`` (the last one repeats)."""
        self._replies.setdefault(path, deque()).extend(replies)
        return self

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self._replies.get(request.url.path)
        if not queue:
            return error(404, "40400", f"no scripted reply for {request.url.path}")
        reply = queue.popleft() if len(queue) > 1 else queue[0]
        if callable(reply):
            return reply(request)
        # A fresh copy each time: one Response object cannot serve two requests.
        return httpx.Response(reply.status_code, headers=reply.headers, content=reply.content)

    async def ahandler(self, request: httpx.Request) -> httpx.Response:
        return self.handler(request)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handler))

    def async_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.ahandler))

    def body(self, index: int = -1) -> dict[str, Any]:
        """The JSON body of a recorded request."""
        loaded: dict[str, Any] = json.loads(self.requests[index].content)
        return loaded

    @property
    def paths(self) -> list[str]:
        return [request.url.path for request in self.requests]


def png(width: int = 8, height: int = 8) -> bytes:
    """A valid grey PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
