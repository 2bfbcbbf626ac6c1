"""The three-way merge of an update: Order Time's changes flow, merchants' changes stay."""

from __future__ import annotations

from ordersync.mapping.merge import order_merge

BASE = {
    "orderKey": "k-1", "orderNumber": "1001", "orderStatus": "awaiting_shipment",
    "orderDate": "2026-12-01T10:00:00.0000000", "customerNotes": "leave at door", "internalNotes": "",
    "shipTo": {"name": "Ann", "street1": "1 Main St", "city": "Austin", "state": "TX", "country": "US"},
    "weight": {"value": 12.0, "units": "ounces"},
    "items": [{"lineItemKey": "1", "sku": "A", "quantity": 1, "unitPrice": 9.5}],
    "advancedOptions": {"storeId": 22766, "customField1": "x"},
}


def shipstation_copy(**changes) -> dict:
    copy = {**BASE, "orderId": 55, "orderTotal": 9.5, "createDate": "2026-12-01T10:01:00.1230000",
            "modifyDate": "2026-12-01T10:01:00.1230000", "orderDate": "2026-12-01T10:00:00",
            "items": [{**BASE["items"][0], "orderItemId": 9, "unitPrice": 9.50, "createDate": "x"}],
            "customerNotes": "leave at door", "internalNotes": None}
    copy.update(changes)
    return copy


def test_nothing_changed_anywhere_sends_shipstations_copy_without_its_own_keys():
    result = order_merge(base=BASE, theirs=shipstation_copy(), ours=BASE)
    assert result.conflicts == () and result.kept == ()
    assert "orderTotal" not in result.payload and "createDate" not in result.payload
    assert "orderId" not in result.payload  # the pipeline names every update by its id, not the merge
    assert result.payload["items"] == [{"lineItemKey": "1", "sku": "A", "quantity": 1, "unitPrice": 9.5}]


def test_an_order_time_change_flows_and_merchant_only_fields_stay():
    theirs = shipstation_copy(
        weight={"value": 20.0, "units": "ounces"}, dimensions={"length": 10, "width": 5, "height": 4, "units": "inches"},
        tagIds=[7], carrierCode="ups", serviceCode="ups_ground", holdUntilDate="2026-12-09", orderStatus="on_hold",
        insuranceOptions={"provider": "carrier", "insureShipment": True, "insuredValue": 50},
        shipTo={**BASE["shipTo"], "street1": "1 Main Street"},
    )
    ours = {**BASE, "customerNotes": "ring twice"}

    result = order_merge(base=BASE, theirs=theirs, ours=ours)

    payload = result.payload
    assert payload["customerNotes"] == "ring twice"
    assert payload["weight"] == {"value": 20.0, "units": "ounces"}
    assert payload["dimensions"]["length"] == 10 and payload["tagIds"] == [7]
    assert (payload["carrierCode"], payload["serviceCode"]) == ("ups", "ups_ground")
    assert payload["orderStatus"] == "on_hold"
    assert "holdUntilDate" not in payload  # read-only in ShipStation's model (§8): never sent back
    assert payload["insuranceOptions"]["insuredValue"] == 50
    assert payload["shipTo"]["street1"] == "1 Main Street"
    assert result.conflicts == ()
    assert set(result.kept) >= {"orderStatus", "weight.value", "shipTo.street1"}


def test_both_changed_order_time_wins_and_the_conflict_is_listed():
    theirs = shipstation_copy(customerNotes="merchant note", shipTo={**BASE["shipTo"], "city": "Dallas"})
    ours = {**BASE, "customerNotes": "ot note", "shipTo": {**BASE["shipTo"], "city": "Houston"}}

    result = order_merge(base=BASE, theirs=theirs, ours=ours)

    assert result.payload["customerNotes"] == "ot note" and result.payload["shipTo"]["city"] == "Houston"
    assert set(result.conflicts) == {"customerNotes", "shipTo.city"}


def test_a_newer_order_time_status_replaces_a_hold():
    theirs = shipstation_copy(orderStatus="on_hold", holdUntilDate="2026-12-09")
    result = order_merge(base=BASE, theirs=theirs, ours={**BASE, "orderStatus": "cancelled"})
    assert result.payload["orderStatus"] == "cancelled"
    assert result.conflicts == ("orderStatus",)


def test_values_are_compared_as_shipstation_answers_them():
    """Empty = null = missing, decimals by value, dates in either format: none of it is a merchant change."""
    base = {**BASE, "internalNotes": "", "giftMessage": None}
    theirs = shipstation_copy(internalNotes=None, weight={"value": 12, "units": "ounces"})
    ours = {**base, "internalNotes": "packed by Bo"}
    result = order_merge(base=base, theirs=theirs, ours=ours)
    assert result.payload["internalNotes"] == "packed by Bo"
    assert result.conflicts == () and result.kept == ()


def test_merchant_edit_survives_two_order_time_updates_in_a_row():
    theirs = shipstation_copy(weight={"value": 30.0, "units": "ounces"}, tagIds=[3])
    first = {**BASE, "customerNotes": "v2"}
    sent = order_merge(base=BASE, theirs=theirs, ours=first).payload
    # ShipStation now holds what was sent; the base is Order Time's own mapping of v2, not the merged payload.
    second = {**first, "customerNotes": "v3"}
    again = order_merge(base=first, theirs={**sent, "orderTotal": 1}, ours=second).payload
    assert again["weight"] == {"value": 30.0, "units": "ounces"} and again["tagIds"] == [3]
    assert again["customerNotes"] == "v3"


def test_order_time_item_changes_flow_and_unchanged_items_keep_shipstations_lines():
    ours = {**BASE, "items": [{**BASE["items"][0], "quantity": 2}]}
    result = order_merge(base=BASE, theirs=shipstation_copy(), ours=ours)
    assert result.payload["items"][0]["quantity"] == 2


def test_without_shipstations_copy_the_mapping_goes_as_it_is():
    assert order_merge(base=BASE, theirs=None, ours=BASE).payload == BASE


def test_read_only_fields_are_not_sent_back():
    theirs = shipstation_copy(holdUntilDate="2026-12-09", shipTo={**BASE["shipTo"], "addressVerified": "ok"},
                              weight={"value": 12.0, "units": "ounces", "WeightUnits": 1},
                              advancedOptions={**BASE["advancedOptions"], "mergedOrSplit": True, "parentId": 54})
    payload = order_merge(base=BASE, theirs=theirs, ours=BASE).payload
    assert "holdUntilDate" not in payload and "addressVerified" not in payload["shipTo"]
    assert "WeightUnits" not in payload["weight"] and "parentId" not in payload["advancedOptions"]
    assert "orderId" not in payload
