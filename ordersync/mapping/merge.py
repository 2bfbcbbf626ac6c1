"""The three-way merge of an order update: keep what merchants changed in ShipStation (field-mapping.md, "Updates").

``createorders`` replaces the whole order, so an update must carry everything ShipStation should keep.
Per field, with *base* = Order Time's own mapping last sent (before any merge), *theirs* = ShipStation's copy
now and *ours* = the new mapping:

- Order Time changed it (ours ≠ base): ours flows; if the merchant changed it too, Order Time wins and the
  field is listed as a conflict.
- Otherwise ShipStation's value is kept (the merchant's edit, or simply what is there).
- Fields the mapping never produces (dimensions, tags, carrier/service/package, insurance, hold date, ...)
  are carried over from ShipStation's copy.

Values are compared as ShipStation answers them: empty string = null = missing, numbers by value, dates by
their second, items by ``lineItemKey`` without the keys ShipStation adds itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

Json = dict[str, Any]

# Read-only in ShipStation's models (shipstation-v1.md §8): never a merchant's change, never sent back.
READ_ONLY = {
    "": frozenset({"orderId", "createDate", "modifyDate", "customerId", "orderTotal", "holdUntilDate", "userId",
                   "externallyFulfilled", "externallyFulfilledBy", "externallyFulfilledById",
                   "externallyFulfilledByName"}),
    "shipTo": frozenset({"addressVerified"}),
    "billTo": frozenset({"addressVerified"}),
    "weight": frozenset({"WeightUnits"}),
    "advancedOptions": frozenset({"mergedOrSplit", "mergedIds", "parentId"}),
}
ITEM_READ_ONLY = frozenset({"orderItemId", "createDate", "modifyDate"})
# Compared without these as well: ShipStation fills them in from its product catalogue.
ITEM_SIDE_KEYS = ITEM_READ_ONLY | {"productId", "fulfillmentSku", "upc"}
# Nested objects merged key by key, so a merchant's address fix survives an Order Time change of another field.
NESTED = frozenset({"shipTo", "billTo", "advancedOptions", "weight", "internationalOptions"})


@dataclass(frozen=True)
class MergeResult:
    payload: Json
    conflicts: tuple[str, ...] = ()  # fields both sides changed; Order Time's value was sent
    kept: tuple[str, ...] = ()  # fields whose merchant value was kept over the mapping's


def order_merge(*, base: Json | None, theirs: Json | None, ours: Json) -> MergeResult:
    """The payload to send; without ShipStation's copy there is nothing to keep, so ours as it is."""
    if theirs is None:
        return MergeResult(payload=dict(ours))
    conflicts: list[str] = []
    kept: list[str] = []
    payload = _merge_object(base or {}, sendable(theirs), ours, "", conflicts, kept, top=True)
    return MergeResult(payload=payload, conflicts=tuple(conflicts), kept=tuple(kept))


def sendable(order: Json) -> Json:
    """ShipStation's copy of an order without what it does not accept back."""
    copy = _without(order, READ_ONLY[""])
    for key in ("shipTo", "billTo", "weight", "advancedOptions"):
        if isinstance(copy.get(key), dict):
            copy[key] = _without(copy[key], READ_ONLY[key])
    if isinstance(copy.get("items"), list):
        copy["items"] = [_item_sendable(item) for item in copy["items"]]
    return copy


def _item_sendable(item: Any) -> Any:
    if not isinstance(item, dict):
        return item
    line = _without(item, ITEM_READ_ONLY)
    if isinstance(line.get("weight"), dict):
        line["weight"] = _without(line["weight"], READ_ONLY["weight"])
    return line


def is_split(order: Json) -> bool:
    """ShipStation split this order, or merged others into it."""
    advanced = order.get("advancedOptions") or {}
    return bool(advanced.get("mergedOrSplit")) or advanced.get("parentId") is not None


def _merge_object(base: Json, theirs: Json, ours: Json, prefix: str, conflicts: list[str], kept: list[str], *,
                  top: bool = False) -> Json:
    merged = dict(theirs)  # fields never mapped ride along
    for key in dict.fromkeys([*ours, *base]):
        path = f"{prefix}{key}"
        if top and key in NESTED or (not top and isinstance(ours.get(key), dict)):
            merged[key] = _merge_object(_as_dict(base.get(key)), _as_dict(theirs.get(key)), _as_dict(ours.get(key)),
                                        f"{path}.", conflicts, kept)
            continue
        normal = _items_normal if key == "items" else _normal
        ours_value, base_value, their_value = normal(ours.get(key)), normal(base.get(key)), normal(theirs.get(key))
        if ours_value != base_value:
            merged[key] = ours.get(key)
            if their_value != base_value and their_value != ours_value and key in theirs:
                conflicts.append(path)
        elif key in theirs:
            if their_value != ours_value:
                kept.append(path)
            merged[key] = theirs[key]
        else:
            merged[key] = ours.get(key)
    return merged


def _as_dict(value: Any) -> Json:
    return value if isinstance(value, dict) else {}


def _without(document: Json, keys: frozenset[str]) -> Json:
    return {key: value for key, value in document.items() if key not in keys}


def _normal(value: Any) -> Any:
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return _number(value)
    if isinstance(value, str):
        text = value.strip()
        if _looks_like_date(text):
            return text[:19]  # "2026-12-01T10:00:00.0000000" and "2026-12-01T10:00:00" are the same moment
        return text
    if isinstance(value, dict):
        normal = {key: _normal(item) for key, item in value.items()}
        return tuple(sorted((key, item) for key, item in normal.items() if item is not None))
    if isinstance(value, list | tuple):
        return tuple(_normal(item) for item in value)
    return value


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).normalize()
    except InvalidOperation:
        return None


def _looks_like_date(text: str) -> bool:
    return len(text) >= 19 and text[4] == "-" and text[7] == "-" and text[10] == "T" and text[13] == ":"


def _items_normal(items: Any) -> Any:
    """Items compared by ``lineItemKey``, in that order, without what ShipStation adds."""
    if not isinstance(items, list) or not items:
        return None
    lines = [_without(item, ITEM_SIDE_KEYS) for item in items if isinstance(item, dict)]
    lines.sort(key=lambda line: str(line.get("lineItemKey") or ""))
    return tuple(_normal(line) for line in lines)
