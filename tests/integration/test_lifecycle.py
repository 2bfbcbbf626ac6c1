"""One lifecycle per synced order (issue 11 §5, §6): imported, on hold, shipped, notified, cancelled, split,
merged, deleted, as the simulators' merchant actions and labels move it, and what each state means for writes."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from connections.clients.http import RetryPolicy
from connections.services import status_mapping_set
from ordersync.imports.actions import synced_order_resend
from ordersync.imports.cycle import store_import_orders
from ordersync.mapping.imports import order_key
from ordersync.models import Lifecycle, SyncedOrder
from ordersync.shipments.services import notice_release, store_update_shipments
from sandbox.ordertime import section5_sample_docs

pytestmark = pytest.mark.django_db

DOC, OTHER = "48213", "48219"


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch):
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, attempt: 0.0)


@pytest.fixture
def imported(store, ordertime_sim, shipstation_sim):
    """Both ship docs of §5 imported; their ShipStation orders by Order Time OrderID."""
    status_mapping_set(store=store, ordertime_status="open", shipstation_status="awaiting_shipment")
    ordertime_sim.add_ship_docs([{k: v for k, v in doc.items() if k != "LastModified"}
                                 for doc in section5_sample_docs()])
    store_import_orders(store=store)
    by_key = {order["orderKey"]: order for order in shipstation_sim.order_list()}
    return {doc: by_key[order_key(store.order_key_prefix, doc)] for doc in (DOC, OTHER)}


def row(doc: str = DOC) -> SyncedOrder:
    return SyncedOrder.objects.get(ordertime_order_id=doc)


def test_an_import_is_imported_and_a_hold_in_shipstation_shows_at_the_next_update(store, imported, ordertime_sim,
                                                                                 shipstation_sim):
    assert row().lifecycle == Lifecycle.IMPORTED
    shipstation_sim.hold_order(imported[DOC]["orderId"], "2026-12-20")
    ordertime_sim.modify(DOC, InternalNotes="Changed while on hold")

    store_import_orders(store=store)

    assert row().lifecycle == Lifecycle.ON_HOLD
    assert row(OTHER).lifecycle == Lifecycle.IMPORTED


def test_a_label_ships_the_order_its_notice_notifies_it_and_a_void_moves_it_back(store, imported, ordertime_sim,
                                                                              shipstation_sim):
    shipment = shipstation_sim.create_label(imported[DOC]["orderId"], carrier_code="fedex",
                                            service_code="fedex_ground", tracking_number="TRK-LIFE-1")
    store.settings.notice_timing = "manual"  # held: the label is seen, Order Time not told yet
    store.settings.save()

    store_update_shipments(store=store)

    shipped = row()
    assert shipped.lifecycle == Lifecycle.SHIPPED
    assert (shipped.tracking_number, shipped.carrier_code) == ("TRK-LIFE-1", "fedex")
    assert shipped.shipped_at is not None

    notice_release(notice=shipped.notices.get())
    assert row().lifecycle == Lifecycle.NOTIFIED
    assert len([n for n in ordertime_sim.notices() if n["status"] == 200]) == 1

    shipstation_sim.void_label(shipment["shipmentId"])
    store_update_shipments(store=store)

    voided = row()
    assert voided.lifecycle == Lifecycle.IMPORTED and voided.tracking_number == ""
    assert row(OTHER).lifecycle == Lifecycle.IMPORTED


def test_a_cancel_in_shipstation_is_recorded_as_cancelled(store, imported, ordertime_sim, shipstation_sim):
    shipstation_sim.cancel_order(imported[DOC]["orderId"])
    ordertime_sim.modify(DOC, InternalNotes="Too late")

    store_import_orders(store=store)

    assert row().lifecycle == Lifecycle.CANCELLED


def test_a_split_order_is_updated_by_its_id_and_a_label_on_the_split_off_part_notifies_the_ship_doc(
        store, imported, ordertime_sim, shipstation_sim):
    original = imported[DOC]
    assert len(original["items"]) > 1
    moved = original["items"][0]["lineItemKey"]
    split_off = shipstation_sim.split_order(original["orderId"], [moved])
    ordertime_sim.modify(DOC, InternalNotes="After the split")

    run = store_import_orders(store=store)

    assert run.counts["imported"] == 1 and run.counts.get("failed", 0) == 0, run.counts
    assert row().lifecycle == Lifecycle.SPLIT
    updated = shipstation_sim.find_order(order_id=original["orderId"])
    assert updated["internalNotes"] == "After the split"
    assert moved not in [item["lineItemKey"] for item in updated["items"]]  # the merchant's split is kept
    assert shipstation_sim.find_order(order_id=split_off["orderId"])["internalNotes"] != "After the split"

    shipstation_sim.create_label(split_off["orderId"], tracking_number="TRK-SPLIT")
    store_update_shipments(store=store)

    (notice,) = [n for n in ordertime_sim.notices() if n["status"] == 200]
    assert notice["order_id"] == DOC
    assert [item["LineItemID"] for item in notice["notice"]["Items"]] == [moved]
    assert row().lifecycle == Lifecycle.NOTIFIED and row().tracking_number == "TRK-SPLIT"


def test_an_order_merged_away_is_never_written_or_created_again(store, imported, ordertime_sim, shipstation_sim):
    survivor = shipstation_sim.merge_orders([imported[OTHER]["orderId"], imported[DOC]["orderId"]])
    orders_before = len(shipstation_sim.order_list())
    ordertime_sim.modify(DOC, InternalNotes="Merged away meanwhile")

    first = store_import_orders(store=store)
    ordertime_sim.modify(DOC, InternalNotes="And changed again")
    second = store_import_orders(store=store)

    assert first.counts["merged_in_shipstation"] == 1 and second.counts["gone_from_shipstation"] == 1
    assert len(shipstation_sim.order_list()) == orders_before
    assert shipstation_sim.create_calls_by_key[order_key(store.order_key_prefix, DOC)] == 1  # the first import only
    merged = row()
    assert merged.lifecycle == Lifecycle.MERGED and not merged.needs_attention
    assert str(survivor["orderId"]) in merged.attempts.order_by("pk").last().error


def test_an_order_deleted_in_shipstation_is_recorded_and_only_a_person_creates_it_again(store, imported,
                                                                                       ordertime_sim,
                                                                                       shipstation_sim):
    shipstation_sim.delete_order(imported[DOC]["orderId"])
    ordertime_sim.modify(DOC, InternalNotes="Deleted meanwhile")

    run = store_import_orders(store=store)

    assert run.counts["deleted_in_shipstation"] == 1 and run.counts.get("failed", 0) == 0, run.counts
    keys = [order["orderKey"] for order in shipstation_sim.order_list()]
    assert order_key(store.order_key_prefix, DOC) not in keys  # not re-created by the upsert
    deleted = row()
    assert deleted.lifecycle == Lifecycle.DELETED and not deleted.needs_attention

    ordertime_sim.modify(DOC, InternalNotes="Changed again")
    again = store_import_orders(store=store)
    assert again.counts["gone_from_shipstation"] == 1
    assert order_key(store.order_key_prefix, DOC) not in [o["orderKey"] for o in shipstation_sim.order_list()]

    synced_order_resend(synced_order=row())

    recreated = row()
    assert recreated.lifecycle == Lifecycle.IMPORTED
    assert recreated.shipstation_order_id != imported[DOC]["orderId"]
    assert shipstation_sim.find_order(order_id=recreated.shipstation_order_id)["internalNotes"] == "Changed again"


def test_sync_report_counts_each_lifecycle_state(store, imported, ordertime_sim, shipstation_sim):
    shipstation_sim.cancel_order(imported[OTHER]["orderId"])
    ordertime_sim.modify(OTHER, InternalNotes="Cancelled there")
    store_import_orders(store=store)
    out = io.StringIO()

    call_command("sync_report", "--json", stdout=out)

    (report,) = json.loads(out.getvalue())["stores"]
    assert report["lifecycle"] == {"imported": 1, "cancelled": 1}


def test_the_order_list_and_page_show_the_lifecycle_and_tracking_number(store, imported, shipstation_sim,
                                                                       admin_client):
    shipstation_sim.create_label(imported[DOC]["orderId"], tracking_number="TRK-ADMIN-7")
    store_update_shipments(store=store)
    notified = row()

    listing = admin_client.get("/admin/ordersync/syncedorder/").content.decode()
    page = admin_client.get(f"/admin/ordersync/syncedorder/{notified.pk}/change/").content.decode()
    filtered = admin_client.get("/admin/ordersync/syncedorder/?lifecycle=notified").content.decode()

    assert "badge-notified" in listing and "TRK-ADMIN-7" in listing and "badge-imported" in listing
    assert "Order Time notified" in page and "TRK-ADMIN-7" in page
    assert notified.order_number in filtered and row(OTHER).order_number not in filtered
