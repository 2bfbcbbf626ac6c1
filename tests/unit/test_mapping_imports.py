"""Direction 1 of field-mapping.md: one test (or parametrized group) per row, then every validation rule."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connections.clients.types import OTItem, OTOption, OTOrder, ParseProblem
from ordersync.mapping.imports import (
    Held,
    ImportOptions,
    MappedOrder,
    Reason,
    Rejected,
    field_label,
    map_order,
    normalise_status,
    order_key,
)

from .builders import order_1187, order_1190, physical_item, with_bill_to, with_item, with_ship_to

STORE = ImportOptions(order_key_prefix="acme", shipstation_store_id=12345, status_mapping={"open": "awaiting_shipment"})


def mapped(order: OTOrder, **option_changes) -> MappedOrder:
    result = map_order(order, replace(STORE, **option_changes))
    assert isinstance(result, MappedOrder), result
    return result


def sent(order: OTOrder, **option_changes) -> dict:
    return mapped(order, **option_changes).order


def reasons(order: OTOrder, **option_changes) -> list[Reason]:
    result = map_order(order, replace(STORE, **option_changes))
    assert isinstance(result, Rejected), result
    return list(result.reasons)


def reason_fields(order: OTOrder, **option_changes) -> list[str]:
    return [reason.field for reason in reasons(order, **option_changes)]


# ---------------------------------------------------------------- the §5 samples, whole


def test_sample_order_1187_maps_to_the_exact_shipstation_order():
    result = mapped(order_1187())

    assert result.order == {
        "orderNumber": "1187",
        "orderKey": "ordertime-acme-48213",
        "orderDate": "2025-06-02 07:05:00",
        "orderStatus": "awaiting_shipment",
        "customerUsername": "alex.rivera@example.com",
        "customerEmail": "alex.rivera@example.com",
        "billTo": {"name": "Alex Rivera", "company": "", "phone": "512-555-0142"},
        "shipTo": {
            "name": "Sam Rivera", "company": "", "street1": "4801 Duval St", "street2": "Apt 2B",
            "city": "Austin", "state": "TX", "postalCode": "78751", "country": "US", "phone": "512-555-0199",
        },
        "items": [
            {
                "lineItemKey": "1", "sku": "TS-ORG-100", "name": "Organic Cotton T-Shirt",
                "imageUrl": "https://images.example.com/ts-org-100.jpg",
                "weight": {"value": 6.5, "units": "ounces"}, "quantity": 2, "unitPrice": 24.5,
                "warehouseLocation": "A-03-2",
                "options": [{"name": "Size", "value": "L"}, {"name": "Color", "value": "Forest Green"}],
                "adjustment": False,
            },
            {
                "lineItemKey": "2", "sku": "MUG-12", "name": "Stoneware Mug, 12 oz",
                "weight": {"value": 14.0, "units": "ounces"}, "quantity": 1, "unitPrice": 12.0,
                "warehouseLocation": "B-11-1", "options": [], "adjustment": False,
            },
            {
                "lineItemKey": "3", "sku": "SPRING5", "name": "Coupon SPRING5 ($5.00 off)", "quantity": 1,
                "unitPrice": -5.0, "warehouseLocation": "", "options": [], "adjustment": True,
            },
        ],
        "amountPaid": 69.57,
        "taxAmount": 4.62,
        "shippingAmount": 8.95,
        "customerNotes": "Please leave it at the side door & ring twice.",
        "internalNotes": "Wrap the mug in bubble wrap.",
        "gift": True,
        "giftMessage": "Happy birthday, Sam! Love, Alex",
        "paymentMethod": "Credit Card",
        "requestedShippingService": "UPS Ground",
        "weight": {"value": 27.0, "units": "ounces"},
        "advancedOptions": {
            "storeId": 12345, "customField1": "PO-7731", "customField2": "", "customField3": "",
            "source": "Order Time",
        },
    }
    assert result.notes == ()


def test_sample_order_1190_maps_to_the_exact_shipstation_order():
    result = mapped(order_1190())

    assert result.order == {
        "orderNumber": "1190",
        "orderKey": "ordertime-acme-48219",
        "orderDate": "2025-06-02 08:20:00",
        "orderStatus": "awaiting_shipment",
        "customerUsername": "NORTHWIND-CA",
        "customerEmail": "ap@northwind.example",
        "billTo": {"name": "Accounts Payable", "company": "Northwind Outfitters Ltd.", "phone": "+1 416-555-0100"},
        "shipTo": {
            "name": "Receiving Dock", "company": "Northwind Outfitters Ltd.", "street1": "220 King St W",
            "street2": "Unit 4", "city": "Toronto", "state": "ON", "postalCode": "M5H 1K4", "country": "CA",
            "phone": "+1 416-555-0111",
        },
        "items": [
            {
                "lineItemKey": "1", "sku": "TENT-2P", "name": "Backpacking Tent, 2-person",
                "weight": {"value": 2.1, "units": "pounds"}, "quantity": 5, "unitPrice": 53.0,
                "warehouseLocation": "C-01-4", "options": [], "adjustment": False,
            },
        ],
        "amountPaid": 310.0,
        "taxAmount": 0.0,
        "shippingAmount": 45.0,
        "customerNotes": "",
        "internalNotes": "Commercial invoice: print 2 copies.",
        "gift": False,
        "giftMessage": "",
        "paymentMethod": "Net 30",
        "requestedShippingService": "FedEx International Economy",
        "weight": {"value": 168.0, "units": "ounces"},  # 5 × 2.10 lb
        "advancedOptions": {
            "storeId": 12345, "customField1": "", "customField2": "", "customField3": "", "source": "Order Time",
        },
    }
    assert result.notes == ()


def test_mapped_order_is_json_serialisable_as_is():
    document = sent(order_1187())

    assert json.loads(json.dumps(document)) == document


# ---------------------------------------------------------------- one row at a time


def test_order_key_is_prefix_and_order_id():
    assert order_key("acme", "48213") == "ordertime-acme-48213"
    assert sent(order_1187(), order_key_prefix="shop-2")["orderKey"] == "ordertime-shop-2-48213"


def test_order_number_is_sent_verbatim_including_unicode_and_entities():
    order = replace(order_1187(), order_number="Ünïcødé &amp; #1187 ✓")

    assert sent(order)["orderNumber"] == "Ünïcødé &amp; #1187 ✓"


def test_order_number_of_exactly_fifty_characters_is_accepted():
    assert sent(replace(order_1187(), order_number="N" * 50))["orderNumber"] == "N" * 50


def test_order_number_over_fifty_characters_is_rejected_not_truncated():
    long_number = "N" * 51

    [reason] = reasons(replace(order_1187(), order_number=long_number))

    assert (reason.field, reason.value) == ("OrderNumber", long_number)
    assert "51 characters" in reason.message


def test_empty_order_number_is_rejected():
    assert reason_fields(replace(order_1187(), order_number="")) == ["OrderNumber"]


@pytest.mark.parametrize(
    ("utc", "pacific"),
    [
        (datetime(2025, 6, 2, 14, 5, tzinfo=UTC), "2025-06-02 07:05:00"),  # PDT, UTC-7
        (datetime(2025, 1, 15, 3, 30, tzinfo=UTC), "2025-01-14 19:30:00"),  # PST, UTC-8, previous day
    ],
)
def test_order_date_is_converted_from_utc_to_pacific(utc, pacific):
    assert sent(replace(order_1187(), order_date=utc))["orderDate"] == pacific


def test_missing_order_date_is_rejected():
    assert reason_fields(replace(order_1187(), order_date=None)) == ["OrderDate"]


@pytest.mark.parametrize("status_text", ["open", "  OPEN ", "Open"])
def test_order_status_goes_through_the_mapping_trimmed_and_case_insensitively(status_text):
    assert sent(replace(order_1187(), order_status=status_text))["orderStatus"] == "awaiting_shipment"


def test_normalise_status_collapses_white_space_and_case():
    assert normalise_status("  Payment \t PENDING ") == "payment pending"


def test_unmapped_status_holds_the_order():
    assert map_order(replace(order_1187(), order_status="Picking"), STORE) == Held("Picking")


def test_a_rejection_wins_over_a_hold():
    order = replace(order_1187(), order_status="Picking", order_number="")

    assert isinstance(map_order(order, STORE), Rejected)


def test_empty_order_status_is_rejected():
    assert reason_fields(replace(order_1187(), order_status=" ")) == ["OrderStatus"]


def test_shipping_method_is_sent_verbatim_without_carrier_codes_when_unmapped():
    document = sent(replace(order_1187(), shipping_method="UPS® Ground & more"))

    assert document["requestedShippingService"] == "UPS® Ground & more"
    assert "carrierCode" not in document and "serviceCode" not in document


def test_shipping_method_mapping_adds_carrier_and_service_codes():
    mapping = {"ups ground": {"carrierCode": "ups", "serviceCode": "ups_ground"}}

    document = sent(order_1187(), shipping_method_mapping=mapping)

    assert document["requestedShippingService"] == "UPS Ground"
    assert (document["carrierCode"], document["serviceCode"]) == ("ups", "ups_ground")


def test_payment_method_is_sent_verbatim():
    assert sent(replace(order_1187(), payment_method="Chèque n°5"))["paymentMethod"] == "Chèque n°5"


def test_amount_paid_is_the_order_total():
    assert sent(order_1187())["amountPaid"] == 69.57


def test_amount_paid_is_zero_while_awaiting_payment():
    document = sent(order_1187(), status_mapping={"open": "awaiting_payment"})

    assert (document["orderStatus"], document["amountPaid"]) == ("awaiting_payment", 0.0)


def test_missing_order_total_is_rejected():
    assert reason_fields(replace(order_1187(), order_total=None)) == ["OrderTotal"]


@pytest.mark.parametrize(
    ("field_name", "key"), [("tax_amount", "taxAmount"), ("shipping_amount", "shippingAmount")]
)
def test_tax_and_shipping_are_rounded_half_up_to_two_places(field_name, key):
    assert sent(replace(order_1187(), **{field_name: Decimal("4.625")}))[key] == 4.63


@pytest.mark.parametrize(
    ("field_name", "key"), [("tax_amount", "taxAmount"), ("shipping_amount", "shippingAmount")]
)
def test_absent_tax_and_shipping_are_sent_as_zero(field_name, key):
    assert sent(replace(order_1187(), **{field_name: None}))[key] == 0.0


@pytest.mark.parametrize(
    ("field_name", "key"), [("customer_notes", "customerNotes"), ("internal_notes", "internalNotes")]
)
def test_notes_are_sent_verbatim_with_line_breaks_and_entities(field_name, key):
    text = "Line one &amp; <b>two</b>\nZweite Zeile — ünïcødé"

    assert sent(replace(order_1187(), **{field_name: text}))[key] == text


@pytest.mark.parametrize(
    ("gift", "message", "expected"),
    [
        (True, "", True),
        (False, "", False),
        (False, "A message", False),  # an explicit "false" is respected
        (None, "Happy birthday", True),  # a message with Gift absent still marks a gift
        (None, "   ", False),
        (None, "", False),
    ],
)
def test_gift_flag(gift, message, expected):
    assert sent(replace(order_1187(), gift=gift, gift_message=message))["gift"] is expected


def test_gift_message_is_sent_verbatim():
    message = "Happy birthday,\nSam! 🎂 &lt;3"

    assert sent(replace(order_1187(), gift_message=message))["giftMessage"] == message


def test_custom_fields_go_to_advanced_options_verbatim():
    order = replace(order_1187(), custom_field1="A & B", custom_field2="ß", custom_field3="c3")

    advanced = sent(order)["advancedOptions"]

    assert (advanced["customField1"], advanced["customField2"], advanced["customField3"]) == ("A & B", "ß", "c3")


def test_customer_code_is_the_customer_username():
    assert sent(replace(order_1187(), customer_code="CUST-42"))["customerUsername"] == "CUST-42"


@pytest.mark.parametrize(
    ("bill_to_email", "customer_code", "expected"),
    [
        ("buyer@example.com", "someone@else.example", "buyer@example.com"),
        ("", "alex.rivera@example.com", "alex.rivera@example.com"),
        ("", "NORTHWIND-CA", None),
        ("", "not an@email", None),
    ],
)
def test_customer_email_falls_back_to_an_email_customer_code(bill_to_email, customer_code, expected):
    order = replace(with_bill_to(order_1187(), email=bill_to_email), customer_code=customer_code)

    assert sent(order)["customerEmail"] == expected


def test_bill_to_name_company_and_phone_are_sent():
    order = with_bill_to(order_1187(), name="Zoë O'Brien", company="Acme & Söhne", phone="+49 30 1234")

    assert sent(order)["billTo"] == {"name": "Zoë O'Brien", "company": "Acme & Söhne", "phone": "+49 30 1234"}


def test_empty_bill_to_name_takes_the_ship_to_name():
    assert sent(with_bill_to(order_1187(), name=""))["billTo"]["name"] == "Sam Rivera"


def test_ship_to_fields_are_sent_verbatim():
    order = with_ship_to(
        order_1187(), name="José Ñúñez", company="Café &amp; Co", address1="1 Rue d'Été", address2="Bât. B",
        city="Zürich", state="ZH", postal_code="8001", country="CH", phone="+41 44 000",
    )

    assert sent(order)["shipTo"] == {
        "name": "José Ñúñez", "company": "Café &amp; Co", "street1": "1 Rue d'Été", "street2": "Bât. B",
        "city": "Zürich", "state": "ZH", "postalCode": "8001", "country": "CH", "phone": "+41 44 000",
    }


@pytest.mark.parametrize("element", ["name", "address1", "city", "postal_code"])
def test_missing_required_ship_to_field_is_rejected(element):
    xpath = {"name": "Name", "address1": "Address1", "city": "City", "postal_code": "PostalCode"}[element]

    assert reason_fields(with_ship_to(order_1187(), **{element: ""})) == [f"Customer/ShipTo/{xpath}"]


def test_postal_code_may_be_empty_where_the_country_has_none():
    order = with_ship_to(order_1187(), country="HK", state="", postal_code="", city="Central")

    assert sent(order)["shipTo"]["postalCode"] == ""


# ---------------------------------------------------------------- ship-to country and state


@pytest.mark.parametrize("country", ["Deutschland", "germany", "United States", "us", "USA", "UK", "XX", "U.S."])
def test_country_that_is_not_an_exact_iso_code_is_rejected(country):
    order = with_ship_to(order_1187(), country=country, state="")

    [reason] = [r for r in reasons(order) if r.field == "Customer/ShipTo/Country"]

    assert reason.value == country


def test_country_rejection_reads_as_a_sentence_with_the_likely_code():
    [reason] = reasons(with_ship_to(order_1187(), country="Deutschland", state="BY"))

    assert str(reason) == 'Ship-to country "Deutschland" is not a two-letter ISO country code (e.g. "DE").'


def test_missing_country_is_rejected():
    [reason] = reasons(with_ship_to(order_1187(), country=""))

    assert str(reason) == "Ship-to country is missing."


@pytest.mark.parametrize(
    ("country", "code"),
    [("Deutschland", "DE"), ("United States", "US"), ("germany", "DE"), ("us", "US"), ("USA", "US"), ("UK", "GB"),
     ("Österreich", "AT"), ("España", "ES")],
)
def test_country_is_normalised_when_the_store_allows_it_and_logged(country, code):
    state = "TX" if code == "US" else ""  # US addresses need a state; the others here do not
    order = with_ship_to(order_1187(), country=country, state=state)

    result = mapped(order, normalize_addresses=True)

    assert result.order["shipTo"]["country"] == code
    assert f'Ship-to country "{country}" normalised to "{code}".' in result.notes


def test_unknown_country_is_rejected_even_with_normalisation():
    assert reason_fields(with_ship_to(order_1187(), country="Atlantis"), normalize_addresses=True) == [
        "Customer/ShipTo/Country"
    ]


@pytest.mark.parametrize(
    ("country", "state"),
    [("US", "California"), ("US", "tx"), ("CA", "Ontario"), ("AU", "New South Wales"), ("DE", "Bayern"),
     ("US", "ZZ")],
)
def test_state_that_is_not_a_code_of_the_country_is_rejected(country, state):
    [reason] = reasons(with_ship_to(order_1187(), country=country, state=state))

    assert (reason.field, reason.value) == ("Customer/ShipTo/State", state)


def test_state_rejection_names_field_value_and_likely_code():
    [reason] = reasons(with_ship_to(order_1187(), state="California"))

    assert str(reason) == 'Ship-to state "California" is not a state or province code of US (e.g. "CA").'


@pytest.mark.parametrize(("country", "state"), [("US", "DC"), ("CA", "QC"), ("AU", "NSW"), ("AU", "WA"), ("DE", "BY")])
def test_state_codes_of_the_country_pass(country, state):
    assert sent(with_ship_to(order_1187(), country=country, state=state))["shipTo"]["state"] == state


@pytest.mark.parametrize(("country", "state"), [("GB", "Greater London"), ("FR", "Île-de-France"), ("DE", "")])
def test_free_text_or_empty_state_passes_where_the_country_has_no_state_codes_or_needs_none(country, state):
    assert sent(with_ship_to(order_1187(), country=country, state=state))["shipTo"]["state"] == state


@pytest.mark.parametrize("country", ["US", "CA", "AU"])
def test_missing_state_is_rejected_where_carriers_need_it(country):
    assert reason_fields(with_ship_to(order_1187(), country=country, state="")) == ["Customer/ShipTo/State"]


@pytest.mark.parametrize(
    ("country", "state", "code"),
    [("US", "California", "CA"), ("US", "tx", "TX"), ("CA", "Ontario", "ON"), ("CA", "Québec", "QC"),
     ("AU", "Victoria", "VIC"), ("DE", "Bayern", "BY")],
)
def test_state_is_normalised_when_the_store_allows_it_and_logged(country, state, code):
    result = mapped(with_ship_to(order_1187(), country=country, state=state), normalize_addresses=True)

    assert result.order["shipTo"]["state"] == code
    assert result.notes == (f'Ship-to state "{state}" normalised to "{code}".',)


def test_country_and_state_are_both_normalised_in_one_order():
    order = with_ship_to(order_1187(), country="United States", state="California")

    result = mapped(order, normalize_addresses=True)

    assert (result.order["shipTo"]["country"], result.order["shipTo"]["state"]) == ("US", "CA")
    assert len(result.notes) == 2


# ---------------------------------------------------------------- items


def test_line_item_key_is_verbatim():
    assert sent(with_item(order_1187(), 1, line_item_id="SD-1187/A"))["items"][0]["lineItemKey"] == "SD-1187/A"


def test_missing_line_item_key_takes_the_one_based_position():
    order = with_item(order_1187(), 2, line_item_id="")

    assert sent(order)["items"][1]["lineItemKey"] == "2"


def test_sku_is_verbatim():
    assert sent(with_item(order_1187(), 1, sku="ts/org 100 ü"))["items"][0]["sku"] == "ts/org 100 ü"


def test_empty_item_name_takes_the_sku():
    assert sent(with_item(order_1187(), 2, name=""))["items"][1]["name"] == "MUG-12"


def test_item_without_name_and_sku_is_rejected():
    assert reason_fields(with_item(order_1187(), 2, name="", sku="")) == ["Items/Item[2]/Name"]


def test_adjustment_line_may_have_an_empty_sku():
    assert sent(with_item(order_1187(), 3, sku=""))["items"][2]["sku"] == ""


@pytest.mark.parametrize("url", ["http://img.example.com/a.png", "HTTPS://img.example.com/a.png?x=1&y=2"])
def test_http_and_https_image_urls_are_sent(url):
    assert sent(with_item(order_1187(), 1, image_url=url))["items"][0]["imageUrl"] == url


@pytest.mark.parametrize("url", ["ftp://img.example.com/a.png", "javascript:alert(1)", "/images/a.png", "https://"])
def test_other_image_urls_are_dropped_and_logged(url):
    result = mapped(with_item(order_1187(), 1, image_url=url))

    assert "imageUrl" not in result.order["items"][0]
    assert result.notes == (f'Item 1 image URL "{url}" dropped: only http and https URLs are imported.',)


def test_images_are_not_sent_when_the_store_turns_them_off():
    result = mapped(order_1187(), import_images=False)

    assert all("imageUrl" not in item for item in result.order["items"])
    assert result.notes == ()


@pytest.mark.parametrize(
    ("text", "units"),
    [("Pounds", "pounds"), ("lb", "pounds"), ("LBS", "pounds"), ("pound", "pounds"), ("Ounces", "ounces"),
     ("oz", "ounces"), ("OUNCE", "ounces"), ("Grams", "grams"), ("gm", "grams"), (" gram ", "grams")],
)
def test_weight_units_are_mapped_case_insensitively(text, units):
    item = sent(with_item(order_1187(), 2, weight_units=text))["items"][1]

    assert item["weight"] == {"value": 14.0, "units": units}


@pytest.mark.parametrize("text", ["kg", "stone", ""])
def test_unknown_weight_unit_is_rejected(text):
    [reason] = reasons(with_item(order_1187(), 2, weight_units=text))

    assert (reason.field, reason.value) == ("Items/Item[2]/WeightUnits", text)


def test_item_without_any_weight_needs_no_unit_and_sends_no_weight():
    item = sent(with_item(order_1187(), 2, weight=None, weight_units=""))["items"][1]

    assert "weight" not in item


def test_item_weight_is_one_unit_including_option_weights():
    assert sent(order_1187())["items"][0]["weight"] == {"value": 6.5, "units": "ounces"}


def test_option_weights_count_when_the_item_itself_has_none():
    order = with_item(order_1187(), 1, weight=None)

    assert sent(order)["items"][0]["weight"] == {"value": 0.5, "units": "ounces"}


@pytest.mark.parametrize(("quantity", "text"), [(Decimal("1.5"), "1.5"), (Decimal("-2"), "-2"), (Decimal("2.0"), "2.0")])
def test_quantity_that_is_not_a_whole_number_of_at_least_one_is_rejected(quantity, text):
    [reason] = reasons(with_item(order_1187(), 2, quantity=quantity, quantity_text=text))

    assert (reason.field, reason.value) == ("Items/Item[2]/Quantity", text)
    assert str(reason) == f'Item 2 quantity "{text}" is not a whole number of at least 1.'


def test_a_line_with_quantity_zero_is_left_out_with_a_note_and_the_order_goes():
    order = with_item(order_1187(), 2, quantity=Decimal("0"), quantity_text="0")
    kept = [item for item in order.items if item.quantity != 0]

    result = mapped(order)

    assert [item["sku"] for item in result.order["items"]] == [item.sku for item in kept]
    assert any("Item 2" in note and "quantity 0" in note for note in result.notes)
    refunded = order.items[1]
    weight_of_rest = sent(replace(order, items=tuple(kept)))["weight"]
    assert result.order["weight"] == weight_of_rest, refunded  # a line not shipped weighs nothing


def test_an_order_whose_every_line_has_quantity_zero_is_rejected():
    order = order_1187()
    zeroed = tuple(replace(item, quantity=Decimal("0"), quantity_text="0") for item in order.items)

    assert reason_fields(replace(order, items=zeroed)) == ["Items"]
    [reason] = reasons(replace(order, items=zeroed))
    assert "quantity 0" in str(reason)


def test_missing_quantity_is_rejected():
    assert reason_fields(with_item(order_1187(), 2, quantity=None, quantity_text="")) == ["Items/Item[2]/Quantity"]


def test_quantity_is_sent_as_an_integer():
    quantity = sent(order_1187())["items"][0]["quantity"]

    assert quantity == 2 and isinstance(quantity, int)


@pytest.mark.parametrize(("price", "expected"), [(Decimal("24.5"), 24.5), (Decimal("19.999"), 20.0),
                                                 (Decimal("0.005"), 0.01)])
def test_unit_price_is_rounded_to_two_places(price, expected):
    assert sent(with_item(order_1187(), 1, unit_price=price))["items"][0]["unitPrice"] == expected


def test_missing_unit_price_is_rejected():
    assert reason_fields(with_item(order_1187(), 1, unit_price=None)) == ["Items/Item[1]/UnitPrice"]


def test_location_is_sent_as_warehouse_location():
    assert sent(with_item(order_1187(), 1, location="Aisle 1, Bin 7"))["items"][0]["warehouseLocation"] == "Aisle 1, Bin 7"


def test_locations_are_not_sent_when_the_store_turns_them_off():
    assert all("warehouseLocation" not in item for item in sent(order_1187(), import_locations=False)["items"])


def test_options_are_sent_in_order():
    options = (OTOption("Z-last", "1"), OTOption("A-first", "2"), OTOption("M", "ü & <3"))

    item = sent(with_item(order_1187(), 1, options=options))["items"][0]

    assert item["options"] == [{"name": "Z-last", "value": "1"}, {"name": "A-first", "value": "2"},
                               {"name": "M", "value": "ü & <3"}]


def test_options_off_still_count_their_weight():
    document = sent(order_1187(), import_options=False)

    assert document["items"][0]["options"] == []
    assert document["items"][0]["weight"] == {"value": 6.5, "units": "ounces"}
    assert document["weight"] == {"value": 27.0, "units": "ounces"}


def test_adjustment_line_is_marked_with_negative_price_and_no_weight():
    order = with_item(order_1187(), 3, weight=Decimal("3"), weight_units="Ounces")

    document = sent(order)

    assert document["items"][2]["adjustment"] is True
    assert document["items"][2]["unitPrice"] == -5.0
    assert "weight" not in document["items"][2]
    assert document["weight"]["value"] == 27.0


@pytest.mark.parametrize("price", [Decimal("0"), Decimal("5.00")])
def test_adjustment_line_with_a_non_negative_price_is_rejected(price):
    [reason] = reasons(with_item(order_1187(), 3, unit_price=price))

    assert (reason.field, reason.value) == ("Items/Item[3]/UnitPrice", str(price))


# ---------------------------------------------------------------- order weight, store id, source


@pytest.mark.parametrize(("unit", "value"), [("ounces", 27.0), ("pounds", 1.69), ("grams", 765.44)])
def test_total_weight_is_converted_into_the_store_unit(unit, value):
    # 27 oz = 1.6875 lb = 765.4371… g
    assert sent(order_1187(), weight_unit=unit)["weight"] == {"value": value, "units": unit}


def test_total_weight_adds_lines_in_different_units():
    order = replace(order_1187(), items=order_1187().items + (
        physical_item(line_item_id="4", weight=Decimal("1.00"), weight_units="lb", quantity=Decimal("2")),
        physical_item(line_item_id="5", weight=Decimal("100"), weight_units="Grams"),
    ))

    # 27 oz + 2 × 16 oz + 100 g (3.527… oz)
    assert sent(order)["weight"] == {"value": 62.53, "units": "ounces"}


def test_total_weight_is_zero_when_no_line_has_a_weight():
    order = replace(order_1187(), items=(physical_item(weight=None, weight_units=""),))

    assert sent(order)["weight"] == {"value": 0.0, "units": "ounces"}


def test_store_unit_must_be_a_shipstation_unit():
    with pytest.raises(ValueError, match="weight_unit"):
        replace(STORE, weight_unit="kilograms")


def test_store_id_is_sent_on_creation_only():
    assert sent(order_1187())["advancedOptions"]["storeId"] == 12345
    assert "storeId" not in sent(order_1187(), include_store_id=False)["advancedOptions"]


def test_source_is_order_time():
    assert sent(order_1187())["advancedOptions"]["source"] == "Order Time"


# ---------------------------------------------------------------- totals, parse problems, many faults


def test_totals_mismatch_is_a_note_not_a_rejection():
    result = mapped(replace(order_1187(), order_total=Decimal("70.00")))

    assert result.order["amountPaid"] == 70.0
    assert result.notes == ("Order total 70.00 differs from items + shipping + tax (69.57); sent as received.",)


def test_every_parse_problem_becomes_a_reason_without_a_second_missing_reason():
    problems = (
        ParseProblem("OrderTotal", "12,50", "not a decimal"),
        ParseProblem("Items/Item[1]/Quantity", "two", "not an integer"),
    )
    order = with_item(replace(order_1187(), order_total=None, problems=problems), 1, quantity=None, quantity_text="two")

    found = reasons(order)

    assert [(r.field, r.value) for r in found] == [("OrderTotal", "12,50"), ("Items/Item[1]/Quantity", "two")]
    assert str(found[0]) == 'Order total "12,50" could not be read (not a decimal).'


def test_order_without_items_is_rejected():
    [reason] = reasons(replace(order_1187(), items=()))

    assert str(reason) == "The order has no items to ship."


def test_order_with_only_adjustment_lines_is_rejected():
    order = replace(order_1187(), items=(order_1187().items[2],))

    assert reason_fields(order) == ["Items"]


def test_all_reasons_of_an_order_with_several_faults_are_collected():
    order = replace(
        order_1187(),
        order_number="X" * 60,
        order_date=None,
        order_total=None,
        ship_to=replace(order_1187().ship_to, name="", address1="", city="", postal_code="", country="Deutschland"),
        items=(
            OTItem(line_item_id="1", sku="A", name="A", quantity=Decimal("1.5"), unit_price=Decimal("1"),
                   weight=Decimal("1"), weight_units="kg"),
            OTItem(line_item_id="2", sku="C", name="Coupon", quantity=Decimal("1"), unit_price=Decimal("2"),
                   adjustment=True),
        ),
        problems=(ParseProblem("ShippingAmount", "abc", "not a decimal"),),
    )

    fields = reason_fields(order)

    assert sorted(fields) == sorted([
        "ShippingAmount", "OrderNumber", "OrderDate", "OrderTotal", "Customer/ShipTo/Name",
        "Customer/ShipTo/Address1", "Customer/ShipTo/City", "Customer/ShipTo/Country",
        "Items/Item[1]/WeightUnits", "Items/Item[1]/Quantity", "Items/Item[2]/UnitPrice",
    ])


def test_a_rejected_order_keeps_reasons_even_when_its_status_is_unmapped():
    result = map_order(replace(order_1187(), order_status="Picking", order_total=None), STORE)

    assert result == Rejected((Reason("OrderTotal", "", "is missing"),))


@pytest.mark.parametrize(
    ("path", "label"),
    [("Customer/ShipTo/Country", "Ship-to country"), ("Customer/ShipTo/Address1", "Ship-to street"),
     ("Customer/BillTo/Name", "Bill-to name"), ("OrderTotal", "Order total"), ("Items/Item[3]/UnitPrice", "Item 3 unit price"),
     ("Items/Item[1]/Options/Option[2]/Weight", "Item 1 option 2 weight"), ("CustomField1", "Custom field 1"),
     ("Customer/CustomerCode", "Customer code")],
)
def test_field_labels_are_merchant_readable(path, label):
    assert field_label(path) == label
