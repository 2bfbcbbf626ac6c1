"""Rules with one home each (issue 10): the orderKey format, status matching and the buyer's e-mail.

Each rule is one function; these tests pin the rule and that every layer that applies it calls that
function, so the row, the payload and the stored mappings cannot disagree again.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from connections import services as connection_services
from connections.clients import statuses
from ordersync import selectors_dashboard
from ordersync.imports import actions, records
from ordersync.imports.records import OrderChanges
from ordersync.mapping import imports as mapping
from ordersync.mapping.imports import ImportOptions, MappedOrder, buyer_email, map_order, order_key
from ordersync.models import SyncedOrder

from .builders import order_1187, with_bill_to

STORE = ImportOptions(order_key_prefix="acme", shipstation_store_id=12345, status_mapping={"open": "awaiting_shipment"})


def test_the_order_key_is_ordertime_prefix_order_id():
    assert order_key("acme", "48213") == "ordertime-acme-48213"


def test_the_payload_and_the_row_take_the_order_key_from_the_mapping():
    assert records.order_key is mapping.order_key
    result = map_order(order_1187(), STORE)
    assert isinstance(result, MappedOrder)
    assert result.order["orderKey"] == order_key("acme", order_1187().order_id)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("  Payment \t PENDING ", "payment pending"), ("Open", "open"), ("STRASSE", "strasse"), ("", "")],
)
def test_status_texts_are_trimmed_collapsed_and_casefolded(text, expected):
    assert statuses.normalise_status(text) == expected


def test_every_layer_matches_statuses_with_the_one_function():
    rule = statuses.normalise_status
    assert mapping.normalise_status is rule
    assert connection_services.normalise_status is rule
    assert actions.normalise_status is rule
    assert selectors_dashboard.normalise_status is rule


def test_a_stored_mapping_written_differently_still_maps_the_status():
    options = replace(STORE, status_mapping={"  Ready   To SHIP ": "awaiting_shipment"})

    result = map_order(replace(order_1187(), order_status="ready to ship"), options)

    assert isinstance(result, MappedOrder) and result.order["orderStatus"] == "awaiting_shipment"


@pytest.mark.parametrize(
    ("bill_to_email", "customer_code", "expected"),
    [
        ("buyer@example.com", "someone@else.example", "buyer@example.com"),
        ("", "alex.rivera@example.com", "alex.rivera@example.com"),
        ("", "NORTHWIND-CA", ""),
        # The row once kept any customer code with an "@" while the payload did not: now neither does.
        ("", "not an@email", ""),
        ("", "team@localhost", ""),
    ],
)
def test_the_buyer_email_is_the_bill_to_email_else_an_email_customer_code(bill_to_email, customer_code, expected):
    order = replace(with_bill_to(order_1187(), email=bill_to_email), customer_code=customer_code)

    assert buyer_email(order) == expected


@pytest.mark.parametrize("customer_code", ["alex.rivera@example.com", "not an@email", "NORTHWIND-CA"])
def test_the_row_keeps_the_e_mail_that_shipstation_is_sent(customer_code):
    order = replace(with_bill_to(order_1187(), email=""), customer_code=customer_code)
    row = SyncedOrder(pk=1, order_key=order_key("acme", order.order_id))

    OrderChanges(run=None).exported(row, order)
    result = map_order(order, STORE)

    assert isinstance(result, MappedOrder)
    assert row.buyer_email == (result.order["customerEmail"] or "")
