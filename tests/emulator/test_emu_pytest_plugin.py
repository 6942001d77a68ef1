"""The pytest plugin users enable in their own CI, run as they would run it: a separate
pytest process on a small test file, with the plugin loaded by ``-p`` (plugin autoloading
off, so the result does not depend on which entry points this environment has)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

USERS_TESTS = """
import os

import httpx

from clova_emulator import Emulator


def test_session_emulator_serves(clova_emulator):
    assert isinstance(clova_emulator, Emulator)
    reply = httpx.post(
        clova_emulator.base_url + "/v1/api-tools/embedding/v2/tokenize",
        json={"text": "hello"},
        headers={"Authorization": "Bearer test-key"},
    )
    assert reply.json()["result"]["numTokens"] == 2


def test_clova_emu_part_one_changes_things(clova_emu):
    clova_emu.configure(keys=["other-key"])
    clova_emu.register_task("task-1", "HCX-003")


def test_clova_emu_part_two_sees_them_reset(clova_emu, clova_emulator):
    assert clova_emu is clova_emulator
    assert clova_emu.knobs.keys == frozenset({"test-key"})
    assert clova_emu.requests == []


def test_env_points_the_client_at_the_emulator(clova_emulator_env):
    assert os.environ["CLOVASTUDIO_API_KEY"] == "test-key"
    assert os.environ["CLOVASTUDIO_API_BASE_URL"] == clova_emulator_env.base_url
    assert "NCP_APIGW_API_KEY" not in os.environ
    base = os.environ["CLOVASTUDIO_API_BASE_URL"]
    reply = httpx.post(
        base + "/v1/api-tools/embedding/v2/tokenize",
        json={"text": "hi"},
        headers={"Authorization": "Bearer " + os.environ["CLOVASTUDIO_API_KEY"]},
    )
    assert reply.status_code == 200
    assert len(clova_emulator_env.requests) == 1


def test_env_is_restored_after_the_test():
    assert os.environ.get("CLOVASTUDIO_API_KEY") == "from-the-user"
"""


def test_the_plugin_fixtures_work_in_a_users_suite(tmp_path: Path) -> None:
    (tmp_path / "test_users_suite.py").write_text(USERS_TESTS)
    env = {
        **os.environ,
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "CLOVASTUDIO_API_KEY": "from-the-user",
        "NCP_APIGW_API_KEY": "from-the-user",
    }
    env.pop("PYTEST_ADDOPTS", None)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "clova_emulator.pytest_plugin",
            "-p",
            "no:cacheprovider",
            "-q",
            "test_users_suite.py",
        ],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "5 passed" in completed.stdout
