"""Importing the core never imports a framework (design.md 1): checked in a fresh interpreter,
because this test process has LangChain and LlamaIndex loaded by other tests."""

from __future__ import annotations

import json
import subprocess
import sys

FRAMEWORKS = ("langchain_core", "langchain", "llama_index", "langgraph")

PROBE = """
import importlib, json, pkgutil, sys
import clova_core
names = sorted(
    info.name
    for info in pkgutil.walk_packages(clova_core.__path__, "clova_core.")
    if ".emulator" not in info.name
)
for name in ["clova_core", *names]:
    importlib.import_module(name)
loaded = sorted(
    module for module in sys.modules
    if module.split(".")[0] in {frameworks}
)
print(json.dumps({{"imported": names, "frameworks": loaded}}))
"""


def probe() -> dict[str, list[str]]:
    code = PROBE.format(frameworks=repr(set(FRAMEWORKS)))
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    result: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_core_imports_no_framework() -> None:
    result = probe()
    assert result["frameworks"] == []
    # The probe really imported the transport modules (so the check means something).
    for module in ("clova_core.client", "clova_core.chat_stream", "clova_core.sse_events"):
        assert module in result["imported"]
