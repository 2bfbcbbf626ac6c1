"""The branded shipment confirmation: rendered from ``templates/emails/``, sent through Django's e-mail.

Each notice's e-mail is an outbox entry on the notice (``email_state``, ``email_message``):

1. ``shipment_email_plan`` decides, while the notice is built, whether we e-mail the buyer (so the
   notice can tell Order Time not to); ``shipment_email_queue`` renders the message once and stores it
   as ``pending``. Both run inside the notice's claim transaction and do no I/O.
2. ``shipment_email_deliver`` runs after the notice's outcome is committed, outside any transaction:
   a conditional UPDATE claims the e-mail (``sending``), so two workers cannot both send it; the stored
   message goes out; the outcome is recorded (``sent``/``failed`` and an ``Attempt``).
3. ``shipment_emails_sweep`` finishes what a crash left: ``pending`` e-mails are delivered, and one
   left ``sending`` past the lease is marked ``failed`` rather than sent again (it may have gone out).

A bad address or an SMTP failure is recorded, never raised: the notice to Order Time does not wait
for the buyer's mail server.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from connections.clients.types import OTAddress, ShipNotice
from connections.models import Store
from ordersync.models import Attempt, AttemptKind, EmailState, NoticeState, ShipmentNotice

from .shipments.content import EmailItem, ShipmentEmailContext, email_context_for

log = logging.getLogger(__name__)


# The e-mail waits for the notice's outcome: Order Time accepted it, or the attempt failed and retries.
_OUTCOME_STATES = (NoticeState.SENT, NoticeState.RETRYING)


def _brand(store: Store) -> dict:
    store_settings = store.settings
    return {
        "name": store_settings.brand_name,
        "logo_url": store_settings.logo_url,
        "accent_color": store_settings.accent_color,
        "support_email": store_settings.support_email,
        "website": store_settings.website,
        "phone": store_settings.phone,
    }


def shipment_email_render(*, store: Store, context: ShipmentEmailContext) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of the shipment confirmation in the store's branding."""
    values = {"brand": _brand(store), "shipment": context}
    subject = " ".join(render_to_string("emails/shipment_confirmation_subject.txt", values).split())
    values["subject"] = subject
    text = render_to_string("emails/shipment_confirmation.txt", values)
    html = render_to_string("emails/shipment_confirmation.html", values)
    return subject, text, html


def shipment_email_preview(*, store: Store) -> tuple[str, str, str]:
    """The confirmation for a made-up shipment, for the admin's live preview of the branding."""
    sample = ShipmentEmailContext(
        order_number="1187",
        buyer_name="Sam Rivera",
        carrier="UPS",
        service="UPS® Ground",
        tracking_number="1Z999AA10123456784",
        tracking_url="https://www.ups.com/track?tracknum=1Z999AA10123456784" if store.settings.include_tracking_link else None,
        ship_date=timezone.localdate(),
        notes_to_buyer=_("Thank you for shopping with us! Your mug is wrapped in extra bubble wrap."),
        recipient=OTAddress(name="Sam Rivera", address1="4801 Duval St", address2="Apt 2B", city="Austin",
                            state="TX", postal_code="78751", country="US"),
        items=(
            EmailItem(name="Organic Cotton T-Shirt", sku="TS-ORG-100", quantity=2,
                      image_url="https://images.example.com/ts-org-100.jpg",
                      options=((_("Size"), "L"), (_("Color"), "Forest Green"))),
            EmailItem(name="Stoneware Mug, 12 oz", sku="MUG-12", quantity=1),
        ),
    )
    return shipment_email_render(store=store, context=sample)


def buyer_email_for(notice: ShipmentNotice) -> str:
    order_email = notice.synced_order.buyer_email if notice.synced_order else ""
    return (order_email or (notice.shipment or {}).get("customer_email") or "").strip()


def shipment_email_plan(*, notice: ShipmentNotice) -> bool:
    """Whether we e-mail the buyer for this notice, decided once before its notice is rendered.

    Skipped when the store does not e-mail buyers or there is no address; a malformed address is
    recorded as ``failed`` at once. A decision already taken stands.
    """
    if notice.email_state:
        return notice.email_state in (EmailState.PENDING, EmailState.SENDING, EmailState.SENT)
    address = buyer_email_for(notice)
    if not (notice.store.settings.email_buyer and address):
        notice.email_state = EmailState.SKIPPED
        return False
    try:
        validate_email(address)
    except ValidationError:
        _email_failed(notice, error=_("Not a valid e-mail address: %(address)s") % {"address": address},
                      to=address, duration_ms=0)
        return False
    return True


def shipment_email_queue(*, notice: ShipmentNotice, ship_notice: ShipNotice) -> None:
    """Render the e-mail once, from the very notice Order Time is told, and store it ``pending``.

    The caller saves the notice (in the same transaction as the notice's own bytes).
    """
    subject, text, html = shipment_email_render(
        store=notice.store, context=email_context_for(notice=notice, ship_notice=ship_notice))
    store_settings = notice.store.settings
    notice.email_message = {
        "subject": subject, "text": text, "html": html, "from": settings.DEFAULT_FROM_EMAIL,
        "to": [buyer_email_for(notice)],
        "bcc": [store_settings.bcc_email] if store_settings.bcc_email else [],
        "reply_to": [store_settings.support_email] if store_settings.support_email else [],
    }
    notice.email_state = EmailState.PENDING


def _email_lease() -> timedelta:
    return timedelta(seconds=settings.ORDERSYNC_NOTICE_SENDING_LEASE_SECONDS)


def _deliverable_q() -> Q:
    return Q(email_state=EmailState.PENDING, state__in=_OUTCOME_STATES)


def emails_due_q(now: datetime) -> Q:
    """Notices whose e-mail needs the sweep: deliverable, interrupted while sending, or never to be sent."""
    return (
        _deliverable_q()
        | Q(email_state=EmailState.SENDING, email_claimed_at__lte=now - _email_lease())
        | Q(email_state=EmailState.PENDING, state=NoticeState.FLAGGED)
    )


def shipment_email_deliver(*, notice_id: int) -> bool:
    """Send the notice's stored e-mail if it is due and nobody else has it; True when this call sent (or
    tried to send) it. Must run outside any transaction: the claim has to be committed before SMTP."""
    claimed = ShipmentNotice.objects.filter(_deliverable_q(), pk=notice_id).update(
        email_state=EmailState.SENDING, email_claimed_at=timezone.now(), updated_at=timezone.now())
    if not claimed:
        return False
    notice = ShipmentNotice.objects.get(pk=notice_id)
    stored = notice.email_message or {}
    started = time.monotonic()
    error = ""
    try:
        message = EmailMultiAlternatives(
            subject=stored["subject"], body=stored["text"], from_email=stored["from"], to=stored["to"],
            bcc=stored["bcc"] or None, reply_to=stored["reply_to"] or None,
        )
        message.attach_alternative(stored["html"], "text/html")
        if not message.send(fail_silently=False):
            error = _("No mail server is configured (EMAIL_URL); the e-mail was not sent.")
    except (smtplib.SMTPException, OSError) as exc:
        error = _("The mail server did not accept the e-mail: %(error)s") % {"error": exc}
    _email_record(notice, error=error, to=", ".join(stored.get("to") or []),
                  duration_ms=int((time.monotonic() - started) * 1000))
    return True


@transaction.atomic
def _email_record(notice: ShipmentNotice, *, error: str, to: str, duration_ms: int) -> None:
    if error:
        log.warning("Shipment e-mail for notice %s not sent: %s", notice.pk, error)
    ShipmentNotice.objects.filter(pk=notice.pk, email_state=EmailState.SENDING).update(
        email_state=EmailState.FAILED if error else EmailState.SENT, email_error=error,
        email_sent_at=None if error else timezone.now(), updated_at=timezone.now())
    _email_attempt(notice, success=not error, to=to, error=error, duration_ms=duration_ms)


def _email_failed(notice: ShipmentNotice, *, error: str, to: str, duration_ms: int) -> None:
    log.warning("Shipment e-mail for notice %s not sent: %s", notice.pk, error)
    notice.email_state = EmailState.FAILED
    notice.email_error = error
    _email_attempt(notice, success=False, to=to, error=error, duration_ms=duration_ms)


def _email_attempt(notice: ShipmentNotice, *, success: bool, to: str, error: str, duration_ms: int) -> None:
    if notice.synced_order_id:
        Attempt.objects.create(
            synced_order_id=notice.synced_order_id, notice=notice, kind=AttemptKind.EMAIL, success=success,
            request={"to": to}, error=error, duration_ms=duration_ms,
        )


def email_interrupted_error() -> str:
    return _("Sending was interrupted; the e-mail may or may not have reached the buyer, so it is not sent again")


def shipment_emails_sweep(*, store: Store, limit: int) -> Counter:
    """The outbox's sweep for one store: deliver what a crash left ``pending``, give up on an e-mail left
    ``sending`` past its lease (at most once: a second copy is worse than a visible failure), and skip
    e-mails of labels voided before their e-mail went out."""
    now = timezone.now()
    counts: Counter = Counter()
    mine = ShipmentNotice.objects.filter(store=store)
    counts["emails_interrupted"] = mine.filter(
        email_state=EmailState.SENDING, email_claimed_at__lte=now - _email_lease(),
    ).update(email_state=EmailState.FAILED, email_error=email_interrupted_error(), updated_at=now)
    counts["emails_skipped_void"] = mine.filter(email_state=EmailState.PENDING, state=NoticeState.FLAGGED).update(
        email_state=EmailState.SKIPPED, updated_at=now)
    for notice_id in mine.filter(_deliverable_q()).order_by("pk").values_list("pk", flat=True)[:limit]:
        counts["emails_sent_late"] += shipment_email_deliver(notice_id=notice_id)
    return +counts
