"""One rate limiter per ShipStation key pair, and the Redis connection shared state lives in.

With ``REDIS_URL`` set, every worker process shares each key's limiter through Redis; without it the
limiter lives in this process (one worker, or development).
"""

from __future__ import annotations

import functools
import threading

import redis
from django.conf import settings

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
    options = {"reserve": settings.ORDERSYNC_RATE_LIMIT_RESERVE, "reset_margin": settings.ORDERSYNC_RATE_LIMIT_RESET_MARGIN}
    client = shared_redis()
    if client is None:
        return InMemoryRateLimiter(**options)
    return RedisRateLimiter(client, key_id, **options)
