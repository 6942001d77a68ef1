"""The emulator's deterministic tokenizer: one rule set for every count it reports.

Chat usage, the three token calculators, embedding ``inputTokens`` and the TPM rate limiter
all count with :func:`count_tokens`, so the numbers agree with each other (the real service
counts with its own tokenizer; the client's local estimate deliberately errs
higher and is not imported here).

Rules:

* each Hangul syllable / jamo and each CJK, Hiragana or Katakana character is one token;
* each run of ASCII letters is ``ceil(len / 4)`` tokens;
* each run of ASCII digits is ``ceil(len / 3)`` tokens;
* every other non-space character is one token; whitespace is free;
* a chat message costs :data:`MESSAGE_OVERHEAD` tokens on top of its content and every image
  :data:`IMAGE_TOKENS` (the count shown in the v3 calculator example).
"""

from __future__ import annotations

import re

MESSAGE_OVERHEAD = 3
IMAGE_TOKENS = 1478
_LETTERS_PER_TOKEN = 4
_DIGITS_PER_TOKEN = 3


def is_hangul(char: str) -> bool:
    """A Hangul syllable or jamo."""
    code = ord(char)
    return 0xAC00 <= code <= 0xD7A3 or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F


def is_cjk(char: str) -> bool:
    """A character counted alone: Hangul, CJK ideographs, Hiragana, Katakana."""
    code = ord(char)
    return (
        is_hangul(char)
        or 0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x3040 <= code <= 0x30FF
        or 0xF900 <= code <= 0xFAFF
    )


_RAW_PIECE = re.compile(
    rf"\s+|[A-Za-z]{{1,{_LETTERS_PER_TOKEN}}}|[0-9]{{1,{_DIGITS_PER_TOKEN}}}|.", re.DOTALL
)
"""One raw piece: a whitespace run (``\\s`` is ``str.isspace``), up to 4 ASCII letters of a
letter run, up to 3 ASCII digits of a digit run, or any other single character. Runs are cut
greedily from their start, so ``abcdefghij`` gives ``abcd``, ``efgh``, ``ij``."""
_TOKEN = re.compile(rf"[A-Za-z]{{1,{_LETTERS_PER_TOKEN}}}|[0-9]{{1,{_DIGITS_PER_TOKEN}}}|\S")
"""The raw pieces that are not whitespace: one per token."""


def _raw_pieces(text: str) -> list[str]:
    return _RAW_PIECE.findall(text)


def token_pieces(text: str) -> list[str]:
    """``text`` cut into tokens; whitespace rides on the following token (or the last one).

    ``"".join(token_pieces(text)) == text`` whenever ``text`` has a non-space character, and
    ``len(token_pieces(text)) == count_tokens(text)``. Streams emit one piece per event and
    ``maxTokens`` truncation keeps a prefix of the pieces.
    """
    pieces: list[str] = []
    pending = ""
    for piece in _raw_pieces(text):
        if piece.isspace():
            pending += piece
            continue
        pieces.append(pending + piece)
        pending = ""
    if pending and pieces:
        pieces[-1] += pending
    return pieces


def count_tokens(text: str) -> int:
    """The number of tokens in ``text`` under the rules of this module
    (``len(token_pieces(text))``, without building the pieces)."""
    return len(_TOKEN.findall(text))


def truncate_tokens(text: str, budget: int) -> tuple[str, bool]:
    """The first ``budget`` tokens of ``text`` and whether anything was cut."""
    pieces = token_pieces(text)
    if len(pieces) <= budget:
        return text, False
    return "".join(pieces[: max(budget, 0)]), True
