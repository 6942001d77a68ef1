"""Console output and the demo's checks: visible progress, and a failure count for the exit code."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import TextIO

from clova_demo.corpus import Question, ToolLog


class Report:
    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out if out is not None else sys.stdout
        self.failures: list[str] = []
        self._started = time.perf_counter()

    def line(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def step(self, text: str) -> None:
        self.line(f"\n==> {text}")

    def detail(self, text: str) -> None:
        self.line(f"    {text}")

    def answer(self, text: str) -> None:
        self.line(f"    answer: {text.strip()}")

    def stream(self, chunks: Iterable[str]) -> str:
        """Print chunks as they arrive; return the whole text."""
        self.out.write("    answer: ")
        parts: list[str] = []
        for chunk in chunks:
            parts.append(chunk)
            self.out.write(chunk)
            self.out.flush()
        self.out.write("\n")
        return "".join(parts)

    def _check(self, ok: bool, what: str) -> None:
        self.line(f"    [{'ok' if ok else 'FAIL'}] {what}")
        if not ok:
            self.failures.append(what)

    def check_retrieval(self, question: Question, ids: list[str]) -> None:
        self._check(
            question.passage_id in ids,
            f"retrieved passage {question.passage_id!r} (got {', '.join(ids)})",
        )

    def check_answer(self, question: Question, answer: str) -> None:
        self._check(question.fact in answer, f"answer states {question.fact!r} from the passage")

    def check_citation(self, question: Question, answer: str, cited: list[str]) -> None:
        """The RAG Reasoning answer cites the passage that holds the answer, and states it."""
        self._check(
            question.passage_id in cited,
            f"citation maps back to passage {question.passage_id!r} "
            f"(cited: {', '.join(cited) or 'none'})",
        )
        self._check(question.fact in answer, f"cited answer states {question.fact!r}")

    def check_tools(self, log: ToolLog, expected: set[str]) -> None:
        self._check(
            expected <= set(log.calls),
            f"agent called {', '.join(sorted(expected))} "
            f"(called: {', '.join(log.calls) or 'none'})",
        )
        self._check(
            not log.bad_arguments,
            "tool arguments were valid"
            + (f" (not: {', '.join(log.bad_arguments)})" if log.bad_arguments else ""),
        )

    def finish(self) -> int:
        elapsed = time.perf_counter() - self._started
        if self.failures:
            self.line(f"\nFAILED: {len(self.failures)} check(s) in {elapsed:.1f}s")
            for failure in self.failures:
                self.line(f"  - {failure}")
            return 1
        self.line(f"\nAll checks passed in {elapsed:.1f}s.")
        return 0
