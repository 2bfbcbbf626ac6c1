"""Credentials never reach a stored error, an admin page or a repr; keys Basic auth cannot carry are refused
at entry and, if one is stored anyway (the shell, an old row), fail with a clear reason instead of a 500."""

from __future__ import annotations

import base64
from io import StringIO

import pytest
from django.contrib import messages
from django.core.management import CommandError, call_command
from django.urls import reverse

from connections.clients.http import Transport
from connections.clients_for_store import ordertime_client_for, shipstation_client_for
from connections.forms import OrderTimeAccountForm, ShipStationAccountForm, StoreConnectForm
from connections.models import ShipStationAccount
from connections.redaction import MASK, person_error_text, redact, store_secrets
from ordersync.imports.cycle import store_import_orders
from ordersync.models import RunStatus, SyncRun
from ordersync.shipments.services import store_update_shipments
from tests.conftest import OT_USER, SS_KEY, SS_SECRET

UNSENDABLE = "key-é€-0123456789"  # "é" is Latin-1, "€" is not: requests would raise UnicodeEncodeError


@pytest.fixture
def unsendable_store(store):
    """A store whose stored key cannot be sent, written past the forms as an old row or the shell could."""
    account = store.ordertime_account
    account.api_key = UNSENDABLE
    account.save()
    shipstation = store.shipstation_account
    shipstation.api_secret = UNSENDABLE + "-secret"
    shipstation.save()
    return store


def _all_text(store) -> str:
    store.refresh_from_db()
    runs = SyncRun.objects.filter(store=store)
    return " ".join([store.ordertime_health_message, store.shipstation_health_message,
                     *(str(run.errors) for run in runs)])


@pytest.mark.django_db
def test_an_import_with_an_unsendable_key_fails_with_a_reason_and_no_key(unsendable_store):
    run = store_import_orders(store=unsendable_store)

    assert run.status == RunStatus.FAILED
    assert "cannot be sent" in run.errors[0]
    text = _all_text(unsendable_store)
    assert UNSENDABLE not in text and "€" not in text


@pytest.mark.django_db
def test_a_shipment_update_with_an_unsendable_secret_fails_with_a_reason_and_no_secret(unsendable_store):
    run = store_update_shipments(store=unsendable_store)

    assert run.status == RunStatus.FAILED
    assert "cannot be sent" in " ".join(run.errors)
    assert UNSENDABLE not in _all_text(unsendable_store)


@pytest.mark.django_db
def test_test_connection_with_an_unsendable_key_answers_with_a_message_not_a_500(admin_client, unsendable_store):
    response = admin_client.post(reverse("admin:connections_store_test_connection", args=[unsendable_store.pk]),
                                 follow=True)

    assert response.status_code == 200
    shown = [(m.level, str(m)) for m in response.context["messages"]]
    assert any(level == messages.ERROR and "cannot be sent" in text for level, text in shown), shown
    body = response.content.decode()
    assert UNSENDABLE not in body and "€" not in body


@pytest.mark.django_db
def test_reprs_of_transports_and_clients_hide_the_credentials(store):
    for client in (ordertime_client_for(store), shipstation_client_for(store)):
        shown = repr(client) + repr(client.transport) + repr(client.transport.session.auth)
        assert SS_KEY not in shown and SS_SECRET not in shown
    assert "auth" not in repr(Transport(service="x", base_url="https://x.example", auth=("user", "s3cret-value")))


def test_a_crash_text_is_redacted_in_every_form_the_secret_travels_in():
    secret = "s3cret-value"
    basic = base64.b64encode(f"user@example.com:{secret}".encode()).decode()
    crash = RuntimeError(f"header 'Basic {basic}' for {secret!r}, url ?key=s3cret%2Dvalue")

    text = person_error_text(crash, extra_secrets=[secret, basic])

    assert secret not in text and basic not in text
    assert text == f"RuntimeError: header 'Basic {MASK}' for '{MASK}', url ?key=s3cret%2Dvalue"
    assert redact("s3cret-value%2F", ["s3cret-value/"]) == MASK  # URL-encoded form
    assert redact("short ab", ["ab"]) == "short ab"  # too short to tell from ordinary text


@pytest.mark.django_db
def test_the_stores_secrets_include_its_basic_auth_headers(store):
    found = store_secrets(store)
    assert {SS_KEY, SS_SECRET, store.webhook_secret} <= set(found)
    assert base64.b64encode(f"{OT_USER}:{store.ordertime_account.api_key}".encode()).decode() in found


@pytest.mark.django_db
@pytest.mark.parametrize("value", [UNSENDABLE, "key with space", "key\u00a0nbsp", "zero\u200bwidth"])
def test_a_key_basic_auth_cannot_carry_is_refused_at_entry_with_the_reason(value):
    form = ShipStationAccountForm(data={"label": "x", "api_key": value, "api_secret": "fine-secret",
                                        "base_url": "https://ssapi.shipstation.com"})
    assert not form.is_valid()
    assert list(form.errors) == ["api_key"]
    assert "Copy the key again" in form.errors["api_key"][0]


@pytest.mark.django_db
def test_the_connect_form_and_the_order_time_form_refuse_them_too():
    form = StoreConnectForm(data={"name": "S", "ordertime_username": "a:b@example.com", "ordertime_api_key": UNSENDABLE,
                                  "ordertime_url": "https://services.ordertime.com/api/shipstation",
                                  "shipstation_api_key": "k" * 10, "shipstation_api_secret": "s" * 10,
                                  "shipstation_url": "https://ssapi.shipstation.com", "shipstation_store_id": 1})
    assert not form.is_valid()
    assert {"ordertime_username", "ordertime_api_key"} <= set(form.errors)

    form = OrderTimeAccountForm(data={"username": "jörg@example.com", "api_key": "a-fine-key",
                                      "endpoint_url": "https://services.ordertime.com/api/shipstation"})
    assert form.is_valid(), form.errors  # Latin-1 in a username is what Basic auth sends


@pytest.mark.django_db
def test_connect_store_refuses_an_unsendable_key_before_saving_anything():
    with pytest.raises(CommandError, match="Order Time API key"):
        call_command("connect_store", "--name", "S", "--ordertime-username", OT_USER, "--ordertime-api-key",
                     UNSENDABLE, "--shipstation-api-key", "k" * 10, "--shipstation-api-secret", "s" * 10,
                     "--shipstation-store-id", "1", "--no-verify", stdout=StringIO())
    assert not ShipStationAccount.objects.exists()


@pytest.mark.django_db
def test_the_debug_error_page_of_a_failed_call_shows_no_credential(rf, unsendable_store, settings):
    import sys

    from django.views.debug import technical_500_response

    from connections.clients import errors

    settings.DEBUG = True
    client = ordertime_client_for(unsendable_store)
    try:
        client.check_credentials()
    except errors.CredentialsUnusable:
        page = technical_500_response(rf.get("/"), *sys.exc_info()).content.decode()
    else:
        pytest.fail("an unsendable key must not be sent")
    assert "CredentialsUnusable" in page
    assert UNSENDABLE not in page and "€" not in page and "&#x20ac;" not in page.lower()
