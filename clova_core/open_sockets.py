"""The sockets a sync client's own connection pool opened, so ``close()`` can wake the calls
blocked on them.

Closing an :class:`httpx.Client` closes its pooled connections, but a thread blocked reading a
reply keeps its socket open until the read returns or times out: on Linux, closing a file
descriptor does not wake a ``recv`` blocked on it in another thread. So
:meth:`~clova_core.client.ClovaClient.close` also shuts down every socket its own pool opened,
and the blocked calls fail at once with a connection error. The sockets are learnt through
httpcore's documented ``trace`` request extension; async clients need none of this (closing
cancels their reads).
"""

from __future__ import annotations

import socket
import threading
import weakref
from collections.abc import Mapping
from contextlib import suppress
from typing import Any

_OPENED = frozenset({"connection.connect_tcp.complete", "connection.start_tls.complete"})


class OpenSockets:
    """A ``trace`` callback that remembers opened network streams (weakly) and can shut
    every one of them down."""

    def __init__(self) -> None:
        self._streams: weakref.WeakSet[Any] = weakref.WeakSet()
        self._lock = threading.Lock()

    def trace(self, event: str, info: Mapping[str, Any]) -> None:
        """httpcore's ``trace`` extension: called for each connection event."""
        if event in _OPENED and (stream := info.get("return_value")) is not None:
            with self._lock:
                self._streams.add(stream)

    def shutdown(self) -> None:
        """Shut down (both directions) every socket still open; idempotent."""
        with self._lock:
            streams = list(self._streams)
            self._streams.clear()
        for stream in streams:
            sock = stream.get_extra_info("socket")
            if isinstance(sock, socket.socket):
                with suppress(OSError):  # already closed, or detached by the TLS wrap
                    sock.shutdown(socket.SHUT_RDWR)
