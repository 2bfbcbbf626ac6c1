"""The ShipStation simulator's merchant actions (sandbox/shipstation_lifecycle.py) over real HTTP."""

from __future__ import annotations

import pytest
import requests

from sandbox.server import SimulatorServer
from sandbox.shipstation import ShipStationSimulator
from tests.contract.test_shipstation_client import KEY, NOW, SECRET, order

OTHER_MANUAL_STORE = 30_001


@pytest.fixture
def sim() -> ShipStationSimulator:
    simulator = ShipStationSimulator(KEY, SECRET, rate_limit=10_000, now=lambda: NOW)
    simulator.add_stores([{"storeId": OTHER_MANUAL_STORE, "storeName": "Second manual store"}])
    return simulator


@pytest.fixture
def url(sim):
    with SimulatorServer(sim) as running:
        yield running.url


def send(url: str, *orders: dict) -> list[dict]:
    answer = requests.post(f"{url}/orders/createorders", json=list(orders), auth=(KEY, SECRET), timeout=5)
    answer.raise_for_status()
    return answer.json()["results"]


def control(url: str, path: str, body: dict | None = None) -> dict:
    answer = requests.post(f"{url}/_sim/{path}", json=body or {}, timeout=5)
    answer.raise_for_status()
    return answer.json()


def get(url: str, path: str, **params) -> requests.Response:
    return requests.get(f"{url}{path}", params=params, auth=(KEY, SECRET), timeout=5)


def in_store(key: str) -> dict:
    return order(key, advancedOptions={"storeId": OTHER_MANUAL_STORE})


def test_a_merchant_edit_changes_the_order_and_its_modify_date(url, sim):
    order_id = send(url, in_store("ot-e1"))[0]["orderId"]
    sim.advance(60)

    edited = control(url, f"orders/{order_id}/edit", {
        "weight": {"value": 3.5, "units": "pounds"}, "tagIds": [7], "carrierCode": "fedex",
        "dimensions": {"length": 10, "width": 5, "height": 2, "units": "inches"},
        "shipTo": {"street1": "2 Corrected Rd"}, "orderId": 1,
    })

    assert edited["orderId"] == order_id  # read-only fields are not editable
    assert edited["tagIds"] == [7] and edited["carrierCode"] == "fedex"
    assert edited["shipTo"]["street1"] == "2 Corrected Rd" and edited["shipTo"]["city"] == "Austin"
    found = get(url, "/orders", storeId=OTHER_MANUAL_STORE, modifyDateStart="2026-03-02 12:00:30").json()
    assert [o["orderId"] for o in found["orders"]] == [order_id]


def test_hold_and_cancel(url):
    held_id, cancelled_id = (r["orderId"] for r in send(url, in_store("ot-h"), in_store("ot-c")))

    held = control(url, f"orders/{held_id}/hold", {"hold_until": "2026-03-09"})
    control(url, f"orders/{cancelled_id}/cancel")

    assert (held["orderStatus"], held["holdUntilDate"]) == ("on_hold", "2026-03-09")
    assert get(url, f"/orders/{cancelled_id}").json()["orderStatus"] == "cancelled"


def test_a_cancelled_order_is_locked_like_a_shipped_one(url):
    order_id = send(url, in_store("ot-lc"))[0]["orderId"]
    control(url, f"orders/{order_id}/cancel")

    result = send(url, in_store("ot-lc"))[0]

    assert result["success"] is False and "cancelled" in result["errorMessage"]


def test_an_update_without_store_id_moves_the_order_to_the_first_manual_store(url, sim):
    order_id = send(url, in_store("ot-s"))[0]["orderId"]
    without_store = in_store("ot-s")
    without_store["advancedOptions"] = {"source": "Order Time"}

    send(url, without_store)

    assert get(url, f"/orders/{order_id}").json()["advancedOptions"]["storeId"] == sim._default_store_id()
    assert get(url, "/orders", storeId=OTHER_MANUAL_STORE).json()["total"] == 0


def test_an_update_naming_the_store_keeps_it(url):
    order_id = send(url, in_store("ot-s2"))[0]["orderId"]

    send(url, in_store("ot-s2"))

    assert get(url, f"/orders/{order_id}").json()["advancedOptions"]["storeId"] == OTHER_MANUAL_STORE


def test_a_deleted_order_is_gone_and_an_upsert_creates_it_again(url):
    order_id = send(url, in_store("ot-d"))[0]["orderId"]
    control(url, f"orders/{order_id}/delete")

    assert get(url, f"/orders/{order_id}").status_code == 404
    assert get(url, "/orders", storeId=OTHER_MANUAL_STORE).json()["total"] == 0
    assert send(url, in_store("ot-d"))[0]["orderId"] != order_id


def test_a_split_order_shares_the_key_and_needs_its_order_id_on_update(url):
    original_id = send(url, in_store("ot-sp"))[0]["orderId"]

    split = control(url, f"orders/{original_id}/split", {"line_item_keys": ["L2"]})

    assert split["orderKey"] == "ot-sp" and split["advancedOptions"]["parentId"] == original_id
    assert [i["lineItemKey"] for i in split["items"]] == ["L2"]
    original = get(url, f"/orders/{original_id}").json()
    assert original["advancedOptions"]["mergedOrSplit"] is True
    assert [i["lineItemKey"] for i in original["items"]] == ["L1"]
    refused = send(url, in_store("ot-sp"))[0]
    assert refused["success"] is False and "orderId" in refused["errorMessage"]
    updated = send(url, {**in_store("ot-sp"), "orderId": split["orderId"], "internalNotes": "x"})[0]
    assert updated["success"] is True and updated["orderId"] == split["orderId"]
    stored = get(url, f"/orders/{split['orderId']}").json()
    assert stored["advancedOptions"]["parentId"] == original_id  # read-only, survives the update


def test_merged_orders_list_their_ids_and_the_merged_away_disappear(url):
    first, second = (r["orderId"] for r in send(url, in_store("ot-m1"), in_store("ot-m2")))

    merged = control(url, "orders/merge", {"order_ids": [first, second]})

    assert merged["orderId"] == first and merged["advancedOptions"]["mergedIds"] == [second]
    assert len(merged["items"]) == 4
    assert get(url, f"/orders/{second}").status_code == 404
    listed = get(url, "/orders", storeId=OTHER_MANUAL_STORE).json()["orders"]
    assert [o["orderId"] for o in listed] == [first]


def test_orders_are_paged_500_at_a_time(url, sim):
    for start in range(0, 600, 100):
        send(url, *(in_store(f"ot-p{n}") for n in range(start, start + 100)))

    pages = [get(url, "/orders", storeId=OTHER_MANUAL_STORE, pageSize=500, page=p).json() for p in (1, 2)]

    assert [len(p["orders"]) for p in pages] == [500, 100]
    assert pages[0]["total"] == 600 and pages[0]["pages"] == 2
    assert get(url, "/orders", pageSize=501).status_code == 400


def test_the_client_reads_a_stores_changed_orders_in_pages_of_500(url, sim):
    from datetime import UTC, datetime

    from connections.clients.shipstation import ShipStationClient
    from tests.contract.test_shipstation_client import NO_BACKOFF, no_sleep

    for start in range(0, 700, 100):
        send(url, *(in_store(f"ot-c{n}") for n in range(start, start + 100)))
    send(url, order("ot-elsewhere"))
    client = ShipStationClient(url, KEY, SECRET, retry=NO_BACKOFF, sleep=no_sleep)
    before = sim.stats.requests

    orders = list(client.iter_store_orders(OTHER_MANUAL_STORE, modify_date_start=datetime(2026, 3, 2, tzinfo=UTC)))

    assert len(orders) == 700 and "ot-elsewhere" not in {o["orderKey"] for o in orders}
    assert sim.stats.requests - before == 2
