"""The emulator against a hostile local client, spoken to over raw sockets.

Bodies are capped whether framed by ``Content-Length`` or chunked, chunked bodies are read
correctly, a half-sent request does not hold its connection thread, deeply nested JSON gets
a 400 in the route's error envelope, and the request log keeps only the recent requests.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from clova_emulator import Emulator
from clova_emulator.limits import MAX_REQUEST_BODY_BYTES

EMBED = "/v1/api-tools/embedding/v2"
OPENAI_EMBED = "/v1/openai/embeddings"
MIB = 1024 * 1024


def _head(path: str, *fields: str) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Authorization: Bearer test-key",
        "Content-Type: application/json",
        *fields,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _connect(emu: Emulator) -> socket.socket:
    # A generous client-side timeout: only a hung emulator would reach it.
    return socket.create_connection(("127.0.0.1", emu.port), timeout=30)


def _reply(sock: socket.socket) -> tuple[int, dict[str, Any]]:
    """Read one HTTP response from ``sock``: status and JSON body."""
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, json.loads(response.read())


def _chunked(*pieces: bytes) -> bytes:
    framed = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces)
    return framed + b"0\r\n\r\n"


@pytest.fixture
def quick_timeout() -> Iterator[Emulator]:
    """An emulator of its own that gives up on a silent client after 0.3 s."""
    with Emulator(read_timeout=0.3) as emulator:
        yield emulator


def test_chunked_body_is_read_like_a_content_length_one(emu: Emulator) -> None:
    body = json.dumps({"text": "서울의 날씨 hello"}).encode()
    with _connect(emu) as sock:
        sock.sendall(_head(EMBED, f"Content-Length: {len(body)}") + body)
        plain = _reply(sock)
        pieces = (body[:5], body[5:9], body[9:])
        sock.sendall(_head(EMBED, "Transfer-Encoding: chunked") + _chunked(*pieces))
        chunked = _reply(sock)
    assert plain[0] == chunked[0] == 200
    assert chunked[1]["result"] == plain[1]["result"]
    assert [record.body for record in emu.requests] == [{"text": "서울의 날씨 hello"}] * 2
    assert emu.server_errors == []


def test_chunk_extensions_and_trailers_are_skipped(emu: Emulator) -> None:
    body = b'{"text": "hello"}'
    framed = b"4;name=value\r\n" + body[:4] + b"\r\n%x\r\n" % (len(body) - 4) + body[4:]
    framed += b"\r\n0\r\nX-Trailer: yes\r\n\r\n"
    with _connect(emu) as sock:
        sock.sendall(_head(EMBED, "Transfer-Encoding: chunked") + framed)
        status, reply = _reply(sock)
    assert status == 200
    assert reply["status"]["code"] == "20000"


def test_chunked_body_over_the_cap_is_413_when_the_total_passes_it(emu: Emulator) -> None:
    """Fifty 1 MiB chunks are exactly the documented cap; one more byte is refused before
    it is sent, so the emulator never buffers more than the cap."""
    assert MAX_REQUEST_BODY_BYTES == 50 * MIB
    piece = b"%x\r\n" % MIB + b" " * MIB + b"\r\n"
    with _connect(emu) as sock:
        sock.sendall(_head(EMBED, "Transfer-Encoding: chunked"))
        for _ in range(50):
            sock.sendall(piece)
        sock.sendall(b"1\r\n")
        status, reply = _reply(sock)
        assert sock.recv(1) == b""
    assert status == 413
    assert reply == {"status": {"code": "41300", "message": "Request body size exceeded"}}
    assert emu.requests[-1].status == 413


def test_one_huge_chunk_is_413_before_its_bytes(emu: Emulator) -> None:
    with _connect(emu) as sock:
        sock.sendall(_head(OPENAI_EMBED, "Transfer-Encoding: chunked") + b"7fffffffffff\r\n")
        status, reply = _reply(sock)
    assert status == 413
    assert reply["error"]["code"] == "41300"


@pytest.mark.parametrize("size_line", [b"0x5", b"-5", b"5_0", b"+5", b"", b"g"])
def test_malformed_chunk_sizes_are_400(emu: Emulator, size_line: bytes) -> None:
    with _connect(emu) as sock:
        sock.sendall(_head(EMBED, "Transfer-Encoding: chunked") + size_line + b"\r\nhello\r\n")
        status, reply = _reply(sock)
    assert status == 400
    assert reply["status"]["code"] == "40000"
    assert "chunk size" in reply["status"]["message"]


@pytest.mark.parametrize("value", ["-1", "1e3", "12, 13", "0x10"])
def test_malformed_content_length_is_400(emu: Emulator, value: str) -> None:
    with _connect(emu) as sock:
        sock.sendall(_head(EMBED, f"Content-Length: {value}") + b"{}")
        status, reply = _reply(sock)
    assert status == 400
    assert reply["status"]["code"] == "40000"


def test_a_half_sent_body_does_not_hold_the_connection(quick_timeout: Emulator) -> None:
    with _connect(quick_timeout) as sock:
        sock.sendall(_head(EMBED, "Content-Length: 100") + b'{"text": ')
        assert sock.recv(1024) == b""
    (record,) = quick_timeout.requests
    assert record.outcome == "client_timeout"
    assert record.status is None


def test_a_half_sent_head_does_not_hold_the_connection(quick_timeout: Emulator) -> None:
    with _connect(quick_timeout) as sock:
        sock.sendall(b"POST /v1/api-tools/embedding/v2 HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        assert sock.recv(1024) == b""
    assert quick_timeout.requests == []


def test_the_server_still_answers_after_a_client_stalls(quick_timeout: Emulator) -> None:
    with _connect(quick_timeout) as stalled, _connect(quick_timeout) as other:
        stalled.sendall(_head(EMBED, "Content-Length: 100"))
        body = b'{"text": "hi"}'
        other.sendall(_head(EMBED, f"Content-Length: {len(body)}") + body)
        assert _reply(other)[0] == 200
        assert stalled.recv(1024) == b""


def test_the_read_timeout_is_checked() -> None:
    with pytest.raises(ValueError, match="read_timeout"):
        Emulator(read_timeout=0)


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (EMBED, _nested(200_000)),
        (EMBED, '{"text": "hi", "extra": ' + _nested(150) + "}"),
        ("/v3/chat-completions/HCX-005", '{"messages": ' + _nested(5_000) + "}"),
    ],
    ids=["far-past-the-stack", "past-the-cap", "chat"],
)
def test_deeply_nested_json_is_400_in_the_native_envelope(
    emu: Emulator, path: str, body: str
) -> None:
    data = body.encode()
    with _connect(emu) as sock:
        sock.sendall(_head(path, f"Content-Length: {len(data)}") + data)
        status, reply = _reply(sock)
    assert status == 400
    assert reply["status"]["code"] == "40000"
    assert "nests deeper" in reply["status"]["message"]
    assert emu.server_errors == []


def test_deeply_nested_json_is_400_in_the_openai_envelope(emu: Emulator) -> None:
    data = ('{"model": "bge-m3", "input": ' + _nested(100_000) + "}").encode()
    with _connect(emu) as sock:
        sock.sendall(_head(OPENAI_EMBED, f"Content-Length: {len(data)}") + data)
        status, reply = _reply(sock)
    assert status == 400
    assert reply["error"]["code"] == "40000"
    assert emu.server_errors == []


def test_nesting_up_to_the_cap_is_accepted(emu: Emulator) -> None:
    data = ('{"text": "hi", "extra": ' + _nested(99) + "}").encode()
    with _connect(emu) as sock:
        sock.sendall(_head(EMBED, f"Content-Length: {len(data)}") + data)
        assert _reply(sock)[0] == 200


def test_the_request_log_keeps_only_the_most_recent_requests() -> None:
    body = b'{"text": "hi"}'
    with Emulator(request_log_size=3) as emu, _connect(emu) as sock:
        for number in range(5):
            request_id = f"X-NCP-CLOVASTUDIO-REQUEST-ID: request-{number}"
            sock.sendall(_head(EMBED, request_id, f"Content-Length: {len(body)}") + body)
            assert _reply(sock)[0] == 200
        assert [record.request_id for record in emu.requests] == [
            "request-2",
            "request-3",
            "request-4",
        ]
        assert emu.stats.total == 3


def test_the_request_log_size_is_checked() -> None:
    with pytest.raises(ValueError, match="request_log_size"):
        Emulator(request_log_size=0)
