"""``ClovaX``: CLOVA Studio's HyperCLOVA X models as a LlamaIndex ``FunctionCallingLLM``.

All HTTP, retries, SSE and wire JSON live in ``clova_core``; this class only converts
LlamaIndex objects to core requests (``messages`` / ``tools``) and core results back.
``chat`` / ``stream_chat`` and their async twins are implemented once on native CLOVA
streaming; the completion methods are derived from the same implementations, so each call
fires exactly one LLM callback event and takes one ``rate_limiter`` slot.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.bridge.pydantic import ConfigDict, Field, model_validator
from llama_index.core.llms.llm import ToolSelection
from typing_extensions import override

from clova_core.connection import ConnectionSettings, caller_stacklevel, renamed_settings
from clova_core.models import (
    CHAT_MODELS,
    DEFAULT_CHAT_MODEL,
    ChatModelSpec,
    ThinkingEffort,
    custom_chat_model,
)
from clova_core.request import effective_max_tokens, resolve_chat_spec
from clova_core.turns import achat_turn, chat_turn, needs_several_requests
from clova_core.types import ChatRequest
from llama_index_clova.chat_request import ChatCall, build_chat_request
from llama_index_clova.llm_methods import ChatMethods
from llama_index_clova.messages import (
    ChatStreamBuilder,
    chat_response_from_result,
    whole_response,
)
from llama_index_clova.structured import Strategy, StructuredOutputLLM, choose_strategy
from llama_index_clova.tools import (
    keep_first_tool_call,
    prepare_chat_with_tools,
    tool_selections,
)

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool


class ClovaX(ChatMethods, ConnectionSettings, StructuredOutputLLM):
    """HyperCLOVA X chat models (HCX-007, HCX-005, HCX-DASH-002, HCX-003, HCX-DASH-001).

    Example::

        from llama_index_clova import ClovaX

        llm = ClovaX(model="HCX-005")  # key from CLOVASTUDIO_API_KEY
        print(llm.complete("안녕하세요!"))

    ``None`` for a generation parameter means "not sent": the server default applies.
    A model the registry does not know (a new model) needs ``model_spec=``
    (``clova_core.custom_chat_model(...)``); ``task_id`` calls a tuned task of the base
    ``model``. A missing key or an unknown model raises when the object is built. Errors
    are the core's typed errors, unchanged. A misspelled argument is an error, never
    silently ignored. The connection settings (``api_key``, ``apigw_api_key``,
    ``base_url``, ``timeout``, ``max_retries``, ``http_async_client``, ``quota_limiter``,
    ...) are those of every class of the package; pickling leaves the key out.
    """

    model_config = ConfigDict(extra="forbid")

    model: str = Field(default=DEFAULT_CHAT_MODEL, description="CLOVA Studio model name.")
    temperature: float | None = Field(default=None, description="Sampling temperature.")
    max_tokens: int | None = Field(
        default=None, description="Output cap (sent as maxTokens or maxCompletionTokens)."
    )
    top_p: float | None = Field(default=None, description="Nucleus sampling mass.")
    top_k: int | None = Field(default=None, description="Top-k sampling (0 disables).")
    repetition_penalty: float | None = Field(default=None, description="Repetition penalty.")
    stop: list[str] | None = Field(default=None, description="Stop sequences.")
    seed: int | None = Field(default=None, description="Sampling seed (0: random).")
    thinking: ThinkingEffort | None = Field(
        default=None,
        description="Reasoning effort on HCX-007 ('none'..'high'). Unset, HCX-007 reasons "
        "in plain chat and gets effort 'none' with tools or structured output; an explicit "
        "effort other than 'none' together with tools or structured output is a typed error "
        "(CLOVA allows reasoning with neither).",
    )
    include_ai_filters: bool | None = Field(default=None, description="Ask for AI-filter scores.")
    task_id: str | None = Field(default=None, description="Tuned task id (a tuned model).")
    task_api_version: int | None = Field(
        default=None,
        description=(
            "Tuned task API version: 1 for an HCX-003 / HCX-DASH-001 task made with the older "
            "tuning API (its console URL reads /v1/tasks/...); None picks the default."
        ),
    )
    context_window: int | None = Field(
        default=None, description="Context window reported to LlamaIndex (metadata only)."
    )
    model_spec: ChatModelSpec | None = Field(
        default=None,
        exclude=True,
        description="Limits and capabilities of a model the registry does not know "
        "(clova_core.custom_chat_model(...)).",
    )
    num_output: int | None = Field(
        default=None, description="Output tokens reserved by prompt helpers (metadata only)."
    )
    exact_token_count: bool = Field(
        default=False,
        description="Ask CLOVA's token calculator for the exact input count before every "
        "request and check the model's limits with it (one extra request each time).",
    )

    @model_validator(mode="before")
    @classmethod
    def _renamed_or_legacy_settings(cls, data: Any) -> Any:
        data = renamed_settings(data, {"exact_token_check": "exact_token_count"}, "ClovaX")
        if isinstance(data, dict) and data.get("model_spec") is None:
            model, window = data.get("model", DEFAULT_CHAT_MODEL), data.get("context_window")
            if window is not None and model not in CHAT_MODELS:
                # The former way to declare an unknown model: still accepted, with a warning.
                warnings.warn(
                    "Declaring an unknown model with context_window= is deprecated; pass "
                    "model_spec=clova_core.custom_chat_model(...) instead.",
                    DeprecationWarning,
                    stacklevel=caller_stacklevel(),
                )
                spec = custom_chat_model(
                    model, context_window=window, max_output_tokens=data.get("num_output")
                )
                data = {**data, "model_spec": spec}
        return data

    def _check_settings(self) -> None:
        super()._check_settings()
        _ = self.spec  # an unknown model fails here, as in every class of the package

    @property
    def exact_token_check(self) -> bool:
        """Deprecated name of :attr:`exact_token_count`."""
        warnings.warn(
            "exact_token_check is deprecated; use exact_token_count.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.exact_token_count

    @classmethod
    def class_name(cls) -> str:
        return "ClovaX"

    @property
    def spec(self) -> ChatModelSpec:
        """The registry entry (or ``model_spec``) requests are validated against."""
        request = ChatRequest(
            messages=(),
            model=self.model,
            task_id=self.task_id,
            task_api_version=self.task_api_version,
        )
        return resolve_chat_spec(request, self.model_spec)

    @property
    def metadata(self) -> LLMMetadata:
        spec = self.spec
        return LLMMetadata(
            context_window=self.context_window or spec.context_window,
            num_output=self.num_output or self.max_tokens or self._default_output_tokens(),
            is_chat_model=True,
            # Tuned tasks have no function calling (clova-api.md 3.1).
            is_function_calling_model=spec.supports_tools and self.task_id is None,
            model_name=self.model,
            system_role=MessageRole.SYSTEM,
        )

    def _default_output_tokens(self) -> int:
        """The output cap the core sends when none is given (for prompt sizing), or the
        model's maximum when the server picks it (reasoning on HCX-007)."""
        request = ChatRequest(
            messages=(),
            model=self.model,
            task_id=self.task_id,
            task_api_version=self.task_api_version,
            thinking=self.thinking,
        )
        return effective_max_tokens(request, self.spec) or self.spec.max_output_tokens

    # ------------------------------------------------------------------ chat, once each

    def _request(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> ChatCall:
        return build_chat_request(self, messages, kwargs)

    def _chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        call = self._request(messages, kwargs)
        result = chat_turn(
            self._core().sync,
            call.request,
            spec=self.spec,
            request_id=call.request_id,
            exact_token_check=self.exact_token_count,
        )
        return chat_response_from_result(result)

    async def _achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        call = self._request(messages, kwargs)
        result = await achat_turn(
            self._core().for_running_loop(),
            call.request,
            spec=self.spec,
            request_id=call.request_id,
            exact_token_check=self.exact_token_count,
        )
        return chat_response_from_result(result)

    def _stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        call = self._request(messages, kwargs)
        if needs_several_requests(call.request, self.spec):
            # A reply that may be replaced (clova_core.turns) is delivered whole.
            whole = self._chat(messages, **kwargs)

            def once() -> ChatResponseGen:
                yield whole_response(whole)

            return once()
        # Validation (typed pre-flight errors) happens here, before the generator exists.
        stream = self._core().sync.stream_chat(
            call.request,
            spec=self.spec,
            request_id=call.request_id,
            exact_token_check=self.exact_token_count,
        )

        def gen() -> ChatResponseGen:
            builder = ChatStreamBuilder(stream.request_id)
            with stream:
                for event in stream:
                    yield builder.feed(event)

        return gen()

    async def _astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        call = self._request(messages, kwargs)
        if needs_several_requests(call.request, self.spec):
            whole = await self._achat(messages, **kwargs)

            async def once() -> ChatResponseAsyncGen:
                yield whole_response(whole)

            return once()
        client = self._core().for_running_loop()
        stream = await client.stream_chat(
            call.request,
            spec=self.spec,
            request_id=call.request_id,
            exact_token_check=self.exact_token_count,
        )

        async def gen() -> ChatResponseAsyncGen:
            builder = ChatStreamBuilder(stream.request_id)
            async with stream:
                async for event in stream:
                    yield builder.feed(event)

        return gen()

    # ------------------------------------------------------------------- tool calling

    @override
    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Messages plus core tool specs and tool choice for ``chat``.

        ``allow_parallel_tool_calls`` has no CLOVA switch; it is applied to the response by
        :meth:`_validate_chat_with_tools_response`.
        """
        return prepare_chat_with_tools(
            tools, user_msg, chat_history, tool_required=tool_required, kwargs=kwargs
        )

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence[BaseTool],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        if not allow_parallel_tool_calls:
            return keep_first_tool_call(response)
        return response

    def get_tool_calls_from_response(
        self,
        response: ChatResponse,
        error_on_no_tool_call: bool = True,
        **kwargs: Any,
    ) -> list[ToolSelection]:
        """``ToolSelection`` s from the response's ``ToolCallBlock`` s (partial ones too)."""
        return tool_selections(response, error_on_no_tool_call=error_on_no_tool_call)

    # ---------------------------------------------------------------- structured output

    @property
    def _structured_strategy(self) -> Strategy:
        return choose_strategy(
            self.spec, self.pydantic_program_mode, tuned=self.task_id is not None
        )
