"""The emulator's tokenizer rules and the agreement of every count it reports."""

from __future__ import annotations

import httpx
import pytest
from emu_support import WEATHER_TOOL, data_part, png

from clova_emulator import Emulator, count_tokens
from clova_emulator.behaviour.tokenizer import token_pieces, truncate_tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("   \n\t ", 0),
        ("안녕하세요", 5),
        ("日本語", 3),
        ("abcd", 1),
        ("abcde", 2),
        ("Hello world", 4),
        ("123", 1),
        ("1234", 2),
        ("a1", 2),
        ("!?.", 3),
        ("서울은 sunny, 31도", 3 + 2 + 1 + 1 + 1),
    ],
)
def test_count_rules(text: str, expected: int) -> None:
    assert count_tokens(text) == expected


def test_pieces_rebuild_the_text_and_match_the_count() -> None:
    text = "  Hello, 세계! 12345 tokens\n"
    pieces = token_pieces(text)
    assert "".join(pieces) == text
    assert len(pieces) == count_tokens(text)


def test_truncate_keeps_a_prefix_of_whole_tokens() -> None:
    assert truncate_tokens("abcdefgh ijkl", 2) == ("abcdefgh", True)
    assert truncate_tokens("short", 5) == ("short", False)


def test_chat_usage_agrees_with_the_v3_calculator(emu: Emulator, http: httpx.Client) -> None:
    body = {
        "messages": [
            {"role": "system", "content": "Be kind."},
            {
                "role": "user",
                "content": [
                    data_part(png(32, 32)),
                    {"type": "text", "text": "이 그림을 설명해 줘"},
                ],
            },
        ]
    }
    counted = http.post("/v3/api-tools/chat-tokenize/HCX-005", json=body).json()["result"]
    image_part, text_part = counted["messages"][1]["content"]
    assert image_part["count"] == 1478 + 3
    assert text_part["count"] == count_tokens("이 그림을 설명해 줘")
    assert counted["messages"][0]["content"] == [
        {"type": "text", "text": "Be kind.", "count": 3 + count_tokens("Be kind.")}
    ]
    total = sum(part["count"] for message in counted["messages"] for part in message["content"])
    chat = http.post("/v3/chat-completions/HCX-005", json=body).json()["result"]
    assert chat["usage"]["promptTokens"] == total


def test_tools_and_schema_counts_enter_prompt_tokens(emu: Emulator, http: httpx.Client) -> None:
    tools_body = {
        "messages": [{"role": "user", "content": "weather in Seoul"}],
        "tools": [WEATHER_TOOL],
        "maxTokens": 1024,
    }
    counted = http.post("/v3/api-tools/chat-tokenize/HCX-005", json=tools_body).json()["result"]
    assert counted["tools"]["count"] > 0
    chat = http.post("/v3/chat-completions/HCX-005", json=tools_body).json()["result"]
    message_total = sum(part["count"] for part in counted["messages"][0]["content"])
    assert chat["usage"]["promptTokens"] == message_total + counted["tools"]["count"]

    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    schema_body = {
        "messages": [{"role": "user", "content": "n is 4"}],
        "responseFormat": {"type": "json", "schema": schema},
        "thinking": {"effort": "none"},
    }
    counted = http.post("/v3/api-tools/chat-tokenize/HCX-007", json=schema_body).json()["result"]
    chat = http.post("/v3/chat-completions/HCX-007", json=schema_body).json()["result"]
    message_total = sum(part["count"] for part in counted["messages"][0]["content"])
    assert chat["usage"]["promptTokens"] == message_total + counted["responseFormat"]["count"]


def test_v1_input_length_agrees_with_the_v1_calculator(emu: Emulator, http: httpx.Client) -> None:
    body = {
        "messages": [
            {"role": "system", "content": "- You are HyperCLOVA X."},
            {"role": "user", "content": "Hello, what is your name?"},
        ]
    }
    counted = http.post("/v1/api-tools/chat-tokenize/HCX-003", json=body).json()["result"]
    assert [message["content"] for message in counted["messages"]] == [
        "- You are HyperCLOVA X.",
        "Hello, what is your name?",
    ]
    chat = http.post("/v1/chat-completions/HCX-003", json=body).json()["result"]
    assert chat["inputLength"] == sum(message["count"] for message in counted["messages"])
    assert chat["outputLength"] == count_tokens(chat["message"]["content"])


def test_embedding_counts_agree(emu: Emulator, http: httpx.Client) -> None:
    text = "CLOVA Studio 임베딩 토큰 123"
    tokenized = http.post("/v1/api-tools/embedding/v2/tokenize", json={"text": text}).json()
    embedded = http.post("/v1/api-tools/embedding/v2", json={"text": text}).json()
    assert tokenized["result"]["numTokens"] == count_tokens(text)
    assert embedded["result"]["inputTokens"] == count_tokens(text)
