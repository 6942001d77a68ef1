"""pytest fixtures that run the CLOVA Studio emulator for your own tests and CI.

The plugin is registered under pytest's ``pytest11`` entry point as ``clova_emulator``, so
installing the package makes the fixtures available (``-p no:clova_emulator`` turns it off;
``-p clova_emulator.pytest_plugin`` loads it explicitly where plugin autoloading is off).
Nothing starts until a test asks for a fixture.

* ``clova_emulator`` (session): one running :class:`~clova_emulator.Emulator` on a free
  port of 127.0.0.1. Override this fixture in your ``conftest.py`` to start it with other
  knobs (``Emulator(latency=0.05, qpm="documented")``).
* ``clova_emu`` (function): the same emulator with knobs, script, tasks and request log
  reset before and after the test, so a test can ``configure`` and ``script`` freely.
* ``clova_emulator_env`` (function): ``clova_emu`` with ``CLOVASTUDIO_API_KEY=test-key``
  and ``CLOVASTUDIO_API_BASE_URL`` pointing at it (and ``NCP_APIGW_API_KEY`` unset), through
  ``monkeypatch``, so clients built from the environment talk to the emulator::

      def test_answer(clova_emulator_env):
          reply = ChatClovaX(model="HCX-005").invoke("hi")
          assert clova_emulator_env.requests[-1].status == 200

:func:`reset_around` and :func:`point_client_at` are what the fixtures do, for suites that
keep fixtures of their own names.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clova_emulator.app import Emulator
from clova_emulator.limits import ENV_API_KEY, ENV_APIGW_API_KEY, ENV_BASE_URL

TEST_KEY = "test-key"
"""The key :func:`point_client_at` exports (one the emulator accepts by default)."""

__all__ = [
    "TEST_KEY",
    "clova_emu",
    "clova_emulator",
    "clova_emulator_env",
    "point_client_at",
    "reset_around",
]


def reset_around(emulator: Emulator) -> Iterator[Emulator]:
    """Yield ``emulator`` reset (knobs, script, tasks, request log), and reset it again after."""
    emulator.reset()
    yield emulator
    emulator.reset()


def point_client_at(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """Set the client's environment variables to ``emulator`` (undone by ``monkeypatch``)."""
    monkeypatch.setenv(ENV_API_KEY, TEST_KEY)
    monkeypatch.setenv(ENV_BASE_URL, emulator.base_url)
    monkeypatch.delenv(ENV_APIGW_API_KEY, raising=False)
    return emulator


@pytest.fixture(scope="session")
def clova_emulator() -> Iterator[Emulator]:
    """One emulator for the whole session (127.0.0.1, a free port)."""
    with Emulator() as running:
        yield running


@pytest.fixture
def clova_emu(clova_emulator: Emulator) -> Iterator[Emulator]:
    """The session emulator, reset before and after the test."""
    yield from reset_around(clova_emulator)


@pytest.fixture
def clova_emulator_env(clova_emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """``clova_emu`` with ``CLOVASTUDIO_API_KEY`` / ``CLOVASTUDIO_API_BASE_URL`` set to it."""
    return point_client_at(clova_emu, monkeypatch)
