"""The keep-alive transports (clova_core.keepalive) against a scripted HTTP/1.1 peer on
127.0.0.1: framing, connection reuse, stale connections, protocol errors, timeouts, the pool
limit, and the proxy fallback of the package's own clients.

Each case runs through a real ``httpx.Client`` / ``httpx.AsyncClient`` over real sockets, in
both the sync and the async transport.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from clova_core import ClovaClient
from clova_core.errors import APIConnectionError
from clova_core.http11 import proxy_configured
from clova_core.keepalive import KeepAliveTransport
from clova_core.keepalive_async import AsyncKeepAliveTransport
from clova_core.transport import default_ssl_context

Reply = Callable[[bytes], bytes | None]
"""Given a request (head and body), the bytes to send back; ``None`` closes the connection."""


def ok(body: bytes = b'{"ok":true}', *extra: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % len(body) + b"".join(extra)
    return head + b"\r\n" + body


@dataclass
class Peer:
    """A one-thread-per-connection server answering each request with the next reply."""

    replies: list[Reply | bytes | None] = field(default_factory=list)
    connections: int = 0
    closed: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    """Released each time the peer has closed a connection."""
    requests: list[bytes] = field(default_factory=list)
    close_after_reply: bool = False
    sock: socket.socket = field(default_factory=socket.socket)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def start(self) -> Peer:
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self._exchange(conn)
        finally:
            conn.close()
            self.closed.release()

    def _exchange(self, conn: socket.socket) -> None:
        with conn.makefile("rb") as reader:
            while True:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = reader.readline()
                    if not line:
                        return
                    head += line
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                request = head + reader.read(length)
                self.requests.append(request)
                reply = self.replies.pop(0) if self.replies else ok()
                data = reply(request) if callable(reply) else reply
                if data is None:
                    return
                conn.sendall(data)
                if self.close_after_reply:
                    return

    def stop(self) -> None:
        self.sock.close()


@pytest.fixture
def peer() -> Iterator[Peer]:
    server = Peer().start()
    yield server
    server.stop()


Send = Callable[..., httpx.Response]


@pytest.fixture(params=["sync", "async"])
def send(request: pytest.FixtureRequest) -> Iterator[Send]:
    """``send(url, **transport_options)`` -> the response, read, through one client that lives
    for the test (so keep-alive can be observed), in the sync or the async transport."""
    context = default_ssl_context()
    if request.param == "sync":
        clients: dict[str, httpx.Client] = {}

        def sync_send(url: str, timeout: float = 5.0, **options: int) -> httpx.Response:
            key = repr(sorted(options.items()))
            if key not in clients:
                clients[key] = httpx.Client(
                    transport=KeepAliveTransport(ssl_context=context, **options)
                )
            return clients[key].post(url, content=b'{"text":"hi"}', timeout=timeout)

        yield sync_send
        for client in clients.values():
            client.close()
        return
    loop = asyncio.new_event_loop()
    async_clients: dict[str, httpx.AsyncClient] = {}

    def async_send(url: str, timeout: float = 5.0, **options: int) -> httpx.Response:
        key = repr(sorted(options.items()))

        async def go() -> httpx.Response:
            if key not in async_clients:
                async_clients[key] = httpx.AsyncClient(
                    transport=AsyncKeepAliveTransport(ssl_context=context, **options)
                )
            return await async_clients[key].post(url, content=b'{"text":"hi"}', timeout=timeout)

        return loop.run_until_complete(go())

    yield async_send

    async def close_all() -> None:
        for client in async_clients.values():
            await client.aclose()

    loop.run_until_complete(close_all())
    loop.close()


def test_sequential_requests_reuse_one_connection(peer: Peer, send: Send) -> None:
    for _ in range(5):
        assert send(peer.url).json() == {"ok": True}
    assert peer.connections == 1
    assert len(peer.requests) == 5
    first = peer.requests[0]
    assert first.startswith(b"POST / HTTP/1.1\r\n")
    assert b"\r\nhost: 127.0.0.1:" in first.lower()
    assert first.endswith(b'\r\n\r\n{"text":"hi"}')


def test_chunked_body_is_decoded_and_connection_reused(peer: Peer, send: Send) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'4;ext=1\r\n{"a"\r\n6\r\n:[1,2]\r\n1\r\n}\r\n0\r\nTrailer: x\r\n\r\n'
    )
    peer.replies = [chunked, chunked]
    assert send(peer.url).json() == {"a": [1, 2]}
    assert send(peer.url).json() == {"a": [1, 2]}
    assert peer.connections == 1


def test_body_until_close_is_read_whole_and_not_reused(peer: Peer, send: Send) -> None:
    peer.close_after_reply = True
    peer.replies = [b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 200_000]
    assert send(peer.url).content == b"x" * 200_000
    assert send(peer.url).json() == {"ok": True}
    assert peer.connections == 2


def test_large_length_framed_body(peer: Peer, send: Send) -> None:
    body = bytes(range(256)) * 1024  # 256 KiB: several reads
    peer.replies = [ok(body)]
    assert send(peer.url).content == body


def test_connection_close_reply_is_not_reused(peer: Peer, send: Send) -> None:
    peer.replies = [ok(b"{}", b"Connection: close\r\n"), ok()]
    send(peer.url)
    send(peer.url)
    assert peer.connections == 2


def test_idle_connection_closed_by_the_server_is_replaced(peer: Peer, send: Send) -> None:
    peer.close_after_reply = True  # every connection closes after its reply, unannounced
    for _ in range(3):
        assert send(peer.url).json() == {"ok": True}
        assert peer.closed.acquire(timeout=5)  # closed while idle in the client's pool
    assert peer.connections == 3


def test_gzip_body_is_decoded_by_httpx(peer: Peer, send: Send) -> None:
    peer.replies = [ok(gzip.compress(b'{"zipped":1}'), b"Content-Encoding: gzip\r\n")]
    assert send(peer.url).json() == {"zipped": 1}


def test_interim_100_continue_is_skipped(peer: Peer, send: Send) -> None:
    peer.replies = [b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b'{"after":100}')]
    assert send(peer.url).json() == {"after": 100}


def test_bodiless_204(peer: Peer, send: Send) -> None:
    peer.replies = [b"HTTP/1.1 204 No Content\r\n\r\n", ok()]
    assert send(peer.url).content == b""
    assert send(peer.url).json() == {"ok": True}
    assert peer.connections == 1


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (None, "Server disconnected without sending a response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{", "without sending complete"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nshort", "complete"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", "Content-Length"),
        (b"SPDY/9 200 OK\r\n\r\n", "Malformed status line"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "Malformed header line"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70_000 + b"\r\n\r\n", "too large"),
    ],
    ids=[
        "no-reply",
        "short-length",
        "short-chunk",
        "bad-chunk",
        "two-lengths",
        "status",
        "header",
        "huge-head",
    ],
)
def test_protocol_violations_raise_remote_protocol_error(
    peer: Peer, send: Send, reply: bytes | None, message: str
) -> None:
    peer.close_after_reply = True
    peer.replies = [reply]
    with pytest.raises(httpx.RemoteProtocolError, match=message):
        send(peer.url)


def test_read_timeout(peer: Peer, send: Send) -> None:
    peer.replies = [lambda request: (threading.Event().wait(1.0), ok())[1]]
    with pytest.raises(httpx.ReadTimeout):
        send(peer.url, timeout=0.2)


def test_connect_error_on_a_closed_port(send: Send) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(httpx.ConnectError):
        send(f"http://127.0.0.1:{port}")


def test_pool_limit_waits_then_times_out(peer: Peer) -> None:
    """With one connection allowed and its streamed reply still open, a second request
    waits for the pool and fails with ``PoolTimeout``; once the first is closed it goes."""
    transport = KeepAliveTransport(ssl_context=default_ssl_context(), max_connections=1)
    with httpx.Client(transport=transport, timeout=httpx.Timeout(5.0, pool=0.2)) as client:
        with client.stream("POST", peer.url, content=b"{}") as first:
            with pytest.raises(httpx.PoolTimeout):
                client.post(peer.url, content=b"{}")
            first.read()
        assert client.post(peer.url, content=b"{}").json() == {"ok": True}
    assert peer.connections == 1


def test_async_pool_limit_waits_then_times_out(peer: Peer) -> None:
    async def go() -> None:
        transport = AsyncKeepAliveTransport(ssl_context=default_ssl_context(), max_connections=1)
        timeout = httpx.Timeout(5.0, pool=0.2)
        async with httpx.AsyncClient(transport=transport, timeout=timeout) as client:
            async with client.stream("POST", peer.url, content=b"{}") as first:
                with pytest.raises(httpx.PoolTimeout):
                    await client.post(peer.url, content=b"{}")
                await first.aread()
            assert (await client.post(peer.url, content=b"{}")).json() == {"ok": True}

    asyncio.run(go())
    assert peer.connections == 1


def test_clients_use_an_environment_proxy(peer: Peer, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``HTTP_PROXY`` set, the package's own client sends through the proxy (httpx's
    transport), in absolute form; without it, straight to the origin (this transport)."""
    origin = "http://clova.invalid"
    peer.replies = [ok(b'{"status":{"code":"20000"},"result":{"embedding":[0.5],"inputTokens":1}}')]
    monkeypatch.setenv("HTTP_PROXY", peer.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert proxy_configured()
    with ClovaClient(api_key="test-key", base_url=origin, max_retries=0) as client:
        assert client.embed("hello").embedding == [0.5]
    assert peer.requests[0].startswith(b"POST http://clova.invalid/v1/api-tools/embedding/")
    monkeypatch.delenv("HTTP_PROXY")
    assert not proxy_configured()
    with (
        ClovaClient(api_key="test-key", base_url=origin, max_retries=0) as client,
        pytest.raises(APIConnectionError),  # .invalid never resolves: no proxy now
    ):
        client.embed("hello")
