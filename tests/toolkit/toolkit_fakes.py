"""A recording ``httpx.MockTransport`` handler and canned RAG-toolkit replies."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from clova_core.client import AsyncClovaClient, ClovaClient
from clova_core.retry import RetryPolicy

BASE = "https://clova.test"
KEY = "nv-toolkit-test-key"
NO_WAIT = RetryPolicy(initial_delay=0.0, max_delay=0.0)


def ok(result: dict[str, Any]) -> httpx.Response:
    return httpx.Response(
        200, json={"status": {"code": "20000", "message": "OK"}, "result": result}
    )


def failure(status: int, code: str, message: str = "Error") -> httpx.Response:
    return httpx.Response(status, json={"status": {"code": code, "message": message}})


class Recorder:
    """Replies in order (the last one repeats) and keeps every request it saw."""

    def __init__(self, *replies: httpx.Response) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.replies[min(len(self.requests), len(self.replies)) - 1]

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)

    def request_ids(self) -> list[str]:
        return [r.headers["x-ncp-clovastudio-request-id"] for r in self.requests]


def sync_client(handler: Callable[[httpx.Request], httpx.Response], **kw: Any) -> ClovaClient:
    transport = httpx.MockTransport(handler)
    return ClovaClient(
        api_key=KEY,
        base_url=BASE,
        retry_policy=NO_WAIT,
        http_client=httpx.Client(transport=transport),
        **kw,
    )


def async_client(handler: Callable[[httpx.Request], httpx.Response], **kw: Any) -> AsyncClovaClient:
    transport = httpx.MockTransport(handler)
    return AsyncClovaClient(
        api_key=KEY,
        base_url=BASE,
        retry_policy=NO_WAIT,
        http_client=httpx.AsyncClient(transport=transport),
        **kw,
    )


TEXT = (
    "한라산은 제주도에 있는 산이다. 높이는 1947미터이다.\nKTX는 고속철도이다. 서울과 부산을 잇는다."
)
SEGMENTATION_RESULT = {
    "topicSeg": [
        ["한라산은 제주도에 있는 산이다.", "높이는 1947미터이다."],
        ["KTX는 고속철도이다.", "서울과 부산을 잇는다."],
    ],
    "span": [[0, 1], [2, 3]],
    "inputTokens": 31,
}
RERANK_RESULT = {
    "result": "높이는 <doc-hallasan>한라산은 1947미터이다.</doc-hallasan>",
    "citedDocuments": [{"id": "hallasan", "doc": "한라산은 1947미터이다."}],
    "suggestedQueries": ["백록담은 어디에 있나요?"],
    "usage": {"promptTokens": 40, "completionTokens": 12, "totalTokens": 52},
}
RAG_TOOL_CALL_RESULT = {
    "message": {
        "role": "assistant",
        "content": "",
        "thinkingContent": "search first",
        "toolCalls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "search", "arguments": {"query": "한라산 높이"}},
            }
        ],
    },
    "finishReason": "tool_calls",
    "usage": {"promptTokens": 20, "completionTokens": 8, "totalTokens": 28},
}


def rag_answer(content: str) -> dict[str, Any]:
    return {
        "message": {"role": "assistant", "content": content, "thinkingContent": "..."},
        "finishReason": "stop",
        "usage": {"promptTokens": 50, "completionTokens": 10, "totalTokens": 60},
    }
