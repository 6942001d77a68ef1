"""The model registry: one table of API version, token limits and capabilities.

Values come from CLOVA Studio's model and embedding documentation
(https://guide.ncloud-docs.com/docs/en/clovastudio-model); the rate limits are the documented
test-key QPM / TPM (https://guide.ncloud-docs.com/docs/clovastudio-ratelimiting). HCX-003
(8192 / 7600) and HCX-DASH-001 (4096 / 3500) are the limits named in the mission.

Unknown model names (new models, tuned ``taskId`` s) are not rejected: callers build a
:class:`ChatModelSpec` with :func:`custom_chat_model` and pass it explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, TypeVar

_T = TypeVar("_T")

ApiVersion = Literal[1, 3]
ThinkingEffort = Literal["none", "low", "medium", "high"]
THINKING_EFFORTS: tuple[ThinkingEffort, ...] = ("none", "low", "medium", "high")


@dataclass(frozen=True, slots=True)
class ChatModelSpec:
    """What one chat model accepts. ``max_tokens_field`` is the v3 name of the output cap."""

    name: str
    api_version: ApiVersion
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
    """Documented requests-per-minute limit for a test key."""
    tpm: int | None = None
    """Documented tokens-per-minute limit for a test key."""
    known: bool = True
    """False for specs built by :func:`custom_chat_model`."""


@dataclass(frozen=True, slots=True)
class EmbeddingModelSpec:
    """One embedding model: its path under ``/v1/api-tools/embedding/`` and its limits."""

    name: str
    path_segment: str
    max_input_tokens: int
    dimensions: int = 1024
    similarity: Literal["ip", "cosine"] = "cosine"
    qpm: int | None = None
    tpm: int | None = None


THINKING_DEFAULT_OUTPUT_TOKENS: dict[str, int] = {
    "none": 512,
    "low": 5_120,
    "medium": 10_240,
    "high": 20_480,
}
"""HCX-007's default ``maxCompletionTokens`` per effort when none is sent."""

MIN_TOOL_OUTPUT_TOKENS = 1024
"""Function calling needs ``maxTokens`` (or ``maxCompletionTokens``) >= 1024."""

MAX_IMAGES_PER_REQUEST = 5
MAX_IMAGES_PER_MESSAGE = 1
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_LONG_SIDE = 2240
MIN_IMAGE_SHORT_SIDE = 4
MAX_IMAGE_ASPECT_RATIO = 5.0
IMAGE_FORMATS = frozenset({"bmp", "png", "jpg", "jpeg", "webp"})
MAX_REQUEST_BODY_BYTES = 50 * 1024 * 1024

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

EMBEDDING_MODELS: dict[str, EmbeddingModelSpec] = {
    spec.name: spec
    for spec in (
        EmbeddingModelSpec("clir-emb-dolphin", "clir-emb-dolphin", 500, similarity="ip"),
        EmbeddingModelSpec("clir-sts-dolphin", "clir-sts-dolphin", 500),
        EmbeddingModelSpec("bge-m3", "v2", 8_192, qpm=60, tpm=40_000),
    )
}

DEFAULT_CHAT_MODEL = "HCX-005"
DEFAULT_EMBEDDING_MODEL = "clir-emb-dolphin"


def _names_with(flag: str) -> str:
    return ", ".join(name for name, spec in CHAT_MODELS.items() if getattr(spec, flag))


def models_supporting(feature: Literal["tools", "images", "thinking", "structured_output"]) -> str:
    """Comma-separated names of the registry models that have ``feature`` (for error messages)."""
    return _names_with(f"supports_{feature}")


def _given(value: _T | None, default: _T) -> _T:
    return default if value is None else value


def custom_chat_model(
    name: str,
    *,
    api_version: ApiVersion = 3,
    context_window: int | None = None,
    max_input_tokens: int | None = None,
    max_output_tokens: int | None = None,
    supports_tools: bool | None = None,
    supports_images: bool | None = None,
    supports_thinking: bool | None = None,
    supports_structured_output: bool | None = None,
    base: str | None = None,
) -> ChatModelSpec:
    """A spec for a model the registry does not know (a new model or a tuned task).

    Starts from ``base`` (a registry name) when given, otherwise from permissive defaults
    for ``api_version``; every explicit argument overrides.
    """
    if base is not None:
        template = get_chat_model(base)
    elif api_version == 1:
        template = CHAT_MODELS["HCX-003"]
    else:
        template = ChatModelSpec(
            name=name,
            api_version=3,
            context_window=128_000,
            max_input_tokens=128_000,
            max_output_tokens=4_096,
            supports_tools=True,
            supports_images=True,
            supports_thinking=True,
            supports_structured_output=True,
        )
    spec = replace(
        template,
        name=name,
        known=False,
        qpm=None,
        tpm=None,
        context_window=_given(context_window, template.context_window),
        max_input_tokens=_given(max_input_tokens, template.max_input_tokens),
        max_output_tokens=_given(max_output_tokens, template.max_output_tokens),
        supports_tools=_given(supports_tools, template.supports_tools),
        supports_images=_given(supports_images, template.supports_images),
        supports_thinking=_given(supports_thinking, template.supports_thinking),
        supports_structured_output=_given(
            supports_structured_output, template.supports_structured_output
        ),
    )
    if spec.max_input_tokens > spec.context_window:
        spec = replace(spec, max_input_tokens=spec.context_window)
    return spec


def get_chat_model(name: str) -> ChatModelSpec:
    """The registry entry for ``name``; :class:`~clova_core.errors.UnknownModelError` if none."""
    spec = CHAT_MODELS.get(name)
    if spec is None:
        from clova_core.errors import UnknownModelError

        raise UnknownModelError(
            f"Unknown CLOVA chat model {name!r}. Known models: {', '.join(CHAT_MODELS)}. "
            "For a new model or a tuned task, pass a spec from "
            "clova_core.custom_chat_model(name, api_version=..., context_window=...)."
        )
    return spec


def get_embedding_model(name: str) -> EmbeddingModelSpec:
    """The registry entry for an embedding model; a typed error naming the known ones otherwise."""
    spec = EMBEDDING_MODELS.get(name)
    if spec is None:
        from clova_core.errors import UnknownModelError

        raise UnknownModelError(
            f"Unknown CLOVA embedding model {name!r}. Known models: {', '.join(EMBEDDING_MODELS)}."
        )
    return spec
