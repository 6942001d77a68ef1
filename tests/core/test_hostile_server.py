"""The findings of the private-HTTP-stack review, each against a server on a raw socket.

Every test here failed on the package's former private HTTP/1.1 client and passes on httpx:
header injection through a request id or a key, an early 413 during a large upload, a stray
reply on an idle kept-alive connection, a credential in a timeout's traceback, malformed chunk
sizes and header names, an LF-only head, a trickled body outliving the timeout, a full pool,
and ``close()`` with calls in flight. The async twins over both async transports are in
``test_async_transports.py``.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]
import pytest
from hostile_server import Connection, HostileServer, hostile, read_request, reply, wait_until
from transport_fakes import NO_WAIT

from clova_core.client import AsyncClovaClient, ClovaClient
from clova_core.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    ClovaConfigurationError,
    ClovaValidationError,
)
from clova_core.models import custom_chat_model
from clova_core.transport_errors import (
    ClientClosedError,
    PoolTimeoutError,
    ResponseTimeoutError,
)
from clova_core.types import ChatRequest, Message

KEY = "nv-FAKE-hostile-probe-secret"  # not key-shaped: hyphens break the nv- pattern
LEGACY_KEY = "legacy-clovastudio-secret-1234"
GATEWAY_KEY = "legacy-apigw-secret-5678"
HELLO = ChatRequest(messages=[Message("user", "hello")], model="HCX-005")
OK_EMBEDDING = b'{"status":{"code":"20000","message":"OK"},"result":{"embedding":[0.5]}}'


def answer_everything(conn: Connection) -> None:
    while read_request(conn) is not None:
        conn.send(reply("200 OK", OK_EMBEDDING))


def silent(conn: Connection) -> None:
    if read_request(conn) is not None:
        conn.server.stopping.wait()


@pytest.fixture
def polite() -> Iterator[HostileServer]:
    with hostile(answer_everything) as server:
        yield server


def client_for(server: HostileServer, **options: Any) -> ClovaClient:
    options.setdefault("api_key", KEY)
    options.setdefault("retry_policy", NO_WAIT)
    return ClovaClient(base_url=server.base_url, **options)


# --- header injection: refused before anything is sent ------------------------------------


@pytest.mark.parametrize("request_id", ["abc\r\nX-Injected: 1", "abc\ndef", "abc\x00", "é"])
def test_request_id_that_would_break_a_header_is_refused_before_sending(
    polite: HostileServer, request_id: str
) -> None:
    with client_for(polite) as client:
        with pytest.raises(ClovaValidationError, match="request_id"):
            client.embed("hello", request_id=request_id)
        with pytest.raises(ClovaValidationError, match="request_id"):
            client.stream_chat(HELLO, request_id=request_id)
    assert polite.connections == 0


async def test_async_request_id_that_would_break_a_header_is_refused(
    polite: HostileServer,
) -> None:
    async with AsyncClovaClient(api_key=KEY, base_url=polite.base_url) as client:
        with pytest.raises(ClovaValidationError, match="request_id"):
            await client.chat(HELLO, request_id="a\r\nb")
    assert polite.connections == 0


@pytest.mark.parametrize(
    "options",
    [
        {"api_key": "nv-abc\r\nX-Injected: 1"},
        {"api_key": "nv-abc\ndef"},
        {"api_key": "nv-abc\x00def"},
        {"api_key": LEGACY_KEY, "apigw_api_key": "abc\r\nX-Injected: 1"},
    ],
    ids=["crlf", "lf", "nul", "gateway-crlf"],
)
def test_key_with_a_line_break_inside_is_refused_at_construction(options: dict[str, Any]) -> None:
    with pytest.raises(ClovaConfigurationError) as info:
        ClovaClient(base_url="http://127.0.0.1:9", **options)
    assert "abc" not in str(info.value)  # the key is never echoed


def test_key_read_from_a_file_keeps_working_without_its_newline(polite: HostileServer) -> None:
    with client_for(polite, api_key=f"  {KEY}\n") as client:
        client.embed("hello")
    with client_for(polite, api_key=f"{LEGACY_KEY}\r\n", apigw_api_key=f"{GATEWAY_KEY}\n") as c:
        c.embed("hello")
    bearer, legacy = polite.requests
    assert bearer.header("authorization") == f"Bearer {KEY}"
    assert legacy.header("x-ncp-clovastudio-api-key") == LEGACY_KEY
    assert legacy.header("x-ncp-apigw-api-key") == GATEWAY_KEY


# --- an early 413 during a large upload ------------------------------------------------------


def early_413(conn: Connection) -> None:
    if read_request(conn, read_body=False) is None:
        return
    body = b'{"status":{"code":"41300","message":"Request Entity Too Large"}}'
    conn.send(reply("413 Payload Too Large", body, headers="Connection: close\r\n"))
    conn.linger()


def test_large_upload_answered_early_with_413_shows_the_413() -> None:
    big = custom_chat_model("big-model", max_input_tokens=10**9, context_window=10**9 + 4096)
    request = ChatRequest(messages=[Message("user", "x" * 8_000_000)], model="big-model")
    with (
        hostile(early_413) as server,
        client_for(server, max_retries=2) as client,
        pytest.raises(APIStatusError) as info,
    ):
        client.chat(request, spec=big)
    assert info.value.status_code == 413
    assert "50 MB" in str(info.value)  # the hint
    assert "Broken pipe" not in str(info.value)
    assert len(server.requests) == 1  # a 413 is not retried


# --- a stray reply on an idle kept-alive connection ------------------------------------------


def test_stray_reply_on_an_idle_connection_is_not_returned() -> None:
    stray_sent = threading.Event()

    def handler(conn: Connection) -> None:
        if conn.server.connections == 1:
            if read_request(conn) is None:
                return
            conn.send(reply("200 OK", OK_EMBEDDING.replace(b"0.5", b"1.0")))
            conn.server.stopping.wait(0.05)
            conn.send(reply("200 OK", OK_EMBEDDING.replace(b"0.5", b"2.0")))  # unasked
            stray_sent.set()
        while read_request(conn) is not None:
            conn.send(reply("200 OK", OK_EMBEDDING.replace(b"0.5", b"3.0")))

    with hostile(handler) as server, client_for(server) as client:
        assert client.embed("first").embedding == [1.0]
        assert stray_sent.wait(5)
        time.sleep(0.05)  # let the stray bytes reach our socket
        assert client.embed("second").embedding == [3.0]


# --- a timeout's traceback never holds a key --------------------------------------------------


def exposed_text(error: BaseException) -> str:
    """Everything a crash reporter that captures locals would record: the formatted chain
    with every frame's locals (as ``pytest -l``, rich or Sentry do), the reprs of each error
    in the chain, and the headers of any request or response reachable from a local."""
    report = traceback.TracebackException.from_exception(error, capture_locals=True)
    parts = ["".join(report.format())]
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts += [repr(current), str(current), repr(current.args)]
        with suppress(AttributeError, RuntimeError):
            parts.append(repr(current.request.headers))  # type: ignore[attr-defined]
        tb = current.__traceback__
        while tb is not None:
            for value in tb.tb_frame.f_locals.values():
                parts.append(repr(value))
                headers = getattr(value, "headers", None)
                if isinstance(headers, httpx.Headers):
                    parts.append(repr(headers.raw))
                request = getattr(value, "_request", None) or getattr(value, "request", None)
                if isinstance(request, httpx.Request):
                    parts.append(repr(request.headers.raw))
            tb = tb.tb_next
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


@pytest.mark.parametrize(
    "keys",
    [{"api_key": KEY}, {"api_key": LEGACY_KEY, "apigw_api_key": GATEWAY_KEY}],
    ids=["bearer", "legacy"],
)
def test_timeout_traceback_never_holds_the_key(keys: dict[str, str]) -> None:
    with hostile(silent) as server, client_for(server, timeout=0.3, max_retries=0, **keys) as c:
        errors = [
            caught(lambda: c.embed("hello")),
            caught(lambda: next(iter(c.stream_chat(HELLO)))),
        ]
    for error in errors:
        assert isinstance(error, ResponseTimeoutError)
        text = exposed_text(error)
        assert "attempt = 0" in text  # the locals of our frames really were captured
        for secret in (KEY, LEGACY_KEY, GATEWAY_KEY):
            assert secret not in text


def caught(call: Callable[[], object]) -> BaseException:
    """The error ``call`` raises, caught here so its traceback starts at this frame (the
    test's own frame holds the keys it passed in, a crash reporter's would not)."""
    try:
        call()
    except APIError as error:
        return error
    raise AssertionError("no error raised")


# --- malformed replies, LF-only heads ---------------------------------------------------------


MALFORMED = {
    "chunk size 0x5": b"Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
    "chunk size 0_5": b"Transfer-Encoding: chunked\r\n\r\n0_5\r\nhello\r\n0\r\n\r\n",
    "chunk size -5": b"Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
    "header name with a space": b"Bad Name: x\r\nContent-Length: 2\r\n\r\n{}",
    "header name with NUL": b"Bad\x00Name: x\r\nContent-Length: 2\r\n\r\n{}",
}


@pytest.mark.parametrize("tail", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_http_is_a_typed_error(tail: bytes) -> None:
    def handler(conn: Connection) -> None:
        while read_request(conn) is not None:
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + tail)

    with hostile(handler) as server, client_for(server, max_retries=1) as client:
        with pytest.raises(APIError) as info:
            client.embed("hello")
        with pytest.raises(APIError):
            next(iter(client.stream_chat(HELLO)))
    assert isinstance(info.value, APIConnectionError)
    assert isinstance(info.value.__cause__, httpx.HTTPError)


def test_lf_only_head_is_read() -> None:
    def handler(conn: Connection) -> None:
        while read_request(conn) is not None:
            head = b"HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: %d\n\n"
            conn.send(head % len(OK_EMBEDDING) + OK_EMBEDDING)

    with hostile(handler) as server, client_for(server, timeout=5.0) as client:
        assert client.embed("hello").embedding == [0.5]


# --- deadlines, pools, close ------------------------------------------------------------------


def trickle(conn: Connection) -> None:
    while read_request(conn) is not None:
        body = OK_EMBEDDING + b" " * 600
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        conn.send(b"Content-Length: %d\r\n\r\n" % len(body))
        conn.trickle(body, every=0.1)


def test_total_deadline_bounds_a_trickling_reply() -> None:
    with hostile(trickle) as server, client_for(server, timeout=0.5, max_retries=1) as client:
        with pytest.raises(ResponseTimeoutError, match="deadline"):
            client.chat(HELLO)
        assert len(server.requests) == 1  # a late chat is not retried (billed answer)
        with pytest.raises(ResponseTimeoutError):
            client.count_embedding_tokens("hello")
        assert len(server.requests) == 3  # a token count is


def test_explicit_total_timeout_overrides_the_read_timeout() -> None:
    with hostile(trickle) as server:
        client = client_for(server, timeout=30.0, total_timeout=0.5, max_retries=0)
        with client, pytest.raises(ResponseTimeoutError, match=r"0\.5 s deadline"):
            client.embed("hello")


def hold(client: ClovaClient) -> None:
    with suppress(APIError):
        client.embed("hold")


def test_full_local_pool_is_not_retried() -> None:
    with hostile(silent) as server:
        http = httpx.Client(limits=httpx.Limits(max_connections=1))
        client = client_for(server, http_client=http, timeout=httpx.Timeout(10.0, pool=0.2))
        holder = threading.Thread(target=hold, args=(client,))
        holder.start()
        assert wait_until(lambda: len(server.requests) == 1)
        with pytest.raises(PoolTimeoutError):
            client.embed("hello")
        assert len(server.requests) == 1
        http.close()
        holder.join(10)


def connections_to(port: int) -> int:
    return sum(
        1
        for conn in psutil.Process().net_connections(kind="tcp")
        if conn.raddr and conn.raddr.port == port and conn.status == psutil.CONN_ESTABLISHED
    )


def test_close_with_calls_in_flight_closes_every_connection() -> None:
    outcomes: list[BaseException] = []

    def call(client: ClovaClient, text: str) -> None:
        try:
            client.embed(text)
        except BaseException as exc:
            outcomes.append(exc)

    with hostile(silent) as server:
        client = client_for(server)
        threads = [threading.Thread(target=call, args=(client, f"t{n}")) for n in range(4)]
        for thread in threads:
            thread.start()
        assert wait_until(lambda: len(server.requests) == 4)
        assert connections_to(server.port) == 4
        client.close()
        for thread in threads:
            thread.join(10)
        assert len(outcomes) == 4
        assert all(isinstance(outcome, APIConnectionError) for outcome in outcomes), outcomes
        assert any(isinstance(outcome, ClientClosedError) for outcome in outcomes)
        assert wait_until(lambda: connections_to(server.port) == 0)
