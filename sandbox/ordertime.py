"""Order Time's ShipStation "Custom Store" endpoint, simulated (werkzeug WSGI, no Django).

Follows ``shared/api/ordertime-shipping-integration.md`` (§ numbers below) to the letter, refusing
what the real endpoint is documented to refuse. Every UNKNOWN of §11 that changes what a client sees
is an ``OrderTimeOptions`` field rather than a guess.

Ship docs are plain dicts keyed by the XML element names of §4 (``{"OrderID": ..., "Customer":
{"BillTo": {...}}, "Items": [{"SKU": ..., "Options": [...]}]}``); an ``OTOrder`` is accepted too.
Strings are written verbatim, so a test can seed values the client must cope with (``"1.5"``,
``"10/18/2019 21:56 PM"``); keys the schema does not know are written after the known ones, like the
extra elements real servers add.

Control endpoints (JSON, no auth) under ``/_sim/`` let another process drive it:

    GET/POST /_sim/ship_docs              list / seed (one object or a list)
    POST     /_sim/ship_docs/<id>/modify  change fields; LastModified becomes now
    GET      /_sim/notices                every ship notice received
    GET      /_sim/requests               counts by action and the request log
    GET/POST /_sim/faults                 sandbox.faults.FaultConfig fields
    GET/POST /_sim/options                OrderTimeOptions fields
    POST     /_sim/clock                  {"now": ISO-8601 or null}: freeze the clock or let it run
    POST     /_sim/reset                  forget docs, notices, requests; default faults and options
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import math
import random
import re
import threading
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, NamedTuple
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from connections.clients.types import OTAddress, OTItem, OTOrder

from .faults import FaultConfig, Faults

WIRE_DATE_FORMAT = "%m/%d/%Y %H:%M"
# §3.1: two-digit month, day, hour and minute, four-digit year, 24-hour clock, nothing else.
STRICT_WIRE_DATE = re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}$")
WINDOW_BOUNDS = ("[]", "[)", "(]", "()")


@dataclass
class OrderTimeOptions:
    """Answers to the unknowns of §11, one knob each. Defaults follow the documentation."""

    page_size: int = 50  # unknown 3
    emit_pages: bool = True  # unknown 3: whether <Orders> carries the pages attribute
    empty_pages: int = 0  # pages of an empty export: 0 → <Orders pages="0"/>, 1 → <Orders pages="1"></Orders>
    window_bounds: str = "[]"  # unknown 5: interval notation for [start, end]
    window_time_zone: str = "UTC"  # unknown 4: zone the window text is read in (IANA name or ±HH:MM)
    declared_encoding: str | None = "utf-8"  # unknown 13: the declaration written; bytes are always UTF-8
    content_type: str = "application/xml; charset=utf-8"
    unknown_order_status: int = 404  # unknown 9: answer to a notice for an order nobody knows
    shipped_status: str = "shipped"  # §9: the default status a ship notice sets

    def __post_init__(self) -> None:
        if self.page_size < 1:
            raise ValueError("page_size must be at least 1")
        if self.window_bounds not in WINDOW_BOUNDS:
            raise ValueError(f"window_bounds must be one of {WINDOW_BOUNDS}")
        window_zone(self.window_time_zone)


def window_zone(name: str) -> timezone | ZoneInfo:
    offset = re.fullmatch(r"([+-])(\d{2}):(\d{2})", name)
    if offset:
        sign = -1 if offset.group(1) == "-" else 1
        return timezone(sign * timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3))))
    return ZoneInfo(name)


class ManualClock:
    """A clock tests move by hand: ``clock = ManualClock(start); clock.advance(minutes=5)``."""

    def __init__(self, start: datetime):
        self.current = _as_utc(start)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current

    def set(self, value: datetime) -> None:
        self.current = _as_utc(value)


# ====================================================================== the ship doc schema (§4, §5 order)

TEXT = "text"  # free text, written as CDATA like the §5 sample
PLAIN = "plain"  # codes and numbers written as escaped text
MONEY = "money"  # Decimal written with two places
DATE = "date"  # datetime written as UTC MM/dd/yyyy HH:mm
BOOL = "bool"


class Repeated(NamedTuple):
    element: str
    schema: tuple


OPTION_SCHEMA = (("Name", TEXT), ("Value", TEXT), ("Weight", MONEY))
ITEM_SCHEMA = (
    ("LineItemID", TEXT), ("SKU", TEXT), ("Name", TEXT), ("ImageUrl", TEXT), ("Weight", MONEY),
    ("WeightUnits", PLAIN), ("Quantity", PLAIN), ("UnitPrice", MONEY), ("UPC", TEXT), ("Location", TEXT),
    ("Adjustment", BOOL), ("Options", Repeated("Option", OPTION_SCHEMA)),
)
ADDRESS_SCHEMA = (
    ("Name", TEXT), ("Company", TEXT), ("Address1", TEXT), ("Address2", TEXT), ("City", TEXT), ("State", TEXT),
    ("PostalCode", TEXT), ("Country", TEXT), ("Phone", TEXT), ("Email", TEXT),
)
CUSTOMER_SCHEMA = (("CustomerCode", TEXT), ("BillTo", ADDRESS_SCHEMA), ("ShipTo", ADDRESS_SCHEMA))
ORDER_SCHEMA = (
    ("OrderID", TEXT), ("OrderNumber", TEXT), ("OrderDate", DATE), ("OrderStatus", TEXT), ("LastModified", DATE),
    ("ShippingMethod", TEXT), ("PaymentMethod", TEXT), ("CurrencyCode", PLAIN), ("OrderTotal", MONEY),
    ("TaxAmount", MONEY), ("ShippingAmount", MONEY), ("CustomerNotes", TEXT), ("InternalNotes", TEXT),
    ("Gift", BOOL), ("GiftMessage", TEXT), ("CustomField1", TEXT), ("CustomField2", TEXT), ("CustomField3", TEXT),
    ("Customer", CUSTOMER_SCHEMA), ("Items", Repeated("Item", ITEM_SCHEMA)),
)


def render_export(orders: Iterable[dict], pages: int | None, declared_encoding: str | None) -> bytes:
    """The export body, laid out like §5 (two-space indent, CDATA for free text). Always UTF-8 bytes."""
    lines = [f'<?xml version="1.0" encoding="{declared_encoding}"?>'] if declared_encoding else []
    pages_attribute = f' pages="{pages}"' if pages is not None else ""
    body = [line for order in orders for line in _render_element("Order", order, ORDER_SCHEMA, 1)]
    if body:
        lines += [f"<Orders{pages_attribute}>", *body, "</Orders>"]
    elif pages == 0:
        lines.append(f"<Orders{pages_attribute}/>")
    else:
        lines.append(f"<Orders{pages_attribute}></Orders>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _render_element(name: str, value: Any, kind: Any, depth: int) -> list[str]:
    pad = "  " * depth
    if value is None:
        return []
    if isinstance(kind, Repeated):
        children = [line for child in value for line in _render_element(kind.element, child, kind.schema, depth + 1)]
        return [f"{pad}<{name}>", *children, f"{pad}</{name}>"] if children else [f"{pad}<{name}></{name}>"]
    if isinstance(kind, tuple):
        known = {child_name for child_name, _ in kind}
        children = [line for child_name, child_kind in kind if child_name in value
                    for line in _render_element(child_name, value[child_name], child_kind, depth + 1)]
        children += [line for extra_name, extra_value in value.items() if extra_name not in known
                     for line in _render_element(extra_name, extra_value, _kind_of(extra_value), depth + 1)]
        return [f"{pad}<{name}>", *children, f"{pad}</{name}>"]
    return [f"{pad}<{name}>{_scalar_xml(value, kind)}</{name}>"]


def _kind_of(value: Any) -> Any:
    return () if isinstance(value, dict) else TEXT


def _scalar_xml(value: Any, kind: str) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, datetime):
        text = _as_utc(value).strftime(WIRE_DATE_FORMAT)
    elif kind == MONEY and isinstance(value, int | float | Decimal):
        text = f"{Decimal(str(value)):.2f}"
    else:
        text = str(value)
    if kind == TEXT and text:
        # "]]>" cannot appear inside one CDATA section; split it across two.
        return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"
    return escape(text)


# ====================================================================== seeding helpers


def doc_from_order(order: OTOrder) -> dict:
    """An ``OTOrder`` as a ship doc dict; empty values are left out, as a sparse real export would."""
    def address(value: OTAddress) -> dict:
        return _without_empty({name: getattr(value, attr) for name, attr in (
            ("Name", "name"), ("Company", "company"), ("Address1", "address1"), ("Address2", "address2"),
            ("City", "city"), ("State", "state"), ("PostalCode", "postal_code"), ("Country", "country"),
            ("Phone", "phone"), ("Email", "email"))})

    def item(value: OTItem) -> dict:
        return _without_empty({
            "LineItemID": value.line_item_id, "SKU": value.sku, "Name": value.name, "ImageUrl": value.image_url,
            "Weight": value.weight, "WeightUnits": value.weight_units,
            "Quantity": value.quantity_text or value.quantity, "UnitPrice": value.unit_price, "UPC": value.upc,
            "Location": value.location, "Adjustment": value.adjustment or None,
            "Options": [_without_empty({"Name": o.name, "Value": o.value, "Weight": o.weight})
                        for o in value.options] or None,
        })

    return _without_empty({
        "OrderID": order.order_id, "OrderNumber": order.order_number, "OrderDate": order.order_date,
        "OrderStatus": order.order_status, "LastModified": order.last_modified,
        "ShippingMethod": order.shipping_method, "PaymentMethod": order.payment_method,
        "CurrencyCode": order.currency_code, "OrderTotal": order.order_total, "TaxAmount": order.tax_amount,
        "ShippingAmount": order.shipping_amount, "CustomerNotes": order.customer_notes,
        "InternalNotes": order.internal_notes, "Gift": order.gift, "GiftMessage": order.gift_message,
        "CustomField1": order.custom_field1, "CustomField2": order.custom_field2,
        "CustomField3": order.custom_field3,
        "Customer": {"CustomerCode": order.customer_code, "BillTo": address(order.bill_to),
                     "ShipTo": address(order.ship_to)},
        "Items": [item(line) for line in order.items],
    })


def _without_empty(values: dict) -> dict:
    return {name: value for name, value in values.items() if value is not None and value != ""}


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _as_datetime(value: Any) -> datetime | Any:
    """Datetimes and ISO-8601 or wire-format text become aware UTC datetimes; other text stays as seeded."""
    if isinstance(value, datetime):
        return _as_utc(value)
    if isinstance(value, str):
        for parse in (lambda text: datetime.fromisoformat(text.replace("Z", "+00:00")),
                      lambda text: datetime.strptime(text, WIRE_DATE_FORMAT)):
            try:
                return _as_utc(parse(value.strip()))
            except ValueError:
                continue
    return value


# ====================================================================== the simulator


class OrderTimeSimulator:
    """Stateful WSGI app: ``SimulatorServer(OrderTimeSimulator()).start()``."""

    def __init__(
        self,
        username: str = "demo@example.com",
        api_key: str = "demo-key",
        page_size: int = 50,
        faults: Faults | None = None,
        *,
        options: OrderTimeOptions | None = None,
        now: Callable[[], datetime] | None = None,
        path: str = "/api/shipstation",
    ):
        self.username = username
        self.api_key = api_key
        self.faults = faults or Faults()
        self._default_options = options or OrderTimeOptions(page_size=page_size)
        self.options = dataclasses.replace(self._default_options)
        self._clock = now or (lambda: datetime.now(UTC))
        self._frozen_now: datetime | None = None
        self._lock = threading.Lock()
        self._docs: dict[str, dict] = {}
        self._notices: list[dict] = []
        self._requests: list[dict] = []
        self._routes = Map([
            Rule(path, endpoint="custom_store", methods=["GET", "POST"]),
            Rule("/_sim/ship_docs", endpoint="sim_ship_docs", methods=["GET", "POST"]),
            Rule("/_sim/ship_docs/<order_id>/modify", endpoint="sim_modify", methods=["POST"]),
            Rule("/_sim/notices", endpoint="sim_notices", methods=["GET"]),
            Rule("/_sim/requests", endpoint="sim_requests", methods=["GET"]),
            Rule("/_sim/faults", endpoint="sim_faults", methods=["GET", "POST"]),
            Rule("/_sim/options", endpoint="sim_options", methods=["GET", "POST"]),
            Rule("/_sim/clock", endpoint="sim_clock", methods=["POST"]),
            Rule("/_sim/reset", endpoint="sim_reset", methods=["POST"]),
        ])

    # ------------------------------------------------------------------ Python API

    def now(self) -> datetime:
        return self._frozen_now or _as_utc(self._clock())

    def configure(self, **changes: Any) -> None:
        """Change ``OrderTimeOptions`` fields, e.g. ``configure(page_size=2, emit_pages=False)``."""
        with self._lock:
            self.options = dataclasses.replace(self.options, **changes)

    def upsert_ship_doc(self, doc: dict | OTOrder) -> str:
        """Create or replace one ship doc (dict of §4 element names, or an ``OTOrder``); returns its OrderID."""
        fields = doc_from_order(doc) if isinstance(doc, OTOrder) else dict(doc)
        order_id = str(fields.get("OrderID") or "")
        if not order_id:
            raise ValueError("a ship doc needs an OrderID")
        now = self.now()
        fields["OrderID"] = order_id
        fields.setdefault("OrderNumber", order_id)
        fields.setdefault("OrderStatus", "open")
        fields["OrderDate"] = _as_datetime(fields.get("OrderDate", now))
        fields["LastModified"] = self._last_modified(fields.get("LastModified", now))
        with self._lock:
            self._docs[order_id] = fields
        return order_id

    def add_ship_doc(self, **fields: Any) -> str:
        """``add_ship_doc(OrderID="7", OrderTotal=Decimal("9.50"), Items=[...])``."""
        return self.upsert_ship_doc(fields)

    def add_ship_docs(self, docs: Iterable[dict | OTOrder]) -> list[str]:
        return [self.upsert_ship_doc(doc) for doc in docs]

    def modify(self, order_id: str, **changes: Any) -> dict:
        """Change top-level fields of a ship doc; LastModified becomes now unless given."""
        last_modified = self._last_modified(changes.pop("LastModified", self.now()))
        with self._lock:
            doc = self._docs[str(order_id)]
            doc.update(changes)
            doc["LastModified"] = last_modified
            return dict(doc)

    def ship_doc(self, order_id: str) -> dict:
        with self._lock:
            return dict(self._docs[str(order_id)])

    def ship_docs(self) -> list[dict]:
        with self._lock:
            return [dict(doc) for doc in self._docs.values()]

    def notices(self) -> list[dict]:
        """Every ship notice that passed authentication, accepted or not, oldest first."""
        with self._lock:
            return list(self._notices)

    def requests_log(self) -> list[dict]:
        """Every request to the endpoint, oldest first; ``status`` is None while it is still being answered."""
        with self._lock:
            return [dict(entry) for entry in self._requests]

    def request_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(Counter(entry["action"] for entry in self._requests))

    def reset(self) -> None:
        with self._lock:
            self._docs.clear()
            self._notices.clear()
            self._requests.clear()
            self.options = dataclasses.replace(self._default_options)
            self._frozen_now = None
        self.faults.configure(FaultConfig())

    def _last_modified(self, value: Any) -> datetime:
        parsed = _as_datetime(value)
        if not isinstance(parsed, datetime):
            raise ValueError(f"LastModified must be a datetime, ISO-8601 or MM/dd/yyyy HH:mm text, got {value!r}")
        return parsed

    # ------------------------------------------------------------------ WSGI

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            endpoint, values = self._routes.bind_to_environ(environ).match()
            response = getattr(self, f"_on_{endpoint}")(request, **values)
        except HTTPException as exc:
            response = exc.get_response(environ)
        return response(environ, start_response)

    # ------------------------------------------------------------------ the Custom Store endpoint (§2–§6)

    def _on_custom_store(self, request: Request) -> Response:
        action = request.args.get("action", "")
        # Logged on arrival, so a request the client gave up on (latency fault) is already counted.
        entry = {"method": request.method, "action": action or "(none)", "query": request.args.to_dict(),
                 "status": None}
        with self._lock:
            self._requests.append(entry)
        status, delay = self.faults.decide()
        Faults.apply_delay(delay)
        if status is not None:
            response = _text(status, "simulated failure")
        elif not self._authorized(request):
            response = _text(401, "Unauthorized")
            response.headers["WWW-Authenticate"] = 'Basic realm="ShipStation"'
        elif action == "export":
            response = self._export(request) if request.method == "GET" else _text(405, "export is a GET")
        elif action == "shipnotify":
            response = self._ship_notify(request) if request.method == "POST" else _text(405, "shipnotify is a POST")
        else:
            response = _text(400, f"unknown action {action!r}")
        with self._lock:
            entry["status"] = response.status_code
        return response

    def _authorized(self, request: Request) -> bool:
        auth = request.authorization
        if auth is None or auth.type != "basic":
            return False
        return (hmac.compare_digest((auth.username or "").encode(), self.username.encode())
                and hmac.compare_digest((auth.password or "").encode(), self.api_key.encode()))

    def _export(self, request: Request) -> Response:
        options = self.options
        try:
            start = self._window_bound(request.args, "start_date", options)
            end = self._window_bound(request.args, "end_date", options)
            page = _page_number(request.args.get("page"))
        except ValueError as exc:
            return _text(400, str(exc))
        if start > end:
            return _text(400, "start_date is after end_date")
        with self._lock:
            matching = sorted(
                (dict(doc) for doc in self._docs.values() if _in_window(doc["LastModified"], start, end, options)),
                key=lambda doc: (doc["LastModified"], doc["OrderID"]),
            )
        pages = math.ceil(len(matching) / options.page_size) if matching else options.empty_pages
        shown = matching[(page - 1) * options.page_size: page * options.page_size]
        body = render_export(shown, pages if options.emit_pages else None, options.declared_encoding)
        return Response(body, status=200, headers={"Content-Type": options.content_type})

    @staticmethod
    def _window_bound(args, name: str, options: OrderTimeOptions) -> datetime:
        text = args.get(name)
        if text is None:
            raise ValueError(f"{name} is required")
        if not STRICT_WIRE_DATE.match(text):
            raise ValueError(f"{name} must be MM/dd/yyyy HH:mm, got {text!r}")
        try:
            local = datetime.strptime(text, WIRE_DATE_FORMAT)
        except ValueError as exc:
            raise ValueError(f"{name} is not a valid date: {text!r}") from exc
        return local.replace(tzinfo=window_zone(options.window_time_zone)).astimezone(UTC)

    def _ship_notify(self, request: Request) -> Response:
        raw_body = request.get_data(as_text=True)
        query = request.args.to_dict()
        notice = _parse_notice(raw_body)
        problem = _notice_problem(query, notice)
        order_id = None
        if problem is None:
            assert notice is not None
            with self._lock:
                order_id = self._find_order(notice.get("OrderID", ""), query["order_number"])
                if order_id is not None:
                    doc = self._docs[order_id]
                    doc["OrderStatus"] = self.options.shipped_status
                    doc["LastModified"] = self.now()
            if order_id is None:
                status = self.options.unknown_order_status
                problem = (status, f"no ship doc for order {query['order_number']!r}") if status >= 300 else None
        status, message = problem or (200, "")
        with self._lock:
            self._notices.append({
                "query": query, "body": raw_body, "content_type": request.headers.get("Content-Type", ""),
                "notice": notice, "order_id": order_id, "status": status, "received_at": self.now().isoformat(),
            })
        return _text(status, message)

    def _find_order(self, body_order_id: str, order_number: str) -> str | None:
        """By the body's OrderID first (as T-WOO does), else by OrderNumber. Call with the lock held."""
        if body_order_id in self._docs:
            return body_order_id
        return next((order_id for order_id, doc in self._docs.items()
                     if str(doc.get("OrderNumber")) == order_number), None)

    # ------------------------------------------------------------------ control endpoints (/_sim/)

    def _on_sim_ship_docs(self, request: Request) -> Response:
        if request.method == "GET":
            return _json(self.ship_docs())
        payload = request.get_json(force=True)
        docs = payload if isinstance(payload, list) else [payload]
        try:
            return _json({"ids": self.add_ship_docs(docs)})
        except ValueError as exc:
            return _json({"error": str(exc)}, 400)

    def _on_sim_modify(self, request: Request, order_id: str) -> Response:
        try:
            return _json(self.modify(order_id, **request.get_json(force=True)))
        except KeyError as exc:
            raise NotFound(f"no ship doc {order_id!r}") from exc
        except ValueError as exc:
            return _json({"error": str(exc)}, 400)

    def _on_sim_notices(self, request: Request) -> Response:
        return _json(self.notices())

    def _on_sim_requests(self, request: Request) -> Response:
        return _json({"counts": self.request_counts(), "log": self.requests_log()})

    def _on_sim_faults(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                self.faults.update(**request.get_json(force=True))
            except TypeError as exc:
                return _json({"error": str(exc)}, 400)
        return _json(self.faults.as_dict())

    def _on_sim_options(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                self.configure(**request.get_json(force=True))
            except (TypeError, ValueError) as exc:
                return _json({"error": str(exc)}, 400)
        return _json(asdict(self.options))

    def _on_sim_clock(self, request: Request) -> Response:
        value = request.get_json(force=True).get("now")
        frozen = _as_datetime(value) if value else None
        if value and not isinstance(frozen, datetime):
            return _json({"error": f"not an ISO-8601 date/time: {value!r}"}, 400)
        with self._lock:
            self._frozen_now = frozen
        return _json({"now": self.now().isoformat()})

    def _on_sim_reset(self, request: Request) -> Response:
        self.reset()
        return _json({"reset": True})


def _in_window(last_modified: datetime, start: datetime, end: datetime, options: OrderTimeOptions) -> bool:
    # The window has minute precision, so compare the minute the export itself shows.
    shown = last_modified.replace(second=0, microsecond=0)
    after_start = shown >= start if options.window_bounds[0] == "[" else shown > start
    before_end = shown <= end if options.window_bounds[1] == "]" else shown < end
    return after_start and before_end


def _page_number(text: str | None) -> int:
    if text is None:
        raise ValueError("page is required")
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"page must be a whole number from 1, got {text!r}")
    return int(text)


def _parse_notice(raw_body: str) -> dict | None:
    """A ``<ShipNotice>`` as a dict (Recipient a dict, Items a list of dicts); None if it is not one."""
    try:
        root = safe_fromstring(raw_body)
    except (ET.ParseError, DefusedXmlException):
        return None
    if root.tag != "ShipNotice":
        return None
    notice: dict[str, Any] = {}
    for child in root:
        if child.tag == "Items":
            notice["Items"] = [{field.tag: (field.text or "").strip() for field in item} for item in child]
        elif len(child):
            notice[child.tag] = {field.tag: (field.text or "").strip() for field in child}
        else:
            notice[child.tag] = (child.text or "").strip()
    return notice


def _notice_problem(query: dict[str, str], notice: dict | None) -> tuple[int, str] | None:
    """The 400 a notice earns, if any: missing parameters, a body that is not a ShipNotice, or disagreement."""
    missing = [name for name in ("order_number", "carrier", "tracking_number") if not query.get(name)]
    if missing:
        return 400, f"missing query parameter(s): {', '.join(missing)}"
    if notice is None:
        return 400, "body is not a <ShipNotice> XML document"
    pairs = [("OrderNumber", "order_number"), ("Carrier", "carrier"), ("TrackingNumber", "tracking_number"),
             ("Service", "service")]
    for element, parameter in pairs:
        if parameter in query and element in notice and notice[element] != query[parameter]:
            return 400, f"<{element}> {notice[element]!r} does not match {parameter}={query[parameter]!r}"
    return None


def _text(status: int, message: str) -> Response:
    return Response(message, status=status, mimetype="text/plain")


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, default=_json_value), status=status, mimetype="application/json")


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# ====================================================================== sample data


def section5_sample_docs() -> list[dict]:
    """The two ship docs of §5, field for field; rendered alone they reproduce the §5 body exactly."""
    return [
        {
            "OrderID": "48213", "OrderNumber": "1187", "OrderDate": datetime(2025, 6, 2, 14, 5, tzinfo=UTC),
            "OrderStatus": "open", "LastModified": datetime(2025, 6, 2, 15, 41, tzinfo=UTC),
            "ShippingMethod": "UPS Ground", "PaymentMethod": "Credit Card", "OrderTotal": Decimal("69.57"),
            "TaxAmount": Decimal("4.62"), "ShippingAmount": Decimal("8.95"),
            "CustomerNotes": "Please leave it at the side door & ring twice.",
            "InternalNotes": "Wrap the mug in bubble wrap.", "Gift": True,
            "GiftMessage": "Happy birthday, Sam! Love, Alex", "CustomField1": "PO-7731", "CustomField2": "",
            "CustomField3": "",
            "Customer": {
                "CustomerCode": "alex.rivera@example.com",
                "BillTo": {"Name": "Alex Rivera", "Company": "", "Phone": "512-555-0142",
                           "Email": "alex.rivera@example.com"},
                "ShipTo": {"Name": "Sam Rivera", "Company": "", "Address1": "4801 Duval St", "Address2": "Apt 2B",
                           "City": "Austin", "State": "TX", "PostalCode": "78751", "Country": "US",
                           "Phone": "512-555-0199"},
            },
            "Items": [
                {"LineItemID": "1", "SKU": "TS-ORG-100", "Name": "Organic Cotton T-Shirt",
                 "ImageUrl": "https://images.example.com/ts-org-100.jpg", "Weight": Decimal("6.00"),
                 "WeightUnits": "Ounces", "Quantity": 2, "UnitPrice": Decimal("24.50"), "Location": "A-03-2",
                 "Options": [{"Name": "Size", "Value": "L", "Weight": Decimal("0.50")},
                             {"Name": "Color", "Value": "Forest Green"}]},
                {"LineItemID": "2", "SKU": "MUG-12", "Name": "Stoneware Mug, 12 oz", "Weight": Decimal("14.00"),
                 "WeightUnits": "Ounces", "Quantity": 1, "UnitPrice": Decimal("12.00"), "Location": "B-11-1"},
                {"LineItemID": "3", "SKU": "SPRING5", "Name": "Coupon SPRING5 ($5.00 off)", "Quantity": 1,
                 "UnitPrice": Decimal("-5.00"), "Adjustment": True},
            ],
        },
        {
            "OrderID": "48219", "OrderNumber": "1190", "OrderDate": datetime(2025, 6, 2, 15, 20, tzinfo=UTC),
            "OrderStatus": "open", "LastModified": datetime(2025, 6, 2, 15, 52, tzinfo=UTC),
            "ShippingMethod": "FedEx International Economy", "PaymentMethod": "Net 30", "CurrencyCode": "USD",
            "OrderTotal": Decimal("310.00"), "TaxAmount": Decimal("0.00"), "ShippingAmount": Decimal("45.00"),
            "CustomerNotes": "", "InternalNotes": "Commercial invoice: print 2 copies.", "Gift": False,
            "GiftMessage": "", "CustomField1": "", "CustomField2": "", "CustomField3": "",
            "Customer": {
                "CustomerCode": "NORTHWIND-CA",
                "BillTo": {"Name": "Accounts Payable", "Company": "Northwind Outfitters Ltd.",
                           "Phone": "+1 416-555-0100", "Email": "ap@northwind.example"},
                "ShipTo": {"Name": "Receiving Dock", "Company": "Northwind Outfitters Ltd.",
                           "Address1": "220 King St W", "Address2": "Unit 4", "City": "Toronto", "State": "ON",
                           "PostalCode": "M5H 1K4", "Country": "CA", "Phone": "+1 416-555-0111"},
            },
            "Items": [
                {"LineItemID": "1", "SKU": "TENT-2P", "Name": "Backpacking Tent, 2-person",
                 "Weight": Decimal("2.10"), "WeightUnits": "Pounds", "Quantity": 5, "UnitPrice": Decimal("53.00"),
                 "Location": "C-01-4"},
            ],
        },
    ]


# (country, currency, ship methods, [(city, two-letter state or "", postal code, street)])
_DESTINATIONS = [
    ("US", "USD", ["UPS Ground", "USPS Priority Mail", "FedEx 2Day"], [
        ("Austin", "TX", "78751", "4801 Duval St"), ("Portland", "OR", "97205", "1005 SW Park Ave"),
        ("Brooklyn", "NY", "11201", "77 Atlantic Ave"), ("Denver", "CO", "80202", "1600 Champa St")]),
    ("CA", "CAD", ["Canada Post Expedited", "FedEx International Economy"], [
        ("Toronto", "ON", "M5H 1K4", "220 King St W"), ("Montréal", "QC", "H2X 1Y4", "1250 Rue Saint-Urbain"),
        ("Vancouver", "BC", "V6B 1A1", "555 W Hastings St")]),
    ("GB", "GBP", ["Royal Mail Tracked 48", "DHL Express Worldwide"], [
        ("London", "", "SW1A 1AA", "221B Baker Street"), ("Edinburgh", "", "EH1 1YZ", "12 High Street"),
        ("Manchester", "", "M1 1AE", "8 Piccadilly")]),
    ("DE", "EUR", ["DHL Paket", "UPS Standard"], [
        ("Berlin", "BE", "10115", "Invalidenstraße 117"), ("München", "BY", "80331", "Marienplatz 8"),
        ("Hamburg", "HH", "20095", "Mönckebergstraße 7")]),
]
_PEOPLE = ["Sam Rivera", "José Núñez", "Zoë Ångström", "Jürgen Müller", "Siobhán O'Brien", "Łukasz Wiśniewski",
           "山田 太郎", "Amélie Côté", "Priya Natarajan", "Dana \"DJ\" Jones"]
_COMPANIES = ["", "", "Northwind Outfitters Ltd.", "Müller & Söhne GmbH", "Tom & Jerry's <Toys>", ""]
# (SKU, name, unit price, weight, units, options: [(name, [(value, option weight)])])
_PRODUCTS = [
    ("TS-ORG-100", "Organic Cotton T-Shirt", "24.50", "6.00", "Ounces",
     [("Size", [("S", None), ("M", "0.25"), ("L", "0.50"), ("XL", "0.75")]),
      ("Color", [("Forest Green", None), ("Navy", None)])]),
    ("MUG-12", "Stoneware Mug, 12 oz", "12.00", "14.00", "Ounces", []),
    ("TENT-2P", "Backpacking Tent, 2-person", "53.00", "2.10", "Pounds", [("Fly", [("Standard", None),
                                                                                   ("Extended", "0.40")])]),
    ("SALT-PEP", "Salt & Pepper Shaker Set <Deluxe>", "18.00", "300", "Grams", []),
    ("CAFE-BLEND", "Caf&eacute; Blend Coffee &ndash; 1 lb", "15.75", "1.00", "Pounds",
     [("Grind", [("Whole bean", None), ("Espresso", None)])]),
    ("BTL-750", 'Steel Bottle 750 ml "Arctic"', "29.00", "11.50", "Ounces", []),
    ("GLV-WOOL", "Wool Gloves – Größe M", "21.00", "120", "Grams", [("Size", [("M", None), ("L", "5")])]),
    ("EDGE-CDATA", "Edge case ]]> in a name", "1.00", "0.10", "Pounds", []),
]
_COUPONS = [("SPRING5", "Coupon SPRING5 ($5.00 off)", "-5.00"), ("", "Loyalty discount", "-2.50"),
            ("SAVE10", "10% off <VIP> & friends", "-10.00")]
_GIFT_MESSAGES = ["Happy birthday, Sam!\nLove, Alex", "Alles Gute zum Geburtstag! 🎉", "Congrats &amp; cheers"]


def make_sample_docs(n: int, seed: int = 0, *, base_time: datetime | None = None,
                     first_order_id: int = 50001) -> list[dict]:
    """``n`` varied, realistic ship docs (totals add up as in §4.5).

    Without ``base_time`` the docs carry no LastModified, so seeding stamps the simulator's now;
    with it, doc ``i`` was modified ``i`` minutes after ``base_time``.
    """
    rng = random.Random(seed)
    return [_sample_doc(rng, first_order_id + index, index, base_time) for index in range(n)]


def _sample_doc(rng: random.Random, order_id: int, index: int, base_time: datetime | None) -> dict:
    country, currency, methods, places = rng.choice(_DESTINATIONS)
    city, state, postal_code, street = rng.choice(places)
    buyer, recipient = rng.choice(_PEOPLE), rng.choice(_PEOPLE)
    items = [_sample_item(rng, position, product)
             for position, product in enumerate(rng.sample(_PRODUCTS, rng.randint(1, 3)), start=1)]
    if rng.random() < 0.3:
        sku, name, price = rng.choice(_COUPONS)
        items.append({"LineItemID": str(len(items) + 1), "SKU": sku, "Name": name, "Quantity": 1,
                      "UnitPrice": Decimal(price), "Adjustment": True})
    subtotal = sum(item["Quantity"] * item["UnitPrice"] for item in items)
    shipping = Decimal(rng.choice(["0.00", "5.95", "8.95", "12.50", "45.00"]))
    tax = (max(subtotal, Decimal(0)) * Decimal(rng.choice(["0", "0.0625", "0.13", "0.19"]))).quantize(Decimal("0.01"))
    order_date = (base_time or datetime(2025, 6, 2, 12, 0, tzinfo=UTC)) - timedelta(hours=rng.randint(1, 72))
    gift_message = rng.choice(_GIFT_MESSAGES) if rng.random() < 0.25 else ""
    doc = {
        "OrderID": str(order_id), "OrderNumber": str(order_id - 40000), "OrderDate": order_date,
        "OrderStatus": "open", "ShippingMethod": rng.choice(methods),
        "PaymentMethod": rng.choice(["Credit Card", "Net 30", "PayPal"]),
        "CurrencyCode": currency if rng.random() < 0.5 else None,
        "OrderTotal": subtotal + shipping + tax, "TaxAmount": tax, "ShippingAmount": shipping,
        "CustomerNotes": rng.choice(["", "Leave at the back door & text me", "Bitte beim Nachbarn abgeben."]),
        "InternalNotes": rng.choice(["", "Fragile: double box", "Check <serial> before packing"]),
        "Gift": bool(gift_message) or None, "GiftMessage": gift_message,
        "CustomField1": f"PO-{rng.randint(1000, 9999)}" if rng.random() < 0.3 else "",
        "CustomField2": "", "CustomField3": "",
        "Customer": {
            "CustomerCode": f"customer{rng.randint(100, 999)}@example.com",
            "BillTo": {"Name": buyer, "Company": rng.choice(_COMPANIES), "Phone": f"+1 555-01{rng.randint(10, 99)}",
                       "Email": f"buyer{order_id}@example.com"},
            "ShipTo": {"Name": recipient, "Company": rng.choice(_COMPANIES), "Address1": street,
                       "Address2": rng.choice(["", "Apt 2B", "Unit 4", "2. OG"]), "City": city, "State": state,
                       "PostalCode": postal_code, "Country": country, "Phone": f"+1 555-02{rng.randint(10, 99)}"},
        },
        "Items": items,
    }
    if base_time is not None:
        doc["LastModified"] = base_time + timedelta(minutes=index)
    return {name: value for name, value in doc.items() if value is not None}


def _sample_item(rng: random.Random, position: int, product: tuple) -> dict:
    sku, name, price, weight, units, option_choices = product
    item: dict[str, Any] = {
        "LineItemID": str(position), "SKU": sku, "Name": name,
        "ImageUrl": f"https://images.example.com/{sku.lower()}.jpg", "Weight": Decimal(weight),
        "WeightUnits": units, "Quantity": rng.randint(1, 4), "UnitPrice": Decimal(price),
        "Location": f"{rng.choice('ABC')}-{rng.randint(1, 12):02d}-{rng.randint(1, 4)}",
    }
    if option_choices:
        item["Options"] = []
        for option_name, values in option_choices:
            value, option_weight = rng.choice(values)
            option = {"Name": option_name, "Value": value}
            if option_weight is not None:
                option["Weight"] = Decimal(option_weight)
            item["Options"].append(option)
    return item


__all__ = [
    "OrderTimeSimulator", "OrderTimeOptions", "ManualClock", "render_export", "doc_from_order",
    "section5_sample_docs", "make_sample_docs",
]
