"""The import cycle for one store (docs/import.md).

``store_import_orders`` runs one bounded cycle of a walk (``walk.Walk``) over the export pages of ship
docs modified since the store's cursor (minus the overlap): it records each ship doc and hands it to the
pipeline (``pipeline.Pipeline``), which maps it and sends the new and changed ones with ``createorders``;
when the walk is done it sends the leftovers of earlier walks, then it records the run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from connections.clients import errors
from connections.clients.shipstation import MAX_ORDERS_PER_CALL
from connections.clients.types import OTOrder
from connections.clients_for_store import ordertime_client_for
from connections.models import Store
from connections.redaction import person_error_text
from connections.service_urls import store_service_url_problem
from connections.services import ServiceCheck, store_record_health
from ordersync.locks import store_lock
from ordersync.mapping.payload import ot_order_to_dict
from ordersync.models import OrderState, RunKind, RunStatus, SyncedOrder, SyncRun

from . import records
from .pipeline import Pipeline
from .records import SETTLED_STATES, OrderChanges
from .walk import LOCK_KIND, Walk, walk_record

log = logging.getLogger(__name__)

RUN_COUNTS = ("exported", "imported", "unchanged", "rejected", "held", "failed", "locked")


def store_import_orders(*, store: Store, since: datetime | None = None, trigger: str = "schedule") -> SyncRun:
    """One import cycle for the store; a cycle already running makes this one ``skipped``."""
    wait = settings.ORDERSYNC_COMMAND_LOCK_WAIT if trigger == "command" else 0
    with store_lock(store.pk, LOCK_KIND, timeout=settings.ORDERSYNC_LOCK_TIMEOUT, wait=wait) as token:
        if token is None:
            return SyncRun.objects.create(store=store, kind=RunKind.IMPORT, trigger=trigger,
                                          status=RunStatus.SKIPPED, finished_at=timezone.now())
        fresh = Store.objects.select_related("settings", "ordertime_account", "shipstation_account").get(pk=store.pk)
        if problem := store_service_url_problem(fresh):
            return SyncRun.objects.create(store=fresh, kind=RunKind.IMPORT, trigger=trigger, status=RunStatus.FAILED,
                                          errors=[problem], finished_at=timezone.now())
        return _import_cycle(store=fresh, since=since, trigger=trigger)


def _import_cycle(*, store: Store, since: datetime | None, trigger: str) -> SyncRun:
    """Read at most ``ORDERSYNC_IMPORT_ORDERS_PER_CYCLE`` orders (whole pages) of the store's walk.

    A walk left unfinished is saved on the store and the run says ``more_to_read``; the next cycle
    resumes it at the next page. The cursor moves when the last page of a clean walk is in.
    """
    walk = Walk.for_cycle(store, since=since)
    run = SyncRun.objects.create(store=store, kind=RunKind.IMPORT, trigger=trigger, window_start=walk.start,
                                 window_end=walk.end, cursor_before=store.import_cursor)
    pipeline = Pipeline(store=store, run=run)
    ordertime = ordertime_client_for(store)
    export_error = ""
    seen: dict[str, datetime | None] = {}
    pages = 0
    try:
        try:
            while (number := walk.next_page()) is not None:
                page = ordertime.export_page(walk.start, walk.end, number)
                pages += 1
                _take_page(pipeline, page.orders, seen)
                walk.page_read(page)
                if pipeline.counts["exported"] >= settings.ORDERSYNC_IMPORT_ORDERS_PER_CYCLE:
                    break
        except errors.ClientError as exc:
            log.warning("Order Time export of store %s failed: %s", store, exc)
            export_error = exc.message
            store_record_health(store=store, ordertime=ServiceCheck(False, exc.message))
        else:
            store_record_health(store=store, ordertime=ServiceCheck(True, _("Order Time answered the export")))
        walk_done = not export_error and walk.next_page() is None
        pipeline.send_all()
        if walk_done:
            _send_leftovers(pipeline, walk_started_at=walk.started_at)
        pipeline.record_shipstation_health()
    except Exception as exc:
        pipeline.close()
        _finish(run, pipeline, pages, status=RunStatus.FAILED, errors=[person_error_text(exc, store=store)])
        raise

    walk.clean = walk.clean and not pipeline.batch_errors
    walk_record(store=store, walk=walk, run=run, done=walk_done, abandoned=bool(export_error))
    if export_error:
        status = RunStatus.FAILED
    elif pipeline.batch_errors or pipeline.counts["failed"]:
        status = RunStatus.PARTIAL
    else:
        status = RunStatus.SUCCEEDED
    problems = [export_error] if export_error else []
    return _finish(run, pipeline, pages, status=status, errors=problems + pipeline.batch_errors)


def _take_page(pipeline: Pipeline, orders: Iterable[OTOrder], seen: dict[str, datetime | None]) -> None:
    """Record and map one export page; the records are committed before any of it is sent."""
    fresh = []
    for order in orders:
        pipeline.counts["exported"] += 1
        if not order.order_id:
            pipeline.counts["skipped_no_order_id"] += 1
            continue
        if order.order_id in seen and not _newer(order.last_modified, seen[order.order_id]):
            continue  # pages shift while Order Time edits: the same version twice in one walk
        seen[order.order_id] = order.last_modified
        fresh.append(order)
    if not fresh:
        return
    rows = records.synced_orders_for(store=pipeline.store, orders=fresh)
    changes = OrderChanges(run=pipeline.run)
    for order in fresh:
        row = pipeline.current(rows[order.order_id])
        if row.state in SETTLED_STATES and _already_recorded(row, order):
            pipeline.counts["unchanged"] += 1
            continue
        changes.exported(row, order)
        pipeline.decide(row, order, changes)
    changes.save()
    pipeline.send_full_batches()


def _already_recorded(row: SyncedOrder, order: OTOrder) -> bool:
    """This version of the ship doc is the one on record.

    LastModified has minute precision on the wire, so two edits in one minute look alike: an equal
    stamp counts as the same version only when the ship doc itself is unchanged too.
    """
    if _newer(order.last_modified, row.last_modified):
        return False
    return order.last_modified != row.last_modified or row.source == ot_order_to_dict(order)


def _newer(candidate: datetime | None, recorded: datetime | None) -> bool:
    if recorded is None:
        return True
    return candidate is not None and candidate > recorded


def _send_leftovers(pipeline: Pipeline, *, walk_started_at: datetime) -> None:
    """Orders recorded before this walk but not in ShipStation in their latest version (a failed send,
    a crash between push and record), even when they have left the export window. The ones this walk
    touched already had their try."""
    leftovers = SyncedOrder.objects.filter(
        store=pipeline.store, state=OrderState.PENDING, needs_attention=False, updated_at__lt=walk_started_at,
    ).order_by("pk")
    pipeline.resend_from_source(row for row in leftovers.iterator(chunk_size=MAX_ORDERS_PER_CALL) if row.source)


def _finish(run: SyncRun, pipeline: Pipeline, pages: int, *, status: str, errors: list[str]) -> SyncRun:
    run.status = status
    run.finished_at = timezone.now()
    run.api_calls = pages + pipeline.api_calls
    run.counts = {**{key: 0 for key in RUN_COUNTS}, **pipeline.counts, "api_calls": run.api_calls, "pages": pages}
    run.errors = [*run.errors, *errors]
    run.save()
    return run
