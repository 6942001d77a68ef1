"""``python -m clova_emulator`` / ``clova-emulator``: run the emulator until Ctrl-C.

Every failure the user can cause (a bad value, a port in use, an address that cannot be
bound) ends with one line on stderr that says what went wrong and what to do, and a
non-zero exit status (2 for bad arguments, 1 when the server cannot start). Ctrl-C stops
the server cleanly: one ``stopped`` line on stderr, exit status 0.
"""

from __future__ import annotations

import argparse
import errno
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from clova_emulator.app import DEFAULT_READ_TIMEOUT, Emulator
from clova_emulator.faults import RateSetting
from clova_emulator.observe import DEFAULT_REQUEST_LOG_SIZE

PROG = "clova-emulator"


class _Parser(argparse.ArgumentParser):
    """``argparse`` with one-line errors (no usage block) that point to ``--help``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _number(
    kind: Callable[[str], Any], what: str, accept: Callable[[Any], bool]
) -> Callable[[str], Any]:
    """An argparse ``type`` converting with ``kind`` and checking ``accept``."""

    def convert(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    return convert


_PORT = _number(
    int, "a port number from 0 to 65535 (0 picks a free one)", lambda v: 0 <= v <= 65535
)
_SECONDS = _number(float, "a number of seconds >= 0", lambda v: v >= 0)
_POSITIVE_SECONDS = _number(float, "a number of seconds > 0", lambda v: v > 0)
_PROBABILITY = _number(float, "a probability from 0 to 1", lambda v: 0 <= v <= 1)
_COUNT = _number(int, "a whole number >= 0", lambda v: v >= 0)
_POSITIVE_COUNT = _number(int, "a whole number >= 1", lambda v: v >= 1)


def _rate_value(text: str) -> str:
    """One ``--qpm`` / ``--tpm`` value: ``N``, ``documented`` or ``MODEL=N``."""
    _, _, number = text.rpartition("=")
    if text == "documented" or (number.isascii() and number.isdigit() and not text.startswith("=")):
        return text
    raise argparse.ArgumentTypeError(
        f"expected a whole number, 'documented' or MODEL=N (for example HCX-005=60), got {text!r}"
    )


def _pair(separator: str, example: str) -> Callable[[str], tuple[str, str]]:
    def convert(text: str) -> tuple[str, str]:
        left, found, right = text.partition(separator)
        if not (found and left and right):
            raise argparse.ArgumentTypeError(f"expected {example}, got {text!r}")
        return left, right

    return convert


def _error_rate(text: str) -> tuple[int, float]:
    status, rate = _pair("=", "STATUS=P (for example 429=0.1)")(text)
    if status not in ("429", "500", "503"):
        raise argparse.ArgumentTypeError(f"the status must be 429, 500 or 503, got {text!r}")
    return int(status), _PROBABILITY(rate)


def _rate(values: list[str] | None) -> RateSetting:
    """``--qpm 60`` (every model), ``--qpm documented``, ``--qpm HCX-005=60 --qpm '*=10'``."""
    if not values:
        return None
    if values == ["documented"]:
        return "documented"
    if len(values) == 1 and "=" not in values[0]:
        return int(values[0])
    if not all("=" in value for value in values):
        raise argparse.ArgumentTypeError(
            "give either one value (N or documented) or MODEL=N values (use '*=N' for the rest)"
        )
    limits: dict[str, int] = {}
    for value in values:
        name, _, number = value.rpartition("=")
        limits[name] = int(number)
    return limits


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = _Parser(
        prog=PROG,
        description="A local CLOVA Studio emulator (see clova_emulator).",
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    add("--port", type=_PORT, default=8080, help="port (0 picks a free one; default 8080)")
    add("--keys", default="test-key", help="comma-separated accepted Bearer keys")
    add(
        "--legacy-key",
        action="append",
        type=_pair(":", "API_KEY:GATEWAY_KEY"),
        metavar="API_KEY:GATEWAY_KEY",
        help="accepted legacy key pair (repeatable; default test-key:test-gateway-key)",
    )
    add("--latency", type=_SECONDS, default=0.0, help="seconds before each reply")
    add("--token-delay", type=_SECONDS, default=0.0, help="seconds before each streamed token")
    add("--qpm", action="append", type=_rate_value, help="N, documented, or MODEL=N (repeatable)")
    add("--tpm", action="append", type=_rate_value, help="N, documented, or MODEL=N (repeatable)")
    add("--rate-window", type=_POSITIVE_SECONDS, default=60.0, help="rate-limit window (s)")
    add(
        "--error-rate",
        action="append",
        type=_error_rate,
        metavar="STATUS=P",
        help="inject 429/500/503 with probability P (repeatable)",
    )
    add("--fault-seed", type=int, default=0, help="seed of the fault dice")
    add(
        "--fault-retry-after",
        type=_SECONDS,
        default=None,
        help="Retry-After seconds on injected 429/503 replies",
    )
    add("--reset-rate", type=_PROBABILITY, default=0.0, help="probability of a connection reset")
    add("--cut-stream-after", type=_COUNT, default=None, help="cut every stream after N events")
    add("--malformed-rate", type=_PROBABILITY, default=0.0, help="probability of a bad body")
    add("--created-unit", choices=("ms", "s"), default="ms")
    add("--stop-reason-case", choices=("lower", "upper"), default="lower")
    add("--sse-space", action="store_true", help="write 'data: ...' instead of 'data:...'")
    add("--done-signal", action="store_true", help="send a trailing signal [DONE] event")
    add(
        "--task",
        action="append",
        type=_pair("=", "TASK_ID=BASE_MODEL"),
        metavar="TASK_ID=BASE_MODEL",
        help="register a tuned task",
    )
    add(
        "--read-timeout",
        type=_POSITIVE_SECONDS,
        default=DEFAULT_READ_TIMEOUT,
        help=f"close a connection whose client sends nothing for this long "
        f"(seconds; default {DEFAULT_READ_TIMEOUT:g})",
    )
    add(
        "--request-log-size",
        type=_POSITIVE_COUNT,
        default=DEFAULT_REQUEST_LOG_SIZE,
        help=f"recent requests kept for --verbose and tests (default {DEFAULT_REQUEST_LOG_SIZE})",
    )
    add("--verbose", action="store_true", help="log request lines to stderr")
    return parser


def knobs_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Constructor keywords for :class:`Emulator` from parsed arguments."""
    knobs: dict[str, Any] = {
        "keys": frozenset(key.strip() for key in args.keys.split(",") if key.strip()),
        "latency": args.latency,
        "token_delay": args.token_delay,
        "qpm": _rate(args.qpm),
        "tpm": _rate(args.tpm),
        "rate_window": args.rate_window,
        "error_rates": dict(args.error_rate or []),
        "fault_seed": args.fault_seed,
        "fault_retry_after": args.fault_retry_after,
        "reset_rate": args.reset_rate,
        "cut_stream_after": args.cut_stream_after,
        "malformed_rate": args.malformed_rate,
        "created_unit": args.created_unit,
        "stop_reason_case": args.stop_reason_case,
        "sse_space": args.sse_space,
        "done_signal": args.done_signal,
    }
    if args.legacy_key:
        knobs["legacy_keys"] = frozenset(args.legacy_key)
    return knobs


def _fail(status: int, message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)
    return status


def _bind_problem(error: OSError, host: str, port: int) -> str:
    """What went wrong binding ``host:port``, and what to do about it."""
    if error.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use; stop the other server or choose "
            "another port with --port (--port 0 picks a free one)"
        )
    if error.errno == errno.EACCES:
        return (
            f"not allowed to listen on port {port} of {host}; choose a port above 1023 with --port"
        )
    reason = error.strerror or str(error)
    return f"cannot listen on {host}:{port} ({reason}); check --host and --port"


def main(argv: Sequence[str] | None = None) -> int:
    """Run until interrupted; prints the base URL first."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        emulator = Emulator(
            host=args.host,
            port=args.port,
            tasks=dict(args.task or []),
            verbose=args.verbose,
            read_timeout=args.read_timeout,
            request_log_size=args.request_log_size,
            **knobs_from_args(args),
        )
    except (ValueError, argparse.ArgumentTypeError) as error:
        return _fail(2, f"{error} (see {PROG} --help)")
    try:
        emulator.start()
    except OSError as error:
        return _fail(1, _bind_problem(error, args.host, args.port))
    try:
        print(f"CLOVA Studio emulator listening on {emulator.base_url}", flush=True)
        print(f"OpenAI-compatible base URL: {emulator.openai_base_url}", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    print(f"{PROG}: stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
