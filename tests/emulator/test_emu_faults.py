"""Knobs for faults and limits, the scripting API, and the request log."""

from __future__ import annotations

import time

import httpx
import pytest
from emu_support import AUTH, user

from clova_emulator import (
    Emulator,
    ScriptedDisconnect,
    ScriptedEmbedding,
    ScriptedError,
    ScriptedReply,
)

V1 = "/v1/chat-completions/HCX-003"
V3 = "/v3/chat-completions/HCX-005"
DASH = "/v3/chat-completions/HCX-DASH-002"
EMB = "/v1/api-tools/embedding/v2"


def code_of(response: httpx.Response) -> str:
    body = response.json()
    return str((body.get("status") or body.get("error"))["code"])


# --- rate limits (clova-api.md 8.2; headers are emulator-invented) ----------------------------


def test_qpm_limit_with_retry_after_and_headers(emu: Emulator, http: httpx.Client) -> None:
    emu.configure(qpm=2, rate_window=0.4)
    first, second, third = (http.post(V3, json=user("hi")) for _ in range(3))
    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 429]
    assert first.headers["x-ratelimit-limit-requests"] == "2"
    assert first.headers["x-ratelimit-remaining-requests"] == "1"
    assert second.headers["x-ratelimit-remaining-requests"] == "0"
    assert code_of(third) == "42901"
    assert third.json()["status"]["message"] == "Too many requests - rate exceeded"
    assert int(third.headers["retry-after"]) >= 1
    assert third.headers["x-ratelimit-reset-requests"].endswith("s")
    time.sleep(0.45)
    assert http.post(V3, json=user("hi")).status_code == 200


def test_limits_are_per_model(emu: Emulator, http: httpx.Client) -> None:
    emu.configure(qpm={"HCX-005": 1}, rate_window=30)
    assert http.post(V3, json=user("a")).status_code == 200
    assert http.post(V3, json=user("b")).status_code == 429
    assert http.post(DASH, json=user("c")).status_code == 200
    assert "x-ratelimit-limit-requests" not in http.post(DASH, json=user("d")).headers


def test_tpm_counts_input_plus_requested_output(emu: Emulator, http: httpx.Client) -> None:
    emu.configure(tpm=100, rate_window=30)
    first = http.post(V3, json={**user("hi"), "maxTokens": 60})
    prompt = first.json()["result"]["usage"]["promptTokens"]
    assert first.headers["x-ratelimit-remaining-tokens"] == str(100 - prompt - 60)
    second = http.post(V3, json={**user("hi"), "maxTokens": 60})
    assert second.status_code == 429
    assert code_of(second) == "42901"
    small = http.post(V3, json={**user("hi"), "maxTokens": 100 - 2 * prompt - 60})
    assert small.status_code == 200


def test_documented_limits_and_header_switch(emu: Emulator, http: httpx.Client) -> None:
    emu.configure(qpm="documented", tpm="documented")
    reply = http.post(V1, json=user("hi"))
    assert reply.headers["x-ratelimit-limit-requests"] == "200"
    assert reply.headers["x-ratelimit-limit-tokens"] == "30000"
    emu.configure(qpm=1, tpm=None, rate_limit_headers=False, rate_window=30)
    assert "x-ratelimit-limit-requests" not in http.post(V3, json=user("a")).headers
    limited = http.post(V3, json=user("b"))
    assert limited.status_code == 429
    assert "retry-after" in limited.headers
    assert not any(name.startswith("x-ratelimit") for name in limited.headers)


def test_embedding_rate_limit(emu: Emulator, http: httpx.Client) -> None:
    emu.configure(qpm={"bge-m3": 1}, rate_window=30)
    assert http.post(EMB, json={"text": "a"}).status_code == 200
    assert code_of(http.post(EMB, json={"text": "b"})) == "42901"
    assert (
        http.post("/v1/api-tools/embedding/clir-emb-dolphin", json={"text": "c"}).status_code == 200
    )


# --- injected faults ------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "code"), [(429, "42902"), (500, "50000"), (503, "50300")])
def test_injected_errors(emu: Emulator, http: httpx.Client, status: int, code: str) -> None:
    emu.configure(error_rates={status: 1.0})
    response = http.post(V3, json=user("hi"))
    assert response.status_code == status
    assert code_of(response) == code
    openai = http.post(
        "/v1/openai/chat/completions",
        json={"model": "HCX-005", "messages": [{"role": "user", "content": "x"}]},
    )
    assert openai.json()["error"]["code"] == code


def test_injected_errors_are_reproducible(emu: Emulator, http: httpx.Client) -> None:
    def run(seed: int) -> list[int]:
        emu.reset()
        emu.configure(error_rates={500: 0.5}, fault_seed=seed)
        return [http.post(V3, json=user("hi")).status_code for _ in range(16)]

    first = run(7)
    assert run(7) == first
    assert set(first) == {200, 500}
    assert run(8) != first


def test_connection_reset_knob(emu: Emulator, http: httpx.Client) -> None:
    emu.configure(reset_rate=1.0)
    with pytest.raises(httpx.TransportError):
        http.post(V3, json=user("hi"))
    record = emu.requests[-1]
    assert record.outcome == "reset"
    assert record.status is None
    emu.configure(reset_rate=0.0)
    assert http.post(V3, json=user("hi")).status_code == 200


# --- scripting ------------------------------------------------------------------------------


def test_scripted_errors_are_consumed_in_order(emu: Emulator, http: httpx.Client) -> None:
    emu.script(
        ScriptedError(status=429, code="42901", retry_after=1),
        ScriptedError(status=503),
    )
    first, second, third = (http.post(V3, json=user("hi")) for _ in range(3))
    assert (first.status_code, code_of(first), first.headers["retry-after"]) == (429, "42901", "1")
    assert first.json()["status"]["message"] == "Too many requests - rate exceeded"
    assert (second.status_code, code_of(second)) == (503, "50300")
    assert third.status_code == 200
    assert emu.pending_script == []


def test_scripted_disconnect(emu: Emulator, http: httpx.Client) -> None:
    emu.script(ScriptedDisconnect())
    with pytest.raises(httpx.TransportError):
        http.post(V3, json=user("hi"))
    assert http.post(V3, json=user("hi")).status_code == 200


def test_script_filters_by_path_model_and_endpoint(emu: Emulator, http: httpx.Client) -> None:
    emu.script(
        ScriptedReply(content="for v1", path="/v1/chat"),
        ScriptedReply(content="for 007", model="HCX-007"),
        ScriptedError(status=500, endpoint="embedding"),
    )
    plain = http.post(V3, json=user("hi")).json()["result"]["message"]["content"]
    assert plain not in ("for v1", "for 007")
    assert http.post(V1, json=user("hi")).json()["result"]["message"]["content"] == "for v1"
    hcx007 = http.post("/v3/chat-completions/HCX-007", json=user("hi")).json()["result"]
    assert hcx007["message"]["content"] == "for 007"
    assert "thinkingContent" not in hcx007["message"]
    assert http.post(EMB, json={"text": "x"}).status_code == 500
    assert emu.pending_script == []


def test_scripted_reply_is_verbatim(emu: Emulator, http: httpx.Client) -> None:
    emu.script(
        ScriptedReply(
            content="exact text",
            thinking="exact thought",
            finish_reason="length",
            prompt_tokens=11,
            completion_tokens=22,
        )
    )
    got = http.post(
        "/v3/chat-completions/HCX-007", json={**user("hi"), "maxCompletionTokens": 1}
    ).json()
    assert got["result"]["message"] == {
        "role": "assistant",
        "content": "exact text",
        "thinkingContent": "exact thought",
    }
    assert got["result"]["finishReason"] == "length"
    assert got["result"]["usage"]["promptTokens"] == 11
    assert got["result"]["usage"]["completionTokens"] == 22


def test_scripted_reply_through_openai(emu: Emulator, http: httpx.Client) -> None:
    emu.script(ScriptedReply(tool_calls=[{"name": "lookup", "arguments": {"q": "x"}}]))
    body = {"model": "HCX-005", "messages": [{"role": "user", "content": "hi"}]}
    choice = http.post("/v1/openai/chat/completions", json=body).json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"][0]["function"] == {
        "name": "lookup",
        "arguments": '{"q": "x"}',
    }


def test_scripted_embedding(emu: Emulator, http: httpx.Client) -> None:
    emu.script(ScriptedEmbedding(vector=[1.0, 0.0], input_tokens=9))
    assert http.post(EMB, json={"text": "x"}).json()["result"] == {
        "embedding": [1.0, 0.0],
        "inputTokens": 9,
    }
    assert len(http.post(EMB, json={"text": "x"}).json()["result"]["embedding"]) == 1024


def test_script_rejects_other_objects(emu: Emulator) -> None:
    with pytest.raises(TypeError):
        emu.script("not an item")  # type: ignore[arg-type]


# --- knobs API ------------------------------------------------------------------------------


def test_configure_validates_and_reset_restores(emu: Emulator, http: httpx.Client) -> None:
    with pytest.raises(TypeError):
        emu.configure(no_such_knob=1)
    with pytest.raises(ValueError, match="reset_rate"):
        emu.configure(reset_rate=2)
    with pytest.raises(ValueError, match="error_rates"):
        emu.configure(error_rates={418: 0.5})
    emu.configure(keys=["other-key"])
    assert http.post(V3, json=user("hi")).status_code == 401
    assert (
        http.post(V3, json=user("hi"), headers={"Authorization": "Bearer other-key"}).status_code
        == 200
    )
    emu.reset()
    assert emu.knobs.keys == frozenset({"test-key"})
    assert http.post(V3, json=user("hi")).status_code == 200


def test_legacy_keys_knob(emu: Emulator, bare_http: httpx.Client) -> None:
    emu.configure(legacy_keys=[("app-key", "gw-key")])
    legacy = {"X-NCP-CLOVASTUDIO-API-KEY": "app-key", "X-NCP-APIGW-API-KEY": "gw-key"}
    assert bare_http.post(V3, json=user("hi"), headers=legacy).status_code == 200
    old = {"X-NCP-CLOVASTUDIO-API-KEY": "test-key", "X-NCP-APIGW-API-KEY": "test-gateway-key"}
    assert bare_http.post(V3, json=user("hi"), headers=old).status_code == 401


# --- observability --------------------------------------------------------------------------


def test_request_log_keeps_ids_and_never_credentials(
    emu: Emulator, bare_http: httpx.Client
) -> None:
    rid = "req-123"
    bare_http.post(V3, json=user("hi"), headers={**AUTH, "X-NCP-CLOVASTUDIO-REQUEST-ID": rid})
    bare_http.post(
        V1,
        json=user("hi"),
        headers={
            "X-NCP-CLOVASTUDIO-API-KEY": "test-key",
            "X-NCP-APIGW-API-KEY": "test-gateway-key",
            "X-NCP-CLOVASTUDIO-REQUEST-ID": rid,
        },
    )
    bare_http.post("/testapp/v1/nowhere", json={})
    first, second, third = emu.requests
    assert (first.method, first.path, first.request_id, first.status, first.code) == (
        "POST",
        V3,
        rid,
        200,
        "20000",
    )
    assert first.body == user("hi")
    assert first.auth == "bearer"
    assert second.auth == "legacy"
    assert second.request_id == rid
    assert third.path == "/testapp/v1/nowhere"
    assert (third.status, third.code, third.auth) == (404, "40400", "none")
    for record in (first, second):
        assert "test-key" not in repr(record)
        assert "test-gateway-key" not in repr(record)
        assert "authorization" not in record.headers
    stats = emu.stats
    assert stats.total == 3
    assert stats.by_path[V3] == 1
    assert stats.by_status == {200: 2, 404: 1}
    assert stats.by_path_status[(V1, 200)] == 1
    assert sum(1 for record in emu.requests if record.request_id == rid) == 2
    emu.clear_requests()
    assert emu.requests == []
