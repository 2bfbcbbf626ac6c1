"""Stored credentials go only to the host they were entered for, and never over plain http in production."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse

from connections.clients_for_store import ordertime_client_for, shipstation_client_for
from connections.forms import ShipStationAccountForm, StoreConnectForm
from connections.models import ShipStationAccount
from connections.service_urls import InsecureServiceURL
from ordersync.imports.cycle import store_import_orders
from ordersync.models import RunStatus
from ordersync.shipments.services import store_update_shipments
from tests.conftest import SS_KEY, SS_SECRET

pytestmark = pytest.mark.django_db

EVIL = "https://collector.evil.example"


def _account_form(account, **data):
    return ShipStationAccountForm(instance=account, data={"label": account.label, "api_key": "", "api_secret": "",
                                                          "base_url": account.base_url, **data})


def test_a_new_address_needs_the_credentials_typed_again(store):
    account = store.shipstation_account
    form = _account_form(account, base_url=EVIL)
    assert not form.is_valid()
    assert set(form.errors) == {"api_key", "api_secret"}
    assert "enter this again" in form.errors["api_key"][0]

    form = _account_form(account, base_url=EVIL, api_key="new-key", api_secret="new-secret")
    assert form.is_valid(), form.errors


def test_admin_refuses_to_move_stored_credentials_to_another_host(admin_client, store):
    account = store.shipstation_account
    url = reverse("admin:connections_shipstationaccount_change", args=[account.pk])
    response = admin_client.post(url, {"label": account.label, "api_key": "", "api_secret": "", "base_url": EVIL})
    assert response.status_code == 200  # the form again, with the errors
    account.refresh_from_db()
    assert (account.base_url, account.api_key, account.api_secret) != (EVIL, SS_KEY, SS_SECRET)
    assert account.base_url != EVIL


def test_the_same_address_keeps_the_stored_credentials(store):
    account = store.shipstation_account
    form = _account_form(account, label="Renamed")
    assert form.is_valid(), form.errors
    form.save()
    assert ShipStationAccount.objects.get().api_secret == SS_SECRET


@override_settings(ORDERSYNC_ALLOW_HTTP_SERVICES=False)
def test_plain_http_is_refused_at_entry_without_the_development_setting(store):
    form = _account_form(store.shipstation_account, base_url="http://ssapi.example.com", api_key="k",
                         api_secret="s")
    assert not form.is_valid()
    assert "https://" in form.errors["base_url"][0]

    connect = StoreConnectForm(data={
        "name": "Plain", "ordertime_username": "u", "ordertime_api_key": "k",
        "ordertime_url": "http://ot.example.com/api", "shipstation_api_key": "k", "shipstation_api_secret": "s",
        "shipstation_url": "https://ssapi.shipstation.com", "shipstation_store_id": 1,
    })
    assert not connect.is_valid()
    assert set(connect.errors) == {"ordertime_url"}


@override_settings(ORDERSYNC_ALLOW_HTTP_SERVICES=False)
def test_no_client_is_built_for_a_plain_http_address(store):
    with pytest.raises(InsecureServiceURL):
        shipstation_client_for(store)
    with pytest.raises(InsecureServiceURL):
        ordertime_client_for(store)


@override_settings(ORDERSYNC_ALLOW_HTTP_SERVICES=False)
def test_cycles_stop_with_a_reason_before_any_call(store, ordertime_sim, shipstation_sim):
    ss_before, ot_before = shipstation_sim.stats.requests, len(ordertime_sim.requests_log())

    for run in (store_import_orders(store=store), store_update_shipments(store=store)):
        assert run.status == RunStatus.FAILED
        assert "https://" in run.errors[0] and "ORDERSYNC_ALLOW_HTTP_SERVICES" in run.errors[0]
        assert run.finished_at is not None

    assert (shipstation_sim.stats.requests, len(ordertime_sim.requests_log())) == (ss_before, ot_before)
