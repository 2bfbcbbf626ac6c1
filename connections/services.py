"""Write paths for accounts, stores, status mappings and settings. One function per action."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext

from .clients import errors
from .clients.statuses import normalise_status
from .clients_for_store import ordertime_client_for, shipstation_client_for
from .credential_rules import credentials_check
from .models import (
    DEFAULT_ORDERTIME_URL,
    DEFAULT_SHIPSTATION_URL,
    DEFAULT_STATUS_MAPPINGS,
    AuditLogEntry,
    HealthState,
    OrderTimeAccount,
    ShipStationAccount,
    ShipStationStatus,
    StatusMapping,
    Store,
    StoreSettings,
)
from .signals import status_mapping_saved


class ConnectionCheckFailed(Exception):
    """A connection check failed; the message names the service and the problem."""


@dataclass(frozen=True)
class ServiceCheck:
    ok: bool
    message: str


@dataclass(frozen=True)
class ConnectionReport:
    ordertime: ServiceCheck
    shipstation: ServiceCheck

    @property
    def ok(self) -> bool:
        return self.ordertime.ok and self.shipstation.ok

    @property
    def first_problem(self) -> str:
        for check in (self.ordertime, self.shipstation):
            if not check.ok:
                return check.message
        return ""


def _redacted(url: str) -> str:
    """The URL without user-info or query string: safe to show and to log."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.hostname + (f":{parts.port}" if parts.port else ""), parts.path, "", ""))


def _describe(service: str, exc: errors.ClientError, url: str) -> str:
    # Translated in the language of whoever ran the check (the admin's, or English on the command line).
    if isinstance(exc, errors.CredentialsUnusable):
        return gettext("The stored %(service)s credentials contain a character that cannot be sent; "
                       "enter them again") % {"service": service}
    if isinstance(exc, errors.AuthenticationFailed):
        if service == "Order Time":
            return gettext("Order Time rejected the username or API key")
        return gettext("ShipStation rejected the API key or secret")
    if isinstance(exc, errors.Unreachable):
        return gettext("%(service)s endpoint unreachable: %(url)s") % {"service": service, "url": _redacted(url)}
    if isinstance(exc, errors.RateLimited):
        return gettext("%(service)s is rate-limiting this account; try again in %(seconds)d s") % {
            "service": service, "seconds": round(exc.retry_after)}
    if isinstance(exc, errors.ServerError):
        return gettext("%(service)s had a server error (HTTP %(status)s); try again later") % {
            "service": service, "status": exc.status}
    return f"{service}: {exc.message}"


def _check_ordertime(store: Store) -> ServiceCheck:
    try:
        ordertime_client_for(store).check_credentials()
    except errors.ClientError as exc:
        return ServiceCheck(False, _describe("Order Time", exc, store.ordertime_account.endpoint_url))
    return ServiceCheck(True, gettext("Order Time accepted the credentials"))


def _check_shipstation(store: Store) -> ServiceCheck:
    try:
        found = shipstation_client_for(store).check_store(store.shipstation_store_id)
    except errors.NotFound:
        return ServiceCheck(False, gettext("ShipStation store %(id)s not found in this account") % {"id": store.shipstation_store_id})
    except errors.RequestRejected as exc:
        return ServiceCheck(False, exc.message)
    except errors.ClientError as exc:
        return ServiceCheck(False, _describe("ShipStation", exc, store.shipstation_account.base_url))
    return ServiceCheck(True, gettext('ShipStation store "%(name)s" (%(id)s) is active') % {"name": found.store_name, "id": found.store_id})


def store_check_connection(*, store: Store) -> ConnectionReport:
    """Call both services and record the outcome as the store's connection health."""
    report = ConnectionReport(ordertime=_check_ordertime(store), shipstation=_check_shipstation(store))
    store_record_health(store=store, ordertime=report.ordertime, shipstation=report.shipstation)
    return report


def store_record_health(*, store: Store, ordertime: ServiceCheck | None = None, shipstation: ServiceCheck | None = None) -> None:
    """Write the health of one or both services (also called by every sync run)."""
    fields: dict = {"health_checked_at": timezone.now()}
    if ordertime is not None:
        fields["ordertime_health"] = HealthState.OK if ordertime.ok else HealthState.FAILED
        fields["ordertime_health_message"] = ordertime.message[:500]
    if shipstation is not None:
        fields["shipstation_health"] = HealthState.OK if shipstation.ok else HealthState.FAILED
        fields["shipstation_health_message"] = shipstation.message[:500]
    Store.objects.filter(pk=store.pk).update(**fields)
    for name, value in fields.items():
        setattr(store, name, value)


def _unique_prefix(name: str) -> str:
    base = (slugify(name) or "store")[:30]
    prefix = base
    while Store.objects.filter(order_key_prefix=prefix).exists():
        prefix = f"{base}-{secrets.token_hex(2)}"
    return prefix


def parse_status_option(text: str) -> tuple[str, str]:
    """``"ORDER TIME STATUS=shipstation_status"`` → the pair, validated."""
    status, sep, target = text.rpartition("=")
    status, target = status.strip(), target.strip()
    if not sep or not status:
        raise ValueError(f'--status must look like "Order Time status=shipstation_status", got "{text}"')
    if target not in ShipStationStatus.values:
        raise ValueError(f'unknown ShipStation status "{target}"; use one of {", ".join(ShipStationStatus.values)}')
    return status, target


@transaction.atomic
def store_connect(
    *,
    name: str,
    ordertime_username: str,
    ordertime_api_key: str,
    shipstation_api_key: str,
    shipstation_api_secret: str,
    shipstation_store_id: int,
    ordertime_url: str | None = None,
    shipstation_url: str | None = None,
    statuses: Mapping[str, str] | None = None,
    verify: bool = True,
    actor=None,
) -> Store:
    """Create the store called ``name`` or update it, then verify both connections.

    On a failed check the whole change is rolled back and ``ConnectionCheckFailed`` names the problem;
    credentials Basic auth cannot carry raise ``CredentialRefused`` before anything is written.
    """
    credentials_check(username=ordertime_username, secrets={
        gettext("Order Time API key"): ordertime_api_key, gettext("ShipStation API key"): shipstation_api_key,
        gettext("ShipStation API secret"): shipstation_api_secret})
    store = Store.objects.select_related("ordertime_account", "shipstation_account").filter(name=name).first()
    created = store is None
    if created:
        ot_account = OrderTimeAccount(endpoint_url=ordertime_url or DEFAULT_ORDERTIME_URL)
        ss_account = ShipStationAccount(base_url=shipstation_url or DEFAULT_SHIPSTATION_URL, label=name)
    else:
        ot_account, ss_account = store.ordertime_account, store.shipstation_account
        if ordertime_url:
            ot_account.endpoint_url = ordertime_url
        if shipstation_url:
            ss_account.base_url = shipstation_url
    ot_account.username = ordertime_username
    ot_account.api_key = ordertime_api_key
    ot_account.save()
    ss_account.api_key = shipstation_api_key
    ss_account.api_secret = shipstation_api_secret
    ss_account.save()

    if created:
        store = Store.objects.create(
            name=name, ordertime_account=ot_account, shipstation_account=ss_account,
            shipstation_store_id=shipstation_store_id, order_key_prefix=_unique_prefix(name),
        )
        StoreSettings.objects.create(store=store)
        for status, target in DEFAULT_STATUS_MAPPINGS.items():
            StatusMapping.objects.create(store=store, ordertime_status=status, shipstation_status=target)
    else:
        store.shipstation_store_id = shipstation_store_id
        store.save(update_fields=["shipstation_store_id", "updated_at"])

    for status, target in (statuses or {}).items():
        status_mapping_set(store=store, ordertime_status=status, shipstation_status=target, actor=actor)

    audit_log_record(actor=actor, store=store, action="store_connected" if created else "store_updated", obj=store,
                     changes={"shipstation_store_id": shipstation_store_id, "statuses": dict(statuses or {})})

    if verify:
        report = store_check_connection(store=store)
        if not report.ok:
            raise ConnectionCheckFailed(report.first_problem)
    return store


def status_mapping_set(*, store: Store, ordertime_status: str, shipstation_status: str, actor=None) -> StatusMapping:
    """Add or replace the mapping of one Order Time status; held orders with that status are released."""
    if shipstation_status not in ShipStationStatus.values:
        raise ValueError(f"unknown ShipStation status {shipstation_status!r}")
    key = normalise_status(ordertime_status)
    mapping = next((m for m in store.status_mappings.all() if normalise_status(m.ordertime_status) == key), None)
    before = mapping.shipstation_status if mapping else None
    if mapping is None:
        mapping = StatusMapping.objects.create(store=store, ordertime_status=ordertime_status.strip(), shipstation_status=shipstation_status)
    elif mapping.shipstation_status != shipstation_status:
        mapping.shipstation_status = shipstation_status
        mapping.save(update_fields=["shipstation_status"])
    if before != shipstation_status:
        audit_log_record(actor=actor, store=store, action="status_mapping_set", obj=mapping,
                         changes={"ordertime_status": mapping.ordertime_status, "before": before, "after": shipstation_status})
        announce_status_mapping_saved(store=store, ordertime_status=mapping.ordertime_status)
    return mapping


def announce_status_mapping_saved(*, store: Store, ordertime_status: str) -> None:
    """Tell the sync domain after commit, so released orders see the committed mapping."""
    transaction.on_commit(lambda: status_mapping_saved.send(sender=StatusMapping, store=store, ordertime_status=ordertime_status))


def status_mappings_for(store: Store) -> dict[str, str]:
    """Normalised Order Time status → ShipStation status, as the mapping layer wants it."""
    return {normalise_status(m.ordertime_status): m.shipstation_status for m in store.status_mappings.all()}


def audit_log_record(*, actor, store: Store | None, action: str, obj, changes: Mapping | None = None) -> AuditLogEntry:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditLogEntry.objects.create(
        actor=user, store=store, action=action, object_type=type(obj).__name__,
        object_repr=str(obj)[:200], changes=dict(changes or {}),
    )
