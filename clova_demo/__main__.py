"""``clova-demo``: embed, retrieve, answer and act, with LangChain and/or LlamaIndex."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from clova_core.errors import APIConnectionError, ClovaError
from clova_core.extras import MissingExtraError, require
from clova_core.models import CHAT_MODELS, DEFAULT_EMBEDDING_MODEL, EMBEDDING_MODELS
from clova_demo.backend import (
    Backend,
    connect,
    root_reason,
    unreachable_message,
    unreachable_reason,
)
from clova_demo.report import Report

PROG = "clova-demo"
EXIT_FAILED = 1
EXIT_SETUP = 2  # what argparse uses for a bad command line
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C

LABELS = {"langchain": "LangChain", "llamaindex": "LlamaIndex"}
# What each job imports: (module, distribution). ``[demo]`` installs all of them.
NEEDS = {
    "langchain": (("langchain_core", "langchain-core"), ("langchain", "langchain")),
    "llamaindex": (("llama_index.core", "llama-index-core"),),
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("--framework", choices=("langchain", "llamaindex", "both"), default="both")
    tool_models = [name for name, spec in CHAT_MODELS.items() if spec.supports_tools]
    parser.add_argument(
        "--model", default="HCX-005", choices=tool_models, help="chat model (needs tools)"
    )
    parser.add_argument(
        "--embedding-model", default=DEFAULT_EMBEDDING_MODEL, choices=list(EMBEDDING_MODELS)
    )
    parser.add_argument(
        "--token-delay",
        type=float,
        default=0.01,
        help="emulator only: seconds between streamed tokens (default 0.01)",
    )
    return parser.parse_args(argv)


def fail(message: str, status: int) -> int:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; the exit status is 0 when every check passed.

    Mistakes a user can fix (a missing extra, an unreachable service) and Ctrl-C end with one
    line on stderr and a non-zero status, not a traceback.
    """
    args = parse_args(argv)
    jobs = ("langchain", "llamaindex") if args.framework == "both" else (args.framework,)
    try:
        for job in jobs:
            for module, package in NEEDS[job]:
                require(module, package=package, extra="demo", needed_for=f"the {LABELS[job]} demo")
        return run(jobs, args)
    except MissingExtraError as error:
        return fail(str(error), EXIT_SETUP)
    except KeyboardInterrupt:
        return fail("interrupted", EXIT_INTERRUPTED)


def run(jobs: Sequence[str], args: argparse.Namespace) -> int:
    report = Report()
    with connect(token_delay=args.token_delay) as backend:
        report.line(backend.describe())
        reason = None if backend.emulated else unreachable_reason(backend.base_url)
        if reason is not None:
            return fail(unreachable_message(backend, reason), EXIT_FAILED)
        for job in jobs:
            try:
                run_job(job, backend, args, report)
            except Exception as error:
                lost = connection_error(error)
                if lost is not None and not backend.emulated:  # the network went mid-way
                    return fail(unreachable_message(backend, root_reason(lost)), EXIT_FAILED)
                if not isinstance(error, ClovaError):  # a bug, not a service reply: show where
                    traceback.print_exc()
                report.failures.append(f"{job}: {type(error).__name__}: {error}")
    return report.finish()


def connection_error(error: BaseException) -> APIConnectionError | None:
    """The :class:`APIConnectionError` behind ``error``, if a framework wrapped one."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, APIConnectionError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def run_job(job: str, backend: Backend, args: argparse.Namespace, report: Report) -> None:
    if job == "langchain":
        from clova_demo import langchain_demo

        langchain_demo.run(backend, args.model, args.embedding_model, report)
    else:
        from clova_demo import llamaindex_demo

        llamaindex_demo.run(backend, args.model, args.embedding_model, report)


if __name__ == "__main__":
    sys.exit(main())
