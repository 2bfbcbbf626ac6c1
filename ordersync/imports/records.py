"""The one write path for synced orders and their import attempts.

Every outcome of the import (rejected, held, unchanged, locked, sent, failed) is applied to the rows in
memory through ``OrderChanges`` and written by ``OrderChanges.save``: one transaction, one bulk update,
one bulk insert of attempts. A batch of 100 orders therefore costs a handful of queries, and a crash
leaves either all of a batch's records or none of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from connections.clients.types import CreateOrdersResult, OrderResult, OTOrder
from connections.models import ShipStationStatus, Store
from ordersync.bulk import rows_insert, rows_update
from ordersync.lifecycle import lifecycle_after_closed, lifecycle_after_write
from ordersync.mapping.imports import buyer_email, order_key
from ordersync.mapping.payload import ot_order_to_dict
from ordersync.models import Attempt, AttemptKind, Lifecycle, OrderState, SyncedOrder, SyncRun

# States that are the last word on a ship doc version: the same version read again needs no work.
# ``failed`` is here because its retries are spent; a person (or a newer version) takes it from there.
SETTLED_STATES = frozenset({OrderState.IMPORTED, OrderState.REJECTED, OrderState.CANCELLED, OrderState.LOCKED,
                            OrderState.FAILED})
# ShipStation refuses API changes to orders in these statuses (shipstation-v1.md §7.1).
LOCKED_STATUSES = frozenset({ShipStationStatus.SHIPPED, ShipStationStatus.CANCELLED})
# An order whose createorders calls failed in this many runs in a row stops being retried by itself.
FAILED_RUNS_BEFORE_ATTENTION = 3

_ROW_FIELDS = [
    "order_number", "ordertime_status", "last_modified", "buyer_email", "buyer_name", "skus", "source",
    "state", "shipstation_order_id", "shipstation_status", "payload", "base_mapping", "payload_hash",
    "rejection_reasons", "lifecycle",
    "normalisations", "flags", "last_error", "needs_attention", "imported_at", "updated_at",
]

_ROW_SET = frozenset(_ROW_FIELDS)


@dataclass
class Outgoing:
    """One order on its way to ``createorders``: its row, the exact payload and the payload's hash."""

    row: SyncedOrder
    payload: dict
    content_hash: str
    mapping: dict | None = None  # Order Time's own mapping, when the payload is a merge of it (the next base)
    merge_note: dict | None = None  # what the merge kept and where both sides changed, for the timeline
    split: bool = False  # ShipStation's copy was split (this payload names its orderId)
    recreate: bool = False  # merged away or deleted in ShipStation, and a person asked to create it again

    @property
    def order_key(self) -> str:
        return self.row.order_key


@dataclass
class SendOutcome:
    sent: list[Outgoing]
    locked: list[Outgoing]
    failed: list[Outgoing]


def synced_orders_for(*, store: Store, orders: Sequence[OTOrder]) -> dict[str, SyncedOrder]:
    """The row of every exported order, created when new: OrderID → row. Two or three queries.

    The unique constraint on (store, OrderID) makes creation race-free: a row another worker created
    a moment ago is skipped by ``ignore_conflicts`` and read back with the rest.
    """
    ids = list({order.order_id for order in orders})
    rows = {row.ordertime_order_id: row for row in SyncedOrder.objects.filter(store=store, ordertime_order_id__in=ids)}
    missing = [order for order in orders if order.order_id not in rows]
    if missing:
        rows_insert(
            [SyncedOrder(store=store, ordertime_order_id=order.order_id, order_number=order.order_number[:200],
                         order_key=order_key(store.order_key_prefix, order.order_id)) for order in {o.order_id: o for o in missing}.values()],
            ignore_conflicts=True,
        )
        created = SyncedOrder.objects.filter(store=store, ordertime_order_id__in=[o.order_id for o in missing])
        rows.update({row.ordertime_order_id: row for row in created})
    return rows


class OrderChanges:
    """Outcomes of one batch of orders, written together by ``save``."""

    def __init__(self, *, run: SyncRun | None):
        self.run = run
        self.now = timezone.now()
        self._rows: dict[int, SyncedOrder] = {}
        self._attempts: list[Attempt] = []
        self._send_failures: dict[int, SyncedOrder] = {}
        self._fields: set[str] = {"updated_at"}

    # ------------------------------------------------------------------ what was read and decided

    def exported(self, row: SyncedOrder, order: OTOrder) -> None:
        """Keep the ship doc as exported; every later decision can be re-made from it."""
        row.source = ot_order_to_dict(order)
        row.last_modified = order.last_modified
        row.order_number = order.order_number[:200]
        row.ordertime_status = order.order_status[:100]
        row.buyer_email = buyer_email(order)[:200]
        row.buyer_name = (order.bill_to.name or order.ship_to.name)[:200]
        row.skus = " ".join(item.sku for item in order.items if item.sku)
        self._touch(row, "source", "last_modified", "order_number", "ordertime_status", "buyer_email", "buyer_name",
                    "skus")

    def rejected(self, row: SyncedOrder, reasons: list[str]) -> None:
        row.state = OrderState.REJECTED
        row.rejection_reasons = reasons
        row.normalisations = []
        self._touch(row, "state", "rejection_reasons", "normalisations")
        self._attempt(row, AttemptKind.VALIDATION, success=False, response={"reasons": reasons},
                      error="\n".join(reasons))

    def held(self, row: SyncedOrder, ordertime_status: str) -> None:
        row.state = OrderState.HELD
        row.rejection_reasons = []
        self._touch(row, "state", "rejection_reasons")

    def mapped(self, row: SyncedOrder, notes: Iterable[str]) -> None:
        row.rejection_reasons = []
        row.normalisations = list(notes)
        self._touch(row, "rejection_reasons", "normalisations")

    def unchanged(self, row: SyncedOrder) -> None:
        """ShipStation already has exactly this content: the row says so again if it said otherwise."""
        if row.state not in (OrderState.IMPORTED, OrderState.CANCELLED, OrderState.LOCKED):
            row.state = _state_after_sending(row.payload or {})
            self._touch(row, "state")

    def locked(self, row: SyncedOrder, payload: dict) -> None:
        """A change ShipStation would refuse: not sent, and written down for a person."""
        message = _("Changed in Order Time after ShipStation locked the order (%(status)s); not sent.") % {
            "status": row.shipstation_status or (row.payload or {}).get("orderStatus") or row.state}
        if row.state not in (OrderState.LOCKED, OrderState.CANCELLED):
            row.state = OrderState.LOCKED
        self._flag(row, message)
        self._touch(row, "state", "flags")
        self._attempt(row, AttemptKind.CREATE_ORDERS, success=False, request=payload, error=message)

    def closed_in_shipstation(self, row: SyncedOrder, status: str) -> None:
        """Shipped or cancelled in ShipStation: nothing is written to it, and that is news, not a problem."""
        row.shipstation_status = status
        row.state = OrderState.CANCELLED if status == ShipStationStatus.CANCELLED else OrderState.IMPORTED
        row.lifecycle = lifecycle_after_closed(row.lifecycle, status=status)
        row.last_error = ""
        self._touch(row, "state", "shipstation_status", "lifecycle", "last_error")
        self._attempt(row, AttemptKind.VALIDATION, success=True, response={"not_written": status},
                      error=closed_in_shipstation_text(status))

    def gone_from_shipstation(self, row: SyncedOrder, lifecycle: str, *, into: int | None = None) -> None:
        """Merged into another order or deleted in ShipStation: not written and not created again, unless
        a person re-sends it from the admin."""
        row.lifecycle = lifecycle
        row.state = OrderState.IMPORTED
        row.last_error = ""
        self._touch(row, "lifecycle", "state", "last_error")
        if lifecycle == Lifecycle.MERGED:
            text = _("Merged in ShipStation into order %(order_id)s: not written again.") % {"order_id": into}
        else:
            text = _("Deleted in ShipStation: not created again unless you re-send it.")
        self._attempt(row, AttemptKind.VALIDATION, success=True, response={"not_written": lifecycle}, error=text)

    def copy_unreadable(self, row: SyncedOrder, error: str) -> None:
        """ShipStation's copy could not be read: never write blind. Pending, so the next cycle tries again."""
        row.state = OrderState.PENDING
        row.last_error = _("Waiting: ShipStation's copy could not be read before the update (%(error)s).") % {
            "error": error}
        self._touch(row, "state", "last_error")

    def reopened(self, row: SyncedOrder) -> None:
        """A person asked to try again: spent retries start afresh."""
        if row.state == OrderState.FAILED:
            row.state = OrderState.PENDING
            row.needs_attention = False
            self._touch(row, "state", "needs_attention")

    # ------------------------------------------------------------------ what createorders answered

    def sent(self, outgoing: Outgoing, result: OrderResult, duration_ms: int | None) -> None:
        row = outgoing.row
        if row.state == OrderState.FAILED:
            row.needs_attention = False
        row.state = _state_after_sending(outgoing.payload)
        row.shipstation_order_id = result.order_id
        row.shipstation_status = outgoing.payload.get("orderStatus", "")
        row.lifecycle = lifecycle_after_write(row.lifecycle, status=row.shipstation_status, split=outgoing.split)
        row.payload = outgoing.payload
        row.base_mapping = outgoing.mapping if outgoing.mapping is not None else outgoing.payload
        row.payload_hash = outgoing.content_hash
        row.imported_at = self.now
        row.last_error = ""
        self._touch(row, "needs_attention", "state", "shipstation_order_id", "shipstation_status", "payload",
                    "base_mapping", "payload_hash", "imported_at", "last_error", "lifecycle")
        response = asdict(result) if outgoing.merge_note is None else {**asdict(result), "merge": outgoing.merge_note}
        self._attempt(row, AttemptKind.CREATE_ORDERS, success=True, request=outgoing.payload,
                      response=response, duration_ms=duration_ms)

    def refused_as_locked(self, outgoing: Outgoing, result: OrderResult, duration_ms: int | None) -> None:
        row = outgoing.row
        row.state = OrderState.LOCKED
        row.shipstation_order_id = result.order_id or row.shipstation_order_id
        row.last_error = result.error_message
        self._flag(row, _("ShipStation refused an update: %(message)s") % {"message": result.error_message})
        self._touch(row, "state", "shipstation_order_id", "last_error", "flags")
        self._attempt(row, AttemptKind.CREATE_ORDERS, success=False, request=outgoing.payload,
                      response=asdict(result), error=result.error_message, duration_ms=duration_ms)

    def send_failed(self, outgoing: Outgoing, *, error: str, response: dict | None, duration_ms: int | None) -> None:
        """Not in ShipStation in this version: pending, so the next run (or a person) sends it again."""
        row = outgoing.row
        row.state = OrderState.PENDING
        row.last_error = error
        self._touch(row, "state", "last_error")
        self._send_failures[row.pk] = row
        self._attempt(row, AttemptKind.CREATE_ORDERS, success=False, request=outgoing.payload, response=response,
                      error=error, duration_ms=duration_ms)

    # ------------------------------------------------------------------ writing

    def save(self) -> None:
        if not self._rows and not self._attempts:
            return
        with transaction.atomic():
            rows = list(self._rows.values())
            # Row locks (PostgreSQL) serialise two writers of the same orders; SQLite locks the database.
            list(SyncedOrder.objects.select_for_update().filter(pk__in=[row.pk for row in rows]).values_list("pk"))
            self._give_up_on_repeated_failures()
            rows_update(rows, fields=[name for name in _ROW_FIELDS if name in self._fields])
            rows_insert(self._attempts)
        self._rows.clear()
        self._fields = {"updated_at"}
        self._attempts = []
        self._send_failures.clear()

    def _give_up_on_repeated_failures(self) -> None:
        """Orders whose sends failed in ``FAILED_RUNS_BEFORE_ATTENTION`` runs since they last went through
        (or were last handled by a person) stop being retried and show up for a person."""
        if not self._send_failures:
            return
        this_run = ("run", self.run.pk) if self.run is not None else ("now", None)
        runs: dict[int, set] = {pk: {this_run} for pk in self._send_failures}
        earlier = Attempt.objects.filter(synced_order_id__in=list(self._send_failures),
                                         kind=AttemptKind.CREATE_ORDERS, success=False)
        for order_id, run_id, attempt_id, at in earlier.values_list("synced_order_id", "sync_run_id", "pk", "at"):
            row = self._send_failures[order_id]
            since = max((moment for moment in (row.imported_at, row.handled_at) if moment), default=None)
            if since is None or at > since:
                runs[order_id].add(("run", run_id) if run_id else ("attempt", attempt_id))
        for order_id, failed_runs in runs.items():
            if len(failed_runs) >= FAILED_RUNS_BEFORE_ATTENTION:
                row = self._send_failures[order_id]
                row.state = OrderState.FAILED
                row.needs_attention = True
                self._touch(row, "state", "needs_attention")

    def _touch(self, row: SyncedOrder, *fields: str) -> None:
        """The row changed in ``fields``: ``save`` writes those columns (of every row changed with them)."""
        row.updated_at = self.now
        self._rows[row.pk] = row
        self._fields.update(fields)
        assert self._fields <= _ROW_SET, self._fields - _ROW_SET

    def _flag(self, row: SyncedOrder, message: str) -> None:
        if message not in row.flags:
            row.flags = [*row.flags, message]

    def _attempt(self, row: SyncedOrder, kind: str, *, success: bool, request=None, response=None, error: str = "",
                 duration_ms: int | None = None) -> None:
        self._attempts.append(Attempt(synced_order=row, sync_run=self.run, kind=kind, success=success,
                                      request=request, response=response, error=error, duration_ms=duration_ms))


def closed_in_shipstation_text(status: str) -> str:
    if status == ShipStationStatus.CANCELLED:
        return _("Cancelled in ShipStation: the Order Time change was not sent.")
    return _("Shipped in ShipStation: the Order Time change was not sent.")


def _state_after_sending(payload: dict) -> str:
    return OrderState.CANCELLED if payload.get("orderStatus") == ShipStationStatus.CANCELLED else OrderState.IMPORTED


def createorders_results_record(*, run: SyncRun | None, batch: Sequence[Outgoing], result: CreateOrdersResult,
                                duration_ms: int | None, is_locked_refusal) -> SendOutcome:
    """Record ShipStation's answer for every order of one ``createorders`` call (matched by orderKey)."""
    changes = OrderChanges(run=run)
    outcome = SendOutcome(sent=[], locked=[], failed=[])
    answers = result.by_key()
    for outgoing in batch:
        answer = answers.get(outgoing.order_key)
        if answer is not None and answer.success:
            changes.sent(outgoing, answer, duration_ms)
            outcome.sent.append(outgoing)
        elif answer is not None and is_locked_refusal(answer):
            changes.refused_as_locked(outgoing, answer, duration_ms)
            outcome.locked.append(outgoing)
        else:
            error = answer.error_message if answer is not None else _("ShipStation returned no result for this order")
            changes.send_failed(outgoing, error=error or _("ShipStation did not accept the order"),
                                response=asdict(answer) if answer is not None else None, duration_ms=duration_ms)
            outcome.failed.append(outgoing)
    changes.save()
    return outcome


def createorders_failure_record(*, run: SyncRun | None, batch: Sequence[Outgoing], error: str,
                                duration_ms: int | None) -> None:
    """A call that failed as a whole: no order of it is imported; each keeps the error on an attempt."""
    changes = OrderChanges(run=run)
    for outgoing in batch:
        changes.send_failed(outgoing, error=error, response=None, duration_ms=duration_ms)
    changes.save()


def synced_order_handled_record(*, synced_order: SyncedOrder) -> SyncedOrder:
    synced_order.needs_attention = False
    synced_order.handled_at = timezone.now()
    synced_order.save(update_fields=["needs_attention", "handled_at", "updated_at"])
    return synced_order
