"""Builds the two API clients for a store from its accounts. The only place that decrypts keys for use."""

from __future__ import annotations

import dataclasses

from django.conf import settings

from .clients.http import RetryPolicy
from .clients.ordertime import OrderTimeClient
from .clients.shipstation import ShipStationClient
from .models import Store
from .rate_limits import ordertime_concurrency_for, shipstation_limiter_for
from .service_urls import service_url_check


def _timeout() -> tuple[float, float]:
    return (5.0, settings.ORDERSYNC_HTTP_TIMEOUT)


def _retry(retry: RetryPolicy | None) -> RetryPolicy:
    return dataclasses.replace(retry or RetryPolicy(), max_rate_limit_wait=settings.ORDERSYNC_RATE_LIMIT_MAX_WAIT)


def ordertime_client_for(store: Store, *, retry: RetryPolicy | None = None) -> OrderTimeClient:
    account = store.ordertime_account
    return OrderTimeClient(
        service_url_check(account.endpoint_url), account.username, account.api_key, timeout=_timeout(),
        retry=_retry(retry), concurrency=ordertime_concurrency_for(account.pk).slot,
        max_response_bytes=settings.ORDERSYNC_MAX_RESPONSE_BYTES, max_pages=settings.ORDERSYNC_EXPORT_MAX_PAGES,
    )


def shipstation_client_for(store: Store, *, retry: RetryPolicy | None = None) -> ShipStationClient:
    account = store.shipstation_account
    return ShipStationClient(
        service_url_check(account.base_url), account.api_key, account.api_secret,
        timeout=_timeout(), retry=_retry(retry), rate_limiter=shipstation_limiter_for(account),
        max_response_bytes=settings.ORDERSYNC_MAX_RESPONSE_BYTES,
    )
