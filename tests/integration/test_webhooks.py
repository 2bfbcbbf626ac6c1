"""SHIP_NOTIFY webhooks: subscription, the endpoint's checks, and exactly one notice however labels arrive."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from connections.clients.ordertime import OrderTimeClient
from ordersync.models import NoticeState, RunKind, ShipmentNotice, SyncRun
from ordersync.shipments.services import store_update_shipments
from ordersync.shipments.webhooks import store_webhook_subscribe, store_webhooks_list, webhook_target_url
from tests.integration.test_shipment_updates import accepted_notices, import_order, label

pytestmark = pytest.mark.django_db


@pytest.fixture
def webhook_settings(settings):
    settings.PUBLIC_BASE_URL = "https://ordersync.example.com"
    settings.ORDERSYNC_WEBHOOK_ALLOW_HTTP = True  # the simulator serves plain http on loopback
    return settings


@pytest.fixture
def subscribed(store, shipstation_sim, webhook_settings):
    store_webhook_subscribe(store=store)
    store.refresh_from_db()
    return store


def post_hook(store, payload: dict, *, secret: str | None = None, store_id: int | None = None):
    path = f"/hooks/shipstation/{store_id or store.pk}/?s={store.webhook_secret if secret is None else secret}"
    return Client().post(path, data=payload, content_type="application/json")


def deliveries(shipstation_sim, count: int) -> list[dict]:
    return [d["payload"] for d in shipstation_sim.wait_for_deliveries(count)]


def test_subscribe_list_remove(store, shipstation_sim, webhook_settings):
    webhook_id = store_webhook_subscribe(store=store)
    assert store_webhook_subscribe(store=store) == webhook_id  # idempotent: no second subscription

    (hook,) = store_webhooks_list(store=store)
    assert hook.webhook_id == webhook_id and hook.hook_type == "SHIP_NOTIFY"
    assert hook.url == webhook_target_url(store)
    assert hook.url.startswith(f"https://ordersync.example.com/hooks/shipstation/{store.pk}/?s=")
    assert shipstation_sim.webhooks[webhook_id]["StoreID"] == store.shipstation_store_id

    call_command("shipstation_webhook", "remove", "--store", store.name)
    assert shipstation_sim.webhooks == {}
    store.refresh_from_db()
    assert store.webhook_id is None


def test_webhook_sends_the_notice(subscribed, ordertime_sim, shipstation_sim, django_capture_on_commit_callbacks):
    order = import_order(subscribed, ordertime_sim)
    shipment = label(shipstation_sim, order)
    (payload,) = deliveries(shipstation_sim, 1)
    assert payload["resource_type"] == "SHIP_NOTIFY"

    with django_capture_on_commit_callbacks(execute=True):
        response = post_hook(subscribed, payload)

    assert response.status_code == 202
    (received,) = accepted_notices(ordertime_sim)
    assert received["query"]["tracking_number"] == shipment["trackingNumber"]
    assert received["notice"]["Items"][0]["LineItemID"] == "1"  # fetched with includeShipmentItems=true
    assert SyncRun.objects.filter(kind=RunKind.UPDATE, trigger="webhook", status="succeeded").count() == 1


def test_duplicate_webhook_sends_once(subscribed, ordertime_sim, shipstation_sim, django_capture_on_commit_callbacks):
    order = import_order(subscribed, ordertime_sim)
    label(shipstation_sim, order)
    (payload,) = deliveries(shipstation_sim, 1)

    with django_capture_on_commit_callbacks(execute=True):
        assert post_hook(subscribed, payload).status_code == 202
        assert post_hook(subscribed, payload).status_code == 202

    assert len(accepted_notices(ordertime_sim)) == 1
    assert ShipmentNotice.objects.get().state == NoticeState.SENT


def test_webhook_then_poll_send_once(subscribed, ordertime_sim, shipstation_sim, django_capture_on_commit_callbacks):
    order = import_order(subscribed, ordertime_sim)
    label(shipstation_sim, order)
    (payload,) = deliveries(shipstation_sim, 1)
    with django_capture_on_commit_callbacks(execute=True):
        post_hook(subscribed, payload)
    store_update_shipments(store=subscribed)
    assert len(accepted_notices(ordertime_sim)) == 1


def test_poll_while_the_webhook_send_is_in_flight(subscribed, ordertime_sim, shipstation_sim, monkeypatch,
                                                   django_capture_on_commit_callbacks):
    """The race: the poll reads the label while the webhook's call to Order Time is still waiting for an answer."""
    order = import_order(subscribed, ordertime_sim)
    label(shipstation_sim, order)
    (payload,) = deliveries(shipstation_sim, 1)
    real_send = OrderTimeClient.send_ship_notice
    polls = []

    def send_while_polling(client, notice):
        if not polls:
            polls.append(store_update_shipments(store=subscribed))
        return real_send(client, notice)

    monkeypatch.setattr(OrderTimeClient, "send_ship_notice", send_while_polling)
    with django_capture_on_commit_callbacks(execute=True):
        post_hook(subscribed, payload)

    assert polls[0].counts[NoticeState.SENDING] == 1  # the poll saw it in flight and left it alone
    assert len(accepted_notices(ordertime_sim)) == 1
    assert ShipmentNotice.objects.get().state == NoticeState.SENT


def test_foreign_resource_host_is_never_fetched(subscribed, shipstation_sim, django_capture_on_commit_callbacks):
    before = shipstation_sim.stats.requests
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_hook(subscribed, {"resource_url": "https://evil.example.com/shipments?batchId=1",
                                          "resource_type": "SHIP_NOTIFY"})
    assert response.status_code == 202 and callbacks == []
    assert shipstation_sim.stats.requests == before
    assert not SyncRun.objects.filter(trigger="webhook").exists()


def test_http_resource_is_refused_outside_development(subscribed, shipstation_sim, settings,
                                                       django_capture_on_commit_callbacks):
    settings.ORDERSYNC_WEBHOOK_ALLOW_HTTP = False
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_hook(subscribed, {"resource_url": f"{shipstation_sim.url}/shipments?batchId=1",
                                          "resource_type": "SHIP_NOTIFY"})
    assert response.status_code == 202 and callbacks == []


def test_wrong_secret_wrong_store_and_other_events(subscribed, django_capture_on_commit_callbacks):
    body = {"resource_url": "https://ssapi6.shipstation.com/shipments?batchId=1", "resource_type": "SHIP_NOTIFY"}
    assert post_hook(subscribed, body, secret="guess").status_code == 403
    assert post_hook(subscribed, body, secret="").status_code == 403
    assert post_hook(subscribed, body, store_id=subscribed.pk + 100).status_code == 404
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_hook(subscribed, {**body, "resource_type": "ORDER_NOTIFY"})
    assert response.status_code == 202 and callbacks == []
    assert Client().get(f"/hooks/shipstation/{subscribed.pk}/?s={subscribed.webhook_secret}").status_code == 405


@pytest.mark.skipif("sqlite" in __import__("django.conf").conf.settings.DATABASES["default"]["ENGINE"],
                    reason="row locks need PostgreSQL; SQLite serialises writers differently")
@pytest.mark.django_db(transaction=True)
def test_webhook_and_poll_threads_race_send_once(store, ordertime_sim, shipstation_sim):
    import threading
    from collections import Counter

    from django.db import connection

    from connections.clients_for_store import shipstation_client_for
    from ordersync.shipments.services import label_process

    order = import_order(store, ordertime_sim)
    label(shipstation_sim, order)
    (shipment,) = list(shipstation_client_for(store).iter_shipments(store_id=store.shipstation_store_id))
    ordertime_sim.faults.update(latency_rate=1.0, latency_seconds=0.3)  # keep the first send in flight
    start = threading.Barrier(4)
    failures = []

    def reader():
        try:
            start.wait()
            label_process(store=store, label=shipment, counts=Counter())
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert len(ordertime_sim.notices()) == 1
    assert ShipmentNotice.objects.get().state == NoticeState.SENT
