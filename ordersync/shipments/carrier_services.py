"""Display names of carrier services (``GET /carriers/listservices``), cached per ShipStation account.

Service lists change rarely and every label of a carrier needs the same list, so one call per
carrier and account a day is enough. A failed look-up is not cached: the notice then carries the
service code, which the field mapping allows ("else the code").
"""

from __future__ import annotations

import logging

from django.core.cache import cache

from connections.clients.errors import ClientError
from connections.clients.shipstation import ShipStationClient
from connections.clients_for_store import shipstation_client_for
from connections.models import Store

log = logging.getLogger(__name__)

SERVICE_NAMES_TTL_SECONDS = 24 * 60 * 60


def _cache_key(store: Store, carrier_code: str) -> str:
    return f"ordersync:carrier-services:{store.shipstation_account.limiter_key}:{carrier_code}"


def carrier_service_names(*, store: Store, carrier_code: str, client: ShipStationClient | None = None) -> dict[str, str]:
    """serviceCode → display name for one carrier of the store's ShipStation account."""
    if not carrier_code:
        return {}
    key = _cache_key(store, carrier_code)
    names = cache.get(key)
    if names is None:
        try:
            services = (client or shipstation_client_for(store)).list_services(carrier_code)
        except ClientError as exc:
            log.warning("Service names of carrier %s unavailable for store %s: %s", carrier_code, store, exc)
            return {}
        names = {service.code: service.name for service in services}
        cache.set(key, names, SERVICE_NAMES_TTL_SECONDS)
    return names
