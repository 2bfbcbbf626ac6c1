"""Canonical JSON, payload hash, and the exact round trip of an Order Time order through JSON."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from connections.clients.dates import PACIFIC
from connections.clients.types import OTOrder, ParseProblem
from ordersync.mapping.payload import canonical_json, ot_order_from_dict, ot_order_to_dict, payload_hash

from .builders import order_1187, order_1190, with_item


def test_canonical_json_sorts_keys_without_spaces_and_keeps_unicode():
    assert canonical_json({"b": [1, {"z": 1, "a": 2}], "a": "Zürich ✓"}) == '{"a":"Zürich ✓","b":[1,{"a":2,"z":1}]}'


def test_hash_is_sha256_of_the_canonical_json():
    payload = {"b": 1.5, "a": "é"}

    assert payload_hash(payload) == hashlib.sha256('{"a":"é","b":1.5}'.encode()).hexdigest()


def test_hash_ignores_key_order_and_sees_every_value_change():
    first = {"orderKey": "k", "items": [{"sku": "A", "quantity": 1}], "amountPaid": 69.57}
    reordered = {"amountPaid": 69.57, "items": [{"quantity": 1, "sku": "A"}], "orderKey": "k"}
    changed = {"orderKey": "k", "items": [{"sku": "A", "quantity": 2}], "amountPaid": 69.57}

    assert payload_hash(first) == payload_hash(reordered)
    assert payload_hash(first) != payload_hash(changed)


def test_canonical_json_refuses_nan():
    with pytest.raises(ValueError):
        canonical_json({"weight": float("nan")})


@pytest.mark.parametrize("order", [order_1187(), order_1190()], ids=["1187", "1190"])
def test_sample_orders_survive_a_json_round_trip_exactly(order):
    stored = json.loads(json.dumps(ot_order_to_dict(order)))

    assert ot_order_from_dict(stored) == order


def test_decimals_keep_their_written_places():
    order = with_item(order_1187(), 1, weight=Decimal("6.00"), unit_price=Decimal("-0.50"))

    data = ot_order_to_dict(order)
    rebuilt = ot_order_from_dict(json.loads(json.dumps(data)))

    assert data["items"][0]["weight"] == "6.00"
    assert str(rebuilt.items[0].weight) == "6.00"
    assert str(rebuilt.items[0].unit_price) == "-0.50"
    assert str(rebuilt.order_total) == "69.57"


def test_datetimes_are_iso_with_offset_and_come_back_as_the_same_instant():
    # The zone becomes a fixed offset: the same instant. (A wall time in the repeated autumn hour would
    # compare unequal across zones by PEP 495, which is why the client gives UTC datetimes.)
    order = replace(order_1187(), last_modified=datetime(2025, 11, 3, 1, 30, tzinfo=PACIFIC))

    data = ot_order_to_dict(order)
    rebuilt = ot_order_from_dict(data)

    assert data["order_date"] == "2025-06-02T14:05:00+00:00"
    assert data["last_modified"] == "2025-11-03T01:30:00-08:00"
    assert rebuilt.last_modified == order.last_modified
    assert rebuilt.last_modified.utcoffset() == timedelta(hours=-8)


def test_empty_and_absent_values_round_trip():
    order = OTOrder(order_id="1", gift=None, order_date=None, order_total=None,
                    problems=(ParseProblem("OrderTotal", "12,50", "not a decimal"),))

    data = ot_order_to_dict(order)

    assert data["gift"] is None and data["items"] == [] and data["problems"][0]["value"] == "12,50"
    assert ot_order_from_dict(data) == order


def test_options_and_nested_addresses_round_trip_as_their_types():
    rebuilt = ot_order_from_dict(ot_order_to_dict(order_1187()))

    assert isinstance(rebuilt.items, tuple) and isinstance(rebuilt.items[0].options, tuple)
    assert rebuilt.items[0].options[0].weight == Decimal("0.50")
    assert rebuilt.ship_to.city == "Austin"


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        ot_order_to_dict(replace(order_1187(), order_date=datetime(2025, 6, 2, 14, 5)))


def test_other_fixed_offsets_round_trip():
    order = replace(order_1187(), order_date=datetime(2025, 6, 2, 20, 5, tzinfo=timezone(timedelta(hours=6))))

    rebuilt = ot_order_from_dict(ot_order_to_dict(order))

    assert rebuilt.order_date == order.order_date
    assert rebuilt.order_date.astimezone(UTC) == datetime(2025, 6, 2, 14, 5, tzinfo=UTC)
