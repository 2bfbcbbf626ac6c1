"""Celery tasks: thin entry points that call services (HackSoft). Sections belong to their areas."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from connections.models import Store
from ordersync.imports.actions import held_orders_release
from ordersync.imports.cycle import store_import_orders
from ordersync.retention import history_prune
from ordersync.selectors import stores_due
from ordersync.shipments import services as shipment_services

# --- imports (Order Time → ShipStation) ----------------------------------------------------------------


@shared_task(name="ordersync.tasks.import_store_orders")
def import_store_orders(store_id: int, trigger: str = "schedule") -> dict:
    """One bounded import cycle; when pages remain, the next cycle goes to the back of the queue, so
    other stores' cycles run in between (fairness)."""
    store = Store.objects.get(pk=store_id)
    run = store_import_orders(store=store, trigger=trigger)
    if run.more_to_read:
        transaction.on_commit(lambda: import_store_orders.delay(store_id, trigger))
    return {"run": run.pk, "status": run.status, "counts": run.counts, "more_to_read": run.more_to_read}


@shared_task(name="ordersync.tasks.import_due_stores")
def import_due_stores() -> list[int]:
    """Queue the import cycle of every active store whose interval has passed."""
    due = stores_due(kind="import")
    for store_id in due:
        transaction.on_commit(lambda store_id=store_id: import_store_orders.delay(store_id))
    return due


@shared_task(name="ordersync.tasks.release_held_orders")
def release_held_orders(store_id: int, ordertime_status: str | None = None) -> int:
    store = Store.objects.get(pk=store_id)
    return held_orders_release(store=store, ordertime_status=ordertime_status)


# --- shipment updates -------------------------------------------------------------------------------


def _send_deferred_notices_later(store_id: int, counts: dict) -> None:
    """Notices beyond a task's budget go to a task of their own, at the back of the update queue."""
    if counts.get("notices_deferred"):
        transaction.on_commit(lambda: send_store_notices.delay(store_id))


@shared_task(name="ordersync.tasks.update_store_shipments")
def update_store_shipments(store_id: int, trigger: str = "schedule") -> dict:
    store = Store.objects.get(pk=store_id)
    run = shipment_services.store_update_shipments(store=store, trigger=trigger)
    _send_deferred_notices_later(store_id, run.counts)
    return {"run": run.pk, "status": run.status, "counts": run.counts}


@shared_task(name="ordersync.tasks.update_due_stores")
def update_due_stores() -> list[int]:
    """Queue the update cycle of every active store whose interval has passed."""
    due = stores_due(kind="update")
    for store_id in due:
        transaction.on_commit(lambda store_id=store_id: update_store_shipments.delay(store_id))
    return due


@shared_task(name="ordersync.tasks.fetch_webhook_resource")
def fetch_webhook_resource(store_id: int, resource_url: str) -> dict:
    store = Store.objects.get(pk=store_id)
    run = shipment_services.store_process_webhook_resource(store=store, resource_url=resource_url)
    _send_deferred_notices_later(store_id, run.counts)
    return {"run": run.pk, "status": run.status, "counts": run.counts}


@shared_task(name="ordersync.tasks.send_store_notices")
def send_store_notices(store_id: int) -> dict:
    counts = dict(shipment_services.store_send_due_notices(store=Store.objects.get(pk=store_id)))
    _send_deferred_notices_later(store_id, counts)
    return counts


@shared_task(name="ordersync.tasks.send_due_notices")
def send_due_notices() -> list[int]:
    """Queue the stores with delayed notices that came due, retries whose time came, or interrupted sends."""
    store_ids = shipment_services.stores_with_due_notices()
    for store_id in store_ids:
        transaction.on_commit(lambda store_id=store_id: send_store_notices.delay(store_id))
    return store_ids


# --- retention ----------------------------------------------------------------------------------------


@shared_task(name="ordersync.tasks.prune_history")
def prune_history() -> dict:
    result = history_prune()
    return {"attempts": result["attempts"], "runs": result["runs"]}
