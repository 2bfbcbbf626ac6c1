"""What keeps the fleet within each service's limits: one rate limiter per ShipStation key pair, one
concurrency limit per Order Time account, and the Redis connection their shared state lives in.

With ``REDIS_URL`` set, every worker process shares them through Redis; without it they live in this
process (one worker, or development).
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
import uuid
from collections.abc import Iterator

import redis
from django.conf import settings

from .clients.errors import RateLimited
from .clients.ratelimit import InMemoryRateLimiter, RateLimiter
from .clients.ratelimit_redis import RedisRateLimiter

_limiters: dict[tuple[str, str], RateLimiter] = {}
_lock = threading.Lock()


def shared_redis() -> redis.Redis | None:
    """The Redis holding state shared by the fleet (limits, locks), or None when there is none."""
    return _redis_for(settings.REDIS_URL) if settings.REDIS_URL else None


@functools.cache
def _redis_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, health_check_interval=30)


def shipstation_limiter_for(account) -> RateLimiter:
    # Keyed by the Redis URL too, so a settings change (tests) never hands back a limiter of the other kind.
    cache_key = (settings.REDIS_URL, account.limiter_key)
    with _lock:
        limiter = _limiters.get(cache_key)
        if limiter is None:
            limiter = _limiters[cache_key] = _new_limiter(account.limiter_key)
        return limiter


def _new_limiter(key_id: str) -> RateLimiter:
    options = {"reserve": settings.ORDERSYNC_RATE_LIMIT_RESERVE, "reset_margin": settings.ORDERSYNC_RATE_LIMIT_RESET_MARGIN,
               "max_wait": settings.ORDERSYNC_RATE_LIMIT_MAX_WAIT}
    client = shared_redis()
    if client is None:
        return InMemoryRateLimiter(**options)
    return RedisRateLimiter(client, key_id, **options)


# --- Order Time: a bounded number of calls in flight per account -------------------------------------

SLOTS_KEY_PREFIX = "ordersync:ordertime-slots:"

# Slots are members of a sorted set scored by when they lapse (Redis server time, ms), so the slot of a
# worker that died mid-call frees itself.
_SLOT_ACQUIRE = """
local t = redis.call('time')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('zremrangebyscore', KEYS[1], '-inf', now)
if redis.call('zcard', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('zadd', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('pexpire', KEYS[1], ARGV[2])
return 1
"""


class SlotUnavailable(RateLimited):
    """Every call slot of an Order Time account stayed busy for the whole wait; retry later."""


class ConcurrencyLimit:
    """At most ``limit`` units of work talking to one Order Time account at once (a counting semaphore).

    A slot is leased, not owned: one held by a worker that died lapses after ``lease`` seconds. Shared
    through Redis when there is one, otherwise counted in this process.
    """

    def __init__(self, account_id: int, *, limit: int, lease: float, wait: float, client: redis.Redis | None = None):
        self.account_id = account_id
        self.limit = limit
        self.lease = lease
        self.wait = wait
        self._client = client
        self._key = f"{SLOTS_KEY_PREFIX}{account_id}"
        self._acquire_script = client.register_script(_SLOT_ACQUIRE) if client is not None else None
        self._local: dict[str, float] = {}  # holder → lapses at (monotonic), without Redis
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def slot(self, *, wait: float | None = None) -> Iterator[None]:
        """Hold a slot for the block; ``SlotUnavailable`` if none frees up within ``wait`` seconds."""
        wait = self.wait if wait is None else wait
        holder = uuid.uuid4().hex
        if not self._take(holder, wait):
            raise SlotUnavailable(
                f"Order Time: all {self.limit} call slots of this account stayed busy for {wait:.0f} s",
                retry_after=min(self.lease, 60.0), service="Order Time",
            )
        try:
            yield
        finally:
            self._release(holder)

    def in_use(self) -> int:
        if self._client is not None:
            seconds, microseconds = self._client.time()
            return self._client.zcount(self._key, seconds * 1000 + microseconds // 1000, "+inf")
        with self._changed:
            now = time.monotonic()
            return sum(1 for lapses_at in self._local.values() if lapses_at > now)

    def _release(self, holder: str) -> None:
        if self._client is not None:
            self._client.zrem(self._key, holder)
            return
        with self._changed:
            self._local.pop(holder, None)
            self._changed.notify()

    def _take(self, holder: str, wait: float) -> bool:
        deadline = time.monotonic() + wait
        if self._client is not None:
            interval = 0.02
            while True:
                if self._acquire_script(keys=[self._key], args=[self.limit, max(1, int(self.lease * 1000)), holder]):
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                time.sleep(min(interval, remaining))  # Redis has no blocking semaphore; poll with back-off
                interval = min(interval * 2, 0.5)
        with self._changed:
            while True:
                now = time.monotonic()
                for lapsed in [h for h, lapses_at in self._local.items() if lapses_at <= now]:
                    del self._local[lapsed]
                if len(self._local) < self.limit:
                    self._local[holder] = now + self.lease
                    return True
                if now >= deadline:
                    return False
                self._changed.wait(min(deadline, min(self._local.values())) - now)


_concurrency_limits: dict[tuple[str, int], ConcurrencyLimit] = {}


def ordertime_concurrency_for(account_id: int) -> ConcurrencyLimit:
    """The slot limit of one Order Time account, shared by this process (and, with Redis, the fleet)."""
    cache_key = (settings.REDIS_URL, account_id)
    with _lock:
        limit = _concurrency_limits.get(cache_key)
        if limit is None:
            limit = _concurrency_limits[cache_key] = ConcurrencyLimit(
                account_id, limit=settings.ORDERSYNC_ORDERTIME_CONCURRENCY,
                # Outlasts the longest unit of work: a task is killed at its hard time limit anyway.
                lease=settings.CELERY_TASK_TIME_LIMIT, wait=settings.ORDERSYNC_ORDERTIME_SLOT_WAIT,
                client=shared_redis(),
            )
        return limit


def reset_for_tests() -> None:
    """Forget every limiter of this process (tests must not inherit another test's budget)."""
    with _lock:
        _limiters.clear()
        _concurrency_limits.clear()
