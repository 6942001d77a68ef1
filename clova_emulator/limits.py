"""The documented model limits and wire names the emulator serves by.

This is the emulator's own copy (it imports nothing from the client package, so a misread
limit in one cannot hide in the other); a test compares it with the client's registry.
Values follow the CLOVA Studio documentation: chat models and their limits,
embedding models (5), images (3.3), the request body cap and the test-key rate limits (8).

:class:`ChatModelSpec` is what one chat model accepts. :meth:`ChatModelSpec.of` copies any
object with the same attributes, so ``Emulator(models=[...])`` takes the client's
``custom_chat_model(...)`` specs of the client package as well as the emulator's own.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal, Protocol

ThinkingEffort = Literal["none", "low", "medium", "high"]
THINKING_EFFORTS: tuple[ThinkingEffort, ...] = ("none", "low", "medium", "high")

MIN_TOOL_OUTPUT_TOKENS = 1024
"""Function calling needs ``maxTokens`` (or ``maxCompletionTokens``) of at least this."""

MAX_IMAGES_PER_REQUEST = 5
MAX_IMAGES_PER_MESSAGE = 1
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_LONG_SIDE = 2240
MIN_IMAGE_SHORT_SIDE = 4
MAX_IMAGE_ASPECT_RATIO = 5.0
IMAGE_FORMATS = frozenset({"bmp", "png", "jpg", "jpeg", "webp"})
MAX_REQUEST_BODY_BYTES = 50 * 1024 * 1024
"""A larger request body is refused with 413 / 41300."""

HEADER_AUTHORIZATION = "Authorization"
HEADER_REQUEST_ID = "X-NCP-CLOVASTUDIO-REQUEST-ID"
HEADER_LEGACY_API_KEY = "X-NCP-CLOVASTUDIO-API-KEY"
HEADER_LEGACY_APIGW_KEY = "X-NCP-APIGW-API-KEY"
SECRET_HEADERS = frozenset(
    {HEADER_AUTHORIZATION.lower(), HEADER_LEGACY_API_KEY.lower(), HEADER_LEGACY_APIGW_KEY.lower()}
)
"""Headers that carry credentials: never stored in the request log."""

SUCCESS_CODE = "20000"

ENV_API_KEY = "CLOVASTUDIO_API_KEY"
ENV_APIGW_API_KEY = "NCP_APIGW_API_KEY"
ENV_BASE_URL = "CLOVASTUDIO_API_BASE_URL"
"""The environment variables CLOVA Studio clients read (set by the pytest fixtures)."""


class ChatModelLike(Protocol):
    """Any chat model description with the attributes of :class:`ChatModelSpec`."""

    @property
    def name(self) -> str: ...
    @property
    def api_version(self) -> Literal[1, 3]: ...
    @property
    def context_window(self) -> int: ...
    @property
    def max_input_tokens(self) -> int: ...
    @property
    def max_output_tokens(self) -> int: ...


@dataclass(frozen=True, slots=True)
class ChatModelSpec:
    """What one chat model accepts. ``max_tokens_field`` is the v3 name of the output cap."""

    name: str
    api_version: Literal[1, 3]
    context_window: int
    max_input_tokens: int
    max_output_tokens: int
    supports_tools: bool = False
    supports_images: bool = False
    supports_thinking: bool = False
    supports_structured_output: bool = False
    default_thinking: ThinkingEffort | None = None
    """The server's default effort when the request has no ``thinking`` (HCX-007: low)."""
    max_tokens_field: Literal["maxTokens", "maxCompletionTokens"] = "maxTokens"
    qpm: int | None = None
    """Documented requests-per-minute limit of a test key."""
    tpm: int | None = None
    """Documented tokens-per-minute limit of a test key."""

    @classmethod
    def of(cls, spec: ChatModelLike) -> ChatModelSpec:
        """A copy of ``spec``: the required attributes, and every optional one it has."""
        if isinstance(spec, ChatModelSpec):
            return spec
        values = {
            field.name: getattr(spec, field.name)
            for field in fields(cls)
            if hasattr(spec, field.name)
        }
        return cls(**values)


@dataclass(frozen=True, slots=True)
class EmbeddingModelSpec:
    """One embedding model: its path under ``/v1/api-tools/embedding/`` and its limits."""

    name: str
    path_segment: str
    max_input_tokens: int
    dimensions: int = 1024
    qpm: int | None = None
    tpm: int | None = None


CHAT_MODELS: dict[str, ChatModelSpec] = {
    spec.name: spec
    for spec in (
        ChatModelSpec(
            name="HCX-007",
            api_version=3,
            context_window=128_000,
            max_input_tokens=128_000,
            max_output_tokens=32_768,
            supports_tools=True,
            supports_thinking=True,
            supports_structured_output=True,
            default_thinking="low",
            max_tokens_field="maxCompletionTokens",
            qpm=60,
            tpm=60_000,
        ),
        ChatModelSpec(
            name="HCX-005",
            api_version=3,
            context_window=128_000,
            max_input_tokens=128_000,
            max_output_tokens=4_096,
            supports_tools=True,
            supports_images=True,
            qpm=60,
            tpm=60_000,
        ),
        ChatModelSpec(
            name="HCX-DASH-002",
            api_version=3,
            context_window=32_000,
            max_input_tokens=32_000,
            max_output_tokens=4_096,
            supports_tools=True,
            qpm=90,
            tpm=80_000,
        ),
        ChatModelSpec(
            name="HCX-003",
            api_version=1,
            context_window=8_192,
            max_input_tokens=7_600,
            max_output_tokens=4_096,
            qpm=200,
            tpm=30_000,
        ),
        ChatModelSpec(
            name="HCX-DASH-001",
            api_version=1,
            context_window=4_096,
            max_input_tokens=3_500,
            max_output_tokens=4_096,
            qpm=200,
            tpm=30_000,
        ),
    )
}
"""The chat models served, by name."""

EMBEDDING_MODELS: dict[str, EmbeddingModelSpec] = {
    spec.name: spec
    for spec in (
        EmbeddingModelSpec("clir-emb-dolphin", "clir-emb-dolphin", 500),
        EmbeddingModelSpec("clir-sts-dolphin", "clir-sts-dolphin", 500),
        EmbeddingModelSpec("bge-m3", "v2", 8_192, qpm=60, tpm=40_000),
    )
}
"""The embedding models served, by name."""
