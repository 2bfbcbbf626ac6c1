"""ShipStation SHIP_NOTIFY webhooks: the endpoint ShipStation posts to, and the store's subscription.

V1 webhooks are unsigned (shipstation-v1.md §13.3), so each store's target URL carries a long random
secret, compared in constant time. The body is only a hint: nothing in it is trusted but the
``resource_url``, which must point at ShipStation before our credentials are sent there. The view
answers at once and a Celery task does the fetch; the poll stays on as the safety net.
"""

from __future__ import annotations

import hmac
import json
import logging

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from connections.clients import errors
from connections.clients.shipstation import is_trusted_resource_url
from connections.clients.types import Webhook
from connections.clients_for_store import shipstation_client_for
from connections.models import Store
from connections.services import audit_log_record
from ordersync.tasks import fetch_webhook_resource

from .services import webhook_extra_hosts

log = logging.getLogger(__name__)

LABEL_EVENTS = ("SHIP_NOTIFY", "ITEM_SHIP_NOTIFY")
WEBHOOK_NAME = "Ordersync"


def webhook_target_url(store: Store) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/hooks/shipstation/{store.pk}/?s={store.webhook_secret}"


def _accepted(message: str) -> JsonResponse:
    return JsonResponse({"detail": message}, status=202)


@csrf_exempt
@require_POST
def shipstation_webhook(request: HttpRequest, store_id: int) -> HttpResponse:
    store = Store.objects.select_related("shipstation_account").filter(pk=store_id, active=True).first()
    if store is None:
        return JsonResponse({"detail": _("Not found.")}, status=404)
    if not hmac.compare_digest(request.GET.get("s", "").encode(), store.webhook_secret.encode()):
        return JsonResponse({"detail": _("Forbidden.")}, status=403)
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return JsonResponse({"detail": _("The body is not JSON.")}, status=400)
    body = body if isinstance(body, dict) else {}
    resource_type = str(body.get("resource_type") or "")
    resource_url = str(body.get("resource_url") or "")
    if resource_type not in LABEL_EVENTS:
        log.info("Webhook for store %s ignored: event %r is not about labels", store.pk, resource_type)
        return _accepted(_("Ignored: not a label event."))
    if not is_trusted_resource_url(resource_url, extra_hosts=webhook_extra_hosts(store),
                                   allow_http=settings.ORDERSYNC_WEBHOOK_ALLOW_HTTP):
        # Fetching it would send our ShipStation credentials to a stranger.
        log.warning("Webhook for store %s ignored: untrusted resource_url %r", store.pk, resource_url[:200])
        return _accepted(_("Ignored."))
    transaction.on_commit(lambda: fetch_webhook_resource.delay(store.pk, resource_url))
    return _accepted(_("Queued."))


# ---------------------------------------------------------------------- subscription services


def _ours(store: Store, hook: Webhook) -> bool:
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
