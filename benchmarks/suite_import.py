"""Suite 4: import time and peak memory, each in a fresh interpreter per trial.

A child process times one import statement with ``time.perf_counter`` (interpreter start-up
excluded) and reports its peak RSS after it (``VmHWM`` of ``/proc/self/status``; not
``ru_maxrss``, which Linux carries over from the parent through ``fork`` + ``exec``).
Statements run interleaved (every trial visits all of them), after one untimed interpreter
has imported them all, so bytecode caches are warm. Children run without
``PYTHONDONTWRITEBYTECODE``: an editable install of this project would otherwise recompile
its sources in every interpreter (about 35 ms here), while the packages it is compared with
were byte-compiled by pip at install time, as a wheel install of this one is.
``import langchain_clova`` alone is lazy (its classes load on first access), so the class
import ``from langchain_clova import ChatClovaX`` is measured too, against the class it
builds on, ``from langchain_core.language_models import BaseChatModel``.

The import target is judged on pairs timed inside one interpreter: the reference import,
then ours, each with ``time.perf_counter``. What ours adds is then measured under the same
load as what it is compared with; across separate interpreters, run-to-run noise on this
machine (10 to 15% of a one-second import) is larger than the difference being measured.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks import netguard
from benchmarks.results import ImportPairRow, ImportRow
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

_PAIR_CHILD = """\
import time
clocks = [(time.perf_counter(), time.process_time())]
{reference}
clocks.append((time.perf_counter(), time.process_time()))
{statement}
clocks.append((time.perf_counter(), time.process_time()))
(w0, c0), (w1, c1), (w2, c2) = clocks
print(w1 - w0, w2 - w1, c1 - c0, c2 - c1)
"""


@dataclass(frozen=True)
class ImportCase:
    name: str
    group: str
    statement: str


CASES: tuple[ImportCase, ...] = (
    ImportCase("clova_core", "ours", "import clova_core"),
    ImportCase("langchain_clova", "ours", "import langchain_clova"),
    ImportCase("langchain_clova ChatClovaX", "ours", "from langchain_clova import ChatClovaX"),
    ImportCase("llama_index_clova", "ours", "import llama_index_clova"),
    ImportCase(
        "langchain_core.language_models",
        "reference",
        "import langchain_core.language_models",
    ),
    ImportCase(
        "langchain_core BaseChatModel",
        "reference",
        "from langchain_core.language_models import BaseChatModel",
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
PAIRS: tuple[tuple[str, str], ...] = (
    (
        "from langchain_clova import ChatClovaX",
        "from langchain_core.language_models import BaseChatModel",
    ),
    ("import langchain_clova", "import langchain_core.language_models"),
)
"""(ours, the reference it is compared with) for the import target."""


def _run_child(code: str) -> list[str]:
    """What a fresh interpreter running ``code`` printed, split on whitespace."""
    env = netguard.offline_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{code!r} failed:\n{done.stderr[-2000:]}")
    return done.stdout.split()


def _measure(case: ImportCase) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS in MiB) of a fresh interpreter importing ``case``."""
    seconds, cpu, rss_kib = _run_child(_CHILD.format(statement=case.statement))
    return float(seconds), float(cpu), int(rss_kib) / 1024


def run_import_pairs(settings: Settings, progress: Progress) -> list[ImportPairRow]:
    """For each pair, fresh interpreters import the reference and then ours, both timed."""
    rows = []
    for statement, reference in PAIRS:
        code = _PAIR_CHILD.format(reference=reference, statement=statement)
        _run_child(code)  # bytecode caches
        trials = [
            [float(value) for value in _run_child(code)] for _ in range(settings.import_pair_trials)
        ]
        rows.append(
            ImportPairRow(
                statement=statement,
                reference=reference,
                reference_ms=Summary.of([wall for wall, *_ in trials]).scaled(1000),
                added_ms=Summary.of([added for _, added, *_ in trials]).scaled(1000),
                added_ratio=Summary.of([added / ref for ref, added, *_ in trials]),
                added_cpu_ratio=Summary.of([cpu / ref_cpu for *_, ref_cpu, cpu in trials]),
            )
        )
        progress(f"imports: {statement!r} after {reference!r}, {len(trials)} interpreters")
    return rows


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
