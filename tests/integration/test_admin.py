"""The admin through Django's test client: pages render, secrets stay secret, edits are audited, fixes work."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from connections.models import (
    AuditLogEntry,
    OrderTimeAccount,
    ShipStationAccount,
    StatusMapping,
    Store,
    StoreSettings,
)

pytestmark = pytest.mark.django_db

OT_KEY = "ot-key-very-secret-1234"
SS_KEY = "ss-key-very-secret-5678"
SS_SECRET = "ss-secret-very-secret-9012"


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-for-tests")
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def offline_store(db):
    """A store whose services are never called (the simulator-backed ``store`` comes from tests/conftest.py)."""
    ot = OrderTimeAccount.objects.create(username="admin@example.com", api_key=OT_KEY, endpoint_url="http://127.0.0.1:9/ot")
    ss = ShipStationAccount.objects.create(api_key=SS_KEY, api_secret=SS_SECRET, base_url="http://127.0.0.1:9", label="Main")
    store = Store.objects.create(name="Offline", ordertime_account=ot, shipstation_account=ss,
                                 shipstation_store_id=42, order_key_prefix="offline")
    StoreSettings.objects.create(store=store)
    StatusMapping.objects.create(store=store, ordertime_status="shipped", shipstation_status="shipped")
    return store


def _inline_management(prefix: str, total: int, initial: int) -> dict:
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}


def store_change_data(store: Store, **overrides) -> dict:
    """The store change form as the browser would post it, unchanged unless overridden."""
    settings = store.settings
    mappings = list(store.status_mappings.all())
    data = {
        "name": store.name, "active": _checkbox(store.active),
        "ordertime_account": store.ordertime_account_id, "shipstation_account": store.shipstation_account_id,
        "shipstation_store_id": store.shipstation_store_id, "initial_lookback_days": store.initial_lookback_days,
        "import_interval_minutes": store.import_interval_minutes, "update_interval_minutes": store.update_interval_minutes,
        **_inline_management("settings", 1, 1),
        "settings-0-id": settings.pk, "settings-0-store": store.pk,
        "settings-0-display_name": settings.display_name, "settings-0-logo_url": settings.logo_url,
        "settings-0-accent_color": settings.accent_color, "settings-0-support_email": settings.support_email,
        "settings-0-website": settings.website, "settings-0-phone": settings.phone,
        "settings-0-email_buyer": _checkbox(settings.email_buyer),
        "settings-0-include_tracking_link": _checkbox(settings.include_tracking_link), "settings-0-bcc_email": settings.bcc_email,
        "settings-0-ordertime_notifies_buyer": _checkbox(settings.ordertime_notifies_buyer),
        "settings-0-notice_timing": settings.notice_timing, "settings-0-notice_delay_hours": settings.notice_delay_hours,
        "settings-0-notes_to_buyer_source": settings.notes_to_buyer_source, "settings-0-carrier_overrides": "{}",
        "settings-0-import_images": _checkbox(settings.import_images), "settings-0-weight_unit": settings.weight_unit,
        "settings-0-import_options": _checkbox(settings.import_options),
        "settings-0-import_locations": _checkbox(settings.import_locations),
        "settings-0-normalize_addresses": _checkbox(settings.normalize_addresses),
        "settings-0-shipping_method_mapping": "{}",
        **_inline_management("status_mappings", len(mappings) + 1, len(mappings)),
    }
    for i, mapping in enumerate(mappings):
        data.update({f"status_mappings-{i}-id": mapping.pk, f"status_mappings-{i}-store": store.pk,
                     f"status_mappings-{i}-ordertime_status": mapping.ordertime_status,
                     f"status_mappings-{i}-shipstation_status": mapping.shipstation_status})
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _checkbox(checked: bool) -> str | None:
    return "on" if checked else None  # an unticked box is not posted at all


# --- Secrets -----------------------------------------------------------------------------------


def test_account_pages_never_render_a_stored_secret(admin_client, offline_store):
    pages = [
        reverse("admin:connections_ordertimeaccount_change", args=[offline_store.ordertime_account_id]),
        reverse("admin:connections_shipstationaccount_change", args=[offline_store.shipstation_account_id]),
        reverse("admin:connections_store_change", args=[offline_store.pk]),
    ]
    for url in pages:
        html = admin_client.get(url).content.decode()
        for secret in (OT_KEY, SS_KEY, SS_SECRET):
            assert secret not in html
    html = admin_client.get(pages[1]).content.decode()
    assert 'type="password"' in html
    assert "Leave blank to keep" in html


def test_blank_secret_keeps_the_stored_value_and_a_new_one_replaces_it(admin_client, offline_store):
    url = reverse("admin:connections_shipstationaccount_change", args=[offline_store.shipstation_account_id])
    form = {"label": "Renamed", "api_key": "", "api_secret": "", "base_url": "http://127.0.0.1:9"}
    assert admin_client.post(url, form).status_code == 302
    account = ShipStationAccount.objects.get()
    assert (account.label, account.api_key, account.api_secret) == ("Renamed", SS_KEY, SS_SECRET)

    assert admin_client.post(url, {**form, "api_secret": "brand-new-secret"}).status_code == 302
    account.refresh_from_db()
    assert (account.api_key, account.api_secret) == (SS_KEY, "brand-new-secret")

    entries = list(AuditLogEntry.objects.filter(object_type="ShipStationAccount").order_by("at", "pk"))
    assert entries[0].changes == {"label": {"before": "Main", "after": "Renamed"}}
    assert entries[1].changes == {"api_secret": {"before": "changed", "after": "changed"}}
    assert "brand-new-secret" not in str([e.changes for e in entries])
    assert entries[1].actor == admin_client.user


def test_a_new_account_requires_its_secrets(admin_client):
    url = reverse("admin:connections_ordertimeaccount_add")
    response = admin_client.post(url, {"username": "a@example.com", "api_key": "", "endpoint_url": "https://example.com/x"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["api_key"]
    assert not OrderTimeAccount.objects.exists()


# --- Store page: health, audited edits, mappings through the service ---------------------------


def test_store_page_shows_connection_health(admin_client, offline_store):
    Store.objects.filter(pk=offline_store.pk).update(
        ordertime_health="ok", ordertime_health_message="Order Time accepted the credentials",
        shipstation_health="failed", shipstation_health_message="ShipStation store 42 not found in this account",
    )
    html = admin_client.get(reverse("admin:connections_store_change", args=[offline_store.pk])).content.decode()
    assert "Order Time accepted the credentials" in html
    assert "ShipStation store 42 not found in this account" in html
    assert "badge-failed" in html and "badge-ok" in html
    assert 'id="test-connection"' in html


def test_store_settings_edit_is_audited_field_by_field(admin_client, offline_store):
    url = reverse("admin:connections_store_change", args=[offline_store.pk])
    response = admin_client.post(url, store_change_data(offline_store, **{
        "settings-0-display_name": "Acme Outfitters", "settings-0-accent_color": "#ff0000", "shipstation_store_id": 43,
    }))
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    settings_entry = AuditLogEntry.objects.get(action="store_settings_changed")
    assert settings_entry.changes == {
        "display_name": {"before": "", "after": "Acme Outfitters"},
        "accent_color": {"before": "#1f6feb", "after": "#ff0000"},
    }
    assert settings_entry.store == offline_store and settings_entry.actor == admin_client.user
    store_entry = AuditLogEntry.objects.get(action="store_changed")
    assert store_entry.changes == {"shipstation_store_id": {"before": 42, "after": 43}}


def test_mapping_inline_saves_through_the_service(admin_client, offline_store, django_capture_on_commit_callbacks):
    from connections.signals import status_mapping_saved

    heard = []

    def listener(sender, store, ordertime_status, **kwargs):
        heard.append((store.pk, ordertime_status))

    status_mapping_saved.connect(listener)
    try:
        url = reverse("admin:connections_store_change", args=[offline_store.pk])
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(url, store_change_data(offline_store, **{
                "status_mappings-1-ordertime_status": "Backordered", "status_mappings-1-shipstation_status": "on_hold",
                "status_mappings-1-store": offline_store.pk,
            }))
    finally:
        status_mapping_saved.disconnect(listener)
    assert response.status_code == 302
    assert offline_store.status_mappings.get(ordertime_status="Backordered").shipstation_status == "on_hold"
    assert heard == [(offline_store.pk, "Backordered")]
    entry = AuditLogEntry.objects.get(action="status_mapping_set")
    assert entry.changes == {"ordertime_status": "Backordered", "before": None, "after": "on_hold"}


def test_deleting_a_mapping_is_audited(admin_client, offline_store):
    url = reverse("admin:connections_store_change", args=[offline_store.pk])
    response = admin_client.post(url, store_change_data(offline_store, **{"status_mappings-0-DELETE": "on"}))
    assert response.status_code == 302
    assert not offline_store.status_mappings.exists()
    entry = AuditLogEntry.objects.get(action="status_mapping_deleted")
    assert entry.changes["before"] == "shipped"


def test_connect_form_without_verification_creates_a_store_with_default_mappings(admin_client):
    response = admin_client.post(reverse("admin:connections_store_add"), {
        "name": "Fresh", "ordertime_username": "me@example.com", "ordertime_api_key": OT_KEY,
        "ordertime_url": "http://127.0.0.1:9/ot", "shipstation_api_key": SS_KEY, "shipstation_api_secret": SS_SECRET,
        "shipstation_url": "http://127.0.0.1:9", "shipstation_store_id": 7,
    })
    store = Store.objects.get(name="Fresh")
    assert response.status_code == 302 and response.url == reverse("admin:connections_store_change", args=[store.pk])
    assert store.ordertime_account.api_key == OT_KEY
    assert set(store.status_mappings.values_list("ordertime_status", flat=True)) == {"payment pending", "processing", "shipped", "voided"}
    assert AuditLogEntry.objects.filter(action="store_connected", store=store, actor=admin_client.user).exists()


def test_connect_form_refuses_a_duplicate_name(admin_client, offline_store):
    response = admin_client.post(reverse("admin:connections_store_add"), {"name": "Offline"})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
