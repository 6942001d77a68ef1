"""``ClovaX``: CLOVA Studio's HyperCLOVA X models as a LlamaIndex ``FunctionCallingLLM``.

All HTTP, retries, SSE and wire JSON live in ``clova_core``; this class only converts
LlamaIndex objects to core requests (``messages`` / ``tools``) and core results back.
``chat`` / ``stream_chat`` and their async twins are implemented once on native CLOVA
streaming; the completion methods are derived from the same implementations, so each call
fires exactly one LLM callback event and takes one ``rate_limiter`` slot.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.generic_utils import (
    achat_to_completion_decorator,
    astream_chat_to_completion_decorator,
    chat_to_completion_decorator,
    stream_chat_to_completion_decorator,
)
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.bridge.pydantic import ConfigDict, Field, PrivateAttr, SecretStr
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.llm import ToolSelection
from typing_extensions import override

from clova_core.constants import DEFAULT_MAX_RETRIES
from clova_core.models import DEFAULT_CHAT_MODEL, ChatModelSpec, ThinkingEffort
from clova_core.pool import AsyncHttpClient, ClientPool, HttpClient
from clova_core.ratelimit import RateLimiter
from clova_core.request import effective_max_tokens
from clova_core.retry import RetryPolicy
from clova_core.turns import achat_turn, chat_turn, needs_several_requests
from clova_core.types import ChatRequest
from llama_index_clova.chat_request import ChatCall, build_chat_request, resolve_spec
from llama_index_clova.messages import (
    ChatStreamBuilder,
    chat_response_from_result,
    whole_response,
)
from llama_index_clova.structured import Strategy, StructuredOutputLLM, choose_strategy
from llama_index_clova.tools import (
    keep_first_tool_call,
    resolve_tool_choice,
    to_clova_tools,
    tool_selections,
)

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool


class ClovaX(StructuredOutputLLM):
    """HyperCLOVA X chat models (HCX-007, HCX-005, HCX-DASH-002, HCX-003, HCX-DASH-001).

    Example::

        from llama_index_clova import ClovaX

        llm = ClovaX(model="HCX-005")  # key from CLOVASTUDIO_API_KEY
        print(llm.complete("안녕하세요!"))

    ``None`` for a generation parameter means "not sent": the server default applies.
    A model the registry does not know (a new model) needs ``context_window``; ``task_id``
    calls a tuned task of the base ``model``. Errors are the core's typed errors, unchanged.
    A misspelled argument is an error, never silently ignored.
    """

    model_config = ConfigDict(extra="forbid")

    model: str = Field(default=DEFAULT_CHAT_MODEL, description="CLOVA Studio model name.")
    api_key: SecretStr | None = Field(
        default=None,
        exclude=True,
        repr=False,
        description="API key; read from CLOVASTUDIO_API_KEY when not given.",
    )
    base_url: str | None = Field(
        default=None, description="Base URL; CLOVASTUDIO_API_BASE_URL or the public host."
    )
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
    include_ai_filters: bool | None = Field(
        default=None, description="Ask for AI-filter scores (clova-api.md 9.1)."
    )
    timeout: float | None = Field(default=None, description="Request timeout in seconds.")
    max_retries: int = Field(
        default=DEFAULT_MAX_RETRIES, ge=0, description="Retries of 429 / 5xx / connection errors."
    )
    task_id: str | None = Field(default=None, description="Tuned task id (a tuned model).")
    context_window: int | None = Field(
        default=None, description="Context window override (required for unknown models)."
    )
    num_output: int | None = Field(
        default=None, description="Output tokens reserved by prompt helpers (metadata only)."
    )
    exact_token_check: bool = Field(
        default=False,
        description="Ask CLOVA's token calculator for the exact input count before every "
        "request and check the model's limits with it (one extra request each time).",
    )
    default_headers: dict[str, str] | None = Field(
        default=None, description="Extra HTTP headers sent with every request."
    )
    http_client: HttpClient = Field(
        default=None, exclude=True, repr=False, description="A custom httpx.Client."
    )
    async_http_client: AsyncHttpClient = Field(
        default=None, exclude=True, repr=False, description="A custom httpx.AsyncClient."
    )
    quota_limiter: RateLimiter | None = Field(
        default=None,
        exclude=True,
        repr=False,
        description="A clova_core.RateLimiter (QPM / TPM, e.g. RateLimiter.for_model('HCX-005')) "
        "the core waits on before every request, retries included, so bulk work stays under "
        "the account's quota instead of meeting 429s. Share one per model. Not LlamaIndex's "
        "rate_limiter, which paces calls without counting tokens.",
    )
    retry_policy: RetryPolicy | None = Field(
        default=None,
        exclude=True,
        repr=False,
        description="Backoff of the core's retries (clova_core.RetryPolicy); default: "
        "full-jitter exponential backoff from 0.5 s up to 8 s, Retry-After honoured.",
    )

    _spec: ChatModelSpec = PrivateAttr()
    _clients: ClientPool = PrivateAttr()

    def __init__(self, **kwargs: Any) -> None:
        """Validate the fields, then resolve the model spec and build the sync client.

        Done after pydantic validation so that the core's typed errors (no API key, unknown
        model) reach the caller as they are, not wrapped in a ``ValidationError``.
        """
        super().__init__(**kwargs)
        self._spec = resolve_spec(
            self.model, context_window=self.context_window, num_output=self.num_output
        )
        self._clients = ClientPool(
            api_key=self.api_key,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
            default_headers=self.default_headers,
            http_client=self.http_client,
            async_http_client=self.async_http_client,
            rate_limiter=self.quota_limiter,
            retry_policy=self.retry_policy,
        )
        _ = self._clients.sync  # a missing key is a ClovaConfigurationError right here

    def close(self) -> None:
        """Close the sync client's connections (a caller's ``http_client`` is left open)."""
        self._clients.close()

    async def aclose(self) -> None:
        """Close the connections of the running event loop's async client."""
        await self._clients.aclose()

    @classmethod
    def class_name(cls) -> str:
        return "ClovaX"

    @property
    def spec(self) -> ChatModelSpec:
        """The registry entry (or custom spec) requests are validated against."""
        return self._spec

    @property
    def metadata(self) -> LLMMetadata:
        spec = self._spec
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
        model's maximum when the server picks it (reasoning on HCX-007, clova-api.md 3.5)."""
        request = ChatRequest(
            messages=(), model=self.model, task_id=self.task_id, thinking=self.thinking
        )
        return effective_max_tokens(request, self._spec) or self._spec.max_output_tokens

    # ------------------------------------------------------------------ chat, once each

    def _request(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> ChatCall:
        return build_chat_request(self, messages, kwargs)

    def _chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        call = self._request(messages, kwargs)
        result = chat_turn(
            self._clients.sync,
            call.request,
            spec=self._spec,
            request_id=call.request_id,
            exact_token_check=self.exact_token_check,
        )
        return chat_response_from_result(result)

    async def _achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        call = self._request(messages, kwargs)
        result = await achat_turn(
            self._clients.for_running_loop(),
            call.request,
            spec=self._spec,
            request_id=call.request_id,
            exact_token_check=self.exact_token_check,
        )
        return chat_response_from_result(result)

    def _stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        call = self._request(messages, kwargs)
        if needs_several_requests(call.request, self._spec):
            # A reply that may be replaced (clova_core.turns) is delivered whole.
            whole = self._chat(messages, **kwargs)

            def once() -> ChatResponseGen:
                yield whole_response(whole)

            return once()
        # Validation (typed pre-flight errors) happens here, before the generator exists.
        stream = self._clients.sync.stream_chat(
            call.request,
            spec=self._spec,
            request_id=call.request_id,
            exact_token_check=self.exact_token_check,
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
        if needs_several_requests(call.request, self._spec):
            whole = await self._achat(messages, **kwargs)

            async def once() -> ChatResponseAsyncGen:
                yield whole_response(whole)

            return once()
        stream = await self._clients.for_running_loop().stream_chat(
            call.request,
            spec=self._spec,
            request_id=call.request_id,
            exact_token_check=self.exact_token_check,
        )

        async def gen() -> ChatResponseAsyncGen:
            builder = ChatStreamBuilder(stream.request_id)
            async with stream:
                async for event in stream:
                    yield builder.feed(event)

        return gen()

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._chat(messages, **kwargs)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return await self._achat(messages, **kwargs)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        return self._stream_chat(messages, **kwargs)

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        return await self._astream_chat(messages, **kwargs)

    # ------------------------------------------------- completion, derived from the above

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return chat_to_completion_decorator(self._chat)(prompt, **kwargs)

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        return await achat_to_completion_decorator(self._achat)(prompt, **kwargs)

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        return stream_chat_to_completion_decorator(self._stream_chat)(prompt, **kwargs)

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        return await astream_chat_to_completion_decorator(self._astream_chat)(prompt, **kwargs)

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
        messages = list(chat_history or [])
        if user_msg is not None:
            if isinstance(user_msg, str):
                user_msg = ChatMessage(role=MessageRole.USER, content=user_msg)
            messages.append(user_msg)
        tool_choice = resolve_tool_choice(
            kwargs.pop("tool_choice", None), tool_required=tool_required, has_tools=bool(tools)
        )
        return {
            "messages": messages,
            "tools": to_clova_tools(tools),
            "tool_choice": tool_choice,
            **kwargs,
        }

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
            self._spec, self.pydantic_program_mode, tuned=self.task_id is not None
        )
