"""The admin through Django's test client: pages render, secrets stay secret, edits are audited, fixes work."""

from __future__ import annotations

from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from connections.models import (
    AuditLogEntry,
    OrderTimeAccount,
    ShipStationAccount,
    StatusMapping,
    Store,
    StoreSettings,
)
from ordersync.mapping.imports import order_key
from ordersync.models import (
    Attempt,
    AttemptKind,
    NoticeState,
    OrderState,
    ShipmentNotice,
    SyncedOrder,
    SyncRun,
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


# --- Orders: the story of one order ----------------------------------------------------------------

def _item(sku, location, quantity=1, *, options=(), image=""):
    return {"lineItemKey": sku, "sku": sku, "name": f"Item {sku}", "imageUrl": image, "quantity": quantity,
            "unitPrice": 10.0, "warehouseLocation": location, "weight": {"value": 4.0, "units": "ounces"},
            "options": [{"name": n, "value": v} for n, v in options]}


def synced_order(store, number, *, state=OrderState.IMPORTED, items=None, **fields) -> SyncedOrder:
    payload = None
    if state == OrderState.IMPORTED:
        payload = {
            "orderNumber": number, "orderKey": order_key(store.order_key_prefix, number), "orderDate": "2026-03-02 09:15:00",
            "orderStatus": "awaiting_shipment", "customerEmail": "sam@example.com",
            "billTo": {"name": "Alex Rivera"}, "shipTo": {"name": "Sam Rivera", "street1": "4801 Duval St",
                                                         "city": "Austin", "state": "TX", "postalCode": "78751", "country": "US"},
            "items": items or [_item("MUG-12", "B-02", 2, options=[("Colour", "Forest Green")],
                                     image="https://images.example.com/mug.jpg"),
                               {"sku": "SPRING10", "name": "Spring coupon", "quantity": 1, "unitPrice": -5.0, "adjustment": True}],
            "amountPaid": 15.0, "taxAmount": 0.0, "shippingAmount": 0.0, "gift": True,
            "giftMessage": "Happy birthday, Sam!", "customerNotes": "Side door please", "internalNotes": "",
            "weight": {"value": 8.0, "units": "ounces"}, "advancedOptions": {"customField3": "Thanks for your order!"},
        }
    return SyncedOrder.objects.create(
        store=store, ordertime_order_id=f"OT{number}", order_number=number, order_key=order_key(store.order_key_prefix, f"OT{number}"),
        state=state, payload=payload, buyer_name="Sam Rivera", buyer_email="sam@example.com", **fields,
    )


def test_order_page_tells_the_whole_story(admin_client, offline_store):
    order = synced_order(offline_store, "1187")
    Attempt.objects.create(synced_order=order, kind=AttemptKind.CREATE_ORDERS, success=False,
                           request={"orders": [{"orderNumber": "1187"}]}, error="ShipStation had a server error (HTTP 503)")
    Attempt.objects.create(synced_order=order, kind=AttemptKind.CREATE_ORDERS, success=True,
                           request={"orders": [{"orderNumber": "1187"}]}, response={"hasErrors": False, "results": [{"orderId": 99}]})
    ShipmentNotice.objects.create(store=offline_store, synced_order=order, external_id=555, state=NoticeState.SENT,
                                  tracking_number="1Z999AA10123456784", carrier_code="ups")
    html = admin_client.get(reverse("admin:ordersync_syncedorder_change", args=[order.pk])).content.decode()
    assert '<img class="thumb" src="https://images.example.com/mug.jpg"' in html
    assert "Colour: Forest Green" in html and "B-02" in html
    assert "Spring coupon" in html and "Happy birthday, Sam!" in html and "Thanks for your order!" in html
    assert "&quot;orderNumber&quot;: &quot;1187&quot;" in html  # the exact payload, pretty-printed
    assert "1Z999AA10123456784" in html
    assert html.count('class="timeline"') == 1 and "ShipStation had a server error (HTTP 503)" in html
    assert html.index("HTTP 503") < html.index("hasErrors")  # oldest attempt first


def test_rejected_order_explains_itself_and_links_to_order_time(admin_client, offline_store):
    order = synced_order(offline_store, "2001", state=OrderState.REJECTED, needs_attention=True, rejection_reasons=[
        {"field": "Customer/ShipTo/Country", "value": "United States", "message": "is not a two-letter country code"},
        {"field": "Items/Item[2]/Quantity", "value": "1.5", "message": "must be a whole number of at least 1"},
    ])
    html = unescape(admin_client.get(reverse("admin:ordersync_syncedorder_change", args=[order.pk])).content.decode())
    assert 'Ship-to country "United States" is not a two-letter country code.' in html
    assert 'Item 2 quantity "1.5" must be a whole number of at least 1.' in html
    assert "Correct the ship-to address of this ship doc in Order Time." in html
    assert 'href="https://app.ordertime.com/"' in html


def test_order_list_filters_and_searches(admin_client, offline_store):
    synced_order(offline_store, "3001", skus="MUG-12 TS-100")
    synced_order(offline_store, "3002", state=OrderState.REJECTED, needs_attention=True)
    url = reverse("admin:ordersync_syncedorder_changelist")
    found = admin_client.get(url, {"q": "TS-100"}).context["cl"].result_list
    assert [o.order_number for o in found] == ["3001"]
    attention = admin_client.get(url, {"attention": "yes"})
    assert [o.order_number for o in attention.context["cl"].result_list] == ["3002"]
    assert reverse("admin:ordersync_syncedorder_retry", args=[attention.context["cl"].result_list[0].pk]) in attention.content.decode()
    assert [o.order_number for o in admin_client.get(url, {"state__exact": "imported"}).context["cl"].result_list] == ["3001"]


def test_history_pages_render_read_only(admin_client, offline_store):
    run = SyncRun.objects.create(store=offline_store, kind="import", status="partial", counts={"imported": 3, "rejected": 1},
                                 errors=[{"message": "Order Time endpoint unreachable"}])
    response = admin_client.get(reverse("admin:ordersync_syncrun_change", args=[run.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Finished with errors" in html and "Order Time endpoint unreachable" in html and 'name="_save"' not in html
    assert admin_client.get(reverse("admin:ordersync_syncrun_add")).status_code == 403
    AuditLogEntry.objects.create(store=offline_store, action="status_mapping_set", object_type="StatusMapping",
                                 object_repr="x", changes={"ordertime_status": "Backordered", "before": None, "after": "on_hold"})
    html = admin_client.get(reverse("admin:connections_auditlogentry_changelist")).content.decode()
    assert "Backordered" in html and "— → on_hold" in html


# --- Test connection against the simulators --------------------------------------------------------


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_test_connection_reports_both_services(admin_client, store):
    url = reverse("admin:connections_store_test_connection", args=[store.pk])
    response = admin_client.post(url, follow=True)
    assert _messages(response) == [
        "Test Store: Order Time accepted the credentials",
        f'Test Store: ShipStation store "{store_name_in_sim(store)}" ({store.shipstation_store_id}) is active',
    ]
    store.refresh_from_db()
    assert store.healthy


def store_name_in_sim(store) -> str:
    from connections.clients_for_store import shipstation_client_for

    return shipstation_client_for(store).check_store(store.shipstation_store_id).store_name


def test_test_connection_names_the_problem(admin_client, store):
    account = store.ordertime_account
    account.api_key = "wrong-key"
    account.save()
    Store.objects.filter(pk=store.pk).update(shipstation_store_id=999999)
    response = admin_client.post(reverse("admin:connections_store_changelist"),
                                 {"action": "test_connection", "_selected_action": [store.pk]}, follow=True)
    assert _messages(response) == [
        "Test Store: Order Time rejected the username or API key",
        "Test Store: ShipStation store 999999 not found in this account",
    ]
    html = admin_client.get(reverse("admin:connections_store_change", args=[store.pk])).content.decode()
    assert "Order Time rejected the username or API key" in html


def test_connect_form_verifies_and_names_a_bad_key(admin_client, ordertime_sim, shipstation_sim):
    form = {
        "name": "Verified", "ordertime_username": "demo@example.com", "ordertime_api_key": "nope",
        "ordertime_url": ordertime_sim.endpoint, "shipstation_api_key": "demo-key", "shipstation_api_secret": "demo-secret",
        "shipstation_url": shipstation_sim.url, "shipstation_store_id": 22766, "verify": "on",
    }
    response = admin_client.post(reverse("admin:connections_store_add"), form)
    assert response.status_code == 200
    assert "Order Time rejected the username or API key" in response.content.decode()
    assert not Store.objects.filter(name="Verified").exists()
    response = admin_client.post(reverse("admin:connections_store_add"), {**form, "ordertime_api_key": "demo-key"})
    assert response.status_code == 302
    assert Store.objects.get(name="Verified").healthy


# --- Dashboard --------------------------------------------------------------------------------------


def test_admin_index_shows_store_health_without_a_click(admin_client, offline_store, django_assert_max_num_queries):
    synced_order(offline_store, "4001", imported_at=timezone.now())
    synced_order(offline_store, "4002", state=OrderState.REJECTED, needs_attention=True)
    synced_order(offline_store, "4003", state=OrderState.HELD, ordertime_status="Backordered")
    SyncRun.objects.create(store=offline_store, kind="import", status="succeeded")
    Store.objects.filter(pk=offline_store.pk).update(ordertime_health="ok", shipstation_health="failed",
                                                     shipstation_health_message="ShipStation rejected the API key or secret")
    response = admin_client.get(reverse("admin:index"))
    html = response.content.decode()
    assert 'id="store-dashboard"' in html and "Offline" in html
    assert "ShipStation rejected the API key or secret" in html
    row = response.context["rows"][0] if "rows" in response.context else None
    assert row is not None
    assert (row.imported_today, row.rejected, row.held, row.needs_attention) == (1, 1, 1, 1)
    assert row.last_import_run.status == "succeeded" and row.last_update_run is None
    assert reverse("ordersync_admin:sync_now", args=[offline_store.pk, "import"]) in html


def test_dashboard_reads_in_a_fixed_number_of_queries(offline_store, django_assert_num_queries):
    from ordersync.selectors_dashboard import store_health_list

    for n in range(3):
        other = Store.objects.create(name=f"S{n}", ordertime_account=offline_store.ordertime_account,
                                     shipstation_account=offline_store.shipstation_account,
                                     shipstation_store_id=n, order_key_prefix=f"s{n}")
        SyncRun.objects.create(store=other, kind="update", status="running")
    with django_assert_num_queries(2):
        rows = store_health_list()
    assert len(rows) == 4


def test_rate_limit_budget_reads_the_limiter(store):
    from connections.clients_for_store import shipstation_client_for
    from ordersync.selectors_dashboard import rate_limit_budget

    assert not rate_limit_budget(store).known
    shipstation_client_for(store).check_store(store.shipstation_store_id)
    budget = rate_limit_budget(store)
    assert budget.known and budget.limit == 10_000 and 0 < budget.used < 10


def test_sync_now_queues_the_update_after_commit_and_shows_progress(admin_client, store, django_capture_on_commit_callbacks):
    url = reverse("ordersync_admin:sync_now", args=[store.pk, "update"])
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = admin_client.post(url, {"next": reverse("ordersync_admin:dashboard")}, follow=True)
    assert len(queued) == 1
    assert "Shipment update queued for Test Store." in _messages(response)
    run = SyncRun.objects.get(store=store, kind="update")
    assert run.trigger == "admin"
    progress = admin_client.get(reverse("ordersync_admin:runs_progress"), {"stores": str(store.pk)}).json()
    assert progress["stores"][str(store.pk)]["update"]["id"] == run.pk
    assert progress["stores"][str(store.pk)]["update"]["status"] == run.status
    assert admin_client.get(url).status_code == 405


# --- Status mapping editor ---------------------------------------------------------------------------


def test_mapping_editor_lists_statuses_with_waiting_orders_and_saving_releases_them(
    admin_client, offline_store, django_capture_on_commit_callbacks,
):
    for number in ("5001", "5002"):
        synced_order(offline_store, number, state=OrderState.HELD, ordertime_status="Backordered")
    synced_order(offline_store, "5003", ordertime_status="shipped")
    url = reverse("ordersync_admin:status_mappings", args=[offline_store.pk])
    response = admin_client.get(url)
    rows = response.context["form"].rows
    assert [(r.ordertime_status, r.mapped_to, r.orders, r.held) for r in rows] == [
        ("Backordered", None, 2, 2), ("shipped", "shipped", 1, 0),
    ]
    released = []
    from connections.signals import status_mapping_saved

    def release(sender, store, ordertime_status, **kwargs):
        released.append(ordertime_status)
        SyncedOrder.objects.filter(store=store, state=OrderState.HELD).update(state=OrderState.IMPORTED)

    status_mapping_saved.connect(release)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(url, {"status_0": "awaiting_shipment", "status_1": "shipped"}, follow=True)
    finally:
        status_mapping_saved.disconnect(release)
    assert _messages(response) == ["1 mapping saved; 2 held orders released."]
    assert released == ["Backordered"]
    assert offline_store.status_mappings.get(ordertime_status="Backordered").shipstation_status == "awaiting_shipment"
    assert AuditLogEntry.objects.filter(action="status_mapping_set", actor=admin_client.user).count() == 1


def test_mapping_editor_adds_a_status_before_it_appears(admin_client, offline_store):
    url = reverse("ordersync_admin:status_mappings", args=[offline_store.pk])
    admin_client.post(url, {"status_0": "shipped", "new-ordertime_status": "Drop ship", "new-shipstation_status": "on_hold"})
    assert offline_store.status_mappings.get(ordertime_status="Drop ship").shipstation_status == "on_hold"


# --- Store settings: preview and webhook ---------------------------------------------------------------


def test_email_preview_follows_unsaved_branding(admin_client, offline_store):
    url = reverse("ordersync_admin:email_preview", args=[offline_store.pk])
    result = admin_client.post(url, {"settings-0-display_name": "Acme Outfitters", "settings-0-accent_color": "#aa0000"}).json()
    assert "Acme Outfitters" in result["html"] and "#aa0000" in result["html"]
    assert StoreSettings.objects.get(store=offline_store).display_name == ""  # nothing saved
    bad = admin_client.post(url, {"settings-0-accent_color": "red"}).json()
    assert "accent_color" in bad["errors"] and "#1f6feb" in bad["html"]


def test_webhook_buttons_subscribe_and_unsubscribe(admin_client, store, settings):
    settings.PUBLIC_BASE_URL = "https://ordersync.example.com"
    admin_client.post(reverse("ordersync_admin:webhook", args=[store.pk, "subscribe"]))
    store.refresh_from_db()
    assert store.webhook_id is not None
    html = admin_client.get(reverse("admin:connections_store_change", args=[store.pk])).content.decode()
    assert 'id="webhook-unsubscribe"' in html
    admin_client.post(reverse("ordersync_admin:webhook", args=[store.pk, "unsubscribe"]))
    store.refresh_from_db()
    assert store.webhook_id is None


# --- Packing slips and pick lists -----------------------------------------------------------------------


def test_packing_slip_shows_items_gift_message_and_notes_in_the_store_branding(admin_client, offline_store):
    StoreSettings.objects.filter(store=offline_store).update(display_name="Acme Outfitters", accent_color="#aa0000")
    order = synced_order(offline_store, "6001")
    html = admin_client.get(reverse("ordersync_admin:packing_slip", args=[order.pk])).content.decode()
    assert "Acme Outfitters" in html and "--accent: #aa0000" in html
    assert 'src="https://images.example.com/mug.jpg"' in html and "Colour: Forest Green" in html and "B-02" in html
    assert "Happy birthday, Sam!" in html and "Thanks for your order!" in html
    assert "Spring coupon" not in html  # nothing to pack


def test_pick_list_for_a_selection_is_sorted_by_location(admin_client, offline_store):
    first = synced_order(offline_store, "7001", items=[_item("B", "C-10", 1), _item("A", "A-01", 2), _item("X", "", 1)])
    second = synced_order(offline_store, "7002", items=[_item("A", "A-01", 3), _item("D", "B-05", 1)])
    response = admin_client.post(reverse("admin:ordersync_syncedorder_changelist"),
                                 {"action": "print_pick_list", "_selected_action": [first.pk, second.pk]})
    assert response.status_code == 302
    page = admin_client.get(response.url)
    lines = page.context["lines"]
    assert [(line.location, line.sku, line.quantity) for line in lines] == [
        ("A-01", "A", 5), ("B-05", "D", 1), ("C-10", "B", 1), ("", "X", 1),
    ]
    assert lines[0].orders == ["7001", "7002"]
    html = page.content.decode()
    assert html.index("A-01") < html.index("B-05") < html.index("C-10")


# --- German ---------------------------------------------------------------------------------------------


def _our_english_msgids() -> list[str]:
    """Our msgids (from the compiled German catalogue) whose German differs: none may show on a German page."""
    import gettext
    from pathlib import Path

    from django.conf import settings

    with open(Path(settings.BASE_DIR) / "locale" / "de" / "LC_MESSAGES" / "django.mo", "rb") as mo:
        catalog = gettext.GNUTranslations(mo)._catalog
    texts = []
    for key, german in catalog.items():
        english = key[0] if isinstance(key, tuple) else key
        # Several words and no placeholder: long enough to never be a false match with data.
        if english and english != german and " " in english and "%(" not in english and "<" not in english:
            texts.append(english)
    return texts


def _visible_text(html: str) -> str:
    import re

    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_german_pages_show_no_english_string_of_ours(admin_client, offline_store):
    imported = synced_order(offline_store, "8001")
    rejected = synced_order(offline_store, "8002", state=OrderState.REJECTED, needs_attention=True, rejection_reasons=[
        {"field": "Customer/ShipTo/Country", "value": "Deutschland", "message": "is not a two-letter country code"}])
    synced_order(offline_store, "8003", state=OrderState.HELD, ordertime_status="Backordered")
    SyncRun.objects.create(store=offline_store, kind="import", status="succeeded", counts={"imported": 1})
    pages = [
        reverse("admin:index"), reverse("ordersync_admin:dashboard"),
        reverse("admin:connections_store_change", args=[offline_store.pk]), reverse("admin:connections_store_add"),
        reverse("ordersync_admin:status_mappings", args=[offline_store.pk]),
        reverse("admin:ordersync_syncedorder_changelist"),
        reverse("admin:ordersync_syncedorder_change", args=[imported.pk]),
        reverse("admin:ordersync_syncedorder_change", args=[rejected.pk]),
        reverse("admin:ordersync_syncrun_changelist"), reverse("admin:ordersync_shipmentnotice_changelist"),
        reverse("admin:connections_auditlogentry_changelist"),
        reverse("ordersync_admin:packing_slip", args=[imported.pk]),
        f"{reverse('ordersync_admin:pick_list')}?ids={imported.pk}",
    ]
    english = _our_english_msgids()
    assert len(english) > 100
    for url in pages:
        response = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="de")
        assert response.status_code == 200, url
        text = _visible_text(response.content.decode())
        leftovers = [msgid for msgid in english if msgid in text]
        assert leftovers == [], f"{url}: {leftovers}"
    index = _visible_text(admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="de").content.decode())
    assert "Letzter Import" in index and "Jetzt importieren" in index
    english_index = _visible_text(admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert "Last import" in english_index


def test_notice_page_and_release_action(admin_client, store):
    notice = ShipmentNotice.objects.create(store=store, external_id=777, state=NoticeState.HELD, tracking_number="9400TEST")
    html = admin_client.get(reverse("admin:ordersync_shipmentnotice_change", args=[notice.pk])).content.decode()
    assert "9400TEST" in html and "Held for release" in html and 'id="timeline"' in html
    response = admin_client.post(reverse("admin:ordersync_shipmentnotice_changelist"),
                                 {"action": "release", "_selected_action": [notice.pk]}, follow=True)
    assert "1 notice released." in _messages(response)
    notice.refresh_from_db()
    assert notice.state != NoticeState.HELD
    assert AuditLogEntry.objects.filter(action="notice_released", actor=admin_client.user).exists()
