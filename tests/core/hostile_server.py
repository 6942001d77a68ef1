"""A tiny HTTP server on raw sockets for the tests that need a server misbehaving on the wire.

The emulator speaks correct HTTP; these tests need replies it never sends (malformed chunk
sizes, header names with spaces, LF-only heads, bytes trickled one at a time, a reply on an
idle connection, an early 413 before the upload is read). Each accepted connection runs
``handler(connection)`` in a daemon thread; :func:`read_request` reads one request off it.
Only 127.0.0.1 is ever bound.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

Handler = Callable[["Connection"], None]


@dataclass
class Connection:
    """One accepted client connection and what the server read from it."""

    sock: socket.socket
    server: HostileServer
    buffer: bytes = b""

    def send(self, data: bytes) -> None:
        with suppress(OSError):
            self.sock.sendall(data)

    def linger(self) -> None:
        """Close the sending side and read (and drop) what the client still sends until it
        closes: a server that answers before reading the whole upload does this, so the
        kernel does not reset the connection and discard the answer."""
        with suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)
            while self.sock.recv(65536):
                pass

    def trickle(self, data: bytes, *, every: float) -> None:
        """Send ``data`` one byte at a time, ``every`` seconds apart, until the client leaves."""
        for index in range(len(data)):
            try:
                self.sock.sendall(data[index : index + 1])
            except OSError:
                return
            if self.server.stopping.wait(every):
                return


@dataclass
class Request:
    head: bytes
    body: bytes

    def header(self, name: str) -> str | None:
        for line in self.head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == name.lower().encode():
                return value.strip().decode("latin-1")
        return None


def read_request(conn: Connection, *, read_body: bool = True) -> Request | None:
    """The next request on ``conn`` (head, and its Content-Length body when ``read_body``),
    or None if the client closed the connection first."""
    while b"\r\n\r\n" not in conn.buffer:
        chunk = _recv(conn.sock)
        if not chunk:
            return None
        conn.buffer += chunk
    head, _, rest = conn.buffer.partition(b"\r\n\r\n")
    request = Request(head=head, body=b"")
    length = int(request.header("content-length") or 0)
    if read_body:
        while len(rest) < length:
            chunk = _recv(conn.sock)
            if not chunk:
                break
            rest += chunk
        request.body, conn.buffer = rest[:length], rest[length:]
    else:
        conn.buffer = rest
    conn.server.requests.append(request)
    return request


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


@dataclass
class HostileServer:
    handler: Handler
    tls: ssl.SSLContext | None = None
    """Serve HTTPS with this server-side context (a failed handshake just closes)."""
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.05)
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            sock.settimeout(None)
            self.connections += 1
            self._open.append(sock)
            threading.Thread(target=self._run, args=(sock,), daemon=True).start()

    def _run(self, sock: socket.socket) -> None:
        try:
            if self.tls is not None:
                try:
                    sock = self.tls.wrap_socket(sock, server_side=True)
                except (ssl.SSLError, OSError):
                    return
            self.handler(Connection(sock=sock, server=self))
        finally:
            self.stopping.wait(0.2)  # let the client read what was sent before the close
            with suppress(OSError):
                sock.close()

    def stop(self) -> None:
        self.stopping.set()
        self._thread.join(timeout=2)
        self._listener.close()
        for sock in self._open:
            with suppress(OSError):
                sock.close()


@contextmanager
def hostile(handler: Handler, *, tls: ssl.SSLContext | None = None) -> Iterator[HostileServer]:
    server = HostileServer(handler, tls=tls)
    try:
        yield server
    finally:
        server.stop()


def reply(status: str, body: bytes, *, headers: str = "", chunked: bool = False) -> bytes:
    """A complete HTTP/1.1 reply (``status`` like ``"200 OK"``)."""
    if chunked:
        framing = "Transfer-Encoding: chunked\r\n"
        body = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    else:
        framing = f"Content-Length: {len(body)}\r\n"
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{framing}{headers}\r\n".encode()
        + body
    )


def wait_until(predicate: Callable[[], bool], seconds: float = 5.0) -> bool:
    """Poll ``predicate`` until true (a synchronisation helper, not a timed assertion)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
