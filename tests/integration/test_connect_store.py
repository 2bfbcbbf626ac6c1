"""connect_store end to end against both simulators, and secrets at rest."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from connections.models import HealthState, ShipStationAccount, StatusMapping, Store
from tests.conftest import OT_KEY, OT_USER, SS_KEY, SS_SECRET, SS_STORE_ID

REPO = Path(__file__).resolve().parents[2]


def _args(ordertime_sim, shipstation_sim, **overrides) -> list[str]:
    values = {
        "--name": "Acme",
        "--ordertime-username": OT_USER,
        "--ordertime-api-key": OT_KEY,
        "--ordertime-url": ordertime_sim.endpoint,
        "--shipstation-api-key": SS_KEY,
        "--shipstation-api-secret": SS_SECRET,
        "--shipstation-url": shipstation_sim.url,
        "--shipstation-store-id": str(SS_STORE_ID),
    }
    values.update(overrides)
    return [part for pair in values.items() for part in pair]


@pytest.mark.django_db
def test_connect_store_creates_a_verified_store_with_default_and_extra_mappings(ordertime_sim, shipstation_sim):
    out = StringIO()
    call_command("connect_store", *_args(ordertime_sim, shipstation_sim), "--status", "open=awaiting_shipment",
                 "--status", "Voided=on_hold", stdout=out)

    store = Store.objects.get(name="Acme")
    assert "both connections verified" in out.getvalue()
    assert (store.ordertime_health, store.shipstation_health) == (HealthState.OK, HealthState.OK)
    mappings = dict(StatusMapping.objects.filter(store=store).values_list("ordertime_status", "shipstation_status"))
    assert mappings == {
        "payment pending": "awaiting_payment", "processing": "on_hold", "shipped": "shipped",
        "voided": "on_hold", "open": "awaiting_shipment",
    }
    assert store.settings.pk is not None
    assert store.order_key_prefix == "acme"  # what every orderKey of the store carries (mapping.imports.order_key)


@pytest.mark.django_db
def test_running_it_again_updates_the_same_store(ordertime_sim, shipstation_sim):
    call_command("connect_store", *_args(ordertime_sim, shipstation_sim), stdout=StringIO())
    prefix = Store.objects.get(name="Acme").order_key_prefix
    call_command("connect_store", *_args(ordertime_sim, shipstation_sim), "--status", "open=awaiting_shipment", stdout=StringIO())

    assert Store.objects.filter(name="Acme").count() == 1
    assert Store.objects.get(name="Acme").order_key_prefix == prefix
    assert StatusMapping.objects.filter(store__name="Acme", ordertime_status="open").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"--ordertime-api-key": "wrong"}, "Order Time rejected the username or API key"),
        ({"--shipstation-api-secret": "wrong"}, "ShipStation rejected the API key or secret"),
        ({"--shipstation-store-id": "999"}, "ShipStation store 999 not found"),
        ({"--shipstation-store-id": "26001"}, "inactive"),
        ({"--ordertime-url": "http://127.0.0.1:9/api/shipstation"}, "Order Time endpoint unreachable: http://127.0.0.1:9/api/shipstation"),
    ],
)
def test_failed_verification_names_the_problem_and_saves_nothing(ordertime_sim, shipstation_sim, overrides, message):
    with pytest.raises(CommandError, match=message):
        call_command("connect_store", *_args(ordertime_sim, shipstation_sim, **overrides), stdout=StringIO())
    assert not Store.objects.filter(name="Acme").exists()


@pytest.mark.django_db
def test_no_verify_saves_without_calling_either_service(ordertime_sim, shipstation_sim):
    call_command("connect_store", *_args(ordertime_sim, shipstation_sim, **{"--ordertime-api-key": "wrong"}),
                 "--no-verify", stdout=StringIO())
    assert Store.objects.get(name="Acme").ordertime_health == HealthState.UNKNOWN
    assert ordertime_sim.request_counts() == {}


@pytest.mark.django_db
def test_a_malformed_status_option_is_refused(ordertime_sim, shipstation_sim):
    with pytest.raises(CommandError, match="unknown ShipStation status"):
        call_command("connect_store", *_args(ordertime_sim, shipstation_sim), "--status", "open=ready", stdout=StringIO())


@pytest.mark.django_db
def test_database_holds_no_secret_in_plain_text(ordertime_sim, shipstation_sim):
    call_command("connect_store", *_args(ordertime_sim, shipstation_sim), stdout=StringIO())
    dump = StringIO()
    call_command("dumpdata", "connections", stdout=dump)
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key, api_secret FROM connections_shipstationaccount")
        raw_columns = " ".join(str(v) for row in cursor.fetchall() for v in row)
        cursor.execute("SELECT api_key FROM connections_ordertimeaccount")
        raw_columns += " ".join(str(v) for row in cursor.fetchall() for v in row)

    for secret in (OT_KEY, SS_KEY, SS_SECRET):
        assert secret not in dump.getvalue()
        assert secret not in raw_columns
    account = ShipStationAccount.objects.get()
    assert (account.api_key, account.api_secret) == (SS_KEY, SS_SECRET)


def test_the_command_line_exits_non_zero_with_one_line_on_stderr(ordertime_sim, shipstation_sim, tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}", "DJANGO_SETTINGS_MODULE": "tests.settings"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
    result = subprocess.run(
        [sys.executable, "manage.py", "connect_store", *_args(ordertime_sim, shipstation_sim, **{"--ordertime-api-key": "wrong"})],
        cwd=REPO, env=env, capture_output=True, text=True,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == ["CommandError: Order Time rejected the username or API key"]
