"""Batch embedding, used by both framework integrations.

CLOVA embeds one text per request, so a batch is many requests. Here:

* every text is validated **once**, all of them before the first request is sent
  (:func:`prepare_texts`); the prepared requests are then sent as they are;
* at most ``max_concurrency`` requests are in flight (threads for sync code, tasks under a
  semaphore for async code, :mod:`clova_core.fanout`), results keep the input order, and
  each request runs in a copy of the caller's ``contextvars`` context;
* ``progress(1)`` is called as each text finishes (a ``tqdm`` bar's ``update`` fits);
* the first failure stops the texts not yet sent; the requests in flight finish; then the
  error of the **earliest failed text in input order** is raised, in sync and async code
  alike. It is the core's own typed error (``RateLimitError``, ``ContextLimitError``, ...)
  with the text named: its message starts ``texts[17] (of 200):``, its ``index`` attribute
  is ``17`` and its ``partial_results`` attribute lists every finished
  :class:`~clova_core.types.EmbeddingResult` by position (``None`` for the texts that
  failed or were not sent), so finished work need not be paid for twice.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from clova_core.errors import APIError, ClovaError, ClovaValidationError
from clova_core.fanout import Outcome, fan_out_tasks, fan_out_threads
from clova_core.models import EmbeddingModelSpec
from clova_core.request import WireRequest, prepare_embedding
from clova_core.response import parse_embedding
from clova_core.types import EmbeddingResult

if TYPE_CHECKING:
    from clova_core.client import AsyncClovaClient, ClovaClient

_Error = TypeVar("_Error", bound=BaseException)

Progress = Callable[[int], object]
"""Called with ``1`` as each text finishes (``tqdm.update`` fits)."""


def naming_text(
    error: _Error,
    index: int,
    total: int,
    partial_results: Sequence[EmbeddingResult | None] | None = None,
) -> _Error:
    """``error`` (same object, same type) with the failing text's position in its message
    (in a batch of several) and in ``index`` / ``partial_results`` attributes. Errors that
    are not a ``ClovaError`` (an interrupt, a bug) are returned unchanged."""
    if isinstance(error, ClovaError) and error.index is None:
        prefix = f"texts[{index}] (of {total}): " if total > 1 else ""
        if prefix and error.args:
            error.args = (f"{prefix}{error.args[0]}", *error.args[1:])
        if prefix and isinstance(error, APIError):
            error.message = f"{prefix}{error.message}"
        error.index = index
        error.partial_results = list(partial_results) if partial_results is not None else None
    return error


def prepare_texts(texts: Sequence[str], spec: EmbeddingModelSpec) -> list[WireRequest]:
    """The requests for ``texts``, each text validated once (empty, not a string, over the
    model's input limit): the first bad text raises, naming its index, before any is sent."""
    wires: list[WireRequest] = []
    for index, text in enumerate(texts):
        try:
            wires.append(prepare_embedding(text, spec))
        except ClovaValidationError as error:
            raise naming_text(error, index, len(texts)) from None
    return wires


class LoopSemaphores:
    """One ``asyncio.Semaphore(limit)`` per event loop, so concurrent batches of one object
    share their bound. Copies and pickles start empty (a semaphore belongs to its loop)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._by_loop = weakref.WeakKeyDictionary()

    def __reduce__(self) -> tuple[type[LoopSemaphores], tuple[int]]:
        return (LoopSemaphores, (self.limit,))

    def __deepcopy__(self, memo: dict[int, object]) -> LoopSemaphores:
        return LoopSemaphores(self.limit)

    def for_running_loop(self) -> asyncio.Semaphore:
        """The running loop's semaphore (built on first use in that loop)."""
        loop = asyncio.get_running_loop()
        # A semaphore that waited holds its loop, so the weak mapping never drops finished
        # loops by itself (each ``asyncio.run`` adds one): drop them here.
        for closed in [other for other in self._by_loop if other.is_closed()]:
            del self._by_loop[closed]
        semaphore = self._by_loop.get(loop)
        if semaphore is None:
            semaphore = self._by_loop[loop] = asyncio.Semaphore(self.limit)
        return semaphore


def _request_id() -> str:
    return uuid.uuid4().hex


def embed_prepared(
    client: ClovaClient,
    wires: Sequence[WireRequest],
    spec: EmbeddingModelSpec,
    *,
    max_concurrency: int,
    progress: Progress | None = None,
    before_send: Callable[[int], object] | None = None,
    positions: Sequence[int] | None = None,
    total: int | None = None,
) -> list[EmbeddingResult]:
    """Send prepared embedding requests, at most ``max_concurrency`` at a time, in order.
    ``before_send(i)`` runs just before request ``i`` is sent (in its worker thread).
    ``positions`` / ``total``: where these requests sit in a larger list of texts (an error
    then names that position), when a framework hands the batch over in slices."""

    def one(item: tuple[int, WireRequest]) -> EmbeddingResult:
        index, wire = item
        if before_send is not None:
            before_send(index)
        rid = _request_id()
        result = parse_embedding(client._post(wire, rid), model=spec.name, request_id=rid)
        if progress is not None:
            progress(1)
        return result

    outcome = fan_out_threads(
        one, list(enumerate(wires)), workers=max_concurrency, thread_name_prefix="clova-embed"
    )
    return _results(outcome, positions, total)


async def aembed_prepared(
    client: AsyncClovaClient,
    wires: Sequence[WireRequest],
    spec: EmbeddingModelSpec,
    *,
    semaphore: asyncio.Semaphore,
    progress: Progress | None = None,
    before_send: Callable[[int], Awaitable[object]] | None = None,
    positions: Sequence[int] | None = None,
    total: int | None = None,
) -> list[EmbeddingResult]:
    """Async twin of :func:`embed_prepared`; ``semaphore`` bounds the requests in flight
    (share one between concurrent batches to bound them together)."""

    async def one(item: tuple[int, WireRequest]) -> EmbeddingResult:
        index, wire = item
        if before_send is not None:
            await before_send(index)
        rid = _request_id()
        reply = await client._post(wire, rid)
        result = parse_embedding(reply, model=spec.name, request_id=rid)
        if progress is not None:
            progress(1)
        return result

    outcome = await fan_out_tasks(one, list(enumerate(wires)), semaphore=semaphore)
    return _results(outcome, positions, total)


def embed_texts(
    client: ClovaClient,
    texts: Sequence[str],
    spec: EmbeddingModelSpec,
    *,
    max_concurrency: int,
    progress: Progress | None = None,
) -> list[EmbeddingResult]:
    """Validate ``texts`` (all first), then embed them: :func:`prepare_texts` plus
    :func:`embed_prepared`."""
    wires = prepare_texts(texts, spec)
    return embed_prepared(client, wires, spec, max_concurrency=max_concurrency, progress=progress)


async def aembed_texts(
    client: AsyncClovaClient,
    texts: Sequence[str],
    spec: EmbeddingModelSpec,
    *,
    max_concurrency: int,
    progress: Progress | None = None,
) -> list[EmbeddingResult]:
    """Async twin of :func:`embed_texts` (its own bound of ``max_concurrency``)."""
    wires = prepare_texts(texts, spec)
    return await aembed_prepared(
        client, wires, spec, semaphore=asyncio.Semaphore(max_concurrency), progress=progress
    )


def _results(
    outcome: Outcome[EmbeddingResult], positions: Sequence[int] | None, total: int | None
) -> list[EmbeddingResult]:
    index = outcome.failed_index
    if outcome.error is not None and index is not None:
        position = positions[index] if positions is not None else index
        count = total if total is not None else len(outcome.results)
        raise naming_text(outcome.error, position, count, outcome.results)
    return outcome.unwrap()


__all__ = [
    "LoopSemaphores",
    "Progress",
    "aembed_prepared",
    "aembed_texts",
    "embed_prepared",
    "embed_texts",
    "naming_text",
    "prepare_texts",
]
