"""The header-fed ShipStation rate limiter (shipstation-v1.md §2) with an injected clock."""

from __future__ import annotations

import threading
from dataclasses import asdict

import pytest

from connections.clients.errors import RateLimited
from connections.clients.ratelimit import (
    InMemoryRateLimiter,
    RateLimitWindow,
    plan_request,
    record_response,
)


def headers(limit: int, remaining: int, reset: float) -> dict[str, str]:
    return {"X-Rate-Limit-Limit": str(limit), "X-Rate-Limit-Remaining": str(remaining), "X-Rate-Limit-Reset": str(reset)}


class FakeClock:
    """Time that only moves when someone sleeps on it."""

    def __init__(self, now: float = 1_000.0):
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limiter(clock) -> InMemoryRateLimiter:
    return InMemoryRateLimiter(clock=clock, sleep=clock.sleep, reset_margin=0.5)


def test_knows_nothing_before_the_first_answer_and_sends_at_once(limiter, clock):
    limiter.before_request()

    assert clock.slept == []
    state = limiter.state()
    assert (state.limit, state.remaining, state.reset_seconds) == (None, None, None)


def test_state_reports_what_the_headers_said(limiter, clock):
    limiter.after_response(headers(40, 17, 20), 200)
    clock.now += 5

    state = limiter.state()
    assert (state.limit, state.remaining) == (40, 17)
    assert state.reset_seconds == pytest.approx(15)


def test_sends_without_waiting_while_above_the_reserve(limiter, clock):
    limiter.after_response(headers(40, 3, 30), 200)

    limiter.before_request()
    limiter.before_request()

    assert clock.slept == []
    assert limiter.state().remaining == 1


def test_waits_for_the_window_to_reset_when_only_the_reserve_is_left(limiter, clock):
    limiter.after_response(headers(40, 1, 20), 200)

    limiter.before_request()

    assert clock.slept == [pytest.approx(20.5)]  # Reset plus the margin
    assert limiter.state().remaining == 39  # a fresh window, one request already counted


def test_reserve_is_configurable(clock):
    limiter = InMemoryRateLimiter(clock=clock, sleep=clock.sleep, reserve=5, reset_margin=0)
    limiter.after_response(headers(40, 5, 10), 200)

    limiter.before_request()

    assert clock.slept == [10]


def test_a_429_blocks_for_the_servers_reset(limiter, clock):
    limiter.after_response(headers(40, 0, 12), 429)

    limiter.before_request()

    assert clock.slept == [12]


def test_a_429_without_reset_blocks_for_a_minute(limiter, clock):
    limiter.after_response({}, 429)

    limiter.before_request()

    assert clock.slept == [60]


def test_a_wait_longer_than_max_wait_raises_instead_of_sleeping(clock):
    limiter = InMemoryRateLimiter(clock=clock, sleep=clock.sleep, max_wait=5)
    limiter.after_response(headers(40, 0, 30), 429)

    with pytest.raises(RateLimited) as raised:
        limiter.before_request()

    assert raised.value.retry_after == pytest.approx(30)
    assert clock.slept == []


def test_in_flight_requests_are_not_forgotten_when_an_older_answer_arrives(limiter, clock):
    limiter.after_response(headers(40, 10, 30), 200)
    for _ in range(5):
        limiter.before_request()  # five requests sent, none answered yet

    limiter.after_response(headers(40, 9, 30), 200)  # the answer to the first one

    assert limiter.state().remaining == 5


def test_concurrent_callers_never_take_more_slots_than_the_window_has(clock):
    class Refused(Exception):
        pass

    def refuse(seconds: float) -> None:
        raise Refused

    limiter = InMemoryRateLimiter(clock=clock, sleep=refuse)
    limiter.after_response(headers(10, 10, 60), 200)
    sent, refused = [], []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for _ in range(5):
            try:
                limiter.before_request()
            except Refused:
                refused.append(1)
            else:
                sent.append(1)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(sent) == 9  # the limit minus the reserve
    assert len(refused) == 40 - 9


def test_the_window_state_is_plain_data_that_can_be_stored_elsewhere():
    window = RateLimitWindow()
    record_response(window, 100.0, headers(40, 2, 30), 200, default_block=60)
    stored = asdict(window)

    restored = RateLimitWindow(**stored)

    assert plan_request(restored, 101.0, reserve=1, reset_margin=0) == 0
    assert plan_request(restored, 101.0, reserve=1, reset_margin=0) == pytest.approx(29)


@pytest.mark.parametrize("bad", ["", "soon", "-5", "nan"])
def test_unreadable_headers_are_ignored(limiter, clock, bad):
    limiter.after_response({"X-Rate-Limit-Remaining": bad, "X-Rate-Limit-Reset": bad}, 200)

    limiter.before_request()

    assert clock.slept == []
    assert limiter.state().remaining is None


def test_the_first_answer_of_a_new_window_keeps_the_slots_taken_by_requests_in_flight():
    window = RateLimitWindow(limit=40, remaining=0, reset_at=10.0, blocked_until=0.0)
    for _ in range(5):  # five senders start as soon as the window resets
        assert plan_request(window, 10.5, reserve=1, reset_margin=0.0) == 0.0
    assert window.remaining == 35

    # The first of them comes back; the server counted only itself so far.
    record_response(window, 10.6, {"X-Rate-Limit-Limit": "40", "X-Rate-Limit-Remaining": "39",
                                   "X-Rate-Limit-Reset": "59"}, 200, default_block=60.0)
    assert window.remaining == 35
