"""``clova-demo``: embed, retrieve, answer and act, with LangChain and/or LlamaIndex."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from clova_core.models import CHAT_MODELS, DEFAULT_EMBEDDING_MODEL, EMBEDDING_MODELS
from clova_demo.backend import connect
from clova_demo.report import Report


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="clova-demo", description=__doc__)
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


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    report = Report()
    with connect(token_delay=args.token_delay) as backend:
        report.line(backend.describe())
        jobs = ("langchain", "llamaindex") if args.framework == "both" else (args.framework,)
        for job in jobs:
            try:
                if job == "langchain":
                    from clova_demo import langchain_demo

                    langchain_demo.run(backend, args.model, args.embedding_model, report)
                else:
                    from clova_demo import llamaindex_demo

                    llamaindex_demo.run(backend, args.model, args.embedding_model, report)
            except Exception as error:  # the demo reports every failure and exits non-zero
                traceback.print_exc()
                report.failures.append(f"{job}: {type(error).__name__}: {error}")
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
