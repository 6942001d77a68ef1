"""Every validation failure, table-driven: request -> HTTP status, CLOVA code, envelope.

Sources: clova-api.md 1.2 (auth), 2.2 (v1 ranges and limits), 3.2-3.7 (v3 ranges,
capabilities, exclusions, images, schemas), 5 / 6 (embeddings, calculators), 7 (OpenAI
compatibility), 8.1 (codes).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from emu_support import (
    AUTH,
    GIF,
    WEATHER_TOOL,
    bmp,
    data_part,
    jpeg,
    png,
    url_part,
    user,
    webp,
)

from clova_emulator import Emulator

V1 = "/v1/chat-completions/HCX-003"
V1_DASH = "/v1/chat-completions/HCX-DASH-001"
V3 = "/v3/chat-completions/HCX-005"
V3_DASH = "/v3/chat-completions/HCX-DASH-002"
V3_007 = "/v3/chat-completions/HCX-007"
OPENAI_CHAT = "/v1/openai/chat/completions"
OPENAI_EMB = "/v1/openai/embeddings"
NONE = {"thinking": {"effort": "none"}}
SCHEMA = {"type": "object", "properties": {"a": {"type": "number"}}, "required": ["a"]}


@dataclass
class Case:
    id: str
    path: str
    body: Any
    status: int
    code: str
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=lambda: dict(AUTH))
    envelope: str = "native"


def with_user(text: str = "Hello", /, **extra: Any) -> dict[str, Any]:
    return {**user(text), **extra}


def image_message(*parts: dict[str, Any], text: str = "Describe this") -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": [*parts, {"type": "text", "text": text}]}]}


def oa(**extra: Any) -> dict[str, Any]:
    return {"model": "HCX-005", "messages": [{"role": "user", "content": "Hi"}], **extra}


TOOLS = {"tools": [WEATHER_TOOL]}
OK_IMAGE = data_part(png(64, 64))

CASES = [
    # --- auth (clova-api.md 1.2, 11.1)
    Case("no-auth", V3, with_user(), 401, "40104", headers={}),
    Case("bad-bearer", V3, with_user(), 401, "40104", headers={"Authorization": "Bearer nope"}),
    Case("basic-scheme", V3, with_user(), 401, "40102", headers={"Authorization": "Basic eA=="}),
    Case(
        "legacy-ok",
        V3,
        with_user(),
        200,
        "20000",
        headers={
            "X-NCP-CLOVASTUDIO-API-KEY": "test-key",
            "X-NCP-APIGW-API-KEY": "test-gateway-key",
        },
    ),
    Case(
        "legacy-bad-gateway",
        V3,
        with_user(),
        401,
        "40104",
        headers={"X-NCP-CLOVASTUDIO-API-KEY": "test-key", "X-NCP-APIGW-API-KEY": "wrong"},
    ),
    Case(
        "legacy-only-one-header",
        V3,
        with_user(),
        401,
        "40104",
        headers={"X-NCP-CLOVASTUDIO-API-KEY": "test-key"},
    ),
    Case(
        "openai-no-legacy",
        OPENAI_CHAT,
        oa(),
        401,
        "40104",
        headers={
            "X-NCP-CLOVASTUDIO-API-KEY": "test-key",
            "X-NCP-APIGW-API-KEY": "test-gateway-key",
        },
        envelope="openai",
    ),
    Case(
        "openai-bad-key",
        OPENAI_CHAT,
        oa(),
        401,
        "40104",
        headers={"Authorization": "Bearer x"},
        envelope="openai",
    ),
    # --- routing (clova-api.md 1.1, 11.2)
    Case("unknown-path", "/v9/whatever", with_user(), 404, "40400"),
    Case("unknown-openai-path", "/v1/openai/completions", oa(), 404, "40400", envelope="openai"),
    Case("wrong-method", V3, None, 404, "40400", method="GET"),
    Case("testapp-prefix", "/testapp" + V1, with_user(), 200, "20000"),
    Case("serviceapp-prefix", "/serviceapp" + V3, with_user(), 200, "20000"),
    # --- body
    Case("not-json", V3, b"{not json", 400, "40000"),
    Case("json-array", V3, b"[]", 400, "40000"),
    Case(
        "text-plain",
        V3,
        b"{}",
        415,
        "41500",
        headers={**AUTH, "Content-Type": "text/plain"},
    ),
    # --- models (clova-api.md 4)
    Case("v3-model-on-v1", "/v1/chat-completions/HCX-005", with_user(), 400, "40084"),
    Case("v1-model-on-v3", "/v3/chat-completions/HCX-003", with_user(), 400, "40084"),
    Case("unknown-model", "/v3/chat-completions/HCX-999", with_user(), 400, "40080"),
    Case("unknown-task", "/v2/tasks/nope/chat-completions", with_user(), 404, "40400"),
    Case(
        "tokenize-v1-wrong-model", "/v1/api-tools/chat-tokenize/HCX-005", with_user(), 400, "40084"
    ),
    Case("tokenize-v3-unknown", "/v3/api-tools/chat-tokenize/HCX-999", with_user(), 400, "40080"),
    # --- v1 ranges (clova-api.md 2.2)
    Case("v1-temperature-0", V1, with_user(temperature=0), 400, "40001"),
    Case("v1-temperature-high", V1, with_user(temperature=1.01), 400, "40001"),
    Case("v1-temperature-ok", V1, with_user(temperature=1.0), 200, "20000"),
    Case("v1-topk-high", V1, with_user(topK=129), 400, "40001"),
    Case("v1-topk-negative", V1, with_user(topK=-1), 400, "40001"),
    Case("v1-topp-0", V1, with_user(topP=0), 400, "40001"),
    Case("v1-repeat-0", V1, with_user(repeatPenalty=0), 400, "40001"),
    Case("v1-repeat-high", V1, with_user(repeatPenalty=10.5), 400, "40001"),
    Case("v1-repeat-ok", V1, with_user(repeatPenalty=10), 200, "20000"),
    Case("v1-maxtokens-0", V1, with_user(maxTokens=0), 400, "40001"),
    Case("v1-maxtokens-high", V1, with_user(maxTokens=4097), 400, "40001"),
    Case("v1-maxtokens-float", V1, with_user(maxTokens=10.5), 400, "40001"),
    Case("v1-seed-negative", V1, with_user(seed=-1), 400, "40001"),
    Case("v1-seed-high", V1, with_user(seed=4294967296), 400, "40001"),
    Case("v1-stopbefore-string", V1, with_user(stopBefore="x"), 400, "40001"),
    Case("v1-aifilters-string", V1, with_user(includeAiFilters="yes"), 400, "40001"),
    Case("v1-no-messages", V1, {}, 400, "40001"),
    Case("v1-empty-messages", V1, {"messages": []}, 400, "40001"),
    Case("v1-tool-role", V1, {"messages": [{"role": "tool", "content": "x"}]}, 400, "40001"),
    Case(
        "v1-two-systems",
        V1,
        {
            "messages": [
                {"role": "system", "content": "a"},
                {"role": "system", "content": "b"},
                {"role": "user", "content": "c"},
            ]
        },
        400,
        "40001",
    ),
    Case("v1-empty-text", V1, with_user(""), 400, "40004"),
    Case("v1-tools", V1, with_user(**TOOLS), 400, "40009"),
    Case("v1-thinking", V1, with_user(thinking={"effort": "low"}), 400, "40009"),
    Case("v1-image", V1, image_message(OK_IMAGE), 400, "40009"),
    # --- v1 token limits: HCX-003 8192 / 7600, HCX-DASH-001 4096 / 3500 (+3 per message)
    Case("hcx003-input-over", V1, with_user("가" * 7598), 400, "40003"),
    Case("hcx003-input-at-limit", V1, with_user("가" * 7597), 200, "20000"),
    Case("hcx003-total-over", V1, with_user("가" * 7000, maxTokens=1190), 400, "40003"),
    Case("hcx003-total-at-limit", V1, with_user("가" * 7000, maxTokens=1189), 200, "20000"),
    Case("dash001-input-over", V1_DASH, with_user("가" * 3498), 400, "40003"),
    Case("dash001-total-over", V1_DASH, with_user("가" * 3000, maxTokens=1094), 400, "40003"),
    Case("dash001-total-at-limit", V1_DASH, with_user("가" * 3000, maxTokens=1093), 200, "20000"),
    # --- v3 ranges (clova-api.md 3.2)
    Case("v3-temperature-0", V3, with_user(temperature=0), 200, "20000"),
    Case("v3-temperature-negative", V3, with_user(temperature=-0.1), 400, "40001"),
    Case("v3-temperature-high", V3, with_user(temperature=1.1), 400, "40001"),
    Case("v3-repetition-high", V3, with_user(repetitionPenalty=2.5), 400, "40001"),
    Case("v3-topp-high", V3, with_user(topP=1.5), 400, "40001"),
    Case("v3-maxtokens-high", V3, with_user(maxTokens=4097), 400, "40001"),
    Case("v3-both-max", V3, with_user(maxTokens=10, maxCompletionTokens=10), 400, "40001"),
    Case("v3-unknown-keys-ignored", V3, with_user(repeatPenalty=99, stopBefore=[]), 200, "20000"),
    Case("hcx007-maxcompletion-high", V3_007, with_user(maxCompletionTokens=32769), 400, "40001"),
    Case("v3-null-content", V3, {"messages": [{"role": "user", "content": None}]}, 400, "40001"),
    Case(
        "v3-tool-without-id",
        V3,
        {"messages": [{"role": "user", "content": "x"}, {"role": "tool", "content": "{}"}]},
        400,
        "40001",
    ),
    Case(
        "v3-thinking-content-sent-back",
        V3_007,
        {
            "messages": [
                {"role": "user", "content": "a"},
                {"role": "assistant", "content": "b", "thinkingContent": "c"},
                {"role": "user", "content": "d"},
            ]
        },
        400,
        "40001",
    ),
    Case(
        "v3-string-arguments",
        V3,
        {
            "messages": [
                {"role": "user", "content": "weather?"},
                {
                    "role": "assistant",
                    "content": "",
                    "toolCalls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {
                                "name": "get_weather",
                                "arguments": '{"location":"Seoul"}',
                            },
                        }
                    ],
                },
                {"role": "tool", "toolCallId": "call_1", "content": "sunny"},
            ],
            **TOOLS,
            "maxTokens": 1024,
        },
        400,
        "40001",
    ),
    Case(
        "v3-toolchoice-unknown",
        V3,
        with_user(
            **TOOLS, maxTokens=1024, toolChoice={"type": "function", "function": {"name": "nope"}}
        ),
        400,
        "40001",
    ),
    Case(
        "v3-toolchoice-required",
        V3,
        with_user(**TOOLS, maxTokens=1024, toolChoice="required"),
        400,
        "40001",
    ),
    Case(
        "v3-tool-no-name",
        V3,
        with_user(tools=[{"type": "function", "function": {"description": "x"}}], maxTokens=1024),
        400,
        "40001",
    ),
    Case(
        "v3-tool-no-description",
        V3,
        with_user(tools=[{"type": "function", "function": {"name": "x"}}], maxTokens=1024),
        400,
        "40001",
    ),
    # --- capabilities (40009)
    Case("hcx005-thinking", V3, with_user(thinking={"effort": "low"}), 400, "40009"),
    Case("hcx005-thinking-none", V3, with_user(**NONE), 200, "20000"),
    Case("hcx005-thinking-bad-effort", V3, with_user(thinking={"effort": "max"}), 400, "40001"),
    Case(
        "hcx005-response-format",
        V3,
        with_user(responseFormat={"type": "json", "schema": SCHEMA}),
        400,
        "40009",
    ),
    Case("dash002-image", V3_DASH, image_message(OK_IMAGE), 400, "40009"),
    Case("hcx007-image", V3_007, {**image_message(OK_IMAGE), **NONE}, 400, "40009"),
    # --- mutual exclusions (clova-api.md 3.5-3.7, 11.4)
    Case(
        "hcx007-default-thinking-tools",
        V3_007,
        with_user(**TOOLS, maxCompletionTokens=1024),
        400,
        "40001",
    ),
    Case(
        "hcx007-none-tools",
        V3_007,
        with_user(**TOOLS, **NONE, maxCompletionTokens=1024),
        200,
        "20000",
    ),
    Case(
        "hcx007-thinking-schema",
        V3_007,
        with_user(thinking={"effort": "low"}, responseFormat={"type": "json", "schema": SCHEMA}),
        400,
        "40001",
    ),
    Case(
        "hcx007-none-schema",
        V3_007,
        with_user("a is 3", **NONE, responseFormat={"type": "json", "schema": SCHEMA}),
        200,
        "20000",
    ),
    Case("hcx007-thinking-stop", V3_007, with_user(stop=["x"]), 400, "40001"),
    Case("hcx007-thinking-maxtokens", V3_007, with_user(maxTokens=100), 400, "40001"),
    Case("hcx007-none-maxtokens", V3_007, with_user(**NONE, maxTokens=100), 200, "20000"),
    Case("tools-under-1024", V3, with_user(**TOOLS, maxTokens=1023), 400, "40001"),
    Case(
        "tools-and-schema",
        V3_007,
        with_user(
            **TOOLS, **NONE, maxTokens=1024, responseFormat={"type": "json", "schema": SCHEMA}
        ),
        400,
        "40001",
    ),
    Case(
        "schema-pattern",
        V3_007,
        with_user(
            **NONE,
            responseFormat={
                "type": "json",
                "schema": {
                    "type": "object",
                    "properties": {"a": {"type": "string", "pattern": "^x$"}},
                },
            },
        ),
        400,
        "40055",
    ),
    Case(
        "schema-bad-type",
        V3_007,
        with_user(**NONE, responseFormat={"type": "json", "schema": {"type": "tuple"}}),
        400,
        "40055",
    ),
    Case(
        "schema-bad-format",
        V3_007,
        with_user(
            **NONE, responseFormat={"type": "json", "schema": {"type": "string", "format": "color"}}
        ),
        400,
        "40055",
    ),
    Case(
        "response-format-type",
        V3_007,
        with_user(**NONE, responseFormat={"type": "xml", "schema": SCHEMA}),
        400,
        "40001",
    ),
    # --- v3 token limits: DASH-002 32000, HCX-005 128000
    Case("dash002-total-over", V3_DASH, with_user("가" * 30000, maxTokens=1998), 400, "40003"),
    Case("dash002-total-at-limit", V3_DASH, with_user("가" * 30000, maxTokens=1997), 200, "20000"),
    Case("hcx005-input-over", V3, with_user("가" * 127_998), 400, "40003"),
    # --- images (clova-api.md 3.3)
    Case("image-png-bare", V3, image_message(data_part(png(640, 480))), 200, "20000"),
    Case("image-png-data-uri", V3, image_message(data_part(png(640, 480), uri=True)), 200, "20000"),
    Case("image-jpeg", V3, image_message(data_part(jpeg(800, 600))), 200, "20000"),
    Case("image-bmp", V3, image_message(data_part(bmp(100, 100))), 200, "20000"),
    Case("image-webp", V3, image_message(data_part(webp(300, 200))), 200, "20000"),
    Case("image-url", V3, image_message(url_part("https://example.com/a.png")), 200, "20000"),
    Case("image-two-in-one-turn", V3, image_message(OK_IMAGE, OK_IMAGE), 400, "40000"),
    Case(
        "image-six-per-request",
        V3,
        {
            "messages": [
                {"role": "user", "content": [OK_IMAGE, {"type": "text", "text": f"pic {n}"}]}
                for n in range(6)
            ]
        },
        400,
        "40003",
    ),
    Case("image-gif", V3, image_message(data_part(GIF)), 400, "40060"),
    Case("image-gif-url", V3, image_message(url_part("https://example.com/a.gif")), 400, "40060"),
    Case(
        "image-unknown-bytes",
        V3,
        image_message(data_part(b"hello world, not an image")),
        400,
        "40060",
    ),
    Case(
        "image-empty",
        V3,
        image_message({"type": "image_url", "dataUri": {"data": ""}}),
        400,
        "40061",
    ),
    Case(
        "image-not-base64",
        V3,
        image_message({"type": "image_url", "dataUri": {"data": "@@@@"}}),
        400,
        "40063",
    ),
    Case("image-truncated-png", V3, image_message(data_part(png(10, 10)[:12])), 400, "40063"),
    Case("image-too-long", V3, image_message(data_part(png(3000, 1000))), 400, "40063"),
    Case("image-too-thin", V3, image_message(data_part(png(3, 10))), 400, "40063"),
    Case("image-ratio", V3, image_message(data_part(jpeg(2000, 300))), 400, "40063"),
    Case("image-ftp-url", V3, image_message(url_part("ftp://example.com/a.png")), 400, "40063"),
    Case(
        "image-both-sources",
        V3,
        image_message(
            {
                "type": "image_url",
                "imageUrl": {"url": "https://e.com/a.png"},
                "dataUri": {"data": "eA=="},
            }
        ),
        400,
        "40001",
    ),
    Case(
        "image-in-assistant",
        V3,
        {
            "messages": [
                {"role": "user", "content": "a"},
                {"role": "assistant", "content": [OK_IMAGE]},
                {"role": "user", "content": "b"},
            ]
        },
        400,
        "40001",
    ),
    # --- OpenAI-compatible (clova-api.md 7): error envelope, 40002
    Case(
        "oa-frequency-penalty",
        OPENAI_CHAT,
        oa(frequency_penalty=0.5),
        400,
        "40002",
        envelope="openai",
    ),
    Case(
        "oa-stream-options",
        OPENAI_CHAT,
        oa(stream_options={"include_usage": True}),
        400,
        "40002",
        envelope="openai",
    ),
    Case("oa-user", OPENAI_CHAT, oa(user="u"), 400, "40002", envelope="openai"),
    Case("oa-n-2", OPENAI_CHAT, oa(n=2), 400, "40001", envelope="openai"),
    Case(
        "oa-parallel-false",
        OPENAI_CHAT,
        oa(parallel_tool_calls=False),
        400,
        "40001",
        envelope="openai",
    ),
    Case("oa-unknown-model", OPENAI_CHAT, oa(model="gpt-4o"), 400, "40080", envelope="openai"),
    Case(
        "oa-json-object",
        OPENAI_CHAT,
        oa(model="HCX-007", reasoning_effort="none", response_format={"type": "json_object"}),
        400,
        "40001",
        envelope="openai",
    ),
    Case(
        "oa-schema-hcx005",
        OPENAI_CHAT,
        oa(response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": SCHEMA}}),
        400,
        "40009",
        envelope="openai",
    ),
    Case(
        "oa-tools-on-v1",
        OPENAI_CHAT,
        oa(model="HCX-003", tools=[WEATHER_TOOL]),
        400,
        "40009",
        envelope="openai",
    ),
    Case(
        "oa-v1-temperature-0",
        OPENAI_CHAT,
        oa(model="HCX-003", temperature=0),
        400,
        "40001",
        envelope="openai",
    ),
    Case("oa-v3-temperature-0", OPENAI_CHAT, oa(temperature=0), 200, "20000", envelope="openai"),
    Case(
        "oa-both-max",
        OPENAI_CHAT,
        oa(max_tokens=10, max_completion_tokens=10),
        400,
        "40001",
        envelope="openai",
    ),
    Case(
        "oa-thinking-tools",
        OPENAI_CHAT,
        oa(model="HCX-007", tools=[WEATHER_TOOL], max_completion_tokens=1024),
        400,
        "40001",
        envelope="openai",
    ),
    Case(
        "oa-emb-user",
        OPENAI_EMB,
        {"model": "bge-m3", "input": "x", "user": "u"},
        400,
        "40002",
        envelope="openai",
    ),
    Case(
        "oa-emb-dimensions",
        OPENAI_EMB,
        {"model": "bge-m3", "input": "x", "dimensions": 512},
        400,
        "40001",
        envelope="openai",
    ),
    Case(
        "oa-emb-encoding",
        OPENAI_EMB,
        {"model": "bge-m3", "input": "x", "encoding_format": "int8"},
        400,
        "40001",
        envelope="openai",
    ),
    Case(
        "oa-emb-unknown-model",
        OPENAI_EMB,
        {"model": "text-embedding-3-small", "input": "x"},
        400,
        "40080",
        envelope="openai",
    ),
    Case(
        "oa-emb-token-ids",
        OPENAI_EMB,
        {"model": "bge-m3", "input": [[1, 2, 3]]},
        400,
        "40001",
        envelope="openai",
    ),
    Case(
        "oa-emb-too-long",
        OPENAI_EMB,
        {"model": "bge-m3", "input": "가" * 8193},
        400,
        "40003",
        envelope="openai",
    ),
    Case(
        "oa-model-unknown",
        "/v1/openai/models/gpt-4",
        None,
        404,
        "40400",
        method="GET",
        envelope="openai",
    ),
    # --- embeddings and calculators (clova-api.md 5, 6)
    Case(
        "emb-dolphin-too-long",
        "/v1/api-tools/embedding/clir-emb-dolphin",
        {"text": "가" * 501},
        400,
        "40003",
    ),
    Case(
        "emb-dolphin-at-limit",
        "/v1/api-tools/embedding/clir-emb-dolphin",
        {"text": "가" * 500},
        200,
        "20000",
    ),
    Case("emb-v2-too-long", "/v1/api-tools/embedding/v2", {"text": "가" * 8193}, 400, "40003"),
    Case("emb-no-text", "/v1/api-tools/embedding/v2", {}, 400, "40001"),
    Case("emb-empty-text", "/v1/api-tools/embedding/v2", {"text": "  "}, 400, "40004"),
    Case(
        "emb-unknown-model", "/v1/api-tools/embedding/clir-emb-shark", {"text": "x"}, 400, "40080"
    ),
    Case("emb-tokenize-empty", "/v1/api-tools/embedding/v2/tokenize", {"text": ""}, 400, "40001"),
    Case(
        "emb-tokenize-too-long",
        "/v1/api-tools/embedding/v2/tokenize",
        {"text": "a" * 10_001},
        400,
        "40001",
    ),
    Case(
        "chat-tokenize-bad-messages",
        "/v1/api-tools/chat-tokenize/HCX-003",
        {"messages": "hi"},
        400,
        "40001",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_validation_table(emu: Emulator, bare_http: httpx.Client, case: Case) -> None:
    if isinstance(case.body, bytes):
        response = bare_http.request(
            case.method,
            case.path,
            content=case.body,
            headers={"Content-Type": "application/json", **case.headers},
        )
    else:
        response = bare_http.request(case.method, case.path, json=case.body, headers=case.headers)
    assert response.status_code == case.status, response.text
    body = response.json()
    if case.envelope == "openai":
        if case.status == 200:
            assert "error" not in body
        else:
            error = body["error"]
            assert error["code"] == case.code
            assert error["type"] is None
            assert error["param"] is None
            assert isinstance(error["message"], str)
            assert error["message"]
    else:
        assert body["status"]["code"] == case.code
        assert isinstance(body["status"]["message"], str)
        assert ("result" in body) == (case.status == 200)
    assert emu.server_errors == []


def test_tools_with_an_image_are_40001(emu: Emulator, http: httpx.Client) -> None:
    """Function calling cannot be combined with image input."""
    body = image_message(OK_IMAGE)
    body["tools"] = [
        {
            "type": "function",
            "function": {
                "name": "describe",
                "description": "Describe a picture.",
                "parameters": {"type": "object", "properties": {}},
            },
        }
    ]
    response = http.post(V3, json=body)
    assert response.status_code == 400
    assert response.json()["status"]["code"] == "40001"
    assert "tools, images" in response.json()["status"]["message"]


def test_image_over_20_mb_is_40061(emu: Emulator, http: httpx.Client) -> None:
    blob = png(100, 100) + b"\0" * (20 * 1024 * 1024)
    response = http.post(V3, json=image_message(data_part(blob)))
    assert response.status_code == 400
    assert response.json()["status"]["code"] == "40061"


def test_body_over_50_mb_is_413_without_reading_it(emu: Emulator) -> None:
    with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as sock:
        sock.sendall(
            (
                f"POST {V3} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-key\r\n"
                "Content-Type: application/json\r\nContent-Length: 60000000\r\n\r\n"
            ).encode()
        )
        reply = b""
        while b'"41300"' not in reply:
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 413")
    assert b'"41300"' in reply


def test_documented_messages(emu: Emulator, http: httpx.Client) -> None:
    unauthorized = http.post(V3, json=with_user(), headers={"Authorization": "Bearer bad"})
    too_long = http.post(V1, json=with_user("가" * 7598))
    two_images = http.post(V3, json=image_message(OK_IMAGE, OK_IMAGE))
    ratio = http.post(V3, json=image_message(data_part(png(2000, 300))))
    assert unauthorized.json() == {"status": {"code": "40104", "message": "Invalid key"}}
    assert too_long.json()["status"]["message"].startswith("Context length exceeded")
    assert two_images.json()["status"]["message"] == "Each user message can contain only one image"
    assert ratio.json()["status"]["message"] == "Invalid image ratio"
