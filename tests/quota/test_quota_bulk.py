"""Bulk ingestion on a Dask cluster pinned to 127.0.0.1: worker processes share one Redis
quota, every text is embedded exactly once and in order, a worker killed mid-job loses no
text, and a rerun after the job stopped embeds only what was missing."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clova_core.bulk import batch_path, embed_on_dask, load_vectors
from clova_core.errors import ClovaConfigurationError
from clova_core.ratelimit_redis import RedisRateLimiter
from clova_emulator import Emulator
from langchain_clova import ClovaXEmbeddings

distributed = pytest.importorskip("distributed")

TEXTS = [f"document {index}: 하이퍼클로바X" for index in range(120)]
BATCH = 10


@pytest.fixture(scope="module")
def dask_client() -> Iterator[object]:
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=2,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        worker_dashboard_address=None,
        env={"CLOVASTUDIO_API_KEY": "test-key"},  # workers resolve the key themselves
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(autouse=True)
def driver_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The driver resolves the key from its environment too; the pickles carry none."""
    monkeypatch.setenv("CLOVASTUDIO_API_KEY", "test-key")


def embeddings(emu: Emulator, redis_url: str, key: str) -> ClovaXEmbeddings:
    limiter = RedisRateLimiter(
        redis_url, key=key, requests_per_minute=60, window_seconds=1.0, margin_seconds=0.15
    )
    return ClovaXEmbeddings(
        model="bge-m3",
        base_url=emu.base_url,
        max_retries=0,
        max_concurrency=4,
        quota_limiter=limiter,
    )


def expected(emu: Emulator) -> list[list[float]]:
    direct = ClovaXEmbeddings(model="bge-m3", api_key="test-key", base_url=emu.base_url)
    try:
        return direct.embed_documents(TEXTS)
    finally:
        direct.close()


def test_every_address_is_loopback(dask_client: object) -> None:
    info = dask_client.scheduler_info()  # type: ignore[attr-defined]
    assert info["address"].startswith("tcp://127.0.0.1:")
    assert info["workers"]
    assert all(address.startswith("tcp://127.0.0.1:") for address in info["workers"])


def test_exactly_once_in_order_under_one_quota_with_a_killed_worker(
    dask_client: object,
    emu: Emulator,
    redis_url: str,
    quota_key: str,
    tmp_path: Path,
) -> None:
    emu.configure(qpm={"bge-m3": 60}, rate_window=1.0, latency=0.02, latency_jitter=0.03)
    embedder = embeddings(emu, redis_url, quota_key)
    pids = dask_client.run(os.getpid)  # type: ignore[attr-defined]
    victim = sorted(pids.values())[0]

    def kill_when_started() -> None:
        deadline = time.monotonic() + 30
        while not any(tmp_path.glob("batch-*")) and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(victim, signal.SIGKILL)

    killer = threading.Thread(target=kill_when_started)
    killer.start()
    report = embed_on_dask(dask_client, TEXTS, embedder, tmp_path, batch_size=BATCH)
    killer.join()

    assert report.texts == len(TEXTS)
    assert report.embedded_batches + report.skipped_batches == len(TEXTS) // BATCH
    records = emu.requests
    assert 429 not in [record.status for record in records]  # the workers shared one quota
    asked = [record.body["text"] for record in records if record.body]
    assert set(asked) == set(TEXTS)
    again = {int(text.split()[1].rstrip(":")) // BATCH for text in asked if asked.count(text) > 1}
    assert len(again) <= 2, again  # only the batches the killed worker was running (2 threads)
    assert load_vectors(tmp_path) == expected(emu)  # all texts, once each, in order


class StopsAfter:
    """An embedder that lets ``batches`` batches through, then fails: the job stops."""

    def __init__(self, inner: ClovaXEmbeddings, marker: Path, batches: int) -> None:
        self.inner, self.marker, self.batches = inner, marker, batches

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        done = len(list(self.marker.glob("batch-*")))
        if done >= self.batches:
            raise RuntimeError("the job stops here")
        return self.inner.embed_documents(texts)


def test_a_rerun_embeds_only_the_missing_batches(
    dask_client: object,
    emu: Emulator,
    redis_url: str,
    quota_key: str,
    tmp_path: Path,
) -> None:
    embedder = embeddings(emu, redis_url, quota_key)
    with pytest.raises(RuntimeError, match="stops here"):
        embed_on_dask(
            dask_client,
            TEXTS,
            StopsAfter(embedder, tmp_path, 4),
            tmp_path,
            batch_size=BATCH,
            retries=0,
        )
    finished = sorted(path.name for path in tmp_path.glob("batch-*"))
    assert 4 <= len(finished) < len(TEXTS) // BATCH
    emu.clear_requests()

    report = embed_on_dask(dask_client, TEXTS, embedder, tmp_path, batch_size=BATCH)

    assert report.skipped_batches == len(finished)
    asked = [record.body["text"] for record in emu.requests if record.body]
    assert len(asked) == len(set(asked)) == len(TEXTS) - len(finished) * BATCH
    assert load_vectors(tmp_path) == expected(emu)


def test_a_folder_of_other_texts_is_refused(tmp_path: Path, dask_client: object) -> None:
    batch_path(tmp_path, 0)
    embed_on_dask(dask_client, ["a", "b"], lambda texts: [[1.0]] * len(texts), tmp_path)
    with pytest.raises(ClovaConfigurationError, match="other texts"):
        embed_on_dask(dask_client, ["a", "c"], lambda texts: [[1.0]] * len(texts), tmp_path)
    assert load_vectors(tmp_path) == [[1.0], [1.0]]
