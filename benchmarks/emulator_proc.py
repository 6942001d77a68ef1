"""The emulator in its own process, driven over a pipe.

The emulator is pure Python; running it in the benchmark's own process would make the
server's threads and the client under test share one GIL, and every stack's figure would
include contention with the server. Here the server gets its own interpreter (and, on this
2-core machine, its own core), and the benchmark talks to it through a small command pipe:
configure knobs, reset (fresh rate-limit window and request log), queue scripted replies,
read the status counts of the request log (429s provoked) and the process's CPU time.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import time
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from benchmarks import netguard

SERVER_SWITCH_INTERVAL = 0.0002


@dataclass(frozen=True)
class RequestCounts:
    """What the emulator's request log holds since the last reset."""

    total: int
    by_status: dict[int, int]

    @property
    def rate_limited(self) -> int:
        """429 answers provoked."""
        return self.by_status.get(429, 0)


def _serve(conn: Connection, knobs: dict[str, Any]) -> None:
    netguard.install()
    # The server answers from one thread per connection; with the default 5 ms GIL switch
    # interval a thread woken from the latency sleep can wait milliseconds for the GIL
    # behind one that is encoding a reply. A short interval keeps the emulator's own
    # queueing out of the concurrent figures (the client side keeps Python's default).
    sys.setswitchinterval(SERVER_SWITCH_INTERVAL)
    from clova_emulator import Emulator

    with Emulator(**knobs) as emu:
        conn.send(emu.base_url)
        while True:
            command, argument = conn.recv()
            if command == "stop":
                conn.send(None)
                return
            if command == "reset":
                emu.reset()
                if argument:
                    emu.configure(**argument)
                conn.send(None)
            elif command == "configure":
                emu.configure(**argument)
                conn.send(None)
            elif command == "script":
                emu.script(*argument)
                conn.send(None)
            elif command == "clear_script":
                emu.clear_script()
                conn.send(None)
            elif command == "counts":
                statuses = Counter(record.status or 0 for record in emu.requests)
                conn.send((sum(statuses.values()), dict(statuses)))
            elif command == "server_errors":
                conn.send(emu.server_errors)
            elif command == "cpu":
                conn.send(time.process_time())
            else:
                conn.send(ValueError(f"unknown command {command!r}"))


class EmulatorProcess:
    """``with EmulatorProcess(latency=0.0) as emu: emu.base_url ...``"""

    def __init__(self, **knobs: Any) -> None:
        self._knobs = knobs
        self._process: Any = None
        self._conn: Connection | None = None
        self.base_url = ""

    @property
    def openai_base_url(self) -> str:
        """The OpenAI-compatible API base (``/v1/openai``)."""
        return f"{self.base_url}/v1/openai"

    def start(self) -> EmulatorProcess:
        context = mp.get_context("spawn")
        parent, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, self._knobs), name="clova-emulator", daemon=True
        )
        self._process.start()
        self._conn = parent
        if not parent.poll(60):
            raise RuntimeError("the emulator process did not start within 60 s")
        self.base_url = parent.recv()
        return self

    def _call(self, command: str, argument: Any = None) -> Any:
        if self._conn is None:
            raise RuntimeError("the emulator process is not running")
        self._conn.send((command, argument))
        reply = self._conn.recv()
        if isinstance(reply, Exception):
            raise reply
        return reply

    def reset(self, **knobs: Any) -> None:
        """Constructor knobs back, request log and rate windows cleared, then ``knobs``."""
        self._call("reset", knobs)

    def configure(self, **knobs: Any) -> None:
        """Change knobs for the following requests."""
        self._call("configure", knobs)

    def script(self, *items: Any) -> None:
        """Queue scripted replies (``clova_emulator.ScriptedReply`` ...)."""
        self._call("script", items)

    def clear_script(self) -> None:
        """Drop the scripted replies not used."""
        self._call("clear_script")

    def counts(self) -> RequestCounts:
        """Requests and statuses logged since the last reset."""
        total, by_status = self._call("counts")
        return RequestCounts(total=total, by_status=by_status)

    def cpu_seconds(self) -> float:
        """CPU time the emulator process has used so far (all its threads)."""
        seconds: float = self._call("cpu")
        return seconds

    def server_errors(self) -> list[str]:
        """Unexpected exceptions inside the emulator (should be none)."""
        errors: list[str] = self._call("server_errors")
        return errors

    def stop(self) -> None:
        if self._conn is not None:
            try:
                self._call("stop")
            finally:
                self._conn.close()
                self._conn = None
        if self._process is not None:
            self._process.join(timeout=10)
            if self._process.is_alive():
                self._process.terminate()
            self._process = None

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
