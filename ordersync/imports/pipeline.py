"""Map, queue, send in batches of up to 100, record: the path every order takes to ShipStation.

The cycle, the release of held orders and the per-order actions all go through ``Pipeline``, so an
order is treated the same whoever asks (docs/import.md).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections import Counter, deque
from collections.abc import Iterable
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from connections.clients import errors
from connections.clients.shipstation import MAX_ORDERS_PER_CALL, ShipStationClient
from connections.clients.types import OrderResult, OTOrder
from connections.clients_for_store import shipstation_client_for
from connections.models import Store
from connections.services import ServiceCheck, status_mappings_for, store_record_health
from ordersync.lifecycle import GONE
from ordersync.mapping.imports import Held, ImportOptions, Rejected, map_order
from ordersync.mapping.merge import is_split, order_merge
from ordersync.mapping.payload import ot_order_from_dict, payload_hash
from ordersync.models import Lifecycle, OrderState, SyncedOrder, SyncRun

from . import records
from .records import LOCKED_STATUSES, OrderChanges, Outgoing

# ShipStation's modifyDate and our clock may disagree a little; re-reading a few minutes more costs nothing.
COPY_READ_MARGIN = timedelta(minutes=5)

log = logging.getLogger(__name__)

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


@dataclasses.dataclass
class _Send:
    """One ``createorders`` call to make: its orders and whether an order it fails is retried alone."""

    batch: list[Outgoing]
    retry_alone: bool


@dataclasses.dataclass
class _Call:
    """One ``createorders`` call in flight, and when it began."""

    send: _Send
    started: float


class Pipeline:
    """Maps orders, queues the ones to send and sends them in batches of up to 100, recording everything.

    Up to ``ORDERSYNC_SHIPSTATION_CONCURRENCY`` ``createorders`` calls are in flight while the next
    orders are read and mapped: the calls run in threads that only speak HTTP (the shared limiter
    keeps them within ShipStation's budget); every database write stays on the calling thread.

    An answer is recorded in one place (``_settle``); the calls it asks for (the halves of a rejected
    batch, the orders to try alone) go to ``_retries`` and start from there when a thread is free, ahead
    of new batches, so recording an answer never waits for another one.
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
        self._retries: deque[_Send] = deque()
        # Rows whose answer is still owed: in a call in flight, or in a retry waiting for a thread.
        self._rows_in_flight: set[int] = set()
        # §8.6: an update without storeId moves the order to the first manual store, out of the label poll.
        self._options = import_options_for(store)
        # ShipStation's current copies by orderKey and by orderId, read in bulk once per cycle, and from when;
        # and the orders merged away into another (orderId → the order they were merged into).
        self._copies: dict[str, dict] = {}
        self._copies_by_id: dict[int, dict] = {}
        self._merged_into: dict[int, int] = {}
        self._copies_since: datetime | None = None
        self._copies_read_at = timezone.now()

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
        outcome = map_order(order, self._options)
        if isinstance(outcome, Rejected):
            changes.rejected(row, [str(reason) for reason in outcome.reasons])
            self.counts["rejected"] += 1
            return
        if isinstance(outcome, Held):
            changes.held(row, outcome.status)
            self.counts["held"] += 1
            return
        changes.mapped(row, outcome.notes)
        if row.lifecycle in GONE:
            if not force:  # merged away or deleted in ShipStation: only a person's re-send creates it again
                self.counts["gone_from_shipstation"] += 1
                return
            self._queue[row.pk] = Outgoing(row=row, payload=outcome.order, content_hash=content_hash(outcome.order),
                                           recreate=True)
            return
        digest = content_hash(outcome.order)
        if not force and digest == row.payload_hash and row.shipstation_order_id is not None:
            changes.unchanged(row)
            self.counts["unchanged"] += 1
            return
        if not force and _is_locked(row):
            if row.shipstation_status in LOCKED_STATUSES:
                # Shipped or cancelled there (the re-export after our notice is the echo of it): news, not a fault.
                changes.closed_in_shipstation(row, row.shipstation_status)
                self.counts["closed_in_shipstation"] += 1
            else:
                changes.locked(row, outcome.order)
                self.counts["locked"] += 1
            return
        # A newer version read later in the same run replaces the queued one.
        self._queue[row.pk] = Outgoing(row=row, payload=outcome.order, content_hash=digest)

    def send_full_batches(self) -> None:
        """Start the calls for every full batch queued; record the answers that are in."""
        while len(self._queue) >= MAX_ORDERS_PER_CALL:
            self._send_new(self._take(MAX_ORDERS_PER_CALL))
        self._settle(block=False)

    def send_all(self) -> None:
        """Send everything queued and wait until every answer is recorded."""
        try:
            while self._queue:
                self._send_new(self._take(MAX_ORDERS_PER_CALL))
            while self._in_flight or self._retries:
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
        self._retries.clear()
        self._rows_in_flight.clear()

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

    # ------------------------------------------------------------------ the calls

    @property
    def _concurrency(self) -> int:
        return max(1, settings.ORDERSYNC_SHIPSTATION_CONCURRENCY)

    def _take(self, size: int) -> list[Outgoing]:
        keys = list(self._queue)[:size]
        return [self._queue.pop(key) for key in keys]

    def _send_new(self, batch: list[Outgoing]) -> None:
        """Start the call for a new batch once a thread is free; answers that come in meanwhile are recorded."""
        batch = self._merged(batch)
        if not batch:
            return
        while len(self._in_flight) >= self._concurrency:
            self._settle(block=True)
        self._submit(_Send(batch=batch, retry_alone=True))

    # ------------------------------------------------------------------ the merge with ShipStation's copy

    def _merged(self, batch: list[Outgoing]) -> list[Outgoing]:
        """The batch with every update merged into ShipStation's current copy (docs/decisions.md, "Who owns
        which field"). Updates to orders shipped or cancelled there are dropped; if the copies cannot be
        read, the updates wait for the next cycle rather than being written blind."""
        updates = [outgoing for outgoing in batch if _is_update(outgoing)]
        if not updates:
            return batch
        changes = OrderChanges(run=self.run)
        try:
            copies = self._shipstation_copies(updates)
        except errors.ClientError as exc:
            log.warning("ShipStation orders of store %s could not be read before an update: %s", self.store, exc)
            for outgoing in updates:
                changes.copy_unreadable(outgoing.row, exc.message)
            changes.save()
            self.counts["waiting_for_copy"] += len(updates)
            self.batch_errors.append(_("ShipStation's copy of %(count)d orders could not be read; their updates "
                                       "wait for the next cycle: %(error)s") % {"count": len(updates),
                                                                                "error": exc.message})
            return [outgoing for outgoing in batch if not _is_update(outgoing)]
        send = []
        for outgoing in batch:
            row = outgoing.row
            if not _is_update(outgoing):
                send.append(outgoing)
                continue
            order_id = int(row.shipstation_order_id or 0)  # an update: ShipStation has it
            into = self._merged_into.get(order_id)
            if into is not None:
                changes.gone_from_shipstation(row, Lifecycle.MERGED, into=into)
                self.counts["merged_in_shipstation"] += 1
                continue
            theirs = self._copies_by_id.get(order_id) or copies.get(outgoing.order_key)
            if theirs is None or (row.imported_at is not None and row.imported_at >= self._copies_read_at):
                theirs = row.payload  # not changed there since our last write (or written after the read)
            status = (theirs or {}).get("orderStatus")
            if status in LOCKED_STATUSES:
                changes.closed_in_shipstation(row, status)
                self.counts["closed_in_shipstation"] += 1
                continue
            result = order_merge(base=row.base_mapping or row.payload, theirs=theirs, ours=outgoing.payload)
            outgoing.mapping, outgoing.payload = outgoing.payload, result.payload
            # Every update names its order: a split one must (§7.1), and a deleted one then fails instead of
            # being created again by the upsert.
            outgoing.payload["orderId"] = order_id
            advanced = (theirs or {}).get("advancedOptions") or {}
            outgoing.split = is_split(theirs or {}) and not advanced.get("mergedIds")
            if result.conflicts or result.kept:
                outgoing.merge_note = {"conflicts": list(result.conflicts), "kept": list(result.kept)}
                self.counts["merge_conflicts"] += len(result.conflicts)
            send.append(outgoing)
        changes.save()
        return send

    def _shipstation_copies(self, updates: list[Outgoing]) -> dict[str, dict]:
        """ShipStation's orders of this store changed since the oldest of these updates was last written,
        500 a page: one read per 500 changed orders, never one per order."""
        written = [outgoing.row.imported_at for outgoing in updates if outgoing.row.imported_at is not None]
        since = (min(written) if written else timezone.now()) - COPY_READ_MARGIN
        if self._copies_since is None or since < self._copies_since:
            read_at = timezone.now()
            for order in self.client.iter_store_orders(self.store.shipstation_store_id, modify_date_start=since):
                if order.get("orderKey"):
                    self._copies[order["orderKey"]] = order
                if not isinstance(order.get("orderId"), int):
                    continue
                self._copies_by_id[order["orderId"]] = order
                for merged_id in (order.get("advancedOptions") or {}).get("mergedIds") or ():
                    self._merged_into[int(merged_id)] = order["orderId"]
            self._copies_since, self._copies_read_at = since, read_at
        return self._copies

    def _submit(self, send: _Send) -> None:
        if self._calls is None:
            self._calls = ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="createorders")
        client = self.client  # built here: it reads the account from the database
        future = self._calls.submit(client.create_orders, [outgoing.payload for outgoing in send.batch])
        self._in_flight[future] = _Call(send=send, started=time.monotonic())
        self._rows_in_flight.update(outgoing.row.pk for outgoing in send.batch)

    def _settle(self, *, block: bool) -> None:
        """Record the answer of every finished call (wait for one when ``block``), oldest first; then start
        the retries those answers asked for, as far as threads are free."""
        if self._in_flight:
            finished, _pending = futures.wait(list(self._in_flight), timeout=None if block else 0,
                                              return_when=futures.FIRST_COMPLETED)
            for future in [future for future in self._in_flight if future in finished]:
                call = self._in_flight.pop(future)
                self._rows_in_flight.difference_update(outgoing.row.pk for outgoing in call.send.batch)
                retries = self._record(call, future)
                # Ahead of the retries already waiting: a batch is done with before the next one's retries.
                self._retries.extendleft(reversed(retries))
                self._rows_in_flight.update(outgoing.row.pk for send in retries for outgoing in send.batch)
        while self._retries and len(self._in_flight) < self._concurrency:
            self._submit(self._retries.popleft())

    def _record(self, call: _Call, future: Future) -> list[_Send]:
        """Record one call's answer; the calls still to make for its orders."""
        send = call.send
        try:
            result = future.result()
        except errors.RequestRejected as exc:
            if len(send.batch) > 1:
                # One malformed order fails the whole call (§7.1): halve until it stands alone.
                middle = len(send.batch) // 2
                return [_Send(batch=send.batch[:middle], retry_alone=send.retry_alone),
                        _Send(batch=send.batch[middle:], retry_alone=send.retry_alone)]
            self._batch_failed(send.batch, exc, call.started)
            return []
        except errors.ClientError as exc:
            self._batch_failed(send.batch, exc, call.started)
            return []
        outcome = records.createorders_results_record(
            run=self.run, batch=send.batch, result=result, duration_ms=_elapsed_ms(call.started),
            is_locked_refusal=is_locked_refusal,
        )
        self.counts["imported"] += len(outcome.sent)
        self.counts["locked"] += len(outcome.locked)
        if send.retry_alone:
            return [_Send(batch=[outgoing], retry_alone=False) for outgoing in outcome.failed]
        deleted = self._deleted_in_shipstation([outgoing for outgoing in outcome.failed if _is_update(outgoing)])
        self.counts["failed"] += len(outcome.failed) - len(deleted)
        return []

    def _deleted_in_shipstation(self, failed_updates: list[Outgoing]) -> list[Outgoing]:
        """Of updates ShipStation refused twice, those whose order it no longer has (404 on read): recorded
        as deleted there, not as failures. One read per such order, never one per update."""
        deleted = []
        changes = OrderChanges(run=self.run)
        for outgoing in failed_updates:
            try:
                self.client.get_order(int(outgoing.row.shipstation_order_id or 0))
            except errors.NotFound:
                changes.gone_from_shipstation(outgoing.row, Lifecycle.DELETED)
                deleted.append(outgoing)
            except errors.ClientError:
                continue  # unknown: the update stays pending and is tried again next cycle
        changes.save()
        self.counts["deleted_in_shipstation"] += len(deleted)
        return deleted

    def _batch_failed(self, batch: list[Outgoing], exc: errors.ClientError, started: float) -> None:
        log.warning("createorders for %d orders of store %s failed: %s", len(batch), self.store, exc)
        records.createorders_failure_record(run=self.run, batch=batch, error=exc.message,
                                            duration_ms=_elapsed_ms(started))
        self.counts["failed"] += len(batch)
        self.batch_errors.append(
            _("ShipStation createorders for %(count)d orders failed: %(error)s") % {"count": len(batch), "error": exc.message}
        )


def _is_update(outgoing: Outgoing) -> bool:
    """An order ShipStation has (and that is not being created again at a person's request)."""
    return outgoing.row.shipstation_order_id is not None and not outgoing.recreate


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
