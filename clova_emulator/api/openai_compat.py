"""The OpenAI-compatible API under ``/v1/openai``.

Chat replies follow OpenAI's ``chat.completion`` shape plus CLOVA's top-level ``seed`` and
``choices[0].message.thinking_content`` (HCX-007); ``created`` follows the ``created_unit``
knob (milliseconds by default, like the langchain-naver fixture). Tool-call ``arguments``
are JSON *strings* here. Streams are standard ``chat.completion.chunk`` lines ending with
``data: [DONE]`` [GAP in the docs; assumed standard]: a role chunk, ``thinking_content``
deltas, ``content`` deltas, ``tool_calls`` deltas (``index``, then ``id``/``name`` with empty
``arguments``, then argument pieces), and a final chunk with ``finish_reason`` and ``usage``.
Embeddings accept a string or a list of strings with ``encoding_format`` ``float`` (the
default, and the only documented value). ``base64``, which the OpenAI SDK asks for unless
told otherwise, answers 400 / 40001 as the service does: callers must pass
``encoding_format="float"``.
"""

from __future__ import annotations

import uuid
from typing import Any

from clova_emulator.api.chat import ChatWire, serve_chat
from clova_emulator.api.embeddings import check_text, embed_one
from clova_emulator.api.openai_parse import parse_chat, reject_unsupported
from clova_emulator.api.render import created_now
from clova_emulator.behaviour.conversation import CallOut, ChatCall, Reply
from clova_emulator.behaviour.tokenizer import token_pieces
from clova_emulator.limits import EMBEDDING_MODELS
from clova_emulator.serving.envelope import EmulatedApiError, invalid, openai_error
from clova_emulator.serving.sse import Frame, openai_done, openai_frame
from clova_emulator.state import Ctx, DropConnection, JsonResponse, Response

MODEL_CREATED = 1_744_156_800
"""A fixed ``created`` for ``/models`` entries (the listing's payload is undocumented [GAP])."""


def _usage(reply: Reply) -> dict[str, Any]:
    value: dict[str, Any] = {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
    }
    if reply.thinking_tokens is not None:
        value["completion_tokens_details"] = {"reasoning_tokens": reply.thinking_tokens}
    return value


def _tool_call(tool_call: CallOut) -> dict[str, Any]:
    return {
        "id": tool_call.id,
        "type": "function",
        "function": {"name": tool_call.name, "arguments": tool_call.arguments_json()},
    }


def _completion_json(ctx: Ctx, call: ChatCall, reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.thinking is not None:
        message["thinking_content"] = reply.thinking
    if reply.tool_calls:
        message["tool_calls"] = [_tool_call(tool_call) for tool_call in reply.tool_calls]
    return {
        "id": uuid.uuid4().hex,
        "object": "chat.completion",
        "created": created_now(ctx.knobs),
        "model": call.model,
        "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
        "usage": _usage(reply),
        "seed": call.seed,
    }


def _completion_stream(ctx: Ctx, call: ChatCall, reply: Reply) -> tuple[list[Frame], list[Frame]]:
    ident, created = uuid.uuid4().hex, created_now(ctx.knobs)

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> Frame:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        data = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": call.model,
            "choices": [choice],
            "seed": call.seed,
            **extra,
        }
        return openai_frame(data)

    frames = [chunk({"role": "assistant", "content": ""})]
    frames.extend(
        chunk({"thinking_content": piece}) for piece in token_pieces(reply.thinking or "")
    )
    frames.extend(chunk({"content": piece}) for piece in token_pieces(reply.content))
    for index, tool_call in enumerate(reply.tool_calls):
        header = {
            "index": index,
            "id": tool_call.id,
            "type": "function",
            "function": {"name": tool_call.name, "arguments": ""},
        }
        frames.append(chunk({"tool_calls": [header]}))
        frames.extend(
            chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            for piece in token_pieces(tool_call.arguments_json())
        )
    closing = [chunk({}, reply.finish_reason, usage=_usage(reply)), openai_done()]
    return frames, closing


def _stream_error(ctx: Ctx, code: str, message: str) -> Frame:
    return openai_frame(openai_error(code, message))


OPENAI = ChatWire(json=_completion_json, stream=_completion_stream, error=_stream_error)


def chat_completions(ctx: Ctx) -> Response:
    """``POST /v1/openai/chat/completions``."""
    call = parse_chat(ctx.body, ctx.state.registry)
    return serve_chat(ctx, call, OPENAI)


def embeddings(ctx: Ctx) -> Response:
    """``POST /v1/openai/embeddings``: one or more inputs, float encoding only."""
    body = ctx.body
    reject_unsupported(body, ("user",))
    model = body.get("model")
    spec = EMBEDDING_MODELS.get(model) if isinstance(model, str) else None
    if spec is None:
        raise EmulatedApiError("40080", f"Model not found: {model}")
    if body.get("dimensions") is not None and body.get("dimensions") != spec.dimensions:
        raise invalid(f"dimensions must be {spec.dimensions}")
    encoding = body.get("encoding_format")
    if encoding is not None and encoding != "float":
        raise invalid(
            f"encoding_format {encoding!r} is not supported: only float "
            '(with the OpenAI SDK pass encoding_format="float")'
        )
    raw = body.get("input")
    texts = [raw] if isinstance(raw, str) else raw
    if not isinstance(texts, list) or not texts:
        raise invalid("input must be a string or a non-empty array of strings")
    counts = [check_text(text, spec, key="input") for text in texts]
    headers = ctx.state.admit(spec.name, spec.qpm, spec.tpm, sum(counts))
    data: list[dict[str, Any]] = []
    total = 0
    for index, (text, tokens) in enumerate(zip(texts, counts, strict=True)):
        result = embed_one(ctx, spec, text, tokens)
        if result is None:
            return DropConnection()
        values, counted = result
        total += counted
        data.append({"object": "embedding", "index": index, "embedding": values})
    reply = {
        "object": "list",
        "data": data,
        "model": spec.name,
        "usage": {"prompt_tokens": total, "total_tokens": total},
    }
    return JsonResponse(200, reply, "20000", headers)


def _model_entries(ctx: Ctx) -> list[dict[str, Any]]:
    names = [*ctx.state.registry, *EMBEDDING_MODELS]
    return [
        {"id": name, "object": "model", "created": MODEL_CREATED, "owned_by": "naver"}
        for name in names
    ]


def models(ctx: Ctx) -> Response:
    """``GET /v1/openai/models``: ``{"object": "list", "data": [...]}`` [INF]."""
    return JsonResponse(200, {"object": "list", "data": _model_entries(ctx)}, "20000")


def model(ctx: Ctx) -> Response:
    """``GET /v1/openai/models/{id}``."""
    for entry in _model_entries(ctx):
        if entry["id"] == ctx.params["model"]:
            return JsonResponse(200, entry, "20000")
    raise EmulatedApiError("40400", f"Not found: model {ctx.params['model']}", status=404)
