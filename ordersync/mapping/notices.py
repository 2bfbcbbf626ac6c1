"""ShipStation label or fulfillment → Order Time ship notice, direction 2 of field-mapping.md.

Decisions beyond the table:

- ``CustomField1..3`` of the notice echo the custom fields we exported (integration doc §6.2), so they
  come from the context, not from whatever ShipStation holds now.
- ``Service`` is cut to 50 characters (§6.2 [Us]); display names are short, codes shorter.
- A shipment without a ship date reports the Pacific day its label was created.
- Shipment items carry no adjustment flag, so adjustment lines are recognised by the line keys we sent
  with ``adjustment: true`` (``NoticeContext.adjustment_line_keys``, built with
  :func:`adjustment_line_keys_from_payload`). Items with no line key are matched by SKU to the lines we
  sent, else take their position in the shipment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from urllib.parse import quote

from connections.clients.dates import PACIFIC
from connections.clients.types import Fulfillment, OTAddress, Shipment, ShipNotice, ShipNoticeItem, SSAddress

SERVICE_MAX_LENGTH = 50
CENT = Decimal("0.01")

# Integration doc §8, spelled exactly as Order Time expects them.
ORDERTIME_CARRIER_NAMES: tuple[str, ...] = (
    "USPS", "UPS", "FedEx", "DHL", "DHLGlobalMail", "Other", "UPSMI", "BrokersWorldWide",
    "FedExInternationalMailService", "CanadaPost", "FedExCanada", "OnTrac", "Newgistics", "FirstMile",
    "Globegistics", "LoneStar", "Asendia", "RoyalMail", "APC", "AccessWorldwide",
    "AustraliaPost", "DHLCanada", "IMEX",
)
FALLBACK_CARRIER = "Other"

# ShipStation carrier codes (and the spellings fulfillments carry) → Order Time carrier names.
# Exact codes are looked up before the prefix rules, so fedex_international_mail_service is not FedEx.
CARRIER_CODES = {
    "stamps_com": "USPS", "endicia": "USPS", "usps": "USPS", "express_1": "USPS",
    "ups": "UPS", "ups_walleted": "UPS",
    "ups_mail_innovations": "UPSMI", "upsmi": "UPSMI",
    "fedex": "FedEx",
    "fedex_international_mail_service": "FedExInternationalMailService",
    "fedex_canada": "FedExCanada",
    "dhl_global_mail": "DHLGlobalMail", "dhl_ecommerce": "DHLGlobalMail",
    "dhl_canada": "DHLCanada",
    "dhl": "DHL",
    "canada_post": "CanadaPost", "ontrac": "OnTrac", "royal_mail": "RoyalMail",
    "australia_post": "AustraliaPost", "asendia": "Asendia", "apc": "APC", "firstmile": "FirstMile",
    "globegistics": "Globegistics", "newgistics": "Newgistics", "imex": "IMEX", "lonestar": "LoneStar",
    "access_worldwide": "AccessWorldwide", "brokers_worldwide": "BrokersWorldWide",
}
CARRIER_CODE_PREFIXES = (("dhl_express", "DHL"), ("fedex_", "FedEx"), ("ups_", "UPS"), ("usps_", "USPS"))

TRACKING_URL_TEMPLATES = {
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    "UPS": "https://www.ups.com/track?tracknum={number}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={number}",
    "DHL": "https://www.dhl.com/global-en/home/tracking/tracking-express.html?tracking-id={number}",
}

NOTES_SOURCES = ("customField1", "customField2", "customField3", "none")


def _code_key(text: str) -> str:
    """"Stamps.com", "DHL Express", "dhl-express" → "stamps_com", "dhl_express", "dhl_express"."""
    return "_".join(text.strip().casefold().replace(".", " ").replace("-", " ").split())


_NO_OVERRIDES: Mapping[str, str] = MappingProxyType({})
_NAMES_BY_SQUEEZED_KEY = {name.casefold(): name for name in ORDERTIME_CARRIER_NAMES}


def carrier_name(carrier_code: str, overrides: Mapping[str, str] = _NO_OVERRIDES) -> str:
    """The Order Time carrier name for a ShipStation carrier code or display name; unknown → "Other"."""
    key = _code_key(carrier_code)
    for code, name in overrides.items():
        if _code_key(code) == key:
            return name
    if key in CARRIER_CODES:
        return CARRIER_CODES[key]
    for prefix, name in CARRIER_CODE_PREFIXES:
        if key.startswith(prefix):
            return name
    # Fulfillments carry free text such as "FedEx" or "Canada Post": accept Order Time's own names.
    return _NAMES_BY_SQUEEZED_KEY.get(key.replace("_", ""), FALLBACK_CARRIER)


def tracking_url(carrier_name: str, tracking_number: str) -> str | None:
    """The public tracking page for the buyer e-mail, for the carriers that have a stable one."""
    template = TRACKING_URL_TEMPLATES.get(carrier_name)
    if template is None or not tracking_number.strip():
        return None
    return template.format(number=quote(tracking_number.strip(), safe=""))


def is_reportable(shipment: Shipment) -> bool:
    """Return labels are never shipments; voided labels are dropped (or flagged) by the caller."""
    return not shipment.is_return_label and not shipment.voided


@dataclass(frozen=True)
class NoticeContext:
    """What our record knows about the order the label belongs to."""

    ordertime_order_id: str
    order_number: str
    customer_code: str
    customer_notes: str = ""
    internal_notes: str = ""
    custom_fields: tuple[str, str, str] = ("", "", "")  # as last sent to ShipStation
    notes_to_buyer_source: str = "customField3"  # customField1|customField2|customField3|none
    notify_customer: bool = False  # final value for NotifyCustomer
    carrier_overrides: Mapping[str, str] = field(default_factory=dict)
    service_names: Mapping[str, str] = field(default_factory=dict)  # serviceCode -> display name
    items_by_line_key: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # lineItemKey -> (sku, name)
    adjustment_line_keys: frozenset[str] = frozenset()  # lineItemKeys sent with adjustment: true

    def __post_init__(self) -> None:
        if self.notes_to_buyer_source not in NOTES_SOURCES:
            raise ValueError(f"notes_to_buyer_source must be one of {NOTES_SOURCES}, not {self.notes_to_buyer_source!r}")


def notice_from_shipment(shipment: Shipment, ctx: NoticeContext) -> ShipNotice:
    shipment_fields = (shipment.custom_field1, shipment.custom_field2, shipment.custom_field3)
    return _notice(
        ctx,
        carrier=carrier_name(shipment.carrier_code, ctx.carrier_overrides),
        service=ctx.service_names.get(shipment.service_code) or shipment.service_code,
        tracking_number=shipment.tracking_number,
        shipping_cost=shipment.shipment_cost + shipment.insurance_cost,
        create_date=shipment.create_date,
        ship_date=shipment.ship_date,
        notes_to_customer=_notes_to_customer(ctx, shipment_fields),
        ship_to=shipment.ship_to,
        items=_notice_items(shipment, ctx),
    )


def notice_from_fulfillment(fulfillment: Fulfillment, ctx: NoticeContext, items: Sequence[ShipNoticeItem]) -> ShipNotice:
    """A fulfillment has no items and no service: the caller passes the lines (see notice_items_from_payload)."""
    return _notice(
        ctx,
        carrier=carrier_name(fulfillment.carrier_code, ctx.carrier_overrides),
        service="",
        tracking_number=fulfillment.tracking_number,
        shipping_cost=fulfillment.fulfillment_fee,
        create_date=fulfillment.create_date,
        ship_date=fulfillment.ship_date,
        notes_to_customer=_notes_to_customer(ctx, ("", "", "")),
        ship_to=fulfillment.ship_to,
        items=tuple(items),
    )


def _notice(
    ctx: NoticeContext, *, carrier: str, service: str, tracking_number: str, shipping_cost: Decimal,
    create_date: datetime, ship_date: date | None, notes_to_customer: str, ship_to: SSAddress,
    items: tuple[ShipNoticeItem, ...],
) -> ShipNotice:
    return ShipNotice(
        order_number=ctx.order_number,
        order_id=ctx.ordertime_order_id,
        customer_code=ctx.customer_code,
        carrier=carrier,
        service=service[:SERVICE_MAX_LENGTH],
        tracking_number=tracking_number,
        shipping_cost=shipping_cost.quantize(CENT, rounding=ROUND_HALF_UP),
        label_create_date=create_date,
        ship_date=ship_date or create_date.astimezone(PACIFIC).date(),
        customer_notes=ctx.customer_notes,
        internal_notes=ctx.internal_notes,
        notes_to_customer=notes_to_customer,
        notify_customer=ctx.notify_customer,
        custom_field1=ctx.custom_fields[0],
        custom_field2=ctx.custom_fields[1],
        custom_field3=ctx.custom_fields[2],
        recipient=recipient_from(ship_to),
        items=items,
    )


def _notes_to_customer(ctx: NoticeContext, shipment_fields: tuple[str, str, str]) -> str:
    if ctx.notes_to_buyer_source == "none":
        return ""
    index = int(ctx.notes_to_buyer_source[-1]) - 1
    return shipment_fields[index] or ctx.custom_fields[index]


def recipient_from(address: SSAddress) -> OTAddress:
    """The label's ship-to, verbatim."""
    return OTAddress(
        name=address.name, company=address.company, address1=address.street1, address2=address.street2,
        city=address.city, state=address.state, postal_code=address.postal_code, country=address.country,
        phone=address.phone,
    )


def _notice_items(shipment: Shipment, ctx: NoticeContext) -> tuple[ShipNoticeItem, ...]:
    keys_by_sku = {sku: key for key, (sku, _name) in reversed(list(ctx.items_by_line_key.items())) if sku}
    notice_items = []
    for position, item in enumerate(shipment.items, 1):
        line_key = item.line_item_key or keys_by_sku.get(item.sku) or str(position)
        if line_key in ctx.adjustment_line_keys:
            continue
        sent_sku, sent_name = ctx.items_by_line_key.get(line_key, ("", ""))
        notice_items.append(ShipNoticeItem(
            sku=item.sku or sent_sku, name=item.name or sent_name, quantity=item.quantity, line_item_id=line_key,
        ))
    return tuple(notice_items)


# ---------------------------------------------------------------- helpers over the order payload we sent


def _payload_items(order_payload: Mapping) -> list[Mapping]:
    return list(order_payload.get("items") or [])


def items_by_line_key_from_payload(order_payload: Mapping) -> dict[str, tuple[str, str]]:
    """lineItemKey → (sku, name) of every line of the ShipStation order dict we sent."""
    return {item["lineItemKey"]: (item.get("sku", ""), item.get("name", "")) for item in _payload_items(order_payload)}


def adjustment_line_keys_from_payload(order_payload: Mapping) -> frozenset[str]:
    return frozenset(item["lineItemKey"] for item in _payload_items(order_payload) if item.get("adjustment"))


def notice_items_from_payload(order_payload: Mapping) -> tuple[ShipNoticeItem, ...]:
    """Every physical line we sent, in full: what a fulfillment (which lists no items) shipped."""
    return tuple(
        ShipNoticeItem(
            sku=item.get("sku", ""), name=item.get("name", ""), quantity=int(item.get("quantity", 0)),
            line_item_id=item["lineItemKey"],
        )
        for item in _payload_items(order_payload)
        if not item.get("adjustment")
    )
