"""Helpers for the reliability tests: fault settings, request-log accounting, leak counters.

Everything runs through the real wire path: the emulator on 127.0.0.1 (whose request log is
the evidence) or ``httpx.MockTransport``. Nothing here patches the package.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import psutil  # type: ignore[import-untyped]

from clova_core.retry import RetryPolicy
from clova_emulator import Knobs, RequestRecord

T = TypeVar("T")

KEY = "test-key"
NO_WAIT = RetryPolicy(initial_delay=0.0, max_delay=0.0)
"""Backoff of zero: 500s and resets are retried at once (429s follow ``Retry-After: 0``)."""

FAULTS: Mapping[str, Any] = {
    "error_rates": {429: 0.10, 500: 0.05},
    "reset_rate": 0.02,
    "fault_retry_after": 0,
    "latency": 0.0,
}
"""10% of requests answer 429 with ``Retry-After: 0``, 5% answer 500, 2% reset the connection.

The emulator rolls the reset first and then the statuses in order, so one attempt fails with
probability ``p = 0.02 + 0.98 * (0.10 + 0.90 * 0.05) = 0.1621``."""
FAILURE_PROBABILITY = 0.02 + 0.98 * (0.10 + 0.90 * 0.05)
FAULT_RETRIES = 6
"""A call fails for good only if all 7 attempts fail: ``p**7 = 2.9e-6`` per call, so about
0.006 expected failures over 2,000 calls (with the default 2 retries: ``p**3 * 2000 = 8.5``)."""


class Configurable(Protocol):
    def configure(self, **changes: Any) -> Knobs: ...


def faulty(emu: Configurable, seed: int) -> None:
    """Turn on :data:`FAULTS` with a fixed dice seed (an in-process or a remote emulator)."""
    emu.configure(**FAULTS, fault_seed=seed)


@dataclass(frozen=True)
class RetryAccount:
    """What the request log says about a batch of calls."""

    calls: int
    attempts: int
    by_failure: Mapping[str, int]

    @property
    def retries(self) -> int:
        return self.attempts - self.calls


def _failure_kind(record: RequestRecord) -> str | None:
    if record.outcome == "reset":
        return "reset"
    if record.status in (429, 500, 503):
        return str(record.status)
    return None


def account_retries(records: Iterable[RequestRecord], *, calls: int) -> RetryAccount:
    """Prove from the emulator's log that only retries were repeated.

    Grouped by ``X-NCP-CLOVASTUDIO-REQUEST-ID``: there are exactly ``calls`` ids; each id's
    attempts are its injected failures followed by exactly one success (HTTP 200), so no
    request was sent twice beyond its retries and none was retried after it succeeded.
    """
    by_id: dict[str | None, list[RequestRecord]] = {}
    for record in records:
        by_id.setdefault(record.request_id, []).append(record)
    assert None not in by_id, "a request arrived without a request id"
    assert len(by_id) == calls, f"{len(by_id)} distinct request ids for {calls} calls"
    kinds: Counter[str] = Counter()
    attempts = 0
    for request_id, tries in by_id.items():
        *failures, last = tries
        assert last.status == 200, f"{request_id}: last attempt {last.status} {last.outcome}"
        for failure in failures:
            kind = _failure_kind(failure)
            assert kind is not None, f"{request_id}: a repeated attempt after {failure.status}"
            kinds[kind] += 1
        attempts += len(tries)
    return RetryAccount(calls=calls, attempts=attempts, by_failure=dict(kinds))


# --- leaks ---------------------------------------------------------------------------------


def open_sockets() -> int:
    """Socket file descriptors of this process (client and emulator sides together)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:
            continue
    return count


def client_connections(port: int) -> int:
    """Open TCP connections from this process to ``port`` (the client side only)."""
    return sum(
        1
        for conn in psutil.Process().net_connections(kind="tcp")
        if conn.raddr and conn.raddr.port == port and conn.status != psutil.CONN_TIME_WAIT
    )


def settle(measure: Callable[[], T], accept: Callable[[T], bool], timeout: float = 5.0) -> T:
    """Poll ``measure`` until ``accept`` holds or ``timeout`` passes; return the last value.

    The emulator's handler threads notice a closed connection on their own schedule, so
    process-wide counts need a moment to come back (a bound, not a speed assertion).
    """
    deadline = time.monotonic() + timeout
    value = measure()
    while not accept(value) and time.monotonic() < deadline:
        time.sleep(0.02)
        value = measure()
    return value


@dataclass(frozen=True)
class Baseline:
    """Sockets and threads before a test; :meth:`assert_back` waits for them to return."""

    sockets: int
    threads: int

    @classmethod
    def take(cls) -> Baseline:
        return cls(sockets=open_sockets(), threads=threading.active_count())

    def assert_back(self, timeout: float = 5.0) -> None:
        sockets = settle(open_sockets, lambda n: n <= self.sockets, timeout)
        threads = settle(threading.active_count, lambda n: n <= self.threads, timeout)
        assert sockets <= self.sockets, f"{sockets - self.sockets} socket(s) left open"
        alive = [thread.name for thread in threading.enumerate()]
        assert threads <= self.threads, f"{threads - self.threads} thread(s) left: {alive}"


def run_with_timeout(function: Callable[[], T], timeout: float = 5.0) -> T | BaseException:
    """Run ``function`` in a thread; its result or exception, or fail if it hangs."""
    outcome: list[T | BaseException] = []

    def target() -> None:
        try:
            outcome.append(function())
        except BaseException as error:  # the test inspects whatever was raised
            outcome.append(error)

    thread = threading.Thread(target=target, name="bounded-case", daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"still running after {timeout} s (a hang)"
    return outcome[0]
