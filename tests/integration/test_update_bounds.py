"""What bounds an update task: a budget of ship notices per task, and cheap re-reads of settled labels."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connections.models import Store
from ordersync import tasks
from ordersync.models import NoticeState, ShipmentNotice
from ordersync.shipments.services import store_update_shipments, stores_with_due_notices
from tests.integration.test_shipment_updates import accepted_notices, import_order, label

pytestmark = pytest.mark.django_db


@pytest.fixture
def labelled(store, ordertime_sim, shipstation_sim, settings):
    """One order with 25 labels (a replacement label gets a notice of its own), 10 notices per task."""
    settings.ORDERSYNC_NOTICES_PER_TASK = 10
    order = import_order(store, ordertime_sim)
    for _ in range(25):
        label(shipstation_sim, order)
    return store


def test_an_update_cycle_sends_its_budget_and_queues_the_rest(labelled, ordertime_sim, monkeypatch,
                                                              django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr(tasks.send_store_notices, "delay", lambda store_id: queued.append(store_id))

    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.update_store_shipments(labelled.pk)

    assert result["counts"]["labels_read"] == 25 and result["counts"]["new"] == 25
    assert result["counts"]["notices_sent_now"] == 10 and result["counts"]["notices_deferred"] == 15
    assert len(accepted_notices(ordertime_sim)) == 10
    assert ShipmentNotice.objects.filter(store=labelled, state=NoticeState.PENDING).count() == 15
    assert queued == [labelled.pk]
    assert labelled.pk in stores_with_due_notices()  # and the sweep finds them if that task is lost


def test_the_follow_up_tasks_send_every_notice_exactly_once(labelled, ordertime_sim,
                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        tasks.update_store_shipments.delay(labelled.pk)  # eager without a broker: each task runs the next

    sent = accepted_notices(ordertime_sim)
    assert len(sent) == 25
    assert len({notice["query"]["tracking_number"] for notice in sent}) == 25
    assert ShipmentNotice.objects.filter(store=labelled, state=NoticeState.SENT).count() == 25
    assert labelled.pk not in stores_with_due_notices()


def test_labels_read_again_cost_nothing_unless_their_void_status_changed(store, ordertime_sim, shipstation_sim,
                                                                        django_assert_max_num_queries):
    order = import_order(store, ordertime_sim)
    labels = [label(shipstation_sim, order) for _ in range(5)]
    first = store_update_shipments(store=store)
    assert first.counts["notices_sent_now"] == 5

    with django_assert_max_num_queries(25):  # no per-label queries: one lookup per 500 labels
        again = store_update_shipments(store=store)
    assert again.counts["labels_read"] == 5 and again.counts["labels_unchanged"] == 5
    assert again.counts.get("new", 0) == 0 and len(accepted_notices(ordertime_sim)) == 5

    shipstation_sim.void_label(labels[0]["shipmentId"])
    voided = store_update_shipments(store=store)

    # The voided label is processed (and flagged: Order Time already has its notice); the four others,
    # and the same label read again from the voids window, are not.
    assert voided.counts["labels_unchanged"] == 5
    notice = ShipmentNotice.objects.get(store=store, external_id=labels[0]["shipmentId"])
    assert notice.state == NoticeState.FLAGGED and notice.voided_at is not None


def test_routine_cycles_re_read_hours_and_a_deep_cycle_a_day(store, shipstation_sim, settings):
    settings.ORDERSYNC_SHIPMENT_OVERLAP_MINUTES = 120
    settings.ORDERSYNC_SHIPMENT_DEEP_OVERLAP_MINUTES = 1440
    settings.ORDERSYNC_SHIPMENT_DEEP_EVERY_MINUTES = 360

    first = store_update_shipments(store=store)  # the look-back; counts as deep
    routine = store_update_shipments(store=store)

    assert first.counts.get("deep_overlap") == 1
    assert routine.counts.get("deep_overlap") is None
    assert routine.window_start == first.window_end - timedelta(minutes=120)

    Store.objects.filter(pk=store.pk).update(last_deep_update_at=timezone.now() - timedelta(hours=6, minutes=1))
    deep = store_update_shipments(store=store)

    assert deep.counts.get("deep_overlap") == 1
    assert deep.window_start == routine.window_end - timedelta(days=1)
    stored = Store.objects.get(pk=store.pk)
    assert stored.last_deep_update_at == deep.window_end == stored.shipment_cursor
