"""Pure parsers from CLOVA's native JSON replies to the types in :mod:`clova_core.types`.

Every native reply is the envelope ``{"status": {"code", "message"}, "result": {...}}``
. :func:`parse_envelope` checks it and returns ``result``; the other
functions read one endpoint's ``result``. Nothing here does I/O: the client feeds bytes in,
the stream decoder feeds the ``result`` event's data in.

Defensive reading: ``stopReason`` in any case (and the
``END_TOEKN`` typo), ``created`` in seconds or milliseconds, ``aiFilter[].result`` absent,
``usage.totalTokens`` not always the sum, tool ``arguments`` as an object or a JSON string,
and v3 token counts per part or as a single object. A reply whose shape is broken raises
:class:`~clova_core.errors.APIResponseError` carrying the request id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from clova_core.constants import SUCCESS_CODE
from clova_core.errors import (
    UNEXPECTED_REPLY_HINT,
    APIResponseError,
    error_from_response,
    http_status_for_code,
)
from clova_core.jsonloads import loads
from clova_core.types import (
    AiFilterScore,
    ChatResult,
    ChatTokenCount,
    EmbeddingResult,
    ToolCall,
    Usage,
)

_FINISH_REASONS = {
    # clova-api.md 2.3: v1 stopReason; "stop_before" is a normal stop, "length" and
    # "end_token" (typo "END_TOEKN" in third-party types) mean the output was truncated.
    "stop_before": "stop",
    "length": "length",
    "end_token": "length",
    "end_toekn": "length",
    # clova-api.md 3.4: v3 finishReason values pass through.
    "stop": "stop",
    "tool_calls": "tool_calls",
}

_NUMBER_TYPES = frozenset({int, float})
"""JSON numbers as :func:`json.loads` returns them (exact types: ``bool`` is excluded)."""

_SECONDS_BELOW = 10**11
"""``created`` values below this are Unix seconds, not milliseconds."""


def _broken(what: str, request_id: str | None) -> APIResponseError:
    return APIResponseError(
        f"Unexpected CLOVA Studio reply: {what}. {UNEXPECTED_REPLY_HINT}", request_id=request_id
    )


def parse_envelope(
    content: bytes,
    *,
    http_status: int,
    request_id: str | None,
    retry_after: float | None = None,
) -> Mapping[str, Any]:
    """The ``result`` object of a 2xx reply, or the typed error its ``status.code`` names.

    A 200 reply can still carry a failure code; it is mapped like an HTTP
    error of the status the code implies (``42901`` -> 429), or of ``http_status`` for codes
    that imply none. A body that is not a JSON object with an object ``result`` raises
    :class:`APIResponseError`.
    """
    try:
        body = loads(content)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        snippet = " ".join(content.decode("utf-8", errors="replace").split())[:200]
        raise _broken(f"body is not JSON: {snippet!r}", request_id) from None
    if not isinstance(body, Mapping):
        raise _broken(f"body is a JSON {type(body).__name__}, not an object", request_id)
    status = body.get("status")
    if isinstance(status, Mapping):
        code = status.get("code")
        code_text = None if code is None else str(code)
        if code_text is not None and code_text != SUCCESS_CODE and not code_text.startswith("2"):
            raise error_from_response(
                http_status_for_code(code_text) or http_status,
                content,
                request_id=request_id,
                retry_after=retry_after,
            )
    result = body.get("result")
    if not isinstance(result, Mapping):
        raise _broken("no 'result' object in the envelope", request_id)
    return result


def _int(
    obj: Mapping[str, Any], key: str, request_id: str | None, *, where: str = "result"
) -> int | None:
    """An optional integer field; numeric strings are accepted, anything else is an error."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        raise _broken(f"{where}.{key} is a boolean", request_id)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise _broken(f"{where}.{key} is not an integer: {value!r}", request_id)


def _text(obj: Mapping[str, Any], key: str, request_id: str | None, *, where: str) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _broken(f"{where}.{key} is not a string", request_id)


def _mapping(obj: Mapping[str, Any], key: str, request_id: str | None, *, where: str) -> Any:
    value = obj.get(key)
    if value is not None and not isinstance(value, Mapping):
        raise _broken(f"{where}.{key} is not an object", request_id)
    return value


def normalise_finish_reason(value: object) -> str | None:
    """``stop`` / ``length`` / ``tool_calls`` from v1 or v3 spellings in any case.

    Values the spec does not list are kept, lower-cased (see ``types.FinishReason``).
    """
    if not isinstance(value, str) or not value:
        return None
    lowered = value.lower()
    return _FINISH_REASONS.get(lowered, lowered)


def normalise_created(value: int | None) -> int | None:
    """``created`` in milliseconds: values below 10**11 are seconds."""
    if value is None:
        return None
    return value * 1000 if value < _SECONDS_BELOW else value


def parse_tool_arguments(value: object, *, request_id: str | None) -> Mapping[str, Any]:
    """Tool ``arguments``: a JSON object natively; a JSON string is parsed."""
    if value is None:
        return {}
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise _broken(
                f"tool call arguments are not valid JSON: {value!r}", request_id
            ) from None
    if not isinstance(value, Mapping):
        raise _broken("tool call arguments are not a JSON object", request_id)
    return dict(value)


def _tool_calls(raw: object, request_id: str | None) -> tuple[ToolCall, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise _broken("message.toolCalls is not a list", request_id)
    calls = []
    for item in raw:
        function = item.get("function") if isinstance(item, Mapping) else None
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            raise _broken("a tool call has no function name", request_id)
        call_id = item.get("id")
        calls.append(
            ToolCall(
                id=call_id if isinstance(call_id, str) else "",
                name=function["name"],
                arguments=parse_tool_arguments(function.get("arguments"), request_id=request_id),
            )
        )
    return tuple(calls)


def _ai_filter(raw: object, request_id: str | None) -> tuple[AiFilterScore, ...] | None:
    """``aiFilter`` items; ``result`` may be absent, ``score`` is a string."""
    if raw is None:
        return None
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise _broken("aiFilter is not a list", request_id)
    scores = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise _broken("an aiFilter item is not an object", request_id)
        result = item.get("result")
        scores.append(
            AiFilterScore(
                group_name=str(item.get("groupName", "")),
                name=str(item.get("name", "")),
                score=str(item.get("score", "")),
                result=None if result is None else str(result),
            )
        )
    return tuple(scores)


def _usage_v1(result: Mapping[str, Any], request_id: str | None) -> Usage | None:
    """v1 ``inputLength`` / ``outputLength``."""
    prompt = _int(result, "inputLength", request_id)
    completion = _int(result, "outputLength", request_id)
    if prompt is None and completion is None:
        return None
    prompt, completion = prompt or 0, completion or 0
    return Usage(prompt, completion, prompt + completion)


def _usage_v3(result: Mapping[str, Any], request_id: str | None) -> Usage | None:
    """v3 ``usage`` with optional ``completionTokensDetails.thinkingTokens``."""
    usage = _mapping(result, "usage", request_id, where="result")
    if usage is None:
        return None
    prompt = _int(usage, "promptTokens", request_id, where="usage") or 0
    completion = _int(usage, "completionTokens", request_id, where="usage") or 0
    total = _int(usage, "totalTokens", request_id, where="usage")
    details = _mapping(usage, "completionTokensDetails", request_id, where="usage")
    thinking = (
        None
        if details is None
        else _int(details, "thinkingTokens", request_id, where="completionTokensDetails")
    )
    # totalTokens is not always the sum in doc examples (clova-api.md 9.5): keep what came.
    return Usage(prompt, completion, prompt + completion if total is None else total, thinking)


def parse_chat_result(
    result: Mapping[str, Any], *, api_version: int, model: str, request_id: str
) -> ChatResult:
    """A :class:`ChatResult` from a chat ``result`` object (JSON reply or ``result`` event).

    v1: ``message.content``, ``stopReason``, ``inputLength`` /
    ``outputLength``, ``seed``, ``aiFilter``. v3 (3.4, 3.5, 3.6): ``message.content``,
    ``thinkingContent``, ``toolCalls``, ``finishReason``, ``usage``, ``created``, ``seed``,
    ``aiFilter``.
    """
    if not isinstance(result, Mapping):
        raise _broken("result is not an object", request_id)
    message = result.get("message")
    if not isinstance(message, Mapping):
        raise _broken("result.message is missing", request_id)
    content = _text(message, "content", request_id, where="message") or ""
    if api_version == 1:
        finish = normalise_finish_reason(result.get("stopReason"))
        usage = _usage_v1(result, request_id)
        thinking = None
        tool_calls: tuple[ToolCall, ...] = ()
    else:
        finish = normalise_finish_reason(result.get("finishReason"))
        usage = _usage_v3(result, request_id)
        thinking = _text(message, "thinkingContent", request_id, where="message")
        tool_calls = _tool_calls(message.get("toolCalls"), request_id)
    return ChatResult(
        content=content,
        thinking_content=thinking,
        tool_calls=tool_calls,
        finish_reason=finish,
        usage=usage,
        seed=_int(result, "seed", request_id),
        ai_filter=_ai_filter(result.get("aiFilter"), request_id),
        created_ms=normalise_created(_int(result, "created", request_id)),
        model=model,
        api_version=api_version,
        request_id=request_id,
        raw=dict(result),
    )


def parse_embedding(result: Mapping[str, Any], *, model: str, request_id: str) -> EmbeddingResult:
    """``result.embedding`` (floats) and ``result.inputTokens``."""
    vector = result.get("embedding")
    if not isinstance(vector, Sequence) or isinstance(vector, str):
        raise _broken("result.embedding is not a list", request_id)
    # ``set(map(type, ...))`` checks 1024 values at C speed (bool is not a number here).
    kinds = set(map(type, vector))
    if not kinds <= _NUMBER_TYPES:
        raise _broken("result.embedding holds non-numbers", request_id)
    if int in kinds or type(vector) is not list:  # JSON gives a list of floats: kept as is
        vector = list(map(float, vector))
    return EmbeddingResult(
        embedding=vector,
        input_tokens=_int(result, "inputTokens", request_id) or 0,
        model=model,
        request_id=request_id,
    )


def _count_of(obj: object, request_id: str | None, *, where: str) -> int:
    if not isinstance(obj, Mapping):
        raise _broken(f"{where} is not an object", request_id)
    count = _int(obj, "count", request_id, where=where)
    if count is None:
        raise _broken(f"{where} has no count", request_id)
    return count


def _message_count(message: object, api_version: int, request_id: str | None) -> int:
    """One message's tokens: v1 ``count`` (6.1); v3 per-part counts, list or object (6.2)."""
    if not isinstance(message, Mapping):
        raise _broken("a counted message is not an object", request_id)
    if api_version == 1 or "count" in message:
        return _count_of(message, request_id, where="message")
    content = message.get("content")
    if isinstance(content, Mapping):
        return _count_of(content, request_id, where="message.content")
    if isinstance(content, Sequence) and not isinstance(content, str):
        return sum(_count_of(part, request_id, where="message.content[]") for part in content)
    raise _broken("a counted message has neither a count nor counted content", request_id)


def parse_chat_token_count(
    result: Mapping[str, Any], *, api_version: int, request_id: str
) -> ChatTokenCount:
    """The chat token calculator's reply."""
    messages = result.get("messages")
    if not isinstance(messages, Sequence) or isinstance(messages, str):
        raise _broken("result.messages is not a list", request_id)
    tools = result.get("tools")
    response_format = result.get("responseFormat")
    return ChatTokenCount(
        message_counts=[_message_count(m, api_version, request_id) for m in messages],
        tools=0 if tools is None else _count_of(tools, request_id, where="tools"),
        response_format=(
            0
            if response_format is None
            else _count_of(response_format, request_id, where="responseFormat")
        ),
        request_id=request_id,
    )


def parse_embedding_token_count(result: Mapping[str, Any], *, request_id: str) -> int:
    """``result.numTokens`` of the embedding tokenizer."""
    count = _int(result, "numTokens", request_id)
    if count is None:
        raise _broken("result.numTokens is missing", request_id)
    return count
