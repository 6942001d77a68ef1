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


def test_every_core_public_name_resolves() -> None:
    import clova_core
    import clova_core.errors
    from clova_core.turns import ToolCallRequiredError

    for name in clova_core.__all__:
        value = getattr(clova_core, name)
        assert getattr(value, "__name__", name) == name
    assert set(clova_core.__all__) <= set(dir(clova_core))
    assert clova_core.ToolCallRequiredError is ToolCallRequiredError
    assert issubclass(ToolCallRequiredError, clova_core.APIResponseError)
    assert "ToolCallRequiredError" in (clova_core.errors.__doc__ or "")


def test_error_batch_attributes_are_declared() -> None:
    from clova_core import ClovaError
    from clova_core.embedding_batch import naming_text

    error = ClovaError("boom")
    assert (error.index, error.partial_results) == (None, None)
    named = naming_text(error, 1, 3, [None])
    assert named is error
    assert (error.index, error.partial_results) == (1, [None])
    assert str(error) == "texts[1] (of 3): boom"
    assert vars(error) == {"index": 1, "partial_results": [None]}
