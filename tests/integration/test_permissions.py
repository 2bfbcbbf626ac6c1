"""Least privilege in the admin: every action, button and page needs its permission, and nothing more.

Each case runs twice: with a staff user who holds every permission but the one needed (the action must not
run), and with one who holds just that one and the view permission the page needs (it must).
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from connections.models import Store
from ordersync.models import NoticeState, OrderState, ShipmentNotice, SyncedOrder

from .test_admin import offline_store, synced_order  # noqa: F401 - offline_store is a fixture

pytestmark = pytest.mark.django_db

ALL_OURS = ("connections", "ordersync")


def staff_client(client, *, grant: set[str] = frozenset(), deny: set[str] = frozenset()):
    """A staff user holding ``grant`` ("app.codename"), or everything of ours except ``deny`` when ``grant`` is empty."""
    user = get_user_model().objects.create_user(f"staff{get_user_model().objects.count()}", password="pw", is_staff=True)
    perms = Permission.objects.filter(content_type__app_label__in=ALL_OURS).select_related("content_type")
    wanted = [p for p in perms if (f"{p.content_type.app_label}.{p.codename}" in grant if grant
                                   else f"{p.content_type.app_label}.{p.codename}" not in deny)]
    user.user_permissions.set(wanted)
    client.force_login(user)
    return client


# (changelist URL name, action, the permission it needs, the service it calls, the model)
ACTIONS = [
    ("admin:ordersync_syncedorder_changelist", "retry", "ordersync.change_syncedorder",
     "ordersync.imports.actions.synced_order_retry", SyncedOrder),
    ("admin:ordersync_syncedorder_changelist", "resend", "ordersync.resend_syncedorder",
     "ordersync.imports.actions.synced_order_resend", SyncedOrder),
    ("admin:ordersync_syncedorder_changelist", "mark_handled", "ordersync.change_syncedorder",
     "ordersync.imports.actions.synced_order_mark_handled", SyncedOrder),
    ("admin:ordersync_shipmentnotice_changelist", "release", "ordersync.change_shipmentnotice",
     "ordersync.shipments.services.notice_release", ShipmentNotice),
    ("admin:ordersync_shipmentnotice_changelist", "retry", "ordersync.change_shipmentnotice",
     "ordersync.shipments.services.notice_retry", ShipmentNotice),
    ("admin:connections_store_changelist", "test_connection", "connections.change_store",
     "connections.admin.store_check_connection", Store),
]


def _object_of(model, store):
    if model is SyncedOrder:
        return synced_order(store, "5001", state=OrderState.REJECTED, needs_attention=True)
    if model is ShipmentNotice:
        return ShipmentNotice.objects.create(store=store, external_id=901, state=NoticeState.HELD)
    return store


def _view_permission(model) -> str:
    return f"{model._meta.app_label}.view_{model._meta.model_name}"


@pytest.mark.parametrize(("url_name", "action", "needed", "service", "model"), ACTIONS,
                         ids=[f"{a[1]}-{a[4].__name__}" for a in ACTIONS])
@pytest.mark.parametrize("granted", [False, True], ids=["without", "with"])
def test_every_bulk_action_needs_its_permission(client, offline_store, monkeypatch,  # noqa: F811
                                                url_name, action, needed, service, model, granted):
    calls = []
    module, name = service.rsplit(".", 1)
    monkeypatch.setattr(f"{module}.{name}", lambda **kwargs: calls.append(kwargs) or _fake_report())
    obj = _object_of(model, offline_store)
    if granted:
        staff_client(client, grant={needed, _view_permission(model)})
    else:
        staff_client(client, deny={needed})

    listing = client.get(reverse(url_name))
    response = client.post(reverse(url_name), {"action": action, "_selected_action": [obj.pk]})

    form = listing.context["action_form"]  # None when the user may run no action at all
    offered = [choice for choice, _label in form.fields["action"].choices] if form else []
    assert (action in offered) is granted
    assert response.status_code in ((302,) if granted else (200, 302))  # 200: the list again, nothing run
    assert len(calls) == (1 if granted else 0)


def _fake_report():
    class Check:
        ok, message = True, "fine"

    class Report:
        ordertime = shipstation = Check()

    return Report()


ORDER_BUTTONS = [
    ("admin:ordersync_syncedorder_retry", "ordersync.change_syncedorder", "synced_order_retry"),
    ("admin:ordersync_syncedorder_resend", "ordersync.resend_syncedorder", "synced_order_resend"),
    ("admin:ordersync_syncedorder_handled", "ordersync.change_syncedorder", "synced_order_mark_handled"),
]


@pytest.mark.parametrize(("url_name", "needed", "service"), ORDER_BUTTONS, ids=[b[2] for b in ORDER_BUTTONS])
def test_order_buttons_answer_403_without_their_permission_and_hide(client, offline_store, monkeypatch,  # noqa: F811
                                                                   url_name, needed, service):
    calls = []
    monkeypatch.setattr(f"ordersync.imports.actions.{service}", lambda **kwargs: calls.append(kwargs))
    order = _object_of(SyncedOrder, offline_store)
    staff_client(client, deny={needed})
    page = client.get(reverse("admin:ordersync_syncedorder_change", args=[order.pk])).content.decode()

    assert client.post(reverse(url_name, args=[order.pk])).status_code == 403
    assert reverse(url_name, args=[order.pk]) not in page
    assert calls == []


def test_a_view_only_user_reads_everything_and_changes_nothing(client, offline_store):  # noqa: F811
    order = _object_of(SyncedOrder, offline_store)
    staff_client(client, grant={"ordersync.view_syncedorder", "connections.view_store"})

    page = client.get(reverse("admin:ordersync_syncedorder_change", args=[order.pk]))
    listing = client.get(reverse("admin:ordersync_syncedorder_changelist"))

    assert page.status_code == listing.status_code == 200
    assert "_retry_one" not in listing.content.decode()  # the row's fix button would answer 403
    assert client.get(reverse("ordersync_admin:dashboard")).status_code == 200
    assert client.post(reverse("ordersync_admin:sync_now", args=[offline_store.pk, "import"])).status_code == 403
    assert client.get(reverse("ordersync_admin:status_mappings", args=[offline_store.pk])).status_code == 403
    assert client.post(reverse("admin:connections_store_test_connection", args=[offline_store.pk])).status_code == 403


PAGES = [
    ("ordersync_admin:dashboard", (), "get", "connections.view_store"),
    ("ordersync_admin:runs_progress", (), "get", "connections.view_store"),
    ("ordersync_admin:email_preview", ("store",), "post", "connections.view_store"),
    ("ordersync_admin:status_mappings", ("store",), "get", "connections.change_statusmapping"),
    ("ordersync_admin:pick_list", (), "get", "ordersync.view_syncedorder"),
    ("ordersync_admin:packing_slips", (), "get", "ordersync.view_syncedorder"),
]


@pytest.mark.parametrize(("url_name", "args", "method", "needed"), PAGES, ids=[p[0].split(":")[1] for p in PAGES])
def test_every_custom_page_needs_its_permission(client, offline_store, url_name, args, method, needed):  # noqa: F811
    url = reverse(url_name, args=[offline_store.pk for _ in args])
    staff_client(client, deny={needed})
    assert getattr(client, method)(url).status_code == 403
    staff_client(client, grant={needed})
    assert getattr(client, method)(url).status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "http://evil.example"])
def test_next_never_leads_off_site(client, offline_store, monkeypatch, target):  # noqa: F811
    monkeypatch.setattr("ordersync.imports.actions.synced_order_retry", lambda **kwargs: None)
    order = _object_of(SyncedOrder, offline_store)
    staff_client(client, grant={"ordersync.change_syncedorder", "ordersync.view_syncedorder"})

    response = client.post(reverse("admin:ordersync_syncedorder_retry", args=[order.pk]), {"next": target},
                           HTTP_REFERER=target)
    on_site = client.post(reverse("admin:ordersync_syncedorder_retry", args=[order.pk]),
                          {"next": "/admin/ordersync/syncedorder/"})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:ordersync_syncedorder_change", args=[order.pk])
    assert on_site["Location"] == "/admin/ordersync/syncedorder/"
