"""What a person (or a saved status mapping) asks of orders already on record: release held orders,
retry, re-send, mark handled. Each goes through the same pipeline as the cycle (docs/import.md)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from connections.clients.statuses import normalise_status
from connections.models import Store
from connections.services import audit_log_record
from ordersync.models import OrderState, SyncedOrder

from . import records
from .pipeline import Pipeline
from .records import OrderChanges


def held_orders_release(*, store: Store, ordertime_status: str | None = None) -> int:
    """Map held orders again (their status may have a mapping now) and send them; how many left ``held``."""
    wanted = normalise_status(ordertime_status) if ordertime_status is not None else None
    held = [
        row for row in SyncedOrder.objects.filter(store=store, state=OrderState.HELD).order_by("pk")
        if row.source and (wanted is None or normalise_status(row.ordertime_status) == wanted)
    ]
    if not held:
        return 0
    pipeline = Pipeline(store=Store.objects.select_related("settings").get(pk=store.pk), run=None)
    pipeline.resend_from_source(held)
    pipeline.record_shipstation_health()
    return len(held) - pipeline.counts["held"]


def synced_order_retry(*, synced_order: SyncedOrder, actor=None) -> SyncedOrder:
    """Map the stored ship doc again and send it if it changed or is not in ShipStation yet."""
    return _act_on_one(synced_order=synced_order, actor=actor, action="synced_order_retried", force=False)


def synced_order_resend(*, synced_order: SyncedOrder, actor=None) -> SyncedOrder:
    """Send the order again even though its content did not change (ShipStation upserts by orderKey)."""
    return _act_on_one(synced_order=synced_order, actor=actor, action="synced_order_resent", force=True)


def _act_on_one(*, synced_order: SyncedOrder, actor, action: str, force: bool) -> SyncedOrder:
    row = SyncedOrder.objects.select_related("store__settings").get(pk=synced_order.pk)
    before = row.state
    if not row.source:
        raise ValueError(_("Order %(number)s has no stored ship doc to send.") % {"number": row.order_number})
    pipeline = Pipeline(store=row.store, run=None)
    reopen = OrderChanges(run=None)
    reopen.reopened(row)
    reopen.save()
    pipeline.resend_from_source([row], force=force)
    pipeline.record_shipstation_health()
    row.refresh_from_db()
    audit_log_record(actor=actor, store=row.store, action=action, obj=row,
                     changes={"state": [before, row.state], "last_error": row.last_error})
    return row


def synced_order_mark_handled(*, synced_order: SyncedOrder, actor=None) -> SyncedOrder:
    """A person dealt with the order: it leaves the needs-attention lists."""
    row = records.synced_order_handled_record(synced_order=synced_order)
    audit_log_record(actor=actor, store=row.store, action="synced_order_handled", obj=row,
                     changes={"needs_attention": [True, False]})
    return row
