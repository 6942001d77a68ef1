"""Shared raw HTTP clients for the emulator tests (one per session: building an
``httpx.Client`` costs ~0.1 s, which would dominate these fast tests)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from emu_support import AUTH

from clova_emulator import Emulator


@pytest.fixture(scope="session")
def http(emulator: Emulator) -> Iterator[httpx.Client]:
    """A client on the session emulator sending the test key."""
    with httpx.Client(base_url=emulator.base_url, headers=AUTH, timeout=10) as shared:
        yield shared


@pytest.fixture(scope="session")
def bare_http(emulator: Emulator) -> Iterator[httpx.Client]:
    """A client on the session emulator without any credentials."""
    with httpx.Client(base_url=emulator.base_url, timeout=10) as shared:
        yield shared
