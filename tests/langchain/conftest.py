"""LangChain test configuration: VCR for the standard suites and the emulator switch.

Cassettes live in ``tests/langchain/cassettes`` (plain YAML, credential headers replaced by
``PLACEHOLDER``). By default they are only replayed (pytest-recording's ``--record-mode``
defaults to ``none``; langchain-tests' own ``record_mode`` is dropped so the flag decides).
Requests are matched on method, path, query and body, never host or port, so cassettes
recorded against the emulator on any port, or against the real service, replay anywhere.

``CLOVA_LIVE_TESTS=1`` points the integration suites at the real service instead of the
emulator (the key comes from ``CLOVASTUDIO_API_KEY``); see tests/langchain/README.md.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from langchain_tests.conftest import base_vcr_config

from clova_core.constants import SECRET_HEADERS

CASSETTES = Path(__file__).parent / "cassettes"
LIVE = os.environ.get("CLOVA_LIVE_TESTS") == "1"
"""Run the integration suites against the real CLOVA Studio (needs CLOVASTUDIO_API_KEY)."""

_VOLATILE_RESPONSE_HEADERS = ("date", "server", "set-cookie")


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in _VOLATILE_RESPONSE_HEADERS:
            del headers[name]
    return response


@pytest.fixture(scope="session")
def vcr_config() -> dict[str, Any]:
    """langchain-tests' base VCR config, adapted as described in the module docstring."""
    config = base_vcr_config()
    config.pop("record_mode", None)
    filtered = {name for name, _ in config.get("filter_headers", [])} | set(SECRET_HEADERS)
    config["filter_headers"] = [(name, "PLACEHOLDER") for name in sorted(filtered)]
    config["match_on"] = ["method", "path", "query", "body"]
    config["cassette_library_dir"] = str(CASSETTES)
    config["before_record_response"] = _scrub_response
    return config


@pytest.fixture(scope="session")
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


@pytest.fixture
def clova_env(request: pytest.FixtureRequest) -> None:
    """Point the core at the emulator (default) or leave the real-service env (live mode)."""
    if not LIVE:
        request.getfixturevalue("emulator_env")
