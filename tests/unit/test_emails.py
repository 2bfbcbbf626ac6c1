"""The shipment confirmation renders with the store's branding, in HTML and plain text."""

from __future__ import annotations

from datetime import date

import pytest

from connections.clients.types import OTAddress
from connections.services import store_connect
from ordersync.emails import shipment_email_preview, shipment_email_render
from ordersync.shipments.content import EmailItem, ShipmentEmailContext

pytestmark = pytest.mark.django_db


@pytest.fixture
def branded_store():
    store = store_connect(name="Rivera Goods", ordertime_username="u", ordertime_api_key="k",
                          shipstation_api_key="k", shipstation_api_secret="s", shipstation_store_id=1, verify=False)
    store.settings.display_name = "Rivera & Sons"
    store.settings.logo_url = "https://cdn.example.com/logo.png"
    store.settings.accent_color = "#aa3300"
    store.settings.support_email = "help@rivera.example"
    store.settings.website = "https://rivera.example"
    store.settings.phone = "+1 512 555 0100"
    store.settings.save()
    return store


def context(**changes) -> ShipmentEmailContext:
    values = dict(
        order_number="1187", buyer_name="Alex Rivera", carrier="USPS", service="USPS Priority Mail",
        tracking_number="9400111899561704681189",
        tracking_url="https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899561704681189",
        ship_date=date(2025, 6, 3), notes_to_buyer="Thanks <3 & enjoy",
        recipient=OTAddress(name="Sam Rivera", address1="4801 Duval St", city="Austin", state="TX",
                            postal_code="78751", country="US"),
        items=(EmailItem(name="Organic Cotton T-Shirt", sku="TS-ORG-100", quantity=2,
                         image_url="https://images.example.com/ts.jpg", options=(("Size", "L"),)),),
    )
    return ShipmentEmailContext(**{**values, **changes})


def test_html_carries_branding_items_and_tracking(branded_store):
    subject, text, html = shipment_email_render(store=branded_store, context=context())

    assert subject == "Rivera & Sons: your order 1187 has shipped"
    assert 'src="https://cdn.example.com/logo.png"' in html
    assert "background-color:#aa3300" in html
    assert "Rivera &amp; Sons" in html  # escaped in HTML
    assert 'src="https://images.example.com/ts.jpg"' in html and "Size: L" in html and "Qty 2" in html
    assert 'href="https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899561704681189"' in html
    assert "USPS Priority Mail" in html and "Thanks &lt;3 &amp; enjoy" in html
    for contact in ("mailto:help@rivera.example", "https://rivera.example", "+1 512 555 0100"):
        assert contact in html
    assert "<script" not in html and "<style" not in html  # inline CSS only, for mail clients


def test_plain_text_is_not_html_escaped(branded_store):
    _subject, text, _html = shipment_email_render(store=branded_store, context=context())
    assert "Thanks <3 & enjoy" in text
    assert "2 × Organic Cotton T-Shirt (TS-ORG-100)" in text and "Size: L" in text
    assert "Track your package: https://tools.usps.com/" in text
    assert "help@rivera.example" in text


def test_no_tracking_link_without_url(branded_store):
    _subject, text, html = shipment_email_render(store=branded_store, context=context(tracking_url=None))
    assert "Track your package" not in html and "Track your package" not in text
    assert "9400111899561704681189" in html


def test_preview_uses_sample_data_and_branding(branded_store):
    subject, text, html = shipment_email_preview(store=branded_store)
    assert "Rivera &amp; Sons" in html and "Organic Cotton T-Shirt" in html and "Forest Green" in html
    assert "1187" in subject and "Sam Rivera" in text

