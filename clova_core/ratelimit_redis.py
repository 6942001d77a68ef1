"""A QPM / TPM limiter whose state lives in Redis: every process and machine that uses one
key (and one Redis) shares one quota.

The rules are :class:`~clova_core.ratelimit.RateLimiter`'s (an exact log over the window plus
its margin, and GCRA pacing with a burst share), run atomically in one Lua script per request:

* ``{key}:log`` is a sorted set of the reservations of the last window (score: start time,
  member: ``sequence:tokens``), so its size grows with requests, never with tokens;
* ``{key}:state`` is a hash with the two GCRA clocks, the tokens in the log and the sequence.

Times come from the Redis server's ``TIME`` so that machines with skewed clocks agree; the
script reserves the request's start and answers how long to wait for it, so a caller sleeps
once and requests are served first come, first served across processes. Both keys expire
when idle. Needs the ``redis`` extra (``pip install "clova-integrations[redis]"``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from clova_core.errors import ClovaConfigurationError
from clova_core.ratelimit import (
    DEFAULT_BURST,
    WINDOW_SECONDS,
    QuotaSettings,
    documented_limits,
)

if TYPE_CHECKING:
    import redis
    import redis.asyncio

# Mirrors QuotaSchedule.reserve; reads only the log entries a rule needs (the last one, the
# rpm-th from the end, and the whole log only when the tokens would overflow). Numbers go to
# Redis through %.17g: Redis turns a bare Lua number into a string with 14 significant digits.
RESERVE_LUA = """
local state, log = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local tokens = tonumber(ARGV[2])
local rpm = tonumber(ARGV[3])
local tpm = tonumber(ARGV[4])
local span = tonumber(ARGV[5])
local tolerance = tonumber(ARGV[6]) * span
local function num(x) return string.format('%.17g', x) end
local function paced(tat, cost, interval)
  return tat - math.max(tolerance - cost * interval, 0)
end

local cutoff = num(now - span)
local sum = tonumber(redis.call('HGET', state, 'tokens') or '0')
local old = redis.call('ZRANGEBYSCORE', log, '-inf', cutoff)
if #old > 0 then
  for _, member in ipairs(old) do
    sum = sum - tonumber(string.match(member, ':(%d+)$'))
  end
  redis.call('ZREMRANGEBYSCORE', log, '-inf', cutoff)
end

local n = redis.call('ZCARD', log)
local start = now
if n > 0 then
  start = math.max(start, tonumber(redis.call('ZRANGE', log, -1, -1, 'WITHSCORES')[2]))
end
if rpm > 0 then
  if n >= rpm then
    local entry = redis.call('ZRANGE', log, n - rpm, n - rpm, 'WITHSCORES')
    start = math.max(start, tonumber(entry[2]) + span)
  end
  local tat = tonumber(redis.call('HGET', state, 'request_tat'))
  if tat then start = math.max(start, paced(tat, 1, span / rpm)) end
end
if tpm > 0 then
  local excess = sum + tokens - tpm
  if excess > 0 then
    local entries = redis.call('ZRANGE', log, 0, -1, 'WITHSCORES')
    for i = 1, n do
      excess = excess - tonumber(string.match(entries[2 * i - 1], ':(%d+)$'))
      if excess <= 0 then
        start = math.max(start, tonumber(entries[2 * i]) + span)
        break
      end
    end
  end
  local tat = tonumber(redis.call('HGET', state, 'token_tat'))
  if tat then start = math.max(start, paced(tat, tokens, span / tpm)) end
end
if rpm > 0 then
  local tat = tonumber(redis.call('HGET', state, 'request_tat'))
  if not tat or tat < start then tat = start end
  redis.call('HSET', state, 'request_tat', num(tat + span / rpm))
end
if tpm > 0 then
  local tat = tonumber(redis.call('HGET', state, 'token_tat'))
  if not tat or tat < start then tat = start end
  redis.call('HSET', state, 'token_tat', num(tat + tokens * span / tpm))
end
local sequence = redis.call('HINCRBY', state, 'sequence', 1)
redis.call('ZADD', log, num(start), sequence .. ':' .. tokens)
redis.call('HSET', state, 'tokens', sum + tokens)
local ttl = math.ceil((start - now + 2 * span) * 1000) + 1000
redis.call('PEXPIRE', state, ttl)
redis.call('PEXPIRE', log, ttl)
return num(start - now)
"""

MISSING_EXTRA = (
    "RedisRateLimiter needs the redis package: install the extra with "
    "pip install 'clova-integrations[redis]'."
)


def _redis_modules() -> tuple[Any, Any]:
    try:
        import redis
        import redis.asyncio
    except ImportError as error:
        raise ClovaConfigurationError(MISSING_EXTRA) from error
    return redis, redis.asyncio


class RedisRateLimiter:
    """Holds callers of every process sharing ``key`` on one Redis under one QPM / TPM quota,
    with the rules and parameters of :class:`~clova_core.ratelimit.RateLimiter`.

    ``redis`` is a URL (``"redis://host:6379/0"``: the limiter then opens its own sync and
    async connections and pickles, for worker processes), a ``redis.Redis`` or a
    ``redis.asyncio.Redis``. Name ``key`` after the quota it guards (account and model), and
    give every process the same limits. ``clock`` replaces the server's ``TIME`` (tests).
    """

    def __init__(
        self,
        redis: str | redis.Redis | redis.asyncio.Redis,
        *,
        key: str,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        window_seconds: float = WINDOW_SECONDS,
        margin_seconds: float | None = None,
        burst: float = DEFAULT_BURST,
        clock: Callable[[], float] | None = None,
    ) -> None:
        sync_module, async_module = _redis_modules()
        self.settings = QuotaSettings.check(
            requests_per_minute, tokens_per_minute, window_seconds, margin_seconds, burst
        )
        if not key:
            raise ClovaConfigurationError("key must name the quota, e.g. 'my-account:bge-m3'")
        self.key = key
        self._keys = [f"{{clova-quota:{key}}}:state", f"{{clova-quota:{key}}}:log"]
        self._clock = clock
        self._url: str | None = None
        self._sync: Any = None
        self._async: Any = None
        if isinstance(redis, str):
            self._url = redis
        elif isinstance(redis, async_module.Redis):
            self._async = redis
        elif isinstance(redis, sync_module.Redis):
            self._sync = redis
        else:
            raise ClovaConfigurationError(
                "redis must be a URL, a redis.Redis or a redis.asyncio.Redis, "
                f"got {type(redis).__name__}"
            )
        self._sync_script: Any = None
        self._async_script: Any = None

    @classmethod
    def for_model(
        cls,
        redis: str | redis.Redis | redis.asyncio.Redis,
        model: str,
        *,
        key: str | None = None,
        window_seconds: float = WINDOW_SECONDS,
        margin_seconds: float | None = None,
        burst: float = DEFAULT_BURST,
    ) -> RedisRateLimiter:
        """A shared limiter at ``model``'s documented test-key QPM / TPM (key: the model)."""
        qpm, tpm = documented_limits(model)
        return cls(
            redis,
            key=key or model,
            requests_per_minute=qpm,
            tokens_per_minute=tpm,
            window_seconds=window_seconds,
            margin_seconds=margin_seconds,
            burst=burst,
        )

    def __repr__(self) -> str:
        return (
            f"RedisRateLimiter(key={self.key!r}, "
            f"requests_per_minute={self.settings.requests_per_minute}, "
            f"tokens_per_minute={self.settings.tokens_per_minute})"
        )

    def __getstate__(self) -> dict[str, Any]:
        if self._url is None:
            raise TypeError(
                "A RedisRateLimiter built from a client object cannot be pickled: build it "
                "from a URL to send it to other processes."
            )
        state = dict(self.__dict__)
        state.update(_sync=None, _async=None, _sync_script=None, _async_script=None)
        return state

    def _args(self, tokens: int) -> list[str]:
        settings = self.settings
        return [
            "" if self._clock is None else repr(self._clock()),
            str(tokens),
            str(settings.requests_per_minute or 0),
            str(settings.tokens_per_minute or 0),
            repr(settings.span),
            repr(settings.burst),
        ]

    def reserve(self, tokens: int = 0) -> float:
        """Reserve a start for a request of ``tokens``; returns the seconds to wait for it."""
        self.settings.check_tokens(tokens)
        if self._sync_script is None:
            if self._sync is None:
                if self._url is None:
                    raise ClovaConfigurationError(
                        "This RedisRateLimiter holds a redis.asyncio client: call aacquire, "
                        "or give it a URL or a redis.Redis for threads."
                    )
                self._sync = _redis_modules()[0].Redis.from_url(self._url)
            self._sync_script = self._sync.register_script(RESERVE_LUA)
        return float(self._sync_script(keys=self._keys, args=self._args(tokens)))

    async def areserve(self, tokens: int = 0) -> float:
        """:meth:`reserve` without blocking the event loop."""
        self.settings.check_tokens(tokens)
        if self._async_script is None:
            if self._async is None:
                if self._url is None:
                    return await asyncio.to_thread(self.reserve, tokens)
                self._async = _redis_modules()[1].Redis.from_url(self._url)
            self._async_script = self._async.register_script(RESERVE_LUA)
        return float(await self._async_script(keys=self._keys, args=self._args(tokens)))

    def acquire(self, tokens: int = 0) -> None:
        """Block the calling thread until a request of ``tokens`` may be sent."""
        if (wait := self.reserve(tokens)) > 0:
            time.sleep(wait)

    async def aacquire(self, tokens: int = 0) -> None:
        """Wait without blocking the event loop until a request may be sent."""
        if (wait := await self.areserve(tokens)) > 0:
            await asyncio.sleep(wait)

    def close(self) -> None:
        """Close the sync connection the limiter opened from its URL (not one it was given)."""
        if self._url is not None and self._sync is not None:
            self._sync.close()
            self._sync = self._sync_script = None

    async def aclose(self) -> None:
        """Close the connections the limiter opened from its URL (not ones it was given)."""
        if self._url is not None and self._async is not None:
            await self._async.aclose()
            self._async = self._async_script = None
        self.close()
