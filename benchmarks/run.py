"""Command line: start the emulator, run the suites side by side, write the report.

    python -m benchmarks                 # full run, 3 to 5 minutes on 2 cores
    python -m benchmarks --quick         # smoke run, under a minute
    python -m benchmarks --only chat stream
    python benchmarks/run.py ...         # the same

Writes ``benchmarks/results/{report.md,results.json,chart.png}``;
``--update-benchmarks-md`` also refreshes the generated block of ``BENCHMARKS.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

if __package__ in (None, ""):  # ``python benchmarks/run.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import netguard, report, targets
from benchmarks.emulator_proc import EmulatorProcess
from benchmarks.results import RunResults
from benchmarks.settings import FULL, QUICK, Settings

ROOT = Path(__file__).resolve().parent.parent
SUITES = ("chat", "stream", "embed", "imports")
OPTIONAL_SUITES = ("quota",)
"""Run only when named (``--only quota``): minutes of their own, see ``suite_quota``."""
DISTRIBUTIONS = (
    "httpx",
    "langchain-core",
    "llama-index-core",
    "langchain-naver",
    "langchain-community",
    "langchain-openai",
    "llama-index-llms-openai-like",
    "llama-index-embeddings-openai-like",
    "openai",
    "pydantic",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--quick", action="store_true", help="few trials: a smoke run (< 1 min)")
    parser.add_argument(
        "--only", nargs="+", choices=SUITES + OPTIONAL_SUITES, help="run only these suites"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--chat-trials", type=int, help="override: trials of the chat suite")
    parser.add_argument("--embed-trials", type=int, help="override: trials of the embeddings")
    parser.add_argument("--import-trials", type=int, help="override: fresh-process trials")
    parser.add_argument(
        "--update-benchmarks-md",
        action="store_true",
        help="replace the generated block of BENCHMARKS.md with this run's tables",
    )
    return parser


def _environment() -> dict[str, object]:
    versions: dict[str, str | None] = {}
    for name in DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "commit": commit,
        "versions": versions,
    }


def _progress(started: float) -> Callable[[str], None]:
    def say(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    return say


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    netguard.install()
    settings: Settings = (QUICK if args.quick else FULL).with_overrides(
        chat_trials=args.chat_trials,
        embed_trials=args.embed_trials,
        import_trials=args.import_trials,
    )
    suites = tuple(args.only or SUITES)
    started = time.perf_counter()
    say = _progress(started)
    given = list(argv if argv is not None else sys.argv[1:])
    launcher = (
        ["python", "benchmarks/run.py"]
        if sys.argv[0].endswith("run.py")
        else ["python", "-m", "benchmarks"]
    )
    command = shlex.join([*launcher, *given])
    if "quota" in suites:
        from benchmarks.suite_quota import run_quota

        print(run_quota(args.quick, say, command))
        suites = tuple(name for name in suites if name != "quota")
        if not suites:
            return 0
    results = RunResults(command=command, settings=vars(settings), environment=_environment())

    from benchmarks.suite_chat import run_chat, run_stream
    from benchmarks.suite_embed import run_embed, run_embed_mock
    from benchmarks.suite_import import run_import_pairs, run_imports

    if {"chat", "stream", "embed"} & set(suites):
        with EmulatorProcess() as emu:
            say(f"emulator at {emu.base_url} (own process)")
            if "chat" in suites:
                results.chat = run_chat(emu, settings, say)
            if "stream" in suites:
                results.stream = run_stream(emu, settings, say)
            if "embed" in suites:
                results.embed, results.embed_bound_s = run_embed(emu, settings, say)
            results.emulator_errors = emu.server_errors()
    if "embed" in suites:
        results.embed_mock = run_embed_mock(settings, say)
    if "imports" in suites:
        results.imports = run_imports(settings, say)
        results.import_pairs = run_import_pairs(settings, say)
    results.blocked_connections = netguard.blocked_attempts()
    results.targets = targets.evaluate(results, settings.embed_texts)
    results.seconds = time.perf_counter() - started

    paths = report.write(results, args.out)
    print(report.markdown(results))
    for kind, path in paths.items():
        print(f"{kind}: {path}", file=sys.stderr)
    if args.update_benchmarks_md:
        updated = report.update_benchmarks_md(results, ROOT / "BENCHMARKS.md")
        state = "updated" if updated else "not updated (no markers)"
        print(f"BENCHMARKS.md {state}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
