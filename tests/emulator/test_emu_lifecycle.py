"""Starting the emulator: context manager, CLI, the pytest hooks and fixtures."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import pytest
from emu_support import user

from clova_core.constants import ENV_API_KEY, ENV_BASE_URL
from clova_emulator import Emulator
from clova_emulator.__main__ import build_parser, knobs_from_args


def test_context_manager_picks_a_free_port() -> None:
    with Emulator() as first, Emulator() as second:
        assert first.port != second.port
        assert first.base_url == f"http://127.0.0.1:{first.port}"
        assert first.openai_base_url == f"{first.base_url}/v1/openai"
        reply = httpx.post(
            f"{first.base_url}/v3/chat-completions/HCX-005",
            json=user("hi"),
            headers={"Authorization": "Bearer test-key"},
        )
        assert reply.status_code == 200
        assert first.running
    assert not first.running
    with pytest.raises(RuntimeError):
        _ = first.port
    first.stop()


def test_constructor_knobs() -> None:
    with Emulator(created_unit="s", keys=["k1", "k2"], error_rates={500: 0.0}) as emu:
        assert emu.knobs.created_unit == "s"
        assert emu.knobs.keys == frozenset({"k1", "k2"})
        emu.configure(created_unit="ms")
        emu.reset()
        assert emu.knobs.created_unit == "s"
    with pytest.raises(TypeError):
        Emulator(bogus=True)


def test_cli_arguments_map_to_knobs() -> None:
    args = build_parser().parse_args(
        [
            "--port", "0", "--latency", "0.5", "--token-delay", "0.01", "--keys", "a,b",
            "--qpm", "HCX-005=10", "--qpm", "*=5", "--tpm", "documented",
            "--error-rate", "500=0.1", "--legacy-key", "x:y", "--sse-space", "--done-signal",
            "--created-unit", "s", "--stop-reason-case", "upper", "--cut-stream-after", "4",
        ]
    )  # fmt: skip
    knobs = knobs_from_args(args)
    assert knobs["keys"] == frozenset({"a", "b"})
    assert knobs["qpm"] == {"HCX-005": 10, "*": 5}
    assert knobs["tpm"] == "documented"
    assert knobs["error_rates"] == {500: 0.1}
    assert knobs["legacy_keys"] == frozenset({("x", "y")})
    assert knobs["sse_space"] is True
    assert knobs["cut_stream_after"] == 4
    Emulator(**knobs)


def test_cli_serves_until_interrupted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "clova_emulator", "--port", "0", "--keys", "cli-key"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.rsplit(" ", 1)[-1].strip()
        assert url.startswith("http://127.0.0.1:")
        reply = httpx.post(
            f"{url}/v1/chat-completions/HCX-003",
            json=user("hi"),
            headers={"Authorization": "Bearer cli-key"},
        )
        assert reply.status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)


def test_pytest_configure_exports_an_emulator_url() -> None:
    url = os.environ["CLOVA_EMULATOR_URL"]
    reply = httpx.post(
        f"{url}/v1/api-tools/embedding/v2/tokenize",
        json={"text": "hello"},
        headers={"Authorization": "Bearer test-key"},
    )
    assert reply.json()["result"]["numTokens"] == 2


def test_emulator_env_fixture(emulator_env: Emulator) -> None:
    assert os.environ[ENV_API_KEY] == "test-key"
    assert os.environ[ENV_BASE_URL] == emulator_env.base_url


def test_emu_fixture_resets_between_tests_part_one(emu: Emulator) -> None:
    emu.configure(latency=5.0)
    emu.register_task("temporary", "HCX-003")


def test_emu_fixture_resets_between_tests_part_two(emu: Emulator) -> None:
    assert emu.knobs.latency == 0.0
    assert emu.requests == []
    with httpx.Client(base_url=emu.base_url, headers={"Authorization": "Bearer test-key"}) as http:
        assert http.post("/v1/tasks/temporary/chat-completions", json=user("hi")).status_code == 404
