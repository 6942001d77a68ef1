"""JSON decoding of reply bodies and stream events: orjson when it is installed, else the
standard library.

An embedding reply is 1,024 floats, which ``orjson.loads`` reads several times faster than
``json.loads`` (BENCHMARKS.md has the measured share of the client's CPU). orjson accepts
less than the standard library: ``NaN`` / ``Infinity``, numbers out of float range, lone
surrogate escapes, a byte-order mark, UTF-16 / UTF-32 bytes and nesting past 1,024 levels are
refused, and such input is parsed again by ``json.loads``, so it is accepted, or refused with
the same errors, exactly as before. The one difference left: integers beyond 64 bits come back
as floats (no CLOVA field holds one).

orjson is a dependency on CPython (and comes with langchain-core through langsmith); without
it (PyPy, or removed) everything goes through ``json.loads``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

__all__ = ["loads"]


@cache
def _fast_loads() -> Callable[[bytes | str], Any] | None:
    """``orjson.loads``, imported on first use (no import cost for the package), or None."""
    try:
        import orjson
    except ImportError:
        return None
    fast: Callable[[bytes | str], Any] = orjson.loads
    return fast


def loads(data: bytes | str) -> Any:
    """The JSON value of ``data``; raises what ``json.loads`` raises on invalid input."""
    fast = _fast_loads()
    if fast is not None:
        try:
            return fast(data)
        except ValueError:  # orjson.JSONDecodeError: let the standard library decide
            pass
    return json.loads(data)
