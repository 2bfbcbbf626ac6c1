"""ShipStation API V1 simulator: a stateful werkzeug WSGI app following ``shared/api/shipstation-v1.md``.

What it does on purpose, like ShipStation: Basic auth on every call, a fixed-window rate limit per key
pair with ``X-Rate-Limit-*`` headers on every answer, ``createorders`` as an upsert by ``orderKey`` with
per-order results (``createorder``: the same upsert for one order, answering the stored Order), naive
Pacific dates with 7 fractional digits, ``includeShipmentItems`` off by default, voided labels kept in
the list, unsigned webhooks whose body only points at a resource URL.

Everything the documentation marks UNKNOWN is a constructor option. Control endpoints live under
``/_sim/`` (JSON, no auth, never rate-limited, never faulted); tests in the same process can call the
Python methods of the same names instead.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import math
import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .faults import FaultConfig, Faults
from .shipstation_lifecycle import OrderLifecycleMixin

PACIFIC = ZoneInfo("America/Los_Angeles")
FILTER_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"  # §4: the only format request filters are read in
MAX_ORDERS_PER_CALL = 100
MAX_ORDERS_PAGE_SIZE = 500
ORDER_STATUSES = ("awaiting_payment", "awaiting_shipment", "shipped", "on_hold", "cancelled")
OPEN_STATUSES = ("awaiting_payment", "awaiting_shipment", "on_hold", "pending_fulfillment")
WEBHOOK_EVENTS = (
    "ORDER_NOTIFY", "ITEM_ORDER_NOTIFY", "SHIP_NOTIFY", "ITEM_SHIP_NOTIFY",
    "FULFILLMENT_SHIPPED", "FULFILLMENT_REJECTED",
)
LABEL_EVENTS = ("SHIP_NOTIFY", "ITEM_SHIP_NOTIFY")
DEFAULT_LOCKED_ORDER_MESSAGE = (
    "Order '{orderNumber}' is {orderStatus} and can no longer be modified through the API."
)

# Fields §8 lets a client send that SW's one-example createorders schema does not list.
FIELDS_BEYOND_SWAGGER = {
    "": {"orderId"},  # split orders send it on updates (§7.1)
    "advancedOptions": {"billToMyOtherAccount"},
    "internationalOptions": {"nonDelivery"},
}

SWAGGER_ENV = "SHIPSTATION_SWAGGER"
SWAGGER_BESIDE_REPO = Path(__file__).resolve().parents[1].parent / "shared" / "api" / "shipstation-v1.swagger.yaml"
TRIMMED_SCHEMA = Path(__file__).with_name("shipstation_createorders_schema.json")


# ---------------------------------------------------------------------- the createorders schema


def load_createorders_schema(swagger_path: str | os.PathLike | None = None) -> dict:
    """SW's body schema of ``POST /orders/createorders``.

    Read from ``swagger_path``, ``$SHIPSTATION_SWAGGER``, ``../shared/api/`` beside the repository, or
    else the trimmed copy kept in ``sandbox/`` (a test keeps the copy equal to the original).
    """
    for candidate in (swagger_path, os.environ.get(SWAGGER_ENV), SWAGGER_BESIDE_REPO):
        if candidate and Path(candidate).is_file():
            return copy.deepcopy(_schema_from_swagger(str(Path(candidate).resolve())))
    return json.loads(TRIMMED_SCHEMA.read_text(encoding="utf-8"))["schema"]


@functools.lru_cache(maxsize=4)
def _schema_from_swagger(path: str) -> dict:
    """Parsed once per process: PyYAML takes about half a second over the whole file."""
    import yaml  # only needed when the full file is there

    with open(path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    return document["paths"]["/orders/createorders"]["post"]["parameters"][0]["schema"]


_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


def schema_problems(value: Any, schema: dict, path: str, *, reject_unknown: bool = True) -> list[tuple[str, str]]:
    """(path, reason) for each field whose name or JSON type SW's schema does not know.

    Only present fields are checked; ``null`` is accepted anywhere (requiredness comes from §8, not
    SW); a field SW typed ``'null'`` (null in its one example) accepts any type.
    """
    if value is None:
        return []
    declared = schema.get("type")
    types = declared if isinstance(declared, list) else [declared] if declared else []
    concrete = [t for t in types if t != "null"]
    if concrete and not any(_JSON_TYPES[t](value) for t in concrete if t in _JSON_TYPES):
        return [(path, _type_reason(value, concrete, path))]
    problems: list[tuple[str, str]] = []
    if isinstance(value, dict) and "properties" in schema:
        known = schema["properties"]
        extra = FIELDS_BEYOND_SWAGGER.get(_schema_key(path), set())
        for name, child in value.items():
            child_path = f"{path}.{name}"
            if name in known:
                problems += schema_problems(child, known[name], child_path, reject_unknown=reject_unknown)
            elif reject_unknown and name not in extra:
                problems.append((child_path, f"Could not find member '{name}' on object. Path '{child_path}'."))
    if isinstance(value, list) and isinstance(schema.get("items"), dict) and schema["items"]:
        for index, child in enumerate(value):
            problems += schema_problems(child, schema["items"], f"{path}[{index}]", reject_unknown=reject_unknown)
    return problems


def _schema_key(path: str) -> str:
    """``[3].advancedOptions`` → ``advancedOptions``; the order itself → ``""``."""
    return re.sub(r"\[\d+\]", "", path).lstrip(".")


def _type_reason(value: Any, expected: list[str], path: str) -> str:
    if "number" in expected and isinstance(value, str):
        return f"Could not convert string to decimal: {value}. Path '{path}'."
    return f"Error converting value {json.dumps(value)[:60]} to type '{'/'.join(expected)}'. Path '{path}'."


# ---------------------------------------------------------------------- dates


def ss_datetime_text(value: datetime) -> str:
    """Naive Pacific with 7 fractional digits, as ShipStation answers: ``2015-07-16T14:00:34.8230000``."""
    local = value.astimezone(PACIFIC) if value.tzinfo else value
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond:06d}0"


def pacific_naive(value: datetime) -> datetime:
    return value.astimezone(PACIFIC).replace(tzinfo=None) if value.tzinfo else value


_ORDER_DATE_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?(Z|[+-]\d{2}:?\d{2})?$"
)


def parse_order_date(text: Any) -> datetime | None:
    """An order's date as sent (``yyyy-mm-dd hh:mm:ss``, or ISO with ``T`` and maybe ``Z``) → naive Pacific."""
    match = _ORDER_DATE_RE.match(text) if isinstance(text, str) else None
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        parsed = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                          int((fraction or "0").ljust(6, "0")[:6]))
    except ValueError:
        return None
    if zone:
        offset = "+00:00" if zone == "Z" else zone
        aware = datetime.fromisoformat(parsed.isoformat() + (offset if ":" in offset else offset[:3] + ":" + offset[3:]))
        parsed = pacific_naive(aware)
    return parsed


class BadRequest(Exception):
    """Becomes a 400 in ASP.NET Web API form (§15)."""

    def __init__(self, model_state: dict[str, list[str]], message: str = "The request is invalid."):
        super().__init__(message)
        self.model_state = model_state
        self.message = message


def parse_filter_date(name: str, text: str, *, date_only_allowed: bool = False) -> datetime:
    try:
        return datetime.strptime(text, FILTER_DATE_FORMAT)
    except ValueError:
        if date_only_allowed:
            try:
                return datetime.strptime(text, "%Y-%m-%d")
            except ValueError:
                pass
    raise BadRequest({name: [f"The value '{text}' is not valid for {name}. Use yyyy-mm-dd hh:mm:ss (Pacific)."]})


# ---------------------------------------------------------------------- seed data


def _store(store_id: int, name: str, *, marketplace_id: int = 0, marketplace_name: str = "ShipStation",
           active: bool = True) -> dict:
    return {
        "storeId": store_id, "storeName": name, "marketplaceId": marketplace_id,
        "marketplaceName": marketplace_name, "accountName": None, "email": None, "integrationUrl": None,
        "active": active, "companyName": "", "phone": "", "publicEmail": "", "website": "",
        "refreshDate": None, "lastRefreshAttempt": None, "createDate": "2014-07-25T11:05:55.3070000",
        "modifyDate": "2014-11-12T08:45:20.5500000", "autoRefresh": marketplace_id != 0,
    }


def default_stores() -> list[dict]:
    return [
        _store(22766, "ShipStation Manual Store"),
        _store(25748, "Ashley's Test WooCommerce", marketplace_id=36, marketplace_name="WooCommerce"),
        _store(26001, "Retired Manual Store", active=False),
    ]


CARRIERS = [
    {"name": "Stamps.com", "code": "stamps_com", "accountNumber": "SS123", "requiresFundedAccount": True,
     "balance": 24.27, "primary": True, "shippingProviderId": 12345},
    {"name": "Stamps.com", "code": "stamps_com", "accountNumber": "SS1234", "requiresFundedAccount": True,
     "balance": 2400.27, "nickname": "Stamps.com 2", "primary": False, "shippingProviderId": 12346},
    {"name": "UPS", "code": "ups", "accountNumber": "ABCR80", "requiresFundedAccount": False, "balance": 0,
     "primary": True, "shippingProviderId": 12347},
    {"name": "FedEx", "code": "fedex", "accountNumber": 297929999, "requiresFundedAccount": False, "balance": 0,
     "nickname": "SS", "primary": True, "shippingProviderId": 12348},
    {"name": "Endicia", "code": "endicia", "accountNumber": "913999", "requiresFundedAccount": True, "balance": 0,
     "primary": True, "shippingProviderId": 12349},
    {"name": "USPS", "code": "usps", "accountNumber": "USPS1", "requiresFundedAccount": True, "balance": 50,
     "primary": True, "shippingProviderId": 12350},
    {"name": "DHL Express", "code": "dhl_express", "accountNumber": "DHL1", "requiresFundedAccount": False,
     "balance": 0, "primary": True, "shippingProviderId": 12351},
]

_USPS_SERVICES = [
    ("usps_first_class_mail", "USPS First Class Mail", True, False),
    ("usps_priority_mail", "USPS Priority Mail", True, False),
    ("usps_priority_mail_express", "USPS Priority Mail Express", True, False),
    ("usps_ground_advantage", "USPS Ground Advantage", True, False),
    ("usps_priority_mail_international", "USPS Priority Mail Intl", False, True),
]
SERVICES: dict[str, list[tuple[str, str, bool, bool]]] = {
    "fedex": [
        ("fedex_ground", "FedEx Ground®", True, False),
        ("fedex_home_delivery", "FedEx Home Delivery®", True, False),
        ("fedex_2day", "FedEx 2Day®", True, False),
    ],
    "ups": [
        ("ups_ground", "UPS® Ground", True, False),
        ("ups_3_day_select", "UPS 3 Day Select®", True, False),
        ("ups_2nd_day_air", "UPS 2nd Day Air®", True, False),
        ("ups_next_day_air", "UPS Next Day Air®", True, False),
        ("ups_worldwide_expedited", "UPS Worldwide Expedited®", False, True),
    ],
    "usps": _USPS_SERVICES,
    "stamps_com": _USPS_SERVICES,
    "endicia": _USPS_SERVICES,
    "dhl_express": [
        ("dhl_express_worldwide", "DHL Express Worldwide", False, True),
        ("dhl_express_12_00", "DHL Express 12:00", False, True),
        ("dhl_express_domestic", "DHL Express Domestic", True, False),
    ],
}


# ---------------------------------------------------------------------- state


@dataclass
class RateWindow:
    started: float
    count: int = 0


@dataclass
class Stats:
    requests: int = 0  # authenticated API requests, 429s included
    unauthorized: int = 0
    max_per_window: int = 0  # most requests that arrived within one window
    windows: int = 0
    real_429s: int = 0  # answered because the client really went over the limit
    injected_429s: int = 0
    injected_500s: int = 0
    createorders_calls: int = 0
    createorder_calls: int = 0  # the single-order call; not in orders_per_call (always one)
    orders_per_call: list[int] = field(default_factory=list)  # one entry per createorders call

    def as_dict(self) -> dict:
        return {
            "requests": self.requests, "unauthorized": self.unauthorized,
            "max_per_window": self.max_per_window, "windows": self.windows,
            "real_429s": self.real_429s, "injected_429s": self.injected_429s,
            "injected_500s": self.injected_500s, "createorders_calls": self.createorders_calls,
            "createorder_calls": self.createorder_calls, "orders_per_call": list(self.orders_per_call),
        }


@dataclass
class WebhookDelivery:
    target_url: str
    payload: dict
    status: int | None = None  # HTTP status of the target's answer; None: not sent or failed
    error: str = ""

    def as_dict(self) -> dict:
        return {"target_url": self.target_url, "payload": self.payload, "status": self.status, "error": self.error}


def _public(record: dict) -> dict:
    """A stored record without its private ``_`` keys."""
    return {k: copy.deepcopy(v) for k, v in record.items() if not k.startswith("_")}


def _number(value: Any) -> float | int:
    if isinstance(value, Decimal):
        return float(value)
    return value


# ---------------------------------------------------------------------- the simulator


class ShipStationSimulator(OrderLifecycleMixin):
    """``ShipStationSimulator()`` is a WSGI app; serve it with ``sandbox.server.SimulatorServer``.

    Options for what ShipStation does not document: ``locked_order_message`` (a ``str.format`` template
    over the stored order), ``pages_zero`` (answer ``pages: 0`` like SW's examples),
    ``shipments_include_order_key`` (SW's example has none), ``void_reopens_order``,
    ``webhooks_bare_array`` (the other reply shape of ``GET /webhooks``), ``deliver_webhooks``,
    ``update_without_store_moves`` (§8.6: an update without ``storeId`` lands in the first manual store).
    Merchant actions (edit, hold, cancel, delete, split, merge) live in ``shipstation_lifecycle``.
    ``base_url`` is used in webhook ``resource_url``s; without it the URL the last API call used.
    """

    def __init__(
        self,
        api_key: str = "demo-key",
        api_secret: str = "demo-secret",
        *,
        rate_limit: int = 40,
        rate_window_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        faults: Faults | None = None,
        stores: list[dict] | None = None,
        base_url: str | None = None,
        pages_zero: bool = False,
        locked_order_message: str = DEFAULT_LOCKED_ORDER_MESSAGE,
        shipments_include_order_key: bool = False,
        void_reopens_order: bool = True,
        webhooks_bare_array: bool = False,
        deliver_webhooks: bool = False,
        webhook_timeout: float = 5.0,
        reject_unknown_fields: bool = True,
        swagger_path: str | os.PathLike | None = None,
        update_without_store_moves: bool = True,
    ):
        self.credentials = (api_key, api_secret)
        self.rate_limit = rate_limit
        self.rate_window_seconds = rate_window_seconds
        self._clock = clock
        self._now = now
        self.faults = faults or Faults()
        self.base_url = base_url
        self.pages_zero = pages_zero
        self.locked_order_message = locked_order_message
        self.shipments_include_order_key = shipments_include_order_key
        self.void_reopens_order = void_reopens_order
        self.webhooks_bare_array = webhooks_bare_array
        self.deliver_webhooks = deliver_webhooks
        self.webhook_timeout = webhook_timeout
        self.reject_unknown_fields = reject_unknown_fields
        self.update_without_store_moves = update_without_store_moves
        self.createorders_schema = load_createorders_schema(swagger_path)
        self._seed_stores = copy.deepcopy(stores) if stores is not None else default_stores()
        self._lock = threading.RLock()
        self._deliveries_changed = threading.Condition(self._lock)
        self._url_map = self._routes()
        self.reset()

    # ------------------------------------------------------------------ state and time

    def reset(self) -> None:
        with self._lock:
            self.stores: dict[int, dict] = {s["storeId"]: copy.deepcopy(s) for s in self._seed_stores}
            self.orders: dict[int, dict] = {}
            self.order_ids_by_key: dict[str, int] = {}
            self.split_ids_by_key: dict[str, list[int]] = {}  # split-off orders share the original's key
            self.create_calls_by_key: dict[str, int] = {}
            self.shipments: dict[int, dict] = {}
            self.fulfillments: dict[int, dict] = {}
            self.webhooks: dict[int, dict] = {}
            self.deliveries: list[WebhookDelivery] = []
            self.stats = Stats()
            self._windows: dict[tuple[str, str], RateWindow] = {}
            self._offset = 0.0
            self._next = {"order": 100_000_001, "item": 200_000_001, "shipment": 300_000_001,
                          "fulfillment": 400_000_001, "webhook": 500_001, "batch": 190_671_332}
            self._last_base_url = ""

    def clock(self) -> float:
        return self._clock() + self._offset

    def now(self) -> datetime:
        return self._now() + timedelta(seconds=self._offset)

    def advance(self, seconds: float) -> None:
        """Move both clocks forward (rate-limit windows and timestamps)."""
        with self._lock:
            self._offset += seconds

    def _new_id(self, kind: str) -> int:
        value = self._next[kind]
        self._next[kind] += 1
        return value

    # ------------------------------------------------------------------ WSGI

    def __call__(self, environ, start_response):
        request = Request(environ)
        response = self._respond(request)
        return response(environ, start_response)

    def _respond(self, request: Request) -> Response:
        if request.path.startswith("/_sim/"):
            return self._dispatch(request, control=True)
        fault_status, delay = self.faults.decide(rate_limited_service=True)
        Faults.apply_delay(delay)
        if not self._authorized(request):
            with self._lock:
                self.stats.unauthorized += 1
            response = _json_response({"Message": "Authorization has been denied for this request."}, 401)
            response.headers["WWW-Authenticate"] = 'Basic realm="ShipStation"'
            return response
        over_limit, headers = self._count_request()
        if over_limit:
            response = _json_response({"message": "Too Many Requests"}, 429)
        elif fault_status == 429:
            with self._lock:
                self.stats.injected_429s += 1
            response = _json_response({"message": "Too Many Requests"}, 429)
        elif fault_status is not None:
            with self._lock:
                self.stats.injected_500s += 1
            response = _json_response({
                "Message": "An error has occurred.",
                "ExceptionMessage": "Object reference not set to an instance of an object.",
                "ExceptionType": "System.NullReferenceException",
                "StackTrace": None,
            }, fault_status)
        else:
            with self._lock:
                self._last_base_url = request.host_url.rstrip("/")
            response = self._dispatch(request, control=False)
        response.headers.update(headers)
        return response

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return (user, password) == self.credentials

    def _count_request(self) -> tuple[bool, dict[str, str]]:
        """Count one request in its key pair's fixed window; (over the limit?, X-Rate-Limit-* headers)."""
        with self._lock:
            now = self.clock()
            window = self._windows.get(self.credentials)
            if window is None or now >= window.started + self.rate_window_seconds:
                window = self._windows[self.credentials] = RateWindow(started=now)
                self.stats.windows += 1
            window.count += 1
            self.stats.requests += 1
            self.stats.max_per_window = max(self.stats.max_per_window, window.count)
            over = window.count > self.rate_limit
            if over:
                self.stats.real_429s += 1
            reset = max(0, math.ceil(window.started + self.rate_window_seconds - now))
            return over, {
                "X-Rate-Limit-Limit": str(self.rate_limit),
                "X-Rate-Limit-Remaining": str(max(0, self.rate_limit - window.count)),
                "X-Rate-Limit-Reset": str(reset),
            }

    def _routes(self) -> Map:
        api = [
            Rule("/stores", endpoint="list_stores", methods=["GET"]),
            Rule("/stores/<int:store_id>", endpoint="get_store", methods=["GET"]),
            Rule("/orders/createorder", endpoint="createorder", methods=["POST"]),
            Rule("/orders/createorders", endpoint="createorders", methods=["POST"]),
            Rule("/orders", endpoint="list_orders", methods=["GET"]),
            Rule("/orders/<int:order_id>", endpoint="get_order", methods=["GET"]),
            Rule("/orders/markasshipped", endpoint="markasshipped", methods=["POST"]),
            Rule("/shipments", endpoint="list_shipments", methods=["GET"]),
            Rule("/fulfillments", endpoint="list_fulfillments", methods=["GET"]),
            Rule("/carriers", endpoint="list_carriers", methods=["GET"]),
            Rule("/carriers/listservices", endpoint="list_services", methods=["GET"]),
            Rule("/webhooks", endpoint="list_webhooks", methods=["GET"]),
            Rule("/webhooks/subscribe", endpoint="subscribe_webhook", methods=["POST"]),
            Rule("/webhooks/<int:webhook_id>", endpoint="delete_webhook", methods=["DELETE"]),
        ]
        control = [
            Rule("/_sim/orders", endpoint="sim_orders", methods=["GET"]),
            Rule("/_sim/labels", endpoint="sim_create_label", methods=["POST"]),
            Rule("/_sim/labels/<int:shipment_id>/void", endpoint="sim_void_label", methods=["POST"]),
            Rule("/_sim/fulfillments", endpoint="sim_fulfillment", methods=["POST"]),
            Rule("/_sim/stores", endpoint="sim_stores", methods=["POST"]),
            Rule("/_sim/stats", endpoint="sim_stats", methods=["GET"]),
            Rule("/_sim/faults", endpoint="sim_faults", methods=["GET", "POST"]),
            Rule("/_sim/reset", endpoint="sim_reset", methods=["POST"]),
            Rule("/_sim/clock", endpoint="sim_clock", methods=["POST"]),
            Rule("/_sim/webhook-deliveries", endpoint="sim_deliveries", methods=["GET"]),
            *self._lifecycle_rules(),
        ]
        return Map(api + control, strict_slashes=False)

    def _dispatch(self, request: Request, *, control: bool) -> Response:
        # ASP.NET routes and query names are case-insensitive; control paths are ours and exact.
        path = request.path if control else request.path.lower()
        adapter = self._url_map.bind("sim", path_info=path, url_scheme="http")
        try:
            endpoint, args = adapter.match(method=request.method)
            handler = getattr(self, f"_http_{endpoint}")
            query = {k.lower(): v for k, v in request.args.items()}
            return handler(request, query, **args)
        except BadRequest as exc:
            return _json_response({"Message": exc.message, "ModelState": exc.model_state}, 400)
        except LookupError as exc:
            return _json_response({"message": str(exc.args[0]) if exc.args else "Not Found"}, 404)
        except MethodNotAllowed:
            return _json_response({"Message": f"The requested resource does not support http method '{request.method}'."}, 405)
        except NotFound:
            return _json_response({"Message": f"No HTTP resource was found that matches the request URI '{request.url}'."}, 404)
        except HTTPException as exc:
            return _json_response({"message": exc.description}, exc.code or 500)

    # ------------------------------------------------------------------ stores (§6)

    def _http_list_stores(self, request, query):
        show_inactive = _query_bool(query, "showinactive", default=False)
        marketplace = _query_int(query, "marketplaceid")
        with self._lock:
            stores = [
                _public(s) for s in self.stores.values()
                if (show_inactive or s["active"]) and (marketplace is None or s["marketplaceId"] == marketplace)
            ]
        return _json_response(stores)

    def _http_get_store(self, request, query, store_id):
        with self._lock:
            store = self.stores.get(store_id)
            if store is None:
                raise LookupError(f"Store {store_id} not found")
            body = {**_public(store), "statusMappings": [
                {"orderStatus": status, "statusKey": status} for status in ORDER_STATUSES
            ]}
        return _json_response(body)

    def add_stores(self, stores: list[dict], *, replace: bool = False) -> list[dict]:
        """Seed stores: each needs ``storeId`` and ``storeName``; ``marketplaceName``/``active`` optional."""
        with self._lock:
            if replace:
                self.stores = {}
            for raw in stores:
                marketplace_name = raw.get("marketplaceName", "ShipStation")
                store = _store(
                    int(raw["storeId"]), str(raw["storeName"]),
                    marketplace_id=int(raw.get("marketplaceId", 0 if marketplace_name == "ShipStation" else 99)),
                    marketplace_name=marketplace_name, active=bool(raw.get("active", True)),
                )
                self.stores[store["storeId"]] = store
            return [_public(s) for s in self.stores.values()]

    def _default_store_id(self) -> int | None:
        """§8.6: orders without ``storeId`` go to the account's first manual store."""
        for store in sorted(self.stores.values(), key=lambda s: s["storeId"]):
            if store["marketplaceId"] == 0:
                return store["storeId"]
        return None

    # ------------------------------------------------------------------ createorder(s) (§7, §8)

    def _http_createorders(self, request: Request, query):
        body = _json_body(request, "orders")
        if not isinstance(body, list):
            raise BadRequest({"orders": [
                "Cannot deserialize the current JSON value into type 'List`1[Order]' because the type "
                "requires a JSON array (e.g. [1,2,3]) to deserialize correctly."
            ]})
        if len(body) > MAX_ORDERS_PER_CALL:
            raise BadRequest({"orders": [
                f"A maximum of {MAX_ORDERS_PER_CALL} orders can be created or updated per request; "
                f"{len(body)} were sent."
            ]})
        self._check_schema(body, self.createorders_schema, "orders")
        return _json_response(self.create_orders(body))

    def _http_createorder(self, request: Request, query):
        """``POST /orders/createorder``: one Order object (not an array), checked against SW's schema for
        one order of ``createorders`` (SW's ``createorder`` body schema is the same), upserted the same way.
        """
        body = _json_body(request, "order")
        if isinstance(body, list):  # §15: seen when an array was sent to createorder
            raise BadRequest({"order": [
                "Cannot deserialize the current JSON array (e.g. [1,2,3]) into type 'Order' because the type "
                "requires a JSON object (e.g. {\"name\":\"value\"}) to deserialize correctly."
            ]})
        if not isinstance(body, dict):
            raise BadRequest({"order": [
                "Cannot deserialize the current JSON value into type 'Order' because the type requires a "
                "JSON object (e.g. {\"name\":\"value\"}) to deserialize correctly."
            ]})
        self._check_schema(body, self.createorders_schema.get("items") or {}, "order")
        return _json_response(self.create_order(body))

    def _check_schema(self, body: Any, schema: dict, parameter: str) -> None:
        """A 400 naming every field whose name or JSON type SW's schema does not know (§8.7, §15)."""
        problems = schema_problems(body, schema, "", reject_unknown=self.reject_unknown_fields)
        if problems:
            model_state: dict[str, list[str]] = {}
            for path, reason in problems:
                model_state.setdefault(f"{parameter}{path}", []).append(reason)
            raise BadRequest(model_state)

    def create_orders(self, orders: list[dict]) -> dict:
        """Upsert already type-checked orders; the ``createorders`` reply."""
        with self._lock:
            self.stats.createorders_calls += 1
            self.stats.orders_per_call.append(len(orders))
            results = [self._upsert(order) for order in orders]
        return {"hasErrors": any(not r["success"] for r in results), "results": results}

    def create_order(self, order: dict) -> dict:
        """Upsert one already type-checked order; the ``createorder`` reply: the whole stored Order (§7.4).

        There is no per-order result to carry a failure, so a rejected order (§8 rules, or a locked order,
        whose answer ShipStation does not document) raises ``BadRequest``: a 400 over HTTP (§15).
        """
        with self._lock:
            self.stats.createorder_calls += 1
            result = self._upsert(order)
            if not result["success"]:
                raise BadRequest({"order": [result["errorMessage"]]})
            return _public(self.orders[result["orderId"]])

    def _upsert(self, incoming: dict) -> dict:
        key = incoming.get("orderKey") or None
        if key:
            self.create_calls_by_key[key] = self.create_calls_by_key.get(key, 0) + 1
        result = {"orderId": None, "orderKey": key, "orderNumber": incoming.get("orderNumber"),
                  "success": False, "errorMessage": None}
        existing, error = self._order_to_update(incoming, key)
        if error:
            result["errorMessage"] = error
            return result
        if existing is not None and existing["orderStatus"] not in OPEN_STATUSES:
            result.update(orderId=existing["orderId"],
                          errorMessage=self.locked_order_message.format_map(_public(existing)))
            return result
        errors = self._order_errors(incoming, creating=existing is None)
        if errors:
            result["errorMessage"] = " ".join(errors)
            return result
        order = self._stored_order(incoming, existing)
        self.orders[order["orderId"]] = order
        if order["advancedOptions"].get("parentId") is None:
            self.order_ids_by_key[order["orderKey"]] = order["orderId"]
        result.update(orderId=order["orderId"], orderKey=order["orderKey"], success=True)
        return result

    def _order_errors(self, order: dict, *, creating: bool) -> list[str]:
        """§8 requiredness and value rules, with the messages ShipStation is known to give."""
        errors = []
        number = order.get("orderNumber")
        if not number:
            errors.append("'Order Number' must not be empty.")
        elif len(number) > 50:
            errors.append(f"The length of 'Order Number' must be 50 characters or fewer. You entered {len(number)} characters.")
        if not order.get("orderDate"):
            errors.append("'Order Date' must not be empty.")
        elif parse_order_date(order["orderDate"]) is None:
            errors.append(f"'Order Date' is not a valid date: {order['orderDate']}.")
        if order.get("orderStatus") not in ORDER_STATUSES:
            errors.append(f"'Order Status' must be one of {', '.join(ORDER_STATUSES)}.")
        for address_field, label in (("billTo", "Bill Name"), ("shipTo", "Ship Name")):
            address = order.get(address_field) or {}
            if not str(address.get("name") or "").strip():
                errors.append(f"'{label}' must not be empty.")
            country = address.get("country")
            country_required = address_field == "shipTo"
            if (country_required or country) and not (isinstance(country, str) and re.fullmatch(r"[A-Za-z]{2}", country)):
                errors.append("Please use a 2 character country code")
        for index, item in enumerate(order.get("items") or []):
            if item is None or item.get("name") is None:
                errors.append(f"Item {index + 1}: 'Name' must not be empty.")
        store_id = (order.get("advancedOptions") or {}).get("storeId")
        if creating and store_id is not None and int(store_id) not in self.stores:
            errors.append(f"Invalid storeId: {store_id}.")
        return errors

    def _stored_order(self, incoming: dict, existing: dict | None) -> dict:
        """The order as ShipStation returns it (§7.4): the whole body replaces the old one (no partial updates)."""
        stamp = ss_datetime_text(self.now())
        order = copy.deepcopy(incoming)
        order.pop("orderId", None)
        if existing is not None:
            order_id, key, created = existing["orderId"], existing["orderKey"], existing["createDate"]
            store_id = existing["advancedOptions"]["storeId"]  # creation-only (§8.6) ...
            if self.update_without_store_moves and not (incoming.get("advancedOptions") or {}).get("storeId"):
                store_id = self._default_store_id()  # ... but left out, the first manual store (§8.6)
        else:
            order_id, key, created = self._new_id("order"), incoming.get("orderKey") or str(uuid.uuid4()), stamp
            store_id = (incoming.get("advancedOptions") or {}).get("storeId") or self._default_store_id()
        for name in ("orderDate", "paymentDate", "shipByDate"):
            parsed = parse_order_date(order.get(name))
            if parsed is not None:
                order[name] = ss_datetime_text(parsed)
        items = []
        for item in order.get("items") or []:
            items.append({
                "orderItemId": self._new_id("item"), "lineItemKey": None, "sku": None, "imageUrl": None,
                "weight": None, "quantity": 1, "unitPrice": 0, "taxAmount": None, "shippingAmount": None,
                "warehouseLocation": None, "options": [], "productId": None, "fulfillmentSku": None,
                "adjustment": False, "upc": None, **item, "createDate": stamp, "modifyDate": stamp,
            })
        advanced = {
            "warehouseId": None, "nonMachinable": False, "saturdayDelivery": False, "containsAlcohol": False,
            "mergedOrSplit": False, "mergedIds": [], "parentId": None, "customField1": None,
            "customField2": None, "customField3": None, "source": None, "billToParty": None,
            "billToAccount": None, "billToPostalCode": None, "billToCountryCode": None,
            **(order.get("advancedOptions") or {}), "storeId": store_id,
        }
        if existing is not None:  # read-only: ShipStation keeps what split and merge set
            for name in ("mergedOrSplit", "mergedIds", "parentId"):
                advanced[name] = copy.deepcopy(existing["advancedOptions"].get(name))
        # Read-only too (§8.1, set by POST /orders/holduntil): an update keeps the date while the order stays on
        # hold; a hold's date means nothing once the order leaves the hold.
        staying_on_hold = existing is not None and order.get("orderStatus") == "on_hold"
        hold_until = existing.get("holdUntilDate") if staying_on_hold else None
        total = sum(Decimal(str(i.get("quantity") or 0)) * Decimal(str(i.get("unitPrice") or 0)) for i in items)
        total += Decimal(str(order.get("shippingAmount") or 0)) + Decimal(str(order.get("taxAmount") or 0))
        defaults = {
            "orderNumber": None, "orderDate": None, "paymentDate": None, "shipByDate": None,
            "orderStatus": None, "customerId": None, "customerUsername": None, "customerEmail": None,
            "amountPaid": 0, "taxAmount": 0, "shippingAmount": 0, "customerNotes": None, "internalNotes": None,
            "gift": False, "giftMessage": None, "paymentMethod": None, "requestedShippingService": None,
            "carrierCode": None, "serviceCode": None, "packageCode": None, "confirmation": "none",
            "shipDate": None, "holdUntilDate": None, "weight": None, "dimensions": None,
            "insuranceOptions": None, "internationalOptions": None, "tagIds": None, "userId": None,
            "externallyFulfilled": False, "externallyFulfilledBy": None,
        }
        read_only = {
            "orderId": order_id, "orderKey": key, "createDate": created, "modifyDate": stamp,
            "holdUntilDate": hold_until,
            "billTo": _address(order.get("billTo")),
            "shipTo": {**_address(order.get("shipTo")), "addressVerified": "Address not yet validated"},
            "items": items, "advancedOptions": advanced, "orderTotal": float(round(total, 2)),
        }
        return {**defaults, **order, **read_only}

    # ------------------------------------------------------------------ orders (§9)

    def _http_list_orders(self, request, query):
        number = query.get("ordernumber")
        status = query.get("orderstatus")
        store_id = _query_int(query, "storeid")
        if status is not None and status not in (*ORDER_STATUSES, "pending_fulfillment", "rejected_fulfillment"):
            raise BadRequest({"orderStatus": [f"The value '{status}' is not valid for orderStatus."]})
        ranges = [_date_range(query, f"{name.lower()}date", name[0].lower() + name[1:] + "Date")
                  for name in ("Create", "Modify", "Order", "Payment")]
        sort_fields = {"orderdate": "orderDate", "modifydate": "modifyDate", "createdate": "createDate"}
        sort_by = _query_choice(query, "sortby", sort_fields, default=None)
        with self._lock:
            orders = [
                _public(o) for o in self.orders.values()
                if not o.get("_deleted")
                and (number is None or str(o["orderNumber"]).startswith(number))  # §9: prefix match
                and (status is None or o["orderStatus"] == status)
                and (store_id is None or o["advancedOptions"]["storeId"] == store_id)
                and all(r.matches(o.get(r.field)) for r in ranges)
            ]
        orders.sort(key=lambda o: (o.get(sort_by) or "", o["orderId"]) if sort_by else o["orderId"],
                    reverse=_descending(query))
        return _json_response(self._page(orders, query, "orders", max_page_size=MAX_ORDERS_PAGE_SIZE))

    def _http_get_order(self, request, query, order_id):
        with self._lock:
            return _json_response(_public(self._live_order(order_id)))

    def order_list(self) -> list[dict]:
        with self._lock:
            return [_public(o) for o in self.orders.values() if not o.get("_deleted")]

    def find_order(self, *, order_id: int | None = None, order_key: str | None = None) -> dict:
        with self._lock:
            if order_id is None and order_key is not None:
                order_id = self.order_ids_by_key.get(order_key)
            order = self.orders.get(int(order_id)) if order_id is not None else None
            if order is None or order.get("_deleted"):
                raise LookupError(f"Order {order_id or order_key} not found")
            return order

    def _page(self, records: list[dict], query: dict, list_key: str, *, max_page_size: int | None = None) -> dict:
        page = _query_int(query, "page") or 1
        size = _query_int(query, "pagesize") or 100
        if page < 1 or size < 1 or (max_page_size and size > max_page_size):
            raise BadRequest({"pageSize": [f"page must be ≥ 1 and pageSize between 1 and {max_page_size or 'any'}."]})
        total = len(records)
        pages = 0 if self.pages_zero else math.ceil(total / size)
        return {list_key: records[(page - 1) * size: page * size], "total": total, "page": page, "pages": pages}

    # ------------------------------------------------------------------ labels and shipments (§10)

    def create_label(
        self,
        order_id: int | None = None,
        *,
        order_key: str | None = None,
        carrier_code: str = "ups",
        service_code: str = "ups_ground",
        tracking_number: str | None = None,
        shipment_cost: Decimal | float = Decimal("8.50"),
        insurance_cost: Decimal | float = Decimal("0"),
        items: list | None = None,
        is_return_label: bool = False,
        create_date: datetime | str | None = None,
        ship_date: date | None = None,
        batch_id: int | None = None,
    ) -> dict:
        """Buy a label for an order (as a user would in ShipStation's UI); the shipment with its items.

        ``items``: ``None`` for all lines, else a list of ``lineItemKey`` strings or
        ``{"lineItemKey": ..., "quantity": ...}`` dicts. The order becomes ``shipped`` unless this is a
        return label. SHIP_NOTIFY webhooks of the order's store fire afterwards.
        """
        with self._lock:
            order = self.find_order(order_id=order_id, order_key=order_key)
            created = self._timestamp(create_date)
            shipment_id = self._new_id("shipment")
            batch = batch_id if batch_id is not None else self._new_id("batch")
            shipment = {
                "shipmentId": shipment_id,
                "orderId": order["orderId"],
                "orderNumber": order["orderNumber"],
                "userId": "123456AB-ab12-3c4d-5e67-89f1abc1defa",
                "customerEmail": order.get("customerEmail"),
                "batchNumber": str(batch),
                "createDate": ss_datetime_text(created),
                "shipDate": (ship_date or pacific_naive(created).date()).isoformat(),
                "shipmentCost": _number(Decimal(str(shipment_cost))),
                "insuranceCost": _number(Decimal(str(insurance_cost))),
                "trackingNumber": tracking_number or f"1Z{shipment_id:016d}",
                "isReturnLabel": is_return_label,
                "carrierCode": carrier_code,
                "serviceCode": service_code,
                "packageCode": order.get("packageCode") or "package",
                "confirmation": order.get("confirmation") or "none",
                "warehouseId": order["advancedOptions"].get("warehouseId"),
                "voided": False,
                "voidDate": None,
                "marketplaceNotified": False,
                "notifyErrorMessage": None,
                "shipTo": copy.deepcopy({k: v for k, v in order["shipTo"].items() if k != "addressVerified"}),
                "weight": copy.deepcopy(order.get("weight")),
                "dimensions": copy.deepcopy(order.get("dimensions")),
                "insuranceOptions": copy.deepcopy(order.get("insuranceOptions"))
                or {"provider": None, "insureShipment": False, "insuredValue": 0},
                "advancedOptions": copy.deepcopy(order["advancedOptions"]),
                "shipmentItems": self._label_items(order, items),
                "labelData": None,
                "formData": None,
                "_created": pacific_naive(created),
                "_voided": None,
                "_batch": batch,
                "_orderKey": order["orderKey"],
                "_storeId": order["advancedOptions"].get("storeId"),
            }
            if self.shipments_include_order_key:
                shipment["orderKey"] = order["orderKey"]
            self.shipments[shipment_id] = shipment
            if not is_return_label:
                order["orderStatus"] = "shipped"
                order["shipDate"] = shipment["shipDate"]
                order["modifyDate"] = ss_datetime_text(self.now())
            hooks = [] if is_return_label else self._label_hooks(shipment["_storeId"])
            base = self.base_url or self._last_base_url or "https://ssapi.shipstation.com"
            result = _public(shipment)
        for hook in hooks:
            include_items = "True" if hook["HookType"] == "ITEM_SHIP_NOTIFY" else "False"
            self._notify(hook["Url"], {
                "resource_url": f"{base}/shipments?batchId={batch}&includeShipmentItems={include_items}",
                "resource_type": hook["HookType"],
            })
        return result

    def _label_items(self, order: dict, wanted: list | None) -> list[dict]:
        lines = [i for i in order["items"] if not i.get("adjustment")]
        if wanted is None:
            chosen = [(line, line.get("quantity")) for line in lines]
        else:
            by_key = {str(line.get("lineItemKey")): line for line in lines}
            chosen = []
            for entry in wanted:
                key = entry if isinstance(entry, str) else entry["lineItemKey"]
                if key not in by_key:
                    raise LookupError(f"Order {order['orderId']} has no line {key}")
                quantity = by_key[key].get("quantity") if isinstance(entry, str) else entry.get("quantity")
                chosen.append((by_key[key], quantity))
        fields = ("orderItemId", "lineItemKey", "sku", "name", "imageUrl", "weight", "unitPrice", "taxAmount",
                  "shippingAmount", "warehouseLocation", "options", "productId", "fulfillmentSku",
                  "adjustment", "upc", "createDate", "modifyDate")
        return [{**{f: copy.deepcopy(line.get(f)) for f in fields}, "quantity": quantity} for line, quantity in chosen]

    def void_label(self, shipment_id: int, *, void_date: datetime | str | None = None) -> dict:
        with self._lock:
            shipment = self.shipments.get(int(shipment_id))
            if shipment is None:
                raise LookupError(f"Shipment {shipment_id} not found")
            voided = self._timestamp(void_date)
            shipment.update(voided=True, voidDate=ss_datetime_text(voided), _voided=pacific_naive(voided))
            order = self.orders.get(shipment["orderId"])
            still_shipped = any(
                s["orderId"] == shipment["orderId"] and not s["voided"] and not s["isReturnLabel"]
                for s in self.shipments.values()
            )
            if self.void_reopens_order and order is not None and order["orderStatus"] == "shipped" and not still_shipped:
                order["orderStatus"] = "awaiting_shipment"
                order["shipDate"] = None
            return _public(shipment)

    def _http_list_shipments(self, request, query):
        include_items = _query_bool(query, "includeshipmentitems", default=False)
        created = _date_range(query, "createdate", "_created")
        voided = _date_range(query, "voiddate", "_voided")
        shipped = _date_range(query, "shipdate", "shipDate", date_only_allowed=True)
        equal_filters = {
            "orderid": ("orderId", int), "storeid": ("_storeId", int), "batchid": ("_batch", int),
            "trackingnumber": ("trackingNumber", str), "carriercode": ("carrierCode", str),
            "servicecode": ("serviceCode", str),
        }
        wanted = {target: convert(query[name]) for name, (target, convert) in equal_filters.items()
                  if _present(query, name, convert)}
        number = query.get("ordernumber")
        recipient = (query.get("recipientname") or "").lower()
        country = query.get("recipientcountrycode")
        sort_by = _query_choice(query, "sortby", {"shipdate": "shipDate", "createdate": "_created"}, default="_created")
        with self._lock:
            rows = [
                s for s in self.shipments.values()
                if all(s.get(k) == v for k, v in wanted.items())
                and (number is None or str(s["orderNumber"]).startswith(number))
                and recipient in str(s["shipTo"].get("name") or "").lower()
                and (country is None or s["shipTo"].get("country") == country)
                and created.matches(s["_created"]) and voided.matches(s["_voided"])
                and shipped.matches(datetime.fromisoformat(s["shipDate"]))
            ]
            rows.sort(key=lambda s: (s[sort_by], s["shipmentId"]), reverse=_descending(query))
            records = [_public(s) for s in rows]
        if not include_items:
            for record in records:
                record.pop("shipmentItems", None)
        return _json_response(self._page(records, query, "shipments"))

    # ------------------------------------------------------------------ fulfillments (§11, §12)

    def mark_shipped(
        self,
        order_id: int,
        carrier_code: str,
        *,
        ship_date: date | str | None = None,
        tracking_number: str | None = None,
        notify_customer: bool = False,
        create_date: datetime | str | None = None,
    ) -> dict:
        """Mark an order shipped without a label; the new fulfillment."""
        with self._lock:
            order = self.find_order(order_id=order_id)
            created = self._timestamp(create_date)
            shipped_on = date.fromisoformat(str(ship_date)[:10]) if ship_date else pacific_naive(created).date()
            fulfillment_id = self._new_id("fulfillment")
            fulfillment = {
                "fulfillmentId": fulfillment_id,
                "orderId": order["orderId"],
                "orderNumber": order["orderNumber"],
                "userId": "c9f06d74-95de-4263-9b04-e87095cababf",
                "customerEmail": order.get("customerEmail"),
                "trackingNumber": tracking_number,
                "createDate": ss_datetime_text(created),
                "shipDate": ss_datetime_text(datetime.combine(shipped_on, datetime.min.time())),
                "voidDate": None,
                "deliveryDate": None,
                "carrierCode": carrier_code,
                "fulfillmentProviderCode": None,
                "fulfillmentServiceCode": None,
                "fulfillmentFee": 0,
                "voidRequested": False,
                "voided": False,
                "marketplaceNotified": notify_customer,
                "notifyErrorMessage": None,
                "shipTo": copy.deepcopy({k: v for k, v in order["shipTo"].items() if k != "addressVerified"}),
                "_created": pacific_naive(created),
                "_shipped": datetime.combine(shipped_on, datetime.min.time()),
            }
            self.fulfillments[fulfillment_id] = fulfillment
            order["orderStatus"] = "shipped"
            order["shipDate"] = shipped_on.isoformat()
            order["modifyDate"] = ss_datetime_text(self.now())
            return _public(fulfillment)

    def _http_markasshipped(self, request: Request, query):
        body = _json_body(request)
        if not isinstance(body, dict):
            raise BadRequest({"request": ["A JSON object is required."]})
        model_state = {}
        if not isinstance(body.get("orderId"), int) or isinstance(body.get("orderId"), bool):
            model_state["orderId"] = ["'Order Id' must be a number."]
        if not body.get("carrierCode"):
            model_state["carrierCode"] = ["'Carrier Code' must not be empty."]
        ship_date = body.get("shipDate")
        if ship_date is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ][\d:.]+)?", str(ship_date)):
            model_state["shipDate"] = [f"The value '{ship_date}' is not a valid date."]
        if model_state:
            raise BadRequest(model_state)
        fulfillment = self.mark_shipped(
            body["orderId"], body["carrierCode"], ship_date=ship_date,
            tracking_number=body.get("trackingNumber"), notify_customer=bool(body.get("notifyCustomer")),
        )
        return _json_response({"orderId": fulfillment["orderId"], "orderNumber": fulfillment["orderNumber"]})

    def _http_list_fulfillments(self, request, query):
        created = _date_range(query, "createdate", "_created")
        shipped = _date_range(query, "shipdate", "_shipped", date_only_allowed=True)
        equal_filters = {"fulfillmentid": ("fulfillmentId", int), "orderid": ("orderId", int),
                         "trackingnumber": ("trackingNumber", str)}
        wanted = {target: convert(query[name]) for name, (target, convert) in equal_filters.items()
                  if _present(query, name, convert)}
        number = query.get("ordernumber")
        recipient = (query.get("recipientname") or "").lower()
        sort_by = _query_choice(query, "sortby", {"shipdate": "_shipped", "createdate": "_created"}, default="_created")
        with self._lock:
            rows = [
                f for f in self.fulfillments.values()
                if all(f.get(k) == v for k, v in wanted.items())
                and (number is None or str(f["orderNumber"]).startswith(number))
                and recipient in str(f["shipTo"].get("name") or "").lower()
                and created.matches(f["_created"]) and shipped.matches(f["_shipped"])
            ]
            rows.sort(key=lambda f: (f[sort_by], f["fulfillmentId"]), reverse=_descending(query))
            records = [_public(f) for f in rows]
        return _json_response(self._page(records, query, "fulfillments"))

    # ------------------------------------------------------------------ carriers (§14)

    def _http_list_carriers(self, request, query):
        return _json_response(copy.deepcopy(CARRIERS))

    def _http_list_services(self, request, query):
        code = query.get("carriercode")
        if not code:
            raise BadRequest({"carrierCode": ["'Carrier Code' must not be empty."]})
        if code not in SERVICES:
            raise BadRequest({"carrierCode": [f"Invalid carrierCode: {code}"]})
        return _json_response([
            {"carrierCode": code, "code": service, "name": name, "domestic": domestic, "international": international}
            for service, name, domestic, international in SERVICES[code]
        ])

    # ------------------------------------------------------------------ webhooks (§13)

    def _http_subscribe_webhook(self, request: Request, query):
        body = _json_body(request)
        if not isinstance(body, dict):
            raise BadRequest({"request": ["A JSON object is required."]})
        model_state = {}
        if not isinstance(body.get("target_url"), str) or not body["target_url"]:
            model_state["target_url"] = ["'target_url' must not be empty."]
        if body.get("event") not in WEBHOOK_EVENTS:
            model_state["event"] = [f"'event' must be one of {', '.join(WEBHOOK_EVENTS)}."]
        store_id = body.get("store_id")
        if store_id is not None and (not isinstance(store_id, int) or store_id not in self.stores):
            model_state["store_id"] = [f"Invalid store_id: {store_id}."]
        if model_state:
            raise BadRequest(model_state)
        webhook_id = self.subscribe(body["target_url"], body["event"], store_id=store_id,
                                    friendly_name=body.get("friendly_name"))
        return _json_response({"id": webhook_id})

    def subscribe(self, target_url: str, event: str, *, store_id: int | None = None,
                  friendly_name: str | None = None) -> int:
        with self._lock:
            webhook_id = self._new_id("webhook")
            self.webhooks[webhook_id] = {
                "WebHookID": webhook_id, "HookType": event, "Url": target_url,
                "Name": friendly_name or target_url, "StoreID": store_id, "SellerID": 100000,
                "Active": True, "IsLabelAPIHook": False, "MessageFormat": "Json", "WebhookLogs": [],
            }
            return webhook_id

    def _http_list_webhooks(self, request, query):
        with self._lock:
            hooks = [copy.deepcopy(h) for h in self.webhooks.values()]
        return _json_response(hooks if self.webhooks_bare_array else {"webhooks": hooks})

    def _http_delete_webhook(self, request, query, webhook_id):
        with self._lock:
            if self.webhooks.pop(webhook_id, None) is None:
                raise LookupError(f"Webhook {webhook_id} not found")
        return Response(b"", status=200)

    def _label_hooks(self, store_id: int | None) -> list[dict]:
        return [
            copy.deepcopy(h) for h in self.webhooks.values()
            if h["Active"] and h["HookType"] in LABEL_EVENTS and h["StoreID"] in (None, store_id)
        ]

    def _notify(self, target_url: str, payload: dict) -> None:
        delivery = WebhookDelivery(target_url=target_url, payload=payload)
        with self._lock:
            self.deliveries.append(delivery)
            if not self.deliver_webhooks:
                self._deliveries_changed.notify_all()
                return
        threading.Thread(target=self._deliver, args=(delivery,), name="ss-sim-webhook", daemon=True).start()

    def _deliver(self, delivery: WebhookDelivery) -> None:
        try:
            answer = requests.post(delivery.target_url, json=delivery.payload, timeout=self.webhook_timeout)
            outcome = {"status": answer.status_code}
        except requests.RequestException as exc:
            outcome = {"error": type(exc).__name__}
        with self._lock:
            delivery.status = outcome.get("status")
            delivery.error = outcome.get("error", "")
            self._deliveries_changed.notify_all()

    def wait_for_deliveries(self, count: int, timeout: float = 5.0) -> list[dict]:
        """Block until ``count`` webhook deliveries are recorded (and, when delivering, finished)."""
        def ready() -> bool:
            done = [d for d in self.deliveries if not self.deliver_webhooks or d.status is not None or d.error]
            return len(done) >= count

        with self._lock:
            if not self._deliveries_changed.wait_for(ready, timeout=timeout):
                raise TimeoutError(f"expected {count} webhook deliveries, have {len(self.deliveries)}")
            return [d.as_dict() for d in self.deliveries]

    # ------------------------------------------------------------------ control endpoints (/_sim/...)

    def _http_sim_orders(self, request, query):
        with self._lock:
            return _json_response({"orders": self.order_list(), "create_calls_by_key": dict(self.create_calls_by_key)})

    def _http_sim_create_label(self, request: Request, query):
        body = _control_body(request)
        shipment = self.create_label(
            body.get("order_id"), order_key=body.get("order_key"),
            carrier_code=body.get("carrier_code", "ups"), service_code=body.get("service_code", "ups_ground"),
            tracking_number=body.get("tracking_number"),
            shipment_cost=Decimal(str(body.get("shipment_cost", "8.50"))),
            insurance_cost=Decimal(str(body.get("insurance_cost", "0"))),
            items=body.get("items"), is_return_label=bool(body.get("is_return_label", False)),
            create_date=body.get("create_date"),
            ship_date=date.fromisoformat(body["ship_date"]) if body.get("ship_date") else None,
            batch_id=body.get("batch_id"),
        )
        return _json_response(shipment)

    def _http_sim_void_label(self, request: Request, query, shipment_id):
        body = _control_body(request)
        return _json_response(self.void_label(shipment_id, void_date=body.get("void_date")))

    def _http_sim_fulfillment(self, request: Request, query):
        body = _control_body(request)
        return _json_response(self.mark_shipped(
            body["order_id"], body.get("carrier_code", "usps"), ship_date=body.get("ship_date"),
            tracking_number=body.get("tracking_number"), create_date=body.get("create_date"),
        ))

    def _http_sim_stores(self, request: Request, query):
        body = _control_body(request)
        return _json_response(self.add_stores(body.get("stores", []), replace=bool(body.get("replace"))))

    def _http_sim_stats(self, request, query):
        with self._lock:
            return _json_response({**self.stats.as_dict(), "rate_limit": self.rate_limit,
                                   "rate_window_seconds": self.rate_window_seconds})

    def _http_sim_faults(self, request: Request, query):
        if request.method == "POST":
            body = _control_body(request)
            unknown = set(body) - set(FaultConfig.__dataclass_fields__)
            if unknown:
                raise BadRequest({"faults": [f"unknown fault settings: {sorted(unknown)}"]})
            self.faults.update(**body)
        return _json_response(self.faults.as_dict())

    def _http_sim_reset(self, request, query):
        self.reset()
        self.faults.configure(FaultConfig())
        return _json_response({"reset": True})

    def _http_sim_clock(self, request: Request, query):
        self.advance(float(_control_body(request).get("advance_seconds", 0)))
        return _json_response({"offset_seconds": self._offset, "now": ss_datetime_text(self.now())})

    def _http_sim_deliveries(self, request, query):
        with self._lock:
            return _json_response([d.as_dict() for d in self.deliveries])

    def _timestamp(self, value: datetime | str | None) -> datetime:
        """An aware instant from a control value: aware datetime, naive Pacific datetime or text, or now."""
        if value is None:
            return self.now()
        if isinstance(value, str):
            parsed = parse_order_date(value)
            if parsed is None:
                raise BadRequest({"date": [f"not a date/time: {value}"]})
            value = parsed
        return value if value.tzinfo else value.replace(tzinfo=PACIFIC)


# ---------------------------------------------------------------------- request helpers


@dataclass
class _DateRange:
    field: str
    start: datetime | None
    end: datetime | None

    def matches(self, value: Any) -> bool:
        if self.start is None and self.end is None:
            return True
        if value is None:
            return False
        if isinstance(value, str):
            value = parse_order_date(value) or datetime.fromisoformat(value[:10])
        return (self.start is None or value >= self.start) and (self.end is None or value <= self.end)


def _date_range(query: dict, prefix: str, target: str, *, date_only_allowed: bool = False) -> _DateRange:
    bounds = []
    for suffix in ("start", "end"):
        text = query.get(prefix + suffix)
        bounds.append(parse_filter_date(prefix + suffix, text, date_only_allowed=date_only_allowed) if text else None)
    return _DateRange(target, *bounds)


def _query_bool(query: dict, name: str, *, default: bool) -> bool:
    text = query.get(name)
    if text is None or text == "":
        return default
    if text.lower() not in ("true", "false"):
        raise BadRequest({name: [f"The value '{text}' is not valid for Boolean."]})
    return text.lower() == "true"


def _query_int(query: dict, name: str) -> int | None:
    text = query.get(name)
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise BadRequest({name: [f"The value '{text}' is not valid for Int32."]}) from None


def _present(query: dict, name: str, convert: type) -> bool:
    if query.get(name) in (None, ""):
        return False
    if convert is int:
        _query_int(query, name)
    return True


def _query_choice(query: dict, name: str, choices: dict[str, str], *, default: str | None) -> str | None:
    text = query.get(name)
    if not text:
        return default
    if text.lower() not in choices:
        raise BadRequest({name: [f"The value '{text}' is not valid for {name}."]})
    return choices[text.lower()]


def _descending(query: dict) -> bool:
    direction = (query.get("sortdir") or "ASC").upper()
    if direction not in ("ASC", "DESC"):
        raise BadRequest({"sortDir": [f"The value '{direction}' is not valid for sortDir."]})
    return direction == "DESC"


def _json_body(request: Request, parameter: str = "request") -> Any:
    try:
        return json.loads(request.get_data(as_text=True) or "null")
    except ValueError as exc:
        raise BadRequest({parameter: [f"Unexpected character encountered while parsing value: {exc}"]}) from exc


def _control_body(request: Request) -> dict:
    body = _json_body(request)
    return body if isinstance(body, dict) else {}


def _address(raw: Any) -> dict:
    fields = ("name", "company", "street1", "street2", "street3", "city", "state", "postalCode", "country",
              "phone", "residential")
    raw = raw if isinstance(raw, dict) else {}
    return {**{f: None for f in fields}, **copy.deepcopy(raw)}


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, default=_json_default), status=status, mimetype="application/json")
