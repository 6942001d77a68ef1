"""The API key never shows: not in logs (DEBUG included), errors, reprs, serialised objects,
framework callbacks or cassettes.

Distinctive fake credentials are used so that a partial leak is found too (every one of them
contains ``SECRET``). Calls go over the wire to the emulator, successes and failures alike:
retried 429 / 500 / dropped connections, a 401 with a wrong key, a refused connection, a cut
stream, the legacy two-header scheme, and both frameworks' sync, async and streaming paths.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.load import dumpd, dumps
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.bridge.pydantic import Field
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from rel_support import NO_WAIT

from clova_core.client import AsyncClovaClient, ClovaClient
from clova_core.constants import ENV_API_KEY, SECRET_HEADERS
from clova_core.errors import APIError
from clova_core.types import ChatRequest, Message
from clova_emulator import Emulator, ScriptedDisconnect, ScriptedError, ScriptedReply
from langchain_clova import ChatClovaX, ClovaXEmbeddings
from llama_index_clova import ClovaX, ClovaXEmbedding

SECRET = "nv-FAKE-leak-probe-SECRET-0123"  # not key-shaped: hyphens break the nv- pattern
WRONG = "nv-FAKE-leak-probe-WRONG-9876"
LEGACY = "SECRETLEGACYKEY0123456"
GATEWAY = "SECRETGATEWAYKEY0123456"
MARK = "SECRET"
"""A substring of every fake credential: finding it anywhere is a (partial) leak."""
LOGGERS = ("", "clova_core", "httpx", "httpcore")
TESTS = Path(__file__).resolve().parents[1]
ASK = ChatRequest(messages=[Message("user", "Tell me about Seoul")], model="HCX-005")


def assert_clean(*texts: str) -> None:
    for text in texts:
        assert MARK not in text, text


def error_texts(error: BaseException) -> list[str]:
    """str / repr / args / attributes of an error and of every error it chains to, and the
    formatted traceback."""
    texts = ["".join(traceback.format_exception(error))]
    seen: BaseException | None = error
    while seen is not None:
        texts += [str(seen), repr(seen), repr(seen.args), repr(vars(seen))]
        seen = seen.__cause__ or seen.__context__
    return texts


class Collected:
    """Everything produced by the calls, to be scanned."""

    def __init__(self) -> None:
        self.objects: list[Any] = []
        self.errors: list[BaseException] = []

    def expect_error(self, call: Any) -> None:
        try:
            call()
        except APIError as error:
            self.errors.append(error)
        else:
            raise AssertionError("expected an APIError")

    async def aexpect_error(self, call: Any) -> None:
        try:
            await call()
        except APIError as error:
            self.errors.append(error)
        else:
            raise AssertionError("expected an APIError")


@pytest.fixture
def keyed(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    for name in (ENV_API_KEY, "NCP_APIGW_API_KEY", "CLOVASTUDIO_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    emu.configure(keys={SECRET}, legacy_keys={(LEGACY, GATEWAY)})
    yield emu
    assert emu.server_errors == []


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def refused_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def core_calls(emu: Emulator, got: Collected) -> None:
    with ClovaClient(
        api_key=SECRET, base_url=emu.base_url, max_retries=3, retry_policy=NO_WAIT
    ) as c:
        got.objects.append(c)
        emu.script(
            ScriptedError(status=429, retry_after=0),
            ScriptedError(status=500),
            ScriptedDisconnect(),
        )
        got.objects.append(c.chat(ASK))  # three retries logged, then a success
        got.objects.append(c.embed("서울"))
        emu.script(ScriptedReply(content="one two three four", cut_after=2))
        got.expect_error(lambda: list(c.stream_chat(ASK)))
        emu.script(ScriptedError(status=500, in_stream=True, after_events=1))
        got.expect_error(lambda: list(c.stream_chat(ASK)))
    with ClovaClient(api_key=WRONG, base_url=emu.base_url) as wrong:
        got.expect_error(lambda: wrong.chat(ASK))
        got.expect_error(lambda: list(wrong.stream_chat(ASK)))
    with ClovaClient(api_key=LEGACY, apigw_api_key=GATEWAY, base_url=emu.base_url) as legacy:
        got.objects += [legacy, legacy.chat(ASK)]
    with ClovaClient(api_key=LEGACY, apigw_api_key=WRONG, base_url=emu.base_url) as bad:
        got.expect_error(lambda: bad.chat(ASK))
    with ClovaClient(
        api_key=SECRET, base_url=refused_url(), max_retries=1, retry_policy=NO_WAIT
    ) as refused:
        got.expect_error(lambda: refused.chat(ASK))

    async def asynchronous() -> None:
        async with AsyncClovaClient(
            api_key=SECRET, base_url=emu.base_url, retry_policy=NO_WAIT
        ) as c:
            emu.script(ScriptedError(status=503, retry_after=0))
            stream = await c.stream_chat(ASK)
            async with stream:
                got.objects += [stream, [event async for event in stream]]
        async with AsyncClovaClient(api_key=WRONG, base_url=emu.base_url) as wrong:
            await got.aexpect_error(lambda: wrong.embed("hi"))

    asyncio.run(asynchronous())


def framework_calls(emu: Emulator, got: Collected, callbacks: list[Any]) -> None:
    lc = ChatClovaX(
        api_key=SECRET, base_url=emu.base_url, callbacks=callbacks, retry_policy=NO_WAIT
    )
    emu.script(ScriptedError(status=429, retry_after=0))
    got.objects += [lc, lc.invoke("hi"), list(lc.stream("hi"))]
    got.objects.append(asyncio.run(lc.ainvoke("hi")))
    lc_wrong = ChatClovaX(api_key=WRONG, base_url=emu.base_url, callbacks=callbacks)
    got.expect_error(lambda: lc_wrong.invoke("hi"))
    got.expect_error(lambda: list(lc_wrong.stream("hi")))
    emb = ClovaXEmbeddings(api_key=SECRET, base_url=emu.base_url)
    got.objects += [emb, emb.embed_documents(["a", "b"])]
    emb_wrong = ClovaXEmbeddings(api_key=WRONG, base_url=emu.base_url)
    got.expect_error(lambda: emb_wrong.embed_query("a"))

    li = ClovaX(api_key=SECRET, base_url=emu.base_url, retry_policy=NO_WAIT)
    user = [ChatMessage(role="user", content="hi")]
    emu.script(ScriptedError(status=500))
    got.objects += [li, li.chat(user), list(li.stream_chat(user)), li.complete("hi")]
    got.objects.append(asyncio.run(li.achat(user)))
    li_wrong = ClovaX(api_key=WRONG, base_url=emu.base_url)
    got.expect_error(lambda: li_wrong.chat(user))
    got.expect_error(lambda: list(li_wrong.stream_chat(user)))
    li_emb = ClovaXEmbedding(api_key=SECRET, base_url=emu.base_url)
    got.objects += [li_emb, li_emb.get_text_embedding_batch(["a", "b"])]
    li_emb_wrong = ClovaXEmbedding(api_key=WRONG, base_url=emu.base_url)
    got.expect_error(lambda: li_emb_wrong.get_query_embedding("a"))
    for model in (lc, lc_wrong, emb, emb_wrong, li, li_wrong, li_emb, li_emb_wrong):
        model.close()


class LangChainRecorder(BaseCallbackHandler):
    """Keeps every argument of every callback LangChain fires."""

    def __init__(self) -> None:
        self.payloads: list[str] = []

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("on_"):
            return lambda *args, **kwargs: self.payloads.append(repr((name, args, kwargs)))
        return super().__getattribute__(name)


class LlamaIndexRecorder(BaseEventHandler):
    """Keeps every instrumentation event LlamaIndex dispatches."""

    payloads: list[str] = Field(default_factory=list)

    @classmethod
    def class_name(cls) -> str:
        return "LlamaIndexRecorder"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.payloads.append(repr(event) + event.model_dump_json())


def test_key_absent_from_logs_errors_reprs_and_callbacks(
    keyed: Emulator, debug_logs: pytest.LogCaptureFixture
) -> None:
    got = Collected()
    lc_recorder = LangChainRecorder()
    li_recorder = LlamaIndexRecorder()
    dispatcher = get_dispatcher()
    dispatcher.add_event_handler(li_recorder)
    try:
        core_calls(keyed, got)
        framework_calls(keyed, got, [lc_recorder])
    finally:
        dispatcher.event_handlers.remove(li_recorder)

    assert len(got.errors) >= 12
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    records = debug_logs.records
    for record in records:
        assert_clean(formatter.format(record), repr(record.args), repr(vars(record)))
    for error in got.errors:
        assert_clean(*error_texts(error))
    for thing in got.objects:
        assert_clean(repr(thing), str(thing))
    assert_clean(*lc_recorder.payloads, *li_recorder.payloads)
    assert lc_recorder.payloads
    assert li_recorder.payloads
    assert_clean(repr(keyed.requests))
    assert {record.auth for record in keyed.requests} == {"bearer", "legacy"}

    # The DEBUG logs were really captured, retries included...
    names = {record.name.split(".")[0] for record in records}
    assert {"clova_core", "httpx"} <= names
    assert any("Retrying" in record.getMessage() for record in records)
    # ...and httpx and httpcore log request lines and connection events, never headers.
    wire = [r.getMessage() for r in records if r.name.startswith(("httpx", "httpcore"))]
    assert any(message.startswith("HTTP Request: POST") for message in wire)
    assert any(message.startswith("connect_tcp.complete") for message in wire)
    for message in wire:
        assert not re.search(r"authorization|bearer|x-ncp-apigw|api-key", message, re.I), message


def test_key_absent_from_serialised_objects() -> None:
    lc = ChatClovaX(api_key=SECRET, apigw_api_key=GATEWAY)
    lc_emb = ClovaXEmbeddings(api_key=SECRET, apigw_api_key=GATEWAY)
    li = ClovaX(api_key=SECRET)
    li_emb = ClovaXEmbedding(api_key=SECRET)
    assert dumpd(lc)["kwargs"]["api_key"] == {"lc": 1, "type": "secret", "id": [ENV_API_KEY]}
    texts = [dumps(lc), dumps(lc, pretty=True), repr(dumpd(lc)), dumps(lc_emb)]
    for model in (lc, lc_emb, li, li_emb):
        texts += [repr(model), str(model), model.model_dump_json(), repr(model.model_dump())]
    texts += [li.to_json(), repr(li.to_dict()), li_emb.to_json(), repr(li_emb.to_dict())]
    texts += [repr(li.metadata), repr(lc._identifying_params), repr(lc._get_ls_params())]
    assert_clean(*texts)


SECRET_VALUE = re.compile(r"nv-[A-Za-z0-9]{8,}|Bearer\s+(?!PLACEHOLDER)\S+", re.I)


def test_no_credentials_in_cassettes() -> None:
    """Every recorded cassette: no fake or real key, no credential header with a value."""
    cassettes = sorted(path for path in TESTS.rglob("cassettes/**/*") if path.is_file())
    assert cassettes, "no cassettes found"
    real_key = os.environ.get(ENV_API_KEY, "").strip()
    for path in cassettes:
        text = path.read_text(encoding="utf-8")
        assert MARK not in text
        assert not SECRET_VALUE.search(text), path
        if real_key and real_key != "test-key":
            assert real_key not in text, path
        for interaction in (yaml.safe_load(text) or {}).get("interactions", []):
            headers = interaction["request"].get("headers", {})
            for name, values in headers.items():
                if name.lower() in SECRET_HEADERS:
                    assert values in (["PLACEHOLDER"], "PLACEHOLDER"), (path, name)
