"""HTTP/1.1 request heads and response heads, cheaper than ``http.server`` does them.

``BaseHTTPRequestHandler`` parses every header block with the ``email`` package and writes a
reply head through a dozen small buffered calls; that is most of the emulator's CPU per small
request. This module gives the handler:

* :func:`parse_head`: the header fields of a *plain* head (``Name: value`` lines ending in
  CRLF, nothing the ``email`` parser would treat specially) with the same names and values
  the stdlib parser gives; anything else returns ``None`` and the handler falls back to the
  stdlib, so unusual requests (folded lines, bare LF, too many fields ...) keep their exact
  stdlib behaviour, errors included;
* :class:`HeaderFields`: the fields with the lookups the handler needs;
* :func:`http_date`: the ``Date`` value, formatted once per second.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from email.utils import formatdate

MAX_HEADER_LINES = 100
"""``http.client`` refuses more header lines than this, the closing blank line included
(431 "Too many headers")."""

_FIELD = r"([\041-\071\073-\176]+):[ \t]*([^\r\n]*)\r\n"
"""One plain field line: a name of the characters the ``email`` parser accepts in one
(printable ASCII but ``:``), the value without its leading blanks (as ``email`` strips them),
no CR or LF but the line end."""
_FIELDS = re.compile(_FIELD)
_PLAIN_BLOCK = re.compile(f"(?:{_FIELD})*")


class HeaderFields:
    """Request header fields in arrival order, as ``(name as sent, value)`` pairs."""

    __slots__ = ("first", "last", "pairs")

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.pairs = list(pairs)
        self.last = {name.lower(): value for name, value in self.pairs}
        """Lower-cased names; a repeated field keeps its last value."""
        self.first = {name.lower(): value for name, value in reversed(self.pairs)}
        """Lower-cased names; a repeated field keeps its first value (``Message.get``)."""

    def get(self, name: str, default: str = "") -> str:
        """The first value of field ``name`` (any case), like ``email.message.Message.get``."""
        return self.first.get(name.lower(), default)


def parse_head(data: bytes) -> tuple[HeaderFields, int] | None:
    """The fields of the header block at the start of ``data`` and its length (blank line
    included), or ``None`` when the block is incomplete or not plain (use the stdlib then)."""
    if data.startswith(b"\r\n"):
        return HeaderFields(()), 2
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    block = data[: end + 2].decode("iso-8859-1")
    if _PLAIN_BLOCK.fullmatch(block) is None:
        return None
    pairs = _FIELDS.findall(block)
    if len(pairs) + 1 > MAX_HEADER_LINES:
        return None
    return HeaderFields(pairs), end + 4


class _DateCache:
    """``email.utils.formatdate(now, usegmt=True)``, computed once per wall-clock second.

    The cache is one ``(second, text)`` tuple replaced whole, so threads need no lock: two
    of them may format the same second, never read a torn value."""

    def __init__(self) -> None:
        self._cached: tuple[int, str] = (-1, "")

    def now(self) -> str:
        current = time.time()
        second, text = self._cached
        if int(current) != second:
            text = formatdate(current, usegmt=True)
            self._cached = (int(current), text)
        return text


_DATES = _DateCache()


def http_date() -> str:
    """The ``Date`` header value for a reply sent now (RFC 7231 IMF-fixdate)."""
    return _DATES.now()
