"""A store's ShipStation SHIP_NOTIFY subscription: its target URL, subscribe, list, remove, rotate the secret.

V1 webhooks are unsigned (shipstation-v1.md §13.3), so the target URL carries the store's secret. A
subscription's URL cannot be changed at ShipStation (§13.1): a new secret means delete and subscribe
again. Every call to ShipStation here runs outside a transaction.
"""

from __future__ import annotations

from django.conf import settings

from connections.clients import errors
from connections.clients.shipstation import is_trusted_resource_url
from connections.clients.types import Webhook
from connections.clients_for_store import shipstation_client_for
from connections.models import Store
from connections.services import audit_log_record

from .services import webhook_extra_hosts

# What a subscription call raises when ShipStation refuses or cannot be reached: entry points catch this
# name and never import the clients themselves (pyproject.toml's import contracts).
SubscriptionCallFailed = errors.ClientError


def webhook_resource_url_trusted(*, store: Store, resource_url: str) -> bool:
    """Whether fetching ``resource_url`` would send the store's ShipStation credentials only to ShipStation."""
    return is_trusted_resource_url(resource_url, extra_hosts=webhook_extra_hosts(store),
                                   allow_http=settings.ORDERSYNC_WEBHOOK_ALLOW_HTTP)

LABEL_EVENTS = ("SHIP_NOTIFY", "ITEM_SHIP_NOTIFY")
WEBHOOK_NAME = "Ordersync"


def webhook_target_url(store: Store) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/hooks/shipstation/{store.pk}/?s={store.webhook_secret}"


def _ours(store: Store, hook: Webhook) -> bool:
    # By path, not by the whole URL: a subscription made with an older secret is still ours to remove.
    return hook.webhook_id == store.webhook_id or f"/hooks/shipstation/{store.pk}/" in hook.url


def store_webhooks_list(*, store: Store) -> list[Webhook]:
    """The ShipStation webhooks of this account that point at this store's endpoint."""
    return [hook for hook in shipstation_client_for(store).list_webhooks() if _ours(store, hook)]


def store_webhook_subscribe(*, store: Store, actor=None) -> int:
    """Subscribe SHIP_NOTIFY for the store at ``webhook_target_url``; an existing subscription is kept."""
    target = webhook_target_url(store)
    existing = [hook for hook in store_webhooks_list(store=store) if hook.url == target and hook.hook_type in LABEL_EVENTS]
    if existing:
        webhook_id = existing[0].webhook_id
    else:
        webhook_id = shipstation_client_for(store).subscribe_webhook(
            target, store_id=store.shipstation_store_id, event="SHIP_NOTIFY", friendly_name=f"{WEBHOOK_NAME} {store.name}",
        )
    if store.webhook_id != webhook_id:
        store.webhook_id = webhook_id
        store.save(update_fields=["webhook_id", "updated_at"])
        audit_log_record(actor=actor, store=store, action="webhook_subscribed", obj=store, changes={"webhook_id": webhook_id})
    return webhook_id


def store_webhook_unsubscribe(*, store: Store, actor=None) -> list[int]:
    """Remove every webhook pointing at this store's endpoint; the ids removed."""
    client = shipstation_client_for(store)
    removed = []
    for hook in store_webhooks_list(store=store):
        try:
            client.delete_webhook(hook.webhook_id)
        except errors.NotFound:
            pass  # already gone
        removed.append(hook.webhook_id)
    if store.webhook_id is not None or removed:
        store.webhook_id = None
        store.save(update_fields=["webhook_id", "updated_at"])
        audit_log_record(actor=actor, store=store, action="webhook_removed", obj=store, changes={"webhook_ids": removed})
    return removed


def store_webhook_secret_rotate(*, store: Store, actor=None) -> int | None:
    """Give the store a new webhook secret and move its ShipStation subscription to the new target URL.

    The new secret is saved first, so the old one stops working at once even when ShipStation fails
    afterwards (a leaked secret is the usual reason to rotate); the error then reaches the caller and
    "subscribe" finishes the job, while the poll keeps picking up labels. A store that was not subscribed
    only gets the new secret. Returns the new webhook id, or None when there is no subscription.
    """
    was_subscribed = store.webhook_id is not None or bool(store_webhooks_list(store=store))
    store.webhook_secret = Store._meta.get_field("webhook_secret").get_default()
    store.save(update_fields=["webhook_secret", "updated_at"])
    # The secret itself never goes into the audit log.
    audit_log_record(actor=actor, store=store, action="webhook_secret_rotated", obj=store,
                     changes={"resubscribe": was_subscribed})
    if not was_subscribed:
        return None
    store_webhook_unsubscribe(store=store, actor=actor)
    return store_webhook_subscribe(store=store, actor=actor)
