"""The branded shipment confirmation: rendered from ``templates/emails/``, sent through Django's e-mail.

Sending is one action with one write path: ``shipment_email_send`` sends at most one e-mail per
notice and records the outcome on the notice (``email_state``) and as an ``Attempt``. A bad address
or an SMTP failure is recorded, never raised: the notice to Order Time must not wait for the buyer's
mail server.
"""

from __future__ import annotations

import logging
import smtplib
import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from connections.clients.types import OTAddress
from connections.models import Store
from ordersync.models import Attempt, AttemptKind, ShipmentNotice

from .shipments.content import EmailItem, ShipmentEmailContext, email_context_for, ship_notice_build

log = logging.getLogger(__name__)


class EmailState:
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


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


def shipment_email_send(*, notice: ShipmentNotice) -> None:
    """E-mail the buyer once for this notice and record how it went on the notice."""
    if notice.email_state:
        return
    address = buyer_email_for(notice)
    started = time.monotonic()
    error = ""
    try:
        validate_email(address)
        context = email_context_for(notice=notice, ship_notice=ship_notice_build(notice=notice, notify_customer=False))
        subject, text, html = shipment_email_render(store=notice.store, context=context)
        store_settings = notice.store.settings
        message = EmailMultiAlternatives(
            subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[address],
            bcc=[store_settings.bcc_email] if store_settings.bcc_email else None,
            reply_to=[store_settings.support_email] if store_settings.support_email else None,
        )
        message.attach_alternative(html, "text/html")
        message.send(fail_silently=False)
    except ValidationError:
        error = _("Not a valid e-mail address: %(address)s") % {"address": address or "—"}
    except (smtplib.SMTPException, OSError) as exc:
        error = _("The mail server did not accept the e-mail: %(error)s") % {"error": exc}
    if error:
        log.warning("Shipment e-mail for notice %s not sent: %s", notice.pk, error)
    notice.email_state = EmailState.FAILED if error else EmailState.SENT
    notice.email_error = error
    notice.email_sent_at = None if error else timezone.now()
    notice.save(update_fields=["email_state", "email_error", "email_sent_at", "updated_at"])
    if notice.synced_order_id:
        Attempt.objects.create(
            synced_order_id=notice.synced_order_id, notice=notice, kind=AttemptKind.EMAIL, success=not error,
            request={"to": address}, error=error, duration_ms=int((time.monotonic() - started) * 1000),
        )


def shipment_email_skip(*, notice: ShipmentNotice) -> None:
    """Record that no e-mail goes out for this notice (preference off or no address)."""
    if not notice.email_state:
        notice.email_state = EmailState.SKIPPED
        notice.save(update_fields=["email_state", "updated_at"])

