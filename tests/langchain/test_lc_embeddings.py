"""ClovaXEmbeddings against the emulator: fan-out, order, limits, errors, progress."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

import pytest

from clova_core.errors import (
    AuthenticationError,
    BadRequestError,
    ClovaValidationError,
    ContextLimitError,
    UnknownModelError,
)
from clova_emulator import Emulator, RequestRecord, ScriptedEmbedding, ScriptedError
from langchain_clova import ClovaXEmbeddings

TEXTS = [f"문서 {i}: 서울의 한강과 다리 {i}개에 관한 이야기" for i in range(9)]

Log = Callable[[int], list[RequestRecord]]


@pytest.fixture
def log(emulator_env: Emulator) -> Log:
    """``log(n)``: this test's requests once the emulator has logged ``n`` of them (it logs
    a request after writing the reply)."""
    started = time.time()

    def wait(count: int) -> list[RequestRecord]:
        deadline = time.monotonic() + 5
        while True:
            records = [r for r in emulator_env.requests if r.time >= started]
            if len(records) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        assert len(records) == count
        return records

    return wait


def max_in_flight(records: list[RequestRecord]) -> int:
    """The most requests the server was handling at one time."""
    edges = sorted(
        [(r.time, 1) for r in records] + [(r.time + r.duration, -1) for r in records],
        key=lambda edge: (edge[0], edge[1]),
    )
    current = peak = 0
    for _, step in edges:
        current += step
        peak = max(peak, current)
    return peak


def test_documents_keep_order_and_match_single_queries(emulator_env: Emulator) -> None:
    embeddings = ClovaXEmbeddings()
    vectors = embeddings.embed_documents(TEXTS)
    assert len(vectors) == len(TEXTS)
    assert all(len(v) == 1024 for v in vectors)
    assert vectors == [embeddings.embed_query(text) for text in TEXTS]
    assert asyncio.run(embeddings.aembed_documents(TEXTS)) == vectors
    assert embeddings.embed_documents([]) == []


@pytest.mark.parametrize("use_async", [False, True])
def test_fan_out_is_bounded_by_max_concurrency(
    emulator_env: Emulator, log: Log, use_async: bool
) -> None:
    emulator_env.configure(latency=0.1)
    embeddings = ClovaXEmbeddings(max_concurrency=3)
    started = time.monotonic()
    if use_async:
        vectors = asyncio.run(embeddings.aembed_documents(TEXTS))
    else:
        vectors = embeddings.embed_documents(TEXTS)
    elapsed = time.monotonic() - started
    assert len(vectors) == 9
    records = log(9)
    assert 2 <= max_in_flight(records) <= 3
    assert elapsed < 9 * 0.1  # concurrent, not one after another
    assert {r.path for r in records} == {"/v1/api-tools/embedding/clir-emb-dolphin"}


def test_normalize_gives_unit_vectors(emulator_env: Emulator) -> None:
    raw = ClovaXEmbeddings().embed_query("한강의 다리")
    unit = ClovaXEmbeddings(normalize=True).embed_query("한강의 다리")
    assert not math.isclose(math.hypot(*raw), 1.0, rel_tol=1e-6)
    assert math.isclose(math.hypot(*unit), 1.0, rel_tol=1e-9)
    norm = math.hypot(*raw)
    assert unit == pytest.approx([value / norm for value in raw])


async def test_over_long_or_empty_text_is_rejected_by_index_before_sending(
    emulator_env: Emulator,
) -> None:
    too_long = "가나다라마바사아" * 1000  # at least 1,000 tokens; clir models take 500
    embeddings = ClovaXEmbeddings()
    with pytest.raises(ContextLimitError, match=r"texts\[1\]") as caught:
        embeddings.embed_documents(["ok", too_long, "ok"])
    assert caught.value.max_input_tokens == 500
    with pytest.raises(ContextLimitError, match=r"texts\[1\]"):
        await embeddings.aembed_documents(["ok", too_long])
    with pytest.raises(ClovaValidationError, match=r"texts\[2\]"):
        embeddings.embed_documents(["a", "b", ""])
    assert emulator_env.requests == []
    # bge-m3 takes 8,192 tokens, so the same text is fine there
    assert len(ClovaXEmbeddings(model="bge-m3").embed_documents([too_long])[0]) == 1024


def test_429_is_retried_by_the_core(emulator_env: Emulator, log: Log) -> None:
    emulator_env.script(
        ScriptedError(status=429, code="42901", retry_after=0, endpoint="embedding")
    )
    vectors = ClovaXEmbeddings(max_concurrency=1).embed_documents(TEXTS[:3])
    assert len(vectors) == 3
    assert sorted(r.status or 0 for r in log(4)) == [200, 200, 200, 429]


def test_a_failure_stops_the_queued_texts(emulator_env: Emulator, log: Log) -> None:
    emulator_env.script(
        ScriptedEmbedding(vector=[0.5] * 1024),
        ScriptedError(status=400, code="40001", endpoint="embedding"),
    )
    with pytest.raises(BadRequestError):
        ClovaXEmbeddings(max_concurrency=1).embed_documents(TEXTS)
    assert len(log(2)) == 2  # the seven texts after the failure were never sent


def test_errors_propagate_unchanged(emulator_env: Emulator) -> None:
    with pytest.raises(AuthenticationError):
        ClovaXEmbeddings(api_key="wrong-key").embed_documents(["a", "b"])
    with pytest.raises(UnknownModelError):
        ClovaXEmbeddings(model="text-embedding-3-small").embed_documents(["a"])


def test_models_use_their_paths(emulator_env: Emulator, log: Log) -> None:
    ClovaXEmbeddings(model="clir-sts-dolphin").embed_query("a")
    ClovaXEmbeddings(model="bge-m3").embed_query("b")
    assert [r.path for r in log(2)] == [
        "/v1/api-tools/embedding/clir-sts-dolphin",
        "/v1/api-tools/embedding/v2",
    ]


def test_progress_bar_on_request(
    emulator_env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    ClovaXEmbeddings(show_progress=True).embed_documents(TEXTS[:3])
    err = capsys.readouterr().err
    assert "Embedding (clir-emb-dolphin)" in err
    assert "3/3" in err
    ClovaXEmbeddings().embed_documents(TEXTS[:3])
    assert capsys.readouterr().err == ""


def test_key_never_in_repr() -> None:
    embeddings = ClovaXEmbeddings(api_key="test-key")
    assert "test-key" not in repr(embeddings)
    assert "test-key" not in str(embeddings.model_dump())


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_failed_text_is_named_and_the_finished_vectors_kept(
    emulator_env: Emulator, log: Log, mode: str
) -> None:
    emulator_env.script(
        ScriptedEmbedding(vector=[0.5] * 1024),
        ScriptedEmbedding(vector=[0.25] * 1024),
        ScriptedError(status=400, code="40001", endpoint="embedding"),
    )
    embeddings = ClovaXEmbeddings(max_concurrency=1)

    def embed() -> object:
        if mode == "sync":
            return embeddings.embed_documents(TEXTS)
        return asyncio.run(embeddings.aembed_documents(TEXTS))

    with pytest.raises(BadRequestError, match=r"^texts\[2\] \(of 9\): ") as caught:
        embed()
    error = caught.value
    assert getattr(error, "index", None) == 2
    partial = getattr(error, "partial_results", None)
    assert partial is not None
    assert [list(result.embedding[:1]) if result else None for result in partial] == [
        [0.5],
        [0.25],
    ] + [None] * 7
    assert len(log(3)) == 3
