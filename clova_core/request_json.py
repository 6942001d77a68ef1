"""Request bodies as the strict JSON CLOVA Studio reads; typed errors for what JSON cannot carry.

Bodies are encoded the way httpx's ``json=`` encodes them (compact separators, UTF-8,
non-ASCII kept as is). Three kinds of Python value would make that encoder fail with a raw
Python error, or write something no strict JSON parser reads; here each is a
:class:`~clova_core.errors.ClovaValidationError` that names the field and says what to do:

* a lone surrogate: a ``str`` holding half of a UTF-16 pair (``"\\ud800"``), usually from
  bytes decoded with ``errors="surrogateescape"`` or a JSON ``"\\ud800"`` escape. It is not
  valid Unicode, so it has no UTF-8 form (``UnicodeEncodeError``);
* NaN or Infinity: JSON has no such numbers (``ValueError``, or a bare ``NaN`` token that
  the service's parser refuses);
* nesting deeper than :data:`MAX_JSON_DEPTH` arrays / objects (or a structure that contains
  itself): a chat request needs a few levels, a tool schema a few dozen at most, and very deep
  JSON ends in a ``RecursionError`` on one side of the wire or the other.

Values that are not JSON at all (a ``datetime``, a ``set``, a non-``dict`` mapping) get the
same treatment instead of a ``TypeError``.

:func:`check_json_value` walks a value without recursion and raises on the first problem;
the request builders call it before anything is sent. :func:`encode_json_body` is the
encoder the clients send with; it explains a failure with the same walk.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from clova_core.errors import ClovaValidationError

__all__ = ["MAX_JSON_DEPTH", "check_json_value", "encode_json_body"]

MAX_JSON_DEPTH = 128
"""Most arrays / objects nested in one another that a request body may hold."""

_MAX_PATH_CHARS = 160
_SURROGATE = re.compile("[\ud800-\udfff]")
_REPLACE_HINT = (
    "Such characters usually come from bytes decoded with errors='surrogateescape' or from "
    "a broken UTF-16 pair: decode the source with its real encoding, or drop them with "
    "text.encode('utf-8', 'replace').decode('utf-8')."
)

_Link = tuple[Any, ...]
"""A path as a linked list: ``()`` for the root, else ``(parent_link, key_or_index)``."""


def _render(root: str, link: _Link) -> str:
    steps: list[object] = []
    while link:
        link, step = link
        steps.append(step)
    path = root
    for step in reversed(steps):
        if isinstance(step, int) and not isinstance(step, bool):
            path += f"[{step}]"
        elif isinstance(step, str) and step.isidentifier():
            path += f".{step}"
        else:
            path += f"[{step!r}]"
    if len(path) > _MAX_PATH_CHARS:  # a deep path: its start and its end say enough
        path = f"{path[: _MAX_PATH_CHARS // 2]}...{path[-_MAX_PATH_CHARS // 4 :]}"
    return path


def _check_text(text: str, root: str, link: _Link, *, is_key: bool) -> None:
    try:
        text.encode("utf-8")  # a C-speed scan: several times faster than the regex search
    except UnicodeEncodeError:
        pass
    else:
        return
    match = _SURROGATE.search(text)
    if match is None:  # pragma: no cover - only surrogates fail to encode as UTF-8
        return
    where = f"a key of {_render(root, link)}" if is_key else _render(root, link)
    raise ClovaValidationError(
        f"{where} contains a lone surrogate (U+{ord(match.group()):04X} at character "
        f"{match.start()}), which is not valid Unicode, so the request cannot be sent as "
        f"UTF-8 JSON. {_REPLACE_HINT}"
    )


def _not_finite(value: float, root: str, link: _Link, *, is_key: bool) -> ClovaValidationError:
    where = f"a key of {_render(root, link)}" if is_key else _render(root, link)
    return ClovaValidationError(
        f"{where} is {value!r}; JSON has no NaN or Infinity, so CLOVA cannot receive it. "
        "Use a finite number, or leave the field out."
    )


def _check_key(key: object, root: str, link: _Link) -> None:
    if isinstance(key, str):
        if not key.isascii():
            _check_text(key, root, link, is_key=True)
    elif isinstance(key, float):
        if not math.isfinite(key):
            raise _not_finite(key, root, link, is_key=True)
    elif not (key is None or isinstance(key, int)):
        raise ClovaValidationError(
            f"{_render(root, link)} has a key of type {type(key).__name__} ({key!r}); JSON "
            "object keys are strings. Convert the key with str()."
        )


def check_json_value(value: Any, root: str, *, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise :class:`ClovaValidationError` if ``value`` cannot be sent as strict JSON.

    ``root`` names the caller's field in the message (e.g. ``"extra_body"``); the path of
    the offending value follows it (``extra_body.options[2].weight``).
    """
    stack: list[tuple[Any, _Link, int]] = [(value, (), 0)]
    pop, push = stack.pop, stack.append
    while stack:
        item, link, depth = pop()
        if isinstance(item, str):
            if not item.isascii():
                _check_text(item, root, link, is_key=False)
        elif item is None or isinstance(item, (bool, int)):
            continue
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise _not_finite(item, root, link, is_key=False)
        elif isinstance(item, (dict, list, tuple)):
            if depth >= max_depth:
                raise ClovaValidationError(
                    f"{_render(root, link)} nests arrays and objects more than {max_depth} "
                    f"levels deep (or contains itself); request bodies are limited to "
                    f"{max_depth} levels. Flatten the data, or send a deep document as a "
                    "JSON string."
                )
            if isinstance(item, dict):
                for key, sub in item.items():
                    _check_key(key, root, link)
                    push((sub, (link, key), depth + 1))
            else:
                for index, sub in enumerate(item):
                    push((sub, (link, index), depth + 1))
        else:
            raise ClovaValidationError(
                f"{_render(root, link)} is a {type(item).__name__} ({item!r:.80}), which is "
                "not JSON. Convert it to a string, number, bool, None, list or dict."
            )


def encode_json_body(body: Any) -> bytes:
    """``body`` as compact UTF-8 JSON (as httpx's ``json=`` writes it), or a typed error."""
    try:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
            "utf-8"
        )
    except (TypeError, ValueError, RecursionError) as exc:  # UnicodeEncodeError: a ValueError
        check_json_value(body, "the request body")
        raise ClovaValidationError(
            f"The request body cannot be encoded as JSON ({type(exc).__name__}: {exc})."
        ) from exc
