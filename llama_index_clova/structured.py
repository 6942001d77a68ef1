"""Structured output: how :class:`~llama_index_clova.ClovaX` turns a prompt into a Pydantic object.

Strategy per model:

* a model with native structured outputs (HCX-007): the Pydantic JSON Schema goes in the
  request's ``response_format`` (the core normalises it for CLOVA's schema subset); the
  answer is JSON text in ``content``;
* another model with function calling (HCX-005, HCX-DASH-002): LlamaIndex's own
  function-calling program (a forced call of one tool shaped like the output class);
* a model with neither (v1: HCX-003, HCX-DASH-001, and tuned tasks): an
  :class:`~clova_core.errors.UnsupportedFeatureError` naming the models that can.

An explicit ``pydantic_program_mode`` other than ``DEFAULT`` is always honoured as set.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from enum import Enum
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, ChatResponse
from llama_index.core.bridge.pydantic import BaseModel
from llama_index.core.instrumentation.events.llm import (
    LLMStructuredPredictEndEvent,
    LLMStructuredPredictInProgressEvent,
    LLMStructuredPredictStartEvent,
)
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.program.utils import FlexibleModel, process_streaming_objects
from llama_index.core.prompts import PromptTemplate
from llama_index.core.types import Model, PydanticProgramMode
from llama_index_instrumentation import get_dispatcher

from clova_core.errors import UnsupportedFeatureError
from clova_core.features import structured_output_method
from clova_core.models import ChatModelSpec

dispatcher = get_dispatcher(__name__)


class Strategy(str, Enum):
    """How structured output is produced for one model."""

    NATIVE_JSON = "native_json"
    INHERITED = "inherited"
    """LlamaIndex's program for the mode (function calling for tool-capable models)."""


def choose_strategy(spec: ChatModelSpec, mode: PydanticProgramMode, *, tuned: bool) -> Strategy:
    """The strategy for ``spec``, or an :class:`UnsupportedFeatureError` when there is none.

    The core decides the method (:func:`clova_core.features.structured_output_method`); tuned
    tasks have neither function calling nor structured outputs.
    """
    if mode != PydanticProgramMode.DEFAULT:
        return Strategy.INHERITED
    try:
        method = structured_output_method(spec, tuned=tuned)
    except UnsupportedFeatureError as error:
        raise UnsupportedFeatureError(
            f"{error} Or set pydantic_program_mode=PydanticProgramMode.LLM to parse plain text "
            "yourself."
        ) from None
    return Strategy.NATIVE_JSON if method == "json_schema" else Strategy.INHERITED


def response_schema(output_cls: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema sent as ``response_format`` (the core shapes it for the wire)."""
    return output_cls.model_json_schema()


def parse_response(output_cls: type[Model], response: ChatResponse) -> Model:
    """The output object from a native-JSON answer (pydantic errors propagate)."""
    return output_cls.model_validate_json(response.message.content or "")


def iter_partial_objects(
    output_cls: type[BaseModel], responses: Iterator[ChatResponse]
) -> Generator[Any, None, None]:
    """Partial objects (``FlexibleModel`` s until the JSON is complete) from a JSON stream,
    with LlamaIndex's structured-predict progress events."""
    current: list[Any] | None = None
    last: Any = None
    for response in responses:
        last = process_streaming_objects(
            response, output_cls, cur_objects=current, flexible_mode=True
        )
        current = last if isinstance(last, list) else [last]
        dispatcher.event(LLMStructuredPredictInProgressEvent(output=last))
        yield last
    if last is not None:
        dispatcher.event(LLMStructuredPredictEndEvent(output=last))


async def aiter_partial_objects(
    output_cls: type[BaseModel], responses: AsyncIterator[ChatResponse]
) -> AsyncGenerator[Any, None]:
    """Async twin of :func:`iter_partial_objects`."""
    current: list[Any] | None = None
    last: Any = None
    async for response in responses:
        last = process_streaming_objects(
            response, output_cls, cur_objects=current, flexible_mode=True
        )
        current = last if isinstance(last, list) else [last]
        dispatcher.event(LLMStructuredPredictInProgressEvent(output=last))
        yield last
    if last is not None:
        dispatcher.event(LLMStructuredPredictEndEvent(output=last))


class StructuredOutputLLM(FunctionCallingLLM):
    """A ``FunctionCallingLLM`` whose structured-output methods follow :func:`choose_strategy`.

    The strategy is chosen eagerly, so an unsupported model fails at the call, also for the
    streaming variants, and before anything is sent.
    """

    @property
    @abstractmethod
    def _structured_strategy(self) -> Strategy:
        """The strategy for this model and ``pydantic_program_mode`` (may raise).

        A property, not a method: LlamaIndex wraps implementations of abstract *methods* in
        instrumentation spans, which a lookup like this does not deserve.
        """

    def _structured_call(
        self, output_cls: type[BaseModel], prompt: PromptTemplate, prompt_args: dict[str, Any]
    ) -> tuple[list[ChatMessage], dict[str, Any]]:
        """Messages and the ``response_format`` keyword for a native-JSON call."""
        dispatcher.event(
            LLMStructuredPredictStartEvent(
                output_cls=output_cls, template=prompt, template_args=prompt_args
            )
        )
        messages = self._extend_messages(prompt.format_messages(llm=self, **prompt_args))
        return messages, {"response_format": response_schema(output_cls)}

    def structured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        """Native JSON schema on HCX-007, function calling on other v3 models."""
        if self._structured_strategy is Strategy.INHERITED:
            inherited: Model = super().structured_predict(
                output_cls, prompt, llm_kwargs, **prompt_args
            )
            return inherited
        messages, schema = self._structured_call(output_cls, prompt, prompt_args)
        response = self.chat(messages, **schema, **(llm_kwargs or {}))
        output = parse_response(output_cls, response)
        dispatcher.event(LLMStructuredPredictEndEvent(output=output))
        return output

    async def astructured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        """Async twin of :meth:`structured_predict`."""
        if self._structured_strategy is Strategy.INHERITED:
            inherited: Model = await super().astructured_predict(
                output_cls, prompt, llm_kwargs, **prompt_args
            )
            return inherited
        messages, schema = self._structured_call(output_cls, prompt, prompt_args)
        response = await self.achat(messages, **schema, **(llm_kwargs or {}))
        output = parse_response(output_cls, response)
        dispatcher.event(LLMStructuredPredictEndEvent(output=output))
        return output

    def stream_structured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Generator[Model | FlexibleModel, None, None]:
        """Partial objects as the answer streams in, the complete object last."""
        if self._structured_strategy is Strategy.INHERITED:
            return super().stream_structured_predict(output_cls, prompt, llm_kwargs, **prompt_args)
        messages, schema = self._structured_call(output_cls, prompt, prompt_args)
        responses = self.stream_chat(messages, **schema, **(llm_kwargs or {}))
        return iter_partial_objects(output_cls, responses)

    async def astream_structured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> AsyncGenerator[Model | FlexibleModel, None]:
        """Async twin of :meth:`stream_structured_predict`."""
        if self._structured_strategy is Strategy.INHERITED:
            return await super().astream_structured_predict(
                output_cls, prompt, llm_kwargs, **prompt_args
            )
        messages, schema = self._structured_call(output_cls, prompt, prompt_args)
        responses = await self.astream_chat(messages, **schema, **(llm_kwargs or {}))
        return aiter_partial_objects(output_cls, responses)
