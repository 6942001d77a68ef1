"""JSON reply bodies: exactly the text of ``json.dumps(body, ensure_ascii=False)``, faster.

Embedding replies are dominated by 1024-float vectors that are mostly ``0.0`` (clova-api.md
5.1 / 5.2: ``result.embedding``). The stdlib encoder formats every float with ``repr``. An endpoint
that knows its array is sparse puts a :class:`SparseFloats` in the body instead of the list:
it is written as the same dense JSON array, with the constant ``"0.0"`` for the zeros and
``repr`` only for the listed entries. Everything else goes through the stdlib encoder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from math import isfinite
from typing import Any

_ENCODER = json.JSONEncoder(ensure_ascii=False)
"""The settings of ``json.dumps(..., ensure_ascii=False)``; ``encode`` is thread-safe."""


@dataclass(frozen=True)
class SparseFloats:
    """A JSON array of ``length`` floats, ``+0.0`` everywhere except at ``indices``.

    ``values[i]`` is the float at ``indices[i]``; a listed value may itself be zero (it is
    written as ``repr`` writes it, so ``-0.0`` stays ``-0.0``).
    """

    length: int
    indices: tuple[int, ...]
    values: tuple[float, ...]

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
        texts = ["0.0"] * self.length
        if all(map(isfinite, self.values)):
            written = map(repr, self.values)
        else:
            written = map(_ENCODER.encode, self.values)
        for index, text in zip(self.indices, written, strict=True):
            texts[index] = text
        return "[" + ", ".join(texts) + "]"


def encode_json(body: Any) -> bytes:
    """UTF-8 bytes of ``json.dumps(body, ensure_ascii=False)``, a :class:`SparseFloats`
    written as its dense array (dicts holding one need ``str`` keys)."""
    text = _sparse_text(body)
    return (text if text is not None else _ENCODER.encode(body)).encode()


_CONTAINERS = frozenset({dict, list, SparseFloats})


def _sparse_text(value: Any) -> str | None:
    """The JSON text of ``value`` if it holds a :class:`SparseFloats` (in plain dicts and
    lists), else ``None``: the stdlib encodes such a value in one call, whole."""
    if type(value) is SparseFloats:
        return value.json_text()
    if type(value) is dict:
        if _CONTAINERS.isdisjoint(map(type, value.values())):
            return None
        texts = [(key, item, _sparse_text(item)) for key, item in value.items()]
        if all(text is None for _, _, text in texts):
            return None
        fields = [f"{_key(key)}: {_or_stdlib(item, text)}" for key, item, text in texts]
        return "{" + ", ".join(fields) + "}"
    if type(value) is list:
        if _CONTAINERS.isdisjoint(map(type, value)):
            return None
        items = [(item, _sparse_text(item)) for item in value]
        if all(text is None for _, text in items):
            return None
        return "[" + ", ".join([_or_stdlib(item, text) for item, text in items]) + "]"
    return None


def _or_stdlib(value: Any, text: str | None) -> str:
    return text if text is not None else _ENCODER.encode(value)


def _key(key: Any) -> str:
    if type(key) is not str:
        raise TypeError(f"keys of a dict holding SparseFloats must be str, not {type(key)}")
    return _ENCODER.encode(key)
