"""The ``clova-demo`` command: a correct finish offline, a non-zero exit on failure."""

from __future__ import annotations

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
