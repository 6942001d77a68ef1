"""Fixtures for the LlamaIndex tests: models bound to the emulator (or, for re-recording
cassettes, to the real service) and the VCR configuration used by pytest-recording.

Cassettes live in ``tests/llamaindex/cassettes/<module>/<test>.yaml`` and are replayed by
default (pytest-recording's ``--record-mode=none``). They match on method, path, query and
body, never on host or port, so a cassette recorded against the emulator on any port (or
against the real service) replays anywhere. Credential headers are never written.

Re-recording against the real CLOVA Studio (the key is read from the environment when this
module is imported, before any fixture points the environment at the emulator)::

    CLOVA_VCR_LIVE=1 CLOVASTUDIO_API_KEY=nv-... .venv/bin/python -m pytest tests/llamaindex \\
        -m vcr --record-mode=rewrite --allow-hosts=127.0.0.1,clovastudio.stream.ntruss.com

(``CLOVASTUDIO_API_BASE_URL`` selects another host, e.g. the government cloud.) Only the
``@pytest.mark.vcr`` tests go to the real service; every other test keeps using the
emulator. Without ``CLOVA_VCR_LIVE`` the command re-records against the emulator.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from llama_index.core import Settings

from clova_core.constants import DEFAULT_BASE_URL, ENV_API_KEY, ENV_BASE_URL, SECRET_HEADERS
from clova_emulator import Emulator, RequestRecord
from llama_index_clova import ClovaX, ClovaXEmbedding

LIVE = os.environ.get("CLOVA_VCR_LIVE") == "1"
_LIVE_KEY = os.environ.get(ENV_API_KEY)
_LIVE_BASE_URL = os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
CASSETTES = Path(__file__).parent / "cassettes"


@dataclass(frozen=True)
class Target:
    """Where the models under test send their requests."""

    base_url: str
    api_key: str

    def llm(self, **kwargs: Any) -> ClovaX:
        return ClovaX(api_key=self.api_key, base_url=self.base_url, **kwargs)

    def embedding(self, **kwargs: Any) -> ClovaXEmbedding:
        return ClovaXEmbedding(api_key=self.api_key, base_url=self.base_url, **kwargs)


@pytest.fixture
def target(emu: Emulator, request: pytest.FixtureRequest) -> Target:
    """The emulator (reset around the test); for ``@pytest.mark.vcr`` tests run with
    ``CLOVA_VCR_LIVE=1``, the real service."""
    if LIVE and request.node.get_closest_marker("vcr") is not None:
        if not _LIVE_KEY:
            pytest.fail("CLOVA_VCR_LIVE=1 needs CLOVASTUDIO_API_KEY")
        return Target(base_url=_LIVE_BASE_URL, api_key=_LIVE_KEY)
    return Target(base_url=emu.base_url, api_key="test-key")


@pytest.fixture
def clova_settings(target: Target) -> Target:
    """``Settings.llm`` / ``Settings.embed_model`` set to CLOVA models, so nothing in a flow can
    fall back to LlamaIndex's OpenAI defaults."""
    Settings.llm = target.llm()
    Settings.embed_model = target.embedding()
    return target


def logged(emu: Emulator, count: int, *, timeout: float = 5.0) -> list[RequestRecord]:
    """The emulator's request log once it holds ``count`` records.

    The emulator logs a request after its reply is written, so a client can see the reply a
    moment before the record appears.
    """
    deadline = time.monotonic() + timeout
    records = emu.requests
    while len(records) < count and time.monotonic() < deadline:
        time.sleep(0.005)
        records = emu.requests
    return records


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    """pytest-recording configuration: no credentials on disk, host/port-free matching."""
    return {
        "filter_headers": sorted(SECRET_HEADERS),
        "match_on": ["method", "path", "query", "body"],
        "decode_compressed_response": True,
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(CASSETTES / request.module.__name__.rsplit(".", 1)[-1])
