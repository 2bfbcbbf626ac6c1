"""Order Time ship doc → ShipStation order (``createorders`` JSON), direction 1 of field-mapping.md.

``map_order`` returns one of three outcomes:

- ``Rejected``: the order breaks at least one rule. Validation always runs to the end and collects
  every reason, each naming the field (XPath as in the export) and the value, so a merchant fixes the
  ship doc once rather than once per fault.
- ``Held``: the order is valid but its Order Time status has no mapping yet. Validation comes first on
  purpose: a held order is released automatically when the mapping is saved, so it must already be
  sendable then; a rejected order needs a person to fix the ship doc whatever the status.
- ``MappedOrder``: the ShipStation order dict and the notes to log on the order (normalised addresses,
  dropped image URLs, a totals mismatch).

Decisions beyond the table:

- Money and weights are JSON numbers: ``float`` of the ``Decimal`` rounded half-up to 2 places. Two
  decimal places survive the float round trip exactly in their shortest repr, so the dict is
  ``json.dumps``-able as is and the payload hash is stable.
- An absent ``TaxAmount`` or ``ShippingAmount`` is sent as 0 (nothing charged); an absent
  ``OrderTotal`` is a rejection because ``amountPaid`` cannot be known.
- Adjustment lines carry no ``weight`` key; physical lines without any weight carry none either. The
  order weight is always sent, 0 when no line has a weight.
- A ``Quantity`` written with a decimal point (``2.0``) is fractional, as integration doc §4.6 says.
- An empty ``OrderStatus`` is a rejection (the protocol requires it), not a hold.
- Fields that already have a ``ParseProblem`` get only that reason, not a second "missing" one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlsplit

from connections.clients.dates import format_shipstation
from connections.clients.statuses import normalise_status
from connections.clients.types import OTItem, OTOrder

from . import addresses

ORDER_SOURCE = "Order Time"
ORDER_NUMBER_MAX_LENGTH = 50
AWAITING_PAYMENT = "awaiting_payment"
CENT = Decimal("0.01")

# §4.4 [Us]: the spellings the XSD lets through, mapped case-insensitively onto ShipStation's units.
WEIGHT_UNITS = {
    "pound": "pounds", "pounds": "pounds", "lb": "pounds", "lbs": "pounds",
    "oz": "ounces", "ounce": "ounces", "ounces": "ounces",
    "gram": "grams", "grams": "grams", "gm": "grams",
}
GRAMS_PER_UNIT = {"pounds": Decimal("453.59237"), "ounces": Decimal("28.349523125"), "grams": Decimal(1)}

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class ImportOptions:
    """The store's settings, as plain values."""

    order_key_prefix: str
    shipstation_store_id: int
    status_mapping: Mapping[str, str]  # normalise_status(Order Time status) -> ShipStation status
    weight_unit: str = "ounces"  # unit of the total order weight: pounds|ounces|grams
    import_images: bool = True
    import_options: bool = True
    import_locations: bool = True
    normalize_addresses: bool = False
    shipping_method_mapping: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    include_store_id: bool = True  # storeId is creation-only: False for updates of known orders

    def __post_init__(self) -> None:
        # A bad store setting is a configuration error, not a fault of the order: fail loudly.
        if self.weight_unit not in GRAMS_PER_UNIT:
            raise ValueError(f"weight_unit must be one of {sorted(GRAMS_PER_UNIT)}, not {self.weight_unit!r}")


@dataclass(frozen=True)
class Reason:
    field: str  # XPath-like, as in the export: "Customer/ShipTo/Country", "Items/Item[2]/Quantity"
    value: str  # the value as received
    message: str  # completes the sentence "<field> "<value>" ...": e.g. "is missing"

    def __str__(self) -> str:
        label = field_label(self.field)
        if self.value:
            return f'{label} "{self.value}" {self.message}.'
        return f"{label} {self.message}."


@dataclass(frozen=True)
class MappedOrder:
    order: dict
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rejected:
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Held:
    status: str  # the Order Time status that has no mapping


def order_key(prefix: str, ordertime_order_id: str) -> str:
    """The ShipStation orderKey of a ship doc: fixed for ever, ShipStation upserts by it (the one home of the format)."""
    return f"ordertime-{prefix}-{ordertime_order_id}"


# ---------------------------------------------------------------- field labels for merchants

_WORD_OVERRIDES = {
    "Address1": "street", "Address2": "street line 2", "ImageUrl": "image URL", "SKU": "SKU",
    "LineItemID": "line item ID", "OrderID": "order ID", "UPC": "UPC",
}
_SECTION_PREFIXES = (("Customer/ShipTo/", "ship-to "), ("Customer/BillTo/", "bill-to "), ("Customer/", ""))
_ITEM_PATH = re.compile(r"^Items/Item\[(?P<item>\d+)\](?:/Options/Option\[(?P<option>\d+)\])?/(?P<rest>.+)$")


def _words(element: str) -> str:
    if element in _WORD_OVERRIDES:
        return _WORD_OVERRIDES[element]
    return re.sub(r"(?<=[a-z])(?=[A-Z0-9])", " ", element).lower()


def field_label(path: str) -> str:
    """A merchant-readable name for an export XPath: "Customer/ShipTo/Country" → "Ship-to country"."""
    if path == "Items":
        return "The order"
    match = _ITEM_PATH.match(path)
    if match:
        label = f"item {match['item']}"
        if match["option"]:
            label += f" option {match['option']}"
        label += f" {_words(match['rest'])}"
    else:
        label = path
        for prefix, words in _SECTION_PREFIXES:
            if path.startswith(prefix):
                label = words + _words(path[len(prefix):])
                break
        else:
            label = _words(path)
    return label[:1].upper() + label[1:]


# ---------------------------------------------------------------- small conversions


def _money(amount: Decimal) -> float:
    return float(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def _text(value: Decimal | None, raw: str = "") -> str:
    return raw or ("" if value is None else str(value))


def _item_path(position: int, element: str) -> str:
    return f"Items/Item[{position}]/{element}"


def weight_unit(text: str) -> str | None:
    """ShipStation's unit for an Order Time ``WeightUnits`` text, or None when it is not one we know."""
    return WEIGHT_UNITS.get(text.strip().casefold())


def convert_weight(value: Decimal, from_unit: str, to_unit: str) -> Decimal:
    if from_unit == to_unit:
        return value
    return value * GRAMS_PER_UNIT[from_unit] / GRAMS_PER_UNIT[to_unit]


def _unit_weight(item: OTItem) -> Decimal | None:
    """Weight of one unit: the item's own weight plus every option's weight, None when none is given."""
    parts = [item.weight] + [option.weight for option in item.options]
    known = [part for part in parts if part is not None]
    return sum(known, Decimal(0)) if known else None


def _is_whole_positive(quantity: Decimal) -> bool:
    # "2.0" has a negative exponent: §4.6 treats it as not an integer.
    return quantity >= 1 and quantity == quantity.to_integral_value() and quantity.as_tuple().exponent >= 0


def _image_url_allowed(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


# ---------------------------------------------------------------- the mapping


class _Collector:
    """Reasons and notes found while mapping one order."""

    def __init__(self, problem_fields: set[str]):
        self.reasons: list[Reason] = []
        self.notes: list[str] = []
        self._problem_fields = problem_fields

    def reject(self, path: str, value: str, message: str) -> None:
        # A field the parser could not read already has its reason; a second one would only confuse.
        if path not in self._problem_fields:
            self.reasons.append(Reason(path, value, message))

    def require(self, path: str, value: str) -> None:
        if not value.strip():
            self.reject(path, "", "is missing")


def map_order(order: OTOrder, options: ImportOptions) -> MappedOrder | Rejected | Held:
    found = _Collector({problem.field for problem in order.problems})
    found.reasons.extend(Reason(p.field, p.value, f"could not be read ({p.message})") for p in order.problems)

    _check_order_fields(order, found)
    ship_to = _map_ship_to(order, options, found)
    items = [_map_item(position, item, options, found) for position, item in enumerate(order.items, 1)
             if not _left_out(position, item, found)]
    _check_has_physical_items(order, found)
    total_weight = _total_weight(order, options.weight_unit)

    if found.reasons:
        return Rejected(tuple(found.reasons))
    mapped_status = {normalise_status(k): v for k, v in options.status_mapping.items()}.get(
        normalise_status(order.order_status)
    )
    if mapped_status is None:
        return Held(order.order_status)

    _note_totals_mismatch(order, found)
    document = {
        "orderNumber": order.order_number,
        "orderKey": order_key(options.order_key_prefix, order.order_id),
        "orderDate": format_shipstation(order.order_date),
        "orderStatus": mapped_status,
        "customerUsername": order.customer_code,
        "customerEmail": buyer_email(order) or None,
        "billTo": {
            "name": order.bill_to.name or order.ship_to.name,
            "company": order.bill_to.company,
            "phone": order.bill_to.phone,
        },
        "shipTo": ship_to,
        "items": items,
        "amountPaid": 0.0 if mapped_status == AWAITING_PAYMENT else _money(order.order_total),
        "taxAmount": _money(order.tax_amount or Decimal(0)),
        "shippingAmount": _money(order.shipping_amount or Decimal(0)),
        "customerNotes": order.customer_notes,
        "internalNotes": order.internal_notes,
        "gift": order.gift if order.gift is not None else bool(order.gift_message.strip()),
        "giftMessage": order.gift_message,
        "paymentMethod": order.payment_method,
        "requestedShippingService": order.shipping_method,
        **_carrier_and_service(order.shipping_method, options.shipping_method_mapping),
        "weight": {"value": _money(total_weight), "units": options.weight_unit},
        "advancedOptions": _advanced_options(order, options),
    }
    return MappedOrder(document, tuple(found.notes))


def _check_order_fields(order: OTOrder, found: _Collector) -> None:
    found.require("OrderNumber", order.order_number)
    if len(order.order_number) > ORDER_NUMBER_MAX_LENGTH:
        found.reject(
            "OrderNumber", order.order_number,
            f"is {len(order.order_number)} characters long; ShipStation accepts at most {ORDER_NUMBER_MAX_LENGTH}",
        )
    if order.order_date is None:
        found.reject("OrderDate", "", "is missing")
    found.require("OrderStatus", order.order_status)
    if order.order_total is None:
        found.reject("OrderTotal", "", "is missing")


def _map_ship_to(order: OTOrder, options: ImportOptions, found: _Collector) -> dict:
    address = order.ship_to
    for element, value in (("Name", address.name), ("Address1", address.address1), ("City", address.city)):
        found.require(f"Customer/ShipTo/{element}", value)
    country = _checked_country(address.country, options, found)
    state = _checked_state(country, address.state, options, found) if country else address.state
    if country and addresses.postal_code_required(country):
        found.require("Customer/ShipTo/PostalCode", address.postal_code)
    return {
        "name": address.name,
        "company": address.company,
        "street1": address.address1,
        "street2": address.address2,
        "city": address.city,
        "state": state,
        "postalCode": address.postal_code,
        "country": country or address.country,
        "phone": address.phone,
    }


def _checked_country(raw: str, options: ImportOptions, found: _Collector) -> str | None:
    """The ship-to country code to send, or None after recording why there is none."""
    path = "Customer/ShipTo/Country"
    if addresses.is_country_code(raw):
        return raw
    if not raw.strip():
        found.reject(path, "", "is missing")
        return None
    meant = addresses.country_code_for(raw)
    if meant and options.normalize_addresses:
        found.notes.append(f'Ship-to country "{raw}" normalised to "{meant}".')
        return meant
    found.reject(path, raw, f'is not a two-letter ISO country code (e.g. "{meant or "US"}")')
    return None


def _checked_state(country: str, raw: str, options: ImportOptions, found: _Collector) -> str:
    path = "Customer/ShipTo/State"
    if not raw.strip():
        if addresses.state_required(country):
            found.reject(path, "", f"is missing; addresses in {country} need a state or province code")
        return raw
    if not addresses.has_state_codes(country) or addresses.is_state_code(country, raw):
        return raw
    meant = addresses.state_code_for(country, raw)
    if meant and options.normalize_addresses:
        found.notes.append(f'Ship-to state "{raw}" normalised to "{meant}".')
        return meant
    example = meant or addresses.example_state_code(country)
    found.reject(path, raw, f'is not a state or province code of {country} (e.g. "{example}")')
    return raw


def _map_item(position: int, item: OTItem, options: ImportOptions, found: _Collector) -> dict:
    mapped: dict = {"lineItemKey": item.line_item_id or str(position), "sku": item.sku}

    name = item.name or item.sku
    if not name.strip():
        found.reject(_item_path(position, "Name"), "", "is missing and the line has no SKU to use instead")
    mapped["name"] = name

    if options.import_images and item.image_url:
        if _image_url_allowed(item.image_url):
            mapped["imageUrl"] = item.image_url
        else:
            found.notes.append(
                f'Item {position} image URL "{item.image_url}" dropped: only http and https URLs are imported.'
            )

    if not item.adjustment:
        weight = _unit_weight(item)
        units = _checked_weight_units(position, item, found)
        if weight is not None and units:
            mapped["weight"] = {"value": _money(weight), "units": units}

    quantity_path = _item_path(position, "Quantity")
    mapped["quantity"] = 0  # only seen when the order is rejected
    if item.quantity is None:
        found.reject(quantity_path, "", "is missing")
    elif not _is_whole_positive(item.quantity):
        found.reject(quantity_path, _text(item.quantity, item.quantity_text), "is not a whole number of at least 1")
    else:
        mapped["quantity"] = int(item.quantity)

    price_path = _item_path(position, "UnitPrice")
    if item.unit_price is None:
        found.reject(price_path, "", "is missing")
    elif item.adjustment and item.unit_price >= 0:
        found.reject(price_path, str(item.unit_price), "must be negative on an adjustment (coupon or discount) line")
    mapped["unitPrice"] = _money(item.unit_price) if item.unit_price is not None else 0.0

    if options.import_locations:
        mapped["warehouseLocation"] = item.location
    # Options still add their weight when they are not imported (above): the parcel weighs the same.
    mapped["options"] = (
        [{"name": option.name, "value": option.value} for option in item.options] if options.import_options else []
    )
    mapped["adjustment"] = item.adjustment
    return mapped


def _checked_weight_units(position: int, item: OTItem, found: _Collector) -> str | None:
    """The item's ShipStation weight unit; a unit is only needed (and checked) when there is a weight."""
    if _unit_weight(item) is None and not item.weight_units.strip():
        return None
    units = weight_unit(item.weight_units)
    if units is None:
        message = "is not a known weight unit (Pounds, Ounces or Grams)"
        found.reject(_item_path(position, "WeightUnits"), item.weight_units, message)
    return units


def _is_zero_quantity(item: OTItem) -> bool:
    return item.quantity is not None and item.quantity == 0


def _left_out(position: int, item: OTItem, found: _Collector) -> bool:
    """A line with quantity 0 (a refunded or removed line, as Order Time exports it) is left out of the
    order, with a note; it has nothing to pack, weigh or pay for (docs/decisions.md)."""
    if not _is_zero_quantity(item):
        return False
    found.notes.append(f'Item {position} ({item.sku or item.name or "no SKU"}) has quantity 0 and was left out.')
    return True


def _check_has_physical_items(order: OTOrder, found: _Collector) -> None:
    if not order.items:
        found.reject("Items", "", "has no items to ship")
    elif all(item.adjustment for item in order.items):
        found.reject("Items", "", "has only adjustment lines (coupons or discounts), nothing to ship")
    elif all(item.adjustment or _is_zero_quantity(item) for item in order.items):
        found.reject("Items", "", "has no line to ship: every item has quantity 0")


def _total_weight(order: OTOrder, store_unit: str) -> Decimal:
    """Σ quantity × (item weight + option weights) in the store's unit; adjustment lines weigh nothing."""
    total = Decimal(0)
    for item in order.items:
        weight, units = _unit_weight(item), weight_unit(item.weight_units)
        if item.adjustment or weight is None or units is None or item.quantity is None:
            continue
        total += item.quantity * convert_weight(weight, units, store_unit)
    return total


def buyer_email(order: OTOrder) -> str:
    """The buyer's e-mail address: the bill-to e-mail, else the customer code when it is an address, else ""."""
    if order.bill_to.email:
        return order.bill_to.email
    if EMAIL_PATTERN.match(order.customer_code):
        return order.customer_code
    return ""


def _carrier_and_service(shipping_method: str, mapping: Mapping[str, Mapping[str, str]]) -> dict:
    """``carrierCode``/``serviceCode`` from the store's shipping-method mapping, matched like statuses."""
    wanted = normalise_status(shipping_method)
    for method, codes in mapping.items():
        if wanted and normalise_status(method) == wanted:
            return {key: codes[key] for key in ("carrierCode", "serviceCode") if codes.get(key)}
    return {}


def _advanced_options(order: OTOrder, options: ImportOptions) -> dict:
    advanced: dict = {}
    if options.include_store_id:
        advanced["storeId"] = options.shipstation_store_id
    advanced.update({
        "customField1": order.custom_field1,
        "customField2": order.custom_field2,
        "customField3": order.custom_field3,
        "source": ORDER_SOURCE,
    })
    return advanced


def _note_totals_mismatch(order: OTOrder, found: _Collector) -> None:
    """§4.5: OrderTotal should be Σ quantity × unit price (adjustments included) + shipping + tax."""
    computed = sum((item.quantity * item.unit_price for item in order.items), Decimal(0))
    computed += (order.shipping_amount or Decimal(0)) + (order.tax_amount or Decimal(0))
    if computed.quantize(CENT) != order.order_total.quantize(CENT):
        found.notes.append(
            f"Order total {order.order_total} differs from items + shipping + tax ({computed.quantize(CENT)}); "
            "sent as received."
        )
