"""Reads for the admin dashboard and the status mapping editor. A fixed, small number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from connections.clients.statuses import normalise_status
from connections.models import StatusMapping, Store

from .models import NoticeState, OrderState, RunKind, ShipmentNotice, SyncedOrder, SyncRun


@dataclass(frozen=True)
class RateLimitBudget:
    """What this deployment knows of one ShipStation key's rate-limit window."""

    limit: int | None
    remaining: int | None
    reset_seconds: float | None

    @property
    def known(self) -> bool:
        return self.limit is not None and self.remaining is not None

    @property
    def used(self) -> int | None:
        return self.limit - self.remaining if self.known else None

    @property
    def percent_used(self) -> int | None:
        if not self.known or not self.limit:
            return None
        return round(100 * self.used / self.limit)


def rate_limit_budget(store: Store) -> RateLimitBudget:
    """The one place the dashboard reads limiter state (in-process or Redis-backed, whichever is set up)."""
    from connections.rate_limits import shipstation_limiter_for

    state = shipstation_limiter_for(store.shipstation_account).state()
    return RateLimitBudget(limit=state.limit, remaining=state.remaining, reset_seconds=state.reset_seconds)


@dataclass(frozen=True)
class StoreHealth:
    store: Store
    imported_today: int
    rejected: int
    held: int
    needs_attention: int
    notices_sent_today: int
    notices_sent: int
    notices_needing_attention: int
    last_import_run: SyncRun | None
    last_update_run: SyncRun | None
    rate_limit: RateLimitBudget

    @property
    def import_lag(self) -> timedelta | None:
        return _lag(self.store.last_import_at)

    @property
    def update_lag(self) -> timedelta | None:
        return _lag(self.store.last_update_at)

    @property
    def attention_total(self) -> int:
        return self.needs_attention + self.notices_needing_attention


def _lag(moment: datetime | None) -> timedelta | None:
    return None if moment is None else timezone.now() - moment


def _count(model, **filters) -> Coalesce:
    """A correlated COUNT per store: one query for all stores, without the row blow-up of joined Counts."""
    counted = (model.objects.filter(store=OuterRef("pk"), **filters).order_by().values("store")
               .annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _latest_run_id(kind: str) -> Subquery:
    return Subquery(SyncRun.objects.filter(store=OuterRef("pk"), kind=kind).order_by("-started_at", "-pk").values("pk")[:1])


def store_health_list(*, stores=None) -> list[StoreHealth]:
    """Per store: counts, the latest import and update runs, and the rate-limit budget. Two queries."""
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    queryset = (stores if stores is not None else Store.objects.all()).select_related(
        "ordertime_account", "shipstation_account",
    ).annotate(
        n_imported_today=_count(SyncedOrder, state=OrderState.IMPORTED, imported_at__gte=today),
        n_rejected=_count(SyncedOrder, state=OrderState.REJECTED, handled_at__isnull=True),
        n_held=_count(SyncedOrder, state=OrderState.HELD),
        n_attention=_count(SyncedOrder, needs_attention=True, handled_at__isnull=True),
        n_notices_today=_count(ShipmentNotice, state=NoticeState.SENT, sent_at__gte=today),
        n_notices=_count(ShipmentNotice, state=NoticeState.SENT),
        n_notices_attention=_count(ShipmentNotice, needs_attention=True),
        last_import_run_id=_latest_run_id(RunKind.IMPORT),
        last_update_run_id=_latest_run_id(RunKind.UPDATE),
    ).order_by("-active", "name")
    stores = list(queryset)
    run_ids = {s.last_import_run_id for s in stores} | {s.last_update_run_id for s in stores}
    runs = SyncRun.objects.in_bulk([pk for pk in run_ids if pk])
    return [
        StoreHealth(
            store=s, imported_today=s.n_imported_today, rejected=s.n_rejected, held=s.n_held,
            needs_attention=s.n_attention, notices_sent_today=s.n_notices_today, notices_sent=s.n_notices,
            notices_needing_attention=s.n_notices_attention,
            last_import_run=runs.get(s.last_import_run_id), last_update_run=runs.get(s.last_update_run_id),
            rate_limit=rate_limit_budget(s),
        )
        for s in stores
    ]


def latest_runs(*, store_ids) -> dict[int, dict[str, SyncRun]]:
    """The latest import and update run of each store, for the progress poll. One query."""
    ids = Store.objects.filter(pk__in=store_ids).annotate(
        imp=_latest_run_id(RunKind.IMPORT), upd=_latest_run_id(RunKind.UPDATE),
    ).values_list("pk", "imp", "upd")
    rows = list(ids)
    runs = SyncRun.objects.in_bulk([pk for _, imp, upd in rows for pk in (imp, upd) if pk])
    return {store_id: {RunKind.IMPORT: runs.get(imp), RunKind.UPDATE: runs.get(upd)} for store_id, imp, upd in rows}


@dataclass(frozen=True)
class StatusRow:
    """One Order Time status seen in exports (or mapped in advance) and where it goes."""

    ordertime_status: str
    mapped_to: str | None
    orders: int
    held: int


def status_rows(*, store: Store) -> list[StatusRow]:
    """Every Order Time status of this store, merged case- and space-insensitively. Two queries.

    Unmapped statuses that hold orders come first: they are what the merchant is here to fix.
    """
    seen = (SyncedOrder.objects.filter(store=store).exclude(ordertime_status="").order_by()
            .values("ordertime_status").annotate(orders=Count("pk"), held=Count("pk", filter=Q(state=OrderState.HELD))))
    rows: dict[str, dict] = {}
    for mapping in StatusMapping.objects.filter(store=store):
        rows[normalise_status(mapping.ordertime_status)] = {
            "ordertime_status": mapping.ordertime_status, "mapped_to": mapping.shipstation_status, "orders": 0, "held": 0,
        }
    for group in seen:
        row = rows.setdefault(normalise_status(group["ordertime_status"]), {
            "ordertime_status": group["ordertime_status"], "mapped_to": None, "orders": 0, "held": 0,
        })
        row["orders"] += group["orders"]
        row["held"] += group["held"]
    result = [StatusRow(**row) for row in rows.values()]
    return sorted(result, key=lambda r: (r.mapped_to is not None, -r.held, r.ordertime_status.casefold()))


def held_count(*, store: Store, ordertime_status: str) -> int:
    """Orders waiting for a mapping of this status (matched as the mapping layer matches it)."""
    key = normalise_status(ordertime_status)
    statuses = (SyncedOrder.objects.filter(store=store, state=OrderState.HELD).order_by()
                .values("ordertime_status").annotate(n=Count("pk")))
    return sum(row["n"] for row in statuses if normalise_status(row["ordertime_status"]) == key)
