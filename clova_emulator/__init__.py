"""A faithful local CLOVA Studio server for tests, notebooks, demos and your CI (stdlib only).

It is a separate package from the client: it imports nothing of it and keeps its own copy of
the documented model limits (:mod:`clova_emulator.limits`; the test suite checks that the
two copies agree). Folders by role: ``serving`` (HTTP, routing, auth, envelopes, SSE
framing), ``api`` (one module per endpoint family and its validation), ``behaviour`` (what
the models answer: tokens, replies, tool calls, structured output, RAG, embeddings' text).

Start it three ways, then point a client at it (``CLOVASTUDIO_API_BASE_URL`` and the key
``test-key``)::

    clova-emulator --port 8080                         # or python -m clova_emulator
    with Emulator() as emu:                            # port 0 picks a free port
        client = ClovaClient(api_key="test-key", base_url=emu.base_url)
    def test_x(clova_emulator_env): ...                # the pytest plugin's fixtures

The command line prints its base URLs and serves until Ctrl-C; a bad value, a port in use
or an address it cannot bind ends with one line on stderr saying what to change and a
non-zero exit status (``clova-emulator --help`` lists every knob).

**pytest plugin** (:mod:`clova_emulator.pytest_plugin`, registered under pytest's ``pytest11``
entry point as ``clova_emulator``, so installing the package is enough): ``clova_emulator``
(one emulator per session), ``clova_emu`` (the same, reset before and after each test) and
``clova_emulator_env`` (``clova_emu`` with ``CLOVASTUDIO_API_KEY=test-key`` and
``CLOVASTUDIO_API_BASE_URL`` set through ``monkeypatch``). Override ``clova_emulator`` in your
``conftest.py`` to start it with other knobs; ``-p no:clova_emulator`` turns the plugin off.

What it serves (``/testapp`` and ``/serviceapp`` prefixes accepted):

* chat v1 ``/v1/chat-completions/{HCX-003|HCX-DASH-001}`` and v3
  ``/v3/chat-completions/{HCX-005|HCX-DASH-002|HCX-007}``, JSON or SSE by
  ``Accept: text/event-stream``; tuned tasks ``/v1|v2/tasks/{id}/chat-completions`` (v1
  bodies) and ``/v3/tasks/{id}/chat-completions`` registered with ``register_task``;
* embeddings ``/v1/api-tools/embedding/{clir-emb-dolphin|clir-sts-dolphin|v2}`` (trailing
  slash and legacy ``/{appId}`` accepted); token calculators
  ``/v1|v3/api-tools/chat-tokenize/{model}`` and ``/v1/api-tools/embedding/v2/tokenize``;
* the toolkit: ``/v1/api-tools/segmentation``, ``/v1/api-tools/reranker``,
  ``/v1/api-tools/summarization/v2`` and ``/v1/api-tools/rag-reasoning``;
* the OpenAI-compatible API: ``/v1/openai/chat/completions`` (JSON and ``data:`` streams
  ending in ``[DONE]``), ``/v1/openai/embeddings``, ``/v1/openai/models``.

Validation: Bearer or legacy two-header auth (401 / 40104); v1 and v3 parameter ranges
(40001); model capabilities (40009), model/API mismatch (40084), unknown model (40080),
unknown task (404 / 40400); token limits (40003); mutual exclusions (thinking with tools /
responseFormat / stop / images, ``maxTokens`` with ``maxCompletionTokens``, tools under 1024
output tokens, two system messages, ``thinkingContent`` sent back; 40001); image counts,
formats, sizes and ratios read from the image headers (40000 / 40003 / 40060 / 40061 /
40063); ``pattern`` in a schema (40055); OpenAI-only unsupported fields (40002). Errors
carry the native ``{"status": ...}`` or OpenAI ``{"error": ...}`` envelope.

Deterministic behaviour:

* **Tokens** (``behaviour/tokenizer.py``): Hangul/CJK char = 1, ASCII letter run =
  ceil(n/4), digit run = ceil(n/3), other non-space char = 1, whitespace free; +3 per chat
  message; 1478 per image. Used for every count reported (usage, calculators,
  ``inputTokens``, TPM), so they agree.
* **Replies** (``behaviour/replies.py`` and its neighbours): tool calls when tools are
  offered and the turn calls for one (best lexical match of name/description; arguments
  filled from the request per the JSON schema; a second matching tool after the first one's
  result; text from the tool results otherwise; ``toolChoice`` honoured); structured output
  valid against the schema; RAG answers quoting the passage that best matches the question;
  otherwise a short reply built from the request's key words (Korean for Korean input).
  HCX-007 thinking comes first and grows with the effort. Stop sequences cut the content;
  the output budget truncates with ``finish_reason`` / ``stopReason`` ``length``. ``seed``
  is echoed (derived from the body when 0); ``created`` is in ms by default.
* **Embeddings** (``api/embeddings.py``): 1024 floats from hashed words, character trigrams
  and Hangul syllable n-grams, so lexically similar texts are close; clir-emb-dolphin vectors
  are not normalised, clir-sts-dolphin and bge-m3 vectors are.
* **Streams** (``api/render.py``, ``serving/sse.py``): one token per event, tool calls as a
  header event then ``partialJson`` pieces, a final ``result`` with the full message and
  usage; no-space ``id:/event:/data:`` lines with a uuid per event by default.

Knobs (:class:`Knobs`; constructor keywords, ``--flags`` or ``emu.configure(...)``): accepted
keys, latency, per-token pacing, QPM / TPM limits (429 / 42901 with ``Retry-After`` and
``x-ratelimit-*`` headers, **emulator-invented**: the docs name none), injected 429 / 500 /
503 rates from a seeded RNG (``Retry-After`` on injected 429 / 503 optional), connection
resets, streams cut after N events, malformed bodies, ``created`` unit, v1 ``stopReason``
casing, SSE space after the colon, a trailing ``signal`` ``[DONE]``. ``emu.script(...)``
dictates the next replies exactly (:class:`ScriptedReply`, :class:`ScriptedError`,
:class:`ScriptedDisconnect`, :class:`ScriptedEmbedding`, :class:`ScriptedRaw` for verbatim
bytes); ``emu.requests`` / ``emu.stats`` record what arrived (request id, parsed body,
status; never credentials), the most recent ``request_log_size`` requests (10,000 by default).

A misbehaving client cannot take it down: request bodies over the documented 50 MB answer
413 / 41300 whether sent with ``Content-Length`` or chunked (chunked bodies are read
properly); a connection whose client sends nothing for ``read_timeout`` seconds (5 by
default) is closed; JSON nested deeper than 100 levels answers 400 / 40000; the request log
is bounded.

What it does **not** imitate: the real models' language ability and the real tokenizer
(counts differ from the service's); the AI filter's judgement (always score "2"); image
downloads (URLs are not fetched); the router, skillset, sliding-window and tuning-management
APIs; the per-account (rather than per-emulator) scope of rate limits; details the
documentation leaves open (rate-limit header names, when ``signal`` events are sent,
OpenAI-compatible stream details), where it makes a documented, configurable choice instead.
"""

from __future__ import annotations

from clova_emulator.app import Emulator
from clova_emulator.behaviour.tokenizer import count_tokens
from clova_emulator.faults import Knobs, RateSetting
from clova_emulator.observe import RequestRecord, Stats
from clova_emulator.scripting import (
    ScriptedDisconnect,
    ScriptedEmbedding,
    ScriptedError,
    ScriptedRaw,
    ScriptedReply,
    ScriptItem,
)

__all__ = [
    "Emulator",
    "Knobs",
    "RateSetting",
    "RequestRecord",
    "ScriptItem",
    "ScriptedDisconnect",
    "ScriptedEmbedding",
    "ScriptedError",
    "ScriptedRaw",
    "ScriptedReply",
    "Stats",
    "count_tokens",
]
