"""SSE streams: event shapes (clova-api.md 2.4, 3.8), framing knobs, pacing, cuts, faults,
disconnects and concurrency."""

from __future__ import annotations

import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import httpx_sse
import pytest
from emu_support import STREAM, WEATHER_TOOL, parse_sse, stream, user

from clova_emulator import Emulator, ScriptedError, ScriptedReply, count_tokens

V1 = "/v1/chat-completions/HCX-003"
V3 = "/v3/chat-completions/HCX-005"
V3_007 = "/v3/chat-completions/HCX-007"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_v1_stream_events(emu: Emulator, http: httpx.Client) -> None:
    response, events = stream(http, V1, user("Tell me about Seoul"))
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "\nevent:token\ndata:{" in response.text
    assert response.text.startswith("id:")
    *tokens, final = events
    assert [event.event for event in tokens] == ["token"] * len(tokens)
    assert final.event == "result"
    assert all(UUID.match(event.id or "") for event in events)
    assert len({event.id for event in events}) == len(events)
    pieces = [event.json() for event in tokens]
    assert [piece["outputLength"] for piece in pieces] == list(range(1, len(pieces) + 1))
    assert all(piece["stopReason"] is None and piece["index"] == 0 for piece in pieces)
    done = final.json()
    assert "".join(piece["message"]["content"] for piece in pieces) == done["message"]["content"]
    assert done["stopReason"] == "stop_before"
    assert done["outputLength"] == len(pieces)
    json_reply = http.post(V1, json=user("Tell me about Seoul")).json()["result"]
    assert json_reply["message"] == done["message"]


def test_v3_stream_events(emu: Emulator, http: httpx.Client) -> None:
    _, events = stream(http, V3, user("Tell me about Seoul"))
    *tokens, final = events
    for event in tokens:
        data = event.json()
        assert data["finishReason"] is None
        assert data["usage"] is None
        assert {"created", "seed"} <= set(data)
    done = final.json()
    text = "".join(event.json()["message"]["content"] for event in tokens)
    assert text == done["message"]["content"]
    assert done["finishReason"] == "stop"
    assert done["usage"]["completionTokens"] == len(tokens) == count_tokens(text)


def test_thinking_stream_comes_before_content(emu: Emulator, http: httpx.Client) -> None:
    _, events = stream(http, V3_007, user("Why is the sky blue?"))
    *tokens, final = events
    kinds = [
        "thinking" if event.json()["message"].get("thinkingContent") else "content"
        for event in tokens
    ]
    assert kinds == sorted(kinds, key=lambda kind: kind != "thinking")
    assert kinds[0] == "thinking"
    assert kinds[-1] == "content"
    done = final.json()
    thinking = "".join(event.json()["message"].get("thinkingContent", "") for event in tokens)
    assert thinking == done["message"]["thinkingContent"]
    assert done["usage"]["completionTokensDetails"]["thinkingTokens"] == kinds.count("thinking")


def test_tool_call_stream_shape(emu: Emulator, http: httpx.Client) -> None:
    body = {**user("What's the weather in Seoul?"), "tools": [WEATHER_TOOL], "maxTokens": 1024}
    _, events = stream(http, V3, body)
    *tokens, final = events
    header, *pieces = [event.json()["message"] for event in tokens]
    assert header["content"] == ""
    (call_header,) = header["toolCalls"]
    assert set(call_header) == {"id", "type", "function"}
    assert call_header["function"] == {"name": "get_weather"}
    partial = ""
    for piece in pieces:
        assert piece["content"] == ""
        (item,) = piece["toolCalls"]
        assert item == {
            "type": "function",
            "function": {"partialJson": item["function"]["partialJson"]},
        }
        partial += item["function"]["partialJson"]
    done = final.json()
    assert done["finishReason"] == "tool_calls"
    (call,) = done["message"]["toolCalls"]
    assert call["id"] == call_header["id"]
    assert json.loads(partial) == call["function"]["arguments"] == {"location": "Seoul"}


def test_space_and_done_signal_knobs(emu: Emulator, http: httpx.Client) -> None:
    emu.configure(sse_space=True, done_signal=True)
    response, events = stream(http, V3, user("hi"))
    assert "\nevent: token\ndata: {" in response.text
    assert response.text.startswith("id: ")
    assert [event.event for event in events[-2:]] == ["result", "signal"]
    assert events[-1].json() == {"data": "[DONE]"}


def test_httpx_sse_reads_the_default_framing(emu: Emulator, http: httpx.Client) -> None:
    with httpx_sse.connect_sse(http, "POST", V3, json=user("hello there")) as source:
        names = [event.event for event in source.iter_sse()]
    assert names[-1] == "result"
    assert set(names[:-1]) == {"token"}


def test_token_pacing_makes_time_to_first_token_real(emu: Emulator, http: httpx.Client) -> None:
    emu.configure(token_delay=0.04)
    started = time.monotonic()
    arrivals: list[float] = []
    with http.stream(
        "POST", V3, json={**user("Explain rainbows"), "maxTokens": 6}, headers=STREAM
    ) as reply:
        for line in reply.iter_lines():
            if line.startswith("event:"):
                arrivals.append(time.monotonic() - started)
    assert len(arrivals) == 7
    assert arrivals[0] >= 0.035
    assert arrivals[-1] >= 6 * 0.035
    assert arrivals[-1] - arrivals[0] >= 4 * 0.035


def test_latency_knob(emu: Emulator, http: httpx.Client) -> None:
    emu.configure(latency=0.15)
    started = time.monotonic()
    http.post(V3, json=user("hi"))
    assert time.monotonic() - started >= 0.15


def test_cut_stream_knob_and_scripted_cut(emu: Emulator, http: httpx.Client) -> None:
    emu.configure(cut_stream_after=3)
    _, events = stream(http, V3, user("Tell me about Seoul and Busan"))
    assert [event.event for event in events] == ["token"] * 3
    assert emu.requests[-1].outcome == "cut"
    assert emu.requests[-1].events_sent == 3
    emu.configure(cut_stream_after=None)
    emu.script(ScriptedReply(content="one two three four five six", cut_after=2))
    _, events = stream(http, V3, user("hi"))
    assert [event.event for event in events] == ["token", "token"]


def test_malformed_knob(emu: Emulator, http: httpx.Client) -> None:
    emu.configure(malformed_rate=1.0)
    response = http.post(V3, json=user("hi"))
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()
    _, events = stream(http, V3, user("hi"))
    assert events[-1].event == "result"
    with pytest.raises(json.JSONDecodeError):
        events[-1].json()
    events[0].json()


def test_scripted_error_inside_a_stream(emu: Emulator, http: httpx.Client) -> None:
    emu.script(ScriptedError(status=500, code="50000", in_stream=True, after_events=2))
    response, events = stream(http, V3, user("Tell me about Seoul"))
    assert response.status_code == 200
    assert [event.event for event in events] == ["token", "token", "error"]
    assert events[-1].json() == {"status": {"code": "50000", "message": "Internal server error"}}


def test_scripted_stream_reply(emu: Emulator, http: httpx.Client) -> None:
    emu.script(
        ScriptedReply(
            content="",
            tool_calls=[{"name": "get_weather", "arguments": {"location": "부산"}, "id": "call_x"}],
        )
    )
    _, events = stream(http, V3, user("anything"))
    done = events[-1].json()
    assert done["message"]["toolCalls"] == [
        {
            "id": "call_x",
            "type": "function",
            "function": {"name": "get_weather", "arguments": {"location": "부산"}},
        }
    ]
    assert done["finishReason"] == "tool_calls"


def wait_for(predicate: Any, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_client_disconnect_mid_stream_does_not_break_the_server(
    emu: Emulator, http: httpx.Client
) -> None:
    emu.configure(token_delay=0.01)
    body = {**user("Why is the sky blue?"), "thinking": {"effort": "high"}}
    with http.stream("POST", V3_007, json=body, headers=STREAM) as reply:
        lines = reply.iter_lines()
        for _ in range(6):
            next(lines)
    assert wait_for(lambda: any(r.outcome == "client_disconnected" for r in emu.requests))
    emu.configure(token_delay=0.0)
    _, events = stream(http, V3, user("still alive?"))
    assert events[-1].event == "result"
    assert http.post(V3, json=user("and JSON?")).status_code == 200
    assert emu.server_errors == []


def test_fifty_concurrent_streams(emu: Emulator) -> None:
    emu.configure(token_delay=0.001)
    prompts = [f"Tell me about city number {n} and its river" for n in range(50)]
    limits = httpx.Limits(max_connections=60, max_keepalive_connections=60)
    with httpx.Client(base_url=emu.base_url, headers=STREAM, limits=limits, timeout=30) as shared:
        expected = {
            prompt: shared.post(
                V3, json=user(prompt), headers={"Accept": "application/json"}
            ).json()["result"]["message"]["content"]
            for prompt in prompts
        }
        barrier = threading.Barrier(50)

        def run(prompt: str) -> tuple[str, str, str]:
            barrier.wait()
            text = shared.post(V3, json=user(prompt)).text
            *tokens, final = parse_sse(text)
            joined = "".join(event.json()["message"]["content"] for event in tokens)
            return prompt, joined, final.json()["message"]["content"]

        with ThreadPoolExecutor(max_workers=50) as pool:
            outcomes = list(pool.map(run, prompts))
    for prompt, joined, final in outcomes:
        assert joined == final == expected[prompt]
    assert emu.server_errors == []
    assert emu.stats.by_outcome == {"replied": 100}
