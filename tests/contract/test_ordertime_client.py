"""OrderTimeClient against the Order Time simulator over real HTTP on loopback.

One simulator server serves the module; every test starts from a reset simulator and a fresh clock.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import requests

from connections.clients.dates import PACIFIC, format_ordertime, parse_ordertime
from connections.clients.errors import AuthenticationFailed, NotFound, ProtocolError, ServerError, Unreachable
from connections.clients.http import RetryPolicy
from connections.clients.ordertime import OrderTimeClient, render_ship_notice
from sandbox.ordertime import ManualClock, OrderTimeSimulator, make_sample_docs, section5_sample_docs
from sandbox.server import SimulatorServer
from tests.ordertime_fixtures import ORDER_1187, SAMPLE_EXPORT_PAGE, SAMPLE_NOTICE, SAMPLE_NOTICE_QUERY, utc

USERNAME = "ops@example.com"
API_KEY = "0f8c4b2a-example-key"
ATTEMPTS = 3
SAMPLE_START, SAMPLE_END = utc(2025, 6, 2, 14, 0), utc(2025, 6, 2, 16, 0)
CLOCK_START = utc(2025, 6, 2, 16, 0)

CLOCK = ManualClock(CLOCK_START)


SIMULATOR = OrderTimeSimulator(username=USERNAME, api_key=API_KEY, now=CLOCK)


@pytest.fixture(scope="module")
def server():
    with SimulatorServer(SIMULATOR) as running:
        yield running


@pytest.fixture
def sim(server) -> OrderTimeSimulator:
    SIMULATOR.reset()
    CLOCK.set(CLOCK_START)
    return SIMULATOR


@pytest.fixture
def endpoint(server) -> str:
    return f"{server.url}/api/shipstation"


@pytest.fixture
def sleeps() -> list[float]:
    """The backoff delays the client asked for, instead of sleeping through them."""
    return []


@pytest.fixture
def client(sim, endpoint, sleeps) -> OrderTimeClient:
    return make_client(endpoint, sleeps)


def make_client(endpoint: str, sleeps: list[float], *, api_key: str = API_KEY,
                timeout: tuple[float, float] = (2.0, 5.0)) -> OrderTimeClient:
    return OrderTimeClient(endpoint, USERNAME, api_key, timeout=timeout,
                           retry=RetryPolicy(attempts=ATTEMPTS, base_delay=0.01), sleep=sleeps.append)


def exports(sim: OrderTimeSimulator) -> list[dict]:
    return [entry for entry in sim.requests_log() if entry["action"] == "export"]


def raw_export(endpoint: str, **params: str) -> requests.Response:
    return requests.get(endpoint, params={"action": "export", **params}, auth=(USERNAME, API_KEY), timeout=5)


# ---------------------------------------------------------------------------------------------- paging


def test_every_page_is_read_with_one_frozen_window(sim, client):
    sim.configure(page_size=3)
    sim.add_ship_docs(make_sample_docs(7, seed=1, base_time=utc(2025, 6, 2, 15, 0)))

    pages = []
    for page in client.iter_pages(SAMPLE_START, SAMPLE_END):
        pages.append(page)
        CLOCK.advance(minutes=5)  # time passes between pages; the window must not

    assert [(page.page, page.pages, len(page.orders)) for page in pages] == [(1, 3, 3), (2, 3, 3), (3, 3, 1)]
    assert [order.order_id for page in pages for order in page.orders] == [str(50001 + n) for n in range(7)]
    windows = {(entry["query"]["start_date"], entry["query"]["end_date"]) for entry in exports(sim)}
    assert windows == {("06/02/2025 14:00", "06/02/2025 16:00")}
    assert [entry["query"]["page"] for entry in exports(sim)] == ["1", "2", "3"]


def test_orders_pushed_onto_the_next_page_mid_walk_are_yielded_once(sim, client):
    sim.configure(page_size=2)
    sim.add_ship_docs(make_sample_docs(6, seed=2, base_time=utc(2025, 6, 2, 15, 0)))

    seen = []
    for order in client.iter_orders(SAMPLE_START, SAMPLE_END):
        seen.append(order.order_id)
        if len(seen) == 2:  # page 1 read: an edit sorts in front and pushes every order back by one
            sim.add_ship_doc(OrderID="49999", LastModified=utc(2025, 6, 2, 14, 30))

    assert seen == ["50001", "50002", "50003", "50004", "50005"]
    assert len(exports(sim)) == 3  # pages counted on page 1; the overlap of the next run finds 50006


def test_sample_export_reaches_the_client_as_the_expected_objects(sim, client):
    sim.add_ship_docs(section5_sample_docs())
    assert client.export_page(SAMPLE_START, SAMPLE_END, 1) == SAMPLE_EXPORT_PAGE


def test_an_order_seeded_as_an_object_comes_back_equal(sim, client):
    sim.upsert_ship_doc(ORDER_1187)
    assert list(client.iter_orders(SAMPLE_START, SAMPLE_END)) == [ORDER_1187]


def test_generated_docs_survive_the_wire(sim, client):
    docs = make_sample_docs(40, seed=7, base_time=utc(2025, 6, 2, 14, 0))
    sim.configure(declared_encoding="utf-16")  # like ShipStation's Magento plugin
    sim.add_ship_docs(docs)

    orders = list(client.iter_orders(SAMPLE_START, utc(2025, 6, 2, 15, 0)))

    assert len(orders) == 40
    assert all(order.problems == () for order in orders)
    names = {item.name for order in orders for item in order.items}
    assert "Café Blend Coffee – 1 lb" in names  # HTML entities inside CDATA decoded
    assert "Edge case ]]> in a name" in names  # split CDATA rejoined
    assert "Salt & Pepper Shaker Set <Deluxe>" in names
    for order in orders:
        lines = sum(item.quantity * item.unit_price for item in order.items)
        assert order.order_total == lines + order.shipping_amount + order.tax_amount
        assert len(order.ship_to.country) == 2


# ---------------------------------------------------------------------------------------------- empty and odd replies


def test_empty_export_with_pages_0(sim, client, endpoint):
    assert list(client.iter_orders(SAMPLE_START, SAMPLE_END)) == []
    assert len(exports(sim)) == 1
    body = raw_export(endpoint, start_date="06/02/2025 14:00", end_date="06/02/2025 16:00", page="1").text
    assert body.endswith('<Orders pages="0"/>\n')


def test_empty_export_with_pages_1_and_no_orders(sim, client):
    sim.configure(empty_pages=1)
    pages = list(client.iter_pages(SAMPLE_START, SAMPLE_END))
    assert [(page.pages, page.orders) for page in pages] == [(1, ())]
    assert len(exports(sim)) == 1


def test_missing_pages_attribute_means_one_page(sim, client):
    sim.configure(emit_pages=False, page_size=2)
    sim.add_ship_docs(make_sample_docs(3, seed=3, base_time=utc(2025, 6, 2, 15, 0)))
    orders = list(client.iter_orders(SAMPLE_START, SAMPLE_END))
    assert [order.order_id for order in orders] == ["50001", "50002"]
    assert len(exports(sim)) == 1


def test_a_reply_that_is_not_xml_is_a_protocol_error(sim, client):
    sim.configure(content_type="application/json")
    with pytest.raises(ProtocolError, match="instead of XML"):
        client.export_page(SAMPLE_START, SAMPLE_END, 1)


# ---------------------------------------------------------------------------------------------- credentials and failures


def test_check_credentials_exports_the_last_minute(sim, client):
    client.check_credentials()
    (entry,) = exports(sim)
    start, end = (parse_ordertime(entry["query"][name]) for name in ("start_date", "end_date"))
    assert (end - start, entry["status"]) == (timedelta(minutes=1), 200)


def test_wrong_credentials_are_reported_without_retrying(sim, endpoint, sleeps):
    client = make_client(endpoint, sleeps, api_key="not-the-key")
    with pytest.raises(AuthenticationFailed) as caught:
        client.check_credentials()
    assert caught.value.message == "Order Time rejected the username or API key"
    assert caught.value.status == 401
    assert (len(exports(sim)), sleeps) == (1, [])


def test_unreachable_endpoint_names_the_url_without_credentials(sleeps):
    with socket.socket() as probe:  # a port nobody listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(f"http://{USERNAME}:{API_KEY}@127.0.0.1:{port}/api/shipstation", sleeps)
    with pytest.raises(Unreachable) as caught:
        client.check_credentials()
    assert caught.value.message == f"Order Time endpoint unreachable: http://127.0.0.1:{port}/api/shipstation"
    assert len(sleeps) == ATTEMPTS - 1


def test_a_500_is_retried_and_then_succeeds(sim, client, sleeps):
    sim.add_ship_docs(section5_sample_docs())
    sim.faults.update(fail_next=[500])
    page = client.export_page(SAMPLE_START, SAMPLE_END, 1)
    assert len(page.orders) == 2
    assert [entry["status"] for entry in exports(sim)] == [500, 200]
    assert len(sleeps) == 1


def test_persistent_500_raises_server_error_after_every_attempt(sim, client, sleeps, caplog):
    sim.faults.update(error_rate=1.0)
    with caplog.at_level(logging.DEBUG), pytest.raises(ServerError) as caught:
        list(client.iter_orders(SAMPLE_START, SAMPLE_END))
    assert caught.value.status == 500
    assert len(exports(sim)) == ATTEMPTS
    assert API_KEY not in caplog.text
    assert all(API_KEY not in str(entry["query"]) for entry in sim.requests_log())


def test_a_page_failing_mid_walk_aborts_the_run(sim, client):
    sim.configure(page_size=1)
    sim.add_ship_docs(section5_sample_docs())
    walk = client.iter_pages(SAMPLE_START, SAMPLE_END)
    assert next(walk).pages == 2
    sim.faults.update(error_rate=1.0)
    with pytest.raises(ServerError):
        next(walk)


def test_a_slow_answer_times_out_and_is_retried(sim, endpoint, sleeps):
    sim.faults.update(latency_rate=1.0, latency_seconds=0.6)
    client = make_client(endpoint, sleeps, timeout=(1.0, 0.2))
    with pytest.raises(Unreachable, match="Order Time endpoint unreachable"):
        client.export_page(SAMPLE_START, SAMPLE_END, 1)
    assert len(exports(sim)) == ATTEMPTS
    assert len(sleeps) == ATTEMPTS - 1


# ---------------------------------------------------------------------------------------------- dates on the wire


@pytest.mark.parametrize("bad", [
    "6/2/2025 14:00",  # one-digit parts
    "06/02/2025 2:00 PM",  # 12-hour clock
    "2025-06-02T14:00",  # ISO
    "06/02/2025 14:00:00",  # seconds
    "13/02/2025 14:00",  # no month 13
])
def test_the_simulator_refuses_dates_not_in_strict_wire_form(sim, endpoint, bad):
    response = raw_export(endpoint, start_date=bad, end_date="06/02/2025 16:00", page="1")
    assert response.status_code == 400
    assert "start_date" in response.text


@pytest.mark.parametrize("params", [
    {"start_date": "06/02/2025 14:00", "end_date": "06/02/2025 16:00"},  # no page
    {"start_date": "06/02/2025 14:00", "end_date": "06/02/2025 16:00", "page": "0"},
    {"end_date": "06/02/2025 16:00", "page": "1"},  # no start
])
def test_the_simulator_refuses_incomplete_exports(sim, endpoint, params):
    assert raw_export(endpoint, **params).status_code == 400


def test_the_simulator_requires_basic_auth(sim, endpoint):
    response = requests.get(endpoint, params={"action": "export", "start_date": "06/02/2025 14:00",
                                              "end_date": "06/02/2025 16:00", "page": "1"}, timeout=5)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_pacific_times_in_the_autumn_overlap_are_sent_as_two_different_utc_strings(sim, client):
    first = datetime(2026, 11, 1, 1, 30, tzinfo=PACIFIC, fold=0)  # PDT, UTC-7
    second = datetime(2026, 11, 1, 1, 30, tzinfo=PACIFIC, fold=1)  # PST, UTC-8
    assert (format_ordertime(first), format_ordertime(second)) == ("11/01/2026 08:30", "11/01/2026 09:30")

    sim.add_ship_doc(OrderID="inside", LastModified=utc(2026, 11, 1, 9, 0))
    sim.add_ship_doc(OrderID="after", LastModified=utc(2026, 11, 1, 9, 31))
    orders = list(client.iter_orders(first, second))

    assert exports(sim)[0]["query"]["start_date"] == "11/01/2026 08:30"
    assert exports(sim)[0]["query"]["end_date"] == "11/01/2026 09:30"
    assert [order.order_id for order in orders] == ["inside"]


def test_spring_forward_edges_are_sent_in_utc(sim, client):
    before_gap = datetime(2026, 3, 8, 1, 59, tzinfo=PACIFIC)  # PST
    after_gap = datetime(2026, 3, 8, 3, 0, tzinfo=PACIFIC)  # PDT
    client.export_page(before_gap, after_gap, 1)
    query = exports(sim)[0]["query"]
    assert (query["start_date"], query["end_date"]) == ("03/08/2026 09:59", "03/08/2026 10:00")


def test_utc_wire_dates_read_back_as_the_right_pacific_wall_time(sim, client):
    sim.add_ship_doc(OrderID="pdt", LastModified=utc(2026, 11, 1, 8, 30))
    sim.add_ship_doc(OrderID="pst", LastModified=utc(2026, 11, 1, 9, 30))
    orders = {order.order_id: order.last_modified.astimezone(PACIFIC)
              for order in client.iter_orders(utc(2026, 11, 1, 8, 0), utc(2026, 11, 1, 10, 0))}
    assert orders["pdt"].strftime("%H:%M %Z") == "01:30 PDT"
    assert orders["pst"].strftime("%H:%M %Z") == "01:30 PST"


def test_window_options_model_the_unknown_zone_and_bounds(sim, client):
    sim.add_ship_doc(OrderID="at-end", LastModified=SAMPLE_END)
    assert [o.order_id for o in client.iter_orders(SAMPLE_START, SAMPLE_END)] == ["at-end"]
    sim.configure(window_bounds="[)")
    assert list(client.iter_orders(SAMPLE_START, SAMPLE_END)) == []
    # A server reading the window as Pacific sees 14:00–16:00 PDT = 21:00–23:00 UTC.
    sim.configure(window_bounds="[]", window_time_zone="America/Los_Angeles")
    assert list(client.iter_orders(SAMPLE_START, SAMPLE_END)) == []
    assert [o.order_id for o in client.iter_orders(SAMPLE_START - timedelta(hours=7),
                                                    SAMPLE_END - timedelta(hours=7))] == ["at-end"]


# ---------------------------------------------------------------------------------------------- ship notices


def test_ship_notice_round_trip(sim, client):
    sim.add_ship_docs(section5_sample_docs())
    CLOCK.set(utc(2025, 6, 3, 16, 20))

    client.send_ship_notice(SAMPLE_NOTICE)

    (received,) = sim.notices()
    _, body = render_ship_notice(SAMPLE_NOTICE)
    assert received["query"] == SAMPLE_NOTICE_QUERY
    assert received["body"] == body.decode("utf-8")
    assert received["content_type"] == "text/xml; charset=utf-8"
    assert (received["status"], received["order_id"]) == (200, "48213")
    assert received["notice"]["TrackingNumber"] == "1Z999AA10123456784"
    assert [item["SKU"] for item in received["notice"]["Items"]] == ["TS-ORG-100", "MUG-12"]
    shipped = list(client.iter_orders(utc(2025, 6, 3, 16, 0), utc(2025, 6, 3, 16, 30)))
    assert [(o.order_id, o.order_status, o.last_modified) for o in shipped] == \
           [("48213", "shipped", utc(2025, 6, 3, 16, 20))]


def test_ship_notice_for_an_unknown_order_raises_not_found_once(sim, client, sleeps):
    sim.add_ship_docs(section5_sample_docs())
    with pytest.raises(NotFound, match="does not know order 9999"):
        client.send_ship_notice(replace(SAMPLE_NOTICE, order_id="99999", order_number="9999"))
    assert [notice["status"] for notice in sim.notices()] == [404]
    assert sleeps == []


def test_ship_notice_matches_by_order_number_when_order_id_is_unknown(sim, client):
    sim.add_ship_docs(section5_sample_docs())
    client.send_ship_notice(replace(SAMPLE_NOTICE, order_id="stale-id"))
    assert sim.notices()[0]["order_id"] == "48213"
    assert sim.ship_doc("48213")["OrderStatus"] == "shipped"


def test_unknown_orders_can_be_accepted_by_option(sim, client):
    sim.configure(unknown_order_status=200)
    client.send_ship_notice(SAMPLE_NOTICE)
    assert [(n["status"], n["order_id"]) for n in sim.notices()] == [(200, None)]


def test_a_ship_notice_5xx_is_retried(sim, client, sleeps):
    sim.add_ship_docs(section5_sample_docs())
    sim.faults.update(fail_next=[503])
    client.send_ship_notice(SAMPLE_NOTICE)
    assert [entry["status"] for entry in sim.requests_log()] == [503, 200]
    assert len(sleeps) == 1


@pytest.mark.parametrize(("query_change", "body", "reason"), [
    ({"tracking_number": "OTHER"}, None, "does not match tracking_number"),
    ({"carrier": "FedEx"}, None, "does not match carrier"),
    ({}, b"tracking 1Z999", "not a <ShipNotice>"),
    ({}, b"<Notice/>", "not a <ShipNotice>"),
    ({"order_number": ""}, None, "missing query parameter(s): order_number"),
])
def test_the_simulator_refuses_inconsistent_ship_notices(sim, endpoint, query_change, body, reason):
    sim.add_ship_docs(section5_sample_docs())
    params, rendered = render_ship_notice(SAMPLE_NOTICE)
    response = requests.post(endpoint, params={**params, **query_change}, data=body or rendered,
                             auth=(USERNAME, API_KEY), headers={"Content-Type": "text/xml"}, timeout=5)
    assert response.status_code == 400
    assert reason in response.text
    assert sim.ship_doc("48213")["OrderStatus"] == "open"


# ---------------------------------------------------------------------------------------------- control endpoints


def test_control_endpoints_drive_the_simulator_from_another_process(sim, server, client):
    control = f"{server.url}/_sim"
    seeded = requests.post(f"{control}/ship_docs", timeout=5, json=[
        {"OrderID": "A1", "LastModified": "2025-06-02T15:00:00Z", "OrderTotal": "12.50"},
        {"OrderID": "A2", "LastModified": "06/02/2025 15:10"},
    ])
    assert seeded.json() == {"ids": ["A1", "A2"]}
    requests.post(f"{control}/clock", json={"now": "2025-06-02T15:30:00+00:00"}, timeout=5)
    modified = requests.post(f"{control}/ship_docs/A1/modify", json={"OrderStatus": "voided"}, timeout=5).json()
    assert (modified["OrderStatus"], modified["LastModified"]) == ("voided", "2025-06-02T15:30:00+00:00")
    assert requests.post(f"{control}/ship_docs/nope/modify", json={}, timeout=5).status_code == 404
    assert requests.post(f"{control}/options", json={"page_size": 1}, timeout=5).json()["page_size"] == 1

    orders = list(client.iter_orders(SAMPLE_START, SAMPLE_END))

    assert [(o.order_id, o.order_status, o.order_total) for o in orders] == \
           [("A2", "open", None), ("A1", "voided", Decimal("12.50"))]
    assert requests.get(f"{control}/requests", timeout=5).json()["counts"] == {"export": 2}
    faults = requests.post(f"{control}/faults", json={"error_rate": 1.0}, timeout=5).json()
    assert faults["error_rate"] == 1.0
    assert requests.get(f"{control}/notices", timeout=5).json() == []
    requests.post(f"{control}/reset", timeout=5)
    assert (sim.ship_docs(), sim.requests_log(), sim.faults.config.error_rate, sim.options.page_size) == \
           ([], [], 0.0, 50)
