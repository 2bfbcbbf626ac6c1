"""The shipment-update cycle for one store, and the exactly-once ship notice.

``store_update_shipments`` reads new labels, voids and fulfillments from ShipStation and passes each
through ``label_process``, the code the webhook path runs too. ``notice_send`` tells Order Time about
one label exactly once: the notice row is locked, marked ``sending`` with the exact bytes and
committed before the HTTP call, and marked ``sent`` after it; the buyer's e-mail goes out only once
that outcome is committed (docs/shipment-updates.md).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import islice
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from connections.clients import errors
from connections.clients.ordertime import RenderedShipNotice, render_ship_notice
from connections.clients.shipstation import ShipStationClient, is_trusted_resource_url
from connections.clients_for_store import ordertime_client_for, shipstation_client_for
from connections.models import HealthState, Store
from connections.redaction import person_error_text
from connections.service_urls import store_service_url_problem
from connections.services import ServiceCheck, audit_log_record, store_record_health
from ordersync.emails import (
    emails_due_q,
    shipment_email_deliver,
    shipment_email_plan,
    shipment_email_queue,
    shipment_emails_sweep,
)
from ordersync.locks import assert_cursor_may_move, store_lock
from ordersync.models import (
    Attempt,
    AttemptKind,
    NoticeState,
    RunKind,
    RunStatus,
    ShipmentNotice,
    SyncedOrder,
    SyncRun,
)

from .content import Label, label_of, notice_service_names, ship_notice_build
from .notices import (
    label_key,
    notice_due_q,
    notice_is_due,
    notice_mark_released,
    notices_due,
    shipment_notice_record,
    synced_order_flag,
    synced_order_lifecycle_refresh,
)

log = logging.getLogger(__name__)

LOCK_KIND = "update"
RETRY_MAX_DELAY = timedelta(hours=6)
ATTENTION_AFTER_ATTEMPTS = 5


def order_unknown_flag() -> str:
    return _("Order Time does not know this order (HTTP 404); its ship notice is kept and retried")


# ---------------------------------------------------------------------- matching and one label


def synced_order_for_label(*, store: Store, label: Label) -> SyncedOrder | None:
    """Our order for a label: by orderKey when ShipStation sends it, else by ShipStation's orderId; a label on
    an order ShipStation split off belongs to the order it was split from (field-mapping.md, Direction 2)."""
    orders = SyncedOrder.objects.filter(store=store)
    order_key = getattr(label, "order_key", "")
    if order_key:
        found = orders.filter(order_key=order_key).first()
        if found is not None:
            return found
    for order_id in (label.order_id, getattr(label, "parent_order_id", None)):
        if order_id is not None and (found := orders.filter(shipstation_order_id=order_id).first()) is not None:
            return found
    return None


def label_process(*, store: Store, label: Label, counts: Counter) -> ShipmentNotice:
    """Record one label or fulfillment and, when its notice is due now, send it. Poll and webhook share this.

    A task sends at most ``ORDERSYNC_NOTICES_PER_TASK`` notices (``counts`` carries the task's tally); a
    due notice beyond that stays recorded and is counted ``notices_deferred``, and the task queues
    ``send_store_notices`` behind the other stores' work (fairness, docs/operations.md).
    """
    recorded = shipment_notice_record(store=store, label=label, synced_order=synced_order_for_label(store=store, label=label))
    counts["new"] += recorded.created
    notice = recorded.notice
    if notice_is_due(notice=notice, now=timezone.now()):
        if _sends_left(counts) > 0:
            notice = notice_send(notice=notice)
            counts["notices_sent_now"] += 1
        else:
            counts["notices_deferred"] += 1
    counts[notice.state] += 1
    return notice


# A re-read label whose notice is in one of these states changes nothing unless its void status changed.
_SETTLED_NOTICE_STATES = (NoticeState.SENT, NoticeState.SKIPPED_VOID, NoticeState.SKIPPED_RETURN, NoticeState.FLAGGED)
_LABELS_PER_LOOKUP = 500


def labels_process(*, store: Store, labels: Iterable[Label], counts: Counter, read_as: str = "labels_read") -> None:
    """``label_process`` for every label, except labels read again whose notice is settled and whose
    void status is unchanged: the update cycle's overlap re-reads hours (and now and then a day) of
    labels, and those cost one query per 500 instead of five each."""
    labels = iter(labels)
    while chunk := list(islice(labels, _LABELS_PER_LOOKUP)):
        keys = [label_key(label) for label in chunk]
        settled = {
            (source, external_id): voided_at is not None
            for source, external_id, voided_at in ShipmentNotice.objects.filter(
                store=store, external_id__in=[external_id for _source, external_id in keys],
                state__in=_SETTLED_NOTICE_STATES,
            ).values_list("source", "external_id", "voided_at")
        }
        for label, key in zip(chunk, keys, strict=True):
            counts[read_as] += 1
            if settled.get(key) == label.voided:
                counts["labels_unchanged"] += 1
                continue
            label_process(store=store, label=label, counts=counts)


def _sends_left(counts: Counter) -> int:
    """Notices this task may still send (``counts`` is the task's tally)."""
    return max(0, settings.ORDERSYNC_NOTICES_PER_TASK - counts["notices_sent_now"])


# ---------------------------------------------------------------------- the cycle


def _window_start(cursor: datetime | None, *, since: datetime | None, started: datetime, store: Store,
                  overlap: timedelta) -> datetime:
    if since is not None:
        return since
    if cursor is not None:
        return cursor - overlap
    return started - timedelta(days=store.initial_lookback_days)


def _is_deep(store: Store, started: datetime) -> bool:
    """Whether this cycle re-reads the deep overlap: ShipStation lists some labels late, and a day's
    look-back catches them; every cycle doing so would spend a request per 500 labels of the day."""
    last = store.last_deep_update_at
    return last is None or started - last >= timedelta(minutes=settings.ORDERSYNC_SHIPMENT_DEEP_EVERY_MINUTES)


def store_update_shipments(*, store: Store, since: datetime | None = None, trigger: str = "schedule") -> SyncRun:
    """One shipment-update cycle for the store; a cycle already running makes this one ``skipped``."""
    wait = settings.ORDERSYNC_COMMAND_LOCK_WAIT if trigger == "command" else 0
    with store_lock(store.pk, LOCK_KIND, timeout=settings.ORDERSYNC_LOCK_TIMEOUT, wait=wait) as token:
        if token is None:
            return SyncRun.objects.create(store=store, kind=RunKind.UPDATE, trigger=trigger,
                                          status=RunStatus.SKIPPED, finished_at=timezone.now())
        fresh = Store.objects.select_related("settings", "ordertime_account", "shipstation_account").get(pk=store.pk)
        if problem := store_service_url_problem(fresh):
            return SyncRun.objects.create(store=fresh, kind=RunKind.UPDATE, trigger=trigger, status=RunStatus.FAILED,
                                          errors=[problem], finished_at=timezone.now())
        return _update_cycle(store=fresh, since=since, trigger=trigger)


def _update_cycle(*, store: Store, since: datetime | None, trigger: str) -> SyncRun:
    started = timezone.now()
    deep = since is None and _is_deep(store, started)
    overlap = timedelta(minutes=settings.ORDERSYNC_SHIPMENT_DEEP_OVERLAP_MINUTES if deep
                        else settings.ORDERSYNC_SHIPMENT_OVERLAP_MINUTES)
    label_start = _window_start(store.shipment_cursor, since=since, started=started, store=store, overlap=overlap)
    void_start = _window_start(store.void_cursor, since=since, started=started, store=store, overlap=overlap)
    fulfillment_start = _window_start(store.fulfillment_cursor, since=since, started=started, store=store,
                                      overlap=overlap)
    run = SyncRun.objects.create(store=store, kind=RunKind.UPDATE, trigger=trigger, window_start=label_start,
                                 window_end=started, cursor_before=store.shipment_cursor)
    client = shipstation_client_for(store)
    counts: Counter = Counter({"deep_overlap": 1} if deep else {})
    try:
        labels_process(store=store, counts=counts, labels=client.iter_shipments(
            store_id=store.shipstation_store_id, create_date_start=label_start))
        labels_process(store=store, counts=counts, read_as="voids_read", labels=client.iter_shipments(
            store_id=store.shipstation_store_id, void_date_start=void_start))
        _read_fulfillments(store=store, client=client, start=fulfillment_start, counts=counts)
        store_record_health(store=store, shipstation=ServiceCheck(True, _("ShipStation answered the shipment update")))
        _send_leftovers(store=store, counts=counts)
    except errors.ClientError as exc:
        log.warning("Shipment update of store %s failed: %s", store, exc)
        store_record_health(store=store, shipstation=ServiceCheck(False, exc.message))
        return _finish(run, counts, client, status=RunStatus.FAILED, error=exc.message)
    except Exception as exc:
        _finish(run, counts, client, status=RunStatus.FAILED, error=person_error_text(exc, store=store))
        raise
    if since is None:
        # A re-read from a chosen time (--since) must not move the cursors past a gap it did not read.
        assert_cursor_may_move(store_id=store.pk, kind=LOCK_KIND)
        Store.objects.filter(pk=store.pk).update(shipment_cursor=started, void_cursor=started,
                                                 fulfillment_cursor=started, last_update_at=started,
                                                 **({"last_deep_update_at": started} if deep else {}))
        run.cursor_after = started
    else:
        Store.objects.filter(pk=store.pk).update(last_update_at=started)
    problems = counts[NoticeState.RETRYING] + counts[NoticeState.UNMATCHED] + counts[NoticeState.FLAGGED]
    return _finish(run, counts, client, status=RunStatus.PARTIAL if problems else RunStatus.SUCCEEDED)


def _read_fulfillments(*, store: Store, client: ShipStationClient, start: datetime, counts: Counter) -> None:
    """Fulfillments carry no store: only those of orders we created for this store are ours."""
    def ours():
        for fulfillment in client.iter_fulfillments(create_date_start=start):
            if fulfillment.order_id is None or not SyncedOrder.objects.filter(
                    store=store, shipstation_order_id=fulfillment.order_id).exists():
                counts["fulfillments_not_ours"] += 1
                continue
            yield fulfillment

    labels_process(store=store, labels=ours(), counts=counts, read_as="fulfillments_read")


def _send_leftovers(*, store: Store, counts: Counter) -> None:
    """Notices due from earlier: retries whose time came, sends a crash interrupted, and notices an
    earlier task deferred; within the task's budget."""
    due = notices_due(now=timezone.now()).filter(store=store)
    for notice in due[:_sends_left(counts)]:
        sent = notice_send(notice=notice)
        counts["notices_sent_now"] += 1
        counts[f"retried_{sent.state}"] += 1
    if not _sends_left(counts):
        counts["notices_deferred"] = due.count()  # every notice still due is left for the next task


def _finish(run: SyncRun, counts: Counter, client: ShipStationClient, *, status: str, error: str = "") -> SyncRun:
    run.status = status
    run.finished_at = timezone.now()
    run.counts = dict(counts)
    run.api_calls = client.calls
    if error:
        run.errors = [*run.errors, error]
    run.save()
    return run


# ---------------------------------------------------------------------- webhooks


def store_process_webhook_resource(*, store: Store, resource_url: str) -> SyncRun:
    """Fetch the labels a SHIP_NOTIFY webhook points at and record/send them like the poll does."""
    if not is_trusted_resource_url(resource_url, extra_hosts=webhook_extra_hosts(store),
                                   allow_http=settings.ORDERSYNC_WEBHOOK_ALLOW_HTTP):
        raise ValueError(f"untrusted webhook resource URL for store {store.pk}")
    run = SyncRun.objects.create(store=store, kind=RunKind.UPDATE, trigger="webhook")
    client = shipstation_client_for(store)
    counts: Counter = Counter()
    try:
        def ours():
            for shipment in client.iter_shipments_from_resource(resource_url):
                if shipment.store_id is not None and shipment.store_id != store.shipstation_store_id:
                    counts["labels_not_ours"] += 1
                    continue
                yield shipment

        labels_process(store=store, labels=ours(), counts=counts)
    except errors.ClientError as exc:
        # The poll reads the same labels later: a failed webhook fetch costs minutes, not a notice.
        log.warning("Webhook fetch for store %s failed: %s", store, exc)
        return _finish(run, counts, client, status=RunStatus.FAILED, error=exc.message)
    return _finish(run, counts, client, status=RunStatus.SUCCEEDED)


def webhook_extra_hosts(store: Store) -> tuple[str, ...]:
    """The configured ShipStation base URL's host (a simulator or a proxy) is trusted besides ssapiN."""
    return (urlsplit(store.shipstation_account.base_url).netloc,)


# ---------------------------------------------------------------------- delayed notices


def store_send_due_notices(*, store: Store) -> Counter:
    """Send what is due now: delayed notices whose time came (after a fresh look at voids), retries, leftovers."""
    now = timezone.now()
    counts: Counter = Counter()
    delayed = list(ShipmentNotice.objects.filter(store=store, state=NoticeState.DELAYED, due_at__lte=now))
    if delayed:
        earliest = min(n.label_created_at or now for n in delayed)
        try:
            # A label voided since the last poll must not reach Order Time: look once more before releasing.
            for shipment in shipstation_client_for(store).iter_shipments(
                    store_id=store.shipstation_store_id, void_date_start=earliest):
                label_process(store=store, label=shipment, counts=counts)
        except errors.ClientError as exc:
            log.warning("Void check before delayed notices of store %s failed; they wait: %s", store, exc)
            return counts
        for notice in delayed:
            released = notice_mark_released(notice=notice)
            counts[f"released_{released.state}"] += 1
    _send_leftovers(store=store, counts=counts)
    counts.update(shipment_emails_sweep(store=store, limit=settings.ORDERSYNC_NOTICES_PER_TASK))
    return counts


def stores_with_due_notices(now: datetime | None = None) -> list[int]:
    """Stores with something for ``store_send_due_notices``: delayed notices whose time came, due
    notices (``notice_due_q``: a pending one may have been deferred and its follow-up task lost),
    and buyer e-mails a crash left behind."""
    now = now or timezone.now()
    due = ShipmentNotice.objects.filter(
        Q(state=NoticeState.DELAYED, due_at__lte=now) | notice_due_q(now) | emails_due_q(now),
        store__active=True,
    )
    return sorted(set(due.values_list("store_id", flat=True)))


# ---------------------------------------------------------------------- exactly-once send


def notice_send(*, notice: ShipmentNotice) -> ShipmentNotice:
    """Tell Order Time about one label, exactly once (at least once across a crash; see the docs), then
    e-mail the buyer. Runs outside any transaction: each step commits before the next one's I/O."""
    # Gathered before the claim: the display names may cost a ShipStation call, never under a row lock.
    service_names = notice_service_names(notice=notice) if notice.payload is None else {}
    claim = _claim(notice.pk, service_names=service_names)
    if claim is None:
        return ShipmentNotice.objects.get(pk=notice.pk)
    claimed, rendered, resend = claim
    started = time.monotonic()
    try:
        ordertime_client_for(claimed.store).send_ship_notice(rendered)
    except errors.ClientError as exc:
        recorded = _record_failure(claimed, exc, duration_ms=_ms_since(started), resend=resend)
    else:
        recorded = _record_sent(claimed, duration_ms=_ms_since(started), resend=resend)
    # The outcome is committed: only now may the buyer hear of the shipment (its own exactly-once claim).
    if shipment_email_deliver(notice_id=recorded.pk):
        recorded.refresh_from_db()
    return recorded


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


@transaction.atomic
def _claim(notice_id: int, *, service_names: dict[str, str]) -> tuple[ShipmentNotice, RenderedShipNotice, bool] | None:
    """Lock the row; if it is due, build the notice once (and queue the buyer e-mail), store its exact
    bytes and mark it ``sending`` for the lease. No I/O: the caller sends after this commits."""
    now = timezone.now()
    notice = (ShipmentNotice.objects.select_for_update(of=("self",)).select_related("store__settings", "synced_order")
              .filter(notice_due_q(now), pk=notice_id).first())
    if notice is None:
        return None  # sent, skipped, held, backing off, or another worker awaits Order Time's answer
    resend = notice.state == NoticeState.SENDING
    if notice.payload is None:
        notice.payload = _notice_payload(notice, service_names=service_names)
    # else "sent, outcome unknown": the stored bytes again, never a rebuilt notice (protocol §6.3).
    notice.state = NoticeState.SENDING
    notice.next_retry_at = now + sending_lease()
    notice.attempt_count += 1
    notice.save()
    return notice, stored_ship_notice(notice.payload), resend


def _notice_payload(notice: ShipmentNotice, *, service_names: dict[str, str]) -> dict:
    """Build and render the notice once. Whether we e-mail the buyer is decided first, because the
    notice tells Order Time whether to e-mail too (one e-mail, not two)."""
    we_email = shipment_email_plan(notice=notice)
    notify = False if we_email else notice.store.settings.ordertime_notifies_buyer
    ship_notice = ship_notice_build(notice=notice, notify_customer=notify, service_names=service_names)
    params, body = render_ship_notice(ship_notice)
    if we_email:
        shipment_email_queue(notice=notice, ship_notice=ship_notice)
    return {"params": params, "body": body.decode("utf-8"), "order_id": ship_notice.order_id}


def stored_ship_notice(payload: dict) -> RenderedShipNotice:
    """The stored bytes as the client sends them. Rows stored before ``order_id`` was kept carry the
    built notice instead."""
    order_id = payload.get("order_id") or (payload.get("notice") or {}).get("order_id", "")
    return RenderedShipNotice(params=payload["params"], body=payload["body"].encode("utf-8"), order_id=order_id)


def sending_lease() -> timedelta:
    """A notice in ``sending`` for longer than this was interrupted (the worker died between the call
    and the record); shorter, another worker may still be waiting for Order Time's answer."""
    return timedelta(seconds=settings.ORDERSYNC_NOTICE_SENDING_LEASE_SECONDS)


def _attempt(notice: ShipmentNotice, *, success: bool, duration_ms: int, resend: bool, error: str = "",
             response: dict | None = None) -> None:
    Attempt.objects.create(
        synced_order_id=notice.synced_order_id, notice=notice, kind=AttemptKind.SHIP_NOTICE, success=success,
        request={"params": notice.payload["params"], "body": notice.payload["body"], "resent_after_interruption": resend},
        response=response, error=error, duration_ms=duration_ms,
    )


@transaction.atomic
def _record_sent(notice: ShipmentNotice, *, duration_ms: int, resend: bool) -> ShipmentNotice:
    notice = ShipmentNotice.objects.select_for_update(of=("self",)).select_related("store").get(pk=notice.pk)
    notice.sent_at = timezone.now()
    notice.last_error = ""
    notice.next_retry_at = None
    if notice.state == NoticeState.SENDING:  # a void read meanwhile has already flagged it: keep the flag
        notice.state = NoticeState.SENT
        notice.needs_attention = False
    notice.save()
    _attempt(notice, success=True, duration_ms=duration_ms, resend=resend)
    if notice.synced_order_id is not None:
        synced_order_lifecycle_refresh(order_id=notice.synced_order_id)
    if notice.store.ordertime_health != HealthState.OK:
        store_record_health(store=notice.store, ordertime=ServiceCheck(True, _("Order Time accepted a ship notice")))
    return notice


@transaction.atomic
def _record_failure(notice: ShipmentNotice, exc: errors.ClientError, *, duration_ms: int, resend: bool) -> ShipmentNotice:
    notice = ShipmentNotice.objects.select_for_update(of=("self",)).select_related("store", "synced_order").get(pk=notice.pk)
    log.warning("Ship notice %s for store %s failed (attempt %d): %s", notice.pk, notice.store, notice.attempt_count, exc)
    notice.last_error = exc.message
    if notice.state == NoticeState.SENDING:
        notice.state = NoticeState.RETRYING
        if isinstance(exc, errors.RateLimited):
            # Our own limit on calls in flight (or a 429): not the notice's fault, so no back-off growth.
            notice.attempt_count -= 1
            notice.next_retry_at = timezone.now() + timedelta(seconds=exc.retry_after)
        else:
            first_delay = timedelta(seconds=settings.ORDERSYNC_NOTICE_RETRY_SECONDS)
            delay = min(RETRY_MAX_DELAY, first_delay * 2 ** max(0, notice.attempt_count - 1))
            notice.next_retry_at = timezone.now() + delay
            notice.needs_attention = notice.attempt_count >= ATTENTION_AFTER_ATTEMPTS
    notice.save()
    _attempt(notice, success=False, duration_ms=duration_ms, resend=resend, error=exc.message,
             response={"status": exc.status, "excerpt": exc.excerpt})
    if isinstance(exc, errors.NotFound) and notice.synced_order is not None:
        synced_order_flag(order=notice.synced_order, message=order_unknown_flag())
    if isinstance(exc, errors.AuthenticationFailed | errors.Unreachable):
        store_record_health(store=notice.store, ordertime=ServiceCheck(False, exc.message))
    return notice


# ---------------------------------------------------------------------- admin actions


def notice_release(*, notice: ShipmentNotice, actor=None) -> ShipmentNotice:
    """Release a held (or delayed) notice now; a label voided meanwhile is skipped instead."""
    released = notice_mark_released(notice=notice)
    audit_log_record(actor=actor, store=released.store, action="notice_released", obj=released,
                     changes={"state": released.state})
    if released.state == NoticeState.PENDING:
        return notice_send(notice=released)
    return released


def notice_retry(*, notice: ShipmentNotice, actor=None) -> ShipmentNotice:
    """Try a failing or unmatched notice again now, regardless of its back-off."""
    notice = ShipmentNotice.objects.select_related("store").get(pk=notice.pk)
    audit_log_record(actor=actor, store=notice.store, action="notice_retried", obj=notice,
                     changes={"state": notice.state, "attempts": notice.attempt_count})
    if notice.state == NoticeState.UNMATCHED:
        label = label_of(notice)
        notice = shipment_notice_record(store=notice.store, label=label,
                                        synced_order=synced_order_for_label(store=notice.store, label=label)).notice
    # "Now, regardless of its back-off": end the back-off, then send it if that makes it due. A notice in
    # flight keeps its lease: another worker is waiting for Order Time's answer.
    ShipmentNotice.objects.filter(pk=notice.pk, state=NoticeState.RETRYING).update(next_retry_at=timezone.now())
    if notice_is_due(notice=notice, now=timezone.now()):
        return notice_send(notice=notice)
    return notice

