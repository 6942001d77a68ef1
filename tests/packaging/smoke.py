"""Smoke test of an installed clova-integrations, run as a script in a fresh environment.

    python tests/packaging/smoke.py langchain     # wheel installed with [langchain] only
    python tests/packaging/smoke.py llamaindex    # wheel installed with [llamaindex] only
    python tests/packaging/smoke.py all           # both frameworks (e.g. minimum versions)
    python tests/packaging/smoke.py all --allow-source-tree   # an editable install

It starts the bundled emulator, calls chat (blocking, streaming, async) and embeddings (a
batch of two texts, as real batches go) through the named framework, and, when one framework
is named, checks that the other is not installed and that importing its integration names the
extra to install. Run it from outside the source tree so the installed package is the one
imported. It prints one ``ok`` line per check and exits non-zero on the first failure.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.metadata
import importlib.util
import sys
import warnings
from pathlib import Path

KEY = "smoke-test-key"
EXTRAS = {"langchain": "langchain", "llamaindex": "llamaindex"}
FRAMEWORK_MODULES = {"langchain": "langchain_core", "llamaindex": "llama_index.core"}
INTEGRATIONS = {"langchain": "langchain_clova", "llamaindex": "llama_index_clova"}


def ok(what: str) -> None:
    print(f"ok  {what}", flush=True)


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # the parent package of a dotted name is missing
        return False


def check_installed_copy(allow_source_tree: bool) -> None:
    import clova_core

    source_tree = Path(__file__).resolve().parents[2]
    location = Path(clova_core.__file__).resolve()
    if not allow_source_tree:
        assert source_tree not in location.parents, f"imported the source tree: {location}"
    version = importlib.metadata.version("clova-integrations")
    ok(f"clova-integrations {version} imported from {location.parent.parent}")


def check_absent(framework: str) -> None:
    module, integration = FRAMEWORK_MODULES[framework], INTEGRATIONS[framework]
    assert not installed(module), f"{module} is installed but its extra was not asked for"
    message = ""
    try:
        importlib.import_module(integration)
    except ImportError as error:
        message = str(error)
    hint = f'pip install "clova-integrations[{EXTRAS[framework]}]"'
    assert hint in message, f"import {integration} without {module}: {message!r}"
    ok(f"{module} is absent and `import {integration}` says: {hint}")


def check_public_names(integration: str) -> None:
    """Every name the integration exports imports with this extra alone."""
    module = importlib.import_module(integration)
    names = list(module.__all__)
    for name in names:
        getattr(module, name)
    ok(f"{integration}: {', '.join(names)} import")


def smoke_langchain(base_url: str) -> None:
    from langchain_core.messages import AIMessageChunk

    from langchain_clova import ChatClovaX, ClovaXEmbeddings

    # Every profile key must be one this langchain-core knows (it warns about the others).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        thinking = ChatClovaX(model="HCX-007", api_key=KEY, base_url=base_url)
        llm = ChatClovaX(model="HCX-005", api_key=KEY, base_url=base_url)
    try:
        assert thinking.profile is not None, "ChatClovaX.profile is None"
        assert thinking.profile.get("reasoning_output") is True, thinking.profile
        assert llm.profile is not None, "ChatClovaX.profile is None"
        assert llm.profile.get("tool_calling") is True, llm.profile
        ok("ChatClovaX.profile from the model registry, no unknown keys")
        reply = llm.invoke("Hello, who are you?")
        assert isinstance(reply.content, str), reply
        assert reply.content, reply
        ok("ChatClovaX.invoke")
        chunks = list(llm.stream("Tell me about Seoul."))
        assert len(chunks) > 1, chunks
        assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks), chunks
        ok(f"ChatClovaX.stream ({len(chunks)} chunks)")
        areply = asyncio.run(llm.ainvoke("Hello again"))
        assert areply.content, areply
        ok("ChatClovaX.ainvoke")
    finally:
        llm.close()
        thinking.close()

    embeddings = ClovaXEmbeddings(api_key=KEY, base_url=base_url, show_progress=True)
    try:
        vectors = embeddings.embed_documents(["서울의 날씨", "Weather in Seoul"])
        assert [len(vector) for vector in vectors] == [1024, 1024]
        query = embeddings.embed_query("Seoul")
        assert len(query) == 1024
        ok("ClovaXEmbeddings.embed_documents (2 texts, progress bar) and embed_query")
    finally:
        embeddings.close()


def smoke_llamaindex(base_url: str) -> None:
    from llama_index.core.llms import ChatMessage

    from llama_index_clova import ClovaX, ClovaXEmbedding

    llm = ClovaX(model="HCX-005", api_key=KEY, base_url=base_url)
    try:
        assert llm.metadata.is_function_calling_model, llm.metadata
        reply = llm.chat([ChatMessage(role="user", content="Hello, who are you?")])
        assert reply.message.content, reply
        ok("ClovaX.chat")
        chunks = list(llm.stream_complete("Tell me about Seoul."))
        assert len(chunks) > 1, chunks
        assert chunks[-1].text, chunks
        ok(f"ClovaX.stream_complete ({len(chunks)} chunks)")
        areply = asyncio.run(llm.acomplete("Hello again"))
        assert areply.text, areply
        ok("ClovaX.acomplete")
    finally:
        llm.close()

    embedding = ClovaXEmbedding(api_key=KEY, base_url=base_url)
    try:
        vectors = embedding.get_text_embedding_batch(["서울의 날씨", "Weather in Seoul"])
        assert [len(vector) for vector in vectors] == [1024, 1024]
        avectors = asyncio.run(embedding.aget_text_embedding_batch(["a", "b"]))
        assert len(avectors) == 2
        ok("ClovaXEmbedding.get_text_embedding_batch and its async twin (2 texts each)")
    finally:
        embedding.close()


def main(argv: list[str]) -> int:
    allow_source_tree = "--allow-source-tree" in argv
    argv = [arg for arg in argv if arg != "--allow-source-tree"]
    if len(argv) != 1 or argv[0] not in ("langchain", "llamaindex", "all"):
        print(__doc__, file=sys.stderr)
        return 2
    frameworks = ["langchain", "llamaindex"] if argv[0] == "all" else [argv[0]]
    check_installed_copy(allow_source_tree)
    for other in {"langchain", "llamaindex"} - set(frameworks):
        check_absent(other)

    from clova_emulator import Emulator

    with Emulator(keys=frozenset({KEY}), token_delay=0) as emulator:
        for framework in frameworks:
            check_public_names(INTEGRATIONS[framework])
            smoke = smoke_langchain if framework == "langchain" else smoke_llamaindex
            smoke(emulator.base_url)
        assert not emulator.server_errors, emulator.server_errors
    print(f"smoke test passed: {argv[0]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
