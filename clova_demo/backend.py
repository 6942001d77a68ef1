"""Where the demo sends its requests: CLOVA Studio with a key, the bundled emulator without."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from clova_core.constants import DEFAULT_BASE_URL, ENV_API_KEY, ENV_BASE_URL
from clova_emulator import Emulator

EMULATOR_KEY = "test-key"
EMULATOR_URL_VARIABLE = "CLOVA_EMULATOR_URL"


@dataclass(frozen=True)
class Backend:
    base_url: str
    api_key: str = field(repr=False)
    emulated: bool = True

    def describe(self) -> str:
        if self.emulated:
            return (
                f"Backend: bundled CLOVA Studio EMULATOR at {self.base_url} "
                f"({ENV_API_KEY} is not set; answers are deterministic, offline)"
            )
        return f"Backend: CLOVA Studio at {self.base_url} (key from {ENV_API_KEY})"


def unreachable_reason(base_url: str, timeout: float = 10.0) -> str | None:
    """Why ``base_url`` cannot be reached (no route, DNS, refused, TLS), or ``None`` when it
    answers at all. One HEAD request without the key, through httpx as the clients go (so
    proxy variables count), made before any job starts so a failure prints nothing else."""
    try:
        httpx.request("HEAD", base_url, timeout=timeout)
    except httpx.TransportError as error:
        return root_reason(error)
    return None


def root_reason(error: BaseException) -> str:
    """The innermost cause of ``error``, e.g. ``[Errno 111] Connection refused``."""
    root = error
    while root.__cause__ is not None:
        root = root.__cause__
    return str(root) or type(root).__name__


def unreachable_message(backend: Backend, reason: str) -> str:
    """One line for a service that cannot be reached: what failed and the two ways out."""
    return (
        f"cannot reach CLOVA Studio at {backend.base_url} ({reason}). Check the network and "
        f"{ENV_BASE_URL}, or unset {ENV_API_KEY} to run the demo against the bundled emulator."
    )


@contextmanager
def connect(token_delay: float = 0.01) -> Iterator[Backend]:
    """Yield the backend; start (and stop) the emulator when no API key is set."""
    key = os.environ.get(ENV_API_KEY)
    if key:
        yield Backend(os.environ.get(ENV_BASE_URL, DEFAULT_BASE_URL), key, emulated=False)
        return
    with Emulator(token_delay=token_delay) as emulator:
        yield Backend(emulator.base_url, EMULATOR_KEY, emulated=True)


_process_emulator: list[Emulator] = []


def activate() -> Backend:
    """For notebooks and scripts: make ``CLOVASTUDIO_API_KEY`` / ``CLOVASTUDIO_API_BASE_URL``
    point at a backend and return it.

    With a key in the environment nothing changes (CLOVA Studio). Without one, the emulator
    named by ``CLOVA_EMULATOR_URL`` (set by the test suite) is used, or one is started for
    the rest of the process.
    """
    key = os.environ.get(ENV_API_KEY)
    if key:
        return Backend(os.environ.get(ENV_BASE_URL, DEFAULT_BASE_URL), key, emulated=False)
    url = os.environ.get(EMULATOR_URL_VARIABLE)
    if not url:
        if not _process_emulator:
            _process_emulator.append(Emulator(token_delay=0.01).start())
        url = _process_emulator[0].base_url
    os.environ[ENV_API_KEY] = EMULATOR_KEY
    os.environ[ENV_BASE_URL] = url
    return Backend(url, EMULATOR_KEY, emulated=True)
