"""Suite 4: import time and peak memory, each in a fresh interpreter per trial.

A child process times one import statement with ``time.perf_counter`` (interpreter start-up
excluded) and reports its peak RSS after it (``VmHWM`` of ``/proc/self/status``; not
``ru_maxrss``, which Linux carries over from the parent through ``fork`` + ``exec``).
Statements run interleaved (every trial visits all of them), after one untimed interpreter
has imported them all, so bytecode caches are warm.
``import langchain_clova`` alone is lazy (its classes load on first access), so the class
import ``from langchain_clova import ChatClovaX`` is measured too, against the class it
builds on, ``from langchain_core.language_models import BaseChatModel``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks import netguard
from benchmarks.results import ImportRow
from benchmarks.settings import Settings
from benchmarks.timing import Summary

Progress = Callable[[str], None]

ROOT = Path(__file__).resolve().parent.parent

_CHILD = """\
import time
started, cpu = time.perf_counter(), time.process_time()
{statement}
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
with open("/proc/self/status") as status:
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
print(elapsed, cpu, peak)
"""


@dataclass(frozen=True)
class ImportCase:
    name: str
    group: str
    statement: str
    focus: bool = False
    """Part of the import target: measured ``import_focus_trials`` more times."""


CASES: tuple[ImportCase, ...] = (
    ImportCase("clova_core", "ours", "import clova_core"),
    ImportCase("langchain_clova", "ours", "import langchain_clova", focus=True),
    ImportCase(
        "langchain_clova ChatClovaX", "ours", "from langchain_clova import ChatClovaX", focus=True
    ),
    ImportCase("llama_index_clova", "ours", "import llama_index_clova"),
    ImportCase(
        "langchain_core.language_models",
        "reference",
        "import langchain_core.language_models",
        focus=True,
    ),
    ImportCase(
        "langchain_core BaseChatModel",
        "reference",
        "from langchain_core.language_models import BaseChatModel",
        focus=True,
    ),
    ImportCase("llama_index.core LLM", "reference", "from llama_index.core.llms import LLM"),
    ImportCase("langchain_naver", "alternative", "import langchain_naver"),
    ImportCase(
        "langchain_community.chat_models.naver",
        "alternative",
        "import langchain_community.chat_models.naver",
    ),
    ImportCase("langchain_openai", "alternative", "import langchain_openai"),
    ImportCase(
        "llama_index.llms.openai_like", "alternative", "import llama_index.llms.openai_like"
    ),
)
BARE = ImportCase("python (nothing imported)", "baseline", "pass")


def _measure(case: ImportCase) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS in MiB) of a fresh interpreter importing ``case``."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD.format(statement=case.statement)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=netguard.offline_env(),
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{case.statement!r} failed:\n{done.stderr[-2000:]}")
    seconds, cpu, rss_kib = done.stdout.split()
    return float(seconds), float(cpu), int(rss_kib) / 1024


def run_imports(settings: Settings, progress: Progress) -> list[ImportRow]:
    """Median import time (wall and CPU) and peak RSS per case."""
    cases = [BARE, *CASES]
    if settings.import_warmup:  # bytecode and page caches, in one interpreter
        _measure(ImportCase("warm-up", "baseline", "\n".join(c.statement for c in cases)))
    wall: dict[str, list[float]] = {case.name: [] for case in cases}
    cpu: dict[str, list[float]] = {case.name: [] for case in cases}
    rss: dict[str, list[float]] = {case.name: [] for case in cases}

    def trial(chosen: list[ImportCase], index: int) -> None:
        shift = index % len(chosen)
        for case in [*chosen[shift:], *chosen[:shift]]:
            taken, used, peak = _measure(case)
            wall[case.name].append(taken)
            cpu[case.name].append(used)
            rss[case.name].append(peak)

    for index in range(settings.import_trials):
        trial(cases, index)
        progress(f"imports trial {index + 1}/{settings.import_trials}")
    focus = [case for case in cases if case.focus]
    for index in range(settings.import_focus_trials):
        trial(focus, index)
    if settings.import_focus_trials:
        progress(f"imports: {settings.import_focus_trials} more trials of the target's imports")
    bare_rss = Summary.of(rss[BARE.name]).median
    return [
        ImportRow(
            name=case.name,
            group=case.group,
            statement=case.statement,
            import_ms=Summary.of(wall[case.name]).scaled(1000),
            cpu_ms=Summary.of(cpu[case.name]).scaled(1000),
            peak_rss_mb=Summary.of(rss[case.name]),
            rss_added_mb=Summary.of(rss[case.name]).median - bare_rss,
        )
        for case in cases
    ]
