"""Reads for the sync report: what each store imported, rejected, held and reported, and what needs a person."""

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from connections.models import Store

from .models import OrderState, RunStatus, ShipmentNotice, SyncedOrder, SyncRun

SETTLED_RUN_STATUSES = (RunStatus.SUCCEEDED, RunStatus.PARTIAL)


def imported_count(*, store: Store) -> int:
    """Distinct ship docs that are now orders in ShipStation (cancelled ones included: they are there)."""
    return SyncedOrder.objects.filter(store=store, shipstation_order_id__isnull=False).count()


def notified_count(*, store: Store) -> int:
    """Notices Order Time accepted, including ones a later void flagged: Order Time was told all the same."""
    return ShipmentNotice.objects.filter(store=store, sent_at__isnull=False).count()


def lifecycle_counts(*, store: Store) -> dict[str, int]:
    """Orders in ShipStation per lifecycle state (``imported``, ``on_hold``, ``shipped``, ``notified``, ...)."""
    rows = (SyncedOrder.objects.filter(store=store).exclude(lifecycle="").values("lifecycle")
            .annotate(count=Count("pk")).order_by("lifecycle"))
    return {item["lifecycle"]: item["count"] for item in rows}


def rejected_orders(*, store: Store) -> list[dict]:
    rows = SyncedOrder.objects.filter(store=store, state=OrderState.REJECTED).order_by("order_number", "pk")
    return [{"order_number": number, "reasons": list(reasons)}
            for number, reasons in rows.values_list("order_number", "rejection_reasons")]


def held_orders(*, store: Store) -> list[dict]:
    rows = SyncedOrder.objects.filter(store=store, state=OrderState.HELD).order_by("order_number", "pk")
    return [{"order_number": number, "status": status}
            for number, status in rows.values_list("order_number", "ordertime_status")]


def needs_attention(*, store: Store) -> list[dict]:
    """Orders and ship notices that the app stopped retrying or flagged, for a person to act on."""
    items = [
        {"kind": "order", "order_number": number, "state": state,
         "error": error or "; ".join(flags)}
        for number, state, error, flags in SyncedOrder.objects.filter(store=store, needs_attention=True)
        .order_by("order_number", "pk").values_list("order_number", "state", "last_error", "flags")
    ]
    notices = (ShipmentNotice.objects.filter(store=store, needs_attention=True)
               .select_related("synced_order").order_by("pk"))
    items += [
        {"kind": "notice", "order_number": notice.synced_order.order_number if notice.synced_order else "",
         "state": notice.state, "tracking_number": notice.tracking_number, "error": notice.last_error}
        for notice in notices
    ]
    return items


def unresolved_failed_runs(*, store: Store) -> QuerySet[SyncRun]:
    """Failed runs of each kind since that kind last finished (a later good run resolves earlier failures)."""
    failed = SyncRun.objects.none()
    for kind in SyncRun.objects.filter(store=store).values_list("kind", flat=True).distinct():
        runs = SyncRun.objects.filter(store=store, kind=kind, status=RunStatus.FAILED)
        last_good = (SyncRun.objects.filter(store=store, kind=kind, status__in=SETTLED_RUN_STATUSES)
                     .order_by("-started_at").values_list("started_at", flat=True).first())
        if last_good is not None:
            runs = runs.filter(started_at__gt=last_good)
        failed = failed | runs
    return failed.order_by("started_at")


def store_sync_report(*, store: Store) -> dict:
    attention = needs_attention(store=store)
    errors = [_describe_attention(item) for item in attention]
    errors += [
        _("%(kind)s run at %(at)s failed: %(errors)s") % {
            "kind": run.get_kind_display(), "at": run.started_at.strftime("%Y-%m-%d %H:%M UTC"),
            "errors": "; ".join(run.errors) or _("no details"),
        }
        for run in unresolved_failed_runs(store=store)
    ]
    return {
        "name": store.name,
        "imported": imported_count(store=store),
        "rejected": rejected_orders(store=store),
        "held": held_orders(store=store),
        "notified": notified_count(store=store),
        "lifecycle": lifecycle_counts(store=store),
        "errors": errors,
        "needs_attention": attention,
    }


def _describe_attention(item: dict) -> str:
    if item["kind"] == "notice":
        return _("Ship notice for order %(number)s (tracking %(tracking)s): %(error)s") % {
            "number": item["order_number"] or "?", "tracking": item["tracking_number"] or "-", "error": item["error"]}
    return _("Order %(number)s: %(error)s") % {"number": item["order_number"], "error": item["error"]}


def sync_report(*, stores: QuerySet[Store] | None = None) -> dict:
    stores = stores if stores is not None else Store.objects.all()
    return {"stores": [store_sync_report(store=store) for store in stores.order_by("name")]}


def stores_due(*, kind: str, now=None) -> list[int]:
    """Active stores whose import (``kind="import"``) or shipment update (``"update"``) interval has passed."""
    last_field, interval_field = {
        "import": ("last_import_at", "import_interval_minutes"),
        "update": ("last_update_at", "update_interval_minutes"),
    }[kind]
    now = now or timezone.now()
    walks = kind == "import"
    fields = ["pk", last_field, interval_field, *(["import_walk"] if walks else [])]
    return [
        store.pk
        for store in Store.objects.filter(active=True).only(*fields)
        if getattr(store, last_field) is None
        # A store with an import walk in progress is due at once: its next cycle may have been lost with a worker.
        or (walks and store.import_walk)
        or (now - getattr(store, last_field)).total_seconds() >= getattr(store, interval_field) * 60
    ]
