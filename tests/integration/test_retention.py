"""History retention: old runs and attempts go; what an order's timeline and pending decisions read stays."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from connections.models import OrderTimeAccount, ShipStationAccount, Store
from ordersync.models import (
    Attempt,
    AttemptKind,
    RunKind,
    RunStatus,
    ShipmentNotice,
    SyncedOrder,
    SyncRun,
)
from ordersync.retention import history_prune
from ordersync.tasks import prune_history

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def days_ago(n: float):
    return NOW - timedelta(days=n)


@pytest.fixture
def quiet_store(db):
    ot = OrderTimeAccount.objects.create(username="u@example.com", api_key="k", endpoint_url="http://127.0.0.1:9/ot")
    ss = ShipStationAccount.objects.create(api_key="k", api_secret="s", base_url="http://127.0.0.1:9", label="Main")
    return Store.objects.create(name="Quiet", ordertime_account=ot, shipstation_account=ss, shipstation_store_id=1,
                                order_key_prefix="quiet")


def run(store, *, age: float, status=RunStatus.SUCCEEDED, kind=RunKind.IMPORT) -> SyncRun:
    row = SyncRun.objects.create(store=store, kind=kind, status=status)
    SyncRun.objects.filter(pk=row.pk).update(started_at=days_ago(age))
    return row


def attempt(order, *, age: float, kind=AttemptKind.CREATE_ORDERS, success=True, sync_run=None, notice=None) -> Attempt:
    row = Attempt.objects.create(synced_order=order, kind=kind, success=success, sync_run=sync_run, notice=notice)
    Attempt.objects.filter(pk=row.pk).update(at=days_ago(age))
    return row


def order(store, number: str, **fields) -> SyncedOrder:
    return SyncedOrder.objects.create(store=store, ordertime_order_id=number, order_number=number,
                                      order_key=f"quiet-{number}", **fields)


def surviving(model, rows) -> set[int]:
    return set(model.objects.filter(pk__in=[row.pk for row in rows]).values_list("pk", flat=True))


def test_old_attempts_go_but_each_timeline_keeps_its_latest_of_each_kind(quiet_store):
    sent = order(quiet_store, "1", imported_at=days_ago(100))
    superseded = attempt(sent, age=200)
    latest_send = attempt(sent, age=100)
    recent = attempt(sent, age=10)
    notice = ShipmentNotice.objects.create(store=quiet_store, synced_order=sent, external_id=7)
    old_notice_try = attempt(sent, age=150, kind=AttemptKind.SHIP_NOTICE, success=False, notice=notice)
    last_notice_try = attempt(sent, age=140, kind=AttemptKind.SHIP_NOTICE, notice=notice)
    only_email = attempt(sent, age=140, kind=AttemptKind.EMAIL, notice=notice)

    result = history_prune(days=90, now=NOW)

    assert surviving(Attempt, [superseded, old_notice_try]) == set()
    assert surviving(Attempt, [recent, last_notice_try, only_email]) == {recent.pk, last_notice_try.pk, only_email.pk}
    # The 100-day-old send is not the latest createorders attempt any more: the 10-day-old one is.
    assert surviving(Attempt, [latest_send]) == set()
    assert result["attempts"] == 3


def test_failed_sends_that_still_count_towards_giving_up_are_kept(quiet_store):
    failing = order(quiet_store, "2", imported_at=days_ago(300))
    before_import = attempt(failing, age=310, success=False)
    counting = [attempt(failing, age=age, success=False) for age in (200, 150)]
    handled = order(quiet_store, "3", handled_at=days_ago(120))
    forgiven = attempt(handled, age=200, success=False)
    attempt(handled, age=110, success=False)

    history_prune(days=90, now=NOW)

    assert surviving(Attempt, [before_import, forgiven]) == set()
    assert surviving(Attempt, counting) == {row.pk for row in counting}


def test_old_runs_go_but_the_latest_settled_run_and_unresolved_failures_stay(quiet_store):
    old_good = run(quiet_store, age=300)
    last_good = run(quiet_store, age=200)
    failed_after = run(quiet_store, age=150, status=RunStatus.FAILED)
    old_update = run(quiet_store, age=400, kind=RunKind.UPDATE, status=RunStatus.FAILED)
    recent_update = run(quiet_store, age=1, kind=RunKind.UPDATE)
    sent = order(quiet_store, "4")
    linked = attempt(sent, age=5, sync_run=old_good)

    result = history_prune(days=90, now=NOW)

    assert surviving(SyncRun, [old_good, old_update]) == set()
    assert surviving(SyncRun, [last_good, failed_after, recent_update]) == {last_good.pk, failed_after.pk, recent_update.pk}
    linked.refresh_from_db()
    assert linked.sync_run_id is None
    assert result["runs"] == 2


def test_deletes_in_bounded_batches(quiet_store):
    rows = [run(quiet_store, age=200 - n) for n in range(7)]

    assert history_prune(days=90, now=NOW, batch_size=2)["runs"] == 6
    assert surviving(SyncRun, rows) == {rows[-1].pk}


def test_command_prints_what_it_deleted_and_honours_days(quiet_store):
    run(quiet_store, age=40)
    run(quiet_store, age=20)
    out = io.StringIO()

    call_command("prune_history", stdout=out)
    assert "Deleted 0 attempts and 0 sync runs" in out.getvalue()

    call_command("prune_history", "--days", "30", stdout=out)
    assert "Deleted 0 attempts and 1 sync runs from before" in out.getvalue()
    assert SyncRun.objects.count() == 1


def test_the_daily_task_prunes_with_the_setting(quiet_store, settings):
    settings.ORDERSYNC_HISTORY_DAYS = 30
    run(quiet_store, age=40)
    run(quiet_store, age=20)

    assert prune_history() == {"attempts": 0, "runs": 1}
    assert "prune-history" in settings.CELERY_BEAT_SCHEDULE
