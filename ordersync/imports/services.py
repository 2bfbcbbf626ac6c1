"""The import cycle for one store, and the actions a person takes on one order (docs/import.md).

``store_import_orders`` runs one bounded cycle of a walk over the export pages of ship docs modified
since the store's cursor (minus the overlap): it records each ship doc, maps it, and sends the new and
changed ones with ``createorders`` in batches of up to 100; the walk's next cycle goes on where it
stopped (``_Walk``). The "map, send, record" part is ``_Pipeline``: the cycle, the release of held
orders and the per-order actions all go through it, so an order is treated the same whoever asks.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections import Counter
from collections.abc import Iterable
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from connections.clients import errors
from connections.clients.shipstation import MAX_ORDERS_PER_CALL, ShipStationClient
from connections.clients.types import ExportPage, OrderResult, OTOrder
from connections.clients_for_store import ordertime_client_for, shipstation_client_for
from connections.models import StatusMapping, Store
from connections.services import ServiceCheck, audit_log_record, status_mappings_for, store_record_health
from ordersync.locks import assert_cursor_may_move, store_lock
from ordersync.mapping.imports import Held, ImportOptions, Rejected, map_order
from ordersync.mapping.payload import ot_order_from_dict, ot_order_to_dict, payload_hash
from ordersync.models import OrderState, RunKind, RunStatus, SyncedOrder, SyncRun

from . import records
from .records import LOCKED_STATUSES, SETTLED_STATES, OrderChanges, Outgoing

log = logging.getLogger(__name__)

LOCK_KIND = "import"
# What ShipStation says when an order is shipped or cancelled is undocumented (shipstation-v1.md §7.1);
# these words cover the simulator's default and the phrasings seen in other connectors.
LOCKED_REFUSAL = re.compile(r"\b(shipped|cancell?ed|locked|no longer be modified|cannot be (updated|modified))\b",
                            re.IGNORECASE)


def import_options_for(store: Store) -> ImportOptions:
    store_settings = store.settings
    return ImportOptions(
        order_key_prefix=store.order_key_prefix,
        shipstation_store_id=store.shipstation_store_id,
        status_mapping=status_mappings_for(store),
        weight_unit=store_settings.weight_unit,
        import_images=store_settings.import_images,
        import_options=store_settings.import_options,
        import_locations=store_settings.import_locations,
        normalize_addresses=store_settings.normalize_addresses,
        shipping_method_mapping=store_settings.shipping_method_mapping or {},
    )


def content_hash(payload: dict) -> str:
    """The payload's hash without ``advancedOptions.storeId``.

    ``storeId`` is sent on creation only, so the first payload of an order differs from every later one
    by that key alone; hashing without it keeps an unchanged order unchanged.
    """
    advanced = {k: v for k, v in (payload.get("advancedOptions") or {}).items() if k != "storeId"}
    return payload_hash({**payload, "advancedOptions": advanced})


def is_locked_refusal(result: OrderResult) -> bool:
    return not result.success and bool(LOCKED_REFUSAL.search(result.error_message or ""))


def _is_locked(row: SyncedOrder) -> bool:
    """ShipStation will refuse any change: it said so, or we (or a label) made the order shipped or cancelled."""
    return (
        row.state == OrderState.LOCKED
        or (row.shipstation_order_id is not None and row.shipstation_status in LOCKED_STATUSES)
    )


# ---------------------------------------------------------------------- map, send, record


class _Pipeline:
    """Maps orders, queues the ones to send and sends them in batches of up to 100, recording everything.

    Up to ``ORDERSYNC_SHIPSTATION_CONCURRENCY`` ``createorders`` calls are in flight while the next
    orders are read and mapped: the calls run in threads that only speak HTTP (the shared limiter
    keeps them within ShipStation's budget); every database write stays on the calling thread.
    """

    def __init__(self, *, store: Store, run: SyncRun | None):
        self.store = store
        self.run = run
        self.counts: Counter = Counter()
        self.batch_errors: list[str] = []
        self._queue: dict[int, Outgoing] = {}
        self._client: ShipStationClient | None = None
        self._calls: ThreadPoolExecutor | None = None
        self._in_flight: dict[Future, _Call] = {}
        self._rows_in_flight: set[int] = set()
        options = import_options_for(store)
        self._options_new = options
        self._options_update = dataclasses.replace(options, include_store_id=False)

    @property
    def client(self) -> ShipStationClient:
        if self._client is None:
            self._client = shipstation_client_for(self.store)
        return self._client

    @property
    def api_calls(self) -> int:
        return self._client.calls if self._client is not None else 0

    def current(self, row: SyncedOrder) -> SyncedOrder:
        """The row as recorded once its send in flight (if any) is settled: an order read again must
        not be decided on while ShipStation is still answering for it."""
        if row.pk in self._rows_in_flight:
            while row.pk in self._rows_in_flight:
                self._settle(block=True)
            row.refresh_from_db()
        return row

    def decide(self, row: SyncedOrder, order: OTOrder, changes: OrderChanges, *, force: bool = False) -> None:
        """Map one order and record what it needs; queue it when ShipStation must hear of it."""
        options = self._options_new if row.shipstation_order_id is None else self._options_update
        outcome = map_order(order, options)
        if isinstance(outcome, Rejected):
            changes.rejected(row, [str(reason) for reason in outcome.reasons])
            self.counts["rejected"] += 1
            return
        if isinstance(outcome, Held):
            changes.held(row, outcome.status)
            self.counts["held"] += 1
            return
        changes.mapped(row, outcome.notes)
        digest = content_hash(outcome.order)
        if not force and digest == row.payload_hash and row.shipstation_order_id is not None:
            changes.unchanged(row)
            self.counts["unchanged"] += 1
            return
        if not force and _is_locked(row):
            changes.locked(row, outcome.order)
            self.counts["locked"] += 1
            return
        # A newer version read later in the same run replaces the queued one.
        self._queue[row.pk] = Outgoing(row=row, payload=outcome.order, content_hash=digest)

    def send_full_batches(self) -> None:
        """Start the calls for every full batch queued; record the answers that are in."""
        while len(self._queue) >= MAX_ORDERS_PER_CALL:
            self._start(self._take(MAX_ORDERS_PER_CALL), retry_alone=True)
        self._settle(block=False)

    def send_all(self) -> None:
        """Send everything queued and wait until every answer is recorded."""
        try:
            while self._queue:
                self._start(self._take(MAX_ORDERS_PER_CALL), retry_alone=True)
            while self._in_flight:
                self._settle(block=True)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the call threads; a call still running finishes, and its answer is not recorded (the
        orders stay ``pending`` and the next cycle sends them again, upserted by orderKey)."""
        if self._calls is not None:
            self._calls.shutdown(wait=False, cancel_futures=True)
            self._calls = None
        self._in_flight.clear()
        self._rows_in_flight.clear()

    def _take(self, size: int) -> list[Outgoing]:
        keys = list(self._queue)[:size]
        return [self._queue.pop(key) for key in keys]

    def _start(self, batch: list[Outgoing], *, retry_alone: bool) -> None:
        concurrency = max(1, settings.ORDERSYNC_SHIPSTATION_CONCURRENCY)
        while len(self._in_flight) >= concurrency:
            self._settle(block=True)
        if self._calls is None:
            self._calls = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="createorders")
        client = self.client  # built here: it reads the account from the database
        future = self._calls.submit(client.create_orders, [outgoing.payload for outgoing in batch])
        self._in_flight[future] = _Call(batch=batch, retry_alone=retry_alone, started=time.monotonic())
        self._rows_in_flight.update(outgoing.row.pk for outgoing in batch)

    def _settle(self, *, block: bool) -> None:
        """Record the answer of every finished call (at least one when ``block``), oldest first."""
        if not self._in_flight:
            return
        finished, _pending = futures.wait(list(self._in_flight), timeout=None if block else 0,
                                          return_when=futures.FIRST_COMPLETED)
        for future in [future for future in self._in_flight if future in finished]:
            call = self._in_flight.pop(future, None)
            if call is None:
                continue  # settled meanwhile by a call started from an earlier answer
            self._rows_in_flight.difference_update(outgoing.row.pk for outgoing in call.batch)
            self._record(call, future)

    def _record(self, call: _Call, future: Future) -> None:
        batch = call.batch
        try:
            result = future.result()
        except errors.RequestRejected as exc:
            if len(batch) > 1:
                # One malformed order fails the whole call (§7.1): halve until it stands alone.
                middle = len(batch) // 2
                self._start(batch[:middle], retry_alone=call.retry_alone)
                self._start(batch[middle:], retry_alone=call.retry_alone)
                return
            self._batch_failed(batch, exc, call.started)
            return
        except errors.ClientError as exc:
            self._batch_failed(batch, exc, call.started)
            return
        outcome = records.createorders_results_record(
            run=self.run, batch=batch, result=result, duration_ms=_elapsed_ms(call.started),
            is_locked_refusal=is_locked_refusal,
        )
        self.counts["imported"] += len(outcome.sent)
        self.counts["locked"] += len(outcome.locked)
        for outgoing in outcome.failed:
            if call.retry_alone:
                self._start([outgoing], retry_alone=False)
            else:
                self.counts["failed"] += 1

    def _batch_failed(self, batch: list[Outgoing], exc: errors.ClientError, started: float) -> None:
        log.warning("createorders for %d orders of store %s failed: %s", len(batch), self.store, exc)
        records.createorders_failure_record(run=self.run, batch=batch, error=exc.message,
                                            duration_ms=_elapsed_ms(started))
        self.counts["failed"] += len(batch)
        self.batch_errors.append(
            _("ShipStation createorders for %(count)d orders failed: %(error)s") % {"count": len(batch), "error": exc.message}
        )

    def record_shipstation_health(self) -> None:
        if self._client is None:
            return
        if self.batch_errors:
            store_record_health(store=self.store, shipstation=ServiceCheck(False, self.batch_errors[-1]))
        else:
            store_record_health(store=self.store, shipstation=ServiceCheck(True, _("ShipStation accepted the orders")))

    def resend_from_source(self, rows: Iterable[SyncedOrder], *, force: bool = False) -> None:
        """Map stored ship docs again (no export) and send what needs sending, 100 rows at a time."""
        chunk: list[SyncedOrder] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == MAX_ORDERS_PER_CALL:
                self._resend_chunk(chunk, force=force)
                chunk = []
        if chunk:
            self._resend_chunk(chunk, force=force)
        self.send_all()

    def _resend_chunk(self, rows: list[SyncedOrder], *, force: bool) -> None:
        changes = OrderChanges(run=self.run)
        for row in rows:
            self.decide(self.current(row), ot_order_from_dict(row.source), changes, force=force)
        changes.save()
        self.send_full_batches()


@dataclasses.dataclass
class _Call:
    """One ``createorders`` call in flight: its orders, whether a failed order is retried alone, when it began."""

    batch: list[Outgoing]
    retry_alone: bool
    started: float


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


# ---------------------------------------------------------------------- the cycle


def store_import_orders(*, store: Store, since: datetime | None = None, trigger: str = "schedule") -> SyncRun:
    """One import cycle for the store; a cycle already running makes this one ``skipped``."""
    wait = settings.ORDERSYNC_COMMAND_LOCK_WAIT if trigger == "command" else 0
    with store_lock(store.pk, LOCK_KIND, timeout=settings.ORDERSYNC_LOCK_TIMEOUT, wait=wait) as token:
        if token is None:
            return SyncRun.objects.create(store=store, kind=RunKind.IMPORT, trigger=trigger,
                                          status=RunStatus.SKIPPED, finished_at=timezone.now())
        fresh = Store.objects.select_related("settings", "ordertime_account", "shipstation_account").get(pk=store.pk)
        return _import_cycle(store=fresh, since=since, trigger=trigger)


@dataclasses.dataclass
class _Walk:
    """One walk over the export pages of a frozen window, possibly spread over several cycles.

    Pages are read 1 (to learn their number P), then P, P−1, …, 2, and 1 once more. With the window's
    end frozen, a ship doc edited during the walk can only leave the window, which moves every later
    doc one place towards page 1: read from the back, such a move can only bring a doc onto a page
    still to be read (or read twice), never past the reader, however long the walk pauses between
    cycles. The second read of page 1 catches what moved onto it.

    ``moves_cursor``: the walk began at or before the cursor, so reading all of it lets the cursor move
    to ``end``. ``clean``: every send of the walk so far went through. ``started_at`` tells the rows this
    walk touched from older leftovers.
    """

    start: datetime
    end: datetime
    started_at: datetime
    moves_cursor: bool
    pages: int = 0  # P, once page 1 was read
    position: int = 0  # how many pages of the walk's order are read
    clean: bool = True

    @classmethod
    def begin(cls, store: Store, *, since: datetime | None) -> _Walk:
        # Order Time speaks minutes: a frozen, whole-minute end keeps every page of the walk on one window.
        now = timezone.now()
        end = now.replace(second=0, microsecond=0)
        cursor = store.import_cursor
        if since is not None:
            start = min(since, end)
        elif cursor is not None:
            start = cursor - timedelta(minutes=settings.ORDERSYNC_IMPORT_OVERLAP_MINUTES)
        else:
            start = end - timedelta(days=store.initial_lookback_days)
        return cls(start=start, end=end, started_at=now, moves_cursor=cursor is None or start <= cursor)

    @classmethod
    def resumed(cls, data: dict | None) -> _Walk | None:
        if not data:
            return None
        dates = {key: datetime.fromisoformat(data[key]) for key in ("start", "end", "started_at")}
        return cls(**dates, moves_cursor=bool(data["moves_cursor"]), pages=int(data["pages"]),
                   position=int(data["position"]), clean=bool(data["clean"]))

    def as_json(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "started_at": self.started_at.isoformat(),
                "moves_cursor": self.moves_cursor, "pages": self.pages, "position": self.position, "clean": self.clean}

    def next_page(self) -> int | None:
        """The page to read next, or None when the walk is done."""
        if not self.pages:
            return 1
        order = [1, *range(self.pages, 1, -1), *([1] if self.pages > 1 else [])]
        return order[self.position] if self.position < len(order) else None

    def page_read(self, page: ExportPage) -> None:
        if not self.pages:
            # "0 with no <Order>" means nothing to do; the client already counts a missing count as 1.
            self.pages = max(page.pages, 1)
        self.position += 1


def _import_cycle(*, store: Store, since: datetime | None, trigger: str) -> SyncRun:
    """Read at most ``ORDERSYNC_IMPORT_ORDERS_PER_CYCLE`` orders (whole pages) of the store's walk.

    A walk left unfinished is saved on the store and the run says ``more_to_read``; the next cycle
    resumes it at the next page. The cursor moves when the last page of a clean walk is in.
    """
    walk = (None if since is not None else _Walk.resumed(store.import_walk)) or _Walk.begin(store, since=since)
    run = SyncRun.objects.create(store=store, kind=RunKind.IMPORT, trigger=trigger, window_start=walk.start,
                                 window_end=walk.end, cursor_before=store.import_cursor)
    pipeline = _Pipeline(store=store, run=run)
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
        _finish(run, pipeline, pages, status=RunStatus.FAILED, errors=[repr(exc)])
        raise

    walk.clean = walk.clean and not pipeline.batch_errors
    _walk_record(store, walk, run=run, done=walk_done, abandoned=bool(export_error))
    if export_error:
        status = RunStatus.FAILED
    elif pipeline.batch_errors or pipeline.counts["failed"]:
        status = RunStatus.PARTIAL
    else:
        status = RunStatus.SUCCEEDED
    problems = [export_error] if export_error else []
    return _finish(run, pipeline, pages, status=status, errors=problems + pipeline.batch_errors)


def _walk_record(store: Store, walk: _Walk, *, run: SyncRun, done: bool, abandoned: bool) -> None:
    """Save where the walk stands; at its clean end, move the cursor (only forwards)."""
    changes: dict = {"last_import_at": walk.end, "import_walk": None}
    run.cursor_after = store.import_cursor
    if abandoned:
        pass  # a page that keeps failing: the next cycle reads the window again from the start (§3.2)
    elif not done:
        changes["import_walk"] = walk.as_json()
        run.more_to_read = True
    elif walk.clean and walk.moves_cursor and (store.import_cursor is None or store.import_cursor < walk.end):
        assert_cursor_may_move(store_id=store.pk, kind=LOCK_KIND)
        changes["import_cursor"] = run.cursor_after = walk.end
    Store.objects.filter(pk=store.pk).update(**changes)


def _take_page(pipeline: _Pipeline, orders: Iterable[OTOrder], seen: dict[str, datetime | None]) -> None:
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


def _send_leftovers(pipeline: _Pipeline, *, walk_started_at: datetime) -> None:
    """Orders recorded before this walk but not in ShipStation in their latest version (a failed send,
    a crash between push and record), even when they have left the export window. The ones this walk
    touched already had their try."""
    leftovers = SyncedOrder.objects.filter(
        store=pipeline.store, state=OrderState.PENDING, needs_attention=False, updated_at__lt=walk_started_at,
    ).order_by("pk")
    pipeline.resend_from_source(row for row in leftovers.iterator(chunk_size=MAX_ORDERS_PER_CALL) if row.source)


def _finish(run: SyncRun, pipeline: _Pipeline, pages: int, *, status: str, errors: list[str]) -> SyncRun:
    run.status = status
    run.finished_at = timezone.now()
    run.api_calls = pages + pipeline.api_calls
    run.counts = {**{key: 0 for key in ("exported", "imported", "unchanged", "rejected", "held", "failed", "locked")},
                  **pipeline.counts, "api_calls": run.api_calls, "pages": pages}
    run.errors = [*run.errors, *errors]
    run.save()
    return run


# ---------------------------------------------------------------------- held orders and single orders


def held_orders_release(*, store: Store, ordertime_status: str | None = None) -> int:
    """Map held orders again (their status may have a mapping now) and send them; how many left ``held``."""
    wanted = StatusMapping.normalise(ordertime_status) if ordertime_status is not None else None
    held = [
        row for row in SyncedOrder.objects.filter(store=store, state=OrderState.HELD).order_by("pk")
        if row.source and (wanted is None or StatusMapping.normalise(row.ordertime_status) == wanted)
    ]
    if not held:
        return 0
    pipeline = _Pipeline(store=Store.objects.select_related("settings").get(pk=store.pk), run=None)
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
    pipeline = _Pipeline(store=row.store, run=None)
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
