"""Building one core :class:`~clova_core.types.ChatRequest` from ``ClovaX`` settings and
per-call keyword arguments (pure: no I/O).

Per-call keyword arguments override the instance's generation settings; ``None`` means
"not given". Keywords the package does not know are refused with ``TypeError`` unless their
value is ``None`` (LlamaIndex passes some optional ones, e.g. ``tool_choice=None``).

``thinking`` is sent as set, with or without tools and ``response_format``: the core decides
what a model accepts (``clova_core.features``). Left unset, HCX-007 gets ``effort: none`` with
tools or a schema; an explicit effort with them is a typed error, as in LangChain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from llama_index.core.base.llms.types import ChatMessage

from clova_core.models import ThinkingEffort
from clova_core.types import ChatRequest, Tool
from llama_index_clova.messages import to_clova_messages
from llama_index_clova.tools import to_clova_tools

GENERATION_FIELDS = (
    "temperature",
    "top_p",
    "top_k",
    "repetition_penalty",
    "stop",
    "seed",
    "max_tokens",
    "include_ai_filters",
)
"""``ClovaX`` fields that map one-to-one to :class:`ChatRequest` fields."""

_CALL_ONLY = ("tools", "tool_choice", "response_format", "extra_body", "request_id", "thinking")


class ChatSettings(Protocol):
    """The instance settings a request is built from (``ClovaX`` has them all)."""

    @property
    def model(self) -> str: ...
    @property
    def task_id(self) -> str | None: ...
    @property
    def task_api_version(self) -> int | None: ...
    @property
    def thinking(self) -> ThinkingEffort | None: ...


@dataclass(frozen=True)
class ChatCall:
    """A request plus the request id to send with it (``None``: the core generates one)."""

    request: ChatRequest
    request_id: str | None


def build_chat_request(
    llm: ChatSettings, messages: Sequence[ChatMessage], kwargs: Mapping[str, Any]
) -> ChatCall:
    """The core request for ``messages`` with ``llm`` 's settings and the call's ``kwargs``
    (the :data:`GENERATION_FIELDS` are read from ``llm`` too)."""
    options = dict(kwargs)
    params: dict[str, Any] = {}
    for name in GENERATION_FIELDS:
        value = options.pop(name, None)
        params[name] = getattr(llm, name) if value is None else value
    if params["stop"] is not None:
        params["stop"] = tuple(params["stop"])

    tools = _core_tools(options.pop("tools", None) or ())
    response_format = options.pop("response_format", None)
    thinking = options.pop("thinking", None)
    if thinking is None:
        thinking = llm.thinking
    request_id = options.pop("request_id", None)
    tool_choice = options.pop("tool_choice", None)
    extra_body = options.pop("extra_body", None)

    unknown = sorted(name for name, value in options.items() if value is not None)
    if unknown:
        raise TypeError(
            f"ClovaX got unexpected keyword argument(s): {', '.join(unknown)}. Known: "
            f"{', '.join((*GENERATION_FIELDS, *_CALL_ONLY))}."
        )

    request = ChatRequest(
        messages=to_clova_messages(messages),
        model=llm.model,
        task_id=llm.task_id,
        task_api_version=llm.task_api_version,
        thinking=thinking,
        tools=tools,
        tool_choice=tool_choice if tools else None,
        response_format=response_format,
        extra_body=extra_body,
        **params,
    )
    return ChatCall(request=request, request_id=request_id)


def _core_tools(tools: Sequence[Any]) -> tuple[Tool, ...]:
    """Core tools, converting LlamaIndex tools passed straight to ``chat(tools=...)``."""
    return tuple(tool if isinstance(tool, Tool) else to_clova_tools([tool])[0] for tool in tools)
