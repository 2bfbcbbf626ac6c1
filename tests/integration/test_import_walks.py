"""Bounded import cycles: a large window is read a few pages per cycle, and the next cycle resumes it."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command

from connections.clients.http import RetryPolicy
from connections.clients.shipstation import ShipStationClient
from connections.clients_for_store import ordertime_client_for
from connections.models import Store
from connections.services import status_mapping_set
from ordersync import tasks
from ordersync.imports.cycle import store_import_orders
from ordersync.models import Attempt, AttemptKind, OrderState, RunStatus, SyncedOrder, SyncRun
from ordersync.selectors import stores_due
from sandbox.ordertime import make_sample_docs
from tests.integration.test_import_cycle import (
    import_killed_after_createorders,
    on_nth_createorders,
    orders_by_key,
)

pytestmark = pytest.mark.django_db

PAGE = 50  # the Order Time simulator's page size


@pytest.fixture
def open_store(store, settings):
    settings.ORDERSYNC_IMPORT_ORDERS_PER_CYCLE = 160  # four pages of 50 per cycle
    status_mapping_set(store=store, ordertime_status="open", shipstation_status="awaiting_shipment")
    return store


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch):
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, attempt: 0.0)


def walk_of(store: Store) -> dict | None:
    return Store.objects.get(pk=store.pk).import_walk


def test_a_large_window_is_read_in_bounded_cycles_that_resume_at_the_next_page(open_store, ordertime_sim, shipstation_sim):
    ordertime_sim.add_ship_docs(make_sample_docs(300, seed=21))

    first = store_import_orders(store=open_store)

    assert first.more_to_read and first.status == RunStatus.SUCCEEDED
    assert first.counts["exported"] == 200 and first.counts["imported"] == 200 and first.counts["pages"] == 4
    assert walk_of(open_store)["pages"] == 6 and walk_of(open_store)["position"] == 4  # read 1, 6, 5, 4
    assert Store.objects.get(pk=open_store.pk).import_cursor is None  # part of a window moves no cursor

    second = store_import_orders(store=open_store)  # 3, 2, and 1 once more

    assert not second.more_to_read and second.counts["pages"] == 3
    assert second.counts["imported"] == 100 and second.counts["unchanged"] == 50
    assert (second.window_start, second.window_end) == (first.window_start, first.window_end)
    assert ordertime_sim.request_counts()["export"] == 7  # every page once, page 1 twice
    assert len(orders_by_key(shipstation_sim)) == 300
    store = Store.objects.get(pk=open_store.pk)
    assert store.import_walk is None and store.import_cursor == first.window_end == second.cursor_after


def test_ship_docs_edited_while_a_walk_pauses_are_not_skipped(open_store, ordertime_sim, shipstation_sim):
    """Edits move docs out of the frozen window, and every later doc one place per edit towards page 1.
    Read from the back, none of them slips onto a page already read."""
    ids = ordertime_sim.add_ship_docs(make_sample_docs(300, seed=28))
    first = store_import_orders(store=open_store)  # pages 1, 6, 5, 4
    page_two = ordertime_client_for(open_store).export_page(first.window_start, first.window_end, 2)
    edited = {order.order_id for order in page_two.orders[:10]}
    for order_id in edited:
        ordertime_sim.modify(order_id, LastModified=first.window_end + timedelta(minutes=1))

    second = store_import_orders(store=open_store)

    assert not second.more_to_read
    unedited = set(ids) - edited
    recorded = set(SyncedOrder.objects.filter(store=open_store, state=OrderState.IMPORTED)
                   .values_list("ordertime_order_id", flat=True))
    assert unedited <= recorded  # read by this walk, though ten places moved
    # The edited ones left the window; the next walk, which starts before this one's end, reads them.
    assert Store.objects.get(pk=open_store.pk).import_cursor == first.window_end


def test_the_task_reads_one_bounded_cycle_and_queues_the_next(open_store, ordertime_sim, shipstation_sim,
                                                              monkeypatch, django_capture_on_commit_callbacks):
    ordertime_sim.add_ship_docs(make_sample_docs(300, seed=22))
    queued = []
    monkeypatch.setattr(tasks.import_store_orders, "delay", lambda *args: queued.append(args))

    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.import_store_orders(open_store.pk)

    assert result["more_to_read"] and result["counts"]["exported"] == 200
    assert queued == [(open_store.pk, "schedule")]  # to the back of the queue: other stores run in between
    assert open_store.pk in stores_due(kind="import")  # and the sweep queues it again if that task is lost


def test_the_queued_cycles_finish_the_window(open_store, ordertime_sim, shipstation_sim, django_capture_on_commit_callbacks):
    ordertime_sim.add_ship_docs(make_sample_docs(300, seed=23))

    with django_capture_on_commit_callbacks(execute=True):
        tasks.import_store_orders.delay(open_store.pk)  # eager without a broker: each cycle runs the next

    runs = SyncRun.objects.filter(store=open_store).order_by("pk")
    assert [run.more_to_read for run in runs] == [True, False]
    assert len(orders_by_key(shipstation_sim)) == 300
    assert walk_of(open_store) is None


def test_a_worker_killed_mid_walk_leaves_work_the_next_cycle_finishes_once(open_store, ordertime_sim, shipstation_sim,
                                                                           monkeypatch):
    ordertime_sim.add_ship_docs(make_sample_docs(300, seed=24))
    store_import_orders(store=open_store)

    import_killed_after_createorders(open_store, monkeypatch)
    assert walk_of(open_store)["position"] == 4  # the walk did not move past the lost cycle

    store_import_orders(store=open_store)

    arrived = orders_by_key(shipstation_sim)  # asserts one order per orderKey
    assert len(arrived) == 300
    assert SyncedOrder.objects.filter(store=open_store, state=OrderState.IMPORTED).count() == 300
    assert walk_of(open_store) is None and Store.objects.get(pk=open_store.pk).import_cursor is not None


def test_a_failed_batch_early_in_the_walk_keeps_the_cursor_and_is_sent_next_walk(open_store, ordertime_sim,
                                                                                 shipstation_sim, monkeypatch):
    ordertime_sim.add_ship_docs(make_sample_docs(300, seed=25))
    on_nth_createorders(monkeypatch, 1, lambda: shipstation_sim.faults.update(fail_next=[500] * 4))

    first = store_import_orders(store=open_store)
    second = store_import_orders(store=open_store)

    assert first.status == RunStatus.PARTIAL and first.counts["failed"] == 100
    assert second.status == RunStatus.SUCCEEDED and not second.more_to_read
    assert Store.objects.get(pk=open_store.pk).import_cursor is None  # the walk was not clean
    # 100 of the first cycle's 200 failed; page 1's 50 of them were sent again when page 1 was re-read.
    assert len(shipstation_sim.order_list()) == 250

    while store_import_orders(store=open_store).more_to_read:  # the next walk reads the window again
        pass

    assert len(orders_by_key(shipstation_sim)) == 300
    assert Store.objects.get(pk=open_store.pk).import_cursor is not None


def test_import_orders_command_reads_the_whole_window_in_its_own_process(open_store, ordertime_sim, shipstation_sim):
    ordertime_sim.add_ship_docs(make_sample_docs(300, seed=26))
    out = io.StringIO()

    call_command("import_orders", "--store", open_store.name, stdout=out)

    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and "more to read" in lines[0] and "more to read" not in lines[1]
    assert len(orders_by_key(shipstation_sim)) == 300
    assert walk_of(open_store) is None


def test_createorders_calls_overlap_with_reading_and_every_answer_is_recorded_once(open_store, ordertime_sim,
                                                                                   shipstation_sim, settings,
                                                                                   monkeypatch):
    settings.ORDERSYNC_SHIPSTATION_CONCURRENCY = 3
    settings.ORDERSYNC_IMPORT_ORDERS_PER_CYCLE = 1000
    ordertime_sim.add_ship_docs(make_sample_docs(600, seed=27))
    original = ShipStationClient.create_orders
    in_flight, most = [0], [0]
    lock = threading.Lock()
    released = threading.Event()

    def create_orders(self, orders):
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
            if most[0] == 3:
                released.set()
        released.wait(timeout=5)  # hold the first calls until three are in flight at once
        try:
            return original(self, orders)
        finally:
            with lock:
                in_flight[0] -= 1

    monkeypatch.setattr(ShipStationClient, "create_orders", create_orders)

    run = store_import_orders(store=open_store)

    assert most[0] == 3 and released.is_set()
    assert run.status == RunStatus.SUCCEEDED and run.counts["imported"] == 600
    assert len(orders_by_key(shipstation_sim)) == 600
    assert Attempt.objects.filter(synced_order__store=open_store, kind=AttemptKind.CREATE_ORDERS).count() == 600
    assert SyncedOrder.objects.filter(store=open_store, state=OrderState.IMPORTED).count() == 600
