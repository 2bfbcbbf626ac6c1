"""ShipStationClient against the ShipStation simulator over real HTTP on loopback (shipstation-v1.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests
from werkzeug.wrappers import Request, Response

from connections.clients.errors import (
    AuthenticationFailed,
    NotFound,
    RequestRejected,
    ServerError,
    Unreachable,
)
from connections.clients.http import RetryPolicy
from connections.clients.ratelimit import InMemoryRateLimiter
from connections.clients.shipstation import ShipStationClient, is_trusted_resource_url
from sandbox.server import SimulatorServer
from sandbox.shipstation import ShipStationSimulator

KEY, SECRET = "demo-key", "demo-secret"
NOW = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
NO_BACKOFF = RetryPolicy(base_delay=0, max_delay=0)


def no_sleep(seconds: float) -> None:
    """Retries in these tests must not slow them down."""


class FakeClock:
    """Shared by simulator and client: the client's sleeps move the simulator's rate-limit window."""

    def __init__(self, now: float = 10_000.0):
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def order(key: str, number: str | None = None, **changes) -> dict:
    body = {
        "orderNumber": number or key.upper(),
        "orderKey": key,
        "orderDate": "2026-03-02 09:15:00",
        "orderStatus": "awaiting_shipment",
        "customerEmail": "buyer@example.com",
        "billTo": {"name": "Ada Buyer"},
        "shipTo": {"name": "Ada Buyer", "street1": "1 Main St", "city": "Austin", "state": "TX",
                   "postalCode": "78701", "country": "US"},
        "items": [
            {"lineItemKey": "L1", "sku": "SKU-1", "name": "Widget", "quantity": 2, "unitPrice": 9.99},
            {"lineItemKey": "L2", "sku": "SKU-2", "name": "Gadget", "quantity": 1, "unitPrice": 5.0},
        ],
        "advancedOptions": {"storeId": 22766, "customField1": "cf-1", "source": "Order Time"},
    }
    body.update(changes)
    return body


class CurrentApp:
    """One loopback server for the module (stopping one takes half a second); each test gets a new simulator."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def served():
    current = CurrentApp()
    with SimulatorServer(current) as running:
        yield running, current


@pytest.fixture
def serve(served):
    """Put a simulator of the test's own making behind the loopback server."""
    running, current = served

    def attach(sim: ShipStationSimulator):
        current.app = sim
        sim.base_url = running.url
        return running

    return attach


@pytest.fixture
def server(serve, sim):
    return serve(sim)


@pytest.fixture
def sim() -> ShipStationSimulator:
    return ShipStationSimulator(KEY, SECRET, rate_limit=10_000, now=lambda: NOW)


@pytest.fixture
def client(server) -> ShipStationClient:
    return ShipStationClient(server.url, KEY, SECRET, retry=NO_BACKOFF, sleep=no_sleep)


def raw_post(server, path: str, body) -> requests.Response:
    return requests.post(f"{server.url}{path}", json=body, auth=(KEY, SECRET), timeout=5)


# ---------------------------------------------------------------- stores


def test_lists_stores_including_inactive_ones(client):
    stores = {s.store_id: s for s in client.list_stores()}

    assert stores[22766].store_name == "ShipStation Manual Store"
    assert stores[22766].marketplace_name == "ShipStation"
    assert stores[26001].active is False


def test_active_only_list_leaves_inactive_stores_out(client):
    assert 26001 not in {s.store_id for s in client.list_stores(show_inactive=False)}


def test_check_store_accepts_an_active_store(client):
    assert client.check_store(25748).store_name == "Ashley's Test WooCommerce"


def test_check_store_reports_an_unknown_store(client):
    with pytest.raises(NotFound, match="ShipStation store 999 not found"):
        client.check_store(999)


def test_check_store_reports_an_inactive_store(client):
    with pytest.raises(RequestRejected, match="ShipStation store 26001 is inactive"):
        client.check_store(26001)


def test_bad_credentials_are_reported_in_words_and_not_retried(server, sim):
    client = ShipStationClient(server.url, KEY, "wrong-secret", retry=NO_BACKOFF, sleep=no_sleep)

    with pytest.raises(AuthenticationFailed, match="ShipStation rejected the API key or secret"):
        client.list_stores()

    assert client.calls == 1
    assert sim.stats.unauthorized == 1


# ---------------------------------------------------------------- createorders


def test_sending_an_order_twice_upserts_one_order_by_key(client, sim, server):
    first = client.create_orders([order("ot-s1-1")])
    second = client.create_orders([order("ot-s1-1", shipTo={"name": "New Name", "country": "US"})])

    assert first.results[0].success and second.results[0].success
    assert first.results[0].order_id == second.results[0].order_id
    listing = requests.get(f"{server.url}/_sim/orders", timeout=5).json()
    assert len(listing["orders"]) == 1
    assert listing["orders"][0]["shipTo"]["name"] == "New Name"
    assert listing["create_calls_by_key"] == {"ot-s1-1": 2}


def test_the_stored_order_keeps_what_was_sent(client):
    result = client.create_orders([order("ot-s1-2")])

    stored = client.get_order(result.results[0].order_id)

    assert stored["orderKey"] == "ot-s1-2"
    assert stored["orderDate"] == "2026-03-02T09:15:00.0000000"
    assert stored["advancedOptions"]["storeId"] == 22766
    assert stored["orderTotal"] == pytest.approx(24.98)
    assert [i["lineItemKey"] for i in stored["items"]] == ["L1", "L2"]


def test_results_are_matched_to_orders_by_key(client):
    result = client.create_orders([order("ot-a"), order("ot-b")])

    assert set(result.by_key()) == {"ot-a", "ot-b"}
    assert result.by_key()["ot-b"].order_number == "OT-B"
    assert result.has_errors is False


def test_the_simulator_refuses_more_than_100_orders_in_one_call(server, sim):
    answer = raw_post(server, "/orders/createorders", [order(f"k{i}") for i in range(101)])

    assert answer.status_code == 400
    assert answer.json()["Message"] == "The request is invalid."
    assert "maximum of 100" in answer.json()["ModelState"]["orders"][0]
    assert sim.order_list() == []


def test_the_client_refuses_more_than_100_orders_without_calling(client):
    with pytest.raises(ValueError, match="at most 100"):
        client.create_orders([order(f"k{i}") for i in range(101)])

    assert client.calls == 0


def test_one_bad_order_fails_alone_with_shipstations_message(client, sim):
    result = client.create_orders([order("ot-good"), order("ot-bad", shipTo={"name": "", "country": "US"})])

    assert result.has_errors is True
    by_key = result.by_key()
    assert by_key["ot-good"].success is True
    assert by_key["ot-bad"].success is False
    assert by_key["ot-bad"].error_message == "'Ship Name' must not be empty."
    assert [o["orderKey"] for o in sim.order_list()] == ["ot-good"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"billTo": {"name": " "}}, "'Bill Name' must not be empty."),
        ({"shipTo": {"name": "X", "country": "USA"}}, "Please use a 2 character country code"),
        ({"orderNumber": "N" * 51}, "'Order Number' must be 50 characters or fewer"),
        ({"orderStatus": "open"}, "'Order Status' must be one of"),
        ({"orderDate": "03/02/2026"}, "'Order Date' is not a valid date"),
        ({"items": [{"name": None, "quantity": 1, "unitPrice": 1}]}, "'Name' must not be empty."),
    ],
)
def test_per_order_validation_messages(client, changes, message):
    result = client.create_orders([order("ot-v", **changes)])

    assert result.results[0].success is False
    assert message in result.results[0].error_message


def test_a_type_error_rejects_the_whole_call_with_a_readable_message(client, sim):
    bad = order("ot-t", items=[{"name": "Widget", "quantity": 1, "unitPrice": "abc"}])

    with pytest.raises(RequestRejected, match="Could not convert string to decimal: abc") as raised:
        client.create_orders([order("ot-fine"), bad])

    assert raised.value.status == 400
    assert sim.order_list() == []


def test_a_shipped_order_is_locked_against_updates(client, sim):
    created = client.create_orders([order("ot-lock")]).results[0]
    sim.create_label(order_key="ot-lock")

    again = client.create_orders([order("ot-lock", customerEmail="changed@example.com")]).results[0]

    assert again.success is False
    assert again.order_id == created.order_id
    assert "shipped" in again.error_message
    assert client.get_order(created.order_id)["customerEmail"] == "buyer@example.com"


def test_locked_order_message_is_an_option(server, sim, client):
    sim.locked_order_message = "Order {orderNumber} is locked."
    client.create_orders([order("ot-lock2")])
    sim.create_label(order_key="ot-lock2")

    assert client.create_orders([order("ot-lock2")]).results[0].error_message == "Order OT-LOCK2 is locked."


# ---------------------------------------------------------------- createorder (one order per call)


def test_create_order_answers_the_complete_stored_order(client, sim):
    answer = client.create_order(order("ot-one"))

    assert isinstance(answer["orderId"], int)
    assert answer["orderKey"] == "ot-one"
    assert answer["orderNumber"] == "OT-ONE"
    assert answer["orderDate"] == "2026-03-02T09:15:00.0000000"
    assert answer["createDate"] == answer["modifyDate"] == "2026-03-02T12:00:00.0000000"  # NOW, Pacific
    assert answer["orderTotal"] == pytest.approx(24.98)
    assert [i["lineItemKey"] for i in answer["items"]] == ["L1", "L2"]
    assert all(isinstance(i["orderItemId"], int) for i in answer["items"])
    assert answer["advancedOptions"]["storeId"] == 22766
    assert answer["shipTo"]["addressVerified"] == "Address not yet validated"
    assert client.get_order(answer["orderId"]) == answer
    assert sim.stats.createorder_calls == 1
    assert (sim.stats.createorders_calls, sim.stats.orders_per_call) == (0, [])


def test_create_order_upserts_by_order_key(client, sim, server):
    first = client.create_order(order("ot-up"))
    second = client.create_order(order("ot-up", shipTo={"name": "New Name", "country": "US"}))

    assert second["orderId"] == first["orderId"]
    assert second["shipTo"]["name"] == "New Name"
    listing = requests.get(f"{server.url}/_sim/orders", timeout=5).json()
    assert [o["orderId"] for o in listing["orders"]] == [first["orderId"]]
    assert listing["create_calls_by_key"] == {"ot-up": 2}
    stats = requests.get(f"{server.url}/_sim/stats", timeout=5).json()
    assert stats["createorder_calls"] == 2 and stats["createorders_calls"] == 0


def test_createorder_and_createorders_upsert_the_same_order(client, sim):
    created = client.create_orders([order("ot-both")]).results[0]

    updated = client.create_order(order("ot-both", customerEmail="changed@example.com"))

    assert updated["orderId"] == created.order_id
    assert [o["customerEmail"] for o in sim.order_list()] == ["changed@example.com"]


def test_createorder_rejects_an_array_in_aspnet_model_state_form(server, sim):
    answer = raw_post(server, "/orders/createorder", [order("ot-arr")])

    assert answer.status_code == 400
    body = answer.json()
    assert body["Message"] == "The request is invalid."
    assert list(body["ModelState"]) == ["order"]
    assert body["ModelState"]["order"][0].startswith("Cannot deserialize the current JSON array")
    assert "requires a JSON object" in body["ModelState"]["order"][0]
    assert sim.order_list() == []
    assert sim.stats.requests == 1  # rejected, but counted against the limit


def test_the_client_refuses_a_list_for_create_order_without_calling(client):
    with pytest.raises(TypeError, match="one order"):
        client.create_order([order("ot-list")])

    assert client.calls == 0


def test_createorder_rejects_a_body_that_is_not_json(server, sim):
    answer = requests.post(f"{server.url}/orders/createorder", data="{not json", auth=(KEY, SECRET),
                           headers={"Content-Type": "application/json"}, timeout=5)

    assert answer.status_code == 400
    assert answer.json()["ModelState"]["order"][0].startswith("Unexpected character encountered")


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"items": [{"name": "Widget", "quantity": 1, "unitPrice": "abc"}]}, "order.items[0].unitPrice",
         "Could not convert string to decimal: abc"),
        ({"gift": "yes"}, "order.gift", "to type 'boolean'"),
        ({"shipTo": "1 Main St, Austin TX"}, "order.shipTo", "to type 'object'"),
        ({"orderNumbr": "X-1"}, "order.orderNumbr", "Could not find member 'orderNumbr'"),
    ],
)
def test_createorder_rejects_what_swaggers_schema_does_not_know(server, sim, changes, field, reason):
    answer = raw_post(server, "/orders/createorder", order("ot-schema", **changes))

    assert answer.status_code == 400
    body = answer.json()
    assert body["Message"] == "The request is invalid."
    assert list(body["ModelState"]) == [field]
    assert reason in body["ModelState"][field][0]
    assert sim.order_list() == []
    assert sim.stats.createorder_calls == 0  # refused before the upsert


def test_a_schema_error_reaches_the_client_as_a_readable_rejection(client, sim):
    bad = order("ot-t1", items=[{"name": "Widget", "quantity": 1, "unitPrice": "abc"}])

    reason = r"order\.items\[0\]\.unitPrice: Could not convert string to decimal: abc"
    with pytest.raises(RequestRejected, match=reason) as raised:
        client.create_order(bad)

    assert raised.value.status == 400
    assert client.calls == 1  # a 400 is permanent: not retried
    assert sim.order_list() == []


def test_createorder_rejects_an_order_breaking_the_rules_with_shipstations_message(client, sim):
    with pytest.raises(RequestRejected, match="'Ship Name' must not be empty.") as raised:
        client.create_order(order("ot-noname", shipTo={"name": "", "country": "US"}))

    assert raised.value.status == 400
    assert sim.order_list() == []


def test_createorder_does_not_change_a_shipped_order(client, sim):
    created = client.create_order(order("ot-lock1"))
    sim.create_label(order_key="ot-lock1")

    with pytest.raises(RequestRejected, match="is shipped and can no longer be modified") as raised:
        client.create_order(order("ot-lock1", customerEmail="changed@example.com"))

    assert raised.value.status == 400
    stored = client.get_order(created["orderId"])
    assert stored["orderStatus"] == "shipped"
    assert stored["customerEmail"] == "buyer@example.com"


def test_createorder_counts_against_the_same_rate_limit(serve):
    clock = FakeClock()
    sim = ShipStationSimulator(KEY, SECRET, rate_limit=2, clock=clock)
    server = serve(sim)

    first = raw_post(server, "/orders/createorder", order("ot-r1"))
    second = raw_post(server, "/orders/createorder", order("ot-r2"))
    third = raw_post(server, "/orders/createorders", [order("ot-r3")])

    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 429]
    assert [a.headers["X-Rate-Limit-Remaining"] for a in (first, second, third)] == ["1", "0", "0"]
    assert third.json() == {"message": "Too Many Requests"}
    assert (sim.stats.requests, sim.stats.real_429s, sim.stats.createorder_calls) == (3, 1, 2)
    assert sim.stats.createorders_calls == 0  # the 429 was answered before the call ran
    assert [o["orderKey"] for o in sim.order_list()] == ["ot-r1", "ot-r2"]


def test_create_order_waits_out_a_429_and_succeeds(serve):
    clock = FakeClock()
    sim = ShipStationSimulator(KEY, SECRET, rate_limit=3, clock=clock)
    server = serve(sim)
    for _ in range(3):  # another tool using the same key spends the window
        assert raw_post(server, "/orders/createorder", order("ot-other")).ok
    limiter = InMemoryRateLimiter(clock=clock, sleep=clock.sleep)
    client = ShipStationClient(server.url, KEY, SECRET, retry=NO_BACKOFF, sleep=clock.sleep, rate_limiter=limiter)

    answer = client.create_order(order("ot-mine"))

    assert answer["orderKey"] == "ot-mine"
    assert sim.stats.real_429s == 1
    assert client.calls == 2
    assert clock.slept[0] == 60  # the 429's X-Rate-Limit-Reset
    assert client.rate_limit_state().remaining == 2
    assert sim.stats.createorder_calls == 4


def test_create_order_without_a_key_is_not_retried_after_a_5xx(client, sim):
    sim.faults.update(fail_next=[500])
    keyless = order("unused")
    del keyless["orderKey"]

    with pytest.raises(ServerError):
        client.create_order(keyless)

    assert client.calls == 1  # a retry could create the order twice (§7.1)
    assert sim.order_list() == []


def test_create_order_with_a_key_is_retried_after_a_5xx(client, sim):
    sim.faults.update(fail_next=[500, 503])

    answer = client.create_order(order("ot-retry"))

    assert client.calls == 3
    assert [o["orderId"] for o in sim.order_list()] == [answer["orderId"]]


def test_iter_orders_filters_by_order_number_prefix(client):
    client.create_orders([order("a", "1187"), order("b", "11870"), order("c", "2000")])

    numbers = sorted(o["orderNumber"] for o in client.iter_orders(orderNumber="1187"))

    assert numbers == ["1187", "11870"]


def test_get_order_of_an_unknown_id(client):
    with pytest.raises(NotFound, match="ShipStation order 42 not found"):
        client.get_order(42)


# ---------------------------------------------------------------- rate limits, retries, timeouts


def test_after_a_429_the_client_waits_for_reset_and_succeeds(serve):
    clock = FakeClock()
    sim = ShipStationSimulator(KEY, SECRET, rate_limit=3, clock=clock)
    server = serve(sim)
    for _ in range(3):  # another tool using the same key spends the window
        assert requests.get(f"{server.url}/stores", auth=(KEY, SECRET), timeout=5).ok
    limiter = InMemoryRateLimiter(clock=clock, sleep=clock.sleep)
    client = ShipStationClient(server.url, KEY, SECRET, retry=NO_BACKOFF, sleep=clock.sleep, rate_limiter=limiter)

    stores = client.list_stores()

    assert stores
    assert sim.stats.real_429s == 1
    assert client.calls == 2
    assert clock.slept[0] == 60  # the 429's X-Rate-Limit-Reset


def test_the_limiter_slows_down_before_the_limit_instead_of_hitting_it(serve):
    clock = FakeClock()
    sim = ShipStationSimulator(KEY, SECRET, rate_limit=4, clock=clock)
    server = serve(sim)
    limiter = InMemoryRateLimiter(clock=clock, sleep=clock.sleep, reserve=1)
    client = ShipStationClient(server.url, KEY, SECRET, retry=NO_BACKOFF, sleep=clock.sleep, rate_limiter=limiter)

    for _ in range(10):
        client.list_carriers()

    stats = sim.stats
    assert stats.real_429s == 0
    assert stats.max_per_window <= 3  # the limit minus the reserve
    assert clock.slept and all(s > 0 for s in clock.slept)
    assert client.rate_limit_state().limit == 4


def test_an_injected_429_carries_the_headers_and_is_retried(serve):
    clock = FakeClock()
    sim = ShipStationSimulator(KEY, SECRET, clock=clock)
    server = serve(sim)
    limiter = InMemoryRateLimiter(clock=clock, sleep=clock.sleep)
    client = ShipStationClient(server.url, KEY, SECRET, retry=NO_BACKOFF, sleep=clock.sleep, rate_limiter=limiter)
    sim.faults.update(fail_next=[429])

    assert client.list_carriers()
    assert sim.stats.injected_429s == 1
    assert sim.stats.real_429s == 0
    assert clock.slept[0] == 60  # the window's Reset, carried by the injected 429
    assert client.rate_limit_state().remaining == sim.rate_limit - 1


def test_a_passing_5xx_is_retried(client, sim):
    sim.faults.update(fail_next=[500, 503])

    assert client.list_stores()
    assert client.calls == 3
    assert sim.stats.injected_500s == 2


def test_a_persistent_5xx_becomes_server_error(client, sim):
    sim.faults.update(error_rate=1.0, seed=1)

    with pytest.raises(ServerError) as raised:
        client.list_stores()

    assert raised.value.status == 500
    assert "An error has occurred." in raised.value.excerpt
    assert client.calls == NO_BACKOFF.attempts


def test_a_slow_answer_becomes_unreachable(server, sim):
    sim.faults.update(latency_rate=1.0, latency_seconds=0.5)
    client = ShipStationClient(server.url, KEY, SECRET, timeout=(1.0, 0.1), retry=RetryPolicy(attempts=2, base_delay=0),
                               sleep=no_sleep)

    with pytest.raises(Unreachable, match="ShipStation did not answer"):
        client.list_stores()

    assert client.calls == 2


def test_shipments_halve_the_page_size_on_a_5xx(client, sim):
    client.create_orders([order(f"h{i}") for i in range(3)])
    for i in range(3):
        sim.create_label(order_key=f"h{i}")
    sim.faults.update(fail_next=[500] * NO_BACKOFF.attempts)

    shipments = list(client.iter_shipments(page_size=4))

    assert len(shipments) == 3
    assert client.calls == 1 + NO_BACKOFF.attempts + 2  # createorders, the failures, two pages of 2


# ---------------------------------------------------------------- shipments


def _labelled_orders(client, sim, count: int, **label_options) -> list[dict]:
    client.create_orders([order(f"ot-{i}") for i in range(count)])
    return [
        sim.create_label(order_key=f"ot-{i}", create_date=datetime(2026, 3, 2, 10, i, tzinfo=UTC), **label_options)
        for i in range(count)
    ]


def test_shipments_are_paged_even_when_pages_says_zero(client, sim):
    sim.pages_zero = True
    labels = _labelled_orders(client, sim, 5)

    shipments = list(client.iter_shipments(page_size=2))

    assert [s.shipment_id for s in shipments] == [label["shipmentId"] for label in labels]
    assert client.calls == 3 + 1  # three pages plus createorders


def test_shipment_fields_are_parsed(client, sim):
    _labelled_orders(client, sim, 1, shipment_cost=Decimal("7.25"), insurance_cost=Decimal("1.10"),
                     tracking_number="1ZTRACK", items=[{"lineItemKey": "L1", "quantity": 1}])

    [shipment] = client.iter_shipments(store_id=22766)

    assert shipment.order_key == ""  # SW's example has no orderKey: join on orderId
    assert shipment.order_number == "OT-0"
    assert shipment.shipment_cost == Decimal("7.25") and shipment.insurance_cost == Decimal("1.1")
    assert shipment.tracking_number == "1ZTRACK"
    assert shipment.create_date == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert shipment.store_id == 22766 and shipment.custom_field1 == "cf-1"
    assert [(i.line_item_key, i.sku, i.quantity) for i in shipment.items] == [("L1", "SKU-1", 1)]
    assert shipment.ship_to.name == "Ada Buyer"


def test_shipment_items_only_when_asked_for(client, sim):
    _labelled_orders(client, sim, 1)

    [without] = client.iter_shipments(include_items=False)
    [with_items] = client.iter_shipments(include_items=True)

    assert without.items == ()
    assert [i.line_item_key for i in with_items.items] == ["L1", "L2"]


def test_create_date_start_limits_the_window(client, sim):
    _labelled_orders(client, sim, 3)

    shipments = list(client.iter_shipments(create_date_start=datetime(2026, 3, 2, 10, 1, tzinfo=UTC)))

    assert [s.order_number for s in shipments] == ["OT-1", "OT-2"]


def test_voids_are_found_by_void_date(client, sim):
    labels = _labelled_orders(client, sim, 2)
    sim.void_label(labels[1]["shipmentId"], void_date=datetime(2026, 3, 3, 18, 0, tzinfo=UTC))

    voided = list(client.iter_shipments(void_date_start=datetime(2026, 3, 3, 0, 0, tzinfo=UTC)))

    assert [s.shipment_id for s in voided] == [labels[1]["shipmentId"]]
    assert voided[0].voided is True
    assert voided[0].void_date == datetime(2026, 3, 3, 18, 0, tzinfo=UTC)


def test_a_return_label_is_listed_and_flagged(client, sim):
    client.create_orders([order("ot-r")])
    sim.create_label(order_key="ot-r")
    sim.create_label(order_key="ot-r", is_return_label=True)

    flags = [s.is_return_label for s in client.iter_shipments()]

    assert flags == [False, True]


def test_date_filters_in_another_format_are_rejected(server):
    answer = requests.get(f"{server.url}/shipments", params={"createDateStart": "2026-03-02T10:00:00Z"},
                          auth=(KEY, SECRET), timeout=5)

    assert answer.status_code == 400
    assert "createdatestart" in answer.json()["ModelState"]


# ---------------------------------------------------------------- fulfillments and markasshipped


def test_marked_shipped_orders_are_fulfillments_not_shipments(client):
    order_id = client.create_orders([order("ot-f")]).results[0].order_id

    reply = client.mark_as_shipped(order_id, "USPS", ship_date=datetime(2026, 3, 2, 23, 0, tzinfo=UTC).date(),
                                   tracking_number="9400TRACK")

    assert reply == {"orderId": order_id, "orderNumber": "OT-F"}
    [fulfillment] = client.iter_fulfillments(create_date_start=datetime(2026, 3, 1, tzinfo=UTC))
    assert (fulfillment.order_id, fulfillment.carrier_code, fulfillment.tracking_number) == (order_id, "USPS", "9400TRACK")
    assert fulfillment.ship_date.isoformat() == "2026-03-02"
    assert fulfillment.fulfillment_fee == Decimal("0")
    assert list(client.iter_shipments()) == []
    assert client.get_order(order_id)["orderStatus"] == "shipped"


# ---------------------------------------------------------------- carriers


def test_lists_carriers_and_services(client):
    codes = [c["code"] for c in client.list_carriers()]
    services = {s.code: s for s in client.list_services("fedex")}

    assert codes.count("stamps_com") == 2
    assert services["fedex_ground"].name == "FedEx Ground®"
    assert services["fedex_ground"].carrier_code == "fedex"
    assert {s.code for s in client.list_services("ups")} >= {"ups_ground"}


def test_unknown_carrier_services_are_rejected(client):
    with pytest.raises(RequestRejected, match="Invalid carrierCode"):
        client.list_services("pigeon")


# ---------------------------------------------------------------- webhooks


def test_webhooks_subscribe_list_delete(client):
    webhook_id = client.subscribe_webhook("https://ordersync.example.com/hooks/shipstation/1?s=x", store_id=22766)

    [hook] = client.list_webhooks()
    assert (hook.webhook_id, hook.hook_type, hook.store_id) == (webhook_id, "SHIP_NOTIFY", 22766)
    assert hook.url.endswith("?s=x") and hook.name == "Ordersync"

    client.delete_webhook(webhook_id)
    assert client.list_webhooks() == []
    with pytest.raises(NotFound):
        client.delete_webhook(webhook_id)


def test_webhook_list_as_a_bare_array(client, sim):
    sim.webhooks_bare_array = True
    client.subscribe_webhook("https://example.com/h")

    assert [h.url for h in client.list_webhooks()] == ["https://example.com/h"]


def test_a_label_notifies_and_the_resource_url_serves_the_batch_with_items(client, sim, server):
    client.subscribe_webhook("https://ordersync.example.com/hook", store_id=22766)
    client.create_orders([order("ot-w1"), order("ot-w2")])
    sim.create_label(order_key="ot-w1")
    label = sim.create_label(order_key="ot-w2")

    deliveries = sim.wait_for_deliveries(2)
    payload = deliveries[1]["payload"]
    assert payload["resource_type"] == "SHIP_NOTIFY"
    assert payload["resource_url"].endswith("includeShipmentItems=False")
    host = server.url.split("://", 1)[1]
    assert is_trusted_resource_url(payload["resource_url"], extra_hosts=[host], allow_http=True)

    [shipment] = client.iter_shipments_from_resource(payload["resource_url"])

    assert shipment.shipment_id == label["shipmentId"]
    assert [i.line_item_key for i in shipment.items] == ["L1", "L2"]


def test_webhooks_are_posted_to_the_target(sim):
    received = []

    def receiver(environ, start_response):
        received.append(Request(environ).get_json())
        return Response("ok")(environ, start_response)

    sim.deliver_webhooks = True
    with SimulatorServer(receiver) as target:
        sim.subscribe(f"{target.url}/hook", "SHIP_NOTIFY")
        sim.create_orders([order("ot-d")])
        sim.create_label(order_key="ot-d")
        [delivery] = sim.wait_for_deliveries(1)

    assert delivery["status"] == 200
    assert received == [delivery["payload"]]


def test_webhooks_of_other_stores_stay_quiet(sim):
    sim.subscribe("https://example.com/other", "SHIP_NOTIFY", store_id=25748)
    sim.create_orders([order("ot-q")])
    sim.create_label(order_key="ot-q")

    assert sim.deliveries == []


@pytest.mark.parametrize(
    ("url", "trusted"),
    [
        ("https://ssapi6.shipstation.com/shipments?batchId=1&includeShipmentItems=False", True),
        ("https://ssapi.shipstation.com/shipments?batchId=1", True),
        ("https://SSAPI12.ShipStation.com/shipments", True),
        ("https://evil.com/shipments?batchId=1", False),
        ("https://ssapi6.shipstation.com.evil.com/shipments", False),
        ("https://evilssapi.shipstation.com/shipments", False),
        ("http://ssapi6.shipstation.com/shipments", False),
        ("https://user:pw@ssapi6.shipstation.com/shipments", False),
        ("https://user@ssapi6.shipstation.com/shipments", False),
        ("https://ssapi6.shipstation.com:8443/shipments", False),
        ("https://ssapi6.shipstation.com:443/shipments", False),
        ("ftp://ssapi6.shipstation.com/shipments", False),
        ("not a url", False),
    ],
)
def test_resource_url_host_validation(url, trusted):
    assert is_trusted_resource_url(url) is trusted


def test_configured_simulator_hosts_are_trusted_only_as_configured():
    assert is_trusted_resource_url("http://127.0.0.1:8765/shipments", extra_hosts=["127.0.0.1:8765"], allow_http=True)
    assert not is_trusted_resource_url("http://127.0.0.1:8765/shipments", extra_hosts=["127.0.0.1:8765"])
    assert not is_trusted_resource_url("https://127.0.0.1:9999/shipments", extra_hosts=["127.0.0.1:8765"])


# ---------------------------------------------------------------- control endpoints


def test_control_endpoints_are_not_rate_limited_or_authenticated(server, sim):
    sim.rate_limit = 1
    requests.post(f"{server.url}/_sim/faults", json={"error_rate": 1.0}, timeout=5)

    for _ in range(3):
        assert requests.get(f"{server.url}/_sim/stats", timeout=5).status_code == 200

    assert sim.faults.config.error_rate == 1.0
    assert requests.post(f"{server.url}/_sim/reset", timeout=5).ok
    assert sim.faults.config.error_rate == 0.0


def test_labels_and_fulfillments_through_control_endpoints(server, client):
    order_id = client.create_orders([order("ot-c")]).results[0].order_id

    label = requests.post(f"{server.url}/_sim/labels", json={"order_key": "ot-c", "tracking_number": "T1"}, timeout=5)
    void = requests.post(f"{server.url}/_sim/labels/{label.json()['shipmentId']}/void", json={}, timeout=5)
    fulfilled = requests.post(f"{server.url}/_sim/fulfillments", json={"order_id": order_id}, timeout=5)

    assert label.json()["trackingNumber"] == "T1"
    assert void.json()["voided"] is True
    assert fulfilled.json()["orderId"] == order_id
    stats = requests.get(f"{server.url}/_sim/stats", timeout=5).json()
    assert stats["createorders_calls"] == 1 and stats["orders_per_call"] == [1]
