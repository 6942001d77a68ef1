"""Package-level behaviour: lazy, framework-clean import and per-instance client reuse."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import httpx
from pydantic import SecretStr

from langchain_clova.clients import ClientSettings, LazyClients

PROBE = """
import json, sys
import langchain_clova
before = sorted(m for m in sys.modules if m.startswith(("langchain_clova.", "llama_index")))
from langchain_clova import ChatClovaX, ClovaXEmbeddings
after = sorted(m for m in sys.modules if m.startswith(("langchain_clova.", "llama_index")))
print(json.dumps({"before": before, "after": after, "all": langchain_clova.__all__,
                  "names": [ChatClovaX.__name__, ClovaXEmbeddings.__name__]}))
"""


def test_import_is_lazy_and_never_imports_llama_index() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["before"] == []
    assert not any(name.startswith("llama_index") for name in result["after"])
    assert "langchain_clova.chat_models" in result["after"]
    assert result["all"] == ["ChatClovaX", "ClovaXEmbeddings"]
    assert result["names"] == ["ChatClovaX", "ClovaXEmbeddings"]


def test_clients_are_built_once_and_async_ones_per_event_loop() -> None:
    clients = LazyClients()
    settings = ClientSettings(api_key=SecretStr("test-key"), base_url="http://127.0.0.1:9")
    sync_client = clients.sync(settings)
    assert clients.sync(settings) is sync_client

    async def get() -> object:
        first = clients.async_(settings)
        assert clients.async_(settings) is first
        return first

    in_one_loop = asyncio.run(get())
    in_another = asyncio.run(get())
    assert in_one_loop is not in_another  # an httpx.AsyncClient is bound to its loop

    given = httpx.AsyncClient()
    pinned = ClientSettings(api_key=SecretStr("test-key"), http_async_client=given)
    shared = LazyClients()

    async def pinned_client() -> object:
        return shared.async_(pinned)

    assert asyncio.run(pinned_client()) is asyncio.run(pinned_client())
    asyncio.run(clients.aclose())
    clients.close()
