"""Both clients against broken or hostile servers, over real HTTP on loopback (issue 12 §4 / "Bounded
everything"): no answer can stall a worker, fill its memory, or slip past as something it is not.

Each server here is a few lines of WSGI that answers what the real services never should.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.wrappers import Request, Response

from connections.clients.errors import ProtocolError, RateLimited
from connections.clients.http import RetryPolicy
from connections.clients.ordertime import OrderTimeClient
from connections.clients.ratelimit import InMemoryRateLimiter
from connections.clients.shipstation import ShipStationClient
from sandbox.server import SimulatorServer

KEY, SECRET = "key", "secret"
NO_BACKOFF = RetryPolicy(base_delay=0, max_delay=0)
END = datetime(2026, 12, 1, tzinfo=UTC)
START = END - timedelta(days=1)


@pytest.fixture
def serve():
    """``serve(app)`` → the URL of a loopback server running the WSGI ``app`` for this test."""
    servers: list[SimulatorServer] = []

    def start(app: Callable) -> str:
        server = SimulatorServer(app).start()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()


def answering(body: bytes | Iterable[bytes], *, status: int = 200, content_type: str = "application/json",
              headers: dict[str, str] | None = None, counter: list | None = None) -> Callable:
    def app(environ, start_response):
        if counter is not None:
            counter.append(Request(environ).path)
        response = Response(body, status=status, content_type=content_type, headers=headers or {})
        return response(environ, start_response)
    return app


class FakeTime:
    """A clock that only moves when something sleeps, so a test sees every wait without spending it."""

    def __init__(self, sleeps: list[float] | None = None):
        self.now = 0.0
        self.sleeps = sleeps if sleeps is not None else []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def shipstation(url: str, *, sleeps: list[float] | None = None, **options) -> ShipStationClient:
    time = FakeTime(sleeps)
    limiter = options.pop("rate_limiter", None) or InMemoryRateLimiter(clock=time.clock, sleep=time.sleep)
    return ShipStationClient(url, KEY, SECRET, retry=options.pop("retry", NO_BACKOFF), sleep=time.sleep,
                             rate_limiter=limiter, **options)


def ordertime(url: str, **options) -> OrderTimeClient:
    return OrderTimeClient(f"{url}/api/shipstation", "user@example.com", KEY, retry=NO_BACKOFF,
                           sleep=lambda seconds: None, **options)


# --- rate-limit waits -----------------------------------------------------------------------------------


def test_a_reset_of_years_is_not_slept_through(serve):
    url = serve(answering(b"{}", status=429, headers={"X-Rate-Limit-Reset": "100000000"}))
    sleeps: list[float] = []
    client = shipstation(url, sleeps=sleeps)

    with pytest.raises(RateLimited):
        client.list_stores()

    assert sleeps, "the client waited between attempts"
    assert max(sleeps) <= 120
    # Not believed, so the shared window is not closed for years either: the default minute applies.
    assert client.rate_limit_state().reset_seconds <= 60


def test_a_wait_past_the_limit_stops_at_once_and_says_why(serve):
    calls: list[str] = []
    url = serve(answering(b"{}", status=429, headers={"X-Rate-Limit-Reset": "500"}, counter=calls))
    sleeps: list[float] = []
    client = shipstation(url, sleeps=sleeps)

    with pytest.raises(RateLimited) as raised:
        client.list_stores()

    assert len(calls) == 1 and sleeps == []
    assert "asked to wait 500 s, longer than the 120 s limit" in raised.value.message
    assert raised.value.retry_after == 500


def test_the_wait_limit_is_the_callers(serve):
    url = serve(answering(b"{}", status=429, headers={"X-Rate-Limit-Reset": "30"}))
    sleeps: list[float] = []
    client = shipstation(url, sleeps=sleeps, retry=RetryPolicy(base_delay=0, max_rate_limit_wait=10))

    with pytest.raises(RateLimited, match="longer than the 10 s limit"):
        client.list_stores()

    assert sleeps == []


def test_a_shared_limiter_refuses_a_long_wait_instead_of_holding_the_worker(serve):
    url = serve(answering(b"[]", headers={"X-Rate-Limit-Limit": "40", "X-Rate-Limit-Remaining": "0",
                                          "X-Rate-Limit-Reset": "3000"}))
    sleeps: list[float] = []
    time = FakeTime(sleeps)
    limiter = InMemoryRateLimiter(max_wait=120, clock=time.clock, sleep=time.sleep)
    client = shipstation(url, sleeps=sleeps, rate_limiter=limiter)
    client.list_stores()

    with pytest.raises(RateLimited, match="longer than the 120 s limit"):
        client.list_stores()

    assert sleeps == []


# --- page counts ------------------------------------------------------------------------------------------


def export(pages: str, orders: int = 1) -> bytes:
    order = "<Order><OrderID>1</OrderID><OrderNumber>1</OrderNumber></Order>"
    return f'<?xml version="1.0" encoding="utf-8"?><Orders pages="{pages}">{order * orders}</Orders>'.encode()


def test_an_export_claiming_thirty_million_pages_is_refused_not_walked(serve):
    url = serve(answering(export("30000000"), content_type="text/xml"))

    with pytest.raises(ProtocolError, match="claims 30000000 pages, more than the limit of 10000"):
        ordertime(url).export_page(START, END, 1)


def test_the_page_limit_is_the_callers(serve):
    url = serve(answering(export("12"), content_type="text/xml"))

    assert ordertime(url, max_pages=12).export_page(START, END, 1).pages == 12
    with pytest.raises(ProtocolError, match="more than the limit of 11"):
        ordertime(url, max_pages=11).export_page(START, END, 1)


# --- body size --------------------------------------------------------------------------------------------

LIMIT = 64 * 1024


def test_a_body_past_the_limit_is_refused(serve):
    url = serve(answering(b"[" + b"1," * LIMIT + b"1]"))

    with pytest.raises(ProtocolError, match=f"larger than the {LIMIT} bytes limit"):
        shipstation(url, max_response_bytes=LIMIT).list_carriers()


def test_a_streamed_body_without_a_length_is_cut_at_the_limit(serve):
    sent: list[int] = []

    def endless():
        for _ in range(10_000):  # 640 MB if it were all read
            sent.append(1)
            yield b" " * LIMIT

    url = serve(answering(endless()))

    with pytest.raises(ProtocolError, match="larger than the"):
        shipstation(url, max_response_bytes=LIMIT).list_carriers()

    assert len(sent) < 100


def test_a_gzip_bomb_is_refused_by_its_unpacked_size(serve):
    bomb = gzip.compress(b"[" + b" " * (50 * 1024 * 1024) + b"]")
    assert len(bomb) < 100 * 1024
    url = serve(answering(bomb, headers={"Content-Encoding": "gzip"}))

    with pytest.raises(ProtocolError, match="larger than the 1 MB limit"):
        shipstation(url, max_response_bytes=1024 * 1024).list_carriers()


def test_a_body_within_the_limit_reads_as_before(serve):
    url = serve(answering(json.dumps([{"code": "ups", "name": "UPS"}]).encode()))

    assert shipstation(url, max_response_bytes=LIMIT).list_carriers() == [{"code": "ups", "name": "UPS"}]


# --- decoding ---------------------------------------------------------------------------------------------


def test_a_utf16_mark_followed_by_bad_bytes_is_a_protocol_error(serve):
    url = serve(answering(b"\xff\xfe<\x00O\x00\x00\xd8", content_type="text/xml"))

    with pytest.raises(ProtocolError, match="not valid UTF-16"):
        ordertime(url).export_page(START, END, 1)


def test_json_that_is_not_utf_is_a_protocol_error(serve):
    url = serve(answering(b"\xff\xfe\x00\xd8\x00\xd8"))

    with pytest.raises(ProtocolError, match="not JSON"):
        shipstation(url).list_carriers()


def test_deeply_nested_json_is_a_protocol_error(serve):
    url = serve(answering(b"[" * 100_000 + b"]" * 100_000))

    with pytest.raises(ProtocolError, match="not JSON"):
        shipstation(url).list_carriers()


# --- booleans ---------------------------------------------------------------------------------------------


def test_success_false_as_a_string_is_not_success(serve):
    body = {"hasErrors": "false", "results": [
        {"orderKey": "k1", "orderNumber": "1", "orderId": 11, "success": "false", "errorMessage": None},
        {"orderKey": "k2", "orderNumber": "2", "orderId": 12, "success": True, "errorMessage": None},
    ]}
    url = serve(answering(json.dumps(body).encode()))

    result = shipstation(url).create_orders([{"orderKey": "k1", "orderNumber": "1"},
                                             {"orderKey": "k2", "orderNumber": "2"}])

    first, second = result.results
    assert not first.success and 'success="false", not true or false' in first.error_message
    assert second.success
    assert result.has_errors


@pytest.mark.parametrize("value", ['"false"', "0", '"true"'])
def test_a_voided_flag_that_is_not_a_boolean_is_a_protocol_error(serve, value):
    shipment = ('{"shipmentId": 1, "orderId": 2, "orderKey": "k", "orderNumber": "1", '
                '"createDate": "2026-12-01T10:00:00.0000000", "shipDate": "2026-12-01", '
                f'"trackingNumber": "1Z", "voided": {value}}}')
    url = serve(answering(f'{{"shipments": [{shipment}], "total": 1, "page": 1, "pages": 1}}'.encode()))

    with pytest.raises(ProtocolError, match=f"voided={value}, not true or false"):
        list(shipstation(url).iter_shipments())
