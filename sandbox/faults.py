"""Fault injection shared by both simulators: error rate, latency, 429 bursts.

Faults are decided per request with a seeded RNG so a failing test can be replayed.
Control requests (``/_sim/...``) are never faulted.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import asdict, dataclass, field


@dataclass
class FaultConfig:
    error_rate: float = 0.0  # share of requests answered 500
    latency_rate: float = 0.0  # share of requests delayed by `latency_seconds`
    latency_seconds: float = 0.0
    rate_limit_burst_rate: float = 0.0  # share of requests that start a 429 burst (ShipStation only)
    rate_limit_burst_length: int = 3  # requests answered 429 in one burst
    fail_next: list[int] = field(default_factory=list)  # explicit statuses for the next requests, in order
    seed: int | None = None


class Faults:
    def __init__(self, config: FaultConfig | None = None):
        self._lock = threading.Lock()
        self.configure(config or FaultConfig())

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)
            self._burst_left = 0

    def update(self, **changes) -> None:
        self.configure(FaultConfig(**{**asdict(self.config), **changes}))

    def as_dict(self) -> dict:
        return asdict(self.config)

    def decide(self, *, rate_limited_service: bool = False) -> tuple[int | None, float]:
        """Return (status to answer instead, or None; seconds to sleep first)."""
        with self._lock:
            c = self.config
            delay = c.latency_seconds if c.latency_rate and self._rng.random() < c.latency_rate else 0.0
            if c.fail_next:
                return c.fail_next.pop(0), delay
            if rate_limited_service and self._burst_left > 0:
                self._burst_left -= 1
                return 429, delay
            if rate_limited_service and c.rate_limit_burst_rate and self._rng.random() < c.rate_limit_burst_rate:
                self._burst_left = max(0, c.rate_limit_burst_length - 1)
                return 429, delay
            if c.error_rate and self._rng.random() < c.error_rate:
                return 500, delay
            return None, delay

    @staticmethod
    def apply_delay(seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)
