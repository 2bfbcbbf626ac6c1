"""The HTTP transport both clients share: one pooled session, explicit timeouts, typed errors,
exponential backoff with full jitter for 5xx and timeouts, and a rate-limit hook.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests
from requests.adapters import HTTPAdapter

from .auth import BasicAuth
from .errors import (
    AuthenticationFailed,
    NotFound,
    ProtocolError,
    RateLimited,
    RequestRejected,
    ServerError,
    Unreachable,
)

log = logging.getLogger(__name__)

EXCERPT_CHARS = 300


class RateLimitHook(Protocol):
    """What the transport asks of a rate limiter (see ``ratelimit.py``)."""

    def before_request(self) -> None: ...

    def after_response(self, headers: Mapping[str, str], status: int) -> None: ...


@dataclass
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    # The longest 429 wait the transport sleeps through itself; longer ones raise RateLimited.
    max_rate_limit_wait: float = 65.0

    def backoff(self, attempt: int) -> float:
        """Full jitter (AWS architecture blog): uniform in [0, min(cap, base·2^attempt)]."""
        return random.uniform(0, min(self.max_delay, self.base_delay * (2**attempt)))


@dataclass
class Transport:
    """Sends requests for one service and turns failures into typed errors."""

    service: str
    base_url: str
    auth: tuple[str, str] = field(repr=False)
    timeout: tuple[float, float] = (5.0, 30.0)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    rate_limit: RateLimitHook | None = None
    # Entered around each HTTP exchange, e.g. a slot of a per-account concurrency limit.
    concurrency: Callable[[], AbstractContextManager] | None = None
    session: requests.Session | None = None
    sleep: Callable[[float], None] = time.sleep
    user_agent: str = "Ordersync/0.1"

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        if self.session is None:
            self.session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16)
            self.session.mount("http://", adapter)
            self.session.mount("https://", adapter)
        self.session.auth = BasicAuth(*self.auth, service=self.service)
        self.session.headers["User-Agent"] = self.user_agent

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(self, method: str, path: str, *, retry_unsafe: bool = True, **kwargs: Any) -> requests.Response:
        """Send one request, retrying 5xx, timeouts and short 429 waits.

        ``retry_unsafe=False`` turns retries off for calls whose repetition is not harmless.
        Every call of ours is idempotent by design (upsert by orderKey, notices keyed by shipment),
        so retries stay on by default.
        """
        url = self.url(path)
        kwargs.setdefault("timeout", self.timeout)
        attempts = self.retry.attempts if retry_unsafe else 1
        last_error: Exception | None = None
        for attempt in range(attempts):
            if self.rate_limit is not None:
                self.rate_limit.before_request()
            try:
                with self.concurrency() if self.concurrency is not None else nullcontext():
                    response = self.session.request(method, url, **kwargs)
            except (requests.Timeout, requests.ConnectionError) as exc:
                last_error = Unreachable(
                    f"{self.service} did not answer ({type(exc).__name__})", service=self.service
                )
                log.warning("%s %s %s failed: %s (attempt %d)", self.service, method, path, type(exc).__name__, attempt + 1)
                if attempt + 1 < attempts:
                    self.sleep(self.retry.backoff(attempt))
                continue
            if self.rate_limit is not None:
                self.rate_limit.after_response(response.headers, response.status_code)
            if response.status_code == 429:
                wait = retry_after_seconds(response.headers)
                last_error = RateLimited(
                    f"{self.service} rate limit reached; retry in {wait:.0f} s",
                    retry_after=wait, service=self.service, status=429, excerpt=excerpt(response),
                )
                if wait <= self.retry.max_rate_limit_wait and attempt + 1 < attempts:
                    log.info("%s rate-limited; waiting %.1f s", self.service, wait)
                    self.sleep(wait)
                    continue
                raise last_error
            if response.status_code >= 500:
                last_error = ServerError(
                    f"{self.service} answered HTTP {response.status_code}",
                    service=self.service, status=response.status_code, excerpt=excerpt(response),
                )
                log.warning("%s %s %s → %d (attempt %d)", self.service, method, path, response.status_code, attempt + 1)
                if attempt + 1 < attempts:
                    self.sleep(self.retry.backoff(attempt))
                continue
            raise_for_client_error(self.service, response)
            return response
        assert last_error is not None
        raise last_error


def retry_after_seconds(headers: Mapping[str, str], default: float = 60.0) -> float:
    for name in ("X-Rate-Limit-Reset", "Retry-After"):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value))
        except ValueError:
            continue
    return default


def excerpt(response: requests.Response) -> str:
    try:
        text = response.text
    except Exception:  # noqa: BLE001 - an undecodable body is still worth an excerpt
        text = repr(response.content[:EXCERPT_CHARS])
    return text[:EXCERPT_CHARS]


def raise_for_client_error(service: str, response: requests.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    body = excerpt(response)
    if status in (401, 403):
        raise AuthenticationFailed(
            f"{service} rejected the credentials (HTTP {status})", service=service, status=status, excerpt=body
        )
    if status == 404:
        raise NotFound(f"{service} answered 404 Not Found", service=service, status=status, excerpt=body)
    raise RequestRejected(f"{service} rejected the request (HTTP {status}): {body}", service=service, status=status, excerpt=body)


__all__ = ["Transport", "RetryPolicy", "RateLimitHook", "retry_after_seconds", "excerpt", "ProtocolError"]
