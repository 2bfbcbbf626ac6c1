"""Order Time export parsing and ship-notice rendering, without a network (ordertime-shipping-integration.md §3–§7)."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from connections.clients.dates import PACIFIC
from connections.clients.errors import ProtocolError
from connections.clients.ordertime import parse_export, render_ship_notice
from connections.clients.types import ParseProblem, ShipNoticeItem
from sandbox.ordertime import render_export, section5_sample_docs
from tests.ordertime_fixtures import (
    ORDER_1187,
    SAMPLE_EXPORT_PAGE,
    SAMPLE_EXPORT_XML,
    SAMPLE_NOTICE,
    SAMPLE_NOTICE_QUERY,
    SAMPLE_NOTICE_XML,
    doc_samples,
    export_xml,
    item_xml,
    order_xml,
)


def only_order(body: bytes):
    page = parse_export(body)
    assert len(page.orders) == 1
    return page.orders[0]


def element_paths(root: ET.Element) -> list[str]:
    """Every element as its path from the root, in document order."""
    paths: list[str] = []

    def walk(element: ET.Element, prefix: str) -> None:
        path = f"{prefix}/{element.tag}"
        paths.append(path)
        for child in element:
            walk(child, path)

    walk(root, "")
    return paths


# ---------------------------------------------------------------------------------------------- the §5 sample


def test_fixture_copies_match_the_protocol_document():
    samples = doc_samples()
    if samples is None:
        pytest.skip("shared/api is not checked out next to the repository")
    assert samples == (SAMPLE_EXPORT_XML, SAMPLE_NOTICE_XML)


def test_section5_sample_parses_into_exactly_the_expected_objects():
    assert parse_export(SAMPLE_EXPORT_XML) == SAMPLE_EXPORT_PAGE


def test_section5_sample_has_no_parse_problems_and_keeps_the_coupon_line():
    page = parse_export(SAMPLE_EXPORT_XML)
    assert [order.problems for order in page.orders] == [(), ()]
    coupon = page.orders[0].items[2]
    assert (coupon.adjustment, coupon.unit_price, coupon.weight) == (True, Decimal("-5.00"), None)


def test_simulator_renders_the_section5_sample_byte_for_byte():
    assert render_export(section5_sample_docs(), pages=1, declared_encoding="utf-8") == SAMPLE_EXPORT_XML


# ---------------------------------------------------------------------------------------------- text


def test_cdata_entities_and_unicode_decode_to_plain_text():
    order = only_order(export_xml(order_xml(extra=(
        "<CustomerNotes>Tom &amp; Jerry &lt;3</CustomerNotes>"
        "<InternalNotes><![CDATA[Tom & Jerry <3]]></InternalNotes>"
        "<ShippingMethod><![CDATA[Caf&eacute; &#8212; &quot;express&quot;]]></ShippingMethod>"
        "<PaymentMethod>Net&nbsp;30</PaymentMethod>"
        "<CustomField1>Zoë 山田 Łukasz 🎉</CustomField1>"
    ))))
    assert order.customer_notes == "Tom & Jerry <3"
    assert order.internal_notes == "Tom & Jerry <3"
    assert order.shipping_method == 'Café — "express"'
    assert order.payment_method == "Net\u00a030"
    assert order.custom_field1 == "Zoë 山田 Łukasz 🎉"
    assert order.problems == ()


def test_ampersands_that_are_not_complete_entities_stay_as_they_are():
    order = only_order(export_xml(order_xml(extra="<CustomerNotes><![CDATA[AT&T, Fish&regular, R&D;]]></CustomerNotes>")))
    assert order.customer_notes == "AT&T, Fish&regular, R&D;"


def test_text_is_stripped_but_inner_line_breaks_survive():
    order = only_order(export_xml(order_xml(extra=(
        "<GiftMessage><![CDATA[\n   Happy birthday!\r\n\nLove, Alex   \n]]></GiftMessage>"
        "<CustomerNotes>\n   line one\n   line two\n</CustomerNotes>"
    ))))
    assert order.gift_message == "Happy birthday!\n\nLove, Alex"
    assert order.customer_notes == "line one\n   line two"


@pytest.mark.parametrize("empty", ["<CustomField2></CustomField2>", "<CustomField2/>",
                                   "<CustomField2><![CDATA[]]></CustomField2>", "<CustomField2>  \n </CustomField2>"])
def test_every_empty_form_means_no_value(empty):
    order = only_order(export_xml(order_xml(extra=empty + "<Gift/><OrderTotal></OrderTotal>")))
    assert (order.custom_field2, order.gift, order.order_total, order.problems) == ("", None, None, ())


def test_unknown_elements_are_ignored_wherever_they_appear():
    order = only_order(export_xml(order_xml(
        extra="<StoreCode>WEB</StoreCode><Source><Channel>eBay</Channel></Source><OrderTotal>5.00</OrderTotal>",
        items=item_xml(extra="<Dimensions><Length>3</Length></Dimensions><Color>red</Color>"),
    )))
    assert order.order_total == Decimal("5.00")
    assert order.items[0].sku == "SKU-1"
    assert order.problems == ()


# ---------------------------------------------------------------------------------------------- dates


@pytest.mark.parametrize(("text", "expected"), [
    ("06/02/2025 14:05", datetime(2025, 6, 2, 14, 5, tzinfo=UTC)),
    ("10/18/2019 21:56 PM", datetime(2019, 10, 18, 21, 56, tzinfo=UTC)),  # ShipStation's own example
    ("12/8/2011 12:56 PM", datetime(2011, 12, 8, 12, 56, tzinfo=UTC)),  # ShipStation's own example
    ("12/8/2011 12:05 AM", datetime(2011, 12, 8, 0, 5, tzinfo=UTC)),
    ("1/2/2020 3:04:05 pm", datetime(2020, 1, 2, 15, 4, 5, tzinfo=UTC)),
])
def test_order_dates_in_12_and_24_hour_forms(text, expected):
    order = only_order(export_xml(order_xml().replace("06/02/2025 14:05", text)))
    assert order.order_date == expected
    assert order.order_date.utcoffset().total_seconds() == 0


def test_an_unreadable_date_is_a_problem_on_that_order_only():
    page = parse_export(export_xml(
        order_xml("1").replace("06/02/2025 15:41", "2025-06-02T15:41"),
        order_xml("2"),
    ))
    first, second = page.orders
    assert first.last_modified is None
    assert first.problems == (ParseProblem("LastModified", "2025-06-02T15:41", "not a date/time (MM/dd/yyyy HH:mm)"),)
    assert second.problems == ()


# ---------------------------------------------------------------------------------------------- numbers and booleans


def test_a_bad_decimal_becomes_a_problem_naming_field_and_value():
    order = only_order(export_xml(order_xml(extra="<OrderTotal>1,069.57</OrderTotal><TaxAmount>4.62</TaxAmount>")))
    assert order.order_total is None
    assert order.tax_amount == Decimal("4.62")
    assert order.problems == (ParseProblem("OrderTotal", "1,069.57", "not a decimal number"),)


def test_fractional_quantity_survives_as_decimal_and_is_flagged():
    order = only_order(export_xml(order_xml(items=item_xml(quantity="2") + item_xml(quantity="1.5"))))
    whole, fractional = order.items
    assert (whole.quantity, whole.quantity_text) == (Decimal("2"), "2")
    assert (fractional.quantity, fractional.quantity_text) == (Decimal("1.5"), "1.5")
    assert order.problems == (ParseProblem("Items/Item[2]/Quantity", "1.5", "not a whole number"),)


def test_problems_inside_items_and_options_name_their_position():
    option = "<Options><Option><Name>Size</Name><Value>L</Value></Option>" \
             "<Option><Name>Gift wrap</Name><Value>Yes</Value><Weight>heavy</Weight></Option></Options>"
    order = only_order(export_xml(order_xml(items=(
        item_xml(extra="<UnitPrice>x</UnitPrice>") + item_xml(quantity="two", extra=option)
    ))))
    assert order.problems == (
        ParseProblem("Items/Item[2]/Quantity", "two", "not a decimal number"),
        ParseProblem("Items/Item[2]/Options/Option[2]/Weight", "heavy", "not a decimal number"),
    )
    assert order.items[1].quantity is None
    assert order.items[1].quantity_text == "two"
    # The first UnitPrice wins; the second element is an unknown duplicate.
    assert order.items[0].unit_price == Decimal("1.00")


@pytest.mark.parametrize(("text", "expected"), [
    ("true", True), ("false", False), ("1", True), ("0", False), ("TRUE", True), ("False", False),
])
def test_booleans_are_read_case_insensitively(text, expected):
    order = only_order(export_xml(order_xml(extra=f"<Gift>{text}</Gift>",
                                            items=item_xml(extra=f"<Adjustment>{text}</Adjustment>"))))
    assert (order.gift, order.items[0].adjustment, order.problems) == (expected, expected, ())


def test_a_word_that_is_not_a_boolean_is_a_problem():
    order = only_order(export_xml(order_xml(extra="<Gift>yes</Gift>")))
    assert order.gift is None
    assert order.problems == (ParseProblem("Gift", "yes", "not a boolean (true/false/1/0)"),)


def test_an_order_without_order_id_is_kept_with_a_problem():
    order = only_order(export_xml(order_xml("").replace("<OrderID></OrderID>", "")))
    assert order.order_id == ""
    assert order.problems == (ParseProblem("OrderID", "", "missing"),)


# ---------------------------------------------------------------------------------------------- encodings


def test_utf16_declaration_on_utf8_bytes_is_read_as_utf8_and_logged(caplog):
    body = export_xml(order_xml(extra="<CustomerNotes><![CDATA[Grüße aus München]]></CustomerNotes>"),
                      declaration='<?xml version="1.0" encoding="utf-16"?>')
    with caplog.at_level(logging.WARNING, logger="connections.clients.ordertime"):
        order = only_order(body)
    assert order.customer_notes == "Grüße aus München"
    assert "declares encoding 'utf-16' but is UTF-8" in caplog.text


def test_real_utf16_with_a_byte_order_mark_is_read():
    text = export_xml(order_xml(extra="<CustomerNotes>Zoë</CustomerNotes>"),
                      declaration='<?xml version="1.0" encoding="utf-16"?>').decode("utf-8")
    assert only_order(text.encode("utf-16")).customer_notes == "Zoë"


def test_latin1_bytes_fall_back_to_the_declared_encoding():
    body = export_xml(order_xml(extra="<CustomerNotes>Café</CustomerNotes>"),
                      declaration='<?xml version="1.0" encoding="ISO-8859-1"?>').decode("utf-8").encode("latin-1")
    assert only_order(body).customer_notes == "Café"


def test_a_utf8_byte_order_mark_is_accepted():
    assert only_order(b"\xef\xbb\xbf" + export_xml(order_xml("7"))).order_id == "7"


# ---------------------------------------------------------------------------------------------- whole document


def test_malformed_xml_raises_protocol_error_with_an_excerpt():
    with pytest.raises(ProtocolError) as caught:
        parse_export(b"<Orders pages='1'><Order><OrderID>1</Order></Orders>")
    assert "not well-formed" in caught.value.message
    assert caught.value.excerpt.startswith("<Orders pages='1'><Order>")


def test_an_html_error_page_is_a_protocol_error():
    with pytest.raises(ProtocolError) as caught:
        parse_export(b"<html><body>Login</body></html>")
    assert caught.value.message == "Order Time export has root <html>, expected <Orders>"


def test_entity_expansion_attacks_are_refused():
    bomb = b'<?xml version="1.0"?><!DOCTYPE Orders [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>' \
           b"<Orders><Order><OrderID>&b;</OrderID></Order></Orders>"
    with pytest.raises(ProtocolError):
        parse_export(bomb)


def test_bytes_that_are_no_known_encoding_are_a_protocol_error():
    with pytest.raises(ProtocolError, match="not valid UTF-8"):
        parse_export(b"<Orders>\xff\xfe\xfa</Orders>")


@pytest.mark.parametrize(("pages", "orders", "expected"), [
    ("3", 1, 3),
    (None, 1, 1),  # missing attribute
    ("", 1, 1),  # empty attribute
    (" 2 ", 1, 2),
    ("0", 1, 1),  # 0 while the page has orders
    ("0", 0, 0),  # nothing to do
    ("1", 0, 1),  # the other empty form
])
def test_page_count_rules(pages, orders, expected):
    page = parse_export(export_xml(*[order_xml(str(n)) for n in range(orders)], pages=pages), page=1)
    assert (page.pages, len(page.orders)) == (expected, orders)


@pytest.mark.parametrize("pages", ["many", "-1", "1.5"])
def test_a_page_count_that_is_not_one_is_a_protocol_error(pages):
    with pytest.raises(ProtocolError, match="not a page count"):
        parse_export(export_xml(order_xml(), pages=pages))


def test_self_closing_empty_export():
    assert parse_export(b'<?xml version="1.0" encoding="utf-8"?>\n<Orders pages="0"/>', page=1).orders == ()


# ---------------------------------------------------------------------------------------------- ship notice


def test_ship_notice_body_has_every_element_in_the_order_of_the_section7_sample():
    _, body = render_ship_notice(SAMPLE_NOTICE)
    assert element_paths(ET.fromstring(body)) == element_paths(ET.fromstring(SAMPLE_NOTICE_XML))


def test_ship_notice_values_equal_the_section7_sample():
    _, body = render_ship_notice(SAMPLE_NOTICE)
    ours, sample = ET.fromstring(body), ET.fromstring(SAMPLE_NOTICE_XML)
    assert [(e.tag, (e.text or "").strip()) for e in ours.iter()] == \
           [(e.tag, (e.text or "").strip()) for e in sample.iter()]
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<ShipNotice>\n  <OrderNumber>1187</OrderNumber>')
    assert b"<NotesToCustomer></NotesToCustomer>" in body


def test_ship_notice_query_matches_the_section7_request_line():
    params, _ = render_ship_notice(SAMPLE_NOTICE)
    assert params == SAMPLE_NOTICE_QUERY
    assert urlencode(params) == ("action=shipnotify&order_number=1187&carrier=UPS&service=UPS+Ground"
                                 "&tracking_number=1Z999AA10123456784")


def test_ship_notice_formats_dates_money_and_flags():
    notice = replace(
        SAMPLE_NOTICE,
        label_create_date=datetime(2026, 11, 1, 1, 30, tzinfo=PACIFIC, fold=1),  # 01:30 PST = 09:30 UTC
        shipping_cost=Decimal("11.375"),
        notify_customer=True,
    )
    _, body = render_ship_notice(notice)
    root = ET.fromstring(body)
    assert root.findtext("LabelCreateDate") == "11/01/2026 09:30"
    assert root.findtext("ShipDate") == "06/03/2025"
    assert root.findtext("ShippingCost") == "11.38"
    assert root.findtext("NotifyCustomer") == "true"


def test_ship_notice_service_is_truncated_to_50_in_query_and_body_alike():
    service = "FedEx International Priority® Express Freight Service, Saturday"
    params, body = render_ship_notice(replace(SAMPLE_NOTICE, service=service))
    assert params["service"] == service[:50]
    assert ET.fromstring(body).findtext("Service") == service[:50]


def test_ship_notice_text_is_escaped_by_the_xml_library():
    notice = replace(
        SAMPLE_NOTICE,
        customer_notes='Tom & Jerry <3 "quoted" ]]> done\x00',
        items=(ShipNoticeItem(sku="A&B", name="<Mug>", quantity=1, line_item_id="1"),),
    )
    _, body = render_ship_notice(notice)
    root = ET.fromstring(body)
    assert root.findtext("CustomerNotes") == 'Tom & Jerry <3 "quoted" ]]> done'
    assert (root.findtext("Items/Item/SKU"), root.findtext("Items/Item/Name")) == ("A&B", "<Mug>")
    assert b"Tom &amp; Jerry &lt;3" in body
    assert root.find("Items/Item/UPC") is None


def test_ship_notice_of_an_order_parsed_from_the_export_uses_its_ids():
    params, body = render_ship_notice(replace(SAMPLE_NOTICE, order_id=ORDER_1187.order_id,
                                              order_number=ORDER_1187.order_number))
    assert (params["order_number"], ET.fromstring(body).findtext("OrderID")) == ("1187", "48213")
