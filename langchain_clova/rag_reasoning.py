"""``ChatClovaXRAGReasoning``: CLOVA Studio RAG Reasoning as a LangChain chat model.

RAG Reasoning is a chat model that must be given retrieval tools (``bind_tools``): on a
question it calls one (an ``AIMessage`` with ``tool_calls``); once the tool's output is in
the conversation it answers, citing the passages it used. One request per turn
(``POST /v1/api-tools/rag-reasoning``); an agent loop (``create_agent``) or a manual loop
runs the tool in between.

Citations: the service cites documents of ``{"search_result": [{"id", "doc"}]}`` tool
output (what :func:`clova_search_tool` returns for a retriever). A tool returning anything
else is sent as one search result whose id is its tool-call id [inference], so its output
can still be cited. The answer's ``content`` is the text without citation tags; the tags'
spans are in ``response_metadata["citations"]`` (and ``additional_kwargs["citations"]``):
``{"id", "text", "start", "end", "doc", "known"}``, with ``start``/``end`` offsets into
``content`` and ``doc`` the cited document's text. The raw answer is
``response_metadata["raw_content"]``. A citation of an id no tool output carried is kept with
``known=False`` and ``doc=None``, or with ``strict_citations=True`` raises
``clova_core.UnknownCitationError``.

The docs do not say that this endpoint streams, so ``stream`` / ``astream`` deliver the
whole answer as one chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.base import LangSmithParams
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.tool import tool_call
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from pydantic import Field

from clova_core.citations import (
    check_citations,
    citation_dicts,
    cite_plain_tool_outputs,
    search_result_content,
)
from clova_core.connection import ConnectionSettings
from clova_core.constants import ENV_API_KEY, ENV_APIGW_API_KEY
from clova_core.toolkit_types import RagReasoningRequest, RagReasoningResult
from langchain_clova.messages import MODEL_PROVIDER, response_metadata, to_clova_messages
from langchain_clova.messages import usage_metadata as to_usage_metadata
from langchain_clova.tools import (
    ToolChoiceLike,
    ToolLike,
    format_tools,
    normalize_tool_choice,
    to_clova_tools,
)

RAG_REASONING_MODEL = "rag-reasoning"


class ChatClovaXRAGReasoning(ConnectionSettings, BaseChatModel):
    """CLOVA Studio RAG Reasoning: retrieval-tool calls, then answers with citations.

    Example:
        ```python
        from langchain_clova import ChatClovaXRAGReasoning, clova_search_tool

        search = clova_search_tool(store.as_retriever(k=4))
        llm = ChatClovaXRAGReasoning().bind_tools([search])
        ai = llm.invoke("한라산의 높이는?")            # ai.tool_calls -> run search
        ...
        final.response_metadata["citations"]          # [{"id", "text", "doc", ...}]
        ```
    """

    temperature: float | None = Field(default=None, gt=0, le=1)
    top_p: float | None = Field(default=None, gt=0, le=1)
    top_k: int | None = Field(default=None, ge=0, le=128)
    max_tokens: int | None = Field(default=None, ge=1024, le=4095)
    repetition_penalty: float | None = Field(default=None, gt=0, le=2)
    stop: list[str] | None = None
    seed: int | None = Field(default=None, ge=0, le=4_294_967_295)
    include_ai_filters: bool | None = None
    """The service filters by default on this API (True)."""
    strict_citations: bool = False
    """Raise ``UnknownCitationError`` when the answer cites an id no tool output carried."""

    @property
    def _llm_type(self) -> str:
        return "naver-clovax-rag-reasoning"

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"api_key": ENV_API_KEY, "apigw_api_key": ENV_APIGW_API_KEY}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider=MODEL_PROVIDER, ls_model_name=RAG_REASONING_MODEL, ls_model_type="chat"
        )
        if self.temperature is not None:
            params["ls_temperature"] = self.temperature
        if self.max_tokens is not None:
            params["ls_max_tokens"] = self.max_tokens
        return params

    def bind_tools(
        self,
        tools: Sequence[ToolLike],
        *,
        tool_choice: ToolChoiceLike = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind the retrieval tool(s) RAG Reasoning may call (at least one is required)."""
        formatted = format_tools(tools)
        choice = normalize_tool_choice(tool_choice, [t["function"]["name"] for t in formatted])
        if choice is not None:
            kwargs["tool_choice"] = choice
        return super().bind(tools=formatted, **kwargs)

    def _request(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> RagReasoningRequest:
        return RagReasoningRequest(
            messages=cite_plain_tool_outputs(to_clova_messages(messages)),
            tools=to_clova_tools(kwargs.get("tools") or []),
            tool_choice=kwargs.get("tool_choice"),
            temperature=kwargs.get("temperature", self.temperature),
            top_p=kwargs.get("top_p", self.top_p),
            top_k=kwargs.get("top_k", self.top_k),
            max_tokens=kwargs.get("max_tokens", self.max_tokens),
            repetition_penalty=kwargs.get("repetition_penalty", self.repetition_penalty),
            stop=stop if stop is not None else self.stop,
            seed=kwargs.get("seed", self.seed),
            include_ai_filters=kwargs.get("include_ai_filters", self.include_ai_filters),
        )

    def _result(self, result: RagReasoningResult) -> ChatResult:
        if self.strict_citations:
            check_citations(result.citations, request_id=result.request_id)
        citations = citation_dicts(result.citations)
        metadata = response_metadata(result.chat)
        metadata.update(
            model_name=RAG_REASONING_MODEL, citations=citations, raw_content=result.content
        )
        kwargs: dict[str, Any] = {"citations": citations}
        if result.chat.thinking_content:
            kwargs["reasoning_content"] = result.chat.thinking_content
        message = AIMessage(
            content=result.answer_text,
            additional_kwargs=kwargs,
            tool_calls=[
                tool_call(name=call.name, args=dict(call.arguments), id=call.id)
                for call in result.tool_calls
            ],
            usage_metadata=to_usage_metadata(result.chat.usage),
            response_metadata=metadata,
        )
        info = {"finish_reason": result.chat.finish_reason}
        return ChatResult(
            generations=[ChatGeneration(message=message, generation_info=info)],
            llm_output={"model_name": RAG_REASONING_MODEL, "request_id": result.request_id},
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = self._request(messages, stop, kwargs)
        client = self._core().sync
        return self._result(client.rag_reasoning(request, request_id=kwargs.get("request_id")))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = self._request(messages, stop, kwargs)
        client = self._core().for_running_loop()
        result = await client.rag_reasoning(request, request_id=kwargs.get("request_id"))
        return self._result(result)


def documents_to_search_result(documents: Sequence[Any]) -> str:
    """``search_result`` JSON for LangChain documents: id = ``doc.id``, else
    ``metadata["id"]``, else the position; duplicates get ``#n`` appended."""
    seen: dict[str, int] = {}
    items: list[tuple[str, str]] = []
    for index, document in enumerate(documents):
        text = getattr(document, "page_content", "")
        if not text.strip():
            continue
        base = document.id or str(document.metadata.get("id") or index)
        base = "".join("_" if c.isspace() or c in "<>" else c for c in base)
        count = seen.get(base, 0)
        seen[base] = count + 1
        items.append((base if count == 0 else f"{base}#{count}", text))
    return search_result_content(items)


def clova_search_tool(
    retriever: Any,
    *,
    name: str = "search_documents",
    description: str = "Search the knowledge base for passages relevant to the query.",
) -> Any:
    """A LangChain tool running ``retriever`` and returning ``search_result`` JSON, the
    format RAG Reasoning cites from (ids as in :func:`documents_to_search_result`)."""
    from langchain_core.tools import StructuredTool

    def search(query: str) -> str:
        return documents_to_search_result(retriever.invoke(query))

    async def asearch(query: str) -> str:
        return documents_to_search_result(await retriever.ainvoke(query))

    return StructuredTool.from_function(
        func=search, coroutine=asearch, name=name, description=description
    )


__all__ = ["ChatClovaXRAGReasoning", "clova_search_tool", "documents_to_search_result"]
