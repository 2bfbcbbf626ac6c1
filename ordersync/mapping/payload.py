"""Canonical JSON and hash of what we send, and a JSON-safe copy of an Order Time order.

The hash decides whether an order changed since it was last sent, so the JSON must be the same for
equal payloads whatever the key order: keys sorted, no spaces, UTF-8 kept as is, no NaN.

``ot_order_to_dict``/``ot_order_from_dict`` let a parsed ship doc be stored (a ``JSONField``, a Celery
argument) and rebuilt exactly: ``Decimal`` travels as its string (``"6.00"`` stays ``6.00``), datetimes
as ISO 8601 with their offset, tuples as lists. The conversion is driven by the dataclasses' own type
hints, so a field added to ``OTOrder`` is carried without touching this module.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from connections.clients.types import OTOrder


def canonical_json(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def payload_hash(payload: Any) -> str:
    """sha256 hex digest of the canonical JSON."""
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def ot_order_to_dict(order: OTOrder) -> dict:
    return dataclass_to_json(order)


def ot_order_from_dict(data: dict) -> OTOrder:
    return dataclass_from_json(OTOrder, data)


_AS_IS = frozenset({str, int, float, bool, type(None)})


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(cls))


def dataclass_to_json(value: Any) -> Any:
    cls = type(value)
    if cls in _AS_IS:  # most values of a ship doc: answered before any other check
        return value
    if dataclasses.is_dataclass(cls):
        return {name: dataclass_to_json(getattr(value, name)) for name in _field_names(cls)}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: orders carry aware datetimes only")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [dataclass_to_json(item) for item in value]
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def dataclass_from_json(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        (inner,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return dataclass_from_json(inner, value)
    if origin is tuple:
        item_hint = typing.get_args(hint)[0]
        return tuple(dataclass_from_json(item_hint, item) for item in value)
    if dataclasses.is_dataclass(hint):
        hints = _hints(hint)
        return hint(**{name: dataclass_from_json(hints[name], item) for name, item in value.items()})
    if hint is Decimal:
        return Decimal(value)
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is date:
        return date.fromisoformat(value)
    return value
