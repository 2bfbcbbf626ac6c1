"""History retention: old sync runs and attempts go, what a page or a pending decision still reads stays.

Kept, however old:
- the latest attempt of each kind per order (per notice for notice and e-mail attempts): the order's and
  the notice's timeline always show how their last call went;
- failed ``createorders`` attempts since the order last went through or was last handled: they count
  towards giving up on the order (``imports.records.FAILED_RUNS_BEFORE_ATTENTION``);
- per store and kind, the last settled run and every run after it: the dashboard's latest run and the
  report's unresolved failures.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from ordersync.models import Attempt, AttemptKind, SyncRun
from ordersync.selectors import SETTLED_RUN_STATUSES

# Small enough that one DELETE never holds locks for long, large enough that a year of history goes in minutes.
PRUNE_BATCH_SIZE = 1000


def _later(outer_at: str) -> Q:
    return Q(**{f"{outer_at}__gt": OuterRef(outer_at)}) | Q(**{outer_at: OuterRef(outer_at), "pk__gt": OuterRef("pk")})


def prunable_attempts(*, before: datetime) -> QuerySet[Attempt]:
    newer = Attempt.objects.filter(_later("at"), kind=OuterRef("kind"))
    counts_towards_giving_up = Q(kind=AttemptKind.CREATE_ORDERS, success=False) & ~(
        Q(synced_order__imported_at__gte=F("at")) | Q(synced_order__handled_at__gte=F("at"))
    )
    return (
        Attempt.objects.filter(at__lt=before)
        .alias(
            newer_for_order=Exists(newer.filter(synced_order=OuterRef("synced_order"), notice__isnull=True)),
            newer_for_notice=Exists(newer.filter(notice=OuterRef("notice"))),
        )
        .filter(Q(notice__isnull=True, newer_for_order=True) | Q(notice__isnull=False, newer_for_notice=True))
        .exclude(counts_towards_giving_up)
    )


def prunable_runs(*, before: datetime) -> QuerySet[SyncRun]:
    settled_later = SyncRun.objects.filter(
        _later("started_at"), store=OuterRef("store"), kind=OuterRef("kind"), status__in=SETTLED_RUN_STATUSES,
    )
    return SyncRun.objects.filter(started_at__lt=before).filter(Exists(settled_later))


def _delete_in_batches(queryset: QuerySet, *, batch_size: int) -> int:
    deleted = 0
    while pks := list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size]):
        # Each batch is its own statement and transaction: the prune never holds a long lock.
        queryset.model.objects.filter(pk__in=pks).delete()
        deleted += len(pks)
    return deleted


def history_prune(*, days: int | None = None, now: datetime | None = None,
                  batch_size: int = PRUNE_BATCH_SIZE) -> dict[str, int | datetime]:
    """Delete attempts and sync runs older than ``days`` (``ORDERSYNC_HISTORY_DAYS``), except those kept above."""
    days = settings.ORDERSYNC_HISTORY_DAYS if days is None else days
    before = (now or timezone.now()) - timedelta(days=days)
    # Attempts first: a run's deletion sets its attempts' run to NULL, an UPDATE saved for attempts that go.
    attempts = _delete_in_batches(prunable_attempts(before=before), batch_size=batch_size)
    runs = _delete_in_batches(prunable_runs(before=before), batch_size=batch_size)
    return {"attempts": attempts, "runs": runs, "before": before}
