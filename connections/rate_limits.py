"""One rate limiter per ShipStation key pair, shared by every client in this process.

The fleet replaces the in-memory limiter with a Redis-backed one when ``REDIS_URL`` is set.
"""

from __future__ import annotations

import threading

from .clients.ratelimit import InMemoryRateLimiter

_limiters: dict[str, InMemoryRateLimiter] = {}
_lock = threading.Lock()


def shipstation_limiter_for(account):
    with _lock:
        limiter = _limiters.get(account.limiter_key)
        if limiter is None:
            limiter = _limiters[account.limiter_key] = InMemoryRateLimiter()
        return limiter
