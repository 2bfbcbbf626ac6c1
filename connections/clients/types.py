"""Typed objects the clients return. Plain frozen dataclasses; money is ``Decimal``; dates are aware.

Order Time values that could not be parsed are not raised on: the order keeps a ``ParseProblem`` per
bad field, so one malformed ship doc never breaks the page it came in, and the mapping turns each
problem into a rejection reason that names the field and the value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

# ---------------------------------------------------------------- Order Time (Custom Store XML)


@dataclass(frozen=True)
class ParseProblem:
    field: str  # XPath-like name, e.g. "Items/Item[2]/Quantity"
    value: str  # the raw text as received
    message: str  # e.g. "not a decimal"


@dataclass(frozen=True)
class OTAddress:
    name: str = ""
    company: str = ""
    address1: str = ""
    address2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class OTOption:
    name: str
    value: str
    weight: Decimal | None = None


@dataclass(frozen=True)
class OTItem:
    line_item_id: str = ""
    sku: str = ""
    name: str = ""
    image_url: str = ""
    weight: Decimal | None = None
    weight_units: str = ""  # as received: "Pounds", "oz", ...
    quantity: Decimal | None = None  # Decimal so that "1.5" survives to be rejected by the mapping
    quantity_text: str = ""
    unit_price: Decimal | None = None
    location: str = ""
    adjustment: bool = False
    upc: str = ""
    options: tuple[OTOption, ...] = ()


@dataclass(frozen=True)
class OTOrder:
    order_id: str
    order_number: str = ""
    order_date: datetime | None = None  # aware, UTC
    order_status: str = ""
    last_modified: datetime | None = None  # aware, UTC
    shipping_method: str = ""
    payment_method: str = ""
    currency_code: str = ""
    order_total: Decimal | None = None
    tax_amount: Decimal | None = None
    shipping_amount: Decimal | None = None
    customer_notes: str = ""
    internal_notes: str = ""
    gift: bool | None = None  # None: element absent
    gift_message: str = ""
    custom_field1: str = ""
    custom_field2: str = ""
    custom_field3: str = ""
    customer_code: str = ""
    bill_to: OTAddress = field(default_factory=OTAddress)
    ship_to: OTAddress = field(default_factory=OTAddress)
    items: tuple[OTItem, ...] = ()
    problems: tuple[ParseProblem, ...] = ()


@dataclass(frozen=True)
class ExportPage:
    page: int
    pages: int
    orders: tuple[OTOrder, ...]


@dataclass(frozen=True)
class ShipNoticeItem:
    sku: str
    name: str
    quantity: int
    line_item_id: str


@dataclass(frozen=True)
class ShipNotice:
    """One ``<ShipNotice>``: what Order Time hears about one label. Field order follows the protocol's sample."""

    order_number: str
    order_id: str
    customer_code: str
    carrier: str
    service: str
    tracking_number: str
    shipping_cost: Decimal
    label_create_date: datetime  # aware; sent as UTC MM/dd/yyyy HH:mm
    ship_date: date  # sent as MM/dd/yyyy
    customer_notes: str = ""
    internal_notes: str = ""
    notes_to_customer: str = ""
    notify_customer: bool = True
    custom_field1: str = ""
    custom_field2: str = ""
    custom_field3: str = ""
    recipient: OTAddress = field(default_factory=OTAddress)
    items: tuple[ShipNoticeItem, ...] = ()


# ---------------------------------------------------------------- ShipStation (API V1 JSON)


@dataclass(frozen=True)
class SSStore:
    store_id: int
    store_name: str
    marketplace_name: str = ""
    active: bool = True


@dataclass(frozen=True)
class OrderResult:
    """One entry of ``createorders`` ``results[]``."""

    order_key: str
    order_number: str
    success: bool
    order_id: int | None = None
    error_message: str = ""


@dataclass(frozen=True)
class CreateOrdersResult:
    has_errors: bool
    results: tuple[OrderResult, ...]

    def by_key(self) -> dict[str, OrderResult]:
        return {r.order_key: r for r in self.results}


@dataclass(frozen=True)
class SSAddress:
    name: str = ""
    company: str = ""
    street1: str = ""
    street2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""
    phone: str = ""


@dataclass(frozen=True)
class ShipmentItem:
    line_item_key: str
    sku: str
    name: str
    quantity: int


@dataclass(frozen=True)
class Shipment:
    """A label bought in ShipStation (``GET /shipments``)."""

    shipment_id: int
    order_id: int | None
    order_key: str
    order_number: str
    create_date: datetime  # aware (Pacific as received)
    ship_date: date | None
    tracking_number: str
    carrier_code: str
    service_code: str
    shipment_cost: Decimal
    insurance_cost: Decimal
    is_return_label: bool
    voided: bool
    void_date: datetime | None
    customer_email: str = ""
    store_id: int | None = None
    # The order ShipStation split this label's order off from (``advancedOptions.parentId``), else None.
    parent_order_id: int | None = None
    ship_to: SSAddress = field(default_factory=SSAddress)
    items: tuple[ShipmentItem, ...] = ()
    custom_field1: str = ""
    custom_field2: str = ""
    custom_field3: str = ""


@dataclass(frozen=True)
class Fulfillment:
    """An order marked shipped without a ShipStation label (``GET /fulfillments``)."""

    fulfillment_id: int
    order_id: int | None
    order_number: str
    create_date: datetime
    ship_date: date | None
    tracking_number: str
    carrier_code: str  # free text on this call: "USPS", "FedEx", "ups" ...
    fulfillment_fee: Decimal
    voided: bool
    void_date: datetime | None = None
    customer_email: str = ""
    ship_to: SSAddress = field(default_factory=SSAddress)


@dataclass(frozen=True)
class CarrierService:
    carrier_code: str
    code: str
    name: str


@dataclass(frozen=True)
class Webhook:
    webhook_id: int
    hook_type: str
    url: str
    name: str = ""
    store_id: int | None = None
    active: bool = True


@dataclass(frozen=True)
class RateLimitState:
    """What the last ``X-Rate-Limit-*`` headers said."""

    limit: int | None
    remaining: int | None
    reset_seconds: float | None
