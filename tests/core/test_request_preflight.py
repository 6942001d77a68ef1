"""Token pre-flight, exact context checks and embedding requests: clova_core.request."""

from __future__ import annotations

from typing import Any

import pytest

from clova_core.errors import ClovaValidationError, ContextLimitError
from clova_core.models import custom_chat_model, get_chat_model, get_embedding_model
from clova_core.request import (
    check_context_limits,
    effective_max_tokens,
    prepare_chat,
    prepare_embedding,
    prepare_embedding_tokenize,
)
from clova_core.tokens import lower_bound_message_tokens, lower_bound_tokens
from clova_core.types import ChatRequest, Message, Tool

KOREAN = "네이버 클라우드 플랫폼의 클로바 스튜디오는 한국어 언어 모델을 제공합니다. "


def korean(min_lower_bound: int) -> str:
    """Varied Korean prose whose lower bound is at least ``min_lower_bound`` tokens."""
    per_copy = lower_bound_tokens(KOREAN * 8) / 8
    return KOREAN * (int(min_lower_bound / per_copy) + 8)


def chat(model: str, text: str, **fields: Any) -> ChatRequest:
    return ChatRequest(messages=[Message(role="user", content=text)], model=model, **fields)


@pytest.mark.parametrize(
    ("model", "max_input", "larger"),
    [
        ("HCX-DASH-001", 3_500, "HCX-007, HCX-005, HCX-DASH-002, HCX-003"),
        ("HCX-003", 7_600, "HCX-007, HCX-005, HCX-DASH-002"),
        ("HCX-DASH-002", 32_000, "HCX-007, HCX-005"),
    ],
)
def test_input_certainly_over_the_limit_is_rejected_locally(
    model: str, max_input: int, larger: str
) -> None:
    request = chat(model, korean(max_input + 1))
    lower = lower_bound_message_tokens(request.messages)
    assert lower > max_input
    with pytest.raises(ContextLimitError) as info:
        prepare_chat(request, get_chat_model(model))
    error = info.value
    assert (error.input_tokens, error.max_input_tokens, error.exact) == (lower, max_input, False)
    assert error.context_window == get_chat_model(model).context_window
    message = str(error)
    assert f"at least {lower:,} tokens" in message
    assert f"input limit of {max_input:,} tokens" in message
    assert "Trim the chat history" in message
    assert larger in message


def test_input_plus_explicit_max_tokens_over_the_window_is_rejected() -> None:
    request = chat("HCX-003", korean(5_000), max_tokens=4_000)
    lower = lower_bound_message_tokens(request.messages)
    assert lower + 4_000 > 8_192
    assert lower <= 7_600
    with pytest.raises(ContextLimitError) as info:
        prepare_chat(request, get_chat_model("HCX-003"))
    error = info.value
    assert error.requested_output_tokens == 4_000
    assert error.context_window == 8_192
    message = str(error)
    assert "max_tokens=4,000" in message
    # A lower bound cannot say how much room is left: no number is suggested, the way to
    # get one is.
    assert "at most" not in message
    assert f"{8_192 - lower:,}" not in message
    assert "Lower max_tokens or trim the chat history" in message
    assert "exact_token_check=True (exact_token_count=True on ChatClovaX)" in message


@pytest.mark.parametrize("input_tokens", [4_100, 7_600])
def test_an_exact_count_names_the_largest_max_tokens_that_fits(input_tokens: int) -> None:
    spec = get_chat_model("HCX-003")
    with pytest.raises(ContextLimitError) as info:
        check_context_limits(spec, input_tokens=input_tokens, max_output_tokens=4_096, exact=True)
    room = 8_192 - input_tokens
    assert f"Lower max_tokens to at most {room:,}," in str(info.value)
    # The number named is exactly the boundary: it passes, one more does not.
    check_context_limits(spec, input_tokens=input_tokens, max_output_tokens=room, exact=True)
    with pytest.raises(ContextLimitError):
        check_context_limits(
            spec, input_tokens=input_tokens, max_output_tokens=room + 1, exact=True
        )


def test_token_counts_of_one_are_singular() -> None:
    spec = custom_chat_model("tiny", context_window=1, max_input_tokens=1, max_output_tokens=1)
    with pytest.raises(ContextLimitError) as info:
        check_context_limits(spec, input_tokens=1, max_output_tokens=1, exact=False)
    message = str(info.value)
    assert "at least 1 token (" in message
    assert "context window of 1 token (" in message
    assert "1 tokens" not in message


def test_tool_floor_counts_against_the_window() -> None:
    tool = Tool(name="f", description="d")
    request = chat("HCX-DASH-002", korean(31_500), tools=[tool])
    assert lower_bound_message_tokens(request.messages) <= 32_000
    with pytest.raises(ContextLimitError) as info:
        prepare_chat(request, get_chat_model("HCX-DASH-002"))
    assert info.value.requested_output_tokens == 1024


def test_estimate_over_but_lower_bound_under_is_sent_with_a_floored_default_cap() -> None:
    # The high estimate says "over", the lower bound cannot prove it: the request goes out
    # (the server or an exact count decides) with the default cap lowered to its floor.
    request = chat("HCX-DASH-001", korean(1_000))
    spec = get_chat_model("HCX-DASH-001")
    assert lower_bound_message_tokens(request.messages) < spec.max_input_tokens
    assert prepare_chat(request, spec).body["maxTokens"] == 256
    assert effective_max_tokens(request, spec) == 256


def test_thinking_models_check_only_the_input_when_no_cap_is_sent() -> None:
    spec = get_chat_model("HCX-007")
    body = prepare_chat(chat("HCX-007", "Prove it."), spec).body
    assert "maxCompletionTokens" not in body
    check_context_limits(spec, input_tokens=128_000, max_output_tokens=None, exact=True)
    with pytest.raises(ContextLimitError):
        check_context_limits(spec, input_tokens=128_001, max_output_tokens=None, exact=True)


@pytest.mark.parametrize(
    ("input_tokens", "max_output", "raises"),
    [
        (7_600, None, False),
        (7_601, None, True),
        (4_096, 4_096, False),
        (4_097, 4_096, True),
        (100, 8_093, True),
        (100, 8_092, False),
    ],
)
def test_check_context_limits_exact(
    input_tokens: int, max_output: int | None, raises: bool
) -> None:
    spec = get_chat_model("HCX-003")
    if not raises:
        check_context_limits(
            spec, input_tokens=input_tokens, max_output_tokens=max_output, exact=True
        )
        return
    with pytest.raises(ContextLimitError) as info:
        check_context_limits(
            spec, input_tokens=input_tokens, max_output_tokens=max_output, exact=True
        )
    error = info.value
    assert (error.input_tokens, error.requested_output_tokens, error.exact) == (
        input_tokens,
        max_output,
        True,
    )
    assert f"{input_tokens:,} tokens (counted by CLOVA's token calculator)" in str(error)


@pytest.mark.parametrize(
    ("input_tokens", "expected_cap"),
    [(100, 1024), (7_500, 692), (7_168, 1024), (7_169, 1023)],
)
def test_exact_input_count_drives_the_default_cap(input_tokens: int, expected_cap: int) -> None:
    spec = get_chat_model("HCX-003")
    request = chat("HCX-003", "Hello")
    body = prepare_chat(request, spec, input_tokens=input_tokens).body
    assert body["maxTokens"] == expected_cap
    assert effective_max_tokens(request, spec, input_tokens=input_tokens) == expected_cap


def test_exact_input_count_over_the_limit_raises_exact() -> None:
    with pytest.raises(ContextLimitError) as info:
        prepare_chat(chat("HCX-003", "Hello"), get_chat_model("HCX-003"), input_tokens=7_700)
    assert info.value.exact is True
    assert info.value.input_tokens == 7_700


# --- embeddings (clova-api.md 5, 6.3) ----------------------------------------------------


@pytest.mark.parametrize(
    ("model", "path"),
    [
        ("clir-emb-dolphin", "/v1/api-tools/embedding/clir-emb-dolphin"),
        ("clir-sts-dolphin", "/v1/api-tools/embedding/clir-sts-dolphin"),
        ("bge-m3", "/v1/api-tools/embedding/v2"),
    ],
)
def test_embedding_requests(model: str, path: str) -> None:
    wire = prepare_embedding("안녕하세요", get_embedding_model(model))
    assert (wire.path, wire.body, wire.api_version) == (path, {"text": "안녕하세요"}, 1)


def test_embedding_text_certainly_over_the_limit() -> None:
    text = korean(501)
    with pytest.raises(ContextLimitError) as info:
        prepare_embedding(text, get_embedding_model("clir-emb-dolphin"))
    error = info.value
    assert error.max_input_tokens == 500
    assert error.input_tokens == lower_bound_tokens(text)
    assert "Split it into smaller chunks" in str(error)
    assert "bge-m3" in str(error)
    assert prepare_embedding(text, get_embedding_model("bge-m3")).body == {"text": text}


@pytest.mark.parametrize("text", ["", None, " ", "\n\t \u3000"])
def test_embedding_needs_text(text: Any) -> None:
    with pytest.raises(ClovaValidationError, match="The text to embed"):
        prepare_embedding(text, get_embedding_model("bge-m3"))


@pytest.mark.parametrize("text", [" ", "\n\n", "\u3000\t"])
def test_whitespace_only_text_is_caught_with_a_hint(text: str) -> None:
    for prepare in (
        lambda: prepare_embedding(text, get_embedding_model("clir-emb-dolphin")),
        lambda: prepare_embedding_tokenize(text),
    ):
        with pytest.raises(ClovaValidationError) as info:
            prepare()
        message = str(info.value)
        assert f"only whitespace ({len(text)} characters)" in message
        assert "40004 'Text empty'" in message
        assert "Skip empty documents, and whitespace-only ones" in message


def test_embedding_tokenize_bounds() -> None:
    wire = prepare_embedding_tokenize("x" * 10_000)
    assert wire.path == "/v1/api-tools/embedding/v2/tokenize"
    assert wire.body == {"text": "x" * 10_000}
    with pytest.raises(ClovaValidationError, match=r"10,001 characters.*1\.\.10,000"):
        prepare_embedding_tokenize("x" * 10_001)
    with pytest.raises(ClovaValidationError, match="empty"):
        prepare_embedding_tokenize("")
