"""The HTTP layer: the stdlib ``ThreadingHTTPServer`` and a handler that writes router replies.

HTTP/1.1 with keep-alive for JSON replies (``Content-Length`` always set). Streams are sent
without a length and the connection is closed after the last event.
A client that disconnects mid-reply (``BrokenPipeError`` / ``ConnectionResetError``) only
ends its own request. Faults applied here: pacing, cut streams, malformed bodies, resets.

Defences against a misbehaving local client: request bodies are capped at the documented
size whether sent with ``Content-Length`` or chunked (413 / 41300, read no further); every
wait for the client's bytes (and for a stalled client to take reply bytes) ends after
``read_timeout`` seconds, closing that connection; request heads are parsed by the stdlib.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import sys
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from clova_emulator.limits import HEADER_REQUEST_ID, MAX_REQUEST_BODY_BYTES
from clova_emulator.observe import RequestRecord, redact_headers
from clova_emulator.serving.auth import auth_scheme
from clova_emulator.serving.envelope import EmulatedApiError
from clova_emulator.serving.routes import failure_response, handle, is_openai, normalise_path
from clova_emulator.serving.sse import malformed
from clova_emulator.state import (
    DropConnection,
    EmulatorState,
    Incoming,
    JsonResponse,
    RawResponse,
    Response,
    StreamResponse,
)

_PACED_KINDS = frozenset({"token", "chunk"})
_REQUEST_ID = HEADER_REQUEST_ID.lower()
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
"""A chunk-size line (RFC 9112 7.1): hex digits only, before any ``;`` extension."""
_MAX_LINE = 65536
"""Longest chunk-size or trailer line read (the stdlib's limit for header lines)."""
_MAX_TRAILER_LINES = 100
_LINGER_SECONDS = 2.0
"""How long an unread request body is drained after an early reply, so that closing the
connection does not reset it before the client has read the reply."""


class _ClientGoneError(ConnectionError):
    """The client closed its side before the request was complete."""


class EmulatorHTTPServer(ThreadingHTTPServer):
    """One thread per connection; daemon threads so a hung client never blocks shutdown."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(
        self,
        address: tuple[str, int],
        state: EmulatorState,
        *,
        verbose: bool,
        read_timeout: float | None,
    ) -> None:
        self.state = state
        self.verbose = verbose
        self.read_timeout = read_timeout
        super().__init__(address, EmulatorRequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Dropped connections are normal; anything else is remembered for the tests."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        self.state.add_server_error(traceback.format_exc())


class EmulatorRequestHandler(BaseHTTPRequestHandler):
    """Reads a request, runs :func:`routes.handle`, writes the response."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    """TCP_NODELAY: small replies and SSE events leave at once (no Nagle / delayed-ACK stall)."""
    server_version = "ClovaStudioEmulator/0.1"
    server: EmulatorHTTPServer
    body_unread = False
    """Set when a reply went out before the request body was read (see :meth:`finish`)."""

    def setup(self) -> None:
        """Apply the server's read timeout to the connection."""
        super().setup()
        self.connection.settimeout(self.server.read_timeout)

    def finish(self) -> None:
        """Flush; then, if the client may still be sending a refused body, drain it for a
        moment so the connection closes with a FIN rather than a reset that could destroy
        the reply in flight."""
        super().finish()
        if self.body_unread:
            timeout = self.server.read_timeout
            _drain(self.connection, min(timeout or _LINGER_SECONDS, _LINGER_SECONDS))

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet by default; ``--verbose`` prints the request line (never headers)."""
        if self.server.verbose:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    # the exchange ------------------------------------------------------------------------

    def _serve(self) -> None:
        """Log, read the body, run the pipeline, reply."""
        state = self.server.state
        started = time.time()
        headers = {name.lower(): value for name, value in self.headers.items()}
        path = normalise_path(self.path)
        record = RequestRecord(
            method=self.command,
            path=self.path.split("?", 1)[0],
            request_id=headers.get(_REQUEST_ID),
            headers=redact_headers(headers),
            auth=auth_scheme(headers),
            time=started,
        )
        # Logged on arrival and updated in place, so a test that has just read a reply
        # already finds the record (the status is set before the reply's bytes are sent).
        state.log.add(record)
        try:
            try:
                body = self._read_body()
            except EmulatedApiError as failure:
                self.close_connection = True
                self.body_unread = True
                response: Response = failure_response(failure, openai=is_openai(path))
            else:
                incoming = Incoming(self.command, self.path, path, headers, body)
                response = handle(state, incoming, record)
            self._write(response, record)
        except ConnectionError:
            record.outcome = "client_disconnected"
            self.close_connection = True
        except TimeoutError:
            record.outcome = "client_timeout"
            self.close_connection = True
        finally:
            record.duration = time.time() - started

    # request body ------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        """The request body, framed by ``Transfer-Encoding: chunked`` or ``Content-Length``
        (RFC 9112 6.3); 413 / 41300 past the cap, 400 / 40000 for broken framing."""
        encoding = self.headers.get("Transfer-Encoding")
        if encoding is not None:
            if encoding.strip().lower() != "chunked":
                raise EmulatedApiError("40000", "Bad request: unsupported Transfer-Encoding")
            if self.headers.get("Content-Length") is not None:
                # Chunked framing wins; the connection must not be reused (RFC 9112 6.3).
                self.close_connection = True
            return self._read_chunked()
        lengths = {value.strip() for value in self.headers.get_all("Content-Length", [])}
        if not lengths:
            return b""
        length_text = lengths.pop()
        if lengths or not (length_text.isascii() and length_text.isdigit()):
            raise EmulatedApiError("40000", "Bad request: invalid Content-Length")
        length = int(length_text)
        if length > MAX_REQUEST_BODY_BYTES:
            raise EmulatedApiError("41300")
        return self._read_exactly(length)

    def _read_exactly(self, size: int) -> bytes:
        data = self.rfile.read(size) if size > 0 else b""
        if len(data) < size:
            raise _ClientGoneError("the client closed the connection mid-body")
        return data

    def _read_line(self) -> bytes:
        line = self.rfile.readline(_MAX_LINE + 1)
        if not line:
            raise _ClientGoneError("the client closed the connection mid-body")
        if len(line) > _MAX_LINE or not line.endswith(b"\n"):
            raise EmulatedApiError("40000", "Bad request: chunked framing line too long")
        return line

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size_text = self._read_line().split(b";", 1)[0].strip()
            if not _CHUNK_SIZE.fullmatch(size_text):
                raise EmulatedApiError("40000", "Bad request: invalid chunk size")
            size = int(size_text, 16)
            if size == 0:
                break
            total += size
            if total > MAX_REQUEST_BODY_BYTES:
                raise EmulatedApiError("41300")
            chunks.append(self._read_exactly(size))
            if self._read_line().rstrip(b"\r\n"):
                raise EmulatedApiError("40000", "Bad request: chunk longer than its size")
        for _ in range(_MAX_TRAILER_LINES):
            if not self._read_line().rstrip(b"\r\n"):
                return b"".join(chunks)
        raise EmulatedApiError("40000", "Bad request: too many trailer fields")

    # the reply ---------------------------------------------------------------------------

    def _write(self, response: Response, record: RequestRecord) -> None:
        if isinstance(response, DropConnection):
            record.outcome = "reset"
            self._reset()
        elif isinstance(response, JsonResponse):
            self._write_json(response, record)
        elif isinstance(response, RawResponse):
            self._write_raw(response, record)
        else:
            self._write_stream(response, record)

    def _reset(self) -> None:
        """Close with RST and no reply (SO_LINGER 0)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            return

    def _head(self, status: int, headers: list[tuple[str, str]]) -> None:
        """Status line, ``Server``, ``Date``, ``headers`` and the blank line."""
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()

    def _write_json(self, response: JsonResponse, record: RequestRecord) -> None:
        """A JSON reply (possibly malformed, ``malformed_rate``)."""
        state = self.server.state
        payload = json.dumps(response.body, ensure_ascii=False).encode()
        if response.status == 200 and state.dice.roll(state.knobs.malformed_rate):
            payload = payload[: max(len(payload) // 2, 1)]
        record.status, record.code = response.status, response.code
        self._head(
            response.status,
            [
                ("Content-Type", "application/json; charset=utf-8"),
                ("Content-Length", str(len(payload))),
                *response.headers.items(),
            ],
        )
        self.wfile.write(payload)

    def _write_raw(self, response: RawResponse, record: RequestRecord) -> None:
        record.status, record.code = response.status, None
        body = response.body
        if response.send_bytes is not None:
            record.outcome = "cut"
            self.close_connection = True
            body = body[: response.send_bytes]
        self._head(
            response.status,
            [
                ("Content-Type", response.content_type),
                ("Content-Length", str(len(response.body))),
                *response.headers.items(),
            ],
        )
        self.wfile.write(body)

    def _write_stream(self, response: StreamResponse, record: RequestRecord) -> None:
        state = self.server.state
        knobs = state.knobs
        record.status, record.code = 200, response.code
        self.close_connection = True
        self._head(
            200,
            [
                ("Content-Type", "text/event-stream; charset=utf-8"),
                ("Cache-Control", "no-cache"),
                ("Connection", "close"),
                *response.headers.items(),
            ],
        )
        spoil_at = -1
        if state.dice.roll(knobs.malformed_rate):
            spoil_at = max(
                (at for at, item in enumerate(response.frames) if item.kind in ("result", "chunk")),
                default=-1,
            )
        for index, frame in enumerate(response.frames):
            if response.cut_after is not None and index >= response.cut_after:
                record.outcome = "cut"
                return
            if knobs.token_delay and frame.kind in _PACED_KINDS:
                time.sleep(knobs.token_delay)
            payload = malformed(frame).payload if index == spoil_at else frame.payload
            self.wfile.write(payload)
            record.events_sent += 1


def _drain(connection: socket.socket, seconds: float) -> None:
    """Stop sending, then read and discard what the client still sends, for ``seconds`` at
    most (until it closes its side or the time is up)."""
    deadline = time.monotonic() + seconds
    try:
        connection.shutdown(socket.SHUT_WR)
        while (left := deadline - time.monotonic()) > 0:
            connection.settimeout(left)
            if not connection.recv(65536):
                return
    except OSError:
        return
