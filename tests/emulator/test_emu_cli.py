"""``clova-emulator`` behaves like a command line: each mistake gives one line on stderr that
says what went wrong and what to do, a non-zero exit status and no traceback; Ctrl-C stops
it cleanly. Run as users run it, in a subprocess."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import httpx
import pytest


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clova_emulator", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--port", "99999"], "--port: expected a port number from 0 to 65535"),
        (["--port", "http"], "--port: expected a port number"),
        (["--qpm", "bogus"], "--qpm: expected a whole number, 'documented' or MODEL=N"),
        (["--tpm", "HCX-005=lots"], "--tpm: expected a whole number"),
        (["--qpm", "60", "--qpm", "HCX-005=5"], "give either one value"),
        (["--latency", "-1"], "--latency: expected a number of seconds >= 0"),
        (["--error-rate", "404=0.1"], "the status must be 429, 500 or 503"),
        (["--error-rate", "429=2"], "expected a probability from 0 to 1"),
        (["--legacy-key", "no-colon"], "expected API_KEY:GATEWAY_KEY"),
        (["--task", "t1=HCX-404"], "unknown base model 'HCX-404'"),
        (["--read-timeout", "0"], "--read-timeout: expected a number of seconds > 0"),
        (["--request-log-size", "0"], "--request-log-size: expected a whole number >= 1"),
    ],
)
def test_a_bad_value_is_one_line_and_exit_status_2(args: list[str], says: str) -> None:
    completed = _run(*args)
    assert completed.returncode == 2
    line = _one_line(completed.stderr)
    assert line.startswith("clova-emulator: error: ")
    assert says in line
    assert line.endswith("(see clova-emulator --help)")
    assert completed.stdout == ""


def test_a_port_in_use_is_one_line_and_exit_status_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        completed = _run("--port", str(port))
    assert completed.returncode == 1
    line = _one_line(completed.stderr)
    assert line == (
        f"clova-emulator: error: port {port} on 127.0.0.1 is already in use; stop the other "
        "server or choose another port with --port (--port 0 picks a free one)"
    )


def test_an_address_that_cannot_be_bound_is_one_line() -> None:
    # 192.0.2.1 (TEST-NET-1) is no interface of this machine; nothing is sent anywhere.
    completed = _run("--host", "192.0.2.1", "--port", "0")
    assert completed.returncode == 1
    line = _one_line(completed.stderr)
    assert line.startswith("clova-emulator: error: cannot listen on 192.0.2.1:0 (")
    assert line.endswith("check --host and --port")


def test_ctrl_c_stops_with_one_stopped_line_and_exit_status_0() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "clova_emulator", "--port", "0", "--request-log-size", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().rsplit(" ", 1)[-1].strip()
        assert url.startswith("http://127.0.0.1:")
        reply = httpx.post(
            f"{url}/v1/api-tools/embedding/v2/tokenize",
            json={"text": "hi"},
            headers={"Authorization": "Bearer test-key"},
        )
        assert reply.status_code == 200
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
    assert process.returncode == 0
    assert _one_line(stderr) == "clova-emulator: stopped"
