"""HTTP/1.1 pieces shared by the keep-alive transports (:mod:`clova_core.keepalive`,
:mod:`clova_core.keepalive_async`).

The request head, the response head and how a response body is framed (RFC 9112 section 6),
plus the small httpx glue both transports use. Protocol violations raise
:class:`httpx.RemoteProtocolError`, the error httpx's own transport raises for them, so the
layers above see no difference.
"""

from __future__ import annotations

import select
import sys
import urllib.request
from dataclasses import dataclass
from typing import Any, Literal

import httpx

MAX_HEAD_BYTES = 64 * 1024
"""A response head longer than this is refused (httpx's h11 allows 64 KiB as well)."""
READ_CHUNK = 64 * 1024

DEFAULT_MAX_CONNECTIONS = 100
"""As httpx's default pool."""
DEFAULT_MAX_IDLE_PER_ORIGIN = 32

Framing = Literal["length", "chunked", "close"]
Origin = tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class ResponseHead:
    """A parsed status line and header block."""

    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    framing: Framing
    length: int
    """Body bytes when ``framing`` is ``"length"`` (0 for bodiless replies)."""
    keep_alive: bool
    """The connection may carry another request once this body is read to its end."""


def request_head(request: httpx.Request, body: bytes) -> bytes:
    """Request line, headers and (framed) body, ready for one ``sendall``.

    httpx has already added ``Host`` and ``Content-Length`` (or ``Transfer-Encoding:
    chunked`` for a streamed body, which is sent here as one chunk)."""
    parts = [request.method.encode("ascii"), b" ", request.url.raw_path, b" HTTP/1.1\r\n"]
    chunked = False
    for name, value in request.headers.raw:
        if name.lower() == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        parts += [name, b": ", value, b"\r\n"]
    parts.append(b"\r\n")
    if chunked:
        parts += [b"%x\r\n" % len(body), body, b"\r\n"] if body else []
        parts.append(b"0\r\n\r\n")
    else:
        parts.append(body)
    return b"".join(parts)


def protocol_error(message: str, request: httpx.Request) -> httpx.RemoteProtocolError:
    return httpx.RemoteProtocolError(message, request=request)


def parse_head(head: bytes, method: str, request: httpx.Request) -> ResponseHead:
    """The status line and headers of ``head`` (which ends with an empty line)."""
    lines = head.split(b"\r\n")
    version, _, rest = lines[0].partition(b" ")
    code, _, reason = rest.partition(b" ")
    if version not in (b"HTTP/1.1", b"HTTP/1.0") or len(code) != 3 or not code.isdigit():
        raise protocol_error(f"Malformed status line: {lines[0][:100]!r}", request)
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip() or line[:1] in (b" ", b"\t"):
            raise protocol_error(f"Malformed header line: {line[:100]!r}", request)
        headers.append((name, value.strip(b" \t")))
    status = int(code)
    framing, length = _framing(method, status, headers, request)
    connection = b",".join(v.lower() for n, v in headers if n.lower() == b"connection")
    if version == b"HTTP/1.1":
        keep_alive = b"close" not in connection
    else:
        keep_alive = b"keep-alive" in connection
    return ResponseHead(
        status=status,
        reason=reason,
        headers=headers,
        framing=framing,
        length=length,
        keep_alive=keep_alive and framing != "close",
    )


def _framing(
    method: str, status: int, headers: list[tuple[bytes, bytes]], request: httpx.Request
) -> tuple[Framing, int]:
    """RFC 9112 6.3: no body, chunked, a length, or everything until the connection closes."""
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return "length", 0
    encodings = [v.lower() for n, v in headers if n.lower() == b"transfer-encoding"]
    if encodings:
        last = b",".join(encodings).split(b",")[-1].strip()
        return ("chunked", 0) if last == b"chunked" else ("close", 0)
    lengths = {v for n, v in headers if n.lower() == b"content-length"}
    if not lengths:
        return "close", 0
    if len(lengths) > 1 or not all(value.isdigit() for value in lengths):
        raise protocol_error(f"Bad Content-Length: {sorted(lengths)!r}", request)
    return "length", int(lengths.pop())


def chunk_size(line: bytes, request: httpx.Request) -> int:
    """The size on a chunk-size line (extensions after ``;`` ignored)."""
    digits = line.split(b";", 1)[0].strip()
    try:
        return int(digits, 16)
    except ValueError:
        raise protocol_error(f"Malformed chunk size line: {line[:100]!r}", request) from None


def incomplete_body(request: httpx.Request) -> httpx.RemoteProtocolError:
    return protocol_error("peer closed connection without sending complete message body", request)


def no_response(request: httpx.Request) -> httpx.RemoteProtocolError:
    return protocol_error("Server disconnected without sending a response.", request)


def proxy_configured() -> bool:
    """``HTTP(S)_PROXY`` / ``ALL_PROXY`` is set: only httpx's own transport honours it, so
    the package's clients then keep httpx's transport."""
    proxies = urllib.request.getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))


def httpx_transport_replaced(*, asynchronous: bool) -> bool:
    """Whether a test tool has replaced httpx's own transport (or httpcore's pool) with its
    recorder or mock: vcrpy and pytest-httpx patch ``httpx.HTTPTransport.handle_request``
    (and the async twin), respx patches httpcore's pools. They never see a transport of
    ours, so the package's transports then hand the request to httpx's, where they do.
    Checked per request (tools patch inside a test, after clients were built): a few
    attribute reads."""
    if asynchronous:
        method: object = httpx.AsyncHTTPTransport.handle_async_request
    else:
        method = httpx.HTTPTransport.handle_request
    if not _defined_in(method, "httpx"):
        return True
    httpcore = sys.modules.get("httpcore")  # not imported: nobody can have patched it
    if httpcore is None:
        return False
    if asynchronous:
        return not _defined_in(httpcore.AsyncConnectionPool.handle_async_request, "httpcore")
    return not _defined_in(httpcore.ConnectionPool.handle_request, "httpcore")


def _defined_in(function: object, package: str) -> bool:
    """``function`` is ``package``'s own: defined there and not a wrapper of it (vcrpy's
    stubs copy the name and module of what they wrap, and keep it as ``__wrapped__``)."""
    module = getattr(function, "__module__", None)
    if not isinstance(module, str) or hasattr(function, "__wrapped__"):
        return False
    return module == package or module.startswith(f"{package}.")


def origin_of(request: httpx.Request) -> Origin:
    """``(scheme, host, port)``: the key of a connection pool."""
    url = request.url
    if url.scheme not in ("http", "https"):
        raise httpx.UnsupportedProtocol(f"Unsupported URL scheme {url.scheme!r}", request=request)
    return url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80)


def timeouts_of(request: httpx.Request) -> dict[str, float | None]:
    """httpx's ``timeout`` extension: ``connect`` / ``read`` / ``write`` / ``pool`` seconds."""
    timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
    return timeouts


def to_response(
    head: ResponseHead, stream: httpx.SyncByteStream | httpx.AsyncByteStream
) -> httpx.Response:
    """The httpx response for ``head`` whose body ``stream`` reads from the connection."""
    return httpx.Response(
        head.status,
        headers=head.headers,
        stream=stream,
        extensions={"http_version": b"HTTP/1.1", "reason_phrase": head.reason},
    )


def readable(sock: Any) -> bool:
    """Whether ``sock`` (idle, so nothing is expected on it) has data or an EOF waiting."""
    try:
        if hasattr(select, "poll"):  # no descriptor-number limit, unlike select()
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True
