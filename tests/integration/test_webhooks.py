"""SHIP_NOTIFY webhooks: subscription, the endpoint's checks, and exactly one notice however labels arrive.

Also the hostile-input side (issue 12 §5): bodies that are malformed, oversized or nested deep, replays,
rotating the secret, access logs without it, and a resource fetch that never follows a redirect.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from connections.clients.ordertime import OrderTimeClient
from ordersync.models import NoticeState, RunKind, ShipmentNotice, SyncRun
from ordersync.shipments.services import store_update_shipments
from ordersync.shipments.subscriptions import store_webhook_subscribe, store_webhooks_list, webhook_target_url
from tests.integration.test_shipment_updates import accepted_notices, import_order, label

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_replay_window():
    """The replay window lives in the cache: a test must not inherit another test's sightings."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


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


# ---------------------------------------------------------------------- hostile bodies (issue 12 §5)


def post_raw(store, body: bytes, **extra):
    return Client(raise_request_exception=False).post(
        f"/hooks/shipstation/{store.pk}/?s={store.webhook_secret}", data=body, content_type="application/json", **extra)


DEEP = 20_000  # far past the parser's recursion limit, well inside the size cap


@pytest.mark.parametrize("body", [
    pytest.param(b"", id="empty"),
    pytest.param(b"{", id="truncated"),
    pytest.param(b"\xff\xfe\x00{", id="not-utf8"),
    pytest.param(b"[]", id="array"),
    pytest.param(b'"SHIP_NOTIFY"', id="string"),
    pytest.param(b"[" * DEEP + b"]" * DEEP, id="deep-array"),
    pytest.param(b'{"a":' * 5000 + b"1" + b"}" * 5000, id="deep-object"),
    pytest.param(b'{"resource_type": ["SHIP_NOTIFY"], "resource_url": "https://ssapi6.shipstation.com/shipments"}',
                 id="type-not-a-string"),
    # Parses, but turning the value into text would recurse past the limit.
    pytest.param(b'{"resource_type": "SHIP_NOTIFY", "resource_url": ' + b"[" * 900 + b"]" * 900 + b"}",
                 id="url-nested-list"),
])
def test_hostile_bodies_get_a_400(subscribed, body, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_raw(subscribed, body)
    assert response.status_code == 400
    assert callbacks == []
    assert "detail" in response.json()


def test_oversized_body_gets_a_413_before_it_is_read(subscribed, settings, django_capture_on_commit_callbacks):
    settings.ORDERSYNC_WEBHOOK_MAX_BODY_BYTES = 1024
    payload = b'{"resource_type": "SHIP_NOTIFY", "resource_url": "https://ssapi6.shipstation.com/s", "x": "'
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_raw(subscribed, payload + b"a" * 2000 + b'"}')
    assert response.status_code == 413 and callbacks == []


def test_the_read_is_capped_when_the_declared_length_lies(subscribed, settings):
    """A Content-Length under the cap does not let more than the cap be read."""
    from django.test import RequestFactory

    from ordersync.shipments.webhooks import shipstation_webhook

    settings.ORDERSYNC_WEBHOOK_MAX_BODY_BYTES = 1024
    request = RequestFactory().post(f"/hooks/shipstation/{subscribed.pk}/?s={subscribed.webhook_secret}",
                                    data=b'{"x": "' + b"a" * 5000 + b'"}', content_type="application/json")
    request.META["CONTENT_LENGTH"] = "10"  # what the header says; the stream holds 5 KB
    response = shipstation_webhook(request, store_id=subscribed.pk)
    assert response.status_code == 413


def test_a_body_at_the_cap_is_accepted(subscribed, settings, django_capture_on_commit_callbacks):
    body = b'{"resource_type": "ORDER_NOTIFY", "pad": "'
    body += b"a" * (settings.ORDERSYNC_WEBHOOK_MAX_BODY_BYTES - len(body) - 2) + b'"}'
    assert len(body) == settings.ORDERSYNC_WEBHOOK_MAX_BODY_BYTES
    assert post_raw(subscribed, body).status_code == 202


# ---------------------------------------------------------------------- replays


def label_hook(shipstation_sim, batch: int = 1) -> dict:
    return {"resource_type": "SHIP_NOTIFY", "resource_url": f"{shipstation_sim.url}/shipments?batchId={batch}"}


def test_a_replayed_resource_url_is_not_queued_again(subscribed, shipstation_sim, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        first = post_hook(subscribed, label_hook(shipstation_sim))
        replays = [post_hook(subscribed, label_hook(shipstation_sim)) for _ in range(5)]
        other = post_hook(subscribed, label_hook(shipstation_sim, batch=2))
    assert first.status_code == 202 and first.json()["detail"] == "Queued."
    assert {(r.status_code, r.json()["detail"]) for r in replays} == {(202, "Already queued.")}
    assert other.json()["detail"] == "Queued."
    assert len(callbacks) == 2  # batch 1 once, batch 2 once


def test_the_replay_window_is_per_store_and_can_be_turned_off(subscribed, shipstation_sim, settings,
                                                              django_capture_on_commit_callbacks):
    from connections.services import store_connect

    twin = store_connect(name="Twin", ordertime_username="u", ordertime_api_key="k", ordertime_url=subscribed.ordertime_account.endpoint_url,
                         shipstation_api_key="k", shipstation_api_secret="s", shipstation_url=shipstation_sim.url,
                         shipstation_store_id=1, verify=False)
    with django_capture_on_commit_callbacks() as callbacks:
        post_hook(subscribed, label_hook(shipstation_sim))
        post_hook(twin, label_hook(shipstation_sim))
    assert len(callbacks) == 2

    settings.ORDERSYNC_WEBHOOK_REPLAY_SECONDS = 0
    with django_capture_on_commit_callbacks() as callbacks:
        post_hook(subscribed, label_hook(shipstation_sim, batch=3))
        post_hook(subscribed, label_hook(shipstation_sim, batch=3))
    assert len(callbacks) == 2


# ---------------------------------------------------------------------- secret rotation


def test_rotation_renews_the_subscription_and_retires_the_old_secret(subscribed, shipstation_sim):
    from connections.models import AuditLogEntry
    from ordersync.shipments.subscriptions import store_webhook_secret_rotate

    old_secret, old_id = subscribed.webhook_secret, subscribed.webhook_id
    new_id = store_webhook_secret_rotate(store=subscribed)

    subscribed.refresh_from_db()
    assert subscribed.webhook_secret != old_secret and len(subscribed.webhook_secret) >= 40
    assert subscribed.webhook_id == new_id != old_id
    assert list(shipstation_sim.webhooks) == [new_id]  # the old subscription is gone at ShipStation
    assert shipstation_sim.webhooks[new_id]["Url"] == webhook_target_url(subscribed)
    assert post_hook(subscribed, label_hook(shipstation_sim), secret=old_secret).status_code == 403
    assert post_hook(subscribed, label_hook(shipstation_sim)).status_code == 202
    actions = list(AuditLogEntry.objects.filter(store=subscribed).values_list("action", flat=True))
    assert "webhook_secret_rotated" in actions
    rows = str(list(AuditLogEntry.objects.values_list("changes", "object_repr")))
    assert old_secret not in rows and subscribed.webhook_secret not in rows


def test_rotation_without_a_subscription_only_changes_the_secret(store, shipstation_sim, webhook_settings):
    from ordersync.shipments.subscriptions import store_webhook_secret_rotate

    old_secret = store.webhook_secret
    assert store_webhook_secret_rotate(store=store) is None
    store.refresh_from_db()
    assert store.webhook_secret != old_secret and store.webhook_id is None
    assert shipstation_sim.webhooks == {}


def test_rotate_from_the_command_line(subscribed, shipstation_sim):
    from io import StringIO

    old_secret = subscribed.webhook_secret
    out = StringIO()
    call_command("shipstation_webhook", "rotate", "--store", subscribed.name, stdout=out)
    subscribed.refresh_from_db()
    assert subscribed.webhook_secret != old_secret
    assert [hook["Url"] for hook in shipstation_sim.webhooks.values()] == [webhook_target_url(subscribed)]
    assert subscribed.webhook_secret not in out.getvalue() and old_secret not in out.getvalue()
    assert f"/hooks/shipstation/{subscribed.pk}/" in out.getvalue()


@pytest.fixture
def staff(db):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    def make(*codenames):
        user = get_user_model().objects.create_user(f"staff-{len(codenames)}", password="pw", is_staff=True)
        user.user_permissions.set(Permission.objects.filter(content_type__app_label="connections", codename__in=codenames))
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        return client

    return make


def _csrf_token(client, store) -> str:
    from django.urls import reverse

    page = client.get(reverse("admin:connections_store_change", args=[store.pk]))
    assert page.status_code == 200
    return page.cookies["csrftoken"].value if "csrftoken" in page.cookies else client.cookies["csrftoken"].value


def test_rotate_from_the_admin_needs_change_permission_and_csrf(subscribed, shipstation_sim, staff):
    from django.urls import reverse

    url = reverse("ordersync_admin:webhook", args=[subscribed.pk, "rotate"])
    old_secret = subscribed.webhook_secret

    viewer = staff("view_store")
    token = _csrf_token(viewer, subscribed)
    assert 'id="webhook-rotate"' in viewer.get(reverse("admin:connections_store_change", args=[subscribed.pk])).text
    assert viewer.post(url, {"csrfmiddlewaretoken": token}).status_code == 403

    editor = staff("view_store", "change_store")
    assert editor.post(url).status_code == 403  # no CSRF token
    assert editor.get(url).status_code == 405
    subscribed.refresh_from_db()
    assert subscribed.webhook_secret == old_secret

    response = editor.post(url, {"csrfmiddlewaretoken": _csrf_token(editor, subscribed)})
    assert response.status_code == 302
    subscribed.refresh_from_db()
    assert subscribed.webhook_secret != old_secret
    assert [hook["Url"] for hook in shipstation_sim.webhooks.values()] == [webhook_target_url(subscribed)]


# ---------------------------------------------------------------------- logs without the secret


SECRET = "Zq9-very-secret-webhook-token_0123456789abcdefXYZ"


def _gunicorn_logger_class():
    import runpy
    from pathlib import Path

    from django.conf import settings

    return runpy.run_path(str(Path(settings.BASE_DIR) / "gunicorn.conf.py"))["logger_class"]


def _access_line(logger_class, access_log_format: str | None = None) -> str:
    import io
    import logging
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    cfg = Config()
    cfg.set("accesslog", __import__("os").devnull)  # gunicorn writes no access line without a target
    if access_log_format:
        cfg.set("access_log_format", access_log_format)
    logger = logger_class(cfg)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.access_log.addHandler(handler)
    logger.access_log.setLevel(logging.INFO)
    environ = {"REQUEST_METHOD": "POST", "RAW_URI": f"/hooks/shipstation/7/?s={SECRET}", "SERVER_PROTOCOL": "HTTP/1.1",
               "PATH_INFO": "/hooks/shipstation/7/", "QUERY_STRING": f"s={SECRET}", "REMOTE_ADDR": "203.0.113.9"}
    logger.access(SimpleNamespace(status="202 Accepted", sent=24, headers=[]), SimpleNamespace(headers=[]),
                  environ, timedelta(milliseconds=12))
    logger.access_log.removeHandler(handler)
    return stream.getvalue()


def test_gunicorn_access_log_masks_the_secret():
    from gunicorn.glogging import Logger

    assert SECRET in _access_line(Logger)  # what the stock logger writes
    line = _access_line(_gunicorn_logger_class())
    assert SECRET not in line
    assert '"POST /hooks/shipstation/7/?s=[redacted] HTTP/1.1" 202' in line
    custom = _access_line(_gunicorn_logger_class(), '%(r)s %(q)s %(U)s {raw_uri}e {query_string}e')
    assert SECRET not in custom and "/hooks/shipstation/7/" in custom


def test_gunicorn_config_enables_the_masking_logger():
    import runpy
    from pathlib import Path

    from django.conf import settings
    from gunicorn.config import Config

    cfg = Config()
    for name, value in runpy.run_path(str(Path(settings.BASE_DIR) / "gunicorn.conf.py")).items():
        if name in cfg.settings:
            cfg.set(name, value)
    assert cfg.logger_class.__name__ == "WebhookSecretMaskingLogger"
    assert cfg.accesslog == "-"


def _console_handler():
    import logging

    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    return handler


@pytest.mark.parametrize("msg, args", [
    ("Forbidden: %s", (f"/hooks/shipstation/7/?s={SECRET}",)),  # django.request's shape, should a path carry it
    ('"%s" %s %s', (f"POST /hooks/shipstation/7/?a=1&s={SECRET} HTTP/1.1", "403", "20")),  # django.server's shape
    (f"fetch for https://ordersync.example.com/hooks/shipstation/7/?s={SECRET} failed", ()),
])
def test_django_log_lines_mask_the_secret(msg, args):
    import logging

    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, msg, args, None)
    handler = _console_handler()
    assert handler.filter(record)
    line = handler.format(record)
    assert SECRET not in line and "/hooks/shipstation/7/" in line and "[redacted]" in line


def test_other_log_lines_are_left_alone():
    import logging

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "search ?s=%s", ("shoes",), None)
    _console_handler().filter(record)
    assert record.getMessage() == "search ?s=shoes"


def test_refused_webhook_requests_log_no_secret(subscribed, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    secret = subscribed.webhook_secret
    client = Client(raise_request_exception=False)
    assert client.post(f"/hooks/shipstation/{subscribed.pk + 100}/?s={secret}", data={}, content_type="application/json").status_code == 404
    assert client.post(f"/hooks/shipstation/{subscribed.pk}/?s={secret}x", data={}, content_type="application/json").status_code == 403
    assert client.post(f"/hooks/shipstation/{subscribed.pk}/?s={secret}", data=b"[", content_type="application/json").status_code == 400
    assert client.get(f"/hooks/shipstation/{subscribed.pk}/?s={secret}").status_code == 405
    assert {"django.request"} <= {r.name for r in caplog.records}  # the 4xx were logged ...
    assert secret not in caplog.text  # ... without the secret


# ---------------------------------------------------------------------- the resource fetch never follows a redirect


def test_the_resource_fetch_does_not_follow_a_redirect():
    import responses

    from connections.clients.errors import ProtocolError
    from connections.clients.shipstation import ShipStationClient

    resource = "https://ssapi6.shipstation.com/shipments?batchId=1&includeShipmentItems=False"
    client = ShipStationClient("https://ssapi.shipstation.com", "key", "secret", sleep=lambda s: None)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get("https://ssapi6.shipstation.com/shipments", status=302,
                 headers={"Location": "https://evil.example.com/shipments"})
        stolen = mock.get("https://evil.example.com/shipments", json={"shipments": [], "total": 0, "page": 1, "pages": 0})
        with pytest.raises(ProtocolError, match="redirect"):
            list(client.iter_shipments_from_resource(resource))
    assert stolen.call_count == 0


def test_a_redirecting_resource_fails_the_webhook_run(subscribed, shipstation_sim):
    """End to end: the task records a failed run and the poll remains the safety net."""
    import responses

    from ordersync.shipments.services import store_process_webhook_resource

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{shipstation_sim.url}/shipments", status=307, headers={"Location": "https://evil.example.com/steal"})
        stolen = mock.get("https://evil.example.com/steal", json={"shipments": [], "total": 0, "page": 1, "pages": 0})
        run = store_process_webhook_resource(store=subscribed, resource_url=f"{shipstation_sim.url}/shipments?batchId=9")
    assert run.status == "failed" and "redirect" in run.errors[0]
    assert stolen.call_count == 0
