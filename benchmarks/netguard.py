"""Keep every benchmarked library on the loopback emulator.

:func:`install` sets dummy credentials and offline switches in ``os.environ`` (so no library
finds a real key or a proxy) and wraps ``socket.socket.connect`` so that a connection to
anything but 127.0.0.0/8, ``::1`` or a Unix socket raises :class:`BlockedConnectionError`.
Blocked attempts are remembered and reported, so a library that silently tried to reach the
internet (a tokenizer download, telemetry) shows up in the results instead of hanging.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
from typing import Any

DUMMY_ENV: dict[str, str] = {
    # Our package and langchain-naver.
    "CLOVASTUDIO_API_KEY": "test-key",
    # langchain-community (legacy two-header keys; the emulator accepts this pair).
    "NCP_CLOVASTUDIO_API_KEY": "test-key",
    "NCP_APIGW_API_KEY": "test-gateway-key",
    # ChatOpenAI / OpenAILike.
    "OPENAI_API_KEY": "test-key",
    # No tracing, no telemetry, no hub downloads.
    "LANGSMITH_TRACING": "false",
    "LANGCHAIN_TRACING_V2": "false",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "false",
    "NO_PROXY": "127.0.0.1,localhost,::1",
}

_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")

_lock = threading.Lock()
_blocked: list[str] = []
_state = {"installed": False}


class BlockedConnectionError(OSError):
    """A benchmarked library tried to leave the machine."""


def _is_local(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0] if isinstance(address, tuple) and address else None
    if not isinstance(host, str):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def offline_env() -> dict[str, str]:
    """A copy of the environment with the dummy keys set and proxies removed (subprocesses)."""
    env = {key: value for key, value in os.environ.items() if key not in _PROXY_VARS}
    env.update(DUMMY_ENV)
    return env


def install() -> None:
    """Set the dummy environment and the loopback-only connect guard (idempotent)."""
    for name in _PROXY_VARS:
        os.environ.pop(name, None)
    os.environ.update(DUMMY_ENV)
    with _lock:
        if _state["installed"]:
            return
        _state["installed"] = True
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> None:
        _check(address)
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _check(address)
        return original_connect_ex(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]


def _check(address: Any) -> None:
    if _is_local(address):
        return
    with _lock:
        _blocked.append(repr(address))
    raise BlockedConnectionError(f"benchmark network guard: blocked connection to {address!r}")


def blocked_attempts() -> list[str]:
    """Addresses that something tried to connect to and was refused."""
    with _lock:
        return list(_blocked)
