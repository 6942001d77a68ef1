"""clova_core: the framework-free core that speaks CLOVA Studio's native API.

One httpx client (sync and async) for chat v1 / v3 (JSON and native SSE streams),
embeddings v1 / v2 and the token calculators; per-model request shaping and pre-flight
checks; one typed error tree; retries; a QPM / TPM limiter; and a local emulator
(:mod:`clova_emulator`, imported on demand).

The clients, streams, limiters and toolkit types are imported on first access, so code that
only needs the registry, the types or the errors (every framework class import) pays for
none of them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from clova_core.errors import (
    APIConnectionError,
    APIError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClovaConfigurationError,
    ClovaError,
    ClovaValidationError,
    ContextLengthExceededError,
    ContextLimitError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    StreamError,
    UnknownModelError,
    UnsupportedFeatureError,
)
from clova_core.models import (
    CHAT_MODELS,
    EMBEDDING_MODELS,
    ChatModelSpec,
    EmbeddingModelSpec,
    custom_chat_model,
    get_chat_model,
    get_embedding_model,
)
from clova_core.types import (
    ChatRequest,
    ChatResult,
    ChatTokenCount,
    EmbeddingResult,
    ImagePart,
    Message,
    ResultEvent,
    StreamEvent,
    TextPart,
    TokenEvent,
    Tool,
    ToolCall,
    ToolCallChunk,
    Usage,
)

if TYPE_CHECKING:
    from clova_core.aiohttp_client import DefaultAioHttpClient
    from clova_core.chat_stream import AsyncChatStream, ChatStream
    from clova_core.citations import UnknownCitationError, search_result_content
    from clova_core.client import AsyncClovaClient, ClovaClient
    from clova_core.ratelimit import RateLimiter
    from clova_core.ratelimit_adaptive import AdaptiveRateLimiter
    from clova_core.ratelimit_redis import RedisRateLimiter
    from clova_core.retry import RetryPolicy
    from clova_core.toolkit_types import (
        Citation,
        RagReasoningRequest,
        RagReasoningResult,
        RerankDocument,
        RerankResult,
        Segment,
        SegmentationResult,
        SummaryResult,
    )
    from clova_core.transport_errors import (
        CertificateVerifyError,
        PoolTimeoutError,
        ResponseTimeoutError,
    )
    from clova_core.turns import ToolCallRequiredError

_LAZY = {
    "UnknownCitationError": "clova_core.citations",
    "search_result_content": "clova_core.citations",
    "RateLimiter": "clova_core.ratelimit",
    "RetryPolicy": "clova_core.retry",
    "Citation": "clova_core.toolkit_types",
    "RagReasoningRequest": "clova_core.toolkit_types",
    "RagReasoningResult": "clova_core.toolkit_types",
    "RerankDocument": "clova_core.toolkit_types",
    "RerankResult": "clova_core.toolkit_types",
    "Segment": "clova_core.toolkit_types",
    "SegmentationResult": "clova_core.toolkit_types",
    "SummaryResult": "clova_core.toolkit_types",
    "AsyncClovaClient": "clova_core.client",
    "ClovaClient": "clova_core.client",
    "AsyncChatStream": "clova_core.chat_stream",
    "ChatStream": "clova_core.chat_stream",
    "AdaptiveRateLimiter": "clova_core.ratelimit_adaptive",
    "RedisRateLimiter": "clova_core.ratelimit_redis",
    "DefaultAioHttpClient": "clova_core.aiohttp_client",
    "CertificateVerifyError": "clova_core.transport_errors",
    "PoolTimeoutError": "clova_core.transport_errors",
    "ResponseTimeoutError": "clova_core.transport_errors",
    "ToolCallRequiredError": "clova_core.turns",
}

__all__ = [
    "CHAT_MODELS",
    "EMBEDDING_MODELS",
    "APIConnectionError",
    "APIError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AdaptiveRateLimiter",
    "AsyncChatStream",
    "AsyncClovaClient",
    "AuthenticationError",
    "BadRequestError",
    "CertificateVerifyError",
    "ChatModelSpec",
    "ChatRequest",
    "ChatResult",
    "ChatStream",
    "ChatTokenCount",
    "Citation",
    "ClovaClient",
    "ClovaConfigurationError",
    "ClovaError",
    "ClovaValidationError",
    "ContextLengthExceededError",
    "ContextLimitError",
    "DefaultAioHttpClient",
    "EmbeddingModelSpec",
    "EmbeddingResult",
    "ImagePart",
    "InternalServerError",
    "Message",
    "NotFoundError",
    "PermissionDeniedError",
    "PoolTimeoutError",
    "RagReasoningRequest",
    "RagReasoningResult",
    "RateLimitError",
    "RateLimiter",
    "RedisRateLimiter",
    "RequestTimeoutError",
    "RerankDocument",
    "RerankResult",
    "ResponseTimeoutError",
    "ResultEvent",
    "RetryPolicy",
    "Segment",
    "SegmentationResult",
    "StreamError",
    "StreamEvent",
    "SummaryResult",
    "TextPart",
    "TokenEvent",
    "Tool",
    "ToolCall",
    "ToolCallChunk",
    "ToolCallRequiredError",
    "UnknownCitationError",
    "UnknownModelError",
    "UnsupportedFeatureError",
    "Usage",
    "custom_chat_model",
    "get_chat_model",
    "get_embedding_model",
    "search_result_content",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'clova_core' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
