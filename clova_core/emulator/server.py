"""The HTTP layer: a ``ThreadingHTTPServer`` and a handler that writes router responses.

HTTP/1.1 with keep-alive for JSON replies (``Content-Length`` always set). Streams are sent
without a length and the connection is closed after the last event (clova-api.md 11.5).
A client that disconnects mid-reply (``BrokenPipeError`` / ``ConnectionResetError``) only
ends its own request. Faults applied here: pacing, cut streams, malformed bodies, resets.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from clova_core.constants import HEADER_REQUEST_ID
from clova_core.emulator.auth import auth_scheme
from clova_core.emulator.envelope import EmulatedApiError
from clova_core.emulator.observe import RequestRecord, redact_headers
from clova_core.emulator.routes import failure_response, handle, normalise_path
from clova_core.emulator.sse import malformed
from clova_core.emulator.state import (
    DropConnection,
    EmulatorState,
    Incoming,
    JsonResponse,
    RawResponse,
    Response,
    StreamResponse,
)
from clova_core.models import MAX_REQUEST_BODY_BYTES

_PACED_KINDS = frozenset({"token", "chunk"})


class EmulatorHTTPServer(ThreadingHTTPServer):
    """One thread per connection; daemon threads so a hung client never blocks shutdown."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], state: EmulatorState, *, verbose: bool) -> None:
        self.state = state
        self.verbose = verbose
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

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        state = self.server.state
        started = time.time()
        headers = {name.lower(): value for name, value in self.headers.items()}
        path = normalise_path(self.path)
        record = RequestRecord(
            method=self.command,
            path=self.path.split("?", 1)[0],
            request_id=headers.get(HEADER_REQUEST_ID.lower()),
            headers=redact_headers(headers),
            auth=auth_scheme(headers),
            time=started,
        )
        # Logged on arrival and updated in place, so a test that has just read a reply
        # already finds the record (the status is set before the reply's bytes are sent).
        state.log.add(record)
        try:
            if int(self.headers.get("Content-Length") or 0) > MAX_REQUEST_BODY_BYTES:
                self.close_connection = True
                response: Response = failure_response(
                    EmulatedApiError("41300"), openai=path.startswith("/v1/openai")
                )
            else:
                incoming = Incoming(self.command, self.path, path, headers, self._read_body())
                response = handle(state, incoming, record)
            self._write(response, record)
        except (BrokenPipeError, ConnectionResetError):
            record.outcome = "client_disconnected"
            self.close_connection = True
        finally:
            record.duration = time.time() - started

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

    def _write_json(self, response: JsonResponse, record: RequestRecord) -> None:
        knobs = self.server.state.knobs
        payload = json.dumps(response.body, ensure_ascii=False).encode()
        if response.status == 200 and self.server.state.dice.roll(knobs.malformed_rate):
            payload = payload[: max(len(payload) // 2, 1)]
        record.status, record.code = response.status, response.code
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _write_raw(self, response: RawResponse, record: RequestRecord) -> None:
        record.status, record.code = response.status, None
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if response.send_bytes is None:
            self.wfile.write(response.body)
            return
        record.outcome = "cut"
        self.close_connection = True
        self.wfile.write(response.body[: response.send_bytes])
        self.wfile.flush()

    def _write_stream(self, response: StreamResponse, record: RequestRecord) -> None:
        state = self.server.state
        knobs = state.knobs
        record.status, record.code = 200, response.code
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
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
            self.wfile.flush()
            record.events_sent += 1
