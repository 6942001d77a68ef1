"""Write a run's results: Markdown tables, raw JSON and a PNG chart (matplotlib, Agg)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from benchmarks.quota_cpu import quota_cpu_md
from benchmarks.results import ChatRow, EmbedRow, ImportPairRow, ImportRow, RunResults, StreamRow
from benchmarks.timing import Summary

COLOURS = {
    "floor": "#9e9e9e",
    "ours": "#1f77b4",
    "alternative": "#ff7f0e",
    "reference": "#7b4fa0",
    "baseline": "#cccccc",
    "bound": "#2ca02c",
}

MARKERS_START = "<!-- results:start -->"
MARKERS_END = "<!-- results:end -->"


def _spread(summary: Summary, digits: int = 2) -> str:
    return f"{summary.median:.{digits}f} ({summary.q1:.{digits}f}-{summary.q3:.{digits}f})"


def _ratio(value: float, reference: float) -> str:
    if reference == 0:
        return "-"
    return f"{value / reference:.2f}x"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _bold_ours(name: str, group: str) -> str:
    return f"**{name}**" if group == "ours" else name


# ---------------------------------------------------------------------------- Markdown


def _chat_md(rows: list[ChatRow]) -> list[str]:
    calls = {row.name: row.call_ms.median for row in rows}
    alternatives = [row.overhead_ms.median for row in rows if row.group == "alternative"]
    best = min(alternatives) if alternatives else 0.0
    body = []
    for row in rows:
        overhead = "-" if row.group == "floor" else _spread(row.overhead_ms)
        vs_best = "-" if row.group == "floor" else _ratio(row.overhead_ms.median, best)
        body.append(
            [
                _bold_ours(row.name, row.group),
                row.endpoint,
                _spread(row.call_ms),
                overhead,
                _ratio(row.call_ms.median, calls[row.floor]),
                vs_best,
            ]
        )
    return [
        "### 1. Short chat call (blocking), emulator latency 0",
        "",
        *_table(
            [
                "stack",
                "endpoint",
                "ms per call",
                "overhead over its floor, ms",
                "vs its floor",
                "overhead vs best alternative's",
            ],
            body,
        ),
        "",
        f"Best alternative overhead: {best:.2f} ms. Median (inter-quartile range) of trial "
        "medians; overhead is paired per trial with the raw-httpx floor of the same endpoint.",
    ]


def _stream_md(rows: list[StreamRow], results: RunResults) -> list[str]:
    rates = {row.name: row.chunks_per_s.median for row in rows}
    alternatives = [row.chunks_per_s.median for row in rows if row.group == "alternative"]
    best = max(alternatives) if alternatives else 0.0
    settings = results.settings
    body = []
    for row in rows:
        body.append(
            [
                _bold_ours(row.name, row.group),
                _spread(row.ttfc_ms),
                "-" if row.group == "floor" else f"{row.ttfc_over_floor_ms.median:+.2f}",
                _spread(row.paced_total_ms, 0),
                f"{row.chunks_per_s.median:,.0f}",
                _ratio(row.chunks_per_s.median, rates[row.floor]),
                "-" if row.group == "floor" else _ratio(row.chunks_per_s.median, best),
            ]
        )
    return [
        "### 2. Streaming",
        "",
        *_table(
            [
                "stack",
                f"first chunk, ms ({settings['ttfc_tokens']}-token stream)",
                "- its floor, ms",
                f"paced total, ms ({settings['paced_tokens']} tokens @ "
                f"{settings['token_delay'] * 1000:g} ms)",
                f"chunks/s unpaced ({settings['burst_tokens']} tokens)",
                "vs its floor",
                "vs best alternative",
            ],
            body,
        ),
        "",
        "First chunk = first non-empty text piece; the emulator sleeps the token delay before "
        "every event, so a floor's first chunk is about one delay.",
    ]


def _embed_md(rows: list[EmbedRow], results: RunResults) -> list[str]:
    settings = results.settings
    bound = results.embed_bound_s or 0.0
    bound_rate = settings["embed_texts"] / bound if bound else 0.0
    naver = next((r.texts_per_s.median for r in rows if r.library == "langchain-naver"), 0.0)
    alternatives = [row.texts_per_s.median for row in rows if row.group == "alternative"]
    best = max(alternatives) if alternatives else 0.0
    floor = next((r.texts_per_s.median for r in rows if r.group == "floor"), 0.0)
    body = [
        [
            "*bound: N x latency / concurrency*",
            "-",
            str(settings["embed_texts"]),
            str(settings["embed_concurrency"]),
            f"{bound:.3f}",
            f"{bound_rate:,.0f}",
            "1.00x",
            _ratio(bound_rate, floor),
            _ratio(bound_rate, naver),
            _ratio(bound_rate, best),
            "-",
            "-",
            "-",
            "-",
            "",
        ]
    ]
    for row in rows:
        rate = row.texts_per_s.median
        body.append(
            [
                _bold_ours(row.name, row.group),
                row.mode,
                str(row.texts),
                row.concurrency,
                _spread(row.seconds, 3),
                f"{rate:,.0f}",
                _ratio(rate, bound_rate),
                _ratio(rate, floor),
                _ratio(rate, naver),
                _ratio(rate, best),
                _cpu(row.client_cpu_ms),
                _cpu(row.server_cpu_ms),
                str(row.requests),
                str(row.rate_limited),
                row.note,
            ]
        )
    return [
        f"### 3. Embeddings: emulator latency {settings['embed_latency'] * 1000:g} ms, "
        f"QPM {settings['embed_qpm']}",
        "",
        *_table(
            [
                "stack",
                "mode",
                "texts",
                "in flight",
                "seconds",
                "texts/s",
                "vs bound",
                "vs raw floor",
                "vs langchain-naver",
                "vs best alternative",
                "client CPU, ms/text",
                "emulator CPU, ms/request",
                "requests",
                "429s",
                "note",
            ],
            body,
        ),
        "",
        f"Bound = {settings['embed_texts']} x {settings['embed_latency'] * 1000:g} ms / "
        f"{settings['embed_concurrency']} = {bound:.2f} s for one-text-per-request APIs (the "
        "native API takes one text per request). Sequential alternatives embed "
        f"{settings['embed_texts_sequential']} texts (one request per text at "
        f"{settings['embed_latency'] * 1000:g} ms each), so compare texts/s. Requests and 429s "
        "are totals over the timed trials; each trial starts a fresh emulator rate window. "
        "Array-input alternatives put many texts in one request, which the emulator serves "
        "for one latency: they are not bound by it, and whether CLOVA's compat endpoint "
        "accepts array input is unverified. CPU columns: medians per trial of the benchmark "
        "process's CPU time per text (the client) and the emulator process's per request; "
        "both processes share the machine's cores.",
        *_embed_mock_md(results, bound_rate),
    ]


def _cpu(summary: Summary | None) -> str:
    return "-" if summary is None else f"{summary.median:.2f}"


def _embed_mock_md(results: RunResults, bound_rate: float) -> list[str]:
    rows = results.embed_mock
    if not rows:
        return []
    settings = results.settings
    floor = next((r.texts_per_s.median for r in rows if r.group == "floor"), 0.0)
    body = [
        [
            _bold_ours(row.name, row.group),
            str(row.texts),
            row.concurrency,
            _spread(row.seconds, 3),
            f"{row.texts_per_s.median:,.0f}",
            _ratio(row.texts_per_s.median, bound_rate),
            _ratio(row.texts_per_s.median, floor),
            _cpu(row.client_cpu_ms),
        ]
        for row in rows
    ]
    return [
        "",
        f"Server-free check: the same stacks on an `httpx.MockTransport` that sleeps "
        f"{settings['embed_latency'] * 1000:g} ms and returns a canned CLOVA reply (no "
        "emulator, no sockets), so only the client's own cost and concurrency are left:",
        "",
        *_table(
            [
                "stack",
                "texts",
                "in flight",
                "seconds",
                "texts/s",
                "vs bound",
                "vs raw floor",
                "client CPU, ms/text",
            ],
            body,
        ),
    ]


def _import_pairs_md(pairs: list[ImportPairRow]) -> list[str]:
    body = [
        [
            f"`{pair.statement}`",
            f"`{pair.reference}`",
            _spread(pair.reference_ms, 0),
            _spread(pair.added_ms, 0),
            f"{pair.added_ratio.median:+.1%}",
            f"{pair.added_cpu_ratio.median:+.1%}",
            str(pair.added_ratio.trials),
        ]
        for pair in pairs
    ]
    return [
        "Added by ours after the reference, both timed in one fresh interpreter (the import "
        "target; separate interpreters differ by more than the cost being measured):",
        "",
        *_table(
            [
                "ours",
                "after",
                "reference, ms",
                "added, ms",
                "added (wall)",
                "added (CPU)",
                "trials",
            ],
            body,
        ),
    ]


def _imports_md(rows: list[ImportRow]) -> list[str]:
    found = {row.name: row for row in rows}
    reference = found.get("langchain_core BaseChatModel")
    body = []
    for row in rows:
        vs = _ratio(row.import_ms.median, reference.import_ms.median) if reference else "-"
        body.append(
            [
                _bold_ours(row.name, row.group),
                f"`{row.statement}`",
                _spread(row.import_ms, 0),
                vs,
                f"{row.cpu_ms.median:.0f}",
                str(row.import_ms.trials),
                f"{row.peak_rss_mb.median:.1f}",
                f"{row.rss_added_mb:+.1f}",
            ]
        )
    return [
        "### 4. Import time and peak memory (fresh interpreter per trial)",
        "",
        *_table(
            [
                "import",
                "statement",
                "ms (wall)",
                "vs BaseChatModel import",
                "CPU ms",
                "trials",
                "peak RSS, MiB",
                "over bare python, MiB",
            ],
            body,
        ),
    ]


def markdown(results: RunResults) -> str:
    """The report: command, targets, then one table per suite."""
    lines = [
        f"Command: `{results.command}` ({results.seconds:.0f} s on "
        f"{results.environment.get('machine', '?')}).",
        "",
    ]
    if results.targets:
        lines += [
            "### Targets",
            "",
            *_table(
                ["target", "result", "figures"],
                [
                    [target.name, "met" if target.met else "**missed**", target.detail]
                    for target in results.targets
                ],
            ),
            "",
        ]
    if results.chat:
        lines += [*_chat_md(results.chat), ""]
    if results.stream:
        lines += [*_stream_md(results.stream, results), ""]
    if results.embed:
        lines += [*_embed_md(results.embed, results), ""]
    if quota_cpu := quota_cpu_md(results):
        lines += [*quota_cpu, ""]
    if results.imports:
        lines += [*_imports_md(results.imports), ""]
    if results.import_pairs:
        lines += [*_import_pairs_md(results.import_pairs), ""]
    lines.append(
        "Network guard: "
        + (
            "no connection left 127.0.0.1."
            if not results.blocked_connections
            else f"blocked {results.blocked_connections}"
        )
        + (" Emulator errors: none." if not results.emulator_errors else " Emulator errors!")
    )
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- chart


def chart(results: RunResults, path: Path) -> None:
    """Four horizontal bar panels, ours in blue, alternatives orange, floors grey."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(16, 11))
    figure.suptitle(
        "clova-integrations vs alternatives on the CLOVA Studio emulator (medians; "
        "whiskers: inter-quartile range)",
        fontsize=13,
    )

    def bars(
        axis: object,
        labels: list[str],
        *,
        values: list[float],
        spreads: list[tuple[float, float]] | None,
        groups: list[str],
        title: str,
        unit: str,
        log: bool = False,
    ) -> None:
        ax = axis  # matplotlib Axes
        positions = list(range(len(labels)))[::-1]
        error = None
        if spreads is not None:
            error = [
                [max(value - low, 0) for value, (low, _) in zip(values, spreads, strict=True)],
                [max(high - value, 0) for value, (_, high) in zip(values, spreads, strict=True)],
            ]
        ax.barh(  # type: ignore[attr-defined]
            positions,
            values,
            xerr=error,
            color=[COLOURS[group] for group in groups],
            capsize=3,
        )
        ax.set_yticks(positions, labels, fontsize=9)  # type: ignore[attr-defined]
        ax.set_title(title, fontsize=11)  # type: ignore[attr-defined]
        ax.set_xlabel(unit)  # type: ignore[attr-defined]
        if log:
            ax.set_xscale("log")  # type: ignore[attr-defined]
        ends = [
            max(value, spreads[index][1]) if spreads is not None else value
            for index, value in enumerate(values)
        ]
        top = max(ends) if ends else 1
        for position, value, end in zip(positions, values, ends, strict=True):
            text = f"{value:,.0f}" if value >= 100 else f"{value:.2f}"
            where = end * 1.04 if log else end + top * 0.01
            ax.text(where, position, text, va="center", fontsize=8)  # type: ignore[attr-defined]
        ax.set_xlim(right=top * (2.2 if log else 1.15))  # type: ignore[attr-defined]
        ax.grid(axis="x", alpha=0.3)  # type: ignore[attr-defined]

    chat_rows = [row for row in results.chat if row.group != "floor"]
    if chat_rows:
        bars(
            axes[0][0],
            [row.name for row in chat_rows],
            values=[row.overhead_ms.median for row in chat_rows],
            spreads=[(row.overhead_ms.q1, row.overhead_ms.q3) for row in chat_rows],
            groups=[row.group for row in chat_rows],
            title="1. Short chat call: overhead over the raw-httpx floor (lower is better)",
            unit="ms per call",
        )
    if results.stream:
        bars(
            axes[0][1],
            [row.name for row in results.stream],
            values=[row.ttfc_ms.median for row in results.stream],
            spreads=[(row.ttfc_ms.q1, row.ttfc_ms.q3) for row in results.stream],
            groups=[row.group for row in results.stream],
            title="2. Streaming: time to first chunk (lower is better)",
            unit="ms",
        )
    if results.embed:
        settings = results.settings
        labels = [row.name for row in results.embed]
        values = [row.texts_per_s.median for row in results.embed]
        groups = [row.group for row in results.embed]
        if results.embed_bound_s:
            labels.insert(0, "bound: N x latency / concurrency")
            values.insert(0, settings["embed_texts"] / results.embed_bound_s)
            groups.insert(0, "bound")
        for row in results.embed_mock:
            labels.append(f"{row.name} [no server]")
            values.append(row.texts_per_s.median)
            groups.append(row.group)
        bars(
            axes[1][0],
            labels,
            values=values,
            spreads=None,
            groups=groups,
            title="3. Embeddings: throughput (higher is better; log scale)",
            unit="texts per second",
            log=True,
        )
    if results.imports:
        rows = [row for row in results.imports if row.group != "baseline"]
        bars(
            axes[1][1],
            [f"{row.name} ({row.peak_rss_mb.median:.0f} MiB)" for row in rows],
            values=[row.import_ms.median for row in rows],
            spreads=[(row.import_ms.q1, row.import_ms.q3) for row in rows],
            groups=[row.group for row in rows],
            title="4. Import time, fresh interpreter (lower is better)",
            unit="ms",
        )
    from matplotlib.patches import Patch

    figure.legend(
        handles=[
            Patch(color=COLOURS[key], label=label)
            for key, label in (
                ("ours", "this package"),
                ("alternative", "alternative"),
                ("floor", "raw httpx floor"),
                ("reference", "framework reference"),
                ("bound", "latency/concurrency bound"),
            )
        ],
        loc="lower center",
        ncol=5,
    )
    figure.tight_layout(rect=(0, 0.04, 1, 0.96))
    figure.savefig(path, dpi=110)
    plt.close(figure)


# ---------------------------------------------------------------------------- files


def write(results: RunResults, directory: Path) -> dict[str, Path]:
    """``report.md``, ``results.json`` and ``chart.png`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "markdown": directory / "report.md",
        "json": directory / "results.json",
        "chart": directory / "chart.png",
    }
    paths["markdown"].write_text(markdown(results), encoding="utf-8")
    paths["json"].write_text(
        json.dumps(results.to_json(), indent=2, ensure_ascii=False), encoding="utf-8"
    )
    chart(results, paths["chart"])
    return paths


def update_benchmarks_md(results: RunResults, path: Path) -> bool:
    """Replace the generated block of ``BENCHMARKS.md`` (between the markers); False if the
    file or its markers are missing."""
    if not path.exists():
        return False
    text = path.read_text(encoding="utf-8")
    start, end = text.find(MARKERS_START), text.find(MARKERS_END)
    if start < 0 or end < start:
        return False
    block = f"{MARKERS_START}\n{markdown(results)}{MARKERS_END}"
    path.write_text(text[:start] + block + text[end + len(MARKERS_END) :], encoding="utf-8")
    return True
