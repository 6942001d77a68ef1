"""The emulator as an oracle: which tool it calls, with which arguments, for a table of prompts.

The emulator must never invent a value. When a required argument is not in the prompt it
calls no tool and asks for the missing value, the way a model would; it never fills 0, an
empty string or a word taken from the tool's own description.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from clova_emulator import Emulator
from tests.emulator.emu_support import client


def _tool(name: str, description: str, **properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": list(properties),
            },
        },
    }


NUMBER = {"type": "number"}
INTEGER = {"type": "integer"}
STRING = {"type": "string"}

ADD = _tool("add", "Add two numbers.", a=NUMBER, b=NUMBER)
MULTIPLY = _tool("multiply", "Multiply two numbers.", a=NUMBER, b=NUMBER)
SUBTRACT = _tool("subtract", "Subtract b from a.", a=NUMBER, b=NUMBER)
WEATHER = _tool("get_weather", "Current weather for a city.", city=STRING)
CONVERT = _tool(
    "convert_currency",
    "Convert an amount between currencies, for example Korean won to US dollars.",
    amount=NUMBER,
    currency={"type": "string", "enum": ["KRW", "USD", "EUR", "JPY"]},
)
POPULATION = _tool("get_population", "Population of a country.", country=STRING)
EMAIL = _tool(
    "send_email",
    "Send an e-mail.",
    to={"type": "string", "format": "email"},
    subject=STRING,
)
SQUARE = _tool("square", "Square of an integer.", n=INTEGER)
MATH = [ADD, MULTIPLY, SUBTRACT]

# (prompt, tools, expected calls [(name, arguments)]; [] = no call)
CASES: list[tuple[str, list[dict[str, Any]], list[tuple[str, dict[str, Any]]]]] = [
    ("Add 17 and 25", MATH, [("add", {"a": 17, "b": 25})]),
    ("What is 17 plus 25?", MATH, [("add", {"a": 17, "b": 25})]),
    ("What is the sum of 3 and 4?", MATH, [("add", {"a": 3, "b": 4})]),
    ("Multiply 6 by 7", MATH, [("multiply", {"a": 6, "b": 7})]),
    ("What is 6 times 7?", MATH, [("multiply", {"a": 6, "b": 7})]),
    ("Subtract 5 from 12", MATH, [("subtract", {"a": 12, "b": 5})]),
    ("What is 12 minus 5?", MATH, [("subtract", {"a": 12, "b": 5})]),
    ("17 더하기 25는?", MATH, [("add", {"a": 17, "b": 25})]),
    ("3.5 plus 1.25", MATH, [("add", {"a": 3.5, "b": 1.25})]),
    ("Add 17", MATH, []),
    ("Add two numbers for me", MATH, []),
    ("What's the weather in Seoul?", [WEATHER], [("get_weather", {"city": "Seoul"})]),
    ("Weather in Busan today", [WEATHER], [("get_weather", {"city": "Busan"})]),
    ("How is the weather in New York?", [WEATHER], [("get_weather", {"city": "New York"})]),
    ("서울 날씨 알려줘", [WEATHER], [("get_weather", {"city": "서울"})]),
    ("What's the weather like?", [WEATHER], []),
    ("Tell me the weather", [WEATHER], []),
    (
        "Convert 100 to USD",
        [CONVERT],
        [("convert_currency", {"amount": 100, "currency": "USD"})],
    ),
    (
        "Convert 5000 Korean won to EUR",
        [CONVERT],
        [("convert_currency", {"amount": 5000, "currency": "EUR"})],
    ),
    ("Convert 100 dollars", [CONVERT], []),
    ("Convert to JPY", [CONVERT], []),
    (
        "What is the population of France?",
        [POPULATION],
        [("get_population", {"country": "France"})],
    ),
    ("What is the population?", [POPULATION], []),
    (
        'Send an email to kim@example.com with subject "Lunch"',
        [EMAIL],
        [("send_email", {"to": "kim@example.com", "subject": "Lunch"})],
    ),
    ('Send an email with subject "Lunch"', [EMAIL], []),
    ("What is the square of 12?", [SQUARE], [("square", {"n": 12})]),
    ("Square a number", [SQUARE], []),
    ("Hello there", [WEATHER, *MATH], []),
    ("Tell me a joke", [WEATHER], []),
    (
        "What's the weather in Seoul and what is 2 plus 3?",
        [WEATHER, *MATH],
        [("get_weather", {"city": "Seoul"}), ("add", {"a": 2, "b": 3})],
    ),
    (
        "Add 1 and 2, then multiply 3 by 4",
        MATH,
        [("add", {"a": 1, "b": 2}), ("multiply", {"a": 3, "b": 4})],
    ),
]


@pytest.fixture
def http(emu: Emulator) -> httpx.Client:
    with client(emu) as session:
        yield session


def _calls(http: httpx.Client, prompt: str, tools: list[dict[str, Any]]) -> tuple[list, str]:
    body = {"messages": [{"role": "user", "content": prompt}], "tools": tools}
    response = http.post("/v3/chat-completions/HCX-005", json=body)
    assert response.status_code == 200, response.text
    message = response.json()["result"]["message"]
    calls = [
        (call["function"]["name"], call["function"]["arguments"])
        for call in message.get("toolCalls") or []
    ]
    return calls, message.get("content") or ""


@pytest.mark.parametrize(("prompt", "tools", "expected"), CASES, ids=[c[0] for c in CASES])
def test_tool_calls_from_prompt(
    http: httpx.Client,
    prompt: str,
    tools: list[dict[str, Any]],
    expected: list[tuple[str, dict[str, Any]]],
) -> None:
    calls, content = _calls(http, prompt, tools)
    assert calls == expected
    if not expected:
        assert content.strip(), "a turn without a tool call answers in text"


# Structured output: values in schema order are read in the order the text gives them.
STRUCTURED_CASES = [
    (
        "Seoul is the capital of South Korea.",
        {"name": STRING, "country": STRING},
        {"name": "Seoul", "country": "South Korea"},
    ),
    (
        "Extract the weather report from this text: It is 23 degrees in Seoul today.",
        {"city": STRING, "temperature_c": NUMBER},
        {"city": "Seoul", "temperature_c": 23},
    ),
    (
        "Kim Minsu is 31 years old and lives in Busan.",
        {"name": STRING, "age": INTEGER, "city": STRING},
        {"name": "Kim Minsu", "age": 31, "city": "Busan"},
    ),
]


@pytest.mark.parametrize(("prompt", "properties", "expected"), STRUCTURED_CASES)
def test_structured_output_keeps_values_in_their_slots(
    http: httpx.Client, prompt: str, properties: dict[str, Any], expected: dict[str, Any]
) -> None:
    schema = {"type": "object", "properties": properties, "required": list(properties)}
    body = {
        "messages": [{"role": "user", "content": prompt}],
        "responseFormat": {"type": "json", "schema": schema},
        "thinking": {"effort": "none"},
    }
    response = http.post("/v3/chat-completions/HCX-007", json=body)
    assert response.status_code == 200, response.text
    assert json.loads(response.json()["result"]["message"]["content"]) == expected


def test_quoted_answer_leaves_the_prompt_template_out(http: httpx.Client) -> None:
    """LlamaIndex's default QA template: the quote is the passage, not the template's tail."""
    system = (
        "You are an expert Q&A system that is trusted around the world.\n"
        "Always answer the query using the provided context information, and not prior "
        "knowledge.\nSome rules to follow:\n1. Never directly reference the given context in "
        "your answer.\n2. Avoid statements like 'Based on the context, ...'."
    )
    user = (
        "Context information is below.\n---------------------\n"
        "file_path: a.txt\n\nHallasan on Jeju Island is 1,947 meters high.\n\n"
        "file_path: b.txt\n\nBusan is a port city.\n---------------------\n"
        "Given the context information and not prior knowledge, answer the query.\n"
        "Query: How high is Hallasan?\nAnswer: "
    )
    body = {"messages": [{"role": "system", "content": system}, {"role": "user", "content": user}]}
    response = http.post("/v3/chat-completions/HCX-005", json=body)
    content = response.json()["result"]["message"]["content"]
    assert "Hallasan on Jeju Island is 1,947 meters high." in content
    for leak in ("Given the context", "---", "Query", "expert", "Busan"):
        assert leak not in content
