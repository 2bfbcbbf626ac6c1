"""The HTTP transport both clients share: one pooled session, explicit timeouts, typed errors,
exponential backoff with full jitter for 5xx and timeouts, and a rate-limit hook.
"""

from __future__ import annotations

import logging
import math
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
DEFAULT_MAX_RESPONSE_BYTES = 20 * 1024 * 1024
READ_CHUNK_BYTES = 64 * 1024
# ShipStation's rate windows last a minute; a Reset or Retry-After longer than this is broken or hostile
# and is treated as absent, so that one answer cannot park work (or, shared, the whole fleet) for years.
MAX_BELIEVED_RESET = 3600.0


class RateLimitHook(Protocol):
    """What the transport asks of a rate limiter (see ``ratelimit.py``)."""

    def before_request(self) -> None: ...

    def after_response(self, headers: Mapping[str, str], status: int) -> None: ...


@dataclass
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    # The longest rate-limit wait anything sleeps through; a longer one raises RateLimited, whose
    # retry_after is capped to it too, so a hostile Reset header cannot park work for years.
    max_rate_limit_wait: float = 120.0

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
    # Bodies are streamed and read up to this many (decompressed) bytes; a longer one is a ProtocolError.
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES

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
        kwargs["stream"] = True
        attempts = self.retry.attempts if retry_unsafe else 1
        last_error: Exception | None = None
        for attempt in range(attempts):
            if self.rate_limit is not None:
                self.rate_limit.before_request()
            try:
                with self.concurrency() if self.concurrency is not None else nullcontext():
                    response = self.session.request(method, url, **kwargs)
                    read_capped(response, self.max_response_bytes, service=self.service)
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
                cap = self.retry.max_rate_limit_wait
                if wait > cap:
                    raise RateLimited(
                        f"{self.service} asked to wait {wait:.0f} s, longer than the {cap:.0f} s limit; "
                        f"stopped here, to try again later",
                        retry_after=wait, service=self.service, status=429, excerpt=excerpt(response),
                    )
                last_error = RateLimited(
                    f"{self.service} rate limit reached; retry in {wait:.0f} s",
                    retry_after=wait, service=self.service, status=429, excerpt=excerpt(response),
                )
                if attempt + 1 < attempts:
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
            seconds = float(value)
        except ValueError:
            continue
        if math.isnan(seconds) or seconds > MAX_BELIEVED_RESET:
            continue
        return max(0.0, seconds)
    return default


def read_capped(response: requests.Response, limit: int, *, service: str) -> None:
    """Read a streamed body into ``response.content``, refusing one longer than ``limit`` bytes.

    Counted after decompression, so a small gzip bomb is refused as soon as it grows past the limit.
    A broken body (bad chunking, a bad gzip stream) becomes a ProtocolError with one line of reason;
    timeouts and dropped connections pass through, to be retried like any other.
    """
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit and "Content-Encoding" not in response.headers:
        response.close()
        raise _too_large(service, limit, response.status_code)
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(READ_CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                raise _too_large(service, limit, response.status_code)
            chunks.append(chunk)
    except (requests.Timeout, requests.ConnectionError):
        response.close()
        raise
    except requests.RequestException as exc:
        response.close()
        raise ProtocolError(f"{service} sent a body that could not be read ({type(exc).__name__})",
                            service=service, status=response.status_code) from exc
    except ProtocolError:
        response.close()
        raise
    # requests' own way of holding a body read in full: .content, .text and .json() all read from here.
    # Read to the end, the connection has already gone back to the pool.
    response._content = b"".join(chunks)
    response._content_consumed = True


def _too_large(service: str, limit: int, status: int) -> ProtocolError:
    size = f"{limit / (1024 * 1024):g} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
    return ProtocolError(f"{service} sent a body larger than the {size} limit; not read", service=service, status=status)


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
