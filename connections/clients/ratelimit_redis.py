"""The ShipStation rate limiter shared by every worker process, with its state in Redis.

It runs the same algorithm as ``InMemoryRateLimiter`` (``plan_request`` / ``record_response`` in
``ratelimit.py``) over a window stored in one Redis key per API key. Each step is a read-modify-write
under WATCH/MULTI, so a slot is reserved atomically: two processes can never both take the last one.
Times are Redis server ``TIME`` readings, so workers on different machines share one clock.

Why not a library: rate-limit libraries (``limits``, ``redis-cell``) enforce a limit we choose with a
window they own; ShipStation's window is the server's, learnt from ``X-Rate-Limit-*`` headers and reset
by it, and a 429 must pause everyone for the server's Reset. That is the in-memory algorithm, so
reusing it keeps one implementation of the rules.

No Django here: the caller passes a ``redis.Redis`` client and an identifier of the key pair that
never reveals the key (``ShipStationAccount.limiter_key``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import TypeVar

import redis

from .ratelimit import (
    DEFAULT_BLOCK_SECONDS,
    RateLimiter,
    RateLimitWindow,
)

KEY_PREFIX = "ordersync:ratelimit:"
# Forget a key's window after an hour without traffic; the next response teaches it again.
STATE_TTL_SECONDS = 3600

T = TypeVar("T")


class RedisRateLimiter(RateLimiter):
    """One API key's budget, shared through Redis by every process that uses the key.

    Same options as ``InMemoryRateLimiter``; ``clock`` defaults to the Redis server's clock.
    """

    def __init__(
        self,
        client: redis.Redis,
        key_id: str,
        *,
        reserve: int = 1,
        reset_margin: float = 1.0,
        default_block: float = DEFAULT_BLOCK_SECONDS,
        max_wait: float | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        service: str = "ShipStation",
        key_prefix: str = KEY_PREFIX,
    ):
        super().__init__(reserve=reserve, reset_margin=reset_margin, default_block=default_block,
                         max_wait=max_wait, sleep=sleep, service=service)
        self.client = client
        self.key = f"{key_prefix}{key_id}"
        self.clock = clock

    def reset(self) -> None:
        """Forget everything known about the window (tests, or after rotating the key)."""
        self.client.delete(self.key)

    def _update(self, change: Callable[[RateLimitWindow, float], T]) -> T:
        """Apply ``change`` to the stored window atomically; retried by redis-py if another process wrote first."""

        def transaction(pipe: redis.client.Pipeline) -> T:
            window = _decode(pipe.get(self.key))
            now = self.clock() if self.clock else _seconds(pipe.time())
            before = replace(window)
            result = change(window, now)
            pipe.multi()
            if window != before:
                pipe.set(self.key, json.dumps(asdict(window)), ex=STATE_TTL_SECONDS)
            return result

        return self.client.transaction(transaction, self.key, value_from_callable=True)


def _decode(raw: bytes | str | None) -> RateLimitWindow:
    if not raw:
        return RateLimitWindow()
    try:
        return RateLimitWindow(**json.loads(raw))
    except (ValueError, TypeError):
        return RateLimitWindow()  # unreadable state is no worse than none: the next response refills it


def _seconds(server_time: tuple[int, int]) -> float:
    seconds, microseconds = server_time
    return seconds + microseconds / 1_000_000
