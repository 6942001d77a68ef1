"""Suite: throughput at the account's quota, from one process to a Dask cluster (issue 17).

    python -m benchmarks.suite_quota            # about 4 minutes on 2 cores
    python -m benchmarks.suite_quota --quick    # a smoke run
    python -m benchmarks --only quota           # the same through the runner

The emulator runs in its own process with realistic latency (80 ms plus up to 220 ms of
jitter, spent before the request is counted, so arrival times spread like a network's) and a
quota counted at arrival in a sliding window. Windows are time-compressed: one 10 s window
stands for CLOVA's minute, so a quota of ``R`` per window is a rate of ``R / 10`` requests a
second. Every limiter is given the server's window and a 0.35 s margin (the latency spread
plus scheduling on a loaded 2-core machine). Clients are ``ClovaXEmbeddings`` with retries on,
so runs always finish; the 429s counted are the emulator's.

Scenarios (ratios are achieved requests per second over the quota's rate):

1. one process with ``RateLimiter`` at the quota;
2. four processes sharing a ``RedisRateLimiter`` (a real ``redis-server`` on 127.0.0.1),
   then the same four with one in-process ``RateLimiter`` each (the problem shown);
3. ``AdaptiveRateLimiter`` told nothing: the time until the successes of the last window
   first reach 85% of the quota, and the share of 429s;
4. ``clova_core.bulk.embed_on_dask`` on a ``LocalCluster`` pinned to 127.0.0.1 (2 worker
   processes) sharing the Redis quota: 10,000 texts; then 2,000 texts with one worker killed
   a third of the way (Dask runs its batches again elsewhere), and that job run again.
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing as mp
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import netguard
from benchmarks.quota_servers import JITTER, LATENCY, MODEL, WINDOW, Server, start_redis

KEY = "test-key"
MARGIN = 0.35
QUOTA = 540
"""Per window: embedding v2's service quota per minute, in a 10 s window (54 requests/s)."""
BULK_QUOTA = 2_000
"""Per window for the 10,000-text job (200 requests/s), so that it fits a few minutes."""
CONCURRENCY = 32

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Scale:
    seconds: float
    """Target length of the rate runs."""
    bulk_texts: int


FULL = Scale(seconds=30.0, bulk_texts=10_000)
QUICK = Scale(seconds=12.0, bulk_texts=2_000)
"""Quick runs are barely longer than a window: their ratios overstate a sustained pace (a
window's quota may go in less than a window) and the 4-process run meets few 429s."""


# --- one embedding run (also the body of each worker process) ----------------------------


def embed(base_url: str, limiter: Any, texts: list[str], start_at: float = 0.0) -> float:
    """Embed ``texts`` after ``start_at`` (``time.time()``); returns the seconds taken."""
    from langchain_clova import ClovaXEmbeddings

    netguard.install()
    if limiter == "own":  # a limiter of this process alone, at the whole quota
        from clova_core.ratelimit import RateLimiter

        limiter = RateLimiter(QUOTA, window_seconds=WINDOW, margin_seconds=MARGIN)
    embeddings = ClovaXEmbeddings(
        model=MODEL,
        api_key=KEY,
        base_url=base_url,
        max_retries=8,
        max_concurrency=CONCURRENCY,
        quota_limiter=limiter,
    )
    embeddings.embed_query("warm up the connection pool")
    while (delay := start_at - time.time()) > 0:
        time.sleep(delay)
    started = time.perf_counter()
    vectors = embeddings.embed_documents(texts)
    elapsed = time.perf_counter() - started
    embeddings.close()
    if len(vectors) != len(texts):
        raise RuntimeError("texts lost")
    return elapsed


def texts_for(seconds: float, quota: int, tag: str) -> list[str]:
    return [f"{tag} text {index}" for index in range(int(seconds * quota / WINDOW))]


@dataclass
class Row:
    scenario: str
    texts: int
    seconds: float
    ratio: float
    too_many: int
    note: str = ""


def one_process(server: Server, scale: Scale) -> Row:
    from clova_core.ratelimit import RateLimiter

    texts = texts_for(scale.seconds, QUOTA, "one")
    limiter = RateLimiter(QUOTA, window_seconds=WINDOW, margin_seconds=MARGIN)
    server.reset(QUOTA)
    elapsed = embed(server.base_url, limiter, texts)
    statuses, _ = server.log()
    rate = len(texts) / elapsed
    return Row(
        "1 process, RateLimiter", len(texts), elapsed, rate / (QUOTA / WINDOW), statuses.get(429, 0)
    )


def four_processes(server: Server, scale: Scale, redis_url: str | None) -> Row:
    from clova_core.ratelimit_redis import RedisRateLimiter

    texts = texts_for(scale.seconds, QUOTA, "four")
    parts = [texts[index::4] for index in range(4)]
    limiters: list[Any]
    if redis_url is not None:
        shared = RedisRateLimiter(
            redis_url,
            key=f"bench-{time.time()}",
            requests_per_minute=QUOTA,
            window_seconds=WINDOW,
            margin_seconds=MARGIN,
        )
        limiters = [shared] * 4
    else:
        limiters = ["own"] * 4
    context = mp.get_context("spawn")
    with context.Pool(4) as pool:
        start_at = time.time() + 8.0  # all four imported and warmed up by then
        pending = pool.starmap_async(
            embed,
            [
                (server.base_url, limiter, part, start_at)
                for limiter, part in zip(limiters, parts, strict=True)
            ],
        )
        time.sleep(max(start_at - time.time() - 0.5, 0))
        server.reset(QUOTA)
        elapsed = max(pending.get())
    statuses, _ = server.log()
    name = "4 processes, one RedisRateLimiter" if redis_url else "4 processes, a RateLimiter each"
    rate = len(texts) / elapsed
    return Row(name, len(texts), elapsed, rate / (QUOTA / WINDOW), statuses.get(429, 0))


class Recording:
    """An adaptive limiter that also notes when each success came back."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.successes: list[float] = []

    def acquire(self, tokens: int = 0) -> None:
        self.inner.acquire(tokens)

    async def aacquire(self, tokens: int = 0) -> None:
        await self.inner.aacquire(tokens)

    def record_reply(self, *, status: int | None, retry_after: float | None) -> None:
        if status == 200:
            self.successes.append(time.perf_counter())
        self.inner.record_reply(status=status, retry_after=retry_after)


def adaptive(server: Server, scale: Scale) -> Row:
    from clova_core.ratelimit_adaptive import AdaptiveRateLimiter

    texts = texts_for(scale.seconds * 1.4, QUOTA, "adaptive")
    limiter = Recording(
        AdaptiveRateLimiter(
            start_requests_per_minute=60,
            window_seconds=WINDOW,
            margin_seconds=MARGIN,
            growth=2.0,
        )
    )
    server.reset(QUOTA)
    started = time.perf_counter()
    elapsed = embed(server.base_url, limiter, texts)
    statuses, _ = server.log()
    reached = None
    stamps = limiter.successes
    first = 0
    for index, at in enumerate(stamps):
        while stamps[first] <= at - WINDOW:
            first += 1
        if index - first + 1 >= 0.85 * QUOTA:
            reached = at - started
            break
    total = sum(statuses.values())
    share = statuses.get(429, 0) / total
    steady = [at for at in stamps if at >= stamps[-1] - WINDOW]
    ratio = len(steady) / QUOTA
    note = (
        f"85% of the quota after {reached:.1f} s" if reached is not None else "never reached 85%"
    ) + f"; 429s {share:.1%} of {total}; limit found {limiter.inner.requests_per_minute}"
    return Row("adaptive, quota not given", len(texts), elapsed, ratio, statuses.get(429, 0), note)


BATCH = 200


def bulk_job(
    client: Any, server: Server, embedder: Any, texts: list[str], kill: bool
) -> tuple[float, dict[int, int], int, bool, Path]:
    """One job into a fresh folder (a worker killed a third of the way when ``kill``):
    seconds, statuses, texts sent more than once, and whether the vectors read back are
    one per text, in order."""
    from clova_core.bulk import embed_on_dask, load_vectors
    from langchain_clova import ClovaXEmbeddings

    folder = Path(tempfile.mkdtemp(prefix="clova-bulk-"))
    batches = -(-len(texts) // BATCH)
    victim = sorted(client.run(os.getpid).values())[0]

    def kill_mid_job() -> None:
        while len(list(folder.glob("batch-*"))) < batches // 3:
            time.sleep(0.05)
        os.kill(victim, signal.SIGKILL)

    server.reset(BULK_QUOTA)
    if kill:
        threading.Thread(target=kill_mid_job, daemon=True).start()
    started = time.perf_counter()
    embed_on_dask(client, texts, embedder, folder, batch_size=BATCH)
    elapsed = time.perf_counter() - started
    statuses, asked = server.log()
    vectors = load_vectors(folder)
    check = ClovaXEmbeddings(model=MODEL, base_url=server.base_url, api_key=KEY)
    sample = list(range(0, len(texts), max(len(texts) // 50, 1)))
    expected = check.embed_documents([texts[index] for index in sample])
    check.close()
    distinct = len({hash(tuple(vector)) for vector in vectors})
    in_order = (
        len(vectors) == len(texts) == distinct and [vectors[index] for index in sample] == expected
    )
    again = sum(count - 1 for count in asked.values() if count > 1)
    return elapsed, statuses, again, in_order, folder


def ingestion(server: Server, scale: Scale, redis_url: str) -> list[Row]:
    distributed: Any = importlib.import_module("distributed")  # calls untyped for mypy

    from clova_core.bulk import embed_on_dask
    from clova_core.ratelimit_redis import RedisRateLimiter
    from langchain_clova import ClovaXEmbeddings

    texts = [f"document {index}: 하이퍼클로바X" for index in range(scale.bulk_texts)]
    limiter = RedisRateLimiter(
        redis_url,
        key=f"bulk-{time.time()}",
        requests_per_minute=BULK_QUOTA,
        window_seconds=WINDOW,
        margin_seconds=MARGIN,
    )
    os.environ["CLOVASTUDIO_API_KEY"] = KEY
    embedder = ClovaXEmbeddings(
        model=MODEL,
        base_url=server.base_url,
        max_retries=8,
        max_concurrency=16,
        quota_limiter=limiter,
    )
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=4,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        worker_dashboard_address=None,
        env={"CLOVASTUDIO_API_KEY": KEY},
    )
    client = distributed.Client(cluster)
    folders: list[Path] = []
    try:
        addresses = [client.scheduler_info()["address"], *client.scheduler_info()["workers"]]
        pinned = all(address.startswith("tcp://127.0.0.1:") for address in addresses)
        elapsed, statuses, again, in_order, folder = bulk_job(
            client, server, embedder, texts, kill=False
        )
        folders.append(folder)
        killed_texts = texts[: max(len(texts) // 5, BATCH * 6)]
        _, killed_statuses, killed_again, killed_in_order, folder = bulk_job(
            client, server, embedder, killed_texts, kill=True
        )
        folders.append(folder)
        server.reset(BULK_QUOTA)
        second = embed_on_dask(client, killed_texts, embedder, folder, batch_size=BATCH)
        rerun_statuses, _ = server.log()
    finally:
        client.close()
        cluster.close()
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
    rate = len(texts) / elapsed
    return [
        Row(
            "Dask, 2 workers x 4 threads, Redis quota",
            len(texts),
            elapsed,
            rate / (BULK_QUOTA / WINDOW),
            statuses.get(429, 0),
            f"one vector per text, in order: {in_order}; texts sent twice: {again}; "
            f"every address 127.0.0.1: {pinned}",
        ),
        Row(
            "Dask, a worker killed mid-job",
            len(killed_texts),
            0.0,
            0.0,
            killed_statuses.get(429, 0),
            f"finished; one vector per text, in order: {killed_in_order}; "
            f"texts sent twice (the killed worker's batches): {killed_again}",
        ),
        Row(
            "Dask, that job run again",
            len(killed_texts),
            0.0,
            0.0,
            rerun_statuses.get(429, 0),
            f"{second.skipped_batches} batches skipped, {second.embedded_batches} embedded, "
            f"{sum(rerun_statuses.values())} requests sent",
        ),
    ]


TARGETS = {
    "1 process, RateLimiter": ">= 95%, 0 x 429",
    "4 processes, one RedisRateLimiter": ">= 90%, 0 x 429",
    "4 processes, a RateLimiter each": "(the problem: 429s)",
    "adaptive, quota not given": ">= 85% within 30 s, < 2% 429s",
    "Dask, 2 workers x 4 threads, Redis quota": ">= 85%, exactly once, in order",
    "Dask, a worker killed mid-job": "no text lost",
    "Dask, that job run again": "no duplicates",
}


def markdown(rows: list[Row], command: str) -> str:
    lines = [
        f"Quota suite: `{command}`; windows of {WINDOW:g} s stand for a minute; latency "
        f"{LATENCY * 1000:.0f}-{(LATENCY + JITTER) * 1000:.0f} ms, counted at arrival; "
        f"margin {MARGIN} s.",
        "",
        "| scenario | texts | seconds | of the quota | 429s | target | notes |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for row in rows:
        ratio = f"{row.ratio:.1%}" if row.ratio else "-"
        seconds = f"{row.seconds:.1f}" if row.seconds else "-"
        lines.append(
            f"| {row.scenario} | {row.texts} | {seconds} | {ratio} | {row.too_many} | "
            f"{TARGETS.get(row.scenario, '')} | {row.note} |"
        )
    return "\n".join(lines)


SCENARIOS = ("one", "redis", "own", "adaptive", "bulk")


def run_quota(quick: bool, say: Progress, command: str = "", only: list[str] | None = None) -> str:
    """Run every scenario; returns the markdown table."""
    netguard.install()
    scale = QUICK if quick else FULL
    rows: list[Row] = []
    chosen = set(only or SCENARIOS)
    server = Server()
    directory = tempfile.mkdtemp(prefix="clova-redis-")
    redis_server, redis_url = start_redis(directory)
    try:
        say(f"quota suite: emulator at {server.base_url}, redis at {redis_url}")
        runs: list[tuple[str, Callable[[], list[Row]]]] = [
            ("one", lambda: [one_process(server, scale)]),
            ("redis", lambda: [four_processes(server, scale, redis_url)]),
            ("own", lambda: [four_processes(server, scale, None)]),
            ("adaptive", lambda: [adaptive(server, scale)]),
            ("bulk", lambda: ingestion(server, scale, redis_url)),
        ]
        for name, run in runs:
            if name in chosen:
                for row in run():
                    rows.append(row)
                    say(f"  {row}")
    finally:
        server.stop()
        redis_server.terminate()
        redis_server.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)
    return markdown(rows, command or "python -m benchmarks.suite_quota")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.suite_quota")
    parser.add_argument("--quick", action="store_true", help="shorter runs, 2,000 texts")
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, help="run only these")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def say(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    given = sys.argv[1:] if argv is None else argv
    command = " ".join(["python -m benchmarks.suite_quota", *given])
    print(run_quota(args.quick, say, command, args.only))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
