"""ShipStation API V1 client (wire contract: ``shared/api/shipstation-v1.md``).

Returns the typed objects of ``types.py``; raises the typed errors of ``errors.py``. Requests go
through the shared ``Transport`` (retries, timeouts) and a rate limiter fed by ``X-Rate-Limit-*``.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import requests

from .dates import format_shipstation, parse_shipstation, parse_shipstation_date, shipstation_window_start
from .errors import (
    AuthenticationFailed,
    CredentialsUnusable,
    NotFound,
    ProtocolError,
    RequestRejected,
    ServerError,
)
from .http import DEFAULT_MAX_RESPONSE_BYTES, RetryPolicy, Transport, excerpt
from .ratelimit import InMemoryRateLimiter, RateLimiter
from .types import (
    CarrierService,
    CreateOrdersResult,
    Fulfillment,
    OrderResult,
    RateLimitState,
    Shipment,
    ShipmentItem,
    SSAddress,
    SSStore,
    Webhook,
)

SERVICE = "ShipStation"
MAX_ORDERS_PER_CALL = 100  # §7.1
MAX_PAGE_SIZE = 500  # §3
MIN_PAGE_SIZE = 1  # gotcha 16: halving stops here, then the 5xx is raised
TRUSTED_HOST = re.compile(r"^ssapi\d*\.shipstation\.com$")


def is_trusted_resource_url(url: str, *, extra_hosts: Iterable[str] = (), allow_http: bool = False) -> bool:
    """May our ShipStation credentials be sent to this webhook ``resource_url``? (§13.3)

    ShipStation hosts: https, no user-info, no explicit port, host ``ssapiN.shipstation.com``.
    ``extra_hosts`` are ``host[:port]`` values of configured base URLs (a simulator); they must match
    the URL's netloc exactly.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    allowed_schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme.lower() not in allowed_schemes or parts.username is not None or parts.password is not None:
        return False
    if "@" in parts.netloc:
        return False
    host = (parts.hostname or "").lower()
    netloc = parts.netloc.lower()
    if netloc in {h.lower() for h in extra_hosts}:
        return True
    return port is None and bool(TRUSTED_HOST.fullmatch(host))


def with_query_value(url: str, name: str, value: str) -> tuple[str, dict[str, str]]:
    """Split ``url`` into (base URL, query dict) with ``name`` (matched case-insensitively) set to ``value``."""
    parts = urlsplit(url)
    query = {k: v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() != name.lower()}
    query[name] = value
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), query


class _CountingHook:
    """Counts every attempt the transport makes (retries included) before handing it to the limiter."""

    def __init__(self, limiter: RateLimiter):
        self.limiter = limiter
        self.count = 0
        self._lock = threading.Lock()

    def before_request(self) -> None:
        self.limiter.before_request()
        with self._lock:
            self.count += 1

    def after_response(self, headers: Mapping[str, str], status: int) -> None:
        self.limiter.after_response(headers, status)


class ShipStationClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_secret: str,
        *,
        timeout: tuple[float, float] = (5.0, 30.0),
        retry: RetryPolicy | None = None,
        rate_limiter: RateLimiter | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ):
        self.rate_limiter = rate_limiter or InMemoryRateLimiter(sleep=sleep)
        self._counter = _CountingHook(self.rate_limiter)
        self.transport = Transport(
            service=SERVICE,
            base_url=base_url,
            auth=(api_key, api_secret),
            timeout=timeout,
            retry=retry or RetryPolicy(),
            rate_limit=self._counter,
            session=session,
            sleep=sleep,
            max_response_bytes=max_response_bytes,
        )

    @property
    def calls(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self._counter.count

    def rate_limit_state(self) -> RateLimitState:
        return self.rate_limiter.state()

    # ------------------------------------------------------------------ stores (§6)

    def list_stores(self, show_inactive: bool = True) -> list[SSStore]:
        body = self._json("GET", "/stores", params={"showInactive": _flag(show_inactive)})
        return [_parse_store(raw) for raw in _expect_list(body, "stores") if raw is not None]

    def check_store(self, store_id: int) -> SSStore:
        """The store orders will go to; it must exist and be active.

        Looked up in the documented store list rather than ``GET /stores/{id}``, whose answer for an
        unknown id is undocumented.
        """
        for store in self.list_stores(show_inactive=True):
            if store.store_id == int(store_id):
                if not store.active:
                    raise RequestRejected(f"ShipStation store {store_id} is inactive", service=SERVICE)
                return store
        raise NotFound(f"ShipStation store {store_id} not found", service=SERVICE, status=404)

    # ------------------------------------------------------------------ orders (§7, §9)

    def create_orders(self, orders: list[dict]) -> CreateOrdersResult:
        """Create or update up to 100 orders; one result per order sent, in the order sent."""
        if len(orders) > MAX_ORDERS_PER_CALL:
            raise ValueError(f"createorders takes at most {MAX_ORDERS_PER_CALL} orders, got {len(orders)}")
        if not orders:
            return CreateOrdersResult(has_errors=False, results=())
        # A retry is harmless only when every order upserts by key (§7.1).
        idempotent = all(order.get("orderKey") for order in orders)
        body = self._json("POST", "/orders/createorders", json=orders, retry_unsafe=idempotent)
        if not isinstance(body, dict) or not isinstance(body.get("results"), list):
            raise ProtocolError("ShipStation createorders answer has no results list", service=SERVICE,
                                excerpt=_excerpt_json(body))
        results = _match_results(orders, [r for r in body["results"] if isinstance(r, dict)])
        has_errors = body.get("hasErrors") is True or any(not r.success for r in results)
        return CreateOrdersResult(has_errors=has_errors, results=tuple(results))

    def create_order(self, order: dict) -> dict:
        """Create or update one order (``POST /orders/createorder``, upsert by ``orderKey`` as in §7.1).

        ShipStation answers with the whole stored Order (§7.4). There is no per-order result: an order it
        refuses comes back as a 400 and is raised as ``RequestRejected`` with ShipStation's reasons (§15).
        """
        if not isinstance(order, Mapping):
            raise TypeError(f"createorder takes one order (a dict), got {type(order).__name__}")
        # A retry is harmless only when the order upserts by key (§7.1).
        idempotent = bool(order.get("orderKey"))
        body = self._json("POST", "/orders/createorder", json=dict(order), retry_unsafe=idempotent)
        if not isinstance(body, dict) or _int_or_none(body.get("orderId")) is None:
            raise ProtocolError("ShipStation createorder answer is not an order with an orderId",
                                service=SERVICE, excerpt=_excerpt_json(body))
        return body

    def get_order(self, order_id: int) -> dict:
        try:
            return self._json("GET", f"/orders/{int(order_id)}")
        except NotFound as exc:
            raise NotFound(f"ShipStation order {order_id} not found", service=SERVICE, status=404,
                           excerpt=exc.excerpt) from exc

    def iter_orders(self, **filters: Any) -> Iterator[dict]:
        """``GET /orders`` with ShipStation's own filter names (``orderNumber``, ``storeId``, ...).

        Datetimes become Pacific text (lower bounds widened for the DST overlap); remember that
        ``orderNumber`` is a prefix match (§9).
        """
        params = {name: _query_value(name, value) for name, value in filters.items() if value is not None}
        page_size = int(params.pop("pageSize", MAX_PAGE_SIZE))
        yield from self._paginate("/orders", "orders", params, page_size)

    def iter_store_orders(
        self, store_id: int, *, modify_date_start: datetime | None = None, page_size: int = MAX_PAGE_SIZE
    ) -> Iterator[dict]:
        """ShipStation's current copy of a store's orders changed since ``modify_date_start``, oldest
        change first, 500 a page (§9): one read per 500 orders before an update cycle merges them."""
        yield from self.iter_orders(storeId=int(store_id), modifyDateStart=modify_date_start,
                                    sortBy="ModifyDate", sortDir="ASC", pageSize=page_size)

    def mark_as_shipped(
        self,
        order_id: int,
        carrier_code: str,
        ship_date: date | datetime | None = None,
        tracking_number: str | None = None,
        notify_customer: bool = False,
    ) -> dict:
        payload: dict[str, Any] = {
            "orderId": int(order_id),
            "carrierCode": carrier_code,
            "notifyCustomer": notify_customer,
            "notifySalesChannel": False,
        }
        if ship_date is not None:
            payload["shipDate"] = _date_text(ship_date)
        if tracking_number:
            payload["trackingNumber"] = tracking_number
        return self._json("POST", "/orders/markasshipped", json=payload)

    # ------------------------------------------------------------------ shipments and fulfillments (§10, §11)

    def iter_shipments(
        self,
        *,
        store_id: int | None = None,
        create_date_start: datetime | None = None,
        void_date_start: datetime | None = None,
        include_items: bool = True,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[Shipment]:
        params: dict[str, str] = {
            "includeShipmentItems": _flag(include_items),
            "sortBy": "CreateDate",
            "sortDir": "ASC",
        }
        if store_id is not None:
            params["storeId"] = str(int(store_id))
        if create_date_start is not None:
            params["createDateStart"] = shipstation_window_start(create_date_start)
        if void_date_start is not None:
            params["voidDateStart"] = shipstation_window_start(void_date_start)
        for raw in self._paginate("/shipments", "shipments", params, page_size):
            yield parse_shipment(raw)

    def iter_shipments_from_resource(self, resource_url: str, *, page_size: int = MAX_PAGE_SIZE) -> Iterator[Shipment]:
        """The shipments a SHIP_NOTIFY webhook points at, with items (§13.2).

        The caller must have checked the URL with ``is_trusted_resource_url``: our credentials go there.
        A redirect is never followed: its target was not checked.
        """
        url, params = with_query_value(resource_url, "includeShipmentItems", "true")
        no_redirects = {"allow_redirects": False, "hooks": {"response": _refuse_redirect}}
        for raw in self._paginate(url, "shipments", params, page_size, **no_redirects):
            yield parse_shipment(raw)

    def iter_fulfillments(
        self, *, create_date_start: datetime | None = None, page_size: int = MAX_PAGE_SIZE
    ) -> Iterator[Fulfillment]:
        params = {"sortBy": "CreateDate", "sortDir": "ASC"}
        if create_date_start is not None:
            params["createDateStart"] = shipstation_window_start(create_date_start)
        for raw in self._paginate("/fulfillments", "fulfillments", params, page_size):
            yield parse_fulfillment(raw)

    # ------------------------------------------------------------------ carriers (§14)

    def list_carriers(self) -> list[dict]:
        return [c for c in _expect_list(self._json("GET", "/carriers"), "carriers") if c is not None]

    def list_services(self, carrier_code: str) -> list[CarrierService]:
        body = self._json("GET", "/carriers/listservices", params={"carrierCode": carrier_code})
        return [
            CarrierService(carrier_code=str(raw.get("carrierCode") or carrier_code), code=str(raw["code"]),
                           name=str(raw.get("name") or raw["code"]))
            for raw in _expect_list(body, "services") if isinstance(raw, dict) and raw.get("code")
        ]

    # ------------------------------------------------------------------ webhooks (§13.1)

    def subscribe_webhook(
        self, target_url: str, *, store_id: int | None = None, event: str = "SHIP_NOTIFY",
        friendly_name: str = "Ordersync",
    ) -> int:
        payload = {"target_url": target_url, "event": event, "store_id": store_id, "friendly_name": friendly_name}
        # Subscribing twice makes two webhooks: never retry blindly.
        body = self._json("POST", "/webhooks/subscribe", json=payload, retry_unsafe=False)
        webhook_id = body.get("id", body.get("WebHookID")) if isinstance(body, dict) else None
        if webhook_id is None:
            raise ProtocolError("ShipStation did not return the new webhook's id", service=SERVICE,
                                excerpt=_excerpt_json(body))
        return int(webhook_id)

    def list_webhooks(self) -> list[Webhook]:
        body = self._json("GET", "/webhooks")
        raw_hooks = body.get("webhooks") if isinstance(body, dict) else body
        return [_parse_webhook(raw) for raw in _expect_list(raw_hooks, "webhooks") if isinstance(raw, dict)]

    def delete_webhook(self, webhook_id: int) -> None:
        try:
            self._send("DELETE", f"/webhooks/{int(webhook_id)}")
        except NotFound as exc:
            raise NotFound(f"ShipStation webhook {webhook_id} not found", service=SERVICE, status=404,
                           excerpt=exc.excerpt) from exc

    # ------------------------------------------------------------------ plumbing

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            return self.transport.request(method, path, **kwargs)
        except CredentialsUnusable:
            raise
        except AuthenticationFailed as exc:
            raise AuthenticationFailed("ShipStation rejected the API key or secret", service=SERVICE,
                                       status=exc.status, excerpt=exc.excerpt) from exc
        except RequestRejected as exc:
            raise RequestRejected(rejection_message(exc.status, exc.excerpt), service=SERVICE,
                                  status=exc.status, excerpt=exc.excerpt) from exc

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, path, **kwargs)
        try:
            return response.json()
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError; RecursionError: nesting
            raise ProtocolError(f"ShipStation answered {path} with something that is not JSON", service=SERVICE,
                                status=response.status_code, excerpt=excerpt(response)) from exc

    def _paginate(self, path: str, list_key: str, params: Mapping[str, str], page_size: int,
                  **request_kwargs: Any) -> Iterator[dict]:
        """Every record of a paged list call, nulls skipped (§3, gotchas 13, 16, 17).

        ``pages`` is trusted only when positive (ShipStation's examples say 0 with records on the page);
        otherwise ``total`` and a short page tell where the end is. A 5xx after the transport's retries
        halves the page size and asks again from the same record.
        """
        size = max(MIN_PAGE_SIZE, min(int(page_size), MAX_PAGE_SIZE))
        consumed = 0
        while True:
            page = consumed // size + 1
            skip = consumed - (page - 1) * size
            try:
                body = self._json("GET", path, params={**params, "page": str(page), "pageSize": str(size)},
                                  **request_kwargs)
            except ServerError:
                if size <= MIN_PAGE_SIZE:
                    raise
                size = max(MIN_PAGE_SIZE, size // 2)
                continue
            if not isinstance(body, dict) or not isinstance(body.get(list_key) or [], list):
                raise ProtocolError(f"ShipStation {path} answer has no '{list_key}' list", service=SERVICE,
                                    excerpt=_excerpt_json(body))
            records = body.get(list_key) or []
            for raw in records[skip:]:
                if isinstance(raw, dict):
                    yield raw
            consumed = (page - 1) * size + len(records)
            if not _has_more(body, page, size, len(records), consumed):
                return


def _refuse_redirect(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """A ``requests`` response hook: a 3xx answer is a protocol error, not data and not a place to go."""
    if 300 <= response.status_code < 400:
        location = response.headers.get("Location", "")
        response.close()
        raise ProtocolError(f"ShipStation answered HTTP {response.status_code} with a redirect; not followed",
                            service=SERVICE, status=response.status_code, excerpt=location[:200])


def _has_more(body: Mapping[str, Any], page: int, size: int, received: int, consumed: int) -> bool:
    if received == 0 or received < size:
        return False
    pages = _int_or_none(body.get("pages")) or 0
    if pages > 0:
        return page < pages
    total = _int_or_none(body.get("total"))
    return total is None or consumed < total


# ---------------------------------------------------------------------- parsing


def rejection_message(status: int | None, body_text: str) -> str:
    """A readable sentence from a 4xx body: ASP.NET ``{"Message", "ModelState"}`` or ``{"message"}`` (§15)."""
    prefix = f"ShipStation rejected the request (HTTP {status})"
    try:
        body = json.loads(body_text)
    except ValueError:
        return f"{prefix}: {body_text}" if body_text else prefix
    if not isinstance(body, dict):
        return f"{prefix}: {body_text}"
    message = str(body.get("Message") or body.get("message") or "").strip()
    details = []
    model_state = body.get("ModelState") or body.get("modelState")
    if isinstance(model_state, dict):
        for field_name, reasons in model_state.items():
            reasons = reasons if isinstance(reasons, list) else [reasons]
            details.append(f"{field_name}: {'; '.join(str(r) for r in reasons)}")
    text = " ".join(part for part in [message, " / ".join(details)] if part)
    return f"{prefix}: {text}" if text else f"{prefix}: {body_text}"


def _match_results(orders: list[dict], results: list[dict]) -> list[OrderResult]:
    """Pair results with the orders sent: by orderKey (§7.3), by position for orders sent without a key."""
    by_key = {str(r.get("orderKey")): r for r in results if r.get("orderKey")}
    matched = []
    for position, order in enumerate(orders):
        key = order.get("orderKey")
        raw = by_key.get(str(key)) if key else (results[position] if position < len(results) else None)
        if raw is None:
            matched.append(OrderResult(order_key=str(key or ""), order_number=str(order.get("orderNumber") or ""),
                                       success=False, error_message="ShipStation returned no result for this order"))
            continue
        success = raw.get("success")
        error_message = str(raw.get("errorMessage") or "")
        if not isinstance(success, bool):
            # "false" is a true value in Python; only a real boolean says the order was saved.
            error_message = f"ShipStation answered success={_excerpt_json(success)}, not true or false; " \
                            f"counted as not saved. {error_message}".strip()
        matched.append(OrderResult(
            order_key=str(raw.get("orderKey") or key or ""),
            order_number=str(raw.get("orderNumber") or order.get("orderNumber") or ""),
            success=success is True,
            order_id=_int_or_none(raw.get("orderId")),
            error_message=error_message,
        ))
    return matched


def _parse_store(raw: Mapping[str, Any]) -> SSStore:
    return SSStore(
        store_id=int(raw["storeId"]),
        store_name=str(raw.get("storeName") or ""),
        marketplace_name=str(raw.get("marketplaceName") or ""),
        active=_boolean(raw, "active", default=True),
    )


def _parse_webhook(raw: Mapping[str, Any]) -> Webhook:
    return Webhook(
        webhook_id=int(raw.get("WebHookID", raw.get("id"))),
        hook_type=str(raw.get("HookType") or raw.get("event") or ""),
        url=str(raw.get("Url") or raw.get("target_url") or ""),
        name=str(raw.get("Name") or raw.get("friendly_name") or ""),
        store_id=_int_or_none(raw.get("StoreID", raw.get("store_id"))),
        active=_boolean(raw, "Active", default=True),
    )


def parse_address(raw: Any) -> SSAddress:
    raw = raw if isinstance(raw, dict) else {}
    return SSAddress(
        name=_text(raw.get("name")), company=_text(raw.get("company")), street1=_text(raw.get("street1")),
        street2=_text(raw.get("street2")), city=_text(raw.get("city")), state=_text(raw.get("state")),
        postal_code=_text(raw.get("postalCode")), country=_text(raw.get("country")), phone=_text(raw.get("phone")),
    )


def parse_shipment(raw: Mapping[str, Any]) -> Shipment:
    try:
        options = raw.get("advancedOptions") if isinstance(raw.get("advancedOptions"), dict) else {}
        return Shipment(
            shipment_id=int(raw["shipmentId"]),
            order_id=_int_or_none(raw.get("orderId")),
            order_key=_text(raw.get("orderKey")),
            order_number=_text(raw.get("orderNumber")),
            create_date=parse_shipstation(raw["createDate"]),
            ship_date=parse_shipstation_date(raw["shipDate"]) if raw.get("shipDate") else None,
            tracking_number=_text(raw.get("trackingNumber")),
            carrier_code=_text(raw.get("carrierCode")),
            service_code=_text(raw.get("serviceCode")),
            shipment_cost=_money(raw.get("shipmentCost")),
            insurance_cost=_money(raw.get("insuranceCost")),
            is_return_label=_boolean(raw, "isReturnLabel", default=False),
            voided=_boolean(raw, "voided", default=False),
            void_date=parse_shipstation(raw["voidDate"]) if raw.get("voidDate") else None,
            customer_email=_text(raw.get("customerEmail")),
            store_id=_int_or_none(options.get("storeId")),
            parent_order_id=_int_or_none(options.get("parentId")),
            ship_to=parse_address(raw.get("shipTo")),
            items=tuple(_parse_shipment_item(item) for item in raw.get("shipmentItems") or [] if isinstance(item, dict)),
            custom_field1=_text(options.get("customField1")),
            custom_field2=_text(options.get("customField2")),
            custom_field3=_text(options.get("customField3")),
        )
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise ProtocolError(f"ShipStation shipment could not be read ({exc!r})", service=SERVICE,
                            excerpt=_excerpt_json(raw)) from exc


def _parse_shipment_item(raw: Mapping[str, Any]) -> ShipmentItem:
    quantity = raw.get("quantity")
    return ShipmentItem(
        line_item_key=_text(raw.get("lineItemKey")),
        sku=_text(raw.get("sku")),
        name=_text(raw.get("name")),
        quantity=int(Decimal(str(quantity))) if quantity is not None else 0,
    )


def parse_fulfillment(raw: Mapping[str, Any]) -> Fulfillment:
    try:
        return Fulfillment(
            fulfillment_id=int(raw["fulfillmentId"]),
            order_id=_int_or_none(raw.get("orderId")),
            order_number=_text(raw.get("orderNumber")),
            create_date=parse_shipstation(raw["createDate"]),
            ship_date=parse_shipstation_date(raw["shipDate"]) if raw.get("shipDate") else None,
            tracking_number=_text(raw.get("trackingNumber")),
            carrier_code=_text(raw.get("carrierCode")),
            fulfillment_fee=_money(raw.get("fulfillmentFee")),
            voided=_boolean(raw, "voided", default=False),
            void_date=parse_shipstation(raw["voidDate"]) if raw.get("voidDate") else None,
            customer_email=_text(raw.get("customerEmail")),
            ship_to=parse_address(raw.get("shipTo")),
        )
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise ProtocolError(f"ShipStation fulfillment could not be read ({exc!r})", service=SERVICE,
                            excerpt=_excerpt_json(raw)) from exc


def _expect_list(body: Any, what: str) -> list:
    if not isinstance(body, list):
        raise ProtocolError(f"ShipStation answered a list of {what} with something else", service=SERVICE,
                            excerpt=_excerpt_json(body))
    return body


def _boolean(raw: Mapping[str, Any], key: str, *, default: bool) -> bool:
    """A JSON boolean; null or absent is ``default``. Anything else (``"false"``, ``0``) is not trusted."""
    value = raw.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ProtocolError(f"ShipStation answered {key}={_excerpt_json(value)}, not true or false", service=SERVICE,
                            excerpt=_excerpt_json(raw))
    return value


def _money(value: Any) -> Decimal:
    # str() first: a float's repr is the shortest text that round-trips, so 1.93 stays 1.93.
    return Decimal("0") if value is None else Decimal(str(value))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if math.isfinite(number) else None


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _date_text(value: date | datetime) -> str:
    if isinstance(value, datetime):
        return format_shipstation(value)
    return value.isoformat()


def _query_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return _flag(value)
    if isinstance(value, datetime):
        return shipstation_window_start(value) if name.endswith("Start") else format_shipstation(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _excerpt_json(value: Any) -> str:
    try:
        return json.dumps(value, default=str)[:300]
    except (TypeError, ValueError):
        return repr(value)[:300]
