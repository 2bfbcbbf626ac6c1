"""Direction 2 of field-mapping.md: ShipStation labels and fulfillments → Order Time ship notices."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from connections.clients.dates import PACIFIC, format_ordertime, format_ordertime_date
from connections.clients.types import (
    Fulfillment,
    OTAddress,
    Shipment,
    ShipmentItem,
    ShipNotice,
    ShipNoticeItem,
    SSAddress,
)
from ordersync.mapping.imports import ImportOptions, map_order
from ordersync.mapping.notices import (
    ORDERTIME_CARRIER_NAMES,
    NoticeContext,
    adjustment_line_keys_from_payload,
    carrier_name,
    is_reportable,
    items_by_line_key_from_payload,
    notice_from_fulfillment,
    notice_from_shipment,
    notice_items_from_payload,
    tracking_url,
)

from .builders import order_1187

LABEL_SHIP_TO = SSAddress(
    name="Sam Rivera", company="", street1="4801 Duval St", street2="Apt 2B", city="Austin", state="TX",
    postal_code="78751", country="US", phone="512-555-0199",
)


def payload_1187() -> dict:
    options = ImportOptions(order_key_prefix="acme", shipstation_store_id=12345, status_mapping={"open": "awaiting_shipment"})
    return map_order(order_1187(), options).order


def context_1187(**changes) -> NoticeContext:
    """What our record holds for order 1187 after it was imported (built from the payload we sent)."""
    payload = payload_1187()
    ctx = NoticeContext(
        ordertime_order_id="48213",
        order_number="1187",
        customer_code="alex.rivera@example.com",
        customer_notes="Please leave it at the side door & ring twice.",
        internal_notes="Wrap the mug in bubble wrap.",
        custom_fields=("PO-7731", "", ""),
        service_names={"ups_ground": "UPS Ground"},
        items_by_line_key=items_by_line_key_from_payload(payload),
        adjustment_line_keys=adjustment_line_keys_from_payload(payload),
    )
    return replace(ctx, **changes)


def label_1187(**changes) -> Shipment:
    """The UPS label of §7, as GET /shipments returns it (the coupon line included, as ShipStation may)."""
    shipment = Shipment(
        shipment_id=33974374, order_id=140335319, order_key="ordertime-acme-48213", order_number="1187",
        create_date=datetime(2025, 6, 3, 9, 12, 41, tzinfo=PACIFIC), ship_date=date(2025, 6, 3),
        tracking_number="1Z999AA10123456784", carrier_code="ups", service_code="ups_ground",
        shipment_cost=Decimal("10.38"), insurance_cost=Decimal("1.00"), is_return_label=False, voided=False,
        void_date=None, ship_to=LABEL_SHIP_TO,
        items=(
            ShipmentItem(line_item_key="1", sku="TS-ORG-100", name="Organic Cotton T-Shirt", quantity=2),
            ShipmentItem(line_item_key="2", sku="MUG-12", name="Stoneware Mug, 12 oz", quantity=1),
            ShipmentItem(line_item_key="3", sku="SPRING5", name="Coupon SPRING5 ($5.00 off)", quantity=1),
        ),
        custom_field1="PO-7731",
    )
    return replace(shipment, **changes)


# ---------------------------------------------------------------- the §7 sample, whole


def test_sample_notice_of_section_7_from_the_equivalent_label():
    notice = notice_from_shipment(label_1187(), context_1187())

    assert notice == ShipNotice(
        order_number="1187",
        order_id="48213",
        customer_code="alex.rivera@example.com",
        carrier="UPS",
        service="UPS Ground",
        tracking_number="1Z999AA10123456784",
        shipping_cost=Decimal("11.38"),
        label_create_date=datetime(2025, 6, 3, 9, 12, 41, tzinfo=PACIFIC),
        ship_date=date(2025, 6, 3),
        customer_notes="Please leave it at the side door & ring twice.",
        internal_notes="Wrap the mug in bubble wrap.",
        notes_to_customer="",
        notify_customer=False,
        custom_field1="PO-7731",
        custom_field2="",
        custom_field3="",
        recipient=OTAddress(
            name="Sam Rivera", company="", address1="4801 Duval St", address2="Apt 2B", city="Austin",
            state="TX", postal_code="78751", country="US", phone="512-555-0199",
        ),
        items=(
            ShipNoticeItem(sku="TS-ORG-100", name="Organic Cotton T-Shirt", quantity=2, line_item_id="1"),
            ShipNoticeItem(sku="MUG-12", name="Stoneware Mug, 12 oz", quantity=1, line_item_id="2"),
        ),
    )
    assert format_ordertime(notice.label_create_date) == "06/03/2025 16:12"
    assert format_ordertime_date(notice.ship_date) == "06/03/2025"


# ---------------------------------------------------------------- one row at a time


def test_order_ids_come_from_our_record_not_from_shipstation():
    notice = notice_from_shipment(label_1187(order_number="1187-2", order_key=""), context_1187())

    assert (notice.order_id, notice.order_number, notice.customer_code) == ("48213", "1187", "alex.rivera@example.com")


def test_tracking_number_is_verbatim():
    notice = notice_from_shipment(label_1187(tracking_number=" 9400 1118 99 "), context_1187())

    assert notice.tracking_number == " 9400 1118 99 "


def test_carrier_code_is_mapped_to_the_order_time_name():
    assert notice_from_shipment(label_1187(carrier_code="stamps_com"), context_1187()).carrier == "USPS"


def test_carrier_override_of_the_store_wins():
    ctx = context_1187(carrier_overrides={"ups": "UPSMI"})

    assert notice_from_shipment(label_1187(), ctx).carrier == "UPSMI"


def test_service_is_the_display_name_else_the_code():
    assert notice_from_shipment(label_1187(), context_1187()).service == "UPS Ground"
    assert notice_from_shipment(label_1187(service_code="ups_next_day_air"), context_1187()).service == "ups_next_day_air"


def test_service_display_name_keeps_unicode_and_is_cut_to_fifty_characters():
    ctx = context_1187(service_names={"fedex_ground": "FedEx Ground®", "long": "L" * 60})

    assert notice_from_shipment(label_1187(service_code="fedex_ground"), ctx).service == "FedEx Ground®"
    assert notice_from_shipment(label_1187(service_code="long"), ctx).service == "L" * 50


@pytest.mark.parametrize(
    ("cost", "insurance", "expected"),
    [(Decimal("10.38"), Decimal("1.00"), Decimal("11.38")), (Decimal("1.93"), Decimal("0"), Decimal("1.93")),
     (Decimal("7.125"), Decimal("0"), Decimal("7.13"))],
)
def test_shipping_cost_is_label_plus_insurance_to_two_places(cost, insurance, expected):
    notice = notice_from_shipment(label_1187(shipment_cost=cost, insurance_cost=insurance), context_1187())

    assert notice.shipping_cost == expected
    assert str(notice.shipping_cost) == str(expected)


def test_ship_date_is_the_labels_ship_date():
    assert notice_from_shipment(label_1187(ship_date=date(2025, 6, 4)), context_1187()).ship_date == date(2025, 6, 4)


def test_missing_ship_date_falls_back_to_the_pacific_day_of_the_label():
    created = datetime(2025, 6, 4, 5, 30, tzinfo=UTC)  # still June 3 in California

    notice = notice_from_shipment(label_1187(ship_date=None, create_date=created), context_1187())

    assert notice.ship_date == date(2025, 6, 3)


def test_label_create_date_is_the_aware_create_date():
    notice = notice_from_shipment(label_1187(), context_1187())

    assert notice.label_create_date.utcoffset() is not None
    assert notice.label_create_date.astimezone(UTC) == datetime(2025, 6, 3, 16, 12, 41, tzinfo=UTC)


def test_customer_and_internal_notes_come_from_our_record_verbatim():
    ctx = context_1187(customer_notes="Line 1\nLine 2 &amp; ü", internal_notes="<fragile>")

    notice = notice_from_shipment(label_1187(), ctx)

    assert (notice.customer_notes, notice.internal_notes) == ("Line 1\nLine 2 &amp; ü", "<fragile>")


@pytest.mark.parametrize(
    ("source", "expected"),
    [("customField1", "from field 1"), ("customField2", "from field 2"), ("customField3", "from field 3"),
     ("none", "")],
)
def test_notes_to_customer_come_from_the_chosen_custom_field(source, expected):
    label = label_1187(custom_field1="from field 1", custom_field2="from field 2", custom_field3="from field 3")

    assert notice_from_shipment(label, context_1187(notes_to_buyer_source=source)).notes_to_customer == expected


def test_notes_to_customer_fall_back_to_the_custom_field_last_sent():
    ctx = context_1187(custom_fields=("PO-7731", "", "Thanks for your order!"))

    assert notice_from_shipment(label_1187(custom_field3=""), ctx).notes_to_customer == "Thanks for your order!"


def test_unknown_notes_source_is_a_configuration_error():
    with pytest.raises(ValueError, match="notes_to_buyer_source"):
        context_1187(notes_to_buyer_source="customField4")


def test_custom_fields_echo_what_was_exported():
    notice = notice_from_shipment(label_1187(custom_field1="changed in ShipStation"), context_1187())

    assert (notice.custom_field1, notice.custom_field2, notice.custom_field3) == ("PO-7731", "", "")


@pytest.mark.parametrize("notify", [True, False])
def test_notify_customer_is_the_final_value_given(notify):
    assert notice_from_shipment(label_1187(), context_1187(notify_customer=notify)).notify_customer is notify


def test_recipient_is_the_labels_ship_to_verbatim():
    ship_to = SSAddress(name="Zoë Ñ", company="A & B", street1="1 Rue d'Été", street2="", city="Zürich",
                        state="ZH", postal_code="8001", country="CH", phone="")

    recipient = notice_from_shipment(label_1187(ship_to=ship_to), context_1187()).recipient

    assert recipient == OTAddress(name="Zoë Ñ", company="A & B", address1="1 Rue d'Été", address2="", city="Zürich",
                                  state="ZH", postal_code="8001", country="CH", phone="")


def test_items_carry_line_item_key_back_as_line_item_id_without_adjustments():
    items = notice_from_shipment(label_1187(), context_1187()).items

    assert [(item.line_item_id, item.sku, item.quantity) for item in items] == [("1", "TS-ORG-100", 2), ("2", "MUG-12", 1)]


def test_items_without_line_key_are_matched_by_sku():
    label = label_1187(items=(
        ShipmentItem(line_item_key="", sku="MUG-12", name="Stoneware Mug, 12 oz", quantity=1),
        ShipmentItem(line_item_key="", sku="SPRING5", name="Coupon", quantity=1),
    ))

    items = notice_from_shipment(label, context_1187()).items

    assert items == (ShipNoticeItem(sku="MUG-12", name="Stoneware Mug, 12 oz", quantity=1, line_item_id="2"),)


def test_items_without_line_key_or_known_sku_take_their_position():
    label = label_1187(items=(
        ShipmentItem(line_item_key="1", sku="TS-ORG-100", name="T", quantity=1),
        ShipmentItem(line_item_key="", sku="ADDED-BY-HAND", name="Sticker", quantity=3),
    ))

    items = notice_from_shipment(label, context_1187()).items

    assert items[1] == ShipNoticeItem(sku="ADDED-BY-HAND", name="Sticker", quantity=3, line_item_id="2")


def test_missing_item_sku_and_name_are_filled_from_what_we_sent():
    label = label_1187(items=(ShipmentItem(line_item_key="2", sku="", name="", quantity=1),))

    items = notice_from_shipment(label, context_1187()).items

    assert items == (ShipNoticeItem(sku="MUG-12", name="Stoneware Mug, 12 oz", quantity=1, line_item_id="2"),)


# ---------------------------------------------------------------- fulfillments


def test_fulfillment_notice_uses_the_fee_the_free_text_carrier_and_the_given_items():
    fulfillment = Fulfillment(
        fulfillment_id=246310, order_id=140335319, order_number="1187",
        create_date=datetime(2025, 6, 3, 9, 12, tzinfo=PACIFIC), ship_date=date(2025, 6, 3),
        tracking_number="664756278745", carrier_code="FedEx", fulfillment_fee=Decimal("2.5"), voided=False,
        ship_to=LABEL_SHIP_TO,
    )
    items = notice_items_from_payload(payload_1187())

    notice = notice_from_fulfillment(fulfillment, context_1187(), items)

    assert (notice.carrier, notice.service, notice.tracking_number) == ("FedEx", "", "664756278745")
    assert str(notice.shipping_cost) == "2.50"
    assert notice.items == (
        ShipNoticeItem(sku="TS-ORG-100", name="Organic Cotton T-Shirt", quantity=2, line_item_id="1"),
        ShipNoticeItem(sku="MUG-12", name="Stoneware Mug, 12 oz", quantity=1, line_item_id="2"),
    )
    assert notice.recipient.address1 == "4801 Duval St"
    assert notice.notes_to_customer == ""  # custom field 3 was sent empty


def test_payload_helpers_index_lines_and_adjustments():
    payload = payload_1187()

    assert items_by_line_key_from_payload(payload) == {
        "1": ("TS-ORG-100", "Organic Cotton T-Shirt"), "2": ("MUG-12", "Stoneware Mug, 12 oz"),
        "3": ("SPRING5", "Coupon SPRING5 ($5.00 off)"),
    }
    assert adjustment_line_keys_from_payload(payload) == frozenset({"3"})


# ---------------------------------------------------------------- carrier names, tracking links, reportability


@pytest.mark.parametrize(
    ("code", "name"),
    [("stamps_com", "USPS"), ("endicia", "USPS"), ("usps", "USPS"), ("ups", "UPS"), ("ups_walleted", "UPS"),
     ("fedex", "FedEx"), ("fedex_walleted", "FedEx"), ("fedex_international_mail_service", "FedExInternationalMailService"),
     ("dhl_express", "DHL"), ("dhl_express_worldwide", "DHL"), ("dhl_express_uk", "DHL"),
     ("dhl_global_mail", "DHLGlobalMail"), ("canada_post", "CanadaPost"), ("ontrac", "OnTrac"),
     ("royal_mail", "RoyalMail"), ("australia_post", "AustraliaPost"), ("asendia", "Asendia"), ("apc", "APC"),
     ("firstmile", "FirstMile"), ("globegistics", "Globegistics"), ("newgistics", "Newgistics"), ("imex", "IMEX"),
     ("lonestar", "LoneStar"), ("access_worldwide", "AccessWorldwide"), ("ups_mail_innovations", "UPSMI")],
)
def test_carrier_codes_map_to_order_time_names(code, name):
    assert carrier_name(code) == name


@pytest.mark.parametrize(
    ("text", "name"),
    [("USPS", "USPS"), ("FedEx", "FedEx"), ("FEDEX", "FedEx"), ("UPS", "UPS"), ("Stamps.com", "USPS"),
     ("DHL Express", "DHL"), ("Canada Post", "CanadaPost"), ("CanadaPost", "CanadaPost"), (" Stamps_Com ", "USPS"),
     ("DHLGlobalMail", "DHLGlobalMail"), ("OnTrac", "OnTrac")],
)
def test_display_names_as_fulfillments_carry_them_are_accepted_case_insensitively(text, name):
    assert carrier_name(text) == name


@pytest.mark.parametrize("code", ["purolator_ca", "", "my_own_courier", "sendle"])
def test_unknown_carriers_are_other(code):
    assert carrier_name(code) == "Other"


def test_overrides_win_and_match_case_insensitively():
    assert carrier_name("Globegistics", {"globegistics": "Other"}) == "Other"
    assert carrier_name("purolator_ca", {"PUROLATOR_CA": "Other"}) == "Other"
    assert carrier_name("ups", {"fedex": "Other"}) == "UPS"


def test_every_mapped_name_is_one_order_time_knows():
    codes = ["stamps_com", "ups", "fedex", "fedex_canada", "dhl_canada", "dhl_express", "brokers_worldwide",
             "upsmi", "apc", "imex", "unknown"]

    assert {carrier_name(code) for code in codes} <= set(ORDERTIME_CARRIER_NAMES)
    assert len(ORDERTIME_CARRIER_NAMES) == 23 and ORDERTIME_CARRIER_NAMES[:3] == ("USPS", "UPS", "FedEx")


@pytest.mark.parametrize(
    ("carrier", "number", "url"),
    [("USPS", "9400111899561704681189", "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899561704681189"),
     ("UPS", "1Z999AA10123456784", "https://www.ups.com/track?tracknum=1Z999AA10123456784"),
     ("FedEx", "664756278745", "https://www.fedex.com/fedextrack/?trknbr=664756278745"),
     ("DHL", "12 34/5", "https://www.dhl.com/global-en/home/tracking/tracking-express.html?tracking-id=12%2034%2F5")],
)
def test_tracking_url_for_the_big_carriers(carrier, number, url):
    assert tracking_url(carrier, number) == url


@pytest.mark.parametrize(("carrier", "number"), [("Other", "123"), ("RoyalMail", "AB123"), ("UPS", ""), ("UPS", "  ")])
def test_no_tracking_url_for_other_carriers_or_empty_numbers(carrier, number):
    assert tracking_url(carrier, number) is None


@pytest.mark.parametrize(("is_return", "voided", "reportable"), [(False, False, True), (True, False, False),
                                                                  (False, True, False), (True, True, False)])
def test_only_outbound_labels_that_are_not_voided_are_reportable(is_return, voided, reportable):
    assert is_reportable(label_1187(is_return_label=is_return, voided=voided)) is reportable
