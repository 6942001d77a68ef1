"""Runs every Python block of README.md as a test, against a bundled emulator (Sybil).

Each block must be complete: it runs as written, with ``CLOVASTUDIO_API_KEY`` and
``CLOVASTUDIO_API_BASE_URL`` pointing at an emulator started for the document, exactly as a
reader who pastes it after starting ``clova-emulator`` would run it. A block that cannot run
offline is marked with ``<!-- skip: next -->`` and says why next to it.
"""

from __future__ import annotations

import os
from typing import Any

from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser

from clova_emulator import Emulator

_ENV = ("CLOVASTUDIO_API_KEY", "CLOVASTUDIO_API_BASE_URL", "NCP_APIGW_API_KEY")


def _start(namespace: dict[str, Any]) -> None:
    emulator = Emulator().start()
    namespace["__emulator__"] = emulator
    namespace["__saved_env__"] = {name: os.environ.get(name) for name in _ENV}
    os.environ.pop("NCP_APIGW_API_KEY", None)
    os.environ["CLOVASTUDIO_API_KEY"] = "test-key"
    os.environ["CLOVASTUDIO_API_BASE_URL"] = emulator.base_url


def _stop(namespace: dict[str, Any]) -> None:
    namespace["__emulator__"].stop()
    for name, value in namespace["__saved_env__"].items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


pytest_collect_file = Sybil(
    parsers=[SkipParser(), PythonCodeBlockParser()],
    patterns=["README.md"],
    setup=_start,
    teardown=_stop,
).pytest()
