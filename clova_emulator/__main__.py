"""``python -m clova_emulator`` / ``clova-emulator``: run the emulator until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence
from typing import Any

from clova_emulator.app import Emulator
from clova_emulator.faults import RateSetting


def _rate(values: list[str] | None) -> RateSetting:
    """``--qpm 60`` (every model), ``--qpm documented``, ``--qpm HCX-005=60 --qpm '*=10'``."""
    if not values:
        return None
    if values == ["documented"]:
        return "documented"
    if len(values) == 1 and "=" not in values[0]:
        return int(values[0])
    limits: dict[str, int] = {}
    for value in values:
        name, _, number = value.partition("=")
        limits[name] = int(number)
    return limits


def _pairs(values: list[str] | None, separator: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for value in values or []:
        left, found, right = value.partition(separator)
        if not found:
            raise SystemExit(f"expected A{separator}B, got {value!r}")
        pairs.append((left, right))
    return pairs


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="clova-emulator",
        description="A local CLOVA Studio emulator (see clova_emulator).",
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    add("--port", type=int, default=8080, help="port (0 picks a free one; default 8080)")
    add("--keys", default="test-key", help="comma-separated accepted Bearer keys")
    add(
        "--legacy-key",
        action="append",
        metavar="API_KEY:GATEWAY_KEY",
        help="accepted legacy key pair (repeatable; default test-key:test-gateway-key)",
    )
    add("--latency", type=float, default=0.0, help="seconds before each reply")
    add("--token-delay", type=float, default=0.0, help="seconds before each streamed token")
    add("--qpm", action="append", help="N, documented, or MODEL=N (repeatable)")
    add("--tpm", action="append", help="N, documented, or MODEL=N (repeatable)")
    add("--rate-window", type=float, default=60.0, help="rate-limit window in seconds")
    add(
        "--error-rate",
        action="append",
        metavar="STATUS=P",
        help="inject 429/500/503 with probability P (repeatable)",
    )
    add("--fault-seed", type=int, default=0, help="seed of the fault dice")
    add(
        "--fault-retry-after",
        type=float,
        default=None,
        help="Retry-After seconds on injected 429/503 replies",
    )
    add("--reset-rate", type=float, default=0.0, help="probability of a connection reset")
    add("--cut-stream-after", type=int, default=None, help="cut every stream after N events")
    add("--malformed-rate", type=float, default=0.0, help="probability of a malformed body")
    add("--created-unit", choices=("ms", "s"), default="ms")
    add("--stop-reason-case", choices=("lower", "upper"), default="lower")
    add("--sse-space", action="store_true", help="write 'data: ...' instead of 'data:...'")
    add("--done-signal", action="store_true", help="send a trailing signal [DONE] event")
    add("--task", action="append", metavar="TASK_ID=BASE_MODEL", help="register a tuned task")
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
        "error_rates": {int(status): float(p) for status, p in _pairs(args.error_rate, "=")},
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
        knobs["legacy_keys"] = frozenset(_pairs(args.legacy_key, ":"))
    return knobs


def main(argv: Sequence[str] | None = None) -> int:
    """Run until interrupted; prints the base URL first."""
    args = build_parser().parse_args(argv)
    emulator = Emulator(
        host=args.host,
        port=args.port,
        tasks=dict(_pairs(args.task, "=")),
        verbose=args.verbose,
        **knobs_from_args(args),
    )
    with emulator:
        print(f"CLOVA Studio emulator listening on {emulator.base_url}", flush=True)
        print(f"OpenAI-compatible base URL: {emulator.openai_base_url}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
