"""LangChain integration for NAVER CLOVA Studio (HyperCLOVA X): ``ChatClovaX`` and
``ClovaXEmbeddings``.

The classes are imported on first access, so ``import langchain_clova`` stays cheap.
Install with ``pip install "clova-integrations[langchain]"``; without langchain-core,
importing this package raises :class:`clova_core.extras.MissingExtraError` saying so.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from clova_core.extras import require

if TYPE_CHECKING:
    from langchain_clova.chat_models import ChatClovaX
    from langchain_clova.embeddings import ClovaXEmbeddings
    from langchain_clova.rag_reasoning import ChatClovaXRAGReasoning, clova_search_tool
    from langchain_clova.reranker import ClovaXReranker
    from langchain_clova.segmentation import ClovaXSegmentationSplitter
    from langchain_clova.summarization import ClovaXSummarizer

__all__ = [
    "ChatClovaX",
    "ChatClovaXRAGReasoning",
    "ClovaXEmbeddings",
    "ClovaXReranker",
    "ClovaXSegmentationSplitter",
    "ClovaXSummarizer",
    "clova_search_tool",
]

require("langchain_core", package="langchain-core", extra="langchain", needed_for=__name__)

_MODULES = {
    "ChatClovaX": "langchain_clova.chat_models",
    "ClovaXEmbeddings": "langchain_clova.embeddings",
    "ChatClovaXRAGReasoning": "langchain_clova.rag_reasoning",
    "clova_search_tool": "langchain_clova.rag_reasoning",
    "ClovaXReranker": "langchain_clova.reranker",
    "ClovaXSegmentationSplitter": "langchain_clova.segmentation",
    "ClovaXSummarizer": "langchain_clova.summarization",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'langchain_clova' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
