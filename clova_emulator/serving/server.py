"""The HTTP layer: a ``ThreadingHTTPServer`` and a handler that writes router responses.

HTTP/1.1 with keep-alive for JSON replies (``Content-Length`` always set). Streams are sent
without a length and the connection is closed after the last event (clova-api.md 11.5).
A client that disconnects mid-reply (``BrokenPipeError`` / ``ConnectionResetError``) only
ends its own request. Faults applied here: pacing, cut streams, malformed bodies, resets.

Cost per request (the benchmarks drive the emulator at 16-32 requests in flight): plain
request heads are parsed by ``httpwire`` instead of the ``email`` package, a JSON reply's
head and body leave in one write, bodies are encoded by ``jsonwire``, and a request's Python
work runs within the server's CPU turn (``cputurn``) so busy connection threads do not fight
over the GIL. The bytes on the wire are the same as the stdlib handler would write.
"""

from __future__ import annotations

import io
import socket
import struct
import sys
import time
import traceback
from collections.abc import Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from clova_core.constants import HEADER_REQUEST_ID
from clova_core.models import MAX_REQUEST_BODY_BYTES
from clova_emulator.observe import RequestRecord, redact_headers
from clova_emulator.serving.auth import auth_scheme
from clova_emulator.serving.cputurn import CpuTurn
from clova_emulator.serving.envelope import EmulatedApiError
from clova_emulator.serving.httpwire import HeaderFields, http_date, parse_head
from clova_emulator.serving.jsonwire import encode_json
from clova_emulator.serving.routes import failure_response, handle, normalise_path
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
_SEND_NOWAIT: int = getattr(socket, "MSG_DONTWAIT", 0)
"""Flag for a send that never waits (0 where the platform has none: then writes always
happen with the CPU turn given up)."""


class EmulatorHTTPServer(ThreadingHTTPServer):
    """One thread per connection; daemon threads so a hung client never blocks shutdown."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], state: EmulatorState, *, verbose: bool) -> None:
        self.state = state
        self.verbose = verbose
        self.turn = CpuTurn()
        """Held by a connection thread for a request's Python work (see ``cputurn``)."""
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
    raw_requestline: bytes
    """The request line as read by ``handle_one_request``."""
    fields: HeaderFields
    """The request's header fields (set by :meth:`parse_request` on either path)."""
    body_buffered: int
    """Bytes known to be in the read buffer after the head (0 when not known)."""

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

    # request head ------------------------------------------------------------------------

    def handle_one_request(self) -> None:
        """Serve one request of the connection.

        The steps of ``BaseHTTPRequestHandler.handle_one_request``, with the request's Python
        work inside the server's CPU turn: taken once the request line (and whatever arrived
        with it) has been read, given up for anything that may wait (see ``cputurn``)."""
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline = ""
                self.request_version = ""
                self.command = ""
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            arrived = self._buffered()
            with self.server.turn:
                self._dispatch(arrived)
        except TimeoutError as error:
            self.log_error("Request timed out: %r", error)
            self.close_connection = True

    def _dispatch(self, arrived: bytes) -> None:
        """Parse the head and run ``do_<METHOD>`` (501 when there is none); turn held."""
        if not self._parse(arrived):
            return
        method = getattr(self, "do_" + self.command, None)
        if method is None:
            with self.server.turn.released():
                self.send_error(
                    HTTPStatus.NOT_IMPLEMENTED, f"Unsupported method ({self.command!r})"
                )
            return
        method()
        self.wfile.flush()

    def _parse(self, arrived: bytes) -> bool:
        """An ``HTTP/1.0`` / ``HTTP/1.1`` request whose plain header block has ``arrived``
        (is already buffered) is parsed here (:func:`httpwire.parse_head`); every other
        request, and every error reply, is the stdlib's ``parse_request``."""
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = requestline.split()
        head = None
        if len(words) == 3 and words[2] in ("HTTP/1.0", "HTTP/1.1"):
            head = parse_head(arrived)
        self.body_buffered = 0
        if head is None:
            with self.server.turn.released():
                if not self.parse_request():
                    return False
            self.fields = HeaderFields(self.headers.items())
            return True
        self.fields, size = head
        self.rfile.read(size)
        self.body_buffered = len(arrived) - size
        self.requestline = requestline
        self.command, path, self.request_version = words
        # What the stdlib does with these (http.server.BaseHTTPRequestHandler.parse_request).
        self.path = "/" + path.lstrip("/") if path.startswith("//") else path
        connection = self.fields.get("Connection").lower()
        self.close_connection = self.request_version != "HTTP/1.1"
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        expect = self.fields.get("Expect").lower()
        if expect == "100-continue" and self.request_version == "HTTP/1.1":
            with self.server.turn.released():
                return self.handle_expect_100()
        return True

    def _buffered(self) -> bytes:
        """What the read buffer holds after the request line (waits for one socket read if
        nothing else has arrived yet)."""
        reader = self.rfile
        return reader.peek() if isinstance(reader, io.BufferedReader) else b""

    def _read_body(self) -> bytes:
        if "chunked" in self.fields.get("Transfer-Encoding").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.fields.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    # the exchange ------------------------------------------------------------------------

    def _serve(self) -> None:
        """Log, read the body, run the pipeline, reply (called with the CPU turn held; it is
        given up for what may wait)."""
        state = self.server.state
        turn = self.server.turn
        started = time.time()
        headers = self.fields.last
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
            length = int(self.fields.get("Content-Length") or 0)
            if length > MAX_REQUEST_BODY_BYTES:
                self.close_connection = True
                response: Response = failure_response(
                    EmulatedApiError("41300"), openai=path.startswith("/v1/openai")
                )
            else:
                if self._body_is_buffered(length):
                    body = self._read_body()
                else:
                    with turn.released():
                        body = self._read_body()
                incoming = Incoming(self.command, self.path, path, headers, body)
                response = handle(state, incoming, record, wait=turn.sleep)
            self._write(response, record)
        except (BrokenPipeError, ConnectionResetError):
            record.outcome = "client_disconnected"
            self.close_connection = True
        finally:
            record.duration = time.time() - started

    def _body_is_buffered(self, length: int) -> bool:
        """Whether reading the body cannot wait for the client (all of it is buffered)."""
        chunked = "chunked" in self.fields.get("Transfer-Encoding").lower()
        return not chunked and length <= self.body_buffered

    def _write(self, response: Response, record: RequestRecord) -> None:
        if isinstance(response, DropConnection):
            record.outcome = "reset"
            self._reset()
        elif isinstance(response, JsonResponse):
            self._write_json(response, record)
        elif isinstance(response, RawResponse):
            self._write_raw(response, record)
        else:
            with self.server.turn.released():
                self._write_stream(response, record)

    def _send(self, data: bytes) -> None:
        """Write ``data``: what the socket takes at once within the turn, the rest (a client
        that does not read) with the turn given up."""
        sent = 0
        if _SEND_NOWAIT:
            try:
                sent = self.connection.send(data, _SEND_NOWAIT)
            except BlockingIOError:
                sent = 0
        if sent < len(data):
            with self.server.turn.released():
                self.wfile.write(memoryview(data)[sent:])

    def _reset(self) -> None:
        """Close with RST and no reply (SO_LINGER 0)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            return

    # response head -----------------------------------------------------------------------

    def _head(self, status: int, headers: Iterable[tuple[str, str]]) -> bytes:
        """The bytes ``send_response(status)``, ``send_header(...)`` for ``headers`` and
        ``end_headers()`` would write (status line, ``Server``, ``Date``, the fields, blank
        line), built in one go; ``Connection`` fields update ``close_connection`` the same way.
        """
        if self.server.verbose:
            self.log_request(status)
        lines: list[str] = []
        if self.request_version != "HTTP/0.9":
            message = self.responses[status][0] if status in self.responses else ""
            lines.append(f"{self.protocol_version} {status:d} {message}\r\n")
            lines.append(f"Server: {self.version_string()}\r\nDate: {http_date()}\r\n")
        for name, value in headers:
            if self.request_version != "HTTP/0.9":
                lines.append(f"{name}: {value}\r\n")
            if name.lower() == "connection":
                if value.lower() == "close":
                    self.close_connection = True
                elif value.lower() == "keep-alive":
                    self.close_connection = False
        if self.request_version != "HTTP/0.9":
            lines.append("\r\n")
        return "".join(lines).encode("latin-1", "strict")

    def _write_json(self, response: JsonResponse, record: RequestRecord) -> None:
        """Head and body in one write (one send: no half-reply on the wire)."""
        self._send(self._json_reply(response, record))

    def _json_reply(self, response: JsonResponse, record: RequestRecord) -> bytes:
        """Head and body bytes of a JSON reply (possibly malformed, ``malformed_rate``)."""
        knobs = self.server.state.knobs
        payload = encode_json(response.body)
        if response.status == 200 and self.server.state.dice.roll(knobs.malformed_rate):
            payload = payload[: max(len(payload) // 2, 1)]
        record.status, record.code = response.status, response.code
        head = self._head(
            response.status,
            [
                ("Content-Type", "application/json; charset=utf-8"),
                ("Content-Length", str(len(payload))),
                *response.headers.items(),
            ],
        )
        return head + payload

    def _write_raw(self, response: RawResponse, record: RequestRecord) -> None:
        record.status, record.code = response.status, None
        head = self._head(
            response.status,
            [
                ("Content-Type", response.content_type),
                ("Content-Length", str(len(response.body))),
                *response.headers.items(),
            ],
        )
        if response.send_bytes is None:
            self._send(head + response.body)
            return
        record.outcome = "cut"
        self.close_connection = True
        self._send(head + response.body[: response.send_bytes])

    def _write_stream(self, response: StreamResponse, record: RequestRecord) -> None:
        state = self.server.state
        knobs = state.knobs
        record.status, record.code = 200, response.code
        self.close_connection = True
        head = self._head(
            200,
            [
                ("Content-Type", "text/event-stream; charset=utf-8"),
                ("Cache-Control", "no-cache"),
                ("Connection", "close"),
                *response.headers.items(),
            ],
        )
        self.wfile.write(head)
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
