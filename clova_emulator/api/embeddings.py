"""Embeddings and the embedding token calculator (6.3).

Vectors have 1024 dimensions and reflect lexical similarity: hashed features of lower-cased
words (Hangul words with particles stripped), character trigrams of ASCII words and Hangul
syllable unigrams / bigrams, each added with a hashed sign to two buckets. bge-m3 and
clir-sts-dolphin vectors are L2-normalised (cosine models); clir-emb-dolphin vectors are not
(an inner-product model, like the real one): their norm grows slowly with the text.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from clova_emulator.api.chat import take_control
from clova_emulator.behaviour.text import strip_particle, words
from clova_emulator.behaviour.tokenizer import count_tokens, is_hangul
from clova_emulator.limits import EMBEDDING_MODELS, EmbeddingModelSpec
from clova_emulator.scripting import ScriptedDisconnect, ScriptedEmbedding
from clova_emulator.serving.envelope import EmulatedApiError, invalid, native_success
from clova_emulator.state import Ctx, DropConnection, JsonResponse, Response

DIMENSIONS = 1024
MAX_TOKENIZE_CHARS = 10_000
_SEGMENTS = {spec.path_segment: spec for spec in EMBEDDING_MODELS.values()}
_NORMALISED = frozenset({"bge-m3", "clir-sts-dolphin"})


def _features(text: str) -> dict[str, float]:
    """Feature name -> weight. A weight is its step added once per occurrence, starting
    from ``0.0`` (so the float sums are those of the original ``defaultdict`` loop)."""
    features: dict[str, float] = {}
    get = features.get
    for word in words(text.lower()):
        # A word is a run of Hangul syllables or of ASCII letters / digits (text.words), so
        # its first character tells which.
        if is_hangul(word[0]):
            stem = strip_particle(word)
            key = "w:" + stem
            features[key] = get(key, 0.0) + 1.0
            for char in stem:
                key = "h1:" + char
                features[key] = get(key, 0.0) + 0.3
            for index in range(len(stem) - 1):
                key = "h2:" + stem[index : index + 2]
                features[key] = get(key, 0.0) + 0.7
            continue
        key = "w:" + word
        features[key] = get(key, 0.0) + 1.0
        padded = "^" + word + "$"
        for index in range(len(padded) - 2):
            key = "c3:" + padded[index : index + 3]
            features[key] = get(key, 0.0) + 0.4
    if not features:
        for char in text:
            if not char.isspace():
                key = "ch:" + char
                features[key] = get(key, 0.0) + (1.0 if is_hangul(char) else 0.5)
    return features


_BLAKE2B_8 = hashlib.blake2b(digest_size=8)
"""The initial state of an 8-byte blake2b: ``copy()`` + ``update()`` gives the digest of
``blake2b(data, digest_size=8)`` without parsing the keyword parameters for every feature
(a constant; nothing about any input is kept)."""


def _buckets(features: dict[str, float]) -> dict[int, float]:
    """Signed feature weights summed into the buckets they hash to (only touched buckets).

    Each feature's 8-byte blake2b digest, read as one big-endian integer: bytes 0-2 and 3-5
    pick two buckets, the low bits of bytes 6 and 7 their signs. Features are added in sorted
    order, so every bucket sums its terms in the same order whatever the input dict's order.
    As ``DIMENSIONS`` is 1024, a 24-bit number modulo it is the low 2 bits of its middle
    byte and its last byte, which is how the buckets are read off the digest bytes.
    """
    sums: dict[int, float] = {}
    get = sums.get
    initial = _BLAKE2B_8
    for feature in sorted(features):
        weight = features[feature]
        hasher = initial.copy()
        hasher.update(feature.encode())
        digest = hasher.digest()
        first = (digest[1] & 3) << 8 | digest[2]
        second = (digest[4] & 3) << 8 | digest[5]
        sums[first] = get(first, 0.0) + (weight if digest[6] & 1 else -weight)
        sums[second] = get(second, 0.0) + (weight if digest[7] & 1 else -weight) * 0.5
    return sums


_TIE_MARGIN = 2.0**-50
"""Relative margin around a rounding tie within which :func:`_rounded` defers to ``round``
(the product ``x * 1e7`` is off the exact one by at most 2**-53 relative)."""
_EXACT_LIMIT = 2.0**52
"""Integers up to here are exact doubles (larger products also defer to ``round``)."""


def _rounded(totals: list[float], scale: float) -> tuple[float, ...]:
    """``tuple(round(total * scale, 7) for total in totals)``, the same floats, cheaper.

    ``round(x, 7)`` formats ``x`` correctly rounded to 7 decimals and parses that back, i.e.
    it returns the double nearest to ``n / 10**7`` where ``n`` is the integer nearest to the
    exact ``x * 10**7``. Here ``y = x * 1e7`` is that product rounded once; unless ``y``
    lies within the product's error of a half-integer, ``round(y)`` is that same ``n``, and
    ``n / 1e7`` (both exact doubles, one correctly rounded division) is the same double
    (``-0.0`` when a negative ``x`` rounds to zero). Near a tie, or for huge / non-finite
    values, ``round(x, 7)`` itself is used.
    """
    values: list[float] = []
    append = values.append
    for total in totals:
        x = total * scale
        y = x * 1e7
        if not abs(y) < _EXACT_LIMIT:
            append(round(x, 7))
            continue
        n = round(y)
        if abs(abs(y - n) - 0.5) <= abs(y) * _TIE_MARGIN:
            append(round(x, 7))
        elif n:
            append(n / 1e7)
        else:
            append(math.copysign(0.0, x))
    return tuple(values)


def vector(text: str, model: str) -> list[float]:
    """The deterministic embedding of ``text`` for ``model``."""
    features = _features(text)
    sums = _buckets(features)
    # Only the touched buckets are non-zero: summing and rounding just those (in index
    # order) gives the same floats as doing it over all 1024, several times faster.
    indices = sorted(sums)
    totals = [sums[index] for index in indices]
    norm = math.sqrt(sum([total * total for total in totals])) or 1.0
    scale = 1.0 / norm
    if model not in _NORMALISED:
        scale *= 4.0 + math.log1p(len(features))
    values = [0.0] * DIMENSIONS
    for index, value in zip(indices, _rounded(totals, scale), strict=True):
        values[index] = value
    return values


def check_text(text: Any, spec: EmbeddingModelSpec, key: str = "text") -> int:
    """Validate one input; returns its token count (40001 / 40004 / 40003 otherwise)."""
    if not isinstance(text, str):
        raise invalid(f"{key} must be a string")
    if not text.strip():
        raise EmulatedApiError("40004")
    tokens = count_tokens(text)
    if tokens > spec.max_input_tokens:
        raise EmulatedApiError(
            "40003",
            f"Context length exceeded: {tokens} tokens > {spec.max_input_tokens} for {spec.name}",
        )
    return tokens


def embed_one(
    ctx: Ctx, spec: EmbeddingModelSpec, text: str, tokens: int
) -> tuple[list[float], int] | None:
    """Vector and token count for one text (a scripted vector wins); ``None`` = disconnect."""
    item = take_control(ctx, "embedding", spec.name)
    if isinstance(item, ScriptedDisconnect):
        return None
    if isinstance(item, ScriptedEmbedding):
        counted = item.input_tokens if item.input_tokens is not None else tokens
        return [float(value) for value in item.vector], counted
    return vector(text, spec.name), tokens


def embedding(ctx: Ctx) -> Response:
    """``/v1/api-tools/embedding/{clir-emb-dolphin|clir-sts-dolphin|v2}[/{appId}]``."""
    spec = _SEGMENTS.get(ctx.params["segment"])
    if spec is None:
        raise EmulatedApiError("40080", f"Model not found: {ctx.params['segment']}")
    tokens = check_text(ctx.body.get("text"), spec)
    headers = ctx.state.admit(spec.name, spec.qpm, spec.tpm, tokens)
    result = embed_one(ctx, spec, ctx.body["text"], tokens)
    if result is None:
        return DropConnection()
    values, counted = result
    body = native_success({"embedding": values, "inputTokens": counted})
    return JsonResponse(200, body, "20000", headers)


def embedding_tokenize(ctx: Ctx) -> Response:
    """``/v1/api-tools/embedding/v2/tokenize``: ``{"numTokens": n}``."""
    text = ctx.body.get("text")
    if not isinstance(text, str) or not 1 <= len(text) <= MAX_TOKENIZE_CHARS:
        raise invalid(f"text must be a string of 1 to {MAX_TOKENIZE_CHARS} characters")
    if isinstance(take_control(ctx, "tokenize", "bge-m3"), ScriptedDisconnect):
        return DropConnection()
    return JsonResponse(200, native_success({"numTokens": count_tokens(text)}), "20000")
