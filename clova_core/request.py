"""Request shaping: version-neutral requests -> CLOVA wire requests (path + camelCase body).

This is the only place on the request side where wire field names appear. Everything here is
pure and network-free; every problem is a typed
:class:`~clova_core.errors.ClovaValidationError` raised *before* anything is sent.

Version routing by ``spec.api_version``::

    v1  /v1/chat-completions/{model}      tuned: /v2/tasks/{taskId}/chat-completions
    v3  /v3/chat-completions/{model}      tuned: /v3/tasks/{taskId}/chat-completions

A tuned task is a request with ``task_id``; its ``model`` (or spec) is the task's base model.
Messages are shaped by :mod:`clova_core.messages`, ranges by :mod:`clova_core.validation`,
thinking / tools / structured output by :mod:`clova_core.features`, images by
:mod:`clova_core.images`, schemas by :mod:`clova_core.schema`.

Output cap (``maxTokens``, or ``spec.max_tokens_field`` on v3 - never both):

* an explicit ``max_tokens`` must be ``1 .. spec.max_output_tokens`` (and >= 1024 with tools);
* when not given we send ``DEFAULT_MAX_OUTPUT_TOKENS`` = 1024, lowered to fit the context
  window (``context_window - estimated input``, at least ``MIN_DEFAULT_OUTPUT_TOKENS`` = 256)
  and capped at the model's maximum.
  The v1 server default is 100 tokens, which silently truncates most answers (the anchors'
  default-100 bug); the v3 default is undocumented. Exceptions: on a thinking model with
  reasoning active nothing is sent, so the server's effort-based default applies (none 512,
  low 5,120, medium 10,240, high 20,480; 3.5); with tools the value is never below 1024 (3.6).

Token pre-flight (local, in :func:`prepare_chat`): the input is bounded from below with
:func:`clova_core.tokens.lower_bound_message_tokens` (tool and schema text are not counted, so
the bound stays a bound); when that is over ``spec.max_input_tokens``, or it plus the output
cap we send is over ``spec.context_window``, a
:class:`~clova_core.errors.ContextLimitError` (``exact=False``) is raised. Being a lower
bound, it never rejects what the server would accept for natural text. Given the server's
exact count (``input_tokens=``), the same check runs exactly and the default cap is computed
from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from clova_core.errors import ClovaValidationError, ContextLimitError, UnknownModelError
from clova_core.features import (
    DEFAULT_MAX_OUTPUT_TOKENS,
    plan_thinking,
    resolve_max_tokens,
    response_format_to_wire,
    thinking_conflicts,
    tool_choice_to_wire,
    tools_to_wire,
)
from clova_core.messages import messages_to_wire
from clova_core.models import (
    CHAT_MODELS,
    THINKING_DEFAULT_OUTPUT_TOKENS,
    ChatModelSpec,
    EmbeddingModelSpec,
    get_chat_model,
)
from clova_core.request_json import check_json_value
from clova_core.tokens import (
    LOWER_BOUND_CHARS_PER_TOKEN,
    estimate_request_tokens,
    estimate_tokens,
    lower_bound_message_tokens,
    lower_bound_tokens,
)
from clova_core.types import ChatRequest, ImagePart
from clova_core.validation import check_path_segment, check_stop, sampling_fields

__all__ = [
    "DEFAULT_MAX_OUTPUT_TOKENS",
    "EMBEDDING_TOKENIZE_MAX_CHARS",
    "WireRequest",
    "check_context_limits",
    "effective_max_tokens",
    "prepare_chat",
    "prepare_chat_tokenize",
    "prepare_embedding",
    "prepare_embedding_tokenize",
    "resolve_chat_spec",
]

EMBEDDING_TOKENIZE_MAX_CHARS = 10_000
"""The embedding token calculator takes 1..10,000 characters."""


@dataclass(frozen=True)
class WireRequest:
    """One HTTP request to send: ``POST {base_url}{path}`` with JSON ``body``."""

    path: str
    body: dict[str, Any]
    api_version: int
    quota_tokens: int | None = None
    """What the request counts against a QPM / TPM quota: input (estimated or exact) plus the
    requested output cap. ``None``: not a quota-limited call (token
    calculators), so a :class:`~clova_core.ratelimit.RateLimiter` lets it through."""
    quota_text: str | None = None
    """An embedding's text, estimated into its quota only when :meth:`quota` is asked (by a
    rate limiter), since nothing else needs it."""

    def quota(self) -> int | None:
        """The tokens this request counts against a quota (see ``quota_tokens``)."""
        if self.quota_text is not None:
            return estimate_tokens(self.quota_text)
        return self.quota_tokens


def resolve_chat_spec(request: ChatRequest, spec: ChatModelSpec | None = None) -> ChatModelSpec:
    """``spec`` when given, else the registry entry for ``request.model``."""
    if spec is not None:
        return spec
    try:
        return get_chat_model(request.model)
    except UnknownModelError as exc:
        if request.task_id is None:
            raise
        raise UnknownModelError(
            f"{exc} For a tuned task, set model to the task's base model (e.g. HCX-003) and "
            "task_id to the task id."
        ) from exc


def _tuned(request: ChatRequest) -> bool:
    return request.task_id is not None


def _chat_path(request: ChatRequest, spec: ChatModelSpec) -> str:
    if request.task_id is not None:
        task_id = check_path_segment("task_id", request.task_id)
        return f"/v{_task_api_version(request, spec)}/tasks/{task_id}/chat-completions"
    model = check_path_segment("model", spec.name)
    return f"/v{spec.api_version}/chat-completions/{model}"


def _task_api_version(request: ChatRequest, spec: ChatModelSpec) -> int:
    """v1-family tasks: /v2/tasks (default) or /v1/tasks (older tuning); v3 tasks: /v3/tasks."""
    allowed = (2, 1) if spec.api_version == 1 else (3,)
    version = request.task_api_version
    if version is None:
        return allowed[0]
    if version not in allowed:
        choices = " or ".join(str(item) for item in sorted(allowed))
        raise ClovaValidationError(
            f"task_api_version={version!r} does not fit a task tuned on {spec.name}: use "
            f"{choices} (1 for tasks made with the older tuning API, whose URL in the CLOVA "
            "Studio console reads /v1/tasks/...)."
        )
    return version


def _has_images(request: ChatRequest) -> bool:
    for message in request.messages:
        content: object = message.content
        if (
            not isinstance(content, str)
            and isinstance(content, Iterable)
            and any(isinstance(part, ImagePart) for part in content)
        ):
            return True
    return False


def _larger_models(spec: ChatModelSpec) -> str:
    names = [
        name
        for name, other in CHAT_MODELS.items()
        if other.max_input_tokens > spec.max_input_tokens
    ]
    return f", or use a model with a larger context ({', '.join(names)})" if names else ""


def _tokens(count: int) -> str:
    return f"{count:,} token{'' if count == 1 else 's'}"


_EXACT_COUNT_ADVICE = (
    "exact_token_check=True (exact_token_count=True on ChatClovaX) has CLOVA's token "
    "calculator count the input first"
)


def check_context_limits(
    spec: ChatModelSpec, *, input_tokens: int, max_output_tokens: int | None, exact: bool
) -> None:
    """Raise :class:`ContextLimitError` when input (+ output cap) is over ``spec``'s limits.

    ``exact`` says whether ``input_tokens`` came from CLOVA's token calculator or is the
    local lower bound; the message and the error's ``exact`` attribute say which. A
    ``max_tokens`` that would fit is named only for an exact count: a lower bound cannot
    say how much room is really left.
    """
    counted = (
        f"{_tokens(input_tokens)} (counted by CLOVA's token calculator)"
        if exact
        else f"at least {_tokens(input_tokens)} (a conservative local lower bound)"
    )
    larger = _larger_models(spec)
    if input_tokens > spec.max_input_tokens:
        raise ContextLimitError(
            f"The input to {spec.name} is {counted}, over its input limit of "
            f"{_tokens(spec.max_input_tokens)}. Trim the chat history or shorten the "
            f"prompt{larger}.",
            input_tokens=input_tokens,
            max_input_tokens=spec.max_input_tokens,
            requested_output_tokens=max_output_tokens,
            context_window=spec.context_window,
            exact=exact,
        )
    if max_output_tokens is not None and input_tokens + max_output_tokens > spec.context_window:
        room = spec.context_window - input_tokens
        if exact and room >= 1:
            advice = f"Lower max_tokens to at most {room:,}, or trim the chat history{larger}."
        elif exact:
            advice = f"Trim the chat history{larger}."
        else:
            advice = (
                f"Lower max_tokens or trim the chat history{larger}. The input was only "
                "bounded from below here, so the room left for output is not known exactly; "
                f"{_EXACT_COUNT_ADVICE} and names the largest max_tokens that fits."
            )
        raise ContextLimitError(
            f"The input to {spec.name} is {counted}; with max_tokens={max_output_tokens:,} "
            f"that is over its context window of {_tokens(spec.context_window)} "
            f"(input + output). {advice}",
            input_tokens=input_tokens,
            max_input_tokens=spec.max_input_tokens,
            requested_output_tokens=max_output_tokens,
            context_window=spec.context_window,
            exact=exact,
        )


def _max_tokens_field(spec: ChatModelSpec) -> str:
    return "maxTokens" if spec.api_version == 1 else spec.max_tokens_field


def effective_max_tokens(
    request: ChatRequest, spec: ChatModelSpec, *, input_tokens: int | None = None
) -> int | None:
    """The ``maxTokens`` / ``maxCompletionTokens`` value :func:`prepare_chat` sends (None:
    nothing sent). ``input_tokens`` (an exact count) replaces the local estimate."""
    has_stop = request.stop is not None and bool(check_stop(request.stop))
    conflicts = thinking_conflicts(request, has_images=_has_images(request), has_stop=has_stop)
    thinking = plan_thinking(request, spec, tuned=_tuned(request), conflicts=conflicts)
    estimate = estimate_request_tokens(request) if input_tokens is None else input_tokens
    return resolve_max_tokens(
        request,
        spec,
        has_tools=bool(request.tools),
        thinking_active=thinking.active,
        estimated_input=estimate,
    )


def prepare_chat(
    request: ChatRequest, spec: ChatModelSpec, *, input_tokens: int | None = None
) -> WireRequest:
    """Validate ``request`` for ``spec`` and build its wire request (module docstring).

    ``input_tokens``: the exact input count from CLOVA's token calculator, when the caller
    has it; the context check then runs exactly (``ContextLimitError(exact=True)``).
    """
    tuned = _tuned(request)
    path = _chat_path(request, spec)
    wire_messages = messages_to_wire(request.messages, spec, tuned=tuned)
    check_json_value(wire_messages.messages, "messages")
    body: dict[str, Any] = {"messages": wire_messages.messages}
    body.update(sampling_fields(request, spec))
    has_images = wire_messages.image_count > 0
    has_stop = "stop" in body or "stopBefore" in body
    tools = tools_to_wire(request, spec, tuned=tuned, has_images=has_images)
    tool_choice = tool_choice_to_wire(request)
    response_format = response_format_to_wire(request, spec, tuned=tuned)
    conflicts = thinking_conflicts(request, has_images=has_images, has_stop=has_stop)
    thinking = plan_thinking(request, spec, tuned=tuned, conflicts=conflicts)
    estimate = estimate_request_tokens(request) if input_tokens is None else input_tokens
    max_tokens = resolve_max_tokens(
        request,
        spec,
        has_tools=tools is not None,
        thinking_active=thinking.active,
        estimated_input=estimate,
    )
    if input_tokens is None:
        lower = lower_bound_message_tokens(request.messages)
        check_context_limits(spec, input_tokens=lower, max_output_tokens=max_tokens, exact=False)
    else:
        check_context_limits(
            spec, input_tokens=input_tokens, max_output_tokens=max_tokens, exact=True
        )
    if thinking.wire is not None:
        body["thinking"] = thinking.wire
    if tools is not None:
        body["tools"] = tools
    if tool_choice is not None:
        body["toolChoice"] = tool_choice
    if response_format is not None:
        body["responseFormat"] = response_format
    if max_tokens is not None:
        body[_max_tokens_field(spec)] = max_tokens
    check_json_value({k: v for k, v in body.items() if k != "messages"}, "request")
    _merge_extra_body(body, request.extra_body)
    if max_tokens is None:  # the server's effort-based default applies (3.5)
        effort = thinking.wire["effort"] if thinking.wire else spec.default_thinking or "low"
        max_tokens = THINKING_DEFAULT_OUTPUT_TOKENS[effort]
    return WireRequest(
        path=path,
        body=body,
        api_version=spec.api_version,
        quota_tokens=estimate + max_tokens,
    )


def _merge_extra_body(body: dict[str, Any], extra: Mapping[str, Any] | None) -> None:
    """``extra_body`` goes in last and may override anything we built."""
    if extra is None:
        return
    if not isinstance(extra, Mapping):
        raise ClovaValidationError(
            f"extra_body must be a dict of wire fields, got {type(extra).__name__}."
        )
    check_json_value(dict(extra), "extra_body")
    body.update(extra)


def prepare_chat_tokenize(request: ChatRequest, spec: ChatModelSpec) -> WireRequest:
    """The chat token-calculator request for ``request``.

    v1: ``{"messages": [{role, content}]}``; v3: v3-shaped messages plus ``tools``,
    ``toolChoice`` and ``responseFormat`` when present. Always the base model's path
    (``spec.name``), also for tuned tasks.
    """
    model = check_path_segment("model", spec.name)
    wire_messages = messages_to_wire(request.messages, spec, tuned=False)
    check_json_value(wire_messages.messages, "messages")
    body: dict[str, Any] = {"messages": wire_messages.messages}
    if spec.api_version != 1:
        has_images = wire_messages.image_count > 0
        tools = tools_to_wire(request, spec, tuned=False, has_images=has_images)
        if tools is not None:
            body["tools"] = tools
            tool_choice = tool_choice_to_wire(request)
            if tool_choice is not None:
                body["toolChoice"] = tool_choice
        response_format = response_format_to_wire(request, spec, tuned=False)
        if response_format is not None:
            body["responseFormat"] = response_format
    check_json_value({k: v for k, v in body.items() if k != "messages"}, "request")
    path = f"/v{spec.api_version}/api-tools/chat-tokenize/{model}"
    return WireRequest(path=path, body=body, api_version=spec.api_version)


def _check_text(text: object, what: str) -> str:
    if not isinstance(text, str):
        raise ClovaValidationError(f"{what} must be a string, got {type(text).__name__}.")
    if not text or text.isspace():
        state = "empty" if not text else f"only whitespace ({len(text):,} characters)"
        raise ClovaValidationError(
            f"{what} is {state}; CLOVA rejects it (40004 'Text empty'). Skip empty documents, "
            "and whitespace-only ones: keep the texts where text.strip() is not empty."
        )
    if not text.isascii():
        check_json_value(text, what)
    return text


def prepare_embedding(text: str, spec: EmbeddingModelSpec) -> WireRequest:
    """``POST /v1/api-tools/embedding/{path_segment}`` with ``{"text": text}`` (5.1, 5.2)."""
    _check_text(text, "The text to embed")
    # The bound is at most one token per LOWER_BOUND_CHARS_PER_TOKEN characters: shorter
    # texts cannot fail it, and skip its scan.
    short = len(text) // LOWER_BOUND_CHARS_PER_TOKEN <= spec.max_input_tokens
    lower = 0 if short else lower_bound_tokens(text)
    if lower > spec.max_input_tokens:
        raise ContextLimitError(
            f"The text to embed is at least {lower:,} tokens (a conservative local lower "
            f"bound; {len(text):,} characters), over {spec.name}'s limit of "
            f"{spec.max_input_tokens:,} tokens. Split it into smaller chunks"
            + (", or use bge-m3 (8,192 tokens)." if spec.max_input_tokens < 8_192 else "."),
            input_tokens=lower,
            max_input_tokens=spec.max_input_tokens,
            exact=False,
        )
    segment = check_path_segment("embedding model path", spec.path_segment)
    return WireRequest(
        path=f"/v1/api-tools/embedding/{segment}",
        body={"text": text},
        api_version=1,
        quota_text=text,
    )


def prepare_embedding_tokenize(text: str) -> WireRequest:
    """``POST /v1/api-tools/embedding/v2/tokenize`` with 1..10,000 characters (6.3)."""
    _check_text(text, "The text to count")
    if len(text) > EMBEDDING_TOKENIZE_MAX_CHARS:
        raise ClovaValidationError(
            f"The text to count is {len(text):,} characters; the embedding token calculator "
            f"accepts 1..{EMBEDDING_TOKENIZE_MAX_CHARS:,}. Count it in chunks and add the "
            "results."
        )
    return WireRequest(
        path="/v1/api-tools/embedding/v2/tokenize", body={"text": text}, api_version=1
    )
