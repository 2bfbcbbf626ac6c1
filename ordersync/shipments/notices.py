"""The one write path for ``ShipmentNotice`` rows: recording a label and deciding what its notice waits for.

Every label (or fulfillment) read from ShipStation, by the poll or through a webhook, passes through
``shipment_notice_record``: the row is unique per (store, source, shipmentId/fulfillmentId), created
if new and then updated under a row lock, so two readers of the same label meet on the same row and
agree on its state. Sending is ``notice_send``'s job (services.py); this module places rows and holds the
one rule for which of them are due (``notice_due_q``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from connections.clients.types import Fulfillment, Shipment
from connections.models import NoticeTiming, Store
from ordersync.lifecycle import lifecycle_after_labels
from ordersync.models import NoticeSource, NoticeState, ShipmentNotice, SyncedOrder

from .content import Label, label_to_dict

# States in which Order Time may already have the notice: sent, in flight, or failed with an unknown
# outcome (a timeout can hide a notice Order Time stored). A void then needs a person, not silence.
TOLD_STATES = (NoticeState.SENT, NoticeState.SENDING, NoticeState.RETRYING)
# States a label can no longer leave: nothing more will be sent for it.
FINAL_STATES = (NoticeState.SENT, NoticeState.SKIPPED_RETURN, NoticeState.SKIPPED_VOID, NoticeState.FLAGGED)
# A live label (neither voided nor a return) whose notice Order Time has not had yet.
UNSENT_LABEL_STATES = (NoticeState.PENDING, NoticeState.DELAYED, NoticeState.HELD, NoticeState.SENDING,
                       NoticeState.RETRYING)


def notice_due_q(now: datetime) -> Q:
    """The one rule for "this notice is due to be sent now", used by every sender and sweep.

    Due: a matched notice that is ``pending``; ``retrying`` whose back-off is over; or ``sending`` whose
    lease is over. A ``sending`` notice's ``next_retry_at`` is the end of its lease: no answer recorded
    by then means the worker died between the call and the record. Delayed and held notices are not
    due until released (``notice_mark_released``).
    """
    time_came = Q(next_retry_at__isnull=True) | Q(next_retry_at__lte=now)
    return Q(synced_order__isnull=False) & (
        Q(state=NoticeState.PENDING)
        | (Q(state__in=(NoticeState.RETRYING, NoticeState.SENDING)) & time_came)
    )


def notices_due(*, now: datetime):
    """Every notice due now (``notice_due_q``), oldest first."""
    return ShipmentNotice.objects.filter(notice_due_q(now)).order_by("pk")


def notice_is_due(*, notice: ShipmentNotice, now: datetime) -> bool:
    return notices_due(now=now).filter(pk=notice.pk).exists()


def voided_after_notify_flag() -> str:
    return _("label voided after Order Time was notified")


@dataclass(frozen=True)
class Recorded:
    notice: ShipmentNotice
    created: bool
    changed: bool


def label_key(label: Label) -> tuple[str, int]:
    if isinstance(label, Fulfillment):
        return NoticeSource.FULFILLMENT, label.fulfillment_id
    return NoticeSource.SHIPMENT, label.shipment_id


def _label_facts(label: Label) -> dict:
    return {
        "shipstation_order_id": label.order_id,
        "tracking_number": label.tracking_number[:100],
        "carrier_code": label.carrier_code[:50],
        "service_code": getattr(label, "service_code", "")[:100],
        "label_created_at": label.create_date,
        "voided_at": label.void_date if label.voided else None,
        "shipment": label_to_dict(label),
    }


def synced_order_flag(*, order: SyncedOrder, message: str) -> None:
    """Put a message on the order for a person to act on (once) and mark the order as needing attention."""
    order = SyncedOrder.objects.select_for_update().get(pk=order.pk)
    if message not in order.flags:
        order.flags = [*order.flags, message]
    order.needs_attention = True
    order.save(update_fields=["flags", "needs_attention", "updated_at"])


def _placement(notice: ShipmentNotice, store: Store, now: datetime) -> None:
    """A matched label that is neither a return nor voided: when is Order Time told?"""
    store_settings = store.settings
    if store_settings.notice_timing == NoticeTiming.DELAYED:
        notice.state = NoticeState.DELAYED
        notice.due_at = (notice.label_created_at or now) + timedelta(hours=store_settings.notice_delay_hours)
    elif store_settings.notice_timing == NoticeTiming.MANUAL:
        notice.state = NoticeState.HELD
    else:
        notice.state = NoticeState.PENDING


def _apply(notice: ShipmentNotice, label: Label, synced_order: SyncedOrder | None, now: datetime) -> None:
    is_return = isinstance(label, Shipment) and label.is_return_label
    if notice.state in FINAL_STATES and not (label.voided and notice.state == NoticeState.SENT):
        return
    if is_return:
        notice.state = NoticeState.SKIPPED_RETURN
    elif label.voided:
        if notice.state in TOLD_STATES:
            # The protocol has no void message: a person must undo the shipment in Order Time.
            notice.state = NoticeState.FLAGGED
            notice.needs_attention = True
            if notice.synced_order is not None:
                synced_order_flag(order=notice.synced_order, message=voided_after_notify_flag())
        else:
            notice.state = NoticeState.SKIPPED_VOID
            notice.needs_attention = False
    elif notice.state == NoticeState.UNMATCHED and notice.synced_order is not None:
        _placement(notice, notice.store, now)


@transaction.atomic
def shipment_notice_record(*, store: Store, label: Label, synced_order: SyncedOrder | None) -> Recorded:
    """Create the notice row of a label if new, fold in what ShipStation says now, and place it."""
    source, external_id = label_key(label)
    facts = _label_facts(label)
    notice, created = ShipmentNotice.objects.get_or_create(
        store=store, source=source, external_id=external_id,
        defaults={**facts, "synced_order": synced_order, "state": NoticeState.UNMATCHED},
    )
    notice = ShipmentNotice.objects.select_for_update(of=("self",)).select_related("store__settings", "synced_order").get(pk=notice.pk)
    before = (notice.state, notice.voided_at, notice.synced_order_id)
    for name, value in facts.items():
        setattr(notice, name, value)
    if notice.synced_order_id is None and synced_order is not None:
        notice.synced_order = synced_order
    _apply(notice, label, notice.synced_order, timezone.now())
    notice.save()
    if notice.synced_order_id is not None and (created or before != (notice.state, notice.voided_at,
                                                                     notice.synced_order_id)):
        synced_order_lifecycle_refresh(order_id=notice.synced_order_id)
    return Recorded(notice=notice, created=created, changed=created or before != (notice.state, notice.voided_at, notice.synced_order_id))


@transaction.atomic
def notice_mark_released(*, notice: ShipmentNotice) -> ShipmentNotice:
    """A held or delayed notice becomes due now (a voided label is skipped instead)."""
    notice = ShipmentNotice.objects.select_for_update().get(pk=notice.pk)
    if notice.state not in (NoticeState.HELD, NoticeState.DELAYED):
        return notice
    notice.state = NoticeState.SKIPPED_VOID if notice.voided_at else NoticeState.PENDING
    notice.due_at = None
    notice.save(update_fields=["state", "due_at", "updated_at"])
    return notice


def synced_order_lifecycle_refresh(*, order_id: int) -> None:
    """The order's lifecycle, tracking number and carrier from its live labels: shipped while a label's
    notice is owed, notified once every one was sent, back to imported (or on hold) when all are voided.
    Called in the transaction that changed one of its notices."""
    order = SyncedOrder.objects.select_for_update().get(pk=order_id)
    live = list(ShipmentNotice.objects.filter(synced_order_id=order_id,
                                              state__in=(*UNSENT_LABEL_STATES, NoticeState.SENT))
                .order_by("-label_created_at", "-pk").values("state", "tracking_number", "carrier_code",
                                                             "label_created_at"))
    unsent = sum(1 for notice in live if notice["state"] != NoticeState.SENT)
    lifecycle = lifecycle_after_labels(order.lifecycle, shipstation_status=order.shipstation_status,
                                       unsent=unsent, sent=len(live) - unsent)
    latest: dict[str, Any] = dict(live[0]) if live else {"tracking_number": "", "carrier_code": "", "label_created_at": None}
    changed = (lifecycle, latest["tracking_number"], latest["carrier_code"], latest["label_created_at"])
    if changed != (order.lifecycle, order.tracking_number, order.carrier_code, order.shipped_at):
        order.lifecycle, order.tracking_number, order.carrier_code, order.shipped_at = changed
        order.save(update_fields=["lifecycle", "tracking_number", "carrier_code", "shipped_at", "updated_at"])
