"""The life of the four framework objects, against the emulator: settings that follow the
object, copies, pickles, forks, ``close()`` with calls in flight, and context variables in the
embedding workers. (The shared mechanism is ``clova_core.connection``; each test runs it
through the framework classes users hold.)"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import os
import pickle
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil  # type: ignore[import-untyped]
import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from clova_core import errors
from clova_emulator import Emulator
from langchain_clova import ChatClovaX, ClovaXEmbeddings
from llama_index_clova import ClovaX, ClovaXEmbedding

KEY_A, KEY_B = "nv-lifecycle-key-a", "nv-lifecycle-key-b"

Use = Callable[[Any], Any]


def _lc_chat(model: Any) -> Any:
    return model.invoke("안녕하세요").content


def _li_chat(llm: Any) -> Any:
    return llm.chat([ChatMessage(role=MessageRole.USER, content="안녕하세요")]).message.content


def _lc_embed(embeddings: Any) -> Any:
    return embeddings.embed_documents(["하나", "둘"])


def _li_embed(embedding: Any) -> Any:
    return embedding.get_text_embedding_batch(["하나", "둘"])


CLASSES: list[tuple[type[Any], Use]] = [
    (ChatClovaX, _lc_chat),
    (ClovaX, _li_chat),
    (ClovaXEmbeddings, _lc_embed),
    (ClovaXEmbedding, _li_embed),
]
IDS = [cls.__name__ for cls, _ in CLASSES]


@pytest.fixture(autouse=True)
def _accept_key_a(emu: Emulator) -> None:
    emu.configure(keys=[KEY_A])


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLOVASTUDIO_API_KEY", "CLOVASTUDIO_API_BASE_URL", "NCP_APIGW_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def _embed(obj: Any, texts: list[str]) -> Any:
    """A batch through either embedding class."""
    if isinstance(obj, ClovaXEmbeddings):
        return obj.embed_documents(texts)
    return obj.get_text_embedding_batch(texts)


# --------------------------------------------------------------------- settings follow


@pytest.mark.parametrize(("cls", "use"), CLASSES, ids=IDS)
def test_an_assigned_key_is_used_after_first_use(
    cls: type[Any], use: Use, emu: Emulator, no_env: None
) -> None:
    obj = cls(api_key=KEY_A, base_url=emu.base_url)
    assert use(obj)
    emu.configure(keys=[KEY_B])  # the server now accepts only the new key
    with pytest.raises(errors.AuthenticationError):
        use(obj)
    obj.api_key = KEY_B
    assert use(obj)
    obj.close()


@pytest.mark.parametrize(("cls", "use"), CLASSES, ids=IDS)
def test_a_copy_with_another_key_and_url_never_shares_clients(
    cls: type[Any], use: Use, emu: Emulator, no_env: None
) -> None:
    emu.configure(keys=[KEY_A, KEY_B])
    with Emulator(keys=[KEY_B]) as other:
        original = cls(api_key=KEY_A, base_url=emu.base_url)
        assert use(original)
        moved = original.model_copy(update={"api_key": KEY_B, "base_url": other.base_url})
        before = len(emu.requests)
        assert use(moved)
        assert use(original)
        assert {r.path for r in other.requests}  # the copy went to the other server ...
        assert len(emu.requests) > before  # ... and the original still to its own
        assert moved._core() is not original._core()
        moved.close()
        original.close()


@pytest.mark.parametrize(("cls", "use"), CLASSES, ids=IDS)
def test_an_assigned_base_url_and_retries_take_effect(
    cls: type[Any], use: Use, emu: Emulator, no_env: None
) -> None:
    obj = cls(api_key=KEY_A, base_url="http://127.0.0.1:9")  # nothing listens there
    obj.max_retries = 0
    with pytest.raises(errors.APIConnectionError):
        use(obj)
    obj.base_url = emu.base_url
    assert use(obj)
    assert obj._core().sync.max_retries == 0
    obj.close()


# --------------------------------------------------------------------- copies and pickles


@pytest.mark.parametrize(("cls", "use"), CLASSES, ids=IDS)
def test_pickle_after_first_use_carries_no_key_and_no_connection(
    cls: type[Any], use: Use, emu: Emulator, monkeypatch: pytest.MonkeyPatch, no_env: None
) -> None:
    obj = cls(api_key=KEY_A, base_url=emu.base_url)
    assert use(obj)
    data = pickle.dumps(obj)
    assert KEY_A.encode() not in data
    restored = pickle.loads(data)
    assert restored.api_key is None
    with pytest.raises(errors.ClovaConfigurationError):  # no key in this environment
        use(restored)
    monkeypatch.setenv("CLOVASTUDIO_API_KEY", KEY_A)  # a worker's environment
    assert use(restored) == use(obj)
    restored.close()
    obj.close()


@pytest.mark.parametrize(("cls", "use"), CLASSES, ids=IDS)
def test_deepcopy_after_first_use_keeps_the_key_and_builds_its_own_clients(
    cls: type[Any], use: Use, emu: Emulator, no_env: None
) -> None:
    obj = cls(api_key=KEY_A, base_url=emu.base_url)
    assert use(obj)
    twin = copy.deepcopy(obj)
    assert twin.api_key.get_secret_value() == KEY_A
    assert use(twin) == use(obj)
    assert twin._core() is not obj._core()
    twin.close()
    obj.close()


# --------------------------------------------------------------------- fork


def _embed_in_rounds(obj: Any, texts: list[str], expected: dict[str, Any]) -> int:
    """How many of the rounds got a reply that is not the one for their own text."""
    wrong = 0
    for text in texts:
        if _embed(obj, [text])[0] != expected[text]:
            wrong += 1
    return wrong


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("cls", [ClovaXEmbeddings, ClovaXEmbedding], ids=lambda c: c.__name__)
def test_a_forked_child_opens_its_own_connections(
    cls: type[Any], emu: Emulator, no_env: None
) -> None:
    obj = cls(api_key=KEY_A, base_url=emu.base_url, max_concurrency=1)
    emu.configure(latency=0.01)  # so that the two processes' requests overlap
    parent_texts = [f"parent {i}" for i in range(30)]
    child_texts = [f"child {i}" for i in range(30)]
    expected = {text: _embed(obj, [text])[0] for text in parent_texts + child_texts}
    # The parent holds a kept-alive connection now; the child inherits the object.
    parents_clients = obj._core()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report how many replies were not its own, then leave at once
        status = 1
        try:
            os.close(read_end)
            wrong = _embed_in_rounds(obj, child_texts, expected)
            if obj._core() is parents_clients:  # it would share the parent's sockets
                wrong = -1
            os.write(write_end, str(wrong).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    parent_wrong = _embed_in_rounds(obj, parent_texts, expected)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(read_end) as pipe:
        child_report = pipe.read()
    assert os.waitstatus_to_exitcode(status) == 0
    assert (parent_wrong, int(child_report)) == (0, 0)
    obj.close()


# --------------------------------------------------------------------- close in flight


@pytest.mark.parametrize("cls", [ClovaXEmbeddings, ClovaXEmbedding], ids=lambda c: c.__name__)
def test_close_during_a_batch_leaves_no_connection_open(cls: type[Any], no_env: None) -> None:
    with Emulator(keys=[KEY_A], latency=0.05) as emu:  # its own port: only these connections
        obj = cls(api_key=KEY_A, base_url=emu.base_url, max_concurrency=4, max_retries=0)
        texts = [f"text {i}" for i in range(40)]
        outcome: list[object] = []
        worker = threading.Thread(target=lambda: outcome.append(_catching(obj, texts)))
        worker.start()
        deadline = time.monotonic() + 10
        while len(emu.requests) < 4 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert _connections_to(emu.port) == 4
        obj.close()  # four requests are in flight, the rest queued
        worker.join(timeout=30)
        assert not worker.is_alive()
        assert isinstance(outcome[0], (list, errors.ClovaError))  # a typed error, if any
        deadline = time.monotonic() + 5
        while _connections_to(emu.port) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _connections_to(emu.port) == 0
        assert len(emu.requests) < len(texts)  # the queued texts were not sent after close


def _connections_to(port: int) -> int:
    """This process's TCP connections to ``port`` (closed-and-waiting ones excluded)."""
    return sum(
        1
        for conn in psutil.Process().net_connections(kind="tcp")
        if conn.raddr and conn.raddr.port == port and conn.status != psutil.CONN_TIME_WAIT
    )


def _catching(obj: Any, texts: list[str]) -> object:
    try:
        return _embed(obj, texts)
    except errors.ClovaError as error:
        return error


# --------------------------------------------------------------------- context variables


TRACE: contextvars.ContextVar[str] = contextvars.ContextVar("trace", default="none")


class _RecordingLimiter:
    """Any object with acquire / aacquire is a quota limiter; this one records the context
    variable each request sees (it runs in the fan-out worker, just before sending)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def acquire(self, tokens: int = 0) -> None:
        self.seen.append(TRACE.get())

    async def aacquire(self, tokens: int = 0) -> None:
        self.seen.append(TRACE.get())


@pytest.mark.parametrize("cls", [ClovaXEmbeddings, ClovaXEmbedding], ids=lambda c: c.__name__)
def test_context_variables_reach_every_embedding_worker(
    cls: type[Any], emu: Emulator, no_env: None
) -> None:
    limiter = _RecordingLimiter()
    obj = cls(api_key=KEY_A, base_url=emu.base_url, max_concurrency=4, quota_limiter=limiter)
    texts = [f"text {i}" for i in range(12)]
    sync_embed = (
        obj.embed_documents if isinstance(obj, ClovaXEmbeddings) else obj.get_text_embedding_batch
    )
    async_embed = (
        obj.aembed_documents if isinstance(obj, ClovaXEmbeddings) else obj.aget_text_embedding_batch
    )

    TRACE.set("sync-run")
    sync_embed(texts)

    async def run() -> None:
        TRACE.set("async-run")
        await async_embed(texts)

    asyncio.run(run())
    assert limiter.seen == ["sync-run"] * 12 + ["async-run"] * 12
    obj.close()


# --------------------------------------------------------------------- context managers


@pytest.mark.parametrize(("cls", "use"), CLASSES, ids=IDS)
def test_leaving_a_with_block_closes_the_connections(
    cls: type[Any], use: Use, no_env: None
) -> None:
    with Emulator(keys=[KEY_A]) as emu:  # its own port: only these connections
        with cls(api_key=KEY_A, base_url=emu.base_url) as obj:
            use(obj)
            assert _connections_to(emu.port) >= 1
        deadline = time.monotonic() + 5
        while _connections_to(emu.port) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _connections_to(emu.port) == 0


@pytest.mark.parametrize("cls", [ChatClovaX, ClovaXEmbeddings], ids=lambda c: c.__name__)
async def test_leaving_an_async_with_block_closes_the_connections(
    cls: type[Any], no_env: None
) -> None:
    with Emulator(keys=[KEY_A]) as emu:
        async with cls(api_key=KEY_A, base_url=emu.base_url) as obj:
            if cls is ChatClovaX:
                await obj.ainvoke("안녕하세요")
            else:
                await obj.aembed_documents(["하나", "둘"])
            assert _connections_to(emu.port) >= 1
        deadline = time.monotonic() + 5
        while _connections_to(emu.port) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert _connections_to(emu.port) == 0
