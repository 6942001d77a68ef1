"""``ChatClovaX``: NAVER CLOVA Studio (HyperCLOVA X) chat models for LangChain.

Same class name and environment variables as ``langchain-naver``, so migrating is an
import change. Every call follows one shape: build a core ``ChatRequest`` from LangChain
messages and settings (pure, :mod:`langchain_clova.payload`) -> one ``clova_core`` client
call -> turn the ``ChatResult`` or stream events back into LangChain messages (pure,
:mod:`langchain_clova.messages`). Validation, v1/v3 routing, retries, SSE and errors all
live in ``clova_core``; its typed errors reach the caller unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput, ModelProfile
from langchain_core.language_models.base import LangSmithParams
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from pydantic import AliasChoices, ConfigDict, Field, field_validator

from clova_core import tokens
from clova_core.connection import ConnectionSettings
from clova_core.constants import ENV_API_KEY, ENV_APIGW_API_KEY
from clova_core.errors import UnsupportedFeatureError
from clova_core.models import DEFAULT_CHAT_MODEL, ChatModelSpec, ThinkingEffort
from clova_core.request import resolve_chat_spec
from clova_core.turns import achat_turn, chat_turn, needs_several_requests
from clova_core.types import ChatRequest
from langchain_clova import structured_output
from langchain_clova.messages import (
    MODEL_PROVIDER,
    StreamAssembler,
    chat_result,
    to_clova_messages,
    whole_chunk,
)
from langchain_clova.payload import SAMPLING_FIELDS, build_chat_request, thinking_effort
from langchain_clova.profiles import profile_from_spec
from langchain_clova.tools import (
    ToolChoiceLike,
    ToolLike,
    format_tools,
    normalize_tool_choice,
    refuse_answer_tools,
    require_tool_support,
    to_clova_tools,
)


class ChatClovaX(ConnectionSettings, BaseChatModel):
    """HyperCLOVA X chat models (HCX-005, HCX-007, HCX-DASH-002, HCX-003, HCX-DASH-001).

    Example:
        ```python
        from langchain_clova import ChatClovaX

        model = ChatClovaX(model="HCX-005", temperature=0)  # key: CLOVASTUDIO_API_KEY
        model.invoke("안녕하세요!")
        ```

    HCX-007 reasoning appears as a standard reasoning content block (and in
    ``additional_kwargs["reasoning_content"]``) and is never sent back in later turns.
    Tools work on the v3 models; structured output uses native JSON schema on HCX-007 and
    function calling on HCX-005 / HCX-DASH-002; images on HCX-005.
    """

    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        default=DEFAULT_CHAT_MODEL, validation_alias=AliasChoices("model", "model_name")
    )
    """Model name, e.g. ``"HCX-005"``, ``"HCX-007"``, ``"HCX-003"``."""
    temperature: float | None = None
    """Sampling temperature; 0 is allowed where the API allows it (v3)."""
    max_tokens: int | None = Field(
        default=None, validation_alias=AliasChoices("max_tokens", "max_completion_tokens")
    )
    """Output cap (sent as ``maxTokens`` or, on HCX-007, ``maxCompletionTokens``)."""
    top_p: float | None = None
    top_k: int | None = None
    repetition_penalty: float | None = None
    stop: list[str] | None = Field(
        default=None, validation_alias=AliasChoices("stop", "stop_sequences")
    )
    seed: int | None = None
    """0 or unset: random; the seed used is in ``response_metadata["seed"]``."""
    thinking: ThinkingEffort | None = Field(
        default=None, validation_alias=AliasChoices("thinking", "reasoning_effort")
    )
    """HCX-007 reasoning effort: ``"none"``, ``"low"``, ``"medium"`` or ``"high"`` (also
    accepted as ``{"effort": ...}``, as langchain-naver takes it)."""
    include_ai_filters: bool | None = None
    """Ask for AI-filter scores; they appear in ``response_metadata["ai_filter"]``."""
    task_id: str | None = None
    """A tuned model's task id (the request goes to the task's endpoint)."""
    task_api_version: int | None = None
    """The tuned task's API version: ``1`` for an HCX-003 / HCX-DASH-001 task made with the
    older tuning API (its console URL reads ``/v1/tasks/...``); ``None`` picks the default."""
    streaming: bool = False
    """Stream under ``invoke`` too (for callbacks that want tokens)."""
    exact_token_count: bool = False
    """Count tokens with CLOVA's token calculator (one extra request) instead of the
    core's local estimate, in ``get_num_tokens_from_messages`` and the pre-flight check."""
    extra_body: dict[str, Any] | None = None
    """Extra request-body fields this package does not model, merged in last."""
    model_spec: ChatModelSpec | None = Field(default=None, exclude=True)
    """Limits and capabilities for a model the registry does not know
    (``clova_core.models.custom_chat_model``)."""

    def _check_settings(self) -> None:
        super()._check_settings()
        _ = self._spec()  # an unknown model fails here, as in every class of the package

    @field_validator("thinking", mode="before")
    @classmethod
    def _thinking_effort(cls, value: Any) -> Any:
        return thinking_effort(value)

    # --- LangChain metadata -------------------------------------------------------------

    @property
    def _llm_type(self) -> str:
        return "naver-clovax"

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["langchain_clova", "chat_models"]

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"api_key": ENV_API_KEY, "apigw_api_key": ENV_APIGW_API_KEY}

    @property
    def _identifying_params(self) -> dict[str, Any]:
        params = {"model": self.model, "stop": self.stop}
        params.update({name: getattr(self, name) for name in SAMPLING_FIELDS})
        return {key: value for key, value in params.items() if value is not None}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider=MODEL_PROVIDER,
            ls_model_name=str(kwargs.get("model") or self.model),
            ls_model_type="chat",
        )
        temperature = kwargs.get("temperature", self.temperature)
        if temperature is not None:
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        if max_tokens is not None:
            params["ls_max_tokens"] = max_tokens
        if stop := stop or self.stop:
            params["ls_stop"] = stop
        return params

    def _resolve_model_profile(self) -> ModelProfile | None:
        return profile_from_spec(self._spec())

    def _spec(self, model: str | None = None) -> ChatModelSpec:
        """The registry entry (or the explicit ``model_spec``) for ``model``."""
        own = model in (None, self.model)
        request = ChatRequest(
            messages=(),
            model=model or self.model,
            task_id=self.task_id,
            task_api_version=self.task_api_version,
        )
        return resolve_chat_spec(request, self.model_spec if own else None)

    # --- request building (pure) --------------------------------------------------------

    def _chat_request(
        self, messages: Sequence[BaseMessage], stop: list[str] | None, kwargs: Mapping[str, Any]
    ) -> tuple[ChatRequest, ChatModelSpec | None]:
        request = build_chat_request(
            messages,
            model=self.model,
            defaults={name: getattr(self, name) for name in SAMPLING_FIELDS},
            stop=stop if stop is not None else self.stop,
            kwargs=kwargs,
        )
        # An explicit ``model_spec`` describes ``self.model`` only, not a per-call override.
        use_spec = self.model_spec is not None and request.model == self.model
        return request, self.model_spec if use_spec else None

    # --- core calls ---------------------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request, spec = self._chat_request(messages, stop, kwargs)
        result = chat_turn(
            self._core().sync,
            request,
            spec=spec,
            request_id=kwargs.get("request_id"),
            exact_token_check=self.exact_token_count,
        )
        return chat_result(result)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request, spec = self._chat_request(messages, stop, kwargs)
        result = await achat_turn(
            self._core().for_running_loop(),
            request,
            spec=spec,
            request_id=kwargs.get("request_id"),
            exact_token_check=self.exact_token_count,
        )
        return chat_result(result)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        # LangChain's ``stream`` reports each yielded chunk to the callbacks itself.
        request, spec = self._chat_request(messages, stop, kwargs)
        if needs_several_requests(request, spec):
            # A reply that may be replaced (clova_core.turns) is delivered whole.
            result = chat_turn(
                self._core().sync,
                request,
                spec=spec,
                request_id=kwargs.get("request_id"),
                exact_token_check=self.exact_token_count,
            )
            yield ChatGenerationChunk(message=whole_chunk(result))
            return
        assembler = StreamAssembler()
        with self._core().sync.stream_chat(
            request,
            spec=spec,
            request_id=kwargs.get("request_id"),
            exact_token_check=self.exact_token_count,
        ) as stream:
            for event in stream:
                chunk = assembler.chunk(event)
                if chunk is not None:
                    yield ChatGenerationChunk(message=chunk)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        request, spec = self._chat_request(messages, stop, kwargs)
        if needs_several_requests(request, spec):
            result = await achat_turn(
                self._core().for_running_loop(),
                request,
                spec=spec,
                request_id=kwargs.get("request_id"),
                exact_token_check=self.exact_token_count,
            )
            yield ChatGenerationChunk(message=whole_chunk(result))
            return
        assembler = StreamAssembler()
        stream = (
            await self._core()
            .for_running_loop()
            .stream_chat(
                request,
                spec=spec,
                request_id=kwargs.get("request_id"),
                exact_token_check=self.exact_token_count,
            )
        )
        async with stream:
            async for event in stream:
                chunk = assembler.chunk(event)
                if chunk is not None:
                    yield ChatGenerationChunk(message=chunk)

    # --- tokens ------------------------------------------------------------------------

    def get_num_tokens(self, text: str) -> int:
        """The core's local estimate for a text (no tokenizer download)."""
        return tokens.estimate_tokens(text)

    def get_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """Tokens of a prompt, as ``trim_messages(token_counter=model)`` needs.

        With ``exact_token_count=True`` the CLOVA token calculator counts them; otherwise
        the core's local estimate, which includes the per-message overhead.
        """
        request = ChatRequest(
            messages=to_clova_messages(messages),
            model=self.model,
            task_id=self.task_id,
            task_api_version=self.task_api_version,
            tools=to_clova_tools(format_tools(tools or ())),
        )
        if self.exact_token_count:
            client = self._core().sync
            return client.count_chat_tokens(request, spec=self.model_spec).total
        return tokens.estimate_request_tokens(request)

    # --- tools and structured output -----------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[ToolLike],
        *,
        tool_choice: ToolChoiceLike = None,
        strict: bool | None = None,
        parallel_tool_calls: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (v3 models only; a v1 model raises ``UnsupportedFeatureError`` here).

        ``tool_choice``: ``"auto"``, ``"none"``, a tool name, or ``"any"`` / ``"required"``
        / ``True``. CLOVA can force one named function but not "any of several": over
        several tools the reply is still always a tool call (the request asks for one, and
        a text reply is asked again once; a second text reply raises
        ``clova_core.turns.ToolCallRequiredError``). ``response_format`` (as LangChain's
        agent ``ProviderStrategy`` binds it) runs the tool turns without the schema and
        produces the final answer in the schema with one more request. ``strict`` is
        accepted for API compatibility: CLOVA has no strict mode, so it changes nothing.
        CLOVA always allows parallel calls, so ``parallel_tool_calls=False`` is refused.
        """
        require_tool_support(self._spec(kwargs.get("model")))
        if parallel_tool_calls is False:
            raise UnsupportedFeatureError("CLOVA Studio cannot turn off parallel tool calls.")
        refuse_answer_tools(tools, tool_choice)
        formatted = format_tools(tools)
        choice = normalize_tool_choice(
            tool_choice, [tool["function"]["name"] for tool in formatted]
        )
        if choice is not None:
            kwargs["tool_choice"] = choice
        return super().bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: Mapping[str, Any] | type,
        *,
        method: structured_output.StructuredOutputMethod | None = None,
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """Structured output as a Pydantic object (Pydantic schema) or a dict.

        ``method`` defaults to ``"json_schema"`` on HCX-007 (native structured outputs)
        and ``"function_calling"`` on HCX-005 / HCX-DASH-002. v1 models, and
        ``"json_schema"`` / ``"json_mode"`` on a model without native structured outputs,
        raise ``UnsupportedFeatureError``. ``strict`` is accepted and has no effect.
        """
        if kwargs:
            raise TypeError(f"Unexpected with_structured_output arguments: {sorted(kwargs)}")
        resolved = structured_output.resolve_method(method, self._spec())
        trace_format = {"kwargs": {"method": resolved}, "schema": schema}
        llm: Runnable[LanguageModelInput, AIMessage]
        if resolved == "json_schema":
            llm = self.bind(
                response_format=structured_output.json_schema_of(schema),
                ls_structured_output_format=trace_format,
            )
        else:
            llm = self.bind_tools(
                [schema],
                tool_choice=structured_output.tool_name_of(schema),
                ls_structured_output_format=trace_format,
            )
        parser = structured_output.output_parser(schema, resolved)
        return structured_output.with_parser(llm, parser, include_raw=include_raw)
