"""Field names and JSON types against ShipStation's own V1 description (shared/api/shipstation-v1.swagger.yaml).

SW was generated from one example per call (README "mind its quirks"): its schemas and examples are
used for names and types of present fields only; requiredness comes from shipstation-v1.md §8.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import jsonschema
import pytest
import responses
import yaml
from werkzeug.test import Client

from connections.clients.http import RetryPolicy
from connections.clients.shipstation import ShipStationClient
from sandbox.shipstation import SWAGGER_BESIDE_REPO, SWAGGER_ENV, TRIMMED_SCHEMA, ShipStationSimulator

BASE = "https://ssapi.shipstation.com"
AUTH = {"Authorization": "Basic " + base64.b64encode(b"demo-key:demo-secret").decode()}


@pytest.fixture(scope="module")
def swagger() -> dict:
    path = Path(os.environ.get(SWAGGER_ENV) or SWAGGER_BESIDE_REPO)
    if not path.exists():
        pytest.skip(f"ShipStation's swagger file is not at {path} (shared/api is not beside the repository)")
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def createorders_schema(swagger) -> dict:
    return swagger["paths"]["/orders/createorders"]["post"]["parameters"][0]["schema"]


def names_and_types_only(schema: dict) -> dict:
    """SW's schema turned into "these names, these JSON types, null allowed, nothing else"."""
    converted: dict = {}
    declared = schema.get("type")
    types = declared if isinstance(declared, list) else [declared] if declared else []
    concrete = [t for t in types if t != "null"]
    if concrete:  # a field typed only 'null' was null in SW's one example: its type is unknown
        converted["type"] = [*concrete, "null"]
    if "properties" in schema:
        converted["properties"] = {name: names_and_types_only(child) for name, child in schema["properties"].items()}
        converted["additionalProperties"] = False
    if isinstance(schema.get("items"), dict) and schema["items"]:
        converted["items"] = names_and_types_only(schema["items"])
    return converted


def full_order() -> dict:
    """Every field field-mapping.md fills, with the types the mapping produces."""
    return {
        "orderNumber": "SO-1001",
        "orderKey": "ordertime-acme-1001",
        "orderDate": "2026-03-02 09:15:00",
        "orderStatus": "awaiting_shipment",
        "customerUsername": "CUST-7",
        "customerEmail": "ada@example.com",
        "billTo": {"name": "Ada Buyer", "company": "Acme", "phone": "555-0100"},
        "shipTo": {
            "name": "Ada Buyer", "company": "Acme", "street1": "1 Main St", "street2": "Suite 2",
            "city": "Austin", "state": "TX", "postalCode": "78701", "country": "US", "phone": "555-0100",
        },
        "items": [
            {
                "lineItemKey": "1", "sku": "SKU-1", "name": "Widget", "imageUrl": "https://img.example.com/w.png",
                "weight": {"value": 12.5, "units": "ounces"}, "quantity": 2, "unitPrice": 9.99,
                "warehouseLocation": "Aisle 1, Bin 7", "options": [{"name": "Size", "value": "Large"}],
                "adjustment": False,
            },
            {"lineItemKey": "2", "sku": "COUPON", "name": "10% OFF", "quantity": 1, "unitPrice": -2.0,
             "adjustment": True},
        ],
        "amountPaid": 25.97,
        "taxAmount": 1.99,
        "shippingAmount": 5.0,
        "customerNotes": "Leave at the door",
        "internalNotes": "VIP",
        "gift": True,
        "giftMessage": "Happy birthday",
        "paymentMethod": "Credit Card",
        "requestedShippingService": "UPS Ground",
        "weight": {"value": 25.0, "units": "ounces"},
        "advancedOptions": {
            "storeId": 22766, "customField1": "PO-9", "customField2": "Rep: Bo", "customField3": "Thanks!",
            "source": "Order Time",
        },
    }


@responses.activate
def sent_by_client(orders: list[dict]) -> list[dict]:
    responses.post(f"{BASE}/orders/createorders", json={"hasErrors": False, "results": [
        {"orderId": 1, "orderKey": o["orderKey"], "orderNumber": o["orderNumber"], "success": True} for o in orders
    ]})
    client = ShipStationClient(BASE, "demo-key", "demo-secret", retry=RetryPolicy(attempts=1), sleep=lambda s: None)
    client.create_orders(orders)
    [call] = responses.calls
    assert call.request.headers["Content-Type"] == "application/json"
    return json.loads(call.request.body)


# ---------------------------------------------------------------- what the client sends


def test_a_full_order_uses_only_names_and_types_swagger_knows(createorders_schema):
    sent = sent_by_client([full_order()])

    assert sent == [full_order()]
    jsonschema.Draft4Validator(names_and_types_only(createorders_schema)).validate(sent)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"customerEmailAddress": "x@example.com"}, "misspelt field"),
        ({"amountPaid": "25.97"}, "number sent as text"),
        ({"gift": "true"}, "boolean sent as text"),
        ({"items": [{"name": "W", "quantity": 1, "unitPrice": 1, "weight": {"value": 1, "unit": "ounces"}}]}, "nested"),
    ],
)
def test_the_check_catches_wrong_names_and_types(createorders_schema, change, why):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(names_and_types_only(createorders_schema)).validate([{**full_order(), **change}])


def test_the_simulator_accepts_the_full_order():
    sim = ShipStationSimulator()
    answer = Client(sim).post("/orders/createorders", json=[full_order()], headers=AUTH)

    assert answer.status_code == 200
    assert answer.get_json()["results"][0]["success"] is True


def test_the_simulators_trimmed_schema_copy_is_swaggers(createorders_schema):
    assert json.loads(TRIMMED_SCHEMA.read_text(encoding="utf-8"))["schema"] == createorders_schema


# ---------------------------------------------------------------- what the simulator answers


def example(swagger: dict, path: str, method: str = "get"):
    return swagger["paths"][path][method]["responses"]["200"]["examples"]["application/json"]


def names_in(records, key: str | None = None) -> set[str]:
    """All keys of the (nested under ``key``) objects in ``records``."""
    found: set[str] = set()
    for record in records:
        target = record.get(key) if key else record
        for obj in target if isinstance(target, list) else [target]:
            if isinstance(obj, dict):
                found |= set(obj)
    return found


def every_example_object(node, key: str) -> list[dict]:
    """Every object found under ``key`` anywhere in SW's examples (addresses, items, advancedOptions ...)."""
    found = []
    if isinstance(node, dict):
        for name, value in node.items():
            if name == key:
                found += value if isinstance(value, list) else [value]
            found += every_example_object(value, key)
    elif isinstance(node, list):
        for value in node:
            found += every_example_object(value, key)
    return [obj for obj in found if isinstance(obj, dict)]


def json_type(value) -> str:
    return {bool: "boolean", int: "number", float: "number", str: "string", dict: "object", list: "array"}.get(
        type(value), "null"
    )


def assert_types_match(records: list[dict], examples: list[dict]) -> None:
    example_types = {}
    for record in examples:
        for name, value in record.items():
            if value is not None:
                example_types[name] = json_type(value)
    for record in records:
        for name, value in record.items():
            if value is not None and name in example_types:
                assert json_type(value) == example_types[name], f"{name}: {value!r}"


@pytest.fixture
def sim_with_data():
    sim = ShipStationSimulator()
    sim.create_orders([full_order()])
    sim.create_label(order_key="ordertime-acme-1001")
    sim.void_label(next(iter(sim.shipments)))
    sim.mark_shipped(sim.find_order(order_key="ordertime-acme-1001")["orderId"], "USPS", tracking_number="94")
    return sim


def get(sim, url: str):
    answer = Client(sim).get(url, headers=AUTH)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def test_shipments_use_swaggers_names_and_types(swagger, createorders_schema, sim_with_data):
    body = get(sim_with_data, "/shipments?includeShipmentItems=true")
    sw = example(swagger, "/shipments")
    sw_label = example(swagger, "/shipments/createlabel", "post")
    # §10 lists these beyond SW's list example (client type definitions and the label call).
    documented = {"orderKey", "customerEmail", "voidDate", "notifyErrorMessage", "dimensions", "advancedOptions",
                  "labelData", "formData"}

    assert set(body) == set(sw)
    assert names_in(body["shipments"]) <= names_in(sw["shipments"]) | set(sw_label) | documented
    assert_types_match(body["shipments"], sw["shipments"])
    addresses = every_example_object(swagger, "shipTo") + every_example_object(swagger, "billTo")
    assert names_in(body["shipments"], "shipTo") <= names_in(addresses) | {"street3"}
    item_names = names_in(every_example_object(swagger, "items")) | {"imageUrl"}  # §8.2
    assert names_in(body["shipments"], "shipmentItems") <= item_names
    option_names = names_in(every_example_object(swagger, "advancedOptions"))
    option_names |= set(createorders_schema["items"]["properties"]["advancedOptions"]["properties"])
    assert names_in(body["shipments"], "advancedOptions") <= option_names
    assert body["shipments"][0]["createDate"].endswith("0") and len(body["shipments"][0]["createDate"]) == 27


def test_fulfillments_use_swaggers_names_and_types(swagger, sim_with_data):
    body = get(sim_with_data, "/fulfillments")
    sw = example(swagger, "/fulfillments")
    documented = {"voidDate", "deliveryDate", "fulfillmentProviderCode", "fulfillmentServiceCode", "notifyErrorMessage"}

    assert set(body) == set(sw)
    assert names_in(body["fulfillments"]) <= names_in(sw["fulfillments"]) | documented
    assert_types_match(body["fulfillments"], sw["fulfillments"])
    assert body["fulfillments"][0]["shipDate"].endswith("T00:00:00.0000000")


def test_stores_use_swaggers_names_and_types(swagger):
    body = get(ShipStationSimulator(), "/stores?showInactive=true")
    sw = example(swagger, "/stores?showInactive={showInactive}&marketplaceId={marketplaceId}")
    documented = {"accountName", "email"}  # §6's field list

    assert isinstance(body, list)
    assert names_in(body) <= names_in(sw) | documented
    assert_types_match(body, sw)


def test_orders_use_swaggers_names(swagger, sim_with_data):
    body = get(sim_with_data, "/orders")
    sw_orders = every_example_object(swagger, "orders")

    assert set(body) == {"orders", "total", "page", "pages"}
    order_names = names_in(sw_orders) | names_in([example(swagger, "/orders/createorder", "post")])
    assert names_in(body["orders"]) <= order_names | {"holdUntilDate", "externallyFulfilledBy"}  # §8.1
    assert names_in(body["orders"], "items") <= names_in(every_example_object(swagger, "items")) | {"imageUrl"}


def test_createorders_answer_uses_swaggers_names(swagger):
    answer = Client(ShipStationSimulator()).post("/orders/createorders", json=[full_order()], headers=AUTH)
    sw = example(swagger, "/orders/createorders", "post")

    body = answer.get_json()
    assert set(body) == set(sw)
    # errorMessage: newer V1 pages and client type definitions (§7.3)
    assert names_in(body["results"]) <= names_in(sw["results"]) | {"errorMessage"}
    assert_types_match(body["results"], sw["results"])


def test_webhook_list_uses_swaggers_names(swagger):
    sim = ShipStationSimulator()
    sim.subscribe("https://example.com/h", "SHIP_NOTIFY", store_id=22766)

    body = get(sim, "/webhooks")
    sw = example(swagger, "/webhooks")

    assert names_in(body["webhooks"]) == names_in(sw["webhooks"])
    assert_types_match(body["webhooks"], sw["webhooks"])
