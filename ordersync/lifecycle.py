"""The rules of an order's lifecycle after the import: pure functions of what ShipStation and the labels say.

The import side (``imports/records.py``) and the label side (``shipments/notices.py``) both move an order's
``lifecycle``; the rules they follow live here, so that the two never disagree.
"""

from __future__ import annotations

from connections.models import ShipStationStatus

from .models import Lifecycle

# A label was seen: what the import side learns about ShipStation's status does not undo that.
LABELLED = frozenset({Lifecycle.SHIPPED, Lifecycle.NOTIFIED})
# Gone from ShipStation as an order of its own: not written, not created again unless a person asks.
GONE = frozenset({Lifecycle.MERGED, Lifecycle.DELETED})


def lifecycle_after_write(current: str, *, status: str, split: bool = False) -> str:
    """The lifecycle once ShipStation accepted our order with ``status`` (``split``: ShipStation split it)."""
    if status == ShipStationStatus.CANCELLED:
        return Lifecycle.CANCELLED
    if current in LABELLED:
        return current
    if status == ShipStationStatus.ON_HOLD:
        return Lifecycle.ON_HOLD
    if split:
        return Lifecycle.SPLIT
    return Lifecycle.IMPORTED


def lifecycle_after_closed(current: str, *, status: str) -> str:
    """ShipStation's copy is shipped or cancelled: nothing is written, the lifecycle says why."""
    if status == ShipStationStatus.CANCELLED:
        return Lifecycle.CANCELLED
    return current if current in LABELLED else Lifecycle.SHIPPED


def lifecycle_after_labels(current: str, *, shipstation_status: str, unsent: int, sent: int) -> str:
    """The lifecycle from the order's live labels (neither voided nor returns): ``unsent`` of them not yet
    reported to Order Time, ``sent`` reported. With none left (every label voided) the order goes back."""
    if unsent:
        return Lifecycle.SHIPPED
    if sent:
        return Lifecycle.NOTIFIED
    if current not in LABELLED:
        return current
    if shipstation_status == ShipStationStatus.ON_HOLD:
        return Lifecycle.ON_HOLD
    return Lifecycle.IMPORTED
