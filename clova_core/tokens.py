"""Local token estimates: no tokenizer download, deterministic, fast.

CLOVA's tokenizer is not public; the exact count comes only from the token-calculator
endpoints, which the client calls on request. This module gives two
local numbers instead, and they are deliberately biased in opposite directions:

``estimate_tokens`` (errs HIGH, used to trim chat histories and to size default outputs)
    Text is split into character classes with a few compiled regexes (C-speed scans, no
    per-character Python loop) and each class is priced above what a BPE tokenizer usually
    charges for it:

    * each Hangul syllable / jamo, CJK ideograph, kana or full-width form: 1 token
      (Korean-optimised tokenizers such as HyperCLOVA X's average well under 1 per syllable);
    * each run of ASCII letters: ``ceil(len / 3)`` tokens (English BPE averages ~4 characters
      per token, including the leading space);
    * each run of digits: ``ceil(len / 2)`` tokens (1 per digit pair);
    * each ASCII punctuation or symbol character: 1 token;
    * each whitespace run that starts with a newline or is 2+ characters long: 1 token
      (single spaces are folded into the next word, as BPE does); non-ASCII spaces are
      priced as ordinary characters;
    * each character outside the Basic Multilingual Plane (emoji): 2 tokens;
    * any other character (accented Latin, Cyrillic, Thai, ...): 1 token.

    Wide and other characters cost the same, so they are counted together as what the other
    classes leave over: one length minus the other counts, no scan of its own.

    Per word and per digit run the ceilings are summed through ``(total + 2n) // 3`` and
    ``(total + n) // 2``, which is never below the sum of the per-run ceilings.

``estimate_message_tokens`` adds, per message, :data:`MESSAGE_OVERHEAD_TOKENS` (role markers
and the end-of-turn token, which CLOVA counts; the documented token-calculator examples
show 10-16 tokens for 2-5 word messages, so the overhead is set at 12), each tool
call's name and JSON arguments plus :data:`TOOL_CALL_OVERHEAD_TOKENS`, the tool-call id of a
tool result, and :data:`IMAGE_TOKENS` per image (a documented example counted 1,478 for one
image).

``lower_bound_tokens`` (errs LOW, used only to reject requests that are *certainly* too long)
    ``floor(n / 8)`` where ``n`` is the number of non-whitespace characters after every run of
    4+ identical characters is collapsed to one character. Justification: dense BPE
    vocabularies average ~4 characters per token on English *including* spaces (~3.3 without)
    and 1-2 characters per token on Korean; 8 non-space characters per token is about twice
    the densest natural text, whitespace may be merged for free, and long runs of one
    character (``=====`` rulers, padding) are the one common pattern where a single token
    spans many characters, hence the collapse. Images, tool-call ids and the role overhead
    count 0 in the bound; each message adds only 1 (its documented end-of-turn token).
    A deliberately adversarial text (one long vocabulary entry repeated thousands of times)
    can beat any fixed ratio; the exact server count (``exact_token_check``) is the
    authority in that case.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from clova_core.types import ChatRequest, ImagePart, Message, TextPart, Tool

MESSAGE_OVERHEAD_TOKENS = 12
"""Estimated tokens per message beyond its content (role markers, end-of-turn)."""
TOOL_CALL_OVERHEAD_TOKENS = 8
"""Estimated tokens per tool call beyond its name and arguments (type, id, brackets)."""
IMAGE_TOKENS = 1500
"""Estimated tokens per image part (the documented v3 token-calculator example counted 1,478)."""
LOWER_BOUND_CHARS_PER_TOKEN = 8
"""Non-whitespace characters per token assumed by the lower bound (see module docstring)."""
LOWER_BOUND_MESSAGE_TOKENS = 1
"""Tokens per message the lower bound adds: the end-of-turn token CLOVA counts (2.3)."""

_ASCII_LETTERS = re.compile(r"[A-Za-z]+")
_DIGITS = re.compile(r"[0-9]+")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_PUNCT = re.compile(r"[!-/:-@\[-`{-~]")
_WS_BREAK = re.compile(r"\n\s*|\s\s+")
_ASCII_SPACES = " \t\n\r\f\v"
_REPEATS = re.compile(r"(.)\1{3,}", re.DOTALL)


def _count_spaces(text: str) -> int:
    """ASCII whitespace characters (other spaces are priced as ordinary characters: higher)."""
    return sum(map(text.count, _ASCII_SPACES))


def estimate_tokens(text: str) -> int:
    """A deliberately high estimate of CLOVA's token count for ``text`` (module docstring)."""
    if not text:
        return 0
    # ``subn`` counts matches and, through what it leaves, their characters.
    without_letters, words = _ASCII_LETTERS.subn("", text)
    letters = len(text) - len(without_letters)
    without_digits, digit_runs = _DIGITS.subn("", text)
    digits = len(text) - len(without_digits)
    astral = 0 if text.isascii() else _ASTRAL.subn("", text)[1]
    punct = _PUNCT.subn("", text)[1]
    spaces = _count_spaces(text)
    breaks = _WS_BREAK.subn("", text)[1]
    wide_or_other = len(text) - letters - digits - astral - punct - spaces
    return (
        (letters + 2 * words) // 3
        + (digits + digit_runs) // 2
        + 2 * astral
        + punct
        + breaks
        + wide_or_other
    )


def lower_bound_tokens(text: str) -> int:
    """A count CLOVA's tokenizer will not go below for natural text (module docstring)."""
    if not text:
        return 0
    collapsed = _REPEATS.sub(r"\1", text)
    visible = len(collapsed) - _count_spaces(collapsed)
    return visible // LOWER_BOUND_CHARS_PER_TOKEN


def _json_text(value: Any) -> str:
    """Compact JSON of ``value`` (non-ASCII kept), or ``str(value)`` if it is not JSON."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except (TypeError, ValueError, RecursionError):  # the request checks say what is wrong
        return str(value)


def _content_parts(message: Message) -> tuple[list[str], int]:
    """The texts and the number of images of a message's content (``None`` means empty)."""
    content: object = message.content
    if content is None:
        return [], 0
    if isinstance(content, str):
        return [content], 0
    texts: list[str] = []
    images = 0
    if isinstance(content, Iterable):
        for part in content:
            if isinstance(part, TextPart):
                texts.append(part.text)
            elif isinstance(part, ImagePart):
                images += 1
            else:
                texts.append(str(part))
    return texts, images


def _tool_call_texts(message: Message) -> list[str]:
    texts: list[str] = []
    for call in message.tool_calls:
        texts.append(call.name)
        arguments: object = call.arguments
        texts.append(arguments if isinstance(arguments, str) else _json_text(arguments))
    return texts


def estimate_message_tokens(messages: Sequence[Message]) -> int:
    """High estimate of the input tokens of ``messages``, overheads and images included."""
    total = 0
    for message in messages:
        texts, images = _content_parts(message)
        total += MESSAGE_OVERHEAD_TOKENS + images * IMAGE_TOKENS
        total += sum(map(estimate_tokens, texts))
        if message.tool_calls:
            total += len(message.tool_calls) * TOOL_CALL_OVERHEAD_TOKENS
            total += sum(map(estimate_tokens, _tool_call_texts(message)))
        if message.tool_call_id:
            total += estimate_tokens(message.tool_call_id)
    return total


def lower_bound_message_tokens(messages: Sequence[Message]) -> int:
    """Tokens ``messages`` certainly take: text lower bounds plus 1 end-of-turn per message."""
    total = 0
    for message in messages:
        texts, _ = _content_parts(message)
        texts.extend(_tool_call_texts(message))
        total += LOWER_BOUND_MESSAGE_TOKENS + sum(map(lower_bound_tokens, texts))
    return total


def _tool_definition(tool: Tool) -> Mapping[str, Any]:
    return {"name": tool.name, "description": tool.description, "parameters": tool.parameters}


def estimate_tools_tokens(tools: Sequence[Tool]) -> int:
    """High estimate of the tokens tool definitions add (their compact JSON text)."""
    if not tools:
        return 0
    return estimate_tokens(_json_text([_tool_definition(tool) for tool in tools]))


def estimate_json_tokens(value: Any) -> int:
    """High estimate of the tokens of a JSON value (e.g. a response schema) as compact JSON."""
    return 0 if value is None else estimate_tokens(_json_text(value))


def estimate_request_tokens(request: ChatRequest) -> int:
    """High estimate of a chat request's input: messages, tool definitions and schema."""
    return (
        estimate_message_tokens(request.messages)
        + estimate_tools_tokens(request.tools)
        + estimate_json_tokens(request.response_format)
    )
