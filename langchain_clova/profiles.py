"""LangChain ``ModelProfile`` built from the core's model registry.

The registry (``clova_core.models``, values from CLOVA Studio's model documentation) is the
one source of limits and capabilities; this module only renames its fields to LangChain's.
"""

from __future__ import annotations

from langchain_core.language_models import ModelProfile

from clova_core.errors import UnsupportedFeatureError
from clova_core.features import structured_output_method
from clova_core.models import THINKING_EFFORTS, ChatModelSpec


def profile_from_spec(spec: ChatModelSpec) -> ModelProfile:
    """The ``ModelProfile`` of one chat model.

    ``max_input_tokens`` is the documented input limit (7,600 for HCX-003), not the context
    window, so ``trim_messages`` and summarisation middleware size prompts correctly.
    Only HCX-005 takes images, as base64 or URL; no model accepts audio,
    video or PDF. CLOVA keeps one system message per request, so
    ``ChatClovaX`` moves later system messages into the leading one.

    ``structured_output`` is true on every model that can answer in a schema (natively on
    HCX-007, through a forced function elsewhere), also together with tools, so LangChain's
    ``create_agent`` binds the schema as ``response_format`` (its provider strategy) and the
    core produces the answer after the tool turns.
    """
    profile = ModelProfile(
        max_input_tokens=spec.max_input_tokens,
        max_output_tokens=spec.max_output_tokens,
        text_inputs=True,
        image_inputs=spec.supports_images,
        image_url_inputs=spec.supports_images,
        pdf_inputs=False,
        audio_inputs=False,
        video_inputs=False,
        image_tool_message=False,
        pdf_tool_message=False,
        text_outputs=True,
        image_outputs=False,
        audio_outputs=False,
        video_outputs=False,
        reasoning_output=spec.supports_thinking,
        tool_calling=spec.supports_tools,
        tool_choice=spec.supports_tools,
        tool_call_streaming=spec.supports_tools,
        structured_output=_answers_in_schema(spec),
        mid_conversation_system_messages=False,
        temperature=True,
    )
    if spec.supports_thinking:
        profile["reasoning_effort_levels"] = list(THINKING_EFFORTS)
        if spec.default_thinking is not None:
            profile["reasoning_effort_default"] = spec.default_thinking
    return profile


def _answers_in_schema(spec: ChatModelSpec) -> bool:
    try:
        structured_output_method(spec)
    except UnsupportedFeatureError:
        return False
    return True
