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

# Keys ShipStation fills in on its side; never a merchant's change and never ours to send back.
SHIPSTATION_SIDE_KEYS = frozenset({
    "orderTotal", "createDate", "modifyDate", "userId", "externallyFulfilled", "externallyFulfilledBy",
    "externallyFulfilledById", "externallyFulfilledByName", "labelMessages", "customerId", "shipDate",
})
ITEM_SIDE_KEYS = frozenset({"orderItemId", "createDate", "modifyDate", "productId", "fulfillmentSku", "upc"})
# Nested objects merged key by key, so a merchant's address fix survives an Order Time change of another field.
NESTED = frozenset({"shipTo", "billTo", "advancedOptions", "weight", "internationalOptions"})


@dataclass(frozen=True)
class MergeResult:
    payload: dict
    conflicts: tuple[str, ...] = ()  # fields both sides changed; Order Time's value was sent
    kept: tuple[str, ...] = ()  # fields whose merchant value was kept over the mapping's


def order_merge(*, base: dict | None, theirs: dict | None, ours: dict) -> MergeResult:
    """The payload to send; without ShipStation's copy there is nothing to keep, so ours as it is."""
    if theirs is None:
        return MergeResult(payload=dict(ours))
    conflicts: list[str] = []
    kept: list[str] = []
    payload = _merge_object(base or {}, _without(theirs, SHIPSTATION_SIDE_KEYS), ours, "", conflicts, kept,
                            top=True)
    return MergeResult(payload=payload, conflicts=tuple(conflicts), kept=tuple(kept))


def _merge_object(base: dict, theirs: dict, ours: dict, prefix: str, conflicts: list[str], kept: list[str], *,
                  top: bool = False) -> dict:
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
            merged[key] = theirs[key] if key != "items" else _items_without_side_keys(theirs[key])
        else:
            merged[key] = ours.get(key)
    return merged


def _as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _without(document: dict, keys: frozenset[str]) -> dict:
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


def _items_without_side_keys(items: Any) -> Any:
    if not isinstance(items, list):
        return items
    return [_without(item, ITEM_SIDE_KEYS) if isinstance(item, dict) else item for item in items]


def _items_normal(items: Any) -> Any:
    """Items compared by ``lineItemKey``, in that order, without what ShipStation adds."""
    if not isinstance(items, list) or not items:
        return None
    lines = [_without(item, ITEM_SIDE_KEYS) for item in items if isinstance(item, dict)]
    lines.sort(key=lambda line: str(line.get("lineItemKey") or ""))
    return tuple(_normal(line) for line in lines)
