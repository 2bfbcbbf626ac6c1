"""The shipment-update cycle end to end: ShipStation simulator → our records → Order Time simulator, over HTTP."""

from __future__ import annotations

import smtplib
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from connections.clients.dates import PACIFIC
from connections.clients_for_store import shipstation_client_for
from connections.models import AuditLogEntry, NoticeTiming
from ordersync.mapping.imports import ImportOptions, MappedOrder, map_order
from ordersync.models import (
    Attempt,
    AttemptKind,
    NoticeState,
    OrderState,
    RunStatus,
    ShipmentNotice,
    SyncedOrder,
)
from ordersync.selectors import notified_count
from ordersync.shipments import services
from ordersync.shipments.notices import voided_after_notify_flag
from ordersync.shipments.services import (
    notice_release,
    order_unknown_flag,
    sending_lease,
    store_send_due_notices,
    store_update_shipments,
)
from sandbox.ordertime import section5_sample_docs
from tests.unit.builders import order_1187

pytestmark = pytest.mark.django_db


def import_order(store, ordertime_sim, *, known_to_ordertime: bool = True) -> SyncedOrder:
    """Order 1187 of integration doc §5, pushed to the ShipStation simulator as the import would push it."""
    order = order_1187()
    if known_to_ordertime:
        ordertime_sim.upsert_ship_doc(section5_sample_docs()[0])
    mapped = map_order(order, ImportOptions(order_key_prefix=store.order_key_prefix,
                                            shipstation_store_id=store.shipstation_store_id,
                                            status_mapping={"open": "awaiting_shipment"}))
    assert isinstance(mapped, MappedOrder)
    (result,) = shipstation_client_for(store).create_orders([mapped.order]).results
    assert result.success
    return SyncedOrder.objects.create(
        store=store, ordertime_order_id=order.order_id, order_number=order.order_number,
        order_key=mapped.order["orderKey"], shipstation_order_id=result.order_id, state=OrderState.IMPORTED,
        buyer_email=order.bill_to.email, buyer_name=order.bill_to.name, payload=mapped.order,
    )


def accepted_notices(ordertime_sim) -> list[dict]:
    return [n for n in ordertime_sim.notices() if n["status"] == 200]


def label(shipstation_sim, order: SyncedOrder, **options) -> dict:
    options.setdefault("carrier_code", "ups")
    options.setdefault("service_code", "ups_ground")
    return shipstation_sim.create_label(order.shipstation_order_id, **options)


def set_store(store, **values) -> None:
    for name, value in values.items():
        setattr(store.settings, name, value)
    store.settings.save()


def test_one_label_sends_one_exact_notice(store, ordertime_sim, shipstation_sim):
    order = import_order(store, ordertime_sim)
    created = (timezone.now() - timedelta(days=1)).astimezone(PACIFIC).replace(second=0, microsecond=0)
    shipment = label(shipstation_sim, order, shipment_cost=Decimal("9.87"), insurance_cost=Decimal("1.51"),
                     create_date=created)

    run = store_update_shipments(store=store)

    assert run.status == RunStatus.SUCCEEDED and run.counts["sent"] == 1
    (received,) = accepted_notices(ordertime_sim)
    query, body = received["query"], received["notice"]
    tracking = shipment["trackingNumber"]
    assert query == {"action": "shipnotify", "order_number": "1187", "carrier": "UPS",
                     "service": "UPS® Ground", "tracking_number": tracking}
    assert body["OrderID"] == "48213" and body["OrderNumber"] == "1187"
    assert body["CustomerCode"] == "alex.rivera@example.com"
    assert body["CustomerNotes"] == "Please leave it at the side door & ring twice."
    assert body["InternalNotes"] == "Wrap the mug in bubble wrap."
    assert body["Carrier"] == "UPS" and body["Service"] == "UPS® Ground" and body["TrackingNumber"] == tracking
    assert body["ShippingCost"] == "11.38"  # label 9.87 + insurance 1.51
    assert body["LabelCreateDate"] == created.astimezone(UTC).strftime("%m/%d/%Y %H:%M")  # Pacific → UTC
    assert body["ShipDate"] == created.strftime("%m/%d/%Y")
    assert body["NotifyCustomer"] == "false"
    assert body["CustomField1"] == "PO-7731"
    assert body["Recipient"] == {"Name": "Sam Rivera", "Company": "", "Address1": "4801 Duval St",
                                 "Address2": "Apt 2B", "City": "Austin", "State": "TX", "PostalCode": "78751",
                                 "Country": "US"}
    assert body["Items"] == [
        {"SKU": "TS-ORG-100", "Name": "Organic Cotton T-Shirt", "Quantity": "2", "LineItemID": "1"},
        {"SKU": "MUG-12", "Name": "Stoneware Mug, 12 oz", "Quantity": "1", "LineItemID": "2"},
    ]
    notice = ShipmentNotice.objects.get()
    assert notice.state == NoticeState.SENT and notice.sent_at is not None
    assert notice.payload["body"] == received["body"]  # what was stored before the call is what went out
    assert Attempt.objects.filter(synced_order=order, kind=AttemptKind.SHIP_NOTICE, success=True).count() == 1
    store.refresh_from_db()
    assert store.shipment_cursor == run.window_end and run.cursor_after == run.window_end


def test_cycles_repeat_without_sending_twice(store, ordertime_sim, shipstation_sim):
    order = import_order(store, ordertime_sim)
    label(shipstation_sim, order)
    for _ in range(3):
        store_update_shipments(store=store)
    assert len(accepted_notices(ordertime_sim)) == 1


def test_two_labels_for_one_order_send_two_notices(store, ordertime_sim, shipstation_sim):
    order = import_order(store, ordertime_sim)
    first = label(shipstation_sim, order, items=["1"])
    second = label(shipstation_sim, order, items=["2"], carrier_code="fedex", service_code="fedex_2day")

    store_update_shipments(store=store)

    received = {n["query"]["tracking_number"]: n["notice"] for n in accepted_notices(ordertime_sim)}
    assert set(received) == {first["trackingNumber"], second["trackingNumber"]}
    assert received[first["trackingNumber"]]["Items"] == [
        {"SKU": "TS-ORG-100", "Name": "Organic Cotton T-Shirt", "Quantity": "2", "LineItemID": "1"}]
    assert received[second["trackingNumber"]]["Carrier"] == "FedEx"
    assert received[second["trackingNumber"]]["Service"] == "FedEx 2Day®"
    assert set(ShipmentNotice.objects.values_list("state", flat=True)) == {NoticeState.SENT}


def test_return_label_sends_nothing(store, ordertime_sim, shipstation_sim):
    order = import_order(store, ordertime_sim)
    label(shipstation_sim, order, is_return_label=True)

    run = store_update_shipments(store=store)

    assert accepted_notices(ordertime_sim) == []
    assert ShipmentNotice.objects.get().state == NoticeState.SKIPPED_RETURN
    assert run.counts[NoticeState.SKIPPED_RETURN] == 1


def test_label_voided_before_notify_sends_nothing(store, ordertime_sim, shipstation_sim):
    order = import_order(store, ordertime_sim)
    shipment = label(shipstation_sim, order)
    shipstation_sim.void_label(shipment["shipmentId"])

    store_update_shipments(store=store)

    assert ordertime_sim.notices() == []
    notice = ShipmentNotice.objects.get()
    assert notice.state == NoticeState.SKIPPED_VOID and notice.voided_at is not None


def test_void_after_notify_is_flagged_and_replacement_label_is_sent(store, ordertime_sim, shipstation_sim):
    order = import_order(store, ordertime_sim)
    shipment = label(shipstation_sim, order)
    store_update_shipments(store=store)
    shipstation_sim.void_label(shipment["shipmentId"])
    replacement = label(shipstation_sim, order)

    run = store_update_shipments(store=store)

    voided = ShipmentNotice.objects.get(external_id=shipment["shipmentId"])
    assert voided.state == NoticeState.FLAGGED and voided.needs_attention
    order.refresh_from_db()
    assert order.needs_attention and voided_after_notify_flag() in order.flags
    assert ShipmentNotice.objects.get(external_id=replacement["shipmentId"]).state == NoticeState.SENT
    assert [n["query"]["tracking_number"] for n in accepted_notices(ordertime_sim)] == [
        shipment["trackingNumber"], replacement["trackingNumber"]]
    assert run.status == RunStatus.PARTIAL  # a flag needs a person: the run says so
    assert notified_count(store=store) == 2  # the flagged notice was accepted all the same


def test_fulfillment_is_reported_with_every_line(store, ordertime_sim, shipstation_sim):
    order = import_order(store, ordertime_sim)
    shipstation_client_for(store).mark_as_shipped(order.shipstation_order_id, "USPS", tracking_number="9400111899561704681189")

    store_update_shipments(store=store)

    (received,) = accepted_notices(ordertime_sim)
    assert received["notice"]["Carrier"] == "USPS" and received["notice"]["TrackingNumber"] == "9400111899561704681189"
    assert [item["LineItemID"] for item in received["notice"]["Items"]] == ["1", "2"]
    assert ShipmentNotice.objects.get().source == "fulfillment"


def test_unknown_order_is_kept_visible_and_matched_later(store, ordertime_sim, shipstation_sim):
    order = import_order(store, ordertime_sim)
    SyncedOrder.objects.filter(pk=order.pk).update(shipstation_order_id=None, order_key="ordertime-other-1")
    label(shipstation_sim, order)

    first = store_update_shipments(store=store)
    assert ShipmentNotice.objects.get().state == NoticeState.UNMATCHED and first.counts[NoticeState.UNMATCHED] == 1

    SyncedOrder.objects.filter(pk=order.pk).update(shipstation_order_id=order.shipstation_order_id)
    store_update_shipments(store=store)  # the overlap reads the label again
    assert ShipmentNotice.objects.get().state == NoticeState.SENT
    assert len(accepted_notices(ordertime_sim)) == 1


def test_ordertime_404_keeps_the_notice_and_retries_it(store, ordertime_sim, shipstation_sim):
    order = import_order(store, ordertime_sim, known_to_ordertime=False)
    label(shipstation_sim, order)

    store_update_shipments(store=store)

    notice = ShipmentNotice.objects.get()
    assert notice.state == NoticeState.RETRYING and notice.next_retry_at > timezone.now()
    order.refresh_from_db()
    assert order_unknown_flag() in order.flags and order.needs_attention
    assert [n["status"] for n in ordertime_sim.notices()] == [404]

    store_update_shipments(store=store)  # back-off not over: not retried yet
    assert len(ordertime_sim.notices()) == 1

    ordertime_sim.upsert_ship_doc(section5_sample_docs()[0])
    ShipmentNotice.objects.filter(pk=notice.pk).update(next_retry_at=timezone.now() - timedelta(seconds=1))
    store_update_shipments(store=store)

    notice.refresh_from_db()
    assert notice.state == NoticeState.SENT and notice.attempt_count == 2
    assert [n["status"] for n in ordertime_sim.notices()] == [404, 200]
    assert ordertime_sim.notices()[0]["body"] == ordertime_sim.notices()[1]["body"]  # the stored payload again


def test_crash_between_send_and_record_resends_the_same_payload(store, ordertime_sim, shipstation_sim, monkeypatch):
    order = import_order(store, ordertime_sim)
    label(shipstation_sim, order)

    def crash(*args, **kwargs):
        raise RuntimeError("worker died after Order Time answered")

    with monkeypatch.context() as patch:
        patch.setattr(services, "_record_sent", crash)
        with pytest.raises(RuntimeError):
            store_update_shipments(store=store)

    notice = ShipmentNotice.objects.get()
    assert notice.state == NoticeState.SENDING and len(accepted_notices(ordertime_sim)) == 1

    store_update_shipments(store=store)  # within the lease the send may still be in flight: hands off
    assert len(accepted_notices(ordertime_sim)) == 1

    assert notice.next_retry_at >= timezone.now() + sending_lease() - timedelta(minutes=1)  # the lease
    ShipmentNotice.objects.filter(pk=notice.pk).update(next_retry_at=timezone.now() - timedelta(seconds=1))
    store_update_shipments(store=store)

    notice.refresh_from_db()
    assert notice.state == NoticeState.SENT
    # The documented at-least-once edge: Order Time got the identical notice twice (same tracking number).
    first, second = accepted_notices(ordertime_sim)
    assert first["body"] == second["body"]
    assert Attempt.objects.get(notice=notice, success=True).request["resent_after_interruption"] is True


def test_delayed_notice_voided_inside_the_delay_is_never_sent(store, ordertime_sim, shipstation_sim):
    set_store(store, notice_timing=NoticeTiming.DELAYED, notice_delay_hours=2)
    order = import_order(store, ordertime_sim)
    kept = label(shipstation_sim, order, items=["1"])
    voided = label(shipstation_sim, order, items=["2"])

    store_update_shipments(store=store)
    notices = {n.external_id: n for n in ShipmentNotice.objects.all()}
    assert {n.state for n in notices.values()} == {NoticeState.DELAYED}
    assert notices[kept["shipmentId"]].due_at > timezone.now() + timedelta(hours=1)
    assert store_send_due_notices(store=store) == {}  # nothing due yet

    shipstation_sim.void_label(voided["shipmentId"])  # inside the delay, before any poll saw it
    ShipmentNotice.objects.update(due_at=timezone.now() - timedelta(seconds=1))
    store_send_due_notices(store=store)

    assert [n["query"]["tracking_number"] for n in accepted_notices(ordertime_sim)] == [kept["trackingNumber"]]
    assert ShipmentNotice.objects.get(external_id=voided["shipmentId"]).state == NoticeState.SKIPPED_VOID


def test_manual_notice_waits_for_release(store, ordertime_sim, shipstation_sim, admin_user):
    set_store(store, notice_timing=NoticeTiming.MANUAL)
    order = import_order(store, ordertime_sim)
    label(shipstation_sim, order)
    store_update_shipments(store=store)
    store_update_shipments(store=store)
    notice = ShipmentNotice.objects.get()
    assert notice.state == NoticeState.HELD and ordertime_sim.notices() == []

    released = notice_release(notice=notice, actor=admin_user)

    assert released.state == NoticeState.SENT and len(accepted_notices(ordertime_sim)) == 1
    assert AuditLogEntry.objects.filter(action="notice_released", actor=admin_user).exists()


def test_buyer_gets_one_branded_email_per_shipment(store, ordertime_sim, shipstation_sim):
    set_store(store, email_buyer=True, display_name="Rivera Goods", logo_url="https://cdn.example.com/logo.png",
              accent_color="#aa3300", support_email="help@rivera.example", ordertime_notifies_buyer=True)
    order = import_order(store, ordertime_sim)
    first = label(shipstation_sim, order, items=["1"])
    store_update_shipments(store=store)
    store_update_shipments(store=store)

    (message,) = mail.outbox
    assert message.to == ["alex.rivera@example.com"] and message.reply_to == ["help@rivera.example"]
    assert "Rivera Goods" in message.subject and "1187" in message.subject
    html = message.alternatives[0][0]
    for expected in ("Rivera Goods", "https://cdn.example.com/logo.png", "#aa3300", "Organic Cotton T-Shirt",
                     "https://images.example.com/ts-org-100.jpg", "Forest Green",
                     f"https://www.ups.com/track?tracknum={first['trackingNumber']}"):
        assert expected in html
    assert first["trackingNumber"] in message.body
    # We e-mailed, so Order Time must not e-mail too, whatever the store's own preference says.
    assert accepted_notices(ordertime_sim)[0]["notice"]["NotifyCustomer"] == "false"
    assert ShipmentNotice.objects.get().email_state == "sent"

    label(shipstation_sim, order, items=["2"])
    store_update_shipments(store=store)
    assert len(mail.outbox) == 2  # a second package is a second shipment e-mail


def test_smtp_failure_is_recorded_and_the_notice_still_goes_out(store, ordertime_sim, shipstation_sim, monkeypatch):
    set_store(store, email_buyer=True, ordertime_notifies_buyer=True)
    order = import_order(store, ordertime_sim)
    label(shipstation_sim, order)

    def refuse(self, fail_silently=False):
        raise smtplib.SMTPRecipientsRefused({"alex.rivera@example.com": (550, b"mailbox unavailable")})

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    store_update_shipments(store=store)

    notice = ShipmentNotice.objects.get()
    assert notice.state == NoticeState.SENT
    assert notice.email_state == "failed" and "mailbox unavailable" in notice.email_error
    assert Attempt.objects.filter(notice=notice, kind=AttemptKind.EMAIL, success=False).exists()
    # The e-mail goes out only after Order Time's answer is recorded, so the notice (built before) had
    # already told Order Time that we e-mail the buyer.
    assert accepted_notices(ordertime_sim)[0]["notice"]["NotifyCustomer"] == "false"


def test_bad_buyer_address_leaves_the_buyer_to_ordertime(store, ordertime_sim, shipstation_sim):
    set_store(store, email_buyer=True, ordertime_notifies_buyer=True)
    order = import_order(store, ordertime_sim)
    SyncedOrder.objects.filter(pk=order.pk).update(buyer_email="not an address")
    label(shipstation_sim, order)

    store_update_shipments(store=store)

    notice = ShipmentNotice.objects.get()
    assert notice.email_state == "failed" and "not an address" in notice.email_error and mail.outbox == []
    # Known before the notice was rendered: Order Time's own e-mail (the store's preference) goes out.
    assert accepted_notices(ordertime_sim)[0]["notice"]["NotifyCustomer"] == "true"


def test_update_shipments_command(store, ordertime_sim, shipstation_sim):
    from django.core.management import call_command

    order = import_order(store, ordertime_sim)
    label(shipstation_sim, order)
    call_command("update_shipments", "--store", store.name, "--since", "2025-06-01 00:00")

    assert len(accepted_notices(ordertime_sim)) == 1
    store.refresh_from_db()
    assert store.shipment_cursor is None  # --since re-reads; it never moves the cursors
