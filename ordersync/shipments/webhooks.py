"""The endpoint ShipStation posts SHIP_NOTIFY webhooks to (the subscription lives in ``subscriptions.py``).

V1 webhooks are unsigned (shipstation-v1.md §13.3), so each store's target URL carries a long random
secret, compared in constant time. The body is only a hint: nothing in it is trusted but the
``resource_url``, which must point at ShipStation before our credentials are sent there. The body is
size-capped before it is parsed, and a ``resource_url`` seen again within the replay window is not
fetched again. The view answers at once and a Celery task does the fetch; the poll stays on as the
safety net.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from connections.models import Store
from ordersync.tasks import fetch_webhook_resource

from .subscriptions import LABEL_EVENTS, webhook_resource_url_trusted

log = logging.getLogger(__name__)


class BadBody(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


def _accepted(message: str) -> JsonResponse:
    return JsonResponse({"detail": message}, status=202)


def _read_body(request: HttpRequest) -> dict:
    """The JSON object posted, read no further than the cap; a hostile body raises ``BadBody``."""
    cap = settings.ORDERSYNC_WEBHOOK_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > cap:
        raise BadBody(_("The body is too large."), status=413)
    # The read is capped too: the declared length is the sender's word.
    raw = request.read(cap + 1)
    if len(raw) > cap:
        raise BadBody(_("The body is too large."), status=413)
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser's stack
        raise BadBody(_("The body is not JSON.")) from None
    if not isinstance(body, dict):
        raise BadBody(_("The body is not a JSON object."))
    for name in ("resource_type", "resource_url"):
        # Strings only: a nested value would be turned into text below, and that recurses too.
        if not isinstance(body.get(name, ""), str):
            raise BadBody(_("%(field)s is not a string.") % {"field": name})
    return body


def _first_sighting(store: Store, resource_url: str) -> bool:
    """True the first time this store hears of ``resource_url`` within the replay window.

    ``cache.add`` is atomic in Redis, so two workers receiving the same delivery cannot both queue it.
    """
    window = settings.ORDERSYNC_WEBHOOK_REPLAY_SECONDS
    if window <= 0:
        return True
    digest = hashlib.sha256(resource_url.encode()).hexdigest()
    return cache.add(f"webhook-seen:{store.pk}:{digest}", 1, timeout=window)


@csrf_exempt
@require_POST
def shipstation_webhook(request: HttpRequest, store_id: int) -> HttpResponse:
    store = Store.objects.select_related("shipstation_account").filter(pk=store_id, active=True).first()
    if store is None:
        return JsonResponse({"detail": _("Not found.")}, status=404)
    if not hmac.compare_digest(request.GET.get("s", "").encode(), store.webhook_secret.encode()):
        return JsonResponse({"detail": _("Forbidden.")}, status=403)
    try:
        body = _read_body(request)
    except BadBody as exc:
        log.info("Webhook for store %s refused: %s", store.pk, exc.message)
        return JsonResponse({"detail": exc.message}, status=exc.status)
    resource_type = body.get("resource_type") or ""
    resource_url = body.get("resource_url") or ""
    if resource_type not in LABEL_EVENTS:
        log.info("Webhook for store %s ignored: event %r is not about labels", store.pk, resource_type[:50])
        return _accepted(_("Ignored: not a label event."))
    if not webhook_resource_url_trusted(store=store, resource_url=resource_url):
        # Fetching it would send our ShipStation credentials to a stranger.
        log.warning("Webhook for store %s ignored: untrusted resource_url %r", store.pk, resource_url[:200])
        return _accepted(_("Ignored."))
    if not _first_sighting(store, resource_url):
        log.info("Webhook for store %s: %s already queued", store.pk, resource_url[:200])
        return _accepted(_("Already queued."))
    transaction.on_commit(lambda: fetch_webhook_resource.delay(store.pk, resource_url))
    return _accepted(_("Queued."))
