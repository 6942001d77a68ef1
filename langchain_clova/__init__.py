"""LangChain integration for NAVER CLOVA Studio (HyperCLOVA X): ``ChatClovaX`` and
``ClovaXEmbeddings``.

The classes are imported on first access, so ``import langchain_clova`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_clova.chat_models import ChatClovaX
    from langchain_clova.embeddings import ClovaXEmbeddings

__all__ = ["ChatClovaX", "ClovaXEmbeddings"]

_MODULES = {
    "ChatClovaX": "langchain_clova.chat_models",
    "ClovaXEmbeddings": "langchain_clova.embeddings",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'langchain_clova' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
