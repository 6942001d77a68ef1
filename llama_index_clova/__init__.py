"""LlamaIndex integration for NAVER CLOVA Studio (HyperCLOVA X), on ``clova_core``.

``ClovaX`` is a function-calling LLM; ``ClovaXEmbedding`` embeds with clir-emb-dolphin,
clir-sts-dolphin or bge-m3. Importing this package never imports LangChain.
"""

from llama_index_clova.embeddings import ClovaXEmbedding
from llama_index_clova.llms import ClovaX

__all__ = ["ClovaX", "ClovaXEmbedding"]
