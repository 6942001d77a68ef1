"""CLOVA wire replies for httpx.MockTransport unit tests (shapes from clova-api.md 3.4, 3.8, 5).

The glue under test never sees these: they go through the real core client and its parsers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from llama_index_clova import ClovaX, ClovaXEmbedding

BASE_URL = "http://clova.test"


def v3_result(
    content: str = "",
    *,
    thinking: str | None = None,
    tool_calls: Sequence[tuple[str, str, dict[str, Any]]] = (),
    prompt_tokens: int = 11,
    completion_tokens: int = 7,
    thinking_tokens: int | None = None,
    finish_reason: str = "stop",
) -> dict[str, Any]:
    """A v3 ``result`` object (the body of a reply or of a ``result`` event)."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if thinking is not None:
        message["thinkingContent"] = thinking
    if tool_calls:
        message["toolCalls"] = [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}
            for call_id, name, args in tool_calls
        ]
    usage: dict[str, Any] = {
        "promptTokens": prompt_tokens,
        "completionTokens": completion_tokens,
        "totalTokens": prompt_tokens + completion_tokens,
    }
    if thinking_tokens is not None:
        usage["completionTokensDetails"] = {"thinkingTokens": thinking_tokens}
    return {
        "created": 1791043155000,
        "usage": usage,
        "message": message,
        "finishReason": finish_reason,
        "seed": 42,
    }


def json_reply(result: dict[str, Any], status: int = 200) -> httpx.Response:
    """A native envelope reply."""
    return httpx.Response(
        status, json={"status": {"code": "20000", "message": "OK"}, "result": result}
    )


def error_reply(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"status": {"code": code, "message": message}})


def token_event(
    content: str = "",
    *,
    thinking: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
) -> tuple[str, dict[str, Any]]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if thinking is not None:
        message["thinkingContent"] = thinking
    if tool_calls is not None:
        message["toolCalls"] = tool_calls
    return "token", {"message": message, "finishReason": None, "usage": None}


def sse_reply(events: Iterable[tuple[str, Any]]) -> httpx.Response:
    """An event-stream reply: ``id`` / ``event`` / ``data`` blocks."""
    lines = []
    for number, (name, data) in enumerate(events):
        payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        lines.append(f"id:{number}\nevent:{name}\ndata:{payload}\n\n")
    return httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content="".join(lines).encode()
    )


def embedding_reply(vector: Sequence[float], input_tokens: int = 3) -> httpx.Response:
    return json_reply({"embedding": list(vector), "inputTokens": input_tokens})


@dataclass
class Wire:
    """A MockTransport handler that records requests and answers from a script."""

    replies: list[httpx.Response | Callable[[httpx.Request], httpx.Response]] = field(
        default_factory=list
    )
    requests: list[httpx.Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
            reply = self.replies.pop(0) if self.replies else None
        if reply is None:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        return reply(request) if callable(reply) else reply

    def body(self, index: int = -1) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.requests[index].content)
        return result

    def path(self, index: int = -1) -> str:
        return self.requests[index].url.path


def mock_llm(wire: Callable[[httpx.Request], Any], **kwargs: Any) -> ClovaX:
    """A ClovaX whose sync and async HTTP go to ``wire``."""
    transport = httpx.MockTransport(wire)
    kwargs.setdefault("api_key", "test-key")
    return ClovaX(
        base_url=BASE_URL,
        max_retries=0,
        http_client=httpx.Client(transport=transport),
        http_async_client=httpx.AsyncClient(transport=transport),
        **kwargs,
    )


def mock_embedding(
    wire: Callable[[httpx.Request], Any],
    async_wire: Callable[[httpx.Request], Any] | None = None,
    **kwargs: Any,
) -> ClovaXEmbedding:
    """A ClovaXEmbedding whose sync HTTP goes to ``wire`` and async HTTP to ``async_wire``."""
    return ClovaXEmbedding(
        api_key="test-key",
        base_url=BASE_URL,
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(wire)),
        http_async_client=httpx.AsyncClient(transport=httpx.MockTransport(async_wire or wire)),
        **kwargs,
    )
