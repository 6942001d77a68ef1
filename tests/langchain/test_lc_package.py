"""Package-level behaviour: lazy, framework-clean import, and a missing extra named. (Client
reuse per instance and per event loop is the core's job: tests/core.)"""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
import langchain_clova
before = sorted(m for m in sys.modules if m.startswith(("langchain_clova.", "llama_index")))
from langchain_clova import ChatClovaX, ClovaXEmbeddings
after = sorted(m for m in sys.modules if m.startswith(("langchain_clova.", "llama_index")))
print(json.dumps({"before": before, "after": after, "all": langchain_clova.__all__,
                  "names": [ChatClovaX.__name__, ClovaXEmbeddings.__name__]}))
"""

WITHOUT_LANGCHAIN_CORE = """
import sys

class BlockLangChainCore:
    # Behave as if langchain-core were not installed.
    def find_spec(self, name, path=None, target=None):
        if name == "langchain_core" or name.startswith("langchain_core."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, BlockLangChainCore())
from clova_core import ClovaError
try:
    import langchain_clova
except ImportError as error:
    print(type(error).__name__, isinstance(error, ClovaError), error.name)
    print(error)
"""

WITHOUT_TQDM = """
import sys

class BlockTqdm:
    # Behave as if tqdm were not installed.
    def find_spec(self, name, path=None, target=None):
        if name == "tqdm" or name.startswith("tqdm."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, BlockTqdm())
import httpx
from clova_core import ClovaError
from langchain_clova import ClovaXEmbeddings

def handler(request):
    raise AssertionError("sent a request before checking for tqdm")

client = httpx.Client(transport=httpx.MockTransport(handler))
embeddings = ClovaXEmbeddings(api_key="test-key", show_progress=True, http_client=client)
try:
    embeddings.embed_documents(["one", "two"])
except ImportError as error:
    print(type(error).__name__, isinstance(error, ClovaError), error.name)
    print(error)
"""


def test_import_is_lazy_and_never_imports_llama_index() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["before"] == []
    assert not any(name.startswith("llama_index") for name in result["after"])
    assert "langchain_clova.chat_models" in result["after"]
    assert {"ChatClovaX", "ClovaXEmbeddings"} <= set(result["all"])
    assert result["names"] == ["ChatClovaX", "ClovaXEmbeddings"]


def test_every_public_name_resolves() -> None:
    import langchain_clova

    for name in langchain_clova.__all__:
        assert getattr(langchain_clova, name).__name__ == name
    assert set(langchain_clova.__all__) <= set(dir(langchain_clova))


def test_import_without_langchain_core_names_the_extra() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_LANGCHAIN_CORE],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert done.stdout.splitlines() == [
        "MissingExtraError True langchain_core",
        "langchain_clova needs langchain-core, which is not installed. "
        'Install it with: pip install "clova-integrations[langchain]"',
    ]


def test_show_progress_without_tqdm_names_the_extra() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_TQDM],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert done.stdout.splitlines() == [
        "MissingExtraError True tqdm",
        "ClovaXEmbeddings(show_progress=True) needs tqdm, which is not installed. "
        'Install it with: pip install "clova-integrations[langchain]"',
    ]
