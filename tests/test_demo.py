"""The ``clova-demo`` command: a correct finish offline, a non-zero exit on failure, and one
line (no traceback) for an unreachable service, Ctrl-C and a missing extra."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from clova_core.constants import ENV_API_KEY, ENV_BASE_URL
from clova_demo.__main__ import main
from clova_emulator import Emulator


def test_demo_runs_every_job_against_the_bundled_emulator(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(ENV_API_KEY, raising=False)
    monkeypatch.delenv(ENV_BASE_URL, raising=False)

    assert main(["--token-delay", "0"]) == 0

    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith(
        "Backend: bundled CLOVA Studio EMULATOR at http://127.0.0.1:"
    )
    assert "FAIL" not in out
    # Both frameworks answered from the right passages and both agents used both tools.
    assert out.count("[ok] retrieved passage") == 5
    assert out.count("[ok] answer states") == 5
    assert out.count("[ok] agent called convert_currency, get_weather") == 2
    assert out.count("[ok] tool arguments were valid") == 2
    assert "20 USD = 28,000 KRW" in out


def test_demo_uses_clova_studio_when_a_key_is_set_and_exits_non_zero_on_failure(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A key the server rejects: the demo must say which backend it used and fail loudly.
    monkeypatch.setenv(ENV_API_KEY, "not-a-valid-key")
    monkeypatch.setenv(ENV_BASE_URL, emulator.base_url)

    assert main(["--framework", "langchain"]) == 1

    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == (
        f"Backend: CLOVA Studio at {emulator.base_url} (key from {ENV_API_KEY})"
    )
    assert "FAILED: 1 check(s)" in captured.out
    assert "AuthenticationError" in captured.out
    assert "not-a-valid-key" not in captured.out + captured.err


# --- the command line, run as a user runs it --------------------------------------------

LEAK_PROBE = "demo-leak-probe-0000"


def demo_env(**changes: str | None) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in (ENV_API_KEY, ENV_BASE_URL, "NCP_APIGW_API_KEY")
    }
    env.update({name: value for name, value in changes.items() if value is not None})
    return env


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound (so nobody else takes it), never
    listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_unreachable_service_is_one_line_that_says_how_to_use_the_emulator(
    closed_port: int,
) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    done = subprocess.run(
        [sys.executable, "-m", "clova_demo", "--framework", "langchain"],
        env=demo_env(**{ENV_API_KEY: LEAK_PROBE, ENV_BASE_URL: url}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 1
    assert done.stdout.splitlines() == [f"Backend: CLOVA Studio at {url} (key from {ENV_API_KEY})"]
    [line] = done.stderr.splitlines()
    assert line.startswith(f"clova-demo: cannot reach CLOVA Studio at {url} (")
    assert "Connection refused" in line
    assert f"unset {ENV_API_KEY} to run the demo against the bundled emulator" in line
    assert LEAK_PROBE not in done.stdout + done.stderr


def test_ctrl_c_prints_one_line_and_exits_130() -> None:
    # Slow tokens keep the demo streaming its first answer when the interrupt arrives.
    demo = subprocess.Popen(
        [sys.executable, "-m", "clova_demo", "--framework", "langchain", "--token-delay", "1"],
        env=demo_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert demo.stdout is not None
        for line in demo.stdout:
            if line.startswith("==> LangChain RAG"):
                break
        demo.send_signal(signal.SIGINT)
        out, err = demo.communicate(timeout=60)
    finally:
        demo.kill()
        demo.wait()

    assert demo.returncode == 130
    assert err.splitlines()[-1] == "clova-demo: interrupted"
    assert "Traceback" not in out + err
    assert "All checks passed" not in out


BLOCK_LANGCHAIN_AGENTS = """
import sys

class BlockLangChain:
    # Behave as if the `langchain` package (create_agent) were not installed.
    def find_spec(self, name, path=None, target=None):
        if name == "langchain" or name.startswith("langchain."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, BlockLangChain())
from clova_demo.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def test_missing_langchain_names_the_demo_extra() -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCK_LANGCHAIN_AGENTS, "--framework", "langchain"],
        env=demo_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "clova-demo: the LangChain demo needs langchain, which is not installed. "
        'Install it with: pip install "clova-integrations[demo]"'
    ]
