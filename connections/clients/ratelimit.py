"""Client-side rate limiting fed by ShipStation's ``X-Rate-Limit-*`` headers (shipstation-v1.md §2).

The algorithm is split in two so that a shared (e.g. Redis-backed) limiter can reuse it:

* ``RateLimitWindow`` is the whole state: plain numbers that can be stored anywhere;
* ``plan_request`` and ``record_response`` are pure functions over that state and a clock reading.

``InMemoryRateLimiter`` keeps one window per process behind a lock and does the waiting.
"""

from __future__ import annotations

import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from .errors import RateLimited
from .http import MAX_BELIEVED_RESET
from .types import RateLimitState

DEFAULT_BLOCK_SECONDS = 60.0  # §2: wait this long after a 429 without a Reset header
UNKNOWN_RESET_WAIT = 1.0  # re-check soon when the budget is spent but no response has said when it renews


@dataclass
class RateLimitWindow:
    """What is known about the current window of one API key. Times are readings of the limiter's clock."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None
    blocked_until: float = 0.0


def plan_request(window: RateLimitWindow, now: float, *, reserve: int, reset_margin: float) -> float:
    """Seconds to wait before sending; 0 means "send now", and then one request is counted against the budget.

    Counting at send time (not only when the answer's headers arrive) keeps concurrent senders from
    all spending the last slots of a window at once.
    """
    if now < window.blocked_until:
        return window.blocked_until - now
    if window.reset_at is not None and now >= window.reset_at:
        window.remaining = window.limit
        window.reset_at = None
    if window.remaining is not None and window.remaining <= reserve:
        if window.reset_at is None:
            return UNKNOWN_RESET_WAIT
        return window.reset_at - now + reset_margin
    if window.remaining is not None:
        window.remaining -= 1
    return 0.0


def record_response(
    window: RateLimitWindow, now: float, headers: Mapping[str, str], status: int, *, default_block: float
) -> None:
    """Fold one answer's headers (and a 429) into the window.

    A Reset beyond ``MAX_BELIEVED_RESET`` is not believed (ShipStation's windows last a minute): the
    shared window must not let one broken or hostile answer hold every worker of the fleet for years.
    """
    limit = _header_int(headers, "X-Rate-Limit-Limit")
    remaining = _header_int(headers, "X-Rate-Limit-Remaining")
    reset = _header_float(headers, "X-Rate-Limit-Reset")
    if reset is not None and reset > MAX_BELIEVED_RESET:
        reset = None
    if limit is not None:
        window.limit = limit
    if reset is not None:
        new_reset_at = now + reset
        same_window = window.reset_at is not None and abs(new_reset_at - window.reset_at) < 2.0
        # After a reset ``plan_request`` counts a new window down from the limit before any answer has
        # dated it; that count already includes requests still in flight, so it must not be handed back.
        counting_undated_window = window.reset_at is None and window.remaining is not None
        if remaining is not None:
            # Within one window the smaller count wins: ours includes requests still in flight,
            # the server's includes other tools sharing the key.
            if (same_window or counting_undated_window) and window.remaining is not None:
                window.remaining = min(window.remaining, remaining)
            else:
                window.remaining = remaining
        window.reset_at = new_reset_at if not same_window else min(window.reset_at, new_reset_at)
    elif remaining is not None:
        window.remaining = remaining
    if status == 429:
        block = reset if reset is not None else default_block
        window.blocked_until = max(window.blocked_until, now + block)
        window.remaining = 0
        window.reset_at = now + block


def window_state(window: RateLimitWindow, now: float) -> RateLimitState:
    reset_seconds = None if window.reset_at is None else max(0.0, window.reset_at - now)
    return RateLimitState(limit=window.limit, remaining=window.remaining, reset_seconds=reset_seconds)


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    value = _header_float(headers, name)
    return None if value is None else int(value)


def _header_float(headers: Mapping[str, str], name: str) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


T = TypeVar("T")


class RateLimiter(ABC):
    """A ``connections.clients.http.RateLimitHook`` that can also report what it knows.

    The rules (``plan_request`` / ``record_response``) are the same everywhere; a subclass only says
    where the window lives and how a change to it is made atomic (``_update``).
    ``reserve``: requests left unspent in each window (other tools share the key). ``max_wait``: longest
    wait this limiter sleeps through; a longer one raises ``RateLimited`` so a worker can reschedule
    instead of blocking (``None``: always sleep). ``reset_margin`` covers a server that rounds Reset down.
    """

    def __init__(
        self,
        *,
        reserve: int = 1,
        reset_margin: float = 1.0,
        default_block: float = DEFAULT_BLOCK_SECONDS,
        max_wait: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        service: str = "ShipStation",
    ):
        self.reserve = reserve
        self.reset_margin = reset_margin
        self.default_block = default_block
        self.max_wait = max_wait
        self.sleep = sleep
        self.service = service
        self.waits: list[float] = []  # every wait taken by this process, for tests and benchmarks

    @abstractmethod
    def _update(self, change: Callable[[RateLimitWindow, float], T]) -> T:
        """Apply ``change(window, now)`` to the window atomically and return its result."""

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
                    f"{self.service} rate limit: next request allowed in {wait:.0f} s, longer than the "
                    f"{self.max_wait:.0f} s limit; stopped here, to try again later",
                    retry_after=wait, service=self.service,
                )
            self.sleep(wait)

    def after_response(self, headers: Mapping[str, str], status: int) -> None:
        self._update(lambda window, now: record_response(window, now, headers, status, default_block=self.default_block))

    def state(self) -> RateLimitState:
        return self._update(window_state)


class InMemoryRateLimiter(RateLimiter):
    """One process's view of one API key's budget. Thread-safe."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, **options):
        super().__init__(**options)
        self.clock = clock
        self._window = RateLimitWindow()
        self._lock = threading.Lock()

    def _update(self, change: Callable[[RateLimitWindow, float], T]) -> T:
        with self._lock:
            return change(self._window, self.clock())
