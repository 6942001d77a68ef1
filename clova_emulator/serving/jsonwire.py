"""JSON reply bodies: exactly the text of ``json.dumps(body, ensure_ascii=False)``, faster.

Embedding replies are dominated by 1024-float vectors that are mostly ``0.0`` (clova-api.md
5.1 / 5.2: ``result.embedding``). The stdlib encoder formats every float with ``repr``. An endpoint
that knows its array is sparse puts a :class:`SparseFloats` in the body instead of the list:
it is written as the same dense JSON array, with the constant ``"0.0"`` for the zeros and
``repr`` only for the listed entries. Everything else goes through the stdlib encoder.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import repeat
from math import isfinite
from typing import Any

_ENCODER = json.JSONEncoder(ensure_ascii=False)
"""The settings of ``json.dumps(..., ensure_ascii=False)``; ``encode`` is thread-safe."""
_encode_string = json.encoder.encode_basestring
"""What ``_ENCODER.encode`` does with a ``str`` (``ensure_ascii=False``), without its checks."""


@dataclass(frozen=True)
class SparseFloats:
    """A JSON array of ``length`` floats, ``+0.0`` everywhere except at ``indices``.

    ``values[i]`` is the float at ``indices[i]``; a listed value may itself be zero (it is
    written as ``repr`` writes it, so ``-0.0`` stays ``-0.0``).

    ``decimals`` (1 to 7) promises that every value is ``round(x, decimals)`` of some float
    ``x``; the text of such values is then found for all of them in one ``%``-format call
    instead of one ``repr`` each (see :func:`_decimal_texts`).
    """

    length: int
    indices: tuple[int, ...]
    values: tuple[float, ...]
    decimals: int | None = None

    @classmethod
    def of(cls, values: list[float]) -> SparseFloats:
        """Every value listed (for arrays not known to be sparse)."""
        return cls(len(values), tuple(range(len(values))), tuple(values))

    def dense(self) -> list[float]:
        """The plain list of floats."""
        values = [0.0] * self.length
        for index, value in zip(self.indices, self.values, strict=True):
            values[index] = value
        return values

    def json_text(self) -> str:
        """``json.dumps(self.dense())``: ``repr`` of each float, ``NaN`` / ``Infinity``."""
        values = self.values
        if len(self.indices) != len(values):
            raise ValueError("SparseFloats needs one value per index")
        texts = ["0.0"] * self.length
        if not all(map(isfinite, values)):
            written: Iterable[str] = map(_ENCODER.encode, values)
        elif self.decimals is not None and (decimal := _decimal_texts(values, self.decimals)):
            # texts[index] = text for each pair, the loop run by ``map`` rather than bytecode.
            _drain(map(texts.__setitem__, self.indices, decimal))
            # A text cut down to "<digits>." lacks the zero ``repr`` writes after the point.
            return ("[" + ", ".join(texts) + "]").replace("., ", ".0, ").replace(".]", ".0]")
        else:
            written = map(repr, values)
        _drain(map(texts.__setitem__, self.indices, written))
        return "[" + ", ".join(texts) + "]"


_FIXED_LOW = "0.0000"
"""How a 7-decimal text below 1e-4 starts: ``repr`` writes such a (non-zero) value with an
exponent (``1e-05``), so its text is not the fixed one."""
_FIXED_HIGH = 1e6
"""Below this a double is fine enough that its ``repr`` is unique among 7-decimal numbers."""


def _decimal_texts(values: tuple[float, ...], decimals: int) -> Iterator[str] | None:
    """``repr`` of each of ``values`` (each ``round(x, decimals)``) without its last ``0``
    when that is its whole fraction (``"2."`` for ``"2.0"``, the caller appends the ``0``);
    ``None`` unless every value is zero or 1e-4 <= ``|v|`` < 1e6.

    Such a value ``v`` is the double nearest to ``D = n / 10**decimals`` for an integer
    ``n``. ``"%.{decimals}f" % v`` writes exactly ``D``: ``v`` is far closer to ``D`` than
    to any rounding boundary. ``repr(v)`` is the shortest text that reads back as ``v``,
    the closest to it among equally short ones: a text that reads back as ``v`` is within
    one ulp (< 2**-32 here) of ``D``, and every other number written with as few or fewer
    significant digits than ``D`` is a distinct multiple of ``10**-decimals`` away from
    it, so ``repr`` writes ``D`` without its trailing zeros, in fixed notation in this
    range (and ``0.0`` / ``-0.0`` for zeros).
    """
    if not 1 <= decimals <= 7 or not values or not max(map(abs, values)) < _FIXED_HIGH:
        return None
    fixed = (f",%.{decimals}f" * len(values)) % values
    zeros = "," + "0." + "0" * decimals
    small = fixed.count("," + _FIXED_LOW) + fixed.count(",-" + _FIXED_LOW)
    if small != fixed.count(zeros) + fixed.count(",-" + zeros[1:]):
        return None
    return map(str.rstrip, fixed.split(",")[1:], repeat("0"))


def _drain(calls: Iterator[None]) -> None:
    """Run an iterator of calls for their effect (a zero-length deque consumes it in C)."""
    deque(calls, maxlen=0)


def encode_json(body: Any) -> bytes:
    """UTF-8 bytes of ``json.dumps(body, ensure_ascii=False)``, a :class:`SparseFloats`
    written as its dense array (dicts holding one need ``str`` keys)."""
    if not _holds_sparse(body):
        return _ENCODER.encode(body).encode()
    return _plain_text(body).encode()


_CONTAINERS = frozenset({dict, list, SparseFloats})


def _holds_sparse(value: Any) -> bool:
    """Whether a :class:`SparseFloats` is in ``value`` (through plain dicts and lists)."""
    kind = type(value)
    if kind is SparseFloats:
        return True
    if kind is dict:
        items: Iterable[Any] = value.values()
    elif kind is list:
        items = value
    else:
        return False
    return not _CONTAINERS.isdisjoint(map(type, items)) and any(map(_holds_sparse, items))


_SCALARS: dict[Any, str] = {None: "null", True: "true", False: "false"}


def _plain_text(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False)`` for a value holding a :class:`SparseFloats`.

    Plain dicts (``str`` keys), lists, ``str``, ``int``, ``bool``, ``None`` and finite
    floats are written here the way the stdlib writes them (``", "`` / ``": "``
    separators, ``repr`` of numbers); any other value is handed to the stdlib whole."""
    kind = type(value)
    if kind is str:
        return _encode_string(value)
    if kind is SparseFloats:
        sparse: SparseFloats = value
        return sparse.json_text()
    if kind is dict:
        if not value:
            return "{}"
        try:
            fields = [_key(key) + ": " + _plain_text(item) for key, item in value.items()]
        except _NotStrKey:
            if _holds_sparse(value):
                raise TypeError("keys of a dict holding SparseFloats must be str") from None
            return _ENCODER.encode(value)
        return "{" + ", ".join(fields) + "}"
    if kind is list:
        return "[" + ", ".join([_plain_text(item) for item in value]) + "]"
    if kind is int:
        return int.__repr__(value)
    if kind is bool or value is None:
        return _SCALARS[value]
    if kind is float and isfinite(value):
        return float.__repr__(value)
    return _ENCODER.encode(value)


class _NotStrKey(Exception):  # noqa: N818 - control flow, not a failure
    """A dict key that is not a ``str``: the stdlib writes that dict (see :func:`_plain_text`)."""


def _key(key: Any) -> str:
    if type(key) is not str:
        raise _NotStrKey
    return _encode_string(key)
