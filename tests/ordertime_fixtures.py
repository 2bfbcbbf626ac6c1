"""Sample XML and expected objects for the Order Time tests (no pytest fixtures, no Django).

``SAMPLE_EXPORT_XML`` and ``SAMPLE_NOTICE_XML`` are the bodies of §5 and §7 of
``shared/api/ordertime-shipping-integration.md``, copied verbatim; ``doc_samples()`` re-reads them from
the document when it is checked out next to the repository, so a test can prove the copies are current.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from connections.clients.types import (
    ExportPage,
    OTAddress,
    OTItem,
    OTOption,
    OTOrder,
    ShipNotice,
    ShipNoticeItem,
)

PROTOCOL_DOC = Path(__file__).resolve().parents[2] / "shared" / "api" / "ordertime-shipping-integration.md"

SAMPLE_EXPORT_XML = b"""<?xml version="1.0" encoding="utf-8"?>
<Orders pages="1">
  <Order>
    <OrderID><![CDATA[48213]]></OrderID>
    <OrderNumber><![CDATA[1187]]></OrderNumber>
    <OrderDate>06/02/2025 14:05</OrderDate>
    <OrderStatus><![CDATA[open]]></OrderStatus>
    <LastModified>06/02/2025 15:41</LastModified>
    <ShippingMethod><![CDATA[UPS Ground]]></ShippingMethod>
    <PaymentMethod><![CDATA[Credit Card]]></PaymentMethod>
    <OrderTotal>69.57</OrderTotal>
    <TaxAmount>4.62</TaxAmount>
    <ShippingAmount>8.95</ShippingAmount>
    <CustomerNotes><![CDATA[Please leave it at the side door & ring twice.]]></CustomerNotes>
    <InternalNotes><![CDATA[Wrap the mug in bubble wrap.]]></InternalNotes>
    <Gift>true</Gift>
    <GiftMessage><![CDATA[Happy birthday, Sam! Love, Alex]]></GiftMessage>
    <CustomField1><![CDATA[PO-7731]]></CustomField1>
    <CustomField2></CustomField2>
    <CustomField3></CustomField3>
    <Customer>
      <CustomerCode><![CDATA[alex.rivera@example.com]]></CustomerCode>
      <BillTo>
        <Name><![CDATA[Alex Rivera]]></Name>
        <Company></Company>
        <Phone><![CDATA[512-555-0142]]></Phone>
        <Email><![CDATA[alex.rivera@example.com]]></Email>
      </BillTo>
      <ShipTo>
        <Name><![CDATA[Sam Rivera]]></Name>
        <Company></Company>
        <Address1><![CDATA[4801 Duval St]]></Address1>
        <Address2><![CDATA[Apt 2B]]></Address2>
        <City><![CDATA[Austin]]></City>
        <State><![CDATA[TX]]></State>
        <PostalCode><![CDATA[78751]]></PostalCode>
        <Country><![CDATA[US]]></Country>
        <Phone><![CDATA[512-555-0199]]></Phone>
      </ShipTo>
    </Customer>
    <Items>
      <Item>
        <LineItemID><![CDATA[1]]></LineItemID>
        <SKU><![CDATA[TS-ORG-100]]></SKU>
        <Name><![CDATA[Organic Cotton T-Shirt]]></Name>
        <ImageUrl><![CDATA[https://images.example.com/ts-org-100.jpg]]></ImageUrl>
        <Weight>6.00</Weight>
        <WeightUnits>Ounces</WeightUnits>
        <Quantity>2</Quantity>
        <UnitPrice>24.50</UnitPrice>
        <Location><![CDATA[A-03-2]]></Location>
        <Options>
          <Option>
            <Name><![CDATA[Size]]></Name>
            <Value><![CDATA[L]]></Value>
            <Weight>0.50</Weight>
          </Option>
          <Option>
            <Name><![CDATA[Color]]></Name>
            <Value><![CDATA[Forest Green]]></Value>
          </Option>
        </Options>
      </Item>
      <Item>
        <LineItemID><![CDATA[2]]></LineItemID>
        <SKU><![CDATA[MUG-12]]></SKU>
        <Name><![CDATA[Stoneware Mug, 12 oz]]></Name>
        <Weight>14.00</Weight>
        <WeightUnits>Ounces</WeightUnits>
        <Quantity>1</Quantity>
        <UnitPrice>12.00</UnitPrice>
        <Location><![CDATA[B-11-1]]></Location>
      </Item>
      <Item>
        <LineItemID><![CDATA[3]]></LineItemID>
        <SKU><![CDATA[SPRING5]]></SKU>
        <Name><![CDATA[Coupon SPRING5 ($5.00 off)]]></Name>
        <Quantity>1</Quantity>
        <UnitPrice>-5.00</UnitPrice>
        <Adjustment>true</Adjustment>
      </Item>
    </Items>
  </Order>
  <Order>
    <OrderID><![CDATA[48219]]></OrderID>
    <OrderNumber><![CDATA[1190]]></OrderNumber>
    <OrderDate>06/02/2025 15:20</OrderDate>
    <OrderStatus><![CDATA[open]]></OrderStatus>
    <LastModified>06/02/2025 15:52</LastModified>
    <ShippingMethod><![CDATA[FedEx International Economy]]></ShippingMethod>
    <PaymentMethod><![CDATA[Net 30]]></PaymentMethod>
    <CurrencyCode>USD</CurrencyCode>
    <OrderTotal>310.00</OrderTotal>
    <TaxAmount>0.00</TaxAmount>
    <ShippingAmount>45.00</ShippingAmount>
    <CustomerNotes></CustomerNotes>
    <InternalNotes><![CDATA[Commercial invoice: print 2 copies.]]></InternalNotes>
    <Gift>false</Gift>
    <GiftMessage></GiftMessage>
    <CustomField1></CustomField1>
    <CustomField2></CustomField2>
    <CustomField3></CustomField3>
    <Customer>
      <CustomerCode><![CDATA[NORTHWIND-CA]]></CustomerCode>
      <BillTo>
        <Name><![CDATA[Accounts Payable]]></Name>
        <Company><![CDATA[Northwind Outfitters Ltd.]]></Company>
        <Phone><![CDATA[+1 416-555-0100]]></Phone>
        <Email><![CDATA[ap@northwind.example]]></Email>
      </BillTo>
      <ShipTo>
        <Name><![CDATA[Receiving Dock]]></Name>
        <Company><![CDATA[Northwind Outfitters Ltd.]]></Company>
        <Address1><![CDATA[220 King St W]]></Address1>
        <Address2><![CDATA[Unit 4]]></Address2>
        <City><![CDATA[Toronto]]></City>
        <State><![CDATA[ON]]></State>
        <PostalCode><![CDATA[M5H 1K4]]></PostalCode>
        <Country><![CDATA[CA]]></Country>
        <Phone><![CDATA[+1 416-555-0111]]></Phone>
      </ShipTo>
    </Customer>
    <Items>
      <Item>
        <LineItemID><![CDATA[1]]></LineItemID>
        <SKU><![CDATA[TENT-2P]]></SKU>
        <Name><![CDATA[Backpacking Tent, 2-person]]></Name>
        <Weight>2.10</Weight>
        <WeightUnits>Pounds</WeightUnits>
        <Quantity>5</Quantity>
        <UnitPrice>53.00</UnitPrice>
        <Location><![CDATA[C-01-4]]></Location>
      </Item>
    </Items>
  </Order>
</Orders>
"""

SAMPLE_NOTICE_XML = b"""<?xml version="1.0" encoding="utf-8"?>
<ShipNotice>
  <OrderNumber>1187</OrderNumber>
  <OrderID>48213</OrderID>
  <CustomerCode>alex.rivera@example.com</CustomerCode>
  <CustomerNotes><![CDATA[Please leave it at the side door & ring twice.]]></CustomerNotes>
  <InternalNotes><![CDATA[Wrap the mug in bubble wrap.]]></InternalNotes>
  <NotesToCustomer></NotesToCustomer>
  <NotifyCustomer>false</NotifyCustomer>
  <LabelCreateDate>06/03/2025 16:12</LabelCreateDate>
  <ShipDate>06/03/2025</ShipDate>
  <Carrier>UPS</Carrier>
  <Service>UPS Ground</Service>
  <TrackingNumber>1Z999AA10123456784</TrackingNumber>
  <ShippingCost>11.38</ShippingCost>
  <CustomField1>PO-7731</CustomField1>
  <CustomField2></CustomField2>
  <CustomField3></CustomField3>
  <Recipient>
    <Name>Sam Rivera</Name>
    <Company></Company>
    <Address1>4801 Duval St</Address1>
    <Address2>Apt 2B</Address2>
    <City>Austin</City>
    <State>TX</State>
    <PostalCode>78751</PostalCode>
    <Country>US</Country>
  </Recipient>
  <Items>
    <Item>
      <SKU>TS-ORG-100</SKU>
      <Name>Organic Cotton T-Shirt</Name>
      <Quantity>2</Quantity>
      <LineItemID>1</LineItemID>
    </Item>
    <Item>
      <SKU>MUG-12</SKU>
      <Name>Stoneware Mug, 12 oz</Name>
      <Quantity>1</Quantity>
      <LineItemID>2</LineItemID>
    </Item>
  </Items>
</ShipNotice>
"""


def doc_samples() -> tuple[bytes, bytes] | None:
    """(§5 body, §7 body) as the protocol document has them today; None when it is not checked out."""
    if not PROTOCOL_DOC.exists():
        return None
    export_xml, notice_xml = re.findall(r"```xml\n(.*?)```", PROTOCOL_DOC.read_text("utf-8"), re.S)
    return export_xml.encode("utf-8"), notice_xml.encode("utf-8")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


ORDER_1187 = OTOrder(
    order_id="48213",
    order_number="1187",
    order_date=utc(2025, 6, 2, 14, 5),
    order_status="open",
    last_modified=utc(2025, 6, 2, 15, 41),
    shipping_method="UPS Ground",
    payment_method="Credit Card",
    currency_code="",
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
            image_url="https://images.example.com/ts-org-100.jpg", weight=Decimal("6.00"), weight_units="Ounces",
            quantity=Decimal("2"), quantity_text="2", unit_price=Decimal("24.50"), location="A-03-2",
            options=(OTOption("Size", "L", Decimal("0.50")), OTOption("Color", "Forest Green", None)),
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

ORDER_1190 = OTOrder(
    order_id="48219",
    order_number="1190",
    order_date=utc(2025, 6, 2, 15, 20),
    order_status="open",
    last_modified=utc(2025, 6, 2, 15, 52),
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
        name="Receiving Dock", company="Northwind Outfitters Ltd.", address1="220 King St W", address2="Unit 4",
        city="Toronto", state="ON", postal_code="M5H 1K4", country="CA", phone="+1 416-555-0111",
    ),
    items=(
        OTItem(
            line_item_id="1", sku="TENT-2P", name="Backpacking Tent, 2-person", weight=Decimal("2.10"),
            weight_units="Pounds", quantity=Decimal("5"), quantity_text="5", unit_price=Decimal("53.00"),
            location="C-01-4",
        ),
    ),
)

SAMPLE_EXPORT_PAGE = ExportPage(page=1, pages=1, orders=(ORDER_1187, ORDER_1190))

SAMPLE_NOTICE = ShipNotice(
    order_number="1187",
    order_id="48213",
    customer_code="alex.rivera@example.com",
    carrier="UPS",
    service="UPS Ground",
    tracking_number="1Z999AA10123456784",
    shipping_cost=Decimal("11.38"),
    label_create_date=utc(2025, 6, 3, 16, 12),
    ship_date=date(2025, 6, 3),
    customer_notes="Please leave it at the side door & ring twice.",
    internal_notes="Wrap the mug in bubble wrap.",
    notes_to_customer="",
    notify_customer=False,
    custom_field1="PO-7731",
    recipient=OTAddress(
        name="Sam Rivera", address1="4801 Duval St", address2="Apt 2B", city="Austin", state="TX",
        postal_code="78751", country="US",
    ),
    items=(
        ShipNoticeItem(sku="TS-ORG-100", name="Organic Cotton T-Shirt", quantity=2, line_item_id="1"),
        ShipNoticeItem(sku="MUG-12", name="Stoneware Mug, 12 oz", quantity=1, line_item_id="2"),
    ),
)

SAMPLE_NOTICE_QUERY = {
    "action": "shipnotify",
    "order_number": "1187",
    "carrier": "UPS",
    "service": "UPS Ground",
    "tracking_number": "1Z999AA10123456784",
}


def export_xml(*orders: str, pages: str | None = "1", declaration: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    """An export body around ``<Order>`` fragments; ``pages=None`` leaves the attribute out."""
    pages_attribute = f' pages="{pages}"' if pages is not None else ""
    return f'{declaration}\n<Orders{pages_attribute}>{"".join(orders)}</Orders>'.encode()


def order_xml(order_id: str = "1", *, extra: str = "", items: str = "") -> str:
    """A minimal ``<Order>`` with ``extra`` elements and ``items`` (``<Item>`` fragments) inside."""
    return (
        f"<Order><OrderID>{order_id}</OrderID><OrderNumber>{order_id}</OrderNumber>"
        f"<OrderDate>06/02/2025 14:05</OrderDate><LastModified>06/02/2025 15:41</LastModified>"
        f"{extra}<Items>{items}</Items></Order>"
    )


def item_xml(*, quantity: str = "1", extra: str = "") -> str:
    return f"<Item><SKU>SKU-1</SKU><Name>Thing</Name><Quantity>{quantity}</Quantity><UnitPrice>1.00</UnitPrice>{extra}</Item>"
