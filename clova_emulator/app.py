"""The public :class:`Emulator`: start/stop, knobs, script, tasks and the request log."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from clova_emulator.faults import Knobs
from clova_emulator.limits import ChatModelLike, ChatModelSpec
from clova_emulator.observe import DEFAULT_REQUEST_LOG_SIZE, RequestRecord, Stats
from clova_emulator.scripting import ScriptItem
from clova_emulator.serving.server import EmulatorHTTPServer
from clova_emulator.state import EmulatorState

DEFAULT_READ_TIMEOUT = 5.0
"""Seconds a connection waits for the client's next bytes before it is closed."""


def _coerce(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Accept friendly types for collection knobs (lists, sets, dicts)."""
    values = dict(changes)
    if "keys" in values:
        keys = values["keys"]
        values["keys"] = frozenset([keys] if isinstance(keys, str) else keys)
    if "legacy_keys" in values:
        values["legacy_keys"] = frozenset(tuple(pair) for pair in values["legacy_keys"])
    if "error_rates" in values:
        values["error_rates"] = dict(values["error_rates"] or {})
    return values


class Emulator:
    """A local CLOVA Studio server on ``host:port`` (``port=0`` picks a free one).

    ``knobs`` (or keyword overrides of its fields, e.g. ``latency=0.1``) set the behaviour;
    ``tasks`` maps tuned task ids to base models; ``models`` adds chat model specs (a
    :class:`~clova_emulator.limits.ChatModelSpec`, or one from the client package's
    ``custom_chat_model(...)``) to the registry the emulator serves.

    ``read_timeout`` (seconds, ``None`` for none) is the longest a connection waits for the
    client's next bytes (or for a stalled client to take reply bytes) before it is closed;
    ``request_log_size`` is how many recent requests :attr:`requests` keeps.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        knobs: Knobs | None = None,
        tasks: Mapping[str, str] | None = None,
        models: Iterable[ChatModelLike] = (),
        verbose: bool = False,
        read_timeout: float | None = DEFAULT_READ_TIMEOUT,
        request_log_size: int = DEFAULT_REQUEST_LOG_SIZE,
        **overrides: Any,
    ) -> None:
        base = dataclasses.replace(knobs or Knobs(), **_coerce(overrides))
        if read_timeout is not None and not read_timeout > 0:
            raise ValueError(
                f"read_timeout must be a positive number of seconds or None, got {read_timeout}"
            )
        self._host = host
        self._requested_port = port
        self._verbose = verbose
        self._read_timeout = read_timeout
        specs = [ChatModelSpec.of(spec) for spec in models]
        self._state = EmulatorState(
            base,
            tasks=tasks,
            models={spec.name: spec for spec in specs},
            request_log_size=request_log_size,
        )
        for task_base in (tasks or {}).values():
            if task_base not in self._state.registry:
                raise ValueError(f"unknown base model {task_base!r}")
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -----------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Bind and serve in a daemon thread; returns ``self``."""
        if self._server is not None:
            return self
        server = EmulatorHTTPServer(
            (self._host, self._requested_port),
            self._state,
            verbose=self._verbose,
            read_timeout=self._read_timeout,
        )
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"clova-emulator-{server.server_address[1]}",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket (idempotent)."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._server is not None

    @property
    def host(self) -> str:
        """The bound host."""
        return self._host

    @property
    def port(self) -> int:
        """The bound port (the real one when ``port=0`` was asked)."""
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() or use `with`")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://host:port``: the native API base URL (``CLOVASTUDIO_API_BASE_URL``)."""
        return f"http://{self._host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """``http://host:port/v1/openai``: the OpenAI SDK ``base_url``."""
        return f"{self.base_url}/v1/openai"

    # knobs, script, tasks ---------------------------------------------------------------------

    @property
    def knobs(self) -> Knobs:
        """The knobs in force now."""
        return self._state.knobs

    def configure(self, **changes: Any) -> Knobs:
        """Change knobs for the following requests (``reset()`` restores the constructor's)."""
        return self._state.configure(**_coerce(changes))

    def reset(self) -> None:
        """Constructor knobs and tasks back; script, request log, rate windows, dice cleared."""
        self._state.reset()

    def script(self, *items: ScriptItem) -> None:
        """Queue scripted replies / errors / disconnects / embeddings (FIFO)."""
        self._state.script.push(items)

    def clear_script(self) -> None:
        """Drop every queued script item."""
        self._state.script.clear()

    @property
    def pending_script(self) -> list[ScriptItem]:
        """Script items not consumed yet."""
        return self._state.script.pending()

    def register_task(self, task_id: str, base_model: str = "HCX-003") -> None:
        """Serve ``task_id`` as a tuned task of ``base_model`` (v1/v2 paths for v1 models,
        ``/v3/tasks/...`` for v3 models)."""
        self._state.register_task(task_id, base_model)

    # observability ----------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """The most recent received requests (up to ``request_log_size``), oldest first (a
        copy; credentials never stored)."""
        return self._state.log.snapshot()

    @property
    def stats(self) -> Stats:
        """Counts per path, status and outcome over :attr:`requests`."""
        return self._state.log.stats()

    def clear_requests(self) -> None:
        """Forget the request log."""
        self._state.log.clear()

    @property
    def server_errors(self) -> list[str]:
        """Tracebacks of unexpected exceptions inside the emulator (should stay empty)."""
        return self._state.server_errors()

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "stopped"
        return f"Emulator({where})"
