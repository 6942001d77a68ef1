"""Fixtures shared by every test folder: the local CLOVA Studio emulator.

* ``emulator`` (session): one running :class:`~clova_emulator.Emulator`.
* ``emu`` (function): the same emulator, reset (knobs, script, tasks, request log) before
  and after the test, so tests can ``configure`` / ``script`` freely.
* ``emulator_env`` (function): ``emu`` plus ``CLOVASTUDIO_API_KEY=test-key`` and
  ``CLOVASTUDIO_API_BASE_URL`` pointing at it (via ``monkeypatch``).

These are the fixtures of the package's pytest plugin (``clova_emulator.pytest_plugin``:
``clova_emulator``, ``clova_emu``, ``clova_emulator_env``) under this suite's own names;
they share its code rather than its fixtures, so the suite runs the same whether or not
the plugin is installed and loaded.

``pytest_configure`` also starts an emulator of its own and exports its URL as
``CLOVA_EMULATOR_URL`` (design.md 4: notebooks run under nbmake, where session fixtures do
not run). If ``CLOVA_EMULATOR_URL`` is already set, that server is used and none is started.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from clova_emulator import Emulator
from clova_emulator.pytest_plugin import point_client_at, reset_around

EMULATOR_URL_ENV = "CLOVA_EMULATOR_URL"
_ENV_EMULATOR = pytest.StashKey[Emulator]()


def pytest_configure(config: pytest.Config) -> None:
    """Start the environment emulator (for notebooks and subprocesses)."""
    if os.environ.get(EMULATOR_URL_ENV):
        return
    emulator = Emulator().start()
    config.stash[_ENV_EMULATOR] = emulator
    os.environ[EMULATOR_URL_ENV] = emulator.base_url


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the environment emulator started by :func:`pytest_configure`."""
    emulator = config.stash.get(_ENV_EMULATOR, None)
    if emulator is not None:
        url = emulator.base_url
        emulator.stop()
        if os.environ.get(EMULATOR_URL_ENV) == url:
            os.environ.pop(EMULATOR_URL_ENV, None)


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """One emulator for the whole session."""
    with Emulator() as running:
        yield running


@pytest.fixture
def emu(emulator: Emulator) -> Iterator[Emulator]:
    """The session emulator with knobs, script, tasks and log reset around the test."""
    yield from reset_around(emulator)


@pytest.fixture
def emulator_env(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """``emu`` with the client's environment variables pointing at it."""
    return point_client_at(emu, monkeypatch)
