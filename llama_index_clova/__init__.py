"""LlamaIndex integration for NAVER CLOVA Studio (HyperCLOVA X), on ``clova_core``.

``ClovaX`` is a function-calling LLM; ``ClovaXEmbedding`` embeds with clir-emb-dolphin,
clir-sts-dolphin or bge-m3. Importing this package never imports LangChain.

Install with ``pip install "clova-integrations[llamaindex]"``; without llama-index-core,
importing this package raises :class:`clova_core.extras.MissingExtraError` saying so.
"""

from clova_core.extras import require

require("llama_index.core", package="llama-index-core", extra="llamaindex", needed_for=__name__)

from llama_index_clova.embeddings import ClovaXEmbedding
from llama_index_clova.llms import ClovaX
from llama_index_clova.rag_reasoning import ClovaXRAGReasoning, clova_search_tool
from llama_index_clova.rerank import ClovaXRerank
from llama_index_clova.segmentation import ClovaXSegmentationParser
from llama_index_clova.summary_extractor import ClovaXSummaryExtractor

__all__ = [
    "ClovaX",
    "ClovaXEmbedding",
    "ClovaXRAGReasoning",
    "ClovaXRerank",
    "ClovaXSegmentationParser",
    "ClovaXSummaryExtractor",
    "clova_search_tool",
]
