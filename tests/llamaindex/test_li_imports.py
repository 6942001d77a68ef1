"""``llama_index_clova`` works without LangChain (importing it never loads ``langchain*``), and
without llama-index-core it says which extra to install."""

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


_BLOCK_LLAMA_INDEX = textwrap.dedent(
    """
    import sys

    class BlockLlamaIndex:
        # Behave as if llama-index-core were not installed.
        def find_spec(self, name, path=None, target=None):
            if name == "llama_index" or name.startswith("llama_index."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, BlockLlamaIndex())
    from clova_core import ClovaError
    try:
        import llama_index_clova
    except ImportError as error:
        print(type(error).__name__, isinstance(error, ClovaError), error.name)
        print(error)
    """
)


def test_import_without_llama_index_core_names_the_extra() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _BLOCK_LLAMA_INDEX],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert result.stdout.splitlines() == [
        "MissingExtraError True llama_index.core",
        "llama_index_clova needs llama-index-core, which is not installed. "
        'Install it with: pip install "clova-integrations[llamaindex]"',
    ]


def test_public_api() -> None:
    assert {"ClovaX", "ClovaXEmbedding"} <= set(llama_index_clova.__all__)
    for name in llama_index_clova.__all__:
        assert getattr(llama_index_clova, name).__name__ == name
