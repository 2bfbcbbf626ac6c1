"""Demo data for both simulators: the §5 sample orders, varied generated ship docs, and a few that show
the admin's rejected and held states. No Django here; ``rundemo`` wires it to a store.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from .ordertime import OrderTimeSimulator, make_sample_docs, section5_sample_docs

DEMO_STORE_NAME = "Demo Store"
DEMO_SHIPSTATION_STORE_ID = 22766
DEMO_READY_STATUS = "open"  # the sample docs' status; the demo maps it to awaiting_shipment


def demo_ship_docs(now: datetime | None = None, generated: int = 40) -> list[dict]:
    """Ship docs modified in the last hours, so the demo store's first import finds them."""
    now = now or datetime.now(UTC)
    docs = []
    for index, doc in enumerate(section5_sample_docs()):
        doc = copy.deepcopy(doc)
        doc["OrderDate"] = now - timedelta(hours=5 - index)
        doc["LastModified"] = now - timedelta(hours=4 - index)
        docs.append(doc)
    docs += make_sample_docs(generated, seed=7, base_time=now - timedelta(hours=3))

    rejected = copy.deepcopy(docs[2])
    rejected.update(OrderID="90001", OrderNumber="D-REJECTED-1", LastModified=now - timedelta(minutes=30))
    rejected["Customer"]["ShipTo"].update(Country="Deutschland", State="", PostalCode="")
    rejected["Items"][0]["Quantity"] = "1.5"
    held = copy.deepcopy(docs[3])
    held.update(OrderID="90002", OrderNumber="D-HELD-1", OrderStatus="awaiting stock", LastModified=now - timedelta(minutes=20))
    return docs + [rejected, held]


def seed_ordertime(sim: OrderTimeSimulator, now: datetime | None = None) -> int:
    return len(sim.add_ship_docs(demo_ship_docs(now)))
