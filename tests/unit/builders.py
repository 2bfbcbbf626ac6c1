"""Order Time orders for mapping tests: the two sample orders of integration doc §5, and variations.

``order_1187()`` and ``order_1190()`` are the §5 export parsed by hand. ``with_ship_to``/``with_item``
change one part of an order so that each test states only what it is about.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from connections.clients.types import OTAddress, OTItem, OTOption, OTOrder


def order_1187() -> OTOrder:
    return OTOrder(
        order_id="48213",
        order_number="1187",
        order_date=datetime(2025, 6, 2, 14, 5, tzinfo=UTC),
        order_status="open",
        last_modified=datetime(2025, 6, 2, 15, 41, tzinfo=UTC),
        shipping_method="UPS Ground",
        payment_method="Credit Card",
        order_total=Decimal("69.57"),
        tax_amount=Decimal("4.62"),
        shipping_amount=Decimal("8.95"),
        customer_notes="Please leave it at the side door & ring twice.",
        internal_notes="Wrap the mug in bubble wrap.",
        gift=True,
        gift_message="Happy birthday, Sam! Love, Alex",
        custom_field1="PO-7731",
        customer_code="alex.rivera@example.com",
        bill_to=OTAddress(name="Alex Rivera", phone="512-555-0142", email="alex.rivera@example.com"),
        ship_to=OTAddress(
            name="Sam Rivera", address1="4801 Duval St", address2="Apt 2B", city="Austin", state="TX",
            postal_code="78751", country="US", phone="512-555-0199",
        ),
        items=(
            OTItem(
                line_item_id="1", sku="TS-ORG-100", name="Organic Cotton T-Shirt",
                image_url="https://images.example.com/ts-org-100.jpg",
                weight=Decimal("6.00"), weight_units="Ounces", quantity=Decimal("2"), quantity_text="2",
                unit_price=Decimal("24.50"), location="A-03-2",
                options=(
                    OTOption(name="Size", value="L", weight=Decimal("0.50")),
                    OTOption(name="Color", value="Forest Green"),
                ),
            ),
            OTItem(
                line_item_id="2", sku="MUG-12", name="Stoneware Mug, 12 oz", weight=Decimal("14.00"),
                weight_units="Ounces", quantity=Decimal("1"), quantity_text="1", unit_price=Decimal("12.00"),
                location="B-11-1",
            ),
            OTItem(
                line_item_id="3", sku="SPRING5", name="Coupon SPRING5 ($5.00 off)", quantity=Decimal("1"),
                quantity_text="1", unit_price=Decimal("-5.00"), adjustment=True,
            ),
        ),
    )


def order_1190() -> OTOrder:
    return OTOrder(
        order_id="48219",
        order_number="1190",
        order_date=datetime(2025, 6, 2, 15, 20, tzinfo=UTC),
        order_status="open",
        last_modified=datetime(2025, 6, 2, 15, 52, tzinfo=UTC),
        shipping_method="FedEx International Economy",
        payment_method="Net 30",
        currency_code="USD",
        order_total=Decimal("310.00"),
        tax_amount=Decimal("0.00"),
        shipping_amount=Decimal("45.00"),
        internal_notes="Commercial invoice: print 2 copies.",
        gift=False,
        customer_code="NORTHWIND-CA",
        bill_to=OTAddress(
            name="Accounts Payable", company="Northwind Outfitters Ltd.", phone="+1 416-555-0100",
            email="ap@northwind.example",
        ),
        ship_to=OTAddress(
            name="Receiving Dock", company="Northwind Outfitters Ltd.", address1="220 King St W",
            address2="Unit 4", city="Toronto", state="ON", postal_code="M5H 1K4", country="CA",
            phone="+1 416-555-0111",
        ),
        items=(
            OTItem(
                line_item_id="1", sku="TENT-2P", name="Backpacking Tent, 2-person", weight=Decimal("2.10"),
                weight_units="Pounds", quantity=Decimal("5"), quantity_text="5", unit_price=Decimal("53.00"),
                location="C-01-4",
            ),
        ),
    )


def with_ship_to(order: OTOrder, **changes) -> OTOrder:
    return replace(order, ship_to=replace(order.ship_to, **changes))


def with_bill_to(order: OTOrder, **changes) -> OTOrder:
    return replace(order, bill_to=replace(order.bill_to, **changes))


def with_item(order: OTOrder, position: int, **changes) -> OTOrder:
    """The order with its item at 1-based ``position`` changed."""
    items = list(order.items)
    items[position - 1] = replace(items[position - 1], **changes)
    return replace(order, items=tuple(items))


def physical_item(**changes) -> OTItem:
    """A plain one-unit line, to build orders with several items."""
    base = OTItem(
        line_item_id="9", sku="SKU-9", name="Thing", weight=Decimal("1.00"), weight_units="Ounces",
        quantity=Decimal("1"), quantity_text="1", unit_price=Decimal("1.00"),
    )
    return replace(base, **changes)
