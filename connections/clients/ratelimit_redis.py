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
from collections.abc import Callable, Mapping
from dataclasses import asdict, replace
from typing import TypeVar

import redis

from .errors import RateLimited
from .ratelimit import (
    DEFAULT_BLOCK_SECONDS,
    RateLimiter,
    RateLimitWindow,
    plan_request,
    record_response,
    window_state,
)
from .types import RateLimitState

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
        self.client = client
        self.key = f"{key_prefix}{key_id}"
        self.reserve = reserve
        self.reset_margin = reset_margin
        self.default_block = default_block
        self.max_wait = max_wait
        self.clock = clock
        self.sleep = sleep
        self.service = service
        self.waits: list[float] = []  # every wait taken by this process, for tests and benchmarks

    def before_request(self) -> None:
        while True:
            wait = self._update(
                lambda window, now: plan_request(window, now, reserve=self.reserve, reset_margin=self.reset_margin)
            )
            if wait <= 0:
                return
            self.waits.append(wait)
            if self.max_wait is not None and wait > self.max_wait:
                raise RateLimited(
                    f"{self.service} rate limit: next request allowed in {wait:.0f} s",
                    retry_after=wait, service=self.service,
                )
            self.sleep(wait)

    def after_response(self, headers: Mapping[str, str], status: int) -> None:
        def fold(window: RateLimitWindow, now: float) -> None:
            record_response(window, now, headers, status, default_block=self.default_block)

        self._update(fold)

    def state(self) -> RateLimitState:
        with self.client.pipeline() as pipe:
            pipe.get(self.key)
            pipe.time()
            raw, server_time = pipe.execute()
        return window_state(_decode(raw), self.clock() if self.clock else _seconds(server_time))

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
