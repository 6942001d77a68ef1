"""2,000 texts embedded under injected faults: every vector back, in order, nothing extra sent.

Faults (rel_support.FAULTS): 10% of attempts answer 429 with ``Retry-After: 0``, 5% answer
500, 2% reset the connection, so an attempt fails with probability ``p = 0.1621``. The core
retries with zero backoff (``retry_policy=NO_WAIT``). With ``max_retries=6`` a text is lost
only if 7 attempts in a row fail: ``p**7 = 2.9e-6``, i.e. 0.006 expected lost texts per run
of 2,000 (with the default ``max_retries=2``, ``p**3 * 2000 = 8.5``: failures are certain).
The dice have a fixed ``fault_seed``; with several requests in flight the order in which
requests meet the dice depends on scheduling, so the bound above is what makes the test
reliable, not the seed alone.

Evidence comes from the emulator's request log, grouped by request id: 2,000 ids, each with
its injected failures followed by exactly one 200 (``rel_support.account_retries``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rel_support import FAULT_RETRIES, KEY, NO_WAIT, account_retries, faulty

from clova_core.client import ClovaClient
from clova_emulator import Emulator
from clova_emulator.api.embeddings import vector
from langchain_clova import ClovaXEmbeddings
from llama_index_clova import ClovaXEmbedding

MODEL = "clir-emb-dolphin"
EMBED_PATH = f"/v1/api-tools/embedding/{MODEL}"
TOPICS = ("날씨", "역사", "음식", "교통")
TEXTS = [
    f"문서 {index}: 서울의 {TOPICS[index % 4]} 이야기 #{index * 7919 % 10007}"
    if index % 2
    else f"document {index} about topic {index % 37} and item {index * 104729 % 9973}"
    for index in range(2000)
]


@pytest.fixture(scope="module")
def fault_free(emulator: Emulator) -> list[list[float]]:
    """What a fault-free run returns for the 2,000 texts (the reference).

    The emulator's vectors are a pure function of (text, model) and JSON round-trips Python
    floats exactly, so a fault-free run returns ``vector(text, MODEL)`` for every text; that
    is checked over the wire here for every 10th text (a full second run would only add the
    time of one more run)."""
    reference = [vector(text, MODEL) for text in TEXTS]
    emulator.reset()
    with ClovaClient(api_key=KEY, base_url=emulator.base_url, max_retries=0) as client:
        for index in range(0, len(TEXTS), 10):
            assert client.embed(TEXTS[index], model=MODEL).embedding == reference[index]
    emulator.reset()
    return reference


@pytest.fixture
def faults(emu: Emulator) -> Iterator[Emulator]:
    faulty(emu, seed=20240917)
    yield emu
    assert emu.server_errors == []


def check(emu: Emulator, vectors: list[list[float]], reference: list[list[float]]) -> None:
    assert len(vectors) == len(TEXTS)
    assert vectors == reference  # every vector, in input order, bit-identical
    records = emu.requests
    assert {record.path for record in records} == {EMBED_PATH}
    account = account_retries(records, calls=len(TEXTS))
    # ~16% of attempts fail: hundreds of retries happened, each one accounted for.
    assert account.retries > 100
    assert set(account.by_failure) == {"429", "500", "reset"}


def lc_embeddings(emu: Emulator) -> ClovaXEmbeddings:
    return ClovaXEmbeddings(
        model=MODEL,
        api_key=KEY,
        base_url=emu.base_url,
        max_retries=FAULT_RETRIES,
        retry_policy=NO_WAIT,
        max_concurrency=2,  # in flight at once: results complete out of order
    )


def test_langchain_sync(faults: Emulator, fault_free: list[list[float]]) -> None:
    embeddings = lc_embeddings(faults)
    vectors = embeddings.embed_documents(TEXTS)
    embeddings.close()
    check(faults, vectors, fault_free)


async def test_langchain_async(faults: Emulator, fault_free: list[list[float]]) -> None:
    embeddings = lc_embeddings(faults)
    vectors = await embeddings.aembed_documents(TEXTS)
    await embeddings.aclose()
    check(faults, vectors, fault_free)


def test_llamaindex_batch(faults: Emulator, fault_free: list[list[float]]) -> None:
    embed_model = ClovaXEmbedding(
        model_name=MODEL,
        api_key=KEY,
        base_url=faults.base_url,
        max_retries=FAULT_RETRIES,
        retry_policy=NO_WAIT,
        max_concurrency=2,  # in flight at once: results complete out of order
        embed_batch_size=250,
    )
    vectors = embed_model.get_text_embedding_batch(TEXTS)
    embed_model.close()
    check(faults, vectors, fault_free)
