"""ShipStation is a live workspace: an Order Time update keeps what the merchant changed there (issue 11)."""

from __future__ import annotations

import pytest

from connections.clients.http import RetryPolicy
from connections.services import status_mapping_set
from ordersync.imports.cycle import store_import_orders
from ordersync.mapping.imports import order_key
from ordersync.models import AttemptKind, OrderState, RunStatus, SyncedOrder
from sandbox.ordertime import section5_sample_docs

pytestmark = pytest.mark.django_db

DOC = "48213"


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch):
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, attempt: 0.0)


@pytest.fixture
def imported(store, ordertime_sim, shipstation_sim):
    """One ship doc imported; returns its ShipStation order id and key."""
    status_mapping_set(store=store, ordertime_status="open", shipstation_status="awaiting_shipment")
    ordertime_sim.add_ship_docs([{k: v for k, v in doc.items() if k != "LastModified"}
                                 for doc in section5_sample_docs()])
    store_import_orders(store=store)
    key = order_key(store.order_key_prefix, DOC)
    return _by_key(shipstation_sim)[key]["orderId"], key


def _by_key(shipstation_sim) -> dict[str, dict]:
    return {order["orderKey"]: order for order in shipstation_sim.order_list()}


MERCHANT_EDIT = {
    "weight": {"value": 44.0, "units": "ounces"},
    "dimensions": {"length": 12.0, "width": 8.0, "height": 4.0, "units": "inches"},
    "tagIds": [101],
    "carrierCode": "ups", "serviceCode": "ups_ground", "packageCode": "package",
    "insuranceOptions": {"provider": "carrier", "insureShipment": True, "insuredValue": 80.0},
    "shipTo": {"street1": "500 Corrected Ave"},
}


def test_merchant_edits_survive_two_order_time_updates_in_a_row(store, imported, ordertime_sim, shipstation_sim):
    order_id, key = imported
    shipstation_sim.edit_order(order_id, MERCHANT_EDIT)

    for notes in ("First Order Time change", "Second Order Time change"):
        ordertime_sim.modify(DOC, InternalNotes=notes)
        run = store_import_orders(store=store)
        assert run.counts["imported"] == 1, run.counts
        order = _by_key(shipstation_sim)[key]
        assert order["internalNotes"] == notes  # Order Time's change flows
        assert order["weight"]["value"] == 44.0 and order["dimensions"]["length"] == 12.0
        assert order["tagIds"] == [101]
        assert (order["carrierCode"], order["serviceCode"], order["packageCode"]) == ("ups", "ups_ground", "package")
        assert order["insuranceOptions"]["insuredValue"] == 80.0
        assert order["shipTo"]["street1"] == "500 Corrected Ave"
        assert order["advancedOptions"]["storeId"] == store.shipstation_store_id

    row = SyncedOrder.objects.get(order_key=key)
    assert row.base_mapping["internalNotes"] == "Second Order Time change"
    assert "weight" not in (row.base_mapping.get("dimensions") or {})  # the base is Order Time's own mapping
    sent = row.attempts.filter(kind=AttemptKind.CREATE_ORDERS, success=True).order_by("pk").last()
    assert "weight.value" in sent.response["merge"]["kept"]


def test_when_both_change_a_field_order_time_wins_and_the_timeline_says_so(store, imported, ordertime_sim,
                                                                          shipstation_sim):
    order_id, key = imported
    shipstation_sim.edit_order(order_id, {"internalNotes": "merchant's note"})
    ordertime_sim.modify(DOC, InternalNotes="Order Time's note")

    store_import_orders(store=store)

    assert _by_key(shipstation_sim)[key]["internalNotes"] == "Order Time's note"
    row = SyncedOrder.objects.get(order_key=key)
    sent = row.attempts.filter(kind=AttemptKind.CREATE_ORDERS, success=True).order_by("pk").last()
    assert sent.response["merge"]["conflicts"] == ["internalNotes"]


def test_an_order_on_hold_stays_on_hold(store, imported, ordertime_sim, shipstation_sim):
    order_id, key = imported
    shipstation_sim.hold_order(order_id, "2026-12-20")
    ordertime_sim.modify(DOC, InternalNotes="Changed while on hold")

    store_import_orders(store=store)

    order = _by_key(shipstation_sim)[key]
    assert order["orderStatus"] == "on_hold" and order["internalNotes"] == "Changed while on hold"
    assert order["holdUntilDate"] == "2026-12-20"  # with its date


def test_an_order_cancelled_in_shipstation_gets_no_write(store, imported, ordertime_sim, shipstation_sim):
    order_id, key = imported
    shipstation_sim.cancel_order(order_id)
    calls = shipstation_sim.stats.createorders_calls
    ordertime_sim.modify(DOC, InternalNotes="Too late")

    run = store_import_orders(store=store)

    assert shipstation_sim.stats.createorders_calls == calls
    assert run.counts["closed_in_shipstation"] == 1 and run.status == RunStatus.SUCCEEDED
    row = SyncedOrder.objects.get(order_key=key)
    assert (row.state, row.needs_attention) == (OrderState.CANCELLED, False)
    assert "Cancelled in ShipStation" in row.attempts.order_by("pk").last().error


def test_an_unreadable_copy_is_never_written_blind_and_the_update_waits(store, imported, ordertime_sim,
                                                                       shipstation_sim):
    order_id, key = imported
    shipstation_sim.edit_order(order_id, {"tagIds": [5]})
    ordertime_sim.modify(DOC, InternalNotes="Waits a cycle")
    calls = shipstation_sim.stats.createorders_calls
    shipstation_sim.faults.update(error_rate=1.0)  # ShipStation is down: every read fails

    waiting = store_import_orders(store=store)

    assert shipstation_sim.stats.createorders_calls == calls
    assert waiting.counts["waiting_for_copy"] == 1 and waiting.status == RunStatus.PARTIAL
    row = SyncedOrder.objects.get(order_key=key)
    assert row.state == OrderState.PENDING and "could not be read" in row.last_error

    shipstation_sim.faults.update(error_rate=0.0)
    later = store_import_orders(store=store)  # the next cycle sends it, merged

    assert later.counts["imported"] == 1
    order = _by_key(shipstation_sim)[key]
    assert order["internalNotes"] == "Waits a cycle" and order["tagIds"] == [5]


def test_reading_shipstations_side_costs_one_request_per_500_orders(store, ordertime_sim, shipstation_sim):
    status_mapping_set(store=store, ordertime_status="open", shipstation_status="awaiting_shipment")
    docs = [{k: v for k, v in doc.items() if k != "LastModified"} for doc in section5_sample_docs()]
    ordertime_sim.add_ship_docs(docs)
    store_import_orders(store=store)
    for doc in docs:
        ordertime_sim.modify(doc["OrderID"], InternalNotes="bulk change")
    before = shipstation_sim.stats.as_dict()["requests"] - shipstation_sim.stats.createorders_calls

    store_import_orders(store=store)

    reads = shipstation_sim.stats.as_dict()["requests"] - shipstation_sim.stats.createorders_calls - before
    assert reads == 1
