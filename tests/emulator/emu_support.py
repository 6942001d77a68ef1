"""Helpers for the emulator tests: raw HTTP clients, an SSE splitter, tiny image headers."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import httpx

from clova_emulator import Emulator

AUTH = {"Authorization": "Bearer test-key"}
STREAM = {**AUTH, "Accept": "text/event-stream"}


def client(emu: Emulator, **kwargs: Any) -> httpx.Client:
    """A raw httpx client on the emulator with the test key."""
    headers = {**AUTH, **kwargs.pop("headers", {})}
    return httpx.Client(base_url=emu.base_url, headers=headers, timeout=10, **kwargs)


@dataclass
class Event:
    """One parsed SSE block."""

    id: str | None
    event: str | None
    data: str
    raw: str

    def json(self) -> Any:
        return json.loads(self.data)


def parse_sse(text: str) -> list[Event]:
    """Split an SSE body into events (one optional space after the colon is stripped)."""
    events: list[Event] = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value
        events.append(Event(fields.get("id"), fields.get("event"), fields.get("data", ""), block))
    return events


def stream(
    http: httpx.Client, path: str, body: dict[str, Any]
) -> tuple[httpx.Response, list[Event]]:
    """POST with ``Accept: text/event-stream`` and parse the whole reply."""
    response = http.post(path, json=body, headers={"Accept": "text/event-stream"})
    return response, parse_sse(response.text)


def user(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
    )


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00" * 3
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


def bmp(width: int, height: int) -> bytes:
    return (
        b"BM"
        + struct.pack("<IHHI", 54, 0, 0, 54)
        + struct.pack("<Iii", 40, width, height)
        + b"\0" * 28
    )


def webp(width: int, height: int) -> bytes:
    body = b"VP8X" + struct.pack("<I", 10) + b"\0\0\0\0"
    body += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


GIF = b"GIF89a" + b"\x01\x00\x01\x00" + b"\0" * 20


def data_part(blob: bytes, *, uri: bool = False) -> dict[str, Any]:
    encoded = base64.b64encode(blob).decode()
    data = f"data:image/png;base64,{encoded}" if uri else encoded
    return {"type": "image_url", "dataUri": {"data": data}}


def url_part(url: str) -> dict[str, Any]:
    return {"type": "image_url", "imageUrl": {"url": url}}


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "city name"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_local_time",
        "description": "Get the local time in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
MULTIPLY_TOOL = {
    "type": "function",
    "function": {
        "name": "multiply",
        "description": "Multiply two numbers",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
            "required": ["a", "b"],
        },
    },
}
