"""The import cycle end to end: Order Time simulator → services → ShipStation simulator, over loopback HTTP."""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core.management import call_command

from connections.clients.http import RetryPolicy
from connections.clients.shipstation import ShipStationClient
from connections.models import AuditLogEntry
from connections.services import status_mapping_set
from ordersync.imports import cycle, records
from ordersync.imports.actions import synced_order_mark_handled, synced_order_resend, synced_order_retry
from ordersync.imports.cycle import store_import_orders
from ordersync.imports.pipeline import import_options_for
from ordersync.mapping.imports import map_order, order_key
from ordersync.models import Attempt, AttemptKind, OrderState, RunStatus, SyncedOrder, SyncRun
from ordersync.tasks import import_due_stores
from sandbox.ordertime import make_sample_docs, section5_sample_docs
from tests.unit.builders import order_1187, order_1190

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_store(store):
    """The connected store, with the simulator's ready-to-ship status mapped."""
    status_mapping_set(store=store, ordertime_status="open", shipstation_status="awaiting_shipment")
    return store


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch):
    """5xx retries without their random back-off: the retries still happen, the test just does not wait."""
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, attempt: 0.0)


def sample_docs() -> list[dict]:
    """The two ship docs of §5, modified now (the simulator stamps them) so they fall in the first window."""
    return [{k: v for k, v in doc.items() if k != "LastModified"} for doc in section5_sample_docs()]


def on_nth_createorders(monkeypatch, n: int, action) -> None:
    """Run ``action`` just before the client's ``n``-th createorders call (1-based).

    One call at a time, so that the faults ``action`` injects meet that call and its retries only.
    """
    monkeypatch.setattr(settings, "ORDERSYNC_SHIPSTATION_CONCURRENCY", 1)
    original = ShipStationClient.create_orders
    calls = Counter()

    def create_orders(self, orders):
        calls["n"] += 1
        if calls["n"] == n:
            action()
        return original(self, orders)

    monkeypatch.setattr(ShipStationClient, "create_orders", create_orders)


def import_killed_after_createorders(store, monkeypatch) -> None:
    """An import cycle whose worker dies after ShipStation answered the first createorders, before the record.

    One call at a time, so that no later batch is on its way to ShipStation when the first answer is recorded.
    """
    monkeypatch.setattr(settings, "ORDERSYNC_SHIPSTATION_CONCURRENCY", 1)

    def killed(**kwargs):
        raise RuntimeError("worker killed after createorders answered")

    with monkeypatch.context() as patch:
        patch.setattr(records, "createorders_results_record", killed)
        with pytest.raises(RuntimeError):
            store_import_orders(store=store)


def orders_by_key(shipstation_sim) -> dict[str, dict]:
    orders = shipstation_sim.order_list()
    keys = Counter(order["orderKey"] for order in orders)
    assert max(keys.values(), default=1) == 1, "one ShipStation order per orderKey"
    return {order["orderKey"]: order for order in orders}


def assert_arrived(actual, expected, path="order"):
    """Every field the mapping produced is in ShipStation's order with the same value."""
    if isinstance(expected, dict):
        for key, value in expected.items():
            assert key in actual, f"{path}.{key} missing in ShipStation"
            assert_arrived(actual[key], value, f"{path}.{key}")
    elif isinstance(expected, list):
        assert len(actual) == len(expected), path
        for index, (got, wanted) in enumerate(zip(actual, expected, strict=True)):
            assert_arrived(got, wanted, f"{path}[{index}]")
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def test_thousand_ship_docs_take_ten_createorders_calls_and_a_second_run_none(open_store, ordertime_sim, shipstation_sim,
                                                                             monkeypatch):
    monkeypatch.setattr(settings, "ORDERSYNC_IMPORT_ORDERS_PER_CYCLE", 2000)  # the whole window in one cycle
    ordertime_sim.add_ship_docs(make_sample_docs(1000, seed=3))

    run = store_import_orders(store=open_store)

    assert ordertime_sim.request_counts()["export"] == 21  # 50 a page: every page was read, page 1 twice
    assert shipstation_sim.stats.createorders_calls == 10
    assert shipstation_sim.stats.orders_per_call == [100] * 10
    assert len(orders_by_key(shipstation_sim)) == 1000
    assert run.status == RunStatus.SUCCEEDED and not run.more_to_read
    assert run.counts["exported"] == 1050 and run.counts["imported"] == 1000
    assert SyncedOrder.objects.filter(store=open_store, state=OrderState.IMPORTED).count() == 1000
    open_store.refresh_from_db()
    assert open_store.import_cursor == run.window_end
    assert open_store.shipstation_health == "ok" and open_store.ordertime_health == "ok"

    again = store_import_orders(store=open_store)

    assert shipstation_sim.stats.createorders_calls == 10
    assert again.counts["unchanged"] == 1000 and again.counts["imported"] == 0
    assert again.window_start == run.window_end - timedelta(days=1)


def test_every_field_of_the_section_5_sample_arrives_in_shipstation(open_store, ordertime_sim, shipstation_sim):
    ordertime_sim.add_ship_docs(sample_docs())

    store_import_orders(store=open_store)

    arrived = orders_by_key(shipstation_sim)
    for sample in (order_1187(), order_1190()):
        expected = map_order(sample, import_options_for(open_store)).order
        actual = arrived[order_key(open_store.order_key_prefix, sample.order_id)]
        assert actual["orderDate"].startswith(expected.pop("orderDate").replace(" ", "T"))
        assert_arrived(actual, expected)
        assert actual["advancedOptions"]["storeId"] == open_store.shipstation_store_id
    order = arrived[order_key(open_store.order_key_prefix, "48213")]
    # Options with option weights: 6.00 oz + 0.50 oz for size L; total 2 × 6.5 + 14 = 27 oz.
    assert order["items"][0]["options"] == [{"name": "Size", "value": "L"}, {"name": "Color", "value": "Forest Green"}]
    assert order["items"][0]["weight"] == {"value": 6.5, "units": "ounces"}
    assert order["weight"] == {"value": 27.0, "units": "ounces"}
    # The coupon line: an adjustment with a negative price and no weight.
    coupon = order["items"][2]
    assert (coupon["sku"], coupon["unitPrice"], coupon["adjustment"], coupon["weight"]) == ("SPRING5", -5.0, True, None)
    assert order["giftMessage"] == "Happy birthday, Sam! Love, Alex" and order["gift"] is True
    row = SyncedOrder.objects.get(store=open_store, ordertime_order_id="48213")
    assert row.shipstation_order_id == order["orderId"] and row.payload["orderKey"] == order["orderKey"]
    assert row.source["order_number"] == "1187"
    attempt = row.attempts.get()
    assert attempt.success and attempt.request == row.payload and attempt.response["order_id"] == order["orderId"]


def test_unicode_and_entities_in_names_and_notes_arrive_as_written(open_store, ordertime_sim, shipstation_sim):
    doc = sample_docs()[0]
    doc["Customer"]["ShipTo"].update(Name="Zoë Ångström 山田", Company="Tom & Jerry's <Toys>")
    doc["CustomerNotes"] = "Bitte beim Nachbarn abgeben & klingeln 🎉\nZweite Zeile"
    doc["InternalNotes"] = "Caf&eacute; &amp; more"  # an HTML entity inside CDATA, as some servers write
    doc["Items"][1]["Name"] = 'Steel Bottle 750 ml "Arctic" – Größe M'
    ordertime_sim.add_ship_doc(**doc)

    store_import_orders(store=open_store)

    order = orders_by_key(shipstation_sim)[order_key(open_store.order_key_prefix, "48213")]
    assert order["shipTo"]["name"] == "Zoë Ångström 山田"
    assert order["shipTo"]["company"] == "Tom & Jerry's <Toys>"
    assert order["customerNotes"] == "Bitte beim Nachbarn abgeben & klingeln 🎉\nZweite Zeile"
    assert order["internalNotes"] == "Café & more"
    assert order["items"][1]["name"] == 'Steel Bottle 750 ml "Arctic" – Größe M'


def test_an_order_modified_twice_is_updated_not_duplicated(open_store, ordertime_sim, shipstation_sim):
    ordertime_sim.add_ship_docs(sample_docs())
    store_import_orders(store=open_store)
    key = order_key(open_store.order_key_prefix, "48213")
    first_id = orders_by_key(shipstation_sim)[key]["orderId"]

    ordertime_sim.modify("48213", InternalNotes="Second version")
    store_import_orders(store=open_store)
    ordertime_sim.modify("48213", InternalNotes="Third version")
    store_import_orders(store=open_store)

    arrived = orders_by_key(shipstation_sim)
    assert len(arrived) == 2
    assert arrived[key]["orderId"] == first_id
    assert arrived[key]["internalNotes"] == "Third version"
    assert arrived[key]["advancedOptions"]["storeId"] == open_store.shipstation_store_id  # not moved (§8.6)
    assert shipstation_sim.create_calls_by_key[key] == 3
    assert shipstation_sim.create_calls_by_key[order_key(open_store.order_key_prefix, "48219")] == 1  # unchanged: not re-sent
    row = SyncedOrder.objects.get(store=open_store, ordertime_order_id="48213")
    assert row.payload["internalNotes"] == "Third version"
    assert row.payload["advancedOptions"]["storeId"] == open_store.shipstation_store_id  # on updates too (§8.6)
    assert row.attempts.filter(kind=AttemptKind.CREATE_ORDERS, success=True).count() == 3


def test_a_429_in_the_middle_is_waited_out(open_store, ordertime_sim, shipstation_sim, monkeypatch):
    shipstation_sim.rate_window_seconds = 1.0  # the 429's X-Rate-Limit-Reset says at most one second
    ordertime_sim.add_ship_docs(make_sample_docs(250, seed=4))
    on_nth_createorders(monkeypatch, 2, lambda: shipstation_sim.faults.update(fail_next=[429]))

    run = store_import_orders(store=open_store)

    assert shipstation_sim.stats.injected_429s == 1
    assert shipstation_sim.stats.createorders_calls == 3
    assert len(orders_by_key(shipstation_sim)) == 250
    assert run.status == RunStatus.SUCCEEDED and run.counts["imported"] == 250


def test_a_429_asking_for_a_long_wait_stops_the_cycle_with_its_reason(open_store, ordertime_sim, shipstation_sim,
                                                                      monkeypatch):
    """A Reset longer than ORDERSYNC_RATE_LIMIT_MAX_WAIT is not slept: the cycle stops, says why, loses nothing."""
    shipstation_sim.rate_window_seconds = 500.0  # the 429's X-Rate-Limit-Reset says about 500 s
    ordertime_sim.add_ship_docs(make_sample_docs(250, seed=4))
    on_nth_createorders(monkeypatch, 2, lambda: shipstation_sim.faults.update(fail_next=[429]))
    slept = []
    monkeypatch.setattr("time.sleep", lambda seconds: slept.append(seconds))

    run = store_import_orders(store=open_store)

    assert not [s for s in slept if s > settings.ORDERSYNC_RATE_LIMIT_MAX_WAIT]
    assert shipstation_sim.stats.injected_429s == 1
    assert run.status in (RunStatus.PARTIAL, RunStatus.FAILED)
    assert any("longer than the 120 s limit" in error for error in run.errors), run.errors
    imported = len(orders_by_key(shipstation_sim))
    assert imported == 100 and run.counts["imported"] == 100
    assert SyncedOrder.objects.filter(store=open_store, state=OrderState.PENDING).count() == 150
    open_store.refresh_from_db()
    assert open_store.import_cursor is None  # the window is read again by the next cycle


def test_a_500_on_one_batch_leaves_it_pending_and_the_next_run_imports_it(open_store, ordertime_sim, shipstation_sim, monkeypatch):
    ordertime_sim.add_ship_docs(make_sample_docs(250, seed=5))
    on_nth_createorders(monkeypatch, 2, lambda: shipstation_sim.faults.update(fail_next=[500] * 4))

    run = store_import_orders(store=open_store)

    assert shipstation_sim.stats.injected_500s == 4  # the transport retried before giving the batch up
    assert len(shipstation_sim.order_list()) == 150
    assert run.status == RunStatus.PARTIAL and run.counts["failed"] == 100 and run.counts["imported"] == 150
    assert "500" in run.errors[0]
    pending = SyncedOrder.objects.filter(store=open_store, state=OrderState.PENDING)
    assert pending.count() == 100 and not pending.filter(shipstation_order_id__isnull=False).exists()
    assert Attempt.objects.filter(synced_order__in=pending, success=False, error__contains="500").count() == 100
    open_store.refresh_from_db()
    assert open_store.import_cursor is None  # the window is read again
    assert open_store.shipstation_health == "failed"

    again = store_import_orders(store=open_store)

    assert again.status == RunStatus.SUCCEEDED and again.counts["imported"] == 100
    assert len(orders_by_key(shipstation_sim)) == 250
    assert SyncedOrder.objects.filter(store=open_store, state=OrderState.IMPORTED).count() == 250
    open_store.refresh_from_db()
    assert open_store.import_cursor == again.window_end


def test_an_unexpected_error_is_stored_without_the_stores_secrets(open_store, ordertime_sim, shipstation_sim,
                                                                   monkeypatch):
    """A crash whose text carries the keys (as a UnicodeEncodeError of the auth header would) is stored masked."""
    ordertime_sim.add_ship_docs(make_sample_docs(120, seed=6))
    key = open_store.ordertime_account.api_key
    secret = open_store.shipstation_account.api_secret

    def crash(self, *args, **kwargs):
        raise RuntimeError(f"cannot send {key!r} with {secret}")

    monkeypatch.setattr(cycle.Pipeline, "send_all", crash)
    with pytest.raises(RuntimeError):
        store_import_orders(store=open_store)

    crashed = SyncRun.objects.get(store=open_store)
    assert crashed.status == RunStatus.FAILED
    assert crashed.errors == ["RuntimeError: cannot send '****' with ****"]


def test_a_crash_between_push_and_record_leaves_no_duplicate_after_a_rerun(open_store, ordertime_sim, shipstation_sim, monkeypatch):
    ordertime_sim.add_ship_docs(make_sample_docs(120, seed=6))

    import_killed_after_createorders(open_store, monkeypatch)

    assert len(shipstation_sim.order_list()) == 100  # the first batch reached ShipStation, unrecorded
    crashed = SyncRun.objects.get(store=open_store)
    assert crashed.status == RunStatus.FAILED and "worker killed" in crashed.errors[0]
    # Recorded before they were sent (the reader may have recorded the third page before the answer
    # came in); none is marked as in ShipStation.
    pending = SyncedOrder.objects.filter(store=open_store, state=OrderState.PENDING)
    assert pending.count() >= 100 and not pending.filter(shipstation_order_id__isnull=False).exists()

    store_import_orders(store=open_store)

    arrived = orders_by_key(shipstation_sim)
    assert len(arrived) == 120
    for row in SyncedOrder.objects.filter(store=open_store):
        assert row.state == OrderState.IMPORTED
        assert row.shipstation_order_id == arrived[row.order_key]["orderId"]


def test_rejected_and_held_orders_show_in_sync_report_with_every_reason(open_store, ordertime_sim, shipstation_sim):
    bad = sample_docs()[0]
    bad["Customer"]["ShipTo"].update(Country="USA", State="Texas", City="")
    bad["Items"][0]["Quantity"] = "1.5"
    ordertime_sim.add_ship_doc(**bad)
    held = sample_docs()[1]
    held["OrderStatus"] = "Awaiting Stock"
    ordertime_sim.add_ship_doc(**held)

    run = store_import_orders(store=open_store)

    assert run.counts["rejected"] == 1 and run.counts["held"] == 1
    assert shipstation_sim.stats.createorders_calls == 0
    out = io.StringIO()
    call_command("sync_report", "--json", "--store", open_store.name, stdout=out)
    report = json.loads(out.getvalue())
    (store_report,) = report["stores"]
    assert store_report["name"] == open_store.name
    assert store_report["imported"] == 0 and store_report["notified"] == 0
    (rejected,) = store_report["rejected"]
    assert rejected["order_number"] == "1187"
    reasons = " | ".join(rejected["reasons"])
    for fragment in ('Ship-to country "USA"', "Ship-to city", '"1.5"'):
        assert fragment in reasons
    assert len(rejected["reasons"]) == 3
    assert store_report["held"] == [{"order_number": "1190", "status": "Awaiting Stock"}]
    assert store_report["errors"] == [] and store_report["needs_attention"] == []
    validation = Attempt.objects.get(kind=AttemptKind.VALIDATION)
    assert validation.response == {"reasons": rejected["reasons"]}

    text = io.StringIO()
    call_command("sync_report", stdout=text)
    assert 'Ship-to country "USA"' in text.getvalue() and "Awaiting Stock" in text.getvalue()


def test_a_rejected_order_is_retried_when_order_time_sends_a_newer_version(open_store, ordertime_sim, shipstation_sim):
    bad = sample_docs()[0]
    bad["Customer"]["ShipTo"]["Country"] = "USA"
    ordertime_sim.add_ship_doc(**bad)
    store_import_orders(store=open_store)

    ordertime_sim.modify("48213", Customer={**bad["Customer"], "ShipTo": {**bad["Customer"]["ShipTo"], "Country": "US"}})
    store_import_orders(store=open_store)

    row = SyncedOrder.objects.get(store=open_store, ordertime_order_id="48213")
    assert row.state == OrderState.IMPORTED and row.rejection_reasons == []
    assert len(shipstation_sim.order_list()) == 1


def test_a_held_order_is_released_when_its_status_gets_a_mapping(store, ordertime_sim, shipstation_sim,
                                                                 django_capture_on_commit_callbacks):
    ordertime_sim.add_ship_docs(sample_docs())
    store_import_orders(store=store)
    assert SyncedOrder.objects.filter(store=store, state=OrderState.HELD).count() == 2
    assert shipstation_sim.stats.createorders_calls == 0

    with django_capture_on_commit_callbacks(execute=True):
        status_mapping_set(store=store, ordertime_status="  OPEN ", shipstation_status="awaiting_shipment")

    assert SyncedOrder.objects.filter(store=store, state=OrderState.IMPORTED).count() == 2
    assert len(orders_by_key(shipstation_sim)) == 2
    assert shipstation_sim.stats.createorders_calls == 1


def test_a_voided_ship_doc_cancels_the_open_shipstation_order(open_store, ordertime_sim, shipstation_sim):
    ordertime_sim.add_ship_docs(sample_docs())
    store_import_orders(store=open_store)

    ordertime_sim.modify("48213", OrderStatus="Voided")
    run = store_import_orders(store=open_store)

    key = order_key(open_store.order_key_prefix, "48213")
    assert orders_by_key(shipstation_sim)[key]["orderStatus"] == "cancelled"
    assert run.counts["imported"] == 1
    row = SyncedOrder.objects.get(order_key=key)
    assert row.state == OrderState.CANCELLED and row.shipstation_status == "cancelled"

    ordertime_sim.modify("48213", InternalNotes="Edited after the void")
    calls = shipstation_sim.stats.createorders_calls
    later = store_import_orders(store=open_store)

    assert shipstation_sim.stats.createorders_calls == calls  # cancelled in ShipStation: not written again
    assert later.counts["closed_in_shipstation"] == 1 and later.counts["locked"] == 0
    row.refresh_from_db()
    assert not row.needs_attention and row.flags == []  # information, not a problem


def test_an_order_shipped_in_shipstation_is_never_written_again_and_that_is_news(open_store, ordertime_sim,
                                                                                   shipstation_sim):
    ordertime_sim.add_ship_docs(sample_docs())
    store_import_orders(store=open_store)
    key = order_key(open_store.order_key_prefix, "48213")
    shipstation_sim.create_label(orders_by_key(shipstation_sim)[key]["orderId"])  # shipped in ShipStation
    calls = shipstation_sim.stats.createorders_calls

    ordertime_sim.modify("48213", InternalNotes="Too late")
    first = store_import_orders(store=open_store)
    ordertime_sim.modify("48213", InternalNotes="Even later")
    second = store_import_orders(store=open_store)

    # The copy read before the update says shipped: no createorders call at all, not even a refused one.
    assert shipstation_sim.stats.createorders_calls == calls
    assert first.counts["closed_in_shipstation"] == 1 and second.counts["closed_in_shipstation"] == 1
    assert first.status == second.status == RunStatus.SUCCEEDED
    row = SyncedOrder.objects.get(order_key=key)
    assert (row.state, row.shipstation_status, row.needs_attention, row.flags) == (
        OrderState.IMPORTED, "shipped", False, [])
    note = row.attempts.order_by("pk").last()
    assert note.success and "Shipped in ShipStation" in note.error
    assert orders_by_key(shipstation_sim)[key]["internalNotes"] == "Wrap the mug in bubble wrap."


def test_an_order_failing_three_runs_needs_attention_until_retried(open_store, ordertime_sim, shipstation_sim):
    open_store.shipstation_store_id = 99999  # ShipStation answers success: false ("Invalid storeId")
    open_store.save()
    ordertime_sim.add_ship_docs(sample_docs()[:1])

    runs = [store_import_orders(store=open_store) for _ in range(3)]

    assert [run.counts["failed"] for run in runs] == [1, 1, 1]
    assert shipstation_sim.stats.createorders_calls == 6  # each run retried the order alone once
    row = SyncedOrder.objects.get(store=open_store)
    assert row.state == OrderState.FAILED and row.needs_attention and "storeId" in row.last_error
    store_import_orders(store=open_store)
    assert shipstation_sim.stats.createorders_calls == 6  # retries spent: left for a person
    out = io.StringIO()
    call_command("sync_report", "--json", stdout=out)
    (store_report,) = json.loads(out.getvalue())["stores"]
    assert store_report["needs_attention"][0]["order_number"] == "1187"
    assert "storeId" in store_report["errors"][0]

    open_store.shipstation_store_id = 22766
    open_store.save()
    retried = synced_order_retry(synced_order=row)

    assert retried.state == OrderState.IMPORTED and not retried.needs_attention
    assert AuditLogEntry.objects.filter(action="synced_order_retried").exists()


def test_resend_sends_an_unchanged_order_and_mark_handled_is_audited(open_store, ordertime_sim, shipstation_sim):
    ordertime_sim.add_ship_docs(sample_docs()[:1])
    store_import_orders(store=open_store)
    row = SyncedOrder.objects.get(store=open_store)

    unchanged = synced_order_retry(synced_order=row)
    assert shipstation_sim.stats.createorders_calls == 1 and unchanged.state == OrderState.IMPORTED
    synced_order_resend(synced_order=row)
    assert shipstation_sim.stats.createorders_calls == 2
    assert len(shipstation_sim.order_list()) == 1

    SyncedOrder.objects.filter(pk=row.pk).update(needs_attention=True)
    handled = synced_order_mark_handled(synced_order=SyncedOrder.objects.get(pk=row.pk))
    assert not handled.needs_attention and handled.handled_at is not None
    assert AuditLogEntry.objects.filter(action="synced_order_handled", object_repr=str(handled)).exists()


def test_import_orders_command_reads_from_since_and_moves_no_cursor_past_a_gap(open_store, ordertime_sim, shipstation_sim):
    old = sample_docs()[0]
    old["LastModified"] = datetime.now(UTC) - timedelta(days=30)
    ordertime_sim.add_ship_doc(**old)
    out = io.StringIO()

    call_command("import_orders", "--store", open_store.name, stdout=out)
    assert shipstation_sim.stats.createorders_calls == 0  # 30 days back is outside the first look-back

    since = (datetime.now(UTC) - timedelta(days=31)).strftime("%Y-%m-%d %H:%M")
    call_command("import_orders", "--store", open_store.name, "--since", since, stdout=out)

    assert len(shipstation_sim.order_list()) == 1
    assert "imported 1" in out.getvalue()
    run = SyncRun.objects.filter(store=open_store).first()
    assert run.trigger == "command" and run.window_start.strftime("%Y-%m-%d %H:%M") == since


def test_beat_sweep_queues_only_due_stores(open_store, ordertime_sim, shipstation_sim, django_capture_on_commit_callbacks):
    ordertime_sim.add_ship_docs(sample_docs())

    with django_capture_on_commit_callbacks(execute=True):
        due = import_due_stores()
    assert due == [open_store.pk]
    assert SyncRun.objects.filter(store=open_store, trigger="schedule").count() == 1
    assert len(shipstation_sim.order_list()) == 2

    with django_capture_on_commit_callbacks(execute=True):
        assert import_due_stores() == []  # imported a moment ago; the interval has not passed
