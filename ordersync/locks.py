"""One cycle per store and kind at a time, and (``ordertime_slot``) a bounded number of concurrent calls
per Order Time account.

``store_lock`` is a mutual-exclusion lock with a fencing token that only ever grows:

* with ``REDIS_URL`` set it lives in Redis (shared by every worker on every machine); it expires after
  ``timeout`` seconds unless its holder keeps renewing it, so a worker that dies frees it;
* without Redis (development, one machine) it is an ``flock`` on a file in ``ORDERSYNC_LOCK_DIR``,
  which the operating system releases when the holding process dies; the token is kept in the file.

A holder that lost its lock (it stalled past the timeout and another worker took over) must not move a
cursor: the cycle calls ``assert_cursor_may_move`` (or ``assert_lock_held(token)``) first, and
``LockLost`` aborts it. Duplicates are prevented elsewhere (orderKey upserts, one notice row per
label); the lock keeps two workers from doing the same work twice and cursors from moving backwards.
"""

from __future__ import annotations

import contextlib
import contextvars
import fcntl
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from connections.rate_limits import SlotUnavailable, ordertime_concurrency_for, shared_redis

log = logging.getLogger(__name__)

KEY_PREFIX = "ordersync:lock:"
FENCE_PREFIX = "ordersync:lock-fence:"
POLL_INTERVAL = 0.05  # first retry of a busy lock; doubles up to MAX_POLL_INTERVAL
MAX_POLL_INTERVAL = 0.5
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,30}$")

# Take the lock and a new fencing token in one step, or nothing.
_ACQUIRE = """
if redis.call('exists', KEYS[1]) == 1 then return false end
local token = redis.call('incr', KEYS[2])
redis.call('set', KEYS[1], token, 'PX', ARGV[1])
return token
"""
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""

class LockLost(Exception):
    """The lock this work ran under expired and may be held by another worker: stop, move no cursor."""


@dataclass
class LockToken:
    """A held lock. ``token`` grows with every acquisition of the same (store, kind)."""

    store_id: int
    kind: str
    token: int
    _backend: _Backend = field(repr=False, compare=False)
    _handle: object = field(default=None, repr=False, compare=False)
    released: bool = field(default=False, compare=False)

    def still_held(self) -> bool:
        return not self.released and self._backend.still_held(self)


_current: contextvars.ContextVar[LockToken | None] = contextvars.ContextVar("ordersync_store_lock", default=None)


def assert_lock_held(token: LockToken | None) -> None:
    """Raise ``LockLost`` unless ``token`` is still the lock's holder (``None``: no lock taken, nothing to check)."""
    if token is not None and not token.still_held():
        raise LockLost(f"lock on store {token.store_id} ({token.kind}) was lost; token {token.token} is stale")


def current_lock() -> LockToken | None:
    """The store lock the current cycle runs under, if any."""
    return _current.get()


def assert_cursor_may_move(*, store_id: int, kind: str) -> None:
    """Call before moving a cursor: refuses if this cycle's lock on (store, kind) has been lost.

    Work not run under a lock (a service called directly, as in unit tests) is not checked.
    """
    token = _current.get()
    if token is not None and token.store_id == store_id and token.kind == kind:
        assert_lock_held(token)


@contextlib.contextmanager
def store_lock(store_id: int, kind: str, *, timeout: float, wait: float = 0) -> Iterator[LockToken | None]:
    """Hold the (store, kind) lock for the block; yields ``None`` if it stayed busy for ``wait`` seconds.

    ``timeout`` is how long the lock outlives a holder that stops renewing it (a dead worker); a live
    holder renews it in the background for as long as the block runs.
    """
    if not _KIND.match(kind):
        raise ValueError(f"bad lock kind {kind!r}")
    backend = _backend()
    token = _poll(lambda: backend.acquire(store_id, kind, timeout), wait)
    if token is None:
        yield None
        return
    renewer = _Renewer(token, timeout) if backend.expires else None
    context = _current.set(token)
    try:
        yield token
    finally:
        _current.reset(context)
        if renewer is not None:
            renewer.stop()
        backend.release(token)
        token.released = True


def _poll(attempt, wait: float):
    """Call ``attempt`` until it returns something, for at most ``wait`` seconds."""
    deadline = time.monotonic() + wait
    interval = POLL_INTERVAL
    while True:
        result = attempt()
        remaining = deadline - time.monotonic()
        if result is not None or remaining <= 0:
            return result
        time.sleep(min(interval, remaining))
        interval = min(interval * 2, MAX_POLL_INTERVAL)


class _Renewer:
    """Keeps a Redis lock alive while its holder runs; a SIGKILLed holder stops renewing and the lock expires."""

    def __init__(self, token: LockToken, timeout: float):
        self._token = token
        self._timeout = timeout
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lock-renew-{token.store_id}-{token.kind}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self._timeout / 3):
            try:
                if not self._token._backend.renew(self._token, self._timeout):
                    log.error("lost the lock on store %s (%s)", self._token.store_id, self._token.kind)
                    return
            except Exception:  # noqa: BLE001 - a Redis hiccup must not kill the cycle; the next renewal retries
                log.warning("could not renew the lock on store %s (%s)", self._token.store_id, self._token.kind, exc_info=True)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)


class _Backend:
    expires: bool

    def acquire(self, store_id: int, kind: str, timeout: float) -> LockToken | None: ...

    def still_held(self, token: LockToken) -> bool: ...

    def renew(self, token: LockToken, timeout: float) -> bool: ...

    def release(self, token: LockToken) -> None: ...


class _RedisBackend(_Backend):
    expires = True

    def __init__(self, client):
        self.client = client
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    @staticmethod
    def _key(store_id: int, kind: str) -> str:
        return f"{KEY_PREFIX}{store_id}:{kind}"

    def acquire(self, store_id: int, kind: str, timeout: float) -> LockToken | None:
        token = self._acquire(keys=[self._key(store_id, kind), f"{FENCE_PREFIX}{store_id}:{kind}"], args=[_ms(timeout)])
        return None if token is None else LockToken(store_id, kind, int(token), self)

    def still_held(self, token: LockToken) -> bool:
        value = self.client.get(self._key(token.store_id, token.kind))
        return value is not None and int(value) == token.token

    def renew(self, token: LockToken, timeout: float) -> bool:
        return bool(self._renew(keys=[self._key(token.store_id, token.kind)], args=[token.token, _ms(timeout)]))

    def release(self, token: LockToken) -> None:
        self._release(keys=[self._key(token.store_id, token.kind)], args=[token.token])


class _FileBackend(_Backend):
    """``flock`` on one file per (store, kind); the file also holds the last fencing token."""

    expires = False

    def __init__(self, directory: Path):
        self.directory = directory

    def acquire(self, store_id: int, kind: str, timeout: float) -> LockToken | None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / f"store-{store_id}-{kind}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        previous = os.pread(fd, 32, 0).strip()
        token = (int(previous) if previous.isdigit() else 0) + 1
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(token).encode(), 0)
        os.fsync(fd)
        return LockToken(store_id, kind, token, self, _handle=fd)

    def still_held(self, token: LockToken) -> bool:
        # Nobody can take an flock from a live holder, so an open handle means it is still ours.
        return token._handle is not None

    def renew(self, token: LockToken, timeout: float) -> bool:
        return self.still_held(token)

    def release(self, token: LockToken) -> None:
        if token._handle is not None:
            os.close(token._handle)  # closing the descriptor drops the flock
            token._handle = None


def _backend() -> _Backend:
    client = shared_redis()
    if client is not None:
        return _RedisBackend(client)
    return _FileBackend(Path(settings.ORDERSYNC_LOCK_DIR))


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def ordertime_slot(account_id: int, *, wait: float | None = None) -> contextlib.AbstractContextManager[None]:
    """Hold one of the Order Time account's concurrent slots around a call (raises ``SlotUnavailable``)."""
    return ordertime_concurrency_for(account_id).slot(wait=wait)


__all__ = [
    "LockLost", "LockToken", "SlotUnavailable", "assert_cursor_may_move", "assert_lock_held", "current_lock",
    "ordertime_slot", "store_lock",
]
