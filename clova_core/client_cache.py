"""The cache of core clients behind one framework object (a LangChain model, a LlamaIndex LLM).

:class:`ClientCache` holds the clients built from an object's connection settings and
rebuilds them when the settings change (an assignment, ``model_copy(update=...)``), when the
process forked (a child never reuses its parent's connections), and after ``close()``.
A copy, a deep copy or an unpickled object starts with an empty cache of its own.

:class:`ClientPool` is what one set of settings builds: one sync
:class:`~clova_core.client.ClovaClient`, built on first use and then shared by every call
and thread, so connections are pooled. Async clients are kept one per event loop: an httpx
async connection pool belongs to the loop that opened it, and framework code often runs
``asyncio.run`` several times in one process. A caller's own async httpx client is used for
every loop, as given. Building a client resolves the API key and base URL (the argument,
else ``CLOVASTUDIO_API_KEY`` / ``CLOVASTUDIO_API_BASE_URL``), so a missing key is a
:class:`~clova_core.errors.ClovaConfigurationError` then.

A loop's client closes its connections when that loop shuts down (``asyncio.run`` and every
``loop.shutdown_asyncgens()``), so ``asyncio.run(model.ainvoke(...))`` in a loop leaves no
socket behind; it would otherwise keep one connection open per finished loop for the life
of the model (the client references its loop, so a weak mapping alone never lets go).

httpx and the clients are imported when the first client is built, not with this module:
the framework classes import it, and importing them should not cost an HTTP stack.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import weakref
from collections.abc import AsyncGenerator, Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, SecretStr

from clova_core.constants import DEFAULT_MAX_RETRIES
from clova_core.quota import QuotaLimiter
from clova_core.retry import RetryPolicy

if TYPE_CHECKING:
    import httpx

    from clova_core.client import AsyncClovaClient, ClovaClient


def _httpx_instance(kind: str) -> AfterValidator:
    def check(value: Any) -> Any:
        if value is None:
            return None
        import httpx

        if not isinstance(value, getattr(httpx, kind)):
            raise ValueError(f"expected an httpx.{kind} (or None), got {type(value).__name__}")
        return value

    return AfterValidator(check)


HttpClient = Annotated[Any, _httpx_instance("Client")]
"""A pydantic field type for a caller's ``httpx.Client`` that does not import httpx until a
value is given."""
AsyncHttpClient = Annotated[Any, _httpx_instance("AsyncClient")]
"""The same for an ``httpx.AsyncClient``."""


class ClientPool:
    """Sync and per-event-loop async clients sharing one configuration (including one
    ``rate_limiter`` and one ``retry_policy``)."""

    def __init__(
        self,
        *,
        api_key: str | SecretStr | None = None,
        apigw_api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
        rate_limiter: QuotaLimiter | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self._options: dict[str, Any] = {
            "api_key": api_key,
            "apigw_api_key": apigw_api_key,
            "base_url": base_url,
            "timeout": timeout,
            "max_retries": max_retries,
            "default_headers": default_headers,
            "rate_limiter": rate_limiter,
            "retry_policy": retry_policy,
        }
        self._http_client = http_client
        self._async_http_client = async_http_client
        self._lock = threading.Lock()
        self._sync: ClovaClient | None = None
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClient] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return f"ClientPool(base_url={self._options['base_url']!r})"

    @property
    def sync(self) -> ClovaClient:
        """The sync client (built on first use)."""
        with self._lock:
            if self._sync is None:
                from clova_core.client import ClovaClient

                self._sync = ClovaClient(**self._options, http_client=self._http_client)
            return self._sync

    def for_running_loop(self) -> AsyncClovaClient:
        """The async client of the running event loop (built on first use in that loop)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            for closed in [other for other in self._async if other.is_closed()]:
                self._async.pop(closed).abandon()
            entry = self._async.get(loop)
            if entry is None:
                from clova_core.client import AsyncClovaClient

                client = AsyncClovaClient(**self._options, http_client=self._async_http_client)
                entry = self._async[loop] = _LoopClient(client)
            return entry.client

    def close(self) -> None:
        """Close the sync client's connections (a caller's ``http_client`` stays open).
        Async clients need :meth:`aclose` from their own event loop."""
        with self._lock:
            client, self._sync = self._sync, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close the running loop's async client and the sync client."""
        self.close()
        with self._lock:
            entry = self._async.pop(asyncio.get_running_loop(), None)
        if entry is not None:
            await entry.aclose()


class ClientCache:
    """The :class:`ClientPool` of one framework object, keyed on its connection settings.

    :meth:`get` returns the pool built for ``key`` (a hashable snapshot of the settings,
    the key included as a ``SecretStr``), building a new one when the key differs from the
    last call: an object whose ``api_key`` or ``base_url`` was changed never sends with the
    old ones. A pool replaced that way is not closed at once (a call may still be using it);
    :meth:`close` / :meth:`aclose` close it with the current one.

    After ``os.fork()`` the child finds the process id changed and starts from nothing: the
    parent's connections (and a lock another thread may have held at the fork) are dropped
    without being closed, so the parent's sockets stay intact and the child opens its own.

    ``copy.copy``, ``copy.deepcopy`` and ``pickle`` give an empty cache: a copy never shares
    another object's connections and a pickle carries none.
    """

    def __init__(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._key: Hashable = None
        self._pool: ClientPool | None = None
        self._replaced: list[ClientPool] = []

    def __repr__(self) -> str:
        return f"ClientCache(built={self._pool is not None})"

    def __copy__(self) -> ClientCache:
        return ClientCache()

    def __deepcopy__(self, memo: dict[int, Any]) -> ClientCache:
        return ClientCache()

    def __reduce__(self) -> tuple[type[ClientCache], tuple[()]]:
        return (ClientCache, ())

    def _forget_parent(self) -> None:
        """In a forked child: drop the parent's pools without closing their sockets."""
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._lock = threading.Lock()
            self._pool, self._key, self._replaced = None, None, []

    def get(self, key: Hashable, build: Callable[[], ClientPool]) -> ClientPool:
        """The pool for the settings ``key`` (built by ``build`` when the settings changed)."""
        self._forget_parent()
        with self._lock:
            if self._pool is None or self._key != key:
                if self._pool is not None:
                    self._replaced.append(self._pool)
                self._pool, self._key = build(), key
            return self._pool

    def _all_pools(self) -> list[ClientPool]:
        self._forget_parent()
        with self._lock:
            pools, self._replaced = self._replaced, []
            if self._pool is not None:
                pools.append(self._pool)
        return pools

    def close(self) -> None:
        """Close the sync clients of the current and replaced pools (rebuilt on next use).
        A call in flight on one of them may fail with a connection error."""
        for pool in self._all_pools():
            pool.close()

    async def aclose(self) -> None:
        """Close the sync clients and the running event loop's async clients."""
        for pool in self._all_pools():
            await pool.aclose()


class _LoopClient:
    """An async client and an async generator that closes it when its loop shuts down.

    The generator is run to its ``yield`` at once (nothing in it awaits), which registers it
    with the running loop's async-generator hooks; the loop's ``shutdown_asyncgens()`` (run
    by ``asyncio.run``) then closes it, and its ``finally`` closes the client inside the loop.

    When this entry is dropped instead (the pool, or the model holding it, is garbage while
    a stream it started may still be reading), the generator is finished without touching
    the client: a generator collected unfinished would have the loop close the client under
    that stream. The generator holds the client and a flag, never this object, so dropping
    the entry runs ``__del__`` at once (no reference cycle).
    """

    def __init__(self, client: AsyncClovaClient) -> None:
        self.client = client
        self._leave_open = [False]
        self._closer = _close_at_shutdown(client, self._leave_open)
        with contextlib.suppress(StopIteration):
            self._closer.__anext__().send(None)

    async def aclose(self) -> None:
        """Close the client now (from its own loop)."""
        await self._closer.aclose()

    def abandon(self) -> None:
        """Finish the generator without closing the client: for a loop closed without
        ``shutdown_asyncgens()`` (its connections can no longer be closed in it; garbage
        collection releases the sockets) and for an entry that is dropped."""
        self._leave_open[0] = True
        with contextlib.suppress(StopIteration, RuntimeError):
            self._closer.aclose().send(None)

    def __del__(self) -> None:
        try:
            self.abandon()
        except Exception:  # at interpreter exit, module globals may be gone
            return


async def _close_at_shutdown(
    client: AsyncClovaClient, leave_open: list[bool]
) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        if not leave_open[0]:
            await client.aclose()
