"""Order Time's ShipStation "Custom Store" endpoint, client side.

Wire contract: ``shared/api/ordertime-shipping-integration.md`` (§ numbers below refer to it). Export
pages come back as the typed objects of ``types.py``; ship notices go out as ``<ShipNotice>`` XML.
Requests go through the shared ``Transport`` (Basic auth, timeouts, retries of 5xx and timeouts).

Parsing is tolerant by design: one bad value in a ship doc becomes a ``ParseProblem`` on that order,
never an exception, so one malformed ship doc cannot block the rest of its page.
"""

from __future__ import annotations

import html
import html.entities
import logging
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import urlsplit, urlunsplit

import requests
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring

from .dates import format_ordertime, format_ordertime_date, parse_ordertime
from .errors import (
    AuthenticationFailed,
    CredentialsUnusable,
    NotFound,
    ProtocolError,
    RequestRejected,
    Unreachable,
)
from .http import DEFAULT_MAX_RESPONSE_BYTES, EXCERPT_CHARS, RetryPolicy, Transport, excerpt
from .types import ExportPage, OTAddress, OTItem, OTOption, OTOrder, ParseProblem, ShipNotice

log = logging.getLogger(__name__)

SERVICE = "Order Time"
ACCEPT_XML = "application/xml, text/xml"
NOTICE_CONTENT_TYPE = "text/xml; charset=utf-8"
DEFAULT_MAX_PAGES = 10_000  # an export claiming more is refused, not walked
MAX_SERVICE_CHARS = 50  # §6.2: Service is 0–50 characters; we truncate rather than be refused
CREDENTIAL_CHECK_WINDOW = timedelta(minutes=1)


class OrderTimeClient:
    """One Order Time company (one username/key pair) behind its Custom Store endpoint."""

    def __init__(
        self,
        endpoint_url: str,
        username: str,
        api_key: str,
        *,
        timeout: tuple[float, float] = (5.0, 30.0),
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        concurrency: Callable[[], AbstractContextManager] | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_pages: int = DEFAULT_MAX_PAGES,
    ):
        # §2: Basic auth only; user-info in the URL would put the key into every log line.
        self.endpoint_url = _without_user_info(endpoint_url)
        self.display_url = _without_query(self.endpoint_url)
        self.transport = Transport(
            service=SERVICE,
            base_url=self.endpoint_url,
            auth=(username, api_key),
            timeout=timeout,
            retry=retry or RetryPolicy(),
            concurrency=concurrency,
            session=session,
            sleep=sleep,
            max_response_bytes=max_response_bytes,
        )
        self.max_pages = max_pages

    # ------------------------------------------------------------------ export (§3)

    def export_page(self, start: datetime, end: datetime, page: int) -> ExportPage:
        """One page of the ship docs whose LastModified lies in the window (UTC, minute precision)."""
        if page < 1:
            raise ValueError(f"pages start at 1, got {page}")
        if start > end:
            raise ValueError(f"export window starts after it ends: {start.isoformat()} > {end.isoformat()}")
        params = {
            "action": "export",
            "start_date": format_ordertime(start),
            "end_date": format_ordertime(end),
            "page": str(page),
        }
        response = self._send("GET", params=params, headers={"Accept": ACCEPT_XML})
        _require_xml_content_type(response)
        return parse_export(response.content, page=page, max_pages=self.max_pages)

    def iter_pages(self, start: datetime, end: datetime) -> Iterator[ExportPage]:
        """Every page of one window, page 1 first (§3.2). The window is the caller's and never moves.

        A page that still fails after the transport's retries raises; the caller then keeps its old
        cursor so the whole window is read again next run.
        """
        first = self.export_page(start, end, 1)
        yield first
        for number in range(2, first.pages + 1):
            page = self.export_page(start, end, number)
            if page.pages != first.pages:
                # Orders edited during the walk shift the pages; overlapping windows repair what is missed.
                log.info("Order Time page count changed during the walk: %d, then %d on page %d",
                         first.pages, page.pages, number)
            yield page

    def iter_orders(self, start: datetime, end: datetime) -> Iterator[OTOrder]:
        """Every ship doc of the window once, de-duplicated by (OrderID, LastModified) within the run."""
        seen: set[tuple[str, datetime | None]] = set()
        for page in self.iter_pages(start, end):
            for order in page.orders:
                if order.order_id:
                    identity = (order.order_id, order.last_modified)
                    if identity in seen:
                        continue
                    seen.add(identity)
                yield order

    def check_credentials(self) -> None:
        """Export the last minute: proves the endpoint answers and accepts the username and key."""
        end = datetime.now(UTC)
        self.export_page(end - CREDENTIAL_CHECK_WINDOW, end, 1)

    # ------------------------------------------------------------------ ship notice (§6)

    def send_ship_notice(self, notice: ShipNotice | RenderedShipNotice) -> None:
        """Report one label. Returns on any 2xx; raises NotFound when Order Time does not know the order.

        A ``RenderedShipNotice`` goes out byte for byte as stored: a retry repeats the very notice.
        """
        rendered = notice if isinstance(notice, RenderedShipNotice) else RenderedShipNotice.of(notice)
        try:
            response = self._send("POST", params=rendered.params, data=rendered.body,
                                  headers={"Content-Type": NOTICE_CONTENT_TYPE})
        except NotFound as exc:
            raise NotFound(
                f"Order Time does not know order {rendered.order_number} (OrderID {rendered.order_id})",
                service=SERVICE, status=exc.status, excerpt=exc.excerpt,
            ) from exc
        if not 200 <= response.status_code < 300:
            raise RequestRejected(
                f"Order Time did not accept the ship notice (HTTP {response.status_code})",
                service=SERVICE, status=response.status_code, excerpt=excerpt(response),
            )

    # ------------------------------------------------------------------ transport

    def _send(self, method: str, **kwargs) -> requests.Response:
        """One call to the endpoint, with the merchant-facing messages for the two setup mistakes."""
        try:
            return self.transport.request(method, self.endpoint_url, **kwargs)
        except CredentialsUnusable:
            raise
        except AuthenticationFailed as exc:
            raise AuthenticationFailed(
                "Order Time rejected the username or API key", service=SERVICE, status=exc.status, excerpt=exc.excerpt
            ) from exc
        except Unreachable as exc:
            raise Unreachable(f"Order Time endpoint unreachable: {self.display_url}", service=SERVICE) from exc


def _without_user_info(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _require_xml_content_type(response: requests.Response) -> None:
    """§3.3: the content type is UNKNOWN, so accept any */xml or text/*; anything else is not an export."""
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type and not (content_type.startswith("text/") or content_type.endswith("/xml")
                             or content_type.endswith("+xml")):
        raise ProtocolError(
            f"Order Time answered {content_type!r} instead of XML", service=SERVICE,
            status=response.status_code, excerpt=excerpt(response),
        )


# ====================================================================== ship notice rendering (§6.2, §7)


@dataclass(frozen=True)
class RenderedShipNotice:
    """A ship notice as it goes over the wire: the query parameters and the XML body."""

    params: dict[str, str]
    body: bytes
    order_id: str  # for the message when Order Time does not know the order

    @property
    def order_number(self) -> str:
        return self.params.get("order_number", "")

    @classmethod
    def of(cls, notice: ShipNotice) -> RenderedShipNotice:
        params, body = render_ship_notice(notice)
        return cls(params=params, body=body, order_id=notice.order_id)


def render_ship_notice(notice: ShipNotice) -> tuple[dict[str, str], bytes]:
    """(query parameters, body) of one ship notice: exactly what ``send_ship_notice`` sends.

    Pure, so the caller can store the payload before sending it. Query and body carry the same
    carrier, service and tracking number, as the protocol asks.
    """
    service = notice.service[:MAX_SERVICE_CHARS]
    params = {
        "action": "shipnotify",
        "order_number": notice.order_number,
        "carrier": notice.carrier,
        "service": service,
        "tracking_number": notice.tracking_number,
    }
    root = ET.Element("ShipNotice")
    _add_children(root, [
        ("OrderNumber", notice.order_number),
        ("OrderID", notice.order_id),
        ("CustomerCode", notice.customer_code),
        ("CustomerNotes", notice.customer_notes),
        ("InternalNotes", notice.internal_notes),
        ("NotesToCustomer", notice.notes_to_customer),
        ("NotifyCustomer", "true" if notice.notify_customer else "false"),
        ("LabelCreateDate", format_ordertime(notice.label_create_date)),
        ("ShipDate", format_ordertime_date(notice.ship_date)),
        ("Carrier", notice.carrier),
        ("Service", service),
        ("TrackingNumber", notice.tracking_number),
        ("ShippingCost", _money_text(notice.shipping_cost)),
        ("CustomField1", notice.custom_field1),
        ("CustomField2", notice.custom_field2),
        ("CustomField3", notice.custom_field3),
    ])
    recipient = notice.recipient
    _add_children(ET.SubElement(root, "Recipient"), [
        ("Name", recipient.name),
        ("Company", recipient.company),
        ("Address1", recipient.address1),
        ("Address2", recipient.address2),
        ("City", recipient.city),
        ("State", recipient.state),
        ("PostalCode", recipient.postal_code),
        ("Country", recipient.country),
    ])
    items = ET.SubElement(root, "Items")
    for item in notice.items:
        _add_children(ET.SubElement(items, "Item"), [
            ("SKU", item.sku),
            ("Name", item.name),
            ("Quantity", str(int(item.quantity))),
            ("LineItemID", item.line_item_id),
        ])
    ET.indent(root, space="  ")
    xml_text = ET.tostring(root, encoding="unicode", short_empty_elements=False)
    return params, ('<?xml version="1.0" encoding="utf-8"?>\n' + xml_text + "\n").encode("utf-8")


# Characters XML 1.0 cannot carry at all, escaped or not.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _add_children(parent: ET.Element, children: list[tuple[str, str]]) -> None:
    for tag, text in children:
        ET.SubElement(parent, tag).text = _XML_ILLEGAL.sub("", text or "")


def _money_text(amount: Decimal) -> str:
    return format(Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")


# ====================================================================== export parsing (§3.3, §4)

_DECLARATION = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?\?>", re.IGNORECASE)
_TEXT_DECLARATION = re.compile(r"^\s*<\?xml[^>]*?\?>", re.IGNORECASE)
_DECLARED_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""", re.IGNORECASE)
_UTF8_NAMES = {"utf-8", "utf8", "us-ascii", "ascii"}
_DECIMAL = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
# Entities and CDATA sections, so entity fixes never touch CDATA content.
_CDATA_OR_ENTITY = re.compile(r"<!\[CDATA\[.*?\]\]>|&([A-Za-z][A-Za-z0-9]*);", re.DOTALL)
_HTML_ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_XML_PREDEFINED = {"amp", "lt", "gt", "quot", "apos"}


def parse_export(body: bytes, *, page: int = 1, max_pages: int = DEFAULT_MAX_PAGES) -> ExportPage:
    """One export reply → ExportPage. Raises ProtocolError only when the document as a whole is unusable."""
    text = _document_text(body)
    try:
        root = safe_fromstring(_html_entities_as_references(text))
    except (ET.ParseError, DefusedXmlException) as exc:
        raise ProtocolError(
            f"Order Time sent an export that is not well-formed XML: {exc}", service=SERVICE, excerpt=text[:EXCERPT_CHARS]
        ) from exc
    if root.tag != "Orders":
        raise ProtocolError(
            f"Order Time export has root <{root.tag}>, expected <Orders>", service=SERVICE, excerpt=text[:EXCERPT_CHARS]
        )
    orders = tuple(_parse_order(element) for element in root.findall("Order"))
    pages = _page_count(root, has_orders=bool(orders), excerpt_text=text)
    if pages > max_pages:
        raise ProtocolError(f"Order Time export claims {pages} pages, more than the limit of {max_pages}; not walked",
                            service=SERVICE, excerpt=text[:EXCERPT_CHARS])
    return ExportPage(page=page, pages=pages, orders=orders)


def _document_text(body: bytes) -> str:
    """Decode the reply, trusting the bytes over the declaration (§3.3), and drop the declaration.

    A UTF-16 BOM means real UTF-16. Otherwise the bytes are read as UTF-8 whatever the declaration
    says (servers in the wild declare utf-16 and write UTF-8); only bytes that are not UTF-8 fall
    back to the declared encoding. The parser then gets text, to which no declaration applies.
    """
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _TEXT_DECLARATION.sub("", body.decode("utf-16"), count=1)
        except UnicodeDecodeError as exc:
            raise ProtocolError("Order Time export starts as UTF-16 but is not valid UTF-16", service=SERVICE,
                                excerpt=body[:EXCERPT_CHARS].decode("utf-16", "replace")) from exc
    declared = _declared_encoding(body)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = _decode_declared(body, declared, exc)
    else:
        if declared is not None and declared not in _UTF8_NAMES and (
            declared.startswith(("utf-16", "utf-32", "ucs")) or not text.isascii()
        ):
            log.warning("Order Time export declares encoding %r but is UTF-8; read as UTF-8", declared)
    return _TEXT_DECLARATION.sub("", text, count=1)


def _decode_declared(body: bytes, declared: str | None, utf8_error: UnicodeDecodeError) -> str:
    lossy = body[:EXCERPT_CHARS].decode("utf-8", "replace")
    if declared is None or declared in _UTF8_NAMES:
        raise ProtocolError("Order Time export is not valid UTF-8", service=SERVICE, excerpt=lossy) from utf8_error
    try:
        return body.decode(declared)
    except (LookupError, UnicodeDecodeError) as exc:
        raise ProtocolError(
            f"Order Time export is neither UTF-8 nor its declared {declared}", service=SERVICE, excerpt=lossy
        ) from exc


def _declared_encoding(body: bytes) -> str | None:
    declaration = _DECLARATION.match(body)
    if declaration is None:
        return None
    encoding = _DECLARED_ENCODING.search(declaration.group(0))
    return encoding.group(1).decode("ascii").lower() if encoding else None


def _html_entities_as_references(text: str) -> str:
    """``&nbsp;`` and friends are fatal in XML; turn HTML named entities into character references.

    Only outside CDATA: inside it they are plain text, decoded later with the other text.
    """
    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name is None or name in _XML_PREDEFINED:
            return match.group(0)
        decoded = html.entities.html5.get(name + ";")
        if decoded is None:
            return match.group(0)
        return "".join(f"&#{ord(char)};" for char in decoded)

    return _CDATA_OR_ENTITY.sub(replace, text)


def _page_count(root: ET.Element, *, has_orders: bool, excerpt_text: str) -> int:
    """§3.2 step 2: missing or empty counts as 1, and so does 0 on a page that has orders."""
    raw = (root.get("pages") or "").strip()
    if not raw:
        return 1
    try:
        pages = int(raw)
    except ValueError:
        pages = -1
    if pages < 0:
        raise ProtocolError(f"Order Time export has pages={raw!r}, not a page count", service=SERVICE,
                            excerpt=excerpt_text[:EXCERPT_CHARS])
    if pages == 0 and has_orders:
        return 1
    return pages


class _ValueReader:
    """Reads typed child values and records a ParseProblem for each one that does not parse."""

    def __init__(self) -> None:
        self.problems: list[ParseProblem] = []

    def text(self, parent: ET.Element | None, name: str) -> str:
        element = parent.find(name) if parent is not None else None
        return _element_text(element) if element is not None else ""

    def decimal(self, parent: ET.Element | None, name: str, path: str) -> Decimal | None:
        raw = self.text(parent, name)
        if not raw:
            return None
        value = _parse_decimal(raw)
        if value is None:
            self.problems.append(ParseProblem(path, raw, "not a decimal number"))
        return value

    def boolean(self, parent: ET.Element | None, name: str, path: str) -> bool | None:
        raw = self.text(parent, name)
        if not raw:
            return None
        value = _BOOLEANS.get(raw.lower())
        if value is None:
            self.problems.append(ParseProblem(path, raw, "not a boolean (true/false/1/0)"))
        elif raw not in _BOOLEANS:
            log.info("Order Time boolean %s=%r read case-insensitively", path, raw)
        return value

    def date_time(self, parent: ET.Element | None, name: str, path: str) -> datetime | None:
        raw = self.text(parent, name)
        if not raw:
            return None
        try:
            return parse_ordertime(raw)
        except ValueError:
            self.problems.append(ParseProblem(path, raw, "not a date/time (MM/dd/yyyy HH:mm)"))
            return None

    def quantity(self, parent: ET.Element, path: str) -> tuple[Decimal | None, str]:
        """Kept as Decimal even when fractional, so the mapping can reject it by value (§4.6)."""
        raw = self.text(parent, "Quantity")
        value = self.decimal(parent, "Quantity", path)
        # "2.0" is refused too: xs:int has no decimal point.
        if value is not None and (value != value.to_integral_value() or "." in raw):
            self.problems.append(ParseProblem(path, raw, "not a whole number"))
        return value, raw


def _element_text(element: ET.Element) -> str:
    """Strip the ends, keep inner line breaks, decode HTML entities left inside CDATA (§4.6)."""
    return _decode_html_entities("".join(element.itertext()).strip()).strip()


def _decode_html_entities(text: str) -> str:
    # Only complete references ending in ";": "Fish&regular" must not become "Fish®ular".
    if "&" not in text:
        return text
    return _HTML_ENTITY.sub(lambda match: html.unescape(match.group(0)), text)


def _parse_decimal(raw: str) -> Decimal | None:
    if not _DECIMAL.match(raw):
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        return None


def _parse_order(element: ET.Element) -> OTOrder:
    read = _ValueReader()
    order_id = read.text(element, "OrderID")
    if not order_id:
        read.problems.append(ParseProblem("OrderID", "", "missing"))
    customer = element.find("Customer")
    items_element = element.find("Items")
    items = tuple(
        _parse_item(read, item, f"Items/Item[{position}]")
        for position, item in enumerate(items_element.findall("Item") if items_element is not None else [], start=1)
    )
    return OTOrder(
        order_id=order_id,
        order_number=read.text(element, "OrderNumber"),
        order_date=read.date_time(element, "OrderDate", "OrderDate"),
        order_status=read.text(element, "OrderStatus"),
        last_modified=read.date_time(element, "LastModified", "LastModified"),
        shipping_method=read.text(element, "ShippingMethod"),
        payment_method=read.text(element, "PaymentMethod"),
        currency_code=read.text(element, "CurrencyCode"),
        order_total=read.decimal(element, "OrderTotal", "OrderTotal"),
        tax_amount=read.decimal(element, "TaxAmount", "TaxAmount"),
        shipping_amount=read.decimal(element, "ShippingAmount", "ShippingAmount"),
        customer_notes=read.text(element, "CustomerNotes"),
        internal_notes=read.text(element, "InternalNotes"),
        gift=read.boolean(element, "Gift", "Gift"),
        gift_message=read.text(element, "GiftMessage"),
        custom_field1=read.text(element, "CustomField1"),
        custom_field2=read.text(element, "CustomField2"),
        custom_field3=read.text(element, "CustomField3"),
        customer_code=read.text(customer, "CustomerCode"),
        bill_to=_parse_address(read, customer.find("BillTo") if customer is not None else None),
        ship_to=_parse_address(read, customer.find("ShipTo") if customer is not None else None),
        items=items,
        problems=tuple(read.problems),
    )


def _parse_address(read: _ValueReader, element: ET.Element | None) -> OTAddress:
    return OTAddress(
        name=read.text(element, "Name"),
        company=read.text(element, "Company"),
        address1=read.text(element, "Address1"),
        address2=read.text(element, "Address2"),
        city=read.text(element, "City"),
        state=read.text(element, "State"),
        postal_code=read.text(element, "PostalCode"),
        country=read.text(element, "Country"),
        phone=read.text(element, "Phone"),
        email=read.text(element, "Email"),
    )


def _parse_item(read: _ValueReader, element: ET.Element, path: str) -> OTItem:
    quantity, quantity_text = read.quantity(element, f"{path}/Quantity")
    options_element = element.find("Options")
    options = tuple(
        OTOption(
            name=read.text(option, "Name"),
            value=read.text(option, "Value"),
            weight=read.decimal(option, "Weight", f"{path}/Options/Option[{position}]/Weight"),
        )
        for position, option in enumerate(options_element.findall("Option") if options_element is not None else [],
                                          start=1)
    )
    return OTItem(
        line_item_id=read.text(element, "LineItemID"),
        sku=read.text(element, "SKU"),
        name=read.text(element, "Name"),
        image_url=read.text(element, "ImageUrl"),
        weight=read.decimal(element, "Weight", f"{path}/Weight"),
        weight_units=read.text(element, "WeightUnits"),
        quantity=quantity,
        quantity_text=quantity_text,
        unit_price=read.decimal(element, "UnitPrice", f"{path}/UnitPrice"),
        location=read.text(element, "Location"),
        adjustment=bool(read.boolean(element, "Adjustment", f"{path}/Adjustment")),
        upc=read.text(element, "UPC"),
        options=options,
    )


__all__ = ["OrderTimeClient", "RenderedShipNotice", "parse_export", "render_ship_notice", "SERVICE"]
