"""The Redis-backed ShipStation limiter against a real Redis (REDIS_TEST_URL, default db 15)."""

from __future__ import annotations

import os
import threading
import uuid

import pytest
import redis

from connections.clients.errors import RateLimited
from connections.clients.ratelimit_redis import STATE_TTL_SECONDS, RedisRateLimiter

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


def headers(limit: int, remaining: int, reset: float) -> dict[str, str]:
    return {"X-Rate-Limit-Limit": str(limit), "X-Rate-Limit-Remaining": str(remaining), "X-Rate-Limit-Reset": str(reset)}


class FakeClock:
    """A clock that only moves when slept on, shared by every limiter in a test."""

    def __init__(self, now: float = 1_000.0):
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_TEST_URL}: {exc}")
    yield client
    client.close()


@pytest.fixture
def key_prefix(redis_client):
    prefix = f"test:ratelimit:{uuid.uuid4().hex}:"
    yield prefix
    for key in redis_client.scan_iter(f"{prefix}*"):
        redis_client.delete(key)


@pytest.fixture
def make_limiter(redis_client, key_prefix):
    """A new limiter for the same API key each call: as if each ran in its own worker process."""

    def make(**options) -> RedisRateLimiter:
        client = redis.Redis.from_url(REDIS_TEST_URL)
        return RedisRateLimiter(client, "key-a", key_prefix=key_prefix, **options)

    return make


def test_headers_seen_by_one_worker_are_known_to_another(make_limiter):
    first, second = make_limiter(), make_limiter()

    first.after_response(headers(40, 12, 30), 200)

    state = second.state()
    assert (state.limit, state.remaining) == (40, 12)
    assert 29 <= state.reset_seconds <= 30


def test_a_request_reserves_a_slot_that_every_worker_sees(make_limiter):
    first, second = make_limiter(), make_limiter()
    first.after_response(headers(40, 10, 30), 200)

    first.before_request()
    first.before_request()

    assert second.state().remaining == 8


def test_concurrent_workers_never_take_more_slots_than_the_window_has(make_limiter):
    make_limiter().after_response(headers(10, 10, 60), 200)
    limiters = [make_limiter(max_wait=0) for _ in range(8)]
    sent: list[int] = []
    refused: list[float] = []
    start = threading.Barrier(len(limiters))

    def worker(limiter: RedisRateLimiter) -> None:
        start.wait()
        for _ in range(5):
            try:
                limiter.before_request()
            except RateLimited as exc:
                refused.append(exc.retry_after)
            else:
                sent.append(1)

    threads = [threading.Thread(target=worker, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(sent) == 9  # the limit minus the one request kept in reserve for other tools
    assert len(refused) == 8 * 5 - 9
    assert all(wait > 0 for wait in refused)


def test_a_429_pauses_every_worker_for_the_servers_reset(make_limiter):
    clock = FakeClock()
    unlucky = make_limiter(clock=clock, sleep=clock.sleep)
    other = make_limiter(clock=clock, sleep=clock.sleep, max_wait=5)

    unlucky.after_response(headers(40, 0, 20), 429)

    with pytest.raises(RateLimited) as refused:
        other.before_request()
    assert refused.value.retry_after == pytest.approx(20)


def test_a_worker_sleeps_until_the_window_resets_then_sends(make_limiter):
    clock = FakeClock()
    limiter = make_limiter(clock=clock, sleep=clock.sleep, reset_margin=0.5)
    limiter.after_response(headers(40, 1, 7), 200)

    limiter.before_request()

    assert clock.slept == [pytest.approx(7.5)]
    assert limiter.state().remaining == 39  # a fresh window of 40, one slot taken


def test_the_in_memory_and_redis_limiters_agree_step_by_step(make_limiter):
    from connections.clients.ratelimit import InMemoryRateLimiter

    clock = FakeClock()
    shared = make_limiter(clock=clock, sleep=clock.sleep)
    local = InMemoryRateLimiter(clock=clock, sleep=clock.sleep)
    steps = [("response", headers(40, 3, 10), 200), ("request",), ("request",), ("response", headers(40, 1, 9), 200),
             ("request",), ("response", headers(40, 0, 5), 429), ("request",)]

    for step in steps:
        for limiter in (shared, local):
            if step[0] == "request":
                limiter.before_request()
            else:
                limiter.after_response(step[1], step[2])
        assert shared.state() == local.state()


def test_keys_are_separate_and_state_expires(redis_client, make_limiter, key_prefix):
    limiter = make_limiter()
    other_key = RedisRateLimiter(redis_client, "key-b", key_prefix=key_prefix)

    limiter.after_response(headers(40, 2, 30), 200)

    assert other_key.state().remaining is None
    assert 0 < redis_client.ttl(limiter.key) <= STATE_TTL_SECONDS


def test_unreadable_state_is_treated_as_unknown(redis_client, make_limiter):
    limiter = make_limiter()
    redis_client.set(limiter.key, "not json")

    limiter.before_request()

    assert limiter.state().remaining is None


def test_the_first_answer_of_a_new_window_does_not_return_slots_taken_by_requests_in_flight(make_limiter):
    clock = FakeClock()
    limiter = make_limiter(clock=clock, sleep=clock.sleep, reserve=0)
    limiter.after_response(headers(10, 4, 1), 200)
    clock.now += 2  # the window has reset

    for _ in range(5):
        limiter.before_request()  # five requests of the new window in flight
    limiter.after_response(headers(10, 9, 2), 200)  # the server has counted only the first so far

    assert limiter.state().remaining == 5
