"""Chat endpoints (native v1 / v3 / tuned tasks, token calculators) and the shared chat flow.

Flow of one chat call after parsing: QPM / TPM admission (TPM counts input plus the
requested output), the script, generation, then a JSON reply or a stream.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clova_emulator.api.native import parse_v1, parse_v3, tokenize_v1, tokenize_v3
from clova_emulator.api.render import native_json, native_stream
from clova_emulator.api.validation import resolve_model, resolve_task
from clova_emulator.behaviour.conversation import ChatCall, Reply
from clova_emulator.behaviour.replies import generate
from clova_emulator.scripting import (
    Endpoint,
    ScriptedDisconnect,
    ScriptedError,
    ScriptedRaw,
    ScriptedReply,
    ScriptItem,
)
from clova_emulator.serving.envelope import MESSAGES, EmulatedApiError, native_success
from clova_emulator.serving.sse import Frame, native_frame
from clova_emulator.state import (
    Ctx,
    DropConnection,
    JsonResponse,
    RawReply,
    RawResponse,
    Response,
    StreamResponse,
)


@dataclass(frozen=True)
class ChatWire:
    """How one API family writes a reply: JSON body, stream frames, in-stream error."""

    json: Callable[[Ctx, ChatCall, Reply], dict[str, Any]]
    stream: Callable[[Ctx, ChatCall, Reply], tuple[list[Frame], list[Frame]]]
    """(token frames, closing frames)."""
    error: Callable[[Ctx, str, str], Frame]


def _native_json(ctx: Ctx, call: ChatCall, reply: Reply) -> dict[str, Any]:
    return native_success(native_json(call, reply, ctx.knobs))


def _native_stream(ctx: Ctx, call: ChatCall, reply: Reply) -> tuple[list[Frame], list[Frame]]:
    tokens, result = native_stream(call, reply, ctx.knobs)
    closing = [result]
    if ctx.knobs.done_signal:
        closing.append(native_frame("signal", {"data": "[DONE]"}, space=ctx.knobs.sse_space))
    return tokens, closing


def _native_error(ctx: Ctx, code: str, message: str) -> Frame:
    return native_frame(
        "error", {"status": {"code": code, "message": message}}, space=ctx.knobs.sse_space
    )


NATIVE = ChatWire(json=_native_json, stream=_native_stream, error=_native_error)


def scripted_failure(item: ScriptedError) -> EmulatedApiError:
    """The :class:`EmulatedApiError` a scripted error stands for."""
    headers = dict(item.headers)
    if item.retry_after is not None:
        headers["Retry-After"] = f"{item.retry_after:g}"
    code = item.clova_code
    return EmulatedApiError(
        code, item.message or MESSAGES.get(code, "Error"), status=item.status, headers=headers
    )


def take_control(ctx: Ctx, kind: Endpoint, model: str) -> ScriptItem | None:
    """Take the next script item for this request; errors and raw replies raise, disconnects
    are returned."""
    item = ctx.state.script.take(kind, ctx.incoming.path, model)
    if isinstance(item, ScriptedError) and not (item.in_stream and kind == "chat"):
        raise scripted_failure(item)
    if isinstance(item, ScriptedRaw):
        raise RawReply(
            RawResponse(
                item.status, item.body, item.content_type, dict(item.headers), item.send_bytes
            )
        )
    return item


def serve_chat(ctx: Ctx, call: ChatCall, wire: ChatWire) -> Response:
    """Admission, script, generation and rendering of one validated chat call."""
    spec = call.spec
    headers = ctx.state.admit(spec.name, spec.qpm, spec.tpm, call.prompt_tokens + call.max_output)
    item = take_control(ctx, "chat", call.model)
    if isinstance(item, ScriptedDisconnect):
        return DropConnection()
    if isinstance(item, ScriptedError):
        if not call.stream:
            raise scripted_failure(item)
        tokens, _ = wire.stream(ctx, call, generate(call))
        message = item.message or MESSAGES.get(item.clova_code, "Error")
        frames = [*tokens[: item.after_events], wire.error(ctx, item.clova_code, message)]
        return StreamResponse(frames, headers=headers)
    scripted = item if isinstance(item, ScriptedReply) else None
    reply = generate(call, scripted)
    if not call.stream:
        return JsonResponse(200, wire.json(ctx, call, reply), "20000", headers)
    tokens, closing = wire.stream(ctx, call, reply)
    cut_after = scripted.cut_after if scripted and scripted.cut_after is not None else None
    if cut_after is None:
        cut_after = ctx.knobs.cut_stream_after
    return StreamResponse([*tokens, *closing], headers=headers, cut_after=cut_after)


def chat_v1(ctx: Ctx) -> Response:
    """``POST /v1/chat-completions/{model}``."""
    model = ctx.params["model"]
    spec = resolve_model(model, 1, ctx.state.registry)
    call = parse_v1(ctx.body, spec, model, tuned=False)
    call.stream = ctx.wants_stream
    return serve_chat(ctx, call, NATIVE)


def chat_v3(ctx: Ctx) -> Response:
    """``POST /v3/chat-completions/{model}``."""
    model = ctx.params["model"]
    spec = resolve_model(model, 3, ctx.state.registry)
    call = parse_v3(ctx.body, spec, model, tuned=False)
    call.stream = ctx.wants_stream
    return serve_chat(ctx, call, NATIVE)


def chat_task(ctx: Ctx) -> Response:
    """``/v1|v2/tasks/{id}/chat-completions`` (v1 body) and ``/v3/tasks/{id}/...`` (v3 body)."""
    task_id = ctx.params["task"]
    version = 3 if ctx.params["version"] == "3" else 1
    spec = resolve_task(task_id, version, ctx.state.tasks(), ctx.state.registry)
    if version == 1:
        call = parse_v1(ctx.body, spec, task_id, tuned=True)
    else:
        call = parse_v3(ctx.body, spec, task_id, tuned=True)
    call.stream = ctx.wants_stream
    return serve_chat(ctx, call, NATIVE)


def chat_tokenize(ctx: Ctx) -> Response:
    """``/v1|v3/api-tools/chat-tokenize/{model}``."""
    model = ctx.params["model"]
    version = int(ctx.params["version"])
    resolve_model(model, version, ctx.state.registry)
    result = tokenize_v1(ctx.body) if version == 1 else tokenize_v3(ctx.body)
    if isinstance(take_control(ctx, "tokenize", model), ScriptedDisconnect):
        return DropConnection()
    return JsonResponse(200, native_success(result), "20000")
