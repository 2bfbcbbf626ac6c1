"""Side effects after commit: the notice's bytes are committed before Order Time is called, the buyer's
e-mail leaves only after the notice's outcome is committed, and a crash anywhere costs neither a second
e-mail nor a different notice."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from django.core import mail
from django.db import transaction
from django.utils import timezone

from connections.clients.ordertime import OrderTimeClient, RenderedShipNotice, render_ship_notice
from ordersync import emails
from ordersync.models import Attempt, AttemptKind, EmailState, NoticeState, ShipmentNotice, SyncedOrder
from ordersync.shipments import services
from ordersync.shipments.notices import notice_is_due, notices_due
from ordersync.shipments.services import (
    notice_retry,
    store_send_due_notices,
    store_update_shipments,
    stores_with_due_notices,
)
from sandbox.ordertime import section5_sample_docs
from tests.integration.test_shipment_updates import accepted_notices, import_order, label, set_store
from tests.ordertime_fixtures import SAMPLE_NOTICE

pytestmark = pytest.mark.django_db


def fail_once(monkeypatch, owner, name: str, message: str) -> list:
    """Make ``owner.name`` raise the first time it is called, then behave."""
    real = getattr(owner, name)
    calls: list = []

    def flaky(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise RuntimeError(message)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, flaky)
    return calls


def end_lease(notice: ShipmentNotice) -> None:
    ShipmentNotice.objects.filter(pk=notice.pk).update(next_retry_at=timezone.now() - timedelta(seconds=1))


@pytest.fixture
def emailing_store(store):
    set_store(store, email_buyer=True, ordertime_notifies_buyer=True)
    return store


def test_claim_rolled_back_after_building_sends_no_email(emailing_store, ordertime_sim, shipstation_sim, monkeypatch):
    """The old claim e-mailed inside its transaction; a rollback then forgot the e-mail and sent it again."""
    order = import_order(emailing_store, ordertime_sim)
    label(shipstation_sim, order)
    fail_once(monkeypatch, services, "stored_ship_notice", "claim transaction fails after the notice is built")

    with pytest.raises(RuntimeError):
        store_update_shipments(store=emailing_store)

    notice = ShipmentNotice.objects.get()
    assert notice.state == NoticeState.PENDING and notice.payload is None and notice.email_state == ""
    assert mail.outbox == [] and ordertime_sim.notices() == []

    store_update_shipments(store=emailing_store)
    store_update_shipments(store=emailing_store)

    assert len(mail.outbox) == 1 and len(accepted_notices(ordertime_sim)) == 1
    assert ShipmentNotice.objects.get().email_state == EmailState.SENT


def test_outcome_record_fails_after_the_send_the_buyer_gets_one_email(emailing_store, ordertime_sim, shipstation_sim,
                                                                     monkeypatch):
    order = import_order(emailing_store, ordertime_sim)
    label(shipstation_sim, order)
    fail_once(monkeypatch, services, "_record_sent", "the transaction after Order Time's answer fails")

    with pytest.raises(RuntimeError):
        store_update_shipments(store=emailing_store)

    notice = ShipmentNotice.objects.get()
    assert notice.state == NoticeState.SENDING and notice.email_state == EmailState.PENDING
    assert len(accepted_notices(ordertime_sim)) == 1
    assert mail.outbox == []  # the outcome is not committed: the buyer hears nothing yet

    store_update_shipments(store=emailing_store)  # within the lease: hands off
    assert mail.outbox == [] and len(accepted_notices(ordertime_sim)) == 1

    # Whatever changed meanwhile, the resend is the stored notice, byte for byte.
    payload = {**order.payload, "customerNotes": "changed after the first send"}
    SyncedOrder.objects.filter(pk=order.pk).update(payload=payload)
    end_lease(notice)
    store_update_shipments(store=emailing_store)
    store_update_shipments(store=emailing_store)

    first, second = accepted_notices(ordertime_sim)
    assert first["body"] == second["body"] and first["query"] == second["query"]
    assert "changed after the first send" not in second["body"]
    (message,) = mail.outbox
    assert message.to == ["alex.rivera@example.com"]
    notice.refresh_from_db()
    assert notice.state == NoticeState.SENT and notice.email_state == EmailState.SENT
    assert Attempt.objects.filter(notice=notice, kind=AttemptKind.EMAIL, success=True).count() == 1


def test_email_record_fails_after_smtp_took_it_is_never_sent_again(emailing_store, ordertime_sim, shipstation_sim,
                                                                  monkeypatch):
    order = import_order(emailing_store, ordertime_sim)
    label(shipstation_sim, order)
    fail_once(monkeypatch, emails, "_email_record", "the transaction after the mail server's answer fails")

    with pytest.raises(RuntimeError):
        store_update_shipments(store=emailing_store)

    notice = ShipmentNotice.objects.get()
    assert notice.state == NoticeState.SENT and notice.email_state == EmailState.SENDING
    assert len(mail.outbox) == 1

    store_update_shipments(store=emailing_store)
    assert store_send_due_notices(store=emailing_store) == {}  # in its lease: maybe still sending
    assert emailing_store.pk not in stores_with_due_notices()

    ShipmentNotice.objects.filter(pk=notice.pk).update(email_claimed_at=timezone.now() - timedelta(hours=1))
    assert emailing_store.pk in stores_with_due_notices()
    counts = store_send_due_notices(store=emailing_store)

    assert counts == {"emails_interrupted": 1}
    notice.refresh_from_db()
    assert notice.email_state == EmailState.FAILED and notice.email_error == emails.email_interrupted_error()
    assert len(mail.outbox) == 1  # at most once: never a second copy


def test_email_left_pending_by_a_crash_is_sent_by_the_sweep_once(emailing_store, ordertime_sim, shipstation_sim,
                                                                monkeypatch):
    order = import_order(emailing_store, ordertime_sim)
    label(shipstation_sim, order)
    with monkeypatch.context() as patch:
        patch.setattr(services, "shipment_email_deliver", lambda notice_id: False)  # died right after the record
        store_update_shipments(store=emailing_store)

    notice = ShipmentNotice.objects.get()
    assert notice.state == NoticeState.SENT and notice.email_state == EmailState.PENDING and mail.outbox == []
    assert emailing_store.pk in stores_with_due_notices()

    counts = store_send_due_notices(store=emailing_store)

    assert counts == {"emails_sent_late": 1} and len(mail.outbox) == 1
    assert emails.shipment_email_deliver(notice_id=notice.pk) is False  # claimed and sent: nobody sends it again
    assert store_send_due_notices(store=emailing_store) == {} and len(mail.outbox) == 1
    assert emailing_store.pk not in stores_with_due_notices()


def test_email_of_a_label_voided_before_it_went_out_is_skipped(emailing_store, ordertime_sim, shipstation_sim,
                                                              monkeypatch):
    order = import_order(emailing_store, ordertime_sim)
    shipment = label(shipstation_sim, order)
    with monkeypatch.context() as patch:
        patch.setattr(services, "shipment_email_deliver", lambda notice_id: False)
        store_update_shipments(store=emailing_store)
    shipstation_sim.void_label(shipment["shipmentId"])
    store_update_shipments(store=emailing_store)  # flags the notice; its e-mail is still pending

    assert ShipmentNotice.objects.get().state == NoticeState.FLAGGED
    assert emailing_store.pk in stores_with_due_notices()
    assert store_send_due_notices(store=emailing_store) == {"emails_skipped_void": 1}
    assert ShipmentNotice.objects.get().email_state == EmailState.SKIPPED and mail.outbox == []


def test_the_email_is_rendered_once_from_the_notice(emailing_store, ordertime_sim, shipstation_sim, monkeypatch):
    order = import_order(emailing_store, ordertime_sim)
    label(shipstation_sim, order)
    renders = []
    real_render = emails.shipment_email_render
    monkeypatch.setattr(emails, "shipment_email_render", lambda **kw: renders.append(1) or real_render(**kw))
    monkeypatch.setattr(services, "shipment_email_deliver", lambda notice_id: False)
    store_update_shipments(store=emailing_store)
    emailing_store.settings.refresh_from_db()
    emailing_store.settings.display_name = "Renamed after the notice was built"
    emailing_store.settings.save()

    store_send_due_notices(store=emailing_store)

    (message,) = mail.outbox
    assert renders == [1] and "Renamed" not in message.subject
    stored = ShipmentNotice.objects.get().email_message
    assert message.subject == stored["subject"] and message.body == stored["text"]
    assert message.alternatives[0][0] == stored["html"]


# ---------------------------------------------------------------------- one rule for "due"


def test_every_sender_agrees_on_which_notices_are_due(store, ordertime_sim, shipstation_sim):
    order = import_order(store, ordertime_sim)
    now = timezone.now()
    past, future = now - timedelta(minutes=1), now + timedelta(minutes=1)
    cases = {
        (NoticeState.PENDING, None): True,
        (NoticeState.RETRYING, None): True,
        (NoticeState.RETRYING, past): True,
        (NoticeState.RETRYING, future): False,
        (NoticeState.SENDING, None): True,
        (NoticeState.SENDING, past): True,
        (NoticeState.SENDING, future): False,
        (NoticeState.SENT, past): False,
        (NoticeState.HELD, None): False,
        (NoticeState.UNMATCHED, None): False,
        (NoticeState.FLAGGED, past): False,
    }
    rows = {}
    for number, (state, next_retry_at) in enumerate(cases):
        rows[(state, next_retry_at)] = ShipmentNotice.objects.create(
            store=store, synced_order=order, external_id=number + 1, state=state, next_retry_at=next_retry_at)

    due_ids = set(notices_due(now=timezone.now()).values_list("pk", flat=True))
    for key, expected in cases.items():
        assert notice_is_due(notice=rows[key], now=timezone.now()) is expected, key
        assert (rows[key].pk in due_ids) is expected, key

    ShipmentNotice.objects.filter(pk__in=[rows[key].pk for key, due in cases.items() if due]).delete()
    assert store.pk not in stores_with_due_notices()
    ShipmentNotice.objects.create(store=store, synced_order=order, external_id=99, state=NoticeState.RETRYING)
    assert store.pk in stores_with_due_notices()  # the sweep's rule is the senders' rule


def test_admin_retry_skips_the_back_off_but_not_a_lease(store, ordertime_sim, shipstation_sim, admin_user):
    order = import_order(store, ordertime_sim, known_to_ordertime=False)
    label(shipstation_sim, order)
    store_update_shipments(store=store)
    notice = ShipmentNotice.objects.get()
    assert notice.state == NoticeState.RETRYING and notice.next_retry_at > timezone.now()

    retried = notice_retry(notice=notice, actor=admin_user)
    assert retried.attempt_count == 2 and [n["status"] for n in ordertime_sim.notices()] == [404, 404]

    ShipmentNotice.objects.filter(pk=notice.pk).update(state=NoticeState.SENDING,
                                                       next_retry_at=timezone.now() + timedelta(minutes=5))
    assert notice_retry(notice=notice, actor=admin_user).state == NoticeState.SENDING
    assert len(ordertime_sim.notices()) == 2


# ---------------------------------------------------------------------- the client sends stored bytes


def test_client_sends_a_rendered_notice_byte_for_byte(ordertime_sim):
    from tests.conftest import OT_KEY, OT_USER

    ordertime_sim.upsert_ship_doc(section5_sample_docs()[0])
    params, body = render_ship_notice(SAMPLE_NOTICE)
    # Bytes no renderer of ours would produce: the client must not rebuild them.
    stored = RenderedShipNotice(params=params, body=body.replace(b"<ShipNotice>", b"<ShipNotice>\n  "),
                                order_id=SAMPLE_NOTICE.order_id)
    OrderTimeClient(ordertime_sim.endpoint, OT_USER, OT_KEY).send_ship_notice(stored)

    (received,) = ordertime_sim.notices()
    assert received["body"].encode("utf-8") == stored.body and received["query"] == params


# ---------------------------------------------------------------------- the guard itself


def _calls_inside_and_outside_atomic(url: str) -> None:
    requests.get(url, timeout=5)
    mail.send_mail("outside", "body", "a@example.com", ["b@example.com"])
    with transaction.atomic():
        requests.get(url, timeout=5)
        mail.send_mail("inside", "body", "a@example.com", ["b@example.com"])


def test_guard_sees_network_calls_inside_atomic_only(ordertime_sim, no_network_in_atomic):
    _calls_inside_and_outside_atomic(ordertime_sim.url)
    assert [what for what, _stack in no_network_in_atomic] == [
        "HTTP (requests)", "HTTP (http.client / urllib3)", "e-mail (django.core.mail.backends.locmem.EmailBackend)"]
    no_network_in_atomic.clear()  # seen: this test is about the guard, not a violation


@pytest.mark.django_db(transaction=True)
def test_guard_works_without_the_test_transaction_too(ordertime_sim, no_network_in_atomic):
    _calls_inside_and_outside_atomic(ordertime_sim.url)
    assert len(no_network_in_atomic) == 3
    no_network_in_atomic.clear()
