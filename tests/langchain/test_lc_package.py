"""Package-level behaviour: lazy, framework-clean import. (Client reuse per instance and per
event loop is the core ClientPool's job: tests/core/test_pool.py.)"""

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


def test_import_is_lazy_and_never_imports_llama_index() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["before"] == []
    assert not any(name.startswith("llama_index") for name in result["after"])
    assert "langchain_clova.chat_models" in result["after"]
    assert result["all"] == ["ChatClovaX", "ClovaXEmbeddings"]
    assert result["names"] == ["ChatClovaX", "ClovaXEmbeddings"]
