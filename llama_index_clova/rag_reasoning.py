"""``ClovaXRAGReasoning``: CLOVA Studio RAG Reasoning as a LlamaIndex function-calling LLM.

RAG Reasoning must be given retrieval tools: on a question it calls one, and once the tool's
output is in the conversation it answers, citing the passages it used. One request per turn
(``POST /v1/api-tools/rag-reasoning``); ``FunctionAgent`` or ``chat_with_tools`` plus your
own loop run the tools in between. It cannot chat without tools (``chat`` / ``complete``
without ``tools=`` raise ``clova_core.ClovaValidationError`` before sending).

Citations: the service cites documents of ``{"search_result": [{"id", "doc"}]}`` tool output
(what :func:`clova_search_tool` returns for a retriever); other tool output is sent as one
search result under its tool-call id [inference]. The answer text has the citation tags
removed; ``message.additional_kwargs["citations"]`` (also ``ChatResponse.additional_kwargs``)
lists ``{"id", "text", "start", "end", "doc", "known"}``, and ``raw["content"]`` is the
tagged answer. An id no tool output carried is kept with ``known=False``, or with
``strict_citations=True`` raises ``clova_core.UnknownCitationError``. The docs do not say the
endpoint streams, so streams deliver the whole answer as one response.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    LLMMetadata,
    MessageRole,
    TextBlock,
)
from llama_index.core.bridge.pydantic import Field
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from typing_extensions import override

from clova_core.citations import (
    check_citations,
    citation_dicts,
    cite_plain_tool_outputs,
    search_result_content,
)
from clova_core.connection import ConnectionSettings
from clova_core.rag_reasoning_wire import RAG_REASONING_SPEC
from clova_core.toolkit_types import RagReasoningRequest, RagReasoningResult
from clova_core.toolkit_wire import MAX_TOOLKIT_OUTPUT_TOKENS
from llama_index_clova.llm_methods import ChatMethods
from llama_index_clova.messages import chat_response_from_result, to_clova_messages
from llama_index_clova.tools import prepare_chat_with_tools, tool_selections

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

RAG_REASONING_MODEL = "rag-reasoning"


class ClovaXRAGReasoning(ChatMethods, ConnectionSettings, FunctionCallingLLM):
    """CLOVA Studio RAG Reasoning: retrieval-tool calls, then answers with citations.

    Example::

        from llama_index.core.agent.workflow import FunctionAgent
        from llama_index_clova import ClovaXRAGReasoning, clova_search_tool

        agent = FunctionAgent(
            tools=[clova_search_tool(index.as_retriever(similarity_top_k=4))],
            llm=ClovaXRAGReasoning(),
        )
    """

    temperature: float | None = Field(default=None, gt=0, le=1)
    top_p: float | None = Field(default=None, gt=0, le=1)
    top_k: int | None = Field(default=None, ge=0, le=128)
    max_tokens: int | None = Field(default=None, ge=1024, le=MAX_TOOLKIT_OUTPUT_TOKENS)
    repetition_penalty: float | None = Field(default=None, gt=0, le=2)
    stop: list[str] | None = None
    seed: int | None = Field(default=None, ge=0, le=4_294_967_295)
    include_ai_filters: bool | None = Field(
        default=None, description="The service filters by default on this API."
    )
    strict_citations: bool = Field(
        default=False, description="Raise when the answer cites an id no tool output carried."
    )

    @classmethod
    def class_name(cls) -> str:
        return "ClovaXRAGReasoning"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            context_window=RAG_REASONING_SPEC.context_window,
            num_output=self.max_tokens or 1024,
            is_chat_model=True,
            is_function_calling_model=True,
            model_name=RAG_REASONING_MODEL,
            system_role=MessageRole.SYSTEM,
        )

    # --- one request -------------------------------------------------------------------

    def _request(
        self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]
    ) -> RagReasoningRequest:
        tools = kwargs.get("tools") or ()
        return RagReasoningRequest(
            messages=cite_plain_tool_outputs(to_clova_messages(messages)),
            tools=tuple(tools),
            tool_choice=kwargs.get("tool_choice"),
            temperature=kwargs.get("temperature", self.temperature),
            top_p=kwargs.get("top_p", self.top_p),
            top_k=kwargs.get("top_k", self.top_k),
            max_tokens=kwargs.get("max_tokens", self.max_tokens),
            repetition_penalty=kwargs.get("repetition_penalty", self.repetition_penalty),
            stop=kwargs.get("stop", self.stop),
            seed=kwargs.get("seed", self.seed),
            include_ai_filters=kwargs.get("include_ai_filters", self.include_ai_filters),
        )

    def _response(self, result: RagReasoningResult) -> ChatResponse:
        if self.strict_citations:
            check_citations(result.citations, request_id=result.request_id)
        response = chat_response_from_result(result.chat)
        citations = citation_dicts(result.citations)
        message = response.message
        for block in message.blocks:
            if isinstance(block, TextBlock):
                block.text = result.answer_text
        message.additional_kwargs["citations"] = citations
        response.additional_kwargs["citations"] = citations
        raw = dict(response.raw or {})
        raw["content"] = result.content
        response.raw = raw
        return response

    def _chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        request = self._request(messages, kwargs)
        result = self._core().sync.rag_reasoning(request, request_id=kwargs.get("request_id"))
        return self._response(result)

    async def _achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        request = self._request(messages, kwargs)
        client = self._core().for_running_loop()
        result = await client.rag_reasoning(request, request_id=kwargs.get("request_id"))
        return self._response(result)

    def _stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        whole = self._chat(messages, **kwargs)

        def once() -> ChatResponseGen:
            yield whole.model_copy(update={"delta": whole.message.content or ""})

        return once()

    async def _astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        whole = await self._achat(messages, **kwargs)

        async def once() -> ChatResponseAsyncGen:
            yield whole.model_copy(update={"delta": whole.message.content or ""})

        return once()

    # --- tools -------------------------------------------------------------------------

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
        return prepare_chat_with_tools(
            tools, user_msg, chat_history, tool_required=tool_required, kwargs=kwargs
        )

    def get_tool_calls_from_response(
        self, response: ChatResponse, error_on_no_tool_call: bool = True, **kwargs: Any
    ) -> list[ToolSelection]:
        return tool_selections(response, error_on_no_tool_call=error_on_no_tool_call)


def nodes_to_search_result(nodes: Sequence[Any]) -> str:
    """``search_result`` JSON for retrieved nodes (``NodeWithScore`` or nodes), by node id."""
    items: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in nodes:
        node = getattr(item, "node", item)
        text = node.get_content()
        if text.strip() and node.node_id not in seen:
            seen.add(node.node_id)
            items.append((node.node_id, text))
    return search_result_content(items)


def clova_search_tool(
    retriever: Any,
    *,
    name: str = "search_documents",
    description: str = "Search the knowledge base for passages relevant to the query.",
) -> Any:
    """A ``FunctionTool`` running ``retriever`` and returning ``search_result`` JSON keyed by
    node id, the format RAG Reasoning cites from."""
    from llama_index.core.tools import FunctionTool

    def search(query: str) -> str:
        """Search the knowledge base."""
        return nodes_to_search_result(retriever.retrieve(query))

    async def asearch(query: str) -> str:
        """Search the knowledge base."""
        return nodes_to_search_result(await retriever.aretrieve(query))

    return FunctionTool.from_defaults(
        fn=search, async_fn=asearch, name=name, description=description
    )


__all__ = ["ClovaXRAGReasoning", "clova_search_tool", "nodes_to_search_result"]
