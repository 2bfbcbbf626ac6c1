"""Reactions of the sync domain to what ``connections`` announces (connected in ``apps.ready``)."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import receiver

from connections.signals import status_mapping_saved


@receiver(status_mapping_saved, dispatch_uid="ordersync.release_held_orders")
def release_held_orders_on_mapping(sender, store, ordertime_status, **kwargs) -> None:
    """Orders held for this status can go now; a task sends them, off the request that saved the mapping."""
    from .tasks import release_held_orders

    transaction.on_commit(lambda: release_held_orders.delay(store.pk, ordertime_status))
