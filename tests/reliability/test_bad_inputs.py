"""A catalogue of bad inputs and bad replies, each through the real client path.

Every case must end in a typed error (a ``clova_core.errors`` class, never a raw httpx,
json or Python error) whose message says what to change (a fragment is asserted), within
5 seconds (run in a thread and joined with a timeout), and leave no socket or thread behind.

Client-side cases fail before anything is sent (the emulator's log stays empty); server-side
cases use the emulator's ``ScriptedRaw`` / ``ScriptedError`` and knobs to send exactly the
broken reply.
"""

from __future__ import annotations

import base64
import json
import socket
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from rel_support import KEY, NO_WAIT, Baseline, run_with_timeout

from clova_core import errors
from clova_core.client import ClovaClient
from clova_core.constants import ENV_API_KEY, ENV_APIGW_API_KEY, ENV_BASE_URL
from clova_core.models import ChatModelSpec, custom_chat_model
from clova_core.ratelimit import RateLimiter
from clova_core.types import ChatRequest, ImagePart, Message, TextPart, Tool, ToolCall
from clova_emulator import Emulator, ScriptedError, ScriptedRaw

Call = Callable[[Emulator], object]


@dataclass(frozen=True)
class Case:
    name: str
    call: Call
    error: type[errors.ClovaError]
    fragment: str
    setup: Callable[[Emulator], object] | None = None
    sends: bool = True
    """Whether a request reaches the server (False: refused before anything is sent)."""


def client(emu: Emulator, **options: Any) -> ClovaClient:
    settings: dict[str, Any] = {
        "api_key": KEY,
        "base_url": emu.base_url,
        "max_retries": 0,
        "retry_policy": NO_WAIT,
        **options,
    }
    return ClovaClient(**settings)


def chat(request: ChatRequest, spec: ChatModelSpec | None = None, **options: Any) -> Call:
    def run(emu: Emulator) -> object:
        with client(emu, **options) as core:
            return core.chat(request, spec=spec)

    return run


def count_embedding_tokens(text: str) -> Call:
    def run(emu: Emulator) -> object:
        with client(emu) as core:
            return core.count_embedding_tokens(text)

    return run


def varied(count: int) -> str:
    """``count`` different Hangul syllables in a row (no run the local bound collapses)."""
    return "".join(chr(0xAC00 + (index * 7) % 11172) for index in range(count))


def stream(request: ChatRequest, **options: Any) -> Call:
    def run(emu: Emulator) -> object:
        with client(emu, **options) as core, core.stream_chat(request) as events:
            return list(events)

    return run


def embed(text: str, model: str = "clir-emb-dolphin") -> Call:
    def run(emu: Emulator) -> object:
        with client(emu) as core:
            return core.embed(text, model=model)

    return run


def ask(model: str = "HCX-005", text: str = "안녕하세요", **fields: Any) -> ChatRequest:
    return ChatRequest(messages=[Message("user", text)], model=model, **fields)


def png(width: int = 8, height: int = 8) -> str:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = (b"\x00" + b"\x00" * 3 * width) * height
    blob = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return base64.b64encode(blob).decode()


def with_image(model: str, *images: ImagePart) -> ChatRequest:
    return ChatRequest(
        messages=[Message("user", [TextPart("what is this?"), *images])], model=model
    )


WEATHER = Tool("get_weather", "Weather of a city", {"type": "object", "properties": {}})


def raw(body: bytes, **options: Any) -> Callable[[Emulator], None]:
    return lambda emu: emu.script(ScriptedRaw(body=body, **options))


def sse(*events: tuple[str, str]) -> bytes:
    return b"".join(f"event:{name}\ndata:{data}\n\n".encode() for name, data in events)


def raw_sse(body: bytes) -> Callable[[Emulator], None]:
    return raw(body, content_type="text/event-stream")


TOKEN = '{"message":{"role":"assistant","content":"안녕"}}'
GOOD_JSON = json.dumps(
    {"status": {"code": "20000", "message": "OK"}, "result": {"message": {"content": "hi"}}}
).encode()


def no_key(emu: Emulator) -> object:
    return ClovaClient(base_url=emu.base_url)


def refused_port(emu: Emulator) -> object:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with ClovaClient(api_key=KEY, base_url=f"http://127.0.0.1:{port}", max_retries=0) as core:
        return core.chat(ask())


def huge_tpm_request(emu: Emulator) -> object:
    with client(emu, rate_limiter=RateLimiter(tokens_per_minute=500)) as core:
        return core.chat(ask(max_tokens=1024))


CLIENT_SIDE = [
    # --- messages ----------------------------------------------------------------------------
    Case(
        "no messages",
        chat(ChatRequest(messages=[], model="HCX-005")),
        errors.ClovaValidationError,
        "send at least one user message",
    ),
    Case(
        "two system messages",
        chat(
            ChatRequest(
                messages=[Message("system", "a"), Message("system", "b"), Message("user", "hi")],
                model="HCX-005",
            )
        ),
        errors.ClovaValidationError,
        "system",
    ),
    Case(
        "unsupported role",
        chat(
            ChatRequest(
                messages=[Message("developer", "hi")],  # type: ignore[arg-type]
                model="HCX-005",
            )
        ),
        errors.ClovaValidationError,
        "role",
    ),
    Case(
        "tool message without a tool_call_id",
        chat(ChatRequest(messages=[Message("user", "hi"), Message("tool", "42")], model="HCX-005")),
        errors.ClovaValidationError,
        "tool_call_id",
    ),
    Case(
        "tool call arguments that are not JSON",
        chat(
            ChatRequest(
                messages=[
                    Message("user", "hi"),
                    Message("assistant", "", tool_calls=[ToolCall("c1", "f", "{oops")]),  # type: ignore[arg-type]
                    Message("tool", "1", tool_call_id="c1"),
                ],
                model="HCX-005",
            )
        ),
        errors.ClovaValidationError,
        "JSON object",
    ),
    Case(
        "content of the wrong type",
        chat(
            ChatRequest(
                messages=[Message("user", 42)],  # type: ignore[arg-type]
                model="HCX-005",
            )
        ),
        errors.ClovaValidationError,
        "content",
    ),
    # --- features on models without them ------------------------------------------------------
    Case(
        "image on HCX-003",
        chat(with_image("HCX-003", ImagePart(data=png()))),
        errors.UnsupportedFeatureError,
        "HCX-005",
    ),
    Case(
        "image on HCX-007",
        chat(with_image("HCX-007", ImagePart(data=png()))),
        errors.UnsupportedFeatureError,
        "HCX-005",
    ),
    Case(
        "two images in one turn",
        chat(with_image("HCX-005", ImagePart(data=png()), ImagePart(data=png()))),
        errors.ClovaValidationError,
        "Split them over several user messages",
    ),
    Case(
        "image that is not an image",
        chat(with_image("HCX-005", ImagePart(data="aGVsbG8="))),
        errors.ClovaValidationError,
        "PNG",
    ),
    Case(
        "image data that is not base64",
        chat(with_image("HCX-005", ImagePart(data="%%%"))),
        errors.ClovaValidationError,
        "base64",
    ),
    Case(
        "image too small",
        chat(with_image("HCX-005", ImagePart(data=png(2, 2)))),
        errors.ClovaValidationError,
        "4",
    ),
    Case(
        "tools on HCX-003",
        chat(ask("HCX-003", tools=[WEATHER], max_tokens=1024)),
        errors.UnsupportedFeatureError,
        "HCX-005",
    ),
    Case(
        "tools with a small output cap",
        chat(ask(tools=[WEATHER], max_tokens=100)),
        errors.ClovaValidationError,
        "1024",
    ),
    Case(
        "tool_choice naming no tool",
        chat(ask(tools=[WEATHER], tool_choice="nope", max_tokens=1024)),
        errors.ClovaValidationError,
        "get_weather",
    ),
    Case(
        "thinking on HCX-005", chat(ask(thinking="high")), errors.UnsupportedFeatureError, "HCX-007"
    ),
    Case(
        "unknown thinking effort",
        chat(ask("HCX-007", thinking="extreme")),
        errors.ClovaValidationError,
        "low",
    ),
    Case(
        "structured output on HCX-003",
        chat(ask("HCX-003", response_format={"type": "object", "properties": {}})),
        errors.UnsupportedFeatureError,
        "HCX-007",
    ),
    # --- parameters ----------------------------------------------------------------------------
    Case(
        "temperature above 1",
        chat(ask(temperature=1.5)),
        errors.ClovaValidationError,
        "0 <= temperature <= 1",
    ),
    Case(
        "temperature 0 on v1",
        chat(ask("HCX-003", temperature=0)),
        errors.ClovaValidationError,
        "0.01",
    ),
    Case(
        "temperature NaN",
        chat(ask(temperature=float("nan"))),
        errors.ClovaValidationError,
        "finite",
    ),
    Case("top_p 0", chat(ask(top_p=0)), errors.ClovaValidationError, "0 < top_p <= 1"),
    Case("top_k 500", chat(ask(top_k=500)), errors.ClovaValidationError, "0..128"),
    Case(
        "repetition_penalty 3 on v3",
        chat(ask(repetition_penalty=3.0)),
        errors.ClovaValidationError,
        "<= 2",
    ),
    Case("negative seed", chat(ask(seed=-1)), errors.ClovaValidationError, "0..4294967295"),
    Case("max_tokens 0", chat(ask(max_tokens=0)), errors.ClovaValidationError, "max_tokens"),
    Case(
        "max_tokens over the model maximum",
        chat(ask("HCX-003", max_tokens=5000)),
        errors.ClovaValidationError,
        "allowed 1..4,096",
    ),
    Case(
        "stop that is not strings",
        chat(ask(stop=[1, 2])),
        errors.ClovaValidationError,
        "stop",
    ),
    Case(
        "extra_body that is not a dict",
        chat(ask(extra_body=["x"])),
        errors.ClovaValidationError,
        "extra_body must be a dict",
    ),
    # --- limits --------------------------------------------------------------------------------
    Case(
        "input over the model limit",
        chat(ask("HCX-DASH-001", varied(40_000))),
        errors.ContextLimitError,
        "Trim the chat history",
    ),
    Case(
        "input plus max_tokens over the window",
        chat(ask("HCX-003", varied(34_000), max_tokens=4000)),
        errors.ContextLimitError,
        "Lower max_tokens",
    ),
    Case(
        "one request over the tokens-per-minute quota",
        huge_tpm_request,
        errors.ClovaValidationError,
        "lower max_tokens",
    ),
    Case("empty text to embed", embed(""), errors.ClovaValidationError, "Skip empty documents"),
    Case(
        "text over the embedding limit",
        embed(varied(5_000)),
        errors.ContextLimitError,
        "Split it into smaller chunks",
    ),
    Case(
        "text over the token calculator limit",
        count_embedding_tokens("a" * 10_001),
        errors.ClovaValidationError,
        "Count it in chunks",
    ),
    # --- names and configuration -------------------------------------------------------------
    Case("unknown chat model", chat(ask("HCX-999")), errors.UnknownModelError, "custom_chat_model"),
    Case(
        "unknown embedding model",
        embed("hi", model="text-embedding-3"),
        errors.UnknownModelError,
        "bge-m3",
    ),
    Case(
        "task id with a path in it",
        chat(ask("HCX-003", task_id="../../admin")),
        errors.ClovaValidationError,
        "task_id",
    ),
    Case("missing API key", no_key, errors.ClovaConfigurationError, ENV_API_KEY),
    Case(
        "blank API key",
        lambda emu: ClovaClient(api_key="   ", base_url=emu.base_url),
        errors.ClovaConfigurationError,
        ENV_API_KEY,
    ),
    Case(
        "base URL that is not http",
        lambda emu: ClovaClient(api_key=KEY, base_url="ftp://x"),
        errors.ClovaConfigurationError,
        ENV_BASE_URL,
    ),
    Case(
        "negative max_retries",
        lambda emu: ClovaClient(api_key=KEY, max_retries=-1),
        errors.ClovaConfigurationError,
        "max_retries must be >= 0",
    ),
]

SERVER_SIDE = [
    # --- the server refuses ----------------------------------------------------------------
    Case(
        "invalid API key",
        chat(ask(), api_key="nv-not-a-key"),
        errors.AuthenticationError,
        "Check the API key",
    ),
    Case(
        "model the server does not know",
        chat(ask("HCX-999"), spec=custom_chat_model("HCX-999", api_version=3, context_window=8192)),
        errors.BadRequestError,
        "Check the model name",
    ),
    Case(
        "model on the wrong API version",
        chat(ask("HCX-003"), spec=custom_chat_model("HCX-003", api_version=3, context_window=8192)),
        errors.BadRequestError,
        "use v1",
    ),
    Case(
        "input over the limit only the server can tell",
        chat(ask("HCX-DASH-001", "가" * 40_000)),
        errors.ContextLengthExceededError,
        "Shorten the input",
    ),
    Case(
        "a failure code inside a 200 envelope",
        chat(ask()),
        errors.BadRequestError,
        "Invalid parameter",
        raw(b'{"status":{"code":"40001","message":"Invalid parameter: topK"}}'),
    ),
    Case(
        "429 asking for an hour's wait",
        chat(ask(), max_retries=3),
        errors.RateLimitError,
        "quota_limiter",
        lambda emu: emu.script(ScriptedError(status=429, code="42901", retry_after=3600)),
    ),
    Case(
        "gateway HTML 502",
        chat(ask()),
        errors.InternalServerError,
        "retry later",
        raw(b"<html><body>502 Bad Gateway</body></html>", status=502, content_type="text/html"),
    ),
    Case(
        "HTML 404 from a wrong base path",
        chat(ask()),
        errors.NotFoundError,
        "base URL",
        raw(b"<html>Not Found</html>", status=404, content_type="text/html"),
    ),
    Case(
        "401 body with invalid UTF-8",
        chat(ask()),
        errors.AuthenticationError,
        "API key",
        raw(b'{"status":{"code":"40104","message":"bad \xff\xfe key"}}', status=401),
    ),
    # --- unreadable success replies -----------------------------------------------------------
    Case(
        "non-JSON success body",
        chat(ask()),
        errors.APIResponseError,
        "base_url",
        raw(b"<html>hello</html>", content_type="text/html"),
    ),
    Case(
        "truncated JSON body",
        chat(ask()),
        errors.APIResponseError,
        "not JSON",
        raw(GOOD_JSON[: len(GOOD_JSON) // 2]),
    ),
    Case(
        "body cut off in transit",
        chat(ask()),
        errors.APIConnectionError,
        "raise max_retries",
        raw(GOOD_JSON, send_bytes=10),
    ),
    Case("JSON array body", chat(ask()), errors.APIResponseError, "not an object", raw(b"[1,2]")),
    Case(
        "envelope without result",
        chat(ask()),
        errors.APIResponseError,
        "no 'result'",
        raw(b'{"status":{"code":"20000","message":"OK"}}'),
    ),
    Case(
        "deeply nested JSON body",
        chat(ask()),
        errors.APIResponseError,
        "base_url",
        raw(b"[" * 200_000),
    ),
    Case(
        "invalid UTF-8 body",
        chat(ask()),
        errors.APIResponseError,
        "not JSON",
        raw(b'{"status":{"code":"20000"},"result":{"message":{"content":"\xff\xfe"}}}'),
    ),
    Case(
        "broken gzip encoding",
        chat(ask()),
        errors.APIResponseError,
        "could not be decoded",
        raw(b"not gzip at all", headers={"Content-Encoding": "gzip"}),
    ),
    Case(
        "result of the wrong shape",
        chat(ask()),
        errors.APIResponseError,
        "result.message",
        raw(b'{"status":{"code":"20000","message":"OK"},"result":{"message":"hi"}}'),
    ),
    Case(
        "embedding with non-numbers",
        embed("hi"),
        errors.APIResponseError,
        "non-numbers",
        raw(b'{"status":{"code":"20000","message":"OK"},"result":{"embedding":["a"]}}'),
    ),
    # --- broken streams -----------------------------------------------------------------------
    Case(
        "JSON reply to a stream request",
        stream(ask()),
        errors.APIResponseError,
        "clovastudio.stream.ntruss.com",
        raw(GOOD_JSON),
    ),
    Case(
        "stream with only unknown events",
        stream(ask()),
        errors.APIConnectionError,
        "text/event-stream",
        raw_sse(sse(("ping", "{}"), ("future", "x"))),
    ),
    Case(
        "stream ending before the result",
        stream(ask()),
        errors.StreamError,
        "send the request again",
        raw_sse(sse(("token", TOKEN))),
    ),
    Case(
        "stream token that is not JSON",
        stream(ask()),
        errors.APIResponseError,
        "not JSON",
        raw_sse(sse(("token", "{oops"))),
    ),
    Case(
        "stream token that is a list",
        stream(ask()),
        errors.APIResponseError,
        "not an object",
        raw_sse(sse(("token", "[1]"))),
    ),
    Case(
        "unreadable result after tokens",
        stream(ask()),
        errors.StreamError,
        "send the request again",
        raw_sse(sse(("token", TOKEN), ("result", '{"mess'))),
    ),
    Case(
        "error event",
        stream(ask()),
        errors.StreamError,
        "Invalid parameter",
        raw_sse(sse(("error", '{"status":{"code":"40001","message":"Invalid parameter: x"}}'))),
    ),
    Case(
        "invalid UTF-8 in a stream",
        stream(ask()),
        errors.APIResponseError,
        "not JSON",
        raw_sse(b'event:token\ndata:{"message":\xff\xfe}\n\n'),
    ),
    Case(
        "gzip stream that is not gzip",
        stream(ask()),
        errors.APIResponseError,
        "could not be decoded",
        raw(
            b"\x1f\x8b but not gzip",
            content_type="text/event-stream",
            headers={"Content-Encoding": "gzip"},
        ),
    ),
    # --- the connection ------------------------------------------------------------------------
    Case("connection refused", refused_port, errors.APIConnectionError, "base_url", sends=False),
    Case(
        "server slower than the timeout",
        chat(ask(), timeout=0.2),
        errors.APITimeoutError,
        "Raise timeout",
        lambda emu: emu.configure(latency=0.5),
    ),
]

CASES = [*CLIENT_SIDE, *SERVER_SIDE]
SENDS = {case.name for case in SERVER_SIDE if case.sends}


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (ENV_API_KEY, ENV_APIGW_API_KEY, ENV_BASE_URL):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def settled(emu: Emulator) -> Iterator[Emulator]:
    yield emu
    assert emu.server_errors == []


def test_catalogue_size() -> None:
    assert len(CASES) >= 40
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input(case: Case, settled: Emulator, bare_env: None) -> None:
    emu = settled
    if case.setup is not None:
        case.setup(emu)
    baseline = Baseline.take()
    outcome = run_with_timeout(lambda: case.call(emu), timeout=5.0)
    assert isinstance(outcome, case.error), f"{type(outcome).__name__}: {outcome}"
    assert isinstance(outcome, errors.ClovaError)
    assert case.fragment in str(outcome), str(outcome)
    if isinstance(outcome, errors.APIError) and case.name in SENDS:
        assert outcome.request_id == emu.requests[-1].request_id
    if case.name not in SENDS:
        assert emu.requests == []
    baseline.assert_back()
