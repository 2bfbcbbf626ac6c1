"""What a notice says: the Order Time ship notice and the buyer e-mail for one label, built from our records.

Both are built from the same three things: the label as read from ShipStation (kept on the notice row,
so a delayed or held notice is built the same way in another process days later), the order payload
we sent to ShipStation (Order Time ids, notes, custom fields, item images and options) and the
store's settings (carrier overrides, notes source, service display names).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from connections.clients.types import Fulfillment, OTAddress, Shipment, ShipNotice
from ordersync.mapping import notices as notice_mapping
from ordersync.mapping.payload import dataclass_from_json, dataclass_to_json
from ordersync.models import NoticeSource, ShipmentNotice

from .carrier_services import carrier_service_names

Label = Shipment | Fulfillment


def label_to_dict(label: Label) -> dict:
    return dataclass_to_json(label)


def label_of(notice: ShipmentNotice) -> Label:
    """The label (or fulfillment) as it was last read from ShipStation."""
    kind = Fulfillment if notice.source == NoticeSource.FULFILLMENT else Shipment
    return dataclass_from_json(kind, notice.shipment)


def _order_payload(notice: ShipmentNotice) -> dict:
    return (notice.synced_order.payload if notice.synced_order else None) or {}


def notice_service_names(*, notice: ShipmentNotice) -> dict[str, str]:
    """The service display names a notice's label needs. May ask ShipStation (cached): call it before,
    never inside, the transaction that builds the notice."""
    if notice.source != NoticeSource.SHIPMENT:
        return {}
    return carrier_service_names(store=notice.store, carrier_code=notice.carrier_code)


def notice_context_for(*, notice: ShipmentNotice, notify_customer: bool,
                       service_names: dict[str, str]) -> notice_mapping.NoticeContext:
    order = notice.synced_order
    payload = _order_payload(notice)
    advanced = payload.get("advancedOptions") or {}
    store_settings = notice.store.settings
    return notice_mapping.NoticeContext(
        ordertime_order_id=order.ordertime_order_id,
        order_number=order.order_number,
        customer_code=payload.get("customerUsername") or "",
        customer_notes=payload.get("customerNotes") or "",
        internal_notes=payload.get("internalNotes") or "",
        custom_fields=tuple(advanced.get(f"customField{n}") or "" for n in (1, 2, 3)),
        notes_to_buyer_source=store_settings.notes_to_buyer_source,
        notify_customer=notify_customer,
        carrier_overrides=store_settings.carrier_overrides or {},
        service_names=service_names,
        items_by_line_key=notice_mapping.items_by_line_key_from_payload(payload),
        adjustment_line_keys=notice_mapping.adjustment_line_keys_from_payload(payload),
    )


def ship_notice_build(*, notice: ShipmentNotice, notify_customer: bool, service_names: dict[str, str]) -> ShipNotice:
    """The ship notice for a matched notice row (``notice.synced_order`` must be set); pure, given the
    service names from ``notice_service_names``."""
    context = notice_context_for(notice=notice, notify_customer=notify_customer, service_names=service_names)
    label = label_of(notice)
    if isinstance(label, Fulfillment):
        items = notice_mapping.notice_items_from_payload(_order_payload(notice))
        return notice_mapping.notice_from_fulfillment(label, context, items)
    return notice_mapping.notice_from_shipment(label, context)


# ---------------------------------------------------------------------- the buyer e-mail


@dataclass(frozen=True)
class EmailItem:
    name: str
    sku: str
    quantity: int
    image_url: str = ""
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ShipmentEmailContext:
    """Everything the shipment confirmation shows besides the store's branding."""

    order_number: str
    buyer_name: str
    carrier: str
    service: str
    tracking_number: str
    tracking_url: str | None
    ship_date: date
    notes_to_buyer: str
    recipient: OTAddress
    items: tuple[EmailItem, ...]


def email_context_for(*, notice: ShipmentNotice, ship_notice: ShipNotice) -> ShipmentEmailContext:
    """The e-mail shows exactly what Order Time is told, plus the pictures and options of the lines."""
    sent_items = {item.get("lineItemKey"): item for item in _order_payload(notice).get("items") or []}
    items = []
    for line in ship_notice.items:
        sent = sent_items.get(line.line_item_id) or {}
        items.append(EmailItem(
            name=line.name, sku=line.sku, quantity=line.quantity, image_url=sent.get("imageUrl") or "",
            options=tuple((o.get("name", ""), o.get("value", "")) for o in sent.get("options") or []),
        ))
    include_link = notice.store.settings.include_tracking_link
    return ShipmentEmailContext(
        order_number=ship_notice.order_number,
        buyer_name=(notice.synced_order.buyer_name if notice.synced_order else "") or ship_notice.recipient.name,
        carrier=ship_notice.carrier,
        service=ship_notice.service,
        tracking_number=ship_notice.tracking_number,
        tracking_url=notice_mapping.tracking_url(ship_notice.carrier, ship_notice.tracking_number) if include_link else None,
        ship_date=ship_notice.ship_date,
        notes_to_buyer=ship_notice.notes_to_customer,
        recipient=ship_notice.recipient,
        items=tuple(items),
    )
