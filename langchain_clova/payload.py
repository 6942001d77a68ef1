"""Pure request building for ``ChatClovaX``: model settings + call keywords -> ``ChatRequest``.

The one place that decides which LangChain call keywords exist and how they override the
model's fields. The core turns the resulting :class:`~clova_core.types.ChatRequest` into v1 or
v3 wire JSON (and validates it) when it is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import BaseMessage

from clova_core.types import ChatRequest
from langchain_clova.messages import to_clova_messages
from langchain_clova.structured_output import normalize_response_format
from langchain_clova.tools import format_tools, normalize_tool_choice, to_clova_tools

SAMPLING_FIELDS = (
    "temperature",
    "top_p",
    "top_k",
    "repetition_penalty",
    "seed",
    "max_tokens",
    "thinking",
    "include_ai_filters",
    "task_id",
    "task_api_version",
    "extra_body",
)
"""Model fields sent with every request; each may be overridden per call as a keyword."""
CALL_KWARGS = frozenset(
    {*SAMPLING_FIELDS, "model", "tools", "tool_choice", "response_format", "request_id"}
)
"""Keywords ``invoke`` / ``stream`` / ``bind`` accept."""
IGNORED_KWARGS = frozenset({"stream"})
"""Set by LangChain's streaming plumbing; streaming is chosen by the method called."""


def thinking_effort(value: Any) -> Any:
    """``"low"`` from ``"low"`` or langchain-naver's ``{"effort": "low"}``."""
    return value.get("effort") if isinstance(value, Mapping) else value


def build_chat_request(
    messages: Sequence[BaseMessage],
    *,
    model: str,
    defaults: Mapping[str, Any],
    stop: Sequence[str] | None,
    kwargs: Mapping[str, Any],
) -> ChatRequest:
    """The core request for one call.

    ``defaults`` holds the model's values of :data:`SAMPLING_FIELDS`; ``kwargs`` are the call
    keywords (bound tools and structured-output settings arrive here too). An unknown keyword
    is a ``TypeError`` rather than something silently dropped or sent.
    """
    unknown = set(kwargs) - CALL_KWARGS - IGNORED_KWARGS
    if unknown:
        raise TypeError(
            f"ChatClovaX got unexpected keyword argument(s) {sorted(unknown)}; "
            "send fields this package does not model with extra_body={...}."
        )
    sampling = {name: kwargs.get(name, defaults.get(name)) for name in SAMPLING_FIELDS}
    sampling["thinking"] = thinking_effort(sampling["thinking"])
    tools = to_clova_tools(format_tools(kwargs.get("tools") or ()))
    return ChatRequest(
        messages=to_clova_messages(messages),
        model=str(kwargs.get("model") or model),
        stop=(list(stop) or None) if stop is not None else None,
        tools=tools,
        tool_choice=normalize_tool_choice(kwargs.get("tool_choice"), [tool.name for tool in tools]),
        response_format=normalize_response_format(kwargs.get("response_format")),
        **sampling,
    )
