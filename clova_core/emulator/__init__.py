"""Deprecated alias of :mod:`clova_emulator`, kept so existing imports keep working.

The emulator is a separate top-level package now: ``from clova_emulator import Emulator``.
"""

from __future__ import annotations

import warnings
from typing import Any

import clova_emulator

warnings.warn(
    "clova_core.emulator is deprecated: import from clova_emulator instead "
    "(for example `from clova_emulator import Emulator`).",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = list(clova_emulator.__all__)


def __getattr__(name: str) -> Any:
    return getattr(clova_emulator, name)
