"""Routing and the request pipeline.

Pipeline: strip the legacy ``/testapp`` / ``/serviceapp`` prefix -> route (unknown path:
404 / 40400) -> latency -> auth (401) -> injected faults (connection reset, 429 / 500 / 503)
-> JSON body (400 / 40000 when malformed or nested deeper than ``MAX_JSON_DEPTH``) -> the
endpoint (validation, rate limits, script, generation). Errors use the native envelope, or
the OpenAI one under ``/v1/openai``.

To serve a new endpoint, write its handler (``Ctx -> Response``) in ``clova_emulator.api``
and add one ``_route(...)`` line to ``ROUTES``.
"""

from __future__ import annotations

import json
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clova_emulator.api import chat, embeddings, openai_compat, rag_reasoning, toolkit
from clova_emulator.observe import RequestRecord
from clova_emulator.serving.auth import authenticate
from clova_emulator.serving.envelope import EmulatedApiError, native_envelope, openai_error
from clova_emulator.state import (
    Ctx,
    DropConnection,
    EmulatorState,
    Incoming,
    JsonResponse,
    RawReply,
    Response,
)

Handler = Callable[[Ctx], Response]
_PREFIX_RE = re.compile(r"^/(?:testapp|serviceapp)(?=/)")
OPENAI_PREFIX = "/v1/openai"
MAX_JSON_DEPTH = 100
"""Deepest nesting of objects and arrays accepted in a request body (emulator-invented: the
docs name no limit; a deeper body answers 400 / 40000 instead of exhausting the stack)."""


@dataclass(frozen=True)
class Route:
    """One endpoint: method, a full-match path pattern and its handler."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler
    defaults: tuple[tuple[str, str], ...] = ()


def _route(method: str, pattern: str, handler: Handler, **defaults: str) -> Route:
    return Route(method, re.compile(pattern), handler, tuple(defaults.items()))


ROUTES: tuple[Route, ...] = (
    _route("POST", r"/v1/chat-completions/(?P<model>[^/]+)", chat.chat_v1),
    _route("POST", r"/v3/chat-completions/(?P<model>[^/]+)", chat.chat_v3),
    _route("POST", r"/v(?P<version>[123])/tasks/(?P<task>[^/]+)/chat-completions", chat.chat_task),
    _route(
        "POST", r"/v(?P<version>[13])/api-tools/chat-tokenize/(?P<model>[^/]+)", chat.chat_tokenize
    ),
    _route("POST", r"/v1/api-tools/embedding/v2/tokenize/?", embeddings.embedding_tokenize),
    _route(
        "POST",
        r"/v1/api-tools/embedding/(?P<segment>[^/]+)(?:/(?P<app>[^/]+))?/?",
        embeddings.embedding,
    ),
    _route("POST", r"/v1/api-tools/segmentation/?", toolkit.segmentation),
    _route("POST", r"/v1/api-tools/reranker/?", toolkit.reranker),
    _route("POST", r"/v1/api-tools/summarization/v2/?", toolkit.summarization),
    _route("POST", r"/v1/api-tools/rag-reasoning/?", rag_reasoning.rag_reasoning),
    _route("POST", r"/v1/openai/chat/completions/?", openai_compat.chat_completions),
    _route("POST", r"/v1/openai/embeddings/?", openai_compat.embeddings),
    _route("GET", r"/v1/openai/models/?", openai_compat.models),
    _route("GET", r"/v1/openai/models/(?P<model>[^/]+)", openai_compat.model),
)


def normalise_path(raw_path: str) -> str:
    """The path without query string and legacy app prefix."""
    path = raw_path.split("?", 1)[0].split("#", 1)[0] or "/"
    return _PREFIX_RE.sub("", path)


def match(method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
    """The handler and path parameters for a request, if any route matches."""
    for route in ROUTES:
        found = route.pattern.fullmatch(path)
        if found and route.method == method:
            params = dict(route.defaults)
            params.update({key: value for key, value in found.groupdict().items() if value})
            return route.handler, params
    return None


def is_openai(path: str) -> bool:
    """Whether a normalised path is under the OpenAI-compatible API (OpenAI error envelope)."""
    return path == OPENAI_PREFIX or path.startswith(OPENAI_PREFIX + "/")


def failure_response(failure: EmulatedApiError, *, openai: bool) -> JsonResponse:
    """The HTTP reply for a failure, in the envelope of the route family."""
    if openai:
        body = openai_error(failure.code, failure.message)
    else:
        body = native_envelope(failure.code, failure.message)
    return JsonResponse(failure.status, body, failure.code, dict(failure.headers))


def _parse_body(incoming: Incoming) -> dict[str, Any]:
    if incoming.method != "POST":
        return {}
    content_type = incoming.headers.get("content-type", "")
    if content_type and "json" not in content_type.lower():
        raise EmulatedApiError("41500", f"MediaType error: {content_type}")
    try:
        body = json.loads(incoming.body.decode("utf-8") or "null")
    except (UnicodeDecodeError, ValueError):
        raise EmulatedApiError("40000", "Bad request: the body is not valid JSON") from None
    except RecursionError:
        raise _too_deep() from None
    if _nested_deeper(body, MAX_JSON_DEPTH):
        raise _too_deep()
    if not isinstance(body, dict):
        raise EmulatedApiError("40000", "Bad request: the body must be a JSON object")
    return body


def _too_deep() -> EmulatedApiError:
    return EmulatedApiError(
        "40000", f"Bad request: the body nests deeper than {MAX_JSON_DEPTH} levels"
    )


def _nested_deeper(value: Any, limit: int) -> bool:
    """Whether objects / arrays in ``value`` nest more than ``limit`` levels (no recursion)."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def handle(state: EmulatorState, incoming: Incoming, record: RequestRecord) -> Response:
    """Run the pipeline for one request; never raises for API-level problems."""
    incoming.openai = is_openai(incoming.path)
    knobs = state.knobs
    try:
        found = match(incoming.method, incoming.path)
        if found is None:
            raise EmulatedApiError("40400", f"Not found: {incoming.method} {incoming.path}")
        handler, params = found
        if knobs.latency or knobs.latency_jitter:
            time.sleep(state.dice.latency(knobs.latency, knobs.latency_jitter))
        authenticate(incoming.headers, knobs, bearer_only=incoming.openai)
        if incoming.method == "POST":
            if state.dice.roll(knobs.reset_rate):
                return DropConnection()
            injected = state.dice.injected_failure(knobs.error_rates, knobs.fault_retry_after)
            if injected is not None:
                raise injected
        body = _parse_body(incoming)
        record.body = body if incoming.body else None
        ctx = Ctx(state=state, knobs=knobs, incoming=incoming, params=params, body=body)
        record.stream = ctx.wants_stream if not incoming.openai else body.get("stream") is True
        return handler(ctx)
    except EmulatedApiError as failure:
        return failure_response(failure, openai=incoming.openai)
    except RawReply as raw:
        return raw.response
    except Exception:
        state.add_server_error(traceback.format_exc())
        return failure_response(EmulatedApiError("50000"), openai=incoming.openai)
