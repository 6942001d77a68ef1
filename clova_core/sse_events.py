"""CLOVA's SSE event semantics: ``token`` / ``result`` / ``error`` / ``signal``.

Framing (``id:`` / ``event:`` / ``data:`` lines with or without the space after the colon,
CRLF, events split across network chunks) is httpx-sse's job; this module only gives each
framed event its CLOVA meaning:

* ``token``: ``message.content`` is the **new** fragment only; on v3 reasoning fragments
  arrive in ``message.thinkingContent``; tool calls arrive as a header piece (``id``,
  ``function.name``) followed by ``function.partialJson`` pieces for the latest call.
* ``result``: the complete message. It repeats every fragment already streamed, so it is
  turned into a :class:`~clova_core.types.ResultEvent` only, never into more text. The
  stream is finished after it.
* ``error``: ``{"status": {"code", "message"}}`` -> :class:`~clova_core.errors.StreamError`
  carrying what was delivered so far.
* ``signal``: ``{"data": "[DONE]"}`` (or a bare ``[DONE]``) ends the stream.

Unknown event names, and events without data, are ignored so that new server events (and
keep-alive comments) do not break clients. A stream
that ends without a ``result`` event raises :class:`~clova_core.errors.StreamError`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from clova_core.errors import (
    UNEXPECTED_REPLY_HINT,
    APIResponseError,
    StreamError,
    error_from_stream_event,
)
from clova_core.jsonloads import loads
from clova_core.response import parse_chat_result
from clova_core.types import ResultEvent, StreamEvent, TokenEvent, ToolCallChunk

DONE = "[DONE]"


class StreamDecoder:
    """Turns framed SSE events of one chat stream into :data:`~clova_core.types.StreamEvent` s.

    Stateful: it numbers tool calls, remembers what text was delivered (for the partial
    content of a :class:`StreamError`) and whether the stream is finished.
    """

    def __init__(self, *, api_version: int, model: str, request_id: str) -> None:
        self.api_version = api_version
        self.model = model
        self.request_id = request_id
        self.content = ""
        """Concatenation of the ``content`` fragments delivered so far."""
        self.thinking = ""
        """Concatenation of the ``thinkingContent`` fragments delivered so far."""
        self.tool_call_count = 0
        self._tool_call_id: str | None = None
        self.result_event: ResultEvent | None = None
        self.finished = False
        """True after a ``result`` event or a ``[DONE]`` signal: stop reading."""

    def decode(self, event: str, data: str, event_id: str | None = None) -> StreamEvent | None:
        """The meaning of one event: a :class:`TokenEvent`, a :class:`ResultEvent` or ``None``.

        Raises :class:`StreamError` for an ``error`` event or a ``[DONE]`` before the result,
        and :class:`APIResponseError` for malformed data. An event without data is ignored:
        the SSE spec does not dispatch an event whose data buffer is empty.
        """
        if self.finished or not data:
            return None
        if event == "token":
            return self._token(self._json(event, data), event_id)
        if event == "result":
            result = parse_chat_result(
                self._object(self._json(event, data), "result"),
                api_version=self.api_version,
                model=self.model,
                request_id=self.request_id,
            )
            self.finished = True
            self.result_event = ResultEvent(result, event_id=event_id)
            return self.result_event
        if event == "error":
            raise self._error_event(data)
        if self._is_done(event, data):
            self.finish()
        return None

    def finish(self) -> None:
        """Mark the end of the stream (EOF or ``[DONE]``); raise if no result came."""
        self.finished = True
        if self.result_event is None:
            raise self.cut("stream ended before the result event")

    def cut(self, message: str) -> StreamError:
        """A :class:`StreamError` carrying everything delivered so far."""
        return StreamError(
            f"CLOVA Studio stream error: {message}. The answer is incomplete: partial_content "
            "holds the text received; send the request again for a complete one.",
            request_id=self.request_id,
            partial_content=self.content,
            partial_thinking=self.thinking,
        )

    def _json(self, event: str, data: str) -> Any:
        try:
            return loads(data)
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            raise APIResponseError(
                f"Unexpected CLOVA Studio stream: {event!r} event data is not JSON: "
                f"{data[:200]!r}. {UNEXPECTED_REPLY_HINT}",
                request_id=self.request_id,
            ) from None

    def _object(self, value: Any, event: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise APIResponseError(
                f"Unexpected CLOVA Studio stream: {event!r} event data is not an object. "
                f"{UNEXPECTED_REPLY_HINT}",
                request_id=self.request_id,
            )
        return value

    def _token(self, data: Any, event_id: str | None) -> TokenEvent | None:
        message = self._object(data, "token").get("message")
        if not isinstance(message, Mapping):
            return None
        content = message.get("content")
        thinking = message.get("thinkingContent")
        content = content if isinstance(content, str) else ""
        thinking = thinking if isinstance(thinking, str) and self.api_version != 1 else ""
        chunks = self._tool_call_chunks(message.get("toolCalls"))
        if not (content or thinking or chunks):
            return None
        self.content += content
        self.thinking += thinking
        return TokenEvent(
            content=content,
            thinking_content=thinking,
            tool_call_chunks=chunks,
            event_id=event_id,
        )

    def _tool_call_chunks(self, pieces: object) -> tuple[ToolCallChunk, ...]:
        """Tool-call pieces: a piece with ``id`` or ``function.name``
        starts the next call; ``function.partialJson`` extends the latest one. The spec has
        no ``index`` field, so calls are numbered in the order their headers arrive."""
        if not isinstance(pieces, Sequence) or isinstance(pieces, str):
            return ()
        chunks = []
        for piece in pieces:
            if not isinstance(piece, Mapping):
                continue
            function = piece.get("function")
            function = function if isinstance(function, Mapping) else {}
            call_id = piece.get("id")
            name = function.get("name")
            call_id = call_id if isinstance(call_id, str) else None
            name = name if isinstance(name, str) else None
            # A piece repeating the latest call's id continues that call.
            starts_call = (call_id is not None and call_id != self._tool_call_id) or (
                call_id is None and name is not None
            )
            if starts_call or self.tool_call_count == 0:
                self.tool_call_count += 1
                self._tool_call_id = call_id
            arguments = _argument_text(function)
            if starts_call or arguments:
                chunks.append(
                    ToolCallChunk(
                        index=self.tool_call_count - 1,
                        id=call_id if starts_call else None,
                        name=name if starts_call else None,
                        arguments=arguments,
                    )
                )
        return tuple(chunks)

    def _error_event(self, data: str) -> StreamError:
        try:
            payload: Any = json.loads(data)
        except (ValueError, RecursionError):
            payload = {"status": {"message": data}}
        self.finished = True
        return error_from_stream_event(
            payload,
            request_id=self.request_id,
            partial_content=self.content,
            partial_thinking=self.thinking,
        )

    @staticmethod
    def _is_done(event: str, data: str) -> bool:
        """``signal`` with ``{"data":"[DONE]"}`` or a bare ``[DONE]``; a
        nameless (``message``) ``[DONE]`` line is accepted too, OpenAI style."""
        if event not in ("signal", "message"):
            return False
        if data.strip() == DONE:
            return True
        try:
            payload = json.loads(data)
        except (ValueError, RecursionError):
            return False
        return isinstance(payload, Mapping) and payload.get("data") == DONE


def _argument_text(function: Mapping[str, Any]) -> str:
    """The argument text a token piece carries: ``partialJson``, or whole ``arguments``."""
    partial = function.get("partialJson")
    if isinstance(partial, str):
        return partial
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        return arguments
    if isinstance(arguments, Mapping):
        return json.dumps(arguments, ensure_ascii=False)
    return ""
