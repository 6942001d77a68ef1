"""Local token estimate (errs high) and lower bound (errs low): clova_core.tokens."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clova_core.tokens import (
    IMAGE_TOKENS,
    LOWER_BOUND_MESSAGE_TOKENS,
    MESSAGE_OVERHEAD_TOKENS,
    TOOL_CALL_OVERHEAD_TOKENS,
    estimate_message_tokens,
    estimate_request_tokens,
    estimate_tokens,
    estimate_tools_tokens,
    lower_bound_message_tokens,
    lower_bound_tokens,
)
from clova_core.types import ChatRequest, ImagePart, Message, TextPart, Tool, ToolCall


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("a", 1),
        ("abc", 1),
        ("abcd", 2),
        ("Hello world", 4),  # ceil(5/3) + ceil(5/3)
        ("안녕하세요", 5),  # one per Hangul syllable
        ("漢字かな", 4),  # CJK ideographs and kana: one each
        ("12", 1),
        ("12345", 3),  # one per digit pair, rounded up
        ("a,b.", 4),  # letters 1 + 1, punctuation 1 + 1
        ("x\n\ny", 3),  # a whitespace run with a newline is one token
        ("x y", 2),  # a single space is free
        ("👍", 2),  # astral characters count double
        ("café", 2),  # 'caf' + the accented letter
        ("Привет", 6),  # other scripts: one per character
    ],
)
def test_estimate_tokens_prices_each_character_class(text: str, expected: int) -> None:
    assert estimate_tokens(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("abcdefg", 0),
        ("abcdefgh", 1),
        ("abcd efgh", 1),  # whitespace is not counted
        ("가나다라마바사아자차카타파하" * 4, 7),  # 56 syllables // 8
        ("=" * 10_000, 0),  # a run of one repeated character collapses to one character
        ("ab" + "-" * 500 + "cdefgh", 1),
    ],
)
def test_lower_bound_tokens_counts_visible_characters_over_eight(text: str, expected: int) -> None:
    assert lower_bound_tokens(text) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_lower_bound_never_exceeds_estimate(text: str) -> None:
    assert 0 <= lower_bound_tokens(text) <= estimate_tokens(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.text(max_size=200))
def test_estimate_is_deterministic_and_nonnegative(a: str, b: str) -> None:
    assert estimate_tokens(a + b) == estimate_tokens(a + b) >= 0


@pytest.mark.parametrize(
    ("message", "documented_count"),
    [
        # clova-api.md 6.1 (v1 calculator) and 6.2 (v3 calculator) examples.
        (Message(role="system", content="- You are HyperCLOVA X."), 15),
        (Message(role="user", content="Hello, what is your name?"), 10),
        (Message(role="system", content="- Be kind."), 16),
        (Message(role="user", content="Describe this"), 12),
        (
            Message(
                role="user",
                content=[ImagePart(url="https://example.com/a.png"), TextPart("Describe this")],
            ),
            1478 + 12,
        ),
    ],
)
def test_estimate_is_at_least_and_bound_at_most_the_documented_counts(
    message: Message, documented_count: int
) -> None:
    assert estimate_message_tokens([message]) >= documented_count
    assert lower_bound_message_tokens([message]) <= documented_count


def test_estimate_message_tokens_adds_overhead_images_and_tool_calls() -> None:
    messages = [
        Message(role="user", content=[TextPart("abc"), ImagePart(url="https://x.test/a.png")]),
        Message(
            role="assistant",
            content="",
            tool_calls=[ToolCall(id="call_1", name="get", arguments={"q": "abc"})],
        ),
        Message(role="tool", content="result", tool_call_id="call_1"),
    ]
    expected = (
        3 * MESSAGE_OVERHEAD_TOKENS
        + estimate_tokens("abc")
        + IMAGE_TOKENS
        + TOOL_CALL_OVERHEAD_TOKENS
        + estimate_tokens("get")
        + estimate_tokens('{"q":"abc"}')
        + estimate_tokens("result")
        + estimate_tokens("call_1")
    )
    assert estimate_message_tokens(messages) == expected


def test_estimate_treats_none_content_as_empty() -> None:
    message = Message(role="assistant", content=None)  # type: ignore[arg-type]
    assert estimate_message_tokens([message]) == MESSAGE_OVERHEAD_TOKENS
    assert lower_bound_message_tokens([message]) == LOWER_BOUND_MESSAGE_TOKENS


def test_lower_bound_message_tokens_counts_text_and_one_per_message_only() -> None:
    text = "abcdefgh" * 10
    messages = [
        Message(role="user", content=[TextPart(text), ImagePart(url="https://x.test/a.png")]),
        Message(role="assistant", content=text),
    ]
    assert lower_bound_message_tokens(messages) == 2 * (LOWER_BOUND_MESSAGE_TOKENS + 10)


def test_estimate_request_tokens_includes_tools_and_schema() -> None:
    messages = [Message(role="user", content="hi")]
    tools = [
        Tool(name="get_weather", description="Weather for a city", parameters={"type": "object"})
    ]
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}}
    base = estimate_request_tokens(ChatRequest(messages=messages, model="HCX-007"))
    with_tools = estimate_request_tokens(
        ChatRequest(messages=messages, model="HCX-007", tools=tools)
    )
    with_schema = estimate_request_tokens(
        ChatRequest(messages=messages, model="HCX-007", response_format=schema)
    )
    assert base == estimate_message_tokens(messages)
    assert with_tools == base + estimate_tools_tokens(tools)
    assert with_schema > base


def test_korean_estimate_errs_high_per_syllable() -> None:
    text = "네이버 클라우드의 하이퍼클로바X는 한국어에 최적화된 언어 모델입니다."
    syllables = sum(1 for ch in text if "\uac00" <= ch <= "\ud7a3")
    assert estimate_tokens(text) >= syllables
    assert lower_bound_tokens(text) <= syllables // 4
