"""What merchants do to orders in ShipStation after the import, for the ShipStation simulator.

A mixin of ``ShipStationSimulator``: edits of any field, holds, cancels, soft deletes, splits and merges,
each as a Python method and a ``/_sim/`` control endpoint. Shapes follow ``shipstation-v1.md`` §8:
a split-off order keeps the original's ``orderKey`` (so updates must name its ``orderId``, §7.1) and
points at it with ``advancedOptions.parentId``; a merged order lists the orders merged into it in
``advancedOptions.mergedIds``, and those disappear from the lists like soft-deleted ones (§9).

Every change stamps ``modifyDate``, so ``GET /orders?modifyDateStart=`` finds it.
"""

from __future__ import annotations

import copy
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request

# Circular on purpose: the simulator module imports this mixin; names are looked up at call time.
from . import shipstation as sim

# Fields ShipStation sets itself; an edit through the control API cannot change them.
READ_ONLY = frozenset({"orderId", "orderKey", "createDate", "modifyDate", "orderTotal", "customerId"})


class OrderLifecycleMixin:
    """Merchant actions; needs the simulator's ``_lock``, ``orders``, ``find_order``, ``now``, ``_new_id``."""

    if TYPE_CHECKING:  # provided by ShipStationSimulator
        _lock: threading.RLock
        orders: dict[int, dict[str, Any]]
        order_ids_by_key: dict[str, int]
        split_ids_by_key: dict[str, list[int]]

        def now(self) -> datetime: ...
        def _new_id(self, kind: str) -> int: ...

    def _lifecycle_rules(self) -> list[Rule]:
        return [
            Rule("/_sim/orders/<int:order_id>/edit", endpoint="sim_edit_order", methods=["POST"]),
            Rule("/_sim/orders/<int:order_id>/hold", endpoint="sim_hold_order", methods=["POST"]),
            Rule("/_sim/orders/<int:order_id>/cancel", endpoint="sim_cancel_order", methods=["POST"]),
            Rule("/_sim/orders/<int:order_id>/delete", endpoint="sim_delete_order", methods=["POST"]),
            Rule("/_sim/orders/<int:order_id>/split", endpoint="sim_split_order", methods=["POST"]),
            Rule("/_sim/orders/merge", endpoint="sim_merge_orders", methods=["POST"]),
        ]

    # ------------------------------------------------------------------ actions

    def edit_order(self, order_id: int, changes: dict[str, Any]) -> dict:
        """A merchant's edit: each top-level field replaced, nested objects (``advancedOptions``,
        ``shipTo``, ``weight``...) updated key by key, as the order screen saves them."""
        with self._lock:
            order = self._live_order(order_id)
            for name, value in changes.items():
                if name in READ_ONLY:
                    continue
                if isinstance(value, dict) and isinstance(order.get(name), dict):
                    order[name].update(copy.deepcopy(value))
                else:
                    order[name] = copy.deepcopy(value)
            self._touch(order)
            return sim._public(order)

    def hold_order(self, order_id: int, hold_until: str) -> dict:
        """``POST /orders/holduntil``: ``on_hold`` until a date (``yyyy-mm-dd``)."""
        return self.edit_order(order_id, {"orderStatus": "on_hold", "holdUntilDate": hold_until})

    def cancel_order(self, order_id: int) -> dict:
        return self.edit_order(order_id, {"orderStatus": "cancelled"})

    def delete_order(self, order_id: int) -> None:
        """``DELETE /orders/{orderId}``: soft delete; the order is gone from lists and lookups (§9)."""
        with self._lock:
            order = self._live_order(order_id)
            order["_deleted"] = True
            self._touch(order)

    def split_order(self, order_id: int, line_item_keys: list[str]) -> dict:
        """Move the named lines into a new order; both are marked ``mergedOrSplit``; the new one has
        the original as ``parentId`` and the same ``orderKey``. Answers the new order."""
        with self._lock:
            original = self._live_order(order_id)
            wanted = {str(key) for key in line_item_keys}
            moving = [i for i in original["items"] if str(i.get("lineItemKey")) in wanted]
            if not moving or len(moving) == len(original["items"]):
                raise LookupError("a split needs some, but not all, of the order's lines")
            original["items"] = [i for i in original["items"] if i not in moving]
            split = copy.deepcopy(original)
            split.update(orderId=self._new_id("order"), items=moving, orderNumber=f"{original['orderNumber']}-1")
            split["advancedOptions"].update(mergedOrSplit=True, parentId=original["orderId"])
            original["advancedOptions"]["mergedOrSplit"] = True
            self.orders[split["orderId"]] = split
            self.split_ids_by_key.setdefault(split["orderKey"], []).append(split["orderId"])
            self._touch(original)
            self._touch(split)
            return sim._public(split)

    def merge_orders(self, order_ids: list[int]) -> dict:
        """Merge the orders into the first: it takes every line and lists the others in ``mergedIds``;
        the others become inactive. Answers the merged order."""
        with self._lock:
            orders = [self._live_order(order_id) for order_id in order_ids]
            if len(orders) < 2:
                raise LookupError("a merge needs two orders or more")
            survivor, *others = orders
            for other in others:
                survivor["items"].extend(copy.deepcopy(other["items"]))
                other["_deleted"] = True
                other["_merged_into"] = survivor["orderId"]
                self._touch(other)
            survivor["advancedOptions"]["mergedOrSplit"] = True
            survivor["advancedOptions"]["mergedIds"] = [
                *(survivor["advancedOptions"].get("mergedIds") or []), *(o["orderId"] for o in others)
            ]
            self._touch(survivor)
            return sim._public(survivor)

    # ------------------------------------------------------------------ helpers

    def _order_to_update(self, incoming: dict, key: str | None) -> tuple[dict | None, str | None]:
        """The live order an upsert replaces (``None``: create one), or the refusal (§7.1).

        A key whose order was deleted or merged away creates a new order, as an upsert does.
        """
        if not key:
            return None, None
        candidates = [self.orders[i] for i in (self.order_ids_by_key.get(key), *self.split_ids_by_key.get(key, ()))
                      if i is not None and not self.orders[i].get("_deleted")]
        wanted = incoming.get("orderId")
        if wanted is not None:
            for order in candidates:
                if order["orderId"] == int(wanted):
                    return order, None
            return None, f"Order {wanted} with key '{key}' was not found."
        if len(candidates) > 1:
            return None, f"Order '{key}' was split; send its orderId to update it."
        return (candidates[0] if candidates else None), None

    def _live_order(self, order_id: int) -> dict:
        order = self.orders.get(int(order_id))
        if order is None or order.get("_deleted"):
            raise LookupError(f"Order {order_id} not found")
        return order

    def _touch(self, order: dict) -> None:
        order["modifyDate"] = sim.ss_datetime_text(self.now())

    # ------------------------------------------------------------------ control endpoints

    def _http_sim_edit_order(self, request: Request, query, order_id):
        return sim._json_response(self.edit_order(order_id, sim._control_body(request)))

    def _http_sim_hold_order(self, request: Request, query, order_id):
        return sim._json_response(self.hold_order(order_id, str(sim._control_body(request).get("hold_until") or "")))

    def _http_sim_cancel_order(self, request: Request, query, order_id):
        return sim._json_response(self.cancel_order(order_id))

    def _http_sim_delete_order(self, request: Request, query, order_id):
        self.delete_order(order_id)
        return sim._json_response({"deleted": order_id})

    def _http_sim_split_order(self, request: Request, query, order_id):
        return sim._json_response(self.split_order(order_id, sim._control_body(request).get("line_item_keys") or []))

    def _http_sim_merge_orders(self, request: Request, query):
        return sim._json_response(self.merge_orders(sim._control_body(request).get("order_ids") or []))
