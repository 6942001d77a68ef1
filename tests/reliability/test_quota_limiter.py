"""The client-side QPM / TPM limiter, exposed as ``quota_limiter`` on all four classes.

The emulator enforces the documented test-key limits (``qpm="documented"``,
``tpm="documented"``: bge-m3 60 requests / 40,000 tokens, HCX-005 60 requests / 60,000
tokens a window), with the window shrunk from 60 s to 0.8 s so that a test takes a second.
The requests are large, so the token quota is the one that binds: 2,000-token texts (20 fit
in a window) and chats asking for 4,096 output tokens (14 fit). Each run is made twice with
``max_retries=0``, so any 429 fails it:

* without a limiter: the burst goes over the quota, the server answers 429, the run fails;
* with ``quota_limiter=RateLimiter.for_model(model, window_seconds=0.8, margin_seconds=0.3)``,
  everything else the same: it succeeds and the emulator's log holds no 429 at all.

The client counts a request when it leaves, the server when it arrives; the margin absorbs
how much that delay varies (threads of client and emulator share two cores here). Against
the real 60 s window the default margin is 1.2 s.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from langchain_core.language_models import LanguageModelInput
from langchain_core.load import dumps
from llama_index.core.base.llms.types import ChatMessage
from rel_support import KEY

from clova_core.errors import ClovaConfigurationError, RateLimitError, UnknownModelError
from clova_core.ratelimit import RateLimiter
from clova_emulator import Emulator
from langchain_clova import ChatClovaX, ClovaXEmbeddings
from llama_index_clova import ClovaX, ClovaXEmbedding

SERVER_WINDOW = 0.8
MARGIN = 0.3
EMBED_MODEL = "bge-m3"
CHAT_MODEL = "HCX-005"
TEXTS = [f"text {index} " + "!" * 2000 for index in range(30)]
"""Texts of about 2,000 tokens (one per punctuation mark, by the emulator's count and the
client's estimate alike) that are cheap to embed: 20 fill bge-m3's 40,000-token window."""
PROMPTS = [f"prompt {index}: say hello" for index in range(20)]
"""Chats asking for 4,096 output tokens: 14 fill HCX-005's 60,000-token window."""
MAX_TOKENS = 4096

Run = Callable[[Emulator, RateLimiter | None], Awaitable[int]]


def options(emu: Emulator, limiter: RateLimiter | None) -> dict[str, Any]:
    return {"api_key": KEY, "base_url": emu.base_url, "max_retries": 0, "quota_limiter": limiter}


async def lc_embed_sync(
    emu: Emulator, limiter: RateLimiter | None, texts: list[str] = TEXTS
) -> int:
    embeddings = ClovaXEmbeddings(model=EMBED_MODEL, max_concurrency=8, **options(emu, limiter))
    try:
        return len(await asyncio.to_thread(embeddings.embed_documents, texts))
    finally:
        embeddings.close()


async def li_embed_async(
    emu: Emulator, limiter: RateLimiter | None, texts: list[str] = TEXTS
) -> int:
    embed_model = ClovaXEmbedding(
        model_name=EMBED_MODEL, max_concurrency=8, **options(emu, limiter)
    )
    try:
        return len(await embed_model.aget_text_embedding_batch(texts))
    finally:
        await embed_model.aclose()


async def lc_chat_batch(emu: Emulator, limiter: RateLimiter | None) -> int:
    model = ChatClovaX(model=CHAT_MODEL, max_tokens=MAX_TOKENS, **options(emu, limiter))
    try:
        inputs: list[LanguageModelInput] = list(PROMPTS)
        replies = await asyncio.to_thread(model.batch, inputs, {"max_concurrency": 8})
        return len(replies)
    finally:
        model.close()


async def li_chat_gather(emu: Emulator, limiter: RateLimiter | None) -> int:
    llm = ClovaX(model=CHAT_MODEL, max_tokens=MAX_TOKENS, **options(emu, limiter))
    try:
        replies = await asyncio.gather(
            *(llm.achat([ChatMessage(role="user", content=prompt)]) for prompt in PROMPTS),
            return_exceptions=True,  # every call finishes before the run returns
        )
        for reply in replies:
            if isinstance(reply, BaseException):
                raise reply
        return len(replies)
    finally:
        await llm.aclose()


RUNS: dict[str, tuple[Run, str, int]] = {
    "langchain-embed_documents": (lc_embed_sync, EMBED_MODEL, len(TEXTS)),
    "llamaindex-aget_text_embedding_batch": (li_embed_async, EMBED_MODEL, len(TEXTS)),
    "langchain-chat-batch": (lc_chat_batch, CHAT_MODEL, len(PROMPTS)),
    "llamaindex-achat-gather": (li_chat_gather, CHAT_MODEL, len(PROMPTS)),
}
"""Sync and async paths, embeddings and chat, on both frameworks."""


def statuses(emu: Emulator) -> list[int | None]:
    return [record.status for record in emu.requests]


def quiesce(emu: Emulator) -> None:
    """Wait until the emulator has finished every request it received (a failed burst may
    leave some in its handler threads), so none of them counts in the next window."""

    def busy() -> tuple[int, bool]:
        records = emu.requests
        return len(records), any(record.duration == 0.0 for record in records)

    previous = (-1, True)
    current = busy()
    while current != previous or current[1]:
        time.sleep(0.05)
        previous, current = current, busy()


@pytest.mark.parametrize("name", list(RUNS))
async def test_limiter_prevents_every_429(emu: Emulator, name: str) -> None:
    """30 texts (20 fit a window) or 20 chats (14 fit): over the quota at once."""
    run, model, calls = RUNS[name]
    emu.configure(qpm="documented", tpm="documented", rate_window=SERVER_WINDOW)
    with pytest.raises(RateLimitError) as info:
        await run(emu, None)
    assert info.value.code == "42901"
    assert 429 in statuses(emu)

    quiesce(emu)
    emu.reset()  # a fresh server window, then the very same run with the limiter
    emu.configure(qpm="documented", tpm="documented", rate_window=SERVER_WINDOW)
    limiter = RateLimiter.for_model(model, window_seconds=SERVER_WINDOW, margin_seconds=MARGIN)
    assert await run(emu, limiter) == calls
    assert statuses(emu) == [200] * calls  # no 429, no retry, nothing else
    assert emu.server_errors == []


def test_one_limiter_is_shared_across_objects_and_loops(emu: Emulator) -> None:
    """One limiter held by a sync LangChain object and an async LlamaIndex one at once."""
    emu.configure(qpm="documented", tpm="documented", rate_window=SERVER_WINDOW)
    limiter = RateLimiter.for_model(
        EMBED_MODEL, window_seconds=SERVER_WINDOW, margin_seconds=MARGIN
    )

    async def both() -> list[int]:
        return list(
            await asyncio.gather(
                lc_embed_sync(emu, limiter, TEXTS[:15]), li_embed_async(emu, limiter, TEXTS[15:])
            )
        )

    assert asyncio.run(both()) == [15, len(TEXTS) - 15]
    assert statuses(emu) == [200] * len(TEXTS)


def test_field_is_not_serialised_and_not_the_framework_limiter() -> None:
    limiter = RateLimiter(10, 1000)
    model = ChatClovaX(api_key=KEY, quota_limiter=limiter)
    assert model.quota_limiter is limiter
    assert model.rate_limiter is None  # LangChain's own field is untouched
    assert "quota_limiter" not in model.model_dump()
    assert "quota_limiter" not in dumps(model)
    llm = ClovaX(api_key=KEY, quota_limiter=limiter)
    assert llm.rate_limiter is None
    assert "quota_limiter" not in llm.to_dict()


def test_documented_limits_by_model_name() -> None:
    embed = RateLimiter.for_model("bge-m3")
    chat = RateLimiter.for_model("HCX-007", window_seconds=2.0)
    assert (embed.requests_per_minute, embed.tokens_per_minute) == (60, 40_000)
    assert (chat.requests_per_minute, chat.tokens_per_minute, chat.window_seconds) == (
        60,
        60_000,
        2.0,
    )
    with pytest.raises(ClovaConfigurationError, match="requests_per_minute"):
        RateLimiter.for_model("clir-emb-dolphin")  # no documented limits
    with pytest.raises(UnknownModelError):
        RateLimiter.for_model("HCX-999")
