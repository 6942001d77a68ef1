"""``llama_index_clova`` works without LangChain: importing it never loads ``langchain*``."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import llama_index_clova

_BLOCK_LANGCHAIN = textwrap.dedent(
    """
    import sys

    class BlockLangChain:
        # Behave as if LangChain were not installed.
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0].startswith("langchain"):
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, BlockLangChain())

    import llama_index_clova
    from llama_index_clova import ClovaX, ClovaXEmbedding

    ClovaX(api_key="test-key")
    ClovaXEmbedding(api_key="test-key")
    loaded = sorted(name for name in sys.modules if name.startswith("langchain"))
    assert not loaded, loaded
    print("ok")
    """
)


def test_import_without_langchain() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _BLOCK_LANGCHAIN], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_import_does_not_load_langchain_core() -> None:
    code = (
        "import sys, llama_index_clova; "
        "print(sorted(n for n in sys.modules if n.startswith('langchain')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_public_api() -> None:
    assert llama_index_clova.__all__ == ["ClovaX", "ClovaXEmbedding"]
