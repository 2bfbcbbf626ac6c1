"""The fleet's shared state: one ShipStation budget across processes, one cycle per store, fencing tokens."""

from __future__ import annotations

import io
import multiprocessing
import os
import random
import signal
import threading

import pytest
import redis
from django.core.management import call_command

from connections.clients.errors import RateLimited
from connections.clients.ratelimit_redis import RedisRateLimiter
from connections.clients.shipstation import ShipStationClient
from connections.rate_limits import SLOTS_KEY_PREFIX, ConcurrencyLimit, SlotUnavailable
from ordersync import locks
from ordersync.locks import (
    LockLost,
    assert_cursor_may_move,
    assert_lock_held,
    ordertime_slot,
    store_lock,
)
from ordersync.models import RunStatus, SyncRun
from sandbox.server import SimulatorServer
from sandbox.shipstation import ShipStationSimulator
from tests.unit.test_ratelimit_redis import REDIS_TEST_URL, redis_client  # noqa: F401 - fixture

FORK = multiprocessing.get_context("fork")


@pytest.fixture
def redis_settings(settings, redis_client):  # noqa: F811 - the imported fixture
    settings.REDIS_URL = REDIS_TEST_URL
    yield redis_client
    for pattern in (f"{locks.KEY_PREFIX}*", f"{locks.FENCE_PREFIX}*"):
        for key in redis_client.scan_iter(pattern):
            redis_client.delete(key)


@pytest.fixture(params=["redis", "file"])
def lock_backend(request, settings, tmp_path):
    """Both lock backends: Redis (the fleet) and lock files (one machine without Redis)."""
    if request.param == "redis":
        request.getfixturevalue("redis_settings")
    else:
        settings.REDIS_URL = ""
        settings.ORDERSYNC_LOCK_DIR = tmp_path / "locks"
    return request.param


@pytest.fixture
def store_id() -> int:
    return random.randint(10**9, 2 * 10**9)  # never a real store, never shared with a parallel run


# --- the shared ShipStation limiter ----------------------------------------------------------------

def _call_shipstation(url: str, key_id: str, calls: int, results) -> None:
    """One worker process: its own Redis connection and client, the same key's shared budget."""
    limiter = RedisRateLimiter(redis.Redis.from_url(REDIS_TEST_URL), key_id, reset_margin=0)
    client = ShipStationClient(url, "demo-key", "demo-secret", rate_limiter=limiter)
    for _ in range(calls):
        client.list_stores()
    results.put(client.calls)


def test_two_processes_share_one_budget_and_never_exceed_the_limit(redis_client):  # noqa: F811
    simulator = ShipStationSimulator(rate_limit=5, rate_window_seconds=1.0)
    key_id = f"fleet-test-{random.getrandbits(40)}"
    results = FORK.Queue()
    with SimulatorServer(simulator) as server:
        workers = [FORK.Process(target=_call_shipstation, args=(server.url, key_id, 8, results)) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
    redis_client.delete(f"ordersync:ratelimit:{key_id}")

    assert [worker.exitcode for worker in workers] == [0, 0]
    assert sorted(results.get(timeout=1) for _ in workers) == [8, 8]
    stats = simulator.stats
    assert stats.requests == 16
    assert stats.real_429s == 0
    assert stats.max_per_window <= 5
    assert stats.windows >= 4  # 16 requests at most 4 (limit minus the reserve) per window


# --- one cycle per store ---------------------------------------------------------------------------

def test_a_second_holder_is_kept_out_until_the_first_releases(lock_backend, store_id):
    with store_lock(store_id, "import", timeout=5) as first:
        assert first is not None and first.still_held()
        with store_lock(store_id, "import", timeout=5, wait=0.2) as second:
            assert second is None
        with store_lock(store_id, "update", timeout=5) as other_kind:
            assert other_kind is not None  # imports and updates of a store run side by side

    with store_lock(store_id, "import", timeout=5) as later:
        assert later.token > first.token
    assert not first.still_held()


def _hold_until_killed(store_id: int, timeout: float, tokens) -> None:
    with store_lock(store_id, "import", timeout=timeout) as token:
        tokens.put(token.token)
        signal.pause()


def test_the_lock_of_a_killed_worker_is_taken_over_with_a_higher_token(lock_backend, store_id):
    tokens = FORK.Queue()
    holder = FORK.Process(target=_hold_until_killed, args=(store_id, 0.5, tokens))
    holder.start()
    dead_token = tokens.get(timeout=10)
    with store_lock(store_id, "import", timeout=5, wait=0) as while_alive:
        assert while_alive is None

    os.kill(holder.pid, signal.SIGKILL)
    holder.join()

    with store_lock(store_id, "import", timeout=5, wait=10) as successor:
        assert successor is not None
        assert successor.token > dead_token


def test_a_live_holder_keeps_its_lock_past_the_timeout(redis_settings, store_id):
    with store_lock(store_id, "import", timeout=0.3) as holder:
        with store_lock(store_id, "import", timeout=0.3, wait=1.0) as rival:
            assert rival is None  # three timeouts passed; the holder renewed each time
        assert holder.still_held()


class OtherWorker:
    """Takes a store lock in a thread of its own (its own context, as another worker would) and holds it."""

    def __init__(self, store_id: int, kind: str):
        self.acquired = threading.Event()
        self.done = threading.Event()
        self.token = None
        self._thread = threading.Thread(target=self._run, args=(store_id, kind))

    def _run(self, store_id: int, kind: str) -> None:
        with store_lock(store_id, kind, timeout=30, wait=5) as token:
            self.token = token
            self.acquired.set()
            self.done.wait(timeout=30)

    def __enter__(self) -> OtherWorker:
        self._thread.start()
        assert self.acquired.wait(timeout=10)
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self._thread.join()


def test_a_stale_token_may_not_move_a_cursor(redis_settings, store_id):
    with store_lock(store_id, "import", timeout=30) as stalled:
        assert_cursor_may_move(store_id=store_id, kind="import")
        # The holder stalls past its timeout (a long GC pause, a frozen VM) and its lock expires.
        redis_settings.delete(f"{locks.KEY_PREFIX}{store_id}:import")
        with OtherWorker(store_id, "import") as successor:
            assert successor.token.token > stalled.token
            with pytest.raises(LockLost):
                assert_cursor_may_move(store_id=store_id, kind="import")
            with pytest.raises(LockLost):
                assert_lock_held(stalled)
            assert_cursor_may_move(store_id=store_id, kind="update")  # no lock of that kind held here
            assert successor.token.still_held()


def test_the_stale_holder_cannot_release_its_successors_lock(redis_settings, store_id):
    stale_block = store_lock(store_id, "import", timeout=30)
    stale_block.__enter__()
    redis_settings.delete(f"{locks.KEY_PREFIX}{store_id}:import")
    with store_lock(store_id, "import", timeout=30) as successor:
        stale_block.__exit__(None, None, None)  # the stalled worker wakes up and finishes
        assert successor.still_held()


def test_bad_kinds_are_refused(lock_backend, store_id):
    with pytest.raises(ValueError):
        with store_lock(store_id, "../etc", timeout=1):
            pass


# --- Order Time concurrency ------------------------------------------------------------------------

@pytest.fixture(params=["redis", "in-process"])
def slot_client(request):
    """The Redis client for shared call slots, or None for the in-process fallback."""
    if request.param == "in-process":
        yield None
        return
    client = request.getfixturevalue("redis_client")
    yield client
    for key in client.scan_iter(f"{SLOTS_KEY_PREFIX}*"):
        client.delete(key)


class Caller:
    """A thread talking to Order Time inside a slot, holding it until told to finish."""

    def __init__(self, limit: ConcurrencyLimit, *, dies: bool = False):
        self.started = threading.Event()
        self.finish = threading.Event()
        self.error: Exception | None = None
        self._thread = threading.Thread(target=self._run, args=(limit, dies))
        self._thread.start()

    def _run(self, limit: ConcurrencyLimit, dies: bool) -> None:
        # Kept on the caller: a collected generator would run its ``finally`` and free the slot.
        self._slot = slot = limit.slot()
        try:
            slot.__enter__()
        except SlotUnavailable as exc:
            self.error = exc
        self.started.set()
        self.finish.wait(timeout=30)
        if self.error is None and not dies:  # a worker killed mid-call never leaves the block
            slot.__exit__(None, None, None)

    def done(self) -> None:
        self.finish.set()
        self._thread.join()


def test_order_time_calls_are_limited_per_account(slot_client, store_id):
    limit = ConcurrencyLimit(store_id, limit=2, lease=30, wait=0, client=slot_client)
    other_account = ConcurrencyLimit(store_id + 1, limit=2, lease=30, wait=0, client=slot_client)
    first, second = Caller(limit), Caller(limit)
    for caller in (first, second):
        assert caller.started.wait(timeout=10) and caller.error is None
    assert limit.in_use() == 2

    third = Caller(limit)
    third.started.wait(timeout=10)
    assert isinstance(third.error, SlotUnavailable)
    assert isinstance(third.error, RateLimited)  # callers already treat it as "try again later"
    other = Caller(other_account)
    other.started.wait(timeout=10)
    assert other.error is None

    first.done()
    fourth = Caller(limit)
    fourth.started.wait(timeout=10)
    assert fourth.error is None
    for caller in (second, third, other, fourth):
        caller.done()
    assert limit.in_use() == 0


def test_the_slot_of_a_dead_worker_lapses(slot_client, store_id):
    limit = ConcurrencyLimit(store_id, limit=1, lease=0.3, wait=5, client=slot_client)
    dead = Caller(limit, dies=True)
    dead.started.wait(timeout=10)
    dead.done()
    assert limit.in_use() == 1

    with limit.slot():  # waits for the lease to lapse instead of for ever
        assert limit.in_use() == 1

    assert limit.in_use() == 0


def test_ordertime_slot_uses_the_accounts_shared_limit(redis_settings, store_id, settings):
    settings.ORDERSYNC_ORDERTIME_CONCURRENCY = 1
    with ordertime_slot(store_id):
        with pytest.raises(SlotUnavailable):
            with ordertime_slot(store_id, wait=0.1):
                pass


# --- commands and running cycles -------------------------------------------------------------------

@pytest.mark.parametrize(("command", "kind"), [("import_orders", "import"), ("update_shipments", "update")])
def test_a_command_that_finds_its_stores_cycle_running_says_so_and_exits_0(lock_backend, store, settings,
                                                                           command, kind):
    settings.ORDERSYNC_COMMAND_LOCK_WAIT = 0.3
    out = io.StringIO()
    with OtherWorker(store.pk, kind):
        call_command(command, "--store", store.name, stdout=out)  # a CommandError would mean exit 1

    assert f"{store.name}: {RunStatus.SKIPPED.label}" in out.getvalue()
    assert SyncRun.objects.get(store=store, kind=kind).status == RunStatus.SKIPPED


def test_a_command_waits_for_the_running_cycle_then_runs(lock_backend, store, settings):
    settings.ORDERSYNC_COMMAND_LOCK_WAIT = 10
    out = io.StringIO()
    with OtherWorker(store.pk, "update") as worker:
        threading.Timer(0.3, worker.done.set).start()  # the worker's cycle ends while the command waits
        call_command("update_shipments", "--store", store.name, stdout=out)

    assert f"{store.name}: {RunStatus.SUCCEEDED.label}" in out.getvalue()
    assert SyncRun.objects.get(store=store, kind="update").status == RunStatus.SUCCEEDED
