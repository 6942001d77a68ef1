"""HTTP recorders and mocks see the package's own clients.

vcrpy and pytest-httpx patch httpx's own transport, respx patches httpcore's pool; the
package's lean transports (clova_core.keepalive) hand a request to httpx's transport while
such a patch is in place, so cassettes record and replay and mocks answer, as they do for
any httpx client. Outside a patch the lean transport is used again.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
import vcr  # type: ignore[import-untyped]
from transport_fakes import TEST_KEY, envelope

from clova_core.client import AsyncClovaClient, ClovaClient
from clova_emulator import Emulator

CLOSED_PORT_URL = "http://127.0.0.1:9"
"""Nothing listens here: an answer can only come from the mock."""
REPLY = envelope({"embedding": [0.25, 0.5], "inputTokens": 2})


def _cassette(path: Path, mode: str) -> Any:
    recorder = vcr.VCR(record_mode=mode, filter_headers=["authorization"])
    return recorder.use_cassette(str(path / "embed.yaml"))


def test_a_vcrpy_cassette_records_then_replays_without_the_server(
    emu: Emulator, tmp_path: Path
) -> None:
    with ClovaClient(api_key=TEST_KEY, base_url=emu.base_url) as client:
        with _cassette(tmp_path, "all"):
            recorded = client.embed("카세트에 녹음되는 문장")
        sent = len(emu.requests)
        with _cassette(tmp_path, "none"):
            replayed = client.embed("카세트에 녹음되는 문장")
    assert sent == 1
    assert len(emu.requests) == sent  # the replay never reached the server
    assert replayed.embedding == recorded.embedding
    assert "test-key" not in (tmp_path / "embed.yaml").read_text()


async def test_a_vcrpy_cassette_replays_for_the_async_client(emu: Emulator, tmp_path: Path) -> None:
    async with AsyncClovaClient(api_key=TEST_KEY, base_url=emu.base_url) as client:
        with _cassette(tmp_path, "all"):
            recorded = await client.embed("비동기 카세트")
        with _cassette(tmp_path, "none"):
            replayed = await client.embed("비동기 카세트")
    assert len(emu.requests) == 1
    assert replayed.embedding == recorded.embedding


def test_a_patched_httpx_transport_answers_like_pytest_httpx(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[httpx.Request] = []

    def mocked(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=REPLY)

    with ClovaClient(api_key=TEST_KEY, base_url=CLOSED_PORT_URL) as client:
        monkeypatch.setattr(httpx.HTTPTransport, "handle_request", mocked)
        result = client.embed("모의 응답")
    assert result.embedding == [0.25, 0.5]
    assert [request.url.path for request in seen] == ["/v1/api-tools/embedding/clir-emb-dolphin"]


async def test_a_patched_async_httpx_transport_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    async def mocked(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=REPLY)

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", mocked)
    async with AsyncClovaClient(api_key=TEST_KEY, base_url=CLOSED_PORT_URL) as client:
        result = await client.embed("모의 응답")
    assert result.embedding == [0.25, 0.5]


def test_a_patched_httpcore_pool_answers_like_respx(monkeypatch: pytest.MonkeyPatch) -> None:
    def mocked(self: httpcore.ConnectionPool, request: httpcore.Request) -> httpcore.Response:
        return httpcore.Response(200, content=REPLY)

    monkeypatch.setattr(httpcore.ConnectionPool, "handle_request", mocked)
    with ClovaClient(api_key=TEST_KEY, base_url=CLOSED_PORT_URL) as client:
        assert client.embed("모의 응답").embedding == [0.25, 0.5]


def test_outside_a_patch_the_lean_transport_connects(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    client = ClovaClient(api_key=TEST_KEY, base_url=emu.base_url)
    with client, caplog.at_level(logging.DEBUG, logger="clova_core.keepalive"):
        client.embed("평소처럼")
        client.embed("평소처럼")
    connected = [record for record in caplog.records if record.name == "clova_core.keepalive"]
    assert [record.getMessage().split(" (")[0] for record in connected] == [
        f"Connected to 127.0.0.1:{emu.base_url.rsplit(':', 1)[1]}"
    ]
